//! Keep-awake, sleep schedules and `why` through scale0's backend and CLI against the
//! emulator, with its clock advanced past expiries and schedule times and scale0 gone
//! (the schedules act on their own); the AWS CLI sees what scale0 created.

use crate::backend::backend;
use crate::common::*;
use crate::emulator_cli::aws;
use scale0::backend::BackendError;
use scale0::backend::aws::AwsBackend;
use scale0::emulator::seed::{ClusterSpec, EnvSpec, ServiceSpec};
use scale0::emulator::world::cluster::{DbMode, Power};
use scale0::emulator::{Emulator, Seed};
use scale0::model::Environment;
use scale0::model::blockers::Finding;
use scale0::model::plan::{self, SleepWindow};

const ROLE: &str = "arn:aws:iam::123456789012:role/scale0-scheduler";

fn paused_service(name: &str) -> EnvSpec {
    let mut e = env(name);
    e.service = Some(ServiceSpec {
        paused: true,
        ..ServiceSpec::default()
    });
    e
}

async fn with_role(envs: &[EnvSpec]) -> Emulator {
    let emu = emulator_with(envs).await;
    emu.with_world(|w, _| {
        w.scheduler.roles.insert(ROLE.into());
    });
    emu
}

async fn fresh(b: &AwsBackend, name: &str) -> Environment {
    let inv = b.inventory().await.expect("inventory");
    inv.resolve(name).expect("environment").clone()
}

fn min_capacity(emu: &Emulator, id: &str) -> f64 {
    emu.with_world(|w, _| match w.clusters[w.cluster_index(id).unwrap()].mode {
        DbMode::ServerlessV2 { min, .. } => min,
        _ => f64::NAN,
    })
}

fn status(emu: &Emulator, name: &str) -> String {
    emu.with_world(|w, _| {
        w.services[w.service_index(name).unwrap()]
            .status
            .as_aws()
            .to_string()
    })
}

#[tokio::test]
async fn keep_awake_holds_both_and_the_scheduler_puts_them_back_with_scale0_gone() {
    let emu = with_role(&[paused_service("dave")]).await;
    let b = backend(&emu).await;
    let env = fresh(&b, "dave").await;
    let until = t0() + 2.0 * 3600.0;
    let report = b.keep_awake(&env, until, "dave").await.expect("kept awake");
    assert!(report.steps.len() >= 4, "{report:?}");
    assert_eq!(min_capacity(&emu, "scale0dave"), 0.5);
    // Every teammate's scale0 reads it from the tags.
    let env = fresh(&b, "dave").await;
    assert_eq!(
        plan::keep_awake(&env),
        Some(plan::KeepAwake {
            until,
            by: "dave".into()
        })
    );
    // The AWS CLI sees what scale0 created.
    // (On a blocking thread: the emulator answers on this test's runtime.)
    let endpoint = emu.endpoint_url().to_string();
    let (code, listed, stderr) = tokio::task::spawn_blocking(move || {
        aws(
            &endpoint,
            &["scheduler", "list-schedules", "--group-name", "scale0"],
        )
    })
    .await
    .expect("aws runs");
    assert_eq!(code, 0, "{stderr}");
    let mut names: Vec<&str> = listed["Schedules"]
        .as_array()
        .expect("schedules")
        .iter()
        .filter_map(|s| s["Name"].as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["keep-awake-dave-db", "keep-awake-dave-service"]);
    // scale0 is gone; time passes.
    drop(b);
    emu.advance(600.0);
    assert_eq!(
        status(&emu, "scale0-dave"),
        "RUNNING",
        "resumed for the demo"
    );
    emu.advance(2.0 * 3600.0 - 600.0 + 60.0);
    assert_eq!(min_capacity(&emu, "scale0dave"), 0.0, "auto-pause restored");
    assert_ne!(status(&emu, "scale0-dave"), "RUNNING", "pausing again");
    emu.advance(1800.0);
    assert_eq!(status(&emu, "scale0-dave"), "PAUSED");
    let power = emu.with_world(|w, _| w.clusters[0].power);
    assert!(matches!(power, Power::Paused { .. }), "{power:?}");
    let failures = emu.with_world(|w, _| {
        w.scheduler
            .invocations
            .iter()
            .filter(|i| i.error.is_some())
            .count()
    });
    assert_eq!(failures, 0);
}

