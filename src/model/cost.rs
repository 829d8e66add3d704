//! What an environment costs: now, per month at its recent usage, and what pausing saves.
//! Prices are us-east-1 list prices from reference/aws.md section 11, kept here in one
//! place so they are easy to update.

use super::{DatabaseState, DbMode, Environment, Power, ServiceStatus};
use serde::Serialize;

/// Aurora Serverless v2 (Aurora Standard), per ACU-hour.
pub const AURORA_V2_ACU_HOUR: f64 = 0.12;
/// Aurora Serverless v1 (legacy), per ACU-hour.
pub const AURORA_V1_ACU_HOUR: f64 = 0.06;
/// Hours in AWS's billing month.
pub const HOURS_PER_MONTH: f64 = 730.0;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Cost {
    /// Dollars per hour at this moment.
    pub per_hour_now: f64,
    /// Dollars per month if the last day's usage continued.
    pub per_month_at_recent_usage: f64,
    /// Dollars per month the same environment would cost if it never paused (service
    /// always provisioned, database at its floor or 0.5 ACU).
    pub per_month_never_paused: f64,
}

impl Cost {
    pub fn saved_per_month(&self) -> f64 {
        (self.per_month_never_paused - self.per_month_at_recent_usage).max(0.0)
    }
}

/// What a compute kind charges (its module sets it on each service it describes).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ComputePrices {
    /// Per GB-hour of memory of every provisioned instance or task.
    pub gb_hour: f64,
    /// Per vCPU-hour of active instances or tasks.
    pub vcpu_hour: f64,
    /// What keeps costing at zero tasks, per hour (ECS Express: its share of the load
    /// balancer and its public addresses).
    pub standing_hour: f64,
}

/// Hourly price for `provisioned` instances of which `active` are active.
pub fn compute_per_hour(
    prices: ComputePrices,
    vcpu: f64,
    memory_gb: f64,
    provisioned: f64,
    active: f64,
) -> f64 {
    // Active instances pay compute; memory is paid once for every provisioned instance.
    provisioned.max(active) * memory_gb * prices.gb_hour + active * vcpu * prices.vcpu_hour
}

pub fn aurora_per_hour(db: &DatabaseState, acu: f64) -> f64 {
    match db.mode {
        DbMode::ServerlessV2 { .. } => acu * AURORA_V2_ACU_HOUR,
        DbMode::ServerlessV1 { .. } => acu * AURORA_V1_ACU_HOUR,
        // Provisioned instance prices vary by class; not estimated.
        DbMode::Provisioned { .. } => 0.0,
    }
}

/// The average of a series over `window` seconds of `period`-second points, counting
/// missing points as 0 (no data from a paused part means no use).
pub fn average_over(series: &super::MetricSeries, period: f64, window: f64) -> f64 {
    if window <= 0.0 {
        return 0.0;
    }
    series.points.iter().map(|p| p.1).sum::<f64>() * period / window
}

/// Cost from the current state and the last day's average active instances and ACU.
pub fn estimate(env: &Environment, avg_active: f64, avg_acu: f64) -> Cost {
    let mut cost = Cost::default();
    if let Some(s) = &env.service {
        let min_size = s.scaling.as_ref().map(|c| c.min_size).unwrap_or(1) as f64;
        let provisioned = s.provisioned_instances() as f64;
        let active = s.active_instances.unwrap_or(0.0);
        cost.per_hour_now += compute_per_hour(s.prices, s.vcpu, s.memory_gb, provisioned, active);
        cost.per_hour_now += s.prices.standing_hour;
        cost.per_month_at_recent_usage += s.prices.standing_hour * HOURS_PER_MONTH;
        cost.per_month_never_paused += s.prices.standing_hour * HOURS_PER_MONTH;
        let paused = s.status == ServiceStatus::Paused;
        let recent_provisioned = if paused { 0.0 } else { min_size };
        cost.per_month_at_recent_usage += compute_per_hour(
            s.prices,
            s.vcpu,
            s.memory_gb,
            recent_provisioned,
            avg_active,
        ) * HOURS_PER_MONTH;
        cost.per_month_never_paused +=
            compute_per_hour(s.prices, s.vcpu, s.memory_gb, min_size, avg_active) * HOURS_PER_MONTH;
    }
    if let Some(db) = &env.database {
        let now_acu = match db.power {
            Power::Paused { .. } | Power::Stopped => 0.0,
            _ => db.capacity.unwrap_or(0.0),
        };
        cost.per_hour_now += aurora_per_hour(db, now_acu);
        cost.per_month_at_recent_usage += aurora_per_hour(db, avg_acu) * HOURS_PER_MONTH;
        let floor = match db.mode {
            DbMode::ServerlessV2 { min_acu, .. } => min_acu.max(0.5),
            DbMode::ServerlessV1 { min_acu, .. } => min_acu as f64,
            DbMode::Provisioned { .. } => 0.0,
        };
        cost.per_month_never_paused += aurora_per_hour(db, avg_acu.max(floor)) * HOURS_PER_MONTH;
    }
    cost
}

