//! The ECS Express kind through scale0's backend and CLI against the emulator: pairing
//! next to App Runner, pause/resume/wake, deploy/rollback (alarm, cancel, previous
//! digest), faults, and the AWS CLI's express-gateway commands.

use crate::backend::{backend, backend_with, drive};
use crate::cli::{isolated_home, scale0};
use crate::common::*;
use crate::emulator_ecs::{ecs, express_env};
use scale0::backend::config::Config;
use scale0::backend::{BackendError, ImageRef};
use scale0::emulator::Seed;
use scale0::model::ServiceStatus;
use serde_json::json;
use std::time::Duration;

const SCALING_TAG: &str = "scale0:scaling-before-pause";

#[tokio::test]
async fn demo_pairs_both_kinds_and_the_mid_migration_owner_has_one_of_each() {
    let emu = emulator(Seed::Demo).await;
    let b = backend(&emu).await;
    let inv = b.inventory().await.expect("inventory");
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
    let kind = |n: &str| {
        let e = inv.resolve(n).unwrap();
        (e.service.as_ref().unwrap().kind, e.database.is_some())
    };
    assert_eq!(kind("gina"), ("ecs-express", true));
    assert_eq!(kind("qa"), ("apprunner", true));
    let bobs: Vec<(&str, &str)> = inv
        .environments
        .iter()
        .filter(|e| e.owner.as_deref() == Some("bob"))
        .map(|e| (e.key.name.as_str(), e.service.as_ref().unwrap().kind))
        .collect();
    assert_eq!(bobs, [("qa", "apprunner"), ("qa2", "ecs-express")]);
    let hank = inv.resolve("hank").unwrap().service.clone().unwrap();
    assert_eq!(hank.status, ServiceStatus::Paused);
    assert_eq!(hank.status_label(), "scaled to zero");
    let gina = inv.resolve("gina").unwrap().service.clone().unwrap();
    assert_eq!(gina.status, ServiceStatus::Running);
    assert!(gina.facts.difference.unwrap().contains("does not wake"));
    // The shared ALB and its two addresses split over the three Express services.
    let share = gina.prices.standing_hour;
    assert!((share - (0.0225 + 0.01) / 3.0).abs() < 1e-6, "{share}");
    let cost = scale0::model::cost::estimate(inv.resolve("hank").unwrap(), 0.0, 0.0);
    assert!(
        cost.per_hour_now >= share,
        "asleep still pays its ALB share: {cost:?}"
    );
}

#[tokio::test]
async fn pause_keeps_the_scaling_target_in_a_tag_and_wake_waits_for_200() {
    let mut gina = express_env("gina", "gina", false);
    gina.cluster = None;
    let emu = emulator_with(&[gina]).await;
    let b = backend(&emu).await;
    let env = b
        .inventory()
        .await
        .unwrap()
        .resolve("gina")
        .unwrap()
        .clone();
    let url = env.service.as_ref().unwrap().http_url().unwrap();
    b.pause(&env).await.expect("pause");
    assert_eq!(reqwest::get(&url).await.unwrap().status().as_u16(), 503);
    emu.advance(61.0);
    let env = b
        .inventory()
        .await
        .unwrap()
        .resolve("gina")
        .unwrap()
        .clone();
    let s = env.service.as_ref().unwrap();
    assert_eq!(s.status, ServiceStatus::Paused, "{:?}", s.operation);
    let tag = s.tags.iter().find(|(k, _)| k == SCALING_TAG).unwrap();
    assert_eq!(tag.1, "min=1,max=4,metric=AVERAGE_CPU,target=60");
    assert_eq!(s.scaling.as_ref().unwrap().min_size, 0);
    emu.advance(3600.0);
    assert_eq!(
        reqwest::get(&url).await.unwrap().status().as_u16(),
        503,
        "no wake by request"
    );

    let report = drive(&emu, b.wake(&env, false, true, 600.0))
        .await
        .expect("wake");
    let waited: f64 = report.steps.iter().map(|s| s.seconds).sum();
    assert!(
        waited >= 60.0,
        "a task's start time passes first: {report:?}"
    );
    assert!(report.steps.last().unwrap().what.contains("answered 2xx"));
    let env = b
        .inventory()
        .await
        .unwrap()
        .resolve("gina")
        .unwrap()
        .clone();
    let s = env.service.as_ref().unwrap();
    assert_eq!(s.status, ServiceStatus::Running);
    assert_eq!(
        s.scaling.as_ref().unwrap().min_size,
        1,
        "scaling target restored"
    );
    assert!(s.tags.iter().all(|(k, _)| k != SCALING_TAG), "tag cleared");
}

