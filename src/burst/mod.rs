//! The load generator behind `scale0 burst` and the desktop app's burst panel (hey/oha
//! class). No UI here: start a burst, poll `snapshot()` at any rate, `cancel()` it.
//!
//! Plain-HTTP/1.1 bursts use a lean client of their own (raw tokio sockets, httparse);
//! TLS, HTTP/2 and redirects go through reqwest (rustls with the platform's roots).

mod general;
mod raw;
pub mod stats;

use serde::Serialize;
use stats::{ErrorKind, Latency, Recorder, Second};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Bounds a user can't pass by accident (`allow_beyond_limits` lifts them).
pub const MAX_CONCURRENCY: u32 = 1000;
pub const MAX_DURATION_SECONDS: f64 = 600.0;
pub const MAX_REQUESTS: u64 = 10_000_000;
/// Statistics shards (see `Shared::recorders`).
const RECORDER_SHARDS: u32 = 8;
/// Requests sent when neither a count nor a duration is given (as hey does).
pub const DEFAULT_REQUESTS: u64 = 200;

#[derive(Clone, Debug)]
pub struct BurstConfig {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub concurrency: u32,
    /// Stop after this many requests.
    pub requests: Option<u64>,
    /// Stop after this many seconds (whichever limit comes first).
    pub duration: Option<f64>,
    /// Total requests per second across all workers (as oha means -q).
    pub rate: Option<f64>,
    /// Per-request timeout in seconds.
    pub timeout: f64,
    pub http2: bool,
    pub follow_redirects: bool,
    /// Measure latency from when a rate-limited request was due, not when it was sent.
    pub correct_coordinated_omission: bool,
    pub allow_beyond_limits: bool,
}

impl Default for BurstConfig {
    fn default() -> Self {
        BurstConfig {
            url: String::new(),
            method: "GET".into(),
            headers: Vec::new(),
            body: Vec::new(),
            concurrency: 50,
            requests: None,
            duration: None,
            rate: None,
            timeout: 20.0,
            http2: false,
            follow_redirects: false,
            correct_coordinated_omission: false,
            allow_beyond_limits: false,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BurstError {
    #[error("invalid URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("unsupported scheme {0:?}: use http or https")]
    UnsupportedScheme(String),
    #[error("{0}")]
    BadSetting(String),
    #[error("invalid header {header:?}: {reason}")]
    BadHeader { header: String, reason: String },
}

/// Parses `Name: value` as hey and curl take it.
pub fn parse_header(text: &str) -> Result<(String, String), BurstError> {
    let bad = |reason: &str| BurstError::BadHeader {
        header: text.to_string(),
        reason: reason.to_string(),
    };
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| bad("expected 'Name: value'"))?;
    let name = name.trim();
    http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("not a valid header name"))?;
    let value = value.trim();
    http::HeaderValue::from_str(value).map_err(|_| bad("not a valid header value"))?;
    Ok((name.to_string(), value.to_string()))
}

impl BurstConfig {
    /// Checks every setting; returns the parsed URL.
    pub fn validate(&self) -> Result<reqwest::Url, BurstError> {
        let url = reqwest::Url::parse(&self.url).map_err(|e| BurstError::BadUrl {
            url: self.url.clone(),
            reason: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(BurstError::UnsupportedScheme(url.scheme().to_string()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(BurstError::BadUrl {
                url: self.url.clone(),
                reason: "no host".into(),
            });
        }
        let setting = |m: String| Err(BurstError::BadSetting(m));
        let limits = !self.allow_beyond_limits;
        if self.concurrency == 0 {
            return setting("concurrency must be at least 1".into());
        }
        if limits && self.concurrency > MAX_CONCURRENCY {
            return setting(format!(
                "concurrency {} is above the limit of {MAX_CONCURRENCY}; pass --no-limits if you mean it",
                self.concurrency
            ));
        }
        match self.requests {
            Some(0) => return setting("the number of requests must be at least 1".into()),
            Some(n) if limits && n > MAX_REQUESTS => {
                return setting(format!(
                    "{n} requests is above the limit of {MAX_REQUESTS}; pass --no-limits if you mean it"
                ));
            }
            _ => {}
        }
        if let Some(d) = self.duration {
            if !d.is_finite() || d <= 0.0 {
                return setting(format!("the duration must be positive, got {d} s"));
            }
            if limits && d > MAX_DURATION_SECONDS {
                return setting(format!(
                    "{d} s is above the limit of {MAX_DURATION_SECONDS} s; pass --no-limits if you mean it"
                ));
            }
        }
        if let Some(r) = self.rate
            && (!r.is_finite() || r <= 0.0)
        {
            return setting(format!("the rate must be positive, got {r}"));
        }
        if !self.timeout.is_finite() || self.timeout <= 0.0 {
            return setting(format!(
                "the timeout must be positive, got {} s",
                self.timeout
            ));
        }
        http::Method::from_bytes(self.method.as_bytes())
            .map_err(|_| BurstError::BadSetting(format!("invalid method {:?}", self.method)))?;
        for (name, value) in &self.headers {
            parse_header(&format!("{name}: {value}"))?;
        }
        Ok(url)
    }

    fn request_limit(&self) -> Option<u64> {
        match (self.requests, self.duration) {
            (None, None) => Some(DEFAULT_REQUESTS),
            (n, _) => n,
        }
    }
}

/// Everything known about a burst at one moment.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Snapshot {
    pub url: String,
    pub concurrency: u32,
    /// Seconds since the burst started.
    pub elapsed: f64,
    pub finished: bool,
    pub cancelled: bool,
    pub responses: u64,
    pub errors_total: u64,
    pub statuses: BTreeMap<u16, u64>,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub bytes: u64,
    /// Responses (of any status) per second over the whole run.
    pub requests_per_second: f64,
    pub latency: Latency,
    /// Second by second since the start.
    pub per_second: Vec<Second>,
}

impl Snapshot {
    pub fn status_count(&self, range: std::ops::RangeInclusive<u16>) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| range.contains(s))
            .map(|(_, n)| n)
            .sum()
    }
}

struct Shared {
    config: BurstConfig,
    started: Instant,
    deadline: Option<Instant>,
    limit: Option<u64>,
    issued: AtomicU64,
    /// A few shards of statistics, shared by workers (worker % shards): each HDR
    /// histogram is ~180 KB, so one per worker would grow memory with concurrency.
    recorders: Vec<Mutex<Recorder>>,
    cancel: CancellationToken,
    finished: AtomicBool,
    ended_at: Mutex<Option<Instant>>,
}

impl Shared {
    /// The next request's index, or None when the count is used up.
    fn take_request(&self) -> Option<u64> {
        let i = self.issued.fetch_add(1, Ordering::Relaxed);
        match self.limit {
            Some(n) if i >= n => None,
            _ => Some(i),
        }
    }

