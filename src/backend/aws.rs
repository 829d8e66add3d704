//! The AWS implementation: aws-sdk clients per region, discovery, state and actions.

use super::config::{Config, EnvMapping};
use super::convert::{self, sdk_error};
use super::discovery::{self, PREVIOUS_IMAGE_TAG, Pairing, Resource};
use super::live_state::{RdsEvent, apply_capacity_history, apply_live_state, image_state};
use super::metrics;
use super::server_clock::{ServerClockInterceptor, TimeSource};
use super::{ActionReport, BackendError, CredentialsKind, ImageRef, Inventory, Step};
use crate::clock::Clock;
use crate::model::{
    DatabaseState, DbMode, EnvMetrics, Environment, Event, Image, Power, Scaling, ServiceState,
    ServiceStatus, Time,
};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_apprunner::config::{Credentials, Region};
use aws_sdk_apprunner::types::{ImageRepository, SourceConfiguration, Tag};
use aws_smithy_types::DateTime;
use futures_util::stream::{self, StreamExt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How many calls run at once against one region.
pub const FAN_OUT: usize = 32;

#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    pub profile: Option<String>,
    pub regions: Vec<String>,
    pub endpoint_url: Option<String>,
    /// Throwaway credentials for the demo region (never real ones).
    pub demo_credentials: bool,
    pub operation_timeout: Option<Duration>,
}

#[derive(Clone)]
pub struct RegionClients {
    pub region: String,
    pub apprunner: aws_sdk_apprunner::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub rds: aws_sdk_rds::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub rdsdata: aws_sdk_rdsdata::Client,
}

#[derive(Clone)]
pub struct AwsBackend {
    regions: Vec<RegionClients>,
    mappings: Vec<EnvMapping>,
    profile: Option<String>,
    credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
    /// The server's present: every window and age compared with AWS's data.
    clock: Clock,
    /// Our own waits' timeouts and step durations: local monotonic time, or the in-process
    /// emulator's clock (so tests that advance it never sleep).
    waits: Clock,
    http: Option<reqwest::Client>,
    /// Auto scaling configuration revisions are immutable: each ARN is read once, and
    /// concurrent first reads share one call.
    scaling_cache: ScalingCache,
}

type ScalingCache = Arc<Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Option<Scaling>>>>>>;

impl AwsBackend {
    pub async fn connect(
        options: ConnectOptions,
        config: Config,
        time: TimeSource,
    ) -> Result<AwsBackend, BackendError> {
        let (clock, waits, sync_clock) = time.into_clocks();
        let operation_timeout = options.operation_timeout.unwrap_or(Duration::from_secs(30));
        // The SDK's defaults leave a stalled endpoint hanging: bound every call and attempt.
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_timeout(operation_timeout)
            .operation_attempt_timeout(operation_timeout / 3)
            .build();
        let profile = options.profile.clone().or(config.aws.profile.clone());
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(3));
        if let Some(p) = &profile {
            loader = loader.profile_name(p);
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if options.demo_credentials {
            loader = loader.credentials_provider(Credentials::new(
                "scale0-demo",
                "scale0-demo",
                None,
                None,
                "scale0-demo",
            ));
        }
        if let Some(first) = options.regions.first().or(config.aws.regions.first()) {
            loader = loader.region(Region::new(first.clone()));
        }
        let base = loader.load().await;
        let mut regions = if options.regions.is_empty() {
            config.aws.regions.clone()
        } else {
            options.regions.clone()
        };
        if regions.is_empty() {
            match base.region() {
                Some(r) => regions.push(r.to_string()),
                None => {
                    return Err(BackendError::NoRegion(
                        "no AWS region: pass --region, set AWS_REGION, or set one in your AWS profile".into(),
                    ));
                }
            }
        }
        regions.dedup();
        let clients = regions
            .iter()
            .map(|r| {
                let config = base.to_builder().region(Region::new(r.clone())).build();
                // Each answer's Date keeps the clock on the server's time.
                let interceptor = sync_clock.then(|| ServerClockInterceptor::new(clock.clone()));
                macro_rules! client {
                    ($sdk:ident) => {{
                        let mut builder = $sdk::config::Builder::from(&config);
                        if let Some(i) = &interceptor {
                            builder = builder.interceptor(i.clone());
                        }
                        $sdk::Client::from_conf(builder.build())
                    }};
                }
                RegionClients {
                    region: r.clone(),
                    apprunner: client!(aws_sdk_apprunner),
                    ecr: client!(aws_sdk_ecr),
                    rds: client!(aws_sdk_rds),
                    cloudwatch: client!(aws_sdk_cloudwatch),
                    rdsdata: client!(aws_sdk_rdsdata),
                }
            })
            .collect();
        // Without system CA certificates the client can't start; everything but waking by
        // URL still works then, so that one action reports it instead.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .inspect_err(|e| tracing::warn!(error = %e, "no HTTP client for service URLs"))
            .ok();
        let backend = AwsBackend {
            regions: clients,
            mappings: config.environments,
            profile,
            credentials: base.credentials_provider(),
            clock,
            waits,
            http,
            scaling_cache: Arc::default(),
        };
        if sync_clock {
            backend.sync_clock().await;
        }
        Ok(backend)
    }

