//! The graphs: five series groups on one linked time axis, with units on every axis, the
//! timeline's events as labelled lines (hover tells what happened), and a burst drawn
//! where it happened. Series are reduced to what the pixels can show.

use super::{clock_label, theme};
use crate::model::{Event as TimelineEvent, MetricSeries};
use crate::ui::intent::Intent;
use crate::ui::plot;
use crate::ui::view::GraphsView;
use egui::{Color32, RichText, Ui};
use egui_plot::{HLine, Legend, Line, LineStyle, Plot, PlotPoint, PlotPoints, Text, VLine};

/// The windows a person can pick.
pub const WINDOWS: [(f64, &str); 5] = [
    (900.0, "15 min"),
    (3600.0, "1 h"),
    (3.0 * 3600.0, "3 h"),
    (12.0 * 3600.0, "12 h"),
    (86400.0, "24 h"),
];

const GRAPH_HEIGHT: f32 = 118.0;

struct Series<'a> {
    name: &'static str,
    points: &'a MetricSeries,
    color: Color32,
    dashed: bool,
}

fn series<'a>(name: &'static str, points: &'a MetricSeries, color: Color32) -> Series<'a> {
    Series {
        name,
        points,
        color,
        dashed: false,
    }
}

pub fn show(ui: &mut Ui, view: &GraphsView) -> Option<Intent> {
    let mut intent = None;
    ui.horizontal(|ui| {
        ui.label(RichText::new("Window").strong());
        for (seconds, label) in WINDOWS {
            if ui.selectable_label(view.window == seconds, label).clicked() {
                intent = Some(Intent::SetWindow(seconds));
            }
        }
        ui.label(
            RichText::new("times in UTC; grey lines are events (hover a graph)")
                .small()
                .color(theme::MUTED),
        );
    });
    if let Some(e) = &view.error {
        ui.colored_label(theme::ERROR, format!("graphs could not be read: {e}"));
    }
    let Some(m) = view.metrics else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("reading metrics...");
        });
        return intent;
    };
    // Two points (min and max) per ~3 pixels is all a line can show.
    let columns = (ui.available_width().max(100.0) / 3.0) as usize;
    let link = egui::Id::unique("environment time axis");
    let draw = |ui: &mut Ui,
                title: &str,
                unit: &str,
                lines: Vec<Series>,
                labels: bool,
                extra: &dyn Fn(&mut egui_plot::PlotUi<'_>)| {
        ui.label(RichText::new(title).strong());
        let events = view.events;
        let span = view.end - view.start;
        Plot::new(title)
            .height(GRAPH_HEIGHT)
            // Room for the scroll bar on the right.
            .width(ui.available_width() - 14.0)
            .link_axis(link, [true, false])
            .link_cursor(link, [true, false])
            .include_x(view.start)
            .include_x(view.end)
            .include_y(0.0)
            .legend(Legend::default())
            .allow_scroll(false)
            .y_axis_label(unit)
            .y_axis_min_width(44.0)
            .x_axis_formatter(|mark, _| clock_label(mark.value))
            .label_formatter(move |hover| {
                let position = match hover {
                    egui_plot::HoverPosition::NearDataPoint { position, .. }
                    | egui_plot::HoverPosition::Elsewhere { position } => *position,
                };
                let mut text = format!("{}  {:.1} {unit}", clock_label(position.x), position.y);
                if let Some(e) = nearest_event(events, position.x, span / 60.0) {
                    text.push_str(&format!(
                        "\n{} ({}): {}",
                        clock_label(e.time),
                        e.source,
                        e.message
                    ));
                }
                Some(text)
            })
            .show(ui, |plot_ui| {
                for s in &lines {
                    for segment in plot::reduce(&s.points.points, columns, 150.0) {
                        let mut line = Line::new(s.name, PlotPoints::from(segment)).color(s.color);
                        if s.dashed {
                            line = line.style(LineStyle::dashed_loose());
                        }
                        plot_ui.line(line);
                    }
                }
                // Unnamed, so the legend lists series, not events.
                let bounds = plot_ui.plot_bounds();
                let top = bounds.max()[1];
                // Labels closer than 4 % of the axis would overlap: only the first is written.
                let min_gap = bounds.width() * 0.04;
                let mut last_label = f64::NEG_INFINITY;
                for e in events {
                    plot_ui.vline(VLine::new("", e.time).color(theme::EVENT_LINE));
                    if labels && e.time - last_label >= min_gap {
                        last_label = e.time;
                        plot_ui.text(
                            Text::new("", PlotPoint::new(e.time, top), short_event(e))
                                .color(theme::MUTED)
                                .anchor(egui::Align2::LEFT_TOP),
                        );
                    }
                }
                extra(plot_ui);
            });
    };
    draw(
        ui,
        "Requests per minute",
        "req/min",
        vec![
            series("all", &m.requests, theme::NEUTRAL),
            series("2xx", &m.status_2xx, theme::OK),
            series("5xx", &m.status_5xx, theme::ERROR),
        ],
        true,
        &|plot_ui| {
            if !view.burst.is_empty() {
                plot_ui.line(
                    Line::new("burst (per min)", PlotPoints::from(view.burst.clone()))
                        .color(theme::BURST),
                );
            }
        },
    );
    draw(
        ui,
        "Latency",
        "ms",
        vec![
            series("p50", &m.latency_p50, theme::P50),
            Series {
                dashed: true,
                ..series("p99", &m.latency_p99, theme::P99)
            },
        ],
        false,
        &|_| {},
    );
    draw(
        ui,
        "Instances and concurrent requests",
        "count",
        vec![
            series("active instances", &m.active_instances, theme::INFO),
            series("concurrency", &m.concurrency, theme::NEUTRAL),
        ],
        false,
        &|_| {},
    );
    // Only kinds that report it (ECS Express: the tasks' average CPU).
    if !m.cpu.points.is_empty() {
        draw(
            ui,
            "Service CPU",
            "%",
            vec![series("CPU", &m.cpu, theme::WARN)],
            false,
            &|_| {},
        );
    }
    draw(
        ui,
        "Database capacity (0 = paused)",
        "ACU",
        vec![series("capacity", &m.capacity, theme::OK)],
        false,
        &|_| {},
    );
    draw(
        ui,
        "Database connections",
        "conns",
        vec![series("connections", &m.connections, theme::INFO)],
        false,
        &|plot_ui| {
            if let Some(max) = view.max_connections {
                plot_ui.hline(HLine::new("max_connections", max).color(theme::ERROR));
            }
        },
    );
    intent
}

/// The event nearest to `t` within `tolerance` seconds.
fn nearest_event(events: &[TimelineEvent], t: f64, tolerance: f64) -> Option<&TimelineEvent> {
    events
        .iter()
        .filter(|e| (e.time - t).abs() <= tolerance)
        .min_by(|a, b| (a.time - t).abs().total_cmp(&(b.time - t).abs()))
}

/// A few words for an event line's label.
pub fn short_event(e: &TimelineEvent) -> String {
    let m = e.message.to_ascii_lowercase();
    let word = if m.contains("paused") || m.contains("pause_service") {
        "pause"
    } else if m.contains("resum") {
        "resume"
    } else if m.contains("deployment") || m.contains("update_service") {
        "deploy"
    } else if m.contains("stopp") || m.contains("stop") {
        "stop"
    } else if m.contains("start") {
        "start"
    } else {
        e.source
    };
    word.to_string()
}
