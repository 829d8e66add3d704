//! The bottom bar: the latest notification (red when something failed), and the history.

use super::{clock_label, theme};
use egui::Ui;

pub struct Notification {
    pub at: f64,
    pub text: String,
    pub ok: bool,
}

pub fn show(ui: &mut Ui, notifications: &[Notification], history: &mut bool) {
    ui.horizontal(|ui| {
        ui.toggle_value(history, format!("History ({})", notifications.len()));
        if let Some(n) = notifications.last() {
            let color = if n.ok {
                ui.visuals().text_color()
            } else {
                theme::ERROR
            };
            ui.colored_label(color, &n.text);
        }
    });
    if *history {
        egui::ScrollArea::vertical()
            .max_height(160.0)
            .show(ui, |ui| {
                for n in notifications.iter().rev() {
                    let color = if n.ok {
                        ui.visuals().text_color()
                    } else {
                        theme::ERROR
                    };
                    ui.colored_label(color, format!("{}  {}", clock_label(n.at), n.text));
                }
            });
    }
}
