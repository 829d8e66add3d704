//! The same plan as a k6 script, for load beyond one machine (k6 locally or k6-operator
//! in Kubernetes): the shape of load as a k6 scenario, the request, and thresholds on the
//! error rate and p99.

use super::BurstConfig;
use std::fmt::Write as _;

/// Pass/fail limits written into the script.
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds {
    /// Highest acceptable share of failed requests (0.01 = 1 %).
    pub error_rate: f64,
    /// Highest acceptable p99 latency in ms.
    pub p99_ms: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            error_rate: 0.01,
            p99_ms: 1000.0,
        }
    }
}

/// A JavaScript string literal (JSON's quoting is valid JavaScript).
fn js(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

fn seconds(s: f64) -> String {
    let ms = (s * 1000.0).round() as u64;
    if ms.is_multiple_of(1000) {
        format!("'{}s'", ms / 1000)
    } else {
        format!("'{ms}ms'")
    }
}

/// The k6 scenario for the shape of load.
fn scenario(c: &BurstConfig) -> String {
    let duration = c.total_duration();
    if let Some(rate) = c.rate {
        // k6 counts arrivals per timeUnit: a rate with a fraction goes per minute.
        let (rate, unit) = if rate.fract() == 0.0 {
            (rate as u64, "1s")
        } else {
            ((rate * 60.0).round() as u64, "1m")
        };
        return format!(
            "executor: 'constant-arrival-rate', rate: {rate}, timeUnit: '{unit}', \
             duration: {}, preAllocatedVUs: {w}, maxVUs: {w}",
            seconds(duration.unwrap_or(60.0)),
            w = c.concurrency
        );
    }
    if !c.stages.is_empty() || c.ramp.is_some() {
        let stages: Vec<(f64, u32)> = if c.stages.is_empty() {
            let ramp = c.ramp.unwrap_or(0.0);
            let mut s = vec![(ramp, c.concurrency)];
            if let Some(rest) = duration.map(|d| d - ramp).filter(|r| *r > 0.0) {
                s.push((rest, c.concurrency));
            }
            s
        } else {
            c.stages.iter().map(|s| (s.duration, s.target)).collect()
        };
        let list: Vec<String> = stages
            .iter()
            .map(|(d, t)| format!("{{ duration: {}, target: {t} }}", seconds(*d)))
            .collect();
        return format!(
            "executor: 'ramping-vus', startVUs: 0, stages: [{}], gracefulRampDown: '0s'",
            list.join(", ")
        );
    }
    match duration {
        Some(d) => format!(
            "executor: 'constant-vus', vus: {}, duration: {}",
            c.concurrency,
            seconds(d)
        ),
        None => format!(
            "executor: 'shared-iterations', vus: {}, iterations: {}, maxDuration: '10m'",
            c.concurrency,
            c.requests.unwrap_or(super::DEFAULT_REQUESTS)
        ),
    }
}

/// The script; header values and the body are written as given (the script is the
/// user's, like their command line).
pub fn script(c: &BurstConfig, thresholds: &Thresholds) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "// Written by scale0 {}: the same plan as",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(o, "// scale0 burst {} ({}).", c.url, c.settings().shape());
    let _ = writeln!(o, "// Run: k6 run script.js");
    let _ = writeln!(o, "import http from 'k6/http';\n");
    let _ = writeln!(o, "export const options = {{");
    if c.insecure {
        let _ = writeln!(o, "  // Certificates are NOT checked (--insecure).");
        let _ = writeln!(o, "  insecureSkipTLSVerify: true,");
    }
    if c.requests.is_some() && c.total_duration().is_some() {
        let _ = writeln!(
            o,
            "  // scale0 also stopped after {} requests; k6 scenarios run for the duration.",
            c.requests.unwrap_or_default()
        );
    }
    let _ = writeln!(
        o,
        "  scenarios: {{\n    burst: {{ {} }},\n  }},",
        scenario(c)
    );
    let _ = writeln!(o, "  thresholds: {{");
    let _ = writeln!(
        o,
        "    http_req_failed: ['rate<{}'],",
        thresholds.error_rate
    );
    let _ = writeln!(o, "    http_req_duration: ['p(99)<{}'],", thresholds.p99_ms);
    let _ = writeln!(o, "  }},\n}};\n");
    let headers: Vec<String> = c
        .headers
        .iter()
        .map(|(n, v)| format!("{}: {}", js(n), js(v)))
        .collect();
    let body = if c.body.is_empty() {
        "null".to_string()
    } else {
        js(&String::from_utf8_lossy(&c.body))
    };
    let _ = writeln!(o, "const params = {{");
    if headers.is_empty() {
        let _ = writeln!(o, "  headers: {{}},");
    } else {
        let _ = writeln!(o, "  headers: {{ {} }},", headers.join(", "));
    }
    let _ = writeln!(o, "  timeout: {},", seconds(c.timeout));
    let _ = writeln!(
        o,
        "  redirects: {},",
        if c.follow_redirects { 10 } else { 0 }
    );
    let _ = writeln!(o, "}};\n");
    let _ = writeln!(o, "export default function () {{");
    let _ = writeln!(
        o,
        "  http.request({}, {}, {body}, params);",
        js(&c.method),
        js(&c.url)
    );
    let _ = writeln!(o, "}}");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::burst::shape::parse_stages;

    #[test]
    fn every_shape_becomes_a_k6_scenario() {
        let base = BurstConfig {
            url: "https://example.test/api?q=1".into(),
            method: "POST".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: br#"{"name": "x"}"#.to_vec(),
            ..BurstConfig::default()
        };
        let t = Thresholds::default();
        let stages = script(
            &BurstConfig {
                stages: parse_stages("10s:10,30s:150,20s:0").unwrap(),
                ..base.clone()
            },
            &t,
        );
        assert!(stages.contains("'ramping-vus'"), "{stages}");
        assert!(
            stages.contains("{ duration: '30s', target: 150 }"),
            "{stages}"
        );
        assert!(stages.contains(r#"http.request("POST", "https://example.test/api?q=1", "{\"name\": \"x\"}", params)"#), "{stages}");
        assert!(stages.contains(r#"headers: { "Content-Type": "application/json" }"#));
        assert!(stages.contains("http_req_failed: ['rate<0.01']"));
        assert!(stages.contains("http_req_duration: ['p(99)<1000']"));
        let ramp = script(
            &BurstConfig {
                ramp: Some(5.0),
                duration: Some(20.0),
                concurrency: 40,
                ..base.clone()
            },
            &t,
        );
        assert!(
            ramp.contains("[{ duration: '5s', target: 40 }, { duration: '15s', target: 40 }]"),
            "{ramp}"
        );
        let open = script(
            &BurstConfig {
                rate: Some(250.0),
                duration: Some(30.0),
                insecure: true,
                ..base.clone()
            },
            &t,
        );
        assert!(
            open.contains("'constant-arrival-rate', rate: 250, timeUnit: '1s', duration: '30s'"),
            "{open}"
        );
        assert!(open.contains("insecureSkipTLSVerify: true"));
        let count = script(
            &BurstConfig {
                requests: Some(500),
                ..base.clone()
            },
            &t,
        );
        assert!(
            count.contains("'shared-iterations', vus: 50, iterations: 500"),
            "{count}"
        );
        let timed = script(
            &BurstConfig {
                duration: Some(0.5),
                ..base
            },
            &t,
        );
        assert!(
            timed.contains("'constant-vus', vus: 50, duration: '500ms'"),
            "{timed}"
        );
    }
}
