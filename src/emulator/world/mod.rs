//! The emulated region's state and its state machines. Everything here runs on the
//! emulator's clock: `catch_up(now)` processes every scheduled transition and every
//! metric minute in time order, so advancing the clock by an hour is exactly the same as
//! letting an hour pass.

pub mod cluster;
pub mod express;
mod express_run;
mod flush;
mod log_lines;
pub mod logs;
pub mod metrics;
mod operations;
pub mod schedules;
pub mod service;
mod traffic;
mod transitions;

use cluster::Cluster;
use logs::LogStore;
use metrics::MetricStore;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use service::{AutoScaling, Service};

pub const ACCOUNT: &str = "123456789012";

/// How long things take, in emulated seconds (reference/aws.md sections 2.7 and 13).
#[derive(Clone, Debug)]
pub struct Durations {
    pub pause: (f64, f64),
    pub resume: (f64, f64),
    pub deploy: (f64, f64),
    pub rollback: f64,
    pub maintenance: f64,
    pub v2_resume: f64,
    pub v2_deep_resume: f64,
    pub v1_resume: f64,
    pub cluster_stop: f64,
    pub cluster_start: f64,
}

impl Default for Durations {
    fn default() -> Self {
        Durations {
            pause: (60.0, 120.0),
            resume: (60.0, 120.0),
            deploy: (240.0, 360.0),
            rollback: 240.0,
            maintenance: 180.0,
            v2_resume: 15.0,
            v2_deep_resume: 30.0,
            v1_resume: 30.0,
            cluster_stop: 180.0,
            cluster_start: 300.0,
        }
    }
}

#[derive(Clone, Debug)]
pub struct RdsEvent {
    pub source_identifier: String,
    pub source_type: &'static str,
    pub message: String,
    pub categories: Vec<&'static str>,
    pub date: f64,
    pub source_arn: String,
}

#[derive(Clone, Debug)]
pub struct Image {
    pub digest: String,
    pub tags: Vec<String>,
    pub size_bytes: i64,
    pub pushed_at: f64,
}

#[derive(Clone, Debug)]
pub struct Repository {
    pub name: String,
    pub created_at: f64,
    pub images: Vec<Image>,
}

/// Result of an app asking its cluster for a connection.
#[derive(Debug, PartialEq)]
pub enum Connect {
    Connected,
    /// The writer is resuming (or just started to): try again at this time.
    WaitUntil(f64),
    /// PostgreSQL's "remaining connection slots are reserved" FATAL.
    TooManyConnections,
    Refused(&'static str),
}

pub struct World {
    pub region: String,
    /// The account this world is (ARNs, ECR registry); each account has its own world.
    pub account: String,
    pub services: Vec<Service>,
    pub autoscaling: Vec<AutoScaling>,
    pub clusters: Vec<Cluster>,
    pub repositories: Vec<Repository>,
    pub events: Vec<RdsEvent>,
    pub metrics: MetricStore,
    pub logs: LogStore,
    /// EventBridge Scheduler's groups and schedules (run in `catch_up`).
    pub scheduler: schedules::Scheduler,
    /// Spreads lines of requests with no known instance over the active ones.
    logs_round_robin: usize,
    pub durations: Durations,
    /// Time up to which every transition and metric minute has been processed.
    pub processed_to: f64,
    pub rng: StdRng,
}

impl World {
    pub fn empty(region: &str, now: f64) -> World {
        World {
            region: region.to_string(),
            account: ACCOUNT.to_string(),
            services: Vec::new(),
            autoscaling: Vec::new(),
            clusters: Vec::new(),
            repositories: Vec::new(),
            events: Vec::new(),
            metrics: MetricStore::default(),
            logs: LogStore::default(),
            scheduler: schedules::Scheduler::default(),
            logs_round_robin: 0,
            durations: Durations::default(),
            processed_to: now,
            rng: StdRng::seed_from_u64(0x5ca1e0),
        }
    }

