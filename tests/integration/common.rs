//! Helpers shared by the integration tests.

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_apprunner::config::{Credentials, Region};
use scale0::emulator::seed::{ClusterSpec, EnvSpec};
use scale0::emulator::{Emulator, Options, Seed};
use std::time::Duration;

/// Tests that measure throughput (calibration) and tests that load both cores for long
/// (the fault matrix, the fuzz test, the canary runs) take this in turn, so neither
/// skews the other.
pub static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The emulator's start time. Fixed (2026-11-23T10:00:00Z) so tests do not depend on the
/// wall clock; `SCALE0_TEST_CLOCK_OFFSET_DAYS=365` (or -365) starts it that many days from
/// the wall clock instead (on the hour), proving that nothing mixes the two clocks.
pub fn t0() -> f64 {
    static T0: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *T0.get_or_init(start_time)
}

/// The first Monday 10:00 UTC at or after `t`: calendar tests (weekday crons, sleep
/// windows) move the emulator there, so they hold at any clock offset. (In December, when
/// CI runs the offsets, Berlin is UTC+1 as these tests assume.)
pub fn next_monday_10_utc(t: f64) -> f64 {
    let day = (t / 86400.0).floor();
    // 1970-01-01 was a Thursday: Monday is 0 here.
    let weekday = (day as i64 + 3).rem_euclid(7);
    let mut monday = (day + ((7 - weekday) % 7) as f64) * 86400.0 + 10.0 * 3600.0;
    if monday < t {
        monday += 7.0 * 86400.0;
    }
    monday
}

fn start_time() -> f64 {
    const FIXED: f64 = 1_795_428_000.0;
    match std::env::var("SCALE0_TEST_CLOCK_OFFSET_DAYS") {
        Ok(days) => {
            let days: f64 = days
                .trim()
                .parse()
                .expect("SCALE0_TEST_CLOCK_OFFSET_DAYS is a number of days");
            let wall = scale0::clock::wall_now();
            (wall / 3600.0).floor() * 3600.0 + days * 86400.0
        }
        Err(_) => FIXED,
    }
}

/// An emulator on a frozen clock: time moves only when the test advances it.
pub async fn emulator(seed: Seed) -> Emulator {
    emulator_at(seed, t0()).await
}

/// An emulator on a frozen clock that starts at `start` (epoch seconds).
pub async fn emulator_at(seed: Seed, start: f64) -> Emulator {
    Emulator::start(Options {
        port: 0,
        speed: 0.0,
        seed,
        region: "us-east-1".into(),
        start_time: Some(start),
    })
    .await
    .expect("emulator starts")
}

/// An empty emulator with the given environments.
pub async fn emulator_with(envs: &[EnvSpec]) -> Emulator {
    let emu = emulator(Seed::Empty).await;
    for env in envs {
        emu.add_environment(env.clone())
            .await
            .expect("environment added");
    }
    emu
}

/// An environment with a v2 cluster that auto-pauses, tagged, owner "dev".
pub fn env(name: &str) -> EnvSpec {
    EnvSpec::new(name, "dev")
}

pub fn env_with_cluster(name: &str, cluster: ClusterSpec) -> EnvSpec {
    let mut e = EnvSpec::new(name, "dev");
    e.cluster = Some(cluster);
    e
}

/// SDK config for the emulator: static credentials, short timeouts, few retries.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(5))
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .load()
        .await
}

pub struct Clients {
    pub endpoint: String,
    pub apprunner: aws_sdk_apprunner::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub rds: aws_sdk_rds::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub rdsdata: aws_sdk_rdsdata::Client,
}

pub async fn clients(emu: &Emulator) -> Clients {
    let config = sdk_config(emu.endpoint_url()).await;
    Clients {
        endpoint: emu.endpoint_url().to_string(),
        apprunner: aws_sdk_apprunner::Client::new(&config),
        ecr: aws_sdk_ecr::Client::new(&config),
        rds: aws_sdk_rds::Client::new(&config),
        cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
        rdsdata: aws_sdk_rdsdata::Client::new(&config),
    }
}

/// The ARN of a service by name.
pub async fn service_arn(c: &Clients, name: &str) -> String {
    let services = c
        .apprunner
        .list_services()
        .send()
        .await
        .expect("list services");
    services
        .service_summary_list()
        .iter()
        .find(|s| s.service_name() == Some(name))
        .and_then(|s| s.service_arn())
        .unwrap_or_else(|| panic!("service {name} not listed"))
        .to_string()
}

/// POSTs JSON to an admin route and returns the JSON answer.
pub async fn admin(
    emu: &Emulator,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", emu.endpoint_url()))
        .json(&body)
        .send()
        .await
        .expect("admin request");
    let status = response.status().as_u16();
    let json = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, json)
}

/// The AWS error code of an SDK error.
pub fn code<E, R>(err: &aws_sdk_apprunner::error::SdkError<E, R>) -> String
where
    E: aws_sdk_apprunner::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err.as_service_error() {
        Some(e) => e.code().unwrap_or("<no code>").to_string(),
        None => format!("<not a service error: {err:?}>"),
    }
}
