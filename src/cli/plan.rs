//! `scale0 keep-awake`, `scale0 schedules` and `scale0 why`: the environment's sleep plan.

use super::commands::{act, connect, print_json};
use super::{CliError, GlobalArgs};
use crate::actions::Action;
use crate::model::blockers::{Finding, Why};
use crate::model::plan::{self, PlannedSchedule, SleepWindow};
use crate::model::schedule_expr::zone;
use crate::model::{Environment, Time};
use clap::Args;
use jiff::tz::TimeZone;
use serde_json::json;
use std::fmt::Write;

#[derive(Args, Debug)]
pub struct KeepAwakeArgs {
    pub env: String,
    /// Until this time of day (17:30) or date and time (2026-11-23T17:30), in --tz.
    #[arg(long, conflicts_with_all = ["for_", "cancel"], required_unless_present_any = ["for_", "cancel"])]
    pub until: Option<String>,
    /// For this long from now (90m, 2h).
    #[arg(long = "for", value_parser = super::commands::parse_duration, conflicts_with = "cancel")]
    pub for_: Option<f64>,
    /// End the keep-awake now and let the environment sleep.
    #[arg(long)]
    pub cancel: bool,
    /// Who sets it, as teammates see it (default: $USER).
    #[arg(long)]
    pub by: Option<String>,
    /// The time zone --until is in (default: this computer's).
    #[arg(long)]
    pub tz: Option<String>,
}

#[derive(Args, Debug)]
pub struct SchedulesArgs {
    /// One environment (default: every environment's schedules).
    pub env: Option<String>,
    /// Every environment of this owner (their `owner` tag): set or remove the same window
    /// on each, one outcome per environment.
    #[arg(long, conflicts_with_all = ["env", "stop_after_restart"])]
    pub owner: Option<String>,
    /// Set the sleep window: awake HH:MM-HH:MM, asleep the rest of the day.
    #[arg(long, requires = "tz")]
    pub awake: Option<String>,
    /// The days the window applies (AWS cron day-of-week: MON-FRI, *, MON,WED).
    #[arg(long, default_value = "MON-FRI")]
    pub days: String,
    /// The window's IANA time zone (Europe/Berlin).
    #[arg(long)]
    pub tz: Option<String>,
    /// Replace an existing window instead of refusing.
    #[arg(long, requires = "awake")]
    pub replace: bool,
    /// Delete the environment's (or the owner's) sleep window.
    #[arg(long, conflicts_with = "awake")]
    pub remove: bool,
    /// Stop the stopped cluster again 30 minutes after AWS's automatic 7-day start.
    #[arg(long, requires = "env", conflicts_with_all = ["awake", "remove"])]
    pub stop_after_restart: bool,
}

fn local_zone(tz: Option<&str>) -> Result<TimeZone, CliError> {
    match tz {
        Some(name) => zone(name).map_err(|_| {
            CliError::Usage(format!(
                "unknown time zone {name:?} (use an IANA name such as Europe/Berlin)"
            ))
        }),
        None => Ok(TimeZone::try_system().unwrap_or(TimeZone::UTC)),
    }
}

/// "17:30" (today, in `tz`, on the server's date) or "2026-11-23T17:30".
pub fn parse_until(text: &str, now: Time, tz: &TimeZone) -> Result<Time, String> {
    let bad = || format!("{text:?}: expected HH:MM or YYYY-MM-DDTHH:MM");
    let t = text.trim().replace(' ', "T");
    let civil: jiff::civil::DateTime = if t.contains('T') {
        t.parse().map_err(|_| bad())?
    } else {
        let time: jiff::civil::Time = t.parse().map_err(|_| bad())?;
        let today = jiff::Timestamp::from_second(now as i64)
            .map_err(|_| bad())?
            .to_zoned_datetime(tz.clone())
            .date();
        today.to_datetime(time)
    };
    let at = tz.to_timestamp(civil).map_err(|_| bad())?.as_second() as f64;
    if at <= now {
        return Err(format!(
            "the expiry {text} ({}) is in the past",
            plan::iso(at)
        ));
    }
    Ok(at)
}

fn who(by: Option<String>) -> String {
    by.or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "someone".into())
}

pub async fn keep_awake(global: &GlobalArgs, args: KeepAwakeArgs) -> Result<(), CliError> {
    let tz = local_zone(args.tz.as_deref())?;
    let connection = connect(global).await?;
    let inventory = connection.backend.inventory().await?;
    super::commands::check_inventory(global, &inventory)?;
    let now = connection.backend.clock().now();
    let action = if args.cancel {
        Action::CancelKeepAwake
    } else {
        let until = match (args.until, args.for_) {
            (Some(u), _) => parse_until(&u, now, &tz).map_err(CliError::Usage)?,
            (None, Some(seconds)) if seconds >= 60.0 => now + seconds,
            (None, Some(_)) => return Err(CliError::Usage("--for must be at least 1m".into())),
            (None, None) => return Err(CliError::Usage("give --until, --for or --cancel".into())),
        };
        Action::KeepAwake {
            until,
            by: who(args.by),
        }
    };
    act(
        &connection,
        &inventory,
        &args.env,
        &[action],
        None,
        global.json,
    )
    .await
}

