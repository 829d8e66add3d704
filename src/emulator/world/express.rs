//! An ECS Express Mode service around the shared app model (the `Service` it belongs to):
//! its ECS service (desired, starting and running tasks), its revisions, canary
//! deployments with two bakes and a rollback alarm, and target-tracking scaling. The
//! load balancer in front is the service's app listener: 503 while no task is healthy
//! (reference/aws.md section 16).

/// Fargate pull and start plus one passed ALB health check (aws.md 16.3: 503 -> 200 in
/// about a minute).
pub const TASK_START: f64 = 60.0;
/// Each of the canary's two bakes (aws.md 16.4).
pub const BAKE: f64 = 180.0;
/// The canary's share of production traffic, in percent.
pub const CANARY_PERCENT: u64 = 5;
/// A scaling-only update (or one with no tasks to replace) only reconciles the service.
/// Unverified on AWS, which runs it as a deployment too; kept short here.
pub const RECONCILE: f64 = 60.0;
/// Traffic back on the old tasks and the new ones stopped.
pub const ROLLBACK: f64 = 60.0;
/// Target tracking's alarms: 3 one-minute points above target to scale out, 15 below
/// 90 % of it to scale in (AWS's target tracking defaults), so it is slower and coarser
/// than App Runner's per-request concurrency.
pub const SCALE_OUT_POINTS: u32 = 3;
pub const SCALE_IN_POINTS: u32 = 15;
/// The rollback alarm: (4xx + 5xx) above 1 % of requests in 2 data points (aws.md 16.4).
pub const ALARM_PERCENT: f64 = 1.0;
pub const ALARM_POINTS: u32 = 2;

#[derive(Clone, Debug, PartialEq)]
pub struct ScalingTarget {
    pub min: u32,
    pub max: u32,
    /// AVERAGE_CPU, AVERAGE_MEMORY or REQUEST_COUNT_PER_TARGET.
    pub metric: String,
    pub target: i64,
}

/// One service revision: the configuration a deployment rolls out.
#[derive(Clone, Debug)]
pub struct Revision {
    pub arn: String,
    pub task_definition: String,
    pub image: String,
    /// The digest the image resolved to when the revision was made.
    pub digest: Option<String>,
    pub cpu: String,
    pub memory: String,
    pub health_check_path: String,
    pub container_port: i64,
    pub scaling: ScalingTarget,
    pub created_at: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeployStatus {
    InProgress,
    Successful,
    Stopped,
    RollbackInProgress,
    RollbackSuccessful,
}

impl DeployStatus {
    pub fn as_aws(self) -> &'static str {
        match self {
            DeployStatus::InProgress => "IN_PROGRESS",
            DeployStatus::Successful => "SUCCESSFUL",
            DeployStatus::Stopped => "STOPPED",
            DeployStatus::RollbackInProgress => "ROLLBACK_IN_PROGRESS",
            DeployStatus::RollbackSuccessful => "ROLLBACK_SUCCESSFUL",
        }
    }

    pub fn in_flight(self) -> bool {
        matches!(
            self,
            DeployStatus::InProgress | DeployStatus::RollbackInProgress
        )
    }
}

/// Where a deployment is (its lifecycle stage in AWS's words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Reconcile,
    /// The new revision's tasks start.
    ScaleUp,
    /// 5 % of traffic on the new tasks, first bake.
    Canary,
    /// 100 % on the new tasks, second bake.
    Bake,
    /// Old tasks stopped.
    CleanUp,
    Done,
}

impl Phase {
    pub fn as_aws(self) -> &'static str {
        match self {
            Phase::Reconcile => "RECONCILE_SERVICE",
            Phase::ScaleUp => "SCALE_UP",
            Phase::Canary => "PRODUCTION_TRAFFIC_SHIFT",
            Phase::Bake => "BAKE_TIME",
            Phase::CleanUp | Phase::Done => "CLEAN_UP",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Deployment {
    pub arn: String,
    pub status: DeployStatus,
    pub phase: Phase,
    /// When the current phase ends; None while it waits on nothing (stuck, or done).
    pub phase_ends_at: Option<f64>,
    pub source: usize,
    pub target: usize,
    pub created_at: f64,
    pub finished_at: Option<f64>,
    pub status_reason: Option<String>,
    pub rollback_reason: Option<String>,
    pub rollback_started_at: Option<f64>,
    pub triggered_alarm: Option<String>,
    /// The new image fails: its tasks answer 5xx (a bad image or an armed fault).
    pub bad: bool,
    /// Alarm data points above the threshold during this deployment's bakes.
    pub breaches: u32,
}

#[derive(Clone, Debug)]
pub struct Express {
    pub cluster: String,
    pub status_code: &'static str,
    pub infrastructure_role: String,
    pub desired: u32,
    pub running: u32,
    /// Tasks starting: when each becomes healthy.
    pub starting: Vec<f64>,
    pub revisions: Vec<Revision>,
    /// The revision serving production traffic.
    pub active: usize,
    pub deployments: Vec<Deployment>,
    pub load_balancer_arn: String,
    pub target_group_arn: String,
    /// The ALB was deleted under the service (fault injection).
    pub load_balancer_gone: bool,
    /// A deployment that stops advancing (fault injection).
    pub stick_next_deployment: bool,
    pub log_group: String,
    pub alarm_name: String,
    /// ECS service events, oldest first.
    pub events: Vec<(f64, String)>,
    pub points_above: u32,
    pub points_below: u32,
    /// Requests the load balancer answered itself with 503 (no healthy target).
    pub elb_503: u64,
    /// Counts requests so every 20th goes to the canary.
    pub routed: u64,
}

impl Express {
    pub fn revision(&self) -> &Revision {
        // Invariant: `active` always indexes a revision (there is one from creation).
        &self.revisions[self.active]
    }

    pub fn scaling(&self) -> &ScalingTarget {
        &self.revision().scaling
    }

    pub fn current_deployment(&self) -> Option<&Deployment> {
        self.deployments.last()
    }

    pub fn deploying(&self) -> Option<&Deployment> {
        self.deployments.last().filter(|d| d.status.in_flight())
    }

    /// Healthy targets behind the load balancer.
    pub fn healthy(&self) -> u32 {
        if self.load_balancer_gone {
            0
        } else {
            self.running
        }
    }

    pub fn next_transition(&self) -> Option<f64> {
        let starting = self.starting.iter().copied().reduce(f64::min);
        let phase = self.deploying().and_then(|d| d.phase_ends_at);
        [starting, phase].into_iter().flatten().reduce(f64::min)
    }

    /// Whether this request goes to a failing canary: every 20th request while the
    /// canary takes 5 %, every request once a bad revision takes all the traffic.
    pub fn route_to_bad_tasks(&mut self) -> bool {
        self.routed += 1;
        match self.deploying() {
            Some(d) if d.bad && d.status == DeployStatus::InProgress => match d.phase {
                Phase::Canary => self.routed.is_multiple_of(100 / CANARY_PERCENT),
                Phase::Bake | Phase::CleanUp => true,
                _ => false,
            },
            _ => false,
        }
    }

    pub fn event(&mut self, t: f64, message: String) {
        self.events.push((t, message));
        if self.events.len() > 100 {
            self.events.remove(0);
        }
    }
}
