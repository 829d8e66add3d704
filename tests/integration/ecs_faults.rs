//! ECS Express when something is wrong: ECS throttled while App Runner works, a load
//! balancer that is gone, a deployment stuck IN_PROGRESS; through the CLI and backend.

use crate::backend::{backend, drive};
use crate::cli::{isolated_home, scale0};
use crate::common::*;
use crate::emulator_ecs::express_env;
use scale0::backend::Outcome;
use scale0::emulator::seed::ServiceSpec;
use scale0::emulator::{Emulator, Options, Seed};
use serde_json::json;

/// A clock 60 times faster than the wall's (CLI waits are real seconds): an ECS
/// environment asleep beside an App Runner one that runs.
async fn fast_world() -> Emulator {
    let emu = Emulator::start(Options {
        port: 0,
        speed: 60.0,
        seed: Seed::Empty,
        region: "us-east-1".into(),
        start_time: Some(t0()),
    })
    .await
    .expect("emulator starts");
    let mut dora = env("dora");
    dora.service = Some(ServiceSpec {
        auto_deployments: false,
        ..ServiceSpec::default()
    });
    let mut hank = express_env("hank", "hank", true);
    if let Some(c) = hank.cluster.as_mut() {
        c.paused = true;
    }
    for e in [hank, express_env("gina", "gina", false), dora] {
        emu.add_environment(e).await.expect("environment added");
    }
    emu
}

fn args<'a>(emu: &'a Emulator, extra: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec![
        "--endpoint-url",
        emu.endpoint_url(),
        "--region",
        "us-east-1",
    ];
    all.extend_from_slice(extra);
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_throttled_wake_is_partial_and_envs_marks_the_app_unknown() {
    let emu = fast_world().await;
    let (status, _) = admin(
        &emu,
        "/_scale0/faults",
        json!({"service": "ecs", "kind": "throttle"}),
    )
    .await;
    assert_eq!(status, 201);
    let home = isolated_home();
    let env = [("SCALE0_CALL_TIMEOUT", "10")];
    let run = scale0(&args(&emu, &["--json", "wake", "hank"]), &env, &home).await;
    assert_eq!(run.code, 3, "partial: {}\n{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::Deserializer::from_str(&run.stdout)
        .into_iter()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("a JSON report: {}", run.stdout));
    assert_eq!(report["outcome"], "partial", "{report}");
    let part = |name: &str| {
        report["parts"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["part"] == name).cloned())
            .unwrap_or_else(|| panic!("part {name} in {report}"))
    };
    assert_eq!(part("service")["outcome"], "unknown", "not done: {report}");
    assert_eq!(part("service")["kind"], "throttled");
    assert_eq!(part("database")["outcome"], "done");
    // The list: hank's app is unknown (not absent), dora's App Runner app is running.
    let run = scale0(&args(&emu, &["envs"]), &env, &home).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let line = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} listed: {}", run.stdout))
            .to_string()
    };
    assert!(line("hank").contains("unknown"), "{}", line("hank"));
    assert!(line("dora").contains("running"), "{}", line("dora"));
    assert!(run.stderr.contains("ECS Express"), "named: {}", run.stderr);
    // App Runner keeps working: pausing dora is done.
    let run = scale0(&args(&emu, &["pause", "dora"]), &env, &home).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_gone_load_balancer_fails_the_wake_at_once_naming_it() {
    let emu = emulator_with(&[express_env("hank", "hank", true)]).await;
    admin(
        &emu,
        "/_scale0/faults/express",
        json!({"service": "scale0-hank", "fault": "load-balancer-gone"}),
    )
    .await;
    let b = backend(&emu).await;
    let env = b
        .inventory()
        .await
        .unwrap()
        .resolve("hank")
        .unwrap()
        .clone();
    let started = emu.clock().now();
    let report = drive(&emu, b.wake(&env, false, true, 1800.0))
        .await
        .expect("a report");
    let waited = emu.clock().now() - started;
    let answering = report
        .parts
        .iter()
        .find(|p| p.part == "app answering")
        .unwrap_or_else(|| panic!("{report:?}"));
    assert_eq!(answering.outcome, Outcome::Failed, "{report:?}");
    assert!(
        answering.detail.contains("load balancer is DELETED"),
        "{}",
        answering.detail
    );
    assert!(waited < 600.0, "no wait for the timeout: {waited} s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_deployment_times_out_with_a_clear_message_and_no_done() {
    let emu = fast_world().await;
    admin(
        &emu,
        "/_scale0/ecr/push",
        json!({"repository": "scale0", "tag": "v2"}),
    )
    .await;
    admin(
        &emu,
        "/_scale0/faults/express",
        json!({"service": "scale0-gina", "fault": "stuck-deployment"}),
    )
    .await;
    let home = isolated_home();
    let run = scale0(
        &args(
            &emu,
            &[
                "deploy",
                "gina",
                "--tag",
                "v2",
                "--wait",
                "--timeout",
                "15s",
            ],
        ),
        &[],
        &home,
    )
    .await;
    assert_eq!(run.code, 4, "timed out: {}\n{}", run.stdout, run.stderr);
    assert!(
        !run.stdout.lines().any(|l| l.starts_with("done")),
        "no done: {}",
        run.stdout
    );
    assert!(
        run.stderr.contains("IN_PROGRESS") && run.stderr.contains("rollback"),
        "says where it is and what to do: {}",
        run.stderr
    );
    emu.shutdown().await;
}