pub async fn why(global: &GlobalArgs, env: &str) -> Result<(), CliError> {
    let connection = connect(global).await?;
    let inventory = connection.backend.inventory().await?;
    super::commands::check_inventory(global, &inventory)?;
    let e = super::commands::resolve(&inventory, env)?;
    let why = connection.backend.why(e).await?;
    if global.json {
        print_json(json!({"environment": e.key, "why": why, "blockers": why.blockers()}));
    } else {
        print!(
            "{}",
            why_text(e, &why, &TimeZone::try_system().unwrap_or(TimeZone::UTC))
        );
    }
    Ok(())
}

pub fn why_text(env: &Environment, why: &Why, tz: &TimeZone) -> String {
    let mut out = String::new();
    let section = |out: &mut String, title: &str, findings: &[Finding]| {
        if findings.is_empty() {
            return;
        }
        let _ = writeln!(out, "{title}:");
        for f in findings {
            let _ = match f {
                Finding::Blocks { what, fix } => {
                    writeln!(out, "  BLOCKS   {what}\n           -> {fix}")
                }
                Finding::Clear { what } => writeln!(out, "  ok       {what}"),
                Finding::Unknown { what, error } => writeln!(out, "  UNKNOWN  {what}: {error}"),
            };
        }
    };
    let _ = writeln!(
        out,
        "{}: {} blocker(s), read at {} without waking anything",
        env.key.name,
        why.blockers(),
        plan::iso(why.read_at)
    );
    if let Some(db) = &env.database {
        section(&mut out, &format!("database {}", db.id), &why.database);
    }
    if let Some(s) = &env.service {
        section(&mut out, &format!("service {}", s.name), &why.service);
    }
    if let Some(restart) = why.automatic_restart {
        let _ = writeln!(
            out,
            "{}AWS starts the stopped cluster by itself at {} ({}); `scale0 schedules {} --stop-after-restart` stops it again",
            if restart - why.read_at < 86400.0 {
                "WARNING: "
            } else {
                ""
            },
            plan::wall(restart, why.read_at, tz),
            plan::iso(restart),
            env.key.name
        );
    }
    out
}

pub async fn schedules(global: &GlobalArgs, args: SchedulesArgs) -> Result<(), CliError> {
    let window = match &args.awake {
        Some(awake) => Some(
            SleepWindow::parse(awake, &args.days, args.tz.as_deref().unwrap_or("UTC"))
                .map_err(CliError::Usage)?,
        ),
        None => None,
    };
    let connection = connect(global).await?;
    let backend = &connection.backend;
    let inventory = backend.inventory().await?;
    super::commands::check_inventory(global, &inventory)?;
    if let Some(owner) = &args.owner {
        return owners_window(global, backend, &inventory, owner, window.as_ref(), &args).await;
    }
    if (window.is_some() || args.remove) && args.env.is_none() {
        return Err(CliError::Usage(
            "name an environment (or --owner OWNER) to set or remove a sleep window".into(),
        ));
    }
    if let Some(name) = &args.env {
        let e = super::commands::resolve(&inventory, name)?;
        let report = if let Some(w) = &window {
            Some(backend.set_sleep_window(e, w, args.replace).await?)
        } else if args.remove {
            Some(backend.remove_sleep_window(e).await?)
        } else if args.stop_after_restart {
            Some(backend.stop_after_restart(e).await?)
        } else {
            None
        };
        if let Some(report) = report {
            let now = backend.clock().now();
            if global.json {
                print_json(
                    json!({"environment": e.key, "steps": report.steps, "left": report.left}),
                );
            } else {
                print!("{}", super::output::report(&report, Some(e), now));
            }
            return Ok(());
        }
    }
    let mut all: Vec<PlannedSchedule> = Vec::new();
    let mut regions: Vec<&str> = backend.regions().collect();
    if let Some(name) = &args.env {
        regions = vec![
            super::commands::resolve(&inventory, name)?
                .key
                .region
                .as_str(),
        ];
    }
    let wanted = match &args.env {
        Some(n) => Some(super::commands::resolve(&inventory, n)?.key.name.clone()),
        None => None,
    };
    for region in regions {
        all.extend(backend.schedules_in(region, wanted.as_deref()).await?);
    }
    let now = backend.clock().now();
    // For one environment: the month's forecast with this plan, from the last day's usage.
    let mut cost_line = None;
    if let Some(name) = &args.env {
        let e = super::commands::resolve(&inventory, name)?;
        let day = backend
            .metrics(&e.key.region, &[e], now - 86400.0, now, 3600)
            .await
            .ok()
            .and_then(|m| m.into_iter().next())
            .unwrap_or_default();
        let average =
            |s: &crate::model::MetricSeries| crate::model::cost::average_over(s, 3600.0, 86400.0);
        let cost =
            crate::model::cost::estimate(e, average(&day.active_instances), average(&day.capacity));
        let keep = plan::keep_awake(e).map(|k| k.until);
        let so_far = backend.month_so_far(e).await.map_err(|e| e.to_string());
        cost_line = Some(crate::model::plan_cost::line(
            &cost, &all, keep, &so_far, now,
        ));
    }
    if global.json {
        print_json(json!({"group": backend.schedule_group(), "schedules": all, "cost": cost_line}));
    } else {
        print!(
            "{}",
            schedules_text(&all, now, &TimeZone::try_system().unwrap_or(TimeZone::UTC))
        );
        if let Some(line) = cost_line {
            println!("{line}");
        }
    }
    Ok(())
}

