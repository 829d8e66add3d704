//! Team scale (issue 20): the real app, loaded with environments read from the emulator
//! by the real backend and a week of 1-minute metrics, lays out only the list rows on
//! screen, rebuilds nothing for a frame in which nothing changed, keeps the graphs' y axis
//! at the data, and sleeps until time changes what it shows.

use crate::backend::backend;
use crate::common::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use scale0::backend::Inventory;
use scale0::clock::Clock;
use scale0::model::{EnvKey, EnvMetrics, Event, MetricSeries};
use scale0::ui::panels;
use scale0::ui::view::GraphsView;
use scale0::ui::worker::Worker;
use scale0::ui::{App, Settings};
use std::collections::HashMap;

const WEEK: f64 = 7.0 * 86400.0;

/// `count` environments (owners dev0..dev4) as the backend reads them, and the present.
async fn team(count: usize) -> (Inventory, f64) {
    let specs: Vec<_> = (0..count)
        .map(|i| {
            let mut spec = env(&format!("dev{i:02}"));
            spec.owner = Some(format!("owner{}", i % 5));
            spec
        })
        .collect();
    let emu = emulator_with(&specs).await;
    let inventory = backend(&emu).await.inventory().await.expect("inventory");
    assert_eq!(inventory.environments.len(), count);
    let now = emu.clock().now();
    emu.shutdown().await;
    (inventory, now)
}

fn series(now: f64, span: f64, f: impl Fn(usize) -> f64) -> MetricSeries {
    let n = (span / 60.0) as usize;
    MetricSeries {
        points: (0..n)
            .map(|i| (now - span + i as f64 * 60.0, f(i)))
            .collect(),
    }
}

/// A week of 1-minute points in every graph of every environment.
fn week(inventory: &Inventory, now: f64) -> HashMap<EnvKey, EnvMetrics> {
    let wave = |i: usize| ((i as f64 / 37.0).sin() + 1.0) * 50.0;
    inventory
        .environments
        .iter()
        .map(|e| {
            let m = EnvMetrics {
                requests: series(now, WEEK, wave),
                status_2xx: series(now, WEEK, wave),
                status_5xx: series(now, WEEK, |i| if i % 997 == 0 { 40.0 } else { 0.0 }),
                latency_p50: series(now, WEEK, wave),
                capacity: series(now, WEEK, |i| wave(i) / 50.0),
                connections: series(now, WEEK, wave),
                ..EnvMetrics::default()
            };
            (e.key.clone(), m)
        })
        .collect()
}

fn loaded_app(inventory: Inventory, now: f64) -> App {
    let metrics = week(&inventory, now);
    let mut app = App::new(
        Worker::detached(Clock::starting_at(now, 0.0)),
        Settings {
            window_seconds: WEEK,
            ..Settings::default()
        },
    );
    app.load(inventory, metrics, "test");
    app
}

fn names_laid_out(h: &Harness<'_, App>, count: usize) -> usize {
    (0..count)
        .filter(|i| h.query_all_by_label(&format!("dev{i:02}")).next().is_some())
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_lays_out_only_rows_on_screen_and_an_unchanged_frame_rebuilds_nothing() {
    const COUNT: usize = 60;
    let (inventory, now) = team(COUNT).await;
    let app = loaded_app(inventory, now);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1000.0))
        .build_ui_state(|ui, app: &mut App| app.show(ui), app);
    h.run_steps(3);

    // 60 environments and their owners' headings are 70 rows of 42 points: about 20 fit.
    let shown = names_laid_out(&h, COUNT);
    assert!((5..30).contains(&shown), "{shown} of {COUNT} rows laid out");
    let first = h.query_all_by_label("dev00").count();
    assert_eq!(
        first, 2,
        "the first row and the selected environment's heading"
    );

    // Frames with nothing new (the mouse moving) reuse the rows and the reduced graphs.
    let builds = h.state().list_builds();
    let reductions = panels::graphs::reductions(&h.ctx);
    assert!(reductions >= 1, "the graphs were drawn");
    for i in 0..20 {
        h.hover_at(egui::pos2(700.0 + i as f32 * 10.0, 500.0));
        h.step();
    }
    assert_eq!(
        h.state().list_builds(),
        builds,
        "list rows rebuilt without a change"
    );
    assert_eq!(
        panels::graphs::reductions(&h.ctx),
        reductions,
        "graphs reduced again without a change"
    );

    // A new width reduces the graphs again, once.
    h.set_size(egui::vec2(1200.0, 1000.0));
    h.run_steps(3);
    assert_eq!(panels::graphs::reductions(&h.ctx), reductions + 1);

    // Selecting another environment is a change: the rows are built again.
    h.get_all_by_label("dev05")
        .next()
        .expect("dev05's row")
        .click();
    h.run_steps(2);
    assert!(h.state().list_builds() > builds);
    assert_eq!(
        h.state().settings.selected.as_deref(),
        Some("us-east-1/dev05")
    );
}

