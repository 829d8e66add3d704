//! ECS's answers, named as the model names them: Service, ECSExpressGatewayService and
//! its configurations, ServiceDeployment(Brief) and ServiceRevision with the Express
//! managed resources.

use super::ecs::tags_json;
use crate::emulator::world::World;
use crate::emulator::world::express::{Deployment, Phase, Revision};
use crate::emulator::world::service::Service;
use serde_json::{Value, json};

fn cluster_arn(w: &World, cluster: &str) -> String {
    format!("arn:aws:ecs:{}:{}:cluster/{cluster}", w.region, w.account)
}

pub fn service_json(w: &World, i: usize, with_tags: bool) -> Value {
    let s = &w.services[i];
    let Some(x) = s.express.as_ref() else {
        return Value::Null;
    };
    let r = x.revision();
    let events: Vec<Value> = x
        .events
        .iter()
        .enumerate()
        .rev()
        .take(20)
        .map(|(n, (t, message))| json!({"id": format!("{n:08}"), "createdAt": t, "message": message}))
        .collect();
    let mut v = json!({
        "serviceArn": s.arn,
        "serviceName": s.name,
        "clusterArn": cluster_arn(w, &x.cluster),
        "status": x.status_code,
        "desiredCount": x.desired,
        "runningCount": x.running,
        "pendingCount": x.starting.len(),
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "taskDefinition": r.task_definition,
        "resourceManagementType": "ECS",
        "schedulingStrategy": "REPLICA",
        "currentServiceDeployment": x.current_deployment().map(|d| d.arn.clone()),
        "loadBalancers": [{
            "targetGroupArn": x.target_group_arn,
            "containerName": "Main",
            "containerPort": r.container_port,
        }],
        "healthCheckGracePeriodSeconds": 300,
        "createdAt": s.created_at,
        "createdBy": x.infrastructure_role,
        "events": events,
    });
    if with_tags {
        v["tags"] = tags_json(&s.tags);
    }
    v
}

pub fn configuration_json(s: &Service, r: &Revision) -> Value {
    json!({
        "serviceRevisionArn": r.arn,
        "taskDefinitionArn": r.task_definition,
        "cpu": r.cpu,
        "memory": r.memory,
        "healthCheckPath": r.health_check_path,
        "executionRoleArn": format!("arn:aws:iam::{}:role/ecsTaskExecutionRole", r.task_definition.split(':').nth(4).unwrap_or_default()),
        "primaryContainer": {"image": r.image, "containerPort": r.container_port},
        "scalingTarget": {
            "minTaskCount": r.scaling.min,
            "maxTaskCount": r.scaling.max,
            "autoScalingMetric": r.scaling.metric,
            "autoScalingTargetValue": r.scaling.target,
        },
        "ingressPaths": [{"accessType": "PUBLIC", "endpoint": s.url()}],
        "createdAt": r.created_at,
    })
}

/// activeConfigurations: one per revision still serving, unordered (aws.md 16.1.5).
pub fn express_json(w: &World, i: usize, with_tags: bool) -> Value {
    let s = &w.services[i];
    let Some(x) = s.express.as_ref() else {
        return Value::Null;
    };
    let mut active = vec![x.active];
    if let Some(d) = x.deploying() {
        active = vec![d.target, d.source];
        active.dedup();
    }
    let configurations: Vec<Value> = active
        .iter()
        .filter_map(|k| x.revisions.get(*k))
        .map(|r| configuration_json(s, r))
        .collect();
    let mut v = json!({
        "serviceArn": s.arn,
        "cluster": x.cluster,
        "serviceName": s.name,
        "infrastructureRoleArn": x.infrastructure_role,
        "status": {"statusCode": x.status_code},
        "currentDeployment": x.current_deployment().map(|d| d.arn.clone()),
        "activeConfigurations": configurations,
        "createdAt": s.created_at,
        "updatedAt": x.revisions.last().map_or(s.updated_at, |r| r.created_at),
    });
    if with_tags {
        v["tags"] = tags_json(&s.tags);
    }
    v
}

pub fn deployment_brief(w: &World, i: usize, d: &Deployment) -> Value {
    let s = &w.services[i];
    let cluster = s.express.as_ref().map_or("default", |x| x.cluster.as_str());
    let target = s
        .express
        .as_ref()
        .and_then(|x| x.revisions.get(d.target))
        .map(|r| r.arn.clone());
    json!({
        "serviceDeploymentArn": d.arn,
        "serviceArn": s.arn,
        "clusterArn": cluster_arn(w, cluster),
        "status": d.status.as_aws(),
        "statusReason": d.status_reason,
        "targetServiceRevisionArn": target,
        "createdAt": d.created_at,
        "startedAt": d.created_at,
        "finishedAt": d.finished_at,
    })
}

