//! Several AWS accounts in one emulator. Each account id has its own world (and its own
//! app listeners); a request reaches the world of the account its credentials belong to,
//! as on AWS: the SigV4 `Authorization` header names the access key id, and the key maps
//! to an account (keys handed out by the SSO portal's GetRoleCredentials, keys registered
//! with `POST /_scale0/accounts`). Unknown keys reach the first account, so any
//! credentials keep working against a one-account emulator.

use super::seed::{self, ClusterSpec, EnvSpec, ServiceSpec};
use super::world::{ACCOUNT, World};
use super::{EmulatorError, Shared};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError};

/// The first account's alias (ListAccounts' accountName).
pub const FIRST_ALIAS: &str = "scale0-demo";
/// The demo's second account: production, read-only by default because its alias says so.
pub const PRODUCTION: &str = "210987654321";
pub const PRODUCTION_ALIAS: &str = "scale0-production";
/// The access key id that reaches the demo's production account (any secret).
pub const PRODUCTION_KEY: &str = "scale0-production";

/// The accounts beside the first, and which access key belongs to which.
#[derive(Default)]
pub struct Registry {
    others: BTreeMap<String, (String, Arc<Shared>)>,
    keys: HashMap<String, String>,
}

/// One account as ListAccounts shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountInfo {
    pub id: String,
    pub alias: String,
}

/// The access key id a SigV4 `Authorization` header signs with.
fn access_key(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let credential = auth.split("Credential=").nth(1)?;
    credential.split('/').next().filter(|k| !k.is_empty())
}

impl Shared {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The world a request's credentials belong to (this one for unknown keys).
    pub fn for_request(self: &Arc<Self>, headers: &HeaderMap) -> Arc<Shared> {
        let Some(key) = access_key(headers) else {
            return self.clone();
        };
        let registry = self.registry();
        registry
            .keys
            .get(key)
            .and_then(|account| registry.others.get(account))
            .map_or_else(|| self.clone(), |(_, shared)| shared.clone())
    }

    /// Every account, the first one first.
    pub fn accounts(&self) -> Vec<AccountInfo> {
        let mut all = vec![AccountInfo {
            id: self.world().0.account.clone(),
            alias: FIRST_ALIAS.into(),
        }];
        all.extend(
            self.registry()
                .others
                .iter()
                .map(|(id, (alias, _))| AccountInfo {
                    id: id.clone(),
                    alias: alias.clone(),
                }),
        );
        all
    }

    /// Requests signed with `key` reach `account`'s world (an unknown account: the first).
    pub fn map_key(&self, key: &str, account: &str) {
        self.registry()
            .keys
            .insert(key.to_string(), account.to_string());
    }

    /// The world of another account, if it exists.
    pub fn account(&self, id: &str) -> Option<Arc<Shared>> {
        self.registry().others.get(id).map(|(_, s)| s.clone())
    }

    /// Every other account's state (the ticker and shutdown reach them too).
    pub(super) fn other_accounts(&self) -> Vec<Arc<Shared>> {
        self.registry()
            .others
            .values()
            .map(|(_, s)| s.clone())
            .collect()
    }
}

/// What a new account's world starts with.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AccountSeed {
    Empty,
    /// A small production account: `shop` and `qa` (the same name as the demo's qa).
    Production,
}

/// Adds account `id` with its own world on the first account's clock, and starts its app
/// listeners. An account that exists keeps its world (its alias is updated).
pub async fn add(
    first: &Arc<Shared>,
    id: &str,
    alias: &str,
    seed: AccountSeed,
) -> Result<Arc<Shared>, EmulatorError> {
    if let Some(existing) = first.account(id) {
        if let Some(entry) = first.registry().others.get_mut(id) {
            entry.0 = alias.to_string();
        }
        return Ok(existing);
    }
    let now = first.clock.now();
    let region = first.world().0.region.clone();
    let mut world = World::empty(&region, now);
    world.account = id.to_string();
    world.scheduler.invoker = Some(super::api::scheduler::invoke_target);
    if seed == AccountSeed::Production {
        production(&mut world, now);
    }
    let shared = Arc::new(Shared::new(world, first.clock.clone()));
    let services = shared.world().0.services.len();
    for i in 0..services {
        super::start_workload(&shared, i).await?;
    }
    first
        .registry()
        .others
        .insert(id.to_string(), (alias.to_string(), shared.clone()));
    Ok(shared)
}

/// Production: two always-on environments, one named like the demo's `qa`.
fn production(world: &mut World, now: f64) {
    for (env, owner) in [("shop", "platform"), ("qa", "platform")] {
        let mut spec = EnvSpec::new(env, owner);
        spec.service = Some(ServiceSpec {
            min_size: 2,
            max_size: 10,
            ..ServiceSpec::default()
        });
        spec.cluster = Some(ClusterSpec::v2(2.0, 16.0));
        seed::add_environment(world, &spec, now - 3600.0);
    }
    world.catch_up(now);
}

pub fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/_scale0/accounts", get(list).post(create))
}

async fn list(State(shared): State<Arc<Shared>>) -> Response {
    let all: Vec<Value> = shared
        .accounts()
        .into_iter()
        .map(|a| json!({"accountId": a.id, "alias": a.alias}))
        .collect();
    Json(json!({"accounts": all})).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewAccount {
    account_id: String,
    alias: String,
    #[serde(default)]
    access_key_ids: Vec<String>,
    seed: Option<AccountSeed>,
}

/// Admin: adds an account (its own world) and the access keys that reach it.
async fn create(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let bad = |m: String| (StatusCode::BAD_REQUEST, Json(json!({"error": m}))).into_response();
    let new: NewAccount = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => {
            return bad(format!(
                "expected {{accountId, alias, accessKeyIds, seed}}: {e}"
            ));
        }
    };
    let id_ok = new.account_id.len() == 12 && new.account_id.chars().all(|c| c.is_ascii_digit());
    if !id_ok || new.account_id == ACCOUNT {
        return bad(format!(
            "accountId must be 12 digits and not the first account ({ACCOUNT})"
        ));
    }
    let seed = new.seed.unwrap_or(AccountSeed::Empty);
    if let Err(e) = add(&shared, &new.account_id, &new.alias, seed).await {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": e.to_string()})),
        )
            .into_response();
    }
    for key in &new.access_key_ids {
        shared.map_key(key, &new.account_id);
    }
    Json(json!({"accountId": new.account_id, "alias": new.alias})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_access_key_comes_from_the_sigv4_credential_scope() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/rds/aws4_request, SignedHeaders=host, Signature=00"
                .parse()
                .unwrap(),
        );
        assert_eq!(access_key(&h), Some("AKIDEXAMPLE"));
        assert_eq!(access_key(&HeaderMap::new()), None);
    }
}
