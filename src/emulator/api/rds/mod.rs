//! RDS (awsQuery with XML responses): describes and tags here, changes in modify.rs.

mod blockers;
mod modify;
mod parameters;

use modify::{modify_capacity, modify_cluster, start_cluster, stop_cluster};

use super::{ApiError, ApiResult, merge_tags, paginate, required_str, tags_from, tags_json};
use crate::emulator::Shared;
use crate::emulator::shapes::AwsService;
use crate::emulator::world::World;
use crate::emulator::world::cluster::{Cluster, ClusterStatus, DbMode};
use serde_json::{Value, json};

const SVC: AwsService = AwsService::Rds;

pub fn call(shared: &Shared, op: &str, input: &Value) -> Option<ApiResult> {
    let (mut world, now) = shared.world();
    dispatch(&mut world, now, op, input)
}

/// One operation on a world already caught up to `now` (the scheduler's targets, too).
pub fn dispatch(w: &mut World, now: f64, op: &str, input: &Value) -> Option<ApiResult> {
    Some(match op {
        "DescribeDBClusters" => describe_clusters(w, input),
        "DescribeDBInstances" => describe_instances(w, input),
        "DescribeEvents" => describe_events(w, input, now),
        "ModifyDBCluster" => modify_cluster(w, input, now),
        "ModifyCurrentDBClusterCapacity" => modify_capacity(w, input, now),
        "StartDBCluster" => start_cluster(w, input, now),
        "StopDBCluster" => stop_cluster(w, input, now),
        "AddTagsToResource" => add_tags(w, input),
        "RemoveTagsFromResource" => remove_tags(w, input),
        "ListTagsForResource" => list_tags(w, input),
        "DescribeDBProxies" => blockers::describe_proxies(w, input),
        "DescribeDBProxyTargets" => blockers::describe_proxy_targets(w, input),
        "DescribeDBClusterParameters" => parameters::describe_cluster_parameters(w, input),
        "DescribeGlobalClusters" => blockers::describe_global_clusters(w, input),
        "DescribeIntegrations" => blockers::describe_integrations(w, input),
        _ => return None,
    })
}

fn cluster_not_found(id: &str) -> ApiError {
    ApiError::new(
        "DBClusterNotFoundFault",
        format!("DBCluster {id} not found."),
    )
}

fn find(w: &World, input: &Value) -> Result<usize, ApiError> {
    let id = required_str(SVC, input, "DBClusterIdentifier")?;
    w.cluster_index(id).ok_or_else(|| cluster_not_found(id))
}

fn invalid_state(c: &Cluster, why: &str) -> ApiError {
    ApiError::new(
        "InvalidDBClusterStateFault",
        format!(
            "DbCluster {} is in {} state. {why}",
            c.id,
            c.status.as_aws()
        ),
    )
}

fn page_size(input: &Value) -> Result<usize, ApiError> {
    match input.get("MaxRecords").and_then(Value::as_i64) {
        None => Ok(100),
        Some(n) if (20..=100).contains(&n) => Ok(n as usize),
        Some(n) => Err(ApiError::invalid_input(
            SVC,
            format!("Invalid value {n} for MaxRecords. Must be between 20 and 100"),
        )),
    }
}

/// The values of a `Filters` entry named `name`, if the request has one.
fn filter_values<'a>(input: &'a Value, name: &str) -> Option<Vec<&'a str>> {
    input
        .get("Filters")?
        .as_array()?
        .iter()
        .find(|f| f.get("Name").and_then(Value::as_str) == Some(name))
        .map(|f| {
            f.get("Values")
                .and_then(Value::as_array)
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default()
        })
}

fn check_filters(input: &Value, supported: &[&str]) -> Result<(), ApiError> {
    for f in input
        .get("Filters")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let name = f.get("Name").and_then(Value::as_str).unwrap_or_default();
        if !supported.contains(&name) {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!("Unrecognized filter name: {name}"),
            ));
        }
    }
    Ok(())
}

fn endpoint(w: &World, c: &Cluster, kind: &str) -> String {
    format!(
        "{}.{kind}cluster-c0scale0demo.{}.rds.amazonaws.com",
        c.id, w.region
    )
}

