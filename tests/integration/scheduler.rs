//! EventBridge Scheduler in the emulator, through the real aws-sdk-scheduler: schedules
//! and groups, at()/rate()/cron() in time zones, due schedules run on the emulator's
//! clock against its own App Runner and RDS, failures recorded as AWS records them; and
//! the RDS describes that show sleep blockers without waking the database.

use crate::common::{self, code, t0};
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, ScheduleState, Target,
};
use scale0::emulator::Seed;
use scale0::emulator::seed::ClusterSpec;
use scale0::emulator::world::cluster::Power;
use serde_json::json;

pub const ROLE: &str = "arn:aws:iam::123456789012:role/scale0-scheduler";

pub async fn scheduler(emu: &scale0::emulator::Emulator) -> aws_sdk_scheduler::Client {
    aws_sdk_scheduler::Client::new(&common::sdk_config(emu.endpoint_url()).await)
}

pub fn off() -> FlexibleTimeWindow {
    FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .expect("window")
}

pub fn target(arn: &str, input: serde_json::Value) -> Target {
    Target::builder()
        .arn(arn)
        .role_arn(ROLE)
        .input(input.to_string())
        .build()
        .expect("target")
}

/// "2026-11-23T17:30:00" for an epoch time, in UTC.
fn at(t: f64) -> String {
    let ts = jiff::Timestamp::from_second(t as i64).expect("time");
    format!("at({})", ts.strftime("%Y-%m-%dT%H:%M:%S"))
}

#[tokio::test]
async fn a_one_time_schedule_restores_min_capacity_on_the_emulator_clock() {
    let emu =
        common::emulator_with(&[common::env_with_cluster("kim", ClusterSpec::v2(0.0, 4.0))]).await;
    emu.with_world(|w, _| {
        w.scheduler.roles.insert(ROLE.into());
    });
    let rds = common::clients(&emu).await.rds;
    let s = scheduler(&emu).await;
    // Keep it awake now...
    rds.modify_db_cluster()
        .db_cluster_identifier("scale0kim")
        .serverless_v2_scaling_configuration(
            aws_sdk_rds::types::ServerlessV2ScalingConfiguration::builder()
                .min_capacity(0.5)
                .max_capacity(4.0)
                .build(),
        )
        .send()
        .await
        .expect("raise min");
    // ...and let the scheduler put it back in an hour, with the SDK's member names.
    let expiry = t0() + 3600.0;
    s.create_schedule_group()
        .name("scale0-test")
        .send()
        .await
        .expect("group");
    s.create_schedule()
        .name("keep-awake-kim")
        .group_name("scale0-test")
        .schedule_expression(at(expiry))
        .schedule_expression_timezone("UTC")
        .action_after_completion(ActionAfterCompletion::Delete)
        .flexible_time_window(off())
        .target(target(
            "arn:aws:scheduler:::aws-sdk:rds:modifyDBCluster",
            json!({"DbClusterIdentifier": "scale0kim", "ServerlessV2ScalingConfiguration": {"MinCapacity": 0, "MaxCapacity": 4}}),
        ))
        .send()
        .await
        .expect("create");
    let got = s
        .get_schedule()
        .name("keep-awake-kim")
        .group_name("scale0-test")
        .send()
        .await
        .expect("get");
    assert_eq!(got.state(), Some(&ScheduleState::Enabled));
    assert_eq!(got.schedule_expression(), Some(at(expiry).as_str()));
    let min = |emu: &scale0::emulator::Emulator| {
        emu.with_world(|w, _| match w.clusters[0].mode {
            scale0::emulator::world::cluster::DbMode::ServerlessV2 { min, .. } => min,
            _ => f64::NAN,
        })
    };
    emu.advance(3590.0);
    assert_eq!(min(&emu), 0.5, "not before its time");
    emu.advance(20.0);
    assert_eq!(min(&emu), 0.0, "restored at the expiry");
    let listed = s
        .list_schedules()
        .group_name("scale0-test")
        .send()
        .await
        .expect("list");
    assert!(listed.schedules().is_empty(), "deleted after completion");
    // And the database then pauses on its own.
    emu.advance(900.0);
    assert!(emu.with_world(|w, _| matches!(w.clusters[0].power, Power::Paused { .. })));
}

