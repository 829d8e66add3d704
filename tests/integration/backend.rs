//! The backend against the emulator: discovery, state, every action and refusal, waits
//! on the emulator's advanced clock, and error paths through fault injection.

use crate::common::*;
use scale0::backend::aws::{AwsBackend, ConnectOptions};
use scale0::backend::config::Config;
use scale0::backend::{BackendError, ImageRef, Inventory};
use scale0::emulator::{Emulator, Seed};
use scale0::model::{DbMode, Discovery, ParameterSetting, Power, ServiceStatus};
use serde_json::json;
use std::future::Future;
use std::time::Duration;

pub async fn backend(emu: &Emulator) -> AwsBackend {
    backend_with(emu, Config::default(), None).await
}

pub async fn backend_with(emu: &Emulator, config: Config, timeout: Option<Duration>) -> AwsBackend {
    AwsBackend::connect(
        ConnectOptions {
            endpoint_url: Some(emu.endpoint_url().to_string()),
            regions: vec!["us-east-1".into()],
            demo_credentials: true,
            operation_timeout: timeout,
            ..ConnectOptions::default()
        },
        config,
        scale0::backend::server_clock::TimeSource::Shared(emu.clock().clone()),
    )
    .await
    .expect("backend connects")
}

/// Runs `work` while moving the emulator's clock forward in 5 s steps, so waits that
/// would take minutes finish at once. Bounded: at most 2,000 steps (about 3 h).
pub async fn drive<T>(emu: &Emulator, work: impl Future<Output = T>) -> T {
    tokio::pin!(work);
    for _ in 0..2000 {
        tokio::select! {
            out = &mut work => return out,
            _ = tokio::time::sleep(Duration::from_millis(5)) => emu.advance(5.0),
        }
    }
    panic!("work did not finish within 10,000 emulated seconds");
}

async fn inventory(b: &AwsBackend) -> Inventory {
    b.inventory().await.expect("inventory")
}

#[tokio::test]
async fn discovery_and_state_of_the_demo_world() {
    let emu = emulator(Seed::Demo).await;
    let b = backend(&emu).await;
    let inv = inventory(&b).await;
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
    let env = |n: &str| inv.resolve(n).unwrap().clone();

    let dev = env("dev");
    assert_eq!(
        dev.discovery,
        Discovery::Naming,
        "the seed's resources carry no tags"
    );
    assert!(matches!(
        dev.database.as_ref().unwrap().mode,
        DbMode::ServerlessV1 { .. }
    ));
    assert_eq!(env("qa").discovery, Discovery::Tags);
    assert_eq!(env("qa").owner.as_deref(), Some("bob"));
    assert_eq!(env("reporting").discovery, Discovery::Unpaired);
    assert!(env("reporting").service.is_none());

    assert_eq!(env("carol").service.unwrap().status, ServiceStatus::Paused);
    assert!(matches!(
        env("carol").database.unwrap().power,
        Power::Paused { since: Some(_) }
    ));
    let dave = env("dave");
    assert!(
        matches!(dave.database.as_ref().unwrap().power, Power::Paused { .. }),
        "{:?}",
        dave.database
    );
    assert!(
        dave.image.as_ref().unwrap().newer_waiting,
        "a newer :dave was pushed after the deploy"
    );
    assert_eq!(dave.summary(t0()).split(" - ").next(), Some("app running"));
    let erin = env("erin");
    assert_eq!(erin.app_phrase(), "app deploying");
    assert_eq!(env("frank").database.unwrap().power, Power::Stopped);
    assert!(
        env("frank")
            .database
            .unwrap()
            .automatic_restart_time
            .is_some()
    );
    let qa = env("qa");
    let qa_db = qa.database.as_ref().unwrap();
    assert_eq!(qa_db.power, Power::Awake);
    assert!(qa_db.capacity.unwrap() >= 0.5);
    assert_eq!(qa_db.max_connections(), 823);
    assert_eq!(qa_db.max_connections_setting, ParameterSetting::Default);
    // dev's own parameter group sets max_connections: the number shown is the enforced one.
    let dev_db = dev.database.as_ref().unwrap();
    assert_eq!(dev_db.max_connections(), 100);
    assert!(
        matches!(&dev_db.max_connections_setting, ParameterSetting::Set { value: 100, group } if group == "scale0dev-params"),
        "{:?}",
        dev_db.max_connections_setting
    );
    assert!(qa.service.as_ref().unwrap().scaling.is_some());

    // Ambiguity and unknown names are clear errors.
    let e = inv.resolve("nobody").unwrap_err();
    assert!(
        matches!(e, BackendError::NotFound(_)) && e.to_string().contains("dave"),
        "{e}"
    );
    assert!(inv.resolve("us-east-1/qa").is_ok());
    emu.shutdown().await;
}

