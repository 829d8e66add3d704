//! `scale0 logs ENV`: an environment's logs from CloudWatch Logs, like `aws logs tail`
//! (the app's, the deployments', the service events' or the database's), once or
//! followed. Throttling and lost connections are said on stderr; lines go to stdout.

use super::{CliError, GlobalArgs, JSON_SCHEMA, commands};
use crate::backend::logs::{FollowState, FollowUpdate, LogQuery, LogTarget, Pacing};
use crate::emulator::shapes::iso8601;
use crate::model::logs::{LogLine, LogMark, LogSource};
use clap::Args;
use serde_json::json;
use std::io::Write;

#[derive(Args, Debug)]
pub struct LogsArgs {
    pub env: String,
    /// Which log: app (the app's output), deploy (deployments), events (service events),
    /// db (the database's PostgreSQL log, when exported).
    #[arg(long, default_value = "app", value_parser = parse_source)]
    pub source: LogSource,
    /// How far back to start (90s, 15m, 24h, 7d).
    #[arg(long, default_value = "15m", value_parser = commands::parse_duration)]
    pub since: f64,
    /// A CloudWatch Logs filter pattern (FATAL, "two words", ?a ?b, -skip, { JSON }) or
    /// plain text (searched as one phrase).
    #[arg(long)]
    pub filter: Option<String>,
    /// Keep reading new lines until Ctrl-C.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Most lines to print from the window before following (the first ones).
    #[arg(long, default_value_t = 10_000)]
    pub limit: usize,
}

fn parse_source(text: &str) -> Result<LogSource, String> {
    LogSource::parse(text).ok_or_else(|| format!("{text:?}: use app, deploy, events or db"))
}

pub async fn run(global: &GlobalArgs, args: LogsArgs) -> Result<(), CliError> {
    if args.limit == 0 {
        return Err(CliError::Usage("--limit must be at least 1".into()));
    }
    let session = commands::connect(global).await?;
    let backend = &session.backend;
    let inventory = backend.inventory().await?;
    let env = inventory.resolve(&args.env)?;
    let target = backend.log_target(env, args.source)?;
    let now = backend.clock().now();
    let query = LogQuery {
        start: now - args.since,
        end: None,
        filter: args.filter.clone().unwrap_or_default(),
        max_lines: args.limit,
    };
    if !args.follow {
        let read = backend.read_logs(&target, &query).await?;
        if read.throttled > 0 {
            eprintln!(
                "scale0: CloudWatch Logs throttled {} call(s); each was retried after a pause",
                read.throttled
            );
        }
        if global.json {
            let body = json!({
                "schema": JSON_SCHEMA,
                "environment": env.key,
                "source": args.source,
                "log_group": target.place.group,
                "lines": read.lines,
                "truncated_at": read.truncated,
                "throttled": read.throttled,
            });
            println!("{body:#}");
        } else {
            let mut out = std::io::stdout().lock();
            for line in &read.lines {
                let _ = writeln!(out, "{}", human(line));
            }
            if read.lines.is_empty() {
                // Nothing matched: say so, so an empty answer is not mistaken for a failure.
                eprintln!(
                    "scale0: no lines in {} since {}{}",
                    target.place.group,
                    iso8601(query.start),
                    match &args.filter {
                        Some(f) => format!(" matching {}", crate::backend::cut(f, 64)),
                        None => String::new(),
                    }
                );
            }
            if let Some(t) = read.truncated {
                eprintln!(
                    "scale0: showing the first {} lines; more from {} on (narrow --since or --filter, or raise --limit)",
                    read.lines.len(),
                    iso8601(t)
                );
            }
        }
        return Ok(());
    }
    follow(
        global.json,
        &target,
        backend.follower(&target, &query, Pacing::default())?,
    )
    .await
}

/// Prints lines as they come until Ctrl-C (exit 0) or a failure retrying can't fix.
async fn follow(
    json: bool,
    target: &LogTarget,
    follower: crate::backend::logs::Follower,
) -> Result<(), CliError> {
    let group = target.place.group.clone();
    if !json {
        eprintln!("scale0: following {group} (Ctrl-C stops)");
    }
    let printing = follower.run(move |update| {
        print_update(json, &update);
        true
    });
    tokio::select! {
        result = printing => result.map_err(CliError::Backend),
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

fn print_update(json: bool, update: &FollowUpdate) {
    let mut out = std::io::stdout().lock();
    for line in &update.lines {
        let text = if json {
            json!({"schema": JSON_SCHEMA, "line": line}).to_string()
        } else {
            human(line)
        };
        let _ = writeln!(out, "{text}");
    }
    for mark in &update.marks {
        let text = if json {
            json!({"schema": JSON_SCHEMA, "mark": mark}).to_string()
        } else {
            mark_text(mark)
        };
        let _ = writeln!(out, "{text}");
    }
    let _ = out.flush();
    let wait = update.wait.as_secs_f64();
    match &update.state {
        FollowState::Throttled { times } => eprintln!(
            "scale0: CloudWatch Logs is throttling ({times} in a row); next try in {wait:.0} s"
        ),
        FollowState::Lost { message, .. } => eprintln!(
            "scale0: reading failed: {message}; retrying from the last position in {wait:.0} s"
        ),
        FollowState::Reading | FollowState::Idle => {}
    }
}

fn human(line: &LogLine) -> String {
    format!("{} {} {}", iso8601(line.time), line.stream, line.message)
}

fn mark_text(mark: &LogMark) -> String {
    format!("{} {}", iso8601(mark.time()), mark.text())
}

/// The app log's errors during a burst, as `scale0 burst ENV` prints them.
pub fn summary_text(
    summary: &Result<crate::backend::logs::ErrorSummary, crate::backend::BackendError>,
) -> String {
    let s = match summary {
        Ok(s) => s,
        Err(e) => return format!("\nApp log during the burst: could not be read: {e}\n"),
    };
    let at_least = if s.truncated { "at least " } else { "" };
    let mut out = format!(
        "\nApp log during the burst ({}):\n  {at_least}{} error lines, {} distinct\n",
        s.log_group,
        s.error_lines,
        s.distinct.len()
    );
    if let Some(first) = s.distinct.first() {
        out.push_str(&format!(
            "  first error, {} (x{}): {}\n",
            iso8601(first.first_seen),
            first.count,
            first.text
        ));
    }
    out
}

pub fn summary_json(
    summary: &Result<crate::backend::logs::ErrorSummary, crate::backend::BackendError>,
) -> serde_json::Value {
    match summary {
        Ok(s) => json!(s),
        Err(e) => json!({"error": e.to_string()}),
    }
}
