//! Log lines as scale0 shows them: which source they come from, the line itself, its
//! level (read from the text, for colour), and the marks a follow leaves where it could
//! not read (so a gap is never silent).

use super::Time;
use serde::Serialize;

/// Which log of an environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogSource {
    /// The app's own output (one stream per instance).
    #[default]
    App,
    /// The compute service's deployment logs (one stream per deployment).
    Deploy,
    /// The compute service's event stream (pauses, resumes, deployments).
    Events,
    /// The database's engine log (PostgreSQL), when exported.
    Db,
}

impl LogSource {
    pub const ALL: [LogSource; 4] = [
        LogSource::App,
        LogSource::Deploy,
        LogSource::Events,
        LogSource::Db,
    ];

    pub fn parse(text: &str) -> Option<LogSource> {
        match text {
            "app" | "application" => Some(LogSource::App),
            "deploy" | "deployment" | "deployments" => Some(LogSource::Deploy),
            "events" | "service" => Some(LogSource::Events),
            "db" | "database" | "postgresql" => Some(LogSource::Db),
            _ => None,
        }
    }

    /// Its name on the command line (`--source`).
    pub fn as_str(&self) -> &'static str {
        match self {
            LogSource::App => "app",
            LogSource::Deploy => "deploy",
            LogSource::Events => "events",
            LogSource::Db => "db",
        }
    }

    /// Its name for people.
    pub fn label(&self) -> &'static str {
        match self {
            LogSource::App => "app",
            LogSource::Deploy => "deployment",
            LogSource::Events => "service events",
            LogSource::Db => "database",
        }
    }
}

/// One log event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogLine {
    /// Epoch seconds (the event's timestamp, millisecond precision).
    pub time: Time,
    pub stream: String,
    pub message: String,
    /// CloudWatch Logs' eventId: unique in its group, the key against duplicates.
    pub id: String,
}

impl LogLine {
    pub fn level(&self) -> Level {
        Level::of(&self.message)
    }
}

/// How bad a line is, read from its words (for colour and the error count).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn of(message: &str) -> Level {
        // The first line decides: a traceback's later lines repeat words like "error".
        let head = message.lines().next().unwrap_or("");
        let has = |words: &[&str]| words.iter().any(|w| head.contains(w));
        if has(&[
            "FATAL",
            "ERROR",
            "PANIC",
            "Traceback",
            "Internal Server Error",
            "[CRITICAL]",
            "failed",
            "Failed",
        ]) || http_status(head).is_some_and(|s| s >= 500)
        {
            Level::Error
        } else if has(&["WARNING", "WARN", "[WARNING]", "Rolling back"])
            || http_status(head).is_some_and(|s| s >= 400)
        {
            Level::Warn
        } else if has(&["DEBUG"]) {
            Level::Debug
        } else {
            Level::Info
        }
    }
}

/// The status of an access line (`"GET / HTTP/1.1" 500 145`).
fn http_status(line: &str) -> Option<u16> {
    let after = &line[line.find("HTTP/")?..];
    let rest = after.split_once("\" ")?.1;
    rest.split_whitespace().next()?.parse().ok()
}

/// Where a follow could not read, said in the stream of lines.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogMark {
    /// Reading failed from `since` (the last line's time) until `until`; every line of
    /// that span was read back afterwards.
    Resumed {
        since: Time,
        until: Time,
        reason: String,
    },
    /// Lines between `from` and `to` were not read (more than a follow catches up on).
    Gap {
        from: Time,
        to: Time,
        reason: String,
    },
}

impl LogMark {
    pub fn time(&self) -> Time {
        match self {
            LogMark::Resumed { until, .. } => *until,
            LogMark::Gap { to, .. } => *to,
        }
    }

    pub fn text(&self) -> String {
        match self {
            LogMark::Resumed {
                since,
                until,
                reason,
            } => format!(
                "-- reading stopped for {} ({reason}); resumed, nothing missed --",
                super::human_duration(until - since)
            ),
            LogMark::Gap { from, to, reason } => format!(
                "-- GAP: {} of lines not shown ({reason}) --",
                super::human_duration(to - from)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_come_from_the_first_line() {
        assert_eq!(
            Level::of("Internal Server Error: /\nTraceback ...\nFATAL: x"),
            Level::Error
        );
        assert_eq!(
            Level::of("2026-01-01 UTC:10.0.1.23(52144):dbuser@x:[4000]:FATAL:  remaining"),
            Level::Error
        );
        assert_eq!(
            Level::of("[2026-01-01T00:00:00Z] \"GET / HTTP/1.1\" 500 145"),
            Level::Error
        );
        assert_eq!(
            Level::of("[2026-01-01T00:00:00Z] \"GET / HTTP/1.1\" 429 145"),
            Level::Warn
        );
        assert_eq!(
            Level::of("[2026-01-01T00:00:00Z] \"GET / HTTP/1.1\" 200 6792"),
            Level::Info
        );
        assert_eq!(Level::of("LOG:  database system is shut down"), Level::Info);
    }

    #[test]
    fn sources_parse_their_names() {
        for s in LogSource::ALL {
            assert_eq!(LogSource::parse(s.as_str()), Some(s));
        }
        assert_eq!(LogSource::parse("nope"), None);
    }
}
