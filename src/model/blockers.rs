//! "Why isn't it sleeping?": what keeps a database from auto-pausing, or a service from
//! being paused, as far as can be seen without waking either (reference/aws.md 6.2).
//! Each check ends as a blocker with what to do, clear, or unknown with the error.

use super::plan::KeepAwake;
use super::{DbMode, EnvKey, Environment, Power, ServiceStatus, Time};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Finding {
    Blocks { what: String, fix: String },
    Clear { what: String },
    Unknown { what: String, error: String },
}

impl Finding {
    pub fn blocks(what: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding::Blocks {
            what: what.into(),
            fix: fix.into(),
        }
    }

    pub fn clear(what: impl Into<String>) -> Finding {
        Finding::Clear { what: what.into() }
    }

    pub fn is_blocker(&self) -> bool {
        matches!(self, Finding::Blocks { .. })
    }
}

/// Everything `scale0 why` says about one environment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Why {
    pub env: EnvKey,
    /// The server's time the checks were made at.
    pub read_at: Time,
    pub database: Vec<Finding>,
    pub service: Vec<Finding>,
    /// A stopped cluster's automatic start (AWS starts it after 7 days).
    pub automatic_restart: Option<Time>,
}

impl Why {
    pub fn blockers(&self) -> usize {
        self.database
            .iter()
            .chain(&self.service)
            .filter(|f| f.is_blocker())
            .count()
    }
}

/// The lowest Aurora PostgreSQL minor of each major that can auto-pause.
const AUTO_PAUSE_MINIMUM: [(u32, u32); 4] = [(16, 3), (15, 7), (14, 12), (13, 15)];

/// Whether an Aurora PostgreSQL version can auto-pause (16.3, 15.7, 14.12, 13.15 or later).
pub fn engine_can_auto_pause(version: &str) -> Option<bool> {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    if major > 16 {
        return Some(true);
    }
    let (_, least) = AUTO_PAUSE_MINIMUM.iter().find(|(m, _)| *m == major)?;
    Some(minor >= *least)
}

/// Seconds Aurora holds a writer awake after an administrative wake.
pub const ADMIN_WAKE_HOLD: f64 = 20.0 * 60.0;

