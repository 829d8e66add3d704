//! Fault injection seen through the real SDK: throttling, 5xx, access denied, expired
//! tokens, added latency, stalled responses that must time out, maintenance.

use crate::common::*;
use aws_sdk_apprunner::types::ServiceStatus;
use scale0::emulator::Seed;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn injected_errors_surface_with_their_codes() {
    let emu = emulator(Seed::Demo).await;
    let c = clients(&emu).await;
    let cases = [
        (
            "apprunner",
            "ListServices",
            "throttle",
            "ThrottlingException",
        ),
        ("rds", "DescribeDBClusters", "throttle", "Throttling"),
        (
            "monitoring",
            "ListMetrics",
            "server_error",
            "InternalServiceFault",
        ),
        (
            "ecr",
            "DescribeRepositories",
            "access_denied",
            "AccessDeniedException",
        ),
        ("rds", "DescribeEvents", "expired_token", "ExpiredToken"),
    ];
    for (service, operation, kind, _) in cases {
        let (status, body) = admin(
            &emu,
            "/_scale0/faults",
            json!({"service": service, "operation": operation, "kind": kind, "count": 5}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let e = c.apprunner.list_services().send().await.unwrap_err();
    assert_eq!(code(&e), "ThrottlingException");
    let e = c.rds.describe_db_clusters().send().await.unwrap_err();
    assert_eq!(code(&e), "Throttling");
    let e = c.cloudwatch.list_metrics().send().await.unwrap_err();
    assert_eq!(code(&e), "InternalServiceFault", "{e:?}");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(500));
    let e = c.ecr.describe_repositories().send().await.unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    let e = c.rds.describe_events().send().await.unwrap_err();
    assert_eq!(code(&e), "ExpiredToken");

    // Rules run out: count 5 covers the SDK's retries (2 attempts per call here).
    reqwest::Client::new()
        .delete(format!("{}/_scale0/faults", emu.endpoint_url()))
        .send()
        .await
        .unwrap();
    c.apprunner
        .list_services()
        .send()
        .await
        .expect("no faults left");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_stalled_endpoint_times_out_and_latency_adds_up() {
    let emu = emulator(Seed::Demo).await;
    let c = clients(&emu).await;
    admin(
        &emu,
        "/_scale0/faults",
        json!({"service": "rds", "kind": "stall"}),
    )
    .await;
    admin(
        &emu,
        "/_scale0/faults",
        json!({"service": "ecr", "kind": "latency", "ms": 300}),
    )
    .await;
    let started = Instant::now();
    let e = c
        .rds
        .describe_db_clusters()
        .customize()
        .config_override(
            aws_sdk_rds::config::Config::builder().timeout_config(
                aws_sdk_rds::config::timeout::TimeoutConfig::builder()
                    .operation_timeout(Duration::from_millis(800))
                    .operation_attempt_timeout(Duration::from_millis(400))
                    .build(),
            ),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(e, aws_sdk_rds::error::SdkError::TimeoutError(_)),
        "{e:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let started = Instant::now();
    c.ecr.describe_repositories().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    // The other services are unaffected by the stalled one.
    c.apprunner.list_services().send().await.unwrap();
    emu.shutdown().await;
}

#[tokio::test]
async fn maintenance_blocks_operations_but_keeps_serving() {
    let emu = emulator_with(&[env("m")]).await;
    let c = clients(&emu).await;
    let (status, _) = admin(
        &emu,
        "/_scale0/faults/maintenance",
        json!({"service": "scale0-m"}),
    )
    .await;
    assert_eq!(status, 200);
    let arn = service_arn(&c, "scale0-m").await;
    let svc = c
        .apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        svc.service().unwrap().status(),
        &ServiceStatus::OperationInProgress
    );
    let url = format!("http://{}/", svc.service().unwrap().service_url().unwrap());
    assert_eq!(
        reqwest::get(&url).await.unwrap().status().as_u16(),
        200,
        "the app keeps serving"
    );
    let e = c
        .apprunner
        .pause_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(e.as_service_error().unwrap().is_invalid_state_exception());
    emu.advance(200.0);
    let svc = c
        .apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(svc.service().unwrap().status(), &ServiceStatus::Running);
    emu.shutdown().await;
}
