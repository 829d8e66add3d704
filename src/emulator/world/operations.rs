//! App Runner operations started by API calls or fault injection.

use super::World;
use super::service::{Operation, OperationStatus, OperationType, PendingWork, ServiceStatus, Work};

impl World {
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
        self.log_operation_started(i, kind, &id, t);
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
}
