//! No secret leaks: the CLI and the app run with a canary secret key and session token,
//! at every log level (RUST_LOG=trace included), through the error paths of the fault
//! matrix (throttling, expired token, access denied, malformed answers, stalls, an
//! unreachable endpoint, a failing credential process); the canary must appear in no
//! output, no log line and no file scale0 writes (its XDG directories point at a temp
//! home, which is searched afterwards).

use crate::common::*;
use crate::fault_matrix::run_cli;
use scale0::backend::aws::{AwsBackend, ConnectOptions};
use scale0::backend::config::Config;
use scale0::emulator::Seed;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

fn canary() -> (String, String) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    (format!("CanarySecret{id}"), format!("CanaryToken{id}"))
}

/// Every file under `dir` that contains one of `needles`.
fn files_containing(dir: &Path, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    // Bounded: a temp home holds a few dozen files.
    for _ in 0..10_000 {
        let Some(d) = stack.pop() else { break };
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                let text = String::from_utf8_lossy(&bytes);
                if needles.iter().any(|n| text.contains(n)) {
                    found.push(path.display().to_string());
                }
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_never_shows_logs_or_writes_the_canary_secret() {
    let _heavy = HEAVY.lock().await;
    // A fast clock: waking a database takes 15-30 emulated seconds.
    let emu = scale0::emulator::Emulator::start(scale0::emulator::Options {
        port: 0,
        speed: 60.0,
        seed: Seed::Demo,
        region: "us-east-1".into(),
        start_time: Some(t0()),
    })
    .await
    .expect("emulator starts");
    let (secret, token) = canary();
    let home = std::env::temp_dir().join(format!("scale0-canary-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(home.join(".aws")).expect("home");
    // A credential process that fails and prints the secret: its error must not echo it.
    std::fs::write(
        home.join(".aws/config"),
        format!(
            "[profile broken]\nregion = us-east-1\ncredential_process = sh -c 'echo {secret} {token}; echo {secret} >&2; exit 3'\n"
        ),
    )
    .expect("aws config");
    let endpoint = emu.endpoint_url().to_string();
    let faults = [
        None,
        Some(json!({"kind": "throttle"})),
        Some(json!({"service": "apprunner", "kind": "expired_token"})),
        Some(json!({"service": "rds", "kind": "access_denied"})),
        Some(json!({"kind": "malformed"})),
        Some(json!({"service": "ecr", "kind": "stall"})),
    ];
    let commands: [&[&str]; 5] = [
        &["envs"],
        &["status", "dave"],
        &["wake", "carol", "--timeout", "20s"],
        &["deploy", "dave", "--tag", "dave"],
        &["burst", "dave", "-n", "5", "-c", "1"],
    ];
    let started = Instant::now();
    let mut runs = 0;
    // One fault at a time (they are global to the emulator); its runs concurrently.
    for fault in faults {
        reqwest::Client::new()
            .delete(format!("{endpoint}/_scale0/faults"))
            .send()
            .await
            .expect("faults cleared");
        if let Some(rule) = fault {
            let (status, body) = admin(&emu, "/_scale0/faults", rule).await;
            assert_eq!(status, 201, "{body}");
        }
        let mut batch = Vec::new();
        for level in ["trace", "debug", "info", "warn"] {
            for args in commands {
                let mut all: Vec<String> = ["--endpoint-url", &endpoint, "--region", "us-east-1"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                all.extend(args.iter().map(|s| s.to_string()));
                let env: Vec<(&'static str, String)> = vec![
                    ("AWS_ACCESS_KEY_ID", "AKIACANARYKEY".into()),
                    ("AWS_SECRET_ACCESS_KEY", secret.clone()),
                    ("AWS_SESSION_TOKEN", token.clone()),
                    ("RUST_LOG", level.into()),
                    ("SCALE0_CALL_TIMEOUT", "4".into()),
                ];
                let h = home.clone();
                batch.push(tokio::task::spawn_blocking(move || {
                    let env: Vec<(&str, &str)> =
                        env.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    (
                        args,
                        level,
                        run_cli(&all, &env, &h, Duration::from_secs(60)),
                    )
                }));
            }
        }
        for run in batch {
            let (args, level, (code, stdout, stderr, _)) = run.await.expect("cli run");
            runs += 1;
            for (what, text) in [("stdout", &stdout), ("stderr", &stderr)] {
                assert!(
                    !text.contains(&secret) && !text.contains(&token),
                    "{args:?} at {level} leaked the canary in {what} (exit {code})"
                );
            }
            assert_ne!(code, -9, "{args:?} at {level} hung");
        }
    }
    // The unreachable endpoint and the failing credential process, at trace.
    for (args, env) in [
        (
            vec![
                "--endpoint-url",
                "http://127.0.0.1:1",
                "--region",
                "us-east-1",
                "envs",
            ],
            vec![
                ("AWS_ACCESS_KEY_ID", "AKIACANARYKEY"),
                ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
                ("AWS_SESSION_TOKEN", token.as_str()),
            ],
        ),
        (
            vec!["--profile", "broken", "--region", "us-east-1", "envs"],
            vec![("AWS_PROFILE", "broken")],
        ),
    ] {
        let all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut env: Vec<(&str, String)> =
            env.into_iter().map(|(k, v)| (k, v.to_string())).collect();
        env.push(("RUST_LOG", "trace".into()));
        let h = home.clone();
        let (code, stdout, stderr, _) = tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            run_cli(&all, &env, &h, Duration::from_secs(60))
        })
        .await
        .expect("cli run");
        runs += 1;
        assert!(code != 0 && code != -9, "{args:?}: exit {code}\n{stderr}");
        assert!(
            !stdout.contains(&secret)
                && !stderr.contains(&secret)
                && !stdout.contains(&token)
                && !stderr.contains(&token),
            "{args:?} leaked the canary: {stderr}"
        );
    }
    // The burst runs were saved (a file scale0 wrote), and none holds the canary.
    let saved = files_containing(&home.join(".local/share"), &["\"requests\"", "responses"]);
    assert!(
        !saved.is_empty(),
        "burst runs were saved under the temp home"
    );
    let leaked = files_containing(&home, &[&secret, &token]);
    let leaked: Vec<String> = leaked
        .into_iter()
        .filter(|f| !f.ends_with(".aws/config"))
        .collect();
    assert!(leaked.is_empty(), "files with the canary: {leaked:?}");
    println!(
        "canary: {runs} CLI runs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    emu.shutdown().await;
}

/// The app, connected with the canary credentials, through failing reads: no text it shows (problems banner, notifications, every label) holds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_never_shows_the_canary_secret() {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    let emu = emulator(Seed::Demo).await;
    let (secret, token) = canary();
    let backend = AwsBackend::connect(
        ConnectOptions {
            endpoint_url: Some(emu.endpoint_url().to_string()),
            regions: vec!["us-east-1".into()],
            credentials: Some(aws_sdk_apprunner::config::Credentials::new(
                "AKIACANARYKEY",
                secret.clone(),
                Some(token.clone()),
                None,
                "canary",
            )),
            operation_timeout: Some(Duration::from_secs(5)),
            ..ConnectOptions::default()
        },
        Config::default(),
        scale0::backend::server_clock::TimeSource::Shared(emu.clock().clone()),
    )
    .await
    .expect("backend connects");
    let worker = scale0::ui::worker::Worker::with_backend(
        &tokio::runtime::Handle::current(),
        backend,
        "canary".into(),
        |_| {},
    );
    let app = scale0::ui::App::new(worker, scale0::ui::Settings::default());
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 2400.0))
        .build_ui_state(|ui, app: &mut scale0::ui::App| app.show(ui), app);
    let started = Instant::now();
    // First a good refresh (carol is known), then every read fails.
    for _ in 0..1500 {
        h.step();
        if h.query_all_by_label_contains("carol").next().is_some() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no environments"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    for rule in [
        json!({"service": "apprunner", "kind": "throttle"}),
        json!({"service": "monitoring", "kind": "malformed"}),
        json!({"service": "rds", "kind": "access_denied"}),
    ] {
        let (status, _) = admin(&emu, "/_scale0/faults", rule).await;
        assert_eq!(status, 201);
    }
    h.get_by_label("Refresh").click();
    // Bounded: until the banner names the failing services, at most 30 s.
    for _ in 0..1500 {
        h.step();
        if h.query_all_by_label_contains("throttled").next().is_some()
            && h.query_all_by_label_contains("access denied")
                .next()
                .is_some()
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no problems banner"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Carol stays listed, stale; her service and database could not be read: the
    // buttons say so instead of acting on a guess.
    assert!(
        h.query_all_by_label_contains("stale").next().is_some(),
        "stale marked"
    );
    h.get_by_label("carol").click();
    h.run_steps(3);
    assert!(
        h.query_all_by_label_contains("Wake environment (state unknown)")
            .next()
            .is_some(),
        "the wake button says its state is unknown"
    );
    for _ in 0..100 {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        h.query_all_by_label_contains(&secret).next().is_none()
            && h.query_all_by_label_contains(&token).next().is_none(),
        "a label shows the canary"
    );
    for n in &h.state().notifications {
        assert!(
            !n.text.contains(&secret) && !n.text.contains(&token),
            "{}",
            n.text
        );
    }
    emu.shutdown().await;
}
