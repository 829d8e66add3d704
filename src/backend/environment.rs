//! Actions on a whole environment: waking it (service, database, until the app answers)
//! and putting it to sleep.

use super::aws::AwsBackend;
use super::{ActionReport, BackendError, Outcome, PartOutcome, Step};
use crate::model::{Environment, Part, Power, ServiceStatus, Time, Unread};

impl AwsBackend {
    /// Wakes the environment: resumes the service (unless `db_only`), wakes or starts the
    /// database and, with `wait`, waits until the service URL answers 2xx. Each part is
    /// reported on its own (`report.parts`); one failing part does not stop the others,
    /// and a part whose state could not be read is not acted on from a guess.
    pub async fn wake(
        &self,
        env: &Environment,
        db_only: bool,
        wait: bool,
        timeout: f64,
    ) -> Result<ActionReport, BackendError> {
        let r = self.region_for(&env.key)?;
        let mut report = ActionReport {
            env: Some(env.key.clone()),
            ..ActionReport::default()
        };
        let deadline = self.waits.now() + timeout;
        let service = if db_only {
            None
        } else if let Some(u) = env.unread(Part::Service) {
            report.parts.push(unknown_part("service", u));
            None
        } else {
            env.service.as_ref()
        };
        let mut service_ok = service.is_some();
        if let Some(s) = service {
            match s.status {
                ServiceStatus::Paused => {
                    let t = self.waits.now();
                    match self.compute(r, s)?.resume(s).await {
                        Ok(()) => {
                            report.steps.push(Step {
                                what: format!("asked {} to resume {}", s.kind_label, s.name),
                                seconds: self.waits.now() - t,
                            });
                            report.part(
                                "service",
                                Outcome::Pending,
                                format!("{} is resuming", s.name),
                            );
                        }
                        Err(e) => {
                            service_ok = false;
                            report.failed("service", &e);
                        }
                    }
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
                ServiceStatus::Running => report.part(
                    "service",
                    Outcome::AlreadyDone,
                    format!("{} is running", s.name),
                ),
                _ => report.part(
                    "service",
                    Outcome::Pending,
                    format!("{} is {}", s.name, s.status.label()),
                ),
            }
        }
        match (&env.database, env.unread(Part::Database)) {
            (_, Some(u)) => report.parts.push(unknown_part("database", u)),
            (Some(db), None) => {
                // Without metrics, "awake" is a guess: SELECT 1 settles it.
                let mut db = db.clone();
                if env.unread(Part::Metrics).is_some() && db.power == Power::Awake {
                    db.power = Power::Unknown;
                }
                let steps = report.steps.len();
                match self.wake_database(r, env, &db, deadline, &mut report).await {
                    Ok(()) => {
                        let what = report.steps[steps..]
                            .iter()
                            .map(|s| s.what.clone())
                            .collect::<Vec<_>>()
                            .join("; ");
                        let outcome = if db.power == Power::Awake {
                            Outcome::AlreadyDone
                        } else {
                            Outcome::Done
                        };
                        report.part("database", outcome, what);
                    }
                    // Can't run in this state (stopping): the action is refused, as before.
                    Err(e @ BackendError::Refused(_)) => return Err(e),
                    Err(e) => report.failed("database", &e),
                }
            }
            (None, None) => {}
        }
        if !wait {
            if service.is_some_and(|s| s.status == ServiceStatus::Paused) && service_ok {
                report
                    .left
                    .push("the service resume takes 1-2 minutes".into());
            }
            return Ok(report);
        }
        let Some(s) = service.filter(|_| service_ok) else {
            return Ok(report);
        };
        if s.status != ServiceStatus::Running {
            let t = self.waits.now();
            match self.wait_for_service(r, s, deadline).await {
                Ok(ServiceStatus::Running) => {
                    report.steps.push(Step {
                        what: "service running".into(),
                        seconds: self.waits.now() - t,
                    });
                    settle(&mut report, "service", Outcome::Done, "running".into());
                }
                Ok(status) => {
                    let e = BackendError::Other(format!("{} ended up {}", s.name, status.label()));
                    settle_failed(&mut report, "service", &e);
                    return Ok(report);
                }
                Err(e) => {
                    settle_failed(&mut report, "service", &e);
                    return Ok(report);
                }
            }
        }
        // Nothing can reach it (ECS's load balancer gone): say so now, not at the timeout.
        if s.facts.cut_off {
            let why = s
                .facts
                .warning
                .as_deref()
                .unwrap_or("its entry point is gone");
            let e = BackendError::Refused(format!("{} can't answer: {why}", s.name));
            report.failed("app answering", &e);
            return Ok(report);
        }
        if let Some(url) = s.http_url() {
            let t = self.waits.now();
            match self.wait_for_url(&url, deadline).await {
                Ok(()) => {
                    report.steps.push(Step {
                        what: format!("{url} answered 2xx"),
                        seconds: self.waits.now() - t,
                    });
                    report.part(
                        "app answering",
                        Outcome::Done,
                        format!("{url} answered 2xx"),
                    );
                }
                Err(e) => report.failed("app answering", &e),
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
        let r = self.region_for(&env.key)?;
        let mut report = ActionReport {
            env: Some(env.key.clone()),
            ..ActionReport::default()
        };
        let service = match env.unread(Part::Service) {
            Some(u) => {
                report.parts.push(unknown_part("service", u));
                None
            }
            None => env.service.as_ref(),
        };
        if let Some(s) = service {
            match s.status {
                ServiceStatus::Running => {
                    let t = self.waits.now();
                    match self.compute(r, s)?.pause(s).await {
                        Ok(()) => {
                            report.steps.push(Step {
                                what: format!("asked {} to pause {}", s.kind_label, s.name),
                                seconds: self.waits.now() - t,
                            });
                            report
                                .left
                                .push("the service pause takes 1-2 minutes".into());
                            report.part(
                                "service",
                                Outcome::Pending,
                                format!("{} is pausing", s.name),
                            );
                        }
                        Err(e) => report.failed("service", &e),
                    }
                }
                ServiceStatus::Paused => {
                    report.steps.push(Step {
                        what: format!("{} is already paused", s.name),
                        seconds: 0.0,
                    });
                    report.part(
                        "service",
                        Outcome::AlreadyDone,
                        format!("{} is paused", s.name),
                    );
                }
                _ => Self::refuse_if_busy(s, "pause")?,
            }
        }
        match (&env.database, env.unread(Part::Database)) {
            (_, Some(u)) => report.parts.push(unknown_part("database", u)),
            (Some(db), None) => {
                let blockers = crate::model::diagnose::pause_blockers(env);
                let (outcome, what) = match (db.mode.auto_pause_seconds(), blockers.is_empty()) {
                    (Some(secs), true) => (
                        Outcome::Pending,
                        format!(
                            "{} will auto-pause {secs} s after its last connection closes",
                            db.id
                        ),
                    ),
                    _ => (
                        Outcome::Pending,
                        format!(
                            "{} will not auto-pause: {}",
                            db.id,
                            if blockers.is_empty() {
                                "auto-pause is off".to_string()
                            } else {
                                blockers.join("; ")
                            }
                        ),
                    ),
                };
                report.left.push(what.clone());
                report.part("database", outcome, what);
            }
            (None, None) => {}
        }
        Ok(report)
    }
}

/// A part that was not acted on because its state could not be read.
fn unknown_part(part: &str, u: &Unread) -> PartOutcome {
    PartOutcome {
        part: part.to_string(),
        outcome: Outcome::Unknown,
        detail: format!("state unknown, not acted on: {}", u.error),
        kind: Some(u.kind),
    }
}

/// Replaces `part`'s outcome (a pending resume that has now finished, or failed).
fn settle(report: &mut ActionReport, part: &str, outcome: Outcome, detail: String) {
    report.parts.retain(|p| p.part != part);
    report.part(part, outcome, detail);
}

fn settle_failed(report: &mut ActionReport, part: &str, e: &BackendError) {
    report.parts.retain(|p| p.part != part);
    report.failed(part, e);
}
