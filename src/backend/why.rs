//! `scale0 why ENV`: what keeps the database awake and the service running, read only
//! through describe calls that never wake a paused database (no log-file reads, no Data
//! API, no connection). A check that fails is reported as unknown with its error.

use super::BackendError;
use super::aws::{AwsBackend, RegionClients};
use crate::model::blockers::{self, Finding, Why};
use crate::model::plan::{self, SleepWindow};
use crate::model::{DatabaseState, Environment};

impl AwsBackend {
    /// Why and the schedules at once, each part with its own outcome (the desktop app's
    /// sleep panel).
    pub async fn plan(&self, env: &Environment) -> crate::model::plan::PlanRead {
        let schedules = async {
            let r = self.region_for(&env.key)?;
            self.schedules_at(r, Some(&env.key.name)).await
        };
        let (why, schedules, month_so_far) =
            tokio::join!(self.why(env), schedules, self.month_so_far(env));
        crate::model::plan::PlanRead {
            read_at: self.clock.now(),
            why: why.map_err(|e| e.to_string()),
            schedules: schedules.map_err(|e| e.to_string()),
            month_so_far: month_so_far.map_err(|e| e.to_string()),
        }
    }

    /// Dollars spent since the month began (UTC), from hourly metrics (one GetMetricData).
    pub async fn month_so_far(&self, env: &Environment) -> Result<f64, BackendError> {
        let now = self.clock.now();
        let start = crate::model::plan_cost::month_start(now);
        if now - start < 60.0 {
            return Ok(0.0);
        }
        let key = env.key.to_string();
        let cache = || {
            self.month_so_far
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((at, dollars)) = cache().get(&key).copied()
            && now - at < 600.0
            && at >= start
        {
            return Ok(dollars);
        }
        let hourly = self
            .metrics(&env.key.region, &[env], start, now, 3600)
            .await?
            .pop()
            .unwrap_or_default();
        let dollars = crate::model::cost::spent(env, &hourly, start, now);
        cache().insert(key, (now, dollars));
        Ok(dollars)
    }

    pub async fn why(&self, env: &Environment) -> Result<Why, BackendError> {
        let r = self.region_for(&env.key)?;
        let now = self.clock.now();
        let keep = plan::keep_awake(env);
        let mut database = Vec::new();
        if let Some(db) = &env.database {
            let last_resume = self
                .recent_rds_events(r, blockers::ADMIN_WAKE_HOLD)
                .await
                .ok()
                .and_then(|events| {
                    events
                        .iter()
                        .filter(|e| e.source == db.id || db.writer_id.as_deref() == Some(&e.source))
                        .filter(|e| e.message.contains("resumed"))
                        .map(|e| e.time)
                        .reduce(f64::max)
                });
            if db.status == "stopped" {
                database.push(Finding::clear(format!("{} is stopped", db.id)));
            } else {
                database = blockers::database_findings(env, now, keep.as_ref(), last_resume);
                let (proxy, params, global, zero_etl) = tokio::join!(
                    self.proxy_finding(r, db),
                    self.replication_finding(r, db),
                    self.global_finding(r, db),
                    self.zero_etl_finding(r, db),
                );
                database.extend([proxy, params, global, zero_etl]);
            }
        }
        let sleep = match self
            .schedules_at(self.region_for(&env.key)?, Some(&env.key.name))
            .await
        {
            Ok(list) => {
                let find = |kind: &str| {
                    list.iter()
                        .find(|s| s.kind == kind && s.part == "service")
                        .map(|s| (s.expression.clone(), s.timezone.clone()))
                };
                find("wake")
                    .zip(find("sleep"))
                    .and_then(|((w, tz), (s, _))| {
                        SleepWindow::from_crons(&w, &s, &tz).map(|w| w.label())
                    })
            }
            Err(e) => {
                tracing::debug!(error = %e, "schedules unreadable for why");
                None
            }
        };
        let service = blockers::service_findings(env, now, keep.as_ref(), sleep.as_deref());
        Ok(Why {
            env: env.key.clone(),
            read_at: now,
            database,
            service,
            automatic_restart: env.database.as_ref().and_then(|d| d.automatic_restart_time),
        })
    }

    async fn proxy_finding(&self, r: &RegionClients, db: &DatabaseState) -> Finding {
        let what = "RDS Proxy";
        let proxies = match r.rds.describe_db_proxies().send().await {
            Ok(p) => p,
            Err(e) => return unknown(what, self.err("listing RDS Proxies", e)),
        };
        for p in proxies.db_proxies() {
            let Some(name) = p.db_proxy_name() else {
                continue;
            };
            match r
                .rds
                .describe_db_proxy_targets()
                .db_proxy_name(name)
                .send()
                .await
            {
                Ok(t)
                    if t.targets()
                        .iter()
                        .any(|t| t.rds_resource_id() == Some(&db.id)) =>
                {
                    return Finding::blocks(
                        format!("RDS Proxy {name} is in front of it and keeps a connection open"),
                        format!(
                            "connect directly and delete the proxy (aws rds delete-db-proxy --db-proxy-name {name})"
                        ),
                    );
                }
                Ok(_) => {}
                Err(e) => return unknown(what, self.err("reading a proxy's targets", e)),
            }
        }
        Finding::clear("no RDS Proxy in front of it")
    }

    async fn replication_finding(&self, r: &RegionClients, db: &DatabaseState) -> Finding {
        let what = "logical replication";
        let cluster = match r
            .rds
            .describe_db_clusters()
            .db_cluster_identifier(&db.id)
            .send()
            .await
        {
            Ok(c) => c,
            Err(e) => return unknown(what, self.err("describing the cluster", e)),
        };
        let Some(group) = cluster
            .db_clusters()
            .first()
            .and_then(|c| c.db_cluster_parameter_group())
        else {
            return unknown(
                what,
                BackendError::Other("the cluster names no parameter group".into()),
            );
        };
        let mut pages = r
            .rds
            .describe_db_cluster_parameters()
            .db_cluster_parameter_group_name(group)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => return unknown(what, self.err("reading cluster parameters", e)),
            };
            let on = page.parameters().iter().any(|p| {
                p.parameter_name() == Some("rds.logical_replication")
                    && p.parameter_value() == Some("1")
            });
            if on {
                return Finding::blocks(
                    format!("logical replication is on (rds.logical_replication = 1 in {group})"),
                    "turn it off in the cluster parameter group if nothing replicates from it (needs a reboot)",
                );
            }
        }
        Finding::clear("logical replication is off")
    }

    pub(super) async fn global_finding(&self, r: &RegionClients, db: &DatabaseState) -> Finding {
        match r.rds.describe_global_clusters().send().await {
            Ok(g) => match g.global_clusters().iter().find(|g| {
                g.global_cluster_members()
                    .iter()
                    .any(|m| m.db_cluster_arn() == Some(&db.arn))
            }) {
                Some(g) => Finding::blocks(
                    format!(
                        "it is a member of global database {}",
                        g.global_cluster_identifier().unwrap_or("?")
                    ),
                    "a global database's clusters never auto-pause (nor can they be stopped); remove it from the global database",
                ),
                None => Finding::clear("not part of a global database"),
            },
            Err(e) => unknown("global database", self.err("listing global databases", e)),
        }
    }

    async fn zero_etl_finding(&self, r: &RegionClients, db: &DatabaseState) -> Finding {
        match r.rds.describe_integrations().send().await {
            Ok(i) => match i
                .integrations()
                .iter()
                .find(|i| i.source_arn() == Some(&db.arn))
            {
                Some(i) => Finding::blocks(
                    format!(
                        "zero-ETL integration {} reads from it",
                        i.integration_name().unwrap_or("?")
                    ),
                    "a zero-ETL source never auto-pauses; delete the integration if it is not needed",
                ),
                None => Finding::clear("no zero-ETL integration"),
            },
            Err(e) => unknown("zero-ETL integrations", self.err("listing integrations", e)),
        }
    }
}

fn unknown(what: &str, e: BackendError) -> Finding {
    Finding::Unknown {
        what: what.into(),
        error: e.to_string(),
    }
}
