//! The cold phase of a burst, told apart from the warm one by the responses themselves:
//! a target that was asleep (a paused database, a service at zero) answers its first
//! requests with errors or after a wait far above its warm median.

use super::stats::{ErrorKind, Latency, PhaseAcc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The first success counts as a cold start when it took this many times the warm median...
pub const COLD_FACTOR: f64 = 5.0;
/// ...and at least this long (ms), so connection set-up on a fast target is not one.
pub const COLD_MIN_MS: f64 = 200.0;

/// A point on the burst's timeline (seconds since the burst started), e.g. "database
/// resumed" or "instance added" from the environment's events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    pub at: f64,
    pub text: String,
}

/// The requests sent before the first success arrived, when they were a cold start.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ColdPhase {
    /// Why this counts as a cold start.
    pub reason: String,
    /// Seconds from the start of the burst to the first successful response (None: no
    /// success at all).
    pub first_success_after: Option<f64>,
    /// The first success's own latency in ms (from its send to its response).
    pub first_success_latency: Option<f64>,
    /// Requests sent before the first success arrived.
    pub requests_waited: u64,
    /// Of those: responses >= 500 and failures without a status.
    pub server_errors: u64,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub latency: Latency,
}

/// The requests sent after the first success arrived.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WarmPhase {
    pub requests: u64,
    pub responses: u64,
    pub server_errors: u64,
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Responses per second from the first success to the end.
    pub requests_per_second: f64,
    pub latency: Latency,
}

/// The run split into its phases; `cold` is None when the target was already warm.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    pub cold: Option<ColdPhase>,
    pub warm: WarmPhase,
}

/// The first successful response: when it arrived and how long it took (both in µs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FirstSuccess {
    pub arrived_us: u64,
    pub latency_us: u64,
}

/// Why the start was cold, or None when it was not.
pub fn cold_reason(
    first: Option<FirstSuccess>,
    failures_before: u64,
    warm_median_ms: Option<f64>,
) -> Option<String> {
    let Some(first) = first else {
        return (failures_before > 0)
            .then(|| format!("no success yet: {failures_before} failures"));
    };
    if failures_before > 0 {
        return Some(format!(
            "{failures_before} failures before the first success"
        ));
    }
    let first_ms = first.latency_us as f64 / 1000.0;
    let median = warm_median_ms?;
    (first_ms >= COLD_MIN_MS && first_ms >= COLD_FACTOR * median).then(|| {
        format!(
            "the first success took {first_ms:.0} ms, {:.0}x the warm median",
            first_ms / median.max(0.001)
        )
    })
}

/// Splits a run into phases from its cold and warm accumulators.
pub fn split(
    cold: &PhaseAcc,
    warm: &PhaseAcc,
    first: Option<FirstSuccess>,
    elapsed: f64,
) -> Phases {
    let failures_before = cold.server_errors + cold.errors.values().sum::<u64>();
    let warm_latency = Latency::of(&warm.latency);
    let warm_median = (warm.responses > 0).then_some(warm_latency.p50);
    let warm_span = elapsed - first.map_or(elapsed, |f| f.arrived_us as f64 / 1e6);
    let warm_phase = WarmPhase {
        requests: warm.requests(),
        responses: warm.responses,
        server_errors: warm.server_errors,
        errors: warm.errors.clone(),
        requests_per_second: if warm_span > 0.0 {
            warm.responses as f64 / warm_span
        } else {
            0.0
        },
        latency: warm_latency,
    };
    let cold_phase = cold_reason(first, failures_before, warm_median).map(|reason| ColdPhase {
        reason,
        first_success_after: first.map(|f| f.arrived_us as f64 / 1e6),
        first_success_latency: first.map(|f| f.latency_us as f64 / 1000.0),
        requests_waited: cold.requests(),
        server_errors: cold.server_errors,
        errors: cold.errors.clone(),
        latency: Latency::of(&cold.latency),
    });
    Phases {
        cold: cold_phase,
        warm: warm_phase,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(latency_ms: u64) -> Option<FirstSuccess> {
        Some(FirstSuccess {
            arrived_us: latency_ms * 1000,
            latency_us: latency_ms * 1000,
        })
    }

    #[test]
    fn a_cold_start_is_a_slow_first_success_or_failures_before_it() {
        assert!(
            cold_reason(first(3000), 0, Some(20.0))
                .unwrap()
                .contains("150x")
        );
        assert!(
            cold_reason(first(30), 4, Some(20.0))
                .unwrap()
                .contains("4 failures")
        );
        assert!(cold_reason(None, 9, None).unwrap().contains("no success"));
        // Warm: a first request a bit slower (connection set-up) is not a cold start.
        assert_eq!(cold_reason(first(3), 0, Some(0.4)), None);
        assert_eq!(cold_reason(first(250), 0, Some(200.0)), None);
        assert_eq!(cold_reason(None, 0, None), None);
    }
}
