//! The official aws-sdk-rds and rds-data clients against the emulator: clusters and
//! instances, stop/start, v2 auto-pause and the Data API's wake, v1 capacity, scaling and
//! tags, on an advanced clock.

use crate::common::*;
use crate::emulator_sdk::metric;
use aws_smithy_types::DateTime;
use scale0::emulator::Seed;
use scale0::emulator::seed::ClusterSpec;

#[tokio::test]
async fn rds_describes_clusters_instances_and_modes() {
    let emu = emulator(Seed::Demo).await;
    let c = clients(&emu).await;
    let clusters = c.rds.describe_db_clusters().send().await.unwrap();
    let find = |id: &str| {
        clusters
            .db_clusters()
            .iter()
            .find(|c| c.db_cluster_identifier() == Some(id))
            .unwrap()
            .clone()
    };
    let dev = find("scale0dev");
    assert_eq!(dev.engine_mode(), Some("serverless"));
    assert!(dev.capacity().is_some());
    assert_eq!(
        dev.scaling_configuration_info().unwrap().min_capacity(),
        Some(2)
    );
    let qa = find("scale0qa");
    assert_eq!(qa.engine_mode(), Some("provisioned"));
    let v2 = qa.serverless_v2_scaling_configuration().unwrap();
    assert_eq!(
        (
            v2.min_capacity(),
            v2.max_capacity(),
            v2.seconds_until_auto_pause()
        ),
        (Some(0.0), Some(4.0), Some(600))
    );
    assert_eq!(qa.http_endpoint_enabled(), Some(true));
    assert!(
        qa.master_user_secret()
            .unwrap()
            .secret_arn()
            .unwrap()
            .starts_with("arn:aws:secretsmanager:")
    );
    assert_eq!(qa.db_cluster_members()[0].is_cluster_writer(), Some(true));
    let frank = find("scale0frank");
    assert_eq!(frank.status(), Some("stopped"));
    assert!(frank.automatic_restart_time().is_some());
    let tag_keys: Vec<_> = qa.tag_list().iter().filter_map(|t| t.key()).collect();
    assert_eq!(tag_keys, ["scale0:env", "scale0:owner"]);

    let one = c
        .rds
        .describe_db_clusters()
        .db_cluster_identifier("scale0qa")
        .send()
        .await
        .unwrap();
    assert_eq!(one.db_clusters().len(), 1);
    let missing = c
        .rds
        .describe_db_clusters()
        .db_cluster_identifier("nope")
        .send()
        .await
        .unwrap_err();
    assert!(
        missing
            .as_service_error()
            .unwrap()
            .is_db_cluster_not_found_fault(),
        "{missing:?}"
    );

    let instances = c
        .rds
        .describe_db_instances()
        .filters(
            aws_sdk_rds::types::Filter::builder()
                .name("db-cluster-id")
                .values("scale0qa")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let writer = &instances.db_instances()[0];
    assert_eq!(writer.db_instance_class(), Some("db.serverless"));
    assert_eq!(writer.db_instance_status(), Some("available"));
    let all = c.rds.describe_db_instances().send().await.unwrap();
    assert!(
        all.db_instances()
            .iter()
            .all(|i| i.db_cluster_identifier() != Some("scale0dev")),
        "v1 clusters show no instances"
    );
    let reporting = all
        .db_instances()
        .iter()
        .find(|i| i.db_cluster_identifier() == Some("reporting"))
        .unwrap();
    assert_eq!(reporting.db_instance_class(), Some("db.t4g.medium"));
    emu.shutdown().await;
}

#[tokio::test]
async fn rds_stop_start_and_the_seven_day_restart() {
    let emu = emulator_with(&[env("a")]).await;
    let c = clients(&emu).await;
    let stopped = c
        .rds
        .stop_db_cluster()
        .db_cluster_identifier("scale0a")
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.db_cluster().unwrap().status(), Some("stopping"));
    let twice = c
        .rds
        .stop_db_cluster()
        .db_cluster_identifier("scale0a")
        .send()
        .await
        .unwrap_err();
    assert!(
        twice
            .as_service_error()
            .unwrap()
            .is_invalid_db_cluster_state_fault(),
        "{twice:?}"
    );
    let modify = c
        .rds
        .modify_db_cluster()
        .db_cluster_identifier("scale0a")
        .enable_http_endpoint(false)
        .send()
        .await
        .unwrap_err();
    assert!(
        modify
            .as_service_error()
            .unwrap()
            .is_invalid_db_cluster_state_fault()
    );
    emu.advance(200.0);
    let cl = c
        .rds
        .describe_db_clusters()
        .db_cluster_identifier("scale0a")
        .send()
        .await
        .unwrap();
    let cl = &cl.db_clusters()[0];
    assert_eq!(cl.status(), Some("stopped"));
    let restart = cl.automatic_restart_time().unwrap().secs() as f64;
    assert!(
        (restart - (t0() + 180.0 + 7.0 * 86400.0)).abs() < 5.0,
        "{restart}"
    );
    // Seven days later it starts by itself.
    emu.advance(7.0 * 86400.0 + 400.0);
    let cl = c
        .rds
        .describe_db_clusters()
        .db_cluster_identifier("scale0a")
        .send()
        .await
        .unwrap();
    assert_eq!(cl.db_clusters()[0].status(), Some("available"));
    let events = c
        .rds
        .describe_events()
        .source_type(aws_sdk_rds::types::SourceType::DbCluster)
        .source_identifier("scale0a")
        .start_time(DateTime::from_secs(t0() as i64))
        .send()
        .await
        .unwrap();
    let messages: Vec<_> = events.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(
        messages,
        [
            "DB cluster stopped.",
            "DB cluster is being started due to it exceeding the maximum allowed time being stopped.",
            "DB cluster started."
        ]
    );

    c.rds
        .stop_db_cluster()
        .db_cluster_identifier("scale0a")
        .send()
        .await
        .unwrap();
    emu.advance(200.0);
    let started = c
        .rds
        .start_db_cluster()
        .db_cluster_identifier("scale0a")
        .send()
        .await
        .unwrap();
    assert_eq!(started.db_cluster().unwrap().status(), Some("starting"));
    emu.advance(310.0);
    let cl = c
        .rds
        .describe_db_clusters()
        .db_cluster_identifier("scale0a")
        .send()
        .await
        .unwrap();
    assert_eq!(cl.db_clusters()[0].status(), Some("available"));
    emu.shutdown().await;
}

