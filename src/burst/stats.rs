//! Burst statistics without storing every request: HDR latency histograms (the whole run,
//! the cold and warm phases), status and error counts, bytes. A few shards of `Recorder`
//! are shared by the workers; each keeps only its current second and hands finished
//! seconds to the one shared `Series` (series.rs), which keeps each settled second small.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

pub use super::series::{Second, SecondAcc, Series};

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

pub(super) fn histogram<T: hdrhistogram::Counter>(sigfig: u8) -> Histogram<T> {
    // Invariant: these bounds are valid for hdrhistogram (low 1, high >= 2, sigfig <= 5).
    Histogram::new_with_bounds(1, MAX_LATENCY_US, sigfig).expect("valid histogram bounds")
}

pub(super) fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

pub(super) fn merge_counts<K: Ord + Copy>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (k, v) in from {
        *into.entry(*k).or_default() += v;
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
