//! The confirmation dialog: what will happen, to which environment, in which account and
//! region (the text comes from the action table).

use crate::ui::intent::Intent;
use egui::{Key, RichText};

pub fn show(ctx: &egui::Context, title: &str, question: &str) -> Option<Intent> {
    let mut intent = None;
    let mut open = true;
    egui::Window::new(title)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .open(&mut open)
        .show(ctx, |ui| {
            ui.set_max_width(460.0);
            ui.label(RichText::new(question));
            ui.horizontal(|ui| {
                if ui.button("Yes, go ahead").clicked() {
                    intent = Some(Intent::ConfirmYes);
                }
                if ui.button("Cancel").clicked() {
                    intent = Some(Intent::ConfirmNo);
                }
            });
        });
    if !open || ctx.input(|i| i.key_pressed(Key::Escape)) {
        intent = Some(Intent::ConfirmNo);
    }
    intent
}
