//! The desktop app's accounts: the profile picker reads a temporary HOME's real-format
//! AWS config and SSO cache (through `AwsFiles`, not the process environment), applies
//! several profiles at once, and a profile with no login offers "Log in", runs the
//! device flow against the emulator's IAM Identity Center (a cancel stops it, caching
//! nothing) and reconnects when approved.

use crate::accounts::{cache_file, write_config};
use crate::accounts_multi::log_in;
use crate::cli::isolated_home;
use crate::common::*;
use crate::ui::{empty_config, has_label, step_until};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use scale0::backend::profiles::AwsFiles;
use scale0::backend::session::Target;
use scale0::emulator::{Emulator, Seed};
use scale0::ui::accounts::LoginState;
use scale0::ui::worker::Worker;
use scale0::ui::{App, Settings};
use serde_json::json;
use std::path::Path;

/// The real app connecting with `profiles` of the AWS config in `home`.
fn app_in(home: &Path, profiles: &[&str]) -> Harness<'static, App> {
    let target = Target {
        profiles: profiles.iter().map(|p| p.to_string()).collect(),
        config_path: Some(empty_config()),
        aws_files: AwsFiles::in_home(home),
        ..Default::default()
    };
    let worker = Worker::spawn(target, |_| {});
    Harness::builder()
        .with_size(egui::vec2(1400.0, 2400.0))
        .build_ui_state(
            |ui, app: &mut App| app.show(ui),
            App::new(worker, Settings::default()),
        )
}

fn code_shown(h: &Harness<'static, App>) -> Option<String> {
    match h.state().login_state() {
        Some(LoginState::Waiting { code, .. }) if has_label(h, code) => Some(code.clone()),
        _ => None,
    }
}

async fn approve(emu: &Emulator, code: &str, deny: bool) {
    let (status, body) = admin(
        emu,
        "/_scale0/sso/approve",
        json!({"userCode": code, "deny": deny}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_picker_lists_profiles_and_applies_two_accounts_at_once() {
    let emu = emulator(Seed::Demo).await;
    let home = isolated_home();
    write_config(&home, emu.endpoint_url());
    log_in(&emu, &home).await;
    let mut h = app_in(&home, &["dev-sso"]);
    step_until(&mut h, &emu, 0.0, "dev-sso's environments", |h| {
        has_label(h, "dave")
    });
    assert!(!has_label(&h, "shop"), "one account so far");

    h.get_by_label("Settings").click();
    step_until(&mut h, &emu, 0.0, "the picker's profiles", |h| {
        has_label(h, "prod-look") && has_label(h, "logged in until")
    });
    for shown in [
        "dev-sso",
        "keys",
        "123456789012",
        "210987654321",
        "us-east-1",
        "eu-west-3",
        "eu-west-1",
        "corp",
        "access keys",
    ] {
        assert!(has_label(&h, shown), "{shown} in the picker");
    }
    assert!(!has_label(&h, "not-a-real-secret"));
    h.get_by_label("prod-look").click();
    h.run_steps(2);
    assert_eq!(h.state().settings.profiles(), ["dev-sso", "prod-look"]);
    h.get_by_label("Apply and reconnect").click();
    step_until(&mut h, &emu, 0.0, "both accounts' environments", |h| {
        has_label(h, "shop  scale0-production") && has_label(h, "dave  scale0-demo")
    });

    // The palette switches to one profile at once.
    h.get_by_label_contains("Actions (").click();
    h.run_steps(2);
    h.get_by_label("Switch to profile prod-look").click();
    step_until(&mut h, &emu, 0.0, "prod-look's environments alone", |h| {
        has_label(h, "shop") && !has_label(h, "dave")
    });
    assert_eq!(h.state().settings.profiles(), ["prod-look"]);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_without_a_login_offers_log_in_cancels_and_reconnects_when_approved() {
    let emu = emulator(Seed::Demo).await;
    let home = isolated_home();
    write_config(&home, emu.endpoint_url());
    let mut h = app_in(&home, &["dev-sso"]);
    step_until(&mut h, &emu, 0.0, "the login offer", |h| {
        has_label(h, "can't connect") && has_label(h, "Log in to dev-sso")
    });
    assert!(has_label(&h, "needs an IAM Identity Center (SSO) login"));

    // Cancelled while it waits: said, and an approval arriving after it caches nothing.
    h.get_by_label("Log in to dev-sso").click();
    step_until(&mut h, &emu, 0.0, "the user code", |h| {
        code_shown(h).is_some()
    });
    let cancelled_code = code_shown(&h).unwrap_or_default();
    h.get_by_label("Cancel login").click();
    step_until(&mut h, &emu, 0.0, "the cancel", |h| {
        has_label(h, "Login to dev-sso cancelled: nothing was cached")
            && has_label(h, "Log in to dev-sso")
    });
    assert_eq!(h.state().login_state(), Some(&LoginState::Cancelled));
    approve(&emu, &cancelled_code, false).await;
    for _ in 0..20 {
        h.step();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        !cache_file(&home).exists(),
        "a cancelled login caches nothing"
    );
    assert!(has_label(&h, "can't connect"), "still not connected");

    // Denied in the browser: said plainly, nothing cached, offered again.
    h.get_by_label("Log in to dev-sso").click();
    step_until(&mut h, &emu, 0.0, "the user code", |h| {
        code_shown(h).is_some_and(|c| c != cancelled_code)
    });
    let code = code_shown(&h).unwrap_or_default();
    assert!(has_label(&h, "Copy code"));
    approve(&emu, &code, true).await;
    step_until(&mut h, &emu, 0.0, "the denial", |h| {
        has_label(h, "the login was denied in the browser") && has_label(h, "Log in to dev-sso")
    });
    assert!(!cache_file(&home).exists(), "a denied login caches nothing");

    // Approved: the token goes to the CLI's cache and the window reconnects.
    h.get_by_label("Log in to dev-sso").click();
    step_until(&mut h, &emu, 0.0, "a new user code", |h| {
        code_shown(h).is_some_and(|c| c != code)
    });
    let code = code_shown(&h).unwrap_or_default();
    approve(&emu, &code, false).await;
    step_until(&mut h, &emu, 0.0, "dev-sso's environments", |h| {
        has_label(h, "dave") && !has_label(h, "can't connect")
    });
    assert!(cache_file(&home).exists());
    assert!(!has_label(&h, "Log in to dev-sso"), "the offer is gone");
    assert!(
        h.state()
            .notifications
            .iter()
            .any(|n| n.text.contains("logged in: profile dev-sso"))
    );
    emu.shutdown().await;
}
