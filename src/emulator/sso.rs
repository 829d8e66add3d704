//! IAM Identity Center as the emulator serves it: the OIDC device flow (RegisterClient,
//! StartDeviceAuthorization, CreateToken, refresh) and the portal (GetRoleCredentials,
//! ListAccounts, ListAccountRoles), both rest-json, with AWS's error shapes (an
//! `x-amzn-ErrorType` header and `error`/`error_description` or `message` members).
//! A person "approves" a device code with POST /_scale0/sso/approve {"userCode", "deny"}.
//! Expiries run on the emulator's clock, so tests advance it past them.

// The helpers' errors are the HTTP answers themselves, returned once per request.
#![allow(clippy::result_large_err)]

use super::Shared;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

/// The roles the portal assigns to every user in every account (the emulator's accounts,
/// `/_scale0/accounts`).
pub const ROLES: [&str; 2] = ["Developer", "ReadOnly"];

/// Seconds a device code stays valid, and the polling interval the client must keep.
const DEVICE_CODE_SECONDS: f64 = 600.0;
const POLL_INTERVAL_SECONDS: u64 = 1;
/// Access tokens last 8 hours, role credentials 1 hour, client registrations 90 days.
const TOKEN_SECONDS: f64 = 8.0 * 3600.0;
const ROLE_CREDENTIAL_SECONDS: f64 = 3600.0;
const CLIENT_SECONDS: f64 = 90.0 * 86400.0;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Approval {
    Pending,
    Approved,
    Denied,
}

struct DeviceAuth {
    client_id: String,
    user_code: String,
    expires_at: f64,
    approval: Approval,
    /// Real time of the last poll: polling faster than the interval gets slow_down.
    last_poll: Option<Instant>,
}

/// The identity center's state: registered clients, device codes and tokens.
#[derive(Default)]
pub struct Directory {
    clients: HashMap<String, (String, f64)>,
    devices: HashMap<String, DeviceAuth>,
    /// access token -> expiry
    tokens: HashMap<String, f64>,
    /// refresh token -> client id
    refresh_tokens: HashMap<String, String>,
}

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/client/register", post(register_client))
        .route("/device_authorization", post(start_device_authorization))
        .route("/token", post(create_token))
        .route("/federation/credentials", get(get_role_credentials))
        .route("/assignment/accounts", get(list_accounts))
        .route("/assignment/roles", get(list_account_roles))
        .route("/_scale0/sso/approve", post(approve))
}

fn directory(shared: &Shared) -> std::sync::MutexGuard<'_, Directory> {
    shared.sso.lock().unwrap_or_else(PoisonError::into_inner)
}

fn secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// An OIDC error: `error` is the OAuth code (authorization_pending, slow_down, ...).
fn oidc_error(status: StatusCode, kind: &str, error: &str, description: &str) -> Response {
    let mut r = (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    if let Ok(v) = kind.parse() {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r
}

/// A portal error (`message` member).
fn portal_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let mut r = (status, Json(json!({"message": message}))).into_response();
    if let Ok(v) = kind.parse() {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r
}

fn field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn parse_body(body: &[u8]) -> Result<Value, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(oidc_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
            "invalid_request",
            "The request body must be a JSON object",
        )),
    }
}

async fn register_client(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if field(&body, "clientName").is_none() || field(&body, "clientType") != Some("public") {
        return oidc_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
            "invalid_request",
            "clientName is required and clientType must be public",
        );
    }
    let now = shared.clock.now();
    let id = format!("s0client-{}", uuid::Uuid::new_v4().simple());
    let client_secret = secret();
    directory(&shared)
        .clients
        .insert(id.clone(), (client_secret.clone(), now + CLIENT_SECONDS));
    Json(json!({
        "clientId": id,
        "clientSecret": client_secret,
        "clientIdIssuedAt": now as i64,
        "clientSecretExpiresAt": (now + CLIENT_SECONDS) as i64,
    }))
    .into_response()
}

