//! Amazon ECS (awsJson1_1, target prefix AmazonEC2ContainerServiceV20141113): the
//! Express Mode gateway services and the plain ECS calls scale0 makes around them
//! (reference/aws.md section 16.1). Shapes: api/ecs_json.rs.

use super::ecs_json::{
    deployment_brief, deployment_json, express_json, revision_json, service_json,
};
use super::{ApiError, ApiResult, paginate, required_str};
use crate::emulator::Shared;
use crate::emulator::shapes::AwsService;
use crate::emulator::world::World;
use crate::emulator::world::express::{DeployStatus, Revision, ScalingTarget};
use serde_json::{Value, json};

const SVC: AwsService = AwsService::Ecs;

pub fn call(shared: &Shared, op: &str, input: &Value) -> Option<ApiResult> {
    let (mut world, now) = shared.world();
    dispatch(&mut world, now, op, input)
}

/// One operation on a world already caught up to `now` (the scheduler's targets, too).
pub fn dispatch(w: &mut World, now: f64, op: &str, input: &Value) -> Option<ApiResult> {
    Some(match op {
        "ListClusters" => list_clusters(w),
        "ListServices" => list_services(w, input),
        "DescribeServices" => describe_services(w, input),
        "UpdateService" => update_service(w, input, now),
        "CreateExpressGatewayService" => create(w, input, now),
        "DescribeExpressGatewayService" => find(w, input, "serviceArn")
            .map(|i| json!({"service": express_json(w, i, includes_tags(input))})),
        "UpdateExpressGatewayService" => update_express(w, input, now),
        "DeleteExpressGatewayService" => delete(w, input, now),
        "ListServiceDeployments" => list_deployments(w, input),
        "DescribeServiceDeployments" => describe_deployments(w, input),
        "StopServiceDeployment" => stop_deployment(w, input, now),
        "DescribeServiceRevisions" => describe_revisions(w, input),
        "TagResource" => tag(w, input),
        "UntagResource" => untag(w, input),
        "ListTagsForResource" => {
            tagged(w, input).map(|i| json!({"tags": tags_json(&w.services[i].tags)}))
        }
        _ => return None,
    })
}

pub fn tags_json(tags: &[(String, String)]) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect(),
    )
}

fn tags_from(value: Option<&Value>) -> Result<Vec<(String, String)>, ApiError> {
    let items = value.and_then(Value::as_array).cloned().unwrap_or_default();
    items
        .iter()
        .map(|t| {
            let key = t.get("key").and_then(Value::as_str).unwrap_or_default();
            if key.is_empty() || key.len() > 128 {
                return Err(ApiError::invalid_input(
                    SVC,
                    "Tag keys must be 1 to 128 characters",
                ));
            }
            let value = t.get("value").and_then(Value::as_str).unwrap_or_default();
            Ok((key.to_string(), value.to_string()))
        })
        .collect()
}

fn includes_tags(input: &Value) -> bool {
    input
        .get("include")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v == "TAGS"))
}

fn is_express(w: &World, i: usize) -> bool {
    w.services[i].express.is_some()
}

/// The Express service `name` (ARN) names; AWS's ResourceNotFoundException otherwise.
fn find(w: &World, input: &Value, name: &str) -> Result<usize, ApiError> {
    let arn = required_str(SVC, input, name)?;
    if !arn.starts_with("arn:aws:ecs:") {
        return Err(ApiError::invalid_input(
            SVC,
            format!("Invalid identifier: {name} {arn} is not an ECS service ARN"),
        ));
    }
    (0..w.services.len())
        .find(|&i| is_express(w, i) && w.services[i].arn == arn)
        .ok_or_else(|| ApiError::new("ResourceNotFoundException", "Resource not found."))
}

/// A service by name or ARN within `cluster` (ECS's DescribeServices/UpdateService).
fn in_cluster(w: &World, cluster: &str, service: &str) -> Option<usize> {
    (0..w.services.len()).find(|&i| {
        let s = &w.services[i];
        s.express
            .as_ref()
            .is_some_and(|x| x.cluster == cluster && (s.arn == service || s.name == service))
    })
}

