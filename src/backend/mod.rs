//! The backend: finds environments on AWS (or any endpoint speaking AWS's protocols, such
//! as the embedded emulator), reads their state and acts on them. SDK types become model
//! types here and nowhere else.

mod aurora;
pub mod aws;
pub mod compute;
pub mod config;
pub mod convert;
pub mod discovery;
mod ecr;
mod environment;
mod environment_reads;
mod fleet;
pub mod guard;
pub(crate) mod inventory;
mod keep_awake;
mod knowledge;
pub mod live_state;
pub mod logs;
pub mod metrics;
mod parameters;
pub mod profiles;
pub mod scheduler;
pub mod server_clock;
mod services;
pub use services::newer_image_note;
pub mod session;
pub mod sso_login;

pub use crate::model::FailureKind;
pub use knowledge::common_kind;
mod sleep_schedules;
mod why;

use crate::model::{EnvKey, Environment};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// Missing, expired or rejected credentials: `hint` says what to run.
    #[error("{message}\n  {hint}")]
    Credentials {
        kind: CredentialsKind,
        message: String,
        hint: String,
    },
    /// No region anywhere: not on the command line, in the config file or the profile.
    #[error("{0}")]
    NoRegion(String),
    #[error("access denied: {0}")]
    AccessDenied(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidInput(String),
    /// The action cannot run in the current state (operation in progress, paused, ...).
    #[error("{0}")]
    Refused(String),
    /// The account is read-only (scale0's config or a production name): nothing was done.
    #[error("{0}")]
    ReadOnly(String),
    #[error("{0}")]
    Timeout(String),
    #[error("{context}: {code}: {message}")]
    Aws {
        context: String,
        code: String,
        message: String,
    },
    /// An action's precondition could not be evaluated: the state it needs failed to read.
    #[error("{message}")]
    Unknown { kind: FailureKind, message: String },
    /// Nothing answered: connection refused, DNS, TLS (one plain sentence, no Debug).
    #[error("{0}")]
    Unreachable(String),
    /// An answer came that could not be read (a malformed body).
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Other(String),
    /// A log group that does not exist (log export off, or nothing logged yet): `hint`
    /// says how to turn it on.
    #[error("{message}\n  {hint}")]
    NoLogGroup {
        group: String,
        message: String,
        hint: String,
    },
}

impl BackendError {
    pub fn kind(&self) -> FailureKind {
        match self {
            BackendError::Credentials {
                kind: CredentialsKind::Expired,
                ..
            } => FailureKind::ExpiredCredentials,
            BackendError::Credentials { .. } => FailureKind::Credentials,
            BackendError::AccessDenied(_) => FailureKind::AccessDenied,
            BackendError::NoRegion(_)
            | BackendError::NotFound(_)
            | BackendError::InvalidInput(_) => FailureKind::BadInput,
            BackendError::Refused(_)
            | BackendError::ReadOnly(_)
            | BackendError::NoLogGroup { .. } => FailureKind::Refused,
            BackendError::Timeout(_) => FailureKind::TimedOut,
            BackendError::Unreachable(_) => FailureKind::Unreachable,
            BackendError::Unknown { kind, .. } => *kind,
            BackendError::Malformed(_) => FailureKind::Malformed,
            BackendError::Aws { code, .. } => {
                let c = code.to_ascii_lowercase();
                if c.contains("throttl") || c.contains("toomanyrequests") || c.contains("ratelimit")
                {
                    FailureKind::Throttled
                } else if c.contains("internal")
                    || c.contains("unavailable")
                    || c.contains("servererror")
                    // ECS and ECR answer a 500 with ServerException.
                    || c.contains("serverexception")
                    || c.contains("servicefault")
                {
                    FailureKind::ServerError
                } else {
                    FailureKind::Other
                }
            }
            BackendError::Other(_) => FailureKind::Other,
        }
    }
}

/// One part of the world that could not be read in a refresh: the banner's line and the
/// CLI's warning, with its kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReadFailure {
    /// The account's label with several accounts at once ("" with one).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account: String,
    pub region: String,
    /// "App Runner", "RDS", "ECR", "CloudWatch", ...
    pub service: String,
    pub kind: FailureKind,
    pub message: String,
}

/// Why credentials did not work: the demo fallback and the login offer depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CredentialsKind {
    /// Nothing configured at all.
    Missing,
    /// An SSO session or a temporary token that has run out.
    Expired,
    /// AWS refused them (unknown key, bad signature).
    Rejected,
    /// The provider failed for another reason (a broken profile, a failing process).
    Unusable,
}

