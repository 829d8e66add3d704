//! App Runner (awsJson1_0, target prefix AppRunner).

use super::{ApiError, ApiResult, merge_tags, paginate, required_str, tags_from, tags_json};
use crate::emulator::Shared;
use crate::emulator::shapes::AwsService;
use crate::emulator::world::World;
use crate::emulator::world::service::{OperationType, Service, ServiceStatus, Work};
use serde_json::{Value, json};

const SVC: AwsService = AwsService::AppRunner;

pub fn call(shared: &Shared, op: &str, input: &Value) -> Option<ApiResult> {
    let (mut world, now) = shared.world();
    dispatch(&mut world, now, op, input)
}

/// One operation on a world already caught up to `now` (the scheduler's targets, too).
pub fn dispatch(w: &mut World, now: f64, op: &str, input: &Value) -> Option<ApiResult> {
    Some(match op {
        "ListServices" => list_services(w, input),
        "DescribeService" => find(w, input).map(|i| json!({"Service": service_json(w, i)})),
        "PauseService" => pause(w, input, now),
        "ResumeService" => resume(w, input, now),
        "UpdateService" => update(w, input, now),
        "StartDeployment" => start_deployment(w, input, now),
        "ListOperations" => list_operations(w, input),
        "TagResource" => tag(w, input),
        "UntagResource" => untag(w, input),
        "ListTagsForResource" => list_tags(w, input),
        "DescribeAutoScalingConfiguration" => describe_autoscaling(w, input),
        "ListAutoScalingConfigurations" => list_autoscaling(w),
        _ => return None,
    })
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(
        "ResourceNotFoundException",
        format!("Resource {what} is not found"),
    )
}

fn find(w: &World, input: &Value) -> Result<usize, ApiError> {
    let arn = required_str(SVC, input, "ServiceArn")?;
    if !arn.starts_with("arn:aws:apprunner:") {
        return Err(ApiError::invalid_input(
            SVC,
            format!("ServiceArn {arn} is not a valid App Runner service ARN"),
        ));
    }
    w.services
        .iter()
        .position(|s| s.arn == arn)
        .ok_or_else(|| not_found(arn))
}

fn max_results(input: &Value) -> Result<usize, ApiError> {
    match input.get("MaxResults").and_then(Value::as_i64) {
        None => Ok(20),
        Some(n) if (1..=20).contains(&n) => Ok(n as usize),
        Some(n) => Err(ApiError::invalid_input(
            SVC,
            format!("MaxResults {n} must be between 1 and 20"),
        )),
    }
}

fn summary_json(s: &Service) -> Value {
    json!({
        "ServiceName": s.name,
        "ServiceId": s.id,
        "ServiceArn": s.arn,
        "ServiceUrl": s.url(),
        "CreatedAt": s.created_at,
        "UpdatedAt": s.updated_at,
        "Status": s.status.as_aws(),
    })
}

fn autoscaling_summary(w: &World, s: &Service) -> Value {
    let a = w.scaling_of(s);
    json!({
        "AutoScalingConfigurationArn": a.arn,
        "AutoScalingConfigurationName": a.name,
        "AutoScalingConfigurationRevision": a.revision,
        "Status": "ACTIVE",
        "CreatedAt": a.created_at,
        "HasAssociatedService": true,
        "IsDefault": a.is_default,
    })
}

pub fn service_json(w: &World, i: usize) -> Value {
    let s = &w.services[i];
    let role = |name: &str| format!("arn:aws:iam::{}:role/{}-{name}", w.account, s.name);
    json!({
        "ServiceName": s.name,
        "ServiceId": s.id,
        "ServiceArn": s.arn,
        "ServiceUrl": s.url(),
        "CreatedAt": s.created_at,
        "UpdatedAt": s.updated_at,
        "Status": s.status.as_aws(),
        "SourceConfiguration": {
            "ImageRepository": {
                "ImageIdentifier": s.image_identifier,
                "ImageRepositoryType": "ECR",
                "ImageConfiguration": {
                    "Port": "8000",
                    "RuntimeEnvironmentVariables": {"DJANGO_SETTINGS_MODULE": "app.settings.dev"},
                },
            },
            "AutoDeploymentsEnabled": s.auto_deployments,
            "AuthenticationConfiguration": {"AccessRoleArn": role("access-role")},
        },
        "InstanceConfiguration": {
            "Cpu": s.cpu,
            "Memory": s.memory,
            "InstanceRoleArn": role("instance-role"),
        },
        "AutoScalingConfigurationSummary": autoscaling_summary(w, s),
        "HealthCheckConfiguration": {
            "Protocol": "TCP", "Path": "/", "Interval": 5, "Timeout": 2,
            "HealthyThreshold": 1, "UnhealthyThreshold": 5,
        },
        "NetworkConfiguration": {
            "EgressConfiguration": {
                "EgressType": "VPC",
                "VpcConnectorArn": format!(
                    "arn:aws:apprunner:{}:{}:vpcconnector/scale0/1/{}",
                    w.region, w.account, &s.id[..16]
                ),
            },
            "IngressConfiguration": {"IsPubliclyAccessible": true},
            "IpAddressType": "IPV4",
        },
        "ObservabilityConfiguration": {"ObservabilityEnabled": false},
    })
}

