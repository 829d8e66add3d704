//! The dashboard's CloudWatch series for many environments in as few GetMetricData calls
//! as the API allows (500 queries per call), with gaps kept as gaps.

use super::BackendError;
use super::aws::RegionClients;
use super::convert::sdk_error;
use crate::model::{EnvMetrics, Environment, MetricSeries};
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_smithy_types::DateTime;

/// GetMetricData's limit on queries per call.
pub const MAX_QUERIES: usize = 500;

/// About as many points as a wide graph has pixel columns: a window is read at the
/// shortest period that gives no more than this (a week: 10-minute points, 1,008 of them).
pub const POINTS_PER_WINDOW: f64 = 1440.0;

/// Periods a window may be read at: multiples of 60 s, as CloudWatch takes for data up to
/// 15 days old (300 s multiples up to 63 days, 3,600 s beyond).
const PERIODS: [i32; 8] = [60, 120, 300, 600, 900, 1800, 3600, 21600];

/// The period (seconds) to read `window` seconds at: one point per pixel column of a wide
/// graph, never finer than CloudWatch's 1-minute points.
pub fn period_for(window: f64) -> i32 {
    PERIODS
        .iter()
        .copied()
        .find(|p| window / *p as f64 <= POINTS_PER_WINDOW)
        .unwrap_or(PERIODS[PERIODS.len() - 1])
}

/// Which dashboard series a query fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    ActiveInstances,
    Concurrency,
    Requests,
    Status2xx,
    Status4xx,
    Status5xx,
    LatencyP50,
    LatencyP99,
    Capacity,
    AcuUtilization,
    Connections,
    /// The tasks' average CPU, percent (ECS).
    Cpu,
}

const DATABASE_FIELDS: [(Field, &str, &str); 3] = [
    (Field::Capacity, "ServerlessDatabaseCapacity", "Maximum"),
    (Field::AcuUtilization, "ACUUtilization", "Maximum"),
    (Field::Connections, "DatabaseConnections", "Maximum"),
];

fn series(m: &mut EnvMetrics, field: Field) -> &mut MetricSeries {
    match field {
        Field::ActiveInstances => &mut m.active_instances,
        Field::Concurrency => &mut m.concurrency,
        Field::Requests => &mut m.requests,
        Field::Status2xx => &mut m.status_2xx,
        Field::Status4xx => &mut m.status_4xx,
        Field::Status5xx => &mut m.status_5xx,
        Field::LatencyP50 => &mut m.latency_p50,
        Field::LatencyP99 => &mut m.latency_p99,
        Field::Capacity => &mut m.capacity,
        Field::AcuUtilization => &mut m.acu_utilization,
        Field::Connections => &mut m.connections,
        Field::Cpu => &mut m.cpu,
    }
}

fn dims(pairs: &[(&str, &str)]) -> Vec<Dimension> {
    pairs
        .iter()
        .map(|(k, v)| Dimension::builder().name(*k).value(*v).build())
        .collect()
}

/// The queries for every environment, each with where its answer goes.
fn plan(
    r: &RegionClients,
    envs: &[&Environment],
    period: i32,
) -> Vec<(usize, Field, f64, MetricDataQuery)> {
    plan_fields(r, envs, period, |_| true)
}

