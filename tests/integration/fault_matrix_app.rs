//! The fault matrix for the desktop app: the real app (egui_kittest) against every injected
//! fault on every service (the CLI matrix's rows), in the world the CLI matrix uses. For
//! every cell: no panic, bounded time, the banner names the failure's kind, the list keeps
//! the environments (an unreadable part is "unknown", never absent), and a wake that needs
//! the failing part never says "done". Cells run concurrently; the matrix is printed.

use crate::backend::backend_with;
use crate::fault_matrix::{FAULTS, Fault, SERVICES, world};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use scale0::ui::worker::Worker;
use scale0::ui::{App, Settings};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one cell saw.
struct Seen {
    banner: Vec<String>,
    listed: bool,
    wake: String,
    seconds: f64,
}

/// The banner's words for a fault's kind (`FailureKind::label`).
fn kind_words(fault: Fault) -> &'static [&'static str] {
    match fault {
        Fault::Throttle => &["throttled"],
        Fault::ServerError => &["server error"],
        Fault::AccessDenied => &["access denied"],
        Fault::ExpiredToken => &["expired credentials"],
        // A stalled call ends at the call timeout.
        Fault::Stall => &["timed out"],
        Fault::Malformed => &["malformed answer", "server error"],
        Fault::Slow | Fault::None => &[],
    }
}

/// Whether waking the `wake` environment needs the faulted service.
fn wake_needs(service: Option<&str>) -> bool {
    matches!(service, None | Some("apprunner") | Some("rds"))
}

/// One cell: the app against a world with `fault` on `service`, a refresh, then a wake.
fn cell(runtime: tokio::runtime::Handle, service: Option<&'static str>, fault: Fault) -> Seen {
    let started = Instant::now();
    let (emu, backend) = runtime.block_on(async {
        let emu = world().await;
        let b = backend_with(
            &emu,
            scale0::backend::config::Config::default(),
            // As the CLI matrix: short where a call stalls, room for retries elsewhere.
            Some(Duration::from_secs(
                fault.call_timeout().parse().unwrap_or(10),
            )),
        )
        .await;
        if let Some(mut rule) = fault.rule() {
            if let Some(s) = service {
                rule["service"] = json!(s);
            }
            let (status, body) = crate::common::admin(&emu, "/_scale0/faults", rule).await;
            assert_eq!(status, 201, "{body}");
        }
        (emu, b)
    });
    let worker = Worker::with_backend(&runtime, backend, "fault matrix".into(), |_| {});
    let settings = Settings {
        selected: Some("us-east-1/wake".into()),
        ..Settings::default()
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 2400.0))
        .build_ui_state(|ui, app: &mut App| app.show(ui), App::new(worker, settings));
    let step = |h: &mut Harness<'_, App>| {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    };
    let bound = |what: &str| {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{service:?} {fault:?}: timed out waiting for {what}"
        );
    };
    // The first refresh's answer (or its failure) has arrived.
    while !h.state().inventory_seen() {
        step(&mut h);
        bound("the first refresh");
    }
    for _ in 0..10 {
        step(&mut h);
    }
    // Label nodes carry their text as the value.
    let text = |n: egui_kittest::Node<'_>| {
        let node = n.accesskit_node();
        node.value().or_else(|| node.label()).map(|t| t.to_string())
    };
    let banner: Vec<String> = h
        .query_all_by_label_contains("us-east-1: ")
        .chain(h.query_all_by_label_contains("refresh: "))
        .filter_map(text)
        .collect();
    let listed = h.query_all_by_label("sleep").next().is_some();
    // Wake (W) the paused `wake` environment, and wait for its outcome.
    h.key_press(egui::Key::W);
    let mut wake = String::new();
    while wake.is_empty() {
        step(&mut h);
        runtime.block_on(async { emu.advance(5.0) });
        wake = h
            .state()
            .notifications
            .iter()
            .map(|n| n.text.clone())
            .find(|t| {
                (t.starts_with("wake: Wake environment") && !t.ends_with("started"))
                    || t.starts_with("Wake environment: not now")
            })
            .unwrap_or_default();
        bound("the wake's outcome");
    }
    drop(h);
    runtime.block_on(emu.shutdown());
    Seen {
        banner,
        listed,
        wake,
        seconds: started.elapsed().as_secs_f64(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_app_against_every_fault_on_every_service() {
    // Not at the same time as the other heavy tests (the CLI matrix, the fuzz test): on two
    // cores their load would time out calls that no fault touches.
    let _heavy = crate::common::HEAVY.lock().await;
    let slots = Arc::new(tokio::sync::Semaphore::new(4));
    let mut tasks = Vec::new();
    let rows = SERVICES
        .iter()
        .flat_map(|(label, service)| FAULTS.iter().map(move |f| (*label, *service, *f)));
    for (label, service, fault) in rows {
        let slots = slots.clone();
        let runtime = tokio::runtime::Handle::current();
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire_owned().await.expect("semaphore open");
            let seen = tokio::task::spawn_blocking(move || cell(runtime, service, fault))
                .await
                .expect("the cell ran without a panic");
            (label, service, fault, seen)
        }));
    }
    let mut table = vec![format!(
        "{:<12} {:<12} {:>5}  {:<45} wake",
        "service", "fault", "s", "banner"
    )];
    let mut wrong = Vec::new();
    for task in tasks {
        let (label, service, fault, seen) = task.await.expect("cell task");
        let first = seen.banner.first().cloned().unwrap_or_else(|| "-".into());
        let cut: String = first.chars().take(45).collect();
        let wake: String = seen.wake.chars().take(60).collect();
        table.push(format!(
            "{label:<12} {:<12} {:>5.1}  {cut:<45} {wake}",
            format!("{fault:?}"),
            seen.seconds
        ));
        let words = kind_words(fault);
        let named = words.is_empty()
            || seen
                .banner
                .iter()
                .any(|b| words.iter().any(|w| b.contains(w)));
        if !named {
            wrong.push(format!(
                "{label} {fault:?}: the banner does not name it: {:?}",
                seen.banner
            ));
        }
        // Expired credentials stop every read, and a first refresh failing everywhere knows
        // nothing yet; otherwise the list keeps its environments.
        let nothing_known =
            fault == Fault::ExpiredToken || (service.is_none() && fault != Fault::Slow);
        if !seen.listed && !nothing_known {
            wrong.push(format!(
                "{label} {fault:?}: environments vanished from the list"
            ));
        }
        let claimed_done = seen.wake.contains("Wake environment done");
        if claimed_done && wake_needs(service) && !words.is_empty() {
            wrong.push(format!("{label} {fault:?}: false done: {}", seen.wake));
        }
    }
    println!("{}", table.join("\n"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
