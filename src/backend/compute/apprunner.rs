//! App Runner, the seed project's compute kind: its API calls, its states and metrics, and
//! its SDK types turned into model types.

use super::{BoxFuture, ComputeKind, KindConfig, Listed, LogPlace, MetricSpec};
use crate::backend::BackendError;
use crate::backend::convert::{self, sdk_error};
use crate::backend::discovery::PREVIOUS_IMAGE_TAG;
use crate::backend::metrics::Field;
use crate::model::cost::ComputePrices;
use crate::model::logs::LogSource;
use crate::model::{Operation, Scaling, ServiceState, ServiceStatus};
use aws_sdk_apprunner::types::{ImageRepository, SourceConfiguration, Tag};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

const ID: &str = "apprunner";
const LABEL: &str = "App Runner";
/// us-east-1 list prices (reference/aws.md section 11).
const PRICES: ComputePrices = ComputePrices {
    gb_hour: 0.007,
    vcpu_hour: 0.064,
    standing_hour: 0.0,
};

/// Auto scaling configuration revisions are immutable: each ARN is read once, and
/// concurrent first reads share one call.
type ScalingCache = Arc<Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Option<Scaling>>>>>>;

pub struct AppRunner {
    client: aws_sdk_apprunner::Client,
    region: String,
    profile: Option<String>,
    scaling: ScalingCache,
}

impl AppRunner {
    pub fn connect(config: &KindConfig) -> AppRunner {
        let mut builder = aws_sdk_apprunner::config::Builder::from(&config.sdk);
        if let Some(i) = &config.interceptor {
            builder = builder.interceptor(i.clone());
        }
        AppRunner {
            client: aws_sdk_apprunner::Client::from_conf(builder.build()),
            region: config
                .sdk
                .region()
                .map(|r| r.to_string())
                .unwrap_or_default(),
            profile: config.profile.clone(),
            scaling: Arc::default(),
        }
    }

    fn err<E>(
        &self,
        context: &str,
        e: aws_sdk_apprunner::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
    ) -> BackendError
    where
        E: aws_sdk_apprunner::error::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
    {
        sdk_error(context, self.profile.as_deref(), e)
    }

    async fn scaling_of(&self, arn: &str) -> Option<Scaling> {
        let cell = self
            .scaling
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(arn.to_string())
            .or_default()
            .clone();
        cell.get_or_init(|| async {
            self.client
                .describe_auto_scaling_configuration()
                .auto_scaling_configuration_arn(arn)
                .send()
                .await
                .ok()
                .and_then(|s| s.auto_scaling_configuration().map(scaling))
        })
        .await
        .clone()
    }

    async fn recent_operations(&self, arn: &str) -> Result<Vec<Operation>, BackendError> {
        let out = self
            .client
            .list_operations()
            .service_arn(arn)
            .max_results(20)
            .send()
            .await
            .map_err(|e| self.err("listing App Runner operations", e))?;
        Ok(out.operation_summary_list().iter().map(operation).collect())
    }
}

