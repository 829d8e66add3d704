//! The official aws-sdk-* clients against the emulator: every operation scale0 uses,
//! typed errors, and the state machines on an advanced clock.

use crate::common::*;
use aws_sdk_apprunner::types::{
    ImageRepository, ImageRepositoryType, OperationStatus, OperationType, ServiceStatus,
    SourceConfiguration, Tag,
};
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_smithy_types::DateTime;
use scale0::emulator::Seed;
use scale0::emulator::seed::ClusterSpec;

const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/scale0";

#[tokio::test]
async fn apprunner_lists_describes_and_tags_services() {
    let emu = emulator(Seed::Demo).await;
    let c = clients(&emu).await;
    // Pages of 2 walk the whole list.
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .apprunner
            .list_services()
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        names.extend(
            page.service_summary_list()
                .iter()
                .filter_map(|s| s.service_name().map(str::to_string)),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(
        names,
        [
            "scale0-dev",
            "scale0-qa",
            "scale0-carol",
            "scale0-dave",
            "scale0-erin",
            "scale0-frank"
        ]
    );

    let arn = service_arn(&c, "scale0-qa").await;
    let svc = c
        .apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    let svc = svc.service().unwrap();
    assert_eq!(svc.status(), &ServiceStatus::Running);
    let url = svc.service_url().unwrap();
    assert!(
        url.starts_with("127.0.0.1:") && !url.contains("://"),
        "no scheme, as on AWS: {url}"
    );
    let image = svc
        .source_configuration()
        .unwrap()
        .image_repository()
        .unwrap();
    assert_eq!(image.image_identifier(), format!("{IMAGE}:qa"));
    let scaling_arn = svc
        .auto_scaling_configuration_summary()
        .unwrap()
        .auto_scaling_configuration_arn()
        .unwrap();
    let scaling = c
        .apprunner
        .describe_auto_scaling_configuration()
        .auto_scaling_configuration_arn(scaling_arn)
        .send()
        .await
        .unwrap();
    let scaling = scaling.auto_scaling_configuration().unwrap();
    assert_eq!(
        (
            scaling.max_concurrency(),
            scaling.min_size(),
            scaling.max_size()
        ),
        (Some(50), Some(1), Some(4))
    );

    c.apprunner
        .tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("team").value("web").build())
        .send()
        .await
        .unwrap();
    let tags = c
        .apprunner
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = tags.tags().iter().filter_map(|t| t.key()).collect();
    assert_eq!(keys, ["scale0:env", "scale0:owner", "team"]);
    c.apprunner
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = c
        .apprunner
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 2);

    let missing = c
        .apprunner
        .describe_service()
        .service_arn(arn.replace("scale0-qa", "nope"))
        .send()
        .await
        .unwrap_err();
    assert!(
        missing
            .as_service_error()
            .unwrap()
            .is_resource_not_found_exception(),
        "{missing:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn apprunner_pause_resume_and_refusals_follow_the_state_machine() {
    let emu = emulator_with(&[env("a")]).await;
    let c = clients(&emu).await;
    let arn = service_arn(&c, "scale0-a").await;

    let paused = c
        .apprunner
        .pause_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        paused.service().unwrap().status(),
        &ServiceStatus::OperationInProgress
    );
    let op_id = paused.operation_id().unwrap().to_string();
    // Refused while the pause runs: a typed InvalidStateException.
    let again = c
        .apprunner
        .pause_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(
        again
            .as_service_error()
            .unwrap()
            .is_invalid_state_exception(),
        "{again:?}"
    );
    let update = c
        .apprunner
        .update_service()
        .service_arn(&arn)
        .source_configuration(
            SourceConfiguration::builder()
                .image_repository(
                    ImageRepository::builder()
                        .image_identifier(format!("{IMAGE}:a"))
                        .image_repository_type(ImageRepositoryType::Ecr)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        update
            .as_service_error()
            .unwrap()
            .is_invalid_state_exception()
    );

    emu.advance(130.0);
    let svc = c
        .apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(svc.service().unwrap().status(), &ServiceStatus::Paused);
    let ops = c
        .apprunner
        .list_operations()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    let newest = &ops.operation_summary_list()[0];
    assert_eq!(newest.id(), Some(op_id.as_str()));
    assert_eq!(newest.r#type(), Some(&OperationType::PauseService));
    assert_eq!(newest.status(), Some(&OperationStatus::Succeeded));
    assert!(newest.ended_at().is_some());

    // StartDeployment on a paused service is refused (InvalidRequest: the model has no
    // InvalidState for it).
    let deploy = c
        .apprunner
        .start_deployment()
        .service_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(
        deploy
            .as_service_error()
            .unwrap()
            .is_invalid_request_exception(),
        "{deploy:?}"
    );

    c.apprunner
        .resume_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    emu.advance(60.0);
    let mid = c
        .apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        mid.service().unwrap().status(),
        &ServiceStatus::OperationInProgress,
        "resume takes 60-120 s"
    );
    emu.advance(70.0);
    let svc = c
        .apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(svc.service().unwrap().status(), &ServiceStatus::Running);
    emu.shutdown().await;
}

