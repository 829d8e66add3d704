//! Building worlds: environments from a spec (for tests, world files and the demo), and
//! the demo world, whose history comes from running the world's own rules.
//!
//! Names follow the seed project: service `scale0-<env>`, cluster `scale0<env>`, ECR
//! repository `scale0` with a tag per environment.

mod demo;
mod express;
mod history;

pub use demo::demo;
pub use express::{SCALING_TAG, add_named_service};

use super::world::cluster::{Cluster, ClusterStatus, DbMode, Power};
use super::world::service::{
    AppServer, AppSettings, AutoScaling, Operation, OperationStatus, OperationType, Service,
    ServiceMinute, ServiceStatus,
};
use super::world::{Image, Repository, World};
use rand::RngExt;

pub const REPOSITORY: &str = "scale0";

#[derive(Clone, Debug)]
pub struct ServiceSpec {
    pub paused: bool,
    pub app_server: AppServer,
    /// Django's DEBUG.
    pub debug: bool,
    /// Django's CONN_MAX_AGE in seconds (0 closes after each request).
    pub conn_max_age: u32,
    /// vCPUs per instance (App Runner's default is 1 vCPU / 2 GB).
    pub vcpu: f64,
    pub max_concurrency: u32,
    pub min_size: u32,
    pub max_size: u32,
    pub auto_deployments: bool,
    /// Runs as an ECS Express Mode service (min_size/max_size are its task counts)
    /// instead of on App Runner.
    pub express: bool,
}

