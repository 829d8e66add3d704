//! RDS changes: ModifyDBCluster, ModifyCurrentDBClusterCapacity, StartDBCluster and
//! StopDBCluster, each refused in AWS's words when the cluster's state forbids it.

use super::{cluster_json, find, invalid_state};
use crate::emulator::api::{ApiError, ApiResult};
use crate::emulator::world::World;
use crate::emulator::world::cluster::{ClusterStatus, DbMode, Power};
use serde_json::{Value, json};

pub(super) fn modify_cluster(w: &mut World, input: &Value, now: f64) -> ApiResult {
    let i = find(w, input)?;
    let c = &w.clusters[i];
    if c.status != ClusterStatus::Available {
        return Err(invalid_state(c, "It must be available to be modified."));
    }
    let v2 = input.get("ServerlessV2ScalingConfiguration");
    let v1 = input.get("ScalingConfiguration");
    let mut resume = false;
    if let Some(cfg) = v2 {
        let DbMode::ServerlessV2 {
            min,
            max,
            seconds_until_auto_pause,
        } = c.mode.clone()
        else {
            return Err(ApiError::new(
                "InvalidParameterCombination",
                "ServerlessV2ScalingConfiguration applies only to Aurora Serverless v2 clusters.",
            ));
        };
        let new_min = cfg
            .get("MinCapacity")
            .and_then(Value::as_f64)
            .unwrap_or(min);
        let new_max = cfg
            .get("MaxCapacity")
            .and_then(Value::as_f64)
            .unwrap_or(max);
        let seconds = cfg
            .get("SecondsUntilAutoPause")
            .and_then(Value::as_i64)
            .unwrap_or(seconds_until_auto_pause as i64);
        let half_steps = |x: f64| (x * 2.0).fract() == 0.0;
        if !(0.0..=256.0).contains(&new_min)
            || !(1.0..=256.0).contains(&new_max)
            || new_min > new_max
            || !half_steps(new_min)
            || !half_steps(new_max)
        {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!(
                    "Invalid capacity range {new_min}..{new_max}: MinCapacity 0 to 256 and MaxCapacity 1 to 256 in steps of 0.5, min <= max."
                ),
            ));
        }
        if !(300..=86400).contains(&seconds) {
            return Err(ApiError::new(
                "InvalidParameterValue",
                "SecondsUntilAutoPause must be between 300 and 86400.",
            ));
        }
        w.clusters[i].mode = DbMode::ServerlessV2 {
            min: new_min,
            max: new_max,
            seconds_until_auto_pause: seconds as u32,
        };
        // A scaling-range change resumes a paused writer.
        resume = true;
    }
    if let Some(cfg) = v1 {
        let DbMode::ServerlessV1 {
            min,
            max,
            auto_pause,
            seconds_until_auto_pause,
        } = w.clusters[i].mode.clone()
        else {
            return Err(ApiError::new(
                "InvalidParameterCombination",
                "ScalingConfiguration applies only to Aurora Serverless v1 clusters.",
            ));
        };
        let get_u = |k: &str, d: u32| {
            cfg.get(k)
                .and_then(Value::as_u64)
                .map(|v| v as u32)
                .unwrap_or(d)
        };
        let new_min = get_u("MinCapacity", min);
        let new_max = get_u("MaxCapacity", max);
        if !valid_v1_capacity(new_min) || !valid_v1_capacity(new_max) || new_min > new_max {
            return Err(ApiError::new(
                "InvalidParameterValue",
                "Aurora PostgreSQL Serverless v1 capacity must be one of 2, 4, 8, 16, 32, 64, 192, 384.",
            ));
        }
        w.clusters[i].mode = DbMode::ServerlessV1 {
            min: new_min,
            max: new_max,
            auto_pause: cfg
                .get("AutoPause")
                .and_then(Value::as_bool)
                .unwrap_or(auto_pause),
            seconds_until_auto_pause: get_u("SecondsUntilAutoPause", seconds_until_auto_pause),
        };
    }
    if let Some(enable) = input.get("EnableHttpEndpoint").and_then(Value::as_bool) {
        w.clusters[i].http_endpoint_enabled = enable;
    }
    if resume && w.clusters[i].paused() {
        w.begin_resume(i, now);
        // Admin-triggered wakes keep the writer up for at least 20 minutes.
        w.clusters[i].no_pause_until = now + 20.0 * 60.0;
    }
    Ok(json!({"DBCluster": cluster_json(w, &w.clusters[i])}))
}

