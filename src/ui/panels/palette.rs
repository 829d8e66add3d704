//! The command palette (Ctrl+K / Cmd+K): fuzzy search over every action of the table that
//! applies to the selection, and one "Switch to profile NAME" per AWS profile; Enter runs
//! the best enabled match, Escape closes.

use super::{shortcut_text, theme};
use crate::actions::Context;
use crate::actions::palette::{search, search_profiles, switch_label};
use crate::ui::intent::Intent;
use egui::{Key, RichText};

pub fn show(
    ctx: &egui::Context,
    query: &mut String,
    cx: &Context,
    profiles: &[String],
) -> Option<Intent> {
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
            let switches = search_profiles(query, profiles);
            if ui.input(|i| i.key_pressed(Key::Escape)) {
                intent = Some(Intent::ClosePalette);
            }
            let best_verb = entries.iter().find(|e| e.disabled.is_none());
            if ui.input(|i| i.key_pressed(Key::Enter)) {
                intent = match (best_verb, switches.first()) {
                    (Some(v), Some((name, s))) if *s > v.score => {
                        Some(Intent::SwitchProfile(name.clone()))
                    }
                    (Some(v), _) => Some(Intent::Invoke(v.spec.verb)),
                    (None, Some((name, _))) => Some(Intent::SwitchProfile(name.clone())),
                    (None, None) => intent.take(),
                };
            }
            ui.separator();
            // Profiles first when one matches better than every enabled action.
            let profiles_first = switches
                .first()
                .is_some_and(|(_, s)| best_verb.is_none_or(|v| *s > v.score));
            if profiles_first && let Some(i) = switch_rows(ui, &switches) {
                intent = Some(i);
            }
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
            if !profiles_first && let Some(i) = switch_rows(ui, &switches) {
                intent = Some(i);
            }
        });
    intent
}

fn switch_rows(ui: &mut egui::Ui, switches: &[(String, i32)]) -> Option<Intent> {
    let mut intent = None;
    for (name, _) in switches.iter().take(8) {
        let button = ui
            .add(egui::Button::new(switch_label(name)).frame(false))
            .on_hover_text("Reconnect with this AWS profile alone");
        if button.clicked() {
            intent = Some(Intent::SwitchProfile(name.clone()));
        }
    }
    intent
}
