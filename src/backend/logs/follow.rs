//! Following a log with FilterLogEvents, as `aws logs tail --follow` does, within the
//! API's limits: pages are read one after the other at most a few calls a second, the
//! poll interval widens while nothing new arrives, throttling is waited out and said,
//! and a read that fails (the network gone, a 5xx) resumes from its last token. Lines
//! are keyed by eventId, so re-reading a few seconds back (for lines ingested late)
//! never shows one twice; a span that could not be read back is marked as a gap.

use super::{CallError, LogQuery, LogTarget, MAX_PAGE, classify, filter_pattern};
use crate::backend::BackendError;
use crate::clock::Clock;
use crate::model::Time;
use crate::model::logs::{LogLine, LogMark};
use std::collections::HashMap;
use std::time::Duration;

/// How a follower spaces its calls.
#[derive(Clone, Copy, Debug)]
pub struct Pacing {
    /// Least time between two calls: FilterLogEvents allows 5 calls a second per account
    /// and region, shared with everything else the account runs.
    pub min_gap: Duration,
    /// Poll interval while lines arrive; it doubles while idle, up to `max_interval`.
    pub interval: Duration,
    pub max_interval: Duration,
    /// First wait after a throttled or failed call, doubling up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// One-shot reads give up after this many failed calls in a row.
    pub read_retries: u32,
    /// How far before the newest line each poll reads again, for lines ingested late.
    pub lag: Duration,
    /// After an outage, catch up on at most this many lines; past that, jump to now and
    /// mark the skipped span as a gap.
    pub max_catch_up: usize,
    pub page: i32,
}

impl Default for Pacing {
    fn default() -> Pacing {
        Pacing {
            min_gap: Duration::from_millis(250),
            interval: Duration::from_secs(2),
            max_interval: Duration::from_secs(15),
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            read_retries: 5,
            lag: Duration::from_secs(10),
            max_catch_up: 50_000,
            page: MAX_PAGE,
        }
    }
}

/// What the follower is doing, to show beside the lines.
#[derive(Clone, Debug, PartialEq)]
pub enum FollowState {
    /// Lines arrived, or more pages are waiting.
    Reading,
    /// Nothing new; the next poll is `FollowUpdate::wait` away.
    Idle,
    /// AWS throttled the last `times` calls in a row; waiting before the next.
    Throttled { times: u32 },
    /// Reading has failed since `since` (server time); retrying from the last token.
    Lost { since: Time, message: String },
}

/// One poll's outcome.
#[derive(Debug)]
pub struct FollowUpdate {
    pub lines: Vec<LogLine>,
    pub marks: Vec<LogMark>,
    pub state: FollowState,
    /// The cause, when throttled or lost.
    pub error: Option<BackendError>,
    /// Every line up to now has been read (no page is waiting).
    pub caught_up: bool,
    /// When to poll next.
    pub wait: Duration,
}

/// An outage being caught up on.
struct Recovery {
    since: Time,
    reason: String,
    lines: usize,
}

pub struct Follower {
    client: aws_sdk_cloudwatchlogs::Client,
    clock: Clock,
    target: LogTarget,
    pattern: String,
    start_ms: i64,
    end_ms: Option<i64>,
    pacing: Pacing,
    profile: Option<String>,
    newest_ms: Option<i64>,
    /// A page is waiting: the start time of its query and its token.
    pending: Option<(i64, String)>,
    /// eventId -> timestamp of the lines at or after `newest - lag`.
    seen: HashMap<String, i64>,
    idle_wait: Duration,
    failures: u32,
    throttled: u32,
    lost_since: Option<(Time, String)>,
    recovery: Option<Recovery>,
    last_call: Option<tokio::time::Instant>,
}

impl Follower {
    pub(super) fn new(
        client: aws_sdk_cloudwatchlogs::Client,
        clock: Clock,
        target: LogTarget,
        query: LogQuery,
        pacing: Pacing,
        profile: Option<String>,
    ) -> Follower {
        Follower {
            client,
            clock,
            pattern: filter_pattern(&query.filter),
            start_ms: (query.start * 1000.0) as i64,
            end_ms: query.end.map(|e| (e * 1000.0) as i64),
            target,
            pacing,
            profile,
            newest_ms: None,
            pending: None,
            seen: HashMap::new(),
            idle_wait: pacing.interval,
            failures: 0,
            throttled: 0,
            lost_since: None,
            recovery: None,
            last_call: None,
        }
    }

    pub fn target(&self) -> &LogTarget {
        &self.target
    }

    fn backoff(&self) -> Duration {
        let doublings = self.failures.saturating_sub(1).min(16);
        (self.pacing.backoff * 2u32.pow(doublings)).min(self.pacing.max_backoff)
    }

    fn next_start(&self) -> i64 {
        match self.newest_ms {
            Some(n) => self.start_ms.max(n - self.pacing.lag.as_millis() as i64),
            None => self.start_ms,
        }
    }

