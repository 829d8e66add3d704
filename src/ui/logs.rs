//! The logs panel's side of the app: what it shows (rows, source, filter, follow, what
//! went wrong), the worker task that reads or follows a log for it, and the view model
//! the panel draws. Requests carry a generation, so an answer to an older request (a
//! source or filter since changed) is dropped rather than mixed in.

use super::App;
use super::intent::Intent;
use super::view::Tone;
use super::worker::Command;
use crate::backend::BackendError;
use crate::backend::aws::AwsBackend;
use crate::backend::logs::{FollowState, LogQuery, Pacing, console_url};
use crate::model::logs::{Level, LogLine, LogMark, LogSource};
use crate::model::{EnvKey, Environment, Time};

/// Rows the panel keeps; a follow drops the oldest past this.
pub const MAX_ROWS: usize = 100_000;
/// How much of the log a jump to a moment reads, either side of it.
pub const AROUND: f64 = 300.0;

#[derive(Clone, Debug, PartialEq)]
pub enum LogRow {
    Line(LogLine),
    Mark(LogMark),
}

impl LogRow {
    pub fn time(&self) -> Time {
        match self {
            LogRow::Line(l) => l.time,
            LogRow::Mark(m) => m.time(),
        }
    }

    pub fn level(&self) -> Level {
        match self {
            LogRow::Line(l) => l.level(),
            LogRow::Mark(_) => Level::Warn,
        }
    }

    /// The whole text, as copied.
    pub fn text(&self) -> String {
        match self {
            LogRow::Line(l) => l.message.clone(),
            LogRow::Mark(m) => m.text(),
        }
    }
}

/// What the worker reads for the panel.
#[derive(Clone, Debug)]
pub struct LogsRequest {
    pub generation: u64,
    pub env: Environment,
    pub source: LogSource,
    pub query: LogQuery,
    pub follow: bool,
}

/// One answer to a request.
#[derive(Debug)]
pub enum LogsChunk {
    /// Where the log is: the same query in the AWS console.
    Target {
        console_url: String,
    },
    Lines {
        lines: Vec<LogLine>,
        marks: Vec<LogMark>,
        state: FollowState,
        caught_up: bool,
    },
    /// The read stopped at the line limit; more from this time on.
    Truncated(Time),
    Failed(BackendError),
}

/// Reads (or follows) a log for the panel, sending each poll's lines as they come.
pub async fn run(backend: &AwsBackend, request: LogsRequest, send: impl Fn(LogsChunk)) {
    let target = match backend.log_target(&request.env, request.source) {
        Ok(t) => t,
        Err(e) => return send(LogsChunk::Failed(e)),
    };
    let now = backend.clock().now();
    send(LogsChunk::Target {
        console_url: console_url(&target, &request.query, now),
    });
    let mut follower = match backend.follower(&target, &request.query, Pacing::default()) {
        Ok(f) => f,
        Err(e) => return send(LogsChunk::Failed(e)),
    };
    let mut count = 0;
    loop {
        let update = match follower.poll().await {
            Ok(u) => u,
            Err(e) => return send(LogsChunk::Failed(e)),
        };
        count += update.lines.len();
        let (wait, caught_up) = (update.wait, update.caught_up);
        let last = update.lines.last().map(|l| l.time);
        send(LogsChunk::Lines {
            lines: update.lines,
            marks: update.marks,
            state: update.state,
            caught_up,
        });
        if !request.follow {
            if caught_up {
                return;
            }
            if count >= request.query.max_lines {
                return send(LogsChunk::Truncated(last.unwrap_or(now)));
            }
        }
        tokio::time::sleep(wait).await;
    }
}

/// Where the panel's read stands.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum LogsStatus {
    #[default]
    NotAsked,
    Loading,
    Done,
    Following(FollowState),
    Truncated(Time),
    Failed(String),
}

/// The panel's state in the app.
#[derive(Default)]
pub struct LogsState {
    pub env: Option<EnvKey>,
    pub source: LogSource,
    /// The filter box as typed, and the filter of the lines shown.
    pub filter: String,
    pub applied_filter: String,
    pub follow: bool,
    pub rows: Vec<LogRow>,
    /// Rows dropped from the top to stay within MAX_ROWS.
    pub dropped: usize,
    pub selected: Option<usize>,
    /// The moment a graph or an event asked for; the nearest line is selected.
    pub around: Option<Time>,
    pub scroll_to: Option<usize>,
    pub status: LogsStatus,
    pub console_url: Option<String>,
    pub generation: u64,
}