/// The cluster a request names (by name or ARN; `default` when absent), if it exists.
fn cluster_of(w: &World, input: &Value) -> Result<String, ApiError> {
    let named = input
        .get("cluster")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let name = named.rsplit('/').next().unwrap_or(named).to_string();
    let exists = w
        .services
        .iter()
        .filter_map(|s| s.express.as_ref())
        .any(|x| x.cluster == name);
    if exists {
        Ok(name)
    } else {
        Err(ApiError::new(
            "ClusterNotFoundException",
            "Cluster not found.",
        ))
    }
}

fn cluster_arn(w: &World, name: &str) -> String {
    format!("arn:aws:ecs:{}:{}:cluster/{name}", w.region, w.account)
}

fn max_results(input: &Value, default: usize, max: usize) -> Result<usize, ApiError> {
    match input.get("maxResults").and_then(Value::as_i64) {
        None => Ok(default),
        Some(n) if n >= 1 && n as usize <= max => Ok(n as usize),
        Some(n) => Err(ApiError::invalid_input(
            SVC,
            format!("maxResults {n} must be between 1 and {max}"),
        )),
    }
}

fn list_clusters(w: &World) -> ApiResult {
    let mut names: Vec<String> = w
        .services
        .iter()
        .filter_map(|s| s.express.as_ref())
        .map(|x| x.cluster.clone())
        .collect();
    names.sort();
    names.dedup();
    let arns: Vec<String> = names.iter().map(|n| cluster_arn(w, n)).collect();
    Ok(json!({"clusterArns": arns}))
}

fn list_services(w: &World, input: &Value) -> ApiResult {
    let cluster = cluster_of(w, input)?;
    let size = max_results(input, 10, 100)?;
    let token = input.get("nextToken").and_then(Value::as_str);
    // Every service here is Express-managed: resourceManagementType CUSTOMER finds none.
    let customer = input.get("resourceManagementType").and_then(Value::as_str) == Some("CUSTOMER");
    let arns: Vec<String> = w
        .services
        .iter()
        .filter(|s| {
            !customer
                && s.express
                    .as_ref()
                    .is_some_and(|x| x.cluster == cluster && x.status_code != "INACTIVE")
        })
        .map(|s| s.arn.clone())
        .collect();
    let (page, next) = paginate(SVC, &arns, token, size)?;
    Ok(json!({"serviceArns": page, "nextToken": next}))
}

fn describe_services(w: &World, input: &Value) -> ApiResult {
    let cluster = cluster_of(w, input)?;
    let wanted: Vec<&str> = input
        .get("services")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if wanted.is_empty() || wanted.len() > 10 {
        return Err(ApiError::invalid_input(
            SVC,
            "services must name between 1 and 10 services",
        ));
    }
    let tags = includes_tags(input);
    let mut services = Vec::new();
    let mut failures = Vec::new();
    for name in wanted {
        match in_cluster(w, &cluster, name) {
            Some(i) => services.push(service_json(w, i, tags)),
            None => failures.push(json!({"arn": name, "reason": "MISSING"})),
        }
    }
    Ok(json!({"services": services, "failures": failures}))
}

fn update_service(w: &mut World, input: &Value, now: f64) -> ApiResult {
    let cluster = cluster_of(w, input)?;
    let name = required_str(SVC, input, "service")?;
    let i = in_cluster(w, &cluster, name)
        .ok_or_else(|| ApiError::new("ServiceNotFoundException", "Service not found."))?;
    // Express owns these (aws.md 16.3, ecspresso #902).
    for owned in ["loadBalancers", "deploymentConfiguration"] {
        if input.get(owned).is_some() {
            return Err(ApiError::invalid_input(
                SVC,
                format!("{owned} can't be changed on a service managed by ECS Express Mode"),
            ));
        }
    }
    not_inactive(w, i)?;
    if let Some(n) = input.get("desiredCount").and_then(Value::as_i64) {
        if n < 0 {
            return Err(ApiError::invalid_input(SVC, "desiredCount must be >= 0"));
        }
        w.express_set_desired(i, n as u32, now);
    }
    Ok(json!({"service": service_json(w, i, false)}))
}

