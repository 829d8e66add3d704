//! The AWS implementation: aws-sdk clients per region, discovery, state and actions.

use super::compute::{self, ComputeKind, KindConfig};
use super::config::{Config, EnvMapping};
use super::convert::{self, sdk_error};
use super::server_clock::{ServerClockInterceptor, TimeSource};
use super::{BackendError, CredentialsKind};
use crate::clock::Clock;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_apprunner::config::{Credentials, Region};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many calls run at once against one region.
pub const FAN_OUT: usize = 64;

#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    pub profile: Option<String>,
    pub regions: Vec<String>,
    pub endpoint_url: Option<String>,
    /// A region's own endpoint, over `endpoint_url` (several local regions, one emulator
    /// each: tests and the refresh bench).
    pub region_endpoints: Vec<(String, String)>,
    /// Throwaway credentials for the demo region (never real ones).
    pub demo_credentials: bool,
    pub operation_timeout: Option<Duration>,
    /// Given credentials instead of AWS's default chain (tests' canary keys).
    pub credentials: Option<Credentials>,
    /// Where the AWS config and SSO cache are (default: the process environment).
    pub aws_files: crate::backend::profiles::AwsFiles,
}

#[derive(Clone)]
pub struct RegionClients {
    pub region: String,
    /// The account's label when several are connected at once ("" with one): the
    /// environments' keys carry it.
    pub account: String,
    /// The account's alias where known (SSO ListAccounts), for the read-only guard.
    pub account_name: Option<String>,
    /// Which accounts are read-only, with the profile these clients use.
    pub guard: crate::backend::guard::Guard,
    /// Every compute kind's client (App Runner, ...), see backend/compute.
    pub compute: Vec<Arc<dyn ComputeKind>>,
    pub ecr: aws_sdk_ecr::Client,
    pub rds: aws_sdk_rds::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub rdsdata: aws_sdk_rdsdata::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub scheduler: aws_sdk_scheduler::Client,
}

impl RegionClients {
    /// "account/region" with several accounts, the region alone with one: caches' key.
    pub fn id(&self) -> String {
        if self.account.is_empty() {
            self.region.clone()
        } else {
            format!("{}/{}", self.account, self.region)
        }
    }
}

/// A region's environments as one refresh found them, and when (server clock).
pub(super) type Refreshed = (f64, Vec<crate::model::Environment>);

