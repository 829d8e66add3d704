//! Human-readable output: tables and summaries.

use crate::backend::ActionReport;
use crate::emulator::shapes::iso8601;
use crate::model::cost::Cost;
use crate::model::diagnose::ConnectionBudget;
use crate::model::{Environment, Event, Image, Part, Power, Time, human_duration, short_digest};
use std::fmt::Write;

/// Pads cells to the widest in each column.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<w$}  ", w = widths[i]);
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

fn when(t: Time) -> String {
    iso8601(t).replace('T', " ").replace(".000Z", "Z")
}

pub fn envs_table(envs: &[Environment], now: Time) -> String {
    if envs.is_empty() {
        return "no environments found\n".into();
    }
    // With several accounts, each row says whose it is.
    let accounts = envs.iter().any(|e| !e.key.account.is_empty());
    let rows: Vec<Vec<String>> = envs
        .iter()
        .map(|e| {
            let mut row = vec![
                e.key.name.clone(),
                e.owner.clone().unwrap_or_else(|| "-".into()),
                e.key.region.clone(),
                e.service.as_ref().map_or("-", |s| s.kind_label).to_string(),
                e.phrase(Part::Service, now),
                e.phrase(Part::Database, now),
                e.phrase(Part::Image, now),
                format!("{:?}", e.discovery).to_ascii_lowercase(),
                crate::model::plan::keep_awake_phrase(e, now),
            ];
            if accounts {
                row.insert(1, e.key.account.clone());
            }
            row
        })
        .collect();
    let mut header = vec![
        "ENV", "OWNER", "REGION", "KIND", "APP", "DATABASE", "IMAGE", "FOUND BY", "PLAN",
    ];
    if accounts {
        header.insert(1, "ACCOUNT");
    }
    table(&header, &rows)
}

pub fn status(
    e: &Environment,
    now: Time,
    cost: &Cost,
    budget: Option<&ConnectionBudget>,
    blockers: &[String],
) -> String {
    let mut o = String::new();
    let place = match e.key.account.as_str() {
        "" => e.key.region.clone(),
        account => format!("{account}, {}", e.key.region),
    };
    let _ = writeln!(
        o,
        "{} ({place}), owner {}",
        e.key.name,
        e.owner.as_deref().unwrap_or("-")
    );
    let _ = writeln!(o, "  {}", e.summary(now));
    if let Some(s) = &e.service {
        let _ = writeln!(
            o,
            "service  {} ({}) {}",
            s.name,
            s.kind_label,
            s.status_label()
        );
        if let Some(warning) = &s.facts.warning {
            let _ = writeln!(o, "  WARNING        {warning}");
        }
        if let Some(url) = s.http_url() {
            let _ = writeln!(o, "  url            {url}");
        }
        if let Some(op) = &s.operation {
            let since = op
                .started_at
                .map(|t| format!(" for {}", human_duration(now - t)))
                .unwrap_or_default();
            let _ = writeln!(o, "  operation      {} {}{since}", op.kind, op.status);
        }
        let _ = writeln!(
            o,
            "  instances      {} active, {} provisioned",
            s.active_instances.unwrap_or(0.0),
            s.provisioned_instances()
        );
        match &s.scaling {
            Some(sc) if sc.max_concurrency > 0 => {
                let _ = writeln!(
                    o,
                    "  scaling        MaxConcurrency {}, MinSize {}, MaxSize {}",
                    sc.max_concurrency, sc.min_size, sc.max_size
                );
            }
            Some(sc) => {
                let _ = writeln!(
                    o,
                    "  scaling        {} to {} tasks, target tracking",
                    sc.min_size, sc.max_size
                );
            }
            None => {}
        }
        if let Some(difference) = s.facts.difference {
            let _ = writeln!(o, "  note           {difference}");
        }
        let _ = writeln!(o, "  size           {} vCPU, {} GB", s.vcpu, s.memory_gb);
    }
    if let Some(db) = &e.database {
        let _ = writeln!(
            o,
            "database {} {} ({}, aurora-postgresql {})",
            db.id,
            db.status,
            db.mode.label(),
            db.engine_version
        );
        let power = match &db.power {
            Power::Paused { since: Some(t) } => format!("paused for {}", human_duration(now - t)),
            Power::Paused { since: None } => "paused".into(),
            Power::Resuming { .. } => "resuming".into(),
            Power::Awake => "awake".into(),
            Power::Stopped => match db.automatic_restart_time {
                // A day ahead, warn and offer the stop-again schedule.
                Some(t) if t - now < 86400.0 => format!(
                    "stopped; WARNING: AWS starts it again at {} (in {}); `scale0 schedules {} --stop-after-restart` stops it again",
                    when(t),
                    human_duration(t - now),
                    e.key.name
                ),
                Some(t) => format!("stopped; AWS starts it again at {}", when(t)),
                None => "stopped".into(),
            },
            Power::Transitioning => db.status.clone(),
            Power::Unknown => "unknown".into(),
        };
        let _ = writeln!(o, "  state          {power}");
        if let Some(c) = db.capacity {
            let _ = writeln!(
                o,
                "  capacity       {c} ACU (max {})",
                db.mode
                    .max_acu()
                    .map(|m| m.to_string())
                    .unwrap_or("-".into())
            );
        }
        if let Some(c) = db.connections {
            let _ = writeln!(o, "  connections    {c} of {}", db.max_connections_label());
        }
        if let Some(t) = db.auto_pause_at {
            let _ = writeln!(
                o,
                "  auto-pause     in {} if nothing connects",
                human_duration(t - now)
            );
        }
        let _ = writeln!(
            o,
            "  data api       {}",
            if db.http_endpoint_enabled && db.secret_arn.is_some() {
                "enabled (wake uses SELECT 1)"
            } else {
                "not available"
            }
        );
    }
    if let Some(i) = &e.image {
        let _ = writeln!(
            o,
            "image    {}:{} {} pushed {}",
            i.repository,
            i.tag.as_deref().unwrap_or("-"),
            i.digest.as_deref().map(short_digest).unwrap_or_default(),
            i.pushed_at.map(when).unwrap_or_else(|| "?".into())
        );
        if i.newer_waiting {
            let _ = writeln!(
                o,
                "  a newer image was pushed to :{} after the last deployment",
                i.tag.as_deref().unwrap_or("")
            );
        }
    }
    if let Some(b) = budget {
        let verdict = if b.over_budget {
            "OVER BUDGET: under load the database runs out of connections (HTTP 500s)"
        } else {
            "fits"
        };
        let _ = writeln!(
            o,
            "budget   up to {} concurrent requests (MaxSize x MaxConcurrency) vs {} max_connections: {verdict}",
            b.peak_requests, b.max_connections
        );
    }
    for b in blockers {
        let _ = writeln!(o, "no pause {b}");
    }
    let _ = writeln!(
        o,
        "cost     ${:.3}/h now, ${:.2}/month at the last day's usage, ${:.2}/month saved by pausing",
        cost.per_hour_now,
        cost.per_month_at_recent_usage,
        cost.saved_per_month()
    );
    o
}

