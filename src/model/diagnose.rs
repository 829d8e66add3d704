//! Diagnostics a user would otherwise work out by hand: the connection budget (the seed's
//! own failure) and what keeps a database from auto-pausing.

use super::{DbMode, Environment, Power};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConnectionBudget {
    /// MaxSize x MaxConcurrency: the requests the service may run at once, each of which
    /// can hold a connection under a thread-per-request server.
    pub peak_requests: u32,
    pub max_connections: u32,
    pub over_budget: bool,
}

pub fn connection_budget(env: &Environment) -> Option<ConnectionBudget> {
    let scaling = env.service.as_ref()?.scaling.as_ref()?;
    // Without a concurrency limit there is no peak to compare with (ECS Express).
    if scaling.max_concurrency == 0 {
        return None;
    }
    let db = env.database.as_ref()?;
    let peak_requests = scaling.max_size * scaling.max_concurrency;
    // PostgreSQL keeps 3 connections for superusers.
    let max_connections = db.max_connections();
    Some(ConnectionBudget {
        peak_requests,
        max_connections,
        over_budget: peak_requests > max_connections.saturating_sub(3),
    })
}

/// Why the database will not auto-pause, in words; empty when nothing blocks it.
pub fn pause_blockers(env: &Environment) -> Vec<String> {
    let Some(db) = &env.database else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match &db.mode {
        DbMode::ServerlessV2 { min_acu, .. } if *min_acu > 0.0 => out.push(format!(
            "MinCapacity is {min_acu} ACU; auto-pause needs MinCapacity 0"
        )),
        DbMode::ServerlessV1 {
            auto_pause: false, ..
        } => out.push("AutoPause is off in the v1 scaling configuration".into()),
        DbMode::Provisioned { instance_class } => out.push(format!(
            "the writer is a provisioned {instance_class} instance, which never pauses"
        )),
        _ => {}
    }
    if matches!(db.power, Power::Awake)
        && let Some(n) = db.connections.filter(|n| *n > 0.0)
    {
        out.push(format!(
            "{n:.0} open connection(s) keep it awake (an ORM pool, CONN_MAX_AGE or an idle psql session)"
        ));
    }
    out
}