    /// One cheap call before any other, so that the first windows (which run concurrently)
    /// are already on the server's clock. Its answer, even an error, carries the Date that
    /// the interceptor reads; a failure here is reported by the calls that follow.
    async fn sync_clock(&self) {
        if let Some(r) = self.regions.first() {
            let answer = r.apprunner.list_services().max_results(1).send().await;
            if let Err(e) = answer {
                tracing::debug!(error = %aws_smithy_types::error::display::DisplayErrorContext(&e), "clock sync call failed");
            }
        }
    }

    /// The server's present.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The clock our own waits and timeouts run on.
    pub fn waits(&self) -> &Clock {
        &self.waits
    }

    pub fn regions(&self) -> impl Iterator<Item = &str> {
        self.regions.iter().map(|r| r.region.as_str())
    }

    fn err<E, R>(&self, context: &str, e: aws_sdk_apprunner::error::SdkError<E, R>) -> BackendError
    where
        E: aws_sdk_apprunner::error::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
        R: std::fmt::Debug,
    {
        sdk_error(context, self.profile.as_deref(), e)
    }

    /// Resolves the credentials once, so a missing or expired login is one clear error
    /// before any call (never a silent switch to the demo region).
    pub async fn check_credentials(&self) -> Result<(), BackendError> {
        use aws_credential_types::provider::ProvideCredentials;
        let Some(provider) = &self.credentials else {
            return Err(
                convert::credentials_problem("no credentials", self.profile.as_deref())
                    .unwrap_or_else(|| BackendError::Other("no credentials".into())),
            );
        };
        match provider.provide_credentials().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let chain = aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
                Err(
                    convert::credentials_problem(&chain, self.profile.as_deref()).unwrap_or(
                        BackendError::Credentials {
                            kind: CredentialsKind::Unusable,
                            message: format!("could not load AWS credentials: {chain}"),
                            hint: "Check your AWS profile (aws configure list), then try again."
                                .into(),
                        },
                    ),
                )
            }
        }
    }

    fn region(&self, name: &str) -> Result<&RegionClients, BackendError> {
        self.regions
            .iter()
            .find(|r| r.region == name)
            .ok_or_else(|| BackendError::NotFound(format!("region {name} is not configured")))
    }

    // ---- reading -----------------------------------------------------------------------

    /// Every environment in every region, read concurrently; a failing region or service
    /// is reported in `problems` and does not hide the rest.
    pub async fn inventory(&self) -> Result<Inventory, BackendError> {
        let results = futures_util::future::join_all(
            self.regions
                .iter()
                .enumerate()
                .map(|(i, r)| self.region_inventory(r, i == 0)),
        )
        .await;
        let mut inventory = Inventory::default();
        let mut credential_error = None;
        for result in results {
            match result {
                Ok(part) => {
                    inventory.environments.extend(part.environments);
                    inventory.problems.extend(part.problems);
                }
                Err(e @ BackendError::Credentials { .. }) => credential_error = Some(e),
                Err(e) => inventory.problems.push(e.to_string()),
            }
        }
        if let Some(e) = credential_error {
            return Err(e);
        }
        inventory
            .environments
            // Grouped by owner; environments without one come last.
            .sort_by(|a, b| {
                (a.owner.is_none(), &a.owner, &a.key).cmp(&(b.owner.is_none(), &b.owner, &b.key))
            });
        Ok(inventory)
    }

    async fn region_inventory(
        &self,
        r: &RegionClients,
        first: bool,
    ) -> Result<Inventory, BackendError> {
        let mut problems = Vec::new();
        let (services, clusters, events) = tokio::join!(
            self.list_services(r),
            self.list_clusters(r),
            self.recent_rds_events(r, 24.0 * 3600.0)
        );
        let services = match services {
            Ok(s) => s,
            Err(e @ BackendError::Credentials { .. }) => return Err(e),
            Err(e) => {
                problems.push(format!("{}: App Runner: {e}", r.region));
                Vec::new()
            }
        };
        let (clusters, writers) = match clusters {
            Ok(c) => c,
            Err(e @ BackendError::Credentials { .. }) => return Err(e),
            Err(e) => {
                problems.push(format!("{}: RDS: {e}", r.region));
                (Vec::new(), HashMap::new())
            }
        };
        let service_resources: Vec<Resource> = services
            .iter()
            .map(|(s, tags)| Resource {
                name: s.service_name().unwrap_or_default().to_string(),
                tags: tags.clone(),
            })
            .collect();
        let cluster_resources: Vec<Resource> = clusters
            .iter()
            .map(|c| Resource {
                name: c.db_cluster_identifier().unwrap_or_default().to_string(),
                tags: c
                    .tag_list()
                    .iter()
                    .filter_map(|t| {
                        Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))
                    })
                    .collect(),
            })
            .collect();
        let pairings = discovery::pair(
            &r.region,
            &service_resources,
            &cluster_resources,
            &self.mappings,
            first,
        );
        let events = events.unwrap_or_else(|e| {
            problems.push(format!("{}: RDS events: {e}", r.region));
            Vec::new()
        });

        // Service details, with a bounded fan-out.
        let detailed: Vec<Result<(Pairing, Option<ServiceState>), BackendError>> =
            stream::iter(pairings)
                .map(|p| async {
                    let state = match &p.service {
                        Some(name) => {
                            let arn = services
                                .iter()
                                .find(|(s, _)| s.service_name() == Some(name.as_str()))
                                .and_then(|(s, _)| s.service_arn())
                                .unwrap_or_default()
                                .to_string();
                            let tags = services
                                .iter()
                                .find(|(s, _)| s.service_name() == Some(name.as_str()))
                                .map(|(_, t)| t.clone())
                                .unwrap_or_default();
                            Some(self.describe_service(r, &arn, tags).await?)
                        }
                        None => None,
                    };
                    Ok((p, state))
                })
                .buffered(FAN_OUT)
                .collect()
                .await;

        let mut environments = Vec::new();
        let mut repo_images: HashMap<String, Result<Vec<Image>, String>> = HashMap::new();
        for d in detailed {
            let (p, service) = match d {
                Ok(x) => x,
                Err(e @ BackendError::Credentials { .. }) => return Err(e),
                Err(e) => {
                    problems.push(format!("{}: {e}", r.region));
                    continue;
                }
            };
            let database = p.cluster.as_ref().and_then(|id| {
                let c = clusters
                    .iter()
                    .find(|c| c.db_cluster_identifier() == Some(id.as_str()))?;
                let writer = c
                    .db_cluster_members()
                    .iter()
                    .find(|m| m.is_cluster_writer() == Some(true))
                    .and_then(|m| m.db_instance_identifier())
                    .and_then(|w| writers.get(w));
                Some(convert::database(c, writer, p.secret_arn.as_deref()))
            });
            let mut image = None;
            if let Some((uri, reference)) = service
                .as_ref()
                .and_then(|s| s.image_identifier.as_deref())
                .and_then(ImageRef::parse_identifier)
            {
                let repository = uri.rsplit('/').next().unwrap_or(&uri).to_string();
                if !repo_images.contains_key(&repository) {
                    let images = self
                        .images_in(r, &repository)
                        .await
                        .map_err(|e| e.to_string());
                    repo_images.insert(repository.clone(), images);
                }
                let images = match &repo_images[&repository] {
                    Ok(images) => images.as_slice(),
                    Err(e) => {
                        problems.push(format!("{}: ECR {repository}: {e}", r.region));
                        &[]
                    }
                };
                image = Some(image_state(
                    &repository,
                    &reference,
                    images,
                    service.as_ref(),
                ));
            }
            environments.push(Environment {
                key: p.key,
                owner: p.owner,
                discovery: p.discovery,
                service,
                database,
                image,
            });
        }

        // Live numbers and the paused state, from the last 30 minutes of metrics.
        let now = self.clock.now();
        let refs: Vec<&Environment> = environments.iter().collect();
        match metrics::fetch(&r.cloudwatch, &refs, now - 1800.0, now, 60).await {
            Ok(all) => {
                for (env, m) in environments.iter_mut().zip(all) {
                    apply_live_state(env, &m, &events, now);
                }
                if let Err(e) = self.apply_older_capacity(r, &mut environments, now).await {
                    problems.push(format!("{}: CloudWatch (older capacity): {e}", r.region));
                }
            }
            Err(e @ BackendError::Credentials { .. }) => return Err(e),
            Err(e) => {
                problems.push(format!("{}: CloudWatch: {e}", r.region));
                for env in environments.iter_mut() {
                    apply_live_state(env, &EnvMetrics::default(), &events, now);
                }
            }
        }
        Ok(Inventory {
            environments,
            problems,
        })
    }

    /// A database whose state the window could not tell (no recent point, no pause event)
    /// is looked up over two weeks of hourly capacity: paused long ago is still paused.
    async fn apply_older_capacity(
        &self,
        r: &RegionClients,
        environments: &mut [Environment],
        now: Time,
    ) -> Result<(), BackendError> {
        const PERIOD: i32 = 3600;
        let undecided: Vec<usize> = environments
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.database.as_ref().is_some_and(|d| {
                    d.power == Power::Unknown && d.mode.auto_pause_seconds().is_some()
                })
            })
            .map(|(i, _)| i)
            .collect();
        if undecided.is_empty() {
            return Ok(());
        }
        let refs: Vec<&Environment> = undecided.iter().map(|&i| &environments[i]).collect();
        let start = now - 14.0 * 86400.0;
        let history = metrics::fetch_capacity(&r.cloudwatch, &refs, start, now, PERIOD).await?;
        for (i, series) in undecided.into_iter().zip(history) {
            if let Some(db) = &mut environments[i].database {
                apply_capacity_history(db, &series, PERIOD as f64);
            }
        }
        Ok(())
    }

    async fn list_services(
        &self,
        r: &RegionClients,
    ) -> Result<
        Vec<(
            aws_sdk_apprunner::types::ServiceSummary,
            Vec<(String, String)>,
        )>,
        BackendError,
    > {
        let mut summaries = Vec::new();
        let mut pages = r
            .apprunner
            .list_services()
            .max_results(20)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err("listing App Runner services", e))?;
            summaries.extend(page.service_summary_list().iter().cloned());
        }
        // ListServices carries no tags: ask for each service's, concurrently.
        let tagged: Vec<Result<_, BackendError>> = stream::iter(summaries)
            .map(|s| async move {
                let arn = s.service_arn().unwrap_or_default().to_string();
                let tags = r
                    .apprunner
                    .list_tags_for_resource()
                    .resource_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| self.err("reading App Runner tags", e))?;
                let tags = tags
                    .tags()
                    .iter()
                    .filter_map(|t| {
                        Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))
                    })
                    .collect();
                Ok((s, tags))
            })
            .buffered(FAN_OUT)
            .collect()
            .await;
        tagged.into_iter().collect()
    }

    #[allow(clippy::type_complexity)]
    async fn list_clusters(
        &self,
        r: &RegionClients,
    ) -> Result<
        (
            Vec<aws_sdk_rds::types::DbCluster>,
            HashMap<String, aws_sdk_rds::types::DbInstance>,
        ),
        BackendError,
    > {
        let mut clusters = Vec::new();
        let mut pages = r.rds.describe_db_clusters().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err("listing Aurora clusters", e))?;
            clusters.extend(
                page.db_clusters()
                    .iter()
                    .filter(|c| c.engine().is_none_or(|e| e.starts_with("aurora")))
                    .cloned(),
            );
        }
        let mut writers = HashMap::new();
        let mut pages = r.rds.describe_db_instances().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err("listing DB instances", e))?;
            for i in page.db_instances() {
                if let Some(id) = i.db_instance_identifier() {
                    writers.insert(id.to_string(), i.clone());
                }
            }
        }
        Ok((clusters, writers))
    }

    async fn describe_service(
        &self,
        r: &RegionClients,
        arn: &str,
        tags: Vec<(String, String)>,
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
        Ok(convert::service(service, scaling, operations, tags))
    }

    async fn images_in(
        &self,
        r: &RegionClients,
        repository: &str,
    ) -> Result<Vec<Image>, BackendError> {
        let mut images = Vec::new();
        let mut pages = r
            .ecr
            .describe_images()
            .repository_name(repository)
            .max_results(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err("listing ECR images", e))?;
            images.extend(page.image_details().iter().map(convert::image));
        }
        images.sort_by(|a, b| {
            b.pushed_at
                .unwrap_or(0.0)
                .total_cmp(&a.pushed_at.unwrap_or(0.0))
        });
        Ok(images)
    }

    /// RDS events of the last `seconds` (at most 14 days), both clusters and instances.
    async fn recent_rds_events(
        &self,
        r: &RegionClients,
        seconds: f64,
    ) -> Result<Vec<RdsEvent>, BackendError> {
        let now = self.clock.now();
        let start = now - seconds.min(14.0 * 86400.0);
        let mut out = Vec::new();
        for source_type in [
            aws_sdk_rds::types::SourceType::DbCluster,
            aws_sdk_rds::types::SourceType::DbInstance,
        ] {
            let mut pages = r
                .rds
                .describe_events()
                .source_type(source_type)
                .start_time(DateTime::from_secs_f64(start))
                .end_time(DateTime::from_secs_f64(now + 60.0))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.err("reading RDS events", e))?;
                out.extend(page.events().iter().map(|e| RdsEvent {
                    source: e.source_identifier().unwrap_or_default().to_string(),
                    time: convert::time(e.date()).unwrap_or(0.0),
                    message: e.message().unwrap_or_default().to_string(),
                }));
            }
        }
        out.sort_by(|a, b| a.time.total_cmp(&b.time));
        Ok(out)
    }

    /// The environment's timeline: App Runner operations and RDS events since `since`.
    pub async fn events(
        &self,
        env: &Environment,
        since_seconds: f64,
    ) -> Result<Vec<Event>, BackendError> {
        let r = self.region(&env.key.region)?;
        let now = self.clock.now();
        let start = now - since_seconds;
        let mut out = Vec::new();
        if let Some(s) = &env.service {
            let mut pages = r
                .apprunner
                .list_operations()
                .service_arn(&s.arn)
                .max_results(20)
                .into_paginator()
                .send();
            'pages: while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.err("listing App Runner operations", e))?;
                for o in page.operation_summary_list().iter().map(convert::operation) {
                    let Some(started) = o.started_at else {
                        continue;
                    };
                    if started < start {
                        break 'pages;
                    }
                    out.push(Event {
                        time: started,
                        source: "service",
                        message: format!("{} started", o.kind),
                    });
                    if let Some(ended) = o.ended_at {
                        out.push(Event {
                            time: ended,
                            source: "service",
                            message: format!("{} {}", o.kind, o.status),
                        });
                    }
                }
            }
        }
        if let Some(db) = &env.database {
            let events = self.recent_rds_events(r, since_seconds).await?;
            out.extend(
                events
                    .into_iter()
                    .filter(|e| e.source == db.id || Some(&e.source) == db.writer_id.as_ref())
                    .map(|e| Event {
                        time: e.time,
                        source: "database",
                        message: e.message,
                    }),
            );
        }
        out.retain(|e| e.time >= start);
        out.sort_by(|a, b| a.time.total_cmp(&b.time));
        Ok(out)
    }

    /// The environment's repository's images, newest first.
    pub async fn images(&self, env: &Environment) -> Result<(String, Vec<Image>), BackendError> {
        let r = self.region(&env.key.region)?;
        let repository = env
            .image
            .as_ref()
            .map(|i| i.repository.clone())
            .unwrap_or_else(|| "scale0".to_string());
        let images = self.images_in(r, &repository).await?;
        Ok((repository, images))
    }

    /// The dashboard's series over `[start, end)` for these environments of one region.
    pub async fn metrics(
        &self,
        region: &str,
        envs: &[&Environment],
        start: Time,
        end: Time,
        period: i32,
    ) -> Result<Vec<EnvMetrics>, BackendError> {
        let r = self.region(region)?;
        metrics::fetch(&r.cloudwatch, envs, start, end, period).await
    }

    // ---- actions -----------------------------------------------------------------------

    fn service_of<'a>(&self, env: &'a Environment) -> Result<&'a ServiceState, BackendError> {
        env.service.as_ref().ok_or_else(|| {
            BackendError::Refused(format!(
                "environment {} has no App Runner service",
                env.key.name
            ))
        })
    }

    fn refuse_if_busy(s: &ServiceState, action: &str) -> Result<(), BackendError> {
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
    fn service_ready<'a>(
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
    fn asked(&self, env: &Environment, what: String, started: Time, left: &str) -> ActionReport {
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
    async fn wait_for_service(
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
                    r.apprunner
                        .resume_service()
                        .service_arn(&s.arn)
                        .send()
                        .await
                        .map_err(|e| self.err("resuming the service", e))?;
                    report.steps.push(Step {
                        what: format!("asked App Runner to resume {}", s.name),
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
                let status = self.wait_for_service(r, &s.arn, deadline).await?;
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

    async fn wake_database(
        &self,
        r: &RegionClients,
        env: &Environment,
        db: &DatabaseState,
        deadline: Time,
        report: &mut ActionReport,
    ) -> Result<(), BackendError> {
        let t = self.waits.now();
        match (&db.power, db.status.as_str()) {
            (_, "stopping") => {
                return Err(BackendError::Refused(format!(
                    "{} is stopping; start it again once it is stopped",
                    db.id
                )));
            }
            (Power::Stopped, _) | (_, "stopped") => {
                r.rds
                    .start_db_cluster()
                    .db_cluster_identifier(&db.id)
                    .send()
                    .await
                    .map_err(|e| self.err("starting the cluster", e))?;
                report.steps.push(Step {
                    what: format!("started cluster {}", db.id),
                    seconds: self.waits.now() - t,
                });
                report
                    .left
                    .push("starting a stopped cluster takes several minutes".into());
                return Ok(());
            }
            (Power::Awake, _) => {
                report.steps.push(Step {
                    what: format!("database {} is already awake", db.id),
                    seconds: 0.0,
                });
                return Ok(());
            }
            _ => {}
        }
        if let DbMode::ServerlessV1 { min_acu, .. } = db.mode {
            r.rds
                .modify_current_db_cluster_capacity()
                .db_cluster_identifier(&db.id)
                .capacity(min_acu as i32)
                .send()
                .await
                .map_err(|e| self.err("resuming the v1 cluster", e))?;
            report.steps.push(Step {
                what: format!("asked {} (v1) to resume at {min_acu} ACU", db.id),
                seconds: self.waits.now() - t,
            });
            report
                .left
                .push("a v1 cluster takes about 30 s to resume".into());
            return Ok(());
        }
        match (&db.secret_arn, db.http_endpoint_enabled) {
            (Some(secret), true) => {
                // SELECT 1 through the Data API; the first calls are cancelled while the
                // writer resumes.
                loop {
                    let result = r
                        .rdsdata
                        .execute_statement()
                        .resource_arn(&db.arn)
                        .secret_arn(secret)
                        .sql("SELECT 1")
                        .send()
                        .await;
                    match result {
                        Ok(_) => break,
                        Err(e)
                            if e.as_service_error()
                                .is_some_and(|se| se.is_database_resuming_exception()) => {}
                        Err(e) => {
                            return Err(self.err("waking the database through the Data API", e));
                        }
                    }
                    if self.waits.now() >= deadline {
                        return Err(BackendError::Timeout(format!(
                            "{} was still resuming when the timeout passed",
                            db.id
                        )));
                    }
                    self.waits.sleep(3.0).await;
                }
                report.steps.push(Step {
                    what: format!("database {} answered SELECT 1 (Data API)", db.id),
                    seconds: self.waits.now() - t,
                });
            }
            _ => match env
                .service
                .as_ref()
                .filter(|s| s.status == ServiceStatus::Running)
                .and_then(|s| s.http_url())
            {
                Some(url) => {
                    // No Data API: a request to the app opens a connection, which wakes it.
                    self.wait_for_url(&url, deadline).await?;
                    report.steps.push(Step {
                        what: format!("woke {} by requesting {url}", db.id),
                        seconds: self.waits.now() - t,
                    });
                }
                None => {
                    return Err(BackendError::Refused(format!(
                        "can't wake {} from here: it has no Data API endpoint and secret (enable the HTTP endpoint, or set secret_arn in the config) and the service is not running",
                        db.id
                    )));
                }
            },
        }
        Ok(())
    }

    /// Requests `url` until it answers 2xx or the deadline passes.
    async fn wait_for_url(&self, url: &str, deadline: Time) -> Result<(), BackendError> {
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
                    r.apprunner
                        .pause_service()
                        .service_arn(&s.arn)
                        .send()
                        .await
                        .map_err(|e| self.err("pausing the service", e))?;
                    report.steps.push(Step {
                        what: format!("asked App Runner to pause {}", s.name),
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

    /// Stops the database cluster, and nothing else.
    pub async fn stop_database(&self, env: &Environment) -> Result<ActionReport, BackendError> {
        let r = self.region(&env.key.region)?;
        let db = env.database.as_ref().ok_or_else(|| {
            BackendError::Refused(format!("environment {} has no database", env.key.name))
        })?;
        if matches!(db.mode, DbMode::ServerlessV1 { .. }) {
            return Err(BackendError::Refused(format!(
                "{} is Aurora Serverless v1, which can't be stopped; it pauses by itself when idle",
                db.id
            )));
        }
        if db.status != "available" {
            return Err(BackendError::Refused(format!(
                "can't stop {}: it is {}",
                db.id, db.status
            )));
        }
        let t = self.waits.now();
        r.rds
            .stop_db_cluster()
            .db_cluster_identifier(&db.id)
            .send()
            .await
            .map_err(|e| self.err("stopping the cluster", e))?;
        Ok(ActionReport {
            env: Some(env.key.clone()),
            steps: vec![Step {
                what: format!("asked RDS to stop {}", db.id),
                seconds: self.waits.now() - t,
            }],
            left: vec![
                "stopping takes a few minutes; AWS starts a stopped cluster again after 7 days"
                    .into(),
            ],
        })
    }

    /// Starts a stopped database cluster, and nothing else.
    pub async fn start_database(&self, env: &Environment) -> Result<ActionReport, BackendError> {
        let r = self.region(&env.key.region)?;
        let db = env.database.as_ref().ok_or_else(|| {
            BackendError::Refused(format!("environment {} has no database", env.key.name))
        })?;
        if db.status != "stopped" {
            return Err(BackendError::Refused(format!(
                "can't start {}: it is {}",
                db.id, db.status
            )));
        }
        let t = self.waits.now();
        r.rds
            .start_db_cluster()
            .db_cluster_identifier(&db.id)
            .send()
            .await
            .map_err(|e| self.err("starting the cluster", e))?;
        Ok(ActionReport {
            env: Some(env.key.clone()),
            steps: vec![Step {
                what: format!("asked RDS to start {}", db.id),
                seconds: self.waits.now() - t,
            }],
            left: vec!["starting a stopped cluster takes several minutes".into()],
        })
    }
}
