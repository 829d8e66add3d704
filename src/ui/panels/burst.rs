//! The burst strip: the shape of load (constant, ramp, stages, fixed rate), start/stop, the
//! live figures and the environment's events as they arrive, right under the action bar so
//! it is reachable without scrolling; and two saved runs overlaid on the same axes.

use super::theme;
use crate::actions::Verb;
use crate::burst::runs::RunRecord;
use crate::burst::stats::Second;
use crate::ui::burst::{BurstForm, Shape};
use crate::ui::intent::Intent;
use crate::ui::view::{BurstView, CompareView};
use egui::{RichText, Ui};
use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints};

pub fn show(ui: &mut Ui, view: &BurstView) -> Option<Intent> {
    let mut intent = None;
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Load burst").strong());
        let mut form = view.form.clone();
        form_ui(ui, &mut form, view.running);
        if form != view.form {
            intent = Some(Intent::SetBurst(form));
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
    // The environment's own events during the burst, as they arrive.
    if let Some(s) = view.snapshot.filter(|s| !s.markers.is_empty()) {
        let marks: Vec<String> = s
            .markers
            .iter()
            .map(|m| format!("+{:.1} s {}", m.at, m.text))
            .collect();
        ui.label(
            RichText::new(format!("During the burst: {}", marks.join("; "))).color(theme::MUTED),
        );
    }
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

/// The shape of load and its numbers; only the fields the shape uses are shown.
fn form_ui(ui: &mut Ui, form: &mut BurstForm, running: bool) {
    ui.add_enabled_ui(!running, |ui| {
        let label = ui.label("shape");
        egui::ComboBox::from_id_salt("burst shape")
            .selected_text(form.shape.label())
            .show_ui(ui, |ui| {
                for shape in Shape::ALL {
                    ui.selectable_value(&mut form.shape, shape, shape.label());
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text(
                "constant: every worker at once; ramp: reach them gradually; stages: k6-like \
                 DURATION:WORKERS steps; fixed rate: an open model that counts late sends",
            );
        let workers = if form.shape == Shape::Rate {
            "at most in flight "
        } else {
            "concurrency "
        };
        if form.shape != Shape::Stages {
            ui.add(
                egui::DragValue::new(&mut form.concurrency)
                    .range(1..=crate::burst::MAX_CONCURRENCY)
                    .prefix(workers),
            );
            ui.add(
                egui::DragValue::new(&mut form.seconds)
                    .range(1.0..=600.0)
                    .suffix(" s")
                    .prefix("for "),
            );
        }
        match form.shape {
            Shape::Constant => {}
            Shape::Ramp => {
                ui.add(
                    egui::DragValue::new(&mut form.ramp)
                        .range(0.0..=form.seconds)
                        .suffix(" s")
                        .prefix("ramp "),
                )
                .on_hover_text("Reach the concurrency gradually over this many seconds");
            }
            Shape::Stages => {
                ui.add(
                    egui::TextEdit::singleline(&mut form.stages)
                        .desired_width(180.0)
                        .hint_text("10s:10,30s:150,20s:0"),
                )
                .on_hover_text("DURATION:WORKERS, comma-separated, like k6's stages");
            }
            Shape::Rate => {
                ui.add(
                    egui::DragValue::new(&mut form.rate)
                        .range(1.0..=crate::burst::MAX_RATE)
                        .suffix(" req/s")
                        .prefix("rate "),
                )
                .on_hover_text(
                    "Total arrivals per second; latency counts from when each request was due",
                );
            }
        }
    });
}

/// Two saved runs on the same axes (seconds since each started): responses per second and
/// p99 latency, A solid and B dashed.
pub fn compare_ui(ui: &mut Ui, view: &CompareView) -> Option<Intent> {
    let mut intent = None;
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Compare saved runs").strong());
        let name = |i: Option<usize>| {
            i.and_then(|i| view.runs.get(i))
                .map(run_label)
                .unwrap_or_else(|| "choose a run".into())
        };
        let mut chosen = view.chosen;
        for (label, slot) in [("A", &mut chosen.0), ("B", &mut chosen.1)] {
            let label = ui.label(label);
            egui::ComboBox::from_id_salt(("compare run", label.id))
                .selected_text(name(*slot))
                .width(260.0)
                .show_ui(ui, |ui| {
                    for (i, run) in view.runs.iter().enumerate().rev() {
                        ui.selectable_value(slot, Some(i), run_label(run));
                    }
                })
                .response
                .labelled_by(label.id);
        }
        if chosen != view.chosen {
            intent = Some(Intent::CompareRuns(chosen.0, chosen.1));
        }
        if ui
            .button("Reload")
            .on_hover_text("Read the saved runs again")
            .clicked()
        {
            intent = Some(Intent::ListRuns);
        }
        if view.runs.is_empty() {
            ui.label(RichText::new("no saved runs yet").color(theme::MUTED));
        }
    });
    let (Some(a), Some(b)) = (
        view.chosen.0.and_then(|i| view.runs.get(i)),
        view.chosen.1.and_then(|i| view.runs.get(i)),
    ) else {
        return intent;
    };
    let series = |run: &RunRecord, f: fn(&Second) -> f64| -> Vec<[f64; 2]> {
        run.result
            .per_second
            .iter()
            .enumerate()
            .map(|(i, s)| [i as f64, f(s)])
            .collect()
    };
    let responses: fn(&Second) -> f64 = |s| s.responses as f64;
    let p99: fn(&Second) -> f64 = |s| s.p99;
    for (title, unit, f) in [
        ("Runs: responses per second", "req/s", responses),
        ("Runs: p99 latency", "ms", p99),
    ] {
        ui.label(title);
        Plot::new(title)
            .height(120.0)
            .legend(Legend::default())
            .x_axis_label("seconds since start")
            .y_axis_label(unit)
            .allow_scroll(false)
            .show(ui, |plot| {
                plot.line(
                    Line::new(format!("A {}", a.id), PlotPoints::from(series(a, f)))
                        .color(theme::BURST),
                );
                plot.line(
                    Line::new(format!("B {}", b.id), PlotPoints::from(series(b, f)))
                        .color(theme::OK)
                        .style(LineStyle::dashed_loose()),
                );
            });
    }
    for d in crate::burst::runs::compare(a, b).iter().take(6) {
        ui.label(format!("{}: {} -> {}", d.name, d.a, d.b));
    }
    intent
}

fn run_label(run: &RunRecord) -> String {
    format!(
        "{} {} ({:.0} req/s)",
        run.id, run.result.shape, run.result.requests_per_second
    )
}
