//! Refresh fan-out: one inventory of 50 environments against the emulator with an added
//! latency on every API call. A concurrent refresh takes a few call latencies; a serial
//! one would take (calls x latency). Prints both, the ratio, and the calls one refresh
//! makes, cold (first refresh) and warm (every later one). Run: bench/refresh.sh

use scale0::backend::aws::{AwsBackend, ConnectOptions};
use scale0::backend::config::Config;
use scale0::emulator::seed::EnvSpec;
use scale0::emulator::{Emulator, Options, Seed};
use std::time::{Duration, Instant};

const ENVIRONMENTS: usize = 50;
/// Added to every API call (SCALE0_BENCH_LATENCY_MS overrides it).
const DEFAULT_LATENCY_MS: u64 = 100;
const RUNS: usize = 5;

/// A backend on the emulator's own clock.
async fn connect(emu: &Emulator) -> AwsBackend {
    AwsBackend::connect(
        ConnectOptions {
            endpoint_url: Some(emu.endpoint_url().to_string()),
            regions: vec!["us-east-1".into()],
            demo_credentials: true,
            ..ConnectOptions::default()
        },
        Config::default(),
        scale0::backend::server_clock::TimeSource::Shared(emu.clock().clone()),
    )
    .await
    .expect("backend")
}

#[tokio::main]
async fn main() {
    #[allow(non_snake_case)]
    let LATENCY_MS: u64 = std::env::var("SCALE0_BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_LATENCY_MS);
    let emu = Emulator::start(Options {
        seed: Seed::Empty,
        speed: 0.0,
        ..Options::default()
    })
    .await
    .expect("emulator");
    for i in 0..ENVIRONMENTS {
        emu.add_environment(EnvSpec::new(
            &format!("dev{i:02}"),
            &format!("owner{}", i % 7),
        ))
        .await
        .expect("environment");
    }
    let backend = connect(&emu).await;
    // Warm up connections, then add the latency.
    backend.inventory().await.expect("inventory");
    let client = reqwest::Client::new();
    client
        .post(format!("{}/_scale0/faults", emu.endpoint_url()))
        .json(&serde_json::json!({"kind": "latency", "ms": LATENCY_MS}))
        .send()
        .await
        .expect("fault");

    // Cold: a backend that has never refreshed (the CLI's case).
    let cold_backend = connect(&emu).await;
    let before = emu.shared().calls().values().sum::<u64>();
    let started = Instant::now();
    cold_backend.inventory().await.expect("inventory");
    let cold = started.elapsed();
    let cold_calls = emu.shared().calls().values().sum::<u64>() - before;

    // Warm: the desktop app's every refresh after the first.
    let mut times = Vec::new();
    let mut calls_per_refresh = 0;
    for _ in 0..RUNS {
        let before = emu.shared().calls().values().sum::<u64>();
        let started = Instant::now();
        let inv = backend.inventory().await.expect("inventory");
        times.push(started.elapsed());
        assert_eq!(inv.environments.len(), ENVIRONMENTS);
        calls_per_refresh = emu.shared().calls().values().sum::<u64>() - before;
    }
    times.sort();
    let median = times[RUNS / 2];
    let serial = Duration::from_millis(LATENCY_MS * calls_per_refresh);
    println!(
        "refresh of {ENVIRONMENTS} environments, {LATENCY_MS} ms added to every API call, {RUNS} runs"
    );
    println!(
        "  cold refresh (first):         {:.0} ms ({:.1} call latencies), {cold_calls} calls",
        cold.as_secs_f64() * 1000.0,
        cold.as_millis() as f64 / LATENCY_MS as f64
    );
    println!("  API calls per warm refresh:   {calls_per_refresh}");
    println!(
        "  median refresh time:          {:.0} ms ({:.1} call latencies)",
        median.as_secs_f64() * 1000.0,
        median.as_millis() as f64 / LATENCY_MS as f64
    );
    println!(
        "  serial estimate (calls x lat): {:.0} ms",
        serial.as_secs_f64() * 1000.0
    );
    println!(
        "  speed-up over serial:         {:.1}x",
        serial.as_secs_f64() / median.as_secs_f64()
    );
    println!(
        "  baseline (first version): 11.5 call latencies, 160 calls; ListServices returns at most \
         20 services a page, so {} pages are the floor for {ENVIRONMENTS} services",
        ENVIRONMENTS.div_ceil(20)
    );
    emu.shutdown().await;
}
