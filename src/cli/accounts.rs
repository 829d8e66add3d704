//! `scale0 profiles` and `scale0 login`: the user's AWS profiles and the IAM Identity
//! Center login, shared with the AWS CLI through its SSO token cache.

use super::{CliError, GlobalArgs, JSON_SCHEMA};
use crate::backend::profiles::{self, AwsFiles, CredentialSource, ProfilesError, TokenState};
use crate::backend::sso_login::{self, LoginError};
use clap::Args;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// Don't try to open the browser; only print the URL and the code.
    #[arg(long)]
    pub no_browser: bool,
    /// How long to wait for the approval (default 10m; the code's own expiry caps it).
    #[arg(long, value_parser = super::commands::parse_duration)]
    pub timeout: Option<f64>,
}

impl From<ProfilesError> for CliError {
    fn from(e: ProfilesError) -> Self {
        CliError::Usage(e.to_string())
    }
}

fn login_error(e: LoginError) -> CliError {
    use crate::backend::{BackendError, CredentialsKind};
    match e {
        LoginError::TimedOut(_) => CliError::Backend(BackendError::Timeout(e.to_string())),
        LoginError::Denied | LoginError::Expired | LoginError::Refused { .. } => {
            CliError::Backend(BackendError::Credentials {
                kind: CredentialsKind::Rejected,
                message: e.to_string(),
                hint: "Run `scale0 login` again and approve the code in the browser.".into(),
            })
        }
        LoginError::Unreachable { .. } | LoginError::Cache { .. } => {
            CliError::Other(anyhow::anyhow!(e.to_string()))
        }
    }
}

fn source_label(s: &CredentialSource) -> &'static str {
    match s {
        CredentialSource::Sso => "sso",
        CredentialSource::StaticKeys => "keys",
        CredentialSource::AssumeRole => "assume-role",
        CredentialSource::Process => "process",
        CredentialSource::Environment => "environment",
        CredentialSource::Other => "-",
    }
}

fn token_label(t: &Option<TokenState>) -> String {
    match t {
        None => "-".into(),
        Some(TokenState::Valid { expires_at }) => format!("logged in until {expires_at}"),
        Some(TokenState::Expired { expired_at }) => format!("expired {expired_at}"),
        Some(TokenState::Missing) => "not logged in".into(),
        Some(TokenState::Unreadable { error }) => format!("cached token unusable: {error}"),
    }
}

pub async fn profiles(global: &GlobalArgs) -> Result<(), CliError> {
    let list = profiles::list(&AwsFiles::default()).await?;
    if global.json {
        println!(
            "{}",
            serde_json::json!({"schema": JSON_SCHEMA, "profiles": list})
        );
        return Ok(());
    }
    if list.is_empty() {
        println!("no AWS profiles (AWS_CONFIG_FILE / ~/.aws/config and ~/.aws/credentials)");
        return Ok(());
    }
    println!(
        "{:<20} {:<14} {:<12} {:<11} {:<14} SSO",
        "PROFILE", "ACCOUNT", "REGION", "SOURCE", "SESSION"
    );
    for p in &list {
        println!(
            "{:<20} {:<14} {:<12} {:<11} {:<14} {}",
            p.name,
            p.account.as_deref().unwrap_or("-"),
            p.region.as_deref().unwrap_or("-"),
            source_label(&p.source),
            p.sso
                .as_ref()
                .and_then(|s| s.session.as_deref())
                .unwrap_or("-"),
            token_label(&p.token),
        );
    }
    Ok(())
}

pub async fn login(global: &GlobalArgs, args: LoginArgs) -> Result<(), CliError> {
    let profile = match global.profiles.as_slice() {
        [] => "default".to_string(),
        [one] => one.clone(),
        _ => return Err(CliError::Usage("log in to one profile at a time".into())),
    };
    let files = AwsFiles::default();
    let set = profiles::load(&files).await?;
    let target = profiles::sso_login(&set, &profile, &files)?;
    let (oidc, endpoint) =
        sso_login::client(&target, &profile, global.endpoint_url.as_deref(), &files).await;
    let timeout = Duration::from_secs_f64(args.timeout.unwrap_or(600.0));
    let no_browser = args.no_browser;
    let logged_in = sso_login::login(&oidc, &endpoint, &target, timeout, |code| {
        // On stderr: stdout stays the command's result (and JSON with --json).
        eprintln!(
            "Log in to {} in your browser:\n  {}\nand check that it shows the code: {}",
            target.start_url, code.verification_uri_complete, code.user_code
        );
        if !no_browser && let Err(e) = open_browser(&code.verification_uri_complete) {
            eprintln!("(could not open a browser: {e}; open the URL yourself)");
        }
    })
    .await
    .map_err(login_error)?;
    if global.json {
        println!(
            "{}",
            serde_json::json!({
                "schema": JSON_SCHEMA,
                "profile": profile,
                "cache_file": logged_in.cache_file,
                "expires_at": logged_in.expires_at,
            })
        );
    } else {
        println!(
            "logged in: profile {profile}, token valid until {} (shared with the AWS CLI: {})",
            logged_in.expires_at,
            logged_in.cache_file.display()
        );
    }
    Ok(())
}

/// Opens `url` with the platform's opener, without waiting for the browser.
pub fn open_browser(url: &str) -> std::io::Result<()> {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
}
