//! The timeline: the environment's operations and database events, newest first. A
//! click on an event's time shows the logs around it.

use super::{clock_label, theme};
use crate::model::Event as TimelineEvent;
use crate::ui::intent::Intent;
use egui::{RichText, Ui};

pub fn show(ui: &mut Ui, events: Option<&[TimelineEvent]>) -> Option<Intent> {
    ui.label(RichText::new("Timeline").strong());
    let Some(events) = events else {
        ui.weak("reading events...");
        return None;
    };
    if events.is_empty() {
        ui.weak("no events in this window");
    }
    let mut intent = None;
    egui::Grid::new("timeline")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            for e in events.iter().rev().take(30) {
                if ui
                    .link(RichText::new(clock_label(e.time)).monospace())
                    .on_hover_text("Show the logs around this moment")
                    .clicked()
                {
                    intent = Some(Intent::LogsAt(e.time));
                }
                ui.label(RichText::new(e.source).color(theme::MUTED));
                ui.label(&e.message);
                ui.end_row();
            }
        });
    intent
}
