//! Turning a seeded app into an ECS Express Mode service: the names and managed
//! resources Express creates (reference/aws.md 16.2), one shared load balancer for
//! every Express service in the region's default VPC.

use super::ServiceSpec;
use crate::emulator::world::World;
use crate::emulator::world::express::{Express, Revision, ScalingTarget};

pub const CLUSTER: &str = "default";
/// Where scale0 keeps the scaling target a pause replaced (backend/compute/ecs_express.rs
/// reads and writes it; the demo's asleep service carries one).
pub const SCALING_TAG: &str = "scale0:scaling-before-pause";

/// The load balancer every Express service of the region shares (up to 25 per VPC).
pub fn shared_load_balancer(world: &World) -> String {
    world
        .services
        .iter()
        .filter_map(|s| s.express.as_ref())
        .map(|x| x.load_balancer_arn.clone())
        .next()
        .unwrap_or_else(|| {
            format!(
                "arn:aws:elasticloadbalancing:{}:{}:loadbalancer/app/ecs-express-gateway-alb-default/5ca1e0a1b2c3d4e5",
                world.region, world.account
            )
        })
}

pub fn make_express(world: &mut World, i: usize, spec: &ServiceSpec, now: f64) {
    let region = world.region.clone();
    let account = world.account.clone();
    let name = world.services[i].name.clone();
    let created_at = world.services[i].created_at;
    let load_balancer_arn = shared_load_balancer(world);
    let (tg, log, rev) = (
        world.random_hex(16),
        world.random_hex(4),
        world.random_hex(20),
    );
    let image = world.services[i].image_identifier.clone();
    let digest = world.services[i].deployed_digest.clone();
    let scaling = ScalingTarget {
        min: if spec.paused { 0 } else { spec.min_size },
        max: spec.max_size,
        metric: "AVERAGE_CPU".into(),
        target: 60,
    };
    let desired = if spec.paused { 0 } else { spec.min_size };
    let revision = Revision {
        arn: format!("arn:aws:ecs:{region}:{account}:service-revision/{CLUSTER}/{name}/{rev}"),
        task_definition: format!("arn:aws:ecs:{region}:{account}:task-definition/{name}:1"),
        image,
        digest,
        cpu: world.services[i].cpu.clone(),
        memory: world.services[i].memory.clone(),
        health_check_path: "/".into(),
        container_port: 8000,
        scaling,
        created_at,
    };
    let s = &mut world.services[i];
    s.arn = format!("arn:aws:ecs:{region}:{account}:service/{CLUSTER}/{name}");
    s.operations.clear();
    s.ready_instances = desired;
    if spec.paused {
        s.tags.push((
            SCALING_TAG.into(),
            format!("min={},max={}", spec.min_size, spec.max_size),
        ));
    }
    s.express = Some(Box::new(Express {
        cluster: CLUSTER.into(),
        status_code: "ACTIVE",
        infrastructure_role: format!(
            "arn:aws:iam::{account}:role/ecsInfrastructureRoleForExpressServices"
        ),
        desired,
        running: desired,
        starting: Vec::new(),
        revisions: vec![revision],
        active: 0,
        deployments: Vec::new(),
        load_balancer_arn,
        target_group_arn: format!(
            "arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/ecs-gateway-tg-{}/{tg}",
            &name[..name.len().min(16)]
        ),
        load_balancer_gone: false,
        stick_next_deployment: false,
        log_group: format!("/aws/ecs/{CLUSTER}/{name}-{log}"),
        alarm_name: format!("{name}-express-deployment-alarm"),
        events: vec![(
            now.min(created_at + 300.0),
            format!("(service {name}) has reached a steady state."),
        )],
        points_above: 0,
        points_below: 0,
        elb_503: 0,
        routed: 0,
    }));
}

/// An Express service named `name` (CreateExpressGatewayService's serviceName).
pub fn add_named_service(
    world: &mut World,
    spec: &super::EnvSpec,
    name: &str,
    now: f64,
) -> Option<usize> {
    let i = super::add_environment(world, spec, now)?;
    let region = world.region.clone();
    let account = world.account.clone();
    let s = &mut world.services[i];
    s.name = name.to_string();
    s.arn = format!("arn:aws:ecs:{region}:{account}:service/{CLUSTER}/{name}");
    Some(i)
}
