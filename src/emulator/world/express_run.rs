//! What ECS Express services do as time passes and when asked: tasks starting and
//! stopping, deployments moving through canary and bakes (or rolling back when the
//! alarm fires), target tracking, and their AWS/ECS and AWS/ApplicationELB metrics.

use super::World;
use super::express::{
    ALARM_PERCENT, ALARM_POINTS, BAKE, DeployStatus, Deployment, Express, Phase, RECONCILE,
    ROLLBACK, Revision, SCALE_IN_POINTS, SCALE_OUT_POINTS, TASK_START,
};
use super::metrics::{Datum, MetricKey};
use super::service::ServiceMinute;

pub const ECS: &str = "AWS/ECS";
pub const ELB: &str = "AWS/ApplicationELB";

/// The `app/<name>/<id>` and `targetgroup/<name>/<id>` ARN suffixes CloudWatch uses.
pub fn arn_suffix(arn: &str) -> &str {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    resource.strip_prefix("loadbalancer/").unwrap_or(resource)
}

/// A minute's statistics in another unit (milliseconds to seconds).
fn scaled(d: &Datum, factor: f64) -> Datum {
    Datum {
        sum: d.sum * factor,
        count: d.count,
        min: d.min * factor,
        max: d.max * factor,
        samples: d
            .samples
            .iter()
            .map(|v| (*v as f64 * factor) as f32)
            .collect(),
    }
}

impl World {
    fn express_mut(&mut self, i: usize) -> Option<&mut Express> {
        self.services[i].express.as_deref_mut()
    }

    /// Tasks becoming healthy, the task count following `desired`, deployments moving.
    pub(super) fn express_transitions(&mut self, i: usize, t: f64) {
        let Some(x) = self.express_mut(i) else {
            return;
        };
        let before = x.starting.len();
        x.starting.retain(|at| *at > t);
        let started = (before - x.starting.len()) as u32;
        if started > 0 {
            x.running += started;
            let name = self.services[i].name.clone();
            if let Some(x) = self.express_mut(i) {
                x.event(
                    t,
                    format!("(service {name}) registered {started} targets in (target-group)"),
                );
            }
        }
        self.advance_deployment(i, t);
        self.reconcile_tasks(i, t);
    }

    /// Starts or stops tasks until running + starting = desired.
    fn reconcile_tasks(&mut self, i: usize, t: f64) {
        let name = self.services[i].name.clone();
        let Some(x) = self.express_mut(i) else {
            return;
        };
        let total = x.running + x.starting.len() as u32;
        if x.desired > total {
            let n = x.desired - total;
            x.starting
                .extend(std::iter::repeat_n(t + TASK_START, n as usize));
            x.event(t, format!("(service {name}) has started {n} tasks."));
        } else if x.desired < total {
            let mut excess = total - x.desired;
            while excess > 0 && x.starting.pop().is_some() {
                excess -= 1;
            }
            let stopped = excess.min(x.running);
            x.running -= stopped;
            if stopped > 0 {
                x.event(
                    t,
                    format!("(service {name}) has stopped {stopped} running tasks."),
                );
            }
        }
        let healthy = x.healthy();
        let s = &mut self.services[i];
        s.ready_instances = healthy;
        s.scale_out_at = None;
        if healthy == 0 {
            s.active_instances = 0;
        }
        let keep = healthy as usize;
        self.retire_instances(i, keep);
        self.start_instances(i, keep, t);
    }

    /// ECS's UpdateService{desiredCount}: no deployment, tasks follow at once.
    pub fn express_set_desired(&mut self, i: usize, desired: u32, t: f64) {
        if let Some(x) = self.express_mut(i) {
            x.desired = desired;
        }
        self.reconcile_tasks(i, t);
    }

    /// Registers `revision` and starts deploying it; returns the deployment's ARN.
    pub fn express_deploy(&mut self, i: usize, revision: Revision, t: f64) -> String {
        let id = self.random_hex(20);
        let region = self.region.clone();
        let resolvable = self.resolve_image(&revision.image).is_some();
        let s = &mut self.services[i];
        let fault = std::mem::take(&mut s.fail_next_deploy);
        let name = s.name.clone();
        let Some(x) = s.express.as_deref_mut() else {
            return String::new();
        };
        let source = x.active;
        let image_changed = x.revision().image != revision.image;
        x.revisions.push(revision);
        let target = x.revisions.len() - 1;
        let cluster = x.cluster.clone();
        let arn = format!(
            "arn:aws:ecs:{region}:{}:service-deployment/{cluster}/{name}/{id}",
            self.account
        );
        // Tasks to replace: a canary with bakes. Nothing to replace: a reconcile.
        let canary = image_changed && x.running > 0;
        let stuck = std::mem::take(&mut x.stick_next_deployment);
        let (phase, ends) = if canary {
            (Phase::ScaleUp, t + TASK_START)
        } else {
            (Phase::Reconcile, t + RECONCILE)
        };
        if !canary {
            // No tasks to shift: the new revision takes over when it reconciles.
            x.active = target;
        }
        x.deployments.push(Deployment {
            arn: arn.clone(),
            status: DeployStatus::InProgress,
            phase,
            phase_ends_at: (!stuck).then_some(ends),
            source,
            target,
            created_at: t,
            finished_at: None,
            status_reason: None,
            rollback_reason: None,
            rollback_started_at: None,
            triggered_alarm: None,
            bad: fault || !resolvable,
            breaches: 0,
        });
        x.event(
            t,
            format!(
                "(service {name}) has started a deployment ({}).",
                phase.as_aws()
            ),
        );
        if x.deployments.len() > 50 {
            x.deployments.remove(0);
        }
        arn
    }