fn not_inactive(w: &World, i: usize) -> Result<(), ApiError> {
    match w.services[i].express.as_ref().map(|x| x.status_code) {
        Some("ACTIVE") => Ok(()),
        Some(status) => Err(ApiError::new(
            "ServiceNotActiveException",
            format!("Cannot perform this operation on a service in {status} status"),
        )),
        None => Err(ApiError::new(
            "ServiceNotFoundException",
            "Service not found.",
        )),
    }
}

/// The revision an update asks for: the active one with the input's changes.
fn revised(w: &mut World, i: usize, input: &Value, now: f64) -> Result<Revision, ApiError> {
    let id = w.random_hex(20);
    let s = &w.services[i];
    let Some(x) = s.express.as_ref() else {
        return Err(ApiError::new(
            "ServiceNotFoundException",
            "Service not found.",
        ));
    };
    let mut r = x.revision().clone();
    r.arn = format!(
        "arn:aws:ecs:{}:{}:service-revision/{}/{}/{id}",
        w.region, w.account, x.cluster, s.name
    );
    r.created_at = now;
    if let Some(image) = input
        .pointer("/primaryContainer/image")
        .and_then(Value::as_str)
    {
        if image.is_empty() {
            return Err(ApiError::invalid_input(
                SVC,
                "primaryContainer.image is empty",
            ));
        }
        r.image = image.to_string();
        r.digest = w.resolve_image(image).map(|im| im.digest.clone());
    }
    if let Some(port) = input
        .pointer("/primaryContainer/containerPort")
        .and_then(Value::as_i64)
    {
        r.container_port = port;
    }
    for (field, slot) in [("cpu", &mut r.cpu), ("memory", &mut r.memory)] {
        if let Some(v) = input.get(field).and_then(Value::as_str) {
            *slot = v.to_string();
        }
    }
    if let Some(p) = input.get("healthCheckPath").and_then(Value::as_str) {
        r.health_check_path = p.to_string();
    }
    if let Some(t) = input.get("scalingTarget") {
        let int = |name: &str| t.get(name).and_then(Value::as_i64);
        r.scaling = ScalingTarget {
            min: int("minTaskCount").map_or(r.scaling.min, |v| v.max(0) as u32),
            max: int("maxTaskCount").map_or(r.scaling.max, |v| v.max(0) as u32),
            metric: t
                .get("autoScalingMetric")
                .and_then(Value::as_str)
                .map_or(r.scaling.metric.clone(), str::to_string),
            target: int("autoScalingTargetValue").unwrap_or(r.scaling.target),
        };
        if r.scaling.min > r.scaling.max {
            return Err(ApiError::invalid_input(
                SVC,
                "scalingTarget.minTaskCount must not exceed maxTaskCount",
            ));
        }
    }
    Ok(r)
}

fn update_express(w: &mut World, input: &Value, now: f64) -> ApiResult {
    let i = find(w, input, "serviceArn")?;
    not_inactive(w, i)?;
    let revision = revised(w, i, input, now)?;
    let scaling = revision.scaling.clone();
    // A newer update supersedes one in flight.
    if let Some(d) = w.services[i]
        .express
        .as_deref_mut()
        .and_then(|x| x.deployments.last_mut())
        .filter(|d| d.status == DeployStatus::InProgress)
    {
        d.status = DeployStatus::Stopped;
        d.finished_at = Some(now);
        d.status_reason = Some("superseded by a newer deployment".into());
    }
    w.express_deploy(i, revision, now);
    // Application Auto Scaling keeps desired within the new bounds.
    let desired = w.services[i].express.as_ref().map_or(0, |x| x.desired);
    let bounded = desired.max(scaling.min).min(scaling.max);
    if bounded != desired {
        w.express_set_desired(i, bounded, now);
    }
    let s = &w.services[i];
    let configuration = s
        .express
        .as_ref()
        .and_then(|x| x.revisions.last())
        .map_or(Value::Null, |r| super::ecs_json::configuration_json(s, r));
    Ok(json!({"service": {
        "serviceArn": s.arn,
        "cluster": s.express.as_ref().map(|x| x.cluster.clone()),
        "serviceName": s.name,
        "status": {"statusCode": "ACTIVE"},
        "targetConfiguration": configuration,
        "createdAt": s.created_at,
        "updatedAt": now,
    }}))
}