#[tokio::test]
async fn resume_without_the_scaling_tag_asks_for_the_size() {
    let emu = emulator_with(&[express_env("hank", "hank", true)]).await;
    let ecs = ecs(&emu).await;
    ecs.untag_resource()
        .resource_arn("arn:aws:ecs:us-east-1:123456789012:service/default/scale0-hank")
        .tag_keys(SCALING_TAG)
        .send()
        .await
        .unwrap();
    let b = backend(&emu).await;
    let env = b
        .inventory()
        .await
        .unwrap()
        .resolve("hank")
        .unwrap()
        .clone();
    let e = b.resume(&env).await.unwrap_err();
    assert!(matches!(e, BackendError::Refused(_)), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("missing") && text.contains("min=1,max="),
        "{text}"
    );
}

#[tokio::test]
async fn deploy_follows_the_canary_and_rollback_returns_to_the_previous_digest() {
    let mut gina = express_env("gina", "gina", false);
    gina.cluster = None;
    let emu = emulator_with(&[gina]).await;
    admin(
        &emu,
        "/_scale0/ecr/push",
        json!({"repository": "scale0", "tag": "v2"}),
    )
    .await;
    let b = backend(&emu).await;
    let env = b
        .inventory()
        .await
        .unwrap()
        .resolve("gina")
        .unwrap()
        .clone();
    let old_digest = env.image.as_ref().unwrap().digest.clone().unwrap();
    let report = drive(
        &emu,
        b.deploy(&env, &ImageRef::Tag("v2".into()), false, true, 1800.0),
    )
    .await
    .expect("deploy");
    let took = report.steps.last().unwrap().seconds;
    assert!(took >= 6.0 * 60.0, "two 3-minute bakes: {report:?}");
    let env = b
        .inventory()
        .await
        .unwrap()
        .resolve("gina")
        .unwrap()
        .clone();
    let s = env.service.as_ref().unwrap();
    assert!(s.image_identifier.as_ref().unwrap().ends_with(":v2"));
    let previous = s
        .tags
        .iter()
        .find(|(k, _)| k == "scale0:previous-image")
        .unwrap();
    assert!(
        previous.1.ends_with(&format!("@{old_digest}")),
        "{previous:?}"
    );
    drive(&emu, b.rollback(&env, true, 1800.0))
        .await
        .expect("rollback");
    let env = b
        .inventory()
        .await
        .unwrap()
        .resolve("gina")
        .unwrap()
        .clone();
    let image = env
        .service
        .as_ref()
        .unwrap()
        .image_identifier
        .clone()
        .unwrap();
    assert!(image.ends_with(&old_digest), "{image}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_rollback_is_a_failed_deploy_naming_the_alarm() {
    let mut gina = express_env("gina", "gina", false);
    gina.cluster = None;
    let emu = emulator_with(&[gina]).await;
    admin(
        &emu,
        "/_scale0/ecr/push",
        json!({"repository": "scale0", "tag": "v2"}),
    )
    .await;
    admin(
        &emu,
        "/_scale0/faults/deploy-failure",
        json!({"service": "scale0-gina"}),
    )
    .await;
    let b = backend(&emu).await;
    let env = b
        .inventory()
        .await
        .unwrap()
        .resolve("gina")
        .unwrap()
        .clone();
    let url = env.service.as_ref().unwrap().http_url().unwrap();
    let deploy = tokio::spawn({
        let (b, env) = (b.clone(), env.clone());
        async move {
            b.deploy(&env, &ImageRef::Tag("v2".into()), false, true, 1800.0)
                .await
        }
    });
    // Traffic each emulated minute, so the canary's 5xx reach the alarm. Bounded.
    for _ in 0..20 {
        for _ in 0..40 {
            let _ = reqwest::get(&url).await;
        }
        emu.advance(60.0);
        tokio::time::sleep(Duration::from_millis(50)).await;
        if deploy.is_finished() {
            break;
        }
    }
    // A rollback by the alarm is a failed deploy: its part says why (the CLI exits 3).
    let report = deploy.await.unwrap().unwrap();
    let failed = report
        .parts
        .iter()
        .find(|p| p.part == "deployment" && p.outcome == scale0::backend::Outcome::Failed)
        .unwrap_or_else(|| panic!("a failed deployment part: {report:?}"));
    let text = failed.detail.clone();
    assert!(text.contains("ROLLBACK_SUCCEEDED"), "{text}");
    assert!(
        text.contains("scale0-gina-express-deployment-alarm"),
        "{text}"
    );
    assert!(
        text.contains("4xx+5xx"),
        "says why a 404-heavy app can roll back: {text}"
    );
}

#[tokio::test]
async fn rollback_during_a_stuck_deployment_cancels_it() {
    let mut gina = express_env("gina", "gina", false);
    gina.cluster = None;
    let emu = emulator_with(&[gina]).await;
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
    let b = backend(&emu).await;
    let env = b
        .inventory()
        .await
        .unwrap()
        .resolve("gina")
        .unwrap()
        .clone();
    let e = drive(
        &emu,
        b.deploy(&env, &ImageRef::Tag("v2".into()), false, true, 900.0),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, BackendError::Timeout(_)), "{e}");
    let env = b
        .inventory()
        .await
        .unwrap()
        .resolve("gina")
        .unwrap()
        .clone();
    let s = env.service.as_ref().unwrap();
    assert_eq!(s.operation.as_ref().unwrap().status, "IN_PROGRESS");
    let pause = b.pause(&env).await.unwrap_err();
    assert!(matches!(pause, BackendError::Refused(_)), "{pause}");
    let report = b
        .rollback(&env, false, 60.0)
        .await
        .expect("cancel by rollback");
    assert!(
        report.steps[0]
            .what
            .contains("roll back the deployment in flight")
    );
    emu.advance(61.0);
    let env = b
        .inventory()
        .await
        .unwrap()
        .resolve("gina")
        .unwrap()
        .clone();
    let s = env.service.as_ref().unwrap();
    assert_eq!(s.status, ServiceStatus::Running);
    assert_eq!(s.recent_operations[0].status, "ROLLBACK_SUCCEEDED");
}

