//! ECS Express asleep and awake on a plan: keep-awake and sleep windows whose schedules
//! (UpdateService desiredCount universal targets) the emulator's scheduler runs with
//! scale0 gone; resuming when the size from before the pause is lost (`--tasks`).

use crate::backend::backend;
use crate::cli::{isolated_home, scale0};
use crate::common::*;
use crate::emulator_ecs::express_env;
use scale0::backend::BackendError;
use scale0::backend::aws::AwsBackend;
use scale0::emulator::{Emulator, Seed};
use scale0::model::plan::{self, SleepWindow};
use scale0::model::{Environment, ServiceStatus};

const ROLE: &str = "arn:aws:iam::123456789012:role/scale0-scheduler";
const SCALING_TAG: &str = "scale0:scaling-before-pause";

fn with_role(emu: &Emulator) {
    emu.with_world(|w, _| {
        w.scheduler.roles.insert(ROLE.into());
    });
}

async fn fresh(b: &AwsBackend, name: &str) -> Environment {
    let inv = b.inventory().await.expect("inventory");
    inv.resolve(name).expect("environment").clone()
}

/// (desired, running, scaling minimum) of an Express service in the world.
fn tasks(emu: &Emulator, service: &str) -> (u32, u32, u32) {
    emu.with_world(|w, _| {
        let i = w.service_index(service).expect("service");
        let x = w.services[i].express.as_ref().expect("express");
        (x.desired, x.running, x.scaling().min)
    })
}

fn failed_invocations(emu: &Emulator) -> Vec<String> {
    emu.with_world(|w, _| {
        w.scheduler
            .invocations
            .iter()
            .filter_map(|i| i.error.as_ref().map(|e| format!("{}: {e:?}", i.schedule)))
            .collect()
    })
}

#[tokio::test]
async fn keep_awake_wakes_the_demos_hank_and_the_scheduler_scales_it_to_zero_again() {
    let emu = emulator(Seed::Demo).await;
    with_role(&emu);
    let b = backend(&emu).await;
    let env = fresh(&b, "hank").await;
    assert_eq!(env.service.as_ref().unwrap().status, ServiceStatus::Paused);
    let until = t0() + 2.0 * 3600.0;
    let report = b.keep_awake(&env, until, "hank").await.expect("kept awake");
    let text = format!("{report:?}");
    assert!(text.contains("scheduled a pause of scale0-hank"), "{text}");
    // The schedule is ECS's own call, readable by the AWS CLI and anyone's scale0.
    let schedules = b
        .schedules_in("us-east-1", Some("hank"))
        .await
        .expect("schedules");
    let service = schedules
        .iter()
        .find(|s| s.name == "keep-awake-hank-service")
        .unwrap_or_else(|| panic!("{schedules:?}"));
    assert_eq!(service.action, "ecs:updateService", "{service:?}");
    let env = fresh(&b, "hank").await;
    assert_eq!(plan::keep_awake(&env).map(|k| k.by), Some("hank".into()));
    // scale0 is gone; the task starts, and at the expiry the scheduler stops it.
    drop(b);
    emu.advance(600.0);
    let (desired, running, min) = tasks(&emu, "scale0-hank");
    assert!(
        desired >= 1 && running >= 1 && min >= 1,
        "awake: {desired}/{running}/{min}"
    );
    emu.advance(2.0 * 3600.0 - 600.0 + 60.0);
    assert_eq!(tasks(&emu, "scale0-hank").0, 0, "desired 0 at the expiry");
    emu.advance(120.0);
    assert_eq!(tasks(&emu, "scale0-hank").1, 0, "no task runs");
    assert!(
        failed_invocations(&emu).is_empty(),
        "{:?}",
        failed_invocations(&emu)
    );
    // Asleep again as scale0 sees it; a wake needs no recorded size (its minimum is 1).
    let b = backend(&emu).await;
    let env = fresh(&b, "hank").await;
    let s = env.service.as_ref().unwrap();
    assert_eq!(s.status, ServiceStatus::Paused, "{:?}", s.operation);
    b.resume(&env).await.expect("resumed from its minimum");
    assert_eq!(tasks(&emu, "scale0-hank").0, 1);
}

