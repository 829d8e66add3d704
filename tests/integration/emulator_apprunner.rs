//! The official aws-sdk-apprunner client against the emulator: every App Runner operation
//! scale0 uses, typed errors, and the service state machine on an advanced clock.

use crate::common::*;
use aws_sdk_apprunner::types::{
    ImageRepository, ImageRepositoryType, OperationStatus, OperationType, ServiceStatus,
    SourceConfiguration, Tag,
};
use scale0::emulator::Seed;

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