fn list_services(w: &World, input: &Value) -> ApiResult {
    let size = max_results(input)?;
    let token = input.get("NextToken").and_then(Value::as_str);
    // ECS Express services run the same app model but are not App Runner's.
    let all: Vec<Value> = w
        .services
        .iter()
        .filter(|s| s.express.is_none())
        .map(summary_json)
        .collect();
    let (page, next) = paginate(SVC, &all, token, size)?;
    Ok(json!({"ServiceSummaryList": page, "NextToken": next}))
}

fn refuse(s: &Service, action: &str) -> ApiError {
    ApiError::new(
        "InvalidStateException",
        format!(
            "You can't {action} service {} because its status is {}.",
            s.arn,
            s.status.as_aws()
        ),
    )
}

fn pause(w: &mut World, input: &Value, now: f64) -> ApiResult {
    let i = find(w, input)?;
    if w.services[i].status != ServiceStatus::Running {
        return Err(refuse(&w.services[i], "pause"));
    }
    let d = w.pause_duration();
    let id = w.start_operation(i, OperationType::PauseService, Work::Pause, d, now);
    Ok(json!({"Service": service_json(w, i), "OperationId": id}))
}

fn resume(w: &mut World, input: &Value, now: f64) -> ApiResult {
    let i = find(w, input)?;
    if w.services[i].status != ServiceStatus::Paused {
        return Err(refuse(&w.services[i], "resume"));
    }
    let d = w.resume_duration();
    let id = w.start_operation(i, OperationType::ResumeService, Work::Resume, d, now);
    Ok(json!({"Service": service_json(w, i), "OperationId": id}))
}

fn update(w: &mut World, input: &Value, now: f64) -> ApiResult {
    let i = find(w, input)?;
    if w.services[i].status != ServiceStatus::Running {
        return Err(refuse(&w.services[i], "update"));
    }
    let new_scaling = input
        .get("AutoScalingConfigurationArn")
        .and_then(Value::as_str);
    if let Some(arn) = new_scaling
        && !w.autoscaling.iter().any(|a| a.arn == arn)
    {
        return Err(not_found(arn));
    }
    let image = input
        .pointer("/SourceConfiguration/ImageRepository/ImageIdentifier")
        .and_then(Value::as_str);
    if input
        .pointer("/SourceConfiguration/CodeRepository")
        .is_some()
    {
        return Err(ApiError::invalid_input(
            SVC,
            "You can't switch a service from an image repository to a code repository",
        ));
    }
    if let Some(image) = image
        && !valid_image_identifier(image)
    {
        return Err(ApiError::invalid_input(
            SVC,
            format!("ImageIdentifier {image} is not a valid ECR image URI"),
        ));
    }
    {
        let s = &mut w.services[i];
        if let Some(arn) = new_scaling {
            s.autoscaling_arn = arn.to_string();
        }
        if let Some(auto) = input
            .pointer("/SourceConfiguration/AutoDeploymentsEnabled")
            .and_then(Value::as_bool)
        {
            s.auto_deployments = auto;
        }
        if let Some(cpu) = input
            .pointer("/InstanceConfiguration/Cpu")
            .and_then(Value::as_str)
        {
            s.cpu = cpu.to_string();
        }
        if let Some(mem) = input
            .pointer("/InstanceConfiguration/Memory")
            .and_then(Value::as_str)
        {
            s.memory = mem.to_string();
        }
    }
    let image = image
        .map(str::to_string)
        .unwrap_or_else(|| w.services[i].image_identifier.clone());
    let id = w.deploy(i, OperationType::UpdateService, image, now);
    Ok(json!({"Service": service_json(w, i), "OperationId": id}))
}

