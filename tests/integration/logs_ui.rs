//! The logs panel in the real app, on the emulator: the selected environment's app log
//! arrives, a filter reads it again, an event's time and a click on a graph each open the
//! logs around that moment and mark the selected line's time on the graphs, and follow
//! shows a new line as it is written.

use crate::backend::backend;
use crate::common::*;
use crate::emulator_workload::service_url;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use scale0::emulator::{Emulator, Seed};
use scale0::ui::logs::{LogRow, LogsStatus};
use scale0::ui::worker::Worker;
use scale0::ui::{App, Settings};
use std::time::{Duration, Instant};

fn harness(emu: &Emulator, b: scale0::backend::aws::AwsBackend) -> Harness<'static, App> {
    let worker = Worker::with_backend(
        &tokio::runtime::Handle::current(),
        b,
        format!("demo region at {}", emu.endpoint_url()),
        |_| {},
    );
    let settings = Settings {
        selected: Some("us-east-1/qa".into()),
        // A day, so the timeline has events to click.
        window_seconds: 86400.0,
        ..Settings::default()
    };
    Harness::builder()
        .with_size(egui::vec2(1400.0, 2600.0))
        .build_ui_state(|ui, app: &mut App| app.show(ui), App::new(worker, settings))
}

/// Steps until `done`, at most 30 s of real time.
fn step_until(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        h.step();
        if done(h.state()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "gave up waiting for: {what}; logs status {:?}",
        h.state().logs().status
    );
}

fn done(app: &App) -> bool {
    app.logs().status == LogsStatus::Done
}

fn rows(app: &App) -> usize {
    app.logs().rows.len()
}

/// The logs panel's filter box: the lowest text field (the list's filter is at the top).
fn filter_box<'h>(h: &'h Harness<'static, App>) -> egui_kittest::Node<'h> {
    h.query_all_by_role(Role::TextInput)
        .max_by(|a, b| a.rect().top().total_cmp(&b.rect().top()))
        .expect("the log filter box")
}

/// Empties the filter box as a person would (select all, delete) and applies it.
fn clear_filter(h: &mut Harness<'static, App>) {
    filter_box(h).click();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.key_press(egui::Key::Backspace);
    h.run_steps(1);
}

/// Clicks the requests graph at `x`, low in the plot (clear of the legend at its top
/// right), and returns the moment the logs panel then reads around.
fn click_graph(h: &mut Harness<'static, App>, x: f32) -> f64 {
    let before = h.state().logs().around;
    let title = h.get_by_label("Requests per minute").rect();
    let pos = egui::pos2(x, title.bottom() + 92.0);
    h.event(egui::Event::PointerMoved(pos));
    h.run_steps(1);
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::default(),
        });
        h.run_steps(1);
    }
    step_until(h, "the logs around the clicked time", |a| {
        done(a) && a.logs().around.is_some() && a.logs().around != before
    });
    h.state().logs().around.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_logs_panel_reads_filters_jumps_to_a_moment_and_follows() {
    let emu = emulator(Seed::Demo).await;
    let b = backend(&emu).await;
    let mut h = harness(&emu, b);
    step_until(&mut h, "qa's app log", |a| done(a) && rows(a) > 0);
    let all = rows(h.state());
    let newest = h.state().logs().rows.last().map(LogRow::time).unwrap();

    // A filter reads again: fewer lines, all matching.
    h.run_steps(2);
    filter_box(&h).click();
    h.run_steps(1);
    filter_box(&h).type_text("Booting worker");
    h.run_steps(1);
    h.get_by_label("Apply").click();
    step_until(&mut h, "the filtered lines", |a| done(a) && rows(a) < all);
    assert!(rows(h.state()) > 0);
    assert!(h.state().logs().rows.iter().all(|r| match r {
        LogRow::Line(l) => l.message.contains("Booting worker"),
        LogRow::Mark(_) => false,
    }));
    clear_filter(&mut h);

    // An event's time in the timeline: the logs around it, the nearest line selected and
    // its time marked on the graphs.
    let link = h
        .query_all_by_role(Role::Link)
        .find(|n| {
            let label = n.accesskit_node().label().unwrap_or_default();
            label.len() == 5 && label.as_bytes()[2] == b':'
        })
        .expect("an event's time in the timeline");
    link.click();
    step_until(&mut h, "the logs around the event", |a| {
        done(a) && a.logs().around.is_some()
    });
    let around = h.state().logs().around.unwrap();
    assert_eq!(h.state().logs().applied_filter, "");
    if let Some(m) = h.state().logs().marker() {
        assert!((m - around).abs() <= 300.0, "{m} vs {around}");
    }

    // A click on the requests graph: the logs around that time. Two clicks map pixels
    // to times; a third lands on the newest line's minute, which has lines.
    let a1 = click_graph(&mut h, 700.0);
    let a2 = click_graph(&mut h, 1000.0);
    let now = emu.clock().now();
    for a in [a1, a2] {
        assert!(
            a > now - 86400.0 && a <= now,
            "{a} is in the graphs' day ending {now}"
        );
    }
    assert!(a2 > a1, "time grows to the right");
    let x = 700.0 + ((newest - 60.0 - a1) * 300.0 / (a2 - a1)) as f32;
    let clicked = click_graph(&mut h, x);
    assert!(
        (clicked - (newest - 60.0)).abs() < 600.0,
        "{clicked} near {newest}"
    );
    assert!(rows(h.state()) > 0, "qa's log has lines around {clicked}");
    let marker = h
        .state()
        .logs()
        .marker()
        .expect("the nearest line is selected");
    assert!((marker - clicked).abs() <= 300.0);

    // Follow: a request's access line appears without asking.
    h.get_by_label("Follow").click();
    step_until(&mut h, "following", |a| {
        matches!(a.logs().status, LogsStatus::Following(_))
    });
    let before = rows(h.state());
    let url = service_url(&clients(&emu).await, "scale0-qa").await;
    emu.advance(1.0);
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 200);
    step_until(&mut h, "the new access line", |a| rows(a) > before);
    emu.shutdown().await;
}