/// Everything found, plus what could not be read (a region or service that failed does
/// not hide the others).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Inventory {
    pub environments: Vec<Environment>,
    pub problems: Vec<String>,
    /// The same failures, typed: which region and service, what kind.
    pub failures: Vec<ReadFailure>,
}

impl Inventory {
    /// Finds `name`, `region/name`, `account/name` or `account/region/name` (account: its
    /// label, alias or id); refuses an ambiguous name with the choices.
    pub fn resolve(&self, wanted: &str) -> Result<&Environment, BackendError> {
        let parts: Vec<&str> = wanted.split('/').collect();
        let (account, region, name) = match parts.as_slice() {
            [a, r, n] => (Some(*a), Some(*r), *n),
            // One qualifier: a region or an account, whichever it names.
            [q, n] => (Some(*q), Some(*q), *n),
            _ => (None, None, wanted),
        };
        let matches: Vec<&Environment> = self
            .environments
            .iter()
            .filter(|e| {
                let (in_account, in_region) = (
                    account.is_none_or(|a| a == e.key.account),
                    region.is_none_or(|r| r == e.key.region),
                );
                e.key.name == name
                    && match parts.len() {
                        3 => in_account && in_region,
                        2 => in_account || in_region,
                        _ => true,
                    }
            })
            .collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => {
                let mut known: Vec<&str> = self
                    .environments
                    .iter()
                    .map(|e| e.key.name.as_str())
                    .collect();
                known.sort();
                known.dedup();
                // The nearest names first, so a typo is one glance away.
                known.sort_by_key(|k| edit_distance(k, name));
                let shown: Vec<&str> = known.iter().take(5).copied().collect();
                Err(BackendError::NotFound(format!(
                    "unknown environment {}; {}",
                    cut(wanted, 64),
                    match shown.as_slice() {
                        [] => "none are known".to_string(),
                        [nearest, ..] if edit_distance(nearest, name) <= 2 => {
                            format!("did you mean {nearest}? (known: {})", shown.join(", "))
                        }
                        _ => format!("known: {}", shown.join(", ")),
                    }
                )))
            }
            many => Err(BackendError::InvalidInput(format!(
                "{name:?} exists in several {}; say which: {}",
                if many.iter().all(|e| e.key.account == many[0].key.account) {
                    "regions"
                } else {
                    "accounts"
                },
                many.iter()
                    .map(|e| e.key.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// `text` quoted, cut to `max` characters with an ellipsis: user input echoed in errors
/// stays readable however long it was.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(max).collect();
        format!("{head:?}... ({} characters)", text.chars().count())
    }
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// One step of an action, and how long it took (emulated or real seconds).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Step {
    pub what: String,
    pub seconds: f64,
}

/// What an action did and what is left to happen.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ActionReport {
    pub env: Option<EnvKey>,
    pub steps: Vec<Step>,
    pub left: Vec<String>,
    /// For actions of several parts (wake, sleep, a deploy that waits): each part's
    /// outcome. The action succeeded only if every part did.
    pub parts: Vec<PartOutcome>,
}

/// How one part of an action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Done,
    AlreadyDone,
    /// Asked for, and AWS is doing it; not waited for.
    Pending,
    Failed,
    TimedOut,
    /// Its state could not be read, so it was not acted on.
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartOutcome {
    /// "service", "database", "app answering", "deployment".
    pub part: String,
    pub outcome: Outcome,
    pub detail: String,
    /// What kind of failure, when it failed.
    pub kind: Option<FailureKind>,
}

/// An action's result as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Done,
    /// Some parts done, some not.
    Partial,
    /// Nothing done; the failures' common kind, if they share one.
    Failed(Option<FailureKind>),
    /// Nothing failed, but something was still pending at the deadline.
    TimedOut,
}

impl ActionReport {
    pub fn total_seconds(&self) -> f64 {
        self.steps.iter().map(|s| s.seconds).sum()
    }

    pub fn part(&mut self, part: &str, outcome: Outcome, detail: String) {
        self.parts.push(PartOutcome {
            part: part.to_string(),
            outcome,
            detail,
            kind: None,
        });
    }

    /// A part that failed with `e`; a timeout is a part still pending at the deadline.
    pub fn failed(&mut self, part: &str, e: &BackendError) {
        self.parts.push(PartOutcome {
            part: part.to_string(),
            outcome: if matches!(e, BackendError::Timeout(_)) {
                Outcome::TimedOut
            } else {
                Outcome::Failed
            },
            detail: e.to_string(),
            kind: Some(e.kind()),
        });
    }

    pub fn verdict(&self) -> Verdict {
        let bad = |o: Outcome| matches!(o, Outcome::Failed | Outcome::Unknown);
        let failed: Vec<&PartOutcome> = self.parts.iter().filter(|p| bad(p.outcome)).collect();
        let timed_out = self.parts.iter().any(|p| p.outcome == Outcome::TimedOut);
        let done = self
            .parts
            .iter()
            .any(|p| matches!(p.outcome, Outcome::Done | Outcome::Pending));
        match (failed.as_slice(), timed_out) {
            ([], false) => Verdict::Done,
            ([], true) => Verdict::TimedOut,
            _ if done => Verdict::Partial,
            (f, _) => Verdict::Failed(
                f.iter()
                    .map(|p| p.kind)
                    .reduce(|a, b| if a == b { a } else { None })
                    .flatten(),
            ),
        }
    }
}

/// What to deploy.
#[derive(Clone, Debug, PartialEq)]
pub enum ImageRef {
    Tag(String),
    Digest(String),
}

impl ImageRef {
    pub fn validate(&self) -> Result<(), BackendError> {
        match self {
            ImageRef::Tag(t) => {
                let ok = !t.is_empty()
                    && t.len() <= 128
                    && t.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                    && !t.starts_with(['.', '-']);
                if ok {
                    Ok(())
                } else {
                    Err(BackendError::InvalidInput(format!(
                        "invalid image tag {t:?}: 1 to 128 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
                    )))
                }
            }
            ImageRef::Digest(d) => {
                let ok = d
                    .strip_prefix("sha256:")
                    .is_some_and(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()));
                if ok {
                    Ok(())
                } else {
                    Err(BackendError::InvalidInput(format!(
                        "invalid image digest {d:?}: expected sha256:<64 hex digits>"
                    )))
                }
            }
        }
    }

    /// The App Runner image identifier for this reference in `repository_uri`.
    pub fn identifier(&self, repository_uri: &str) -> String {
        match self {
            ImageRef::Tag(t) => format!("{repository_uri}:{t}"),
            ImageRef::Digest(d) => format!("{repository_uri}@{d}"),
        }
    }

    /// Parses `<uri>:<tag>` or `<uri>@<digest>` into (repository URI, reference).
    pub fn parse_identifier(identifier: &str) -> Option<(String, ImageRef)> {
        if let Some((uri, digest)) = identifier.split_once('@') {
            return Some((uri.to_string(), ImageRef::Digest(digest.to_string())));
        }
        let (uri, tag) = identifier.rsplit_once(':')?;
        (!tag.contains('/')).then(|| (uri.to_string(), ImageRef::Tag(tag.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_suggest_the_nearest_and_long_input_is_cut() {
        assert_eq!(edit_distance("dave", "dvae"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        let long = "x".repeat(5000);
        let shown = cut(&long, 64);
        assert!(
            shown.len() < 100 && shown.contains("5000 characters"),
            "{shown}"
        );
        let inventory = Inventory::default();
        let e = inventory.resolve(&long).unwrap_err().to_string();
        assert!(e.len() < 200, "{e}");
    }

    #[test]
    fn image_refs_are_validated_and_parsed() {
        assert!(ImageRef::Tag("v1.5.1".into()).validate().is_ok());
        assert!(ImageRef::Tag("bad tag".into()).validate().is_err());
        assert!(ImageRef::Tag("".into()).validate().is_err());
        assert!(
            ImageRef::Digest(format!("sha256:{}", "a".repeat(64)))
                .validate()
                .is_ok()
        );
        assert!(ImageRef::Digest("sha256:abc".into()).validate().is_err());
        let uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/scale0";
        assert_eq!(
            ImageRef::parse_identifier(&format!("{uri}:dev")),
            Some((uri.to_string(), ImageRef::Tag("dev".into())))
        );
        assert_eq!(
            ImageRef::parse_identifier(&format!("{uri}@sha256:ff")),
            Some((uri.to_string(), ImageRef::Digest("sha256:ff".into())))
        );
    }
}