impl LogsState {
    /// A new request for `env`: the rows so far go, answers to older requests are dropped.
    pub fn request(&mut self, env: &Environment, now: Time, window: f64) -> LogsRequest {
        self.generation += 1;
        self.env = Some(env.key.clone());
        self.rows.clear();
        self.dropped = 0;
        self.selected = None;
        self.console_url = None;
        self.status = LogsStatus::Loading;
        self.applied_filter = self.filter.clone();
        let (start, end) = match self.around {
            Some(t) if !self.follow => (t - AROUND, Some(t + AROUND)),
            _ => (now - window, None),
        };
        LogsRequest {
            generation: self.generation,
            env: env.clone(),
            source: self.source,
            query: LogQuery {
                start,
                end,
                filter: self.applied_filter.clone(),
                max_lines: MAX_ROWS,
            },
            follow: self.follow,
        }
    }

    /// Folds one answer in (answers to older requests are ignored).
    pub fn absorb(&mut self, generation: u64, chunk: LogsChunk) {
        if generation != self.generation {
            return;
        }
        match chunk {
            LogsChunk::Target { console_url } => self.console_url = Some(console_url),
            LogsChunk::Lines {
                lines,
                marks,
                state,
                caught_up,
            } => {
                self.rows.extend(lines.into_iter().map(LogRow::Line));
                self.rows.extend(marks.into_iter().map(LogRow::Mark));
                if self.rows.len() > MAX_ROWS {
                    let excess = self.rows.len() - MAX_ROWS;
                    self.rows.drain(..excess);
                    self.dropped += excess;
                    self.selected = self.selected.and_then(|s| s.checked_sub(excess));
                }
                self.status = match state {
                    s @ (FollowState::Throttled { .. } | FollowState::Lost { .. }) => {
                        LogsStatus::Following(s)
                    }
                    s if self.follow => LogsStatus::Following(s),
                    _ if caught_up => LogsStatus::Done,
                    _ => LogsStatus::Loading,
                };
                if caught_up && let Some(t) = self.around.filter(|_| self.selected.is_none()) {
                    self.selected = nearest(&self.rows, t);
                    self.scroll_to = self.selected;
                }
            }
            LogsChunk::Truncated(t) => self.status = LogsStatus::Truncated(t),
            LogsChunk::Failed(e) => self.status = LogsStatus::Failed(e.to_string()),
        }
    }

    /// The selected line's time, drawn on the graphs.
    pub fn marker(&self) -> Option<Time> {
        self.selected
            .and_then(|i| self.rows.get(i))
            .map(LogRow::time)
    }
}

/// Draws the panel from the state; the filter box edits the state's filter.
pub fn panel(ui: &mut egui::Ui, state: &mut LogsState, now: Time) -> Vec<Intent> {
    let mut filter = state.filter.clone();
    let intents = super::panels::logs::show(ui, &logs_view(state, now), &mut filter);
    state.filter = filter;
    // A jump scrolls once; after that the person scrolls.
    state.scroll_to = None;
    intents
}

impl App {
    /// The logs panel's state (tests and benchmarks read it).
    pub fn logs(&self) -> &LogsState {
        &self.logs
    }

    /// Reads the selected environment's log when the selection changed.
    pub(super) fn ensure_logs(&mut self) {
        let Some(env) = self.selected_env().cloned() else {
            return;
        };
        if self.logs.env.as_ref() != Some(&env.key) {
            self.logs.around = None;
            self.request_logs(&env);
        }
    }

    fn request_logs(&mut self, env: &Environment) {
        let now = self.worker.now();
        let request = self.logs.request(env, now, self.settings.window_seconds);
        self.worker.send(Command::Logs(request));
    }