pub fn deployment_json(w: &World, i: usize, k: usize) -> Value {
    let s = &w.services[i];
    let Some(x) = s.express.as_ref() else {
        return Value::Null;
    };
    let d = &x.deployments[k];
    let summary = |rev: usize, serving: bool, weight: f64| {
        let r = &x.revisions[rev];
        let tasks = if serving { x.running } else { 0 };
        json!({
            "arn": r.arn,
            "requestedTaskCount": x.desired,
            "runningTaskCount": tasks,
            "pendingTaskCount": 0,
            "requestedProductionTrafficWeight": weight,
        })
    };
    let new_weight = match (d.status.in_flight(), d.phase) {
        (true, Phase::Canary) => 5.0,
        (true, Phase::Reconcile | Phase::ScaleUp) => 0.0,
        (false, _) if d.status.as_aws() != "SUCCESSFUL" => 0.0,
        _ => 100.0,
    };
    let mut v = deployment_brief(w, i, d);
    if let Some(o) = v.as_object_mut() {
        // The brief's field; the full shape has targetServiceRevision instead.
        o.remove("targetServiceRevisionArn");
    }
    v["targetServiceRevision"] = summary(d.target, new_weight > 0.0, new_weight);
    v["sourceServiceRevisions"] =
        json!([summary(d.source, new_weight < 100.0, 100.0 - new_weight)]);
    v["lifecycleStage"] = json!(d.phase.as_aws());
    v["updatedAt"] = json!(d.finished_at.unwrap_or(d.created_at));
    v["deploymentConfiguration"] = json!({
        "strategy": "CANARY",
        "bakeTimeInMinutes": 3,
        "canaryConfiguration": {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 3},
        "alarms": {"alarmNames": [x.alarm_name], "enable": true, "rollback": true},
    });
    v["alarms"] = json!({
        "alarmNames": [x.alarm_name],
        "status": if d.triggered_alarm.is_some() { "TRIGGERED" } else { "MONITORING" },
        "triggeredAlarmNames": d.triggered_alarm.iter().collect::<Vec<_>>(),
    });
    if let Some(reason) = &d.rollback_reason {
        v["rollback"] = json!({
            "reason": reason,
            "startedAt": d.rollback_started_at,
            "serviceRevisionArn": x.revisions[d.source].arn,
        });
    }
    if d.status.as_aws() == "STOPPED" || d.rollback_reason.is_some() {
        v["stoppedAt"] = json!(d.finished_at);
    }
    v
}

pub fn revision_json(w: &World, i: usize, r: &Revision) -> Value {
    let s = &w.services[i];
    let Some(x) = s.express.as_ref() else {
        return Value::Null;
    };
    let lb_status = if x.load_balancer_gone {
        "DELETED"
    } else {
        "ACTIVE"
    };
    let at = r.created_at;
    json!({
        "serviceRevisionArn": r.arn,
        "serviceArn": s.arn,
        "clusterArn": cluster_arn(w, &x.cluster),
        "taskDefinition": r.task_definition,
        "launchType": "FARGATE",
        "platformVersion": "1.4.0",
        "platformFamily": "Linux",
        "createdAt": at,
        "containerImages": [{"containerName": "Main", "image": r.image, "imageDigest": r.digest}],
        "loadBalancers": [{"targetGroupArn": x.target_group_arn, "containerName": "Main", "containerPort": r.container_port}],
        "ecsManagedResources": {
            "ingressPaths": [{
                "accessType": "PUBLIC",
                "endpoint": s.url(),
                "loadBalancer": {
                    "arn": x.load_balancer_arn,
                    "status": lb_status,
                    "statusReason": x.load_balancer_gone.then_some("The load balancer was deleted outside ECS"),
                    "updatedAt": at,
                    "scheme": "internet-facing",
                    "subnetIds": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
                },
                "targetGroups": [{
                    "arn": x.target_group_arn,
                    "status": "ACTIVE",
                    "updatedAt": at,
                    "healthCheckPath": r.health_check_path,
                    "healthCheckPort": r.container_port,
                    "port": r.container_port,
                }],
            }],
            "autoScaling": {
                "scalableTarget": {
                    "arn": format!("arn:aws:application-autoscaling:{}:{}:scalable-target/{}", w.region, w.account, &s.name),
                    "status": "ACTIVE",
                    "updatedAt": at,
                    "minCapacity": r.scaling.min,
                    "maxCapacity": r.scaling.max,
                },
                "applicationAutoScalingPolicies": [{
                    "status": "ACTIVE",
                    "updatedAt": at,
                    "policyType": "TargetTrackingScaling",
                    "targetValue": r.scaling.target as f64,
                    "metric": r.scaling.metric,
                }],
            },
            "logGroups": [{"logGroupName": x.log_group, "status": "ACTIVE", "updatedAt": at}],
            "metricAlarms": [{
                "arn": format!("arn:aws:cloudwatch:{}:{}:alarm:{}", w.region, w.account, x.alarm_name),
                "status": "ACTIVE",
                "updatedAt": at,
            }],
        },
    })
}