#[derive(Clone)]
pub struct AwsBackend {
    pub(super) regions: Vec<RegionClients>,
    pub(super) mappings: Vec<EnvMapping>,
    /// Profiles that did not connect (several at once): every inventory reports them.
    pub(super) failed_accounts: Vec<super::ReadFailure>,
    pub(super) profile: Option<String>,
    pub(super) scheduler_settings: super::config::SchedulerSettings,
    credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
    /// The server's present: every window and age compared with AWS's data.
    pub(super) clock: Clock,
    /// Our own waits' timeouts and step durations: local monotonic time, or the in-process
    /// emulator's clock (so tests that advance it never sleep).
    pub(super) waits: Clock,
    pub(super) http: Option<reqwest::Client>,
    /// Each region's environments as the last refresh found them: the next refresh reads
    /// their details and metrics in the same wave as the listings.
    /// (With when that refresh ran: the age of a value kept as stale.)
    pub(super) previous: Arc<Mutex<HashMap<String, Refreshed>>>,
    /// Each region's last complete service listing, refreshed in the background.
    pub(super) listings: Arc<Mutex<HashMap<String, crate::backend::inventory::Listing>>>,
    /// Databases' two-week capacity history by cluster ARN, with when it was read.
    pub(super) older_capacity: Arc<Mutex<HashMap<String, (f64, crate::model::MetricSeries)>>>,
    /// Custom cluster parameter groups' max_connections by region/group, with when read.
    pub(super) parameter_groups:
        Arc<Mutex<HashMap<String, (f64, crate::backend::parameters::GroupRead)>>>,
    /// Each environment's month so far (dollars) by its key, with when it was read: hourly
    /// points change once an hour, so the sleep panel's refreshes reuse it for 10 minutes.
    pub(super) month_so_far: Arc<Mutex<HashMap<String, (f64, f64)>>>,
}

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
        if !options.aws_files.is_process() {
            loader = loader.env(options.aws_files.sdk_env());
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(c) = &options.credentials {
            loader = loader.credentials_provider(c.clone());
        } else if options.demo_credentials {
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
        let guard = crate::backend::guard::Guard {
            profile: profile.clone(),
            settings: config.accounts.clone(),
        };
        let clients = regions
            .iter()
            .map(|r| {
                let mut config = base.to_builder().region(Region::new(r.clone()));
                if let Some((_, url)) = options.region_endpoints.iter().find(|(at, _)| at == r) {
                    config = config.endpoint_url(url);
                }
                let config = config.build();
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
                    account: String::new(),
                    account_name: None,
                    guard: guard.clone(),
                    compute: compute::connect_all(&KindConfig {
                        sdk: config.clone(),
                        interceptor: interceptor.clone(),
                        profile: profile.clone(),
                    }),
                    ecr: client!(aws_sdk_ecr),
                    rds: client!(aws_sdk_rds),
                    cloudwatch: client!(aws_sdk_cloudwatch),
                    rdsdata: client!(aws_sdk_rdsdata),
                    logs: client!(aws_sdk_cloudwatchlogs),
                    scheduler: client!(aws_sdk_scheduler),
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
            failed_accounts: Vec::new(),
            scheduler_settings: config.scheduler,
            profile,
            credentials: base.credentials_provider(),
            clock,
            waits,
            http,
            previous: Arc::default(),
            older_capacity: Arc::default(),
            month_so_far: Arc::default(),
            parameter_groups: Arc::default(),
            listings: Arc::default(),
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
            let answer = r.rds.describe_db_clusters().max_records(20).send().await;
            if let Err(e) = answer {
                // Plain and without a credential process's output (it may hold secrets).
                tracing::debug!(error = %convert::plain_chain(&e), "clock sync call failed");
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

    /// Each connected account's regions: "region", or "account/region" with several
    /// accounts.
    pub fn region_ids(&self) -> Vec<String> {
        self.regions.iter().map(RegionClients::id).collect()
    }

    /// Each region's clients (with several accounts, a region may appear once each).
    pub fn region_clients(&self) -> &[RegionClients] {
        &self.regions
    }

    pub(super) fn err<E, R>(
        &self,
        context: &str,
        e: aws_sdk_apprunner::error::SdkError<E, R>,
    ) -> BackendError
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
                            // Plain words: the chain's Debug part is for matching only.
                            message: format!(
                                "could not load AWS credentials: {}",
                                convert::without_process_output(&convert::plain_chain(&e))
                            ),
                            hint: "Check your AWS profile (aws configure list), then try again."
                                .into(),
                        },
                    ),
                )
            }
        }
    }

    /// The compute kind that runs `s`.
    pub(super) fn compute<'a>(
        &self,
        r: &'a RegionClients,
        s: &crate::model::ServiceState,
    ) -> Result<&'a dyn ComputeKind, BackendError> {
        r.compute
            .iter()
            .find(|k| k.id() == s.kind)
            .map(|k| k.as_ref())
            .ok_or_else(|| {
                BackendError::Other(format!("no compute kind {:?} is connected", s.kind))
            })
    }

    pub(super) fn region(&self, name: &str) -> Result<&RegionClients, BackendError> {
        self.regions
            .iter()
            .find(|r| r.region == name)
            .ok_or_else(|| BackendError::NotFound(format!("region {name} is not configured")))
    }

    /// The clients of the account and region an environment lives in.
    pub(super) fn region_for(
        &self,
        key: &crate::model::EnvKey,
    ) -> Result<&RegionClients, BackendError> {
        self.regions
            .iter()
            .find(|r| r.region == key.region && r.account == key.account)
            .ok_or_else(|| BackendError::NotFound(format!("{key}: its region is not connected")))
    }

    /// The clients of the environments that `envs` start with, or of region `name`.
    pub(super) fn region_of(
        &self,
        name: &str,
        envs: &[&crate::model::Environment],
    ) -> Result<&RegionClients, BackendError> {
        match envs.first() {
            Some(e) => self.region_for(&e.key),
            None => self.region(name),
        }
    }

    /// By [`RegionClients::id`].
    pub(super) fn region_by_id(&self, id: &str) -> Result<&RegionClients, BackendError> {
        self.regions
            .iter()
            .find(|r| r.id() == id)
            .ok_or_else(|| BackendError::NotFound(format!("{id} is not connected")))
    }

    /// Several accounts as one backend: each member's regions, labelled with its
    /// account's label (and alias where known); the first member's clock, settings and
    /// error hints. `failed` are the profiles that did not connect. None without members.
    pub fn merge(
        members: Vec<(String, Option<String>, AwsBackend)>,
        failed: Vec<super::ReadFailure>,
    ) -> Option<AwsBackend> {
        let mut members = members.into_iter();
        let (label, name, mut merged) = members.next()?;
        for r in &mut merged.regions {
            r.account = label.clone();
            r.account_name = name.clone();
        }
        for (label, name, member) in members {
            merged
                .regions
                .extend(member.regions.into_iter().map(|mut r| {
                    r.account = label.clone();
                    r.account_name = name.clone();
                    r
                }));
        }
        merged.failed_accounts = failed;
        Some(merged)
    }

    /// How many accounts the regions belong to.
    pub fn accounts(&self) -> usize {
        let mut labels: Vec<&str> = self.regions.iter().map(|r| r.account.as_str()).collect();
        labels.sort_unstable();
        labels.dedup();
        labels.len()
    }
}