#[tokio::test]
async fn config_mappings_and_auto_pause_countdown() {
    let emu = emulator_with(&[env("a")]).await;
    let config = Config::parse("[[environment]]\nname = \"renamed\"\nowner = \"zoe\"\nservice = \"scale0-a\"\ncluster = \"scale0a\"\n").unwrap();
    let b = backend_with(&emu, config, None).await;
    emu.advance(120.0);
    let inv = inventory(&b).await;
    let e = inv.resolve("renamed").unwrap();
    assert_eq!(
        (e.discovery, e.owner.as_deref()),
        (Discovery::Config, Some("zoe"))
    );
    let db = e.database.as_ref().unwrap();
    assert_eq!(db.power, Power::Awake);
    let left = db.auto_pause_at.unwrap() - emu.clock().now();
    assert!(
        left > 0.0 && left <= 300.0,
        "pauses within SecondsUntilAutoPause: {left}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn pause_resume_and_their_refusals() {
    let emu = emulator_with(&[env("a")]).await;
    let b = backend(&emu).await;
    let a = inventory(&b).await.resolve("a").unwrap().clone();
    let report = b.pause(&a).await.unwrap();
    assert!(report.left[0].contains("1-2 minutes"));
    let busy = inventory(&b).await.resolve("a").unwrap().clone();
    assert_eq!(busy.app_phrase(), "app pausing");
    let e = b.pause(&busy).await.unwrap_err();
    assert!(
        matches!(e, BackendError::Refused(_)) && e.to_string().contains("PAUSE_SERVICE"),
        "{e}"
    );
    let e = b
        .deploy(&busy, &ImageRef::Tag("a".into()), false, false, 60.0)
        .await
        .unwrap_err();
    assert!(
        matches!(e, BackendError::Refused(_)),
        "deploy while an operation runs: {e}"
    );
    emu.advance(130.0);
    let paused = inventory(&b).await.resolve("a").unwrap().clone();
    assert_eq!(
        paused.service.as_ref().unwrap().status,
        ServiceStatus::Paused
    );
    let e = b.pause(&paused).await.unwrap_err();
    assert!(matches!(e, BackendError::Refused(_)));
    let e = b
        .deploy(&paused, &ImageRef::Tag("a".into()), false, false, 60.0)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("--resume"), "{e}");
    b.resume(&paused).await.unwrap();
    emu.shutdown().await;
}

