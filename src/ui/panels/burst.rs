//! The burst strip: concurrency and duration, start/stop, and the live figures, right under
//! the action bar so it is reachable without scrolling.

use super::theme;
use crate::actions::Verb;
use crate::ui::intent::Intent;
use crate::ui::view::BurstView;
use egui::{RichText, Ui};

pub fn show(ui: &mut Ui, view: &BurstView) -> Option<Intent> {
    let mut intent = None;
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Load burst").strong());
        let mut concurrency = view.concurrency;
        let mut seconds = view.seconds;
        let mut ramp = view.ramp;
        let c = ui.add(
            egui::DragValue::new(&mut concurrency)
                .range(1..=crate::burst::MAX_CONCURRENCY)
                .prefix("concurrency "),
        );
        let s = ui.add(
            egui::DragValue::new(&mut seconds)
                .range(1.0..=120.0)
                .suffix(" s")
                .prefix("for "),
        );
        let r = ui
            .add(
                egui::DragValue::new(&mut ramp)
                    .range(0.0..=seconds)
                    .suffix(" s")
                    .prefix("ramp "),
            )
            .on_hover_text("Reach the concurrency gradually over this many seconds (0: at once)");
        if c.changed() || s.changed() || r.changed() {
            intent = Some(Intent::SetBurst {
                concurrency,
                seconds,
                ramp,
            });
        }
        if view.running {
            if ui
                .button("Stop burst")
                .on_hover_text("Stops every request within a second")
                .clicked()
            {
                intent = Some(Intent::StopBurst);
            }
            ui.spinner();
        } else {
            let response =
                ui.add_enabled(view.disabled.is_none(), egui::Button::new("Start burst"));
            let response = match &view.disabled {
                Some(r) => response.on_disabled_hover_text(format!("Not now: {r}")),
                None => response.on_hover_text(format!(
                    "GET {} from many connections at once; drawn on the requests graph",
                    view.url.as_deref().unwrap_or("the service URL")
                )),
            };
            if response.clicked() {
                intent = Some(Intent::Invoke(Verb::Burst));
            }
        }
        if let Some(s) = view.snapshot {
            let errors = s.status_count(500..=599) + s.errors_total;
            ui.label(format!(
                "{:.1} s: {} responses, {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms,",
                s.elapsed, s.responses, s.requests_per_second, s.latency.p50, s.latency.p99
            ));
            ui.label(RichText::new(format!("2xx {}", s.status_count(200..=299))).color(theme::OK));
            let tone = if errors > 0 {
                theme::ERROR
            } else {
                theme::MUTED
            };
            ui.label(
                RichText::new(format!(
                    "5xx {}, errors {}",
                    s.status_count(500..=599),
                    s.errors_total
                ))
                .color(tone),
            );
        }
    });
    // A cold start measured apart: how long the first answer took while the environment woke.
    if let Some(cold) = view.snapshot.and_then(|s| s.phases.cold.as_ref()) {
        let first = match cold.first_success_after {
            Some(t) => format!("first success after {t:.1} s"),
            None => "no success yet".into(),
        };
        ui.label(
            RichText::new(format!(
                "Cold start: {first}; {} requests waited, {} server errors ({})",
                cold.requests_waited, cold.server_errors, cold.reason
            ))
            .color(theme::WARN),
        );
    }
    intent
}
