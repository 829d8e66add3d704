//! The timeline: the environment's operations and database events, newest first.

use super::{clock_label, theme};
use crate::model::Event as TimelineEvent;
use egui::{RichText, Ui};

pub fn show(ui: &mut Ui, events: Option<&[TimelineEvent]>) {
    ui.label(RichText::new("Timeline").strong());
    let Some(events) = events else {
        ui.weak("reading events...");
        return;
    };
    if events.is_empty() {
        ui.weak("no events in this window");
    }
    egui::Grid::new("timeline")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            for e in events.iter().rev().take(30) {
                ui.label(RichText::new(clock_label(e.time)).monospace());
                ui.label(RichText::new(e.source).color(theme::MUTED));
                ui.label(&e.message);
                ui.end_row();
            }
        });
}