#[tokio::test]
async fn apprunner_deploys_take_minutes_and_failed_ones_roll_back() {
    let emu = emulator_with(&[env("a")]).await;
    let c = clients(&emu).await;
    let arn = service_arn(&c, "scale0-a").await;
    let v15 = format!("{IMAGE}:v1.5.1");
    // v1.5.1 does not exist yet in this world: push it through the admin route.
    let (status, _) = admin(
        &emu,
        "/_scale0/ecr/push",
        serde_json::json!({"repository": "scale0", "tag": "v1.5.1"}),
    )
    .await;
    assert_eq!(status, 200);

    let update = |image: String| {
        c.apprunner
            .update_service()
            .service_arn(&arn)
            .source_configuration(
                SourceConfiguration::builder()
                    .image_repository(
                        ImageRepository::builder()
                            .image_identifier(image)
                            .image_repository_type(ImageRepositoryType::Ecr)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
    };
    let out = update(v15.clone()).send().await.unwrap();
    assert_eq!(
        out.service().unwrap().status(),
        &ServiceStatus::OperationInProgress
    );
    emu.advance(200.0);
    let ops = c
        .apprunner
        .list_operations()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ops.operation_summary_list()[0].status(),
        Some(&OperationStatus::InProgress),
        "deploys take 4-6 minutes"
    );
    emu.advance(200.0);
    let svc = c
        .apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    let svc = svc.service().unwrap();
    assert_eq!(svc.status(), &ServiceStatus::Running);
    assert_eq!(
        svc.source_configuration()
            .unwrap()
            .image_repository()
            .unwrap()
            .image_identifier(),
        v15
    );

    // A failed health check: the operation rolls back to the previous image.
    let (status, _) = admin(
        &emu,
        "/_scale0/faults/deploy-failure",
        serde_json::json!({"service": "scale0-a"}),
    )
    .await;
    assert_eq!(status, 200);
    update(format!("{IMAGE}:a")).send().await.unwrap();
    emu.advance(600.0);
    let ops = c
        .apprunner
        .list_operations()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ops.operation_summary_list()[0].status(),
        Some(&OperationStatus::RollbackSucceeded)
    );
    let svc = c
        .apprunner
        .describe_service()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        svc.service()
            .unwrap()
            .source_configuration()
            .unwrap()
            .image_repository()
            .unwrap()
            .image_identifier(),
        v15
    );

    // An image that does not exist fails the same way; an invalid identifier is refused.
    update(format!("{IMAGE}:no-such-tag")).send().await.unwrap();
    emu.advance(600.0);
    let ops = c
        .apprunner
        .list_operations()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ops.operation_summary_list()[0].status(),
        Some(&OperationStatus::RollbackSucceeded)
    );
    let bad = update("nginx:latest".into()).send().await.unwrap_err();
    assert!(
        bad.as_service_error()
            .unwrap()
            .is_invalid_request_exception()
    );

    let dep = c
        .apprunner
        .start_deployment()
        .service_arn(&arn)
        .send()
        .await
        .unwrap();
    let ops = c
        .apprunner
        .list_operations()
        .service_arn(&arn)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ops.operation_summary_list()[0].id(),
        Some(dep.operation_id())
    );
    assert_eq!(
        ops.operation_summary_list()[0].r#type(),
        Some(&OperationType::StartDeployment)
    );
    assert!(ops.next_token().is_some());
    emu.shutdown().await;
}

#[tokio::test]
async fn ecr_describes_repositories_and_images() {
    let emu = emulator(Seed::Demo).await;
    let c = clients(&emu).await;
    let repos = c.ecr.describe_repositories().send().await.unwrap();
    assert_eq!(repos.repositories()[0].repository_name(), Some("scale0"));
    assert_eq!(repos.repositories()[0].repository_uri(), Some(IMAGE));

    let images = c
        .ecr
        .describe_images()
        .repository_name("scale0")
        .send()
        .await
        .unwrap();
    let tags: Vec<&str> = images
        .image_details()
        .iter()
        .flat_map(|i| i.image_tags())
        .map(String::as_str)
        .collect();
    for tag in ["dev", "qa", "v1.4.0", "v1.5.1", "dave"] {
        assert!(tags.contains(&tag), "{tag} in {tags:?}");
    }
    let untagged = c
        .ecr
        .describe_images()
        .repository_name("scale0")
        .filter(
            aws_sdk_ecr::types::DescribeImagesFilter::builder()
                .tag_status(aws_sdk_ecr::types::TagStatus::Untagged)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        untagged
            .image_details()
            .iter()
            .all(|i| i.image_tags().is_empty())
    );
    assert!(!untagged.image_details().is_empty());
    let one = c
        .ecr
        .describe_images()
        .repository_name("scale0")
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag("qa")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let detail = &one.image_details()[0];
    assert!(detail.image_digest().unwrap().starts_with("sha256:"));
    assert!(detail.image_size_in_bytes().unwrap() > 100_000_000);
    assert!(detail.image_pushed_at().is_some());

    let listed = c
        .ecr
        .list_images()
        .repository_name("scale0")
        .max_results(3)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.image_ids().len(), 3);
    assert!(listed.next_token().is_some());

    let missing = c
        .ecr
        .describe_images()
        .repository_name("nope")
        .send()
        .await
        .unwrap_err();
    assert!(
        missing
            .as_service_error()
            .unwrap()
            .is_repository_not_found_exception()
    );
    let no_tag = c
        .ecr
        .describe_images()
        .repository_name("scale0")
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag("nope")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        no_tag
            .as_service_error()
            .unwrap()
            .is_image_not_found_exception()
    );
    emu.shutdown().await;
}

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

