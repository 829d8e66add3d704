//! An Aurora PostgreSQL cluster: status, the hidden paused state of its serverless
//! writer, connections and capacity (reference/aws.md sections 5, 6 and 13).

#[derive(Clone, Debug, PartialEq)]
pub enum DbMode {
    /// Aurora Serverless v2 (EngineMode provisioned, db.serverless); min 0 = auto-pause.
    ServerlessV2 {
        min: f64,
        max: f64,
        seconds_until_auto_pause: u32,
    },
    /// Aurora Serverless v1 (EngineMode serverless), the seed project's legacy mode.
    ServerlessV1 {
        min: u32,
        max: u32,
        auto_pause: bool,
        seconds_until_auto_pause: u32,
    },
    /// A provisioned writer such as db.t4g.medium: never pauses.
    Provisioned { instance_class: String },
}

/// The writer's hidden power state; AWS shows none of it in any status field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Power {
    Awake,
    Pausing { until: f64 },
    Paused { since: f64 },
    Resuming { until: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub enum ClusterStatus {
    Available,
    Stopping { until: f64 },
    Stopped,
    Starting { until: f64 },
}

impl ClusterStatus {
    pub fn as_aws(&self) -> &'static str {
        match self {
            ClusterStatus::Available => "available",
            ClusterStatus::Stopping { .. } => "stopping",
            ClusterStatus::Stopped => "stopped",
            ClusterStatus::Starting { .. } => "starting",
        }
    }
}

/// What, besides connections and MinCapacity, silently keeps a v2 writer from pausing
/// (reference/aws.md 6.2); each is visible through an RDS describe call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SleepBlockers {
    /// An RDS Proxy in front of the cluster (DescribeDBProxies / DescribeDBProxyTargets).
    pub proxy: Option<String>,
    /// rds.logical_replication = 1 in a custom cluster parameter group.
    pub logical_replication: bool,
    /// Membership in a global database (DescribeGlobalClusters).
    pub global_cluster: Option<String>,
    /// A zero-ETL integration from this cluster (DescribeIntegrations).
    pub zero_etl: Option<String>,
}

impl SleepBlockers {
    pub fn any(&self) -> bool {
        *self != SleepBlockers::default()
    }
}

#[derive(Clone, Debug, Default)]
pub struct ClusterMinute {
    pub peak_connections: u32,
    pub peak_capacity: f64,
    pub min_capacity: f64,
    pub busy_seconds: f64,
}

#[derive(Clone, Debug)]
pub struct Cluster {
    pub id: String,
    pub arn: String,
    pub resource_id: String,
    pub writer_id: String,
    pub writer_arn: String,
    pub writer_resource_id: String,
    pub engine_version: String,
    pub mode: DbMode,
    pub status: ClusterStatus,
    pub power: Power,
    pub capacity: f64,
    pub connections: u32,
    /// When the last user connection closed (None while any is open).
    pub idle_since: Option<f64>,
    /// After an admin-triggered wake Aurora waits at least 20 minutes before pausing.
    pub no_pause_until: f64,
    pub automatic_restart_time: Option<f64>,
    pub http_endpoint_enabled: bool,
    pub master_user_secret_arn: Option<String>,
    pub database_name: String,
    pub master_username: String,
    pub created_at: f64,
    pub tags: Vec<(String, String)>,
    /// Set like a parameter group would; otherwise derived from MaxCapacity.
    pub max_connections_override: Option<u32>,
    /// The PostgreSQL log goes to `/aws/rds/cluster/<id>/postgresql`.
    pub log_export: bool,
    pub minute: ClusterMinute,
    pub blockers: SleepBlockers,
}

/// Seconds a v2 writer takes to pause once it starts (unverified on AWS).
pub const V2_PAUSE_SECONDS: f64 = 20.0;
/// Connections PostgreSQL keeps for superusers (superuser_reserved_connections).
pub const RESERVED_CONNECTIONS: u32 = 3;

impl Cluster {
    pub fn is_serverless(&self) -> bool {
        !matches!(self.mode, DbMode::Provisioned { .. })
    }

    pub fn is_v1(&self) -> bool {
        matches!(self.mode, DbMode::ServerlessV1 { .. })
    }

    pub fn paused(&self) -> bool {
        matches!(self.power, Power::Paused { .. })
    }

    /// PostgreSQL's max_connections: a parameter-group value if the world sets one,
    /// otherwise AWS's default, by the same function the UI and CLI show.
    pub fn max_connections(&self) -> u32 {
        if let Some(n) = self.max_connections_override {
            return n;
        }
        crate::model::max_connections(&self.model_mode(), Some(self.capacity))
    }

