//! The user's AWS profiles, read with the AWS SDK's own loader (so AWS_CONFIG_FILE,
//! AWS_SHARED_CREDENTIALS_FILE, `[sso-session]` sections and the credentials file count
//! exactly as they do for `aws`), and what scale0 shows of each: account, region, how it
//! gets credentials, its SSO session and whether that session's token is still valid.
//! Nothing secret is kept: keys and tokens are never read into these types.

use aws_config::profile::ProfileSet;
use aws_runtime::env_config::file::EnvConfigFiles as ProfileFiles;
use aws_types::os_shim_internal::{Env, Fs};
use serde::Serialize;
use sha1::{Digest, Sha1};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where the AWS config, credentials file and SSO cache are. The default is the process
/// environment (HOME, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE); a field set here
/// overrides its variable for scale0 and the SDK alike, so tests and the app can use
/// another HOME without changing the process environment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AwsFiles {
    pub home: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub credentials: Option<PathBuf>,
}

impl AwsFiles {
    /// A HOME with the AWS CLI's files in it (`.aws/config`, `.aws/credentials`).
    pub fn in_home(home: &Path) -> AwsFiles {
        AwsFiles {
            home: Some(home.to_path_buf()),
            config: Some(home.join(".aws").join("config")),
            credentials: Some(home.join(".aws").join("credentials")),
        }
    }

    /// True when nothing is overridden: the SDK reads the real environment.
    pub fn is_process(&self) -> bool {
        *self == AwsFiles::default()
    }

    /// The environment the SDK's loaders see: the process's, with these overrides.
    pub fn sdk_env(&self) -> Env {
        if self.is_process() {
            return Env::real();
        }
        let mut vars: HashMap<String, String> = std::env::vars().collect();
        for (name, value) in [
            ("HOME", &self.home),
            ("AWS_CONFIG_FILE", &self.config),
            ("AWS_SHARED_CREDENTIALS_FILE", &self.credentials),
        ] {
            if let Some(v) = value {
                vars.insert(name.to_string(), v.to_string_lossy().into_owned());
            }
        }
        Env::from(vars)
    }

    /// The home folder the SSO cache is under.
    fn home_dir(&self) -> PathBuf {
        self.home
            .clone()
            .or_else(|| std::env::var_os("HOME").map(PathBuf::from))
            .or_else(dirs::home_dir)
            .unwrap_or_default()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfilesError {
    /// The config or credentials file does not parse; the loader's message says where.
    #[error("your AWS config does not load: {0}")]
    Load(String),
    #[error("there is no AWS profile named {name}{}", suggestion(.known))]
    Unknown { name: String, known: Vec<String> },
    #[error("profile {0:?} does not use IAM Identity Center (no sso_session or sso_start_url)")]
    NotSso(String),
    #[error(
        "profile {profile:?} names sso_session {session:?}, which has no [sso-session {session}] section"
    )]
    MissingSession { profile: String, session: String },
}

fn suggestion(known: &[String]) -> String {
    if known.is_empty() {
        " (no profiles are configured)".into()
    } else {
        format!(" (profiles: {})", known.join(", "))
    }
}

/// How a profile gets its credentials.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialSource {
    Sso,
    StaticKeys,
    AssumeRole,
    Process,
    Environment,
    Other,
}

/// What a profile's SSO token in the shared cache says, without reading the token.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TokenState {
    Valid {
        expires_at: String,
    },
    Expired {
        expired_at: String,
    },
    Missing,
    /// The cache file exists but is not a token the SDK can use.
    Unreadable {
        error: String,
    },
}

/// The IAM Identity Center login a profile uses.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SsoLogin {
    /// The `[sso-session NAME]` (None for the legacy per-profile form).
    pub session: Option<String>,
    pub start_url: String,
    pub region: String,
    pub scopes: Vec<String>,
    /// The token cache file: `~/.aws/sso/cache/<sha1(session or start URL)>.json`.
    #[serde(skip)]
    pub cache_file: PathBuf,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProfileInfo {
    pub name: String,
    pub region: Option<String>,
    /// The account the profile reaches, where its config says (sso_account_id, role_arn).
    pub account: Option<String>,
    pub role: Option<String>,
    pub source: CredentialSource,
    pub sso: Option<SsoLogin>,
    pub token: Option<TokenState>,
    /// The profile's own endpoint_url (tools such as the emulator).
    pub endpoint_url: Option<String>,
}

/// Loads every profile of the shared config and credentials files.
pub async fn load(files: &AwsFiles) -> Result<ProfileSet, ProfilesError> {
    aws_config::profile::load(
        &Fs::real(),
        &files.sdk_env(),
        &ProfileFiles::default(),
        None,
    )
    .await
    .map_err(|e| ProfilesError::Load(e.to_string()))
}

