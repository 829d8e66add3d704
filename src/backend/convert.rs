//! AWS SDK types and errors into model types. The only place that knows both.

use super::{BackendError, CredentialsKind};
use crate::model::{DatabaseState, DbMode, Image, ParameterSetting, Power, Time};
use aws_sdk_apprunner::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::DateTime;
use aws_smithy_types::error::display::DisplayErrorContext;

pub fn time(t: Option<&DateTime>) -> Option<Time> {
    t.map(|t| t.as_secs_f64())
}

/// One error, classified once: credentials, access, refusals and timeouts get their own
/// kinds (and exit codes); everything else keeps AWS's code and message.
pub fn sdk_error<E, R>(context: &str, profile: Option<&str>, err: SdkError<E, R>) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    // Matched on the full chain (its Debug part included), shown only as plain text.
    let chain = DisplayErrorContext(&err).to_string();
    if let Some(e) = credentials_problem(&chain, profile) {
        return e;
    }
    match &err {
        SdkError::TimeoutError(_) => {
            BackendError::Timeout(format!("{context}: AWS did not answer in time"))
        }
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            BackendError::Timeout(format!("{context}: AWS did not answer in time"))
        }
        SdkError::DispatchFailure(_) => BackendError::Unreachable(format!(
            "{context}: could not reach the endpoint: {}",
            innermost(&err)
        )),
        SdkError::ResponseError(_) => BackendError::Malformed(format!(
            "{context}: the answer could not be read: {}",
            innermost(&err)
        )),
        // An answer that could not be parsed surfaces as a "service error" without a code.
        SdkError::ServiceError(se) if se.err().code().is_none() => BackendError::Malformed(
            format!("{context}: the answer could not be read (not an AWS answer)"),
        ),
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("Unknown").to_string();
            let message = se.err().message().unwrap_or("").to_string();
            match code.as_str() {
                "ExpiredToken"
                | "ExpiredTokenException"
                | "UnrecognizedClientException"
                | "InvalidClientTokenId"
                | "InvalidSignatureException"
                | "SignatureDoesNotMatch" => BackendError::Credentials {
                    kind: if code.starts_with("Expired") {
                        CredentialsKind::Expired
                    } else {
                        CredentialsKind::Rejected
                    },
                    message: format!("{context}: AWS rejected the credentials ({code}): {message}"),
                    hint: login_hint(profile),
                },
                "AccessDenied" | "AccessDeniedException" => {
                    BackendError::AccessDenied(format!("{context}: {message}"))
                }
                "InvalidStateException" | "InvalidDBClusterStateFault" => {
                    BackendError::Refused(format!("{context}: {message}"))
                }
                _ => BackendError::Aws {
                    context: context.to_string(),
                    code,
                    message,
                },
            }
        }
        _ => BackendError::Other(format!("{context}: {}", plain_chain(&err))),
    }
}

/// The deepest cause's own words ("Connection refused (os error 111)"): what a person
/// needs, without the wrappers' Debug dumps.
pub fn innermost(err: &dyn std::error::Error) -> String {
    let mut last: &dyn std::error::Error = err;
    while let Some(next) = last.source() {
        last = next;
    }
    without_process_output(&plain(&last.to_string()))
}

/// Each cause's Display joined by ": ", never Debug output.
pub fn plain_chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![plain(&err.to_string())];
    let mut next = err.source();
    while let Some(e) = next {
        let text = plain(&e.to_string());
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    without_process_output(&parts.join(": "))
}

/// A credential_process's own output may hold secrets: the SDK quotes it in its errors
/// ("... Stderr: <output>"), so everything from there on is left out.
pub fn without_process_output(message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    match ["stderr:", "stdout:", "output:", "response:"]
        .iter()
        .filter_map(|m| lower.find(m))
        .min()
    {
        Some(i) => format!(
            "{}(the process's output is not shown: it may hold secrets)",
            &message[..i]
        ),
        None => message.to_string(),
    }
}

/// Cuts a message where a Debug dump starts ("... (DispatchFailure(DispatchFailure {").
fn plain(text: &str) -> String {
    let cut = text
        .find(" (")
        .filter(|&i| {
            text[i + 2..].starts_with(|c: char| c.is_ascii_uppercase()) && text[i..].contains(" {")
        })
        .unwrap_or(text.len());
    text[..cut].trim().to_string()
}

fn login_hint(profile: Option<&str>) -> String {
    match profile {
        Some(p) => format!(
            "Run `scale0 login --profile {p}` (or `aws sso login --profile {p}`, or refresh the profile's keys), then try again."
        ),
        None => {
            "Run `scale0 login` (or `aws sso login` or `aws configure`; or set AWS_PROFILE), then try again.".into()
        }
    }
}

/// Missing or expired credentials, recognised in the SDK's error chain.
pub fn credentials_problem(chain: &str, profile: Option<&str>) -> Option<BackendError> {
    let lower = chain.to_ascii_lowercase();
    let expired_sso = lower.contains("sso")
        && (lower.contains("expired") || lower.contains("token"))
        || lower.contains("token has expired")
        || lower.contains("session has expired");
    if expired_sso {
        return Some(BackendError::Credentials {
            kind: CredentialsKind::Expired,
            message: "your AWS SSO session has expired".into(),
            hint: login_hint(profile),
        });
    }
    let missing = lower.contains("no credentials")
        || lower.contains("credentialsnotloaded")
        || lower.contains("credentials not loaded")
        || lower.contains("failed to load credentials")
        || lower.contains("no credentials provider");
    missing.then(|| BackendError::Credentials {
        kind: CredentialsKind::Missing,
        message: "no AWS credentials found".into(),
        hint: format!(
            "{} Or open the demo region with --demo.",
            login_hint(profile)
        ),
    })
}