    /// StopServiceDeployment{ROLLBACK}: traffic goes back to the source revision.
    pub fn express_roll_back(&mut self, i: usize, reason: String, t: f64) -> bool {
        let Some(x) = self.express_mut(i) else {
            return false;
        };
        let Some(d) = x.deployments.last_mut().filter(|d| d.status.in_flight()) else {
            return false;
        };
        if d.status == DeployStatus::RollbackInProgress {
            return true;
        }
        d.status = DeployStatus::RollbackInProgress;
        d.rollback_reason = Some(reason.clone());
        d.rollback_started_at = Some(t);
        d.phase_ends_at = Some(t + ROLLBACK);
        let source = d.source;
        x.active = source;
        x.event(t, format!("rolling back: {reason}"));
        let image = x.revision().image.clone();
        self.services[i].image_identifier = image;
        true
    }

    fn advance_deployment(&mut self, i: usize, t: f64) {
        let Some(x) = self.express_mut(i) else {
            return;
        };
        let Some(d) = x.deployments.last_mut() else {
            return;
        };
        if !d.status.in_flight() || d.phase_ends_at.is_none_or(|at| at > t) {
            return;
        }
        let mut new_image = None;
        if d.status == DeployStatus::RollbackInProgress {
            d.status = DeployStatus::RollbackSuccessful;
            d.phase = Phase::Done;
            d.phase_ends_at = None;
            d.finished_at = Some(t);
            d.status_reason = d.rollback_reason.clone();
        } else {
            let next = match d.phase {
                Phase::Reconcile | Phase::CleanUp => Phase::Done,
                Phase::ScaleUp => Phase::Canary,
                Phase::Canary => Phase::Bake,
                Phase::Bake => Phase::CleanUp,
                Phase::Done => Phase::Done,
            };
            d.phase = next;
            d.phase_ends_at = match next {
                Phase::Canary | Phase::Bake => Some(t + BAKE),
                Phase::CleanUp => Some(t + 10.0),
                _ => None,
            };
            if next == Phase::Bake {
                // 100 % of traffic on the new revision.
                x.active = d.target;
                new_image = Some(x.revisions[d.target].image.clone());
            }
            if next == Phase::Done {
                d.status = DeployStatus::Successful;
                d.finished_at = Some(t);
                x.active = d.target;
                new_image = Some(x.revisions[d.target].image.clone());
            }
        }
        if let Some(image) = new_image {
            let digest = self.resolve_image(&image).map(|im| im.digest.clone());
            let s = &mut self.services[i];
            s.image_identifier = image;
            s.deployed_digest = digest.or(s.deployed_digest.take());
        }
    }