#[tokio::test]
async fn deploy_waits_and_rollback_returns_to_the_previous_image() {
    let emu = emulator_with(&[env("a")]).await;
    let b = backend(&emu).await;
    admin(
        &emu,
        "/_scale0/ecr/push",
        json!({"repository": "scale0", "tag": "v2"}),
    )
    .await;
    let a = inventory(&b).await.resolve("a").unwrap().clone();

    let e = b
        .deploy(&a, &ImageRef::Tag("no-such".into()), false, false, 60.0)
        .await
        .unwrap_err();
    assert!(
        matches!(e, BackendError::InvalidInput(_)) && e.to_string().contains("no-such"),
        "{e}"
    );
    let e = b
        .deploy(&a, &ImageRef::Tag("bad tag!".into()), false, false, 60.0)
        .await
        .unwrap_err();
    assert!(matches!(e, BackendError::InvalidInput(_)));

    let report = drive(
        &emu,
        b.deploy(&a, &ImageRef::Tag("v2".into()), false, true, 1200.0),
    )
    .await
    .unwrap();
    assert_eq!(report.steps.last().unwrap().what, "deployment succeeded");
    assert!(
        report.steps.last().unwrap().seconds >= 240.0,
        "deploys take minutes: {report:?}"
    );
    let a = inventory(&b).await.resolve("a").unwrap().clone();
    assert_eq!(a.image.as_ref().unwrap().tag.as_deref(), Some("v2"));

    let report = drive(&emu, b.rollback(&a, true, 1200.0)).await.unwrap();
    assert!(report.steps[0].what.contains("scale0:a"), "{report:?}");
    let a = inventory(&b).await.resolve("a").unwrap().clone();
    assert_eq!(a.image.as_ref().unwrap().tag.as_deref(), Some("a"));

    // A deployment whose health check fails is reported as failed.
    admin(
        &emu,
        "/_scale0/faults/deploy-failure",
        json!({"service": "scale0-a"}),
    )
    .await;
    // A rolled-back deploy is a failure (its part says how it ended), not a success.
    let report = drive(
        &emu,
        b.deploy(&a, &ImageRef::Tag("v2".into()), false, true, 1200.0),
    )
    .await
    .unwrap();
    assert_eq!(
        report.verdict(),
        scale0::backend::Verdict::Partial,
        "{report:?}"
    );
    let deployment = report.parts.iter().find(|p| p.part == "deployment");
    assert!(
        deployment.is_some_and(|p| p.outcome == scale0::backend::Outcome::Failed
            && p.detail.contains("ROLLBACK_SUCCEEDED")),
        "{report:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn deploy_to_a_paused_service_resumes_first_when_asked() {
    let emu = emulator(Seed::Demo).await;
    let b = backend(&emu).await;
    let carol = inventory(&b).await.resolve("carol").unwrap().clone();
    let report = drive(
        &emu,
        b.deploy(&carol, &ImageRef::Tag("v1.5.1".into()), true, true, 1800.0),
    )
    .await
    .unwrap();
    assert_eq!(report.steps[0].what, "resumed the service");
    let carol = inventory(&b).await.resolve("carol").unwrap().clone();
    assert_eq!(
        carol.service.as_ref().unwrap().status,
        ServiceStatus::Running
    );
    assert_eq!(carol.image.as_ref().unwrap().tag.as_deref(), Some("v1.5.1"));
    emu.shutdown().await;
}

#[tokio::test]
async fn wake_and_wait_until_the_app_answers() {
    let emu = emulator(Seed::Demo).await;
    let b = backend(&emu).await;
    // dave: service up, database paused; the Data API wakes it.
    let dave = inventory(&b).await.resolve("dave").unwrap().clone();
    let report = drive(&emu, b.wake(&dave, false, true, 600.0))
        .await
        .unwrap();
    assert!(report.steps[0].what.contains("SELECT 1"), "{report:?}");
    assert!(
        report.steps[0].seconds >= 14.0,
        "the resume takes about 15 s: {report:?}"
    );
    assert!(report.steps.last().unwrap().what.contains("answered 2xx"));
    let dave = inventory(&b).await.resolve("dave").unwrap().clone();
    assert_eq!(dave.database.as_ref().unwrap().power, Power::Awake);

    // carol: service paused too; wake resumes it and waits for both.
    let carol = inventory(&b).await.resolve("carol").unwrap().clone();
    let report = drive(&emu, b.wake(&carol, false, true, 900.0))
        .await
        .unwrap();
    let steps: Vec<&str> = report.steps.iter().map(|s| s.what.as_str()).collect();
    assert!(steps[0].contains("resume scale0-carol"), "{steps:?}");
    assert!(steps.contains(&"service running"), "{steps:?}");

    // dev: v1 legacy, no Data API: ModifyCurrentDBClusterCapacity.
    emu.advance(900.0);
    let dev = inventory(&b).await.resolve("dev").unwrap().clone();
    assert!(matches!(
        dev.database.as_ref().unwrap().power,
        Power::Paused { .. }
    ));
    let report = b.wake(&dev, true, false, 60.0).await.unwrap();
    assert!(report.steps[0].what.contains("(v1)"), "{report:?}");

    // frank: stopped cluster: StartDBCluster; stopping: refused.
    let frank = inventory(&b).await.resolve("frank").unwrap().clone();
    let report = b.wake(&frank, true, false, 60.0).await.unwrap();
    assert!(report.steps[0].what.contains("started cluster"));
    let qa = inventory(&b).await.resolve("qa").unwrap().clone();
    b.stop_database(&qa).await.unwrap();
    let qa = inventory(&b).await.resolve("qa").unwrap().clone();
    let e = b.wake(&qa, true, false, 60.0).await.unwrap_err();
    assert!(
        matches!(e, BackendError::Refused(_)) && e.to_string().contains("stopping"),
        "{e}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn sleep_says_what_is_left() {
    let emu = emulator(Seed::Demo).await;
    let b = backend(&emu).await;
    let dave = inventory(&b).await.resolve("dave").unwrap().clone();
    let report = b.sleep(&dave).await.unwrap();
    assert!(report.steps[0].what.contains("pause scale0-dave"));
    assert!(
        report.left.iter().any(|l| l.contains("auto-pause 300 s")),
        "{report:?}"
    );
    let dev = inventory(&b).await.resolve("dev").unwrap().clone();
    let e = b.stop_database(&dev).await.unwrap_err();
    assert!(e.to_string().contains("v1"), "{e}");
    let reporting = inventory(&b).await.resolve("reporting").unwrap().clone();
    let report = b.sleep(&reporting).await.unwrap();
    assert!(report.left[0].contains("provisioned"), "{report:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn faults_become_clear_errors_and_a_stalled_call_times_out() {
    let emu = emulator(Seed::Demo).await;
    let b = backend_with(&emu, Config::default(), Some(Duration::from_millis(900))).await;

    // One throttled call is retried by the SDK's standard mode and succeeds.
    admin(&emu, "/_scale0/faults", json!({"service": "apprunner", "operation": "ListServices", "kind": "throttle", "count": 1})).await;
    assert!(b.inventory().await.is_ok());

    admin(
        &emu,
        "/_scale0/faults",
        json!({"kind": "expired_token", "service": "rds", "count": 10}),
    )
    .await;
    let e = b.inventory().await.unwrap_err();
    assert!(matches!(e, BackendError::Credentials { .. }), "{e}");
    assert!(e.to_string().contains("aws sso login"), "{e}");
    reqwest::Client::new()
        .delete(format!("{}/_scale0/faults", emu.endpoint_url()))
        .send()
        .await
        .unwrap();

    // A region whose RDS stalls still lists App Runner, with the problem reported.
    admin(
        &emu,
        "/_scale0/faults",
        json!({"kind": "stall", "service": "rds"}),
    )
    .await;
    let started = std::time::Instant::now();
    let inv = b.inventory().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        inv.problems
            .iter()
            .any(|p| p.contains("RDS") && p.contains("in time")),
        "{:?}",
        inv.problems
    );
    assert!(inv.resolve("qa").is_ok());
    reqwest::Client::new()
        .delete(format!("{}/_scale0/faults", emu.endpoint_url()))
        .send()
        .await
        .unwrap();

    admin(
        &emu,
        "/_scale0/faults",
        json!({"kind": "access_denied", "service": "apprunner", "operation": "PauseService"}),
    )
    .await;
    // The SDK retries AccessDeniedException as a possible clock-skew error when the
    // server's Date is minutes away from the laptop's (the emulator's clock may be days
    // away): give that retry the time a real call gets.
    let patient = backend_with(&emu, Config::default(), Some(Duration::from_secs(20))).await;
    let qa = patient
        .inventory()
        .await
        .unwrap()
        .resolve("qa")
        .unwrap()
        .clone();
    let e = patient.pause(&qa).await.unwrap_err();
    assert!(matches!(e, BackendError::AccessDenied(_)), "{e}");
    admin(
        &emu,
        "/_scale0/faults",
        json!({"kind": "server_error", "service": "monitoring"}),
    )
    .await;
    let inv = b.inventory().await.unwrap();
    assert!(
        inv.problems.iter().any(|p| p.contains("CloudWatch")),
        "{:?}",
        inv.problems
    );
    emu.shutdown().await;
}
