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

/// Fetches `[start, end)` at `period` seconds for every environment, in order.
pub async fn fetch(
    r: &RegionClients,
    envs: &[&Environment],
    start: f64,
    end: f64,
    period: i32,
) -> Result<Vec<EnvMetrics>, BackendError> {
    run(&r.cloudwatch, envs.len(), plan(r, envs, period), start, end).await
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
            let Some((e, field, scale, _)) = chunk
                .iter()
                .find(|(_, _, _, q)| q.id() == Some(id.as_str()))
            else {
                continue;
            };
            let s = series(&mut out[*e], *field);
            s.points
                .extend(points.into_iter().map(|(t, v): (f64, f64)| (t, v * scale)));
            s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
    }
    Ok(out)
}
