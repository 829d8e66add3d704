//! Actions on a whole environment: waking it (service, database, until the app answers)
//! and putting it to sleep.

use super::aws::AwsBackend;
use super::{ActionReport, BackendError, Step};
use crate::model::{Environment, ServiceStatus, Time};

impl AwsBackend {
    /// Wakes the environment: resumes the service (unless `db_only`), wakes or starts the
    /// database and, with `wait`, waits until the service URL answers 2xx.
    pub async fn wake(
        &self,
        env: &Environment,
        db_only: bool,
        wait: bool,
        timeout: f64,
    ) -> Result<ActionReport, BackendError> {
        let r = self.region(&env.key.region)?;
        let mut report = ActionReport {
            env: Some(env.key.clone()),
            ..ActionReport::default()
        };
        let deadline = self.waits.now() + timeout;
        if !db_only && let Some(s) = &env.service {
            match s.status {
                ServiceStatus::Paused => {
                    let t = self.waits.now();
                    self.compute(r, s)?.resume(s).await?;
                    report.steps.push(Step {
                        what: format!("asked {} to resume {}", s.kind_label, s.name),
                        seconds: self.waits.now() - t,
                    });
                }
                ServiceStatus::OperationInProgress
                    if s.operation
                        .as_ref()
                        .is_some_and(|o| o.kind == "PAUSE_SERVICE") =>
                {
                    return Err(BackendError::Refused(format!(
                        "{} is pausing right now; wake it when the pause has finished",
                        s.name
                    )));
                }
                _ => {}
            }
        }
        if let Some(db) = &env.database {
            self.wake_database(r, env, db, deadline, &mut report)
                .await?;
        }
        if !wait {
            if env
                .service
                .as_ref()
                .is_some_and(|s| s.status == ServiceStatus::Paused)
                && !db_only
            {
                report
                    .left
                    .push("the service resume takes 1-2 minutes".into());
            }
            return Ok(report);
        }
        if let Some(s) = &env.service {
            if !db_only && s.status != ServiceStatus::Running {
                let t = self.waits.now();
                let status = self.wait_for_service(r, s, deadline).await?;
                if status != ServiceStatus::Running {
                    return Err(BackendError::Other(format!(
                        "{} ended up {}",
                        s.name,
                        status.label()
                    )));
                }
                report.steps.push(Step {
                    what: "service running".into(),
                    seconds: self.waits.now() - t,
                });
            }
            if let Some(url) = s.http_url() {
                let t = self.waits.now();
                self.wait_for_url(&url, deadline).await?;
                report.steps.push(Step {
                    what: format!("{url} answered 2xx"),
                    seconds: self.waits.now() - t,
                });
            }
        }
        Ok(report)
    }

    /// Requests `url` until it answers 2xx or the deadline passes.
    pub(super) async fn wait_for_url(&self, url: &str, deadline: Time) -> Result<(), BackendError> {
        loop {
            let Some(http) = &self.http else {
                return Err(BackendError::Other(format!(
                    "can't request {url}: the HTTP client could not start (are CA certificates installed? apt install ca-certificates)"
                )));
            };
            let last = match http.get(url).send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => format!("HTTP {}", r.status().as_u16()),
                Err(e) => e.to_string(),
            };
            if self.waits.now() >= deadline {
                return Err(BackendError::Timeout(format!(
                    "{url} did not answer 2xx before the timeout (last: {last})"
                )));
            }
            self.waits.sleep(2.0).await;
        }
    }

    /// Puts the environment to sleep: pauses the service so nothing holds the database,
    /// which then auto-pauses by itself (the report says when, or what blocks it).
    pub async fn sleep(&self, env: &Environment) -> Result<ActionReport, BackendError> {
        let r = self.region(&env.key.region)?;
        let mut report = ActionReport {
            env: Some(env.key.clone()),
            ..ActionReport::default()
        };
        if let Some(s) = &env.service {
            match s.status {
                ServiceStatus::Running => {
                    let t = self.waits.now();
                    self.compute(r, s)?.pause(s).await?;
                    report.steps.push(Step {
                        what: format!("asked {} to pause {}", s.kind_label, s.name),
                        seconds: self.waits.now() - t,
                    });
                    report
                        .left
                        .push("the service pause takes 1-2 minutes".into());
                }
                ServiceStatus::Paused => report.steps.push(Step {
                    what: format!("{} is already paused", s.name),
                    seconds: 0.0,
                }),
                _ => Self::refuse_if_busy(s, "pause")?,
            }
        }
        if let Some(db) = &env.database {
            let blockers = crate::model::diagnose::pause_blockers(env);
            match (db.mode.auto_pause_seconds(), blockers.is_empty()) {
                (Some(secs), true) => report.left.push(format!(
                    "{} will auto-pause {secs} s after its last connection closes",
                    db.id
                )),
                _ => report.left.push(format!(
                    "{} will not auto-pause: {}",
                    db.id,
                    if blockers.is_empty() {
                        "auto-pause is off".to_string()
                    } else {
                        blockers.join("; ")
                    }
                )),
            }
        }
        Ok(report)
    }
}
