//! What could not be read: one line per failing region or service, with the error, how
//! long it has failed and when it last worked, over a retry button.

use super::theme;
use crate::actions::Verb;
use crate::model::human_duration;
use crate::ui::intent::Intent;
use crate::ui::view::ProblemsView;
use egui::{RichText, Ui};

pub fn show(ui: &mut Ui, view: &ProblemsView) -> Option<Intent> {
    if view.problems.is_empty() {
        return None;
    }
    let mut intent = None;
    egui::Frame::new()
        .fill(theme::ERROR.gamma_multiply(0.18))
        .inner_margin(6.0)
        .show(ui, |ui| {
            for p in &view.problems {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new("Can't read").color(theme::ERROR).strong());
                    ui.label(&p.what);
                    let since = p
                        .since
                        .map(|t| format!("failing for {}", human_duration(view.now - t)));
                    let worked = match p.last_worked {
                        Some(t) => format!("last worked {} ago", human_duration(view.now - t)),
                        None => "has not worked this session".into(),
                    };
                    let age = [since, Some(worked)]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(", ");
                    ui.label(RichText::new(age).small().color(theme::MUTED));
                });
            }
            if ui.button("Retry now").clicked() {
                intent = Some(Intent::Invoke(Verb::Refresh));
            }
        });
    intent
}
