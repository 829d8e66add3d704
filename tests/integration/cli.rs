//! The `scale0` binary against the emulator: every command, JSON output, and the exit
//! codes scripts rely on (0 ok, 2 usage, 3 refused, 4 timeout, 5 credentials).

use crate::common::*;
use scale0::emulator::Seed;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

pub fn isolated_home() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scale0-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary with an empty home and no AWS settings but `env`.
pub async fn scale0(args: &[&str], env: &[(&str, &str)], home: &Path) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scale0"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_RUNTIME_DIR", home)
        .env("AWS_CONFIG_FILE", home.join(".aws/config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials"))
        // Never reach for instance metadata: tests talk to 127.0.0.1 only.
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("scale0 runs"))
        .await
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The CLI reads the server's clock, not the laptop's: an emulator days ahead of or behind
/// the wall clock still shows its paused database as paused, with its age on its clock.
#[tokio::test]
async fn status_uses_the_servers_clock_days_ahead_and_behind() {
    let wall = scale0::clock::wall_now();
    for days in [-9.0, 9.0] {
        let start = (wall / 3600.0).floor() * 3600.0 + days * 86400.0;
        let emu = emulator_at(Seed::Demo, start).await;
        let home = isolated_home();
        let e = emu.endpoint_url().to_string();
        let args = [
            "--endpoint-url",
            &e,
            "--region",
            "us-east-1",
            "status",
            "dave",
        ];
        let status = scale0(&args, &[], &home).await;
        assert_eq!(status.code, 0, "{}", status.stderr);
        assert!(
            status.stdout.contains("db paused") && !status.stdout.contains("unknown"),
            "{days} days: {}",
            status.stdout
        );
        let mut json_args = args.to_vec();
        json_args.push("--json");
        let json = scale0(&json_args, &[], &home).await.json();
        let since = json["environment"]["database"]["power"]["since"]
            .as_f64()
            .unwrap_or_else(|| panic!("{days} days: paused since a known time: {json}"));
        assert!(
            since <= start && since > start - 2.0 * 86400.0,
            "{days} days: paused since {since}, emulator at {start}"
        );
        emu.shutdown().await;
    }
}

