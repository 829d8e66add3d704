//! Amazon ECS Express Mode, the compute kind a new team can still get (App Runner takes
//! no new customers): its calls, its states, its pause (min tasks 0 + desired 0, the old
//! scaling target kept in a tag), canary deployments and its load balancer metrics
//! (reference/aws.md section 16).

mod shapes;
mod sleep;

use super::{BoxFuture, ComputeKind, KindConfig, Listed, LogPlace, MetricSpec};
use crate::backend::BackendError;
use crate::backend::convert::{self, sdk_error};
use crate::backend::discovery::PREVIOUS_IMAGE_TAG;
use crate::backend::metrics::Field;
use crate::model::cost::ComputePrices;
use crate::model::logs::LogSource;
use crate::model::{KindFacts, Operation, Scaling, ServiceState, ServiceStatus};
use aws_sdk_ecs::types::{
    ExpressGatewayContainer, ExpressGatewayScalingTarget, ExpressGatewayServiceConfiguration,
    ExpressGatewayServiceInclude, ResourceManagementType, ServiceField,
    StopServiceDeploymentStopType, Tag,
};
use shapes::{arn_suffix, cluster_and_name, newest, operation_status, tags_of};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const ID: &str = "ecs-express";
const LABEL: &str = "ECS Express";
/// Where the scaling target a pause replaced is kept, so anyone's scale0 can resume.
pub const SCALING_TAG: &str = "scale0:scaling-before-pause";
/// Fargate us-east-1 (aws.md 16.2.4): memory and CPU both per running task.
const GB_HOUR: f64 = 0.004445;
const VCPU_HOUR: f64 = 0.04048;
/// The shared ALB ($0.0225/h, about $16/month) and its public IPv4 addresses (one per
/// AZ, two AZs at least, $0.005/h each), split over the services sharing it (<= 25).
const ALB_HOUR: f64 = 0.0225;
const ALB_ADDRESSES: f64 = 2.0;
const IPV4_HOUR: f64 = 0.005;
const MAX_SHARING: usize = 25;
const DIFFERENCE: &str = "ECS Express: at zero tasks it answers 503 and does not wake on a request (wake it); it scales on CPU or requests per task, not concurrency; a deploy is a 5 % canary with two 3-minute bakes (6+ minutes)";

pub struct EcsExpress {
    client: aws_sdk_ecs::Client,
    region: String,
    profile: Option<String>,
    /// Express services the last listing found: they share the VPC's load balancers
    /// (one per 25), so each pays its part. Assumes one VPC (seeing VPCs needs EC2).
    listed: Arc<AtomicUsize>,
}

type SdkErr<E> = aws_sdk_ecs::error::SdkError<E, aws_smithy_runtime_api::http::Response>;

impl EcsExpress {
    pub fn connect(config: &KindConfig) -> EcsExpress {
        let mut builder = aws_sdk_ecs::config::Builder::from(&config.sdk);
        if let Some(i) = &config.interceptor {
            builder = builder.interceptor(i.clone());
        }
        EcsExpress {
            client: aws_sdk_ecs::Client::from_conf(builder.build()),
            region: config
                .sdk
                .region()
                .map(|r| r.to_string())
                .unwrap_or_default(),
            profile: config.profile.clone(),
            listed: Arc::default(),
        }
    }

