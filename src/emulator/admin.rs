//! Admin routes under `/_scale0/`: the clock, fault injection, image pushes and a view of
//! the hidden state (documented in README.md).

use super::Shared;
use super::faults::FaultRule;
use super::world::Image;
use super::world::cluster::Power;
use super::world::service::{OperationType, ServiceStatus};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_scale0/health", get(clock))
        .route("/_scale0/clock", get(clock))
        .route("/_scale0/clock/advance", post(advance))
        .route("/_scale0/clock/speed", post(speed))
        .route(
            "/_scale0/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_scale0/faults/{id}", delete(remove_fault))
        .route("/_scale0/faults/deploy-failure", post(deploy_failure))
        .route("/_scale0/faults/maintenance", post(maintenance))
        .route("/_scale0/faults/express", post(express_fault))
        .route("/_scale0/ecr/push", post(push_image))
        .route("/_scale0/world", get(world))
        .route("/_scale0/stats", get(stats))
        // A wrong method gets the same JSON error shape as every other admin mistake.
        .method_not_allowed_fallback(method_not_allowed)
}

async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({"error": "this admin route does not take that method (see README)"})),
    )
        .into_response()
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.into()})),
    )
        .into_response()
}

fn not_found(message: impl Into<String>) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": message.into()})),
    )
        .into_response()
}

/// Parses a JSON body into `T`, or answers 400 with the reason.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid request body: {e}"))
}

async fn clock(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let now = shared.catch_up();
    Json(
        json!({"status": "ok", "now": now, "now_iso": super::shapes::iso8601(now), "speed": shared.clock.speed()}),
    )
}

#[derive(Deserialize)]
struct Advance {
    seconds: f64,
}

async fn advance(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let a: Advance = match parse(&body) {
        Ok(a) => a,
        Err(e) => return bad_request(e),
    };
    if !a.seconds.is_finite() || a.seconds < 0.0 || a.seconds > 30.0 * 86400.0 {
        return bad_request("seconds must be between 0 and 2592000 (30 days)");
    }
    shared.clock.advance(a.seconds);
    let now = shared.catch_up();
    Json(json!({"now": now, "now_iso": super::shapes::iso8601(now)})).into_response()
}

#[derive(Deserialize)]
struct Speed {
    speed: f64,
}

async fn speed(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let s: Speed = match parse(&body) {
        Ok(s) => s,
        Err(e) => return bad_request(e),
    };
    if !s.speed.is_finite() || !(0.0..=10_000.0).contains(&s.speed) {
        return bad_request("speed must be between 0 and 10000");
    }
    shared.catch_up();
    shared.clock.set_speed(s.speed);
    Json(json!({"speed": s.speed})).into_response()
}

async fn list_faults(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({"faults": shared.faults().list()}))
}

async fn add_fault(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let rule: FaultRule = match parse(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(e),
    };
    match shared.faults().add(rule) {
        Ok(rule) => (StatusCode::CREATED, Json(json!(rule))).into_response(),
        Err(e) => bad_request(e),
    }
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.faults().clear();
    StatusCode::NO_CONTENT
}

/// The id is read here, so a non-number gets the JSON error shape, not axum's text.
async fn remove_fault(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return bad_request(format!("fault rule ids are numbers, not {:?}", id));
    };
    if shared.faults().remove(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found(format!("no fault rule {id}"))
    }
}

#[derive(Deserialize)]
struct ServiceTarget {
    service: String,
}

/// Arms a failed health check for the service's next deployment (which then rolls back).
async fn deploy_failure(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let target: ServiceTarget = match parse(&body) {
        Ok(t) => t,
        Err(e) => return bad_request(e),
    };
    let (mut world, _) = shared.world();
    match world.service_index(&target.service) {
        Some(i) => {
            world.services[i].fail_next_deploy = true;
            Json(json!({"service": target.service, "fail_next_deploy": true})).into_response()
        }
        None => not_found(format!("no service {}", target.service)),
    }
}

#[derive(serde::Deserialize)]
struct ExpressFault {
    service: String,
    /// "load-balancer-gone" or "stuck-deployment" (the next one never advances).
    fault: String,
}