#[tokio::test]
async fn every_command_against_the_emulator() {
    let emu = emulator(Seed::Demo).await;
    let home = isolated_home();
    let e = emu.endpoint_url().to_string();
    let run = |args: Vec<&str>| {
        let mut all = vec!["--endpoint-url", e.as_str(), "--region", "us-east-1"];
        all.extend(args);
        let all: Vec<String> = all.into_iter().map(str::to_string).collect();
        let home = home.clone();
        async move {
            scale0(
                &all.iter().map(String::as_str).collect::<Vec<_>>(),
                &[],
                &home,
            )
            .await
        }
    };

    let envs = run(vec!["envs"]).await;
    assert_eq!(envs.code, 0, "{}", envs.stderr);
    assert!(envs.stdout.starts_with("ENV"), "{}", envs.stdout);
    for name in ["dev", "qa", "carol", "dave", "erin", "frank", "reporting"] {
        assert!(
            envs.stdout.lines().any(|l| l.starts_with(name)),
            "{name} in\n{}",
            envs.stdout
        );
    }
    let json = run(vec!["envs", "--json"]).await.json();
    assert_eq!(json["schema"], 1);
    assert_eq!(
        json["environments"].as_array().unwrap().len(),
        10,
        "7 App Runner or unpaired, 3 ECS Express"
    );

    let status = run(vec!["status", "dave"]).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(status.stdout.contains("db paused"), "{}", status.stdout);
    assert!(status.stdout.contains("newer image"), "{}", status.stdout);
    let status = run(vec!["status", "dev", "--json"]).await.json();
    assert_eq!(
        status["connection_budget"]["over_budget"], true,
        "the seed's failure is diagnosed"
    );
    assert!(
        status["cost"]["per_month_at_recent_usage"]
            .as_f64()
            .unwrap()
            > 0.0
    );

    let events = run(vec!["events", "qa", "--since", "24h"]).await;
    assert_eq!(events.code, 0, "{}", events.stderr);
    assert!(
        events
            .stdout
            .contains("Successfully resumed the DB instance."),
        "{}",
        events.stdout
    );
    let images = run(vec!["images", "dev"]).await;
    assert!(
        images.stdout.contains("v1.5.1") && images.stdout.contains("configured"),
        "{}",
        images.stdout
    );

    let paused = run(vec!["pause", "dave"]).await;
    assert_eq!(paused.code, 0, "{}", paused.stderr);
    assert!(
        paused.stdout.contains("now   app pausing"),
        "{}",
        paused.stdout
    );
    let again = run(vec!["pause", "dave"]).await;
    assert_eq!(again.code, 3, "refused: {}", again.stderr);
    let again = run(vec!["pause", "dave", "--json"]).await.json();
    assert_eq!(again["error"]["kind"], "refused");

    let provisioned = run(vec!["sleep", "reporting"]).await;
    assert_eq!(provisioned.code, 0, "{}", provisioned.stderr);
    assert!(
        provisioned.stdout.contains("will not auto-pause"),
        "{}",
        provisioned.stdout
    );
    let stopping = run(vec!["sleep", "qa", "--stop-db"]).await;
    assert_eq!(stopping.code, 0, "{}", stopping.stderr);
    assert!(
        stopping.stdout.contains("stop scale0qa"),
        "{}",
        stopping.stdout
    );
    let wake = run(vec!["wake", "qa"]).await;
    assert_eq!(
        wake.code, 3,
        "waking a stopping cluster is refused: {}",
        wake.stderr
    );
    let deploying = run(vec!["deploy", "erin", "--tag", "v1.5.1"]).await;
    assert_eq!(deploying.code, 3, "{}", deploying.stderr);
    let paused_service = run(vec!["deploy", "carol", "--tag", "carol"]).await;
    assert_eq!(paused_service.code, 3);
    assert!(
        paused_service.stderr.contains("--resume"),
        "{}",
        paused_service.stderr
    );
    let bad_tag = run(vec!["deploy", "dev", "--tag", "bad tag"]).await;
    assert_eq!(bad_tag.code, 2, "{}", bad_tag.stderr);
    let deploy = run(vec!["deploy", "dev", "--tag", "v1.5.1", "--json"]).await;
    assert_eq!(deploy.code, 0, "{}", deploy.stderr);
    assert!(
        deploy.json()["steps"][0]["what"]
            .as_str()
            .unwrap()
            .contains("v1.5.1")
    );
    let rollback = run(vec!["rollback", "erin"]).await;
    assert_eq!(
        rollback.code, 3,
        "nothing recorded yet: {}",
        rollback.stderr
    );

    let unknown = run(vec!["status", "nobody"]).await;
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("unknown environment"),
        "{}",
        unknown.stderr
    );
    let typo = run(vec!["status", "dvae"]).await;
    assert_eq!(typo.code, 2);
    assert!(
        typo.stderr.contains("did you mean dave?"),
        "{}",
        typo.stderr
    );
    let negative = run(vec!["events", "qa", "--since", "-5m"]).await;
    assert_eq!(negative.code, 2);

    // The emulator's clock is frozen: a wait can only time out (real clock in the CLI).
    let wait = run(vec![
        "wake",
        "dave",
        "--db-only",
        "--wait",
        "--timeout",
        "2s",
    ])
    .await;
    assert_eq!(wait.code, 4, "timeout: {} {}", wait.stdout, wait.stderr);
    emu.shutdown().await;
}

