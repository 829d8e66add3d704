//! The graphs: five series groups on one linked time axis, with units on every axis, the
//! timeline's events as labelled lines (hover tells what happened), and a burst drawn
//! where it happened. Series are reduced to what the pixels can show (min and max per pixel
//! column) and the reduced series are kept until the data or the width changes.

use super::{clock_label, theme};
use crate::model::{EnvMetrics, Event as TimelineEvent, MetricSeries};
use crate::ui::intent::Intent;
use crate::ui::plot;
use crate::ui::view::GraphsView;
use egui::{Color32, RichText, Ui};
use egui_plot::{HLine, Legend, Line, LineStyle, Plot, PlotPoint, PlotPoints, Points, Text, VLine};
use std::sync::Arc;

/// The windows a person can pick.
pub const WINDOWS: [(f64, &str); 6] = [
    (900.0, "15 min"),
    (3600.0, "1 h"),
    (3.0 * 3600.0, "3 h"),
    (12.0 * 3600.0, "12 h"),
    (86400.0, "24 h"),
    (7.0 * 86400.0, "7 d"),
];

/// Pixels per reduced column: at most four points per two pixels.
const PIXELS_PER_COLUMN: f32 = 2.0;

/// The plot's id for a graph's title (tests read its bounds from egui's memory).
pub fn graph_id(title: &str) -> egui::Id {
    egui::Id::unique(("scale0 graph", title))
}

/// The series the graphs draw, in one order: where each one's reduced form is kept.
#[derive(Clone, Copy)]
enum Shown {
    Requests,
    Status2xx,
    Status5xx,
    LatencyP50,
    LatencyP99,
    Instances,
    Concurrency,
    Capacity,
    Connections,
    Cpu,
}

const SHOWN: [Shown; 10] = [
    Shown::Requests,
    Shown::Status2xx,
    Shown::Status5xx,
    Shown::LatencyP50,
    Shown::LatencyP99,
    Shown::Instances,
    Shown::Concurrency,
    Shown::Capacity,
    Shown::Connections,
    Shown::Cpu,
];

fn shown_series(m: &EnvMetrics, s: Shown) -> &MetricSeries {
    match s {
        Shown::Requests => &m.requests,
        Shown::Status2xx => &m.status_2xx,
        Shown::Status5xx => &m.status_5xx,
        Shown::LatencyP50 => &m.latency_p50,
        Shown::LatencyP99 => &m.latency_p99,
        Shown::Instances => &m.active_instances,
        Shown::Concurrency => &m.concurrency,
        Shown::Capacity => &m.capacity,
        Shown::Connections => &m.connections,
        Shown::Cpu => &m.cpu,
    }
}

/// The reduced series and what they were reduced from: the data's revision, the column
/// count and the window.
#[derive(Clone)]
struct Reduced {
    key: (u64, usize, u64),
    series: Arc<Vec<plot::Decimated>>,
}

/// The reduced series for this data and width: from egui's memory when neither changed.
fn reduced(
    ui: &Ui,
    view: &GraphsView,
    m: &EnvMetrics,
    columns: usize,
) -> Arc<Vec<plot::Decimated>> {
    let id = egui::Id::unique("scale0 reduced graphs");
    let key = (view.revision, columns, view.window.to_bits());
    if let Some(hit) = ui
        .data(|d| d.get_temp::<Reduced>(id))
        .filter(|r| r.key == key)
    {
        return hit.series;
    }
    let column_seconds = view.window / columns.max(1) as f64;
    // A missing point is a gap: more than two and a half periods without one.
    let gap = (2.5 * median_step(&m.requests.points)).max(150.0);
    let count = egui::Id::unique("scale0 graph reductions");
    ui.data_mut(|d| *d.get_temp_mut_or_default::<u64>(count) += 1);
    let series = Arc::new(
        SHOWN
            .iter()
            .map(|s| plot::decimate(&shown_series(m, *s).points, column_seconds, gap))
            .collect::<Vec<_>>(),
    );
    ui.data_mut(|d| {
        d.insert_temp(
            id,
            Reduced {
                key,
                series: series.clone(),
            },
        )
    });
    series
}