/// One metric's (timestamp, value) points over the last 30 minutes, oldest first.
pub async fn metric(
    c: &Clients,
    namespace: &str,
    name: &str,
    dims: &[(&str, &str)],
    stat: &str,
) -> Vec<(i64, f64)> {
    let metric = Metric::builder()
        .namespace(namespace)
        .metric_name(name)
        .set_dimensions(Some(
            dims.iter()
                .map(|(k, v)| Dimension::builder().name(*k).value(*v).build())
                .collect(),
        ))
        .build();
    let emu_now = current_time(c).await;
    let out = c
        .cloudwatch
        .get_metric_data()
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("m")
                .metric_stat(
                    MetricStat::builder()
                        .metric(metric)
                        .period(60)
                        .stat(stat)
                        .build(),
                )
                .build(),
        )
        .start_time(DateTime::from_secs(emu_now as i64 - 1800))
        .end_time(DateTime::from_secs(emu_now as i64))
        .scan_by(ScanBy::TimestampAscending)
        .send()
        .await
        .expect("GetMetricData");
    let r = &out.metric_data_results()[0];
    r.timestamps()
        .iter()
        .map(|t| t.secs())
        .zip(r.values().iter().copied())
        .collect()
}

/// The emulator's present, from its admin route (tests share no state for it).
async fn current_time(c: &Clients) -> f64 {
    let endpoint = &c.endpoint;
    let clock: serde_json::Value = reqwest::get(format!("{endpoint}/_scale0/clock"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    clock["now"].as_f64().unwrap()
}

#[tokio::test]
async fn cloudwatch_get_metric_data_answers_many_queries_with_gaps() {
    let emu = emulator(Seed::Demo).await;
    let c = clients(&emu).await;
    let listed = c
        .cloudwatch
        .list_metrics()
        .namespace("AWS/AppRunner")
        .dimensions(
            aws_sdk_cloudwatch::types::DimensionFilter::builder()
                .name("ServiceName")
                .value("scale0-qa")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let names: Vec<_> = listed
        .metrics()
        .iter()
        .filter_map(|m| m.metric_name())
        .collect();
    for n in [
        "ActiveInstances",
        "Concurrency",
        "Requests",
        "2xxStatusResponses",
        "5xxStatusResponses",
        "RequestLatency",
    ] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let dims = listed.metrics()[0].dimensions().to_vec();
    assert_eq!(
        dims.iter().filter_map(|d| d.name()).collect::<Vec<_>>(),
        ["ServiceID", "ServiceName"]
    );

    let query = |id: &str, name: &str, stat: &str, period: i32| {
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace("AWS/AppRunner")
                            .metric_name(name)
                            .set_dimensions(Some(dims.clone()))
                            .build(),
                    )
                    .period(period)
                    .stat(stat)
                    .build(),
            )
            .build()
    };
    let out = c
        .cloudwatch
        .get_metric_data()
        .metric_data_queries(query("requests", "Requests", "Sum", 60))
        .metric_data_queries(query("latency", "RequestLatency", "p99", 300))
        .metric_data_queries(query("instances", "ActiveInstances", "Maximum", 3600))
        .start_time(DateTime::from_secs(t0() as i64 - 86400))
        .end_time(DateTime::from_secs(t0() as i64))
        .send()
        .await
        .unwrap();
    let results = out.metric_data_results();
    assert_eq!(results.len(), 3);
    let requests = &results[0];
    assert_eq!(
        requests.status_code(),
        Some(&aws_sdk_cloudwatch::types::StatusCode::Complete)
    );
    assert!(
        requests.timestamps().len() > 100 && requests.timestamps().len() < 1440,
        "gaps stay gaps: {}",
        requests.timestamps().len()
    );
    assert!(
        requests.timestamps().windows(2).all(|w| w[0] > w[1]),
        "TimestampDescending by default"
    );
    assert!(results[1].values().iter().all(|v| *v > 0.0));
    assert!(results[2].timestamps().len() <= 25);

    let bad = c
        .cloudwatch
        .get_metric_data()
        .metric_data_queries(query("x", "Requests", "Sum", 61))
        .start_time(DateTime::from_secs(t0() as i64 - 600))
        .end_time(DateTime::from_secs(t0() as i64))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad), "InvalidParameterValue", "{bad:?}");
    emu.shutdown().await;
}