/// The client's registration, or the error to answer with.
fn check_client(d: &Directory, body: &Value, now: f64) -> Result<String, Response> {
    let id = field(body, "clientId").unwrap_or_default();
    match d.clients.get(id) {
        Some((secret, expires)) if Some(secret.as_str()) == field(body, "clientSecret") => {
            if *expires <= now {
                Err(oidc_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidClientException",
                    "invalid_client",
                    "The client registration has expired",
                ))
            } else {
                Ok(id.to_string())
            }
        }
        _ => Err(oidc_error(
            StatusCode::UNAUTHORIZED,
            "InvalidClientException",
            "invalid_client",
            "Invalid client credentials",
        )),
    }
}

async fn start_device_authorization(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = shared.clock.now();
    let mut d = directory(&shared);
    let client_id = match check_client(&d, &body, now) {
        Ok(id) => id,
        Err(r) => return r,
    };
    if field(&body, "startUrl").is_none_or(|u| !u.starts_with("http")) {
        return oidc_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
            "invalid_request",
            "startUrl must be the portal's https:// URL",
        );
    }
    let device_code = secret();
    let raw = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    let user_code = format!("{}-{}", &raw[..4], &raw[4..8]);
    d.devices.insert(
        device_code.clone(),
        DeviceAuth {
            client_id,
            user_code: user_code.clone(),
            expires_at: now + DEVICE_CODE_SECONDS,
            approval: Approval::Pending,
            last_poll: None,
        },
    );
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let uri = format!("http://{host}/_scale0/sso/device");
    Json(json!({
        "deviceCode": device_code,
        "userCode": user_code,
        "verificationUri": uri,
        "verificationUriComplete": format!("{uri}?user_code={user_code}"),
        "expiresIn": DEVICE_CODE_SECONDS as i64,
        "interval": POLL_INTERVAL_SECONDS,
    }))
    .into_response()
}

fn issue_token(d: &mut Directory, client_id: &str, now: f64) -> Response {
    let access = format!("s0token-{}", secret());
    let refresh = format!("s0refresh-{}", secret());
    d.tokens.insert(access.clone(), now + TOKEN_SECONDS);
    d.refresh_tokens
        .insert(refresh.clone(), client_id.to_string());
    Json(json!({
        "accessToken": access,
        "tokenType": "Bearer",
        "expiresIn": TOKEN_SECONDS as i64,
        "refreshToken": refresh,
    }))
    .into_response()
}

async fn create_token(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = shared.clock.now();
    let mut d = directory(&shared);
    let client_id = match check_client(&d, &body, now) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match field(&body, "grantType") {
        Some("urn:ietf:params:oauth:grant-type:device_code") => {}
        Some("refresh_token") => {
            let token = field(&body, "refreshToken").unwrap_or_default();
            return match d.refresh_tokens.get(token) {
                Some(owner) if *owner == client_id => issue_token(&mut d, &client_id, now),
                _ => oidc_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidGrantException",
                    "invalid_grant",
                    "Invalid refresh token provided",
                ),
            };
        }
        _ => {
            return oidc_error(
                StatusCode::BAD_REQUEST,
                "UnsupportedGrantTypeException",
                "unsupported_grant_type",
                "Unsupported grant type",
            );
        }
    }
    let code = field(&body, "deviceCode").unwrap_or_default().to_string();
    let Some(auth) = d
        .devices
        .get_mut(&code)
        .filter(|a| a.client_id == client_id)
    else {
        return oidc_error(
            StatusCode::BAD_REQUEST,
            "InvalidGrantException",
            "invalid_grant",
            "Invalid device code provided",
        );
    };
    if auth.expires_at <= now {
        return oidc_error(
            StatusCode::BAD_REQUEST,
            "ExpiredTokenException",
            "expired_token",
            "The device code has expired",
        );
    }
    let polled_too_soon = auth
        .last_poll
        .is_some_and(|t| t.elapsed().as_secs_f64() < POLL_INTERVAL_SECONDS as f64 * 0.5);
    auth.last_poll = Some(Instant::now());
    match auth.approval {
        Approval::Denied => oidc_error(
            StatusCode::BAD_REQUEST,
            "AccessDeniedException",
            "access_denied",
            "The user denied the authorization request",
        ),
        Approval::Pending if polled_too_soon => oidc_error(
            StatusCode::BAD_REQUEST,
            "SlowDownException",
            "slow_down",
            "Client is polling too quickly",
        ),
        Approval::Pending => oidc_error(
            StatusCode::BAD_REQUEST,
            "AuthorizationPendingException",
            "authorization_pending",
            "Authorization is still pending",
        ),
        Approval::Approved => {
            d.devices.remove(&code);
            issue_token(&mut d, &client_id, now)
        }
    }
}

