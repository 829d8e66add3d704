//! The load generator behind `scale0 burst` and the desktop app's burst panel (hey/oha
//! class). No UI here: start a burst, poll `snapshot()` at any rate, `cancel()` it; save
//! the result as a `runs::RunRecord`, list and compare saved runs, export a k6 script.
//!
//! For the GUI: the shapes of load are fields of `BurstConfig` (`concurrency`, `ramp`,
//! `stages` with `shape::parse_stages`, `rate`); `Snapshot::per_second` is the series to
//! plot (each `Second` carries its load `target`), `Snapshot::phases` the cold and warm
//! phases, `Snapshot::markers` the timeline; `runs::{save, list, load, compare}` keep and
//! compare runs.
//!
//! Bursts run on a lean client of their own (raw tokio sockets, httparse), over TCP or
//! tokio-rustls, with hyper's HTTP/2 client when TLS negotiates h2; redirects and HTTP/2
//! without TLS go through reqwest. Every worker keeps one connection.

mod config;
mod general;
pub mod k6;
pub mod phases;
mod raw;
pub mod report;
pub mod runs;
mod series;
pub mod shape;
pub mod stats;
mod tls;

pub use config::{
    BurstConfig, BurstError, DEFAULT_REQUESTS, MAX_CONCURRENCY, MAX_DURATION_SECONDS, MAX_RATE,
    MAX_REQUESTS, Settings, parse_header,
};
use phases::{FirstSuccess, Marker, Phases};
use serde::{Deserialize, Serialize};
use shape::Schedule;
use stats::{ErrorKind, Latency, Outcome, Recorder, Second, Series};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Statistics shards at most (see `Shared::recorders`).
const RECORDER_SHARDS: usize = 8;
/// An open-model request sent this much after it was due counts as late.
pub const LATE_AFTER: Duration = Duration::from_millis(10);

/// Everything known about a burst at one moment.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub url: String,
    /// The peak number of workers (or, in the open model, requests in flight).
    pub concurrency: u32,
    /// The shape of load in words, e.g. "ramp 30 s to 150 workers".
    pub shape: String,
    /// Seconds since the burst started.
    pub elapsed: f64,
    pub finished: bool,
    pub cancelled: bool,
    /// TLS certificates were not checked (--insecure).
    pub insecure: bool,
    /// HTTP versions seen, e.g. ["HTTP/1.1"] or ["HTTP/2"].
    pub protocols: Vec<String>,
    pub responses: u64,
    pub errors_total: u64,
    pub statuses: BTreeMap<u16, u64>,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub bytes: u64,
    /// Open model: requests sent more than `LATE_AFTER` after they were due.
    pub late: u64,
    /// Responses (of any status) per second over the whole run.
    pub requests_per_second: f64,
    pub latency: Latency,
    /// Second by second since the start.
    pub per_second: Vec<Second>,
    /// Boxed: snapshots travel in events and channels by value.
    pub phases: Box<Phases>,
    pub markers: Vec<Marker>,
}

impl Snapshot {
    pub fn status_count(&self, range: std::ops::RangeInclusive<u16>) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| range.contains(s))
            .map(|(_, n)| n)
            .sum()
    }

    /// Failed requests (status >= 500 or no status) over all requests.
    pub fn error_rate(&self) -> f64 {
        let requests = self.responses + self.errors_total;
        if requests == 0 {
            return 0.0;
        }
        (self.status_count(500..=599) + self.errors_total) as f64 / requests as f64
    }
}

const PROTOCOL_HTTP1: u8 = 1;
const PROTOCOL_HTTP2: u8 = 2;

struct Shared {
    config: BurstConfig,
    /// The closed model's worker target over time; None for a constant one.
    schedule: Option<Schedule>,
    started: Instant,
    deadline: Option<Instant>,
    limit: Option<u64>,
    issued: AtomicU64,
    /// A few shards of statistics, shared by workers (worker % shards): each HDR
    /// histogram is ~180 KB, so one per worker would grow memory with concurrency. Two per
    /// runtime thread keep locks mostly uncontended.
    recorders: Vec<Mutex<Recorder>>,
    series: Mutex<Series>,
    /// When the first success arrived (µs since start; u64::MAX before), read on every
    /// request; `first_success` holds its details.
    first_success_at: AtomicU64,
    first_success: Mutex<Option<FirstSuccess>>,
    markers: Mutex<Vec<Marker>>,
    protocols: AtomicU8,
    cancel: CancellationToken,
    /// Mirrors `cancel` for the per-request check (a token's check takes a lock).
    cancelled: AtomicBool,
    finished: AtomicBool,
    ended_at: Mutex<Option<Instant>>,
}

