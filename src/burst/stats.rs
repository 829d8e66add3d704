//! Burst statistics without storing every request: HDR latency histograms (the whole run,
//! each second, the cold and warm phases), status and error counts, bytes. A few shards of
//! `Recorder` are shared by the workers; each keeps only its current second and hands
//! finished seconds to the one shared `Series`, so memory grows by one small histogram per
//! second of the run, not per worker.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// Latencies are recorded in microseconds, up to an hour.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Why a request failed without an HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Connect,
    Timeout,
    Reset,
    /// A TLS failure other than the certificate cases below.
    Tls,
    TlsUnknownIssuer,
    TlsExpired,
    TlsWrongHost,
    Protocol,
    Io,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Reset,
        ErrorKind::Tls,
        ErrorKind::TlsUnknownIssuer,
        ErrorKind::TlsExpired,
        ErrorKind::TlsWrongHost,
        ErrorKind::Protocol,
        ErrorKind::Io,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "connection reset",
            ErrorKind::Tls => "tls",
            ErrorKind::TlsUnknownIssuer => {
                "tls: certificate from an unknown issuer (self-signed? --insecure skips the check)"
            }
            ErrorKind::TlsExpired => "tls: certificate expired or not yet valid",
            ErrorKind::TlsWrongHost => "tls: certificate is for another host name",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Io => "i/o",
        }
    }

    /// The short name used in CSV columns and JSON keys.
    pub fn key(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Tls => "tls",
            ErrorKind::TlsUnknownIssuer => "tls_unknown_issuer",
            ErrorKind::TlsExpired => "tls_expired",
            ErrorKind::TlsWrongHost => "tls_wrong_host",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Io => "io",
        }
    }
}

/// One finished request, as a worker saw it.
pub struct Outcome {
    pub result: Result<(u16, u64), ErrorKind>,
    pub latency_us: u64,
    /// The second of the run it finished in.
    pub second: usize,
    /// Sent before the first success arrived.
    pub cold: bool,
    /// Sent later than it was due (open model).
    pub late: bool,
}

/// One second of the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Second {
    /// Responses of any status.
    pub responses: u64,
    /// Requests that ended without a status.
    pub errors: u64,
    /// Responses with status >= 500.
    pub server_errors: u64,
    /// Requests sent later than due (open model).
    pub late: u64,
    pub statuses: BTreeMap<u16, u64>,
    pub error_kinds: BTreeMap<ErrorKind, u64>,
    /// Latency percentiles in ms of the responses that finished in this second.
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    /// The load asked for in this second: workers (closed model) or requests/s (open).
    pub target: f64,
}

fn histogram<T: hdrhistogram::Counter>(sigfig: u8) -> Histogram<T> {
    // Invariant: these bounds are valid for hdrhistogram (low 1, high >= 2, sigfig <= 5).
    Histogram::new_with_bounds(1, MAX_LATENCY_US, sigfig).expect("valid histogram bounds")
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// The counts of one second while it is being filled.
#[derive(Clone)]
pub struct SecondAcc {
    responses: u64,
    errors: u64,
    server_errors: u64,
    late: u64,
    statuses: BTreeMap<u16, u64>,
    error_kinds: BTreeMap<ErrorKind, u64>,
    /// Two significant digits: ~13 KB a second.
    latency: Histogram<u32>,
}

impl Default for SecondAcc {
    fn default() -> Self {
        SecondAcc {
            responses: 0,
            errors: 0,
            server_errors: 0,
            late: 0,
            statuses: BTreeMap::new(),
            error_kinds: BTreeMap::new(),
            latency: histogram(2),
        }
    }
}

impl SecondAcc {
    fn record(&mut self, o: &Outcome) {
        self.late += o.late as u64;
        match o.result {
            Ok((status, _)) => {
                self.responses += 1;
                self.server_errors += (status >= 500) as u64;
                *self.statuses.entry(status).or_default() += 1;
                self.latency.saturating_record(o.latency_us.max(1));
            }
            Err(kind) => {
                self.errors += 1;
                *self.error_kinds.entry(kind).or_default() += 1;
            }
        }
    }

    fn merge(&mut self, other: &SecondAcc) {
        self.responses += other.responses;
        self.errors += other.errors;
        self.server_errors += other.server_errors;
        self.late += other.late;
        merge_counts(&mut self.statuses, &other.statuses);
        merge_counts(&mut self.error_kinds, &other.error_kinds);
        // Same bounds on both sides: adding cannot fail.
        let _ = self.latency.add(&other.latency);
    }

    fn summary(&self) -> Second {
        let h = &self.latency;
        let q = |p| {
            if h.is_empty() {
                0.0
            } else {
                ms(h.value_at_quantile(p))
            }
        };
        Second {
            responses: self.responses,
            errors: self.errors,
            server_errors: self.server_errors,
            late: self.late,
            statuses: self.statuses.clone(),
            error_kinds: self.error_kinds.clone(),
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            p999: q(0.999),
            target: 0.0,
        }
    }
}

fn merge_counts<K: Ord + Copy>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (k, v) in from {
        *into.entry(*k).or_default() += v;
    }
}