#[tokio::test]
async fn extending_replaces_the_schedule_and_cancelling_restores_now() {
    let emu = with_role(&[env("erin")]).await;
    let b = backend(&emu).await;
    let env = fresh(&b, "erin").await;
    b.keep_awake(&env, t0() + 3600.0, "erin")
        .await
        .expect("first");
    // Extending reads the raised MinCapacity now, but keeps restoring to 0.
    let env = fresh(&b, "erin").await;
    b.keep_awake(&env, t0() + 3.0 * 3600.0, "frank")
        .await
        .expect("extended");
    let env = fresh(&b, "erin").await;
    assert_eq!(plan::keep_awake(&env).map(|k| k.by), Some("frank".into()));
    let schedules = b
        .schedules_in("us-east-1", Some("erin"))
        .await
        .expect("schedules");
    assert_eq!(schedules.len(), 1, "{schedules:?}");
    assert_eq!(schedules[0].next, Some(t0() + 3.0 * 3600.0));
    emu.advance(2.0 * 3600.0);
    assert_eq!(
        min_capacity(&emu, "scale0erin"),
        0.5,
        "not at the old expiry"
    );
    let env = fresh(&b, "erin").await;
    b.cancel_keep_awake(&env).await.expect("cancelled");
    assert_eq!(min_capacity(&emu, "scale0erin"), 0.0, "restored at once");
    let env = fresh(&b, "erin").await;
    assert_eq!(plan::keep_awake(&env), None);
    assert!(
        b.schedules_in("us-east-1", Some("erin"))
            .await
            .unwrap()
            .is_empty()
    );
    // Nothing left to cancel: the action table says so and the CLI succeeds.
    let r = scale0::actions::run(&b, &env, &scale0::actions::Action::CancelKeepAwake, None)
        .await
        .expect("already done");
    assert!(r.steps[0].what.starts_with("nothing to do"), "{r:?}");
}

#[tokio::test]
async fn bad_input_is_refused_and_a_failed_second_call_undoes_the_first() {
    // No scheduler role in this account.
    let emu = emulator_with(&[env("gus"), env_with_cluster("old", ClusterSpec::v1())]).await;
    let b = backend(&emu).await;
    let env = fresh(&b, "gus").await;
    let past = b.keep_awake(&env, t0() - 60.0, "gus").await.unwrap_err();
    assert!(
        matches!(past, BackendError::InvalidInput(ref m) if m.contains("in the past")),
        "{past}"
    );
    let e = b.keep_awake(&env, t0() + 3600.0, "gus").await.unwrap_err();
    let BackendError::InvalidInput(message) = &e else {
        panic!("{e:?}")
    };
    assert!(
        message.contains("scheduler.amazonaws.com"),
        "the trust policy is shown: {message}"
    );
    assert!(message.contains("rds:ModifyDBCluster"), "{message}");
    assert!(message.contains("nothing is left half-done"), "{message}");
    // The MinCapacity raise was undone, no schedule and no tag remain.
    assert_eq!(min_capacity(&emu, "scale0gus"), 0.0);
    assert!(emu.with_world(|w, _| w.scheduler.schedules.is_empty()));
    assert_eq!(plan::keep_awake(&fresh(&b, "gus").await), None);
    // A v1 cluster can't be stopped, so no stop-again schedule for it.
    let old = fresh(&b, "old").await;
    let e = b.stop_after_restart(&old).await.unwrap_err();
    assert!(matches!(e, BackendError::Refused(_)), "{e:?}");
    // Time zones that do not exist, windows that end before they start.
    assert!(SleepWindow::parse("08:00-19:00", "MON-FRI", "Europe/Atlantis").is_err());
    assert!(SleepWindow::parse("19:00-08:00", "MON-FRI", "UTC").is_err());
}

