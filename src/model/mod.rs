//! Domain types: what an environment is and what state it is in. No I/O and no SDK
//! types here; the backend turns AWS's answers into these.

pub mod blockers;
pub mod cost;
pub mod diagnose;
pub mod logs;
pub mod plan;
pub mod plan_cost;
pub mod schedule_expr;

use serde::Serialize;

mod knowledge;
#[cfg(test)]
pub(crate) mod test_support;
pub use knowledge::{FailureKind, Part, Unread};

/// Epoch seconds.
pub type Time = f64;

/// An environment's identity: its name, the region it lives in, and with several
/// accounts at once, the account's label (alias or id; empty with one account).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct EnvKey {
    pub region: String,
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account: String,
}

impl EnvKey {
    pub fn new(region: &str, name: &str) -> EnvKey {
        EnvKey {
            region: region.to_string(),
            name: name.to_string(),
            account: String::new(),
        }
    }
}

impl std::fmt::Display for EnvKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.account.is_empty() {
            write!(f, "{}/", self.account)?;
        }
        write!(f, "{}/{}", self.region, self.name)
    }
}

/// How an environment's parts were found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Discovery {
    /// `scale0:env` tags.
    Tags,
    /// The seed's names: service `scale0-<env>`, cluster `scale0<env>`.
    Naming,
    /// An explicit mapping in the config file.
    Config,
    /// A resource that matched nothing, listed on its own.
    Unpaired,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Environment {
    pub key: EnvKey,
    pub owner: Option<String>,
    pub discovery: Discovery,
    pub service: Option<ServiceState>,
    pub database: Option<DatabaseState>,
    pub image: Option<ImageState>,
    /// Why mutating actions are refused here (a read-only account), if they are.
    pub read_only: Option<String>,
    /// Parts whose last read failed: each is unknown (no value) or stale (the last known
    /// value, kept above), never absent.
    pub unread: Vec<Unread>,
}

impl Environment {
    /// Why `part` is not known now, if it is not.
    pub fn unread(&self, part: Part) -> Option<&Unread> {
        self.unread.iter().find(|u| u.part == part)
    }

    /// "unknown (throttled)" or "stale 3 min (throttled)" for a part that failed to read.
    fn unread_note(&self, part: Part, now: Time) -> Option<String> {
        let u = self.unread(part)?;
        Some(match u.last_read {
            Some(t) => format!("stale {} ({})", human_duration(now - t), u.kind.label()),
            None => format!("unknown ({})", u.kind.label()),
        })
    }