/// The finished seconds of a run, shared by every shard.
#[derive(Default)]
pub struct Series {
    seconds: Vec<Option<SecondAcc>>,
}

impl Series {
    fn absorb(&mut self, at: usize, acc: &SecondAcc) {
        if self.seconds.len() <= at {
            self.seconds.resize(at + 1, None);
        }
        match &mut self.seconds[at] {
            Some(s) => s.merge(acc),
            slot => *slot = Some(acc.clone()),
        }
    }

    /// Every second from the start, with the shards' unfinished seconds merged in.
    pub fn summaries<'a>(&self, open: impl Iterator<Item = (usize, &'a SecondAcc)>) -> Vec<Second> {
        let mut extra: BTreeMap<usize, SecondAcc> = BTreeMap::new();
        for (at, acc) in open {
            extra.entry(at).or_default().merge(acc);
        }
        let len = self
            .seconds
            .len()
            .max(extra.keys().next_back().map_or(0, |k| k + 1));
        (0..len)
            .map(|i| {
                let stored = self.seconds.get(i).and_then(Option::as_ref);
                match (stored, extra.get_mut(&i)) {
                    (Some(s), Some(e)) => {
                        e.merge(s);
                        e.summary()
                    }
                    (Some(s), None) => s.summary(),
                    (None, Some(e)) => e.summary(),
                    (None, None) => Second::default(),
                }
            })
            .collect()
    }
}

/// Requests of one phase (cold: sent before the first success arrived; warm: after).
pub struct PhaseAcc {
    pub responses: u64,
    pub server_errors: u64,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub latency: Histogram<u64>,
}

impl Default for PhaseAcc {
    fn default() -> Self {
        PhaseAcc {
            responses: 0,
            server_errors: 0,
            errors: BTreeMap::new(),
            latency: histogram(2),
        }
    }
}

impl PhaseAcc {
    fn record(&mut self, o: &Outcome) {
        match o.result {
            Ok((status, _)) => {
                self.responses += 1;
                self.server_errors += (status >= 500) as u64;
                self.latency.saturating_record(o.latency_us.max(1));
            }
            Err(kind) => *self.errors.entry(kind).or_default() += 1,
        }
    }

    fn merge_into(&self, total: &mut PhaseAcc) {
        total.responses += self.responses;
        total.server_errors += self.server_errors;
        merge_counts(&mut total.errors, &self.errors);
        let _ = total.latency.add(&self.latency);
    }

    pub fn requests(&self) -> u64 {
        self.responses + self.errors.values().sum::<u64>()
    }
}

pub struct Recorder {
    pub latency: Histogram<u64>,
    pub statuses: BTreeMap<u16, u64>,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub bytes: u64,
    pub late: u64,
    pub cold: PhaseAcc,
    pub warm: PhaseAcc,
    current: Option<(usize, SecondAcc)>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            latency: histogram(3),
            statuses: BTreeMap::new(),
            errors: BTreeMap::new(),
            bytes: 0,
            late: 0,
            cold: PhaseAcc::default(),
            warm: PhaseAcc::default(),
            current: None,
        }
    }
}

impl Recorder {
    pub fn record(&mut self, o: &Outcome, series: &Mutex<Series>) {
        self.late += o.late as u64;
        match o.result {
            Ok((status, bytes)) => {
                self.latency.saturating_record(o.latency_us.max(1));
                *self.statuses.entry(status).or_default() += 1;
                self.bytes += bytes;
            }
            Err(kind) => *self.errors.entry(kind).or_default() += 1,
        }
        if o.cold {
            self.cold.record(o);
        } else {
            self.warm.record(o);
        }
        let lock = || series.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut self.current {
            Some((at, acc)) if *at == o.second => acc.record(o),
            Some((at, _)) if *at > o.second => {
                // A late finisher from a second this shard already handed over.
                let mut one = SecondAcc::default();
                one.record(o);
                lock().absorb(o.second, &one);
            }
            current => {
                if let Some((at, acc)) = current.take() {
                    lock().absorb(at, &acc);
                }
                let mut acc = SecondAcc::default();
                acc.record(o);
                *current = Some((o.second, acc));
            }
        }
    }