    /// One minute of the service: the rollback alarm, target tracking, and its metrics.
    pub(super) fn express_minute(&mut self, i: usize, minute: i64, m: &ServiceMinute, cpu: f64) {
        let t = minute as f64 + 60.0;
        let name = self.services[i].name.clone();
        let Some(x) = self.services[i].express.as_deref_mut() else {
            return;
        };
        // The deployment alarm: (4xx + 5xx) over 1 % of requests, in bakes only.
        let errors = (m.status_4xx + m.status_5xx) as f64;
        let breach = m.requests > 0 && errors * 100.0 / m.requests as f64 > ALARM_PERCENT;
        let alarm = x.alarm_name.clone();
        let mut rollback = None;
        if let Some(d) = x.deployments.last_mut().filter(|d| {
            d.status == DeployStatus::InProgress && matches!(d.phase, Phase::Canary | Phase::Bake)
        }) && breach
        {
            d.breaches += 1;
            if d.breaches >= ALARM_POINTS {
                d.triggered_alarm = Some(alarm.clone());
                rollback = Some(format!(
                    "alarm {alarm} went into ALARM: 4xx+5xx responses above {ALARM_PERCENT} % of requests in {ALARM_POINTS} data points"
                ));
            }
        }
        // Target tracking on the scaling metric; none while nothing runs (no data).
        let scaling = x.scaling().clone();
        let running = x.running;
        let value = match scaling.metric.as_str() {
            "REQUEST_COUNT_PER_TARGET" if running > 0 => Some(m.requests as f64 / running as f64),
            "AVERAGE_MEMORY" if running > 0 => Some(22.0 + cpu / 5.0),
            _ if running > 0 => Some(cpu),
            _ => None,
        };
        let target = scaling.target.max(1) as f64;
        if x.deploying().is_none()
            && let Some(v) = value
        {
            if v > target {
                x.points_above += 1;
                x.points_below = 0;
            } else if v < 0.9 * target {
                x.points_below += 1;
                x.points_above = 0;
            } else {
                x.points_above = 0;
                x.points_below = 0;
            }
            let wanted = (running as f64 * v / target).ceil() as u32;
            let bounded = wanted.clamp(scaling.min.max(1), scaling.max.max(1));
            if x.points_above >= SCALE_OUT_POINTS && bounded > x.desired {
                x.desired = bounded;
                x.points_above = 0;
                x.event(
                    t,
                    format!("(service {name}) target tracking: desired count {bounded}"),
                );
            } else if x.points_below >= SCALE_IN_POINTS && x.desired > scaling.min.max(1) {
                x.desired = (x.desired - 1).max(scaling.min.max(1));
                x.points_below = 0;
            }
        }
        let (cluster, lb, tg, elb_503, healthy) = (
            x.cluster.clone(),
            arn_suffix(&x.load_balancer_arn).to_string(),
            arn_suffix(&x.target_group_arn).to_string(),
            std::mem::take(&mut x.elb_503),
            x.healthy(),
        );
        if let Some(reason) = rollback {
            self.express_roll_back(i, reason, t);
        }
        self.reconcile_tasks(i, t);
        let ecs_dims = [
            ("ClusterName", cluster.as_str()),
            ("ServiceName", name.as_str()),
        ];
        if running > 0 {
            let put = |store: &mut super::metrics::MetricStore, metric: &str, v: f64| {
                store.put(
                    MetricKey::new(ECS, metric, &ecs_dims),
                    minute,
                    Datum::single(v),
                )
            };
            put(&mut self.metrics, "CPUUtilization", cpu);
            put(&mut self.metrics, "MemoryUtilization", 22.0 + cpu / 5.0);
        }
        let tg_dims = [("LoadBalancer", lb.as_str()), ("TargetGroup", tg.as_str())];
        let put = |store: &mut super::metrics::MetricStore, metric: &str, d: Datum| {
            store.put(MetricKey::new(ELB, metric, &tg_dims), minute, d)
        };
        put(
            &mut self.metrics,
            "HealthyHostCount",
            Datum::single(healthy as f64),
        );
        if m.requests > 0 {
            put(
                &mut self.metrics,
                "RequestCount",
                Datum::single(m.requests as f64),
            );
            put(
                &mut self.metrics,
                "HTTPCode_Target_2XX_Count",
                Datum::single(m.status_2xx as f64),
            );
            put(
                &mut self.metrics,
                "HTTPCode_Target_4XX_Count",
                Datum::single(m.status_4xx as f64),
            );
            put(
                &mut self.metrics,
                "HTTPCode_Target_5XX_Count",
                Datum::single(m.status_5xx as f64),
            );
            // TargetResponseTime is in seconds.
            put(
                &mut self.metrics,
                "TargetResponseTime",
                scaled(&m.latency_ms, 0.001),
            );
        }
        if elb_503 > 0 {
            // The load balancer's own 503s carry no target group (aws.md 16.5).
            self.metrics.put(
                MetricKey::new(
                    ELB,
                    "HTTPCode_ELB_503_Count",
                    &[("LoadBalancer", lb.as_str())],
                ),
                minute,
                Datum::single(elb_503 as f64),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::seed::{EnvSpec, ServiceSpec, add_environment};

    fn express_world() -> (World, usize) {
        let mut w = World::empty("us-east-1", 0.0);
        let mut spec = EnvSpec::new("x", "o");
        spec.cluster = None;
        spec.service = Some(ServiceSpec {
            express: true,
            min_size: 1,
            max_size: 4,
            ..ServiceSpec::default()
        });
        let i = add_environment(&mut w, &spec, 0.0).unwrap();
        (w, i)
    }

    fn tasks(w: &World, i: usize) -> (u32, u32) {
        let x = w.services[i].express.as_ref().unwrap();
        (x.desired, x.running)
    }

    #[test]
    fn target_tracking_adds_a_task_after_three_minutes_above_its_cpu_target() {
        let (mut w, i) = express_world();
        // 90 % of one vCPU for a minute, against a target of 60 %.
        for minute in 1..=2 {
            w.services[i].minute.cpu_busy_ms = 54_000.0;
            w.catch_up(minute as f64 * 60.0);
        }
        assert_eq!(tasks(&w, i), (1, 1), "two points are not enough");
        w.services[i].minute.cpu_busy_ms = 54_000.0;
        w.catch_up(180.0);
        assert_eq!(
            tasks(&w, i),
            (2, 1),
            "the third point scales out; the task starts"
        );
        w.catch_up(180.0 + TASK_START);
        assert_eq!(tasks(&w, i), (2, 2));
    }

    #[test]
    fn at_zero_tasks_nothing_scales_it_out() {
        let (mut w, i) = express_world();
        w.express_set_desired(i, 0, 0.0);
        w.services[i].express.as_mut().unwrap().revisions[0]
            .scaling
            .min = 0;
        for minute in 1..=30 {
            w.services[i].minute.requests += 100;
            w.catch_up(minute as f64 * 60.0);
        }
        assert_eq!(tasks(&w, i), (0, 0), "no data points at zero tasks");
    }
}
