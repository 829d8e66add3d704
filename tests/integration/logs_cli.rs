//! `scale0 logs` and the log summary of `scale0 burst ENV` as a script sees them
//! (output, JSON, exit codes, a bounded --follow stopped with Ctrl-C), and `aws logs
//! tail` (AWS CLI v2) reading the emulator's logs.

use crate::common::*;
use crate::emulator_workload::{seed_like, service_url};
use scale0::emulator::world::service::AppServer;
use scale0::emulator::{Emulator, Seed};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn scale0_cmd(emu: &Emulator, args: &[&str]) -> Command {
    let home = std::env::temp_dir().join(format!("scale0-logs-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scale0"));
    cmd.args([
        "--endpoint-url",
        emu.endpoint_url(),
        "--region",
        "us-east-1",
    ])
    .args(args)
    .env_clear()
    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
    .env("HOME", &home)
    .env("XDG_CONFIG_HOME", home.join(".config"))
    .env("XDG_DATA_HOME", home.join(".local/share"))
    .env("XDG_RUNTIME_DIR", &home)
    .env("AWS_CONFIG_FILE", home.join(".aws/config"))
    .env("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials"))
    .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
    .env("AWS_SECRET_ACCESS_KEY", "secret")
    .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

async fn run(emu: &Emulator, args: &[&str]) -> (i32, String, String) {
    let mut cmd = scale0_cmd(emu, args);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("scale0 runs"))
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Lines a child prints, read on a thread so the test can wait with a bound.
fn lines_of(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Collects lines until one satisfies `done` or `limit` passes (then fails).
async fn wait_for(
    rx: &mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    limit: Duration,
    done: impl Fn(&str) -> bool,
) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        while let Ok(line) = rx.try_recv() {
            let hit = done(&line);
            seen.push(line);
            if hit {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no such line within {limit:?}; saw:\n{}", seen.join("\n"));
}

#[tokio::test]
async fn logs_prints_lines_json_and_the_exit_codes_of_the_cli() {
    let emu = emulator(Seed::Demo).await;
    let (code, out, err) = run(
        &emu,
        &["logs", "dev", "--source", "events", "--since", "2d"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().count() > 3, "{out}");
    assert!(
        out.lines().all(|l| l.contains(" events [AppRunner] ")),
        "{out}"
    );

    let (code, out, err) = run(
        &emu,
        &[
            "logs",
            "qa",
            "--since",
            "2d",
            "--filter",
            "Booting worker",
            "--json",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], 1);
    assert_eq!(v["source"], "app");
    let lines = v["lines"].as_array().unwrap();
    assert!(!lines.is_empty());
    assert!(
        lines
            .iter()
            .all(|l| l["message"].as_str().unwrap().contains("Booting worker"))
    );

    let (code, out, _) = run(&emu, &["logs", "qa", "--since", "2d", "--limit", "3"]).await;
    assert_eq!((code, out.lines().count()), (0, 3));

    // Nothing matches: exit 0, and it says so.
    let (code, out, err) = run(&emu, &["logs", "dev", "--filter", "no-line-has-this"]).await;
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(
        err.contains("no lines in /aws/apprunner/scale0-dev/"),
        "{err}"
    );
    // Log export off: exit 3, and how to turn it on.
    let (code, _, err) = run(&emu, &["logs", "dave", "--source", "db"]).await;
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("cloudwatch-logs-export-configuration"),
        "{err}"
    );
    // AWS refuses the pattern: exit 2 with its message.
    let (code, _, err) = run(&emu, &["logs", "dev", "--filter", "\"open"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("Invalid filter pattern"), "{err}");
    let (code, _, err) = run(&emu, &["logs", "nosuch"]).await;
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = run(&emu, &["logs", "dev", "--source", "everything"]).await;
    assert_eq!(code, 2);
    // Throttled on every call: retried, then exit 1 with AWS's code.
    let (status, body) = admin(
        &emu,
        "/_scale0/faults",
        serde_json::json!({"service": "logs", "operation": "FilterLogEvents", "kind": "throttle"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (code, _, err) = run(
        &emu,
        &["logs", "dev", "--source", "events", "--since", "2d"],
    )
    .await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("ThrottlingException"), "{err}");
    emu.shutdown().await;
}

#[tokio::test]
async fn logs_follow_prints_new_lines_once_and_stops_on_ctrl_c() {
    let emu = emulator_with(&[seed_like(
        "dev",
        AppServer::Gunicorn {
            workers: 2,
            threads: 4,
        },
        1,
    )])
    .await;
    let c = clients(&emu).await;
    let url = service_url(&c, "scale0-dev").await;
    // One request first: the instance starts (its start-up lines) and logs it.
    let http = reqwest::Client::new();
    emu.advance(1.0);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    let mut child = scale0_cmd(
        &emu,
        &["logs", "dev", "--follow", "--json", "--since", "1h"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let rx = lines_of(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    let access = |seen: &[String]| seen.iter().filter(|l| l.contains("GET / HTTP/1.1")).count();
    wait_for(&rx, &mut seen, Duration::from_secs(30), |l| {
        l.contains("GET / HTTP/1.1")
    })
    .await;
    assert!(
        seen.iter().any(|l| l.contains("Booting worker")),
        "{seen:#?}"
    );
    // Then each new request's access line as it comes, once.
    for _ in 0..3 {
        emu.advance(1.0);
        assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    }
    let deadline = Instant::now() + Duration::from_secs(40);
    while access(&seen) < 4 && Instant::now() < deadline {
        wait_for(&rx, &mut seen, Duration::from_secs(40), |l| {
            l.contains("GET / HTTP/1.1")
        })
        .await;
    }
    // A moment more: a line shown twice would come with the next poll.
    tokio::time::sleep(Duration::from_secs(3)).await;
    seen.extend(rx.try_iter());
    assert_eq!(access(&seen), 4, "{seen:#?}");
    let ids: Vec<String> = seen
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["line"]["id"].to_string())
        .collect();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no line twice");
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "scale0 logs --follow did not stop on Ctrl-C"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(0));
    emu.shutdown().await;
}

#[tokio::test]
async fn burst_env_prints_the_app_logs_errors_during_the_burst() {
    let emu = emulator_with(&[seed_like("dev", AppServer::ThreadPerConnection, 1)]).await;
    let (code, out, err) = run(
        &emu,
        &["burst", "dev", "-c", "150", "-n", "150", "--no-save"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("App log during the burst"), "{out}");
    assert!(
        out.contains("first error") && out.contains("remaining connection slots are reserved"),
        "{out}"
    );
    // The clock is frozen: move it, so the second burst's window holds only its own lines.
    emu.advance(10.0);
    let (code, out, err) = run(
        &emu,
        &[
            "burst",
            "dev",
            "-c",
            "150",
            "-n",
            "150",
            "--no-save",
            "--json",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let fives = v["statuses"]
        .as_object()
        .and_then(|s| s.get("500"))
        .and_then(Value::as_u64);
    assert!(
        v["app_log"]["error_lines"].as_u64().unwrap() > 0,
        "{}",
        v["app_log"]
    );
    if let Some(fives) = fives {
        assert_eq!(
            v["app_log"]["error_lines"].as_u64(),
            Some(fives),
            "one traceback per 500"
        );
    }
    emu.shutdown().await;
}

/// AWS CLI v2 (`logs tail` is v2 only): Debian's `awscli` package, which .ci/run installs.
fn aws_v2() -> std::path::PathBuf {
    let path = std::path::PathBuf::from(
        std::env::var("SCALE0_AWS_V2").unwrap_or_else(|_| "/usr/bin/aws".into()),
    );
    let version = Command::new(&path).arg("--version").output();
    match version {
        Ok(v) if String::from_utf8_lossy(&v.stdout).starts_with("aws-cli/2") => path,
        _ => panic!(
            "AWS CLI v2 not found at {} (apt-get install awscli, or set SCALE0_AWS_V2)",
            path.display()
        ),
    }
}

#[tokio::test]
async fn aws_logs_tail_reads_the_emulators_logs() {
    let emu = emulator(Seed::Demo).await;
    let groups = aws_sdk_cloudwatchlogs::Client::new(&sdk_config(emu.endpoint_url()).await)
        .describe_log_groups()
        .log_group_name_prefix("/aws/apprunner/scale0-qa/")
        .send()
        .await
        .unwrap();
    let service = groups
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name())
        .find(|n| n.ends_with("/service"))
        .unwrap()
        .to_string();
    // An absolute start on the emulator's clock (it is not the machine's).
    let since = scale0::emulator::shapes::iso8601(emu.clock().now() - 2.0 * 86400.0);
    let home = std::env::temp_dir().join(format!("scale0-awsv2-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = Command::new(aws_v2());
    cmd.args([
        "logs", "tail", &service, "--since", &since, "--format", "short",
    ])
    .args([
        "--endpoint-url",
        emu.endpoint_url(),
        "--region",
        "us-east-1",
    ])
    .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
    .env("AWS_SECRET_ACCESS_KEY", "secret")
    .env("AWS_CONFIG_FILE", home.join("config"))
    .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
    .env("AWS_PAGER", "")
    .env("HOME", &home);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("[AppRunner] Deployment with ID"),
        "{stdout}"
    );
    // The same lines scale0 reads.
    let (code, ours, err) = run(&emu, &["logs", "qa", "--source", "events", "--since", "2d"]).await;
    assert_eq!(code, 0, "{err}");
    let theirs: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("[AppRunner]"))
        .collect();
    let ours_events: Vec<&str> = ours.lines().collect();
    assert!(
        !theirs.is_empty() && theirs.len() >= ours_events.len(),
        "aws logs tail read {} lines of the group, scale0 {} of its events stream",
        theirs.len(),
        ours_events.len()
    );
    emu.shutdown().await;
}