pub fn cluster_json(w: &World, c: &Cluster) -> Value {
    let (engine_mode, capacity, v1_scaling, v2_scaling) = match &c.mode {
        DbMode::ServerlessV1 {
            min,
            max,
            auto_pause,
            seconds_until_auto_pause,
        } => (
            "serverless",
            json!(c.capacity as i64),
            json!({
                "MinCapacity": min, "MaxCapacity": max, "AutoPause": auto_pause,
                "SecondsUntilAutoPause": seconds_until_auto_pause,
                "TimeoutAction": "RollbackCapacityChange", "SecondsBeforeTimeout": 300,
            }),
            Value::Null,
        ),
        DbMode::ServerlessV2 {
            min,
            max,
            seconds_until_auto_pause,
        } => (
            "provisioned",
            Value::Null,
            Value::Null,
            json!({
                "MinCapacity": min, "MaxCapacity": max,
                // Only reported while auto-pause is on (MinCapacity 0).
                "SecondsUntilAutoPause": (*min == 0.0).then_some(*seconds_until_auto_pause),
            }),
        ),
        DbMode::Provisioned { .. } => ("provisioned", Value::Null, Value::Null, Value::Null),
    };
    // v1 clusters have no visible instances.
    let members = if c.is_v1() {
        json!([])
    } else {
        json!([{
            "DBInstanceIdentifier": c.writer_id, "IsClusterWriter": true,
            "DBClusterParameterGroupStatus": "in-sync", "PromotionTier": 1,
        }])
    };
    json!({
        "DBClusterIdentifier": c.id,
        "DBClusterArn": c.arn,
        "DbClusterResourceId": c.resource_id,
        "Status": c.status.as_aws(),
        "Engine": "aurora-postgresql",
        "EngineVersion": c.engine_version,
        "EngineMode": engine_mode,
        "Capacity": capacity,
        "ScalingConfigurationInfo": v1_scaling,
        "ServerlessV2ScalingConfiguration": v2_scaling,
        "ServerlessV2PlatformVersion": (!c.is_v1() && c.is_serverless()).then_some("3"),
        "Endpoint": endpoint(w, c, ""),
        "ReaderEndpoint": (!c.is_v1()).then(|| endpoint(w, c, "ro-")),
        "Port": 5432,
        "DatabaseName": c.database_name,
        "MasterUsername": c.master_username,
        "DBClusterMembers": members,
        "HttpEndpointEnabled": c.http_endpoint_enabled,
        "EnabledCloudwatchLogsExports": if c.log_export { json!(["postgresql"]) } else { json!([]) },
        "MasterUserSecret": c.master_user_secret_arn.as_ref().map(|arn| json!({
            "SecretArn": arn, "SecretStatus": "active",
            "KmsKeyId": format!("arn:aws:kms:{}:{account}:key/5ca1e000-0000-4000-8000-000000000000", w.region, account = w.account),
        })),
        "AutomaticRestartTime": c.automatic_restart_time,
        "ClusterCreateTime": c.created_at,
        "TagList": tags_json(&c.tags),
        "MultiAZ": false,
        "StorageEncrypted": true,
        "StorageType": "aurora",
        "AllocatedStorage": 1,
        "BackupRetentionPeriod": 1,
        "AvailabilityZones": [format!("{}a", w.region), format!("{}b", w.region)],
        "DBClusterParameterGroup": parameters::group_name(c),
        "DBSubnetGroup": format!("{}-db-subnet-group", c.id),
        "DeletionProtection": false,
        "IAMDatabaseAuthenticationEnabled": false,
        "CopyTagsToSnapshot": false,
        "CrossAccountClone": false,
        "AssociatedRoles": [],
    })
}

fn describe_clusters(w: &World, input: &Value) -> ApiResult {
    check_filters(
        input,
        &[
            "db-cluster-id",
            "engine",
            "clone-group-id",
            "db-cluster-resource-id",
            "domain",
        ],
    )?;
    let size = page_size(input)?;
    let clusters: Vec<&Cluster> = match input.get("DBClusterIdentifier").and_then(Value::as_str) {
        Some(id) => vec![&w.clusters[w.cluster_index(id).ok_or_else(|| cluster_not_found(id))?]],
        None => w.clusters.iter().collect(),
    };
    let ids = filter_values(input, "db-cluster-id");
    let engines = filter_values(input, "engine");
    let all: Vec<Value> = clusters
        .into_iter()
        .filter(|c| {
            ids.as_ref()
                .is_none_or(|v| v.iter().any(|i| *i == c.id || *i == c.arn))
        })
        .filter(|_| {
            engines
                .as_ref()
                .is_none_or(|v| v.contains(&"aurora-postgresql"))
        })
        .map(|c| cluster_json(w, c))
        .collect();
    let (page, next) = paginate(SVC, &all, input.get("Marker").and_then(Value::as_str), size)?;
    Ok(json!({"DBClusters": page, "Marker": next}))
}

fn instance_json(w: &World, c: &Cluster) -> Value {
    let class = match &c.mode {
        DbMode::Provisioned { instance_class } => instance_class.clone(),
        _ => "db.serverless".to_string(),
    };
    let status = match c.status {
        ClusterStatus::Available => "available",
        ClusterStatus::Stopping { .. } => "stopping",
        ClusterStatus::Stopped => "stopped",
        ClusterStatus::Starting { .. } => "starting",
    };
    json!({
        "DBInstanceIdentifier": c.writer_id,
        "DBInstanceClass": class,
        "Engine": "aurora-postgresql",
        "EngineVersion": c.engine_version,
        "DBInstanceStatus": status,
        "DBClusterIdentifier": c.id,
        "DBInstanceArn": c.writer_arn,
        "DbiResourceId": c.writer_resource_id,
        "Endpoint": {
            "Address": format!("{}.c0scale0demo.{}.rds.amazonaws.com", c.writer_id, w.region),
            "Port": 5432,
        },
        "InstanceCreateTime": c.created_at,
        "AvailabilityZone": format!("{}a", w.region),
        "PubliclyAccessible": false,
        "StorageType": "aurora",
        "MultiAZ": false,
        "PromotionTier": 1,
        "AutoMinorVersionUpgrade": true,
        "TagList": tags_json(&c.tags),
    })
}