impl ComputeKind for AppRunner {
    fn id(&self) -> &'static str {
        ID
    }

    fn label(&self) -> &'static str {
        LABEL
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<Listed>, BackendError>> {
        Box::pin(async move {
            // ListServices carries no tags: each page's services' tags are asked for while
            // the next page loads (pages come 20 at a time, one after the other).
            let mut tag_reads = Vec::new();
            let mut pages = self
                .client
                .list_services()
                .max_results(20)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.err("listing App Runner services", e))?;
                for summary in page.service_summary_list() {
                    let client = self.client.clone();
                    let arn = summary.service_arn().unwrap_or_default().to_string();
                    let name = summary.service_name().unwrap_or_default().to_string();
                    let read_arn = arn.clone();
                    let read = tokio::spawn(async move {
                        client
                            .list_tags_for_resource()
                            .resource_arn(read_arn)
                            .send()
                            .await
                    });
                    tag_reads.push((arn, name, read));
                }
            }
            let mut listed = Vec::with_capacity(tag_reads.len());
            for (arn, name, read) in tag_reads {
                let answer = read
                    .await
                    .map_err(|e| BackendError::Other(format!("reading App Runner tags: {e}")))?
                    .map_err(|e| self.err("reading App Runner tags", e))?;
                let tags = answer
                    .tags()
                    .iter()
                    .filter_map(|t| {
                        Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))
                    })
                    .collect();
                listed.push(Listed { arn, name, tags });
            }
            Ok(listed)
        })
    }

    fn describe<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Result<ServiceState, BackendError>> {
        Box::pin(async move {
            // Tags too: they change with every deploy (the previous image is one).
            let (described, operations, tags) = tokio::join!(
                self.client.describe_service().service_arn(arn).send(),
                self.client
                    .list_operations()
                    .service_arn(arn)
                    .max_results(10)
                    .send(),
                self.client
                    .list_tags_for_resource()
                    .resource_arn(arn)
                    .send(),
            );
            let tags = tags
                .map_err(|e| self.err("reading App Runner tags", e))?
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
                .collect();
            let described =
                described.map_err(|e| self.err("describing an App Runner service", e))?;
            let Some(service) = described.service() else {
                return Err(BackendError::Other(format!(
                    "DescribeService returned no service for {arn}"
                )));
            };
            let operations = operations
                .map(|o| o.operation_summary_list().iter().map(operation).collect())
                .unwrap_or_default();
            let scaling = match service
                .auto_scaling_configuration_summary()
                .and_then(|s| s.auto_scaling_configuration_arn())
            {
                Some(scaling_arn) => self.scaling_of(scaling_arn).await,
                None => None,
            };
            let mut state = self::service(service, scaling, operations, tags);
            state.console_url = Some(format!(
                "https://{region}.console.aws.amazon.com/apprunner/home?region={region}#/services/dashboard?service_arn={arn}",
                region = self.region
            ));
            Ok(state)
        })
    }

    fn status<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Result<ServiceStatus, BackendError>> {
        Box::pin(async move {
            let out = self
                .client
                .describe_service()
                .service_arn(arn)
                .send()
                .await
                .map_err(|e| self.err("describing the service", e))?;
            Ok(out
                .service()
                .map(|s| ServiceStatus::parse(s.status().as_str()))
                .unwrap_or(ServiceStatus::Other("unknown".into())))
        })
    }

    fn pause<'a>(&'a self, s: &'a ServiceState) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move {
            self.client
                .pause_service()
                .service_arn(&s.arn)
                .send()
                .await
                .map_err(|e| self.err("pausing the service", e))?;
            Ok(())
        })
    }

    fn resume<'a>(&'a self, s: &'a ServiceState) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move {
            self.client
                .resume_service()
                .service_arn(&s.arn)
                .send()
                .await
                .map_err(|e| self.err("resuming the service", e))?;
            Ok(())
        })
    }

    fn deploy<'a>(
        &'a self,
        s: &'a ServiceState,
        image_identifier: &'a str,
        previous: &'a str,
    ) -> BoxFuture<'a, Result<String, BackendError>> {
        Box::pin(async move {
            // No AWS API keeps the previous image: record it on the service first.
            self.client
                .tag_resource()
                .resource_arn(&s.arn)
                .tags(
                    Tag::builder()
                        .key(PREVIOUS_IMAGE_TAG)
                        .value(previous)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| self.err("recording the previous image", e))?;
            let described = self
                .client
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
                .image_identifier(image_identifier)
                .image_repository_type(
                    repo.map(|i| i.image_repository_type().clone())
                        .unwrap_or(aws_sdk_apprunner::types::ImageRepositoryType::Ecr),
                )
                .set_image_configuration(repo.and_then(|i| i.image_configuration()).cloned())
                .build()
                .map_err(|e| BackendError::Other(format!("building the update: {e}")))?;
            // StartDeployment only redeploys the configured image: another tag is an update.
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
            let updated = self
                .client
                .update_service()
                .service_arn(&s.arn)
                .source_configuration(source)
                .send()
                .await
                .map_err(|e| self.err("deploying", e))?;
            Ok(updated.operation_id().to_string())
        })
    }

    fn operations<'a>(
        &'a self,
        s: &'a ServiceState,
    ) -> BoxFuture<'a, Result<Vec<Operation>, BackendError>> {
        Box::pin(self.recent_operations(&s.arn))
    }

    fn tag<'a>(
        &'a self,
        s: &'a ServiceState,
        tags: &'a [(String, String)],
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move {
            let tags = tags
                .iter()
                .map(|(k, v)| {
                    aws_sdk_apprunner::types::Tag::builder()
                        .key(k)
                        .value(v)
                        .build()
                })
                .collect();
            self.client
                .tag_resource()
                .resource_arn(&s.arn)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| self.err("tagging the service", e))?;
            Ok(())
        })
    }

    fn untag<'a>(
        &'a self,
        s: &'a ServiceState,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(async move {
            self.client
                .untag_resource()
                .resource_arn(&s.arn)
                .set_tag_keys(Some(keys.to_vec()))
                .send()
                .await
                .map_err(|e| self.err("untagging the service", e))?;
            Ok(())
        })
    }

    fn scheduler_target(&self, s: &ServiceState, pause: bool) -> Option<(String, String)> {
        let action = if pause {
            "pauseService"
        } else {
            "resumeService"
        };
        Some((
            format!("arn:aws:scheduler:::aws-sdk:apprunner:{action}"),
            serde_json::json!({"ServiceArn": s.arn}).to_string(),
        ))
    }

    fn metrics(&self, s: &ServiceState) -> Vec<MetricSpec> {
        const SERIES: [(Field, &str, &str); 8] = [
            (Field::ActiveInstances, "ActiveInstances", "Maximum"),
            (Field::Concurrency, "Concurrency", "Maximum"),
            (Field::Requests, "Requests", "Sum"),
            (Field::Status2xx, "2xxStatusResponses", "Sum"),
            (Field::Status4xx, "4xxStatusResponses", "Sum"),
            (Field::Status5xx, "5xxStatusResponses", "Sum"),
            (Field::LatencyP50, "RequestLatency", "p50"),
            (Field::LatencyP99, "RequestLatency", "p99"),
        ];
        SERIES
            .iter()
            .map(|(field, name, stat)| MetricSpec {
                field: *field,
                namespace: "AWS/AppRunner",
                name,
                stat,
                dimensions: vec![("ServiceID", s.id.clone()), ("ServiceName", s.name.clone())],
                scale: 1.0,
            })
            .collect()
    }

    /// App Runner's two groups (reference/aws.md section 3): `.../application` with a
    /// stream per instance, `.../service` with `events` and `deployment/<operation-id>`.
    fn log_place(&self, s: &ServiceState, source: LogSource) -> Option<LogPlace> {
        let base = format!("/aws/apprunner/{}/{}", s.name, s.id);
        let (group, prefix) = match source {
            LogSource::App => (format!("{base}/application"), None),
            LogSource::Deploy => (format!("{base}/service"), Some("deployment/")),
            LogSource::Events => (format!("{base}/service"), Some("events")),
            LogSource::Db => return None,
        };
        Some(LogPlace {
            group,
            stream_prefix: prefix.map(str::to_string),
        })
    }
}

