//! When each verb can run, evaluated on the current state. The same function disables the
//! desktop app's buttons (its answer is the button's hover text) and refuses the CLI's
//! command (exit code 3), so the two never disagree.

use super::Verb;
use crate::backend::discovery::PREVIOUS_IMAGE_TAG;
use crate::model::{DbMode, Environment, FailureKind, Part, Power, ServiceStatus};

/// What a precondition looks at.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The selected environment, if any.
    pub env: Option<&'a Environment>,
    /// An action on this environment is already running (from this app).
    pub busy: bool,
    /// Connected to the embedded demo region (it has no AWS console).
    pub demo: bool,
}

/// Why a verb can't run now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// What it would do is already the case ("the service is already paused"): the CLI
    /// says so and succeeds, the desktop app disables the button.
    AlreadyDone(String),
    /// It can't run in this state, or without a selection: the CLI exits 3.
    NotNow(String),
    /// It would change a read-only account: the CLI exits 6, the button says why.
    ReadOnly(String),
    /// The state it depends on could not be read: the button says "state unknown" rather
    /// than act on a guess; the CLI exits with the failing read's code.
    Unknown(FailureKind, String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::AlreadyDone(s) | Refusal::NotNow(s) | Refusal::ReadOnly(s) => f.write_str(s),
            Refusal::Unknown(_, s) => write!(f, "state unknown: {s}"),
        }
    }
}

impl From<String> for Refusal {
    fn from(s: String) -> Self {
        Refusal::NotNow(s)
    }
}

impl From<&str> for Refusal {
    fn from(s: &str) -> Self {
        Refusal::NotNow(s.to_string())
    }
}

fn done(s: &str) -> Refusal {
    Refusal::AlreadyDone(s.to_string())
}

/// Ok when `verb` can run now, or why it can't, in words for a person.
pub fn precondition(verb: Verb, cx: &Context) -> Result<(), Refusal> {
    if verb.spec().scope == super::Scope::App {
        return Ok(());
    }
    let Some(env) = cx.env else {
        return Err("select an environment first".into());
    };
    if verb.mutates()
        && let Some(why) = &env.read_only
    {
        return Err(Refusal::ReadOnly(format!("read-only: {why}")));
    }
    if cx.busy && verb != Verb::CopyUrl && verb != Verb::OpenUrl && verb != Verb::OpenConsole {
        return Err("an action on this environment is already running".into());
    }
    unknown_state(verb, env)?;
    match verb {
        Verb::PauseService => {
            service_idle(env)?;
            if service_status(env)? == ServiceStatus::Paused {
                return Err(done("the service is already paused"));
            }
            Ok(())
        }
        Verb::ResumeService => {
            service_idle(env)?;
            if service_status(env)? != ServiceStatus::Paused {
                return Err(done("the service is not paused"));
            }
            Ok(())
        }
        Verb::DeployImage => {
            service_idle(env)?;
            if service_status(env)? == ServiceStatus::Paused {
                return Err(
                    "the service is paused: resume it first (`scale0 deploy --resume` does both)"
                        .into(),
                );
            }
            if env.image.is_none() {
                return Err(
                    "the service's image is not in an ECR repository scale0 can read".into(),
                );
            }
            Ok(())
        }
        Verb::Rollback => {
            let s = env.service.as_ref().ok_or_else(no_service)?;
            // Where the kind can, rolling back a deployment in flight cancels it.
            if s.facts.cancels_by_rollback
                && s.status == ServiceStatus::OperationInProgress
                && s.operation.as_ref().is_some_and(|o| o.kind == "DEPLOYMENT")
            {
                return Ok(());
            }
            service_idle(env)?;
            if s.status == ServiceStatus::Paused {
                return Err("the service is paused: resume it first".into());
            }
            if !s.tags.iter().any(|(k, _)| k == PREVIOUS_IMAGE_TAG) {
                return Err(
                    "no previous image recorded (scale0 records one on each deploy)".into(),
                );
            }
            Ok(())
        }
        Verb::WakeEnv => {
            if env.service.is_none() && env.database.is_none() {
                return Err("this environment has neither a service nor a database".into());
            }
            if let Some(s) = &env.service
                && s.operation
                    .as_ref()
                    .is_some_and(|o| o.kind == "PAUSE_SERVICE")
            {
                return Err(
                    "the service is pausing right now: wake it when the pause has finished".into(),
                );
            }
            if let Some(db) = &env.database
                && db.status == "stopping"
            {
                return Err("the database is stopping: start it once it is stopped".into());
            }
            Ok(())
        }
        Verb::SleepEnv => {
            if env.service.is_none() && env.database.is_none() {
                return Err("this environment has neither a service nor a database".into());
            }
            if env.service.is_some() {
                service_idle(env)?;
            }
            // An unread part is not asleep: it is unknown.
            let service_asleep = env.unread(Part::Service).is_none()
                && env
                    .service
                    .as_ref()
                    .is_none_or(|s| s.status == ServiceStatus::Paused);
            let db_asleep = env.unread(Part::Database).is_none()
                && env.database.as_ref().is_none_or(|d| {
                    matches!(d.power, Power::Paused { .. } | Power::Stopped)
                        || d.status == "stopped"
                });
            if service_asleep && db_asleep {
                return Err(done("the environment is already asleep"));
            }
            Ok(())
        }
        Verb::WakeDb => {
            let db = env.database.as_ref().ok_or_else(no_database)?;
            if db.status == "stopping" {
                return Err("the cluster is stopping".into());
            }
            if db.power == Power::Awake {
                return Err(done("the database is already awake"));
            }
            Ok(())
        }
        Verb::StopDb => {
            let db = env.database.as_ref().ok_or_else(no_database)?;
            if matches!(db.mode, DbMode::ServerlessV1 { .. }) {
                return Err("Aurora Serverless v1 can't be stopped; it pauses by itself".into());
            }
            if db.status == "stopped" {
                return Err(done("the cluster is already stopped"));
            }
            if db.status != "available" {
                return Err(format!("the cluster is {}", db.status).into());
            }
            Ok(())
        }
        Verb::StartDb => {
            let db = env.database.as_ref().ok_or_else(no_database)?;
            if db.status == "available" {
                return Err(done("the cluster is already started"));
            }
            if db.status != "stopped" {
                return Err(format!("the cluster is {}, not stopped", db.status).into());
            }
            Ok(())
        }
        Verb::Burst | Verb::OpenUrl | Verb::CopyUrl => {
            let s = env.service.as_ref().ok_or_else(no_service)?;
            if s.http_url().is_none() {
                return Err("the service has no URL yet".into());
            }
            Ok(())
        }
        Verb::OpenConsole => {
            if cx.demo {
                return Err("the demo region has no AWS console".into());
            }
            let s = env.service.as_ref().ok_or_else(no_service)?;
            if s.console_url.is_none() {
                return Err("this service has no console page".into());
            }
            Ok(())
        }
        Verb::KeepAwake => {
            if env.service.is_none() && env.database.is_none() {
                return Err("this environment has neither a service nor a database".into());
            }
            if let Some(db) = &env.database
                && db.status != "available"
            {
                return Err(format!("the database is {}: start it first", db.status).into());
            }
            if env.service.is_some() {
                service_idle(env)?;
            }
            Ok(())
        }
        Verb::CancelKeepAwake => {
            if crate::model::plan::keep_awake(env).is_none() {
                return Err(done("no keep-awake is running"));
            }
            Ok(())
        }
        Verb::Why => {
            if env.service.is_none() && env.database.is_none() {
                return Err("this environment has neither a service nor a database".into());
            }
            Ok(())
        }
        Verb::Refresh
        | Verb::Settings
        | Verb::OpenDemo
        | Verb::Palette
        | Verb::Help
        | Verb::History => Ok(()),
    }
}

