//! AWS wire protocols: which service and operation a request is for, its input as a
//! value, and the response or error in the protocol's own shape.

use super::api::ApiError;
use super::shapes::AwsService;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// awsJson1_0 / awsJson1_1 with X-Amz-Target.
    Json { version: &'static str },
    /// Smithy RPC v2 CBOR.
    Cbor,
    /// awsQuery: form-encoded input, XML output.
    Query,
    /// restJson1 (the RDS Data API).
    RestJson,
}

#[derive(Debug)]
pub struct ApiRequest {
    pub service: AwsService,
    pub wire: Wire,
    pub operation: String,
    pub input: Value,
}

/// Why a request could not be decoded, with as much as is known of where it was going.
#[derive(Debug)]
pub struct Undecodable {
    pub service: Option<AwsService>,
    pub wire: Option<Wire>,
    pub error: ApiError,
}

fn undecodable(service: Option<AwsService>, wire: Option<Wire>, error: ApiError) -> Undecodable {
    Undecodable {
        service,
        wire,
        error,
    }
}

/// The service in a SigV4 credential scope: `Credential=AKID/20261123/us-east-1/rds/aws4_request`.
pub fn signing_service(headers: &HeaderMap) -> Option<AwsService> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
    AwsService::from_name(scope.split('/').nth(3)?)
}

/// The region in a SigV4 credential scope.
pub fn signing_region(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
    scope.split('/').nth(2).map(str::to_string)
}

pub fn decode(
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<ApiRequest, Undecodable> {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return decode_json(target, body);
    }
    if let Some(rest) = path.strip_prefix("/service/") {
        return decode_cbor(rest, body);
    }
    if let Some((service, op, labels)) = rest_json_operation(method, path) {
        let wire = Some(Wire::RestJson);
        let mut input = parse_json(body).map_err(|e| undecodable(Some(service), wire, e))?;
        bind_rest_members(service, &op, &labels, query, &mut input);
        return Ok(ApiRequest {
            service,
            wire: Wire::RestJson,
            operation: op,
            input,
        });
    }
    decode_query(query, headers, body)
}

fn parse_json(body: &Bytes) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ApiError::new(
            "SerializationException",
            "The request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::new(
            "SerializationException",
            format!("The request body is not valid JSON: {e}"),
        )),
    }
}

fn decode_json(target: &str, body: &Bytes) -> Result<ApiRequest, Undecodable> {
    let (prefix, op) = target.split_once('.').unwrap_or((target, ""));
    let service = AwsService::ALL
        .into_iter()
        .find(|s| s.model().metadata("targetPrefix") == Some(prefix));
    let Some(service) = service else {
        return Err(undecodable(
            None,
            Some(Wire::Json { version: "1.0" }),
            ApiError::new(
                "UnknownOperationException",
                format!("Unknown service target {target}"),
            ),
        ));
    };
    let version = if service.model().metadata("jsonVersion") == Some("1.1") {
        "1.1"
    } else {
        "1.0"
    };
    let wire = Wire::Json { version };
    let input = parse_json(body).map_err(|e| undecodable(Some(service), Some(wire), e))?;
    Ok(ApiRequest {
        service,
        wire,
        operation: op.to_string(),
        input,
    })
}

fn decode_cbor(rest: &str, body: &Bytes) -> Result<ApiRequest, Undecodable> {
    let wire = Some(Wire::Cbor);
    let (service_name, op) = match rest.split_once("/operation/") {
        Some(parts) => parts,
        None => (rest, ""),
    };
    let service = AwsService::ALL.into_iter().find(|s| {
        s.model().metadata("targetPrefix") == Some(service_name)
            && s.model().metadata("protocol") == Some("smithy-rpc-v2-cbor")
    });
    let Some(service) = service else {
        return Err(undecodable(
            None,
            wire,
            ApiError::new(
                "UnknownOperationException",
                format!("Unknown RPC v2 service {service_name}"),
            ),
        ));
    };
    let input = if body.is_empty() {
        json!({})
    } else {
        let value: ciborium::Value = ciborium::from_reader(body.as_ref()).map_err(|e| {
            undecodable(
                Some(service),
                wire,
                ApiError::new(
                    "SerializationException",
                    format!("The request body is not valid CBOR: {e}"),
                ),
            )
        })?;
        if !value.is_map() {
            return Err(undecodable(
                Some(service),
                wire,
                ApiError::new(
                    "SerializationException",
                    "The request body must be a CBOR map",
                ),
            ));
        }
        super::shapes::cbor_to_json(&value)
    };
    Ok(ApiRequest {
        service,
        wire: Wire::Cbor,
        operation: op.to_string(),
        input,
    })
}

/// The restJson1 services, whose operations are found by method and path.
const REST_JSON: [AwsService; 2] = [AwsService::RdsData, AwsService::Scheduler];

/// A path template's labels and their values.
type Labels = Vec<(String, String)>;

