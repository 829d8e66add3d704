//! State transitions that happen on their own as time passes: operations finishing,
//! instances going idle, clusters stopping, starting, pausing and resuming.

use super::World;
use super::cluster::{self, ClusterStatus, DbMode, Power};
use super::service::{self, OperationStatus, PendingWork, Service, ServiceStatus, Work};

impl World {
    pub(super) fn service_transitions(&mut self, i: usize, t: f64) {
        if self.services[i].express.is_some() {
            self.express_transitions(i, t);
        }
        let scaling = self.scaling_of(&self.services[i]);
        let s = &mut self.services[i];
        if s.active_instances > 0
            && s.concurrency == 0
            && s.last_request_at + service::IDLE_BEFORE_INACTIVE <= t
        {
            s.active_instances = 0;
            s.ready_instances = scaling.min_size;
            self.retire_instances(i, scaling.min_size as usize);
        }
        let s = &mut self.services[i];
        if s.scale_out_at.is_some_and(|at| at <= t) {
            s.scaled_out(&scaling);
            let ready = s.ready_instances as usize;
            self.start_instances(i, ready, t);
        }
        let s = &mut self.services[i];
        let Some(work) = s.pending.clone().filter(|w| w.ends_at <= t) else {
            return;
        };
        let operation_id = work
            .operation
            .and_then(|o| s.operations.get(o))
            .map(|o| o.id.clone());
        self.log_work_finished(i, &work.kind, operation_id.as_deref(), t);
        match &work.kind {
            Work::Pause => self.retire_instances(i, 0),
            // New instances run the new image; a resume starts them again.
            Work::Deploy { fails: false, .. } | Work::Resume => {
                self.retire_instances(i, 0);
                self.start_instances(i, scaling.min_size as usize, t);
            }
            _ => {}
        }
        let s = &mut self.services[i];
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

    pub(super) fn cluster_transitions(&mut self, i: usize, t: f64) {
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
    pub(super) fn cancel_pause(&mut self, i: usize, t: f64) {
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
}