#[tokio::test]
async fn a_sleep_window_pauses_on_time_refuses_overlap_and_yields_to_a_keep_awake() {
    let emu = with_role(&[env("hana")]).await;
    let start = crate::common::next_monday_10_utc(t0());
    emu.advance(start - t0());
    let b = backend(&emu).await;
    let env = fresh(&b, "hana").await;
    let window = SleepWindow::parse("08:00-19:00", "MON-FRI", "Europe/Berlin").unwrap();
    b.set_sleep_window(&env, &window, false)
        .await
        .expect("window");
    let again = b.set_sleep_window(&env, &window, false).await.unwrap_err();
    assert!(
        matches!(again, BackendError::InvalidInput(ref m) if m.contains("overlap")),
        "{again}"
    );
    // Monday 11:00 in Berlin. A keep-awake until 20:00 Berlin (19:00 UTC) wins over the
    // 19:00 sleep, and the environment sleeps at its expiry.
    let env = fresh(&b, "hana").await;
    b.keep_awake(&env, start + 9.0 * 3600.0, "hana")
        .await
        .expect("kept");
    drop(b);
    emu.advance(8.0 * 3600.0 + 5.0 * 60.0); // 19:05 Berlin
    assert_eq!(
        status(&emu, "scale0-hana"),
        "RUNNING",
        "the keep-awake wins"
    );
    emu.advance(3600.0); // 20:05 Berlin
    assert_ne!(
        status(&emu, "scale0-hana"),
        "RUNNING",
        "asleep after the keep-awake"
    );
    // Tuesday 08:00 Berlin it wakes, 19:00 it sleeps again: the window is back.
    emu.advance(12.0 * 3600.0 + 10.0 * 60.0); // Tue 08:15 Berlin
    assert_eq!(status(&emu, "scale0-hana"), "RUNNING");
    emu.advance(11.0 * 3600.0); // Tue 19:15 Berlin
    assert_ne!(status(&emu, "scale0-hana"), "RUNNING");
    let failures: Vec<String> = emu.with_world(|w, _| {
        w.scheduler
            .invocations
            .iter()
            .filter_map(|i| i.error.as_ref().map(|e| format!("{}: {e:?}", i.schedule)))
            .collect()
    });
    assert!(failures.is_empty(), "{failures:?}");
}

#[tokio::test]
async fn why_names_the_demo_blockers_without_waking_a_paused_database() {
    let emu = emulator(Seed::Demo).await;
    let b = backend(&emu).await;
    let inv = b.inventory().await.expect("inventory");
    let reporting = inv.resolve("reporting").unwrap();
    let why = b.why(reporting).await.expect("why");
    let blocks = |f: &[Finding]| -> Vec<String> {
        f.iter()
            .filter_map(|f| match f {
                Finding::Blocks { what, .. } => Some(what.clone()),
                _ => None,
            })
            .collect()
    };
    let db = blocks(&why.database);
    for expected in [
        "provisioned db.t4g.medium",
        "RDS Proxy reporting-proxy",
        "logical replication",
        "global database reporting-global",
        "zero-ETL integration reporting-to-redshift",
    ] {
        assert!(
            db.iter().any(|w| w.contains(expected)),
            "{expected} in {db:?}"
        );
    }
    assert!(
        why.database
            .iter()
            .all(|f| !matches!(f, Finding::Unknown { .. })),
        "{:?}",
        why.database
    );
    // A global database's member can't be stopped: no sleep window that stops it.
    let window = SleepWindow::parse("08:00-19:00", "MON-FRI", "UTC").unwrap();
    let e = b
        .set_sleep_window(reporting, &window, false)
        .await
        .unwrap_err();
    assert!(
        matches!(e, BackendError::Refused(ref m) if m.contains("global")),
        "{e:?}"
    );
    // dave's database is paused: asking why wakes nothing.
    let dave = inv.resolve("dave").unwrap();
    let before = emu.with_world(|w, _| w.clusters[w.cluster_index("scale0dave").unwrap()].power);
    assert!(matches!(before, Power::Paused { .. }));
    let why = b.why(dave).await.expect("why dave");
    assert_eq!(
        why.blockers(),
        1,
        "only the missing sleep schedule: {why:?}"
    );
    emu.advance(120.0);
    let after = emu.with_world(|w, _| w.clusters[w.cluster_index("scale0dave").unwrap()].power);
    assert_eq!(after, before);
    // frank's stopped cluster: AWS's automatic start is shown.
    let frank = b
        .why(inv.resolve("frank").unwrap())
        .await
        .expect("why frank");
    assert!(frank.automatic_restart.is_some_and(|t| t > t0()));
}