    fn err<E>(&self, context: &str, e: SdkErr<E>) -> BackendError
    where
        E: aws_sdk_ecs::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        sdk_error(context, self.profile.as_deref(), e)
    }

    async fn newest_config(
        &self,
        arn: &str,
    ) -> Result<ExpressGatewayServiceConfiguration, BackendError> {
        let out = self
            .client
            .describe_express_gateway_service()
            .service_arn(arn)
            .send()
            .await
            .map_err(|e| self.err("describing the ECS Express service", e))?;
        out.service()
            .and_then(|s| newest(s.active_configurations()))
            .cloned()
            .ok_or_else(|| BackendError::Other(format!("{arn} has no active configuration")))
    }

    async fn set_desired(&self, arn: &str, desired: i32) -> Result<(), BackendError> {
        let (cluster, name) = cluster_and_name(arn)
            .ok_or_else(|| BackendError::Other(format!("{arn} is not an ECS service ARN")))?;
        self.client
            .update_service()
            .cluster(cluster)
            .service(name)
            .desired_count(desired)
            .send()
            .await
            .map_err(|e| self.err("setting the desired task count", e))?;
        Ok(())
    }

    async fn set_scaling(
        &self,
        arn: &str,
        target: ExpressGatewayScalingTarget,
    ) -> Result<(), BackendError> {
        self.client
            .update_express_gateway_service()
            .service_arn(arn)
            .scaling_target(target)
            .send()
            .await
            .map_err(|e| self.err("updating the scaling target", e))?;
        Ok(())
    }

    async fn deployments(&self, arn: &str) -> Result<Vec<Operation>, BackendError> {
        let (cluster, name) = cluster_and_name(arn)
            .ok_or_else(|| BackendError::Other(format!("{arn} is not an ECS service ARN")))?;
        let out = self
            .client
            .list_service_deployments()
            .cluster(cluster)
            .service(name)
            .max_results(20)
            .send()
            .await
            .map_err(|e| self.err("listing ECS service deployments", e))?;
        Ok(out
            .service_deployments()
            .iter()
            .map(|d| Operation {
                id: d.service_deployment_arn().unwrap_or_default().to_string(),
                kind: "DEPLOYMENT".into(),
                status: operation_status(d.status().map_or("", |s| s.as_str())),
                started_at: convert::time(d.started_at().or(d.created_at())),
                ended_at: convert::time(d.finished_at()),
                reason: d.status_reason().map(str::to_string),
            })
            .collect())
    }

    /// This service's share of the load balancers (and their addresses) it shares.
    fn standing_hour(&self) -> f64 {
        let services = self.listed.load(Ordering::Relaxed).max(1);
        let balancers = services.div_ceil(MAX_SHARING);
        (ALB_HOUR + ALB_ADDRESSES * IPV4_HOUR) * balancers as f64 / services as f64
    }
}