/// The operation whose method and path template (`/schedules/{Name}`) match, with the
/// template's labels, percent-decoded (an ARN label arrives with `/` as `%2F`).
fn rest_json_operation(method: &Method, path: &str) -> Option<(AwsService, String, Labels)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    REST_JSON.into_iter().find_map(|service| {
        let operations = service.model().operations()?;
        operations.iter().find_map(|(name, o)| {
            if o["http"]["method"].as_str() != Some(method.as_str()) {
                return None;
            }
            let template = o["http"]["requestUri"].as_str()?;
            let template = template.split('?').next().unwrap_or(template);
            let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut labels = Vec::new();
            for (part, segment) in parts.iter().zip(&segments) {
                match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(label) if !segment.is_empty() => labels.push((
                        label.trim_end_matches('+').to_string(),
                        percent_decode(segment),
                    )),
                    Some(_) => return None,
                    None if part == segment => {}
                    None => return None,
                }
            }
            Some((service, name.clone(), labels))
        })
    })
}

fn percent_decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| text.to_string())
}

/// Puts the path labels and query parameters where the input shape says they go
/// (`"location": "uri"` / `"querystring"`), typed as the member's shape.
fn bind_rest_members(
    service: AwsService,
    op: &str,
    labels: &[(String, String)],
    query: Option<&str>,
    input: &mut Value,
) {
    let model = service.model();
    let Some(shape) = model.input_shape(op) else {
        return;
    };
    let params: Vec<(String, String)> = query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let Some(members) = model.shape(shape).get("members").and_then(Value::as_object) else {
        return;
    };
    let Some(object) = input.as_object_mut() else {
        return;
    };
    for (member, spec) in members {
        let wire_name = spec["locationName"].as_str().unwrap_or(member);
        let text = match spec["location"].as_str() {
            Some("uri") => labels.iter().find(|(l, _)| l == wire_name).map(|(_, v)| v),
            Some("querystring") => params.iter().find(|(k, _)| k == wire_name).map(|(_, v)| v),
            _ => None,
        };
        let target = spec["shape"].as_str().unwrap_or_default();
        let list = model.shape(target).get("type").and_then(Value::as_str) == Some("list");
        if list && spec["location"].as_str() == Some("querystring") {
            let values: Vec<Value> = params
                .iter()
                .filter(|(k, _)| k == wire_name)
                .map(|(_, v)| json!(v))
                .collect();
            if !values.is_empty() {
                object.insert(member.clone(), Value::Array(values));
            }
            continue;
        }
        if let Some(text) = text {
            let value = match model.shape(target).get("type").and_then(Value::as_str) {
                Some("integer" | "long") => {
                    text.parse::<i64>().map(Value::from).unwrap_or(json!(text))
                }
                Some("boolean") => json!(text == "true"),
                _ => json!(text),
            };
            object.insert(member.clone(), value);
        }
    }
}

fn decode_query(
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<ApiRequest, Undecodable> {
    let mut params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    if let Some(q) = query {
        params.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    let action = params
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.clone());
    let service = signing_service(headers).or_else(|| {
        let action = action.as_deref()?;
        [AwsService::Rds, AwsService::CloudWatch]
            .into_iter()
            .find(|s| s.model().has_operation(action))
    });
    let Some(action) = action else {
        return Err(undecodable(
            service,
            Some(Wire::Query),
            ApiError::new(
                "MissingAction",
                "The request must name an Action (or use an X-Amz-Target header)",
            ),
        ));
    };
    let Some(service) = service.filter(|s| s.model().metadata("xmlNamespace").is_some()) else {
        return Err(undecodable(
            Some(AwsService::Rds),
            Some(Wire::Query),
            ApiError::new(
                "InvalidAction",
                format!("The action {action} is not valid for this web service."),
            ),
        ));
    };
    let input = match service.model().input_shape(&action) {
        Some(shape) => service.model().from_query(shape, &params),
        None => json!({}),
    };
    Ok(ApiRequest {
        service,
        wire: Wire::Query,
        operation: action,
        input,
    })
}

fn with_headers(
    status: StatusCode,
    content_type: &'static str,
    request_id: &str,
    body: Vec<u8>,
) -> Response {
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    response
}

fn json_content_type(wire: Wire) -> &'static str {
    match wire {
        Wire::Json { version: "1.1" } => "application/x-amz-json-1.1",
        Wire::Json { .. } => "application/x-amz-json-1.0",
        _ => "application/json",
    }
}