#[tokio::test]
async fn a_deleted_load_balancer_is_a_warning_on_the_service() {
    let emu = emulator_with(&[express_env("gina", "gina", false)]).await;
    admin(
        &emu,
        "/_scale0/faults/express",
        json!({"service": "scale0-gina", "fault": "load-balancer-gone"}),
    )
    .await;
    let b = backend(&emu).await;
    let env = b
        .inventory()
        .await
        .unwrap()
        .resolve("gina")
        .unwrap()
        .clone();
    let s = env.service.as_ref().unwrap();
    let warning = s.facts.warning.clone().unwrap_or_default();
    assert!(warning.contains("load balancer is DELETED"), "{warning}");
    let url = s.http_url().unwrap();
    assert_eq!(reqwest::get(&url).await.unwrap().status().as_u16(), 503);
}

#[tokio::test]
async fn access_denied_on_ecs_is_a_problem_and_app_runner_still_lists() {
    let emu = emulator(Seed::Demo).await;
    admin(
        &emu,
        "/_scale0/faults",
        json!({"service": "ecs", "kind": "access_denied"}),
    )
    .await;
    let b = backend_with(&emu, Config::default(), None).await;
    let inv = b.inventory().await.expect("the rest keeps working");
    assert!(
        inv.problems
            .iter()
            .any(|p| p.contains("ECS Express") && p.contains("access denied")),
        "{:?}",
        inv.problems
    );
    assert!(
        inv.resolve("qa").is_ok(),
        "App Runner's environments are listed"
    );
    let gina = inv.resolve("gina").unwrap();
    assert!(
        gina.service.is_none() && gina.database.is_some(),
        "its database still shows"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_commands_work_on_both_kinds() {
    let emu = emulator(Seed::Demo).await;
    let e = emu.endpoint_url().to_string();
    let home = isolated_home();
    let base = ["--endpoint-url", e.as_str(), "--region", "us-east-1"];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<String>>()
    };
    let envs = scale0(
        &run(&["envs", "--json"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &[],
        &home,
    )
    .await;
    assert_eq!(envs.code, 0, "{}", envs.stderr);
    let json = envs.json();
    let kinds: Vec<(String, String)> = json["environments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["owner"] == "bob")
        .map(|e| {
            (
                e["key"]["name"].as_str().unwrap().into(),
                e["service"]["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("qa".into(), "apprunner".into()),
            ("qa2".into(), "ecs-express".into())
        ]
    );
    let table = scale0(
        &run(&["envs"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &[],
        &home,
    )
    .await;
    assert!(
        table.stdout.contains("KIND") && table.stdout.contains("ECS Express"),
        "{}",
        table.stdout
    );
    for (env, kind) in [("hank", "ECS Express"), ("carol", "App Runner")] {
        let status = scale0(
            &run(&["status", env])
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            &[],
            &home,
        )
        .await;
        assert_eq!(status.code, 0, "{}", status.stderr);
        assert!(status.stdout.contains(kind), "{}", status.stdout);
    }
    let hank = scale0(
        &run(&["status", "hank"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &[],
        &home,
    )
    .await;
    assert!(
        hank.stdout.contains("scaled to zero") && hank.stdout.contains("does not wake"),
        "{}",
        hank.stdout
    );
    // The app's log, on both kinds: App Runner's application group and ECS Express's
    // managed log group.
    for env in ["gina", "qa"] {
        let logs = scale0(
            &run(&[
                "logs", env, "--source", "app", "--since", "24h", "--limit", "50",
            ])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
            &[],
            &home,
        )
        .await;
        assert_eq!(logs.code, 0, "{env}: {}", logs.stderr);
        assert!(
            !logs.stdout.trim().is_empty(),
            "{env}: no lines: {}",
            logs.stderr
        );
    }
    // Pausing what is already asleep is nothing to do, on either kind.
    for env in ["hank", "carol"] {
        let pause = scale0(
            &run(&["pause", env])
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            &[],
            &home,
        )
        .await;
        assert_eq!(pause.code, 0, "{env}: {}", pause.stderr);
        assert!(
            pause.stdout.contains("nothing to do"),
            "{env}: {}",
            pause.stdout
        );
    }
    // Rollback with no recorded image is refused (exit 3) on both.
    for env in ["gina", "dave"] {
        let r = scale0(
            &run(&["rollback", env])
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            &[],
            &home,
        )
        .await;
        assert_eq!(r.code, 3, "{env}: {} {}", r.stdout, r.stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_describes_express_services() {
    let emu = emulator(Seed::Demo).await;
    let e = emu.endpoint_url().to_string();
    let arn = "arn:aws:ecs:us-east-1:123456789012:service/default/scale0-gina".to_string();
    let (code, value, stderr) = tokio::task::spawn_blocking({
        let (e, arn) = (e.clone(), arn.clone());
        move || {
            crate::emulator_cli::aws(
                &e,
                &[
                    "ecs",
                    "describe-express-gateway-service",
                    "--service-arn",
                    &arn,
                ],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(value["service"]["serviceName"], "scale0-gina");
    assert_eq!(value["service"]["status"]["statusCode"], "ACTIVE");
    let (code, value, stderr) = tokio::task::spawn_blocking(move || {
        crate::emulator_cli::aws(
            &e,
            &[
                "ecs",
                "describe-services",
                "--cluster",
                "default",
                "--services",
                "scale0-gina",
                "scale0-hank",
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr}");
    let counts: Vec<i64> = value["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["desiredCount"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [1, 0]);
}

#[tokio::test]
async fn both_kinds_graphs_come_from_one_get_metric_data_call() {
    let mut gina = express_env("gina", "gina", false);
    gina.cluster = None;
    let emu = emulator_with(&[gina, env("qa")]).await;
    let b = backend(&emu).await;
    let inv = b.inventory().await.unwrap();
    let url = inv
        .resolve("gina")
        .unwrap()
        .service
        .as_ref()
        .unwrap()
        .http_url()
        .unwrap();
    // Two minutes of requests through the load balancer, then the minute closes.
    for _ in 0..2 {
        for _ in 0..30 {
            assert_eq!(reqwest::get(&url).await.unwrap().status().as_u16(), 200);
        }
        emu.advance(60.0);
    }
    let envs: Vec<&scale0::model::Environment> = inv.environments.iter().collect();
    let before = emu
        .shared()
        .calls()
        .get("monitoring:GetMetricData")
        .copied()
        .unwrap_or(0);
    let now = b.clock().now();
    let series = b
        .metrics("us-east-1", &envs, now - 1800.0, now, 60)
        .await
        .unwrap();
    let after = emu
        .shared()
        .calls()
        .get("monitoring:GetMetricData")
        .copied()
        .unwrap_or(0);
    assert_eq!(after - before, 1, "one call for both kinds");
    let gina_at = inv
        .environments
        .iter()
        .position(|e| e.key.name == "gina")
        .unwrap();
    let m = &series[gina_at];
    let requests: f64 = m.requests.points.iter().map(|p| p.1).sum();
    assert_eq!(requests, 60.0, "the load balancer's RequestCount");
    assert_eq!(m.status_2xx.points.iter().map(|p| p.1).sum::<f64>(), 60.0);
    assert!(!m.cpu.points.is_empty(), "ECS CPUUtilization");
    assert!(
        m.active_instances.points.iter().all(|p| p.1 == 1.0),
        "one healthy task"
    );
    // TargetResponseTime is in seconds; the dashboard shows milliseconds.
    let p50 = m.latency_p50.points.first().map(|p| p.1).unwrap_or(0.0);
    assert!(p50 > 0.1 && p50 < 60_000.0, "{p50} ms");
}
