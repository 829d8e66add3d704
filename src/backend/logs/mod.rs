//! CloudWatch Logs: where an environment's logs are (the compute kind says for its
//! service; the database's is `/aws/rds/cluster/<cluster>/postgresql` when exported),
//! reading them with FilterLogEvents within its limits, and following them
//! (follow.rs). Never the RDS log-file APIs: those wake a paused Serverless v2 database.

mod errors;
mod follow;

pub use errors::{DistinctError, ErrorSummary};
pub use follow::{FollowState, FollowUpdate, Follower, Pacing};

use super::BackendError;
use super::aws::AwsBackend;
use super::compute::LogPlace;
use super::convert::sdk_error;
use crate::model::logs::{LogLine, LogSource};
use crate::model::{Environment, Time};
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError;

/// FilterLogEvents' largest page (AWS's limit and default).
pub const MAX_PAGE: i32 = 10_000;

/// Where one of an environment's logs is, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct LogTarget {
    pub env: String,
    pub region: String,
    /// The account's label with several accounts at once ("" with one).
    pub account: String,
    pub source: LogSource,
    pub place: LogPlace,
    /// How to turn this log on, should its group be missing.
    pub enable_hint: String,
}

/// What to read: a window on the server's clock and a filter.
#[derive(Clone, Debug, PartialEq)]
pub struct LogQuery {
    pub start: Time,
    /// None: up to now (and on, when following).
    pub end: Option<Time>,
    /// As the person typed it: a CloudWatch filter pattern, or plain text.
    pub filter: String,
    /// Most lines to keep; a read that reaches it says so (`LogRead::truncated`).
    pub max_lines: usize,
}

/// Lines read once.
#[derive(Clone, Debug, Default)]
pub struct LogRead {
    pub lines: Vec<LogLine>,
    /// The read stopped at `max_lines`; this is the next line's time.
    pub truncated: Option<Time>,
    /// How often AWS throttled the reads (each was waited out).
    pub throttled: u32,
}

/// The pattern to send: patterns as typed (terms, `"phrases"`, `?any`, `-not`, `{ JSON }`,
/// `[ space-delimited ]`, `%regex%`); anything else is plain text, sent as one phrase so
/// that `connection slots` finds those words together, as a search box would.
pub fn filter_pattern(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        return String::new();
    }
    let pattern_syntax =
        t.starts_with(['{', '[', '"', '?', '-', '%']) || t.contains('"') || !t.contains(' ');
    if pattern_syntax {
        t.to_string()
    } else {
        format!("\"{t}\"")
    }
}

/// The same query in the AWS console: the log group's events view, filtered, over the
/// same window.
pub fn console_url(target: &LogTarget, query: &LogQuery, now: Time) -> String {
    let region = &target.region;
    // The console's fragment encodes twice and writes '%' as '$'.
    let twice = |s: &str| percent(&percent(s)).replace('%', "$");
    let mut params = vec![format!("start$3D{}", (query.start * 1000.0) as i64)];
    params.push(format!(
        "end$3D{}",
        (query.end.unwrap_or(now) * 1000.0) as i64
    ));
    let pattern = filter_pattern(&query.filter);
    if !pattern.is_empty() {
        params.push(format!("filterPattern$3D{}", twice(&pattern)));
    }
    if let Some(prefix) = &target.place.stream_prefix {
        params.push(format!("logStreamNameFilter$3D{}", twice(prefix)));
    }
    format!(
        "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{}/log-events$3F{}",
        twice(&target.place.group),
        params.join("$26")
    )
}

fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl AwsBackend {
    /// Where `env`'s `source` log is: the compute kind's group for the service's logs,
    /// the cluster's PostgreSQL group for the database's.
    pub fn log_target(
        &self,
        env: &Environment,
        source: LogSource,
    ) -> Result<LogTarget, BackendError> {
        let region = self.region_for(&env.key)?;
        let name = env.key.name.clone();
        let (place, enable_hint) = match source {
            LogSource::Db => {
                let db = env.database.as_ref().ok_or_else(|| {
                    BackendError::NotFound(format!("{name} has no database, so no database log"))
                })?;
                let place = LogPlace {
                    group: format!("/aws/rds/cluster/{}/postgresql", db.id),
                    stream_prefix: None,
                };
                let hint = format!(
                    "Turn the PostgreSQL log export on: aws rds modify-db-cluster --db-cluster-identifier {} --cloudwatch-logs-export-configuration '{{\"EnableLogTypes\":[\"postgresql\"]}}' --apply-immediately (or the cluster's \"Log exports\" in the RDS console)",
                    db.id
                );
                (place, hint)
            }
            _ => {
                let service = env.service.as_ref().ok_or_else(|| {
                    BackendError::NotFound(format!(
                        "{name} has no service, so no {} log",
                        source.label()
                    ))
                })?;
                let kind = self.compute(region, service)?;
                let place = kind.log_place(service, source).ok_or_else(|| {
                    BackendError::NotFound(format!(
                        "{} does not say where a service's {} log is",
                        kind.label(),
                        source.label()
                    ))
                })?;
                let hint = format!(
                    "{} creates this group when the service first writes to it; if the service has run, check that its CloudWatch Logs group was not deleted and that the service's role may write logs",
                    kind.label()
                );
                (place, hint)
            }
        };
        Ok(LogTarget {
            env: name,
            region: env.key.region.clone(),
            account: env.key.account.clone(),
            source,
            place,
            enable_hint,
        })
    }

    /// Reads the query's lines once (every page, at most `max_lines`), waiting out
    /// throttling with back-off; the count of throttled calls comes back with the lines.
    pub async fn read_logs(
        &self,
        target: &LogTarget,
        query: &LogQuery,
    ) -> Result<LogRead, BackendError> {
        self.read_logs_paced(target, query, Pacing::default()).await
    }

    pub async fn read_logs_paced(
        &self,
        target: &LogTarget,
        query: &LogQuery,
        pacing: Pacing,
    ) -> Result<LogRead, BackendError> {
        let mut follower = self.follower(target, query, pacing)?;
        let mut read = LogRead::default();
        let mut retries = 0;
        loop {
            let update = follower.poll().await?;
            read.lines.extend(update.lines);
            match update.state {
                FollowState::Throttled { .. } | FollowState::Lost { .. } => {
                    if let FollowState::Throttled { .. } = update.state {
                        read.throttled += 1;
                    }
                    retries += 1;
                    if retries > pacing.read_retries {
                        return Err(update.error.unwrap_or_else(|| {
                            BackendError::Other("CloudWatch Logs kept failing".into())
                        }));
                    }
                }
                _ => retries = 0,
            }
            if read.lines.len() >= query.max_lines {
                let next = read.lines.get(query.max_lines).map(|l| l.time);
                read.lines.truncate(query.max_lines);
                read.truncated = next.or(read.lines.last().map(|l| l.time));
                return Ok(read);
            }
            if update.caught_up {
                return Ok(read);
            }
            tokio::time::sleep(update.wait).await;
        }
    }

    /// A follower for the query, reading from its start on (see follow.rs).
    pub fn follower(
        &self,
        target: &LogTarget,
        query: &LogQuery,
        pacing: Pacing,
    ) -> Result<Follower, BackendError> {
        let region = self.region_for(&crate::model::EnvKey {
            account: target.account.clone(),
            ..crate::model::EnvKey::new(&target.region, &target.env)
        })?;
        Ok(Follower::new(
            region.logs.clone(),
            self.clock().clone(),
            target.clone(),
            query.clone(),
            pacing,
            self.profile.clone(),
        ))
    }
}