impl Default for ServiceSpec {
    fn default() -> Self {
        ServiceSpec {
            paused: false,
            app_server: AppServer::Gunicorn {
                workers: 2,
                threads: 4,
            },
            debug: false,
            conn_max_age: 600,
            vcpu: 1.0,
            max_concurrency: 100,
            min_size: 1,
            max_size: 25,
            auto_deployments: true,
            express: false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ClusterSpec {
    pub mode: DbMode,
    pub paused: bool,
    pub stopped: bool,
    pub http_endpoint: bool,
    pub managed_secret: bool,
    pub max_connections: Option<u32>,
    pub engine_version: String,
    /// The PostgreSQL log exported to CloudWatch Logs (EnabledCloudwatchLogsExports).
    pub log_export: bool,
}

impl ClusterSpec {
    /// Aurora Serverless v2 with auto-pause after 300 s.
    pub fn v2(min: f64, max: f64) -> ClusterSpec {
        ClusterSpec {
            mode: DbMode::ServerlessV2 {
                min,
                max,
                seconds_until_auto_pause: 300,
            },
            paused: false,
            stopped: false,
            http_endpoint: true,
            managed_secret: true,
            max_connections: None,
            log_export: false,
            engine_version: "16.4".into(),
        }
    }

    /// The seed project's Aurora Serverless v1 cluster (2..4 ACU, pause after 300 s).
    pub fn v1() -> ClusterSpec {
        ClusterSpec {
            mode: DbMode::ServerlessV1 {
                min: 2,
                max: 4,
                auto_pause: true,
                seconds_until_auto_pause: 300,
            },
            paused: false,
            stopped: false,
            http_endpoint: false,
            managed_secret: false,
            max_connections: None,
            log_export: false,
            engine_version: "13.9".into(),
        }
    }

    pub fn provisioned(instance_class: &str) -> ClusterSpec {
        ClusterSpec {
            mode: DbMode::Provisioned {
                instance_class: instance_class.into(),
            },
            paused: false,
            stopped: false,
            http_endpoint: false,
            managed_secret: true,
            max_connections: None,
            log_export: false,
            engine_version: "16.4".into(),
        }
    }
}

/// One developer's environment: any part may be missing (unpaired resources).
#[derive(Clone, Debug)]
pub struct EnvSpec {
    pub env: String,
    pub owner: Option<String>,
    /// Whether the resources carry `scale0:env` / `scale0:owner` tags.
    pub tagged: bool,
    pub service: Option<ServiceSpec>,
    pub cluster: Option<ClusterSpec>,
}

impl EnvSpec {
    pub fn new(env: &str, owner: &str) -> EnvSpec {
        EnvSpec {
            env: env.into(),
            owner: Some(owner.into()),
            tagged: true,
            service: Some(ServiceSpec::default()),
            cluster: Some(ClusterSpec::v2(0.0, 4.0)),
        }
    }
}

pub(super) fn digest(world: &mut World) -> String {
    format!("sha256:{}", world.random_hex(64))
}

/// Pushes an image with `tag` to the seed's repository (tests, admin routes).
pub fn push_tag(world: &mut World, tag: &str, pushed_at: f64) -> String {
    ensure_image(world, tag, pushed_at)
}

/// Pushes an image with `tag` unless the tag exists; returns its digest.
pub(super) fn ensure_image(world: &mut World, tag: &str, pushed_at: f64) -> String {
    if world.repositories.iter().all(|r| r.name != REPOSITORY) {
        world.repositories.push(Repository {
            name: REPOSITORY.into(),
            created_at: pushed_at - 90.0 * 86400.0,
            images: Vec::new(),
        });
    }
    let existing = world
        .repositories
        .iter()
        .flat_map(|r| r.images.iter())
        .find(|i| i.tags.iter().any(|t| t == tag))
        .map(|i| i.digest.clone());
    if let Some(d) = existing {
        return d;
    }
    let d = digest(world);
    let size = world.rng.random_range(170_000_000..200_000_000);
    if let Some(repo) = world.repositories.iter_mut().find(|r| r.name == REPOSITORY) {
        repo.images.push(Image {
            digest: d.clone(),
            tags: vec![tag.to_string()],
            size_bytes: size,
            pushed_at,
        });
    }
    d
}

/// Adds an environment's resources; returns the new service's index, if it has one.
pub fn add_environment(world: &mut World, spec: &EnvSpec, now: f64) -> Option<usize> {
    let mut tags = Vec::new();
    if spec.tagged {
        tags.push(("scale0:env".to_string(), spec.env.clone()));
        if let Some(owner) = &spec.owner {
            tags.push(("scale0:owner".to_string(), owner.clone()));
        }
    }
    let cluster_id = format!(
        "scale0{}",
        spec.env
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase()
    );
    if let Some(c) = &spec.cluster {
        let cluster = new_cluster(world, &cluster_id, c, tags.clone(), now);
        world.clusters.push(cluster);
    }
    let s = spec.service.as_ref()?;
    let name = format!("scale0-{}", spec.env);
    let digest = ensure_image(world, &spec.env, now - 86400.0);
    let id = world.random_hex(32);
    let region = world.region.clone();
    let account = world.account.clone();
    let default_scaling = s.max_concurrency == 100 && s.min_size == 1 && s.max_size == 25;
    let autoscaling_arn = if default_scaling {
        let arn = format!(
            "arn:aws:apprunner:{region}:{account}:autoscalingconfiguration/DefaultConfiguration/1/00000000000000000000000000000001"
        );
        if world.autoscaling.iter().all(|a| a.arn != arn) {
            world.autoscaling.push(AutoScaling {
                arn: arn.clone(),
                name: "DefaultConfiguration".into(),
                revision: 1,
                max_concurrency: 100,
                min_size: 1,
                max_size: 25,
                created_at: now - 365.0 * 86400.0,
                is_default: true,
            });
        }
        arn
    } else {
        let config_name = format!("{name}-scaling");
        let suffix = world.random_hex(32);
        let arn = format!(
            "arn:aws:apprunner:{region}:{account}:autoscalingconfiguration/{config_name}/1/{suffix}"
        );
        world.autoscaling.push(AutoScaling {
            arn: arn.clone(),
            name: config_name,
            revision: 1,
            max_concurrency: s.max_concurrency,
            min_size: s.min_size,
            max_size: s.max_size,
            created_at: now - 30.0 * 86400.0,
            is_default: false,
        });
        arn
    };
    let created_at = now - 30.0 * 86400.0;
    let image_identifier = format!("{}:{}", world.ecr_uri(REPOSITORY), spec.env);
    let create_op = world.uuid();
    world.services.push(Service {
        arn: format!("arn:aws:apprunner:{region}:{account}:service/{name}/{id}"),
        name,
        id,
        port: 0,
        status: if s.paused {
            ServiceStatus::Paused
        } else {
            ServiceStatus::Running
        },
        image_identifier,
        auto_deployments: s.auto_deployments,
        cpu: format!("{}", (s.vcpu * 1024.0).round() as u32),
        memory: "2048".into(),
        autoscaling_arn,
        tags,
        operations: vec![Operation {
            id: create_op,
            kind: OperationType::CreateService,
            status: OperationStatus::Succeeded,
            started_at: created_at,
            ended_at: Some(created_at + 300.0),
            updated_at: created_at + 300.0,
        }],
        pending: None,
        created_at,
        updated_at: created_at + 300.0,
        app: AppSettings {
            server: s.app_server,
            debug: s.debug,
            conn_max_age: s.conn_max_age,
        },
        vcpus: s.vcpu,
        ready_instances: s.min_size,
        wanted_instances: 0,
        scale_out_at: None,
        cluster: spec.cluster.as_ref().map(|_| cluster_id),
        deployed_digest: Some(digest),
        fail_next_deploy: false,
        concurrency: 0,
        active_instances: 0,
        last_request_at: now - 3600.0,
        minute: ServiceMinute::default(),
        instance_ids: Vec::new(),
        express: None,
    });
    let index = world.services.len() - 1;
    if s.express {
        express::make_express(world, index, s, now);
    }
    Some(index)
}

pub(super) fn new_cluster(
    world: &mut World,
    id: &str,
    spec: &ClusterSpec,
    tags: Vec<(String, String)>,
    now: f64,
) -> Cluster {
    let region = world.region.clone();
    let account = world.account.clone();
    let writer_id = format!("{id}-instance-1");
    let resource = world.random_hex(26).to_ascii_uppercase();
    let writer_resource = world.random_hex(26).to_ascii_uppercase();
    let secret_suffix = world.random_hex(6);
    let serverless = !matches!(spec.mode, DbMode::Provisioned { .. });
    let power = if spec.paused && serverless {
        Power::Paused { since: now - 600.0 }
    } else {
        Power::Awake
    };
    let mut cluster = Cluster {
        id: id.to_string(),
        arn: format!("arn:aws:rds:{region}:{account}:cluster:{id}"),
        resource_id: format!("cluster-{resource}"),
        writer_arn: format!("arn:aws:rds:{region}:{account}:db:{writer_id}"),
        writer_id,
        writer_resource_id: format!("db-{writer_resource}"),
        engine_version: spec.engine_version.clone(),
        mode: spec.mode.clone(),
        status: if spec.stopped {
            ClusterStatus::Stopped
        } else {
            ClusterStatus::Available
        },
        power,
        capacity: 0.0,
        connections: 0,
        idle_since: Some(now),
        no_pause_until: 0.0,
        automatic_restart_time: spec.stopped.then_some(now + 7.0 * 86400.0),
        http_endpoint_enabled: spec.http_endpoint,
        master_user_secret_arn: spec.managed_secret.then(|| {
            format!(
                "arn:aws:secretsmanager:{region}:{account}:secret:rds!cluster-{id}-{secret_suffix}"
            )
        }),
        database_name: id.to_string(),
        master_username: "dbuser".into(),
        created_at: now - 30.0 * 86400.0,
        tags,
        max_connections_override: spec.max_connections,
        log_export: spec.log_export,
        minute: Default::default(),
        blockers: Default::default(),
    };
    if !cluster.paused() && serverless {
        cluster.capacity = match &cluster.mode {
            DbMode::ServerlessV2 { min, max, .. } => 0.5f64.max(*min).min(*max),
            DbMode::ServerlessV1 { min, .. } => *min as f64,
            DbMode::Provisioned { .. } => 0.0,
        };
    }
    cluster
}

#[cfg(test)]
pub fn test_cluster(id: &str) -> Cluster {
    let mut world = World::empty("us-east-1", 0.0);
    new_cluster(&mut world, id, &ClusterSpec::v2(0.0, 4.0), Vec::new(), 0.0)
}