    /// The second this shard is still filling.
    pub fn open_second(&self) -> Option<(usize, &SecondAcc)> {
        self.current.as_ref().map(|(at, acc)| (*at, acc))
    }

    /// Adds the run-wide totals (not the per-second series) into `total`.
    pub fn merge_into(&self, total: &mut Recorder) {
        let _ = total.latency.add(&self.latency);
        merge_counts(&mut total.statuses, &self.statuses);
        merge_counts(&mut total.errors, &self.errors);
        total.bytes += self.bytes;
        total.late += self.late;
        self.cold.merge_into(&mut total.cold);
        self.warm.merge_into(&mut total.warm);
    }
}

/// Latency summary in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub min: f64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    /// (upper bound in ms, count) buckets for a hey-style histogram.
    pub histogram: Vec<(f64, u64)>,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let (lo, hi) = (h.min(), h.max());
        let buckets = 10u64;
        let step = ((hi - lo) / buckets).max(1);
        let mut histogram = Vec::new();
        let mut start = lo;
        for i in 0..buckets {
            let end = if i + 1 == buckets { hi } else { start + step };
            let count = h.count_between(start, end);
            histogram.push((ms(end), count));
            start = end + 1;
            if start > hi {
                break;
            }
        }
        Latency {
            min: ms(lo),
            mean: h.mean() / 1000.0,
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p95: ms(h.value_at_quantile(0.95)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(hi),
            histogram,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(status: u16, latency_ms: u64, second: usize) -> Outcome {
        Outcome {
            result: Ok((status, 10)),
            latency_us: latency_ms * 1000,
            second,
            cold: false,
            late: false,
        }
    }

    #[test]
    fn shards_merge_counts_latencies_and_seconds() {
        let series = Mutex::new(Series::default());
        let mut a = Recorder::default();
        let mut b = Recorder::default();
        for i in 1..=100 {
            a.record(&ok(200, i, 0), &series);
        }
        b.record(&ok(503, 500, 2), &series);
        b.record(
            &Outcome {
                result: Err(ErrorKind::Timeout),
                latency_us: 0,
                second: 2,
                cold: true,
                late: true,
            },
            &series,
        );
        // Shard a moves on to second 1, handing second 0 over; then a late finisher.
        a.record(&ok(200, 7, 1), &series);
        a.record(&ok(200, 9, 0), &series);
        let mut total = Recorder::default();
        a.merge_into(&mut total);
        b.merge_into(&mut total);
        assert_eq!(total.statuses[&200], 102);
        assert_eq!(total.statuses[&503], 1);
        assert_eq!(total.errors[&ErrorKind::Timeout], 1);
        assert_eq!(total.bytes, 1030);
        assert_eq!(
            (total.late, total.cold.requests(), total.warm.requests()),
            (1, 1, 103)
        );
        let l = Latency::of(&total.latency);
        assert!((l.p50 - 51.0).abs() < 1.0, "{l:?}");
        assert!((l.max - 500.0).abs() < 1.0, "{l:?}");
        assert_eq!(l.histogram.iter().map(|b| b.1).sum::<u64>(), 103);

        let open = [a.open_second(), b.open_second()];
        let seconds = series.lock().unwrap().summaries(open.into_iter().flatten());
        assert_eq!(seconds.len(), 3);
        assert_eq!(seconds[0].responses, 101);
        assert!((seconds[0].p50 - 51.0).abs() < 1.0, "{:?}", seconds[0]);
        assert!(seconds[0].p999 >= seconds[0].p99 && seconds[0].p99 >= seconds[0].p90);
        assert_eq!(seconds[1].responses, 1);
        let s2 = &seconds[2];
        assert_eq!(
            (s2.responses, s2.errors, s2.server_errors, s2.late),
            (1, 1, 1, 1)
        );
        assert_eq!(s2.error_kinds[&ErrorKind::Timeout], 1);
        assert_eq!(s2.statuses[&503], 1);
    }
}