/// What went wrong with one FilterLogEvents call, classified for the follower.
pub(crate) enum CallError {
    /// Wait and call again: the throttling is surfaced, not an error.
    Throttled(BackendError),
    /// The network or AWS failed for now: retry from the same token.
    Transient(BackendError),
    /// Retrying will not help (no such group, a refused pattern, credentials).
    Fatal(BackendError),
}

pub(crate) fn classify(
    target: &LogTarget,
    profile: Option<&str>,
    e: SdkError<FilterLogEventsError, aws_smithy_runtime_api::http::Response>,
) -> CallError {
    let (code, message) = match e.as_service_error() {
        Some(se) => (
            se.code().unwrap_or("").to_string(),
            se.message().unwrap_or("").to_string(),
        ),
        None => (String::new(), String::new()),
    };
    let context = format!("CloudWatch Logs {}", target.place.group);
    match code.as_str() {
        "ResourceNotFoundException" => CallError::Fatal(BackendError::NoLogGroup {
            group: target.place.group.clone(),
            message: format!(
                "{}: no {} log: the log group {} does not exist",
                target.env,
                target.source.label(),
                target.place.group
            ),
            hint: target.enable_hint.clone(),
        }),
        "InvalidParameterException" => CallError::Fatal(BackendError::InvalidInput(format!(
            "CloudWatch Logs refused the filter: {message}"
        ))),
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "LimitExceededException"
        | "RequestLimitExceeded" => CallError::Throttled(BackendError::Aws {
            context,
            code,
            message: if message.is_empty() {
                "Rate exceeded".into()
            } else {
                message
            },
        }),
        _ => {
            let transient = matches!(
                &e,
                SdkError::TimeoutError(_)
                    | SdkError::DispatchFailure(_)
                    | SdkError::ResponseError(_)
            ) || matches!(
                code.as_str(),
                "ServiceUnavailableException"
                    | "ServiceUnavailable"
                    | "InternalFailure"
                    | "InternalServerError"
                    | "InternalError"
            ) || e
                .raw_response()
                .is_some_and(|r| r.status().is_server_error());
            let error = sdk_error(&context, profile, e);
            if transient {
                CallError::Transient(error)
            } else {
                CallError::Fatal(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_becomes_a_phrase_and_patterns_stay_as_typed() {
        assert_eq!(filter_pattern(""), "");
        assert_eq!(filter_pattern("FATAL"), "FATAL");
        assert_eq!(filter_pattern("connection slots"), "\"connection slots\"");
        assert_eq!(filter_pattern("?ERROR ?FATAL"), "?ERROR ?FATAL");
        assert_eq!(filter_pattern("\"a b\" -c"), "\"a b\" -c");
        assert_eq!(
            filter_pattern("{ $.level = \"error\" }"),
            "{ $.level = \"error\" }"
        );
    }

    #[test]
    fn the_console_url_carries_group_window_and_pattern() {
        let target = LogTarget {
            account: String::new(),
            env: "dev".into(),
            region: "eu-west-1".into(),
            source: LogSource::App,
            place: LogPlace {
                group: "/aws/apprunner/scale0-dev/abc/application".into(),
                stream_prefix: None,
            },
            enable_hint: String::new(),
        };
        let query = LogQuery {
            start: 1000.0,
            end: Some(2000.0),
            filter: "connection slots".into(),
            max_lines: 10,
        };
        let url = console_url(&target, &query, 3000.0);
        assert_eq!(
            url,
            "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Fapprunner$252Fscale0-dev$252Fabc$252Fapplication/log-events$3Fstart$3D1000000$26end$3D2000000$26filterPattern$3D$2522connection$2520slots$2522"
        );
    }
}