#[tokio::test]
async fn rds_v2_auto_pauses_and_the_data_api_wakes_it() {
    let emu = emulator_with(&[env("a")]).await;
    let c = clients(&emu).await;
    let cl = c
        .rds
        .describe_db_clusters()
        .db_cluster_identifier("scale0a")
        .send()
        .await
        .unwrap();
    let cl = cl.db_clusters()[0].clone();
    let (arn, secret) = (
        cl.db_cluster_arn().unwrap().to_string(),
        cl.master_user_secret()
            .unwrap()
            .secret_arn()
            .unwrap()
            .to_string(),
    );

    // No connections: after SecondsUntilAutoPause (300 s) the writer pauses.
    emu.advance(290.0);
    let select = || {
        c.rdsdata
            .execute_statement()
            .resource_arn(&arn)
            .secret_arn(&secret)
            .sql("SELECT 1")
    };
    let ok = select().send().await.unwrap();
    assert_eq!(ok.records()[0][0].as_long_value().ok(), Some(&1));
    // That call reset the idle timer; now stay idle.
    emu.advance(400.0);
    let events = c
        .rds
        .describe_events()
        .source_type(aws_sdk_rds::types::SourceType::DbInstance)
        .source_identifier("scale0a-instance-1")
        .duration(60)
        .send()
        .await
        .unwrap();
    let messages: Vec<_> = events.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(
        messages,
        [
            "Initiated pause for the DB instance.",
            "Successfully paused the DB instance."
        ]
    );
    assert_eq!(
        events.events()[0].event_categories(),
        ["notification", "serverless"]
    );
    // Status still says available: paused is only visible in metrics and events.
    let cl = c
        .rds
        .describe_db_clusters()
        .db_cluster_identifier("scale0a")
        .send()
        .await
        .unwrap();
    assert_eq!(cl.db_clusters()[0].status(), Some("available"));
    emu.advance(120.0);
    let capacity = metric(
        &c,
        "AWS/RDS",
        "ServerlessDatabaseCapacity",
        &[("DBClusterIdentifier", "scale0a")],
        "Maximum",
    )
    .await;
    assert_eq!(capacity.last().map(|p| p.1), Some(0.0), "{capacity:?}");

    // The Data API wakes it: the first call is cancelled with DatabaseResumingException.
    let resuming = select().send().await.unwrap_err();
    assert!(
        resuming
            .as_service_error()
            .unwrap()
            .is_database_resuming_exception(),
        "{resuming:?}"
    );
    emu.advance(5.0);
    assert!(
        select()
            .send()
            .await
            .unwrap_err()
            .as_service_error()
            .unwrap()
            .is_database_resuming_exception()
    );
    emu.advance(11.0);
    select().send().await.expect("resumed after about 15 s");
    let events = c
        .rds
        .describe_events()
        .source_type(aws_sdk_rds::types::SourceType::DbInstance)
        .duration(1)
        .send()
        .await
        .unwrap();
    let messages: Vec<_> = events.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(
        messages,
        [
            "Initiated resume for the DB instance.",
            "Successfully resumed the DB instance."
        ]
    );
    emu.advance(60.0);
    let capacity = metric(
        &c,
        "AWS/RDS",
        "ServerlessDatabaseCapacity",
        &[("DBClusterIdentifier", "scale0a")],
        "Maximum",
    )
    .await;
    assert!(capacity.last().unwrap().1 >= 0.5, "{capacity:?}");

    // Data API refusals.
    c.rds
        .modify_db_cluster()
        .db_cluster_identifier("scale0a")
        .enable_http_endpoint(false)
        .send()
        .await
        .unwrap();
    let off = select().send().await.unwrap_err();
    assert!(
        off.as_service_error()
            .unwrap()
            .is_http_endpoint_not_enabled_exception()
    );
    let bad = c
        .rdsdata
        .execute_statement()
        .resource_arn("arn:aws:rds:us-east-1:123456789012:cluster:nope")
        .secret_arn(&secret)
        .sql("SELECT 1")
        .send()
        .await
        .unwrap_err();
    assert!(bad.as_service_error().unwrap().is_bad_request_exception());
    emu.shutdown().await;
}

