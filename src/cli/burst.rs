//! `scale0 burst URL|ENV`: a hey/oha-style load burst with live progress, shapes of load,
//! saved runs (`scale0 burst list`, `scale0 burst compare A B`) and a k6 export.

use super::{CliError, GlobalArgs, JSON_SCHEMA};
use crate::burst::runs::{self, RunRecord, Target};
use crate::burst::{self, BurstConfig, Snapshot, k6, report};
use crate::model::Environment;
use std::io::{IsTerminal, Write};
use std::time::Duration;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BurstArgs {
    #[command(subcommand)]
    pub action: Option<BurstAction>,
    /// A URL (http:// or https://), or an environment name (its service URL).
    #[arg(required = true)]
    pub target: Option<String>,
    /// Concurrent workers, each with its own connection (with -q: most in flight).
    #[arg(short = 'c', default_value_t = 50)]
    pub concurrency: u32,
    /// Total requests (default 200 unless -z or --stages is given).
    #[arg(short = 'n')]
    pub requests: Option<u64>,
    /// Duration (e.g. 10s, 1m); with -n, whichever ends first.
    #[arg(short = 'z', value_parser = super::commands::parse_duration)]
    pub duration: Option<f64>,
    /// Open model: a fixed arrival rate in TOTAL requests per second, as oha means it
    /// (hey's -q is per worker: hey -c 10 -q 5 is scale0 -c 10 -q 50). Latency is
    /// measured from when each request was due, and late sends are counted.
    #[arg(short = 'q')]
    pub rate: Option<f64>,
    /// Go linearly from 0 to -c workers over this long (e.g. 30s), then hold.
    #[arg(long, value_parser = super::commands::parse_duration)]
    pub ramp: Option<f64>,
    /// k6-like stages, DURATION:WORKERS,... e.g. 10s:10,30s:150,20s:0 (sets the duration).
    #[arg(long)]
    pub stages: Option<String>,
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
    /// Use HTTP/2 (prior knowledge on http://; on https:// ALPN picks it anyway when the
    /// server offers it).
    #[arg(long)]
    pub http2: bool,
    /// Don't check TLS certificates (self-signed targets). Marked in every result.
    #[arg(long)]
    pub insecure: bool,
    /// Also trust the root certificates in this PEM file (besides the platform's).
    #[arg(long)]
    pub cacert: Option<std::path::PathBuf>,
    /// Follow redirects (off by default).
    #[arg(long)]
    pub redirects: bool,
    /// Kept for older scripts: with -q, latency is measured from when each request was due.
    #[arg(long, conflicts_with = "no_latency_correction")]
    pub latency_correction: bool,
    /// With -q, measure latency from the actual send instead (hides queueing delay).
    #[arg(long)]
    pub no_latency_correction: bool,
    /// Allow more than 1,000 workers, 10 minutes or 10 million requests.
    #[arg(long)]
    pub no_limits: bool,
    /// Write the finished run as JSON (settings, results, per-second series) or CSV (the
    /// per-second series) instead of the summary.
    #[arg(long, value_enum)]
    pub output: Option<OutputFormat>,
    /// Don't save the run (runs are kept under the data dir, or $SCALE0_BURSTS_DIR).
    #[arg(long)]
    pub no_save: bool,
    /// Print an equivalent script for another load tool instead of running the burst.
    #[arg(long, value_enum)]
    pub export: Option<ExportFormat>,
    /// For --export: the error-rate threshold (0.01 = 1 %).
    #[arg(long, default_value_t = 0.01)]
    pub max_error_rate: f64,
    /// For --export: the p99 latency threshold (e.g. 500ms, 2s).
    #[arg(long, default_value = "1s", value_parser = parse_seconds)]
    pub max_p99: f64,
}

