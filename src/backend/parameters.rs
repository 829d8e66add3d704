//! Cluster parameter groups: the max_connections a team set in its own group, so the
//! graphs' limit line and the connection budget show the number PostgreSQL enforces.
//! Default groups cannot be changed, so only custom groups cost a call, and each group
//! is read at most every 10 minutes (it changes with a reboot, not by the minute).

use super::BackendError;
use super::aws::{AwsBackend, RegionClients};
use crate::model::{Environment, ParameterSetting, Time};
use std::collections::HashMap;
use std::sync::PoisonError;

/// How long a group's parameters are reused.
const REUSE_SECONDS: f64 = 600.0;

/// A group's max_connections: set to a number, or left to the default rule.
pub(super) type GroupRead = Result<Option<u32>, String>;

impl AwsBackend {
    /// Fills in `max_connections_setting` for every database in a custom group; returns
    /// the reads that failed (their groups stay unknown, with the error).
    pub(super) async fn apply_cluster_parameters(
        &self,
        r: &RegionClients,
        environments: &mut [Environment],
        now: Time,
    ) -> Vec<BackendError> {
        let mut groups: Vec<String> = environments
            .iter()
            .filter_map(|e| match &e.database.as_ref()?.max_connections_setting {
                ParameterSetting::Unknown { group, .. } => Some(group.clone()),
                _ => None,
            })
            .collect();
        groups.sort();
        groups.dedup();
        if groups.is_empty() {
            return Vec::new();
        }
        let key = |g: &str| format!("{}/{g}", r.region);
        let mut known: HashMap<String, GroupRead> = {
            let cache = self
                .parameter_groups
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            groups
                .iter()
                .filter_map(|g| {
                    let (at, read) = cache.get(&key(g))?;
                    (now - at < REUSE_SECONDS).then(|| (g.clone(), read.clone()))
                })
                .collect()
        };
        let to_read: Vec<&String> = groups.iter().filter(|g| !known.contains_key(*g)).collect();
        let reads =
            futures_util::future::join_all(to_read.iter().map(|g| self.read_group(r, g))).await;
        let mut failed = Vec::new();
        {
            let mut cache = self
                .parameter_groups
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for (g, read) in to_read.into_iter().zip(reads) {
                let read = read.map_err(|e| {
                    let message = e.to_string();
                    failed.push(e);
                    message
                });
                // Failures are retried at the next refresh, not cached.
                if read.is_ok() {
                    cache.insert(key(g), (now, read.clone()));
                }
                known.insert(g.clone(), read);
            }
        }
        for db in environments.iter_mut().filter_map(|e| e.database.as_mut()) {
            let ParameterSetting::Unknown { group, .. } = &db.max_connections_setting else {
                continue;
            };
            db.max_connections_setting = match known.get(group) {
                Some(Ok(Some(value))) => ParameterSetting::Set {
                    value: *value,
                    group: group.clone(),
                },
                Some(Ok(None)) => ParameterSetting::Default,
                Some(Err(e)) => ParameterSetting::Unknown {
                    group: group.clone(),
                    error: Some(e.clone()),
                },
                None => continue,
            };
        }
        failed
    }

    /// The user-set max_connections of one group, if it is a plain number (a formula such
    /// as AWS's default `LEAST({DBInstanceClassMemory/9531392},5000)` is the default rule).
    async fn read_group(
        &self,
        r: &RegionClients,
        group: &str,
    ) -> Result<Option<u32>, BackendError> {
        let mut pages = r
            .rds
            .describe_db_cluster_parameters()
            .db_cluster_parameter_group_name(group)
            .source("user")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err("reading a cluster parameter group", e))?;
            if let Some(p) = page
                .parameters()
                .iter()
                .find(|p| p.parameter_name() == Some("max_connections"))
            {
                return Ok(p.parameter_value().and_then(|v| v.trim().parse().ok()));
            }
        }
        Ok(None)
    }
}
