//! CloudWatch GetMetricData and ListMetrics (any of its three wire protocols).

use super::{ApiError, ApiResult, paginate};
use crate::emulator::Shared;
use crate::emulator::shapes::AwsService;
use crate::emulator::world::metrics::MetricKey;
use serde_json::{Value, json};

const SVC: AwsService = AwsService::CloudWatch;
/// GetMetricData's limits (reference/aws.md section 9).
const MAX_QUERIES: usize = 500;
const MAX_DATAPOINTS: usize = 100_800;

pub fn call(shared: &Shared, op: &str, input: &Value) -> Option<ApiResult> {
    Some(match op {
        "GetMetricData" => get_metric_data(shared, input),
        "ListMetrics" => list_metrics(shared, input),
        _ => return None,
    })
}

fn missing(name: &str) -> ApiError {
    ApiError::new(
        "MissingParameter",
        format!("The parameter {name} is required."),
    )
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("InvalidParameterValue", message)
}

fn dimensions(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|d| {
                    (
                        d.get("Name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        d.get("Value")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

struct Query<'a> {
    id: &'a str,
    label: Option<&'a str>,
    key: MetricKey,
    period: i64,
    stat: &'a str,
}

fn parse_query(q: &Value) -> Result<Query<'_>, ApiError> {
    let id = q
        .get("Id")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("MetricDataQueries.member.Id"))?;
    if id.is_empty() || !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(invalid(format!(
            "The value {id} for parameter MetricDataQueries.member.Id is invalid: it must start with a lowercase letter."
        )));
    }
    if q.get("Expression").is_some() {
        return Err(invalid(format!(
            "Query {id}: metric math expressions are not supported by the scale0 emulator."
        )));
    }
    let stat = q
        .get("MetricStat")
        .ok_or_else(|| invalid(format!("Query {id} needs a MetricStat or an Expression.")))?;
    let metric = stat
        .get("Metric")
        .ok_or_else(|| missing("MetricStat.Metric"))?;
    let namespace = metric
        .get("Namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = metric
        .get("MetricName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let period = stat
        .get("Period")
        .and_then(Value::as_i64)
        .ok_or_else(|| missing("MetricStat.Period"))?;
    if period < 60 || period % 60 != 0 {
        return Err(invalid(format!(
            "The parameter MetricStat.Period must be a multiple of 60 for standard-resolution metrics, got {period}."
        )));
    }
    let stat_name = stat
        .get("Stat")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("MetricStat.Stat"))?;
    let known = ["Average", "Sum", "Minimum", "Maximum", "SampleCount"].contains(&stat_name)
        || stat_name
            .strip_prefix('p')
            .and_then(|p| p.parse::<f64>().ok())
            .is_some_and(|p| (0.0..=100.0).contains(&p));
    if !known {
        return Err(invalid(format!("The statistic {stat_name} is not valid.")));
    }
    let mut dims = dimensions(metric.get("Dimensions"));
    dims.sort();
    Ok(Query {
        id,
        label: q.get("Label").and_then(Value::as_str),
        key: MetricKey {
            namespace: namespace.to_string(),
            name: name.to_string(),
            dimensions: dims,
        },
        period,
        stat: stat_name,
    })
}

fn get_metric_data(shared: &Shared, input: &Value) -> ApiResult {
    let queries = input
        .get("MetricDataQueries")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("MetricDataQueries"))?;
    if queries.is_empty() || queries.len() > MAX_QUERIES {
        return Err(invalid(format!(
            "MetricDataQueries must hold 1 to {MAX_QUERIES} queries, got {}.",
            queries.len()
        )));
    }
    let start = input
        .get("StartTime")
        .and_then(Value::as_f64)
        .ok_or_else(|| missing("StartTime"))?;
    let end = input
        .get("EndTime")
        .and_then(Value::as_f64)
        .ok_or_else(|| missing("EndTime"))?;
    if end <= start {
        return Err(invalid(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    let descending = match input.get("ScanBy").and_then(Value::as_str) {
        None | Some("TimestampDescending") => true,
        Some("TimestampAscending") => false,
        Some(other) => return Err(invalid(format!("Invalid ScanBy {other}"))),
    };
    let parsed: Vec<Query> = queries.iter().map(parse_query).collect::<Result<_, _>>()?;
    let mut seen = std::collections::HashSet::new();
    for q in &parsed {
        if !seen.insert(q.id) {
            return Err(invalid(format!("The Id {} is used more than once.", q.id)));
        }
    }
    // Standard resolution: start rounds down to the minute.
    let start = (start / 60.0).floor() as i64 * 60;
    let end = (end / 60.0).ceil() as i64 * 60;
    let (world, _) = shared.world();
    let mut results = Vec::with_capacity(parsed.len());
    let mut total = 0usize;
    for q in &parsed {
        let mut points = world.metrics.query(&q.key, start, end, q.period, q.stat);
        total += points.len();
        if total > MAX_DATAPOINTS {
            return Err(invalid(format!(
                "The request would return more than {MAX_DATAPOINTS} data points."
            )));
        }
        if descending {
            points.reverse();
        }
        results.push(json!({
            "Id": q.id,
            "Label": q.label.unwrap_or(&q.key.name),
            "Timestamps": points.iter().map(|(t, _)| *t as f64).collect::<Vec<_>>(),
            "Values": points.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
            "StatusCode": "Complete",
        }));
    }
    Ok(json!({"MetricDataResults": results, "Messages": []}))
}

fn list_metrics(shared: &Shared, input: &Value) -> ApiResult {
    let namespace = input.get("Namespace").and_then(Value::as_str);
    let name = input.get("MetricName").and_then(Value::as_str);
    let filters: Vec<(String, Option<String>)> = input
        .get("Dimensions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|d| {
                    (
                        d.get("Name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        d.get("Value").and_then(Value::as_str).map(str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let (world, _) = shared.world();
    let all: Vec<Value> = world
        .metrics
        .keys()
        .filter(|k| namespace.is_none_or(|n| n == k.namespace))
        .filter(|k| name.is_none_or(|n| n == k.name))
        .filter(|k| {
            filters.iter().all(|(fname, fvalue)| {
                k.dimensions
                    .iter()
                    .any(|(n, v)| n == fname && fvalue.as_ref().is_none_or(|fv| fv == v))
            })
        })
        .map(|k| {
            json!({
                "Namespace": k.namespace,
                "MetricName": k.name,
                "Dimensions": k.dimensions.iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let (page, next) = paginate(
        SVC,
        &all,
        input.get("NextToken").and_then(Value::as_str),
        500,
    )?;
    Ok(json!({"Metrics": page, "NextToken": next}))
}
