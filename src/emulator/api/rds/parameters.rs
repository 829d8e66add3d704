//! Cluster parameter groups (DescribeDBClusterParameters). A cluster the world gives its
//! own settings (max_connections) uses a custom group named after it, as a team that
//! changed a parameter would have to (default groups cannot be modified); every other
//! cluster uses the engine's default group, which lists only engine defaults.

use super::{SVC, page_size};
use crate::emulator::api::{ApiError, ApiResult, paginate, required_str};
use crate::emulator::world::World;
use crate::emulator::world::cluster::Cluster;
use serde_json::{Value, json};

/// The name of the cluster parameter group `c` uses.
pub fn group_name(c: &Cluster) -> String {
    if c.max_connections_override.is_some() || c.blockers.logical_replication {
        format!("{}-params", c.id)
    } else {
        format!("default.aurora-postgresql{}", major(c))
    }
}

fn major(c: &Cluster) -> &str {
    c.engine_version.split('.').next().unwrap_or("16")
}

/// One parameter as RDS lists it.
fn parameter(name: &str, value: Option<&str>, source: &str, data_type: &str, apply: &str) -> Value {
    json!({
        "ParameterName": name,
        "ParameterValue": value,
        "Description": format!("{name} (emulated)"),
        "Source": source,
        "ApplyType": apply,
        "DataType": data_type,
        "IsModifiable": true,
        "ApplyMethod": if apply == "static" { "pending-reboot" } else { "immediate" },
        "SupportedEngineModes": ["provisioned", "serverless"],
    })
}

/// The engine defaults every group starts from (a few of PostgreSQL's several hundred:
/// the ones scale0 or a teammate would look at).
fn engine_defaults() -> Vec<Value> {
    vec![
        parameter(
            "idle_session_timeout",
            None,
            "engine-default",
            "integer",
            "dynamic",
        ),
        parameter(
            "log_min_duration_statement",
            None,
            "engine-default",
            "integer",
            "dynamic",
        ),
        parameter(
            "max_connections",
            Some("LEAST({DBInstanceClassMemory/9531392},5000)"),
            "engine-default",
            "integer",
            "static",
        ),
        parameter(
            "rds.logical_replication",
            Some("0"),
            "engine-default",
            "boolean",
            "static",
        ),
        parameter(
            "shared_preload_libraries",
            Some("pg_stat_statements"),
            "engine-default",
            "list",
            "static",
        ),
    ]
}

pub fn describe_cluster_parameters(w: &World, input: &Value) -> ApiResult {
    let name = required_str(SVC, input, "DBClusterParameterGroupName")?;
    let size = page_size(input)?;
    let Some(cluster) = w
        .clusters
        .iter()
        .find(|c| group_name(c) == name)
        .or_else(|| {
            // A default group exists whether or not a cluster uses it.
            w.clusters
                .iter()
                .find(|c| name == format!("default.aurora-postgresql{}", major(c)))
        })
    else {
        return Err(ApiError::new(
            "DBParameterGroupNotFound",
            format!("DBClusterParameterGroup not found: {name}"),
        ));
    };
    let mut parameters = engine_defaults();
    let custom = group_name(cluster) == name && !name.starts_with("default.");
    let mut user = Vec::new();
    if custom && let Some(n) = cluster.max_connections_override {
        user.push(("max_connections", n.to_string(), "integer"));
    }
    if custom && cluster.blockers.logical_replication {
        user.push(("rds.logical_replication", "1".to_string(), "boolean"));
    }
    for (param, value, data_type) in user {
        parameters.retain(|p| p["ParameterName"] != param);
        parameters.push(parameter(param, Some(&value), "user", data_type, "static"));
    }
    parameters.sort_by(|a, b| {
        a["ParameterName"]
            .as_str()
            .cmp(&b["ParameterName"].as_str())
    });
    let source = input.get("Source").and_then(Value::as_str);
    if let Some(s) = source
        && !["user", "engine-default", "system"].contains(&s)
    {
        return Err(ApiError::invalid_input(
            SVC,
            format!("Invalid value {s} for Source. Must be one of user, engine-default, system"),
        ));
    }
    let listed: Vec<Value> = parameters
        .into_iter()
        .filter(|p| source.is_none_or(|s| p["Source"] == s))
        .collect();
    let (page, next) = paginate(
        SVC,
        &listed,
        input.get("Marker").and_then(Value::as_str),
        size,
    )?;
    Ok(json!({"Parameters": page, "Marker": next}))
}
