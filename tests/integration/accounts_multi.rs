//! Several accounts at once: `--profile` more than once, through the real SDKs (the
//! device-flow login, aws-config's SSO provider, the SSO portal's ListAccounts) against
//! the emulator's two accounts, each with its own world, with a temporary HOME holding
//! a real-format AWS config and SSO cache.

use crate::accounts::{finish, start_login, write_config};
use crate::cli::{isolated_home, scale0};
use crate::common::*;
use scale0::emulator::Seed;
use scale0::emulator::accounts::PRODUCTION;
use serde_json::json;
use std::path::Path;

/// Logs in to the `corp` session (both SSO profiles use it) through `scale0 login`.
pub(crate) async fn log_in(emu: &scale0::emulator::Emulator, home: &Path) {
    let (child, code) = start_login(home, &[]).await;
    let (status, _) = admin(emu, "/_scale0/sso/approve", json!({"userCode": code})).await;
    assert_eq!(status, 200);
    let (exit, out) = tokio::task::spawn_blocking(move || finish(child))
        .await
        .unwrap();
    assert_eq!(exit, 0, "{out}");
}

/// A second SSO session nobody logged in to: its profile fails, the others work.
pub(crate) fn add_stale_profile(home: &Path, endpoint: &str) {
    let config = home.join(".aws/config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[profile stale-sso]\nsso_session = other\nsso_account_id = 123456789012\nsso_role_name = Developer\nregion = us-east-1\nendpoint_url = {endpoint}\n\n\
         [sso-session other]\nsso_start_url = https://other.awsapps.com/start\nsso_region = us-east-1\n"
    ));
    std::fs::write(config, text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_profiles_merge_labelled_by_account_and_a_failing_one_is_partial() {
    let emu = emulator(Seed::Demo).await;
    let home = isolated_home();
    write_config(&home, emu.endpoint_url());
    add_stale_profile(&home, emu.endpoint_url());
    log_in(&emu, &home).await;
    let both = ["--profile", "dev-sso", "--profile", "prod-look"];
    let with = |args: &[&str]| {
        let mut all = both.to_vec();
        all.extend_from_slice(args);
        all.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| {
        let home = home.clone();
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            scale0(&refs, &[], &home).await
        }
    };

    // Each account's own world, labelled with its ListAccounts alias; production (by
    // its alias) is read-only, the demo account is not.
    let envs = run(with(&["envs", "--json"])).await;
    assert_eq!(envs.code, 0, "{}", envs.stderr);
    let listed = envs.json()["environments"].as_array().unwrap().clone();
    let of = |account: &str| -> Vec<String> {
        listed
            .iter()
            .filter(|e| e["key"]["account"] == account)
            .map(|e| e["key"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (demo, production) = (of("scale0-demo"), of("scale0-production"));
    assert!(demo.contains(&"dev".to_string()), "{demo:?}");
    assert_eq!(production, ["qa", "shop"], "{listed:?}");
    assert!(!demo.contains(&"shop".to_string()));
    for e in &listed {
        let prod = e["key"]["account"] == "scale0-production";
        assert_eq!(e["read_only"].is_string(), prod, "{e}");
        if prod {
            assert!(e["service"]["arn"].as_str().unwrap().contains(PRODUCTION));
            assert_eq!(e["key"]["region"], "eu-west-3");
        }
    }
    let table = run(with(&["envs"])).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.starts_with("ENV"), "{}", table.stdout);
    assert!(table.stdout.contains("ACCOUNT"), "{}", table.stdout);
    assert!(
        table.stdout.contains("scale0-production"),
        "{}",
        table.stdout
    );

    // A name in both accounts is refused with the choices; qualified, it resolves.
    let ambiguous = run(with(&["status", "qa"])).await;
    assert_eq!(ambiguous.code, 2, "{}", ambiguous.stderr);
    assert!(
        ambiguous.stderr.contains("several accounts")
            && ambiguous.stderr.contains("scale0-demo/us-east-1/qa")
            && ambiguous.stderr.contains("scale0-production/eu-west-3/qa"),
        "{}",
        ambiguous.stderr
    );
    let status = run(with(&["status", "scale0-production/qa", "--json"])).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert_eq!(
        status.json()["environment"]["key"]["account"],
        "scale0-production"
    );

    // The guard is per account: production refuses, and its world is unchanged.
    let refused = run(with(&["pause", "scale0-production/shop"])).await;
    assert_eq!(refused.code, 6, "{}", refused.stderr);
    assert!(refused.stderr.contains("production"), "{}", refused.stderr);
    let prod_world = emu.shared().account(PRODUCTION).unwrap();
    let shop_running = prod_world
        .world()
        .0
        .services
        .iter()
        .any(|s| s.name == "scale0-shop" && s.status.as_aws() == "RUNNING");
    assert!(shop_running);

    // One profile that can't log in: its error is a warning, the rest is shown, exit 3.
    let partial = scale0(
        &["envs", "--profile", "dev-sso", "--profile", "stale-sso"],
        &[],
        &home,
    )
    .await;
    assert_eq!(partial.code, 3, "{}", partial.stderr);
    assert!(
        partial.stderr.contains("profile stale-sso")
            && partial.stderr.contains("scale0 login --profile stale-sso"),
        "{}",
        partial.stderr
    );
    assert!(partial.stdout.contains("scale0-demo"), "{}", partial.stdout);
    // Every profile failing is the credentials failure (exit 5).
    let none = scale0(
        &["envs", "--profile", "stale-sso", "--profile", "nope"],
        &[],
        &home,
    )
    .await;
    assert_eq!(none.code, 5, "{}", none.stderr);
    emu.shutdown().await;
}

/// The desktop app on two accounts of the emulator (each with its own credentials): the
/// list labels every row with its account, the production account's environment shows
/// the READ-ONLY marker and its pause button says why, the other account's does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_labels_rows_by_account_and_guards_production() {
    use crate::ui::{harness, has_label, step_until};
    use egui_kittest::kittest::Queryable;
    use scale0::backend::aws::{AwsBackend, ConnectOptions};
    use scale0::backend::config::Config;
    use scale0::emulator::accounts::{PRODUCTION_ALIAS, PRODUCTION_KEY};
    let emu = emulator(Seed::Demo).await;
    let demo = crate::backend::backend(&emu).await;
    let production = AwsBackend::connect(
        ConnectOptions {
            endpoint_url: Some(emu.endpoint_url().to_string()),
            regions: vec!["us-east-1".into()],
            credentials: Some(aws_credential_types::Credentials::new(
                PRODUCTION_KEY,
                "any",
                None,
                None,
                "test",
            )),
            ..ConnectOptions::default()
        },
        Config::default(),
        scale0::backend::server_clock::TimeSource::Shared(emu.clock().clone()),
    )
    .await
    .unwrap();
    let merged = AwsBackend::merge(
        vec![
            ("scale0-demo".into(), None, demo),
            (
                PRODUCTION_ALIAS.into(),
                Some(PRODUCTION_ALIAS.into()),
                production,
            ),
        ],
        Vec::new(),
    )
    .unwrap();
    let mut h = harness(&emu, merged);
    step_until(&mut h, &emu, 0.0, "both accounts' rows", |h| {
        has_label(h, "shop  scale0-production") && has_label(h, "dave  scale0-demo")
    });
    assert!(has_label(&h, "qa  scale0-production") && has_label(&h, "qa  scale0-demo"));
    h.run_steps(4);
    h.get_by_label("shop  scale0-production").click();
    step_until(&mut h, &emu, 0.0, "shop's header", |h| {
        has_label(h, "READ-ONLY") && has_label(h, "account scale0-production (210987654321)")
    });
    h.get_by_label("dave  scale0-demo").click();
    step_until(&mut h, &emu, 0.0, "dave's header", |h| {
        has_label(h, "account scale0-demo (123456789012)")
    });
    assert!(!has_label(&h, "READ-ONLY"), "the demo account is writable");
    emu.shutdown().await;
}