#[derive(clap::Subcommand, Debug)]
pub enum BurstAction {
    /// List saved bursts, oldest first.
    List,
    /// Show what differs between two saved bursts (ids, unique prefixes, last, last~1,
    /// or paths to saved .json files).
    Compare { a: String, b: String },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum OutputFormat {
    Json,
    Csv,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum ExportFormat {
    K6,
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    burst::shape::parse_seconds(text)
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}

pub async fn run(global: &GlobalArgs, args: BurstArgs) -> Result<(), CliError> {
    match &args.action {
        Some(BurstAction::List) => return list(global),
        Some(BurstAction::Compare { a, b }) => return compare(global, a, b),
        None => {}
    }
    let target = args.target.clone().unwrap_or_default();
    let env = if target.contains("://") {
        None
    } else {
        Some(resolve_env(global, &target).await?)
    };
    let url = match &env {
        Some((_, env)) => env_url(env)?,
        None => target.clone(),
    };
    let config = config(&args, url)?;
    if args.export == Some(ExportFormat::K6) {
        config.validate().map_err(usage)?;
        let thresholds = k6::Thresholds {
            error_rate: args.max_error_rate,
            p99_ms: args.max_p99 * 1000.0,
        };
        print!("{}", k6::script(&config, &thresholds));
        return Ok(());
    }
    let server_started = env
        .as_ref()
        .map(|(session, _)| session.backend.clock().now());
    let settings = config.settings();
    let handle = burst::start(config).map_err(usage)?;
    let live = !global.json && args.output.is_none() && std::io::stderr().is_terminal();
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
            eprint!("\r\x1b[2K{}", report::progress_line(&handle.snapshot()));
            let _ = std::io::stderr().flush();
        }
        if handle.is_finished() {
            break;
        }
    }
    if live {
        eprint!("\r\x1b[2K");
    }
    let mut target_info = Target {
        url: settings.url.clone(),
        ..Target::default()
    };
    if let (Some((session, env)), Some(started)) = (&env, server_started) {
        describe_env(env, &mut target_info);
        // The environment's own events during the burst mark its timeline.
        let since = session.backend.clock().now() - started + 5.0;
        match session.backend.events(env, since).await {
            Ok(events) => {
                for e in events.iter().filter(|e| e.time >= started) {
                    handle.add_marker(e.time - started, format!("{}: {}", e.source, e.message));
                }
            }
            Err(e) => tracing::warn!("could not read the environment's events: {e}"),
        }
    }
    let snapshot = handle.wait().await;
    // The app log's errors during the burst (the seed's 500s had their cause there).
    let app_log = match (&env, server_started) {
        (Some((session, env)), Some(started)) => {
            let ended = session.backend.clock().now();
            Some(
                session
                    .backend
                    .app_errors(env, started - 1.0, ended + 1.0)
                    .await,
            )
        }
        _ => None,
    };
    let record = RunRecord::new(target_info, settings, snapshot);
    let saved = if args.no_save {
        None
    } else {
        match runs::dir().and_then(|d| runs::save(&d, &record)) {
            Ok(path) => Some(path),
            Err(e) => {
                eprintln!("warning: the run was not saved: {e}");
                None
            }
        }
    };
    print_result(global, args.output, &record, app_log.as_ref())?;
    if let Some(path) = saved {
        eprintln!("saved as {} ({})", record.id, path.display());
    }
    all_failed(&record.result)
}

fn config(args: &BurstArgs, url: String) -> Result<BurstConfig, CliError> {
    let headers = args
        .headers
        .iter()
        .map(|h| burst::parse_header(h))
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)?;
    let stages = match &args.stages {
        Some(text) => burst::shape::parse_stages(text).map_err(usage)?,
        None => Vec::new(),
    };
    let ca_certs = match &args.cacert {
        Some(path) => {
            vec![std::fs::read(path).map_err(|e| usage(format!("{}: {e}", path.display())))?]
        }
        None => Vec::new(),
    };
    Ok(BurstConfig {
        url,
        ca_certs,
        method: args.method.to_ascii_uppercase(),
        headers,
        body: args.body.clone().unwrap_or_default().into_bytes(),
        concurrency: args.concurrency,
        requests: args.requests,
        duration: args.duration,
        rate: args.rate,
        ramp: args.ramp,
        stages,
        timeout: args.timeout,
        http2: args.http2,
        insecure: args.insecure,
        follow_redirects: args.redirects,
        correct_coordinated_omission: !args.no_latency_correction,
        allow_beyond_limits: args.no_limits,
    })
}

type AppLog = Result<crate::backend::logs::ErrorSummary, crate::backend::BackendError>;

fn print_result(
    global: &GlobalArgs,
    output: Option<OutputFormat>,
    record: &RunRecord,
    app_log: Option<&AppLog>,
) -> Result<(), CliError> {
    let json = |value: serde_json::Result<serde_json::Value>| -> Result<(), CliError> {
        let mut value = value.map_err(|e| CliError::Other(e.into()))?;
        if let Some(map) = value.as_object_mut() {
            map.insert("schema".into(), JSON_SCHEMA.into());
            if let Some(log) = app_log {
                map.insert("app_log".into(), super::logs::summary_json(log));
            }
        }
        println!("{value:#}");
        Ok(())
    };
    match output {
        Some(OutputFormat::Json) => json(serde_json::to_value(record)),
        Some(OutputFormat::Csv) => {
            print!("{}", runs::csv(&record.result));
            if let Some(log) = app_log {
                eprint!("{}", super::logs::summary_text(log));
            }
            Ok(())
        }
        None if global.json => json(serde_json::to_value(&record.result)),
        None => {
            print!("{}", report::summary(&record.result));
            if let Some(log) = app_log {
                print!("{}", super::logs::summary_text(log));
            }
            Ok(())
        }
    }
}

