//! `scale0 burst URL|ENV`: a hey/oha-style load burst with live progress.

use super::{CliError, GlobalArgs, JSON_SCHEMA};
use crate::burst::{self, BurstConfig, Snapshot};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct BurstArgs {
    /// A URL (http:// or https://), or an environment name (its service URL).
    pub target: String,
    /// Concurrent workers, each with its own connection.
    #[arg(short = 'c', default_value_t = 50)]
    pub concurrency: u32,
    /// Total requests (default 200 unless -z is given).
    #[arg(short = 'n')]
    pub requests: Option<u64>,
    /// Duration (e.g. 10s, 1m); with -n, whichever ends first.
    #[arg(short = 'z', value_parser = super::commands::parse_duration)]
    pub duration: Option<f64>,
    /// Rate limit in TOTAL requests per second across all workers, as oha means it
    /// (hey's -q is per worker: hey -c 10 -q 5 is scale0 -c 10 -q 50).
    #[arg(short = 'q')]
    pub rate: Option<f64>,
    /// HTTP method.
    #[arg(short = 'm', default_value = "GET")]
    pub method: String,
    /// A header, "Name: value"; repeatable.
    #[arg(short = 'H')]
    pub headers: Vec<String>,
    /// Request body.
    #[arg(short = 'd')]
    pub body: Option<String>,
    /// Per-request timeout (e.g. 20s).
    #[arg(short = 't', default_value = "20s", value_parser = super::commands::parse_duration)]
    pub timeout: f64,
    /// Use HTTP/2 (prior knowledge on http://, ALPN on https://).
    #[arg(long)]
    pub http2: bool,
    /// Follow redirects (off by default).
    #[arg(long)]
    pub redirects: bool,
    /// With -q: measure latency from when each request was due (coordinated omission).
    #[arg(long)]
    pub latency_correction: bool,
    /// Allow more than 1,000 workers, 10 minutes or 10 million requests.
    #[arg(long)]
    pub no_limits: bool,
}

pub async fn run(global: &GlobalArgs, args: BurstArgs) -> Result<(), CliError> {
    let url = if args.target.contains("://") {
        args.target.clone()
    } else {
        resolve_env_url(global, &args.target).await?
    };
    let headers = args
        .headers
        .iter()
        .map(|h| burst::parse_header(h))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let config = BurstConfig {
        url,
        method: args.method.to_ascii_uppercase(),
        headers,
        body: args.body.unwrap_or_default().into_bytes(),
        concurrency: args.concurrency,
        requests: args.requests,
        duration: args.duration,
        rate: args.rate,
        timeout: args.timeout,
        http2: args.http2,
        follow_redirects: args.redirects,
        correct_coordinated_omission: args.latency_correction,
        allow_beyond_limits: args.no_limits,
    };
    let handle = burst::start(config).map_err(|e| CliError::Usage(e.to_string()))?;
    let live = !global.json && std::io::stderr().is_terminal();
    let mut interrupted = false;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                // First Ctrl-C stops the burst and still prints what was measured.
                interrupted = true;
                handle.cancel();
            }
        }
        if live {
            let s = handle.snapshot();
            eprint!("\r\x1b[2K{}", progress_line(&s));
            let _ = std::io::stderr().flush();
        }
        if handle.is_finished() {
            break;
        }
    }
    if live {
        eprint!("\r\x1b[2K");
    }
    let snapshot = handle.wait().await;
    if global.json {
        let mut value = serde_json::to_value(&snapshot).map_err(|e| CliError::Other(e.into()))?;
        if let Some(map) = value.as_object_mut() {
            map.insert("schema".into(), JSON_SCHEMA.into());
        }
        println!("{value:#}");
    } else {
        print!("{}", summary(&snapshot));
    }
    Ok(())
}

async fn resolve_env_url(global: &GlobalArgs, name: &str) -> Result<String, CliError> {
    let connection = super::commands::connect(global).await?;
    let inventory = connection.backend.inventory().await?;
    let env = inventory.resolve(name)?;
    let service = env.service.as_ref().ok_or_else(|| {
        CliError::Usage(format!(
            "environment {name} has no App Runner service to burst"
        ))
    })?;
    service
        .http_url()
        .ok_or_else(|| CliError::Usage(format!("{} has no service URL yet", service.name)))
}

fn progress_line(s: &Snapshot) -> String {
    format!(
        "{:6.1} s  {:>9} responses  {:>9.0} req/s  p50 {:.1} ms  p99 {:.1} ms  5xx {}  errors {}",
        s.elapsed,
        s.responses,
        s.requests_per_second,
        s.latency.p50,
        s.latency.p99,
        s.status_count(500..=599),
        s.errors_total
    )
}

/// The summary hey prints: totals, latency distribution and histogram, statuses, errors.
pub fn summary(s: &Snapshot) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "\nSummary:");
    let _ = writeln!(o, "  Total:        {:.4} secs", s.elapsed);
    let _ = writeln!(o, "  Slowest:      {:.4} secs", s.latency.max / 1000.0);
    let _ = writeln!(o, "  Fastest:      {:.4} secs", s.latency.min / 1000.0);
    let _ = writeln!(o, "  Average:      {:.4} secs", s.latency.mean / 1000.0);
    let _ = writeln!(o, "  Requests/sec: {:.2}", s.requests_per_second);
    let _ = writeln!(o, "  Total data:   {} bytes", s.bytes);
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
    o
}
