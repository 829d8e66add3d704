//! Reading every environment: the region's services, clusters and events in one wave of
//! concurrent calls, then per-service details, images and metrics, paired into
//! environments with their live state.

use super::aws::{AwsBackend, FAN_OUT, RegionClients};
use super::convert;
use super::discovery::{self, Pairing, Resource};
use super::live_state::{apply_capacity_history, apply_live_state, image_state};
use super::metrics;
use super::{BackendError, ImageRef, Inventory};
use crate::model::{EnvMetrics, Environment, Event, Image, Power, ServiceState, Time};
use futures_util::stream::{self, StreamExt};
use std::collections::HashMap;

impl AwsBackend {
    /// Every environment in every region, read concurrently; a failing region or service
    /// is reported in `problems` and does not hide the rest.
    pub async fn inventory(&self) -> Result<Inventory, BackendError> {
        let results = futures_util::future::join_all(
            self.regions
                .iter()
                .enumerate()
                .map(|(i, r)| self.region_inventory(r, i == 0)),
        )
        .await;
        let mut inventory = Inventory::default();
        let mut credential_error = None;
        for result in results {
            match result {
                Ok(part) => {
                    inventory.environments.extend(part.environments);
                    inventory.problems.extend(part.problems);
                }
                Err(e @ BackendError::Credentials { .. }) => credential_error = Some(e),
                Err(e) => inventory.problems.push(e.to_string()),
            }
        }
        if let Some(e) = credential_error {
            return Err(e);
        }
        inventory
            .environments
            // Grouped by owner; environments without one come last.
            .sort_by(|a, b| {
                (a.owner.is_none(), &a.owner, &a.key).cmp(&(b.owner.is_none(), &b.owner, &b.key))
            });
        Ok(inventory)
    }