/// Every profile, sorted by name, with what scale0 shows of it.
pub async fn list(files: &AwsFiles) -> Result<Vec<ProfileInfo>, ProfilesError> {
    let set = load(files).await?;
    let mut names: Vec<&str> = set.profiles().collect();
    names.sort_unstable();
    names
        .into_iter()
        .map(|n| describe(&set, n, files))
        .collect()
}

/// One profile, or a clear error naming the profiles that exist.
pub fn describe(
    set: &ProfileSet,
    name: &str,
    files: &AwsFiles,
) -> Result<ProfileInfo, ProfilesError> {
    let Some(p) = set.get_profile(name) else {
        let mut known: Vec<String> = set.profiles().map(str::to_string).collect();
        known.sort();
        return Err(ProfilesError::Unknown {
            name: crate::backend::cut(name, 80),
            known,
        });
    };
    let sso = sso_login(set, name, files).ok();
    let source = if sso.is_some() {
        CredentialSource::Sso
    } else if p.get("role_arn").is_some() {
        CredentialSource::AssumeRole
    } else if p.get("aws_access_key_id").is_some() {
        CredentialSource::StaticKeys
    } else if p.get("credential_process").is_some() {
        CredentialSource::Process
    } else if p.get("credential_source") == Some("Environment") {
        CredentialSource::Environment
    } else {
        CredentialSource::Other
    };
    let account = p.get("sso_account_id").map(str::to_string).or_else(|| {
        // arn:aws:iam::ACCOUNT:role/NAME
        p.get("role_arn")
            .and_then(|arn| arn.split(':').nth(4))
            .filter(|a| !a.is_empty())
            .map(str::to_string)
    });
    let role = p
        .get("sso_role_name")
        .or_else(|| p.get("role_arn").and_then(|a| a.rsplit('/').next()))
        .map(str::to_string);
    let token = sso.as_ref().map(|s| token_state(&s.cache_file));
    Ok(ProfileInfo {
        name: name.to_string(),
        region: p.get("region").map(str::to_string),
        account,
        role,
        source,
        sso,
        token,
        endpoint_url: p.get("endpoint_url").map(str::to_string),
    })
}

/// The SSO login a profile uses: its `[sso-session]` or its legacy `sso_start_url`.
pub fn sso_login(
    set: &ProfileSet,
    name: &str,
    files: &AwsFiles,
) -> Result<SsoLogin, ProfilesError> {
    let p = set
        .get_profile(name)
        .ok_or_else(|| ProfilesError::Unknown {
            name: crate::backend::cut(name, 80),
            known: set.profiles().map(str::to_string).collect(),
        })?;
    if let Some(session) = p.get("sso_session") {
        let s = set
            .sso_session(session)
            .ok_or_else(|| ProfilesError::MissingSession {
                profile: name.to_string(),
                session: session.to_string(),
            })?;
        let (Some(start_url), Some(region)) = (s.get("sso_start_url"), s.get("sso_region")) else {
            return Err(ProfilesError::MissingSession {
                profile: name.to_string(),
                session: session.to_string(),
            });
        };
        let scopes = s
            .get("sso_registration_scopes")
            .map(|v| {
                v.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_else(|| vec!["sso:account:access".to_string()]);
        return Ok(SsoLogin {
            session: Some(session.to_string()),
            start_url: start_url.to_string(),
            region: region.to_string(),
            scopes,
            cache_file: cache_file(files, session),
        });
    }
    match (p.get("sso_start_url"), p.get("sso_region")) {
        (Some(url), Some(region)) => Ok(SsoLogin {
            session: None,
            start_url: url.to_string(),
            region: region.to_string(),
            scopes: Vec::new(),
            cache_file: cache_file(files, url),
        }),
        _ => Err(ProfilesError::NotSso(name.to_string())),
    }
}

/// The AWS CLI's and SDK's token cache file for a session name or (legacy) start URL.
pub fn cache_file(files: &AwsFiles, identifier: &str) -> PathBuf {
    files
        .home_dir()
        .join(".aws")
        .join("sso")
        .join("cache")
        .join(format!(
            "{}.json",
            hex::encode(Sha1::digest(identifier.as_bytes()))
        ))
}

/// Reads only `expiresAt` of a cached token; a corrupt file is reported, never fatal.
pub fn token_state(path: &Path) -> TokenState {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return TokenState::Missing,
        Err(e) => {
            return TokenState::Unreadable {
                error: e.to_string(),
            };
        }
    };
    let expires = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("expiresAt")?.as_str().map(str::to_string));
    let Some(expires) = expires else {
        return TokenState::Unreadable {
            error: format!("{} is not an SSO token (no expiresAt)", path.display()),
        };
    };
    match time::OffsetDateTime::parse(&expires, &time::format_description::well_known::Rfc3339) {
        Ok(t) if t > time::OffsetDateTime::now_utc() => TokenState::Valid {
            expires_at: expires,
        },
        Ok(_) => TokenState::Expired {
            expired_at: expires,
        },
        Err(e) => TokenState::Unreadable {
            error: format!("expiresAt {expires:?} is not a time: {e}"),
        },
    }
}
