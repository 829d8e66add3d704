//! The profile picker (in the settings window) and the login offer (over the problems):
//! every profile of the user's AWS config with its account, region, SSO session and
//! login, a checkbox each for the set to connect with, and an IAM Identity Center login
//! with its code to check while it waits.

use super::theme;
use crate::ui::accounts::{LoginOffer, LoginState, LoginView, LoginWord, ProfilesView};
use crate::ui::intent::Intent;
use egui::{RichText, Ui};

/// The picker; `chosen` is the active set, changed by the checkboxes (applied by the
/// settings window's Apply).
pub fn picker(ui: &mut Ui, view: &ProfilesView, chosen: &mut Vec<String>) -> Option<Intent> {
    let mut intent = None;
    ui.label(RichText::new("AWS profiles").strong());
    ui.label(
        RichText::new("Check several to see their environments together; none: the default chain")
            .small()
            .color(theme::MUTED),
    );
    if let Some(e) = &view.error {
        ui.colored_label(theme::ERROR, e);
    }
    if view.rows.is_empty() {
        if view.loading {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("reading your AWS config...");
            });
        } else if view.error.is_none() {
            ui.label("No profiles in your AWS config (~/.aws/config, AWS_CONFIG_FILE).");
        }
    } else {
        intent = rows(ui, view, chosen);
    }
    if let Some(login) = &view.login {
        intent = progress(ui, login).or(intent);
    }
    intent
}

/// One grid row per profile: the checkbox, what it reaches, its login.
fn rows(ui: &mut Ui, view: &ProfilesView, chosen: &mut Vec<String>) -> Option<Intent> {
    let mut intent = None;
    egui::Grid::new("profiles")
        .num_columns(5)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            for head in ["profile", "account", "region", "SSO session", "login"] {
                ui.label(RichText::new(head).small().color(theme::MUTED));
            }
            ui.end_row();
            for row in &view.rows {
                let mut on = chosen.contains(&row.name);
                if ui.checkbox(&mut on, &row.name).changed() {
                    if on {
                        chosen.push(row.name.clone());
                    } else {
                        chosen.retain(|n| n != &row.name);
                    }
                }
                ui.label(&row.account);
                ui.label(&row.region);
                ui.label(row.sso_session.as_deref().unwrap_or("-"));
                ui.horizontal(|ui| {
                    let colour = match &row.login {
                        LoginWord::LoggedIn { .. } => theme::OK,
                        LoginWord::NotSso(_) => theme::NEUTRAL,
                        _ => theme::WARN,
                    };
                    ui.colored_label(colour, row.login.text());
                    let pending = view.login.as_ref().is_some_and(|l| pending(l, &row.name));
                    if row.login.needs_login() && !pending && login_button(ui, &row.name) {
                        intent = Some(Intent::Login(row.name.clone()));
                    }
                });
                ui.end_row();
            }
        });
    intent
}

/// A login for `profile` is waiting for its code or its approval.
fn pending(login: &LoginView, profile: &str) -> bool {
    login.profile == profile
        && matches!(
            login.state,
            LoginState::Starting | LoginState::Waiting { .. }
        )
}

fn login_button(ui: &mut Ui, profile: &str) -> bool {
    ui.button(format!("Log in to {profile}"))
        .on_hover_text("Log in to IAM Identity Center in your browser (shared with the AWS CLI)")
        .clicked()
}

/// The banner over the problems: which active profiles need a login, and the one under way.
pub fn login_offer(ui: &mut Ui, offer: &LoginOffer) -> Option<Intent> {
    if offer.profiles.is_empty() && offer.login.is_none() {
        return None;
    }
    let mut intent = None;
    egui::Frame::new()
        .fill(theme::WARN.gamma_multiply(0.15))
        .inner_margin(6.0)
        .show(ui, |ui| {
            for profile in &offer.profiles {
                let pending = offer.login.as_ref().is_some_and(|l| pending(l, profile));
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new(format!("Profile {profile}"))
                            .color(theme::WARN)
                            .strong(),
                    );
                    ui.label("needs an IAM Identity Center (SSO) login.");
                    if !pending && login_button(ui, profile) {
                        intent = Some(Intent::Login(profile.clone()));
                    }
                });
            }
            if let Some(login) = &offer.login {
                intent = progress(ui, login).or(intent.take());
            }
        });
    intent
}

/// A login's progress: the page and the code to check while it waits, or how it ended.
fn progress(ui: &mut Ui, login: &LoginView) -> Option<Intent> {
    let mut intent = None;
    let profile = &login.profile;
    match &login.state {
        LoginState::Starting => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "Logging in {profile}: asking IAM Identity Center..."
                ));
                if ui.button("Cancel login").clicked() {
                    intent = Some(Intent::CancelLogin);
                }
            });
        }
        LoginState::Waiting { url, code } => {
            ui.horizontal_wrapped(|ui| {
                ui.spinner();
                ui.label(format!("Logging in {profile}: approve in your browser at"));
                ui.hyperlink_to(url, url);
            });
            ui.horizontal(|ui| {
                ui.label("Check that the page shows the code");
                ui.add(
                    egui::Label::new(RichText::new(code).monospace().strong().size(18.0))
                        .selectable(true),
                );
                if ui.button("Copy code").clicked() {
                    intent = Some(Intent::Copy(code.clone()));
                }
                if ui.button("Cancel login").clicked() {
                    intent = Some(Intent::CancelLogin);
                }
            });
        }
        LoginState::Done { until } => {
            ui.colored_label(theme::OK, format!("Logged in {profile} until {until}"));
        }
        LoginState::Failed(why) => {
            ui.colored_label(theme::ERROR, format!("Login to {profile} failed: {why}"));
        }
        LoginState::Cancelled => {
            ui.colored_label(
                theme::MUTED,
                format!("Login to {profile} cancelled: nothing was cached"),
            );
        }
    }
    intent
}