/// The checks that need nothing beyond the inventory: MinCapacity, open connections, a
/// provisioned writer, the engine version, a keep-awake, the 20-minute hold after a
/// wake (`last_resume`: the last resume event, from RDS events).
pub fn database_findings(
    env: &Environment,
    now: Time,
    keep: Option<&KeepAwake>,
    last_resume: Option<Time>,
) -> Vec<Finding> {
    let Some(db) = &env.database else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match &db.mode {
        DbMode::ServerlessV2 { min_acu, .. } if *min_acu > 0.0 => out.push(Finding::blocks(
            format!("MinCapacity is {min_acu} ACU; auto-pause needs 0"),
            format!("set MinCapacity to 0 (aws rds modify-db-cluster --db-cluster-identifier {} --serverless-v2-scaling-configuration MinCapacity=0,MaxCapacity=...)", db.id),
        )),
        DbMode::ServerlessV2 { .. } => out.push(Finding::clear("MinCapacity is 0")),
        DbMode::ServerlessV1 { auto_pause: false, .. } => out.push(Finding::blocks(
            "AutoPause is off in the v1 scaling configuration",
            "turn AutoPause on (aws rds modify-db-cluster --scaling-configuration AutoPause=true,...)",
        )),
        DbMode::ServerlessV1 { .. } => out.push(Finding::clear("AutoPause is on (v1)")),
        DbMode::Provisioned { instance_class } => out.push(Finding::blocks(
            format!("the writer is a provisioned {instance_class} instance, which never pauses"),
            "switch the writer to db.serverless with MinCapacity 0, or stop the cluster when idle (scale0 stop-db)",
        )),
    }
    match engine_can_auto_pause(&db.engine_version) {
        Some(true) => out.push(Finding::clear(format!(
            "engine {} supports auto-pause",
            db.engine_version
        ))),
        Some(false) if !matches!(db.mode, DbMode::ServerlessV1 { .. }) => {
            out.push(Finding::blocks(
                format!(
                    "engine {} is below the auto-pause minimum (16.3, 15.7, 14.12, 13.15)",
                    db.engine_version
                ),
                "upgrade the minor version (aws rds modify-db-cluster --engine-version ...)",
            ))
        }
        _ => {}
    }
    match (db.power.clone(), db.connections) {
        (Power::Awake, Some(n)) if n > 0.0 => out.push(Finding::blocks(
            format!("{n:.0} open connection(s) (DatabaseConnections)"),
            "close idle sessions: an ORM pool or CONN_MAX_AGE, a forgotten psql; set idle_session_timeout",
        )),
        (Power::Awake, Some(_)) => out.push(Finding::clear("no open connections")),
        (Power::Awake, None) => out.push(Finding::Unknown {
            what: "open connections".into(),
            error: "no DatabaseConnections data in the last minutes".into(),
        }),
        _ => {}
    }
    if let Some(k) = keep {
        if k.until > now {
            out.push(Finding::blocks(
                format!("kept awake by {} until {}", k.by, super::plan::iso(k.until)),
                "wait for it, or end it now (scale0 keep-awake ENV --cancel)",
            ));
        } else {
            out.push(Finding::blocks(
                format!("a keep-awake by {} ended at {} but its tags remain: its restore may have failed", k.by, super::plan::iso(k.until)),
                "end it explicitly (scale0 keep-awake ENV --cancel)",
            ));
        }
    }
    if let Some(t) = last_resume.filter(|t| now - t < ADMIN_WAKE_HOLD) {
        out.push(Finding::blocks(
            format!("it resumed {} ago: after an administrative wake Aurora waits at least 20 minutes before pausing", super::human_duration(now - t)),
            format!("nothing to do: wait until {}", super::plan::iso(t + ADMIN_WAKE_HOLD)),
        ));
    }
    out
}

/// Why a service that should be paused is not: a keep-awake, or a sleep schedule that
/// should have (`sleep_label`: the environment's sleep window, if it has one).
pub fn service_findings(
    env: &Environment,
    now: Time,
    keep: Option<&KeepAwake>,
    sleep_label: Option<&str>,
) -> Vec<Finding> {
    let Some(s) = &env.service else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if s.status == ServiceStatus::Paused {
        out.push(Finding::clear(format!("{} is paused", s.name)));
        return out;
    }
    if let Some(k) = keep.filter(|k| k.until > now) {
        out.push(Finding::blocks(
            format!("kept awake by {} until {}", k.by, super::plan::iso(k.until)),
            "wait for it, or end it now (scale0 keep-awake ENV --cancel)",
        ));
    }
    match sleep_label {
        Some(label) => out.push(Finding::clear(format!("sleep schedule: {label}"))),
        None => out.push(Finding::blocks(
            format!("{} runs until someone pauses it: it has no sleep schedule", s.name),
            "add one (scale0 schedules add ENV --awake 08:00-19:00 --days MON-FRI --tz Europe/Berlin) or pause it (scale0 pause ENV)",
        )),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_pause_minimum_versions() {
        assert_eq!(engine_can_auto_pause("16.3"), Some(true));
        assert_eq!(engine_can_auto_pause("16.2"), Some(false));
        assert_eq!(engine_can_auto_pause("15.7"), Some(true));
        assert_eq!(engine_can_auto_pause("15.4"), Some(false));
        assert_eq!(engine_can_auto_pause("14.12"), Some(true));
        assert_eq!(engine_can_auto_pause("13.9"), Some(false));
        assert_eq!(engine_can_auto_pause("17.1"), Some(true));
        assert_eq!(engine_can_auto_pause("11.9"), None);
        assert_eq!(engine_can_auto_pause("garbage"), None);
    }
}
