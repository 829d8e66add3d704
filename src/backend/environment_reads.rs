//! Reads for one environment (or a region's few) beyond the inventory: the timeline's
//! events, the graphs' and sparklines' metrics, and the older capacity that tells a
//! long-paused database apart from an unknown one.

use super::BackendError;
use super::aws::{AwsBackend, RegionClients};
use super::live_state::apply_capacity_history;
use super::metrics;
use crate::model::{EnvMetrics, Environment, Event, MetricSeries, Power, Time};
use std::collections::HashMap;
use std::sync::PoisonError;

impl AwsBackend {
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
        // Hourly points change once an hour: a history read in the last 10 minutes is
        // reused, so a refresh every 30 s does not pay this round trip each time.
        let key = |e: &Environment| {
            e.database
                .as_ref()
                .map(|d| d.arn.clone())
                .unwrap_or_default()
        };
        let cached: HashMap<String, MetricSeries> = {
            let cache = self
                .older_capacity
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            undecided
                .iter()
                .filter_map(|&i| {
                    let k = key(&environments[i]);
                    let (at, series) = cache.get(&k)?;
                    (now - at < 600.0).then(|| (k, series.clone()))
                })
                .collect()
        };
        let to_read: Vec<usize> = undecided
            .iter()
            .copied()
            .filter(|&i| !cached.contains_key(&key(&environments[i])))
            .collect();
        let mut histories = cached;
        if !to_read.is_empty() {
            let refs: Vec<&Environment> = to_read.iter().map(|&i| &environments[i]).collect();
            let start = now - 14.0 * 86400.0;
            let read = metrics::fetch_capacity(r, &refs, start, now, PERIOD).await?;
            let mut cache = self
                .older_capacity
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for (&i, series) in to_read.iter().zip(read) {
                let k = key(&environments[i]);
                cache.insert(k.clone(), (now, series.clone()));
                histories.insert(k, series);
            }
        }
        for i in undecided {
            let k = key(&environments[i]);
            if let (Some(db), Some(series)) = (&mut environments[i].database, histories.get(&k)) {
                apply_capacity_history(db, series, PERIOD as f64);
            }
        }
        Ok(())
    }

    /// The environment's timeline: its service's operations and RDS events since `since`.
    pub async fn events(
        &self,
        env: &Environment,
        since_seconds: f64,
    ) -> Result<Vec<Event>, BackendError> {
        let r = self.region_for(&env.key)?;
        let now = self.clock.now();
        let start = now - since_seconds;
        let mut out = Vec::new();
        if let Some(s) = &env.service {
            // The kind's recent operations (newest first), as far back as the window.
            for o in self.compute(r, s)?.operations(s).await? {
                let Some(started) = o.started_at else {
                    continue;
                };
                if started < start {
                    break;
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
        let r = self.region_of(region, envs)?;
        metrics::fetch(r, envs, start, end, period).await
    }

    /// The three series a list row's sparklines show (requests, 5xx, database capacity),
    /// at 1-minute points: a fifth of what every series would cost.
    pub async fn sparkline_metrics(
        &self,
        region: &str,
        envs: &[&Environment],
        start: Time,
        end: Time,
    ) -> Result<Vec<EnvMetrics>, BackendError> {
        use metrics::Field;
        let r = self.region_of(region, envs)?;
        let wanted = |f| matches!(f, Field::Requests | Field::Status5xx | Field::Capacity);
        metrics::fetch_fields(r, envs, start, end, 60, wanted).await
    }
}