    pub fn random_hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit(self.rng.random_range(0..16), 16).unwrap_or('0'))
            .collect()
    }

    pub fn uuid(&mut self) -> String {
        let h = self.random_hex(32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    pub(super) fn pick(&mut self, range: (f64, f64)) -> f64 {
        if range.1 > range.0 {
            self.rng.random_range(range.0..range.1).round()
        } else {
            range.0
        }
    }

    // ---- lookups -----------------------------------------------------------------------

    pub fn service_index(&self, arn_or_name: &str) -> Option<usize> {
        self.services
            .iter()
            .position(|s| s.arn == arn_or_name || s.name == arn_or_name)
    }

    pub fn cluster_index(&self, id_or_arn: &str) -> Option<usize> {
        self.clusters
            .iter()
            .position(|c| c.id == id_or_arn || c.arn == id_or_arn)
    }

    pub fn scaling_of(&self, service: &Service) -> AutoScaling {
        if let Some(x) = &service.express {
            // Behind a load balancer: no per-task concurrency limit, and the tasks ECS
            // runs are all there is (target tracking moves them, not requests).
            return AutoScaling {
                arn: String::new(),
                name: "express".into(),
                revision: 1,
                max_concurrency: 1000,
                min_size: x.healthy(),
                max_size: x.healthy().max(1),
                created_at: service.created_at,
                is_default: false,
            };
        }
        self.autoscaling
            .iter()
            .find(|a| a.arn == service.autoscaling_arn)
            .cloned()
            .unwrap_or_else(|| AutoScaling {
                arn: service.autoscaling_arn.clone(),
                name: "DefaultConfiguration".into(),
                revision: 1,
                max_concurrency: 100,
                min_size: 1,
                max_size: 25,
                created_at: service.created_at,
                is_default: true,
            })
    }

    pub fn ecr_uri(&self, repository: &str) -> String {
        format!(
            "{}.dkr.ecr.{}.amazonaws.com/{repository}",
            self.account, self.region
        )
    }

    /// The image an App Runner identifier (`...amazonaws.com/repo:tag` or `@sha256:...`)
    /// points to now, if it exists.
    pub fn resolve_image(&self, identifier: &str) -> Option<&Image> {
        let path = identifier.split_once(".amazonaws.com/")?.1;
        let (repo, reference) = match path.split_once('@') {
            Some((repo, digest)) => (repo, digest),
            None => path.rsplit_once(':')?,
        };
        let repository = self.repositories.iter().find(|r| r.name == repo)?;
        repository
            .images
            .iter()
            .find(|i| i.digest == reference || i.tags.iter().any(|t| t == reference))
    }

    pub fn add_event(
        &mut self,
        cluster: usize,
        instance_level: bool,
        message: String,
        categories: Vec<&'static str>,
        date: f64,
    ) {
        let c = &self.clusters[cluster];
        let (source_identifier, source_type, source_arn) = if instance_level {
            (c.writer_id.clone(), "db-instance", c.writer_arn.clone())
        } else {
            (c.id.clone(), "db-cluster", c.arn.clone())
        };
        self.log_db_event(cluster, &message, date);
        self.events.push(RdsEvent {
            source_identifier,
            source_type,
            message,
            categories,
            date,
            source_arn,
        });
    }

    // ---- the scheduler ---------------------------------------------------------------------

    /// Processes everything due up to `now`, in time order.
    pub fn catch_up(&mut self, now: f64) {
        loop {
            let next_minute = (self.processed_to / 60.0).floor() * 60.0 + 60.0;
            let next_transition = self.next_transition().unwrap_or(f64::INFINITY);
            let t = next_minute.min(next_transition);
            if t > now {
                break;
            }
            self.processed_to = self.processed_to.max(t);
            if next_transition <= t {
                self.run_transitions(self.processed_to);
            }
            if next_minute <= t {
                self.flush_minute(next_minute as i64 - 60);
            }
        }
        self.processed_to = self.processed_to.max(now);
    }

    fn next_transition(&self) -> Option<f64> {
        self.services
            .iter()
            .filter_map(Service::next_transition)
            .chain(self.clusters.iter().filter_map(Cluster::next_transition))
            .chain(self.scheduler.next_due())
            .reduce(f64::min)
    }

    fn run_transitions(&mut self, t: f64) {
        for i in 0..self.services.len() {
            self.service_transitions(i, t);
        }
        for i in 0..self.clusters.len() {
            self.cluster_transitions(i, t);
        }
        self.run_schedules(t);
    }
}