fn shard_count(workers: u32) -> usize {
    let threads = tokio::runtime::Handle::try_current()
        .map(|h| h.metrics().num_workers())
        .unwrap_or(RECORDER_SHARDS);
    // One thread never contends: one shard (and one ~250 KB set of histograms).
    let shards = if threads > 1 { threads * 2 } else { 1 };
    shards.min(RECORDER_SHARDS).min(workers as usize).max(1)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn new(config: BurstConfig, started: Instant) -> Shared {
        let shaped = config.rate.is_none() && (config.ramp.is_some() || !config.stages.is_empty());
        Shared {
            schedule: shaped.then(|| config.schedule()),
            deadline: config
                .total_duration()
                .map(|d| started + Duration::from_secs_f64(d)),
            limit: config.request_limit(),
            issued: AtomicU64::new(0),
            recorders: (0..shard_count(config.workers()))
                .map(|_| Mutex::new(Recorder::default()))
                .collect(),
            series: Mutex::new(Series::default()),
            first_success_at: AtomicU64::new(u64::MAX),
            first_success: Mutex::new(None),
            markers: Mutex::new(Vec::new()),
            protocols: AtomicU8::new(0),
            cancel: CancellationToken::new(),
            cancelled: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            ended_at: Mutex::new(None),
            started,
            config,
        }
    }

    /// The next request's index (0 when nothing needs it), or None when the count is
    /// used up.
    fn take_request(&self) -> Option<u64> {
        if self.limit.is_none() && self.config.rate.is_none() {
            // A closed run without a count: no shared counter to touch per request.
            return Some(0);
        }
        let i = self.issued.fetch_add(1, Ordering::Relaxed);
        match self.limit {
            Some(n) if i >= n => None,
            _ => Some(i),
        }
    }

    fn micros(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_micros() as u64
    }

    fn recorder(&self, worker: usize) -> MutexGuard<'_, Recorder> {
        lock(&self.recorders[worker % self.recorders.len()])
    }

    fn saw_protocol(&self, version: http::Version) {
        let bit = if version == http::Version::HTTP_2 {
            PROTOCOL_HTTP2
        } else {
            PROTOCOL_HTTP1
        };
        if self.protocols.load(Ordering::Relaxed) & bit == 0 {
            self.protocols.fetch_or(bit, Ordering::Relaxed);
        }
    }

    /// Notes a success that arrived at `arrived_us`; keeps the earliest.
    fn success(&self, arrived_us: u64, latency_us: u64) {
        if arrived_us >= self.first_success_at.load(Ordering::Relaxed) {
            return;
        }
        let mut first = lock(&self.first_success);
        if first.is_none_or(|f| arrived_us < f.arrived_us) {
            *first = Some(FirstSuccess {
                arrived_us,
                latency_us,
            });
            self.first_success_at.store(arrived_us, Ordering::Relaxed);
        }
    }

    /// Waits until worker `w` is meant to send under the schedule; false when it never
    /// will again (or the burst ends first).
    async fn wait_for_turn(&self, worker: u32) -> bool {
        let Some(schedule) = &self.schedule else {
            return true;
        };
        let now = self.started.elapsed().as_secs_f64();
        let Some(at) = schedule.next_active(worker, now) else {
            return false;
        };
        if at <= now {
            return true;
        }
        let at = self.started + Duration::from_secs_f64(at);
        if self.deadline.is_some_and(|d| at >= d) {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(at) => true,
            _ = self.cancel.cancelled() => false,
        }
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

/// Which client the workers run.
#[derive(Clone)]
enum Engine {
    /// The lean HTTP/1.1 client over TCP.
    Plain,
    /// The lean client over TLS (HTTP/1.1, or hyper's HTTP/2 when ALPN picks it).
    Tls(Arc<tls::Tls>),
    /// reqwest: redirects, HTTP/2 without TLS.
    General,
}

/// Starts a burst on the current tokio runtime.
pub fn start(config: BurstConfig) -> Result<BurstHandle, BurstError> {
    let url = config.validate()?;
    let shared = Arc::new(Shared::new(config, Instant::now()));
    let config = &shared.config;
    let engine = if config.follow_redirects || (config.http2 && url.scheme() == "http") {
        general::client(config, &url).map_err(|e| {
            BurstError::BadSetting(format!("could not set up the HTTP client: {e}"))
        })?;
        Engine::General
    } else if url.scheme() == "https" {
        let tls = tls::Tls::new(config, &url).map_err(|e| {
            BurstError::BadSetting(format!("could not set up the HTTPS client: {e}"))
        })?;
        Engine::Tls(Arc::new(tls))
    } else {
        Engine::Plain
    };
    let prepared = raw::Prepared::new(config, &url);
    let workers_shared = shared.clone();
    let task = tokio::spawn(async move {
        let mut workers = tokio::task::JoinSet::new();
        for w in 0..workers_shared.config.workers() as usize {
            let shared = workers_shared.clone();
            let prepared = prepared.clone();
            // One spawn per engine, so each task is the size of its own engine's future
            // (the plain worker's is a fraction of the TLS one's; one match inside a
            // single future would size every task for the largest).
            match &engine {
                Engine::Plain => {
                    workers.spawn(async move { raw::worker(&shared, w, &prepared).await });
                }
                Engine::Tls(tls) => {
                    let tls = tls.clone();
                    workers.spawn(async move { tls::worker(&shared, w, &prepared, &tls).await });
                }
                Engine::General => {
                    let url = url.clone();
                    workers.spawn(async move { general::worker(&shared, w, &url).await });
                }
            };
        }
        run_workers(&workers_shared, workers).await;
    });
    Ok(BurstHandle { shared, task })
}

/// Waits for the workers to end, the deadline to pass or a cancel, then drops whatever is
/// still in flight. Aborting a task stops it at its next await, so the per-request loop in
/// `drive` needs no cancel or deadline futures of its own (each cost a waiter or a timer
/// registration per request).
async fn run_workers(shared: &Shared, mut workers: tokio::task::JoinSet<()>) {
    tokio::select! {
        _ = async { while workers.join_next().await.is_some() {} } => {}
        _ = shared.cancel.cancelled() => {}
        _ = sleep_until_opt(shared.deadline) => {}
    }
    workers.abort_all();
    while workers.join_next().await.is_some() {}
    *lock(&shared.ended_at) = Some(Instant::now());
    shared.finished.store(true, Ordering::Release);
}

/// The loop every worker runs around its transport: wait for its turn under the shape of
/// load, take a request, wait until it is due under a rate, send it, record the outcome.
/// Returns when the count or the shape ends the burst; `run_workers` stops it at the
/// deadline or on a cancel.
async fn drive<F, Fut>(shared: &Shared, worker: usize, mut send: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(u16, u64), ErrorKind>>,
{
    let timeout = Duration::from_secs_f64(shared.config.timeout);
    // One timeout timer for all of this worker's requests, pushed later before each:
    // extending a registered tokio timer is one atomic update, where a fresh timer per
    // request costs an insertion and a removal in the timer wheel.
    let timer = tokio::time::sleep(timeout);
    tokio::pin!(timer);
    loop {
        if shared.cancelled.load(Ordering::Relaxed) || !shared.wait_for_turn(worker as u32).await {
            return;
        }
        let Some(i) = shared.take_request() else {
            return;
        };
        let due = shared.config.rate.map(|r| due_at(shared.started, i, r));
        if let Some(due) = due {
            if shared.deadline.is_some_and(|d| due >= d) {
                return;
            }
            tokio::time::sleep_until(due).await;
        }
        let sent = Instant::now();
        timer.as_mut().reset(sent + timeout);
        let result = tokio::select! {
            biased;
            r = send() => r,
            _ = &mut timer => Err(ErrorKind::Timeout),
        };
        let now = Instant::now();
        let from = match due {
            Some(d) if shared.config.correct_coordinated_omission => d,
            _ => sent,
        };
        let latency_us = now.saturating_duration_since(from).as_micros() as u64;
        let now_us = shared.micros(now);
        if matches!(result, Ok((200..=399, _))) {
            shared.success(
                now_us,
                now.saturating_duration_since(sent).as_micros() as u64,
            );
        }
        let outcome = Outcome {
            result,
            latency_us,
            second: (now_us / 1_000_000) as usize,
            cold: shared.micros(sent) < shared.first_success_at.load(Ordering::Relaxed),
            late: due.is_some_and(|d| sent.saturating_duration_since(d) > LATE_AFTER),
        };
        shared.recorder(worker).record(&outcome, &shared.series);
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
        let guards: Vec<_> = (0..s.recorders.len()).map(|w| s.recorder(w)).collect();
        for g in &guards {
            g.merge_into(&mut total);
        }
        let mut per_second =
            lock(&s.series).summaries(guards.iter().filter_map(|g| g.open_second()));
        drop(guards);
        for (i, second) in per_second.iter_mut().enumerate() {
            second.target = s.config.target_at(i as f64 + 0.5);
        }
        let finished = s.finished.load(Ordering::Acquire);
        let end = lock(&s.ended_at).unwrap_or_else(Instant::now);
        let elapsed = end.saturating_duration_since(s.started).as_secs_f64();
        let responses: u64 = total.statuses.values().sum();
        let errors_total: u64 = total.errors.values().sum();
        let first = *lock(&s.first_success);
        let protocols = s.protocols.load(Ordering::Relaxed);
        let mut markers = lock(&s.markers).clone();
        markers.sort_by(|a, b| a.at.total_cmp(&b.at));
        Snapshot {
            url: s.config.url.clone(),
            concurrency: s.config.workers(),
            shape: s.config.settings().shape(),
            elapsed,
            finished,
            cancelled: s.cancel.is_cancelled(),
            insecure: s.config.insecure,
            protocols: [(PROTOCOL_HTTP1, "HTTP/1.1"), (PROTOCOL_HTTP2, "HTTP/2")]
                .into_iter()
                .filter(|(bit, _)| protocols & bit != 0)
                .map(|(_, name)| name.to_string())
                .collect(),
            responses,
            errors_total,
            requests_per_second: if elapsed > 0.0 {
                responses as f64 / elapsed
            } else {
                0.0
            },
            latency: Latency::of(&total.latency),
            phases: Box::new(phases::split(&total.cold, &total.warm, first, elapsed)),
            statuses: total.statuses,
            errors: total.errors,
            bytes: total.bytes,
            late: total.late,
            per_second,
            markers,
        }
    }

    /// Adds a point to the burst's timeline at `at` seconds since its start (events from
    /// the environment, e.g. "database resumed").
    pub fn add_marker(&self, at: f64, text: impl Into<String>) {
        lock(&self.shared.markers).push(Marker {
            at,
            text: text.into(),
        });
    }

    /// Seconds since the burst started.
    pub fn elapsed(&self) -> f64 {
        self.shared.started.elapsed().as_secs_f64()
    }

    /// Stops every worker; in-flight requests are dropped at once.
    pub fn cancel(&self) {
        self.shared.cancelled.store(true, Ordering::Relaxed);
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

    /// Runs the workers' loop against a transport that answers after `answer`.
    async fn run_paced(c: BurstConfig, answer: Duration) -> Snapshot {
        let shared = Arc::new(Shared::new(c, Instant::now()));
        let mut set = tokio::task::JoinSet::new();
        for w in 0..shared.config.workers() as usize {
            let shared = shared.clone();
            set.spawn(async move {
                drive(&shared, w, || async move {
                    tokio::time::sleep(answer).await;
                    Ok((200, 0))
                })
                .await
            });
        }
        run_workers(&shared, set).await;
        BurstHandle {
            shared,
            task: tokio::spawn(async {}),
        }
        .snapshot()
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
    async fn an_open_model_sends_rate_times_duration_and_counts_late_requests() {
        let c = BurstConfig {
            url: "http://127.0.0.1/".into(),
            concurrency: 8,
            duration: Some(2.0),
            rate: Some(100.0),
            correct_coordinated_omission: true,
            ..BurstConfig::default()
        };
        let s = run_paced(c.clone(), Duration::from_millis(1)).await;
        assert_eq!(s.responses, 200, "100/s for 2 s");
        assert_eq!(s.late, 0);
        // Answers take 200 ms: 8 in flight carry 40/s, so most requests go out late and
        // their latency, measured from when they were due, grows far past 200 ms.
        let s = run_paced(c, Duration::from_millis(200)).await;
        assert!(s.responses < 100 && s.late > s.responses / 2, "{s:?}");
        assert!(s.latency.p99 > 2.0 * 200.0, "{:?}", s.latency);
        assert_eq!(s.per_second[0].target, 100.0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_ramp_brings_workers_in_over_time() {
        // 10 workers over 4 s, each answer 100 ms: about 10 req/s per active worker.
        let c = BurstConfig {
            url: "http://127.0.0.1/".into(),
            concurrency: 10,
            ramp: Some(4.0),
            duration: Some(6.0),
            ..BurstConfig::default()
        };
        let s = run_paced(c, Duration::from_millis(100)).await;
        let r: Vec<u64> = s.per_second.iter().map(|p| p.responses).collect();
        assert!(r.len() >= 6, "{r:?}");
        assert!(r[0] < r[2] && r[2] < r[4], "rising: {r:?}");
        assert!(r[4] >= 90 && r[5] >= 90, "full load after the ramp: {r:?}");
        assert!(s.per_second[1].target > 2.0 && s.per_second[1].target < 5.0);
    }

    #[tokio::test(start_paused = true)]
    async fn stages_go_up_and_down() {
        let c = BurstConfig {
            url: "http://127.0.0.1/".into(),
            stages: shape::parse_stages("2s:10,2s:10,2s:0").unwrap(),
            ..BurstConfig::default()
        };
        let s = run_paced(c, Duration::from_millis(100)).await;
        let r: Vec<u64> = s.per_second.iter().map(|p| p.responses).collect();
        assert!((5.9..6.5).contains(&s.elapsed), "{}", s.elapsed);
        assert!(r[2] >= 90 && r[3] >= 90, "{r:?}");
        assert!(r[5] < r[3] && r[0] < r[2], "{r:?}");
        assert_eq!(s.concurrency, 10);
    }
}
