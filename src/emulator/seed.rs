//! Building worlds: environments from a spec (for tests and the demo), and the demo world
//! with 24 hours of plausible history so graphs are not empty on first start.
//!
//! Names follow the seed project: service `scale0-<env>`, cluster `scale0<env>`, ECR
//! repository `scale0` with a tag per environment.

use super::world::cluster::{Cluster, ClusterStatus, DbMode, Power};
use super::world::metrics::{APPRUNNER, Datum, MetricKey, RDS};
use super::world::service::{
    AppServer, AutoScaling, Operation, OperationStatus, OperationType, Service, ServiceMinute,
    ServiceStatus,
};
use super::world::{ACCOUNT, Image, Repository, World};
use rand::RngExt;

pub const REPOSITORY: &str = "scale0";

#[derive(Clone, Debug)]
pub struct ServiceSpec {
    pub paused: bool,
    pub app_server: AppServer,
    pub max_concurrency: u32,
    pub min_size: u32,
    pub max_size: u32,
    pub auto_deployments: bool,
}

impl Default for ServiceSpec {
    fn default() -> Self {
        ServiceSpec {
            paused: false,
            app_server: AppServer::BoundedWorkers { workers: 8 },
            max_concurrency: 100,
            min_size: 1,
            max_size: 25,
            auto_deployments: true,
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

fn digest(world: &mut World) -> String {
    format!("sha256:{}", world.random_hex(64))
}

/// Pushes an image with `tag` unless the tag exists; returns its digest.
fn ensure_image(world: &mut World, tag: &str, pushed_at: f64) -> String {
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
    let default_scaling = s.max_concurrency == 100 && s.min_size == 1 && s.max_size == 25;
    let autoscaling_arn = if default_scaling {
        let arn = format!(
            "arn:aws:apprunner:{region}:{ACCOUNT}:autoscalingconfiguration/DefaultConfiguration/1/00000000000000000000000000000001"
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
            "arn:aws:apprunner:{region}:{ACCOUNT}:autoscalingconfiguration/{config_name}/1/{suffix}"
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
        arn: format!("arn:aws:apprunner:{region}:{ACCOUNT}:service/{name}/{id}"),
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
        cpu: "1024".into(),
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
        app_server: s.app_server,
        cluster: spec.cluster.as_ref().map(|_| cluster_id),
        deployed_digest: Some(digest),
        fail_next_deploy: false,
        concurrency: 0,
        active_instances: 0,
        last_request_at: now - 3600.0,
        minute: ServiceMinute::default(),
    });
    Some(world.services.len() - 1)
}

fn new_cluster(
    world: &mut World,
    id: &str,
    spec: &ClusterSpec,
    tags: Vec<(String, String)>,
    now: f64,
) -> Cluster {
    let region = world.region.clone();
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
        arn: format!("arn:aws:rds:{region}:{ACCOUNT}:cluster:{id}"),
        resource_id: format!("cluster-{resource}"),
        writer_arn: format!("arn:aws:rds:{region}:{ACCOUNT}:db:{writer_id}"),
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
                "arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:rds!cluster-{id}-{secret_suffix}"
            )
        }),
        database_name: id.to_string(),
        master_username: "dbuser".into(),
        created_at: now - 30.0 * 86400.0,
        tags,
        max_connections_override: spec.max_connections,
        minute: Default::default(),
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

/// A traffic session in the synthetic history: minutes ago it started, how long it
/// lasted, requests per minute, and concurrent clients (a load test when high).
struct Session {
    start_ago: f64,
    minutes: f64,
    rpm: f64,
    clients: f64,
}

const fn session(start_ago: f64, minutes: f64, rpm: f64, clients: f64) -> Session {
    Session {
        start_ago,
        minutes,
        rpm,
        clients,
    }
}

/// The demo world: six developers' environments and an unpaired cluster.
pub fn demo(world: &mut World, now: f64) {
    // Older images, so the image picker has history.
    for (tag, days) in [("v1.4.0", 20.0), ("v1.5.0", 9.0), ("v1.5.1", 3.0)] {
        ensure_image(world, tag, now - days * 86400.0);
    }
    let untagged = digest(world);
    if let Some(repo) = world.repositories.first_mut() {
        repo.images.push(Image {
            digest: untagged,
            tags: Vec::new(),
            size_bytes: 181_220_114,
            pushed_at: now - 12.0 * 86400.0,
        });
    }

    // dev: the seed project itself: untagged, v1 legacy database, Django runserver with
    // conn_max_age and a tight connection budget; a burst at 150 reproduces the 500s.
    let mut dev = EnvSpec::new("dev", "alice");
    dev.tagged = false;
    dev.service = Some(ServiceSpec {
        app_server: AppServer::ThreadPerConnection,
        ..ServiceSpec::default()
    });
    let mut v1 = ClusterSpec::v1();
    v1.max_connections = Some(100);
    dev.cluster = Some(v1);
    let dev_service = add_environment(world, &dev, now);
    history(
        world,
        dev_service,
        now,
        &[
            session(23.0 * 60.0, 45.0, 40.0, 2.0),
            session(7.0 * 60.0, 90.0, 120.0, 3.0),
            session(6.0 * 60.0, 5.0, 9000.0, 150.0),
            session(40.0, 38.0, 60.0, 2.0),
        ],
        None,
    );

    // qa: the fix: gunicorn with bounded workers, a v2 cluster; busy right now.
    let mut qa = EnvSpec::new("qa", "bob");
    qa.service = Some(ServiceSpec {
        max_concurrency: 50,
        max_size: 4,
        ..ServiceSpec::default()
    });
    let mut qa_db = ClusterSpec::v2(0.0, 4.0);
    qa_db.mode = DbMode::ServerlessV2 {
        min: 0.0,
        max: 4.0,
        seconds_until_auto_pause: 600,
    };
    qa.cluster = Some(qa_db);
    let qa_service = add_environment(world, &qa, now);
    history(
        world,
        qa_service,
        now,
        &[
            session(20.0 * 60.0, 120.0, 200.0, 4.0),
            session(9.0 * 60.0, 240.0, 300.0, 6.0),
            session(5.5 * 60.0, 5.0, 9000.0, 150.0),
            session(90.0, 95.0, 250.0, 5.0),
        ],
        None,
    );

    // carol: paused service, and so a paused database.
    let carol_service = add_environment(world, &EnvSpec::new("carol", "carol"), now);
    history(
        world,
        carol_service,
        now,
        &[
            session(22.0 * 60.0, 60.0, 80.0, 2.0),
            session(5.0 * 60.0, 90.0, 100.0, 2.0),
        ],
        Some(now - 3.0 * 3600.0),
    );

    // dave: service up and idle, database auto-paused; a newer :dave image waits
    // (automatic deployments are off).
    let mut dave = EnvSpec::new("dave", "dave");
    dave.service = Some(ServiceSpec {
        auto_deployments: false,
        ..ServiceSpec::default()
    });
    let dave_service = add_environment(world, &dave, now);
    history(
        world,
        dave_service,
        now,
        &[
            session(10.0 * 60.0, 60.0, 90.0, 2.0),
            session(3.0 * 60.0, 50.0, 70.0, 2.0),
        ],
        None,
    );
    push_newer(world, "dave", now - 40.0 * 60.0);

    // erin: a deployment of a newly pushed :erin image is under way.
    let erin_service = add_environment(world, &EnvSpec::new("erin", "erin"), now);
    history(
        world,
        erin_service,
        now,
        &[session(4.0 * 60.0, 200.0, 60.0, 2.0)],
        None,
    );
    push_newer(world, "erin", now - 3.0 * 60.0);
    if let Some(i) = erin_service {
        let image = world.services[i].image_identifier.clone();
        world.deploy(i, OperationType::UpdateService, image, now - 120.0);
        if let Some(p) = &mut world.services[i].pending {
            p.ends_at = now + 180.0;
        }
    }

    // frank: on holiday: service paused and cluster stopped two days ago.
    let mut frank = EnvSpec::new("frank", "frank");
    frank.service = Some(ServiceSpec {
        paused: true,
        ..ServiceSpec::default()
    });
    let mut stopped = ClusterSpec::v2(0.0, 8.0);
    stopped.stopped = true;
    frank.cluster = Some(stopped);
    let frank_service = add_environment(world, &frank, now);
    if let Some(i) = frank_service {
        record_operation(
            world,
            i,
            OperationType::PauseService,
            now - 2.0 * 86400.0,
            95.0,
        );
        if let Some(c) = world.cluster_index("scale0frank") {
            let stopped_at = now - 2.0 * 86400.0 + 400.0;
            world.clusters[c].automatic_restart_time = Some(stopped_at + 7.0 * 86400.0);
            world.add_event(
                c,
                true,
                "DB instance stopped.".into(),
                vec!["notification"],
                stopped_at,
            );
            world.add_event(
                c,
                false,
                "DB cluster stopped.".into(),
                vec!["notification"],
                stopped_at,
            );
        }
    }

    // An unpaired provisioned cluster that belongs to nobody's environment.
    let reporting = ClusterSpec::provisioned("db.t4g.medium");
    let cluster = new_cluster(world, "reporting", &reporting, Vec::new(), now);
    world.clusters.push(cluster);
    world.processed_to = now;
}

fn push_newer(world: &mut World, tag: &str, at: f64) {
    let d = digest(world);
    if let Some(repo) = world.repositories.iter_mut().find(|r| r.name == REPOSITORY) {
        for image in &mut repo.images {
            image.tags.retain(|t| t != tag);
        }
        repo.images.push(Image {
            digest: d,
            tags: vec![tag.to_string()],
            size_bytes: 188_400_512,
            pushed_at: at,
        });
    }
}

fn record_operation(world: &mut World, i: usize, kind: OperationType, at: f64, took: f64) {
    let id = world.uuid();
    let s = &mut world.services[i];
    s.operations.push(Operation {
        id,
        kind,
        status: OperationStatus::Succeeded,
        started_at: at,
        ended_at: Some(at + took),
        updated_at: at + took,
    });
    s.updated_at = s.updated_at.max(at + took);
}

/// Writes 24 hours of per-minute metrics and events for one environment, running the
/// same rules as the live world (auto-pause after the idle timeout, resume on traffic,
/// 500s when connections run out), and leaves its resources in the state that history
/// ends in. `service_paused_at` pauses the service (no traffic after it).
fn history(
    world: &mut World,
    service: Option<usize>,
    now: f64,
    sessions: &[Session],
    service_paused_at: Option<f64>,
) {
    let Some(si) = service else { return };
    let Some(ci) = world.services[si]
        .cluster
        .clone()
        .and_then(|c| world.cluster_index(&c))
    else {
        return;
    };
    let scaling = world.scaling_of(&world.services[si]);
    let app_server = world.services[si].app_server;
    let (svc_name, svc_id) = (
        world.services[si].name.clone(),
        world.services[si].id.clone(),
    );
    let (cluster_id, writer_id) = (
        world.clusters[ci].id.clone(),
        world.clusters[ci].writer_id.clone(),
    );
    let v1 = world.clusters[ci].is_v1();
    let usable = world.clusters[ci].usable_connections() as f64;
    let max_capacity = world.clusters[ci].max_capacity();
    let (min_capacity, pause_after) = match world.clusters[ci].mode {
        DbMode::ServerlessV2 {
            min,
            seconds_until_auto_pause,
            ..
        } => (
            min.max(0.5),
            (min == 0.0).then_some(seconds_until_auto_pause as f64),
        ),
        DbMode::ServerlessV1 {
            min,
            auto_pause,
            seconds_until_auto_pause,
            ..
        } => (
            min as f64,
            auto_pause.then_some(seconds_until_auto_pause as f64),
        ),
        DbMode::Provisioned { .. } => (0.0, None),
    };

    let first = ((now - 86400.0) / 60.0).floor() * 60.0;
    let current_minute = (now / 60.0).floor() * 60.0;
    let mut paused = true;
    let mut paused_since = first - 3600.0;
    let mut last_activity = first - 7200.0;
    let mut active_until = 0.0;
    let mut deployed_in_session = Vec::new();
    let mut t = first;
    while t < current_minute {
        let service_up = service_paused_at.is_none_or(|p| t < p);
        let mut rpm = 0.0;
        let mut clients = 0.0f64;
        for (k, s) in sessions.iter().enumerate() {
            let start = now - s.start_ago * 60.0;
            if t >= start && t < start + s.minutes * 60.0 && service_up {
                rpm += s.rpm * world.rng.random_range(0.7..1.3);
                clients = clients.max(s.clients);
                if !deployed_in_session.contains(&k) && s.clients < 50.0 {
                    deployed_in_session.push(k);
                    let kind = if k % 2 == 0 {
                        OperationType::UpdateService
                    } else {
                        OperationType::StartDeployment
                    };
                    record_operation(world, si, kind, start - 400.0, 290.0);
                }
            }
        }
        let minute = t as i64;
        let mut cold_start_ms = 0.0;
        if rpm > 0.0 {
            if paused {
                // Traffic wakes the database (0373 -> 0374, or 0147 -> 0148 for v1).
                let resume = if v1 { 30.0 } else { 15.0 };
                history_event(world, ci, v1, t + 2.0, true, false);
                history_event(world, ci, v1, t + 2.0 + resume, true, true);
                cold_start_ms = resume * 1000.0;
                paused = false;
            }
            last_activity = t + 59.0;
            active_until = t + 120.0;
        } else if !paused
            && let Some(after) = pause_after
            && t - last_activity >= after
        {
            history_event(world, ci, v1, t, false, false);
            history_event(world, ci, v1, t + 20.0, false, true);
            paused = true;
            paused_since = t + 20.0;
        }

        // Little's law for concurrency; a load test is as concurrent as its clients.
        let latency_s = if clients > 20.0 { 2.2 } else { 0.08 };
        let concurrency = if rpm > 0.0 {
            (rpm / 60.0 * latency_s)
                .max(1.0)
                .min(clients.max(1.0))
                .round()
        } else {
            0.0
        };
        let wanted_connections = match app_server {
            AppServer::ThreadPerConnection => concurrency,
            AppServer::BoundedWorkers { workers } => {
                concurrency.min((workers * scaling.max_size) as f64)
            }
        };
        let connections = wanted_connections.min(usable);
        let failing = (wanted_connections - usable).max(0.0);
        let errors = if concurrency > 0.0 {
            (rpm * failing / concurrency).round()
        } else {
            0.0
        };
        let active = if rpm > 0.0 {
            (concurrency / scaling.max_concurrency as f64)
                .ceil()
                .clamp(1.0, scaling.max_size as f64)
        } else if t < active_until {
            1.0
        } else {
            0.0
        };

        let svc_dims = [
            ("ServiceID", svc_id.as_str()),
            ("ServiceName", svc_name.as_str()),
        ];
        let put_svc = |world: &mut World, name: &str, d: Datum| {
            world
                .metrics
                .put(MetricKey::new(APPRUNNER, name, &svc_dims), minute, d)
        };
        if service_up {
            put_svc(world, "ActiveInstances", Datum::single(active));
            put_svc(world, "Concurrency", Datum::single(concurrency));
            let cpu = if active > 0.0 {
                (5.0 + 80.0 * concurrency / (active * scaling.max_concurrency as f64)).min(100.0)
            } else {
                0.5
            };
            put_svc(world, "CPUUtilization", Datum::single(cpu));
            put_svc(world, "MemoryUtilization", Datum::single(22.0 + cpu / 5.0));
        }
        if rpm > 0.0 {
            let requests = rpm.round();
            put_svc(world, "Requests", Datum::single(requests));
            put_svc(
                world,
                "2xxStatusResponses",
                Datum::single(requests - errors),
            );
            put_svc(
                world,
                "4xxStatusResponses",
                Datum::single((requests * 0.004).floor()),
            );
            put_svc(world, "5xxStatusResponses", Datum::single(errors));
            let mut latency = Datum::default();
            for _ in 0..24 {
                latency.add(latency_s * 1000.0 * world.rng.random_range(0.5..1.8));
            }
            if cold_start_ms > 0.0 {
                latency.add(cold_start_ms);
            }
            put_svc(world, "RequestLatency", latency);
        }

        let capacity = if paused {
            0.0
        } else if v1 {
            if connections > 40.0 {
                max_capacity
            } else {
                min_capacity
            }
        } else {
            ((0.5 + connections * 0.05) * 2.0).ceil() / 2.0
        }
        .min(max_capacity.max(0.5));
        let capacity = if paused {
            0.0
        } else {
            capacity.max(min_capacity)
        };
        for dims in [
            [("DBClusterIdentifier", cluster_id.as_str())],
            [("DBInstanceIdentifier", writer_id.as_str())],
        ] {
            world.metrics.put(
                MetricKey::new(RDS, "ServerlessDatabaseCapacity", &dims),
                minute,
                Datum::single(capacity),
            );
            world.metrics.put(
                MetricKey::new(RDS, "ACUUtilization", &dims),
                minute,
                Datum::single((capacity / max_capacity.max(0.5) * 100.0).min(100.0)),
            );
            if !(paused && v1) {
                let cpu = if paused {
                    0.0
                } else {
                    (3.0 + connections * 0.4).min(100.0)
                };
                world.metrics.put(
                    MetricKey::new(RDS, "CPUUtilization", &dims),
                    minute,
                    Datum::single(cpu),
                );
            }
            if !paused {
                world.metrics.put(
                    MetricKey::new(RDS, "DatabaseConnections", &dims),
                    minute,
                    Datum::single(connections),
                );
            }
        }
        t += 60.0;
    }

    if let Some(at) = service_paused_at {
        record_operation(world, si, OperationType::PauseService, at, 90.0);
        let s = &mut world.services[si];
        s.status = ServiceStatus::Paused;
    }
    let s = &mut world.services[si];
    s.last_request_at = last_activity.min(now);
    s.active_instances = if now < active_until && s.status == ServiceStatus::Running {
        1
    } else {
        0
    };
    s.operations
        .sort_by(|a, b| a.started_at.total_cmp(&b.started_at));
    let c = &mut world.clusters[ci];
    if c.status == ClusterStatus::Available {
        if paused {
            c.power = Power::Paused {
                since: paused_since,
            };
            c.capacity = 0.0;
        } else {
            c.power = Power::Awake;
            c.idle_since = Some(last_activity.min(now));
            c.capacity = min_capacity.max(if v1 { min_capacity } else { 0.5 });
        }
    }
}

/// A pause or resume event in the history, worded as AWS words it.
fn history_event(world: &mut World, ci: usize, v1: bool, at: f64, resume: bool, done: bool) {
    let message = match (v1, resume, done) {
        (true, false, false) => "The DB cluster is being paused.",
        (true, false, true) => "The DB cluster is paused.",
        (true, true, false) => "The DB cluster is being resumed.",
        (true, true, true) => "The DB cluster is resumed.",
        (false, false, false) => "Initiated pause for the DB instance.",
        (false, false, true) => "Successfully paused the DB instance.",
        (false, true, false) => "Initiated resume for the DB instance.",
        (false, true, true) => "Successfully resumed the DB instance.",
    };
    let categories = if v1 {
        vec!["notification"]
    } else {
        vec!["notification", "serverless"]
    };
    world.add_event(ci, !v1, message.into(), categories, at);
}

#[cfg(test)]
pub fn test_cluster(id: &str) -> Cluster {
    let mut world = World::empty("us-east-1", 0.0);
    new_cluster(&mut world, id, &ClusterSpec::v2(0.0, 4.0), Vec::new(), 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_world_has_every_state_the_issue_names() {
        let now = 1_800_000_000.0;
        let mut w = World::empty("us-east-1", now);
        demo(&mut w, now);
        let status = |name: &str| w.services[w.service_index(name).unwrap()].status;
        assert_eq!(status("scale0-qa"), ServiceStatus::Running);
        assert_eq!(status("scale0-carol"), ServiceStatus::Paused);
        assert_eq!(status("scale0-erin"), ServiceStatus::OperationInProgress);
        let cluster = |id: &str| &w.clusters[w.cluster_index(id).unwrap()];
        assert!(cluster("scale0dave").paused(), "dave's database is paused");
        assert!(cluster("scale0carol").paused());
        assert!(!cluster("scale0qa").paused());
        assert_eq!(cluster("scale0frank").status, ClusterStatus::Stopped);
        assert!(cluster("scale0dev").is_v1());
        assert!(w.events.len() > 10, "history has pause/resume events");
        let requests = MetricKey::new(
            APPRUNNER,
            "Requests",
            &[
                ("ServiceID", &w.services[1].id),
                ("ServiceName", "scale0-qa"),
            ],
        );
        let points = w
            .metrics
            .query(&requests, (now - 86400.0) as i64, now as i64, 3600, "Sum");
        assert!(points.len() > 5, "{points:?}");
    }
}