#[tokio::test]
async fn missing_and_expired_credentials_say_what_to_run() {
    let home = isolated_home();
    let none = scale0(&["envs", "--region", "us-east-1"], &[], &home).await;
    assert_eq!(none.code, 5, "{}", none.stderr);
    assert!(
        none.stderr.contains("no AWS credentials found") && none.stderr.contains("aws configure"),
        "{}",
        none.stderr
    );
    assert_eq!(
        none.stderr.lines().count(),
        2,
        "one clear message, not a stack: {}",
        none.stderr
    );

    // An SSO profile whose cached token has expired (no refresh token, so nothing is
    // fetched; any SSO endpoint would be loopback anyway).
    std::fs::create_dir_all(home.join(".aws/sso/cache")).unwrap();
    std::fs::write(
        home.join(".aws/config"),
        "[profile dev]\nsso_session = s\nsso_account_id = 123456789012\nsso_role_name = Dev\nregion = us-east-1\n\n[sso-session s]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n",
    )
    .unwrap();
    // The cache file is named by the SHA-1 of the session name ("s").
    std::fs::write(
        home.join(".aws/sso/cache/a0f1490a20d0211c997b44bc357e1972deab8ae3.json"),
        r#"{"accessToken": "expired", "expiresAt": "2020-01-01T00:00:00Z", "region": "us-east-1", "startUrl": "https://example.awsapps.com/start"}"#,
    )
    .unwrap();
    let loopback = [
        ("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:9"),
        ("AWS_ENDPOINT_URL_SSO_OIDC", "http://127.0.0.1:9"),
    ];
    let expired = scale0(&["envs", "--profile", "dev"], &loopback, &home).await;
    assert_eq!(expired.code, 5, "{}", expired.stderr);
    assert!(
        expired.stderr.contains("aws sso login --profile dev"),
        "{}",
        expired.stderr
    );
}

#[tokio::test]
async fn demo_uses_a_running_emulator_or_starts_one() {
    let home = isolated_home();
    // Nothing running: one starts in-process, and the command works.
    let alone = scale0(&["--demo", "envs", "--json"], &[], &home).await;
    assert_eq!(alone.code, 0, "{}", alone.stderr);
    assert_eq!(alone.json()["environments"].as_array().unwrap().len(), 10);

    // A running emulator recorded in the runtime directory is used, so one-shot
    // commands see one world.
    let emu = emulator(Seed::Demo).await;
    std::fs::create_dir_all(home.join("scale0")).unwrap();
    std::fs::write(
        home.join("scale0/emulator-endpoint"),
        format!("{}\n", emu.endpoint_url()),
    )
    .unwrap();
    let paused = scale0(&["--demo", "pause", "qa"], &[], &home).await;
    assert_eq!(paused.code, 0, "{}", paused.stderr);
    let status = scale0(&["--demo", "status", "qa", "--json"], &[], &home).await;
    assert_eq!(
        status.json()["environment"]["service"]["status"],
        "OPERATION_IN_PROGRESS"
    );
    emu.shutdown().await;
}

/// A config file named with --config must exist (exit 2, saying which); a malformed one
/// is an error too, never silently ignored.
#[tokio::test]
async fn a_missing_or_malformed_config_file_is_bad_input() {
    let emu = emulator(Seed::Empty).await;
    let home = isolated_home();
    let e = emu.endpoint_url().to_string();
    let missing = home.join("nope.toml");
    let run = scale0(
        &[
            "--endpoint-url",
            &e,
            "--config",
            missing.to_str().unwrap(),
            "envs",
        ],
        &[],
        &home,
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("nope.toml"), "{}", run.stderr);
    let bad = home.join("bad.toml");
    std::fs::write(&bad, "[[environments]\nname = ").unwrap();
    let run = scale0(
        &[
            "--endpoint-url",
            &e,
            "--config",
            bad.to_str().unwrap(),
            "envs",
        ],
        &[],
        &home,
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("bad.toml"), "{}", run.stderr);
    emu.shutdown().await;
}