impl ComputeKind for EcsExpress {
    fn id(&self) -> &'static str {
        ID
    }

    fn label(&self) -> &'static str {
        LABEL
    }

    /// The app's output goes to the service's managed log group (one stream per task);
    /// deployments and service events are ECS events, not logs (`scale0 events`).
    fn log_place(&self, s: &ServiceState, source: LogSource) -> Option<LogPlace> {
        match source {
            LogSource::App => s.facts.log_group.clone().map(|group| LogPlace {
                group,
                stream_prefix: None,
            }),
            LogSource::Deploy | LogSource::Events | LogSource::Db => None,
        }
    }

    fn pause_takes(&self) -> &'static str {
        "tasks stop at once (desired 0); the scaling update registers a new revision in about a minute"
    }

    fn resume_takes(&self) -> &'static str {
        "a task takes about a minute to start and pass its health check; until then the load balancer answers 503"
    }

    fn deploy_takes(&self) -> &'static str {
        "a 5 % canary and two 3-minute bakes: 6 minutes or more"
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<Listed>, BackendError>> {
        Box::pin(async move {
            // No Express list call: every cluster's ECS-managed services, then their tags.
            let mut clusters = Vec::new();
            let mut pages = self.client.list_clusters().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.err("listing ECS clusters", e))?;
                clusters.extend(page.cluster_arns().iter().cloned());
            }
            let mut listed = Vec::new();
            for cluster in clusters {
                let mut arns = Vec::new();
                let mut pages = self
                    .client
                    .list_services()
                    .cluster(&cluster)
                    .resource_management_type(ResourceManagementType::Ecs)
                    .max_results(100)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| self.err("listing ECS services", e))?;
                    arns.extend(page.service_arns().iter().cloned());
                }
                for chunk in arns.chunks(10) {
                    let out = self
                        .client
                        .describe_services()
                        .cluster(&cluster)
                        .set_services(Some(chunk.to_vec()))
                        .include(ServiceField::Tags)
                        .send()
                        .await
                        .map_err(|e| self.err("describing ECS services", e))?;
                    for s in out.services() {
                        listed.push(Listed {
                            arn: s.service_arn().unwrap_or_default().to_string(),
                            name: s.service_name().unwrap_or_default().to_string(),
                            tags: tags_of(s.tags()),
                        });
                    }
                }
            }
            self.listed.store(listed.len(), Ordering::Relaxed);
            Ok(listed)
        })
    }

    fn describe<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Result<ServiceState, BackendError>> {
        Box::pin(async move {
            let (cluster, name) = cluster_and_name(arn)
                .ok_or_else(|| BackendError::Other(format!("{arn} is not an ECS service ARN")))?;
            let (express, ecs, operations) = tokio::join!(
                self.client
                    .describe_express_gateway_service()
                    .service_arn(arn)
                    .include(ExpressGatewayServiceInclude::Tags)
                    .send(),
                self.client
                    .describe_services()
                    .cluster(cluster)
                    .services(name)
                    .send(),
                self.deployments(arn),
            );
            let express = express.map_err(|e| self.err("describing an ECS Express service", e))?;
            let ecs = ecs.map_err(|e| self.err("describing an ECS service", e))?;
            let Some(x) = express.service() else {
                return Err(BackendError::Other(format!("no Express service {arn}")));
            };
            let counts = ecs.services().first();
            let desired = counts.map_or(0, |s| s.desired_count());
            let running = counts.map_or(0, |s| s.running_count());
            let config = newest(x.active_configurations());
            // The managed resources: load balancer, target group, image digest.
            let revision = match config.and_then(|c| c.service_revision_arn()) {
                Some(r) => self
                    .client
                    .describe_service_revisions()
                    .service_revision_arns(r)
                    .send()
                    .await
                    .map_err(|e| self.err("reading the service revision", e))?
                    .service_revisions()
                    .first()
                    .cloned(),
                None => None,
            };
            let ingress = revision
                .as_ref()
                .and_then(|r| r.ecs_managed_resources())
                .and_then(|m| m.ingress_paths().first());
            let log_group = revision
                .as_ref()
                .and_then(|r| r.ecs_managed_resources())
                .and_then(|m| m.log_groups().first())
                .map(|g| g.log_group_name().to_string());
            let load_balancer = ingress.and_then(|i| i.load_balancer());
            let target_group = ingress.and_then(|i| i.target_groups().first());
            let operations = operations.unwrap_or_default();
            let in_flight = operations.iter().find(|o| o.in_flight()).cloned();
            let inactive = x
                .status()
                .and_then(|s| s.status_code())
                .is_some_and(|c| c.as_str() != "ACTIVE");
            let (status, operation) = match (&in_flight, desired, running) {
                _ if inactive => (ServiceStatus::Deleted, None),
                (Some(o), _, _) => (ServiceStatus::OperationInProgress, Some(o.clone())),
                (None, 0, 0) => (ServiceStatus::Paused, None),
                // Tasks starting: nothing answers yet.
                (None, _, 0) => (
                    ServiceStatus::OperationInProgress,
                    Some(Operation {
                        id: "tasks".into(),
                        kind: "TASKS_STARTING".into(),
                        status: "IN_PROGRESS".into(),
                        started_at: None,
                        ended_at: None,
                        reason: None,
                    }),
                ),
                _ => (ServiceStatus::Running, None),
            };
            let mut warning = None;
            let mut cut_off = false;
            if let Some(lb) = load_balancer
                && lb.status().as_str() != "ACTIVE"
            {
                warning = Some(format!(
                    "its load balancer is {} ({}): nothing reaches the service; recreate the Express service or restore the load balancer",
                    lb.status().as_str(),
                    lb.status_reason().unwrap_or("no reason given")
                ));
                cut_off = true;
            }
            let scaling = config.and_then(|c| c.scaling_target()).map(|t| Scaling {
                // Concurrency does not drive it: 0 says "not concurrency-based".
                max_concurrency: 0,
                min_size: t.min_task_count().unwrap_or(0).max(0) as u32,
                max_size: t.max_task_count().unwrap_or(1).max(0) as u32,
            });
            let image = config
                .and_then(|c| c.primary_container())
                .map(|c| c.image().to_string());
            let mut ids = vec![("ClusterName".to_string(), cluster.to_string())];
            if let Some(lb) = load_balancer.and_then(|l| l.arn()) {
                ids.push(("LoadBalancer".into(), arn_suffix(lb)));
            }
            if let Some(tg) = target_group.and_then(|t| t.arn()) {
                ids.push(("TargetGroup".into(), arn_suffix(tg)));
            }
            let url = config.and_then(|c| c.ingress_paths().first()).map(|i| {
                i.endpoint()
                    .trim_start_matches("https://")
                    .trim_end_matches('/')
                    .to_string()
            });
            Ok(ServiceState {
                name: x.service_name().unwrap_or(name).to_string(),
                arn: arn.to_string(),
                id: name.to_string(),
                url,
                status,
                operation,
                recent_operations: operations,
                image_identifier: image,
                auto_deployments: false,
                scaling,
                vcpu: convert::parse_cpu(config.and_then(|c| c.cpu())),
                memory_gb: convert::parse_memory(config.and_then(|c| c.memory())),
                active_instances: Some(running as f64),
                tags: tags_of(x.tags()),
                kind: ID,
                kind_label: LABEL,
                console_url: Some(format!(
                    "https://{region}.console.aws.amazon.com/ecs/v2/clusters/{cluster}/services/{name}/health?region={region}",
                    region = self.region
                )),
                prices: ComputePrices {
                    gb_hour: GB_HOUR,
                    vcpu_hour: VCPU_HOUR,
                    standing_hour: self.standing_hour(),
                },
                facts: KindFacts {
                    paused_word: Some("scaled to zero"),
                    difference: Some(DIFFERENCE),
                    warning,
                    cut_off,
                    ids,
                    cancels_by_rollback: true,
                    log_group,
                },
            })
        })
    }

    fn status<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Result<ServiceStatus, BackendError>> {
        Box::pin(async move { Ok(self.describe(arn).await?.status) })
    }

    fn pause<'a>(&'a self, s: &'a ServiceState) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(self.scale_to_zero(s))
    }

    fn resume<'a>(&'a self, s: &'a ServiceState) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(self.scale_back(s, None))
    }

    fn resume_sized<'a>(
        &'a self,
        s: &'a ServiceState,
        tasks: u32,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(self.scale_back(s, Some(tasks)))
    }

    fn tag<'a>(
        &'a self,
        s: &'a ServiceState,
        tags: &'a [(String, String)],
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(self.tag_pairs(&s.arn, tags, "tagging the service"))
    }

    fn untag<'a>(
        &'a self,
        s: &'a ServiceState,
        keys: &'a [String],
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(self.untag_keys(&s.arn, keys))
    }

    fn scheduler_target(&self, s: &ServiceState, pause: bool) -> Option<(String, String)> {
        Some((
            sleep::SCHEDULE_TARGET.to_string(),
            Self::schedule_input(s, pause)?,
        ))
    }

    fn deploy<'a>(
        &'a self,
        s: &'a ServiceState,
        image_identifier: &'a str,
        previous: &'a str,
    ) -> BoxFuture<'a, Result<String, BackendError>> {
        Box::pin(async move {
            let config = self.newest_config(&s.arn).await?;
            // The digest that runs now, so a rollback returns to exactly it.
            let mut previous = previous.to_string();
            if let Some(r) = config.service_revision_arn() {
                let out = self
                    .client
                    .describe_service_revisions()
                    .service_revision_arns(r)
                    .send()
                    .await
                    .map_err(|e| self.err("reading the running image's digest", e))?;
                let digest = out
                    .service_revisions()
                    .first()
                    .and_then(|r| r.container_images().first())
                    .and_then(|i| i.image_digest());
                if let (Some(d), Some((repo, _))) = (
                    digest,
                    crate::backend::ImageRef::parse_identifier(&previous),
                ) {
                    previous = format!("{repo}@{d}");
                }
            }
            self.client
                .tag_resource()
                .resource_arn(&s.arn)
                .tags(
                    Tag::builder()
                        .key(PREVIOUS_IMAGE_TAG)
                        .value(&previous)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| self.err("recording the previous image", e))?;
            let port = config.primary_container().and_then(|c| c.container_port());
            let container = ExpressGatewayContainer::builder()
                .image(image_identifier)
                .set_container_port(port)
                .build()
                .map_err(|e| BackendError::Other(format!("building the update: {e}")))?;
            // Send the whole configuration: omitted fields fall back to defaults (16.1.7).
            self.client
                .update_express_gateway_service()
                .service_arn(&s.arn)
                .primary_container(container)
                .set_scaling_target(config.scaling_target().cloned())
                .set_cpu(config.cpu().map(str::to_string))
                .set_memory(config.memory().map(str::to_string))
                .set_health_check_path(config.health_check_path().map(str::to_string))
                .send()
                .await
                .map_err(|e| self.err("deploying", e))?;
            let out = self
                .client
                .describe_express_gateway_service()
                .service_arn(&s.arn)
                .send()
                .await
                .map_err(|e| self.err("reading the new deployment", e))?;
            out.service()
                .and_then(|x| x.current_deployment())
                .map(str::to_string)
                .ok_or_else(|| BackendError::Other("the update started no deployment".into()))
        })
    }

    fn cancel_deploy<'a>(
        &'a self,
        s: &'a ServiceState,
    ) -> BoxFuture<'a, Result<Option<String>, BackendError>> {
        Box::pin(async move {
            let Some(o) = s.operation.as_ref().filter(|o| o.kind == "DEPLOYMENT") else {
                return Ok(None);
            };
            self.client
                .stop_service_deployment()
                .service_deployment_arn(&o.id)
                .stop_type(StopServiceDeploymentStopType::Rollback)
                .send()
                .await
                .map_err(|e| self.err("rolling back the deployment in flight", e))?;
            Ok(Some(o.id.clone()))
        })
    }

    fn operations<'a>(
        &'a self,
        s: &'a ServiceState,
    ) -> BoxFuture<'a, Result<Vec<Operation>, BackendError>> {
        Box::pin(self.deployments(&s.arn))
    }

    fn metrics(&self, s: &ServiceState) -> Vec<MetricSpec> {
        let id = |k: &str| {
            s.facts
                .ids
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let mut out = Vec::new();
        if let Some(cluster) = id("ClusterName") {
            out.push(MetricSpec {
                field: Field::Cpu,
                namespace: "AWS/ECS",
                name: "CPUUtilization",
                stat: "Average",
                dimensions: vec![("ClusterName", cluster), ("ServiceName", s.name.clone())],
                scale: 1.0,
            });
        }
        let (Some(lb), Some(tg)) = (id("LoadBalancer"), id("TargetGroup")) else {
            return out;
        };
        const SERIES: [(Field, &str, &str, f64); 7] = [
            (Field::ActiveInstances, "HealthyHostCount", "Maximum", 1.0),
            (Field::Requests, "RequestCount", "Sum", 1.0),
            (Field::Status2xx, "HTTPCode_Target_2XX_Count", "Sum", 1.0),
            (Field::Status4xx, "HTTPCode_Target_4XX_Count", "Sum", 1.0),
            (Field::Status5xx, "HTTPCode_Target_5XX_Count", "Sum", 1.0),
            // Seconds on the load balancer, milliseconds on the dashboard.
            (Field::LatencyP50, "TargetResponseTime", "p50", 1000.0),
            (Field::LatencyP99, "TargetResponseTime", "p99", 1000.0),
        ];
        out.extend(SERIES.iter().map(|(field, name, stat, scale)| MetricSpec {
            field: *field,
            namespace: "AWS/ApplicationELB",
            name,
            stat,
            dimensions: vec![("LoadBalancer", lb.clone()), ("TargetGroup", tg.clone())],
            scale: *scale,
        }));
        out
    }
}