fn create(w: &mut World, input: &Value, now: f64) -> ApiResult {
    required_str(SVC, input, "infrastructureRoleArn")?;
    let image = input
        .pointer("/primaryContainer/image")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid_input(SVC, "primaryContainer.image is required"))?;
    let name = match input.get("serviceName").and_then(Value::as_str) {
        Some(n) => n.to_string(),
        None => image
            .rsplit('/')
            .next()
            .unwrap_or("service")
            .replace([':', '@', '.'], "-"),
    };
    if name.is_empty()
        || name.len() > 255
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
    {
        return Err(ApiError::invalid_input(
            SVC,
            format!("Invalid serviceName {name:?}"),
        ));
    }
    if w.services.iter().any(|s| s.name == name) {
        return Err(ApiError::invalid_input(
            SVC,
            format!("Creation of service was not idempotent: {name} exists"),
        ));
    }
    let tags = tags_from(input.get("tags"))?;
    let min = input
        .pointer("/scalingTarget/minTaskCount")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(0) as u32;
    let max = input
        .pointer("/scalingTarget/maxTaskCount")
        .and_then(Value::as_i64)
        .unwrap_or(20)
        .max(1) as u32;
    let spec = crate::emulator::seed::EnvSpec {
        env: name.strip_prefix("scale0-").unwrap_or(&name).to_string(),
        owner: None,
        tagged: false,
        service: Some(crate::emulator::seed::ServiceSpec {
            express: true,
            min_size: min,
            max_size: max,
            ..Default::default()
        }),
        cluster: None,
    };
    // The seed pushes an image per environment; a created service brings its own.
    let seed_tag = spec.env.clone();
    let had_tag = w
        .repositories
        .iter()
        .flat_map(|r| r.images.iter())
        .any(|im| im.tags.contains(&seed_tag));
    let created = crate::emulator::seed::add_named_service(w, &spec, &name, now);
    if !had_tag {
        for r in &mut w.repositories {
            r.images.retain(|im| !im.tags.contains(&seed_tag));
        }
    }
    let Some(i) = created else {
        return Err(ApiError::new(
            "ServerException",
            "the service could not be created",
        ));
    };
    let s = &mut w.services[i];
    s.tags = tags;
    s.created_at = now;
    s.updated_at = now;
    s.image_identifier = image.to_string();
    if let Some(x) = s.express.as_deref_mut() {
        x.revisions[0].image = image.to_string();
        x.revisions[0].created_at = now;
        // Tasks start like any others: about a minute to the first 200.
        x.running = 0;
        x.desired = 0;
    }
    w.express_set_desired(i, min, now);
    Ok(json!({"service": express_json(w, i, true)}))
}

fn delete(w: &mut World, input: &Value, now: f64) -> ApiResult {
    let i = find(w, input, "serviceArn")?;
    not_inactive(w, i)?;
    w.express_set_desired(i, 0, now);
    if let Some(x) = w.services[i].express.as_deref_mut() {
        // Deletion is irreversible; the emulator skips DRAINING's minutes.
        x.status_code = "INACTIVE";
    }
    Ok(json!({"service": express_json(w, i, false)}))
}

/// The service a deployment ARN belongs to, and the deployment's index.
fn deployment(w: &World, arn: &str) -> Option<(usize, usize)> {
    w.services.iter().enumerate().find_map(|(i, s)| {
        let x = s.express.as_ref()?;
        Some((i, x.deployments.iter().position(|d| d.arn == arn)?))
    })
}