    pub(super) fn apply_logs(&mut self, intent: Intent) {
        let Some(env) = self.selected_env().cloned() else {
            return;
        };
        match intent {
            Intent::LogSource(source) => self.logs.source = source,
            Intent::LogFilter => {}
            Intent::LogFollow(on) => {
                self.logs.follow = on;
                if on {
                    self.logs.around = None;
                }
            }
            Intent::LogSelect(i) => {
                self.logs.selected = Some(i);
                // Selecting is local: nothing to read.
                return;
            }
            Intent::LogsAt(t) => {
                self.logs.follow = false;
                self.logs.around = Some(t);
            }
            // The app shell routes only the intents above here.
            _ => return,
        }
        self.request_logs(&env);
    }
}

/// The row nearest to `t` (rows are in time order).
fn nearest(rows: &[LogRow], t: Time) -> Option<usize> {
    let after = rows.partition_point(|r| r.time() < t);
    [after.checked_sub(1), (after < rows.len()).then_some(after)]
        .into_iter()
        .flatten()
        .min_by(|a, b| {
            (rows[*a].time() - t)
                .abs()
                .total_cmp(&(rows[*b].time() - t).abs())
        })
}

/// What the logs panel draws.
#[derive(Clone, Debug)]
pub struct LogsView<'a> {
    pub source: LogSource,
    pub follow: bool,
    pub rows: &'a [LogRow],
    pub selected: Option<usize>,
    pub scroll_to: Option<usize>,
    /// What the panel says about its read, and how loudly.
    pub status: Option<(Tone, String)>,
    pub console_url: Option<&'a str>,
    /// The filter the rows were read with.
    pub applied_filter: &'a str,
}

pub fn logs_view<'a>(state: &'a LogsState, now: Time) -> LogsView<'a> {
    let count = state.rows.len();
    let dropped = if state.dropped > 0 {
        format!(" (the {} oldest dropped)", state.dropped)
    } else {
        String::new()
    };
    let status = match &state.status {
        LogsStatus::NotAsked => None,
        LogsStatus::Loading => Some((Tone::Info, format!("reading... {count} lines"))),
        LogsStatus::Done => Some((Tone::Muted, format!("{count} lines{dropped}"))),
        LogsStatus::Following(FollowState::Throttled { times }) => Some((
            Tone::Warn,
            format!("CloudWatch Logs is throttling ({times} in a row): backing off"),
        )),
        LogsStatus::Following(FollowState::Lost { since, message }) => Some((
            Tone::Error,
            format!(
                "reading failed {} ago: {message}; retrying from the last line",
                crate::model::human_duration(now - since)
            ),
        )),
        LogsStatus::Following(_) => Some((Tone::Ok, format!("following: {count} lines{dropped}"))),
        LogsStatus::Truncated(t) => Some((
            Tone::Warn,
            format!(
                "showing the first {count} lines; more from {} on (narrow the filter)",
                super::panels::clock_label(*t)
            ),
        )),
        LogsStatus::Failed(e) => Some((Tone::Error, e.clone())),
    };
    LogsView {
        source: state.source,
        follow: state.follow,
        rows: &state.rows,
        selected: state.selected,
        scroll_to: state.scroll_to,
        status,
        console_url: state.console_url.as_deref(),
        applied_filter: &state.applied_filter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(t: f64, id: &str) -> LogLine {
        LogLine {
            time: t,
            stream: "s".into(),
            message: format!("line {id}"),
            id: id.into(),
        }
    }

    #[test]
    fn older_answers_are_dropped_and_a_jump_selects_the_nearest_line() {
        let mut s = LogsState {
            around: Some(105.0),
            generation: 3,
            ..LogsState::default()
        };
        s.absorb(
            2,
            LogsChunk::Lines {
                lines: vec![line(1.0, "old")],
                marks: Vec::new(),
                state: FollowState::Reading,
                caught_up: true,
            },
        );
        assert!(s.rows.is_empty(), "an answer to an older request");
        s.absorb(
            3,
            LogsChunk::Lines {
                lines: vec![line(100.0, "a"), line(104.0, "b"), line(110.0, "c")],
                marks: Vec::new(),
                state: FollowState::Idle,
                caught_up: true,
            },
        );
        assert_eq!(s.selected, Some(1));
        assert_eq!(s.marker(), Some(104.0));
        assert_eq!(s.status, LogsStatus::Done);
    }
}