/// How many times the graphs' series were reduced in this context: once per change of the
/// data or the width, never for a frame that changed neither.
pub fn reductions(ctx: &egui::Context) -> u64 {
    ctx.data(|d| d.get_temp::<u64>(egui::Id::unique("scale0 graph reductions")))
        .unwrap_or(0)
}

/// The usual step between points (the period the series was read at).
fn median_step(points: &[(f64, f64)]) -> f64 {
    let mut steps: Vec<f64> = points
        .windows(2)
        .take(64)
        .map(|w| w[1].0 - w[0].0)
        .collect();
    steps.sort_by(f64::total_cmp);
    steps.get(steps.len() / 2).copied().unwrap_or(60.0)
}

const GRAPH_HEIGHT: f32 = 118.0;

struct Series<'a> {
    name: &'static str,
    points: &'a plot::Decimated,
    color: Color32,
    dashed: bool,
}

fn series<'a>(name: &'static str, points: &'a plot::Decimated, color: Color32) -> Series<'a> {
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
            RichText::new(
                "times in UTC; grey lines are events (hover a graph), dashed ones planned actions; click a graph for its logs",
            )
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
    let columns = (ui.available_width().max(100.0) / PIXELS_PER_COLUMN) as usize;
    let all = reduced(ui, view, m, columns);
    let r = |s: Shown| &all[s as usize];
    let long = view.window > 86400.0;
    let link = egui::Id::unique("environment time axis");
    // A click on any graph asks for the logs around that moment.
    let clicked = std::cell::Cell::new(None);
    let draw = |ui: &mut Ui,
                title: &str,
                unit: &str,
                lines: Vec<Series>,
                labels: bool,
                extra: &dyn Fn(&mut egui_plot::PlotUi<'_>)| {
        ui.label(RichText::new(title).strong());
        let events = view.events;
        let span = view.end - view.start;
        // Event labels sit at the data's top: placed at the plot's own top, they would
        // widen its automatic bounds a little every frame (the y axis crept to ~15,000).
        let top = lines
            .iter()
            .filter_map(|s| s.points.max)
            .fold(1.0_f64, f64::max);
        // Planned actions stretch the axis past now, up to the last one (and a little room
        // for its label).
        let right = view
            .upcoming
            .last()
            .map_or(view.end, |(t, _)| t + span * 0.03);
        Plot::new(title)
            .id(graph_id(title))
            .height(GRAPH_HEIGHT)
            // Room for the scroll bar on the right.
            .width(ui.available_width() - 14.0)
            .link_axis(link, [true, false])
            .link_cursor(link, [true, false])
            .include_x(view.start)
            .include_x(right)
            .include_y(0.0)
            .legend(Legend::default())
            .allow_scroll(false)
            .y_axis_label(unit)
            .y_axis_min_width(44.0)
            .x_axis_formatter(move |mark, _| axis_label(mark.value, long))
            .x_grid_spacer(egui_plot::uniform_grid_spacer(time_steps))
            .label_formatter(move |hover| {
                // A value only for a data point; elsewhere only the time under the pointer
                // (its height is no measurement, and read like one).
                let (position, mut text) = match hover {
                    egui_plot::HoverPosition::NearDataPoint {
                        plot_name,
                        position,
                        ..
                    } if !plot_name.is_empty() => (
                        *position,
                        format!(
                            "{}  {plot_name} {:.1} {unit}",
                            clock_label(position.x),
                            position.y
                        ),
                    ),
                    egui_plot::HoverPosition::NearDataPoint { position, .. }
                    | egui_plot::HoverPosition::Elsewhere { position } => {
                        (*position, clock_label(position.x))
                    }
                };
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
                    for segment in &s.points.segments {
                        let points = PlotPoints::Borrowed(segment.as_slice());
                        if segment.len() == 1 {
                            // A lone point (the first minute after a gap, such as a burst's
                            // first minute after idle) draws no line: mark it instead.
                            plot_ui.points(Points::new(s.name, points).radius(2.5).color(s.color));
                            continue;
                        }
                        let mut line = Line::new(s.name, points).color(s.color);
                        if s.dashed {
                            line = line.style(LineStyle::dashed_loose());
                        }
                        plot_ui.line(line);
                    }
                }
                // Unnamed, so the legend lists series, not events.
                let bounds = plot_ui.plot_bounds();
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
                if !view.upcoming.is_empty() {
                    // Now, and what is planned after it: dashed, labelled on the first graph.
                    plot_ui.vline(VLine::new("", view.end).color(theme::MUTED));
                    for (t, what) in &view.upcoming {
                        plot_ui.vline(
                            VLine::new("", *t)
                                .color(theme::PLANNED)
                                .style(LineStyle::dashed_dense()),
                        );
                        if labels {
                            plot_ui.text(
                                Text::new("", PlotPoint::new(*t, top), what.as_str())
                                    .color(theme::PLANNED)
                                    .anchor(egui::Align2::RIGHT_TOP),
                            );
                        }
                    }
                }
                if let Some(t) = view.marker {
                    plot_ui.vline(VLine::new("", t).color(theme::LOG_MARKER).width(1.5));
                }
                if plot_ui.response().clicked()
                    && let Some(p) = plot_ui.pointer_coordinate()
                {
                    // The axis has margins: a click past either end means that end.
                    clicked.set(Some(p.x.clamp(view.start, view.end)));
                }
                extra(plot_ui);
            });
    };
    draw(
        ui,
        "Requests per minute",
        "req/min",
        vec![
            series("all", r(Shown::Requests), theme::NEUTRAL),
            series("2xx", r(Shown::Status2xx), theme::OK),
            series("5xx", r(Shown::Status5xx), theme::ERROR),
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
            series("p50", r(Shown::LatencyP50), theme::P50),
            Series {
                dashed: true,
                ..series("p99", r(Shown::LatencyP99), theme::P99)
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
            series("active instances", r(Shown::Instances), theme::INFO),
            series("concurrency", r(Shown::Concurrency), theme::NEUTRAL),
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
            vec![series("CPU", r(Shown::Cpu), theme::WARN)],
            false,
            &|_| {},
        );
    }
    draw(
        ui,
        "Database capacity (0 = paused)",
        "ACU",
        vec![series("capacity", r(Shown::Capacity), theme::OK)],
        false,
        &|_| {},
    );
    draw(
        ui,
        "Database connections",
        "conns",
        vec![series("connections", r(Shown::Connections), theme::INFO)],
        false,
        &|plot_ui| {
            if let Some(max) = view.max_connections {
                plot_ui.hline(HLine::new("max_connections", max).color(theme::ERROR));
            }
        },
    );
    clicked.get().map(Intent::LogsAt).or(intent)
}

/// Grid steps a clock reads (minutes, quarter hours, hours, days) instead of the default
/// powers of ten, which put marks 100 s apart and labelled them 14:38, 14:40, 14:41.
fn time_steps(input: egui_plot::GridInput) -> [f64; 3] {
    const LADDER: [f64; 17] = [
        1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0,
        21600.0, 43200.0, 86400.0, 604800.0,
    ];
    let last = LADDER.len() - 1;
    let i = LADDER
        .iter()
        .position(|&s| s >= input.base_step_size)
        .unwrap_or(last);
    // Spread over the ladder so the largest step is wide enough for its labels.
    [
        LADDER[i],
        LADDER[(i + 2).min(last)],
        LADDER[(i + 3).min(last)],
    ]
}

/// "14:30", or "Tue 14:30" on windows longer than a day.
fn axis_label(t: f64, long: bool) -> String {
    if !long {
        return clock_label(t);
    }
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let day = DAYS[(t / 86400.0).floor().rem_euclid(7.0) as usize];
    format!("{day} {}", clock_label(t))
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