#[test]
fn event_labels_do_not_lift_the_y_axis_of_near_zero_data() {
    let now = 1_795_428_000.0;
    let near_zero = series(now, 3600.0, |i| if i % 10 == 0 { 1.0 } else { 0.0 });
    let m = EnvMetrics {
        requests: near_zero.clone(),
        status_2xx: near_zero,
        ..EnvMetrics::default()
    };
    let events: Vec<Event> = (0..4)
        .map(|i| Event {
            time: now - 3000.0 + i as f64 * 700.0,
            source: "service",
            message: "PAUSE_SERVICE SUCCEEDED".into(),
        })
        .collect();
    let view = GraphsView {
        metrics: Some(&m),
        revision: 1,
        start: now - 3600.0,
        end: now,
        window: 3600.0,
        events: &events,
        burst: Vec::new(),
        max_connections: None,
        error: None,
        marker: None,
        upcoming: Vec::new(),
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1000.0, 900.0))
        .build_ui(|ui| {
            panels::graphs::show(ui, &view);
        });
    // Each frame used to raise the top by the plot's margin: 200 frames went past 10,000.
    h.run_steps(200);
    let id = panels::graphs::graph_id("Requests per minute");
    let memory = egui_plot::PlotMemory::load(&h.ctx, id).expect("the plot was drawn");
    let top = memory.bounds().max()[1];
    assert!(
        (1.0..2.0).contains(&top),
        "y axis top {top} for data whose maximum is 1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_window_sleeps_until_time_changes_what_it_shows() {
    let (mut inventory, now) = team(3).await;
    let ctx = egui::Context::default();
    // Input time moves half a second a frame, so egui's own animations (a scroll bar
    // fading in) finish as they do in a window.
    let frames = std::cell::Cell::new(0.0);
    let input = || {
        frames.set(frames.get() + 0.5);
        egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1400.0, 1000.0),
            )),
            time: Some(frames.get()),
            ..Default::default()
        }
    };
    let repaint_delay = |app: &mut App| {
        let mut delay = std::time::Duration::ZERO;
        // Layout settles in a few passes; the last one says how long the window may sleep.
        for _ in 0..5 {
            let mut output = ctx.run_ui(input(), |ui| app.show(ui));
            output.textures_delta.clear();
            delay = output.viewport_output[&egui::ViewportId::ROOT].repaint_delay;
        }
        delay
    };
    // Nothing counting down: no database about to auto-pause.
    let mut quiet = inventory.clone();
    for e in &mut quiet.environments {
        if let Some(db) = e.database.as_mut() {
            db.auto_pause_at = None;
        }
    }
    let mut idle = loaded_app(quiet, now);
    let delay = repaint_delay(&mut idle);
    assert!(
        delay >= std::time::Duration::from_secs(5),
        "idle, just refreshed: next frame in {delay:?}"
    );

    // A database that auto-pauses within the minute: its countdown ticks by the second.
    let db = inventory.environments[0]
        .database
        .as_mut()
        .expect("a database");
    db.auto_pause_at = Some(now + 30.0);
    let mut counting = loaded_app(inventory, now);
    let delay = repaint_delay(&mut counting);
    assert!(
        delay <= std::time::Duration::from_secs(1),
        "countdown on screen: next frame in {delay:?}"
    );
}

