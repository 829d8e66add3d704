//! What a burst is asked to do, its bounds, and the checks that refuse bad input before
//! anything is sent.

use super::shape::{Schedule, Stage};
use serde::{Deserialize, Serialize};

/// Bounds a user can't pass by accident (`allow_beyond_limits` lifts them).
pub const MAX_CONCURRENCY: u32 = 1000;
pub const MAX_DURATION_SECONDS: f64 = 600.0;
pub const MAX_REQUESTS: u64 = 10_000_000;
pub const MAX_RATE: f64 = 1_000_000.0;
/// Requests sent when neither a count nor a duration is given (as hey does).
pub const DEFAULT_REQUESTS: u64 = 200;

/// A burst's settings. The shape of load is one of: `concurrency` workers from the start
/// (closed model), a `ramp` up to them, `stages` (k6-like; the workers follow each
/// stage's target), or an open model at a fixed total `rate` with at most `concurrency`
/// requests in flight.
#[derive(Clone, Debug)]
pub struct BurstConfig {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub concurrency: u32,
    /// Stop after this many requests.
    pub requests: Option<u64>,
    /// Stop after this many seconds (whichever limit comes first). With `stages`, their
    /// total is the duration.
    pub duration: Option<f64>,
    /// Open model: total requests per second across all workers (as oha means -q).
    pub rate: Option<f64>,
    /// Closed model: seconds to go linearly from 0 to `concurrency` workers.
    pub ramp: Option<f64>,
    /// Closed model: k6-like stages; `concurrency` is ignored (the peak target is used).
    pub stages: Vec<Stage>,
    /// Per-request timeout in seconds.
    pub timeout: f64,
    pub http2: bool,
    /// Skip TLS certificate checks (self-signed targets). Shown loudly in every result.
    pub insecure: bool,
    /// Extra trusted root certificates (PEM), besides the platform's (curl's --cacert).
    pub ca_certs: Vec<Vec<u8>>,
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
            ramp: None,
            stages: Vec::new(),
            timeout: 20.0,
            http2: false,
            insecure: false,
            ca_certs: Vec::new(),
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
    #[error("invalid stages: {0}")]
    BadStages(String),
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
        let beyond = |what: String| {
            setting(format!(
                "{what} is above the limit; pass --no-limits if you mean it"
            ))
        };
        if self.stages.is_empty() && self.concurrency == 0 {
            return setting("concurrency must be at least 1".into());
        }
        if limits && self.workers() > MAX_CONCURRENCY {
            return beyond(format!(
                "{} workers (limit {MAX_CONCURRENCY})",
                self.workers()
            ));
        }
        match self.requests {
            Some(0) => return setting("the number of requests must be at least 1".into()),
            Some(n) if limits && n > MAX_REQUESTS => {
                return beyond(format!("{n} requests (limit {MAX_REQUESTS})"));
            }
            _ => {}
        }
        if let Some(d) = self.duration
            && (!d.is_finite() || d <= 0.0)
        {
            return setting(format!("the duration must be positive, got {d} s"));
        }
        if let Some(d) = self.total_duration()
            && limits
            && d > MAX_DURATION_SECONDS
        {
            return beyond(format!("{d} s (limit {MAX_DURATION_SECONDS} s)"));
        }
        if let Some(r) = self.rate {
            if !r.is_finite() || r <= 0.0 {
                return setting(format!("the rate must be positive, got {r}"));
            }
            if limits && r > MAX_RATE {
                return beyond(format!("{r} requests per second (limit {MAX_RATE})"));
            }
            if self.ramp.is_some() || !self.stages.is_empty() {
                return setting(
                    "-q (a fixed arrival rate) can't be combined with --ramp or --stages, \
                     which shape the number of workers"
                        .into(),
                );
            }
        }
        if let Some(r) = self.ramp {
            if !r.is_finite() || r <= 0.0 {
                return setting(format!("the ramp must be positive, got {r} s"));
            }
            if !self.stages.is_empty() {
                return setting("use either --ramp or --stages, not both".into());
            }
            if let Some(d) = self.duration
                && r > d
            {
                return setting(format!(
                    "the ramp ({r} s) is longer than the duration ({d} s)"
                ));
            }
        }
        if !self.stages.is_empty() {
            if self.duration.is_some() {
                return setting("--stages sets the duration; drop -z".into());
            }
            if self.stages.iter().all(|s| s.target == 0) {
                return Err(BurstError::BadStages(
                    "every stage targets 0 workers: nothing would be sent".into(),
                ));
            }
            if self
                .stages
                .iter()
                .any(|s| !s.duration.is_finite() || s.duration <= 0.0)
            {
                return Err(BurstError::BadStages(
                    "every stage needs a positive duration".into(),
                ));
            }
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

    /// How many workers run (the peak of the stages, or the concurrency).
    pub fn workers(&self) -> u32 {
        if self.stages.is_empty() {
            self.concurrency
        } else {
            self.schedule().peak()
        }
    }

    /// The run's length in seconds when it has one: `-z`, or the stages' total.
    pub fn total_duration(&self) -> Option<f64> {
        if self.stages.is_empty() {
            self.duration
        } else {
            Some(self.stages.iter().map(|s| s.duration).sum())
        }
    }

    /// The concurrency target over time (closed model).
    pub fn schedule(&self) -> Schedule {
        match (&self.stages[..], self.ramp) {
            ([], Some(ramp)) => Schedule::ramp(ramp, self.concurrency),
            ([], None) => Schedule::constant(self.concurrency),
            (stages, _) => Schedule::stages(stages),
        }
    }

    /// The load at second `t`: workers meant to be sending, or the arrival rate.
    pub fn target_at(&self, t: f64) -> f64 {
        match self.rate {
            Some(rate) => rate,
            None => self.schedule().target_at(t),
        }
    }

    pub(super) fn request_limit(&self) -> Option<u64> {
        match (self.requests, self.total_duration()) {
            (None, None) => Some(DEFAULT_REQUESTS),
            (n, _) => n,
        }
    }

    /// The settings as they are saved with a run: header values that may carry secrets
    /// and the body are left out, and so is a password in the URL.
    pub fn settings(&self) -> Settings {
        Settings {
            url: redact_url(&self.url),
            method: self.method.clone(),
            headers: self
                .headers
                .iter()
                .map(|(n, v)| {
                    let value = if is_secret_header(n) {
                        "<redacted>".to_string()
                    } else {
                        v.clone()
                    };
                    (n.clone(), value)
                })
                .collect(),
            body_bytes: self.body.len() as u64,
            concurrency: self.workers(),
            requests: self.requests,
            duration: self.total_duration(),
            rate: self.rate,
            ramp: self.ramp,
            stages: self.stages.clone(),
            timeout: self.timeout,
            http2: self.http2,
            insecure: self.insecure,
            follow_redirects: self.follow_redirects,
            latency_corrected: self.rate.is_some() && self.correct_coordinated_omission,
        }
    }
}

/// A run's settings as saved and compared (no secrets).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body_bytes: u64,
    pub concurrency: u32,
    pub requests: Option<u64>,
    pub duration: Option<f64>,
    pub rate: Option<f64>,
    pub ramp: Option<f64>,
    pub stages: Vec<Stage>,
    pub timeout: f64,
    pub http2: bool,
    pub insecure: bool,
    pub follow_redirects: bool,
    pub latency_corrected: bool,
}

