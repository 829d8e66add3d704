//! The app behind each emulated service, driven by real HTTP clients on 127.0.0.1: cold
//! starts, connection exhaustion (the seed's 500s at 150 concurrent clients) and the
//! CloudWatch numbers that match what the clients saw.

use crate::common::*;
use crate::emulator_sdk::metric;
use scale0::emulator::Seed;
use scale0::emulator::seed::{ClusterSpec, EnvSpec, ServiceSpec};
use scale0::emulator::workload::TOO_MANY_CONNECTIONS;
use scale0::emulator::world::service::AppServer;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Barrier;

pub fn seed_like(name: &str, app_server: AppServer, max_size: u32) -> EnvSpec {
    let mut cluster = ClusterSpec::v1();
    cluster.max_connections = Some(100);
    EnvSpec {
        env: name.into(),
        owner: Some("dev".into()),
        tagged: true,
        service: Some(ServiceSpec {
            app_server,
            // The seed ran runserver with DEBUG on.
            debug: app_server == AppServer::ThreadPerConnection,
            max_size,
            ..ServiceSpec::default()
        }),
        cluster: Some(cluster),
    }
}

pub async fn service_url(c: &Clients, name: &str) -> String {
    let arn = service_arn(c, name).await;
    let svc = c
        .apprunner
        .describe_service()
        .service_arn(arn)
        .send()
        .await
        .unwrap();
    format!("http://{}/", svc.service().unwrap().service_url().unwrap())
}

/// `clients` separate HTTP clients (so separate TCP connections), each sending `rounds`
/// requests with every client connected at once. Returns (status, body) of each.
pub async fn burst(url: &str, clients: usize, rounds: usize) -> Vec<(u16, String)> {
    let barrier = Arc::new(Barrier::new(clients));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (url, barrier) = (url.to_string(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap();
            let mut out = Vec::new();
            for _ in 0..rounds {
                // A failed request is recorded (status 0), never a panic: the other
                // clients wait for this one at the barrier.
                match client.get(&url).send().await {
                    Ok(r) => out.push((r.status().as_u16(), r.text().await.unwrap_or_default())),
                    Err(e) => out.push((0, e.to_string())),
                }
                barrier.wait().await;
            }
            out
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.extend(t.await.expect("client task"));
    }
    results
}

#[tokio::test]
async fn a_paused_database_makes_the_first_request_wait() {
    let emu = emulator_with(&[seed_like("dev", AppServer::ThreadPerConnection, 25)]).await;
    let c = clients(&emu).await;
    let url = service_url(&c, "scale0-dev").await;
    emu.advance(400.0);
    let cl = c
        .rds
        .describe_db_clusters()
        .db_cluster_identifier("scale0dev")
        .send()
        .await
        .unwrap();
    assert_eq!(cl.db_clusters()[0].capacity(), Some(0), "paused");

    let request = tokio::spawn({
        let url = url.clone();
        async move { reqwest::get(url).await.expect("request").status().as_u16() }
    });
    // The clock is frozen: the request waits for the resume however long we wait here.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !request.is_finished(),
        "the request waits while the database resumes"
    );
    emu.advance(31.0);
    let status = tokio::time::timeout(Duration::from_secs(10), request)
        .await
        .expect("answered")
        .unwrap();
    assert_eq!(status, 200);

    emu.advance(60.0);
    let latency = metric(
        &c,
        "AWS/AppRunner",
        "RequestLatency",
        &[
            ("ServiceID", &service_id(&c, "scale0-dev").await),
            ("ServiceName", "scale0-dev"),
        ],
        "Maximum",
    )
    .await;
    assert!(
        latency.iter().any(|(_, ms)| *ms >= 30_000.0),
        "the cold start shows in RequestLatency: {latency:?}"
    );
    emu.shutdown().await;
}

