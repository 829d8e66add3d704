//! The official aws-sdk-ecr and aws-sdk-cloudwatch clients against the emulator (App Runner
//! and RDS have files of their own): every operation scale0 uses,
//! typed errors, and the state machines on an advanced clock.

use crate::common::*;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_smithy_types::DateTime;
use scale0::emulator::Seed;

const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/scale0";

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