/// The same sleep window set (or removed) on each of an owner's environments: one outcome
/// per environment; partial when some failed.
async fn owners_window(
    global: &GlobalArgs,
    backend: &crate::backend::aws::AwsBackend,
    inventory: &crate::backend::Inventory,
    owner: &str,
    window: Option<&SleepWindow>,
    args: &SchedulesArgs,
) -> Result<(), CliError> {
    if window.is_none() && !args.remove {
        return Err(CliError::Usage(
            "--owner sets (--awake) or removes (--remove) a window on each environment".into(),
        ));
    }
    let theirs: Vec<&crate::model::Environment> = inventory
        .environments
        .iter()
        .filter(|e| e.owner.as_deref() == Some(owner))
        .collect();
    if theirs.is_empty() {
        let mut owners: Vec<&str> = inventory
            .environments
            .iter()
            .filter_map(|e| e.owner.as_deref())
            .collect();
        owners.sort_unstable();
        owners.dedup();
        return Err(CliError::Usage(format!(
            "no environments owned by {owner:?} (owners: {})",
            owners.join(", ")
        )));
    }
    let mut outcomes = Vec::new();
    for e in &theirs {
        let result = match window {
            Some(w) => backend.set_sleep_window(e, w, args.replace).await,
            None => backend.remove_sleep_window(e).await,
        };
        outcomes.push((e.key.name.clone(), result));
    }
    let failed = outcomes.iter().filter(|(_, r)| r.is_err()).count();
    if global.json {
        let rows: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|(name, r)| match r {
                Ok(report) => json!({"environment": name, "outcome": "done", "steps": report.steps}),
                Err(e) => json!({"environment": name, "outcome": "failed", "error": e.to_string(), "kind": e.kind().label()}),
            })
            .collect();
        print_json(json!({"owner": owner, "environments": rows}));
    } else {
        let what = if window.is_some() {
            "window set"
        } else {
            "window removed"
        };
        for (name, r) in &outcomes {
            match r {
                Ok(report) => println!("{name:<12} {what} ({} step(s))", report.steps.len()),
                Err(e) => println!("{name:<12} FAILED: {e}"),
            }
        }
    }
    match failed {
        0 => Ok(()),
        n if n == outcomes.len() => match outcomes.into_iter().find_map(|(_, r)| r.err()) {
            Some(e) => Err(CliError::Backend(e)),
            None => Ok(()),
        },
        n => Err(CliError::Outcome {
            code: super::exit::PARTIAL,
            message: format!("{n} of {} of {owner}'s environments failed", outcomes.len()),
        }),
    }
}

pub fn schedules_text(all: &[PlannedSchedule], now: Time, tz: &TimeZone) -> String {
    if all.is_empty() {
        return "no schedules (scale0 keep-awake ENV --for 2h, scale0 schedules ENV --awake 08:00-19:00 --tz Europe/Berlin)\n".into();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:<30} {:<30} {:<26} NEXT",
        "ENV", "SCHEDULE", "WHEN", "ACTION"
    );
    for s in all {
        let next = match (s.enabled, s.next) {
            (false, _) => "disabled".to_string(),
            (true, Some(t)) => format!(
                "{} (in {})",
                plan::wall(t, now, tz),
                crate::model::human_duration(t - now)
            ),
            (true, None) => "never again".into(),
        };
        let when = if s.timezone == "UTC" {
            s.expression.clone()
        } else {
            format!("{} {}", s.expression, s.timezone)
        };
        let _ = writeln!(
            out,
            "{:<12} {:<30} {:<30} {:<26} {next}",
            s.env, s.name, when, s.action
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_is_read_in_the_zone_and_the_past_is_refused() {
        let berlin = zone("Europe/Berlin").unwrap();
        // 2026-11-23T10:00:00Z is 11:00 in Berlin.
        let now = 1_795_428_000.0;
        assert_eq!(parse_until("17:30", now, &berlin), Ok(now + 6.5 * 3600.0));
        assert_eq!(
            parse_until("2026-11-24T08:00", now, &berlin),
            Ok(now + 21.0 * 3600.0)
        );
        let past = parse_until("09:00", now, &berlin).unwrap_err();
        assert!(past.contains("in the past"), "{past}");
        assert!(parse_until("half past five", now, &berlin).is_err());
    }
}
