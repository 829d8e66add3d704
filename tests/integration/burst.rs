//! The burst engine against real HTTP servers on 127.0.0.1: counts, statuses, errors
//! (resets, stalls, refused connections, 5xx), duration bounds, cancellation, the
//! emulator's services as targets, shapes of load, the cold phase, and saved runs through
//! the CLI. HTTPS and HTTP/2 are in burst/tls.rs.

mod tls;

use crate::common::*;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use scale0::burst::stats::ErrorKind;
use scale0::burst::{self, BurstConfig};
use scale0::emulator::seed::{ClusterSpec, EnvSpec, ServiceSpec};
use scale0::emulator::world::service::AppServer;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BODY: &str = "hello from the test server\n";

/// A test server on a free loopback port; returns its base URL.
async fn server() -> String {
    let app = Router::new()
        .route("/ok", get(|| async { BODY }))
        .route(
            "/error",
            get(|| async { (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy") }),
        )
        .route(
            "/chunked",
            get(|| async {
                let chunks = ["one ", "two ", "three"]
                    .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::from(c)));
                Body::from_stream(futures_util::stream::iter(chunks))
            }),
        )
        .route(
            "/stall",
            get(|| async { std::future::pending::<&str>().await }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                BODY
            }),
        )
        .route(
            "/redirect",
            get(|| async { axum::response::Redirect::to("/ok") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// A server that accepts connections and closes them without answering.
async fn resetting_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    format!("http://{addr}")
}

fn config(url: String) -> BurstConfig {
    BurstConfig {
        url,
        concurrency: 10,
        timeout: 5.0,
        ..BurstConfig::default()
    }
}

#[tokio::test]
async fn counts_statuses_and_bytes() {
    let base = server().await;
    let s = burst::start(BurstConfig {
        requests: Some(500),
        ..config(format!("{base}/ok"))
    })
    .unwrap()
    .wait()
    .await;
    assert_eq!(s.responses, 500);
    assert_eq!(s.statuses.get(&200), Some(&500));
    assert!(s.bytes >= 500 * BODY.len() as u64, "{}", s.bytes);
    assert!(s.finished && !s.cancelled && s.errors_total == 0);
    assert!(s.latency.p50 > 0.0 && s.latency.p99 >= s.latency.p50);
    assert_eq!(s.per_second.iter().map(|p| p.responses).sum::<u64>(), 500);

    let s = burst::start(BurstConfig {
        requests: Some(50),
        ..config(format!("{base}/error"))
    })
    .unwrap()
    .wait()
    .await;
    assert_eq!(s.statuses.get(&503), Some(&50));
    assert_eq!(
        s.per_second.iter().map(|p| p.server_errors).sum::<u64>(),
        50
    );

    let s = burst::start(BurstConfig {
        requests: Some(40),
        ..config(format!("{base}/chunked"))
    })
    .unwrap()
    .wait()
    .await;
    assert_eq!(
        s.statuses.get(&200),
        Some(&40),
        "chunked bodies are read to the end: {:?}",
        s.errors
    );

    // The general client (redirects on) and the lean one (off) agree on what they see.
    let s = burst::start(BurstConfig {
        requests: Some(20),
        ..config(format!("{base}/redirect"))
    })
    .unwrap()
    .wait()
    .await;
    assert_eq!(s.statuses.get(&303), Some(&20));
    let s = burst::start(BurstConfig {
        requests: Some(20),
        follow_redirects: true,
        ..config(format!("{base}/redirect"))
    })
    .unwrap()
    .wait()
    .await;
    assert_eq!(s.statuses.get(&200), Some(&20));
    // Neither -n nor -z: hey's 200 requests.
    let s = burst::start(config(format!("{base}/ok")))
        .unwrap()
        .wait()
        .await;
    assert_eq!(s.responses, 200);
}

#[tokio::test]
async fn resets_stalls_and_refused_connections_are_errors() {
    let reset = resetting_server().await;
    let s = burst::start(BurstConfig {
        requests: Some(30),
        ..config(format!("{reset}/"))
    })
    .unwrap()
    .wait()
    .await;
    assert_eq!(s.responses, 0);
    assert_eq!(s.errors_total, 30, "{:?}", s.errors);
    assert!(
        s.errors
            .keys()
            .all(|k| matches!(k, ErrorKind::Reset | ErrorKind::Connect)),
        "{:?}",
        s.errors
    );

    let base = server().await;
    let s = burst::start(BurstConfig {
        requests: Some(20),
        concurrency: 5,
        timeout: 0.2,
        ..config(format!("{base}/stall"))
    })
    .unwrap()
    .wait()
    .await;
    assert_eq!(
        s.errors.get(&ErrorKind::Timeout),
        Some(&20),
        "{:?}",
        s.errors
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let s = burst::start(BurstConfig {
        requests: Some(10),
        ..config(format!("http://{closed}/"))
    })
    .unwrap()
    .wait()
    .await;
    assert_eq!(
        s.errors.get(&ErrorKind::Connect),
        Some(&10),
        "{:?}",
        s.errors
    );
}

#[tokio::test]
async fn duration_bounds_and_cancel_stop_within_a_second() {
    let base = server().await;
    let s = burst::start(BurstConfig {
        duration: Some(0.5),
        ..config(format!("{base}/ok"))
    })
    .unwrap()
    .wait()
    .await;
    assert!(s.finished && s.responses > 0);
    assert!(s.elapsed >= 0.5 && s.elapsed < 1.5, "{}", s.elapsed);

    // Every worker stuck on a stalled request; cancel ends them all at once.
    let handle = burst::start(BurstConfig {
        duration: Some(60.0),
        timeout: 30.0,
        ..config(format!("{base}/stall"))
    })
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let cancelled_at = Instant::now();
    handle.cancel();
    let s = tokio::time::timeout(Duration::from_secs(5), handle.wait())
        .await
        .expect("stops");
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(1),
        "{:?}",
        cancelled_at.elapsed()
    );
    assert!(s.cancelled && s.finished);
}

#[tokio::test]
async fn a_burst_at_150_against_the_seeds_runserver_gets_500s() {
    let mut cluster = ClusterSpec::v1();
    cluster.max_connections = Some(100);
    let env = EnvSpec {
        env: "dev".into(),
        owner: None,
        tagged: false,
        service: Some(ServiceSpec {
            app_server: AppServer::ThreadPerConnection,
            ..ServiceSpec::default()
        }),
        cluster: Some(cluster),
    };
    let emu = emulator_with(&[env]).await;
    let url = emu.with_world(|w, _| format!("http://{}/", w.services[0].url()));
    let s = burst::start(BurstConfig {
        url,
        concurrency: 150,
        requests: Some(1500),
        timeout: 10.0,
        ..BurstConfig::default()
    })
    .unwrap()
    .wait()
    .await;
    assert!(s.status_count(500..=599) > 0, "{:?}", s.statuses);
    assert!(s.status_count(200..=299) > 0, "{:?}", s.statuses);
    emu.shutdown().await;
}

#[tokio::test]
async fn stages_and_the_open_model_shape_the_load() {
    let base = server().await;
    // From 0 to 2 workers in the first second, then up to 10: the second second carries
    // several times the first one's load (each worker ~50 req/s against /slow).
    let s = burst::start(BurstConfig {
        stages: burst::shape::parse_stages("1s:2,1s:10").unwrap(),
        ..config(format!("{base}/slow"))
    })
    .unwrap()
    .wait()
    .await;
    let r: Vec<u64> = s.per_second.iter().map(|p| p.responses).collect();
    assert!(r.len() >= 2 && r[1] > 2 * r[0].max(1), "{r:?}");
    assert!(s.per_second[1].target > s.per_second[0].target);
    assert!(s.elapsed < 3.0 && s.errors_total == 0, "{s:?}");

    // Open model, enough workers: about rate x duration, none late.
    let s = burst::start(BurstConfig {
        rate: Some(200.0),
        duration: Some(1.0),
        correct_coordinated_omission: true,
        ..config(format!("{base}/ok"))
    })
    .unwrap()
    .wait()
    .await;
    assert!((180..=201).contains(&s.responses), "{}", s.responses);
    // "Late" is more than 10 ms behind schedule: a busy CI core can make a few so; the
    // contrast with the starved case below (more than half late) is what matters.
    assert!(s.late < s.responses / 3, "{} late", s.late);
    // Too few workers for the rate: requests go out late, and latency measured from when
    // they were due shows the queue that a closed-loop measurement would hide.
    let s = burst::start(BurstConfig {
        rate: Some(400.0),
        duration: Some(1.0),
        concurrency: 2,
        correct_coordinated_omission: true,
        ..config(format!("{base}/slow"))
    })
    .unwrap()
    .wait()
    .await;
    assert!(
        s.late > s.responses / 2,
        "{} late of {}",
        s.late,
        s.responses
    );
    assert!(s.latency.p99 > 5.0 * s.latency.min, "{:?}", s.latency);
}

/// A server asleep for its first 800 ms: it answers every third request with a 503 at
/// once and holds the others until it is awake; then it answers at once.
async fn sleeping_server() -> String {
    let first = Arc::new(Mutex::new(None::<Instant>));
    let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let app = Router::new().route(
        "/",
        get(move || {
            let (first, count) = (first.clone(), count.clone());
            async move {
                let start = *first.lock().unwrap().get_or_insert_with(Instant::now);
                let awake = start + Duration::from_millis(800);
                if Instant::now() >= awake {
                    return (axum::http::StatusCode::OK, "awake");
                }
                if count.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 3 == 2 {
                    return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "resuming");
                }
                tokio::time::sleep_until(awake.into()).await;
                (axum::http::StatusCode::OK, "awake")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/")
}

#[tokio::test]
async fn a_cold_start_is_measured_apart_from_the_warm_phase() {
    let url = sleeping_server().await;
    let handle = burst::start(BurstConfig {
        duration: Some(1.5),
        ..config(url)
    })
    .unwrap();
    handle.add_marker(0.7, "database resumed");
    let s = handle.wait().await;
    let cold = s.phases.cold.as_ref().expect("a cold phase");
    assert!(cold.reason.contains("before the first success"), "{cold:?}");
    let after = cold.first_success_after.unwrap();
    assert!((0.7..1.4).contains(&after), "{after}");
    assert!(cold.requests_waited >= 10, "{cold:?}");
    assert!(cold.server_errors > 0, "{cold:?}");
    let warm = &s.phases.warm;
    assert!(warm.responses > cold.requests_waited, "{warm:?}");
    assert_eq!(warm.server_errors, 0);
    assert!(
        warm.latency.p50 * 10.0 < cold.first_success_latency.unwrap(),
        "{s:?}"
    );
    assert_eq!(s.markers[0].text, "database resumed");

    // The same server, now awake: no cold phase.
    let s = burst::start(BurstConfig {
        requests: Some(100),
        ..config(s.url.clone())
    })
    .unwrap()
    .wait()
    .await;
    assert!(s.phases.cold.is_none(), "{:?}", s.phases);
    // Only the requests already in flight when the first success arrived are not warm.
    assert!(s.phases.warm.requests >= 100 - 10, "{:?}", s.phases);
}

async fn cli(args: &[&str], runs: &std::path::Path) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_scale0"))
        .args(args)
        .env("SCALE0_BURSTS_DIR", runs)
        .env("HOME", runs)
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_cli_saves_lists_compares_and_exports_runs() {
    let base = server().await;
    let url = format!("{base}/ok");
    let runs = std::env::temp_dir().join(format!("scale0-bursts-{}", uuid::Uuid::new_v4()));
    let (code, out, err) = cli(&["burst", &url, "--stages", "500ms:4,500ms:0"], &runs).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Load:         stages 0.5s:4,0.5s:0"), "{out}");
    assert!(out.contains("Per second:"), "{out}");
    assert!(err.contains("saved as"), "{err}");
    let (code, out, _) = cli(
        &["burst", &url, "-c", "3", "-n", "50", "--output", "csv"],
        &runs,
    )
    .await;
    assert_eq!(code, 0);
    assert!(out.starts_with("second,target,responses"), "{out}");
    let rows: u64 = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(rows, 50);
    let (code, out, _) = cli(&["burst", &url, "-n", "20", "--output", "json"], &runs).await;
    assert_eq!(code, 0);
    let record: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(record["result"]["responses"], 20);
    assert_eq!(record["settings"]["url"], url.as_str());

    let (code, out, _) = cli(&["burst", "list"], &runs).await;
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 4, "a header and three runs: {out}");
    let (code, out, err) = cli(&["burst", "compare", "last~2", "last~1"], &runs).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("load") && out.contains("requests/s"), "{out}");
    let (code, _, err) = cli(&["burst", "compare", "last", "nothing-like-this"], &runs).await;
    assert_eq!(code, 2, "{err}");

    let (code, out, _) = cli(
        &[
            "burst", &url, "--ramp", "10s", "-z", "30s", "--export", "k6",
        ],
        &runs,
    )
    .await;
    assert_eq!(code, 0);
    assert!(
        out.contains("'ramping-vus'") && out.contains("http_req_failed"),
        "{out}"
    );

    // Bad input: a clear message and the usage exit code; nothing sent, nothing saved.
    let (code, _, err) = cli(&["burst", &url, "--stages", "10s:10,30q:5"], &runs).await;
    assert_eq!(code, 2);
    assert!(err.contains("stage 2") && err.contains("30q"), "{err}");
    let (code, _, err) = cli(&["burst", "file:///etc/passwd"], &runs).await;
    assert_eq!(code, 2);
    assert!(err.contains("use http or https"), "{err}");
    // Nothing reachable: the (empty) results are shown and saved, and the exit code says so.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (code, out, err) = cli(&["burst", &format!("http://{closed}/"), "-n", "5"], &runs).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("connect") && err.contains("no response"),
        "{out}{err}"
    );
    let (_, out, _) = cli(&["burst", "list"], &runs).await;
    assert_eq!(out.lines().count(), 5, "{out}");
    std::fs::remove_dir_all(&runs).unwrap();
}

/// ECS Express woken from zero tasks, with the burst starting as the wake begins: its
/// load balancer answers 503 until the task passes its health check (60 emulated s, 2
/// real s at 30x), and that wait is the cold phase, apart from the warm one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_on_a_waking_ecs_service_measures_the_task_start_as_cold() {
    let emu = scale0::emulator::Emulator::start(scale0::emulator::Options {
        port: 0,
        speed: 30.0,
        seed: scale0::emulator::Seed::Empty,
        region: "us-east-1".into(),
        start_time: Some(t0()),
    })
    .await
    .expect("emulator starts");
    let mut hank = crate::emulator_ecs::express_env("hank", "hank", true);
    hank.cluster = None;
    emu.add_environment(hank).await.expect("environment added");
    let b = crate::backend::backend(&emu).await;
    let env = b
        .inventory()
        .await
        .unwrap()
        .resolve("hank")
        .unwrap()
        .clone();
    let url = env.service.as_ref().unwrap().http_url().unwrap();
    b.resume(&env).await.expect("resume asked");
    // Open model and a request cap: bounded in count and time.
    let handle = burst::start(BurstConfig {
        rate: Some(150.0),
        duration: Some(5.0),
        requests: Some(1000),
        concurrency: 5,
        ..config(url)
    })
    .unwrap();
    handle.add_marker(0.0, "asked ECS Express to resume");
    let s = handle.wait().await;
    let cold = s.phases.cold.as_ref().expect("a cold phase");
    assert!(cold.server_errors > 0, "503s while no task runs: {cold:?}");
    let after = cold.first_success_after.expect("a success");
    assert!((1.0..4.5).contains(&after), "the task's start: {after} s");
    let warm = &s.phases.warm;
    println!(
        "cold: first success after {after:.2} s, {} requests waited ({} 5xx); warm: {} responses, p50 {:.1} ms",
        cold.requests_waited, cold.server_errors, warm.responses, warm.latency.p50
    );
    assert!(warm.responses > 50, "{warm:?}");
    assert_eq!(warm.server_errors, 0, "{warm:?}");
    emu.shutdown().await;
}
