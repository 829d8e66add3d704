//! Admin routes for EventBridge Scheduler, which AWS shows only through CloudWatch and
//! dead-letter queues: every invocation with its outcome, and the IAM roles the
//! scheduler may assume (the emulator has no IAM).

use super::Shared;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::sync::Arc;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/_scale0/scheduler", get(view)).route(
        "/_scale0/scheduler/roles",
        axum::routing::post(add_role).delete(remove_role),
    )
}

async fn view(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let (world, now) = shared.world();
    let s = &world.scheduler;
    let invocations: Vec<Value> = s
        .invocations
        .iter()
        .map(|i| {
            json!({
                "time": i.time, "group": i.group, "schedule": i.schedule, "target": i.target_arn,
                "error": i.error.as_ref().map(|(code, message)| json!({"code": code, "message": message})),
                "dead_letter": i.dead_letter,
            })
        })
        .collect();
    let schedules: Vec<Value> = s
        .schedules
        .values()
        .map(|x| json!({"group": x.group, "name": x.name, "expression": x.expression_text, "next": x.next}))
        .collect();
    Json(json!({"now": now, "roles": s.roles, "schedules": schedules, "invocations": invocations}))
}

/// The role ARN in `{"arn": ...}`, or why the body is not one.
fn role_arn(body: &[u8]) -> Result<String, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("invalid request body: {e}"))?;
    match v["arn"].as_str() {
        Some(a) if a.starts_with("arn:aws:iam::") && a.contains(":role/") => Ok(a.to_string()),
        _ => Err(r#"expected {"arn": "arn:aws:iam::<account>:role/<name>"}"#.into()),
    }
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

/// POST {"arn": ...}: the scheduler may assume this role.
async fn add_role(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    match role_arn(&body) {
        Ok(arn) => {
            shared.world().0.scheduler.roles.insert(arn);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(message) => bad_request(message),
    }
}

/// DELETE {"arn": ...}: it may no longer (a role deleted or its trust policy changed).
async fn remove_role(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    match role_arn(&body) {
        Ok(arn) => {
            shared.world().0.scheduler.roles.remove(&arn);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(message) => bad_request(message),
    }
}
