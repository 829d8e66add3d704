//! Aurora PostgreSQL, the database side: listing clusters and their writers, reading the
//! pause/resume events, waking (Data API, v1 capacity, start), stopping and starting.

use super::aws::{AwsBackend, RegionClients};
use super::convert;
use super::live_state::RdsEvent;
use super::{ActionReport, BackendError, Step};
use crate::model::{DatabaseState, DbMode, Environment, Power, ServiceStatus, Time};
use aws_smithy_types::DateTime;
use std::collections::HashMap;

impl AwsBackend {
    #[allow(clippy::type_complexity)]
    pub(super) async fn list_clusters(
        &self,
        r: &RegionClients,
    ) -> Result<
        (
            Vec<aws_sdk_rds::types::DbCluster>,
            HashMap<String, aws_sdk_rds::types::DbInstance>,
        ),
        BackendError,
    > {
        // Clusters and instances are read at once: one round trip, not two.
        let clusters = async {
            let mut clusters = Vec::new();
            let mut pages = r.rds.describe_db_clusters().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.err("listing Aurora clusters", e))?;
                clusters.extend(
                    page.db_clusters()
                        .iter()
                        .filter(|c| c.engine().is_none_or(|e| e.starts_with("aurora")))
                        .cloned(),
                );
            }
            Ok::<_, BackendError>(clusters)
        };
        let writers = async {
            let mut writers = HashMap::new();
            let mut pages = r.rds.describe_db_instances().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.err("listing DB instances", e))?;
                for i in page.db_instances() {
                    if let Some(id) = i.db_instance_identifier() {
                        writers.insert(id.to_string(), i.clone());
                    }
                }
            }
            Ok::<_, BackendError>(writers)
        };
        let (clusters, writers) = tokio::join!(clusters, writers);
        let (clusters, writers) = (clusters?, writers?);
        Ok((clusters, writers))
    }

    /// RDS events of the last `seconds` (at most 14 days), both clusters and instances.
    pub(super) async fn recent_rds_events(
        &self,
        r: &RegionClients,
        seconds: f64,
    ) -> Result<Vec<RdsEvent>, BackendError> {
        let now = self.clock.now();
        let start = now - seconds.min(14.0 * 86400.0);
        // Cluster and instance events at once: one round trip, not two.
        let read = |source_type: aws_sdk_rds::types::SourceType| async move {
            let mut out = Vec::new();
            let mut pages = r
                .rds
                .describe_events()
                .source_type(source_type)
                .start_time(DateTime::from_secs_f64(start))
                .end_time(DateTime::from_secs_f64(now + 60.0))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.err("reading RDS events", e))?;
                out.extend(page.events().iter().map(|e| RdsEvent {
                    source: e.source_identifier().unwrap_or_default().to_string(),
                    time: convert::time(e.date()).unwrap_or(0.0),
                    message: e.message().unwrap_or_default().to_string(),
                }));
            }
            Ok::<_, BackendError>(out)
        };
        let (clusters, instances) = tokio::join!(
            read(aws_sdk_rds::types::SourceType::DbCluster),
            read(aws_sdk_rds::types::SourceType::DbInstance)
        );
        let mut out = clusters?;
        out.extend(instances?);
        out.sort_by(|a, b| a.time.total_cmp(&b.time));
        Ok(out)
    }

    pub(super) async fn wake_database(
        &self,
        r: &RegionClients,
        env: &Environment,
        db: &DatabaseState,
        deadline: Time,
        report: &mut ActionReport,
    ) -> Result<(), BackendError> {
        let t = self.waits.now();
        match (&db.power, db.status.as_str()) {
            (_, "stopping") => {
                return Err(BackendError::Refused(format!(
                    "{} is stopping; start it again once it is stopped",
                    db.id
                )));
            }
            (Power::Stopped, _) | (_, "stopped") => {
                r.rds
                    .start_db_cluster()
                    .db_cluster_identifier(&db.id)
                    .send()
                    .await
                    .map_err(|e| self.err("starting the cluster", e))?;
                report.steps.push(Step {
                    what: format!("started cluster {}", db.id),
                    seconds: self.waits.now() - t,
                });
                report
                    .left
                    .push("starting a stopped cluster takes several minutes".into());
                return Ok(());
            }
            (Power::Awake, _) => {
                report.steps.push(Step {
                    what: format!("database {} is already awake", db.id),
                    seconds: 0.0,
                });
                return Ok(());
            }
            _ => {}
        }
        if let DbMode::ServerlessV1 { min_acu, .. } = db.mode {
            r.rds
                .modify_current_db_cluster_capacity()
                .db_cluster_identifier(&db.id)
                .capacity(min_acu as i32)
                .send()
                .await
                .map_err(|e| self.err("resuming the v1 cluster", e))?;
            report.steps.push(Step {
                what: format!("asked {} (v1) to resume at {min_acu} ACU", db.id),
                seconds: self.waits.now() - t,
            });
            report
                .left
                .push("a v1 cluster takes about 30 s to resume".into());
            return Ok(());
        }
        match (&db.secret_arn, db.http_endpoint_enabled) {
            (Some(secret), true) => {
                // SELECT 1 through the Data API; the first calls are cancelled while the
                // writer resumes.
                loop {
                    let result = r
                        .rdsdata
                        .execute_statement()
                        .resource_arn(&db.arn)
                        .secret_arn(secret)
                        .sql("SELECT 1")
                        .send()
                        .await;
                    match result {
                        Ok(_) => break,
                        Err(e)
                            if e.as_service_error()
                                .is_some_and(|se| se.is_database_resuming_exception()) => {}
                        Err(e) => {
                            return Err(self.err("waking the database through the Data API", e));
                        }
                    }
                    if self.waits.now() >= deadline {
                        return Err(BackendError::Timeout(format!(
                            "{} was still resuming when the timeout passed",
                            db.id
                        )));
                    }
                    self.waits.sleep(3.0).await;
                }
                report.steps.push(Step {
                    what: format!("database {} answered SELECT 1 (Data API)", db.id),
                    seconds: self.waits.now() - t,
                });
            }
            _ => match env
                .service
                .as_ref()
                .filter(|s| s.status == ServiceStatus::Running)
                .and_then(|s| s.http_url())
            {
                Some(url) => {
                    // No Data API: a request to the app opens a connection, which wakes it.
                    self.wait_for_url(&url, deadline).await?;
                    report.steps.push(Step {
                        what: format!("woke {} by requesting {url}", db.id),
                        seconds: self.waits.now() - t,
                    });
                }
                None => {
                    return Err(BackendError::Refused(format!(
                        "can't wake {} from here: it has no Data API endpoint and secret (enable the HTTP endpoint, or set secret_arn in the config) and the service is not running",
                        db.id
                    )));
                }
            },
        }
        Ok(())
    }

    /// Stops the database cluster, and nothing else.
    pub async fn stop_database(&self, env: &Environment) -> Result<ActionReport, BackendError> {
        let db = database_of(env)?;
        if matches!(db.mode, DbMode::ServerlessV1 { .. }) {
            return Err(BackendError::Refused(format!(
                "{} is Aurora Serverless v1, which can't be stopped; it pauses by itself when idle",
                db.id
            )));
        }
        let r = self.region_for(&env.key)?;
        let call = r.rds.stop_db_cluster().db_cluster_identifier(&db.id).send();
        self.cluster_power(env, db, "available", "stop", async {
            call.await
                .map(|_| ())
                .map_err(|e| self.err("stopping the cluster", e))
        })
        .await
        .map(|mut report| {
            report.left.push(
                "stopping takes a few minutes; AWS starts a stopped cluster again after 7 days"
                    .into(),
            );
            report
        })
    }

    /// Starts a stopped database cluster, and nothing else.
    pub async fn start_database(&self, env: &Environment) -> Result<ActionReport, BackendError> {
        let db = database_of(env)?;
        let r = self.region_for(&env.key)?;
        let call = r
            .rds
            .start_db_cluster()
            .db_cluster_identifier(&db.id)
            .send();
        self.cluster_power(env, db, "stopped", "start", async {
            call.await
                .map(|_| ())
                .map_err(|e| self.err("starting the cluster", e))
        })
        .await
        .map(|mut report| {
            report
                .left
                .push("starting a stopped cluster takes several minutes".into());
            report
        })
    }

    /// Stops or starts a cluster that must be in `required` status, timing the call.
    async fn cluster_power(
        &self,
        env: &Environment,
        db: &DatabaseState,
        required: &str,
        verb: &str,
        call: impl std::future::Future<Output = Result<(), BackendError>>,
    ) -> Result<ActionReport, BackendError> {
        if db.status != required {
            return Err(BackendError::Refused(format!(
                "can't {verb} {}: it is {}",
                db.id, db.status
            )));
        }
        let t = self.waits.now();
        call.await?;
        Ok(ActionReport {
            env: Some(env.key.clone()),
            steps: vec![Step {
                what: format!("asked RDS to {verb} {}", db.id),
                seconds: self.waits.now() - t,
            }],
            left: Vec::new(),
            parts: Vec::new(),
        })
    }
}

fn database_of(env: &Environment) -> Result<&DatabaseState, BackendError> {
    env.database.as_ref().ok_or_else(|| {
        BackendError::Refused(format!("environment {} has no database", env.key.name))
    })
}
