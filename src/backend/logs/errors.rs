//! The app log's errors over a window (a burst's): how many error lines, and the
//! distinct errors in the order they first appeared, each by its last line (a
//! traceback's exception, or the line itself).

use super::LogQuery;
use crate::backend::BackendError;
use crate::backend::aws::AwsBackend;
use crate::model::logs::{Level, LogLine, LogSource};
use crate::model::{Environment, Time};
use serde::Serialize;

/// Words that start an error line in the logs scale0 knows (Django, gunicorn,
/// PostgreSQL); the lines found are checked again with `Level::of`.
const ERROR_PATTERN: &str = "?Error ?ERROR ?FATAL ?Traceback ?Exception ?CRITICAL";
/// Most lines one summary reads.
const MAX_LINES: usize = 50_000;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DistinctError {
    pub first_seen: Time,
    pub count: usize,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ErrorSummary {
    pub log_group: String,
    pub start: Time,
    pub end: Time,
    pub error_lines: usize,
    /// In the order they first appeared.
    pub distinct: Vec<DistinctError>,
    /// The read stopped at its line limit: the counts are at least these.
    pub truncated: bool,
}

/// What identifies an error: a traceback's last line, or the line itself.
pub fn signature(message: &str) -> String {
    message
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

pub fn summarize(lines: &[LogLine]) -> (usize, Vec<DistinctError>) {
    let mut distinct: Vec<DistinctError> = Vec::new();
    let mut count = 0;
    for l in lines.iter().filter(|l| l.level() == Level::Error) {
        count += 1;
        let text = signature(&l.message);
        match distinct.iter_mut().find(|d| d.text == text) {
            Some(d) => d.count += 1,
            None => distinct.push(DistinctError {
                first_seen: l.time,
                count: 1,
                text,
            }),
        }
    }
    (count, distinct)
}

impl AwsBackend {
    /// The app log's error lines between `start` and `end` (server time).
    pub async fn app_errors(
        &self,
        env: &Environment,
        start: Time,
        end: Time,
    ) -> Result<ErrorSummary, BackendError> {
        let target = self.log_target(env, LogSource::App)?;
        let query = LogQuery {
            start,
            end: Some(end),
            filter: ERROR_PATTERN.into(),
            max_lines: MAX_LINES,
        };
        let read = self.read_logs(&target, &query).await?;
        let (error_lines, distinct) = summarize(&read.lines);
        Ok(ErrorSummary {
            log_group: target.place.group,
            start,
            end,
            error_lines,
            distinct,
            truncated: read.truncated.is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_counted_and_told_apart_by_their_last_line() {
        let line = |t: f64, m: &str| LogLine {
            time: t,
            stream: "s".into(),
            message: m.into(),
            id: t.to_string(),
        };
        let traceback = "Internal Server Error: /\nTraceback (most recent call last):\n  File x\ndjango.db.utils.OperationalError: FATAL: slots\n";
        let lines = [
            line(1.0, "[x] \"GET / HTTP/1.1\" 200 6792"),
            line(2.0, traceback),
            line(3.0, "[1] [ERROR] Worker timeout"),
            line(4.0, traceback),
        ];
        let (count, distinct) = summarize(&lines);
        assert_eq!(count, 3);
        assert_eq!(distinct.len(), 2);
        assert_eq!(
            distinct[0].text,
            "django.db.utils.OperationalError: FATAL: slots"
        );
        assert_eq!((distinct[0].first_seen, distinct[0].count), (2.0, 2));
    }
}