    /// One FilterLogEvents call: the next page, or the next poll from the newest line.
    pub async fn poll(&mut self) -> Result<FollowUpdate, BackendError> {
        if let Some(last) = self.last_call {
            let since = last.elapsed();
            if since < self.pacing.min_gap {
                tokio::time::sleep(self.pacing.min_gap - since).await;
            }
        }
        self.last_call = Some(tokio::time::Instant::now());
        let (start, token) = match self.pending.take() {
            Some((s, t)) => (s, Some(t)),
            None => (self.next_start(), None),
        };
        let mut call = self
            .client
            .filter_log_events()
            .log_group_name(&self.target.place.group)
            .start_time(start)
            .limit(self.pacing.page)
            .set_log_stream_name_prefix(self.target.place.stream_prefix.clone())
            .set_end_time(self.end_ms)
            .set_next_token(token.clone());
        if !self.pattern.is_empty() {
            call = call.filter_pattern(&self.pattern);
        }
        // Our own back-off, so throttling is seen and said rather than hidden in retries.
        let answer = call
            .customize()
            .config_override(
                aws_sdk_cloudwatchlogs::config::Config::builder()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        let out = match answer {
            Ok(out) => out,
            Err(e) => {
                // The failed page is read again, from the same token.
                self.pending = token.map(|t| (start, t));
                self.failures += 1;
                let (state, error) = match classify(&self.target, self.profile.as_deref(), e) {
                    CallError::Fatal(e) => return Err(e),
                    CallError::Throttled(e) => {
                        self.throttled += 1;
                        let times = self.throttled;
                        (FollowState::Throttled { times }, e)
                    }
                    CallError::Transient(e) => {
                        let message = e.to_string();
                        let since = self
                            .lost_since
                            .get_or_insert_with(|| (self.clock.now(), message.clone()))
                            .0;
                        (FollowState::Lost { since, message }, e)
                    }
                };
                return Ok(FollowUpdate {
                    lines: Vec::new(),
                    marks: Vec::new(),
                    state,
                    error: Some(error),
                    caught_up: false,
                    wait: self.backoff(),
                });
            }
        };
        self.failures = 0;
        self.throttled = 0;
        if let Some((since, reason)) = self.lost_since.take() {
            self.recovery = Some(Recovery {
                since,
                reason,
                lines: 0,
            });
        }
        let mut lines = Vec::new();
        for e in out.events() {
            let (Some(id), Some(ts)) = (e.event_id(), e.timestamp()) else {
                continue;
            };
            if self.seen.insert(id.to_string(), ts).is_some() {
                continue;
            }
            self.newest_ms = Some(self.newest_ms.map_or(ts, |n| n.max(ts)));
            lines.push(LogLine {
                time: ts as f64 / 1000.0,
                stream: e.log_stream_name().unwrap_or_default().to_string(),
                message: e.message().unwrap_or_default().trim_end().to_string(),
                id: id.to_string(),
            });
        }
        let mut marks = Vec::new();
        if let Some(r) = &mut self.recovery {
            r.lines += lines.len();
            if r.lines > self.pacing.max_catch_up && out.next_token().is_some() {
                // Too far behind: skip to now, and say what was skipped.
                let now = self.clock.now();
                let from = lines.last().map_or(r.since, |l: &LogLine| l.time);
                marks.push(LogMark::Gap {
                    from,
                    to: now,
                    reason: format!(
                        "more than {} lines after reading failed ({})",
                        self.pacing.max_catch_up, r.reason
                    ),
                });
                self.recovery = None;
                self.newest_ms = Some((now * 1000.0) as i64);
                self.seen.clear();
                return Ok(FollowUpdate {
                    lines,
                    marks,
                    state: FollowState::Reading,
                    error: None,
                    caught_up: false,
                    wait: self.pacing.min_gap,
                });
            }
        }
        if let Some(next) = out.next_token() {
            self.pending = Some((start, next.to_string()));
            return Ok(FollowUpdate {
                lines,
                marks,
                state: FollowState::Reading,
                error: None,
                caught_up: false,
                wait: self.pacing.min_gap,
            });
        }
        if let Some(r) = self.recovery.take() {
            marks.push(LogMark::Resumed {
                since: r.since,
                until: self.clock.now(),
                reason: r.reason,
            });
        }
        // Only lines that a later poll reads again need remembering.
        if let Some(n) = self.newest_ms {
            let keep_from = n - self.pacing.lag.as_millis() as i64;
            self.seen.retain(|_, ts| *ts >= keep_from);
        }
        let state = if lines.is_empty() {
            self.idle_wait = (self.idle_wait * 2).min(self.pacing.max_interval);
            FollowState::Idle
        } else {
            self.idle_wait = self.pacing.interval;
            FollowState::Reading
        };
        Ok(FollowUpdate {
            lines,
            marks,
            state,
            error: None,
            caught_up: true,
            wait: self.idle_wait,
        })
    }

    /// Polls until `sink` says stop (false) or reading fails for good; sleeps between
    /// polls as each update says.
    pub async fn run(
        mut self,
        mut sink: impl FnMut(FollowUpdate) -> bool,
    ) -> Result<(), BackendError> {
        loop {
            let update = self.poll().await?;
            let wait = update.wait;
            if !sink(update) {
                return Ok(());
            }
            tokio::time::sleep(wait).await;
        }
    }
}
