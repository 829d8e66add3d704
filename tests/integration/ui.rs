//! The real app in an egui_kittest harness, on the emulator, on its advanced clock: select
//! an environment, wake its database, deploy a tag and watch it finish, refuse an action
//! that can't run, run a short burst. Controls are found by their AccessKit labels.

use crate::backend::backend;
use crate::common::*;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use scale0::emulator::{Emulator, Seed};
use scale0::ui::worker::Worker;
use scale0::ui::{App, Settings};
use std::time::{Duration, Instant};

pub fn harness(emu: &Emulator, b: scale0::backend::aws::AwsBackend) -> Harness<'static, App> {
    let worker = Worker::with_backend(
        &tokio::runtime::Handle::current(),
        b,
        format!("demo region at {}", emu.endpoint_url()),
        |_| {},
    );
    let app = App::new(worker, Settings::default());
    Harness::builder()
        .with_size(egui::vec2(1400.0, 2400.0))
        .build_ui_state(|ui, app: &mut App| app.show(ui), app)
}

/// Steps the UI until `done` holds, advancing the emulator's clock by `advance` emulated
/// seconds per round. Bounded in rounds and real time.
pub fn step_until(
    h: &mut Harness<'static, App>,
    emu: &Emulator,
    advance: f64,
    what: &str,
    done: impl Fn(&Harness<'static, App>) -> bool,
) {
    let started = Instant::now();
    for _ in 0..600 {
        h.step();
        if done(h) {
            return;
        }
        if advance > 0.0 {
            emu.advance(advance);
        }
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for: {what}"
        );
    }
    let notes: Vec<&str> = h
        .state()
        .notifications
        .iter()
        .map(|n| n.text.as_str())
        .collect();
    panic!("gave up waiting for: {what}; notifications: {notes:#?}");
}