/// The bearer token's validity, or the portal's 401.
fn check_bearer(shared: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    let token = headers
        .get("x-amz-sso_bearer_token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let now = shared.clock.now();
    match directory(shared).tokens.get(token) {
        Some(expires) if *expires > now => Ok(()),
        // Expired or never issued: the portal says the same either way.
        _ => Err(portal_error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedException",
            "Session token not found or invalid",
        )),
    }
}

fn page<T: Clone>(
    items: &[T],
    query: &HashMap<String, String>,
) -> Result<(Vec<T>, Value), Response> {
    let start = match query.get("next_token") {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= items.len())
            .ok_or_else(|| {
                portal_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestException",
                    "Invalid next token",
                )
            })?,
    };
    let size = query
        .get("max_result")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(20)
        .clamp(1, 100);
    let end = (start + size).min(items.len());
    let next = if end < items.len() {
        json!(end.to_string())
    } else {
        Value::Null
    };
    Ok((items[start..end].to_vec(), next))
}

async fn list_accounts(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = check_bearer(&shared, &headers) {
        return r;
    }
    let all: Vec<Value> = shared
        .accounts()
        .into_iter()
        .map(|a| json!({"accountId": a.id, "accountName": a.alias, "emailAddress": format!("aws+{}@example.com", a.alias)}))
        .collect();
    match page(&all, &query) {
        Ok((list, next)) => Json(json!({"accountList": list, "nextToken": next})).into_response(),
        Err(r) => r,
    }
}

async fn list_account_roles(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = check_bearer(&shared, &headers) {
        return r;
    }
    let known = shared.accounts();
    let Some(account) = query
        .get("account_id")
        .filter(|a| known.iter().any(|k| k.id == **a))
    else {
        return portal_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "No access to the account",
        );
    };
    let all: Vec<Value> = ROLES
        .iter()
        .map(|r| json!({"roleName": r, "accountId": account}))
        .collect();
    match page(&all, &query) {
        Ok((list, next)) => Json(json!({"roleList": list, "nextToken": next})).into_response(),
        Err(r) => r,
    }
}

async fn get_role_credentials(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = check_bearer(&shared, &headers) {
        return r;
    }
    let account = query
        .get("account_id")
        .map(String::as_str)
        .unwrap_or_default();
    let role = query
        .get("role_name")
        .map(String::as_str)
        .unwrap_or_default();
    if !shared.accounts().iter().any(|a| a.id == account) || !ROLES.contains(&role) {
        return portal_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "No access to this account and role",
        );
    }
    // The client compares the expiry with its own clock, not the emulated one: an
    // emulator days ahead or behind must still hand out credentials that work now.
    let now = crate::clock::wall_now();
    let key = format!(
        "ASIA{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16].to_uppercase()
    );
    // Requests signed with this key reach this account's world.
    shared.map_key(&key, account);
    Json(json!({"roleCredentials": {
        "accessKeyId": key,
        "secretAccessKey": secret(),
        "sessionToken": format!("s0session-{}", secret()),
        // Milliseconds since the epoch, as the portal answers.
        "expiration": ((now + ROLE_CREDENTIAL_SECONDS) * 1000.0) as i64,
    }}))
    .into_response()
}

/// Admin: the person at the browser approves (or denies) a user code.
async fn approve(State(shared): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    let code = field(&body, "userCode").unwrap_or_default().to_string();
    let deny = body.get("deny").and_then(Value::as_bool).unwrap_or(false);
    let mut d = directory(&shared);
    match d.devices.values_mut().find(|a| a.user_code == code) {
        Some(auth) => {
            auth.approval = if deny {
                Approval::Denied
            } else {
                Approval::Approved
            };
            Json(json!({"userCode": code, "approved": !deny})).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(
                json!({"error": format!("no pending device authorization with user code {code}")}),
            ),
        )
            .into_response(),
    }
}
