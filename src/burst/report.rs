//! Burst results as text for a terminal: the hey-style summary with the shape of load,
//! cold and warm phases and timeline, the list of saved runs, and a comparison.

use super::Snapshot;
use super::runs::{Difference, RunRecord};
use std::fmt::Write as _;

/// Printed above and below a run whose certificates were not checked.
pub const INSECURE_BANNER: &str =
    "!! --insecure: TLS certificates were NOT checked; anyone in the path could have answered";

/// One line of live progress.
pub fn progress_line(s: &Snapshot) -> String {
    let target = s.per_second.last().map_or(0.0, |p| p.target);
    format!(
        "{}{:6.1} s  load {target:.0}  {:>9} responses  {:>9.0} req/s  p50 {:.1} ms  p99 {:.1} ms  5xx {}  errors {}",
        if s.insecure { "[INSECURE] " } else { "" },
        s.elapsed,
        s.responses,
        s.requests_per_second,
        s.latency.p50,
        s.latency.p99,
        s.status_count(500..=599),
        s.errors_total
    )
}

/// What hey prints (totals, latency histogram and percentiles, statuses, errors), then
/// the phases, the timeline and, for shaped runs, the per-second series.
pub fn summary(s: &Snapshot) -> String {
    let mut o = String::new();
    if s.insecure {
        let _ = writeln!(o, "\n{INSECURE_BANNER}");
    }
    let _ = writeln!(o, "\nSummary:");
    let _ = writeln!(o, "  Load:         {}", s.shape);
    if !s.protocols.is_empty() {
        let _ = writeln!(o, "  Protocol:     {}", s.protocols.join(", "));
    }
    let _ = writeln!(o, "  Total:        {:.4} secs", s.elapsed);
    let _ = writeln!(o, "  Slowest:      {:.4} secs", s.latency.max / 1000.0);
    let _ = writeln!(o, "  Fastest:      {:.4} secs", s.latency.min / 1000.0);
    let _ = writeln!(o, "  Average:      {:.4} secs", s.latency.mean / 1000.0);
    let _ = writeln!(o, "  Requests/sec: {:.2}", s.requests_per_second);
    let _ = writeln!(o, "  Total data:   {} bytes", s.bytes);
    if s.late > 0 {
        let _ = writeln!(
            o,
            "  Late:         {} requests could not be sent on time (raise -c for more in flight)",
            s.late
        );
    }
    if s.cancelled {
        let _ = writeln!(o, "  (cancelled before the end)");
    }
    if !s.latency.histogram.is_empty() {
        let _ = writeln!(o, "\nResponse time histogram:");
        let most = s
            .latency
            .histogram
            .iter()
            .map(|b| b.1)
            .max()
            .unwrap_or(1)
            .max(1);
        for (upper, count) in &s.latency.histogram {
            let bar = "■".repeat((count * 40 / most) as usize);
            let _ = writeln!(o, "  {:>9.3} [{count}]\t|{bar}", upper / 1000.0);
        }
        let _ = writeln!(o, "\nLatency distribution:");
        for (p, v) in [
            ("50", s.latency.p50),
            ("90", s.latency.p90),
            ("95", s.latency.p95),
            ("99", s.latency.p99),
            ("99.9", s.latency.p999),
        ] {
            let _ = writeln!(o, "  {p}% in {:.4} secs", v / 1000.0);
        }
    }
    let _ = writeln!(o, "\nStatus code distribution:");
    for (status, n) in &s.statuses {
        let _ = writeln!(o, "  [{status}]\t{n} responses");
    }
    if !s.errors.is_empty() {
        let _ = writeln!(o, "\nError distribution:");
        for (kind, n) in &s.errors {
            let _ = writeln!(o, "  [{n}]\t{}", kind.label());
        }
    }
    phases(&mut o, s);
    if !s.markers.is_empty() {
        let _ = writeln!(o, "\nTimeline:");
        for m in &s.markers {
            let _ = writeln!(o, "  {:>7.1} s  {}", m.at, m.text);
        }
    }
    let shaped = !s.shape.ends_with(" workers") || s.shape.starts_with("ramp");
    if shaped && !s.per_second.is_empty() && s.per_second.len() <= 600 {
        let _ = writeln!(
            o,
            "\nPer second:\n  {:>4} {:>7} {:>9} {:>6} {:>6} {:>9} {:>9}",
            "s", "load", "responses", "5xx", "errors", "p50 ms", "p99 ms"
        );
        for (i, p) in s.per_second.iter().enumerate() {
            let _ = writeln!(
                o,
                "  {i:>4} {:>7.0} {:>9} {:>6} {:>6} {:>9.1} {:>9.1}",
                p.target, p.responses, p.server_errors, p.errors, p.p50, p.p99
            );
        }
    }
    if s.insecure {
        let _ = writeln!(o, "\n{INSECURE_BANNER}");
    }
    o
}