pub fn has_label(h: &Harness<'static, App>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_wake_deploy_refuse_and_burst() {
    let emu = emulator(Seed::Demo).await;
    let b = backend(&emu).await;
    let mut h = harness(&emu, b);
    step_until(&mut h, &emu, 0.0, "the environment list", |h| {
        has_label(h, "dave")
    });
    assert!(has_label(&h, "demo region"), "the demo marker is visible");

    // Select dave: its database is paused. Let the first answers settle the layout.
    h.run_steps(4);
    h.get_by_label("dave").click();
    step_until(&mut h, &emu, 0.0, "dave's details", |h| {
        h.state().settings.selected.as_deref() == Some("us-east-1/dave")
            && has_label(h, "db paused")
    });

    // A refused action: dave's database can't be "woken" by Resume (service running).
    let resume = h.get_by_label("Resume service");
    assert!(
        resume.accesskit_node().is_disabled(),
        "Resume is disabled while the service runs"
    );

    // Wake the database and see the state change, once dave's figures have arrived (the
    // layout stays put from then on).
    step_until(&mut h, &emu, 0.0, "dave's cost and graphs", |h| {
        has_label(h, "Requests per minute")
            && h.query_all_by_label_contains("/month at").next().is_some()
    });
    h.run_steps(2);
    h.get_by_label("Wake database").click();
    step_until(&mut h, &emu, 5.0, "the wake to finish", |h| {
        h.state()
            .notifications
            .iter()
            .any(|n| n.text.contains("Wake database done"))
    });
    step_until(&mut h, &emu, 5.0, "dave's database awake", |h| {
        has_label(h, "db awake")
    });

    // Deploy a tag from the image picker, confirm, and see the operation progress and finish.
    h.get_by_label("image").click();
    h.run_steps(2);
    h.get_by_label_contains("v1.5.1").click();
    h.run_steps(2);
    h.get_by_label("Deploy image").click();
    h.run_steps(2);
    h.get_by_label("Yes, go ahead").click();
    step_until(&mut h, &emu, 0.0, "the deployment to start", |h| {
        has_label(h, "app deploying")
    });
    step_until(&mut h, &emu, 10.0, "the deployment to finish", |h| {
        h.state()
            .notifications
            .iter()
            .any(|n| n.text.contains("Deploy :v1.5.1 done"))
    });

    // A short burst against dave's service, with its numbers shown.
    h.state_mut().set_burst(20, 1.0);
    let runs_dir = std::env::temp_dir().join(format!("scale0-ui-runs-{}", uuid::Uuid::new_v4()));
    h.state_mut().set_burst_runs_dir(Some(runs_dir.clone()));
    h.get_by_label("Start burst").click();
    h.run_steps(2);
    assert!(has_label(&h, "Stop burst"), "the burst is running");
    // The database paused again during the deploy: the burst's first requests wake it.
    step_until(&mut h, &emu, 5.0, "the burst to finish", |h| {
        h.state()
            .notifications
            .iter()
            .any(|n| n.text.starts_with("burst finished"))
    });
    let n = h
        .state()
        .notifications
        .iter()
        .find(|n| n.text.starts_with("burst finished"))
        .unwrap()
        .text
        .clone();
    assert!(
        n.contains("responses") && !n.starts_with("burst finished: 0 responses"),
        "{n}"
    );
    // The finished run is saved, listed, and ready to overlay.
    step_until(&mut h, &emu, 1.0, "the run to be saved and listed", |h| {
        !h.state().burst_runs().is_empty()
    });
    assert_eq!(std::fs::read_dir(&runs_dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&runs_dir).ok();
    emu.shutdown().await;
}

pub(crate) fn empty_config() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("scale0-ui-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&path, "").expect("an empty config file");
    path
}

/// The desktop app connected the way it connects for real (a target with an endpoint, the
/// server's clock from each answer's Date), to an emulator days ahead of and behind the
/// wall clock: the paused database is shown as paused, not unknown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_app_reads_the_servers_clock_days_ahead_and_behind() {
    let wall = scale0::clock::wall_now();
    for days in [-9.0, 9.0] {
        let start = (wall / 3600.0).floor() * 3600.0 + days * 86400.0;
        let emu = emulator_at(Seed::Demo, start).await;
        let target = scale0::backend::session::Target {
            endpoint_url: Some(emu.endpoint_url().to_string()),
            regions: vec!["us-east-1".into()],
            // No config file of the user's: an empty one of the test's own.
            config_path: Some(empty_config()),
            ..Default::default()
        };
        let worker = Worker::spawn(target, |_| {});
        let mut h = Harness::builder()
            .with_size(egui::vec2(1400.0, 2400.0))
            .build_ui_state(
                |ui, app: &mut App| app.show(ui),
                App::new(worker, Settings::default()),
            );
        step_until(&mut h, &emu, 0.0, "the environment list", |h| {
            has_label(h, "dave")
        });
        h.run_steps(4);
        h.get_by_label("dave").click();
        step_until(&mut h, &emu, 0.0, "dave's paused database", |h| {
            h.state().settings.selected.as_deref() == Some("us-east-1/dave")
                && has_label(h, "db paused")
        });
        assert!(
            (h.state().now() - start).abs() < 60.0,
            "{days} days: the app's present is the server's"
        );
        emu.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_service_with_a_newer_push_offers_resume_then_deploy() {
    let emu = emulator(Seed::Demo).await;
    let b = backend(&emu).await;
    let mut h = harness(&emu, b);
    step_until(&mut h, &emu, 0.0, "the environment list", |h| {
        has_label(h, "frank")
    });
    h.run_steps(4);
    // frank's service is paused and a newer :frank was pushed since.
    h.get_by_label("frank").click();
    step_until(&mut h, &emu, 0.0, "frank's offer", |h| {
        has_label(h, "Resume and deploy newer :frank")
    });
    assert!(has_label(&h, "Resume runs the image it last ran"));
    h.get_by_label("Resume and deploy newer :frank").click();
    h.run_steps(2);
    h.get_by_label("Yes, go ahead").click();
    step_until(&mut h, &emu, 10.0, "the resume and the deploy", |h| {
        h.state()
            .notifications
            .iter()
            .any(|n| n.text.contains("Deploy :frank") && n.text.contains("done"))
    });
    // Running, on the newer image: the offer is gone.
    step_until(&mut h, &emu, 5.0, "frank running the newer image", |h| {
        has_label(h, "app running") && !has_label(h, "Resume and deploy newer")
    });
}