impl Settings {
    /// One line describing the shape of load, e.g. "ramp 30 s to 150 workers".
    pub fn shape(&self) -> String {
        if let Some(rate) = self.rate {
            return format!("open model {rate}/s, up to {} in flight", self.concurrency);
        }
        if !self.stages.is_empty() {
            let stages: Vec<String> = self
                .stages
                .iter()
                .map(|s| format!("{}s:{}", s.duration, s.target))
                .collect();
            return format!("stages {}", stages.join(","));
        }
        match self.ramp {
            Some(r) => format!("ramp {r} s to {} workers", self.concurrency),
            None => format!("{} workers", self.concurrency),
        }
    }
}

fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "auth",
        "cookie",
        "token",
        "key",
        "secret",
        "session",
        "password",
        "signature",
    ]
    .iter()
    .any(|s| n.contains(s))
}

fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::burst::shape::parse_stages;

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

    #[test]
    fn shapes_are_checked_together() {
        let mut c = config("http://127.0.0.1/");
        c.stages = parse_stages("10s:10,30s:150,20s:0").unwrap();
        assert!(c.validate().is_ok());
        assert_eq!((c.workers(), c.total_duration()), (150, Some(60.0)));
        c.stages = parse_stages("500s:10,200s:20").unwrap();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("--no-limits")
        );
        c.stages = parse_stages("5s:0").unwrap();
        assert!(matches!(c.validate(), Err(BurstError::BadStages(_))));
        c.stages = parse_stages("5s:2000").unwrap();
        assert!(c.validate().is_err(), "the peak counts against the limit");
        let mut c = config("http://127.0.0.1/");
        c.rate = Some(100.0);
        c.ramp = Some(5.0);
        assert!(c.validate().unwrap_err().to_string().contains("-q"));
        let mut c = config("http://127.0.0.1/");
        c.ramp = Some(20.0);
        c.duration = Some(10.0);
        assert!(c.validate().unwrap_err().to_string().contains("longer"));
    }

    #[test]
    fn saved_settings_hold_no_secrets() {
        let mut c = config("https://user:hunter2@example.test/path");
        c.headers = vec![
            ("Authorization".into(), "Bearer abc".into()),
            ("X-Api-Key".into(), "k".into()),
            ("Accept".into(), "text/html".into()),
        ];
        c.body = b"password=hunter2".to_vec();
        let s = c.settings();
        let text = serde_json::to_string(&s).unwrap();
        assert!(!text.contains("hunter2") && !text.contains("abc"), "{text}");
        assert!(text.contains("text/html"));
        assert_eq!(s.body_bytes, 16);
    }
}
