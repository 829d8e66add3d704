//! Refresh fan-out: the inventory of N environments spread over R regions (one emulator per
//! region) with an added latency on every API call. A concurrent refresh takes a few call
//! latencies; a serial one would take (calls x latency). Prints the cold (first) refresh,
//! the median warm one, when the first region's environments were ready (the list shows
//! them then), the calls made, and the serial estimate as the baseline of the same run.
//!
//! Run: bench/refresh.sh [--environments N] [--regions R] [--latency-ms MS] [--runs K]
//!   bench/refresh.sh                                       # 50 environments, 1 region
//!   bench/refresh.sh --environments 200 --regions 3        # team scale (issue 20)

use scale0::backend::aws::{AwsBackend, ConnectOptions};
use scale0::backend::config::Config;
use scale0::emulator::seed::EnvSpec;
use scale0::emulator::{Emulator, Options, Seed};
use std::time::{Duration, Instant};

const REGIONS: [&str; 6] = [
    "us-east-1",
    "eu-west-1",
    "ap-southeast-2",
    "us-west-2",
    "eu-central-1",
    "ap-northeast-1",
];

struct Args {
    environments: usize,
    regions: usize,
    latency_ms: u64,
    runs: usize,
}

/// `--name value` pairs; cargo bench adds `--bench`, which is ignored.
fn args() -> Args {
    let mut out = Args {
        environments: 50,
        regions: 1,
        latency_ms: std::env::var("SCALE0_BENCH_LATENCY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100),
        runs: 5,
    };
    let all: Vec<String> = std::env::args().skip(1).collect();
    for pair in all.windows(2) {
        let value = pair[1].parse::<u64>().ok();
        match (pair[0].as_str(), value) {
            ("--environments", Some(v)) => out.environments = v as usize,
            ("--regions", Some(v)) => out.regions = (v as usize).clamp(1, REGIONS.len()),
            ("--latency-ms", Some(v)) => out.latency_ms = v,
            ("--runs", Some(v)) => out.runs = (v as usize).max(1),
            _ => {}
        }
    }
    out
}

/// A backend on the first emulator's clock, each region at its own emulator.
async fn connect(emulators: &[(String, Emulator)]) -> AwsBackend {
    AwsBackend::connect(
        ConnectOptions {
            regions: emulators.iter().map(|(r, _)| r.clone()).collect(),
            region_endpoints: emulators
                .iter()
                .map(|(r, e)| (r.clone(), e.endpoint_url().to_string()))
                .collect(),
            demo_credentials: true,
            ..ConnectOptions::default()
        },
        Config::default(),
        scale0::backend::server_clock::TimeSource::Shared(emulators[0].1.clock().clone()),
    )
    .await
    .expect("backend")
}

fn calls(emulators: &[(String, Emulator)]) -> u64 {
    emulators
        .iter()
        .map(|(_, e)| e.shared().calls().values().sum::<u64>())
        .sum()
}

fn latencies(d: Duration, latency_ms: u64) -> f64 {
    d.as_secs_f64() * 1000.0 / latency_ms as f64
}

#[tokio::main]
async fn main() {
    let a = args();
    let start = scale0::clock::wall_now();
    let mut emulators = Vec::new();
    for region in &REGIONS[..a.regions] {
        let emu = Emulator::start(Options {
            seed: Seed::Empty,
            speed: 0.0,
            region: region.to_string(),
            start_time: Some(start),
            ..Options::default()
        })
        .await
        .expect("emulator");
        emulators.push((region.to_string(), emu));
    }
    for i in 0..a.environments {
        let (_, emu) = &emulators[i % a.regions];
        let spec = EnvSpec::new(&format!("dev{i:03}"), &format!("owner{}", i % 7));
        emu.add_environment(spec).await.expect("environment");
    }
    let backend = connect(&emulators).await;
    // Warm up connections, then add the latency.
    backend.inventory().await.expect("inventory");
    let client = reqwest::Client::new();
    for (_, emu) in &emulators {
        client
            .post(format!("{}/_scale0/faults", emu.endpoint_url()))
            .json(&serde_json::json!({"kind": "latency", "ms": a.latency_ms}))
            .send()
            .await
            .expect("fault");
    }

    // Cold: a backend that has never refreshed (the CLI's case).
    let cold_backend = connect(&emulators).await;
    let before = calls(&emulators);
    let started = Instant::now();
    cold_backend.inventory().await.expect("inventory");
    let cold = started.elapsed();
    let cold_calls = calls(&emulators) - before;

    // Warm: the desktop app's every refresh after the first.
    let mut times = Vec::new();
    let mut firsts = Vec::new();
    let mut calls_per_refresh = 0;
    for _ in 0..a.runs {
        let before = calls(&emulators);
        let started = Instant::now();
        let mut first: Option<Duration> = None;
        let inv = backend
            .inventory_as_regions_answer(|_, _, _| {
                first.get_or_insert(started.elapsed());
            })
            .await
            .expect("inventory");
        let total = started.elapsed();
        times.push(total);
        firsts.push(first.unwrap_or(total));
        assert_eq!(inv.environments.len(), a.environments);
        assert!(inv.problems.is_empty(), "{:?}", inv.problems);
        calls_per_refresh = calls(&emulators) - before;
    }
    times.sort();
    firsts.sort();
    let median = times[a.runs / 2];
    let first = firsts[a.runs / 2];
    let serial = Duration::from_millis(a.latency_ms * calls_per_refresh);
    let l = a.latency_ms;
    println!(
        "refresh of {} environments in {} region(s), one emulator each, {l} ms added to every \
         API call, {} warm runs",
        a.environments, a.regions, a.runs
    );
    println!();
    println!("| refresh | time | call latencies | API calls |");
    println!("|---|---|---|---|");
    println!(
        "| cold (first; the CLI's case) | {:.0} ms | {:.1} | {cold_calls} |",
        cold.as_secs_f64() * 1000.0,
        latencies(cold, l)
    );
    println!(
        "| warm, first region listed | {:.0} ms | {:.1} | |",
        first.as_secs_f64() * 1000.0,
        latencies(first, l)
    );
    println!(
        "| warm, all regions (median) | {:.0} ms | {:.1} | {calls_per_refresh} |",
        median.as_secs_f64() * 1000.0,
        latencies(median, l)
    );
    println!(
        "| baseline: the same calls one after another | {:.0} ms | {calls_per_refresh} | {calls_per_refresh} |",
        serial.as_secs_f64() * 1000.0
    );
    println!();
    println!(
        "warm / serial: {:.3}x; goal (issue 20): 200 environments in 3 regions within 3 call \
         latencies",
        median.as_secs_f64() / serial.as_secs_f64()
    );
    for (_, emu) in emulators {
        emu.shutdown().await;
    }
}
