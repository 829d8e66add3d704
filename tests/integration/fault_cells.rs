//! Single cells of the fault matrix looked at closely: the JSON report's parts under a
//! fault, and what resume and deploy say when an image waits or a deploy rolls back.

use crate::common::*;
use crate::fault_matrix::{home, run_cli, world};
use serde_json::json;
use std::time::Duration;

/// The same cell in JSON: each part and its outcome, machine-readable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wake_json_carries_each_parts_outcome() {
    let emu = world().await;
    let (status, _) = admin(
        &emu,
        "/_scale0/faults",
        json!({"service": "apprunner", "kind": "throttle"}),
    )
    .await;
    assert_eq!(status, 201);
    let args: Vec<String> = [
        "--endpoint-url",
        emu.endpoint_url(),
        "--region",
        "us-east-1",
        "--json",
        "wake",
        "wake",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let home = home();
    let (code, stdout, stderr, _) = tokio::task::spawn_blocking(move || {
        run_cli(
            &args,
            &[("SCALE0_CALL_TIMEOUT", "10")],
            &home,
            Duration::from_secs(60),
        )
    })
    .await
    .expect("cli run");
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    // The report, then the error document: the first JSON value is the report.
    let report: serde_json::Value = serde_json::Deserializer::from_str(&stdout)
        .into_iter()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("a JSON report: {stdout}"));
    assert_eq!(report["outcome"], "partial", "{report}");
    let parts = report["parts"].as_array().expect("parts");
    let part = |name: &str| {
        parts
            .iter()
            .find(|p| p["part"] == name)
            .unwrap_or_else(|| panic!("part {name} in {report}"))
    };
    assert_eq!(part("service")["outcome"], "unknown");
    assert_eq!(part("service")["kind"], "throttled");
    assert_eq!(part("database")["outcome"], "done");
    emu.shutdown().await;
}

/// Resume says what it will really do when a newer image waits on the tag, and offers
/// resume-then-deploy; a deploy whose health check fails and rolls back exits 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_names_the_newer_image_and_a_rolled_back_deploy_is_a_failure() {
    let emu = world().await;
    let (status, _) = admin(
        &emu,
        "/_scale0/faults/deploy-failure",
        json!({"service": "scale0-deploy"}),
    )
    .await;
    assert_eq!(status, 200);
    let endpoint = emu.endpoint_url().to_string();
    let cli = |args: &[&str]| {
        let mut all: Vec<String> = ["--endpoint-url", &endpoint, "--region", "us-east-1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        all.extend(args.iter().map(|s| s.to_string()));
        tokio::task::spawn_blocking(move || run_cli(&all, &[], &home(), Duration::from_secs(90)))
    };
    let resume = cli(&["resume", "resume"]);
    let then_deploy = cli(&["resume", "wake", "--deploy-newer"]);
    let deploy = cli(&[
        "deploy",
        "deploy",
        "--tag",
        "wake",
        "--wait",
        "--timeout",
        "5m",
    ]);
    let (code, stdout, stderr, _) = resume.await.expect("resume");
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("newer image was pushed to :resume") && stderr.contains("--deploy-newer"),
        "resume says a newer image waits and offers resume-then-deploy: {stderr}"
    );
    let (code, stdout, stderr, _) = then_deploy.await.expect("resume then deploy");
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("resumed the service") && stdout.contains("started deploying"),
        "{stdout}"
    );
    let (code, stdout, stderr, _) = deploy.await.expect("deploy");
    assert_eq!(
        code, 3,
        "a rolled-back deploy is a failure: {stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("FAILED  deployment") && !stdout.contains("done    deployment"),
        "{stdout}"
    );
    emu.shutdown().await;
}