fn phases(o: &mut String, s: &Snapshot) {
    let Some(cold) = &s.phases.cold else {
        return;
    };
    let warm = &s.phases.warm;
    let _ = writeln!(o, "\nCold start ({}):", cold.reason);
    match (cold.first_success_after, cold.first_success_latency) {
        (Some(after), Some(latency)) => {
            let _ = writeln!(
                o,
                "  First success:   {after:.3} s after the start (its own latency {:.3} s)",
                latency / 1000.0
            );
        }
        _ => {
            let _ = writeln!(o, "  First success:   none");
        }
    }
    let failed: u64 = cold.errors.values().sum();
    let _ = writeln!(o, "  Requests waited: {}", cold.requests_waited);
    let _ = writeln!(
        o,
        "  Errors:          {} 5xx, {failed} without a response",
        cold.server_errors
    );
    let _ = writeln!(o, "Warm phase (after the first success):");
    let _ = writeln!(
        o,
        "  Requests:        {} ({:.2}/s), {} 5xx, {} without a response",
        warm.requests,
        warm.requests_per_second,
        warm.server_errors,
        warm.errors.values().sum::<u64>()
    );
    let _ = writeln!(
        o,
        "  Latency:         p50 {:.1} ms, p99 {:.1} ms",
        warm.latency.p50, warm.latency.p99
    );
}

/// `scale0 burst list`.
pub fn list(runs: &[RunRecord]) -> String {
    if runs.is_empty() {
        return "No saved bursts.\n".into();
    }
    let mut o = format!(
        "{:<22} {:<20} {:>10} {:>9} {:>8}  {:<28} {}\n",
        "ID", "STARTED", "REQ/S", "P99 MS", "ERRORS", "LOAD", "TARGET"
    );
    for r in runs {
        let s = &r.result;
        let target = match (&r.target.environment, &r.target.image_tag) {
            (Some(env), Some(tag)) => format!("{env} ({tag}) {}", r.target.url),
            (Some(env), None) => format!("{env} {}", r.target.url),
            _ => r.target.url.clone(),
        };
        let _ = writeln!(
            o,
            "{:<22} {:<20} {:>10.1} {:>9.2} {:>7.1}%  {:<28} {target}",
            r.id,
            r.started_at
                .get(..19)
                .unwrap_or(&r.started_at)
                .replace('T', " "),
            s.requests_per_second,
            s.latency.p99,
            s.error_rate() * 100.0,
            r.settings.shape(),
        );
    }
    o
}

/// `scale0 burst compare A B`.
pub fn compare(a: &RunRecord, b: &RunRecord, diffs: &[Difference]) -> String {
    let mut o = format!(
        "A: {}  {}\nB: {}  {}\n\n",
        a.id, a.started_at, b.id, b.started_at
    );
    let _ = writeln!(o, "{:<24} {:>16} {:>16} {:>9}", "", "A", "B", "change");
    for d in diffs {
        let change = d
            .change_percent
            .map_or(String::new(), |c| format!("{c:+.1}%"));
        let _ = writeln!(o, "{:<24} {:>16} {:>16} {change:>9}", d.name, d.a, d.b);
    }
    o
}
