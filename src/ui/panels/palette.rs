//! The command palette (Ctrl+K / Cmd+K): fuzzy search over every action of the table that
//! applies to the selection; Enter runs the best enabled match, Escape closes.

use super::{shortcut_text, theme};
use crate::actions::Context;
use crate::actions::palette::search;
use crate::ui::intent::Intent;
use egui::{Key, RichText};

pub fn show(ctx: &egui::Context, query: &mut String, cx: &Context) -> Option<Intent> {
    let mut intent = None;
    egui::Window::new("Command palette")
        .collapsible(false)
        .resizable(false)
        .title_bar(false)
        .anchor(egui::Align2::CENTER_TOP, [0.0, 80.0])
        .fixed_size([520.0, 0.0])
        .show(ctx, |ui| {
            let edit = ui.add(
                egui::TextEdit::singleline(query)
                    .hint_text("type an action: wake, pause, deploy...")
                    .desired_width(f32::INFINITY),
            );
            edit.request_focus();
            let entries = search(query, cx);
            if ui.input(|i| i.key_pressed(Key::Escape)) {
                intent = Some(Intent::ClosePalette);
            }
            if ui.input(|i| i.key_pressed(Key::Enter))
                && let Some(best) = entries.iter().find(|e| e.disabled.is_none())
            {
                intent = Some(Intent::Invoke(best.spec.verb));
            }
            ui.separator();
            for entry in entries.iter().take(12) {
                ui.horizontal(|ui| {
                    let button = ui.add_enabled(
                        entry.disabled.is_none(),
                        egui::Button::new(entry.spec.label).frame(false),
                    );
                    let button = match &entry.disabled {
                        Some(r) => button.on_disabled_hover_text(format!("Not now: {r}")),
                        None => button.on_hover_text(entry.spec.tooltip),
                    };
                    if button.clicked() {
                        intent = Some(Intent::Invoke(entry.spec.verb));
                    }
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if let Some(s) = &entry.spec.shortcut {
                            ui.label(
                                RichText::new(shortcut_text(ui.ctx(), s))
                                    .small()
                                    .color(theme::MUTED),
                            );
                        }
                        if let Some(r) = &entry.disabled {
                            ui.label(RichText::new(r).small().color(theme::MUTED));
                        }
                    });
                });
            }
        });
    intent
}
