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

/// The app server inside the service, which decides how threads, CPU and database
/// connections relate (src/emulator/workload/model.rs has the costs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppServer {
    /// Django's runserver, as the seed ran it: one process (one interpreter lock), a
    /// thread per client connection, each thread with its own database connection.
    ThreadPerConnection,
    /// gunicorn with `workers` processes of `threads` threads per instance: requests
    /// beyond workers x threads wait for a free thread instead of opening connections.
    Gunicorn { workers: u32, threads: u32 },
}

impl AppServer {
    /// Interpreter processes per instance (each runs on at most one core at a time).
    pub fn processes(self) -> u32 {
        match self {
            AppServer::ThreadPerConnection => 1,
            AppServer::Gunicorn { workers, .. } => workers.max(1),
        }
    }

    /// Threads per instance, where the server bounds them.
    pub fn thread_limit(self) -> Option<u32> {
        match self {
            AppServer::ThreadPerConnection => None,
            AppServer::Gunicorn { workers, threads } => Some(workers.max(1) * threads.max(1)),
        }
    }
}

/// Django settings that change what a request costs and how long connections live.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AppSettings {
    pub server: AppServer,
    pub debug: bool,
    /// Django's CONN_MAX_AGE in seconds: 0 closes the connection after each request.
    pub conn_max_age: u32,
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
    /// Core-milliseconds of CPU the app used this minute.
    pub cpu_busy_ms: f64,
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
    pub app: AppSettings,
    /// vCPUs per instance (App Runner's InstanceConfiguration.Cpu).
    pub vcpus: f64,
    pub cluster: Option<String>,
    /// The digest actually running (App Runner exposes no API for it; kept for the demo).
    pub deployed_digest: Option<String>,
    /// Armed by fault injection: the next deployment fails its health check.
    pub fail_next_deploy: bool,
    pub concurrency: u32,
    pub active_instances: u32,
    /// Instances started and able to take requests (at least MinSize while running).
    pub ready_instances: u32,
    /// Instances the current concurrency needs.
    pub wanted_instances: u32,
    /// When the instances being started will take requests.
    pub scale_out_at: Option<f64>,
    pub last_request_at: f64,
    pub minute: ServiceMinute,
    /// Ids of the instances started since the service last had none (index = the
    /// front end's instance index); each has an `instance/<id>` log stream.
    pub instance_ids: Vec<String>,
    /// Set when this app runs as an ECS Express service instead of on App Runner.
    pub express: Option<Box<super::express::Express>>,
}

/// Seconds without requests before an instance stops counting as active
/// (unverified on AWS; the seed's graphs suggest a minute or two).
pub const IDLE_BEFORE_INACTIVE: f64 = 60.0;

/// Seconds a new instance takes to start taking requests when concurrency outgrows the
/// ready ones (unverified on AWS; emulated seconds, so `--speed` compresses it).
pub const SCALE_OUT_SECONDS: f64 = 20.0;

impl Service {
    pub fn url(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Whether the app answers requests: not while paused or while instances are
    /// still coming back from a pause.
    pub fn serving(&self) -> bool {
        if let Some(x) = &self.express {
            return x.healthy() > 0;
        }
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

    /// Instances follow concurrency: ceil(concurrency / MaxConcurrency) capped by MaxSize.
    /// Ready instances become active at once; more take SCALE_OUT_SECONDS to start.
    /// Idle instances stay active until IDLE_BEFORE_INACTIVE passes.
    pub fn rescale(&mut self, scaling: &AutoScaling, t: f64) {
        let max_size = scaling.max_size.max(1);
        let needed = self
            .concurrency
            .div_ceil(scaling.max_concurrency.max(1))
            .min(max_size);
        self.ready_instances = self.ready_instances.max(scaling.min_size.min(max_size));
        self.wanted_instances = needed;
        if needed > self.ready_instances && self.scale_out_at.is_none() {
            self.scale_out_at = Some(t + SCALE_OUT_SECONDS);
        }
        if self.concurrency > 0 {
            self.active_instances = needed.max(1).min(self.ready_instances.max(1));
        }
        self.minute.peak_active = self.minute.peak_active.max(self.active_instances);
        self.minute.peak_concurrency = self.minute.peak_concurrency.max(self.concurrency);
    }

    /// Instances finished starting: they take their share of the requests.
    pub fn scaled_out(&mut self, scaling: &AutoScaling) {
        self.scale_out_at = None;
        self.ready_instances = self
            .ready_instances
            .max(self.wanted_instances)
            .min(scaling.max_size.max(1));
        if self.concurrency > 0 {
            self.active_instances = self.wanted_instances.max(1).min(self.ready_instances);
        }
        self.minute.peak_active = self.minute.peak_active.max(self.active_instances);
    }

    pub fn next_transition(&self) -> Option<f64> {
        let work = self.pending.as_ref().map(|p| p.ends_at);
        let express = self.express.as_ref().and_then(|x| x.next_transition());
        let idle = (self.active_instances > 0 && self.concurrency == 0)
            .then_some(self.last_request_at + IDLE_BEFORE_INACTIVE);
        [work, idle, self.scale_out_at, express]
            .into_iter()
            .flatten()
            .reduce(f64::min)
    }
}
