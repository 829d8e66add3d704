//! One way to connect, for the CLI and the desktop app alike: the config file, a profile,
//! regions, an endpoint, or the demo region (a running `scale0 emulator`, or one started
//! in this process), with the server's clock. Errors keep their kind.

use super::aws::{AwsBackend, ConnectOptions};
use super::config::{self, Config, ConfigError};
use super::profiles::AwsFiles;
use super::server_clock::TimeSource;
use super::{BackendError, CredentialsKind};
use crate::emulator::{Emulator, EmulatorError, Options, Seed, runtime_record};
use std::path::PathBuf;
use std::time::Duration;

/// When to use the embedded demo region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DemoChoice {
    /// Never: AWS (or the given endpoint) or an error.
    #[default]
    Never,
    /// Always (`--demo`).
    Always,
    /// When no AWS credentials or no region are configured at all (the desktop app's
    /// first start on a fresh machine). Expired or rejected credentials are still errors.
    WhenNothingConfigured,
}

/// What to connect to.
#[derive(Clone, Debug, Default)]
pub struct Target {
    /// AWS profiles: none (the default chain), one, or several at once.
    pub profiles: Vec<String>,
    pub regions: Vec<String>,
    pub endpoint_url: Option<String>,
    /// The config file; the platform default when absent.
    pub config_path: Option<PathBuf>,
    pub demo: DemoChoice,
    /// Bounds every AWS call (default 30 s).
    pub operation_timeout: Option<Duration>,
    /// Where the AWS config and SSO cache are (default: the process environment).
    pub aws_files: AwsFiles,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("could not start the demo region: {0}")]
    Demo(#[from] EmulatorError),
    #[error("could not start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// A connected backend, plus whatever must live as long as it (an in-process emulator).
pub struct Session {
    pub backend: AwsBackend,
    /// Where it is connected, for the title bar and the CLI's messages.
    pub label: String,
    pub demo: bool,
    /// Set when the demo region opened because nothing was configured.
    pub fallback_reason: Option<String>,
    _emulator: Option<Emulator>,
}

impl Session {
    pub async fn connect(target: &Target) -> Result<Session, SessionError> {
        // A config file named on purpose must exist; the default one may be absent.
        if let Some(p) = &target.config_path
            && !p.exists()
        {
            return Err(SessionError::Config(ConfigError::Read {
                path: p.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            }));
        }
        let config_path = target.config_path.clone().or_else(config::default_path);
        let config = match &config_path {
            Some(p) => Config::load(p)?,
            None => Config::default(),
        };
        if target.demo == DemoChoice::Always {
            return demo(target, config, None).await;
        }
        let mut options = ConnectOptions {
            profile: target.profiles.first().cloned(),
            regions: target.regions.clone(),
            endpoint_url: target.endpoint_url.clone(),
            region_endpoints: Vec::new(),
            demo_credentials: false,
            operation_timeout: target.operation_timeout,
            credentials: None,
            aws_files: target.aws_files.clone(),
        };
        // An emulator on this machine with no credentials set: emulators accept any.
        let local_endpoint = options.endpoint_url.as_deref().is_some_and(is_loopback);
        if local_endpoint
            && std::env::var_os("AWS_ACCESS_KEY_ID").is_none()
            && options.profile.is_none()
        {
            options.demo_credentials = true;
        }
        let connected = async {
            if target.profiles.len() > 1 {
                return super::fleet::connect(&target.profiles, &options, &config).await;
            }
            let backend =
                AwsBackend::connect(options, config.clone(), TimeSource::server()).await?;
            backend.check_credentials().await?;
            Ok::<_, BackendError>(backend)
        }
        .await;
        match connected {
            Ok(backend) => {
                let mut regions: Vec<&str> = Vec::new();
                for r in backend.regions() {
                    if !regions.contains(&r) {
                        regions.push(r);
                    }
                }
                let label = match (&target.endpoint_url, target.profiles.as_slice()) {
                    (Some(url), _) => format!("{url} {}", regions.join(", ")),
                    (None, []) => format!("AWS default profile {}", regions.join(", ")),
                    (None, profiles) => {
                        format!("AWS {} {}", profiles.join(" + "), regions.join(", "))
                    }
                };
                Ok(Session {
                    backend,
                    label,
                    demo: false,
                    fallback_reason: None,
                    _emulator: None,
                })
            }
            Err(
                BackendError::Credentials {
                    kind: CredentialsKind::Missing,
                    ..
                }
                | BackendError::NoRegion(_),
            ) if target.demo == DemoChoice::WhenNothingConfigured
                && target.endpoint_url.is_none() =>
            {
                demo(target, config, Some("no AWS credentials found".into())).await
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// The demo region: a `scale0 emulator` already running on this machine, or one started
/// here that lives as long as the session.
async fn demo(
    target: &Target,
    config: Config,
    fallback_reason: Option<String>,
) -> Result<Session, SessionError> {
    let mut regions = target.regions.clone();
    if regions.is_empty() {
        regions.push("us-east-1".into());
    }
    let (endpoint, time, emulator) = match running_emulator().await {
        Some((endpoint, now, speed)) => {
            (endpoint, TimeSource::FromServer { start: now, speed }, None)
        }
        None => {
            let started = Emulator::start(Options {
                seed: Seed::Demo,
                region: regions[0].clone(),
                ..Options::default()
            })
            .await?;
            (
                started.endpoint_url().to_string(),
                TimeSource::Shared(started.clock().clone()),
                Some(started),
            )
        }
    };
    let options = ConnectOptions {
        profile: None,
        regions,
        endpoint_url: Some(endpoint),
        region_endpoints: Vec::new(),
        demo_credentials: true,
        operation_timeout: target.operation_timeout,
        credentials: None,
        aws_files: AwsFiles::default(),
    };
    let backend = AwsBackend::connect(options, config, time).await?;
    let label = match &fallback_reason {
        Some(why) => format!("demo region ({why})"),
        None => "demo region".into(),
    };
    Ok(Session {
        backend,
        label,
        demo: true,
        fallback_reason,
        _emulator: emulator,
    })
}

pub fn is_loopback(url: &str) -> bool {
    let host = url.split("://").nth(1).unwrap_or(url);
    host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]")
}

/// A `scale0 emulator` recorded in the runtime directory that answers: its endpoint and
/// its clock's reading and speed.
async fn running_emulator() -> Option<(String, f64, f64)> {
    let endpoint = runtime_record::read()?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(800))
        .build()
        .ok()?;
    let clock: serde_json::Value = client
        .get(format!("{endpoint}/_scale0/clock"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let now = clock["now"].as_f64()?;
    let speed = clock["speed"].as_f64().unwrap_or(1.0);
    Some((endpoint, now, speed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_endpoints_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:4566"));
        assert!(is_loopback("http://localhost:4566"));
        assert!(is_loopback("http://[::1]:4566"));
        assert!(!is_loopback("https://apprunner.us-east-1.amazonaws.com"));
    }
}
