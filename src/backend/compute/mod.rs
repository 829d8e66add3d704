//! Compute kinds: where an environment's app runs (App Runner today; ECS Express Mode next).
//! Each kind is one module implementing `ComputeKind`; everything else (inventory, actions,
//! metrics, the UI) speaks to kinds only through this trait. Adding a kind is its module,
//! its emulator part and one line in `connect_all`.

mod apprunner;

use super::BackendError;
use super::server_clock::ServerClockInterceptor;
use crate::model::{Operation, ServiceState, ServiceStatus};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A service as a listing shows it: enough to pair it into an environment and describe it.
#[derive(Clone, Debug)]
pub struct Listed {
    pub arn: String,
    pub name: String,
    pub tags: Vec<(String, String)>,
}

/// One CloudWatch series of a kind: which dashboard field it fills, and how to ask for it.
#[derive(Clone, Debug)]
pub struct MetricSpec {
    pub field: super::metrics::Field,
    pub namespace: &'static str,
    pub name: &'static str,
    pub stat: &'static str,
    pub dimensions: Vec<(&'static str, String)>,
}

/// What a compute kind can do. Every call is one request (or a few for pagination); the
/// generic actions (waiting, preconditions, reports) live in backend/services.rs.
pub trait ComputeKind: Send + Sync {
    /// Short id carried by `ServiceState::kind` ("apprunner").
    fn id(&self) -> &'static str;
    /// Its name for people ("App Runner"), in messages and problems.
    fn label(&self) -> &'static str;
    /// Every service of this kind in the region, with its tags.
    fn list(&self) -> BoxFuture<'_, Result<Vec<Listed>, BackendError>>;
    /// One service's state, tags included.
    fn describe<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Result<ServiceState, BackendError>>;
    /// The status alone, for waits.
    fn status<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Result<ServiceStatus, BackendError>>;
    fn pause<'a>(&'a self, s: &'a ServiceState) -> BoxFuture<'a, Result<(), BackendError>>;
    fn resume<'a>(&'a self, s: &'a ServiceState) -> BoxFuture<'a, Result<(), BackendError>>;
    /// Starts deploying `image_identifier`, after recording `previous` (the image it
    /// replaces) on the service; returns the operation to follow.
    fn deploy<'a>(
        &'a self,
        s: &'a ServiceState,
        image_identifier: &'a str,
        previous: &'a str,
    ) -> BoxFuture<'a, Result<String, BackendError>>;
    /// The service's recent operations, newest first.
    fn operations<'a>(
        &'a self,
        s: &'a ServiceState,
    ) -> BoxFuture<'a, Result<Vec<Operation>, BackendError>>;
    /// The dashboard's series for this service.
    fn metrics(&self, s: &ServiceState) -> Vec<MetricSpec>;
    /// Adds or replaces tags on the service (keep-awake records).
    fn tag<'a>(
        &'a self,
        _s: &'a ServiceState,
        _tags: &'a [(String, String)],
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move { Err(unsupported(self.label(), "tagging")) })
    }
    fn untag<'a>(
        &'a self,
        _s: &'a ServiceState,
        _keys: &'a [String],
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move { Err(unsupported(self.label(), "tagging")) })
    }
    /// The EventBridge Scheduler universal target that pauses (or, with `pause` false,
    /// resumes) this service, and its Input; None while the kind has none.
    fn scheduler_target(&self, _s: &ServiceState, _pause: bool) -> Option<(String, String)> {
        None
    }
}

fn unsupported(kind: &str, what: &str) -> BackendError {
    BackendError::Refused(format!(
        "scale0 does not support {what} for {kind} services yet"
    ))
}

/// What every kind's client is built from.
#[derive(Clone)]
pub struct KindConfig {
    pub sdk: aws_config::SdkConfig,
    pub interceptor: Option<ServerClockInterceptor>,
    /// The profile, for error messages that say what to run.
    pub profile: Option<String>,
}

/// Every compute kind, connected for one region.
pub fn connect_all(config: &KindConfig) -> Vec<Arc<dyn ComputeKind>> {
    vec![Arc::new(apprunner::AppRunner::connect(config))]
}