    /// This cluster's mode as the domain model describes it.
    pub fn model_mode(&self) -> crate::model::DbMode {
        use crate::model::DbMode as M;
        match &self.mode {
            DbMode::ServerlessV2 {
                min,
                max,
                seconds_until_auto_pause,
            } => M::ServerlessV2 {
                min_acu: *min,
                max_acu: *max,
                seconds_until_auto_pause: (*min == 0.0).then_some(*seconds_until_auto_pause),
            },
            DbMode::ServerlessV1 {
                min,
                max,
                auto_pause,
                seconds_until_auto_pause,
            } => M::ServerlessV1 {
                min_acu: *min,
                max_acu: *max,
                auto_pause: *auto_pause,
                seconds_until_auto_pause: Some(*seconds_until_auto_pause),
            },
            DbMode::Provisioned { instance_class } => M::Provisioned {
                instance_class: instance_class.clone(),
            },
        }
    }

    pub fn usable_connections(&self) -> u32 {
        self.max_connections().saturating_sub(RESERVED_CONNECTIONS)
    }

    pub fn max_capacity(&self) -> f64 {
        match &self.mode {
            DbMode::ServerlessV2 { max, .. } => *max,
            DbMode::ServerlessV1 { max, .. } => *max as f64,
            DbMode::Provisioned { .. } => 0.0,
        }
    }

    /// Capacity an awake serverless writer settles at for its load.
    pub fn target_capacity(&self) -> f64 {
        match &self.mode {
            DbMode::ServerlessV2 { min, max, .. } => {
                let want = 0.5 + self.connections as f64 * 0.05;
                (want * 2.0).ceil() / 2.0
            }
            .clamp(min.max(0.5), *max),
            DbMode::ServerlessV1 { min, max, .. } => {
                let mut acu = *min;
                while acu < *max && self.connections as f64 > acu as f64 * 20.0 {
                    acu *= 2;
                }
                acu.min(*max) as f64
            }
            DbMode::Provisioned { .. } => 0.0,
        }
    }

    /// When the writer would start pausing, if nothing keeps it awake.
    pub fn auto_pause_at(&self) -> Option<f64> {
        if self.status != ClusterStatus::Available
            || self.power != Power::Awake
            || self.blockers.any()
        {
            return None;
        }
        let idle_since = self.idle_since?;
        let seconds = match &self.mode {
            DbMode::ServerlessV2 {
                min,
                seconds_until_auto_pause,
                ..
            } if *min == 0.0 => *seconds_until_auto_pause,
            DbMode::ServerlessV1 {
                auto_pause: true,
                seconds_until_auto_pause,
                ..
            } => *seconds_until_auto_pause,
            _ => return None,
        };
        Some((idle_since + seconds as f64).max(self.no_pause_until))
    }

    pub fn next_transition(&self) -> Option<f64> {
        let mut times = Vec::with_capacity(4);
        match self.status {
            ClusterStatus::Stopping { until } | ClusterStatus::Starting { until } => {
                times.push(until)
            }
            ClusterStatus::Stopped => times.extend(self.automatic_restart_time),
            ClusterStatus::Available => {}
        }
        match self.power {
            Power::Pausing { until } | Power::Resuming { until } => times.push(until),
            Power::Awake => times.extend(self.auto_pause_at()),
            Power::Paused { .. } => {}
        }
        times.into_iter().reduce(f64::min)
    }

    /// The writer's capacity as CloudWatch reports it now.
    pub fn reported_capacity(&self) -> f64 {
        match (self.status.clone(), self.power) {
            (ClusterStatus::Available, Power::Paused { .. }) => 0.0,
            (ClusterStatus::Available, _) => self.capacity,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_max_connections_follow_the_table() {
        let mut c = crate::emulator::seed::test_cluster("c");
        c.mode = DbMode::ServerlessV2 {
            min: 0.0,
            max: 4.0,
            seconds_until_auto_pause: 300,
        };
        assert_eq!(c.max_connections(), 823);
        c.mode = DbMode::ServerlessV2 {
            min: 0.0,
            max: 64.0,
            seconds_until_auto_pause: 300,
        };
        assert_eq!(c.max_connections(), 2000, "capped with min 0");
        c.mode = DbMode::ServerlessV2 {
            min: 1.0,
            max: 64.0,
            seconds_until_auto_pause: 300,
        };
        assert_eq!(c.max_connections(), 5000);
    }
}