#[tokio::test]
async fn a_sleep_window_scales_an_ecs_service_to_zero_and_back_at_the_cron_times() {
    let mut gina = express_env("gina", "gina", false);
    gina.cluster = None;
    let emu = emulator_with(&[gina]).await;
    with_role(&emu);
    let start = next_monday_10_utc(t0());
    emu.advance(start - t0());
    let b = backend(&emu).await;
    let env = fresh(&b, "gina").await;
    let window = SleepWindow::parse("08:00-19:00", "MON-FRI", "Europe/Berlin").unwrap();
    b.set_sleep_window(&env, &window, false)
        .await
        .expect("window");
    drop(b);
    // Monday 11:00 Berlin: awake; 19:05 asleep; Tuesday 08:15 awake with a healthy task.
    assert_eq!(tasks(&emu, "scale0-gina").1, 1);
    emu.advance(8.0 * 3600.0 + 5.0 * 60.0);
    let (desired, running, min) = tasks(&emu, "scale0-gina");
    assert_eq!((desired, running), (0, 0), "asleep at 19:05");
    assert_eq!(min, 1, "the scaling target is left alone");
    emu.advance(13.0 * 3600.0 + 10.0 * 60.0);
    assert_eq!(tasks(&emu, "scale0-gina").1, 1, "awake at 08:15");
    let healthy = emu.with_world(|w, _| {
        let i = w.service_index("scale0-gina").unwrap();
        w.services[i].express.as_ref().unwrap().healthy()
    });
    assert_eq!(healthy, 1);
    assert!(
        failed_invocations(&emu).is_empty(),
        "{:?}",
        failed_invocations(&emu)
    );
    // The CLI lists both schedules with ECS's call.
    let e = emu.endpoint_url().to_string();
    let run = scale0(
        &[
            "--endpoint-url",
            &e,
            "--region",
            "us-east-1",
            "schedules",
            "gina",
        ],
        &[],
        &isolated_home(),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("sleep-gina-service") && run.stdout.contains("wake-gina-service"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ecs:updateService"), "{}", run.stdout);
}

#[tokio::test]
async fn without_a_scheduler_role_the_policy_shown_includes_ecs() {
    let emu = emulator_with(&[express_env("gus", "gus", false)]).await;
    let b = backend(&emu).await;
    let env = fresh(&b, "gus").await;
    let e = b.keep_awake(&env, t0() + 3600.0, "gus").await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("\"ecs:UpdateService\""), "{text}");
    assert!(
        text.contains("arn:aws:ecs:us-east-1:123456789012:service/*"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_with_the_size_lost_refuses_then_tasks_n_restores_it() {
    let emu = emulator_with(&[express_env("hank", "hank", true)]).await;
    let ecs = crate::emulator_ecs::ecs(&emu).await;
    ecs.untag_resource()
        .resource_arn("arn:aws:ecs:us-east-1:123456789012:service/default/scale0-hank")
        .tag_keys(SCALING_TAG)
        .send()
        .await
        .unwrap();
    let e = emu.endpoint_url().to_string();
    let home = isolated_home();
    let cli = |extra: &[&str]| {
        let mut args = vec!["--endpoint-url", e.as_str(), "--region", "us-east-1"];
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let refused = cli(&["resume", "hank"]);
    let refused: Vec<&str> = refused.iter().map(String::as_str).collect();
    let run = scale0(&refused, &[], &home).await;
    assert_eq!(run.code, 3, "refused: {} {}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("--tasks N") && run.stderr.contains("missing"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stdout.contains("asked"),
        "nothing done: {}",
        run.stdout
    );
    assert_eq!(tasks(&emu, "scale0-hank"), (0, 0, 0));
    let wake = cli(&["wake", "hank"]);
    let wake: Vec<&str> = wake.iter().map(String::as_str).collect();
    let run = scale0(&wake, &[], &home).await;
    assert_ne!(
        run.code, 0,
        "wake can't guess the size either: {}",
        run.stdout
    );
    assert!(run.stderr.contains("--tasks N"), "{}", run.stderr);
    let zero = cli(&["resume", "hank", "--tasks", "0"]);
    let zero: Vec<&str> = zero.iter().map(String::as_str).collect();
    assert_eq!(scale0(&zero, &[], &home).await.code, 2);
    let sized = cli(&["resume", "hank", "--tasks", "2"]);
    let sized: Vec<&str> = sized.iter().map(String::as_str).collect();
    let run = scale0(&sized, &[], &home).await;
    assert_eq!(run.code, 0, "{} {}", run.stdout, run.stderr);
    assert!(run.stdout.contains("to 2 task(s)"), "{}", run.stdout);
    let (desired, _, min) = tasks(&emu, "scale0-hank");
    assert_eq!((desired, min), (2, 2));
    // App Runner is not sized in tasks: refused before anything is done.
    let emu2 = emulator_with(&[{
        let mut e = env("dora");
        e.service = Some(scale0::emulator::seed::ServiceSpec {
            paused: true,
            ..Default::default()
        });
        e
    }])
    .await;
    let b = backend(&emu2).await;
    let dora = fresh(&b, "dora").await;
    let e = b.resume_with(&dora, Some(2)).await.unwrap_err();
    assert!(
        matches!(e, BackendError::InvalidInput(ref m) if m.contains("not sized in tasks")),
        "{e}"
    );
}

/// Paused by scale0 (min 0, size in the tag), woken by a schedule (desired only), paused
/// again: the recorded size survives, so resume still restores minimum 1.
#[tokio::test]
async fn a_second_pause_after_a_scheduled_wake_keeps_the_recorded_size() {
    let mut gina = express_env("gina", "gina", false);
    gina.cluster = None;
    let emu = emulator_with(&[gina]).await;
    let b = backend(&emu).await;
    b.pause(&fresh(&b, "gina").await).await.expect("pause");
    emu.advance(61.0);
    // What the wake schedule's universal target does.
    let ecs = crate::emulator_ecs::ecs(&emu).await;
    ecs.update_service()
        .cluster("default")
        .service("scale0-gina")
        .desired_count(1)
        .send()
        .await
        .unwrap();
    emu.advance(61.0);
    let env = fresh(&b, "gina").await;
    assert_eq!(env.service.as_ref().unwrap().status, ServiceStatus::Running);
    b.pause(&env).await.expect("pause again");
    emu.advance(61.0);
    let env = fresh(&b, "gina").await;
    let tag = env
        .service
        .as_ref()
        .unwrap()
        .tags
        .iter()
        .find(|(k, _)| k == SCALING_TAG);
    assert_eq!(
        tag.map(|(_, v)| v.as_str()),
        Some("min=1,max=4,metric=AVERAGE_CPU,target=60")
    );
    b.resume(&env).await.expect("resume");
    assert_eq!(tasks(&emu, "scale0-gina").2, 1, "minimum restored");
}
