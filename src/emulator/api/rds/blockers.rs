//! The RDS describes that show what keeps a database awake without waking it: RDS
//! Proxies and their targets, cluster parameters (logical replication), global clusters
//! and zero-ETL integrations. None of them touches the writer's power state.

use super::{check_filters, required_str};
use crate::emulator::api::{ApiError, ApiResult};
use crate::emulator::world::World;
use crate::emulator::world::cluster::Cluster;
use serde_json::{Value, json};

fn proxies(w: &World) -> impl Iterator<Item = (&Cluster, &str)> {
    w.clusters
        .iter()
        .filter_map(|c| c.blockers.proxy.as_deref().map(|p| (c, p)))
}

fn proxy_json(w: &World, c: &Cluster, name: &str) -> Value {
    json!({
        "DBProxyName": name,
        "DBProxyArn": format!("arn:aws:rds:{}:{account}:db-proxy:prx-{}", w.region, c.resource_id.trim_start_matches("cluster-"), account = w.account),
        "Status": "available",
        "EngineFamily": "POSTGRESQL",
        "Endpoint": format!("{name}.proxy-c0scale0demo.{}.rds.amazonaws.com", w.region),
        "RequireTLS": true,
        "IdleClientTimeout": 1800,
        "DebugLogging": false,
        "CreatedDate": c.created_at,
        "UpdatedDate": c.created_at,
    })
}

pub(super) fn describe_proxies(w: &World, input: &Value) -> ApiResult {
    check_filters(input, &[])?;
    let wanted = input.get("DBProxyName").and_then(Value::as_str);
    let found: Vec<Value> = proxies(w)
        .filter(|(_, p)| wanted.is_none_or(|n| n == *p))
        .map(|(c, p)| proxy_json(w, c, p))
        .collect();
    if let Some(name) = wanted
        && found.is_empty()
    {
        return Err(ApiError::new(
            "DBProxyNotFoundFault",
            format!("DBProxy {name} not found."),
        ));
    }
    Ok(json!({"DBProxies": found}))
}

pub(super) fn describe_proxy_targets(w: &World, input: &Value) -> ApiResult {
    let name = required_str(super::SVC, input, "DBProxyName")?;
    let (c, _) = proxies(w).find(|(_, p)| *p == name).ok_or_else(|| {
        ApiError::new("DBProxyNotFoundFault", format!("DBProxy {name} not found."))
    })?;
    Ok(json!({"Targets": [
        {"RdsResourceId": c.id, "TargetArn": c.arn, "Type": "TRACKED_CLUSTER", "Port": 5432},
        {"RdsResourceId": c.writer_id, "TargetArn": c.writer_arn, "Type": "RDS_INSTANCE",
         "TrackedClusterId": c.id, "Role": "READ_WRITE", "Port": 5432,
         "Endpoint": format!("{}.c0scale0demo.{}.rds.amazonaws.com", c.writer_id, w.region),
         "TargetHealth": {"State": "AVAILABLE"}},
    ]}))
}

pub(super) fn describe_global_clusters(w: &World, input: &Value) -> ApiResult {
    let wanted = input.get("GlobalClusterIdentifier").and_then(Value::as_str);
    let items: Vec<Value> = w
        .clusters
        .iter()
        .filter_map(|c| c.blockers.global_cluster.as_deref().map(|g| (c, g)))
        .filter(|(_, g)| wanted.is_none_or(|n| n == *g))
        .map(|(c, g)| {
            json!({
                "GlobalClusterIdentifier": g,
                "GlobalClusterArn": format!("arn:aws:rds::{account}:global-cluster:{g}", account = w.account),
                "GlobalClusterResourceId": format!("cluster-{}", c.resource_id.trim_start_matches("cluster-")),
                "Status": "available",
                "Engine": "aurora-postgresql",
                "EngineVersion": c.engine_version,
                "StorageEncrypted": true,
                "DeletionProtection": false,
                "GlobalClusterMembers": [{"DBClusterArn": c.arn, "IsWriter": true, "Readers": []}],
            })
        })
        .collect();
    if let Some(name) = wanted
        && items.is_empty()
    {
        return Err(ApiError::new(
            "GlobalClusterNotFoundFault",
            format!("Global cluster {name} not found."),
        ));
    }
    Ok(json!({"GlobalClusters": items}))
}

pub(super) fn describe_integrations(w: &World, _input: &Value) -> ApiResult {
    let items: Vec<Value> = w
        .clusters
        .iter()
        .filter_map(|c| c.blockers.zero_etl.as_deref().map(|n| (c, n)))
        .map(|(c, name)| {
            json!({
                "IntegrationName": name,
                "IntegrationArn": format!("arn:aws:rds:{}:{account}:integration:{name}", w.region, account = w.account),
                "SourceArn": c.arn,
                "TargetArn": format!("arn:aws:redshift-serverless:{}:{account}:namespace/analytics", w.region, account = w.account),
                "Status": "active",
                "CreateTime": c.created_at,
            })
        })
        .collect();
    Ok(json!({"Integrations": items}))
}
