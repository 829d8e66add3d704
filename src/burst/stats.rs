//! Burst statistics without storing every request: an HDR latency histogram, status and
//! error counts, bytes, and per-second throughput. Each worker owns one `Recorder`;
//! snapshots merge them.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;

/// Latencies are recorded in microseconds, up to an hour, at 3 significant digits.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Why a request failed without an HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Connect,
    Timeout,
    Reset,
    Tls,
    Protocol,
    Io,
}

impl ErrorKind {
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "connection reset",
            ErrorKind::Tls => "tls",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Io => "i/o",
        }
    }
}

/// One second of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Second {
    pub responses: u64,
    pub errors: u64,
    /// Responses with status >= 500.
    pub server_errors: u64,
}

pub struct Recorder {
    pub latency: Histogram<u64>,
    pub statuses: BTreeMap<u16, u64>,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub bytes: u64,
    pub per_second: Vec<Second>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            // Invariant: these bounds are valid for hdrhistogram (low 1, high >= 2, sigfig 3).
            latency: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                .expect("valid histogram bounds"),
            statuses: BTreeMap::new(),
            errors: BTreeMap::new(),
            bytes: 0,
            per_second: Vec::new(),
        }
    }
}

impl Recorder {
    fn second(&mut self, at_second: usize) -> &mut Second {
        if self.per_second.len() <= at_second {
            self.per_second.resize(at_second + 1, Second::default());
        }
        &mut self.per_second[at_second]
    }

    pub fn response(&mut self, status: u16, latency_us: u64, bytes: u64, at_second: usize) {
        self.latency.saturating_record(latency_us.max(1));
        *self.statuses.entry(status).or_default() += 1;
        self.bytes += bytes;
        let s = self.second(at_second);
        s.responses += 1;
        if status >= 500 {
            s.server_errors += 1;
        }
    }

    pub fn error(&mut self, kind: ErrorKind, at_second: usize) {
        *self.errors.entry(kind).or_default() += 1;
        self.second(at_second).errors += 1;
    }

    pub fn merge_into(&self, total: &mut Recorder) {
        // Same bounds on both sides: adding cannot fail.
        let _ = total.latency.add(&self.latency);
        for (k, v) in &self.statuses {
            *total.statuses.entry(*k).or_default() += v;
        }
        for (k, v) in &self.errors {
            *total.errors.entry(*k).or_default() += v;
        }
        total.bytes += self.bytes;
        for (i, s) in self.per_second.iter().enumerate() {
            let t = total.second(i);
            t.responses += s.responses;
            t.errors += s.errors;
            t.server_errors += s.server_errors;
        }
    }
}

/// Latency summary in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
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
        let ms = |us: u64| us as f64 / 1000.0;
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

    #[test]
    fn recorders_merge_counts_latencies_and_seconds() {
        let mut a = Recorder::default();
        let mut b = Recorder::default();
        for i in 1..=100 {
            a.response(200, i * 1000, 10, 0);
        }
        b.response(503, 500_000, 5, 2);
        b.error(ErrorKind::Timeout, 2);
        let mut total = Recorder::default();
        a.merge_into(&mut total);
        b.merge_into(&mut total);
        assert_eq!(total.statuses[&200], 100);
        assert_eq!(total.statuses[&503], 1);
        assert_eq!(total.errors[&ErrorKind::Timeout], 1);
        assert_eq!(total.bytes, 1005);
        assert_eq!(total.per_second.len(), 3);
        assert_eq!(
            total.per_second[2],
            Second {
                responses: 1,
                errors: 1,
                server_errors: 1
            }
        );
        let l = Latency::of(&total.latency);
        assert!((l.p50 - 51.0).abs() < 1.0, "{l:?}");
        assert!((l.max - 500.0).abs() < 1.0, "{l:?}");
        assert_eq!(l.histogram.iter().map(|b| b.1).sum::<u64>(), 101);
    }
}