#[tokio::test]
async fn the_cli_keeps_awake_lists_schedules_and_says_why() {
    use crate::cli::{isolated_home, scale0};
    let emu = emulator(Seed::Demo).await;
    let home = isolated_home();
    let e = emu.endpoint_url().to_string();
    let run = |args: &[&str]| {
        let mut all = vec!["--endpoint-url", e.as_str(), "--region", "us-east-1"];
        all.extend(args);
        let all: Vec<String> = all.into_iter().map(str::to_string).collect();
        let home = home.clone();
        async move {
            scale0(
                &all.iter().map(String::as_str).collect::<Vec<_>>(),
                &[],
                &home,
            )
            .await
        }
    };
    let kept = run(&["keep-awake", "dave", "--for", "2h", "--by", "dave"]).await;
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    assert!(
        kept.stdout.contains("kept awake by dave until"),
        "{}",
        kept.stdout
    );
    // Every teammate's `scale0 envs` shows it.
    let envs = run(&["envs"]).await;
    let dave = envs
        .stdout
        .lines()
        .find(|l| l.starts_with("dave"))
        .unwrap_or_default();
    assert!(dave.contains("kept awake by dave"), "{}", envs.stdout);
    let listed = run(&["schedules"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(
        listed.stdout.contains("keep-awake-dave-db"),
        "{}",
        listed.stdout
    );
    let window = [
        "schedules",
        "carol",
        "--awake",
        "08:00-19:00",
        "--days",
        "MON-FRI",
        "--tz",
        "Europe/Berlin",
    ];
    let set = run(&window).await;
    assert_eq!(set.code, 0, "{}", set.stderr);
    let overlap = run(&window).await;
    assert_eq!(overlap.code, 2, "overlap is bad input: {}", overlap.stderr);
    let json = run(&["--json", "schedules", "carol"]).await.json();
    let names: Vec<&str> = json["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "sleep and wake of the service: {names:?}");
    let cost = json["cost"].as_str().unwrap_or_default();
    assert!(cost.contains("the window saves $"), "{json}");
    // This month so far comes first, read from hourly metrics: a figure, not "unknown".
    let so_far = cost
        .strip_prefix("this month so far $")
        .and_then(|rest| rest.split(';').next())
        .and_then(|n| n.parse::<f64>().ok());
    assert!(so_far.is_some_and(|d| d >= 0.0), "{cost}");
    // All of an owner's environments at once: one line per environment.
    let nobody = run(&[
        "schedules",
        "--owner",
        "nobody",
        "--awake",
        "08:00-19:00",
        "--tz",
        "UTC",
    ])
    .await;
    assert_eq!(nobody.code, 2, "{}", nobody.stderr);
    assert!(
        nobody.stderr.contains("owners: bob, carol"),
        "{}",
        nobody.stderr
    );
    let bobs = run(&[
        "schedules",
        "--owner",
        "bob",
        "--awake",
        "07:00-20:00",
        "--tz",
        "Europe/Berlin",
    ])
    .await;
    // Both kinds get the window: qa (App Runner) and qa2 (ECS Express).
    assert_eq!(bobs.code, 0, "{}\n{}", bobs.stdout, bobs.stderr);
    for name in ["qa", "qa2"] {
        let line = bobs
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_default();
        assert!(line.contains("window set"), "{name}: {}", bobs.stdout);
    }
    // A failure on one environment is its own line and a partial exit: with qa2's window
    // removed, setting the owner's again works on qa2 and is refused on qa (overlap).
    let removed = run(&["schedules", "qa2", "--remove"]).await;
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    let again = run(&[
        "schedules",
        "--owner",
        "bob",
        "--awake",
        "07:00-20:00",
        "--tz",
        "Europe/Berlin",
    ])
    .await;
    assert_eq!(again.code, 3, "{}\n{}", again.stdout, again.stderr);
    let line = |name: &str| {
        again
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("qa").contains("FAILED"), "{}", again.stdout);
    assert!(line("qa2").contains("window set"), "{}", again.stdout);
    assert!(
        again.stderr.contains("1 of 2 of bob's environments failed"),
        "{}",
        again.stderr
    );
    let no_zone = run(&[
        "keep-awake",
        "dave",
        "--until",
        "17:30",
        "--tz",
        "Mars/Olympus",
    ])
    .await;
    assert_eq!(no_zone.code, 2, "{}", no_zone.stderr);
    // 10:00 UTC on the emulator's clock: 09:00 is past.
    let past = run(&["keep-awake", "erin", "--until", "09:00", "--tz", "UTC"]).await;
    assert_eq!(past.code, 2, "{}", past.stderr);
    assert!(past.stderr.contains("in the past"), "{}", past.stderr);
    let why = run(&["why", "reporting"]).await;
    assert_eq!(why.code, 0, "{}", why.stderr);
    assert!(
        why.stdout.contains("BLOCKS   RDS Proxy reporting-proxy"),
        "{}",
        why.stdout
    );
    let why = run(&["--json", "why", "reporting"]).await.json();
    assert_eq!(why["blockers"], 5, "{why}");
    let global = run(&[
        "schedules",
        "reporting",
        "--awake",
        "08:00-19:00",
        "--tz",
        "UTC",
    ])
    .await;
    assert_eq!(global.code, 3, "can't be stopped: {}", global.stderr);
    let cancel = run(&["keep-awake", "dave", "--cancel"]).await;
    assert_eq!(cancel.code, 0, "{}", cancel.stderr);
    let again = run(&["keep-awake", "dave", "--cancel"]).await;
    assert_eq!(again.code, 0, "nothing to do is success: {}", again.stderr);
    assert!(again.stdout.contains("nothing to do"), "{}", again.stdout);
}

/// The desktop app: the sleep panel says why reporting won't sleep, and the keep-awake
/// verb from the action table (its shortcut) keeps dave awake, shown from the tags.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_shows_the_sleep_plan_and_keeps_awake_from_a_shortcut() {
    use crate::ui::{harness, has_label, step_until};
    use egui_kittest::kittest::Queryable;
    let emu = emulator(Seed::Demo).await;
    let b = backend(&emu).await;
    let mut h = harness(&emu, b);
    step_until(&mut h, &emu, 0.0, "the environment list", |h| {
        has_label(h, "reporting")
    });
    h.run_steps(4);
    h.get_by_label("reporting").click();
    step_until(&mut h, &emu, 0.0, "reporting's sleep plan", |h| {
        has_label(h, "RDS Proxy reporting-proxy")
    });
    assert!(has_label(&h, "Why isn't it sleeping? 5 blocker(s)"));
    h.get_by_label("dave").click();
    step_until(&mut h, &emu, 0.0, "dave's sleep plan", |h| {
        h.state().settings.selected.as_deref() == Some("us-east-1/dave")
            && has_label(h, "no schedules")
    });
    h.key_press(egui::Key::A);
    step_until(&mut h, &emu, 0.0, "the keep-awake", |h| {
        h.state()
            .notifications
            .iter()
            .any(|n| n.text.contains("Keep awake 2 h done"))
    });
    step_until(&mut h, &emu, 0.0, "the keep-awake shown", |h| {
        has_label(h, "kept awake by") && has_label(h, "keep-awake-dave-db")
    });
}