fn valid_v1_capacity(c: u32) -> bool {
    [2, 4, 8, 16, 32, 64, 192, 384].contains(&c)
}

pub(super) fn modify_capacity(w: &mut World, input: &Value, now: f64) -> ApiResult {
    let i = find(w, input)?;
    let c = &w.clusters[i];
    let DbMode::ServerlessV1 { .. } = c.mode else {
        return Err(invalid_state(
            c,
            "ModifyCurrentDBClusterCapacity applies only to Aurora Serverless v1 clusters.",
        ));
    };
    if c.status != ClusterStatus::Available {
        return Err(invalid_state(c, "It must be available."));
    }
    let capacity = input
        .get("Capacity")
        .and_then(Value::as_u64)
        .map(|v| v as u32);
    if let Some(cap) = capacity
        && !valid_v1_capacity(cap)
    {
        return Err(ApiError::new(
            "InvalidDBClusterCapacityFault",
            format!(
                "Capacity {cap} is not valid. Valid values for Aurora PostgreSQL are 2, 4, 8, 16, 32, 64, 192 and 384."
            ),
        ));
    }
    let seconds = input
        .get("SecondsBeforeTimeout")
        .and_then(Value::as_i64)
        .unwrap_or(300);
    if !(10..=600).contains(&seconds) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "SecondsBeforeTimeout must be between 10 and 600.",
        ));
    }
    let action = input
        .get("TimeoutAction")
        .and_then(Value::as_str)
        .unwrap_or("ForceApplyCapacityChange");
    if !["ForceApplyCapacityChange", "RollbackCapacityChange"].contains(&action) {
        return Err(ApiError::new(
            "InvalidParameterValue",
            format!("Invalid TimeoutAction {action}"),
        ));
    }
    let current = w.clusters[i].capacity as i64;
    let pending = capacity.unwrap_or(current.max(2) as u32);
    match w.clusters[i].power {
        // Changing the capacity of a paused v1 cluster resumes it.
        Power::Paused { .. } | Power::Resuming { .. } => {
            w.begin_resume(i, now);
            w.clusters[i].capacity = pending as f64;
            w.clusters[i].no_pause_until = now + 20.0 * 60.0;
        }
        _ => {
            let from = w.clusters[i].capacity as u32;
            if from != pending {
                w.clusters[i].capacity = pending as f64;
                w.add_event(i, false, format!("Scaling DB cluster from {from} capacity units to {pending} capacity units for this reason: API call."), vec!["notification"], now);
                w.add_event(i, false, format!("The DB cluster has scaled from {from} capacity units to {pending} capacity units."), vec!["notification"], now);
            }
        }
    }
    Ok(json!({
        "DBClusterIdentifier": w.clusters[i].id,
        "PendingCapacity": pending,
        "CurrentCapacity": current,
        "SecondsBeforeTimeout": seconds,
        "TimeoutAction": action,
    }))
}

pub(super) fn start_cluster(w: &mut World, input: &Value, now: f64) -> ApiResult {
    let i = find(w, input)?;
    let c = &w.clusters[i];
    if c.is_v1() {
        return Err(invalid_state(
            c,
            "Aurora Serverless v1 clusters can't be started or stopped.",
        ));
    }
    if c.status != ClusterStatus::Stopped {
        return Err(invalid_state(c, "It must be stopped to be started."));
    }
    let until = now + w.durations.cluster_start;
    let c = &mut w.clusters[i];
    c.status = ClusterStatus::Starting { until };
    c.automatic_restart_time = None;
    Ok(json!({"DBCluster": cluster_json(w, &w.clusters[i])}))
}

pub(super) fn stop_cluster(w: &mut World, input: &Value, now: f64) -> ApiResult {
    let i = find(w, input)?;
    let c = &w.clusters[i];
    if c.is_v1() {
        return Err(invalid_state(
            c,
            "Aurora Serverless v1 clusters can't be started or stopped.",
        ));
    }
    if let Some(g) = &c.blockers.global_cluster {
        return Err(ApiError::new(
            "InvalidDBClusterStateFault",
            format!(
                "DB cluster {} is a member of global cluster {g} and can't be stopped.",
                c.id
            ),
        ));
    }
    if c.status != ClusterStatus::Available {
        return Err(invalid_state(c, "It must be available to be stopped."));
    }
    let until = now + w.durations.cluster_stop;
    w.clusters[i].status = ClusterStatus::Stopping { until };
    Ok(json!({"DBCluster": cluster_json(w, &w.clusters[i])}))
}