/// `<account>.dkr.ecr.<region>.amazonaws.com/<repo>(:<tag>|@sha256:<hex>)`, as the
/// model's ImageIdentifier pattern allows for private ECR.
pub fn valid_image_identifier(image: &str) -> bool {
    let Some((registry, path)) = image.split_once('/') else {
        return false;
    };
    let registry_ok = registry.len() > 13
        && registry[..12].chars().all(|c| c.is_ascii_digit())
        && registry[12..].starts_with(".dkr.ecr.")
        && registry.ends_with(".amazonaws.com");
    let reference_ok = match path.split_once('@') {
        Some((repo, digest)) => {
            !repo.is_empty()
                && digest
                    .strip_prefix("sha256:")
                    .is_some_and(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
        }
        None => match path.rsplit_once(':') {
            Some((repo, tag)) => {
                !repo.is_empty()
                    && !tag.is_empty()
                    && tag.len() <= 128
                    && tag
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            }
            None => !path.is_empty(),
        },
    };
    registry_ok && reference_ok
}

fn start_deployment(w: &mut World, input: &Value, now: f64) -> ApiResult {
    let i = find(w, input)?;
    let s = &w.services[i];
    if s.status != ServiceStatus::Running {
        // The model lists no InvalidStateException for StartDeployment.
        return Err(ApiError::new(
            "InvalidRequestException",
            format!(
                "You can't deploy to service {} because its status is {}.",
                s.arn,
                s.status.as_aws()
            ),
        ));
    }
    let image = s.image_identifier.clone();
    let id = w.deploy(i, OperationType::StartDeployment, image, now);
    Ok(json!({"OperationId": id}))
}

fn list_operations(w: &World, input: &Value) -> ApiResult {
    let i = find(w, input)?;
    let size = max_results(input)?;
    let token = input.get("NextToken").and_then(Value::as_str);
    let s = &w.services[i];
    let all: Vec<Value> = s
        .operations
        .iter()
        .rev()
        .map(|o| {
            json!({
                "Id": o.id,
                "Type": o.kind.as_aws(),
                "Status": o.status.as_aws(),
                "TargetArn": s.arn,
                "StartedAt": o.started_at,
                "EndedAt": o.ended_at,
                "UpdatedAt": o.updated_at,
            })
        })
        .collect();
    let (page, next) = paginate(SVC, &all, token, size)?;
    Ok(json!({"OperationSummaryList": page, "NextToken": next}))
}

fn tagged(w: &mut World, input: &Value) -> Result<usize, ApiError> {
    let arn = required_str(SVC, input, "ResourceArn")?;
    w.services
        .iter()
        .position(|s| s.arn == arn)
        .ok_or_else(|| not_found(arn))
}

fn tag(w: &mut World, input: &Value) -> ApiResult {
    let i = tagged(w, input)?;
    let tags = tags_from(SVC, input.get("Tags"))?;
    merge_tags(&mut w.services[i].tags, tags);
    Ok(json!({}))
}

fn untag(w: &mut World, input: &Value) -> ApiResult {
    let i = tagged(w, input)?;
    let keys: Vec<&str> = input
        .get("TagKeys")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    w.services[i]
        .tags
        .retain(|(k, _)| !keys.contains(&k.as_str()));
    Ok(json!({}))
}

fn list_tags(w: &mut World, input: &Value) -> ApiResult {
    let i = tagged(w, input)?;
    Ok(json!({"Tags": tags_json(&w.services[i].tags)}))
}

fn autoscaling_json(w: &World, a: &crate::emulator::world::service::AutoScaling) -> Value {
    json!({
        "AutoScalingConfigurationArn": a.arn,
        "AutoScalingConfigurationName": a.name,
        "AutoScalingConfigurationRevision": a.revision,
        "Latest": true,
        "Status": "ACTIVE",
        "MaxConcurrency": a.max_concurrency,
        "MinSize": a.min_size,
        "MaxSize": a.max_size,
        "CreatedAt": a.created_at,
        "HasAssociatedService": w.services.iter().any(|s| s.autoscaling_arn == a.arn),
        "IsDefault": a.is_default,
    })
}

fn describe_autoscaling(w: &World, input: &Value) -> ApiResult {
    let arn = required_str(SVC, input, "AutoScalingConfigurationArn")?;
    let a = w
        .autoscaling
        .iter()
        .find(|a| a.arn == arn)
        .ok_or_else(|| not_found(arn))?;
    Ok(json!({"AutoScalingConfiguration": autoscaling_json(w, a)}))
}

fn list_autoscaling(w: &World) -> ApiResult {
    let list: Vec<Value> = w
        .autoscaling
        .iter()
        .map(|a| {
            json!({
                "AutoScalingConfigurationArn": a.arn,
                "AutoScalingConfigurationName": a.name,
                "AutoScalingConfigurationRevision": a.revision,
                "Status": "ACTIVE",
                "CreatedAt": a.created_at,
                "HasAssociatedService": w.services.iter().any(|s| s.autoscaling_arn == a.arn),
                "IsDefault": a.is_default,
            })
        })
        .collect();
    Ok(json!({"AutoScalingConfigurationSummaryList": list}))
}

#[cfg(test)]
mod tests {
    use super::valid_image_identifier;

    #[test]
    fn image_identifiers_follow_the_ecr_pattern() {
        let base = "123456789012.dkr.ecr.us-east-1.amazonaws.com/scale0";
        assert!(valid_image_identifier(&format!("{base}:dev")));
        assert!(valid_image_identifier(&format!(
            "{base}@sha256:{}",
            "a".repeat(64)
        )));
        assert!(!valid_image_identifier(&format!("{base}:bad tag")));
        assert!(!valid_image_identifier(&format!("{base}@sha256:abc")));
        assert!(!valid_image_identifier("docker.io/library/nginx:latest"));
        assert!(!valid_image_identifier("scale0:dev"));
    }
}