/// A burst where nothing got through is a failure (exit 1), after its numbers are shown.
fn all_failed(s: &Snapshot) -> Result<(), CliError> {
    if s.responses > 0 || s.errors_total == 0 {
        return Ok(());
    }
    let kinds: Vec<String> = s
        .errors
        .iter()
        .map(|(k, n)| format!("{n} {}", k.label()))
        .collect();
    Err(CliError::Other(anyhow::anyhow!(
        "no response from {}: {}",
        s.url,
        kinds.join(", ")
    )))
}

async fn resolve_env(
    global: &GlobalArgs,
    name: &str,
) -> Result<(crate::backend::session::Session, Environment), CliError> {
    let session = super::commands::connect(global).await?;
    let inventory = session.backend.inventory().await?;
    super::commands::check_inventory(global, &inventory)?;
    let env = super::commands::resolve(&inventory, name)?.clone();
    // Load is a change too: never against a read-only account's environment.
    if let Some(why) = &env.read_only {
        return Err(CliError::Backend(crate::backend::BackendError::ReadOnly(
            format!("burst {}: read-only: {why}", env.key.name),
        )));
    }
    Ok((session, env))
}

fn env_url(env: &Environment) -> Result<String, CliError> {
    // An unread service is not "no service": say why its URL is unknown.
    if let Some(u) = env.unread(crate::model::Part::Service) {
        return Err(CliError::Backend(crate::backend::BackendError::Unknown {
            kind: u.kind,
            message: format!("the service URL is unknown: {}", u.error),
        }));
    }
    let service = env.service.as_ref().ok_or_else(|| {
        usage(format!(
            "environment {} has no App Runner service to burst",
            env.key.name
        ))
    })?;
    service
        .http_url()
        .ok_or_else(|| usage(format!("{} has no service URL yet", service.name)))
}

fn describe_env(env: &Environment, target: &mut Target) {
    target.environment = Some(env.key.name.clone());
    if let Some(image) = &env.image {
        target.image_tag = image.tag.clone();
        target.image_digest = image.digest.clone();
    }
    if let Some(s) = env.service.as_ref().and_then(|s| s.scaling.as_ref()) {
        target.scaling = Some(format!(
            "max concurrency {}, {}-{} instances",
            s.max_concurrency, s.min_size, s.max_size
        ));
    }
}

fn list(global: &GlobalArgs) -> Result<(), CliError> {
    let dir = runs::dir().map_err(|e| CliError::Other(e.into()))?;
    let all = runs::list(&dir).map_err(|e| CliError::Other(e.into()))?;
    if global.json {
        let rows: Vec<serde_json::Value> = all
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "started_at": r.started_at, "target": r.target,
                    "load": r.settings.shape(),
                    "requests_per_second": r.result.requests_per_second,
                    "p99_ms": r.result.latency.p99, "error_rate": r.result.error_rate(),
                })
            })
            .collect();
        println!(
            "{:#}",
            serde_json::json!({"schema": JSON_SCHEMA, "bursts": rows})
        );
    } else {
        print!("{}", report::list(&all));
    }
    Ok(())
}

fn compare(global: &GlobalArgs, a: &str, b: &str) -> Result<(), CliError> {
    let dir = runs::dir().map_err(|e| CliError::Other(e.into()))?;
    let load = |which: &str| {
        runs::load(&dir, which).map_err(|e| match e {
            runs::RunsError::NotFound(_) | runs::RunsError::Ambiguous(..) => usage(e),
            other => CliError::Other(other.into()),
        })
    };
    let (a, b) = (load(a)?, load(b)?);
    let diffs = runs::compare(&a, &b);
    if global.json {
        println!(
            "{:#}",
            serde_json::json!({"schema": JSON_SCHEMA, "a": a.id, "b": b.id, "differences": diffs})
        );
    } else {
        print!("{}", report::compare(&a, &b, &diffs));
    }
    Ok(())
}
