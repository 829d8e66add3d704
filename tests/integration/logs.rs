//! scale0's log reading (backend/logs) through the real aws-sdk-cloudwatchlogs against
//! the emulator: every page of a window, the log that is not exported, a pattern AWS
//! refuses, throttling waited out and said, a follow that loses the endpoint and resumes
//! without duplicates, and the FATAL line a burst's 500s leave in the app log.

use crate::backend::backend;
use crate::common::*;
use crate::emulator_workload::{burst, seed_like, service_url};
use scale0::backend::BackendError;
use scale0::backend::aws::AwsBackend;
use scale0::backend::logs::{FollowState, Follower, LogQuery, LogTarget, Pacing};
use scale0::emulator::world::service::AppServer;
use scale0::emulator::{Emulator, Seed};
use scale0::model::Environment;
use scale0::model::logs::{LogLine, LogMark, LogSource};
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;

/// Quick pacing: the emulator's limits are the test's, not AWS's per-account ones.
pub fn quick() -> Pacing {
    Pacing {
        min_gap: Duration::from_millis(1),
        interval: Duration::from_millis(5),
        max_interval: Duration::from_millis(40),
        backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(40),
        ..Pacing::default()
    }
}

async fn env_of(b: &AwsBackend, name: &str) -> Environment {
    b.inventory().await.unwrap().resolve(name).unwrap().clone()
}

fn query(start: f64, filter: &str) -> LogQuery {
    LogQuery {
        start,
        end: None,
        filter: filter.into(),
        max_lines: 1_000_000,
    }
}

/// Every line in the group from `start`, paged by the SDK's own paginator.
async fn sdk_lines(emu: &Emulator, target: &LogTarget, start: f64) -> Vec<String> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk_config(emu.endpoint_url()).await);
    let mut pages = logs
        .filter_log_events()
        .log_group_name(&target.place.group)
        .set_log_stream_name_prefix(target.place.stream_prefix.clone())
        .start_time((start * 1000.0) as i64)
        .into_paginator()
        .send();
    let mut ids = Vec::new();
    while let Some(page) = pages.next().await {
        for e in page.unwrap().events() {
            ids.push(e.event_id().unwrap().to_string());
        }
    }
    ids
}

fn ids(lines: &[LogLine]) -> Vec<String> {
    lines.iter().map(|l| l.id.clone()).collect()
}