fn list_deployments(w: &World, input: &Value) -> ApiResult {
    let cluster = cluster_of(w, input)?;
    let name = required_str(SVC, input, "service")?;
    let i = in_cluster(w, &cluster, name)
        .ok_or_else(|| ApiError::new("ServiceNotFoundException", "Service not found."))?;
    let size = max_results(input, 20, 100)?;
    let statuses: Vec<&str> = input
        .get("status")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let all: Vec<Value> = w.services[i]
        .express
        .iter()
        .flat_map(|x| x.deployments.iter().rev())
        .filter(|d| statuses.is_empty() || statuses.contains(&d.status.as_aws()))
        .map(|d| deployment_brief(w, i, d))
        .collect();
    let token = input.get("nextToken").and_then(Value::as_str);
    let (page, next) = paginate(SVC, &all, token, size)?;
    Ok(json!({"serviceDeployments": page, "nextToken": next}))
}

fn describe_deployments(w: &World, input: &Value) -> ApiResult {
    let arns = string_list(input, "serviceDeploymentArns", 20)?;
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for arn in arns {
        match deployment(w, arn) {
            Some((i, d)) => found.push(deployment_json(w, i, d)),
            None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
        }
    }
    Ok(json!({"serviceDeployments": found, "failures": failures}))
}

fn string_list<'a>(input: &'a Value, name: &str, max: usize) -> Result<Vec<&'a str>, ApiError> {
    let list: Vec<&str> = input
        .get(name)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if list.is_empty() || list.len() > max {
        return Err(ApiError::invalid_input(
            SVC,
            format!("{name} must hold between 1 and {max} ARNs"),
        ));
    }
    Ok(list)
}

fn stop_deployment(w: &mut World, input: &Value, now: f64) -> ApiResult {
    let arn = required_str(SVC, input, "serviceDeploymentArn")?;
    let Some((i, d)) = deployment(w, arn) else {
        return Err(ApiError::new(
            "ServiceDeploymentNotFoundException",
            "The service deployment does not exist.",
        ));
    };
    let latest = w.services[i]
        .express
        .as_ref()
        .is_some_and(|x| x.deployments.len() == d + 1 && x.deployments[d].status.in_flight());
    if !latest {
        return Err(ApiError::new(
            "ConflictException",
            "The service deployment is not in progress and can't be stopped.",
        ));
    }
    let stop_type = input
        .get("stopType")
        .and_then(Value::as_str)
        .unwrap_or("ROLLBACK");
    if stop_type != "ROLLBACK" {
        return Err(ApiError::invalid_input(
            SVC,
            "Only stopType ROLLBACK is supported for services managed by ECS Express Mode",
        ));
    }
    w.express_roll_back(i, "StopServiceDeployment requested a rollback".into(), now);
    Ok(json!({"serviceDeploymentArn": arn}))
}

fn describe_revisions(w: &World, input: &Value) -> ApiResult {
    let arns = string_list(input, "serviceRevisionArns", 20)?;
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for arn in arns {
        let hit = w.services.iter().enumerate().find_map(|(i, s)| {
            let x = s.express.as_ref()?;
            Some((i, x.revisions.iter().find(|r| r.arn == arn)?))
        });
        match hit {
            Some((i, r)) => found.push(revision_json(w, i, r)),
            None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
        }
    }
    Ok(json!({"serviceRevisions": found, "failures": failures}))
}

fn tagged(w: &World, input: &Value) -> Result<usize, ApiError> {
    let arn = required_str(SVC, input, "resourceArn")?;
    (0..w.services.len())
        .find(|&i| is_express(w, i) && w.services[i].arn == arn)
        .ok_or_else(|| {
            ApiError::new(
                "ResourceNotFoundException",
                "The specified resource is not found.",
            )
        })
}

fn tag(w: &mut World, input: &Value) -> ApiResult {
    let i = tagged(w, input)?;
    let tags = tags_from(input.get("tags"))?;
    if tags.is_empty() {
        return Err(ApiError::invalid_input(SVC, "tags must not be empty"));
    }
    super::merge_tags(&mut w.services[i].tags, tags);
    Ok(json!({}))
}

fn untag(w: &mut World, input: &Value) -> ApiResult {
    let i = tagged(w, input)?;
    let keys: Vec<String> = input
        .get("tagKeys")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    w.services[i].tags.retain(|(k, _)| !keys.contains(k));
    Ok(json!({}))
}
