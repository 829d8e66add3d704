//! Several profiles at once: each connects on its own (so one expired login does not stop
//! the others), and the ones that connect become one backend whose regions carry their
//! account's label: its alias from IAM Identity Center's ListAccounts where the profile
//! logs in through it, else its account id, else the profile's name. A profile that does
//! not connect becomes a problem every refresh shows.

use super::aws::{AwsBackend, ConnectOptions};
use super::config::Config;
use super::knowledge::Misses;
use super::profiles::{self, AwsFiles, ProfileInfo, TokenState};
use super::server_clock::TimeSource;
use super::{BackendError, ReadFailure};
use std::time::Duration;

/// What one profile of several is called in the list, and its alias where known.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountLabel {
    pub label: String,
    pub alias: Option<String>,
}

/// The label for `profile`: alias, account id, or the profile's name.
pub async fn label(profile: &str, endpoint_url: Option<&str>, files: &AwsFiles) -> AccountLabel {
    let info = match profiles::load(files).await {
        Ok(set) => profiles::describe(&set, profile, files).ok(),
        Err(_) => None,
    };
    let alias = match &info {
        Some(i) => sso_alias(i, endpoint_url, files).await,
        None => None,
    };
    let label = alias
        .clone()
        .or_else(|| info.and_then(|i| i.account))
        .unwrap_or_else(|| profile.to_string());
    AccountLabel { label, alias }
}

/// The account's name from ListAccounts, with the profile's cached SSO token (read
/// here, never kept or logged). None when there is no valid token or the call fails.
async fn sso_alias(
    info: &ProfileInfo,
    endpoint_url: Option<&str>,
    files: &AwsFiles,
) -> Option<String> {
    let (sso, account) = (info.sso.as_ref()?, info.account.as_deref()?);
    if !matches!(info.token, Some(TokenState::Valid { .. })) {
        return None;
    }
    let text = std::fs::read_to_string(&sso.cache_file).ok()?;
    let token = serde_json::from_str::<serde_json::Value>(&text)
        .ok()?
        .get("accessToken")?
        .as_str()?
        .to_string();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .profile_name(&info.name)
        .region(aws_config::Region::new(sso.region.clone()))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
        .no_credentials();
    if !files.is_process() {
        loader = loader.env(files.sdk_env());
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let portal = aws_sdk_sso::Client::new(&loader.load().await);
    let mut pages = portal
        .list_accounts()
        .access_token(token)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page
            .inspect_err(|e| {
                let plain = aws_smithy_types::error::display::DisplayErrorContext(e);
                tracing::debug!(error = %plain, "ListAccounts failed; the account id labels it");
            })
            .ok()?;
        if let Some(found) = page
            .account_list()
            .iter()
            .find(|a| a.account_id() == Some(account))
        {
            return found.account_name().map(str::to_string);
        }
    }
    None
}

/// Connects each profile; None when none of them did (the first error says why).
pub async fn connect(
    profiles: &[String],
    options: &ConnectOptions,
    config: &Config,
) -> Result<AwsBackend, BackendError> {
    let attempts = profiles.iter().map(|p| async move {
        let label = label(p, options.endpoint_url.as_deref(), &options.aws_files).await;
        let member = ConnectOptions {
            profile: Some(p.clone()),
            ..options.clone()
        };
        let connected = async {
            let backend = AwsBackend::connect(member, config.clone(), TimeSource::server()).await?;
            backend.check_credentials().await?;
            Ok::<_, BackendError>(backend)
        }
        .await;
        (p.clone(), label, connected)
    });
    let results = futures_util::future::join_all(attempts).await;
    let mut members: Vec<(String, Option<String>, AwsBackend)> = Vec::new();
    let mut failed: Vec<ReadFailure> = Vec::new();
    let mut first_error = None;
    for (profile, AccountLabel { label, alias }, result) in results {
        match result {
            Ok(backend) => {
                // Two profiles in one account (two roles) stay apart by profile name.
                let label = if members.iter().any(|(l, _, _)| *l == label) {
                    format!("{label} ({profile})")
                } else {
                    label
                };
                members.push((label, alias, backend));
            }
            Err(e) => {
                let mut f = Misses::failure("", &format!("profile {profile}"), &e);
                f.account = label;
                failed.push(f);
                first_error.get_or_insert(e);
            }
        }
    }
    match (AwsBackend::merge(members, failed), first_error) {
        (Some(backend), _) => Ok(backend),
        (None, Some(e)) => Err(e),
        (None, None) => Err(BackendError::InvalidInput("no profile was given".into())),
    }
}
