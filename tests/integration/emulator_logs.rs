//! CloudWatch Logs in the emulator through the real aws-sdk-cloudwatchlogs: the groups
//! the demo world's history wrote, AWS's pagination tokens, filter patterns and errors,
//! and the FATAL line a burst's 500s leave in the app's log.

use crate::common::*;
use crate::emulator_workload::{burst, seed_like, service_url};
use aws_sdk_cloudwatchlogs::Client as Logs;
use scale0::emulator::Seed;
use scale0::emulator::world::service::AppServer;
use serde_json::json;

async fn logs(emu: &scale0::emulator::Emulator) -> Logs {
    Logs::new(&sdk_config(emu.endpoint_url()).await)
}

async fn group_of(logs: &Logs, prefix: &str) -> String {
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(prefix)
        .send()
        .await
        .unwrap();
    groups.log_groups()[0].log_group_name().unwrap().to_string()
}

#[tokio::test]
async fn describes_page_through_every_group_and_stream() {
    let emu = emulator(Seed::Demo).await;
    let logs = logs(&emu).await;
    let all = logs.describe_log_groups().send().await.unwrap();
    let names: Vec<_> = all
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name())
        .collect();
    assert!(
        names.contains(&"/aws/rds/cluster/scale0dev/postgresql"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"/aws/rds/cluster/scale0dave/postgresql"),
        "dave's cluster does not export its log"
    );
    // Pages of 3 cover the same groups once each, in the same order.
    let mut paged = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..20 {
        let page = logs
            .describe_log_groups()
            .limit(3)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        assert!(page.log_groups().len() <= 3);
        paged.extend(
            page.log_groups()
                .iter()
                .filter_map(|g| g.log_group_name().map(String::from)),
        );
        token = page.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    assert!(paged == names, "{paged:?} vs {names:?}");

    let service = group_of(&logs, "/aws/apprunner/scale0-qa/").await;
    let service = service.replace("/application", "/service");
    let streams = logs
        .describe_log_streams()
        .log_group_name(&service)
        .send()
        .await
        .unwrap();
    let streams: Vec<_> = streams
        .log_streams()
        .iter()
        .filter_map(|s| s.log_stream_name())
        .collect();
    assert!(streams.contains(&"events"), "{streams:?}");
    assert!(
        streams
            .iter()
            .any(|s| s.starts_with("deployment/") && s.len() == 11 + 32),
        "{streams:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn filter_and_get_paginate_without_gaps_or_duplicates() {
    let emu = emulator(Seed::Demo).await;
    let logs = logs(&emu).await;
    let group = group_of(&logs, "/aws/apprunner/scale0-qa/").await;
    // The last hour: under one page of 10,000 events.
    let (start, end) = (((t0() - 3600.0) * 1000.0) as i64, (t0() * 1000.0) as i64);
    let whole = logs
        .filter_log_events()
        .log_group_name(&group)
        .start_time(start)
        .end_time(end)
        .send()
        .await
        .unwrap();
    assert!(whole.next_token().is_none());
    let ids: Vec<_> = whole
        .events()
        .iter()
        .filter_map(|e| e.event_id())
        .map(String::from)
        .collect();
    assert!(
        ids.len() > 50,
        "the history wrote the app's lines: {}",
        ids.len()
    );
    let mut paged = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..ids.len() {
        let page = logs
            .filter_log_events()
            .log_group_name(&group)
            .start_time(start)
            .end_time(end)
            .limit(17)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        paged.extend(
            page.events()
                .iter()
                .filter_map(|e| e.event_id())
                .map(String::from),
        );
        token = page.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    assert!(
        paged == ids,
        "pages of 17 give the same {} events in the same order, got {}",
        ids.len(),
        paged.len()
    );
    let times: Vec<i64> = whole
        .events()
        .iter()
        .filter_map(|e| e.timestamp())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "interleaved in time order"
    );

    // GetLogEvents: forward from the head in pages, the forward token unchanged at the end.
    let stream = whole.events()[0].log_stream_name().unwrap().to_string();
    let mut forward = Vec::new();
    let mut token: Option<String> = None;
    let mut last_token = None;
    for _ in 0..10_000 {
        let page = logs
            .get_log_events()
            .log_group_name(&group)
            .log_stream_name(&stream)
            .start_from_head(true)
            .limit(25)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        let next = page.next_forward_token().map(String::from);
        if page.events().is_empty() {
            assert_eq!(next, token, "the end: the same token comes back");
            last_token = next;
            break;
        }
        forward.extend(
            page.events()
                .iter()
                .map(|e| (e.timestamp(), e.message().map(String::from))),
        );
        token = next;
    }
    assert!(last_token.is_some(), "reached the end");
    // Without startFromHead the first page is the newest events; backward pages go back.
    let tail = logs
        .get_log_events()
        .log_group_name(&group)
        .log_stream_name(&stream)
        .limit(10)
        .send()
        .await
        .unwrap();
    let tail_events: Vec<_> = tail
        .events()
        .iter()
        .map(|e| (e.timestamp(), e.message().map(String::from)))
        .collect();
    assert!(
        tail_events[..] == forward[forward.len() - 10..],
        "the tail is the newest 10"
    );
    let before = logs
        .get_log_events()
        .log_group_name(&group)
        .log_stream_name(&stream)
        .limit(10)
        .next_token(tail.next_backward_token().unwrap())
        .send()
        .await
        .unwrap();
    let before_events: Vec<_> = before
        .events()
        .iter()
        .map(|e| (e.timestamp(), e.message().map(String::from)))
        .collect();
    assert!(
        before_events[..] == forward[forward.len() - 20..forward.len() - 10],
        "the backward page is the 10 before"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn filter_patterns_and_errors_are_aws_shaped() {
    let emu = emulator(Seed::Demo).await;
    let logs = logs(&emu).await;
    let group = group_of(&logs, "/aws/apprunner/scale0-qa/")
        .await
        .replace("/application", "/service");
    let deployments = logs
        .filter_log_events()
        .log_group_name(&group)
        .filter_pattern("\"Deployment with ID\" successful -failed")
        .send()
        .await
        .unwrap();
    assert!(!deployments.events().is_empty());
    assert!(deployments.events().iter().all(|e| {
        let m = e.message().unwrap();
        m.contains("Deployment with ID") && m.contains("successful") && !m.contains("failed")
    }));

    let missing = logs
        .filter_log_events()
        .log_group_name("/aws/rds/cluster/scale0dave/postgresql")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        missing
            .as_service_error()
            .map(|e| e.is_resource_not_found_exception()),
        Some(true),
        "{missing:?}"
    );
    let bad = logs
        .filter_log_events()
        .log_group_name(&group)
        .filter_pattern("\"unterminated")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        bad.as_service_error()
            .map(|e| e.is_invalid_parameter_exception()),
        Some(true),
        "{bad:?}"
    );
    let bad_token = logs
        .get_log_events()
        .log_group_name(&group)
        .log_stream_name("events")
        .next_token("not-a-token")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        bad_token
            .as_service_error()
            .map(|e| e.is_invalid_parameter_exception()),
        Some(true)
    );

    let (status, body) = admin(
        &emu,
        "/_scale0/faults",
        json!({"service": "logs", "operation": "FilterLogEvents", "kind": "throttle", "count": 1}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let throttled = logs
        .filter_log_events()
        .log_group_name(&group)
        .customize()
        .config_override(
            aws_sdk_cloudwatchlogs::config::Config::builder()
                .retry_config(aws_config::retry::RetryConfig::disabled()),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        throttled.as_service_error().and_then(|e| e.meta().code()),
        Some("ThrottlingException"),
        "{throttled:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn the_500s_of_a_burst_leave_the_fatal_line_in_the_app_log() {
    let mut spec = seed_like("dev", AppServer::ThreadPerConnection, 1);
    if let Some(c) = spec.cluster.as_mut() {
        c.log_export = true;
    }
    let emu = emulator_with(&[spec]).await;
    let c = clients(&emu).await;
    let url = service_url(&c, "scale0-dev").await;
    let results = burst(&url, 150, 1).await;
    let errors = results.iter().filter(|(s, _)| *s == 500).count();
    assert!(errors > 0, "the burst ran out of connections");

    let logs = logs(&emu).await;
    let app = group_of(&logs, "/aws/apprunner/scale0-dev/").await;
    let fatal = logs
        .filter_log_events()
        .log_group_name(&app)
        .filter_pattern("\"remaining connection slots are reserved\"")
        .send()
        .await
        .unwrap();
    assert_eq!(fatal.events().len(), errors, "one traceback per 500");
    let first = fatal.events()[0].message().unwrap();
    assert!(
        first.starts_with("Internal Server Error: /") && first.contains("OperationalError"),
        "{first}"
    );
    let db = logs
        .filter_log_events()
        .log_group_name("/aws/rds/cluster/scale0dev/postgresql")
        .filter_pattern("FATAL")
        .send()
        .await
        .unwrap();
    assert!(
        !db.events().is_empty(),
        "the database logs its refusals too"
    );
    // Access lines are sampled under load: never more than one per request.
    let access = logs
        .filter_log_events()
        .log_group_name(&app)
        .filter_pattern("\"GET / HTTP/1.1\"")
        .send()
        .await
        .unwrap();
    assert!(!access.events().is_empty() && access.events().len() <= results.len());
    emu.shutdown().await;
}