#[tokio::test]
async fn rds_v1_legacy_pauses_and_resumes_by_capacity_change() {
    let emu = emulator_with(&[env_with_cluster("old", ClusterSpec::v1())]).await;
    let c = clients(&emu).await;
    emu.advance(400.0);
    let cl = c
        .rds
        .describe_db_clusters()
        .db_cluster_identifier("scale0old")
        .send()
        .await
        .unwrap();
    assert_eq!(
        cl.db_clusters()[0].capacity(),
        Some(0),
        "paused v1 reports capacity 0"
    );
    assert_eq!(cl.db_clusters()[0].status(), Some("available"));
    let stop = c
        .rds
        .stop_db_cluster()
        .db_cluster_identifier("scale0old")
        .send()
        .await
        .unwrap_err();
    assert!(
        stop.as_service_error()
            .unwrap()
            .is_invalid_db_cluster_state_fault(),
        "v1 can't be stopped"
    );
    let bad = c
        .rds
        .modify_current_db_cluster_capacity()
        .db_cluster_identifier("scale0old")
        .capacity(3)
        .send()
        .await
        .unwrap_err();
    assert!(
        bad.as_service_error()
            .unwrap()
            .is_invalid_db_cluster_capacity_fault(),
        "{bad:?}"
    );
    let out = c
        .rds
        .modify_current_db_cluster_capacity()
        .db_cluster_identifier("scale0old")
        .capacity(4)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (out.current_capacity(), out.pending_capacity()),
        (Some(0), Some(4))
    );
    emu.advance(35.0);
    let cl = c
        .rds
        .describe_db_clusters()
        .db_cluster_identifier("scale0old")
        .send()
        .await
        .unwrap();
    assert_eq!(cl.db_clusters()[0].capacity(), Some(4));
    let events = c
        .rds
        .describe_events()
        .source_type(aws_sdk_rds::types::SourceType::DbCluster)
        .source_identifier("scale0old")
        .send()
        .await
        .unwrap();
    let messages: Vec<_> = events.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(
        messages,
        [
            "The DB cluster is being paused.",
            "The DB cluster is paused.",
            "The DB cluster is being resumed.",
            "The DB cluster is resumed."
        ]
    );
    // Not a v2 cluster: v2 scaling is refused.
    let v2 = c
        .rds
        .modify_db_cluster()
        .db_cluster_identifier("scale0old")
        .serverless_v2_scaling_configuration(
            aws_sdk_rds::types::ServerlessV2ScalingConfiguration::builder()
                .min_capacity(0.0)
                .max_capacity(2.0)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&v2), "InvalidParameterCombination");
    emu.shutdown().await;
}

#[tokio::test]
async fn rds_modify_scaling_range_and_tags() {
    let emu = emulator_with(&[env("a")]).await;
    let c = clients(&emu).await;
    let out = c
        .rds
        .modify_db_cluster()
        .db_cluster_identifier("scale0a")
        .serverless_v2_scaling_configuration(
            aws_sdk_rds::types::ServerlessV2ScalingConfiguration::builder()
                .min_capacity(0.5)
                .max_capacity(8.0)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let v2 = out
        .db_cluster()
        .unwrap()
        .serverless_v2_scaling_configuration()
        .unwrap();
    assert_eq!(
        (
            v2.min_capacity(),
            v2.max_capacity(),
            v2.seconds_until_auto_pause()
        ),
        (Some(0.5), Some(8.0), None)
    );
    let bad = c
        .rds
        .modify_db_cluster()
        .db_cluster_identifier("scale0a")
        .serverless_v2_scaling_configuration(
            aws_sdk_rds::types::ServerlessV2ScalingConfiguration::builder()
                .min_capacity(4.0)
                .max_capacity(2.0)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad), "InvalidParameterValue");

    let arn = "arn:aws:rds:us-east-1:123456789012:cluster:scale0a";
    c.rds
        .add_tags_to_resource()
        .resource_name(arn)
        .tags(
            aws_sdk_rds::types::Tag::builder()
                .key("scale0:owner")
                .value("zoe")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let tags = c
        .rds
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .unwrap();
    let owner = tags
        .tag_list()
        .iter()
        .find(|t| t.key() == Some("scale0:owner"))
        .unwrap();
    assert_eq!(owner.value(), Some("zoe"));
    emu.shutdown().await;
}
