//! Logging in to IAM Identity Center: the OAuth device authorization flow with
//! aws-sdk-ssooidc (RegisterClient, StartDeviceAuthorization, CreateToken polled while
//! the person approves in a browser), and the token written to the shared SSO cache in
//! the AWS CLI's place and format, so `aws` and scale0 share one login. The cached
//! refresh token and client registration let the SDK refresh the token by itself later.
//! Nothing secret is logged or returned.

use super::profiles::{AwsFiles, SsoLogin};
use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The grant the device flow polls with.
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628: on slow_down, poll 5 seconds less often.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("could not reach IAM Identity Center at {endpoint}: {message}")]
    Unreachable { endpoint: String, message: String },
    #[error("IAM Identity Center refused the login: {code}: {message}")]
    Refused { code: String, message: String },
    #[error("the login was denied in the browser")]
    Denied,
    #[error("the login was not approved within {0:?}; nothing was cached")]
    TimedOut(Duration),
    #[error("the device code expired before the login was approved; nothing was cached")]
    Expired,
    #[error("could not write the token cache {path}: {message}")]
    Cache { path: PathBuf, message: String },
}

/// What the person must do: open the URL (with the code filled in) and check the code.
#[derive(Clone, Debug)]
pub struct DeviceCode {
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: Duration,
}

/// A successful login: where the token went and until when it is valid.
#[derive(Clone, Debug)]
pub struct LoggedIn {
    pub cache_file: PathBuf,
    pub expires_at: String,
}

fn sdk_error<E, R>(endpoint: &str, e: aws_sdk_ssooidc::error::SdkError<E, R>) -> LoginError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match e.as_service_error() {
        Some(service) => LoginError::Refused {
            code: service.code().unwrap_or("unknown").to_string(),
            message: service.message().unwrap_or_default().to_string(),
        },
        None => LoginError::Unreachable {
            endpoint: endpoint.to_string(),
            message: aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
        },
    }
}

/// The OIDC client for the login's region; `endpoint_url` overrides AWS's endpoint (the
/// emulator), otherwise the profile's and environment's endpoint settings apply.
pub async fn client(
    login: &SsoLogin,
    profile: &str,
    endpoint_url: Option<&str>,
    files: &AwsFiles,
) -> (aws_sdk_ssooidc::Client, String) {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .profile_name(profile)
        .region(aws_config::Region::new(login.region.clone()))
        .no_credentials();
    if !files.is_process() {
        loader = loader.env(files.sdk_env());
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    let endpoint = endpoint_url
        .map(str::to_string)
        .unwrap_or_else(|| format!("https://oidc.{}.amazonaws.com", login.region));
    (aws_sdk_ssooidc::Client::new(&config), endpoint)
}

/// Runs the device flow: `show` gets the code to display (and the URL to open) once;
/// the login must be approved within `timeout` (and before the code expires).
pub async fn login(
    oidc: &aws_sdk_ssooidc::Client,
    endpoint: &str,
    login: &SsoLogin,
    timeout: Duration,
    show: impl FnOnce(&DeviceCode),
) -> Result<LoggedIn, LoginError> {
    let mut register = oidc
        .register_client()
        .client_name("scale0")
        .client_type("public");
    if login.session.is_some() {
        // sso-session logins ask for refreshable tokens, as the AWS CLI does.
        register = register
            .set_scopes(Some(login.scopes.clone()))
            .grant_types(DEVICE_GRANT)
            .grant_types("refresh_token");
    }
    let client = register.send().await.map_err(|e| sdk_error(endpoint, e))?;
    let (Some(client_id), Some(client_secret)) = (client.client_id(), client.client_secret())
    else {
        return Err(LoginError::Refused {
            code: "RegisterClient".into(),
            message: "the answer had no client id or secret".into(),
        });
    };
    let device = oidc
        .start_device_authorization()
        .client_id(client_id)
        .client_secret(client_secret)
        .start_url(&login.start_url)
        .send()
        .await
        .map_err(|e| sdk_error(endpoint, e))?;
    let code = DeviceCode {
        user_code: device.user_code().unwrap_or_default().to_string(),
        verification_uri: device.verification_uri().unwrap_or_default().to_string(),
        verification_uri_complete: device
            .verification_uri_complete()
            .or(device.verification_uri())
            .unwrap_or_default()
            .to_string(),
        expires_in: Duration::from_secs(device.expires_in().max(0) as u64),
    };
    show(&code);
    let deadline = Instant::now() + timeout.min(code.expires_in.max(Duration::from_secs(1)));
    let mut interval = Duration::from_secs(device.interval().max(1) as u64);
    let device_code = device.device_code().unwrap_or_default();
    loop {
        tokio::time::sleep(interval.min(deadline.saturating_duration_since(Instant::now()))).await;
        let answer = oidc
            .create_token()
            .client_id(client_id)
            .client_secret(client_secret)
            .grant_type(DEVICE_GRANT)
            .device_code(device_code)
            .send()
            .await;
        match answer {
            Ok(token) => {
                let expires_at = time::OffsetDateTime::now_utc()
                    + time::Duration::seconds(token.expires_in().into());
                return write_cache(
                    login,
                    token.access_token().unwrap_or_default(),
                    token.refresh_token(),
                    client_id,
                    client_secret,
                    client.client_secret_expires_at(),
                    expires_at,
                );
            }
            Err(e) => {
                let code = e.as_service_error().and_then(|s| s.code()).unwrap_or("");
                match code {
                    "AuthorizationPendingException" => {}
                    "SlowDownException" => interval += SLOW_DOWN_STEP,
                    "AccessDeniedException" => return Err(LoginError::Denied),
                    "ExpiredTokenException" => return Err(LoginError::Expired),
                    _ => return Err(sdk_error(endpoint, e)),
                }
            }
        }
        if Instant::now() >= deadline {
            return Err(if timeout < code.expires_in {
                LoginError::TimedOut(timeout)
            } else {
                LoginError::Expired
            });
        }
    }
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    // Whole seconds, UTC, as the AWS CLI writes them ("2026-12-02T17:30:00Z").
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
        .replace("+00:00", "Z")
}

/// Writes the token where the AWS CLI and SDK look for it, readable by the user only.
fn write_cache(
    login: &SsoLogin,
    access_token: &str,
    refresh_token: Option<&str>,
    client_id: &str,
    client_secret: &str,
    registration_expires_at: i64,
    expires_at: time::OffsetDateTime,
) -> Result<LoggedIn, LoginError> {
    let expires = rfc3339(expires_at);
    let mut token = serde_json::json!({
        "startUrl": login.start_url,
        "region": login.region,
        "accessToken": access_token,
        "expiresAt": expires,
        "clientId": client_id,
        "clientSecret": client_secret,
    });
    if let Some(r) = refresh_token {
        token["refreshToken"] = r.into();
    }
    if let Ok(t) = time::OffsetDateTime::from_unix_timestamp(registration_expires_at)
        && registration_expires_at > 0
    {
        token["registrationExpiresAt"] = rfc3339(t).into();
    }
    let path = login.cache_file.clone();
    let fail = |e: std::io::Error| LoginError::Cache {
        path: path.clone(),
        message: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    // Written to a private temporary file first, then renamed: never a half-written token.
    let tmp = path.with_extension("json.tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(fail)?;
        file.write_all(token.to_string().as_bytes()).map_err(fail)?;
    }
    std::fs::rename(&tmp, &path).map_err(fail)?;
    Ok(LoggedIn {
        cache_file: path,
        expires_at: expires,
    })
}