/// Dollars spent from `from` to `to`, from hourly averages: an hour with a point in the
/// service's active-instance series was provisioned (paused hours report nothing), the
/// database pays its average ACU of each hour, and what keeps costing at zero pays every
/// hour. An estimate from metrics, not a bill.
pub fn spent(env: &Environment, hourly: &super::EnvMetrics, from: f64, to: f64) -> f64 {
    let hours = ((to - from) / 3600.0).max(0.0);
    let in_range = |t: f64| t >= from - 3600.0 && t < to;
    let mut dollars = 0.0;
    if let Some(s) = &env.service {
        let min_size = s.scaling.as_ref().map(|c| c.min_size).unwrap_or(1) as f64;
        dollars += s.prices.standing_hour * hours;
        dollars += hourly
            .active_instances
            .points
            .iter()
            .filter(|p| in_range(p.0))
            .map(|p| compute_per_hour(s.prices, s.vcpu, s.memory_gb, min_size, p.1))
            .sum::<f64>();
    }
    if let Some(db) = &env.database {
        dollars += hourly
            .capacity
            .points
            .iter()
            .filter(|p| in_range(p.0))
            .map(|p| aurora_per_hour(db, p.1))
            .sum::<f64>();
    }
    dollars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compute_bills_memory_once_and_cpu_only_when_active() {
        // App Runner's prices, the seed's 1 vCPU / 2 GB: idle $0.014/h, active $0.078/h.
        let p = ComputePrices {
            gb_hour: 0.007,
            vcpu_hour: 0.064,
            standing_hour: 0.0,
        };
        assert!((compute_per_hour(p, 1.0, 2.0, 1.0, 0.0) - 0.014).abs() < 1e-9);
        assert!((compute_per_hour(p, 1.0, 2.0, 1.0, 1.0) - 0.078).abs() < 1e-9);
    }

    #[test]
    fn spent_counts_running_hours_the_databases_acu_and_standing_costs() {
        use crate::model::{EnvMetrics, MetricSeries};
        let mut env = crate::model::test_support::environment("dev");
        let from = 1_796_083_200.0; // 2026-12-01T00:00Z
        let hour = |h: f64| from + h * 3600.0;
        let m = EnvMetrics {
            // Running with no traffic for 2 hours, paused (no points) for the rest.
            active_instances: MetricSeries {
                points: vec![(hour(0.0), 0.0), (hour(1.0), 0.0)],
            },
            // 1 ACU for 3 hours.
            capacity: MetricSeries {
                points: vec![(hour(0.0), 1.0), (hour(1.0), 1.0), (hour(2.0), 1.0)],
            },
            ..Default::default()
        };
        let s = env.service.as_mut().expect("a service");
        s.prices = ComputePrices {
            gb_hour: 0.007,
            vcpu_hour: 0.064,
            standing_hour: 0.01,
        };
        (s.vcpu, s.memory_gb) = (1.0, 2.0);
        let min_size = s.scaling.as_ref().map_or(1, |c| c.min_size) as f64;
        let dollars = spent(&env, &m, from, hour(10.0));
        let expected = 2.0 * min_size * 0.014 + 3.0 * AURORA_V2_ACU_HOUR + 10.0 * 0.01;
        assert!((dollars - expected).abs() < 1e-9, "{dollars} vs {expected}");
        // Points before the range do not count.
        assert!(spent(&env, &m, hour(2.0), hour(10.0)) < dollars);
    }
}
