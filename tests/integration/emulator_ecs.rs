//! The emulator's ECS Express Mode through the real aws-sdk-ecs: discovery calls, the
//! load balancer in front of the app (503 at zero tasks, a minute to the first 200),
//! canary deployments with bakes and the rollback alarm, and AWS's error shapes.

use crate::common::*;
use crate::emulator_wire::{assert_valid, json_call};
use aws_sdk_ecs::types::{
    ExpressGatewayContainer, ExpressGatewayScalingTarget, ExpressGatewayServiceInclude,
    ResourceManagementType, ServiceField, StopServiceDeploymentStopType,
};
use scale0::emulator::seed::{EnvSpec, ServiceSpec};
use scale0::emulator::shapes::AwsService;
use scale0::emulator::{Emulator, Seed};
use serde_json::json;

pub fn express_env(name: &str, owner: &str, paused: bool) -> EnvSpec {
    let mut e = EnvSpec::new(name, owner);
    e.service = Some(ServiceSpec {
        express: true,
        paused,
        min_size: 1,
        max_size: 4,
        ..ServiceSpec::default()
    });
    e
}

pub async fn ecs(emu: &Emulator) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::new(&sdk_config(emu.endpoint_url()).await)
}

fn arn(name: &str) -> String {
    format!("arn:aws:ecs:us-east-1:123456789012:service/default/{name}")
}

/// The HTTP status the service's load balancer answers with.
async fn get(url: &str) -> u16 {
    reqwest::get(url).await.map_or(0, |r| r.status().as_u16())
}

async fn url_of(ecs: &aws_sdk_ecs::Client, name: &str) -> String {
    let out = ecs
        .describe_express_gateway_service()
        .service_arn(arn(name))
        .send()
        .await
        .expect("describe");
    let endpoint = out.service().unwrap().active_configurations()[0].ingress_paths()[0]
        .endpoint()
        .to_string();
    format!("http://{endpoint}/")
}

#[tokio::test]
async fn discovery_calls_find_express_services_with_their_tags() {
    let emu = emulator_with(&[
        express_env("gina", "gina", false),
        express_env("hank", "hank", true),
        env("qa"),
    ])
    .await;
    let ecs = ecs(&emu).await;
    let clusters = ecs.list_clusters().send().await.expect("list clusters");
    assert_eq!(clusters.cluster_arns().len(), 1, "one default cluster");
    let services = ecs
        .list_services()
        .cluster(&clusters.cluster_arns()[0])
        .resource_management_type(ResourceManagementType::Ecs)
        .send()
        .await
        .expect("list services");
    assert_eq!(
        services.service_arns(),
        [arn("scale0-gina"), arn("scale0-hank")],
        "App Runner's qa is not an ECS service"
    );
    let described = ecs
        .describe_services()
        .cluster("default")
        .services("scale0-gina")
        .services(arn("scale0-hank"))
        .services("nope")
        .include(ServiceField::Tags)
        .send()
        .await
        .expect("describe services");
    let counts: Vec<(i32, i32)> = described
        .services()
        .iter()
        .map(|s| (s.desired_count(), s.running_count()))
        .collect();
    assert_eq!(counts, [(1, 1), (0, 0)], "gina runs a task, hank none");
    assert_eq!(described.failures()[0].reason(), Some("MISSING"));
    let hank = &described.services()[1];
    let tag = |k: &str| {
        hank.tags()
            .iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
    };
    assert_eq!(tag("scale0:owner"), Some("hank"));
    assert_eq!(tag("scale0:scaling-before-pause"), Some("min=1,max=4"));
    let express = ecs
        .describe_express_gateway_service()
        .service_arn(arn("scale0-gina"))
        .include(ExpressGatewayServiceInclude::Tags)
        .send()
        .await
        .expect("describe express");
    let x = express.service().unwrap();
    assert_eq!(
        x.status().unwrap().status_code().unwrap().as_str(),
        "ACTIVE"
    );
    let config = &x.active_configurations()[0];
    assert!(
        config
            .primary_container()
            .unwrap()
            .image()
            .ends_with("/scale0:gina")
    );
    assert_eq!(config.scaling_target().unwrap().min_task_count(), Some(1));
    assert!(!x.tags().is_empty());
}

