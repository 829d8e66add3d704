//! Issue 13's measured rows, rerun against the emulator: the seed's Wagtail app under
//! `hey -c 150` on 2 cores with max_connections 100, once under runserver (DEBUG, conn_max_age
//! 600, keep-alive clients) and once under gunicorn 4 workers x 8 threads. The worlds come
//! from world files, the load from scale0's own burst engine over 127.0.0.1. Checked as
//! the issue asks: requests per second per vCPU within 2x of the measurement, 500s present
//! or absent as measured, peak database connections within 25 % of the measured range.

use crate::common::*;
use scale0::burst::{self, BurstConfig};
use scale0::emulator::Seed;
use scale0::emulator::workload::TOO_MANY_CONNECTIONS;
use scale0::emulator::world_file;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

struct Measured {
    rps: (f64, f64),
    errors: bool,
    connections: (f64, f64),
}

/// Runs a 150-client burst for 10 seconds (as hey -z 10s did) and returns (rps per vCPU, 500s, peak
/// connections, a 500's body if any).
async fn calibrate(world: &str) -> (f64, u64, u32, Option<String>) {
    let _heavy = crate::common::HEAVY.lock().await;
    let emu = emulator(Seed::Empty).await;
    for env in world_file::parse(world).expect("world file") {
        emu.add_environment(env).await.expect("environment");
    }
    let (url, vcpus) = emu.with_world(|w, _| {
        (
            format!("http://{}/", w.services[0].url()),
            w.services[0].vcpus,
        )
    });
    // Peak connections, sampled while the burst runs.
    let peak = Arc::new(AtomicU32::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done, shared) = (peak.clone(), done.clone(), emu.shared().clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let connections = shared.world().0.clusters[0].connections;
                peak.fetch_max(connections, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    // Fresh clients during the load: what a 500 says, if there are any. Eight at a time,
    // as the front end hands each request to whichever app thread is idle, with or
    // without a database connection.
    let probe = {
        let (url, done) = (url.clone(), done.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            while !done.load(Ordering::Relaxed) {
                let round: Vec<_> = (0..8).map(|_| reqwest::get(url.clone())).collect();
                for r in futures_util::future::join_all(round)
                    .await
                    .into_iter()
                    .flatten()
                {
                    if r.status().as_u16() == 500 {
                        return r.text().await.ok();
                    }
                }
            }
            None
        })
    };
    let s = burst::start(BurstConfig {
        url: url.clone(),
        concurrency: 150,
        duration: Some(10.0),
        timeout: 20.0,
        ..BurstConfig::default()
    })
    .unwrap()
    .wait()
    .await;
    done.store(true, Ordering::Relaxed);
    sampler.await.unwrap();
    eprintln!(
        "{}: {:.1} rps, {} responses, statuses {:?}, peak connections {}",
        url,
        s.requests_per_second,
        s.responses,
        s.statuses,
        peak.load(Ordering::Relaxed)
    );
    let errors = s.status_count(500..=599);
    let body = probe.await.unwrap();
    emu.shutdown().await;
    (
        s.requests_per_second / vcpus,
        errors,
        peak.load(Ordering::Relaxed),
        body,
    )
}

fn check(name: &str, got: (f64, u64, u32, Option<String>), measured: Measured) {
    let (rps_per_vcpu, errors, peak, _) = got;
    // The machine measured had 2 cores.
    let (lo, hi) = (measured.rps.0 / 2.0, measured.rps.1 / 2.0);
    assert!(
        rps_per_vcpu >= lo / 2.0 && rps_per_vcpu <= hi * 2.0,
        "{name}: {rps_per_vcpu:.1} rps per vCPU against {lo}-{hi} measured"
    );
    assert_eq!(errors > 0, measured.errors, "{name}: {errors} 500s");
    let (lo, hi) = measured.connections;
    assert!(
        peak as f64 >= lo * 0.75 && peak as f64 <= hi * 1.25,
        "{name}: peak {peak} connections against {lo}-{hi} measured"
    );
}

#[tokio::test]
async fn runserver_with_debug_and_persistent_connections_matches_the_measurement() {
    let got = calibrate(
        r#"
[[environment]]
name = "runserver"
service = { server = "runserver", debug = true, conn_max_age = 600, vcpu = 2, max_concurrency = 200, max_size = 1 }
cluster = { mode = "v2", max_acu = 4, max_connections = 100 }
"#,
    )
    .await;
    let body = got.3.clone().unwrap_or_default();
    assert!(body.contains(TOO_MANY_CONNECTIONS), "{body}");
    check(
        "runserver",
        got,
        Measured {
            rps: (49.0, 61.0),
            errors: true,
            connections: (94.0, 96.0),
        },
    );
}

#[tokio::test]
async fn gunicorn_with_bounded_threads_matches_the_measurement() {
    let got = calibrate(
        r#"
[[environment]]
name = "gunicorn"
service = { server = "gunicorn", workers = 4, threads = 8, conn_max_age = 600, vcpu = 2, max_concurrency = 200, max_size = 1 }
cluster = { mode = "v2", max_acu = 4, max_connections = 100 }
"#,
    )
    .await;
    check(
        "gunicorn",
        got,
        Measured {
            rps: (233.0, 251.0),
            errors: false,
            connections: (17.0, 38.0),
        },
    );
}
