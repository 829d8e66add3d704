//! Accounts: the user's AWS profiles and the IAM Identity Center login, through the real
//! `scale0` binary, the real SSO OIDC and portal SDK calls (aws-config's SSO provider)
//! against the emulator, with a temporary HOME holding a real-format AWS config and SSO
//! cache.

use crate::cli::{isolated_home, scale0};
use crate::common::*;
use crate::emulator_cli::py_tool;
use scale0::emulator::Seed;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn write_config(home: &Path, endpoint: &str) {
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/config"),
        format!(
            "[profile dev-sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Developer\nregion = us-east-1\nendpoint_url = {endpoint}\n\n\
             [profile prod-look]\nsso_session = corp\nsso_account_id = 210987654321\nsso_role_name = ReadOnly\nregion = eu-west-3\nendpoint_url = {endpoint}\n\n\
             [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n\n\
             [profile keys]\nregion = eu-west-1\n"
        ),
    )
    .unwrap();
    std::fs::write(
        home.join(".aws/credentials"),
        "[keys]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = not-a-real-secret\n",
    )
    .unwrap();
}

/// The token cache file the AWS CLI uses for sso-session "corp": SHA-1 of the name.
pub(crate) fn cache_file(home: &Path) -> std::path::PathBuf {
    home.join(".aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json")
}

/// Starts `scale0 login` and returns the child and the user code it printed (read on a
/// blocking thread: the emulator serves on this test's runtime meanwhile).
pub(crate) async fn start_login(home: &Path, extra: &[&str]) -> (std::process::Child, String) {
    let home = home.to_path_buf();
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || start_login_blocking(&home, &extra))
        .await
        .unwrap()
}