#[tokio::test]
async fn load_balancer_answers_503_at_zero_tasks_and_200_a_minute_after_scaling_up() {
    // No database: one paused by the long wait would hold requests on the frozen clock.
    let mut hank = express_env("hank", "hank", true);
    hank.cluster = None;
    let emu = emulator_with(&[hank]).await;
    let ecs = ecs(&emu).await;
    let url = url_of(&ecs, "scale0-hank").await;
    assert_eq!(get(&url).await, 503, "no healthy target");
    emu.advance(600.0);
    assert_eq!(get(&url).await, 503, "nothing wakes it by itself");
    ecs.update_service()
        .cluster("default")
        .service("scale0-hank")
        .desired_count(1)
        .send()
        .await
        .expect("desired 1");
    emu.advance(30.0);
    assert_eq!(get(&url).await, 503, "the task is still starting");
    let pending = ecs
        .describe_services()
        .cluster("default")
        .services("scale0-hank")
        .send()
        .await
        .unwrap();
    assert_eq!(pending.services()[0].pending_count(), 1);
    emu.advance(31.0);
    assert_eq!(get(&url).await, 200, "healthy after the task's start time");
    ecs.update_service()
        .cluster("default")
        .service("scale0-hank")
        .desired_count(0)
        .send()
        .await
        .expect("desired 0");
    assert_eq!(get(&url).await, 503, "tasks stop at once");
}

/// Sends `n` requests and returns how many failed.
async fn traffic(url: &str, n: usize) -> usize {
    let mut failed = 0;
    for _ in 0..n {
        if get(url).await != 200 {
            failed += 1;
        }
    }
    failed
}

async fn deployment_status(ecs: &aws_sdk_ecs::Client, arn: &str) -> (String, String) {
    let out = ecs
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .expect("describe deployments");
    let d = &out.service_deployments()[0];
    (
        d.status().unwrap().as_str().to_string(),
        d.lifecycle_stage().map_or("", |s| s.as_str()).to_string(),
    )
}