fn describe_instances(w: &World, input: &Value) -> ApiResult {
    check_filters(
        input,
        &[
            "db-cluster-id",
            "db-instance-id",
            "engine",
            "dbi-resource-id",
            "domain",
        ],
    )?;
    let size = page_size(input)?;
    let wanted = input.get("DBInstanceIdentifier").and_then(Value::as_str);
    let cluster_ids = filter_values(input, "db-cluster-id");
    let instance_ids = filter_values(input, "db-instance-id");
    let all: Vec<Value> = w
        .clusters
        .iter()
        .filter(|c| !c.is_v1())
        .filter(|c| wanted.is_none_or(|id| id == c.writer_id || id == c.writer_arn))
        .filter(|c| {
            cluster_ids
                .as_ref()
                .is_none_or(|v| v.iter().any(|i| *i == c.id || *i == c.arn))
        })
        .filter(|c| {
            instance_ids
                .as_ref()
                .is_none_or(|v| v.iter().any(|i| *i == c.writer_id || *i == c.writer_arn))
        })
        .map(|c| instance_json(w, c))
        .collect();
    if let Some(id) = wanted
        && all.is_empty()
    {
        return Err(ApiError::new(
            "DBInstanceNotFound",
            format!("DBInstance {id} not found."),
        ));
    }
    let (page, next) = paginate(SVC, &all, input.get("Marker").and_then(Value::as_str), size)?;
    Ok(json!({"DBInstances": page, "Marker": next}))
}

fn describe_events(w: &World, input: &Value, now: f64) -> ApiResult {
    let size = page_size(input)?;
    let source_type = input.get("SourceType").and_then(Value::as_str);
    let source_id = input.get("SourceIdentifier").and_then(Value::as_str);
    if source_id.is_some() && source_type.is_none() {
        return Err(ApiError::new(
            "InvalidParameterCombination",
            "Cannot specify SourceIdentifier without SourceType.",
        ));
    }
    let end = input.get("EndTime").and_then(Value::as_f64).unwrap_or(now);
    let start = match (
        input.get("StartTime").and_then(Value::as_f64),
        input.get("Duration").and_then(Value::as_i64),
    ) {
        (Some(s), _) => s,
        (None, Some(minutes)) => end - minutes as f64 * 60.0,
        // DescribeEvents returns the past hour unless told otherwise.
        (None, None) => end - 3600.0,
    }
    .max(now - 14.0 * 86400.0);
    let categories: Option<Vec<&str>> = input
        .get("EventCategories")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    let mut events: Vec<&crate::emulator::world::RdsEvent> = w
        .events
        .iter()
        .filter(|e| e.date >= start && e.date <= end)
        .collect();
    // Oldest first, as RDS lists them.
    events.sort_by(|a, b| a.date.total_cmp(&b.date));
    let all: Vec<Value> = events
        .into_iter()
        .filter(|e| source_type.is_none_or(|t| t == e.source_type))
        .filter(|e| source_id.is_none_or(|id| id == e.source_identifier || id == e.source_arn))
        .filter(|e| {
            categories
                .as_ref()
                .is_none_or(|c| e.categories.iter().any(|x| c.contains(x)))
        })
        .map(|e| {
            json!({
                "SourceIdentifier": e.source_identifier,
                "SourceType": e.source_type,
                "Message": e.message,
                "EventCategories": e.categories,
                "Date": e.date,
                "SourceArn": e.source_arn,
            })
        })
        .collect();
    let (page, next) = paginate(SVC, &all, input.get("Marker").and_then(Value::as_str), size)?;
    Ok(json!({"Events": page, "Marker": next}))
}

fn tagged(w: &World, input: &Value) -> Result<usize, ApiError> {
    let arn = required_str(SVC, input, "ResourceName")?;
    w.clusters
        .iter()
        .position(|c| c.arn == arn || c.writer_arn == arn)
        .ok_or_else(|| {
            if arn.contains(":db:") {
                ApiError::new("DBInstanceNotFound", format!("DBInstance {arn} not found."))
            } else {
                cluster_not_found(arn)
            }
        })
}

fn add_tags(w: &mut World, input: &Value) -> ApiResult {
    let i = tagged(w, input)?;
    let tags = tags_from(SVC, input.get("Tags"))?;
    merge_tags(&mut w.clusters[i].tags, tags);
    Ok(json!({}))
}

fn remove_tags(w: &mut World, input: &Value) -> ApiResult {
    let i = tagged(w, input)?;
    let keys: Vec<&str> = input
        .get("TagKeys")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    w.clusters[i]
        .tags
        .retain(|(k, _)| !keys.contains(&k.as_str()));
    Ok(json!({}))
}

fn list_tags(w: &World, input: &Value) -> ApiResult {
    let i = tagged(w, input)?;
    Ok(json!({"TagList": tags_json(&w.clusters[i].tags)}))
}
