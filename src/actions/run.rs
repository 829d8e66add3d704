//! How each environment action runs: its precondition first (the same one that disables
//! the desktop app's button), then the backend, bounded by the table's timeout.

use super::{Action, Context, Refusal, action_precondition};
use crate::backend::aws::AwsBackend;
use crate::backend::{ActionReport, BackendError, Step};
use crate::model::Environment;

/// Runs `action` on `env` (as read just before). `timeout` overrides the table's.
pub async fn run(
    backend: &AwsBackend,
    env: &Environment,
    action: &Action,
    timeout: Option<f64>,
) -> Result<ActionReport, BackendError> {
    let verb = action.verb();
    let cx = Context {
        env: Some(env),
        busy: false,
        demo: false,
    };
    match action_precondition(action, &cx) {
        Ok(()) => {}
        Err(Refusal::AlreadyDone(what)) => {
            return Ok(ActionReport {
                env: Some(env.key.clone()),
                steps: vec![Step {
                    what: format!("nothing to do: {what}"),
                    seconds: 0.0,
                }],
                left: Vec::new(),
                parts: Vec::new(),
            });
        }
        Err(Refusal::Unknown(kind, why)) => {
            return Err(BackendError::Unknown {
                kind,
                message: format!("{} {}: {why}", action.label(), env.key.name),
            });
        }
        Err(Refusal::ReadOnly(why)) => {
            return Err(BackendError::ReadOnly(format!(
                "{} {}: {why}",
                action.label(),
                env.key.name
            )));
        }
        Err(Refusal::NotNow(why)) => {
            return Err(BackendError::Refused(format!(
                "{} {}: {why}",
                action.label(),
                env.key.name
            )));
        }
    }
    let timeout = timeout.or(verb.timeout()).unwrap_or(60.0);
    let work = async {
        match action {
            Action::WakeEnv { wait } => backend.wake(env, false, *wait, timeout).await,
            Action::WakeDb => backend.wake(env, true, false, timeout).await,
            Action::SleepEnv => backend.sleep(env).await,
            Action::StopDb => backend.stop_database(env).await,
            Action::StartDb => backend.start_database(env).await,
            Action::PauseService => backend.pause(env).await,
            Action::ResumeService { tasks } => backend.resume_with(env, *tasks).await,
            Action::DeployImage {
                image,
                resume,
                wait,
            } => backend.deploy(env, image, *resume, *wait, timeout).await,
            Action::Rollback { wait } => backend.rollback(env, *wait, timeout).await,
            Action::KeepAwake { until, by } => backend.keep_awake(env, *until, by).await,
            Action::CancelKeepAwake => backend.cancel_keep_awake(env).await,
        }
    };
    // The backend's own waits end at the deadline; this bounds everything else too (a
    // stalled call, a slow page), with a little slack so their own error wins.
    let bound = std::time::Duration::from_secs_f64(timeout + 30.0);
    match backend.waits().timeout(bound, work).await {
        Some(result) => result,
        None => Err(BackendError::Timeout(format!(
            "{} {} did not finish within {}",
            action.label(),
            env.key.name,
            crate::model::human_duration(timeout)
        ))),
    }
}