async fn deploy(ecs: &aws_sdk_ecs::Client, name: &str, image: &str) -> String {
    ecs.update_express_gateway_service()
        .service_arn(arn(name))
        .primary_container(
            ExpressGatewayContainer::builder()
                .image(image)
                .container_port(8000)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("update");
    let x = ecs
        .describe_express_gateway_service()
        .service_arn(arn(name))
        .send()
        .await
        .unwrap();
    x.service()
        .unwrap()
        .current_deployment()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_deployment_is_a_canary_with_two_bakes() {
    let emu = emulator_with(&[express_env("gina", "gina", false)]).await;
    let ecs = ecs(&emu).await;
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/scale0:v2";
    emu.with_world(|w, now| {
        scale0::emulator::seed::push_tag(w, "v2", now);
    });
    let d = deploy(&ecs, "scale0-gina", image).await;
    let mut stages = vec![deployment_status(&ecs, &d).await];
    // Bounded: at most 20 emulated minutes.
    for _ in 0..20 {
        emu.advance(60.0);
        let s = deployment_status(&ecs, &d).await;
        if stages.last() != Some(&s) {
            stages.push(s.clone());
        }
        if s.0 != "IN_PROGRESS" {
            break;
        }
    }
    let seen: Vec<(&str, &str)> = stages
        .iter()
        .map(|(status, stage)| (status.as_str(), stage.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("IN_PROGRESS", "SCALE_UP"),
            ("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT"),
            ("IN_PROGRESS", "BAKE_TIME"),
            ("IN_PROGRESS", "CLEAN_UP"),
            ("SUCCESSFUL", "CLEAN_UP"),
        ]
    );
    let x = ecs
        .describe_express_gateway_service()
        .service_arn(arn("scale0-gina"))
        .send()
        .await
        .unwrap();
    let configs = x.service().unwrap().active_configurations();
    assert_eq!(configs.len(), 1);
    assert_eq!(configs[0].primary_container().unwrap().image(), image);
}

#[tokio::test]
async fn the_alarm_rolls_back_a_bad_image_under_traffic() {
    let emu = emulator_with(&[express_env("gina", "gina", false)]).await;
    let ecs = ecs(&emu).await;
    let url = url_of(&ecs, "scale0-gina").await;
    let (status, _) = admin(
        &emu,
        "/_scale0/faults/deploy-failure",
        json!({"service": "scale0-gina"}),
    )
    .await;
    assert_eq!(status, 200);
    let old = "123456789012.dkr.ecr.us-east-1.amazonaws.com/scale0:gina";
    let d = deploy(&ecs, "scale0-gina", &old.replace(":gina", ":broken")).await;
    let mut failed = 0;
    for _ in 0..12 {
        failed += traffic(&url, 40).await;
        emu.advance(60.0);
        if deployment_status(&ecs, &d).await.0 != "IN_PROGRESS" {
            break;
        }
    }
    assert!(failed > 0, "the canary's share of requests failed");
    emu.advance(120.0);
    let out = ecs
        .describe_service_deployments()
        .service_deployment_arns(&d)
        .send()
        .await
        .unwrap();
    let dep = &out.service_deployments()[0];
    assert_eq!(dep.status().unwrap().as_str(), "ROLLBACK_SUCCESSFUL");
    let alarms = dep.alarms().unwrap();
    assert_eq!(
        alarms.triggered_alarm_names(),
        ["scale0-gina-express-deployment-alarm"]
    );
    assert!(
        dep.rollback()
            .unwrap()
            .reason()
            .unwrap()
            .contains("4xx+5xx")
    );
    assert_eq!(traffic(&url, 20).await, 0, "the old revision serves again");
    let x = ecs
        .describe_express_gateway_service()
        .service_arn(arn("scale0-gina"))
        .send()
        .await
        .unwrap();
    let image = x.service().unwrap().active_configurations()[0]
        .primary_container()
        .unwrap()
        .image()
        .to_string();
    assert_eq!(image, old);
}

#[tokio::test]
async fn stopping_a_deployment_rolls_it_back() {
    let emu = emulator_with(&[express_env("gina", "gina", false)]).await;
    let ecs = ecs(&emu).await;
    emu.with_world(|w, now| {
        scale0::emulator::seed::push_tag(w, "v2", now);
    });
    let d = deploy(
        &ecs,
        "scale0-gina",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/scale0:v2",
    )
    .await;
    emu.advance(90.0);
    ecs.stop_service_deployment()
        .service_deployment_arn(&d)
        .stop_type(StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .expect("stop");
    assert_eq!(deployment_status(&ecs, &d).await.0, "ROLLBACK_IN_PROGRESS");
    emu.advance(61.0);
    assert_eq!(deployment_status(&ecs, &d).await.0, "ROLLBACK_SUCCESSFUL");
    let again = ecs
        .stop_service_deployment()
        .service_deployment_arn(&d)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&again), "ConflictException");
}

#[tokio::test]
async fn errors_have_aws_codes() {
    let emu = emulator_with(&[express_env("gina", "gina", false)]).await;
    let ecs = ecs(&emu).await;
    let missing = ecs
        .describe_express_gateway_service()
        .service_arn(arn("nope"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&missing), "ResourceNotFoundException");
    let no_cluster = ecs
        .list_services()
        .cluster("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&no_cluster), "ClusterNotFoundException");
    let bad_scaling = ecs
        .update_express_gateway_service()
        .service_arn(arn("scale0-gina"))
        .scaling_target(
            ExpressGatewayScalingTarget::builder()
                .min_task_count(5)
                .max_task_count(2)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad_scaling), "InvalidParameterException");
    ecs.delete_express_gateway_service()
        .service_arn(arn("scale0-gina"))
        .send()
        .await
        .expect("delete");
    let twice = ecs
        .delete_express_gateway_service()
        .service_arn(arn("scale0-gina"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&twice), "ServiceNotActiveException");
    let listed = ecs.list_services().cluster("default").send().await.unwrap();
    assert!(
        listed.service_arns().is_empty(),
        "inactive services are not listed"
    );
}

#[tokio::test]
async fn a_created_service_gets_its_load_balancer_and_answers_after_its_tasks_start() {
    let emu = emulator(Seed::Empty).await;
    let ecs = ecs(&emu).await;
    emu.with_world(|w, now| {
        scale0::emulator::seed::push_tag(w, "new", now);
    });
    let created = ecs
        .create_express_gateway_service()
        .service_name("scale0-new")
        .infrastructure_role_arn("arn:aws:iam::123456789012:role/ecsInfrastructureRole")
        .primary_container(
            ExpressGatewayContainer::builder()
                .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/scale0:new")
                .container_port(8000)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create");
    assert_eq!(
        created.service().unwrap().service_arn(),
        Some(arn("scale0-new").as_str())
    );
    let url = url_of(&ecs, "scale0-new").await;
    assert_eq!(get(&url).await, 503);
    emu.advance(61.0);
    assert_eq!(get(&url).await, 200);
}

#[tokio::test]
async fn every_ecs_response_matches_its_output_shape() {
    let emu = emulator(Seed::Demo).await;
    let e = emu.endpoint_url().to_string();
    let ecs_svc = AwsService::Ecs;
    let gina = arn("scale0-gina");
    let (raw, described) = json_call(
        &e,
        ecs_svc,
        "DescribeExpressGatewayService",
        json!({"serviceArn": gina, "include": ["TAGS"]}),
    )
    .await;
    assert_eq!(raw.status, 200);
    assert_valid(ecs_svc, "DescribeExpressGatewayService", &described);
    let revision = described["service"]["activeConfigurations"][0]["serviceRevisionArn"].clone();
    let (_, deployments) = json_call(
        &e,
        ecs_svc,
        "ListServiceDeployments",
        json!({"cluster": "default", "service": "scale0-gina"}),
    )
    .await;
    assert_valid(ecs_svc, "ListServiceDeployments", &deployments);
    let calls = [
        ("ListClusters", json!({})),
        ("ListServices", json!({"cluster": "default"})),
        (
            "DescribeServices",
            json!({"cluster": "default", "services": ["scale0-gina"], "include": ["TAGS"]}),
        ),
        (
            "DescribeServiceRevisions",
            json!({"serviceRevisionArns": [revision]}),
        ),
        ("ListTagsForResource", json!({"resourceArn": gina})),
        (
            "TagResource",
            json!({"resourceArn": gina, "tags": [{"key": "k", "value": "v"}]}),
        ),
        (
            "UntagResource",
            json!({"resourceArn": gina, "tagKeys": ["k"]}),
        ),
        (
            "UpdateExpressGatewayService",
            json!({"serviceArn": gina, "scalingTarget": {"minTaskCount": 1, "maxTaskCount": 3}}),
        ),
        (
            "UpdateService",
            json!({"cluster": "default", "service": "scale0-gina", "desiredCount": 2}),
        ),
    ];
    for (op, input) in calls {
        let (raw, body) = json_call(&e, ecs_svc, op, input).await;
        assert_eq!(raw.status, 200, "{op}: {body}");
        assert_valid(ecs_svc, op, &body);
    }
    let (_, deployments) = json_call(
        &e,
        ecs_svc,
        "ListServiceDeployments",
        json!({"cluster": "default", "service": "scale0-gina"}),
    )
    .await;
    let newest = deployments["serviceDeployments"][0]["serviceDeploymentArn"].clone();
    let (_, described) = json_call(
        &e,
        ecs_svc,
        "DescribeServiceDeployments",
        json!({"serviceDeploymentArns": [newest]}),
    )
    .await;
    assert_valid(ecs_svc, "DescribeServiceDeployments", &described);
    assert_eq!(described["serviceDeployments"][0]["status"], "IN_PROGRESS");
    let (raw, error) = json_call(
        &e,
        ecs_svc,
        "DescribeExpressGatewayService",
        json!({"serviceArn": arn("gone")}),
    )
    .await;
    assert_eq!(raw.status, 400);
    assert!(
        error["__type"]
            .as_str()
            .unwrap_or("")
            .contains("ResourceNotFoundException")
    );
}