/// The precondition of an action with its arguments: deploying with `resume` accepts a
/// paused service (it resumes it first); everything else is its verb's.
pub fn action_precondition(action: &super::Action, cx: &Context) -> Result<(), Refusal> {
    match (action, cx.env) {
        (super::Action::DeployImage { resume: true, .. }, Some(env))
            if env
                .service
                .as_ref()
                .is_some_and(|s| s.status == ServiceStatus::Paused) =>
        {
            if cx.busy {
                return Err("an action on this environment is already running".into());
            }
            if env.image.is_none() {
                return Err(
                    "the service's image is not in an ECR repository scale0 can read".into(),
                );
            }
            Ok(())
        }
        _ => precondition(action.verb(), cx),
    }
}

/// Refuses to decide on a guess: the parts `verb` looks at must have been read. Wake and
/// sleep report unknown parts one by one instead, unless nothing at all is known.
fn unknown_state(verb: Verb, env: &Environment) -> Result<(), Refusal> {
    let needs: &[Part] = match verb {
        Verb::PauseService | Verb::ResumeService | Verb::Rollback => &[Part::Service],
        Verb::DeployImage => &[Part::Service, Part::Image],
        Verb::WakeDb | Verb::StopDb | Verb::StartDb => &[Part::Database],
        // What it holds and what it puts back depend on both states.
        Verb::KeepAwake | Verb::CancelKeepAwake => &[Part::Service, Part::Database],
        Verb::Burst | Verb::OpenUrl | Verb::CopyUrl | Verb::OpenConsole => &[Part::Service],
        // Nothing known to act on: the first unread part says why.
        Verb::WakeEnv | Verb::SleepEnv
            if (env.service.is_none() || env.unread(Part::Service).is_some())
                && (env.database.is_none() || env.unread(Part::Database).is_some()) =>
        {
            &[Part::Service, Part::Database]
        }
        _ => &[],
    };
    for part in needs {
        if let Some(u) = env.unread(*part) {
            // A stale value is shown, but not acted on.
            return Err(Refusal::Unknown(
                u.kind,
                format!("the {} could not be read ({})", part.label(), u.error),
            ));
        }
    }
    Ok(())
}

fn no_service() -> Refusal {
    "this environment has no service".into()
}

fn no_database() -> Refusal {
    "this environment has no database".into()
}

fn service_status(env: &Environment) -> Result<ServiceStatus, Refusal> {
    env.service
        .as_ref()
        .map(|s| s.status.clone())
        .ok_or_else(no_service)
}

/// Refuses while the service runs an operation (App Runner allows one at a time).
fn service_idle(env: &Environment) -> Result<(), Refusal> {
    let s = env.service.as_ref().ok_or_else(no_service)?;
    if s.status == ServiceStatus::OperationInProgress {
        let what = s
            .operation
            .as_ref()
            .map(|o| o.kind.clone())
            .unwrap_or_else(|| "an operation".into());
        return Err(format!("{what} is in progress").into());
    }
    Ok(())
}