    /// The AWS account it lives in, from its resources' ARNs
    /// (`arn:aws:service:region:account:...`).
    pub fn account(&self) -> Option<&str> {
        let arn = self
            .service
            .as_ref()
            .map(|s| s.arn.as_str())
            .or(self.database.as_ref().map(|d| d.arn.as_str()))?;
        arn.split(':').nth(4).filter(|a| !a.is_empty())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceStatus {
    Running,
    Paused,
    OperationInProgress,
    CreateFailed,
    DeleteFailed,
    Deleted,
    #[serde(untagged)]
    Other(String),
}

impl ServiceStatus {
    pub fn parse(s: &str) -> ServiceStatus {
        match s {
            "RUNNING" => ServiceStatus::Running,
            "PAUSED" => ServiceStatus::Paused,
            "OPERATION_IN_PROGRESS" => ServiceStatus::OperationInProgress,
            "CREATE_FAILED" => ServiceStatus::CreateFailed,
            "DELETE_FAILED" => ServiceStatus::DeleteFailed,
            "DELETED" => ServiceStatus::Deleted,
            other => ServiceStatus::Other(other.to_string()),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            ServiceStatus::Running => "running",
            ServiceStatus::Paused => "paused",
            ServiceStatus::OperationInProgress => "operation in progress",
            ServiceStatus::CreateFailed => "create failed",
            ServiceStatus::DeleteFailed => "delete failed",
            ServiceStatus::Deleted => "deleted",
            ServiceStatus::Other(s) => s,
        }
    }
}

/// An App Runner operation (ListOperations).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Operation {
    pub id: String,
    /// START_DEPLOYMENT, UPDATE_SERVICE, PAUSE_SERVICE, RESUME_SERVICE, ...
    pub kind: String,
    /// IN_PROGRESS, SUCCEEDED, FAILED, ROLLBACK_SUCCEEDED, ...
    pub status: String,
    pub started_at: Option<Time>,
    pub ended_at: Option<Time>,
    /// Why it ended as it did, where the kind says (ECS: the rollback alarm's name).
    pub reason: Option<String>,
}

impl Operation {
    pub fn in_flight(&self) -> bool {
        matches!(
            self.status.as_str(),
            "PENDING"
                | "IN_PROGRESS"
                | "ROLLBACK_IN_PROGRESS"
                | "ROLLBACK_REQUESTED"
                | "STOP_REQUESTED"
        )
    }
}

/// What a compute kind says about one of its services beyond the common fields.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct KindFacts {
    /// The kind's word for a paused service ("scaled to zero"); None: "paused".
    pub paused_word: Option<&'static str>,
    /// The one thing a user must know about this kind, for the environment view.
    pub difference: Option<&'static str>,
    /// Something wrong with the service's managed parts (its load balancer is gone, a
    /// deployment is stuck), with what to do.
    pub warning: Option<String>,
    /// The warning means no request can reach the app (ECS's load balancer is gone), so
    /// waiting for an answer is pointless.
    pub cut_off: bool,
    /// The kind's own ids its metrics are filed under (cluster, load balancer...).
    pub ids: Vec<(String, String)>,
    /// A rollback during a deployment cancels it (ECS: StopServiceDeployment).
    pub cancels_by_rollback: bool,
    /// The service's own log group, where the kind names one (ECS Express's managed one).
    pub log_group: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scaling {
    /// Requests per instance before another starts; 0 for kinds that do not scale on
    /// concurrency (ECS Express tracks CPU or requests per task).
    pub max_concurrency: u32,
    pub min_size: u32,
    pub max_size: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceState {
    pub name: String,
    pub arn: String,
    pub id: String,
    /// As AWS gives it: host[:port], no scheme.
    pub url: Option<String>,
    pub status: ServiceStatus,
    /// The newest operation still running, if any.
    pub operation: Option<Operation>,
    /// The most recent operations, newest first.
    pub recent_operations: Vec<Operation>,
    pub image_identifier: Option<String>,
    pub auto_deployments: bool,
    pub scaling: Option<Scaling>,
    /// vCPU and GB, parsed from App Runner's Cpu/Memory strings.
    pub vcpu: f64,
    pub memory_gb: f64,
    pub active_instances: Option<f64>,
    pub tags: Vec<(String, String)>,
    /// The compute kind's id ("apprunner") and its name for people ("App Runner").
    pub kind: &'static str,
    pub kind_label: &'static str,
    /// The service's page in the AWS console, where the kind has one.
    pub console_url: Option<String>,
    /// What its kind charges.
    pub prices: cost::ComputePrices,
    pub facts: KindFacts,
}

impl ServiceState {
    /// The URL to request: https on AWS, http for loopback emulators.
    pub fn http_url(&self) -> Option<String> {
        let url = self.url.as_deref()?;
        let host = url.split(':').next().unwrap_or(url);
        let scheme = if host == "127.0.0.1" || host == "localhost" {
            "http"
        } else {
            "https"
        };
        Some(format!("{scheme}://{url}/"))
    }

    /// The status in the kind's words.
    pub fn status_label(&self) -> &str {
        match (&self.status, self.facts.paused_word) {
            (ServiceStatus::Paused, Some(word)) => word,
            (status, _) => status.label(),
        }
    }

    pub fn provisioned_instances(&self) -> u32 {
        match (&self.status, &self.scaling) {
            (ServiceStatus::Paused, _) => 0,
            (_, Some(s)) => s
                .min_size
                .max(self.active_instances.unwrap_or(0.0).ceil() as u32),
            (_, None) => 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DbMode {
    ServerlessV2 {
        min_acu: f64,
        max_acu: f64,
        /// Present only while auto-pause is on (MinCapacity 0).
        seconds_until_auto_pause: Option<u32>,
    },
    ServerlessV1 {
        min_acu: u32,
        max_acu: u32,
        auto_pause: bool,
        seconds_until_auto_pause: Option<u32>,
    },
    Provisioned {
        instance_class: String,
    },
}

impl DbMode {
    pub fn label(&self) -> &'static str {
        match self {
            DbMode::ServerlessV2 { .. } => "serverless v2",
            DbMode::ServerlessV1 { .. } => "serverless v1 (legacy)",
            DbMode::Provisioned { .. } => "provisioned",
        }
    }

    pub fn max_acu(&self) -> Option<f64> {
        match self {
            DbMode::ServerlessV2 { max_acu, .. } => Some(*max_acu),
            DbMode::ServerlessV1 { max_acu, .. } => Some(*max_acu as f64),
            DbMode::Provisioned { .. } => None,
        }
    }

    pub fn auto_pause_seconds(&self) -> Option<u32> {
        match self {
            DbMode::ServerlessV2 {
                min_acu,
                seconds_until_auto_pause,
                ..
            } if *min_acu == 0.0 => Some(seconds_until_auto_pause.unwrap_or(300)),
            DbMode::ServerlessV1 {
                auto_pause: true,
                seconds_until_auto_pause,
                ..
            } => Some(seconds_until_auto_pause.unwrap_or(300)),
            _ => None,
        }
    }
}

/// Whether the writer is paused: AWS shows it in no status field, so it is derived from
/// capacity metrics and the pause/resume events (reference section 6).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Power {
    Awake,
    Paused {
        since: Option<Time>,
    },
    Resuming {
        since: Option<Time>,
    },
    Stopped,
    /// Starting, stopping, modifying...: the cluster status says it.
    Transitioning,
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatabaseState {
    pub id: String,
    pub arn: String,
    /// The cluster status as RDS gives it (available, stopped, starting, ...).
    pub status: String,
    pub mode: DbMode,
    pub engine_version: String,
    pub power: Power,
    /// Current capacity in ACU, where known (v1: Capacity; v2: the latest metric).
    pub capacity: Option<f64>,
    pub connections: Option<f64>,
    pub writer_id: Option<String>,
    pub http_endpoint_enabled: bool,
    pub secret_arn: Option<String>,
    pub automatic_restart_time: Option<Time>,
    /// When it will pause if nothing connects, where that can be known.
    pub auto_pause_at: Option<Time>,
    pub tags: Vec<(String, String)>,
    /// max_connections as the cluster's parameter group sets it.
    pub max_connections_setting: ParameterSetting,
}

/// What a cluster's parameter group says about a setting, read without waking the
/// database (DescribeDBClusterParameters is a control-plane call).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum ParameterSetting {
    /// The engine's default group, or a custom group that keeps the default rule.
    Default,
    /// Set in a custom group.
    Set { value: u32, group: String },
    /// A custom group not read (yet), or whose read failed: the default may not hold.
    Unknown {
        group: String,
        error: Option<String>,
    },
}

impl ParameterSetting {
    /// What a cluster's group name alone tells: default groups cannot be changed.
    pub fn from_group(group: Option<&str>) -> ParameterSetting {
        match group {
            Some(g) if !g.starts_with("default.") => ParameterSetting::Unknown {
                group: g.to_string(),
                error: None,
            },
            _ => ParameterSetting::Default,
        }
    }
}

impl DatabaseState {
    /// PostgreSQL's max_connections: the parameter group's value where the team set one,
    /// otherwise AWS's default rule ([`max_connections`]; asking the database would wake it).
    pub fn max_connections(&self) -> u32 {
        match &self.max_connections_setting {
            ParameterSetting::Set { value, .. } => *value,
            _ => max_connections(&self.mode, self.capacity),
        }
    }

    /// [`DatabaseState::max_connections`] with where it comes from, for people.
    pub fn max_connections_label(&self) -> String {
        let n = self.max_connections();
        match &self.max_connections_setting {
            ParameterSetting::Set { group, .. } => format!("{n} max_connections (set in {group})"),
            ParameterSetting::Default => format!("~{n} max_connections (AWS default)"),
            ParameterSetting::Unknown { group, error } => format!(
                "~{n} max_connections? ({group} {})",
                if error.is_some() {
                    "unreadable"
                } else {
                    "not read yet"
                }
            ),
        }
    }
}

/// PostgreSQL's default max_connections for an Aurora cluster: the one rule both the
/// emulator (which enforces it) and the UI and CLI (which show it) use.
///
/// - v2: fixed by MaxCapacity (reference/aws.md section 8's table, interpolated), capped
///   at 2,000 when MinCapacity is 0 or 0.5.
/// - v1: follows the current capacity (`current_acu`; the minimum while paused or unknown)
///   by the only v1 figures AWS publishes (reference/aws.md section 8: 1 ACU 90, 2 ACU 180,
///   4 ACU 270, 8 ACU 1,000, ... 256 ACU 6,000), read at PostgreSQL's capacity steps and
///   capped at PostgreSQL's 5,000. AWS's example is Aurora MySQL's and no PostgreSQL v1
///   table is published; the reference's PostgreSQL estimate (400-450 at 2 ACU) is
///   unverified, so the published figures stand, the lower (warn-earlier) side.
/// - provisioned: LEAST(memory / 9531392, 5000) by instance class.
pub fn max_connections(mode: &DbMode, current_acu: Option<f64>) -> u32 {
    match mode {
        DbMode::ServerlessV2 {
            min_acu, max_acu, ..
        } => {
            let table = [
                (1.0, 189.0),
                (4.0, 823.0),
                (8.0, 1669.0),
                (16.0, 3360.0),
                (32.0, 5000.0),
            ];
            let mut n = if *max_acu <= 1.0 {
                189.0 * max_acu.max(0.5)
            } else if *max_acu >= 32.0 {
                5000.0
            } else {
                table
                    .windows(2)
                    .find(|w| *max_acu <= w[1].0)
                    .map(|w| w[0].1 + (w[1].1 - w[0].1) * (max_acu - w[0].0) / (w[1].0 - w[0].0))
                    .unwrap_or(5000.0)
            };
            if *min_acu <= 0.5 {
                n = n.min(2000.0);
            }
            n as u32
        }
        DbMode::ServerlessV1 { min_acu, .. } => {
            let acu = current_acu
                .filter(|c| *c > 0.0)
                .unwrap_or(*min_acu as f64)
                .max(*min_acu as f64);
            // (ACU, max_connections): the published v1 table at PostgreSQL's steps.
            let steps = [
                (2.0, 180),
                (4.0, 270),
                (8.0, 1000),
                (16.0, 2000),
                (32.0, 3000),
                (64.0, 4000),
                (192.0, 5000),
                (384.0, 5000),
            ];
            steps
                .iter()
                .rev()
                .find(|(at, _)| acu >= *at)
                .map_or(180, |(_, n)| *n)
        }
        DbMode::Provisioned { instance_class } => match instance_class.as_str() {
            "db.t3.medium" => 420,
            "db.t4g.medium" => 405,
            "db.r6g.large" => 1722,
            "db.r5.large" => 1600,
            "db.r6g.xlarge" => 3479,
            _ => 5000,
        },
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Image {
    pub digest: String,
    pub tags: Vec<String>,
    pub pushed_at: Option<Time>,
    pub size_bytes: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImageState {
    pub repository: String,
    /// The tag the service is configured with (or None when pinned to a digest).
    pub tag: Option<String>,
    /// The digest behind the configured tag or digest now.
    pub digest: Option<String>,
    pub pushed_at: Option<Time>,
    /// The configured tag moved after the last successful deployment: a newer image is
    /// waiting to be deployed.
    pub newer_waiting: bool,
}

/// One entry of the environment's timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    pub time: Time,
    /// "service" or "database".
    pub source: &'static str,
    pub message: String,
}

/// A series of 1-minute points; a missing minute is a gap, not a zero.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MetricSeries {
    pub points: Vec<(Time, f64)>,
}

impl MetricSeries {
    pub fn last(&self) -> Option<(Time, f64)> {
        self.points.last().copied()
    }
}

/// The dashboard's series for one environment.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EnvMetrics {
    pub active_instances: MetricSeries,
    pub concurrency: MetricSeries,
    pub requests: MetricSeries,
    pub status_2xx: MetricSeries,
    pub status_4xx: MetricSeries,
    pub status_5xx: MetricSeries,
    pub latency_p50: MetricSeries,
    pub latency_p99: MetricSeries,
    pub capacity: MetricSeries,
    pub acu_utilization: MetricSeries,
    pub connections: MetricSeries,
    /// The service's CPU, percent, where its kind reports it (ECS).
    pub cpu: MetricSeries,
}

/// "3 min", "2 h 5 min", "4 d 2 h": a duration the way a person reads it.
pub fn human_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=86399 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86400, (s % 86400) / 3600),
    }
}