pub fn encode_ok(req: &ApiRequest, output: &Value, request_id: &str) -> Response {
    let model = req.service.model();
    match req.wire {
        Wire::Json { .. } | Wire::RestJson => {
            let body = serde_json::to_vec(&model.to_json(output)).unwrap_or_default();
            with_headers(
                StatusCode::OK,
                json_content_type(req.wire),
                request_id,
                body,
            )
        }
        Wire::Cbor => {
            let shape = model.output_shape(&req.operation).unwrap_or("Unit");
            let mut body = Vec::new();
            // Writing CBOR into a Vec cannot fail for lack of space; an error here
            // would be a ciborium defect, answered as an empty body.
            let _ = ciborium::into_writer(&model.to_cbor(shape, output), &mut body);
            let mut response = with_headers(StatusCode::OK, "application/cbor", request_id, body);
            response
                .headers_mut()
                .insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
            response
        }
        Wire::Query => {
            let xml = model.to_query_xml(&req.operation, output, request_id);
            with_headers(StatusCode::OK, "text/xml", request_id, xml.into_bytes())
        }
    }
}

pub fn encode_error(
    service: AwsService,
    wire: Wire,
    error: &ApiError,
    request_id: &str,
) -> Response {
    let model = service.model();
    let status =
        StatusCode::from_u16(error.http_status(service)).unwrap_or(StatusCode::BAD_REQUEST);
    let sender = status.is_client_error();
    // awsQueryCompatible services (CloudWatch) name errors by shape in __type and by
    // their query code in x-amzn-query-error.
    let shape_name = model
        .error_shape(&error.code)
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| error.code.clone());
    let query_compatible = service == AwsService::CloudWatch;
    let mut response = match wire {
        Wire::Json { .. } | Wire::RestJson => {
            let member = model.error_message_member(&error.code);
            let body = json!({"__type": shape_name, member: error.message});
            let mut r = with_headers(
                status,
                json_content_type(wire),
                request_id,
                serde_json::to_vec(&body).unwrap_or_default(),
            );
            if let Ok(v) = HeaderValue::from_str(&error.code) {
                r.headers_mut().insert("x-amzn-errortype", v);
            }
            r
        }
        Wire::Cbor => {
            use ciborium::Value as C;
            let body = C::Map(vec![
                (
                    C::Text("__type".into()),
                    C::Text(format!("com.amazonaws.cloudwatch#{shape_name}")),
                ),
                (C::Text("message".into()), C::Text(error.message.clone())),
            ]);
            let mut bytes = Vec::new();
            let _ = ciborium::into_writer(&body, &mut bytes);
            let mut r = with_headers(status, "application/cbor", request_id, bytes);
            r.headers_mut()
                .insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
            r
        }
        Wire::Query => {
            let namespace = model.metadata("xmlNamespace").unwrap_or_default();
            let xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"{namespace}\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                if sender { "Sender" } else { "Receiver" },
                super::shapes::escape_xml(&error.code),
                super::shapes::escape_xml(&error.message),
            );
            with_headers(status, "text/xml", request_id, xml.into_bytes())
        }
    };
    if query_compatible && wire != Wire::Query {
        let value = format!(
            "{};{}",
            error.code,
            if sender { "Sender" } else { "Receiver" }
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().insert("x-amzn-query-error", v);
        }
    }
    response
}

/// The code each service and protocol uses for a kind of generic failure.
pub fn generic_code(service: AwsService, wire: Wire, kind: GenericError) -> &'static str {
    let query = wire == Wire::Query || service == AwsService::CloudWatch;
    match (kind, service) {
        (GenericError::Throttling, _) if query || service == AwsService::Rds => "Throttling",
        (GenericError::Throttling, _) => "ThrottlingException",
        (GenericError::Internal, AwsService::AppRunner) => "InternalServiceErrorException",
        (GenericError::Internal, AwsService::Ecr | AwsService::Ecs) => "ServerException",
        (GenericError::Internal, AwsService::Rds) => "InternalFailure",
        (GenericError::Internal, AwsService::CloudWatch) => "InternalServiceFault",
        (GenericError::Internal, AwsService::RdsData) => "InternalServerErrorException",
        (GenericError::Internal, AwsService::Logs) => "ServiceUnavailableException",
        (GenericError::Internal, AwsService::Scheduler) => "InternalServerException",
        (GenericError::AccessDenied, _) if query || service == AwsService::Rds => "AccessDenied",
        (GenericError::AccessDenied, _) => "AccessDeniedException",
        (GenericError::ExpiredToken, _) if query || service == AwsService::Rds => "ExpiredToken",
        (GenericError::ExpiredToken, _) => "ExpiredTokenException",
        (GenericError::UnknownOperation, _) if wire == Wire::Query => "InvalidAction",
        (GenericError::UnknownOperation, _) => "UnknownOperationException",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenericError {
    Throttling,
    Internal,
    AccessDenied,
    ExpiredToken,
    UnknownOperation,
}

impl GenericError {
    pub fn status(self) -> u16 {
        match self {
            GenericError::Throttling
            | GenericError::ExpiredToken
            | GenericError::UnknownOperation => 400,
            GenericError::Internal => 500,
            GenericError::AccessDenied => 403,
        }
    }
}
