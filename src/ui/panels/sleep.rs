//! The sleep panel: who keeps the environment awake and until when (with "Extend 1 h"
//! and the end of it), its schedules with their next firing, and why it is not asleep.

use super::tone_color;
use crate::actions::Verb;
use crate::ui::intent::Intent;
use crate::ui::view::{SleepView, Tone};
use egui::Ui;

pub fn show(ui: &mut Ui, view: &SleepView) -> Option<Intent> {
    let mut intent = None;
    ui.horizontal(|ui| {
        ui.strong("Sleep plan");
        match view.age {
            Some(age) => ui.weak(format!("read {} ago", crate::model::human_duration(age))),
            None => ui.weak("reading..."),
        };
    });
    if let Some(text) = &view.keep_awake {
        ui.horizontal(|ui| {
            ui.colored_label(tone_color(Tone::Info), text);
            if let Some(until) = view.extend_until
                && ui
                    .button("Extend 1 h")
                    .on_hover_text("Move the expiry an hour later (the schedules are replaced)")
                    .clicked()
            {
                intent = Some(Intent::KeepAwakeUntil(until));
            }
            if ui
                .button(Verb::CancelKeepAwake.label())
                .on_hover_text(Verb::CancelKeepAwake.spec().tooltip)
                .clicked()
            {
                intent = Some(Intent::Invoke(Verb::CancelKeepAwake));
            }
        });
    }
    if let Some(cost) = &view.cost {
        ui.label(cost);
    }
    if let Some((tone, text)) = &view.restart {
        ui.colored_label(tone_color(*tone), text);
    }
    match &view.schedules_error {
        Some(e) => {
            ui.colored_label(tone_color(Tone::Error), format!("schedules unknown: {e}"));
        }
        None if view.schedules.is_empty() && view.age.is_some() => {
            ui.weak("no schedules: it sleeps only when someone pauses it");
        }
        None => {
            egui::Grid::new("schedules").striped(true).show(ui, |ui| {
                for (name, when, next) in &view.schedules {
                    ui.label(name);
                    ui.weak(when);
                    ui.label(next);
                    ui.end_row();
                }
            });
        }
    }
    if let Some(e) = &view.why_error {
        ui.colored_label(tone_color(Tone::Error), format!("why unknown: {e}"));
    }
    // Blockers and unknowns always show; the checks that passed fold away.
    let blockers = view.findings.iter().filter(|f| f.0 == Tone::Warn).count();
    ui.label(format!("Why isn't it sleeping? {blockers} blocker(s)"));
    for (tone, what, fix) in view.findings.iter().filter(|f| f.0 != Tone::Ok) {
        ui.horizontal_wrapped(|ui| {
            let mark = if *tone == Tone::Warn {
                "blocks"
            } else {
                "unknown"
            };
            ui.colored_label(tone_color(*tone), mark);
            ui.label(what);
        });
        if let Some(fix) = fix {
            ui.weak(format!("    -> {fix}"));
        }
    }
    let passed: Vec<&String> = view
        .findings
        .iter()
        .filter(|f| f.0 == Tone::Ok)
        .map(|f| &f.1)
        .collect();
    if !passed.is_empty() {
        egui::CollapsingHeader::new(format!("{} check(s) passed", passed.len()))
            .id_salt("why passed")
            .show(ui, |ui| {
                for what in passed {
                    ui.horizontal_wrapped(|ui| {
                        ui.colored_label(tone_color(Tone::Ok), "ok");
                        ui.label(what);
                    });
                }
            });
    }
    intent
}