fn start_login_blocking(home: &Path, extra: &[String]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scale0"))
        .args(["login", "--profile", "dev-sso", "--no-browser", "--json"])
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join(".aws/config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("scale0 login starts");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let started = Instant::now();
    let mut code = None;
    while started.elapsed() < Duration::from_secs(60) {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(c) = line.split("shows the code: ").nth(1) {
            code = Some(c.trim().to_string());
            break;
        }
    }
    // Keep reading: a closed pipe would make the child's next message fail.
    std::thread::spawn(move || for _ in lines {});
    (child, code.expect("the login printed a user code"))
}

pub(crate) fn finish(child: std::process::Child) -> (i32, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_list_and_sso_login_shared_with_the_aws_cli() {
    let emu = emulator(Seed::Demo).await;
    let home = isolated_home();
    write_config(&home, emu.endpoint_url());

    // The profiles as the SDK's loader reads them: SSO, keys from the credentials file.
    let listed = scale0(&["profiles", "--json"], &[], &home).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let profiles = listed.json()["profiles"].as_array().unwrap().clone();
    let names: Vec<&str> = profiles
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dev-sso", "keys", "prod-look"]);
    assert_eq!(profiles[0]["account"], "123456789012");
    assert_eq!(profiles[0]["source"], "sso");
    assert_eq!(profiles[0]["sso"]["session"], "corp");
    assert_eq!(profiles[0]["token"]["state"], "missing");
    assert_eq!(profiles[1]["source"], "static_keys");
    assert!(!listed.stdout.contains("not-a-real-secret"));

    // Not logged in: a credentials error (exit 5) that names the command to run.
    let before = scale0(&["envs", "--profile", "dev-sso"], &[], &home).await;
    assert_eq!(before.code, 5, "{}", before.stderr);
    assert!(
        before.stderr.contains("scale0 login --profile dev-sso"),
        "{}",
        before.stderr
    );

    // Log in: the device flow, approved in "the browser" (the emulator's admin route).
    let (child, code) = start_login(&home, &[]).await;
    let (status, _) = admin(&emu, "/_scale0/sso/approve", json!({"userCode": code})).await;
    assert_eq!(status, 200);
    let (exit, stdout) = tokio::task::spawn_blocking(move || finish(child))
        .await
        .unwrap();
    assert_eq!(exit, 0, "{stdout}");
    let cache = cache_file(&home);
    let token: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    for field in [
        "accessToken",
        "expiresAt",
        "refreshToken",
        "clientId",
        "clientSecret",
        "region",
        "startUrl",
    ] {
        assert!(token.get(field).is_some(), "{field} in {token}");
    }
    assert_eq!(token["startUrl"], "https://corp.awsapps.com/start");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the token is private: {mode:o}");
    }
    // Nothing secret reached the output.
    let secret = token["accessToken"].as_str().unwrap();
    assert!(!stdout.contains(secret));

    // The SDK's own SSO provider now gets role credentials from the portal.
    let after = scale0(&["envs", "--profile", "dev-sso", "--json"], &[], &home).await;
    assert_eq!(after.code, 0, "{}", after.stderr);
    assert!(after.stdout.contains("\"qa\""), "{}", after.stdout);
    let listed = scale0(&["profiles", "--json"], &[], &home).await;
    assert_eq!(listed.json()["profiles"][0]["token"]["state"], "valid");

    // The AWS CLI reads the same login.
    let aws = Command::new(py_tool("aws"))
        .args([
            "apprunner",
            "list-services",
            "--profile",
            "dev-sso",
            "--output",
            "json",
        ])
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join(".aws/config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials"))
        .output()
        .unwrap();
    assert!(
        aws.status.success(),
        "aws: {}",
        String::from_utf8_lossy(&aws.stderr)
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_or_unapproved_login_caches_nothing() {
    let emu = emulator(Seed::Empty).await;
    let home = isolated_home();
    write_config(&home, emu.endpoint_url());

    let (child, code) = start_login(&home, &[]).await;
    admin(
        &emu,
        "/_scale0/sso/approve",
        json!({"userCode": code, "deny": true}),
    )
    .await;
    let (exit, _) = tokio::task::spawn_blocking(move || finish(child))
        .await
        .unwrap();
    assert_eq!(exit, 5, "denied is a credentials failure");
    assert!(!cache_file(&home).exists());

    let (child, _) = start_login(&home, &["--timeout", "3s"]).await;
    let started = Instant::now();
    let (exit, _) = tokio::task::spawn_blocking(move || finish(child))
        .await
        .unwrap();
    assert_eq!(exit, 4, "never approved: a timeout");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(!cache_file(&home).exists());

    // A corrupt token file is reported, not fatal.
    std::fs::create_dir_all(cache_file(&home).parent().unwrap()).unwrap();
    std::fs::write(cache_file(&home), "{not json").unwrap();
    let listed = scale0(&["profiles", "--json"], &[], &home).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(listed.json()["profiles"][0]["token"]["state"], "unreadable");
    let envs = scale0(&["envs", "--profile", "dev-sso"], &[], &home).await;
    assert_eq!(envs.code, 5, "{}", envs.stderr);

    // Bad input: a profile that does not exist, one that is not SSO, a config that does
    // not parse (say where).
    let missing = scale0(&["login", "--profile", "nope"], &[], &home).await;
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("dev-sso"), "{}", missing.stderr);
    let keys = scale0(&["login", "--profile", "keys"], &[], &home).await;
    assert_eq!(keys.code, 2);
    assert!(
        keys.stderr.contains("does not use IAM Identity Center"),
        "{}",
        keys.stderr
    );
    std::fs::write(home.join(".aws/config"), "[profile broken\nregion = x\n").unwrap();
    let broken = scale0(&["profiles"], &[], &home).await;
    assert_eq!(broken.code, 2, "{}", broken.stderr);
    assert!(broken.stderr.contains("config"), "{}", broken.stderr);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_accounts_refuse_every_mutating_command() {
    let emu = emulator(Seed::Demo).await;
    let home = isolated_home();
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/config"),
        "[profile prod-keys]\nregion = us-east-1\n\n[profile keys]\nregion = us-east-1\n",
    )
    .unwrap();
    std::fs::write(
        home.join(".aws/credentials"),
        "[prod-keys]\naws_access_key_id = AKIDPROD\naws_secret_access_key = x\n\n[keys]\naws_access_key_id = AKIDDEV\naws_secret_access_key = x\n",
    )
    .unwrap();
    let e = emu.endpoint_url().to_string();
    let run = |profile: &'static str, args: &'static [&'static str]| {
        let (e, home) = (e.clone(), home.clone());
        async move {
            let mut all = vec!["--profile", profile, "--endpoint-url", e.as_str()];
            all.extend_from_slice(args);
            scale0(&all, &[], &home).await
        }
    };

    // A production name is read-only by default: every mutating command exits 6 and
    // nothing changes; reading still works and says why.
    let envs = run("prod-keys", &["envs", "--json"]).await;
    assert_eq!(envs.code, 0, "{}", envs.stderr);
    assert!(
        envs.stdout.contains("looks like production"),
        "{}",
        envs.stdout
    );
    for args in [
        &["pause", "qa"][..],
        &["sleep", "qa"],
        &["wake", "carol"],
        &["resume", "carol"],
        &["wake-db", "dave"],
        &["stop-db", "qa"],
        &["deploy", "qa", "--tag", "qa"],
        &["rollback", "qa"],
        &["burst", "qa", "-n", "5"],
    ] {
        let mut all = vec!["--profile", "prod-keys", "--endpoint-url", e.as_str()];
        all.extend_from_slice(args);
        let r = scale0(&all, &[], &home).await;
        assert_eq!(r.code, 6, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("read-only"), "{args:?}: {}", r.stderr);
    }
    let status = run("prod-keys", &["status", "qa", "--json"]).await;
    assert!(
        status.stdout.contains("RUNNING"),
        "qa was not paused: {}",
        status.stdout
    );

    // Explicit settings win: an account id marked read-only, a production name lifted.
    let config = home.join("scale0.toml");
    std::fs::write(&config, "[accounts]\nread_only = [\"123456789012\"]\n").unwrap();
    let c = config.to_str().unwrap();
    let mut args = vec![
        "--profile",
        "keys",
        "--endpoint-url",
        e.as_str(),
        "--config",
        c,
    ];
    args.extend(["pause", "qa"]);
    assert_eq!(scale0(&args, &[], &home).await.code, 6);
    std::fs::write(&config, "[accounts]\nwritable = [\"prod-keys\"]\n").unwrap();
    let mut args = vec![
        "--profile",
        "prod-keys",
        "--endpoint-url",
        e.as_str(),
        "--config",
        c,
    ];
    args.extend(["pause", "qa"]);
    let paused = scale0(&args, &[], &home).await;
    assert_eq!(paused.code, 0, "{}", paused.stderr);
    emu.shutdown().await;
}
