//! Operation handlers: a decoded input value in, an output value (named as AWS's model
//! names it) or an AWS error out. The wire format is the protocol module's business.

pub mod apprunner;
pub mod cloudwatch;
pub mod ecr;
pub mod ecs;
mod ecs_json;
pub mod logs;
pub mod rds;
pub mod rdsdata;
pub mod scheduler;

use super::Shared;
use super::shapes::AwsService;
use serde_json::Value;

/// An error as AWS returns it: a code from the service's model and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    /// Overrides the model's status (for codes the model does not list).
    pub status: Option<u16>,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code: code.to_string(),
            message: message.into(),
            status: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> ApiError {
        self.status = Some(status);
        self
    }

    /// The HTTP status: the model's for this code, else the override, else 400.
    pub fn http_status(&self, service: AwsService) -> u16 {
        self.status
            .or_else(|| service.model().error_status(&self.code))
            .unwrap_or(400)
    }

    /// The code each service uses for a request that fails validation.
    pub fn invalid_input(service: AwsService, message: impl Into<String>) -> ApiError {
        let code = match service {
            AwsService::AppRunner => "InvalidRequestException",
            AwsService::Ecr | AwsService::Logs | AwsService::Ecs => "InvalidParameterException",
            AwsService::Rds | AwsService::CloudWatch => "InvalidParameterValue",
            AwsService::RdsData => "BadRequestException",
            AwsService::Scheduler => "ValidationException",
        };
        ApiError::new(code, message)
    }
}

pub type ApiResult = Result<Value, ApiError>;

/// Dispatches one call. `None` means the emulator does not implement the operation.
pub fn call(shared: &Shared, service: AwsService, op: &str, input: &Value) -> Option<ApiResult> {
    match service {
        AwsService::AppRunner => apprunner::call(shared, op, input),
        AwsService::Ecr => ecr::call(shared, op, input),
        AwsService::Rds => rds::call(shared, op, input),
        AwsService::CloudWatch => cloudwatch::call(shared, op, input),
        AwsService::RdsData => rdsdata::call(shared, op, input),
        AwsService::Logs => logs::call(shared, op, input),
        AwsService::Ecs => ecs::call(shared, op, input),
        AwsService::Scheduler => scheduler::call(shared, op, input),
    }
}

/// A required string member, or the service's validation error.
pub fn required_str<'a>(
    service: AwsService,
    input: &'a Value,
    name: &str,
) -> Result<&'a str, ApiError> {
    match input.get(name).and_then(Value::as_str) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(ApiError::invalid_input(
            service,
            format!("{name} is required"),
        )),
    }
}

/// Pages through `items` with an opaque numeric token, as AWS paginated lists do.
pub fn paginate<T: Clone>(
    service: AwsService,
    items: &[T],
    token: Option<&str>,
    page_size: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match token {
        None | Some("") => 0,
        Some(t) => t
            .strip_prefix("s0-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| {
                let code = match service {
                    AwsService::CloudWatch => "InvalidNextToken",
                    _ => {
                        return ApiError::invalid_input(service, "The pagination token is invalid");
                    }
                };
                ApiError::new(code, "The pagination token is invalid")
            })?,
    };
    let end = (start + page_size.max(1)).min(items.len());
    let next = (end < items.len()).then(|| format!("s0-{end}"));
    Ok((items[start..end].to_vec(), next))
}

pub fn tags_json(tags: &[(String, String)]) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| serde_json::json!({"Key": k, "Value": v}))
            .collect(),
    )
}

/// Tags from `[{"Key":..,"Value":..}]`, rejecting empty keys.
pub fn tags_from(
    service: AwsService,
    value: Option<&Value>,
) -> Result<Vec<(String, String)>, ApiError> {
    let Some(items) = value.and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(|t| {
            let key = t.get("Key").and_then(Value::as_str).unwrap_or_default();
            if key.is_empty() || key.len() > 128 {
                return Err(ApiError::invalid_input(
                    service,
                    "Tag keys must be 1 to 128 characters",
                ));
            }
            let value = t.get("Value").and_then(Value::as_str).unwrap_or_default();
            Ok((key.to_string(), value.to_string()))
        })
        .collect()
}

pub fn merge_tags(existing: &mut Vec<(String, String)>, new: Vec<(String, String)>) {
    for (k, v) in new {
        match existing.iter_mut().find(|(ek, _)| *ek == k) {
            Some(slot) => slot.1 = v,
            None => existing.push((k, v)),
        }
    }
}
