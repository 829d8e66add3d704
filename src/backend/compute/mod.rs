//! Compute kinds: where an environment's app runs (App Runner, ECS Express Mode).
//! Each kind is one module implementing `ComputeKind`; everything else (inventory, actions,
//! metrics, the UI) speaks to kinds only through this trait. Adding a kind is its module,
//! its emulator part and one line in `connect_all`.

mod apprunner;
mod ecs_express;

use super::BackendError;
use super::server_clock::ServerClockInterceptor;
use crate::model::logs::LogSource;
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
    /// Multiplies each value into the dashboard's unit (seconds to milliseconds).
    pub scale: f64,
}

/// Where a service writes one of its logs in CloudWatch Logs.
#[derive(Clone, Debug, PartialEq)]
pub struct LogPlace {
    pub group: String,
    /// Only the streams whose names start with this (None: every stream).
    pub stream_prefix: Option<String>,
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
    /// Resumes to `tasks` running copies (a kind that sizes by tasks: ECS Express, when
    /// the size from before the pause is lost); others refuse.
    fn resume_sized<'a>(
        &'a self,
        _s: &'a ServiceState,
        _tasks: u32,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move {
            Err(BackendError::InvalidInput(format!(
                "{} services are not sized in tasks: resume without --tasks",
                self.label()
            )))
        })
    }
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
    /// Where the service's log for `source` is (App, Deploy or Events; Db is the
    /// database's). None: this kind has no such log, or does not say where (the default,
    /// which backend/logs reports as such).
    fn log_place(&self, s: &ServiceState, source: LogSource) -> Option<LogPlace> {
        let _ = (s, source);
        None
    }

    /// Stops a deployment in flight by rolling it back; `None` when the kind can't (App
    /// Runner) or nothing is deploying. Returns the rolled-back operation's id.
    fn cancel_deploy<'a>(
        &'a self,
        _s: &'a ServiceState,
    ) -> BoxFuture<'a, Result<Option<String>, BackendError>> {
        Box::pin(async { Ok(None) })
    }

    /// How long a pause takes and what to expect, in the kind's words.
    fn pause_takes(&self) -> &'static str {
        "the pause takes 1-2 minutes (status OPERATION_IN_PROGRESS, then PAUSED)"
    }

    fn resume_takes(&self) -> &'static str {
        "the resume takes 1-2 minutes; images pushed while paused are not deployed by it"
    }

    /// How long a deploy takes (App Runner's health check; ECS's canary and bakes).
    fn deploy_takes(&self) -> &'static str {
        "about 5 minutes"
    }
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
    vec![
        Arc::new(apprunner::AppRunner::connect(config)),
        Arc::new(ecs_express::EcsExpress::connect(config)),
    ]
}