#[tokio::test]
async fn a_weekday_cron_in_berlin_pauses_the_service_and_failures_are_recorded() {
    // Moved to a Monday 10:00 UTC = 11:00 in Berlin (any clock offset).
    let emu = common::emulator_with(&[
        common::env("lea"),
        common::env_with_cluster("old", ClusterSpec::v1()),
    ])
    .await;
    let start = common::next_monday_10_utc(common::t0());
    emu.advance(start - common::t0());
    emu.with_world(|w, _| {
        w.scheduler.roles.insert(ROLE.into());
    });
    let c = common::clients(&emu).await;
    let s = scheduler(&emu).await;
    let service = common::service_arn(&c, "scale0-lea").await;
    s.create_schedule()
        .name("sleep-lea")
        .schedule_expression("cron(0 19 ? * MON-FRI *)")
        .schedule_expression_timezone("Europe/Berlin")
        .flexible_time_window(off())
        .target(target(
            "arn:aws:scheduler:::aws-sdk:apprunner:pauseService",
            json!({"ServiceArn": service}),
        ))
        .send()
        .await
        .expect("create cron");
    // A v1 cluster can't be stopped: the invocation fails, and AWS's way of showing it is
    // the TargetErrorCount metric (and the dead-letter queue).
    s.create_schedule()
        .name("stop-old")
        .schedule_expression("cron(30 18 ? * MON-FRI *)")
        .schedule_expression_timezone("Europe/Berlin")
        .flexible_time_window(off())
        .target(
            Target::builder()
                .arn("arn:aws:scheduler:::aws-sdk:rds:stopDBCluster")
                .role_arn(ROLE)
                .input(json!({"DbClusterIdentifier": "scale0old"}).to_string())
                .dead_letter_config(
                    aws_sdk_scheduler::types::DeadLetterConfig::builder()
                        .arn("arn:aws:sqs:us-east-1:123456789012:scale0-dlq")
                        .build(),
                )
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("create failing");
    let status = |emu: &scale0::emulator::Emulator| {
        emu.with_world(|w, _| w.services[0].status.as_aws().to_string())
    };
    // 18:59 Berlin = 17:59 UTC: nothing yet.
    emu.advance(7.0 * 3600.0 + 59.0 * 60.0);
    assert_eq!(status(&emu), "RUNNING");
    emu.advance(120.0);
    assert_ne!(status(&emu), "RUNNING", "pausing at 19:00 Berlin");
    let failures = emu.with_world(|w, _| {
        w.scheduler
            .invocations
            .iter()
            .filter(|i| i.error.is_some())
            .map(|i| {
                (
                    i.schedule.clone(),
                    i.error.clone().unwrap_or_default().0,
                    i.dead_letter.clone(),
                )
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(
        failures,
        vec![(
            "stop-old".to_string(),
            "InvalidDBClusterStateFault".to_string(),
            Some("arn:aws:sqs:us-east-1:123456789012:scale0-dlq".to_string())
        )]
    );
    let errors = c
        .cloudwatch
        .get_metric_data()
        .metric_data_queries(
            aws_sdk_cloudwatch::types::MetricDataQuery::builder()
                .id("e")
                .metric_stat(
                    aws_sdk_cloudwatch::types::MetricStat::builder()
                        .metric(
                            aws_sdk_cloudwatch::types::Metric::builder()
                                .namespace("AWS/Scheduler")
                                .metric_name("TargetErrorCount")
                                .dimensions(
                                    aws_sdk_cloudwatch::types::Dimension::builder()
                                        .name("ScheduleGroup")
                                        .value("default")
                                        .build(),
                                )
                                .build(),
                        )
                        .period(3600)
                        .stat("Sum")
                        .build(),
                )
                .build(),
        )
        .start_time(aws_smithy_types::DateTime::from_secs_f64(start))
        .end_time(aws_smithy_types::DateTime::from_secs_f64(start + 86400.0))
        .send()
        .await
        .expect("metric");
    let total: f64 = errors.metric_data_results()[0].values().iter().sum();
    assert_eq!(total, 1.0, "one failed invocation");
    // A week later: Tuesday to Friday and the next Monday, two schedules each; the
    // weekend has none.
    let before = emu.with_world(|w, _| w.scheduler.invocations.len());
    emu.advance(7.0 * 86400.0);
    let after = emu.with_world(|w, _| w.scheduler.invocations.len());
    assert_eq!(after - before, 10);
}

#[tokio::test]
async fn bad_schedules_are_refused_in_awss_words() {
    let emu = common::emulator(Seed::Empty).await;
    let s = scheduler(&emu).await;
    let create = |name: &str, expr: &str, tz: &str, role: &str| {
        s.create_schedule()
            .name(name)
            .schedule_expression(expr)
            .schedule_expression_timezone(tz)
            .flexible_time_window(off())
            .target(
                Target::builder()
                    .arn("arn:aws:scheduler:::aws-sdk:rds:stopDBCluster")
                    .role_arn(role)
                    .input("{}")
                    .build()
                    .expect("target"),
            )
            .send()
    };
    let e = create("x", "cron(0 19 ? * MON-FRI *)", "Europe/Atlantis", ROLE)
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let e = create("x", "cron(0 19 * * MON-FRI *)", "UTC", ROLE)
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    // No IAM role the scheduler may assume.
    let e = create("x", "rate(1 hour)", "UTC", ROLE).await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert!(format!("{:?}", e.as_service_error()).contains("assume the role"));
    emu.with_world(|w, _| {
        w.scheduler.roles.insert(ROLE.into());
    });
    create("x", "rate(1 hour)", "UTC", ROLE)
        .await
        .expect("created");
    let e = create("x", "rate(1 hour)", "UTC", ROLE).await.unwrap_err();
    assert_eq!(code(&e), "ConflictException");
    let e = s.get_schedule().name("nope").send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    let e = s
        .list_schedules()
        .group_name("no-such-group")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    s.delete_schedule().name("x").send().await.expect("deleted");
    let groups = s.list_schedule_groups().send().await.expect("groups");
    assert_eq!(groups.schedule_groups().len(), 1, "the default group");
}

#[tokio::test]
async fn the_demo_world_shows_why_reporting_wont_sleep() {
    let emu = common::emulator(Seed::Demo).await;
    let rds = common::clients(&emu).await.rds;
    let proxies = rds.describe_db_proxies().send().await.expect("proxies");
    let names: Vec<&str> = proxies
        .db_proxies()
        .iter()
        .filter_map(|p| p.db_proxy_name())
        .collect();
    assert_eq!(names, ["reporting-proxy"]);
    let targets = rds
        .describe_db_proxy_targets()
        .db_proxy_name("reporting-proxy")
        .send()
        .await
        .expect("targets");
    assert!(
        targets
            .targets()
            .iter()
            .any(|t| t.rds_resource_id() == Some("reporting"))
    );
    let cluster = rds
        .describe_db_clusters()
        .db_cluster_identifier("reporting")
        .send()
        .await
        .expect("cluster");
    let group = cluster.db_clusters()[0]
        .db_cluster_parameter_group()
        .expect("group")
        .to_string();
    let params = rds
        .describe_db_cluster_parameters()
        .db_cluster_parameter_group_name(&group)
        .source("user")
        .send()
        .await
        .expect("parameters");
    let logical = params
        .parameters()
        .iter()
        .find(|p| p.parameter_name() == Some("rds.logical_replication"));
    assert_eq!(logical.and_then(|p| p.parameter_value()), Some("1"));
    let globals = rds
        .describe_global_clusters()
        .send()
        .await
        .expect("globals");
    assert_eq!(
        globals.global_clusters()[0].global_cluster_members()[0].db_cluster_arn(),
        cluster.db_clusters()[0].db_cluster_arn()
    );
    let integrations = rds
        .describe_integrations()
        .send()
        .await
        .expect("integrations");
    assert_eq!(integrations.integrations().len(), 1);
    // A global database's member can't be stopped.
    let e = rds
        .stop_db_cluster()
        .db_cluster_identifier("reporting")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidDBClusterStateFault");
    // frank's stopped cluster says when AWS will start it again.
    let frank = rds
        .describe_db_clusters()
        .db_cluster_identifier("scale0frank")
        .send()
        .await
        .expect("frank");
    let restart = frank.db_clusters()[0]
        .automatic_restart_time()
        .expect("restart time");
    assert!(restart.secs() as f64 > t0(), "in the future");
}

#[tokio::test]
async fn an_rds_proxy_keeps_an_idle_v2_writer_awake_until_it_goes() {
    let emu = common::emulator_with(&[common::env("ivy")]).await;
    emu.with_world(|w, _| w.clusters[0].blockers.proxy = Some("ivy-proxy".into()));
    emu.advance(3600.0);
    assert_eq!(emu.with_world(|w, _| w.clusters[0].power), Power::Awake);
    emu.with_world(|w, _| w.clusters[0].blockers.proxy = None);
    emu.advance(600.0);
    assert!(emu.with_world(|w, _| matches!(w.clusters[0].power, Power::Paused { .. })));
}
