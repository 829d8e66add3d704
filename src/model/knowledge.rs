//! What is not known: the parts of an environment scale0 shows, the kinds of failure that
//! leave one unknown, and a part whose last read failed (its error and age).

use super::Time;
use serde::Serialize;

/// A part of an environment that scale0 shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Service,
    Database,
    Image,
    Metrics,
}

impl Part {
    pub fn label(self) -> &'static str {
        match self {
            Part::Service => "service",
            Part::Database => "database",
            Part::Image => "image",
            Part::Metrics => "metrics",
        }
    }
}

/// What kind of failure an error is, in the words the banners and the fault matrix use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    Throttled,
    AccessDenied,
    ExpiredCredentials,
    /// Missing or rejected credentials.
    Credentials,
    Unreachable,
    ServerError,
    TimedOut,
    Malformed,
    Refused,
    BadInput,
    Other,
}

impl FailureKind {
    pub fn label(self) -> &'static str {
        match self {
            FailureKind::Throttled => "throttled",
            FailureKind::AccessDenied => "access denied",
            FailureKind::ExpiredCredentials => "expired credentials",
            FailureKind::Credentials => "credentials missing or rejected",
            FailureKind::Unreachable => "unreachable",
            FailureKind::ServerError => "server error",
            FailureKind::TimedOut => "timed out",
            FailureKind::Malformed => "malformed answer",
            FailureKind::Refused => "refused",
            FailureKind::BadInput => "bad input",
            FailureKind::Other => "error",
        }
    }
}

/// A part that could not be read: the error, its kind, and when the value shown (if any)
/// was read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unread {
    pub part: Part,
    pub kind: FailureKind,
    pub error: String,
    /// When the value kept above was read (server clock); None: nothing is known.
    pub last_read: Option<Time>,
}