pub fn events(events: &[Event]) -> String {
    if events.is_empty() {
        return "no events in that window\n".into();
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| vec![when(e.time), e.source.to_string(), e.message.clone()])
        .collect();
    table(&["TIME", "SOURCE", "EVENT"], &rows)
}

pub fn images(repository: &str, images: &[Image], deployed: Option<&str>) -> String {
    let rows: Vec<Vec<String>> = images
        .iter()
        .map(|i| {
            vec![
                if i.tags.is_empty() {
                    "<untagged>".into()
                } else {
                    i.tags.join(",")
                },
                short_digest(&i.digest),
                i.pushed_at.map(when).unwrap_or_default(),
                i.size_bytes
                    .map(|b| format!("{:.1} MB", b as f64 / 1e6))
                    .unwrap_or_default(),
                if Some(i.digest.as_str()) == deployed {
                    "configured".into()
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    format!(
        "repository {repository}\n{}",
        table(&["TAGS", "DIGEST", "PUSHED", "SIZE", ""], &rows)
    )
}

pub fn report(r: &ActionReport, after: Option<&Environment>, now: Time) -> String {
    use crate::backend::Outcome;
    let mut o = String::new();
    if r.parts.is_empty() {
        for s in &r.steps {
            let _ = writeln!(o, "done  {} ({:.1} s)", s.what, s.seconds);
        }
    } else {
        // Each part once, with what became of it: never "done" for one that is not.
        for s in &r.steps {
            let _ = writeln!(o, "step  {} ({:.1} s)", s.what, s.seconds);
        }
        for p in &r.parts {
            let word = match p.outcome {
                Outcome::Done => "done   ",
                Outcome::AlreadyDone => "already",
                Outcome::Pending => "pending",
                Outcome::Failed => "FAILED ",
                Outcome::TimedOut => "TIMEOUT",
                Outcome::Unknown => "UNKNOWN",
            };
            let _ = writeln!(o, "{word} {}: {}", p.part, p.detail);
        }
    }
    for l in &r.left {
        let _ = writeln!(o, "next  {l}");
    }
    if let Some(e) = after {
        let _ = writeln!(o, "now   {}", e.summary(now));
    }
    o
}
