//! The per-second series of a run. Shards hand each finished second over as a `SecondAcc`
//! (counts and a ~13 KB latency histogram); a second a few seconds behind the newest is
//! settled: its summary computed once and its histogram kept only as its non-empty
//! buckets, so an hour-long burst does not hold an hour of full histograms. A shard that
//! was idle can still hand over an old second later; the settled buckets take it in
//! exactly, at the histogram's precision.

use super::stats::{ErrorKind, Outcome, histogram, merge_counts, ms};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Seconds this far behind the newest handed over are settled.
const SETTLE_AFTER: usize = 2;

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
    pub fn record(&mut self, o: &Outcome) {
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

    fn settle(&self) -> Settled {
        Settled {
            summary: self.summary(),
            buckets: self
                .latency
                .iter_recorded()
                // Recorded values are capped at an hour in µs, within u32.
                .map(|v| {
                    (
                        u32::try_from(v.value_iterated_to()).unwrap_or(u32::MAX),
                        v.count_at_value(),
                    )
                })
                .collect(),
        }
    }
}

/// A settled second: its summary, and its latencies as (bucket value µs, count) pairs,
/// 8 bytes per non-empty bucket (a few hundred under load).
struct Settled {
    summary: Second,
    buckets: Box<[(u32, u32)]>,
}

impl Settled {
    /// Back to a full accumulator (for a late hand-over into this second).
    fn reopen(&self) -> SecondAcc {
        let s = &self.summary;
        let mut latency = histogram(2);
        for &(value, count) in &self.buckets {
            // A bucket's own value lands in the same bucket; within bounds by construction.
            let _ = latency.record_n(u64::from(value), count);
        }
        SecondAcc {
            responses: s.responses,
            errors: s.errors,
            server_errors: s.server_errors,
            late: s.late,
            statuses: s.statuses.clone(),
            error_kinds: s.error_kinds.clone(),
            latency,
        }
    }
}

enum Slot {
    Empty,
    Open(SecondAcc),
    Settled(Settled),
}

/// The finished seconds of a run, shared by every shard.
#[derive(Default)]
pub struct Series {
    seconds: Vec<Slot>,
    /// Every second below this one is settled or empty.
    settled_below: usize,
}

impl Series {
    pub fn absorb(&mut self, at: usize, acc: &SecondAcc) {
        if self.seconds.len() <= at {
            self.seconds.resize_with(at + 1, || Slot::Empty);
        }
        let behind = at < self.settled_below;
        let slot = &mut self.seconds[at];
        *slot = match std::mem::replace(slot, Slot::Empty) {
            // A second already passed by the settling (it had no answers then) settles now.
            Slot::Empty if behind => Slot::Settled(acc.settle()),
            Slot::Empty => Slot::Open(acc.clone()),
            Slot::Open(mut open) => {
                open.merge(acc);
                Slot::Open(open)
            }
            Slot::Settled(settled) => {
                let mut open = settled.reopen();
                open.merge(acc);
                Slot::Settled(open.settle())
            }
        };
        let settle_to = (at + 1).saturating_sub(SETTLE_AFTER + 1);
        while self.settled_below < settle_to {
            let slot = &mut self.seconds[self.settled_below];
            if let Slot::Open(open) = slot {
                *slot = Slot::Settled(open.settle());
            }
            self.settled_below += 1;
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
                let stored = self.seconds.get(i).unwrap_or(&Slot::Empty);
                match (stored, extra.get_mut(&i)) {
                    (Slot::Open(s), Some(e)) => {
                        e.merge(s);
                        e.summary()
                    }
                    (Slot::Settled(s), Some(e)) => {
                        e.merge(&s.reopen());
                        e.summary()
                    }
                    (Slot::Open(s), None) => s.summary(),
                    (Slot::Settled(s), None) => s.summary.clone(),
                    (Slot::Empty, Some(e)) => e.summary(),
                    (Slot::Empty, None) => Second::default(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(latency_ms: u64, second: usize) -> Outcome {
        Outcome {
            result: Ok((200, 10)),
            latency_us: latency_ms * 1000,
            second,
            cold: false,
            late: false,
        }
    }

    fn acc_of(latencies_ms: impl IntoIterator<Item = u64>, second: usize) -> SecondAcc {
        let mut acc = SecondAcc::default();
        for l in latencies_ms {
            acc.record(&ok(l, second));
        }
        acc
    }

    #[test]
    fn settled_seconds_keep_their_figures_and_take_late_hand_overs_exactly() {
        let mut settling = Series::default();
        let mut reference = SecondAcc::default();
        // Second 0 gets 1..=100 ms, then ten seconds pass, then a late shard hands over
        // 900 ms for second 0.
        let early = acc_of(1..=100, 0);
        reference.merge(&early);
        settling.absorb(0, &early);
        for s in 1..=10 {
            settling.absorb(s, &acc_of([5], s));
        }
        assert!(matches!(settling.seconds[0], Slot::Settled(_)));
        assert!(matches!(settling.seconds[10], Slot::Open(_)));
        let late = acc_of([900; 10], 0);
        reference.merge(&late);
        settling.absorb(0, &late);
        let seconds = settling.summaries(std::iter::empty());
        assert_eq!(seconds.len(), 11);
        assert_eq!(seconds[0], reference.summary());
        assert_eq!(seconds[0].responses, 110);
        assert!(seconds[0].p99 >= 890.0, "{:?}", seconds[0]);
        // A late hand-over into a second that had no answers settles at once.
        settling.absorb(20, &acc_of([5], 20));
        assert!(matches!(settling.seconds[15], Slot::Empty));
        settling.absorb(15, &acc_of([9], 15));
        assert!(matches!(settling.seconds[15], Slot::Settled(_)));
        // A shard's open second merges into a settled one too.
        let open = acc_of([2], 0);
        let with_open = settling.summaries([(0, &open)].into_iter());
        assert_eq!(with_open[0].responses, 111);
    }

    #[test]
    fn a_settled_second_is_a_fraction_of_an_open_one() {
        let acc = acc_of((1..=2000).map(|i| i % 40 + 1), 0);
        let settled = acc.settle();
        // 40 distinct latencies: 40 buckets of 8 bytes instead of ~13 KB of counts.
        assert_eq!(settled.buckets.len(), 40);
        assert_eq!(settled.summary, acc.summary());
        assert_eq!(settled.reopen().summary(), acc.summary());
    }
}