/// Breaks an ECS Express service's managed parts.
async fn express_fault(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let target: ExpressFault = match parse(&body) {
        Ok(t) => t,
        Err(e) => return bad_request(e),
    };
    let (mut world, _) = shared.world();
    let Some(x) = world
        .service_index(&target.service)
        .and_then(|i| world.services[i].express.as_deref_mut())
    else {
        return not_found(format!("no ECS Express service {}", target.service));
    };
    match target.fault.as_str() {
        "load-balancer-gone" => x.load_balancer_gone = true,
        "stuck-deployment" => x.stick_next_deployment = true,
        other => return bad_request(format!("unknown fault {other:?}")),
    }
    Json(json!({"service": target.service, "fault": target.fault})).into_response()
}

/// Starts an App Runner maintenance operation now (OPERATION_IN_PROGRESS for minutes).
async fn maintenance(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let target: ServiceTarget = match parse(&body) {
        Ok(t) => t,
        Err(e) => return bad_request(e),
    };
    let (mut world, now) = shared.world();
    let Some(i) = world.service_index(&target.service) else {
        return not_found(format!("no service {}", target.service));
    };
    if world.start_maintenance(i, now) {
        Json(json!({"service": target.service, "status": "OPERATION_IN_PROGRESS"})).into_response()
    } else {
        (
            StatusCode::CONFLICT,
            Json(json!({"error": format!("service {} is not RUNNING", target.service)})),
        )
            .into_response()
    }
}

#[derive(Deserialize)]
struct Push {
    repository: String,
    tag: String,
    #[serde(default)]
    size_bytes: Option<i64>,
}

/// Pushes a new image to a tag, as `docker push` would; services whose configured tag
/// moved and have automatic deployments on start deploying it.
async fn push_image(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let push: Push = match parse(&body) {
        Ok(p) => p,
        Err(e) => return bad_request(e),
    };
    let tag_ok = !push.tag.is_empty()
        && push.tag.len() <= 128
        && push
            .tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !tag_ok {
        return bad_request(format!("invalid image tag {:?}", push.tag));
    }
    let (mut world, now) = shared.world();
    let digest = format!("sha256:{}", world.random_hex(64));
    let Some(r) = world
        .repositories
        .iter()
        .position(|r| r.name == push.repository)
    else {
        return not_found(format!("no repository {}", push.repository));
    };
    let repo = &mut world.repositories[r];
    for image in &mut repo.images {
        image.tags.retain(|t| *t != push.tag);
    }
    repo.images.push(Image {
        digest: digest.clone(),
        tags: vec![push.tag.clone()],
        size_bytes: push.size_bytes.unwrap_or(187_000_000),
        pushed_at: now,
    });
    let identifier = format!("{}:{}", world.ecr_uri(&push.repository), push.tag);
    let auto: Vec<usize> = (0..world.services.len())
        .filter(|&i| {
            let s = &world.services[i];
            s.auto_deployments
                && s.image_identifier == identifier
                && s.status == ServiceStatus::Running
        })
        .collect();
    let mut deployed = Vec::new();
    for i in auto {
        world.deploy(i, OperationType::StartDeployment, identifier.clone(), now);
        deployed.push(world.services[i].name.clone());
    }
    Json(json!({"imageDigest": digest, "imageTag": push.tag, "autoDeployed": deployed}))
        .into_response()
}

/// Everything, including what AWS does not show (a writer's paused state, connections).
async fn world(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let (world, now) = shared.world();
    let services: Vec<Value> = world
        .services
        .iter()
        .map(|s| {
            json!({
                "name": s.name, "status": s.status.as_aws(), "url": s.url(),
                "image": s.image_identifier, "cluster": s.cluster,
                "concurrency": s.concurrency, "active_instances": s.active_instances,
                "pending": s.pending.as_ref().map(|p| json!({"kind": format!("{:?}", p.kind), "ends_at": p.ends_at})),
            })
        })
        .collect();
    let clusters: Vec<Value> = world
        .clusters
        .iter()
        .map(|c| {
            let power = match c.power {
                Power::Awake => json!({"state": "awake"}),
                Power::Pausing { until } => json!({"state": "pausing", "until": until}),
                Power::Paused { since } => json!({"state": "paused", "since": since}),
                Power::Resuming { until } => json!({"state": "resuming", "until": until}),
            };
            json!({
                "id": c.id, "status": c.status.as_aws(), "power": power,
                "capacity": c.capacity, "connections": c.connections,
                "max_connections": c.max_connections(), "auto_pause_at": c.auto_pause_at(),
            })
        })
        .collect();
    Json(json!({"now": now, "region": world.region, "services": services, "clusters": clusters}))
}

/// API calls served so far, by "service:Operation".
async fn stats(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let calls = shared.calls();
    let total: u64 = calls.values().sum();
    Json(json!({"total_calls": total, "calls": calls}))
}