    pub(super) async fn region_inventory(
        &self,
        r: &RegionClients,
        first: bool,
    ) -> Result<Inventory, BackendError> {
        let mut problems = Vec::new();
        let (services, clusters, events) = tokio::join!(
            self.list_services(r),
            self.list_clusters(r),
            self.recent_rds_events(r, 24.0 * 3600.0)
        );
        let services = match services {
            Ok(s) => s,
            Err(e @ BackendError::Credentials { .. }) => return Err(e),
            Err(e) => {
                problems.push(format!("{}: App Runner: {e}", r.region));
                Vec::new()
            }
        };
        let (clusters, writers) = match clusters {
            Ok(c) => c,
            Err(e @ BackendError::Credentials { .. }) => return Err(e),
            Err(e) => {
                problems.push(format!("{}: RDS: {e}", r.region));
                (Vec::new(), HashMap::new())
            }
        };
        let service_resources: Vec<Resource> = services
            .iter()
            .map(|(s, tags)| Resource {
                name: s.service_name().unwrap_or_default().to_string(),
                tags: tags.clone(),
            })
            .collect();
        let cluster_resources: Vec<Resource> = clusters
            .iter()
            .map(|c| Resource {
                name: c.db_cluster_identifier().unwrap_or_default().to_string(),
                tags: c
                    .tag_list()
                    .iter()
                    .filter_map(|t| {
                        Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))
                    })
                    .collect(),
            })
            .collect();
        let pairings = discovery::pair(
            &r.region,
            &service_resources,
            &cluster_resources,
            &self.mappings,
            first,
        );
        let events = events.unwrap_or_else(|e| {
            problems.push(format!("{}: RDS events: {e}", r.region));
            Vec::new()
        });

        // Service details, with a bounded fan-out.
        let detailed: Vec<Result<(Pairing, Option<ServiceState>), BackendError>> =
            stream::iter(pairings)
                .map(|p| async {
                    let state = match &p.service {
                        Some(name) => {
                            let arn = services
                                .iter()
                                .find(|(s, _)| s.service_name() == Some(name.as_str()))
                                .and_then(|(s, _)| s.service_arn())
                                .unwrap_or_default()
                                .to_string();
                            let tags = services
                                .iter()
                                .find(|(s, _)| s.service_name() == Some(name.as_str()))
                                .map(|(_, t)| t.clone())
                                .unwrap_or_default();
                            Some(self.describe_service(r, &arn, tags).await?)
                        }
                        None => None,
                    };
                    Ok((p, state))
                })
                .buffered(FAN_OUT)
                .collect()
                .await;

        let mut environments = Vec::new();
        let mut repo_images: HashMap<String, Result<Vec<Image>, String>> = HashMap::new();
        for d in detailed {
            let (p, service) = match d {
                Ok(x) => x,
                Err(e @ BackendError::Credentials { .. }) => return Err(e),
                Err(e) => {
                    problems.push(format!("{}: {e}", r.region));
                    continue;
                }
            };
            let database = p.cluster.as_ref().and_then(|id| {
                let c = clusters
                    .iter()
                    .find(|c| c.db_cluster_identifier() == Some(id.as_str()))?;
                let writer = c
                    .db_cluster_members()
                    .iter()
                    .find(|m| m.is_cluster_writer() == Some(true))
                    .and_then(|m| m.db_instance_identifier())
                    .and_then(|w| writers.get(w));
                Some(convert::database(c, writer, p.secret_arn.as_deref()))
            });
            let mut image = None;
            if let Some((uri, reference)) = service
                .as_ref()
                .and_then(|s| s.image_identifier.as_deref())
                .and_then(ImageRef::parse_identifier)
            {
                let repository = uri.rsplit('/').next().unwrap_or(&uri).to_string();
                if !repo_images.contains_key(&repository) {
                    let images = self
                        .images_in(r, &repository)
                        .await
                        .map_err(|e| e.to_string());
                    repo_images.insert(repository.clone(), images);
                }
                let images = match &repo_images[&repository] {
                    Ok(images) => images.as_slice(),
                    Err(e) => {
                        problems.push(format!("{}: ECR {repository}: {e}", r.region));
                        &[]
                    }
                };
                image = Some(image_state(
                    &repository,
                    &reference,
                    images,
                    service.as_ref(),
                ));
            }
            environments.push(Environment {
                key: p.key,
                owner: p.owner,
                discovery: p.discovery,
                service,
                database,
                image,
            });
        }

        // Live numbers and the paused state, from the last 30 minutes of metrics.
        let now = self.clock.now();
        let refs: Vec<&Environment> = environments.iter().collect();
        match metrics::fetch(&r.cloudwatch, &refs, now - 1800.0, now, 60).await {
            Ok(all) => {
                for (env, m) in environments.iter_mut().zip(all) {
                    apply_live_state(env, &m, &events, now);
                }
                if let Err(e) = self.apply_older_capacity(r, &mut environments, now).await {
                    problems.push(format!("{}: CloudWatch (older capacity): {e}", r.region));
                }
            }
            Err(e @ BackendError::Credentials { .. }) => return Err(e),
            Err(e) => {
                problems.push(format!("{}: CloudWatch: {e}", r.region));
                for env in environments.iter_mut() {
                    apply_live_state(env, &EnvMetrics::default(), &events, now);
                }
            }
        }
        Ok(Inventory {
            environments,
            problems,
        })
    }

    /// A database whose state the window could not tell (no recent point, no pause event)
    /// is looked up over two weeks of hourly capacity: paused long ago is still paused.
    pub(super) async fn apply_older_capacity(
        &self,
        r: &RegionClients,
        environments: &mut [Environment],
        now: Time,
    ) -> Result<(), BackendError> {
        const PERIOD: i32 = 3600;
        let undecided: Vec<usize> = environments
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.database.as_ref().is_some_and(|d| {
                    d.power == Power::Unknown && d.mode.auto_pause_seconds().is_some()
                })
            })
            .map(|(i, _)| i)
            .collect();
        if undecided.is_empty() {
            return Ok(());
        }
        let refs: Vec<&Environment> = undecided.iter().map(|&i| &environments[i]).collect();
        let start = now - 14.0 * 86400.0;
        let history = metrics::fetch_capacity(&r.cloudwatch, &refs, start, now, PERIOD).await?;
        for (i, series) in undecided.into_iter().zip(history) {
            if let Some(db) = &mut environments[i].database {
                apply_capacity_history(db, &series, PERIOD as f64);
            }
        }
        Ok(())
    }

    /// The environment's timeline: App Runner operations and RDS events since `since`.
    pub async fn events(
        &self,
        env: &Environment,
        since_seconds: f64,
    ) -> Result<Vec<Event>, BackendError> {
        let r = self.region(&env.key.region)?;
        let now = self.clock.now();
        let start = now - since_seconds;
        let mut out = Vec::new();
        if let Some(s) = &env.service {
            let mut pages = r
                .apprunner
                .list_operations()
                .service_arn(&s.arn)
                .max_results(20)
                .into_paginator()
                .send();
            'pages: while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.err("listing App Runner operations", e))?;
                for o in page.operation_summary_list().iter().map(convert::operation) {
                    let Some(started) = o.started_at else {
                        continue;
                    };
                    if started < start {
                        break 'pages;
                    }
                    out.push(Event {
                        time: started,
                        source: "service",
                        message: format!("{} started", o.kind),
                    });
                    if let Some(ended) = o.ended_at {
                        out.push(Event {
                            time: ended,
                            source: "service",
                            message: format!("{} {}", o.kind, o.status),
                        });
                    }
                }
            }
        }
        if let Some(db) = &env.database {
            let events = self.recent_rds_events(r, since_seconds).await?;
            out.extend(
                events
                    .into_iter()
                    .filter(|e| e.source == db.id || Some(&e.source) == db.writer_id.as_ref())
                    .map(|e| Event {
                        time: e.time,
                        source: "database",
                        message: e.message,
                    }),
            );
        }
        out.retain(|e| e.time >= start);
        out.sort_by(|a, b| a.time.total_cmp(&b.time));
        Ok(out)
    }

    /// The dashboard's series over `[start, end)` for these environments of one region.
    pub async fn metrics(
        &self,
        region: &str,
        envs: &[&Environment],
        start: Time,
        end: Time,
        period: i32,
    ) -> Result<Vec<EnvMetrics>, BackendError> {
        let r = self.region(region)?;
        metrics::fetch(&r.cloudwatch, envs, start, end, period).await
    }
}