    fn second_of(&self, at: Instant) -> usize {
        at.saturating_duration_since(self.started).as_secs() as usize
    }

    fn recorder(&self, worker: usize) -> std::sync::MutexGuard<'_, Recorder> {
        self.recorders[worker % self.recorders.len()]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running (or finished) burst.
pub struct BurstHandle {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// When request `i` is due under a total `rate` per second.
pub fn due_at(start: Instant, i: u64, rate: f64) -> Instant {
    start + Duration::from_secs_f64(i as f64 / rate)
}

/// Starts a burst on the current tokio runtime.
pub fn start(config: BurstConfig) -> Result<BurstHandle, BurstError> {
    let url = config.validate()?;
    let started = Instant::now();
    let shared = Arc::new(Shared {
        deadline: config
            .duration
            .map(|d| started + Duration::from_secs_f64(d)),
        limit: config.request_limit(),
        issued: AtomicU64::new(0),
        recorders: (0..config.concurrency.min(RECORDER_SHARDS))
            .map(|_| Mutex::new(Recorder::default()))
            .collect(),
        cancel: CancellationToken::new(),
        finished: AtomicBool::new(false),
        ended_at: Mutex::new(None),
        started,
        config,
    });
    let use_raw = url.scheme() == "http" && !shared.config.http2 && !shared.config.follow_redirects;
    let general = if use_raw {
        None
    } else {
        Some(general::client(&shared.config).map_err(BurstError::BadSetting)?)
    };
    let prepared = raw::Prepared::new(&shared.config, &url);
    let workers_shared = shared.clone();
    let task = tokio::spawn(async move {
        let mut workers = tokio::task::JoinSet::new();
        for w in 0..workers_shared.config.concurrency as usize {
            let shared = workers_shared.clone();
            let prepared = prepared.clone();
            let general = general.clone();
            let url = url.clone();
            workers.spawn(async move {
                match general {
                    None => raw::worker(&shared, w, &prepared).await,
                    Some(client) => general::worker(&shared, w, &client, &url).await,
                }
            });
        }
        while workers.join_next().await.is_some() {}
        *workers_shared
            .ended_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        workers_shared.finished.store(true, Ordering::Release);
    });
    Ok(BurstHandle { shared, task })
}

/// The loop every worker runs around its transport: take a request, wait for its turn
/// under a rate limit, send it, record the outcome. Returns when the count, the duration
/// or a cancel ends the burst.
async fn drive<F, Fut>(shared: &Shared, worker: usize, mut send: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(u16, u64), ErrorKind>>,
{
    let timeout = Duration::from_secs_f64(shared.config.timeout);
    loop {
        if shared.cancel.is_cancelled() || shared.deadline.is_some_and(|d| Instant::now() >= d) {
            return;
        }
        let Some(i) = shared.take_request() else {
            return;
        };
        let due = shared.config.rate.map(|r| due_at(shared.started, i, r));
        if let Some(due) = due {
            let stop = shared.deadline.unwrap_or(due + Duration::from_secs(3600));
            if due >= stop {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(due) => {}
                _ = shared.cancel.cancelled() => return,
            }
        }
        let sent = Instant::now();
        let outcome = tokio::select! {
            r = tokio::time::timeout(timeout, send()) => r.unwrap_or(Err(ErrorKind::Timeout)),
            _ = shared.cancel.cancelled() => return,
            _ = sleep_until_opt(shared.deadline) => return,
        };
        let now = Instant::now();
        let from = match due {
            Some(d) if shared.config.correct_coordinated_omission => d,
            _ => sent,
        };
        let latency_us = now.saturating_duration_since(from).as_micros() as u64;
        let second = shared.second_of(now);
        let mut r = shared.recorder(worker);
        match outcome {
            Ok((status, bytes)) => r.response(status, latency_us, bytes, second),
            Err(kind) => r.error(kind, second),
        }
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

impl BurstHandle {
    pub fn snapshot(&self) -> Snapshot {
        let s = &self.shared;
        let mut total = Recorder::default();
        for w in 0..s.recorders.len() {
            s.recorder(w).merge_into(&mut total);
        }
        let finished = s.finished.load(Ordering::Acquire);
        let end = s
            .ended_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unwrap_or_else(Instant::now);
        let elapsed = end.saturating_duration_since(s.started).as_secs_f64();
        let responses: u64 = total.statuses.values().sum();
        let errors_total: u64 = total.errors.values().sum();
        Snapshot {
            url: s.config.url.clone(),
            concurrency: s.config.concurrency,
            elapsed,
            finished,
            cancelled: s.cancel.is_cancelled(),
            responses,
            errors_total,
            requests_per_second: if elapsed > 0.0 {
                responses as f64 / elapsed
            } else {
                0.0
            },
            latency: Latency::of(&total.latency),
            statuses: total.statuses,
            errors: total.errors,
            bytes: total.bytes,
            per_second: total.per_second,
        }
    }

    /// Stops every worker; in-flight requests are dropped at once.
    pub fn cancel(&self) {
        self.shared.cancel.cancel();
    }

    pub fn is_finished(&self) -> bool {
        self.shared.finished.load(Ordering::Acquire)
    }

    /// Waits for the end and returns the final numbers.
    pub async fn wait(self) -> Snapshot {
        let BurstHandle { shared, task } = self;
        let _ = task.await;
        BurstHandle {
            shared,
            task: tokio::spawn(async {}),
        }
        .snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> BurstConfig {
        BurstConfig {
            url: url.into(),
            ..BurstConfig::default()
        }
    }

    #[test]
    fn bad_input_is_refused_clearly() {
        assert!(matches!(
            config("not a url").validate(),
            Err(BurstError::BadUrl { .. })
        ));
        assert_eq!(
            config("ftp://127.0.0.1/").validate(),
            Err(BurstError::UnsupportedScheme("ftp".into()))
        );
        let mut c = config("http://127.0.0.1/");
        c.concurrency = 0;
        assert!(c.validate().is_err());
        c.concurrency = 5000;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("--no-limits")
        );
        c.allow_beyond_limits = true;
        assert!(c.validate().is_ok());
        let mut c = config("http://127.0.0.1/");
        c.duration = Some(-1.0);
        assert!(c.validate().is_err());
        c.duration = Some(3600.0);
        assert!(c.validate().is_err());
        let mut c = config("http://127.0.0.1/");
        c.requests = Some(0);
        assert!(c.validate().is_err());
        assert!(parse_header("X-Ok: yes").is_ok());
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: x").is_err());
        let mut c = config("http://127.0.0.1/");
        c.method = "GE T".into();
        assert!(c.validate().is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_limiter_spaces_requests_exactly() {
        // 100 requests at 50/s take 1.98 s of (paused, auto-advanced) tokio time.
        let start = Instant::now();
        let mut sent = Vec::new();
        for i in 0..100 {
            tokio::time::sleep_until(due_at(start, i, 50.0)).await;
            sent.push(Instant::now().duration_since(start).as_secs_f64());
        }
        assert!((sent[99] - 1.98).abs() < 1e-6, "{}", sent[99]);
        assert!(sent.windows(2).all(|w| ((w[1] - w[0]) - 0.02).abs() < 1e-6));
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limited_burst_sends_rate_times_duration() {
        // The workers' pacing against a transport that answers instantly.
        let c = BurstConfig {
            url: "http://127.0.0.1/".into(),
            concurrency: 8,
            duration: Some(2.0),
            rate: Some(100.0),
            ..BurstConfig::default()
        };
        let started = Instant::now();
        let shared = Arc::new(Shared {
            deadline: Some(started + Duration::from_secs(2)),
            limit: c.request_limit(),
            issued: AtomicU64::new(0),
            recorders: (0..8).map(|_| Mutex::new(Recorder::default())).collect(),
            cancel: CancellationToken::new(),
            finished: AtomicBool::new(false),
            ended_at: Mutex::new(None),
            started,
            config: c,
        });
        let mut set = tokio::task::JoinSet::new();
        for w in 0..8 {
            let shared = shared.clone();
            set.spawn(async move { drive(&shared, w, || async { Ok((200, 0)) }).await });
        }
        while set.join_next().await.is_some() {}
        let total: u64 = (0..8)
            .map(|w| shared.recorder(w).statuses.values().sum::<u64>())
            .sum();
        assert_eq!(total, 200, "100/s for 2 s");
    }
}