/// An empty emulator serving `region`, on the shared frozen clock's start.
async fn region_emulator(region: &str, names: &[&str]) -> scale0::emulator::Emulator {
    let emu = scale0::emulator::Emulator::start(scale0::emulator::Options {
        port: 0,
        speed: 0.0,
        seed: scale0::emulator::Seed::Empty,
        region: region.into(),
        start_time: Some(t0()),
    })
    .await
    .expect("emulator starts");
    for name in names {
        emu.add_environment(env(name)).await.expect("environment");
    }
    emu
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_shows_each_region_as_soon_as_it_answers() {
    let east = region_emulator("us-east-1", &["east-a", "east-b"]).await;
    let west = region_emulator("eu-west-1", &["west-a"]).await;
    let slow = region_emulator("ap-southeast-2", &["sydney-a"]).await;
    // Every call to the third region takes a second.
    let (status, _) = admin(
        &slow,
        "/_scale0/faults",
        serde_json::json!({"kind": "latency", "ms": 1000}),
    )
    .await;
    assert!((200..300).contains(&status), "fault added: {status}");
    let endpoints = [
        (&east, "us-east-1"),
        (&west, "eu-west-1"),
        (&slow, "ap-southeast-2"),
    ];
    let backend = scale0::backend::aws::AwsBackend::connect(
        scale0::backend::aws::ConnectOptions {
            regions: endpoints.iter().map(|(_, r)| r.to_string()).collect(),
            region_endpoints: endpoints
                .iter()
                .map(|(emu, r)| (r.to_string(), emu.endpoint_url().to_string()))
                .collect(),
            demo_credentials: true,
            ..Default::default()
        },
        scale0::backend::config::Config::default(),
        scale0::backend::server_clock::TimeSource::Shared(east.clock().clone()),
    )
    .await
    .expect("backend connects");
    let worker = Worker::with_backend(
        &tokio::runtime::Handle::current(),
        backend,
        "three regions".into(),
        |_| {},
    );
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1000.0))
        .build_ui_state(
            |ui, app: &mut App| app.show(ui),
            App::new(worker, Settings::default()),
        );
    let shown = |h: &Harness<'_, App>, name: &str| h.query_all_by_label(name).next().is_some();
    let started = std::time::Instant::now();
    let mut partial_seen = false;
    while !shown(&h, "sydney-a") {
        h.step();
        if shown(&h, "east-a") && shown(&h, "west-a") && !shown(&h, "sydney-a") {
            partial_seen = true;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the slow region never appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        partial_seen,
        "the answering regions were listed before the slow one"
    );
    assert!(shown(&h, "east-b"));
    for emu in [east, west, slow] {
        emu.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_that_changes_nothing_does_not_wake_the_window() {
    use scale0::ui::worker::{Command, Event, FOLD_ANSWERS_WITHIN};
    let emu = region_emulator("us-east-1", &["steady"]).await;
    let backend = scale0::backend::aws::AwsBackend::connect(
        scale0::backend::aws::ConnectOptions {
            regions: vec!["us-east-1".into()],
            region_endpoints: [("us-east-1".to_string(), emu.endpoint_url().to_string())]
                .into_iter()
                .collect(),
            demo_credentials: true,
            ..Default::default()
        },
        scale0::backend::config::Config::default(),
        scale0::backend::server_clock::TimeSource::Shared(emu.clock().clone()),
    )
    .await
    .expect("backend connects");
    let wakes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = wakes.clone();
    let worker = Worker::with_backend(
        &tokio::runtime::Handle::current(),
        backend,
        "one region".into(),
        move |within| seen.lock().expect("wakes").push(within),
    );
    // One refresh to the end; the wakes it asked for.
    let refresh = || {
        wakes.lock().expect("wakes").clear();
        worker.send(Command::Refresh);
        let started = std::time::Instant::now();
        let mut names = Vec::new();
        loop {
            match worker.try_recv() {
                Some(Event::Inventory { result, .. }) => {
                    names = result
                        .expect("inventory")
                        .environments
                        .into_iter()
                        .map(|e| e.key.name)
                        .collect();
                }
                // The refresh's last answer: the failed schedule targets.
                Some(Event::ScheduleFailures { .. }) => {
                    return (names, wakes.lock().expect("wakes").clone());
                }
                Some(_) => {}
                None => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "no inventory"
            );
        }
    };
    let (names, first) = refresh();
    assert_eq!(names, ["steady"]);
    assert!(
        !first.is_empty() && first.iter().all(|w| *w <= FOLD_ANSWERS_WITHIN),
        "the first answer wakes the window, folded: {first:?}"
    );
    // The clock is frozen and nothing changed: the same answer, queued without a wake.
    let (_, same) = refresh();
    assert!(
        same.is_empty(),
        "an unchanged answer woke the window: {same:?}"
    );
    // Something new in the region: that answer wakes it again.
    emu.add_environment(env("newcomer"))
        .await
        .expect("environment");
    let (names, changed) = refresh();
    assert!(names.contains(&"newcomer".to_string()), "{names:?}");
    assert!(
        !changed.is_empty(),
        "a changed answer did not wake the window"
    );
    // Asking for what the window no longer holds wakes it even for an equal answer.
    worker.send(Command::ExpectNew);
    let (_, asked) = refresh();
    assert!(
        !asked.is_empty(),
        "an answer after ExpectNew did not wake the window"
    );
    emu.shutdown().await;
}

#[test]
fn planned_actions_within_a_quarter_of_the_window_stretch_the_time_axis() {
    use scale0::model::plan::{PlanRead, PlannedSchedule};
    let now = 1_795_428_000.0;
    let planned = |name: &str, kind: &str, next: f64, enabled: bool| PlannedSchedule {
        name: name.into(),
        env: "dave".into(),
        kind: kind.into(),
        part: "service".into(),
        expression: "cron(0 19 ? * MON-FRI *)".into(),
        timezone: "UTC".into(),
        enabled,
        next: Some(next),
        action: "apprunner:pauseService".into(),
    };
    let plan = PlanRead {
        read_at: now,
        why: Err("not read".into()),
        schedules: Ok(vec![
            planned("sleep-dave", "sleep", now + 600.0, true),
            planned("keep-dave", "keep-awake", now + 300.0, true),
            // Past the horizon (a quarter of an hour's window), and a disabled one.
            planned("wake-dave", "wake", now + 3000.0, true),
            planned("off-dave", "sleep", now + 120.0, false),
        ]),
        month_so_far: Ok(0.0),
    };
    let upcoming = scale0::ui::view::upcoming_actions(Some(&plan), now, 3600.0);
    assert_eq!(
        upcoming,
        vec![
            (now + 300.0, "keep-awake ends (service)".to_string()),
            (now + 600.0, "sleep (service)".to_string()),
        ]
    );
    let m = EnvMetrics {
        requests: series(now, 3600.0, |_| 5.0),
        ..EnvMetrics::default()
    };
    let right_edge = |upcoming: Vec<(f64, String)>| {
        let view = GraphsView {
            metrics: Some(&m),
            revision: 1,
            start: now - 3600.0,
            end: now,
            window: 3600.0,
            events: &[],
            burst: Vec::new(),
            max_connections: None,
            error: None,
            marker: None,
            upcoming,
        };
        let mut h = Harness::builder()
            .with_size(egui::vec2(1000.0, 900.0))
            .build_ui(|ui| {
                panels::graphs::show(ui, &view);
            });
        h.run_steps(5);
        let id = panels::graphs::graph_id("Requests per minute");
        egui_plot::PlotMemory::load(&h.ctx, id)
            .expect("the plot was drawn")
            .bounds()
            .max()[0]
    };
    let plain = right_edge(Vec::new());
    let stretched = right_edge(upcoming);
    assert!(
        plain < now + 300.0,
        "without a plan the axis ends at now: {}",
        plain - now
    );
    assert!(
        stretched >= now + 600.0,
        "the axis reaches the last planned action: {}",
        stretched - now
    );
}
