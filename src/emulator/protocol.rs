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
    if let Some(op) = rest_json_operation(method, path) {
        let wire = Some(Wire::RestJson);
        let input =
            parse_json(body).map_err(|e| undecodable(Some(AwsService::RdsData), wire, e))?;
        return Ok(ApiRequest {
            service: AwsService::RdsData,
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

/// restJson1 operations are found by method and path in the model.
fn rest_json_operation(method: &Method, path: &str) -> Option<String> {
    let model = AwsService::RdsData.model();
    [
        "ExecuteStatement",
        "BatchExecuteStatement",
        "BeginTransaction",
        "CommitTransaction",
        "RollbackTransaction",
        "ExecuteSql",
    ]
    .into_iter()
    .find(|op| {
        model.operation(op).is_some_and(|o| {
            o["http"]["requestUri"].as_str() == Some(path)
                && o["http"]["method"].as_str() == Some(method.as_str())
        })
    })
    .map(str::to_string)
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