/// The queries for the fields `wanted` accepts.
fn plan_fields(
    r: &RegionClients,
    envs: &[&Environment],
    period: i32,
    wanted: impl Fn(Field) -> bool,
) -> Vec<(usize, Field, f64, MetricDataQuery)> {
    let mut out = Vec::new();
    for (e, env) in envs.iter().enumerate() {
        let query = |field: Field, namespace: &str, name: &str, stat: &str, d: Vec<Dimension>| {
            let id = format!("e{e}_{}", format!("{field:?}").to_ascii_lowercase());
            let metric = Metric::builder()
                .namespace(namespace)
                .metric_name(name)
                .set_dimensions(Some(d))
                .build();
            let stat = MetricStat::builder()
                .metric(metric)
                .period(period)
                .stat(stat)
                .build();
            (
                e,
                field,
                1.0,
                MetricDataQuery::builder().id(id).metric_stat(stat).build(),
            )
        };
        // The service's series are its compute kind's.
        if let Some(s) = &env.service
            && let Some(kind) = r.compute.iter().find(|k| k.id() == s.kind)
        {
            for spec in kind.metrics(s).into_iter().filter(|m| wanted(m.field)) {
                let pairs: Vec<(&str, &str)> = spec
                    .dimensions
                    .iter()
                    .map(|(k, v)| (*k, v.as_str()))
                    .collect();
                let (e, field, _, q) = query(
                    spec.field,
                    spec.namespace,
                    spec.name,
                    spec.stat,
                    dims(&pairs),
                );
                out.push((e, field, spec.scale, q));
            }
        }
        if let Some(db) = &env.database {
            for (field, name, stat) in DATABASE_FIELDS.into_iter().filter(|f| wanted(f.0)) {
                let d = dims(&[("DBClusterIdentifier", &db.id)]);
                out.push(query(field, "AWS/RDS", name, stat, d));
            }
        }
    }
    out
}

/// Fetches `[start, end)` at `period` seconds for every environment, in order. Counts
/// (Sum statistics) are per minute whatever the period, so a week read at 10-minute points
/// is on the same axis as an hour read at 1-minute points.
pub async fn fetch(
    r: &RegionClients,
    envs: &[&Environment],
    start: f64,
    end: f64,
    period: i32,
) -> Result<Vec<EnvMetrics>, BackendError> {
    run(&r.cloudwatch, envs.len(), plan(r, envs, period), start, end).await
}

/// The fields `wanted` accepts alone, e.g. the three series of the list's sparklines.
pub async fn fetch_fields(
    r: &RegionClients,
    envs: &[&Environment],
    start: f64,
    end: f64,
    period: i32,
    wanted: impl Fn(Field) -> bool,
) -> Result<Vec<EnvMetrics>, BackendError> {
    let planned = plan_fields(r, envs, period, wanted);
    run(&r.cloudwatch, envs.len(), planned, start, end).await
}

/// The databases' capacity alone over a long window (a paused state older than the
/// dashboard's window is still known from it).
pub async fn fetch_capacity(
    r: &RegionClients,
    envs: &[&Environment],
    start: f64,
    end: f64,
    period: i32,
) -> Result<Vec<MetricSeries>, BackendError> {
    let planned = plan_fields(r, envs, period, |f| f == Field::Capacity);
    let all = run(&r.cloudwatch, envs.len(), planned, start, end).await?;
    Ok(all.into_iter().map(|m| m.capacity).collect())
}

/// One GetMetricData call (with its pages): each query's id and points.
async fn fetch_chunk(
    client: &aws_sdk_cloudwatch::Client,
    chunk: &[(usize, Field, f64, MetricDataQuery)],
    start: f64,
    end: f64,
) -> Result<Vec<(String, Vec<(f64, f64)>)>, BackendError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let response = client
            .get_metric_data()
            .set_metric_data_queries(Some(chunk.iter().map(|(_, _, _, q)| q.clone()).collect()))
            .start_time(DateTime::from_secs_f64(start))
            .end_time(DateTime::from_secs_f64(end))
            .scan_by(ScanBy::TimestampAscending)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| sdk_error("reading CloudWatch metrics", None, e))?;
        for result in response.metric_data_results() {
            let points = result
                .timestamps()
                .iter()
                .map(DateTime::as_secs_f64)
                .zip(result.values().iter().copied())
                .collect();
            out.push((result.id().unwrap_or_default().to_string(), points));
        }
        token = response.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// What turns a Sum over the query's period into a count per minute (1 for other stats).
