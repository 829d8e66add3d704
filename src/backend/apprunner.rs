//! App Runner, the compute kind of the seed project: listing and describing services,
//! pausing, resuming, deploying and rolling back, and waiting for its operations.

use super::aws::{AwsBackend, RegionClients};
use super::convert;
use super::discovery::PREVIOUS_IMAGE_TAG;
use super::{ActionReport, BackendError, ImageRef, Step};
use crate::model::{Environment, ServiceState, ServiceStatus, Time};
use aws_sdk_apprunner::types::{ImageRepository, SourceConfiguration, Tag};
use std::sync::PoisonError;

impl AwsBackend {
    pub(super) async fn list_services(
        &self,
        r: &RegionClients,
    ) -> Result<
        Vec<(
            aws_sdk_apprunner::types::ServiceSummary,
            Vec<(String, String)>,
        )>,
        BackendError,
    > {
        // ListServices carries no tags: each page's services' tags are asked for while the
        // next page loads (pages come 20 at a time, one after the other).
        let mut tag_reads = Vec::new();
        let mut pages = r
            .apprunner
            .list_services()
            .max_results(20)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err("listing App Runner services", e))?;
            for summary in page.service_summary_list().iter().cloned() {
                let client = r.apprunner.clone();
                let arn = summary.service_arn().unwrap_or_default().to_string();
                let read = tokio::spawn(async move {
                    client
                        .list_tags_for_resource()
                        .resource_arn(arn)
                        .send()
                        .await
                });
                tag_reads.push((summary, read));
            }
        }
        let mut tagged = Vec::with_capacity(tag_reads.len());
        for (summary, read) in tag_reads {
            let answer = read
                .await
                .map_err(|e| BackendError::Other(format!("reading App Runner tags: {e}")))?
                .map_err(|e| self.err("reading App Runner tags", e))?;
            let tags = answer
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
                .collect();
            tagged.push((summary, tags));
        }
        Ok(tagged)
    }

    pub(super) async fn describe_service(
        &self,
        r: &RegionClients,
        arn: &str,
    ) -> Result<ServiceState, BackendError> {
        let (described, operations) = tokio::join!(
            r.apprunner.describe_service().service_arn(arn).send(),
            r.apprunner
                .list_operations()
                .service_arn(arn)
                .max_results(10)
                .send(),
        );
        let described = described.map_err(|e| self.err("describing an App Runner service", e))?;
        let Some(service) = described.service() else {
            return Err(BackendError::Other(format!(
                "DescribeService returned no service for {arn}"
            )));
        };
        let operations = operations
            .map(|o| {
                o.operation_summary_list()
                    .iter()
                    .map(convert::operation)
                    .collect()
            })
            .unwrap_or_default();
        let scaling = match service
            .auto_scaling_configuration_summary()
            .and_then(|s| s.auto_scaling_configuration_arn())
        {
            Some(scaling_arn) => {
                let cell = self
                    .scaling_cache
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(scaling_arn.to_string())
                    .or_default()
                    .clone();
                cell.get_or_init(|| async {
                    r.apprunner
                        .describe_auto_scaling_configuration()
                        .auto_scaling_configuration_arn(scaling_arn)
                        .send()
                        .await
                        .ok()
                        .and_then(|s| s.auto_scaling_configuration().map(convert::scaling))
                })
                .await
                .clone()
            }
            None => None,
        };
        // Tags come from the listing; the caller sets them.
        Ok(convert::service(service, scaling, operations, Vec::new()))
    }

    pub(super) fn service_of<'a>(
        &self,
        env: &'a Environment,
    ) -> Result<&'a ServiceState, BackendError> {
        env.service.as_ref().ok_or_else(|| {
            BackendError::Refused(format!(
                "environment {} has no App Runner service",
                env.key.name
            ))
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
        }
    }

    pub async fn pause(&self, env: &Environment) -> Result<ActionReport, BackendError> {
        let s = self.service_ready(env, "pause", ServiceStatus::Running)?;
        let r = self.region(&env.key.region)?;
        let started = self.waits.now();
        r.apprunner
            .pause_service()
            .service_arn(&s.arn)
            .send()
            .await
            .map_err(|e| self.err("pausing the service", e))?;
        Ok(self.asked(
            env,
            format!("asked App Runner to pause {}", s.name),
            started,
            "the pause takes 1-2 minutes (status OPERATION_IN_PROGRESS, then PAUSED)",
        ))
    }

    pub async fn resume(&self, env: &Environment) -> Result<ActionReport, BackendError> {
        let s = self.service_ready(env, "resume", ServiceStatus::Paused)?;
        let r = self.region(&env.key.region)?;
        let started = self.waits.now();
        r.apprunner
            .resume_service()
            .service_arn(&s.arn)
            .send()
            .await
            .map_err(|e| self.err("resuming the service", e))?;
        Ok(self.asked(
            env,
            format!("asked App Runner to resume {}", s.name),
            started,
            "the resume takes 1-2 minutes; images pushed while paused are not deployed by it",
        ))
    }

    /// Polls the service until it leaves OPERATION_IN_PROGRESS (or `deadline` passes).
    pub(super) async fn wait_for_service(
        &self,
        r: &RegionClients,
        arn: &str,
        deadline: Time,
    ) -> Result<ServiceStatus, BackendError> {
        loop {
            let out = r
                .apprunner
                .describe_service()
                .service_arn(arn)
                .send()
                .await
                .map_err(|e| self.err("describing the service", e))?;
            let status = out
                .service()
                .map(|s| ServiceStatus::parse(s.status().as_str()))
                .unwrap_or(ServiceStatus::Other("unknown".into()));
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
        let r = self.region(&env.key.region)?;
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
                    "{} is paused: App Runner can't deploy to a paused service. Pass --resume to resume it first (1-2 minutes), then deploy",
                    s.name
                )));
            }
            let started = self.waits.now();
            r.apprunner
                .resume_service()
                .service_arn(&s.arn)
                .send()
                .await
                .map_err(|e| self.err("resuming the service", e))?;
            let status = self.wait_for_service(r, &s.arn, deadline).await?;
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
        // No AWS API keeps the previous image: record it on the service before deploying.
        r.apprunner
            .tag_resource()
            .resource_arn(&s.arn)
            .tags(
                Tag::builder()
                    .key(PREVIOUS_IMAGE_TAG)
                    .value(&current)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.err("recording the previous image", e))?;
        let described = r
            .apprunner
            .describe_service()
            .service_arn(&s.arn)
            .send()
            .await
            .map_err(|e| self.err("describing the service", e))?;
        let existing = described
            .service()
            .and_then(|s| s.source_configuration())
            .cloned();
        let repo = existing.as_ref().and_then(|c| c.image_repository());
        let image_repository = ImageRepository::builder()
            .image_identifier(&new_identifier)
            .image_repository_type(
                repo.map(|i| i.image_repository_type().clone())
                    .unwrap_or(aws_sdk_apprunner::types::ImageRepositoryType::Ecr),
            )
            .set_image_configuration(repo.and_then(|i| i.image_configuration()).cloned())
            .build()
            .map_err(|e| BackendError::Other(format!("building the update: {e}")))?;
        let source = SourceConfiguration::builder()
            .image_repository(image_repository)
            .set_auto_deployments_enabled(
                existing.as_ref().and_then(|c| c.auto_deployments_enabled()),
            )
            .set_authentication_configuration(
                existing
                    .as_ref()
                    .and_then(|c| c.authentication_configuration())
                    .cloned(),
            )
            .build();
        let updated = r
            .apprunner
            .update_service()
            .service_arn(&s.arn)
            .source_configuration(source)
            .send()
            .await
            .map_err(|e| self.err("deploying", e))?;
        let operation_id = updated.operation_id().to_string();
        report.steps.push(Step {
            what: format!("started deploying {new_identifier} (operation {operation_id})"),
            seconds: self.waits.now() - started,
        });
        if !wait {
            report.left.push(
                "the deployment takes about 5 minutes; `scale0 status` shows its progress".into(),
            );
            return Ok(report);
        }
        let started = self.waits.now();
        loop {
            let ops = r
                .apprunner
                .list_operations()
                .service_arn(&s.arn)
                .max_results(10)
                .send()
                .await
                .map_err(|e| self.err("listing operations", e))?;
            let op = ops
                .operation_summary_list()
                .iter()
                .map(convert::operation)
                .find(|o| o.id == operation_id);
            match op {
                Some(o) if o.status == "SUCCEEDED" => {
                    report.steps.push(Step {
                        what: "deployment succeeded".into(),
                        seconds: self.waits.now() - started,
                    });
                    return Ok(report);
                }
                Some(o) if !o.in_flight() => {
                    return Err(BackendError::Other(format!(
                        "the deployment of {new_identifier} ended {}: App Runner kept the previous version",
                        o.status
                    )));
                }
                _ => {}
            }
            if self.waits.now() >= deadline {
                return Err(BackendError::Timeout(format!(
                    "the deployment of {new_identifier} was still running when the timeout passed"
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
