//! Service actions for every compute kind: pause, resume, deploy, roll back, and waiting
//! for a kind's operations, with their preconditions and reports. The kind-specific calls
//! go through `ComputeKind` (backend/compute).

use super::aws::{AwsBackend, RegionClients};
use super::discovery::PREVIOUS_IMAGE_TAG;
use super::{ActionReport, BackendError, ImageRef, Outcome, Step};
use crate::model::{Environment, ServiceState, ServiceStatus, Time};

impl AwsBackend {
    pub(super) fn service_of<'a>(
        &self,
        env: &'a Environment,
    ) -> Result<&'a ServiceState, BackendError> {
        env.service.as_ref().ok_or_else(|| {
            BackendError::Refused(format!("environment {} has no service", env.key.name))
        })
    }

    pub(super) fn refuse_if_busy(s: &ServiceState, action: &str) -> Result<(), BackendError> {
        if s.status == ServiceStatus::OperationInProgress {
            let what = s
                .operation
                .as_ref()
                .map(|o| o.kind.clone())
                .unwrap_or_else(|| "an operation (maintenance?)".into());
            return Err(BackendError::Refused(format!(
                "can't {action} {}: {what} is in progress; wait for it to finish",
                s.name
            )));
        }
        Ok(())
    }

    /// The service, if it is idle and in `required` status for `verb`.
    pub(super) fn service_ready<'a>(
        &self,
        env: &'a Environment,
        verb: &str,
        required: ServiceStatus,
    ) -> Result<&'a ServiceState, BackendError> {
        let s = self.service_of(env)?;
        Self::refuse_if_busy(s, verb)?;
        if s.status != required {
            return Err(BackendError::Refused(format!(
                "can't {verb} {}: it is {}",
                s.name,
                s.status.label()
            )));
        }
        Ok(s)
    }

    /// The report of a one-call action started at `started`.
    pub(super) fn asked(
        &self,
        env: &Environment,
        what: String,
        started: Time,
        left: &str,
    ) -> ActionReport {
        ActionReport {
            env: Some(env.key.clone()),
            steps: vec![Step {
                what,
                seconds: self.waits.now() - started,
            }],
            left: vec![left.to_string()],
            parts: Vec::new(),
        }
    }

    pub async fn pause(&self, env: &Environment) -> Result<ActionReport, BackendError> {
        let s = self.service_ready(env, "pause", ServiceStatus::Running)?;
        let r = self.region_for(&env.key)?;
        let started = self.waits.now();
        self.compute(r, s)?.pause(s).await?;
        Ok(self.asked(
            env,
            format!("asked {} to pause {}", s.kind_label, s.name),
            started,
            self.compute(r, s)?.pause_takes(),
        ))
    }

    pub async fn resume(&self, env: &Environment) -> Result<ActionReport, BackendError> {
        self.resume_with(env, None).await
    }

    /// Resume; with `tasks`, to that many tasks (ECS Express when its size is lost).
    pub async fn resume_with(
        &self,
        env: &Environment,
        tasks: Option<u32>,
    ) -> Result<ActionReport, BackendError> {
        let s = self.service_ready(env, "resume", ServiceStatus::Paused)?;
        let r = self.region_for(&env.key)?;
        let started = self.waits.now();
        let kind = self.compute(r, s)?;
        match tasks {
            Some(n) => kind.resume_sized(s, n).await?,
            None => kind.resume(s).await?,
        }
        let sized = tasks.map_or(String::new(), |n| format!(" to {n} task(s)"));
        let mut report = self.asked(
            env,
            format!("asked {} to resume {}{sized}", s.kind_label, s.name),
            started,
            self.compute(r, s)?.resume_takes(),
        );
        if let Some(note) = newer_image_note(env) {
            report.left.push(note);
        }
        Ok(report)
    }

    /// Polls the service until it leaves OPERATION_IN_PROGRESS (or `deadline` passes).
    pub(super) async fn wait_for_service(
        &self,
        r: &RegionClients,
        s: &ServiceState,
        deadline: Time,
    ) -> Result<ServiceStatus, BackendError> {
        let kind = self.compute(r, s)?;
        loop {
            let status = kind.status(&s.arn).await?;
            if status != ServiceStatus::OperationInProgress {
                return Ok(status);
            }
            if self.waits.now() >= deadline {
                return Err(BackendError::Timeout(
                    "the service was still OPERATION_IN_PROGRESS after the timeout".into(),
                ));
            }
            self.waits.sleep(5.0).await;
        }
    }

    /// Deploys a tag or digest of the service's repository (UpdateService), recording the
    /// image it replaces as a service tag so `rollback` can return to it.
    pub async fn deploy(
        &self,
        env: &Environment,
        image: &ImageRef,
        resume_first: bool,
        wait: bool,
        timeout: f64,
    ) -> Result<ActionReport, BackendError> {
        image.validate()?;
        let s = self.service_of(env)?;
        Self::refuse_if_busy(s, "deploy to")?;
        let r = self.region_for(&env.key)?;
        let current = s.image_identifier.clone().ok_or_else(|| {
            BackendError::Refused(format!(
                "{} is not deployed from an image repository",
                s.name
            ))
        })?;
        let (repository_uri, _) = ImageRef::parse_identifier(&current).ok_or_else(|| {
            BackendError::Other(format!("can't read the image identifier {current}"))
        })?;
        let repository = repository_uri
            .rsplit('/')
            .next()
            .unwrap_or(&repository_uri)
            .to_string();
        let id = match image {
            ImageRef::Tag(t) => aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag(t)
                .build(),
            ImageRef::Digest(d) => aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_digest(d)
                .build(),
        };
        let found = r
            .ecr
            .describe_images()
            .repository_name(&repository)
            .image_ids(id)
            .send()
            .await;
        if let Err(e) = found {
            let not_found = e
                .as_service_error()
                .is_some_and(|se| se.is_image_not_found_exception());
            return Err(if not_found {
                BackendError::InvalidInput(format!(
                    "no image {} in repository {repository}",
                    match image {
                        ImageRef::Tag(t) => format!("tagged {t:?}"),
                        ImageRef::Digest(d) => d.clone(),
                    }
                ))
            } else {
                self.err("looking up the image in ECR", e)
            });
        }

        let mut report = ActionReport {
            env: Some(env.key.clone()),
            ..ActionReport::default()
        };
        let deadline = self.waits.now() + timeout;
        if s.status == ServiceStatus::Paused {
            if !resume_first {
                return Err(BackendError::Refused(format!(
                    "{} is {}: scale0 deploys to a running {} service only. Pass --resume to resume it first, then deploy",
                    s.name,
                    s.status_label(),
                    s.kind_label
                )));
            }
            let started = self.waits.now();
            self.compute(r, s)?.resume(s).await?;
            let status = self.wait_for_service(r, s, deadline).await?;
            if status != ServiceStatus::Running {
                return Err(BackendError::Other(format!(
                    "resume ended with the service {}",
                    status.label()
                )));
            }
            report.steps.push(Step {
                what: "resumed the service".into(),
                seconds: self.waits.now() - started,
            });
        } else if s.status != ServiceStatus::Running {
            return Err(BackendError::Refused(format!(
                "can't deploy to {}: it is {}",
                s.name,
                s.status.label()
            )));
        }

        let started = self.waits.now();
        let new_identifier = image.identifier(&repository_uri);
        let kind = self.compute(r, s)?;
        let operation_id = kind.deploy(s, &new_identifier, &current).await?;
        report.steps.push(Step {
            what: format!("started deploying {new_identifier} (operation {operation_id})"),
            seconds: self.waits.now() - started,
        });
        if !wait {
            report.left.push(format!(
                "the deployment takes {}; `scale0 status` shows its progress",
                kind.deploy_takes()
            ));
            return Ok(report);
        }
        let started = self.waits.now();
        let mut last = "not listed yet".to_string();
        loop {
            let op = kind
                .operations(s)
                .await?
                .into_iter()
                .find(|o| o.id == operation_id);
            if let Some(o) = &op {
                last = o.status.clone();
            }
            match op {
                Some(o) if o.status == "SUCCEEDED" => {
                    report.steps.push(Step {
                        what: "deployment succeeded".into(),
                        seconds: self.waits.now() - started,
                    });
                    report.part("deployment", Outcome::Done, new_identifier.clone());
                    return Ok(report);
                }
                // Rolled back (a failed health check): a failure, though the previous
                // version still serves.
                Some(o) if !o.in_flight() => {
                    report.part(
                        "previous version",
                        Outcome::Done,
                        format!("{} kept the previous version running", s.kind_label),
                    );
                    report.failed(
                        "deployment",
                        &BackendError::Other(format!(
                            "the deployment of {new_identifier} ended {}{}",
                            o.status,
                            o.reason.map(|r| format!(" ({r})")).unwrap_or_default()
                        )),
                    );
                    return Ok(report);
                }
                _ => {}
            }
            if self.waits.now() >= deadline {
                let next = if s.facts.cancels_by_rollback {
                    format!(
                        "`scale0 rollback {}` stops it and returns to the previous image",
                        env.key.name
                    )
                } else {
                    format!("`scale0 status {}` shows when it ends", env.key.name)
                };
                return Err(BackendError::Timeout(format!(
                    "the deployment of {new_identifier} was still {last} after {:.0} s, when the timeout passed; it goes on in {}: {next}",
                    self.waits.now() - started,
                    s.kind_label
                )));
            }
            self.waits.sleep(5.0).await;
        }
    }

    /// Deploys the image recorded before the last deploy.
    pub async fn rollback(
        &self,
        env: &Environment,
        wait: bool,
        timeout: f64,
    ) -> Result<ActionReport, BackendError> {
        let s = self.service_of(env)?;
        // A deployment in flight: rolling back is cancelling it, where the kind can.
        if s.status == ServiceStatus::OperationInProgress {
            let r = self.region_for(&env.key)?;
            let started = self.waits.now();
            if let Some(id) = self.compute(r, s)?.cancel_deploy(s).await? {
                return Ok(self.asked(
                    env,
                    format!(
                        "asked {} to roll back the deployment in flight ({id})",
                        s.kind_label
                    ),
                    started,
                    "traffic returns to the previous revision in about a minute",
                ));
            }
        }
        let previous = s
            .tags
            .iter()
            .find(|(k, _)| k == PREVIOUS_IMAGE_TAG)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                BackendError::Refused(format!(
                    "no previous image recorded for {}: scale0 records one on each deploy it makes",
                    s.name
                ))
            })?;
        let (_, image) = ImageRef::parse_identifier(&previous).ok_or_else(|| {
            BackendError::Other(format!(
                "the recorded previous image {previous:?} is not an image identifier"
            ))
        })?;
        self.deploy(env, &image, false, wait, timeout).await
    }
}

/// Resume redeploys the image the service last ran, not a newer push to its tag: when one
/// is waiting, what to run instead (resume, then deploy it).
pub fn newer_image_note(env: &Environment) -> Option<String> {
    let image = env.image.as_ref().filter(|i| i.newer_waiting)?;
    let tag = image.tag.as_deref()?;
    Some(format!(
        "a newer image was pushed to :{tag} while the service was paused, and resume runs the one it last ran; to run the newer one: scale0 deploy {} --tag {tag} --resume (or scale0 resume {} --deploy-newer)",
        env.key.name, env.key.name
    ))
}
