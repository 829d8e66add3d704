//! The emulated region's state and its state machines. Everything here runs on the
//! emulator's clock: `catch_up(now)` processes every scheduled transition and every
//! metric minute in time order, so advancing the clock by an hour is exactly the same as
//! letting an hour pass.

pub mod cluster;
pub mod metrics;
pub mod service;

use cluster::{Cluster, ClusterStatus, DbMode, Power};
use metrics::{APPRUNNER, Datum, MetricKey, MetricStore, RDS};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use service::{
    AutoScaling, Operation, OperationStatus, OperationType, PendingWork, Service, ServiceStatus,
    Work,
};

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
    pub services: Vec<Service>,
    pub autoscaling: Vec<AutoScaling>,
    pub clusters: Vec<Cluster>,
    pub repositories: Vec<Repository>,
    pub events: Vec<RdsEvent>,
    pub metrics: MetricStore,
    pub durations: Durations,
    /// Time up to which every transition and metric minute has been processed.
    pub processed_to: f64,
    pub rng: StdRng,
}

impl World {
    pub fn empty(region: &str, now: f64) -> World {
        World {
            region: region.to_string(),
            services: Vec::new(),
            autoscaling: Vec::new(),
            clusters: Vec::new(),
            repositories: Vec::new(),
            events: Vec::new(),
            metrics: MetricStore::default(),
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

    fn pick(&mut self, range: (f64, f64)) -> f64 {
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
            "{ACCOUNT}.dkr.ecr.{}.amazonaws.com/{repository}",
            self.region
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
            .reduce(f64::min)
    }

    fn run_transitions(&mut self, t: f64) {
        for i in 0..self.services.len() {
            self.service_transitions(i, t);
        }
        for i in 0..self.clusters.len() {
            self.cluster_transitions(i, t);
        }
    }

    fn service_transitions(&mut self, i: usize, t: f64) {
        let s = &mut self.services[i];
        if s.active_instances > 0
            && s.concurrency == 0
            && s.last_request_at + service::IDLE_BEFORE_INACTIVE <= t
        {
            s.active_instances = 0;
        }
        let Some(work) = s.pending.clone().filter(|w| w.ends_at <= t) else {
            return;
        };
        s.pending = None;
        s.updated_at = t;
        let finish = |status: OperationStatus, s: &mut Service| {
            if let Some(op) = work.operation.and_then(|o| s.operations.get_mut(o)) {
                op.status = status;
                op.ended_at = Some(t);
                op.updated_at = t;
            }
        };
        match work.kind {
            Work::Pause => {
                s.status = ServiceStatus::Paused;
                s.active_instances = 0;
                finish(OperationStatus::Succeeded, s);
            }
            Work::Resume | Work::Maintenance => {
                s.status = ServiceStatus::Running;
                finish(OperationStatus::Succeeded, s);
            }
            Work::Deploy {
                image,
                previous_image,
                fails,
            } => {
                if fails {
                    // Health check failed: App Runner keeps the old version and rolls back.
                    s.image_identifier = previous_image;
                    if let Some(op) = work.operation.and_then(|o| s.operations.get_mut(o)) {
                        op.status = OperationStatus::RollbackInProgress;
                        op.updated_at = t;
                    }
                    s.pending = Some(PendingWork {
                        operation: work.operation,
                        kind: Work::Rollback,
                        ends_at: t + self.durations.rollback,
                    });
                } else {
                    let digest = self.resolve_image(&image).map(|i| i.digest.clone());
                    let s = &mut self.services[i];
                    s.deployed_digest = digest;
                    s.status = ServiceStatus::Running;
                    finish(OperationStatus::Succeeded, s);
                }
            }
            Work::Rollback => {
                s.status = ServiceStatus::Running;
                finish(OperationStatus::RollbackSucceeded, s);
            }
        }
    }

    fn cluster_transitions(&mut self, i: usize, t: f64) {
        let c = &self.clusters[i];
        match c.status {
            ClusterStatus::Stopping { until } if until <= t => {
                let c = &mut self.clusters[i];
                c.status = ClusterStatus::Stopped;
                c.connections = 0;
                c.automatic_restart_time = Some(t + 7.0 * 86400.0);
                self.add_event(
                    i,
                    true,
                    "DB instance stopped.".into(),
                    vec!["notification"],
                    t,
                );
                self.add_event(
                    i,
                    false,
                    "DB cluster stopped.".into(),
                    vec!["notification"],
                    t,
                );
            }
            ClusterStatus::Starting { until } if until <= t => {
                let c = &mut self.clusters[i];
                c.status = ClusterStatus::Available;
                c.power = Power::Awake;
                c.capacity = c.target_capacity().max(c.capacity);
                c.idle_since = Some(t);
                self.add_event(
                    i,
                    true,
                    "DB instance started.".into(),
                    vec!["notification"],
                    t,
                );
                self.add_event(
                    i,
                    false,
                    "DB cluster started.".into(),
                    vec!["notification"],
                    t,
                );
            }
            ClusterStatus::Stopped if c.automatic_restart_time.is_some_and(|r| r <= t) => {
                let c = &mut self.clusters[i];
                c.automatic_restart_time = None;
                c.status = ClusterStatus::Starting {
                    until: t + self.durations.cluster_start,
                };
                self.add_event(
                    i,
                    false,
                    "DB cluster is being started due to it exceeding the maximum allowed time being stopped.".into(),
                    vec!["notification"],
                    t,
                );
            }
            _ => {}
        }
        let c = &self.clusters[i];
        match c.power {
            Power::Pausing { until } if until <= t => {
                let c = &mut self.clusters[i];
                c.power = Power::Paused { since: t };
                c.capacity = 0.0;
                if c.is_v1() {
                    self.add_event(
                        i,
                        false,
                        "The DB cluster is paused.".into(),
                        vec!["notification"],
                        t,
                    );
                } else {
                    self.add_event(
                        i,
                        true,
                        "Successfully paused the DB instance.".into(),
                        vec!["notification", "serverless"],
                        t,
                    );
                }
            }
            Power::Resuming { until } if until <= t => {
                let c = &mut self.clusters[i];
                c.power = Power::Awake;
                // v2 comes back low (AWS's example: 2 ACU) and scales from there.
                c.capacity = match c.mode {
                    DbMode::ServerlessV2 { max, .. } => 2.0f64.min(max),
                    _ => c.target_capacity().max(c.capacity),
                };
                if c.connections == 0 {
                    c.idle_since = Some(t);
                }
                if c.is_v1() {
                    self.add_event(
                        i,
                        false,
                        "The DB cluster is resumed.".into(),
                        vec!["notification"],
                        t,
                    );
                } else {
                    self.add_event(
                        i,
                        true,
                        "Successfully resumed the DB instance.".into(),
                        vec!["notification", "serverless"],
                        t,
                    );
                }
            }
            Power::Awake if c.auto_pause_at().is_some_and(|p| p <= t) => {
                let v1 = c.is_v1();
                let c = &mut self.clusters[i];
                c.power = Power::Pausing {
                    until: t + cluster::V2_PAUSE_SECONDS,
                };
                if v1 {
                    self.add_event(
                        i,
                        false,
                        "The DB cluster is being paused.".into(),
                        vec!["notification"],
                        t,
                    );
                } else {
                    self.add_event(
                        i,
                        true,
                        "Initiated pause for the DB instance.".into(),
                        vec!["notification", "serverless"],
                        t,
                    );
                }
            }
            _ => {}
        }
    }

    /// Starts a resume of a paused writer and says when it will be done.
    pub fn begin_resume(&mut self, i: usize, t: f64) -> f64 {
        let c = &self.clusters[i];
        match c.power {
            Power::Resuming { until } => until,
            Power::Paused { since } => {
                let v1 = c.is_v1();
                let seconds = if v1 {
                    self.durations.v1_resume
                } else if t - since > 86400.0 {
                    self.durations.v2_deep_resume
                } else {
                    self.durations.v2_resume
                };
                let until = t + seconds;
                self.clusters[i].power = Power::Resuming { until };
                if v1 {
                    self.add_event(
                        i,
                        false,
                        "The DB cluster is being resumed.".into(),
                        vec!["notification"],
                        t,
                    );
                } else {
                    self.add_event(
                        i,
                        true,
                        "Initiated resume for the DB instance.".into(),
                        vec!["notification", "serverless"],
                        t,
                    );
                }
                until
            }
            _ => t,
        }
    }

    /// A pause in progress is cancelled by new work (events 0371 / 0146).
    fn cancel_pause(&mut self, i: usize, t: f64) {
        if let Power::Pausing { .. } = self.clusters[i].power {
            self.clusters[i].power = Power::Awake;
            let (instance, message) = if self.clusters[i].is_v1() {
                (false, "Pause was canceled for the DB cluster.")
            } else {
                (true, "Pause was canceled for the DB instance.")
            };
            let categories = if instance {
                vec!["notification", "serverless"]
            } else {
                vec!["notification"]
            };
            self.add_event(i, instance, message.into(), categories, t);
        }
    }

    /// An app (or psql) opening a connection to the cluster's writer.
    pub fn connect(&mut self, i: usize, t: f64) -> Connect {
        match self.clusters[i].status {
            ClusterStatus::Available => {}
            // While stopped, connection attempts do not resume anything.
            _ => return Connect::Refused("could not connect to server: Connection refused"),
        }
        match self.clusters[i].power {
            Power::Paused { .. } | Power::Resuming { .. } => {
                return Connect::WaitUntil(self.begin_resume(i, t));
            }
            Power::Pausing { .. } => self.cancel_pause(i, t),
            Power::Awake => {}
        }
        let c = &mut self.clusters[i];
        if c.connections >= c.usable_connections() {
            return Connect::TooManyConnections;
        }
        c.connections += 1;
        c.idle_since = None;
        c.minute.peak_connections = c.minute.peak_connections.max(c.connections);
        self.rescale_cluster(i, t);
        Connect::Connected
    }

    pub fn disconnect(&mut self, i: usize, t: f64) {
        let c = &mut self.clusters[i];
        c.connections = c.connections.saturating_sub(1);
        if c.connections == 0 {
            c.idle_since = Some(t);
        }
    }

    /// Work that touches the writer without holding a connection (a Data API call):
    /// it resets the idle timer.
    pub fn touch(&mut self, i: usize, t: f64) {
        self.cancel_pause(i, t);
        let c = &mut self.clusters[i];
        if c.connections == 0 {
            c.idle_since = Some(t);
        }
    }

    fn rescale_cluster(&mut self, i: usize, t: f64) {
        let c = &self.clusters[i];
        if c.power != Power::Awake || !c.is_serverless() {
            return;
        }
        let target = c.target_capacity();
        if target > c.capacity {
            let from = c.capacity;
            let v1 = c.is_v1();
            self.clusters[i].capacity = target;
            if v1 {
                let (a, b) = (from as u32, target as u32);
                self.add_event(i, false, format!("Scaling DB cluster from {a} capacity units to {b} capacity units for this reason: Autoscaling."), vec!["notification"], t);
                self.add_event(
                    i,
                    false,
                    format!(
                        "The DB cluster has scaled from {a} capacity units to {b} capacity units."
                    ),
                    vec!["notification"],
                    t,
                );
            }
        }
        let c = &mut self.clusters[i];
        c.minute.peak_capacity = c.minute.peak_capacity.max(c.capacity);
    }

    // ---- service operations ------------------------------------------------------------

    pub fn start_operation(
        &mut self,
        i: usize,
        kind: OperationType,
        work: Work,
        duration: f64,
        t: f64,
    ) -> String {
        let id = self.uuid();
        let s = &mut self.services[i];
        s.operations.push(Operation {
            id: id.clone(),
            kind,
            status: OperationStatus::InProgress,
            started_at: t,
            ended_at: None,
            updated_at: t,
        });
        s.pending = Some(PendingWork {
            operation: Some(s.operations.len() - 1),
            kind: work,
            ends_at: t + duration,
        });
        s.status = ServiceStatus::OperationInProgress;
        s.updated_at = t;
        id
    }

    pub fn pause_duration(&mut self) -> f64 {
        let r = self.durations.pause;
        self.pick(r)
    }

    pub fn resume_duration(&mut self) -> f64 {
        let r = self.durations.resume;
        self.pick(r)
    }

    pub fn deploy_duration(&mut self) -> f64 {
        let r = self.durations.deploy;
        self.pick(r)
    }

    /// Starts a deployment of `image` (UpdateService or StartDeployment).
    pub fn deploy(&mut self, i: usize, kind: OperationType, image: String, t: f64) -> String {
        let resolvable = self.resolve_image(&image).is_some();
        let s = &mut self.services[i];
        let fails = !resolvable || std::mem::take(&mut s.fail_next_deploy);
        let previous_image = std::mem::replace(&mut s.image_identifier, image.clone());
        let duration = if fails {
            // The health check gives up after a couple of minutes.
            150.0
        } else {
            self.deploy_duration()
        };
        self.start_operation(
            i,
            kind,
            Work::Deploy {
                image,
                previous_image,
                fails,
            },
            duration,
            t,
        )
    }

    pub fn start_maintenance(&mut self, i: usize, t: f64) -> bool {
        let ends_at = t + self.durations.maintenance;
        let s = &mut self.services[i];
        if s.status != ServiceStatus::Running {
            return false;
        }
        s.status = ServiceStatus::OperationInProgress;
        s.pending = Some(PendingWork {
            operation: None,
            kind: Work::Maintenance,
            ends_at,
        });
        true
    }

    // ---- traffic -------------------------------------------------------------------------

    pub fn request_started(&mut self, i: usize, t: f64) {
        let scaling = self.scaling_of(&self.services[i]);
        let s = &mut self.services[i];
        s.concurrency += 1;
        s.last_request_at = t;
        s.rescale(&scaling);
    }

    pub fn request_finished(&mut self, i: usize, t: f64, status: u16, latency_ms: f64) {
        let scaling = self.scaling_of(&self.services[i]);
        let s = &mut self.services[i];
        s.concurrency = s.concurrency.saturating_sub(1);
        s.last_request_at = t;
        s.rescale(&scaling);
        if status == 0 {
            // The client went away before an answer: nothing for the metrics.
            return;
        }
        let m = &mut s.minute;
        m.requests += 1;
        match status {
            200..=299 => m.status_2xx += 1,
            400..=499 => m.status_4xx += 1,
            500..=599 => m.status_5xx += 1,
            _ => {}
        }
        m.latency_ms.add(latency_ms);
    }

    // ---- metrics -------------------------------------------------------------------------

    /// Writes the minute starting at `minute` for every resource and resets accumulators.
    fn flush_minute(&mut self, minute: i64) {
        for i in 0..self.services.len() {
            let scaling = self.scaling_of(&self.services[i]);
            let s = &mut self.services[i];
            let m = std::mem::take(&mut s.minute);
            s.minute.peak_active = s.active_instances;
            s.minute.peak_concurrency = s.concurrency;
            if s.status == ServiceStatus::Paused && m.requests == 0 {
                continue;
            }
            let dims = [
                ("ServiceID", s.id.as_str()),
                ("ServiceName", s.name.as_str()),
            ];
            let put = |store: &mut MetricStore, name: &str, d: Datum| {
                store.put(MetricKey::new(APPRUNNER, name, &dims), minute, d)
            };
            let active = m.peak_active.max(s.active_instances) as f64;
            let concurrency = m.peak_concurrency.max(s.concurrency) as f64;
            put(&mut self.metrics, "ActiveInstances", Datum::single(active));
            put(&mut self.metrics, "Concurrency", Datum::single(concurrency));
            let cpu = if active > 0.0 {
                (5.0 + 80.0 * concurrency / (active * scaling.max_concurrency as f64)).min(100.0)
            } else {
                0.5
            };
            put(&mut self.metrics, "CPUUtilization", Datum::single(cpu));
            let memory = if s.status == ServiceStatus::Paused {
                0.0
            } else {
                22.0 + cpu / 5.0
            };
            put(
                &mut self.metrics,
                "MemoryUtilization",
                Datum::single(memory),
            );
            if m.requests > 0 {
                put(
                    &mut self.metrics,
                    "Requests",
                    Datum::single(m.requests as f64),
                );
                put(
                    &mut self.metrics,
                    "2xxStatusResponses",
                    Datum::single(m.status_2xx as f64),
                );
                put(
                    &mut self.metrics,
                    "4xxStatusResponses",
                    Datum::single(m.status_4xx as f64),
                );
                put(
                    &mut self.metrics,
                    "5xxStatusResponses",
                    Datum::single(m.status_5xx as f64),
                );
                put(&mut self.metrics, "RequestLatency", m.latency_ms);
            }
        }
        for i in 0..self.clusters.len() {
            let c = &mut self.clusters[i];
            let m = std::mem::take(&mut c.minute);
            c.minute.peak_connections = c.connections;
            if c.status != ClusterStatus::Available {
                continue;
            }
            let capacity = c.reported_capacity();
            let peak_capacity = m.peak_capacity.max(capacity);
            let cluster_dims = [("DBClusterIdentifier", c.id.as_str())];
            let instance_dims = [("DBInstanceIdentifier", c.writer_id.as_str())];
            let mut put = |name: &str, v: f64| {
                self.metrics.put(
                    MetricKey::new(RDS, name, &cluster_dims),
                    minute,
                    Datum::single(v),
                );
                self.metrics.put(
                    MetricKey::new(RDS, name, &instance_dims),
                    minute,
                    Datum::single(v),
                );
            };
            if c.is_serverless() {
                put("ServerlessDatabaseCapacity", peak_capacity);
                let max = c.max_capacity().max(0.5);
                put("ACUUtilization", (peak_capacity / max * 100.0).min(100.0));
            }
            let paused = c.paused();
            if paused && c.is_v1() {
                // A paused v1 cluster sends no CPU data at all.
                continue;
            }
            let connections = m.peak_connections.max(c.connections) as f64;
            put(
                "CPUUtilization",
                if paused {
                    0.0
                } else {
                    (3.0 + connections * 0.4).min(100.0)
                },
            );
            if !paused {
                put("DatabaseConnections", connections);
            }
        }
        // CloudWatch keeps 1-minute points for 15 days.
        self.metrics.expire(minute - 15 * 86400);
        let horizon = minute as f64 - 14.0 * 86400.0;
        self.events.retain(|e| e.date >= horizon);
    }
}