fn per_minute_factor(query: &MetricDataQuery) -> f64 {
    match query.metric_stat() {
        Some(stat) if stat.stat() == Some("Sum") => {
            60.0 / f64::from(stat.period().unwrap_or(60).max(60))
        }
        _ => 1.0,
    }
}

async fn run(
    client: &aws_sdk_cloudwatch::Client,
    count: usize,
    planned: Vec<(usize, Field, f64, MetricDataQuery)>,
    start: f64,
    end: f64,
) -> Result<Vec<EnvMetrics>, BackendError> {
    let mut out = vec![EnvMetrics::default(); count];
    // Each call takes up to 500 queries; the calls run at once.
    let answers = futures_util::future::join_all(
        planned
            .chunks(MAX_QUERIES)
            .map(|chunk| fetch_chunk(client, chunk, start, end)),
    )
    .await;
    for (chunk, answer) in planned.chunks(MAX_QUERIES).zip(answers) {
        for (id, points) in answer? {
            let Some((e, field, scale, query)) = chunk
                .iter()
                .find(|(_, _, _, q)| q.id() == Some(id.as_str()))
            else {
                continue;
            };
            let per_minute = per_minute_factor(query);
            let s = series(&mut out[*e], *field);
            s.points.extend(
                points
                    .into_iter()
                    .map(|(t, v): (f64, f64)| (t, v * per_minute * scale)),
            );
            s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
    }
    Ok(out)
}

/// One metric's points (Sum per `period`) over `[start, end)`: e.g. EventBridge Scheduler's
/// `TargetErrorCount` for a schedule group.
pub async fn fetch_sum(
    r: &RegionClients,
    namespace: &str,
    name: &str,
    dimensions: &[(&str, &str)],
    start: f64,
    end: f64,
    period: i32,
) -> Result<Vec<(f64, f64)>, BackendError> {
    let metric = Metric::builder()
        .namespace(namespace)
        .metric_name(name)
        .set_dimensions(Some(
            dimensions
                .iter()
                .map(|(k, v)| Dimension::builder().name(*k).value(*v).build())
                .collect(),
        ))
        .build();
    let stat = MetricStat::builder()
        .metric(metric)
        .period(period)
        .stat("Sum")
        .build();
    let query = MetricDataQuery::builder()
        .id("q0")
        .metric_stat(stat)
        .build();
    let answers = fetch_chunk(
        &r.cloudwatch,
        &[(0, Field::Requests, 1.0, query)],
        start,
        end,
    )
    .await?;
    Ok(answers.into_iter().flat_map(|(_, points)| points).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_read_at_about_one_point_per_pixel_column() {
        assert_eq!(period_for(900.0), 60);
        assert_eq!(period_for(3.0 * 3600.0), 60);
        assert_eq!(period_for(86400.0), 60);
        assert_eq!(period_for(7.0 * 86400.0), 600);
        for window in [900.0, 3600.0, 86400.0, 3.0 * 86400.0, 7.0 * 86400.0] {
            let period = period_for(window);
            assert_eq!(period % 60, 0, "CloudWatch takes multiples of 60 s");
            assert!(window / period as f64 <= POINTS_PER_WINDOW);
        }
    }

    #[test]
    fn sums_are_per_minute_whatever_the_period() {
        let query = |stat: &str, period: i32| {
            let metric_stat = MetricStat::builder()
                .metric(Metric::builder().metric_name("Requests").build())
                .period(period)
                .stat(stat)
                .build();
            MetricDataQuery::builder()
                .id("q")
                .metric_stat(metric_stat)
                .build()
        };
        assert_eq!(per_minute_factor(&query("Sum", 600)), 0.1);
        assert_eq!(per_minute_factor(&query("Sum", 60)), 1.0);
        assert_eq!(per_minute_factor(&query("Maximum", 600)), 1.0);
        assert_eq!(per_minute_factor(&query("p99", 600)), 1.0);
    }
}
