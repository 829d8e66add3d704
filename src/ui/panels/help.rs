//! The help overlay (`?`): every action of the table with its shortcut and what it does.

use super::shortcut_text;
use crate::actions::TABLE;
use crate::ui::intent::Intent;
use egui::{Key, RichText};

pub fn show(ctx: &egui::Context) -> Option<Intent> {
    let mut intent = None;
    let mut open = true;
    egui::Window::new("Keyboard shortcuts")
        .collapsible(false)
        .resizable(false)
        .open(&mut open)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            egui::Grid::new("shortcuts")
                .num_columns(3)
                .striped(true)
                .show(ui, |ui| {
                    for spec in TABLE {
                        let keys = spec
                            .shortcut
                            .map(|s| shortcut_text(ctx, &s))
                            .unwrap_or_else(|| "palette".into());
                        ui.label(RichText::new(keys).monospace().strong());
                        ui.label(spec.label);
                        ui.label(RichText::new(spec.tooltip).small());
                        ui.end_row();
                    }
                });
            ui.label("Shortcuts work when no text field has the focus. Esc closes this.");
        });
    if !open || ctx.input(|i| i.key_pressed(Key::Escape)) {
        intent = Some(Intent::CloseHelp);
    }
    intent
}