impl Environment {
    /// The app's state in a word or two.
    pub fn app_phrase(&self) -> String {
        match &self.service {
            None => "no app".into(),
            Some(s) => match (&s.status, &s.operation) {
                (ServiceStatus::OperationInProgress, Some(o)) => match o.kind.as_str() {
                    "UPDATE_SERVICE" | "START_DEPLOYMENT" => "app deploying".into(),
                    "PAUSE_SERVICE" => "app pausing".into(),
                    "RESUME_SERVICE" => "app resuming".into(),
                    other => format!("app {}", other.to_ascii_lowercase().replace('_', " ")),
                },
                (ServiceStatus::OperationInProgress, None) => "app in maintenance".into(),
                (_, _) => format!("app {}", s.status_label()),
            },
        }
    }

    /// The database's state in a few words: "db paused 12 min", "db awake 2 ACU".
    pub fn db_phrase(&self, now: Time) -> String {
        let Some(db) = &self.database else {
            return "no db".into();
        };
        match &db.power {
            Power::Paused { since: Some(t) } => format!("db paused {}", human_duration(now - t)),
            Power::Paused { since: None } => "db paused".into(),
            Power::Resuming { .. } => "db waking".into(),
            Power::Stopped => "db stopped".into(),
            Power::Transitioning => format!("db {}", db.status),
            Power::Awake | Power::Unknown => match db.capacity {
                Some(c) if !matches!(db.mode, DbMode::Provisioned { .. }) => {
                    format!("db awake {c} ACU")
                }
                _ => "db awake".into(),
            },
        }
    }

