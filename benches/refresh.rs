//! Refresh fan-out: one inventory of 50 environments against the emulator with an added
//! latency on every API call. A concurrent refresh takes a few call latencies; a serial
//! one would take (calls x latency). Prints both, the ratio, and the calls one refresh
//! makes. Run: cargo bench --bench refresh

use scale0::backend::aws::{AwsBackend, ConnectOptions};
use scale0::backend::config::Config;
use scale0::emulator::seed::EnvSpec;
use scale0::emulator::{Emulator, Options, Seed};
use std::time::{Duration, Instant};

const ENVIRONMENTS: usize = 50;
const LATENCY_MS: u64 = 50;
const RUNS: usize = 5;

#[tokio::main]
async fn main() {
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
    let backend = AwsBackend::connect(
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
    .expect("backend");
    // Warm up connections, then add the latency.
    backend.inventory().await.expect("inventory");
    let client = reqwest::Client::new();
    client
        .post(format!("{}/_scale0/faults", emu.endpoint_url()))
        .json(&serde_json::json!({"kind": "latency", "ms": LATENCY_MS}))
        .send()
        .await
        .expect("fault");

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
    println!("  API calls per refresh:        {calls_per_refresh}");
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
    emu.shutdown().await;
}