fn operation(o: &aws_sdk_apprunner::types::OperationSummary) -> Operation {
    Operation {
        id: o.id().unwrap_or_default().to_string(),
        kind: o
            .r#type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        status: o
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        started_at: convert::time(o.started_at()),
        ended_at: convert::time(o.ended_at()),
        reason: None,
    }
}

fn service(
    s: &aws_sdk_apprunner::types::Service,
    scaling: Option<Scaling>,
    operations: Vec<Operation>,
    tags: Vec<(String, String)>,
) -> ServiceState {
    let image = s.source_configuration().and_then(|c| c.image_repository());
    ServiceState {
        name: s.service_name().to_string(),
        arn: s.service_arn().to_string(),
        id: s.service_id().to_string(),
        url: s.service_url().map(str::to_string),
        status: ServiceStatus::parse(s.status().as_str()),
        operation: operations.iter().find(|o| o.in_flight()).cloned(),
        recent_operations: operations,
        image_identifier: image.map(|i| i.image_identifier().to_string()),
        auto_deployments: s
            .source_configuration()
            .and_then(|c| c.auto_deployments_enabled())
            .unwrap_or(false),
        scaling,
        vcpu: convert::parse_cpu(s.instance_configuration().and_then(|i| i.cpu())),
        memory_gb: convert::parse_memory(s.instance_configuration().and_then(|i| i.memory())),
        active_instances: None,
        tags,
        kind: ID,
        kind_label: LABEL,
        console_url: None,
        prices: PRICES,
        facts: Default::default(),
    }
}

fn scaling(c: &aws_sdk_apprunner::types::AutoScalingConfiguration) -> Scaling {
    Scaling {
        max_concurrency: c.max_concurrency().unwrap_or(100).max(1) as u32,
        min_size: c.min_size().unwrap_or(1).max(0) as u32,
        max_size: c.max_size().unwrap_or(25).max(1) as u32,
    }
}