async fn fault(emu: &Emulator, kind: &str, count: u32) {
    let (status, body) = admin(
        emu,
        "/_scale0/faults",
        json!({"service": "logs", "operation": "FilterLogEvents", "kind": kind, "count": count}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

/// `n` requests to the service, a second apart on the emulator's clock, so each leaves
/// its own access line (the logger keeps 20 a second per instance).
async fn requests(emu: &Emulator, url: &str, n: usize) {
    let client = reqwest::Client::new();
    for _ in 0..n {
        emu.advance(1.0);
        let r = client.get(url).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
}

/// Polls until the follower has caught up, at most `polls` times.
async fn drain(f: &mut Follower, polls: usize) -> (Vec<LogLine>, Vec<LogMark>, Vec<FollowState>) {
    let (mut lines, mut marks, mut states) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..polls {
        let u = f.poll().await.expect("poll");
        lines.extend(u.lines);
        marks.extend(u.marks);
        states.push(u.state);
        if u.caught_up {
            return (lines, marks, states);
        }
        tokio::time::sleep(u.wait).await;
    }
    panic!("not caught up after {polls} polls: {states:?}");
}

#[tokio::test]
async fn reads_every_page_of_a_window_once_in_time_order() {
    let emu = emulator(Seed::Demo).await;
    let b = backend(&emu).await;
    let dev = env_of(&b, "dev").await;
    let start = emu.clock().now() - 2.0 * 86400.0;
    for (source, page) in [(LogSource::App, 500), (LogSource::Events, 2)] {
        let target = b.log_target(&dev, source).unwrap();
        let read = b
            .read_logs_paced(&target, &query(start, ""), Pacing { page, ..quick() })
            .await
            .unwrap();
        let expected = sdk_lines(&emu, &target, start).await;
        assert!(
            expected.len() > page as usize,
            "{source:?}: more than one page ({})",
            expected.len()
        );
        assert_eq!(ids(&read.lines), expected, "{source:?}: every line, once");
        assert!(read.lines.windows(2).all(|w| w[0].time <= w[1].time));
        assert_eq!((read.truncated, read.throttled), (None, 0));
    }
    // The deployment source reads only the deployment streams.
    let deploy = b.log_target(&dev, LogSource::Deploy).unwrap();
    let read = b
        .read_logs_paced(&deploy, &query(start, ""), quick())
        .await
        .unwrap();
    assert!(!read.lines.is_empty());
    assert!(
        read.lines
            .iter()
            .all(|l| l.stream.starts_with("deployment/"))
    );
    // A limit stops the read and says where the rest starts.
    let app = b.log_target(&dev, LogSource::App).unwrap();
    let limited = LogQuery {
        max_lines: 120,
        ..query(start, "")
    };
    let read = b
        .read_logs_paced(
            &app,
            &limited,
            Pacing {
                page: 50,
                ..quick()
            },
        )
        .await
        .unwrap();
    assert_eq!(read.lines.len(), 120);
    assert!(read.truncated.is_some_and(|t| t >= read.lines[119].time));
    emu.shutdown().await;
}

#[tokio::test]
async fn a_missing_group_an_unknown_source_and_a_refused_pattern_say_why() {
    let emu = emulator(Seed::Demo).await;
    let b = backend(&emu).await;
    // dave's cluster does not export its PostgreSQL log.
    let dave = env_of(&b, "dave").await;
    let target = b.log_target(&dave, LogSource::Db).unwrap();
    assert_eq!(target.place.group, "/aws/rds/cluster/scale0dave/postgresql");
    let e = b
        .read_logs_paced(&target, &query(0.0, ""), quick())
        .await
        .unwrap_err();
    match &e {
        BackendError::NoLogGroup { group, hint, .. } => {
            assert_eq!(group, &target.place.group);
            assert!(
                hint.contains("--cloudwatch-logs-export-configuration")
                    && hint.contains("scale0dave"),
                "{hint}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The unpaired cluster has no service, so no service log.
    let reporting = env_of(&b, "reporting").await;
    assert!(matches!(
        b.log_target(&reporting, LogSource::App),
        Err(BackendError::NotFound(_))
    ));
    // AWS's own message for a pattern it refuses.
    let dev = env_of(&b, "dev").await;
    let app = b.log_target(&dev, LogSource::App).unwrap();
    let e = b
        .read_logs_paced(&app, &query(0.0, "\"unterminated"), quick())
        .await
        .unwrap_err();
    match e {
        BackendError::InvalidInput(m) => {
            assert!(m.contains("Invalid filter pattern"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // Plain text is searched as one phrase.
    let read = b
        .read_logs_paced(&app, &query(0.0, "Booting worker"), quick())
        .await;
    assert!(read.is_ok(), "{read:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn throttling_is_waited_out_counted_and_given_up_on_when_it_persists() {
    let emu = emulator(Seed::Demo).await;
    let b = backend(&emu).await;
    let dev = env_of(&b, "dev").await;
    let target = b.log_target(&dev, LogSource::Events).unwrap();
    let start = emu.clock().now() - 86400.0;
    let clean = b
        .read_logs_paced(&target, &query(start, ""), quick())
        .await
        .unwrap();

    fault(&emu, "throttle", 2).await;
    let read = b
        .read_logs_paced(&target, &query(start, ""), quick())
        .await
        .unwrap();
    assert_eq!(read.throttled, 2);
    assert_eq!(
        ids(&read.lines),
        ids(&clean.lines),
        "the same lines after waiting"
    );

    // A follower says so, with the wait it backs off to.
    fault(&emu, "throttle", 3).await;
    let mut f = b.follower(&target, &query(start, ""), quick()).unwrap();
    let mut waits = Vec::new();
    for times in 1..=3 {
        let u = f.poll().await.unwrap();
        assert_eq!(u.state, FollowState::Throttled { times });
        assert!(u.lines.is_empty() && u.error.is_some());
        waits.push(u.wait);
    }
    assert!(waits[0] < waits[1] && waits[1] < waits[2], "{waits:?}");
    let (lines, _, _) = drain(&mut f, 20).await;
    assert_eq!(ids(&lines), ids(&clean.lines));

    // Throttled past the retries: AWS's error, for exit code 1.
    fault(&emu, "throttle", 100).await;
    let e = b
        .read_logs_paced(&target, &query(start, ""), quick())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, BackendError::Aws { code, .. } if code == "ThrottlingException"),
        "{e:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_follow_that_loses_the_endpoint_resumes_from_its_token_without_duplicates() {
    let emu = emulator_with(&[seed_like("dev", AppServer::ThreadPerConnection, 1)]).await;
    let b = backend(&emu).await;
    let c = clients(&emu).await;
    let url = service_url(&c, "scale0-dev").await;
    let dev = env_of(&b, "dev").await;
    let target = b.log_target(&dev, LogSource::App).unwrap();
    let start = emu.clock().now() - 60.0;
    requests(&emu, &url, 12).await;
    // Pages of 5, so the outage falls between two pages of one read.
    let pacing = Pacing { page: 5, ..quick() };
    let mut f = b.follower(&target, &query(start, ""), pacing).unwrap();
    let first = f.poll().await.unwrap();
    assert_eq!(first.lines.len(), 5);
    assert!(!first.caught_up, "more pages wait");

    fault(&emu, "server_error", 2).await;
    for _ in 0..2 {
        let u = f.poll().await.unwrap();
        assert!(matches!(u.state, FollowState::Lost { .. }), "{:?}", u.state);
        assert!(u.lines.is_empty());
    }
    requests(&emu, &url, 9).await;
    let (rest, marks, _) = drain(&mut f, 50).await;
    let mut all = first.lines;
    all.extend(rest);
    let unique: HashSet<&str> = all.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(unique.len(), all.len(), "no line twice");
    assert_eq!(
        ids(&all),
        sdk_lines(&emu, &target, start).await,
        "no line missed"
    );
    assert!(
        matches!(marks.as_slice(), [LogMark::Resumed { .. }]),
        "the outage is marked: {marks:?}"
    );

    // Later polls re-read the last seconds (for late lines) but show nothing twice.
    requests(&emu, &url, 3).await;
    let (more, marks, _) = drain(&mut f, 20).await;
    assert_eq!(more.len(), 3, "{more:?}");
    assert!(marks.is_empty());
    let (idle, _, states) = drain(&mut f, 5).await;
    assert!(idle.is_empty());
    assert_eq!(states.last(), Some(&FollowState::Idle));
    // Idle polls space out, up to the bound; a new line brings the interval back.
    // (Each poll re-reads the last 10 s, two pages of 5 here: only whole polls count.)
    let mut waits = Vec::new();
    for _ in 0..30 {
        let u = f.poll().await.unwrap();
        assert!(u.lines.is_empty(), "{:?}", u.lines);
        if u.caught_up {
            assert_eq!(u.state, FollowState::Idle);
            waits.push(u.wait);
            if waits.len() == 5 {
                break;
            }
        }
    }
    assert!(waits.windows(2).all(|w| w[0] <= w[1]), "{waits:?}");
    assert_eq!(waits.last(), Some(&pacing.max_interval), "{waits:?}");
    requests(&emu, &url, 1).await;
    let (fresh, _, _) = drain(&mut f, 20).await;
    assert_eq!(fresh.len(), 1);
    let mut next = None;
    for _ in 0..10 {
        let u = f.poll().await.unwrap();
        if u.caught_up {
            next = Some(u.wait);
            break;
        }
    }
    assert_eq!(
        next,
        Some(pacing.interval * 2),
        "back to the short interval, doubling again"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn the_500s_of_a_burst_are_counted_in_the_app_log_with_the_fatal_line() {
    let emu = emulator_with(&[seed_like("dev", AppServer::ThreadPerConnection, 1)]).await;
    let b = backend(&emu).await;
    let c = clients(&emu).await;
    let url = service_url(&c, "scale0-dev").await;
    let dev = env_of(&b, "dev").await;
    let started = b.clock().now();
    let results = burst(&url, 150, 1).await;
    let errors = results.iter().filter(|(s, _)| *s == 500).count();
    assert!(errors > 0, "the burst ran out of connections");
    let summary = b
        .app_errors(&dev, started - 1.0, b.clock().now() + 1.0)
        .await
        .unwrap();
    assert_eq!(summary.error_lines, errors, "one traceback per 500");
    assert_eq!(summary.distinct.len(), 1, "{:?}", summary.distinct);
    let first = &summary.distinct[0];
    assert!(
        first
            .text
            .contains("FATAL:  remaining connection slots are reserved"),
        "{}",
        first.text
    );
    assert_eq!(first.count, errors);
    emu.shutdown().await;
}
