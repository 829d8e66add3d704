//! The burst engine against real HTTP servers on 127.0.0.1: counts, statuses, errors
//! (resets, stalls, refused connections, 5xx), duration bounds, cancellation, and the
//! emulator's services as targets.

use crate::common::*;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use scale0::burst::stats::ErrorKind;
use scale0::burst::{self, BurstConfig};
use scale0::emulator::seed::{ClusterSpec, EnvSpec, ServiceSpec};
use scale0::emulator::world::service::AppServer;
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