/// App Runner's Cpu ("1024" or "1 vCPU") in vCPU and Memory ("2048" or "2 GB") in GB.
pub fn parse_cpu(cpu: Option<&str>) -> f64 {
    parse_units(cpu, 1024.0).unwrap_or(1.0)
}

pub fn parse_memory(memory: Option<&str>) -> f64 {
    parse_units(memory, 1024.0).unwrap_or(2.0)
}

fn parse_units(value: Option<&str>, per_unit: f64) -> Option<f64> {
    let v = value?.trim();
    let number: f64 = v.split_whitespace().next()?.parse().ok()?;
    if v.contains(' ') {
        Some(number)
    } else {
        Some(number / per_unit)
    }
}
/// A cluster's mode, from what DescribeDBClusters and DescribeDBInstances say. Moto and
/// other implementations leave fields empty; missing means "not serverless".
pub fn db_mode(c: &aws_sdk_rds::types::DbCluster, writer_class: Option<&str>) -> DbMode {
    if c.engine_mode() == Some("serverless") {
        let s = c.scaling_configuration_info();
        return DbMode::ServerlessV1 {
            min_acu: s.and_then(|s| s.min_capacity()).unwrap_or(2).max(1) as u32,
            max_acu: s.and_then(|s| s.max_capacity()).unwrap_or(4).max(1) as u32,
            auto_pause: s.and_then(|s| s.auto_pause()).unwrap_or(false),
            seconds_until_auto_pause: s
                .and_then(|s| s.seconds_until_auto_pause())
                .map(|v| v.max(0) as u32),
        };
    }
    match c.serverless_v2_scaling_configuration() {
        Some(v2) if writer_class.is_none_or(|w| w == "db.serverless") => DbMode::ServerlessV2 {
            min_acu: v2.min_capacity().unwrap_or(0.5),
            max_acu: v2.max_capacity().unwrap_or(1.0),
            seconds_until_auto_pause: v2.seconds_until_auto_pause().map(|v| v.max(0) as u32),
        },
        _ => DbMode::Provisioned {
            instance_class: writer_class
                .or(c.db_cluster_instance_class())
                .unwrap_or("unknown")
                .to_string(),
        },
    }
}

pub fn database(
    c: &aws_sdk_rds::types::DbCluster,
    writer: Option<&aws_sdk_rds::types::DbInstance>,
    secret_override: Option<&str>,
) -> DatabaseState {
    let writer_id = c
        .db_cluster_members()
        .iter()
        .find(|m| m.is_cluster_writer() == Some(true))
        .and_then(|m| m.db_instance_identifier())
        .or_else(|| writer.and_then(|w| w.db_instance_identifier()))
        .map(str::to_string);
    let mode = db_mode(c, writer.and_then(|w| w.db_instance_class()));
    let status = c.status().unwrap_or("unknown").to_string();
    let capacity = match mode {
        DbMode::ServerlessV1 { .. } => c.capacity().map(f64::from),
        _ => None,
    };
    let power = match status.as_str() {
        "stopped" => Power::Stopped,
        "available" => match (&mode, capacity) {
            (DbMode::ServerlessV1 { .. }, Some(0.0)) => Power::Paused { since: None },
            (DbMode::Provisioned { .. }, _) => Power::Awake,
            _ => Power::Unknown,
        },
        _ => Power::Transitioning,
    };
    DatabaseState {
        id: c.db_cluster_identifier().unwrap_or_default().to_string(),
        arn: c.db_cluster_arn().unwrap_or_default().to_string(),
        status,
        mode,
        engine_version: c.engine_version().unwrap_or_default().to_string(),
        power,
        capacity,
        connections: None,
        writer_id,
        http_endpoint_enabled: c.http_endpoint_enabled().unwrap_or(false),
        secret_arn: secret_override.map(str::to_string).or_else(|| {
            c.master_user_secret()
                .and_then(|s| s.secret_arn())
                .map(str::to_string)
        }),
        automatic_restart_time: time(c.automatic_restart_time()),
        max_connections_setting: ParameterSetting::from_group(c.db_cluster_parameter_group()),
        auto_pause_at: None,
        tags: c
            .tag_list()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
            .collect(),
    }
}

pub fn image(i: &aws_sdk_ecr::types::ImageDetail) -> Image {
    Image {
        digest: i.image_digest().unwrap_or_default().to_string(),
        tags: i.image_tags().to_vec(),
        pushed_at: time(i.image_pushed_at()),
        size_bytes: i.image_size_in_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_memory_in_both_notations() {
        assert_eq!(parse_cpu(Some("1024")), 1.0);
        assert_eq!(parse_cpu(Some("0.25 vCPU")), 0.25);
        assert_eq!(parse_memory(Some("2048")), 2.0);
        assert_eq!(parse_memory(Some("3 GB")), 3.0);
        assert_eq!(parse_memory(None), 2.0);
    }

    #[test]
    fn credential_problems_are_recognised() {
        let e = credentials_problem(
            "dispatch failure: the credential provider was not enabled: no credentials in the chain",
            None,
        );
        assert!(matches!(e, Some(BackendError::Credentials { .. })));
        let e = credentials_problem(
            "failed to load SSO token: the SSO session has expired",
            Some("dev"),
        )
        .unwrap();
        assert!(e.to_string().contains("aws sso login --profile dev"), "{e}");
        assert!(credentials_problem("connection refused", None).is_none());
    }
}