    /// The image in a few words: "image :dev (newer :dev pushed)".
    pub fn image_phrase(&self) -> String {
        match &self.image {
            None => "no image".into(),
            Some(i) => {
                let reference = match (&i.tag, &i.digest) {
                    (Some(t), _) => format!(":{t}"),
                    (None, Some(d)) => format!("@{}", short_digest(d)),
                    (None, None) => "?".into(),
                };
                if i.newer_waiting {
                    format!("image {reference} (newer {reference} pushed)")
                } else {
                    format!("image {reference}")
                }
            }
        }
    }

    /// One part in a few words, marked when its read failed: "app unknown (throttled)",
    /// "app running, stale 3 min (throttled)"; never a guess.
    pub fn phrase(&self, part: Part, now: Time) -> String {
        let (known, phrase, word) = match part {
            Part::Service => (self.service.is_some(), self.app_phrase(), "app"),
            Part::Database => (self.database.is_some(), self.db_phrase(now), "db"),
            Part::Image => (self.image.is_some(), self.image_phrase(), "image"),
            Part::Metrics => (true, String::new(), "metrics"),
        };
        let mut out = match self.unread_note(part, now) {
            Some(note) if known => format!("{phrase}, {note}"),
            Some(note) => format!("{word} {note}"),
            None => phrase,
        };
        if part == Part::Database
            && known
            && self.unread(Part::Database).is_none()
            && let Some(note) = self.unread_note(Part::Metrics, now)
        {
            // The paused state comes from metrics: without them it is a guess.
            out = format!("{out}, metrics {note}");
        }
        out
    }

    /// "app running - db paused 12 min - image :dev (newer :dev pushed)", each part
    /// marked when it could not be read, and "kept awake by dave until 17:30" while a
    /// keep-awake (read from tags) runs.
    pub fn summary(&self, now: Time) -> String {
        let keep = match plan::keep_awake_phrase(self, now) {
            p if p.is_empty() => p,
            p => format!(" - {p}"),
        };
        format!(
            "{} - {} - {}{keep}",
            self.phrase(Part::Service, now),
            self.phrase(Part::Database, now),
            self.phrase(Part::Image, now)
        )
    }
}

/// `sha256:0123456789ab` (12 hex digits), as docker shows digests.
pub fn short_digest(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("sha256:{}", &hex[..hex.len().min(12)])
}
