//! RDS Data API (restJson1, POST /Execute): enough SQL for `SELECT 1`, with the resume
//! behaviour of a paused serverless writer.

use super::{ApiError, ApiResult, required_str};
use crate::emulator::Shared;
use crate::emulator::shapes::AwsService;
use crate::emulator::world::cluster::{ClusterStatus, Power};
use serde_json::{Value, json};

const SVC: AwsService = AwsService::RdsData;

pub fn call(shared: &Shared, op: &str, input: &Value) -> Option<ApiResult> {
    Some(match op {
        "ExecuteStatement" => execute(shared, input),
        _ => return None,
    })
}

fn execute(shared: &Shared, input: &Value) -> ApiResult {
    let arn = required_str(SVC, input, "resourceArn")?;
    let secret = required_str(SVC, input, "secretArn")?;
    let sql = required_str(SVC, input, "sql")?;
    let (mut world, now) = shared.world();
    let i = world
        .clusters
        .iter()
        .position(|c| c.arn == arn)
        .ok_or_else(|| {
            ApiError::new("BadRequestException", format!("Invalid cluster arn: {arn}"))
        })?;
    let c = &world.clusters[i];
    if !c.http_endpoint_enabled {
        return Err(ApiError::new(
            "HttpEndpointNotEnabledException",
            format!(
                "HttpEndpoint is not enabled for cluster {}. Please refer to https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html#data-api.troubleshooting",
                c.id
            ),
        ));
    }
    if !secret.starts_with("arn:aws:secretsmanager:") {
        return Err(ApiError::new(
            "BadRequestException",
            format!("Invalid secret arn: {secret}"),
        ));
    }
    if c.master_user_secret_arn.as_deref() != Some(secret) && !secret.contains(&c.id) {
        return Err(ApiError::new(
            "SecretsErrorException",
            "Secrets Manager can't find the specified secret.",
        ));
    }
    if c.status != ClusterStatus::Available {
        return Err(ApiError::new(
            "DatabaseUnavailableException",
            "The database is unavailable.",
        ));
    }
    match c.power {
        Power::Paused { .. } | Power::Resuming { .. } => {
            // The call wakes the writer but is cancelled itself; the caller retries.
            world.begin_resume(i, now);
            return Err(ApiError::new(
                "DatabaseResumingException",
                format!(
                    "The Aurora DB instance {} is resuming after being auto-paused. Please wait a few seconds and try again.",
                    world.clusters[i].writer_id
                ),
            ));
        }
        Power::Awake | Power::Pausing { .. } => world.touch(i, now),
    }
    let normalized = sql.trim().trim_end_matches(';').trim().to_ascii_lowercase();
    match normalized.as_str() {
        "select 1" => Ok(json!({"records": [[{"longValue": 1}]], "numberOfRecordsUpdated": 0})),
        "select now()" | "select current_timestamp" => Ok(json!({
            "records": [[{"stringValue": crate::emulator::shapes::iso8601(now)}]],
            "numberOfRecordsUpdated": 0,
        })),
        _ => Err(ApiError::new(
            "DatabaseErrorException",
            format!("The scale0 emulator runs only SELECT 1 and SELECT now(); got: {sql}"),
        )),
    }
}