async fn service_id(c: &Clients, name: &str) -> String {
    let arn = service_arn(c, name).await;
    arn.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn runserver_with_persistent_connections_runs_out_at_150_clients() {
    let emu = emulator_with(&[seed_like("dev", AppServer::ThreadPerConnection, 25)]).await;
    let c = clients(&emu).await;
    let url = service_url(&c, "scale0-dev").await;
    let results = burst(&url, 150, 2).await;
    let errors: Vec<_> = results.iter().filter(|(s, _)| *s == 500).collect();
    let ok = results.iter().filter(|(s, _)| *s == 200).count();
    // 100 max_connections less 3 reserved: 97 threads hold one, the others fail.
    assert!(
        !errors.is_empty() && ok > errors.len(),
        "statuses: {:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert_eq!(ok + errors.len(), 300, "every request answered");
    assert!(
        errors[0].1.contains(TOO_MANY_CONNECTIONS),
        "{}",
        errors[0].1
    );

    emu.advance(60.0);
    let id = service_id(&c, "scale0-dev").await;
    let dims = [("ServiceID", id.as_str()), ("ServiceName", "scale0-dev")];
    let sum = |name: &'static str| {
        let c = &c;
        async move {
            metric(c, "AWS/AppRunner", name, &dims, "Sum")
                .await
                .iter()
                .map(|p| p.1)
                .sum::<f64>()
        }
    };
    assert_eq!(sum("Requests").await, 300.0);
    assert_eq!(sum("5xxStatusResponses").await, errors.len() as f64);
    assert_eq!(sum("2xxStatusResponses").await, ok as f64);
    let connections = metric(
        &c,
        "AWS/RDS",
        "DatabaseConnections",
        &[("DBClusterIdentifier", "scale0dev")],
        "Maximum",
    )
    .await;
    assert_eq!(
        connections.iter().map(|p| p.1).fold(0.0, f64::max),
        97.0,
        "{connections:?}"
    );
    let instances = metric(&c, "AWS/AppRunner", "ActiveInstances", &dims, "Maximum").await;
    assert!(instances.iter().any(|p| p.1 >= 1.0), "{instances:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn bounded_workers_queue_instead_of_failing() {
    let emu = emulator_with(&[seed_like(
        "fixed",
        AppServer::Gunicorn {
            workers: 2,
            threads: 4,
        },
        4,
    )])
    .await;
    let c = clients(&emu).await;
    let url = service_url(&c, "scale0-fixed").await;
    let results = burst(&url, 150, 2).await;
    assert!(
        results.iter().all(|(s, _)| *s == 200),
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    emu.advance(60.0);
    let connections = metric(
        &c,
        "AWS/RDS",
        "DatabaseConnections",
        &[("DBClusterIdentifier", "scale0fixed")],
        "Maximum",
    )
    .await;
    assert!(
        connections.iter().all(|p| p.1 <= 32.0),
        "2 workers x 4 threads x 4 instances at most: {connections:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_paused_service_answers_503() {
    let emu = emulator_with(&[env("p")]).await;
    let c = clients(&emu).await;
    let url = service_url(&c, "scale0-p").await;
    assert_eq!(reqwest::get(&url).await.unwrap().status().as_u16(), 200);
    let arn = service_arn(&c, "scale0-p").await;
    c.apprunner
        .pause_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    emu.advance(130.0);
    assert_eq!(reqwest::get(&url).await.unwrap().status().as_u16(), 503);
    emu.shutdown().await;
}

/// `clients` clients sending `rounds` requests each, every request on a new TCP
/// connection (no keep-alive), all connected at once.
async fn burst_without_keep_alive(url: &str, clients: usize, rounds: usize) -> Vec<(u16, String)> {
    let barrier = Arc::new(Barrier::new(clients));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (url, barrier) = (url.to_string(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for _ in 0..rounds {
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(0)
                    .timeout(Duration::from_secs(20))
                    .build()
                    .unwrap();
                let r = client
                    .get(&url)
                    .header("connection", "close")
                    .send()
                    .await
                    .expect("request");
                out.push((r.status().as_u16(), r.text().await.unwrap_or_default()));
                barrier.wait().await;
            }
            out
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.extend(t.await.expect("client task"));
    }
    results
}

#[tokio::test]
async fn clients_without_keep_alive_run_out_of_connections_too() {
    let emu = emulator_with(&[seed_like("dev", AppServer::ThreadPerConnection, 1)]).await;
    let c = clients(&emu).await;
    let url = service_url(&c, "scale0-dev").await;
    // Every request holds a thread, and each thread its connection, while it waits for
    // the CPU: how fast the client reconnects does not matter.
    let results = burst_without_keep_alive(&url, 150, 2).await;
    let errors: Vec<_> = results.iter().filter(|(s, _)| *s == 500).collect();
    assert!(
        !errors.is_empty(),
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert!(
        errors
            .iter()
            .all(|(_, body)| body.contains(TOO_MANY_CONNECTIONS))
    );
    assert_eq!(results.len(), 300, "every request answered");
    emu.shutdown().await;
}

#[tokio::test]
async fn debug_error_pages_cost_more_cpu_and_show_the_cause() {
    let mut debug = seed_like("debug", AppServer::ThreadPerConnection, 1);
    let mut plain = seed_like("plain", AppServer::ThreadPerConnection, 1);
    for (spec, on) in [(&mut debug, true), (&mut plain, false)] {
        if let Some(s) = spec.service.as_mut() {
            s.debug = on;
        }
        // max_connections 3 leaves nothing beyond the reserved slots: every request fails.
        if let Some(c) = spec.cluster.as_mut() {
            c.max_connections = Some(3);
        }
    }
    let emu = emulator_with(&[debug, plain]).await;
    let c = clients(&emu).await;
    let mut cpu = Vec::new();
    for name in ["scale0-debug", "scale0-plain"] {
        let url = service_url(&c, name).await;
        let results = burst(&url, 4, 25).await;
        assert!(results.iter().all(|(s, _)| *s == 500));
        let shows_cause = results[0].1.contains(TOO_MANY_CONNECTIONS);
        assert_eq!(shows_cause, name == "scale0-debug", "{}", results[0].1);
        cpu.push(service_id(&c, name).await);
    }
    emu.advance(60.0);
    let mut utilisation = Vec::new();
    for (name, id) in ["scale0-debug", "scale0-plain"].iter().zip(&cpu) {
        let dims = [("ServiceID", id.as_str()), ("ServiceName", *name)];
        let points = metric(&c, "AWS/AppRunner", "CPUUtilization", &dims, "Maximum").await;
        utilisation.push(points.iter().map(|p| p.1).fold(0.0, f64::max));
    }
    assert!(
        utilisation[0] > 2.0 * utilisation[1],
        "DEBUG's technical 500 page costs far more than the plain one: {utilisation:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_full_instance_queues_then_answers_429_while_app_runner_scales_out() {
    let mut spec = seed_like("dev", AppServer::ThreadPerConnection, 3);
    if let Some(s) = spec.service.as_mut() {
        s.max_concurrency = 5;
    }
    let emu = emulator_with(&[spec]).await;
    let c = clients(&emu).await;
    let url = service_url(&c, "scale0-dev").await;
    // A paused database holds every request in flight while the frozen clock stands.
    emu.advance(400.0);
    let mut requests = Vec::new();
    for _ in 0..12 {
        let url = url.clone();
        requests.push(tokio::spawn(async move {
            reqwest::get(url).await.expect("request").status().as_u16()
        }));
    }
    // One instance takes 5, 5 more wait in the queue, the rest are refused at once.
    let finished =
        |r: &[tokio::task::JoinHandle<u16>]| r.iter().filter(|r| r.is_finished()).count();
    for _ in 0..200 {
        if finished(&requests) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(finished(&requests), 2, "only the 429s are answered yet");
    emu.advance(21.0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    emu.advance(15.0);
    let mut statuses = Vec::new();
    for r in requests {
        statuses.push(
            tokio::time::timeout(Duration::from_secs(20), r)
                .await
                .expect("answered")
                .unwrap(),
        );
    }
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        10,
        "{statuses:?}"
    );
    emu.advance(60.0);
    let id = service_id(&c, "scale0-dev").await;
    let dims = [("ServiceID", id.as_str()), ("ServiceName", "scale0-dev")];
    let instances = metric(&c, "AWS/AppRunner", "ActiveInstances", &dims, "Maximum").await;
    assert_eq!(
        instances.iter().map(|p| p.1).fold(0.0, f64::max),
        2.0,
        "10 requests held (2 refused) over MaxConcurrency 5: a second instance: {instances:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn the_demo_worlds_dev_runs_out_at_150_clients_and_qa_does_not() {
    // The default demo world tells the seed's story: dev (runserver, DEBUG, conn_max_age,
    // max_connections 100 in its parameter group) fails under 150 clients; qa (gunicorn,
    // bounded workers) does not.
    let emu = emulator(Seed::Demo).await;
    let c = clients(&emu).await;
    let dev = service_url(&c, "scale0-dev").await;
    let qa = service_url(&c, "scale0-qa").await;
    let (dev_results, qa_results) = tokio::join!(burst(&dev, 150, 2), burst(&qa, 150, 2));
    let dev_errors: Vec<_> = dev_results.iter().filter(|(s, _)| *s == 500).collect();
    assert!(
        !dev_errors.is_empty(),
        "dev: {:?}",
        dev_results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert!(dev_errors[0].1.contains(TOO_MANY_CONNECTIONS));
    // qa's bounded workers never run out of connections: no 5xx (a full instance's queue
    // may answer 429 while App Runner scales out, as it does for any app).
    assert!(
        qa_results.iter().all(|(s, _)| *s == 200 || *s == 429)
            && qa_results.iter().filter(|(s, _)| *s == 200).count() > qa_results.len() / 2,
        "qa: {:?}",
        qa_results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    emu.shutdown().await;
}
