//! An App Runner service: status, operations, instances and the per-minute accumulators
//! that become its AWS/AppRunner metrics.

use super::metrics::Datum;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceStatus {
    Running,
    Paused,
    OperationInProgress,
}

impl ServiceStatus {
    pub fn as_aws(self) -> &'static str {
        match self {
            ServiceStatus::Running => "RUNNING",
            ServiceStatus::Paused => "PAUSED",
            ServiceStatus::OperationInProgress => "OPERATION_IN_PROGRESS",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationType {
    StartDeployment,
    PauseService,
    ResumeService,
    UpdateService,
    CreateService,
}

impl OperationType {
    pub fn as_aws(self) -> &'static str {
        match self {
            OperationType::StartDeployment => "START_DEPLOYMENT",
            OperationType::PauseService => "PAUSE_SERVICE",
            OperationType::ResumeService => "RESUME_SERVICE",
            OperationType::UpdateService => "UPDATE_SERVICE",
            OperationType::CreateService => "CREATE_SERVICE",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationStatus {
    InProgress,
    Succeeded,
    Failed,
    RollbackInProgress,
    RollbackSucceeded,
}

impl OperationStatus {
    pub fn as_aws(self) -> &'static str {
        match self {
            OperationStatus::InProgress => "IN_PROGRESS",
            OperationStatus::Succeeded => "SUCCEEDED",
            OperationStatus::Failed => "FAILED",
            OperationStatus::RollbackInProgress => "ROLLBACK_IN_PROGRESS",
            OperationStatus::RollbackSucceeded => "ROLLBACK_SUCCEEDED",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Operation {
    pub id: String,
    pub kind: OperationType,
    pub status: OperationStatus,
    pub started_at: f64,
    pub ended_at: Option<f64>,
    pub updated_at: f64,
}

/// What the service is doing until `ends_at`.
#[derive(Clone, Debug)]
pub struct PendingWork {
    /// Index into `operations`; None for maintenance, which is no API operation.
    pub operation: Option<usize>,
    pub kind: Work,
    pub ends_at: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Work {
    Pause,
    Resume,
    /// A deployment of `image`; on failure the service goes back to `previous_image`.
    Deploy {
        image: String,
        previous_image: String,
        fails: bool,
    },
    /// A failed deployment rolling back.
    Rollback,
    Maintenance,
}

#[derive(Clone, Debug)]
pub struct AutoScaling {
    pub arn: String,
    pub name: String,
    pub revision: i64,
    pub max_concurrency: u32,
    pub min_size: u32,
    pub max_size: u32,
    pub created_at: f64,
    pub is_default: bool,
}

/// How the app inside the service uses database connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppServer {
    /// Django's runserver, as the seed ran it: a thread per client connection, each
    /// holding its own database connection (conn_max_age keeps it after the request).
    ThreadPerConnection,
    /// gunicorn with a bounded pool of `workers` (workers x threads) per instance;
    /// requests beyond it queue instead of opening connections.
    BoundedWorkers { workers: u32 },
}

#[derive(Clone, Debug, Default)]
pub struct ServiceMinute {
    pub requests: u64,
    pub status_2xx: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    pub latency_ms: Datum,
    pub peak_concurrency: u32,
    pub peak_active: u32,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    pub id: String,
    pub arn: String,
    pub port: u16,
    pub status: ServiceStatus,
    pub image_identifier: String,
    pub auto_deployments: bool,
    pub cpu: String,
    pub memory: String,
    pub autoscaling_arn: String,
    pub tags: Vec<(String, String)>,
    pub operations: Vec<Operation>,
    pub pending: Option<PendingWork>,
    pub created_at: f64,
    pub updated_at: f64,
    pub app_server: AppServer,
    pub cluster: Option<String>,
    /// The digest actually running (App Runner exposes no API for it; kept for the demo).
    pub deployed_digest: Option<String>,
    /// Armed by fault injection: the next deployment fails its health check.
    pub fail_next_deploy: bool,
    pub concurrency: u32,
    pub active_instances: u32,
    pub last_request_at: f64,
    pub minute: ServiceMinute,
}

/// Seconds without requests before an instance stops counting as active
/// (unverified on AWS; the seed's graphs suggest a minute or two).
pub const IDLE_BEFORE_INACTIVE: f64 = 60.0;

impl Service {
    pub fn url(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Whether the app answers requests: not while paused or while instances are
    /// still coming back from a pause.
    pub fn serving(&self) -> bool {
        match self.status {
            ServiceStatus::Running => true,
            ServiceStatus::Paused => false,
            ServiceStatus::OperationInProgress => {
                !matches!(self.pending.as_ref().map(|p| &p.kind), Some(Work::Resume))
            }
        }
    }

    pub fn deploying(&self) -> bool {
        matches!(
            self.pending.as_ref().map(|p| &p.kind),
            Some(Work::Deploy { .. } | Work::Rollback)
        )
    }

    pub fn provisioned_instances(&self, min_size: u32) -> u32 {
        if self.status == ServiceStatus::Paused {
            return 0;
        }
        let provisioned = min_size.max(self.active_instances);
        if self.deploying() {
            provisioned * 2
        } else {
            provisioned
        }
    }

    /// Active instances for the current concurrency: ceil(concurrency / MaxConcurrency),
    /// capped by MaxSize; idle instances stay active until IDLE_BEFORE_INACTIVE passes.
    pub fn rescale(&mut self, scaling: &AutoScaling) {
        let needed = self
            .concurrency
            .div_ceil(scaling.max_concurrency.max(1))
            .min(scaling.max_size);
        if needed > self.active_instances || self.concurrency > 0 {
            self.active_instances = needed.max(1).min(scaling.max_size.max(1));
        }
        self.minute.peak_active = self.minute.peak_active.max(self.active_instances);
        self.minute.peak_concurrency = self.minute.peak_concurrency.max(self.concurrency);
    }

    pub fn next_transition(&self) -> Option<f64> {
        let work = self.pending.as_ref().map(|p| p.ends_at);
        let idle = (self.active_instances > 0 && self.concurrency == 0)
            .then_some(self.last_request_at + IDLE_BEFORE_INACTIVE);
        match (work, idle) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
