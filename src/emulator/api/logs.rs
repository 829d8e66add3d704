//! CloudWatch Logs (awsJson1_1, target prefix Logs_20140328): the log groups the region
//! writes (world/log_lines.rs), read with AWS's pagination: opaque nextToken for the
//! describes and FilterLogEvents, and GetLogEvents' forward and backward tokens, which
//! come back unchanged once the end of the stream is reached.

use super::{ApiError, ApiResult, paginate};
use crate::emulator::Shared;
use crate::emulator::shapes::AwsService;
use crate::emulator::world::World;
use crate::emulator::world::logs::{FilterPattern, LogEvent, LogGroup, Position};
use serde_json::{Value, json};

const SVC: AwsService = AwsService::Logs;
/// AWS's most (and default) events per FilterLogEvents or GetLogEvents page.
const MAX_EVENTS: i64 = 10_000;
/// AWS's 1 MB cap on the events of one page.
const MAX_PAGE_BYTES: usize = 1_048_576;
/// AWS's most (and default) groups or streams per describe page.
const MAX_DESCRIBE: i64 = 50;

pub fn call(shared: &Shared, op: &str, input: &Value) -> Option<ApiResult> {
    let (mut world, _) = shared.world();
    world.ensure_log_groups();
    Some(match op {
        "DescribeLogGroups" => describe_log_groups(&world, input),
        "DescribeLogStreams" => describe_log_streams(&world, input),
        "FilterLogEvents" => filter_log_events(&world, input),
        "GetLogEvents" => get_log_events(&world, input),
        _ => return None,
    })
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("InvalidParameterException", message)
}

fn limit(input: &Value, max: i64) -> Result<usize, ApiError> {
    match input.get("limit").and_then(Value::as_i64) {
        None => Ok(max as usize),
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        Some(n) => Err(invalid(format!(
            "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value between 1 and {max}"
        ))),
    }
}

/// The group named by logGroupName, or by logGroupIdentifier (a name or an ARN).
fn group<'a>(w: &'a World, input: &Value) -> Result<&'a LogGroup, ApiError> {
    let name = input.get("logGroupName").and_then(Value::as_str);
    let identifier = input.get("logGroupIdentifier").and_then(Value::as_str);
    let name = match (name, identifier) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
            ));
        }
        (Some(n), None) => n,
        (None, Some(id)) => id
            .strip_prefix("arn:aws:logs:")
            .and_then(|rest| rest.split_once(":log-group:"))
            .map_or(id, |(_, n)| n.trim_end_matches(":*")),
        (None, None) => {
            return Err(invalid(
                "Either the logGroupName or the logGroupIdentifier parameter is required.",
            ));
        }
    };
    w.logs.groups.get(name).ok_or_else(|| {
        ApiError::new(
            "ResourceNotFoundException",
            "The specified log group does not exist.",
        )
    })
}

fn group_arn(w: &World, name: &str) -> String {
    format!(
        "arn:aws:logs:{}:{account}:log-group:{name}",
        w.region,
        account = w.account
    )
}

fn describe_log_groups(w: &World, input: &Value) -> ApiResult {
    let prefix = input.get("logGroupNamePrefix").and_then(Value::as_str);
    let pattern = input.get("logGroupNamePattern").and_then(Value::as_str);
    if prefix.is_some() && pattern.is_some() {
        return Err(invalid(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
        ));
    }
    let groups: Vec<&LogGroup> = w
        .logs
        .groups
        .values()
        .filter(|g| prefix.is_none_or(|p| g.name.starts_with(p)))
        .filter(|g| pattern.is_none_or(|p| g.name.to_lowercase().contains(&p.to_lowercase())))
        .collect();
    let token = input.get("nextToken").and_then(Value::as_str);
    let (page, next) = paginate(SVC, &groups, token, limit(input, MAX_DESCRIBE)?)?;
    let items: Vec<Value> = page
        .iter()
        .map(|g| {
            let arn = group_arn(w, &g.name);
            json!({
                "logGroupName": g.name,
                "creationTime": g.creation_time,
                "metricFilterCount": 0,
                "arn": format!("{arn}:*"),
                "logGroupArn": arn,
                "storedBytes": g.stored_bytes(),
                "logGroupClass": "STANDARD",
            })
        })
        .collect();
    Ok(json!({"logGroups": items, "nextToken": next}))
}

fn describe_log_streams(w: &World, input: &Value) -> ApiResult {
    let g = group(w, input)?;
    let prefix = input.get("logStreamNamePrefix").and_then(Value::as_str);
    let by_time = match input.get("orderBy").and_then(Value::as_str) {
        None | Some("LogStreamName") => false,
        Some("LastEventTime") => true,
        Some(other) => return Err(invalid(format!("Invalid orderBy value: {other}"))),
    };
    if by_time && prefix.is_some() {
        return Err(invalid(
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ));
    }
    let mut streams: Vec<_> = g
        .streams
        .values()
        .filter(|s| prefix.is_none_or(|p| s.name.starts_with(p)))
        .collect();
    if by_time {
        streams.sort_by_key(|s| s.last_event_timestamp().unwrap_or(s.creation_time));
    }
    if input.get("descending").and_then(Value::as_bool) == Some(true) {
        streams.reverse();
    }
    let token = input.get("nextToken").and_then(Value::as_str);
    let (page, next) = paginate(SVC, &streams, token, limit(input, MAX_DESCRIBE)?)?;
    let arn = group_arn(w, &g.name);
    let items: Vec<Value> = page
        .iter()
        .map(|s| {
            json!({
                "logStreamName": s.name,
                "creationTime": s.creation_time,
                "firstEventTimestamp": s.first_event_timestamp(),
                "lastEventTimestamp": s.last_event_timestamp(),
                "lastIngestionTime": s.last_ingestion_time(),
                "arn": format!("{arn}:log-stream:{}", s.name),
                "storedBytes": 0,
            })
        })
        .collect();
    Ok(json!({"logStreams": items, "nextToken": next}))
}

/// A token naming a position in time order: `<tag>/<timestamp>/<seq>`.
fn parse_token(token: &str, tags: &[char]) -> Result<(char, Position), ApiError> {
    let bad = || invalid("The specified nextToken is invalid.");
    let mut parts = token.splitn(3, '/');
    let tag = parts
        .next()
        .and_then(|t| {
            t.chars()
                .next()
                .filter(|c| tags.contains(c) && t.len() == 1)
        })
        .ok_or_else(bad)?;
    let timestamp = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let seq = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    Ok((tag, Position { timestamp, seq }))
}

fn token(tag: char, p: Position) -> String {
    format!("{tag}/{:019}/{}", p.timestamp, p.seq)
}

fn time_window(input: &Value) -> Result<(i64, i64), ApiError> {
    let start = input.get("startTime").and_then(Value::as_i64).unwrap_or(0);
    let end = input
        .get("endTime")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MAX);
    if start > end {
        return Err(invalid("startTime must be less than or equal to endTime."));
    }
    Ok((start, end))
}

fn filter_log_events(w: &World, input: &Value) -> ApiResult {
    let g = group(w, input)?;
    let names: Option<Vec<&str>> = input
        .get("logStreamNames")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    let prefix = input.get("logStreamNamePrefix").and_then(Value::as_str);
    if names.is_some() && prefix.is_some() {
        return Err(invalid(
            "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.",
        ));
    }
    let pattern = FilterPattern::parse(
        input
            .get("filterPattern")
            .and_then(Value::as_str)
            .unwrap_or(""),
    )
    .map_err(invalid)?;
    let (start, end) = time_window(input)?;
    let after = match input.get("nextToken").and_then(Value::as_str) {
        None | Some("") => None,
        Some(t) => Some(parse_token(t, &['n'])?.1),
    };
    let page_limit = limit(input, MAX_EVENTS)?;
    let streams: Vec<_> = g
        .streams
        .values()
        .filter(|s| names.as_ref().is_none_or(|n| n.contains(&s.name.as_str())))
        .filter(|s| prefix.is_none_or(|p| s.name.starts_with(p)))
        .collect();
    let mut matching: Vec<(&str, &LogEvent)> = streams
        .iter()
        .flat_map(|s| s.events.iter().map(move |e| (s.name.as_str(), e)))
        .filter(|(_, e)| e.timestamp >= start && e.timestamp <= end)
        .filter(|(_, e)| after.is_none_or(|a| e.position() > a))
        .filter(|(_, e)| pattern.matches(&e.message))
        .collect();
    matching.sort_by_key(|(_, e)| e.position());
    let mut bytes = 0;
    let mut page = Vec::new();
    for (stream, e) in &matching {
        bytes += e.message.len() + 26;
        if page.len() >= page_limit || bytes > MAX_PAGE_BYTES {
            break;
        }
        page.push((stream, e));
    }
    let next = (page.len() < matching.len())
        .then(|| page.last().map(|(_, e)| token('n', e.position())))
        .flatten();
    let events: Vec<Value> = page
        .iter()
        .map(|(stream, e)| {
            json!({
                "logStreamName": stream,
                "timestamp": e.timestamp,
                "message": e.message,
                "ingestionTime": e.ingestion_time,
                "eventId": format!("{:019}{:020}", e.timestamp, e.seq),
            })
        })
        .collect();
    let searched: Vec<Value> = streams
        .iter()
        .map(|s| json!({"logStreamName": s.name, "searchedCompletely": next.is_none()}))
        .collect();
    Ok(json!({"events": events, "searchedLogStreams": searched, "nextToken": next}))
}

fn get_log_events(w: &World, input: &Value) -> ApiResult {
    let g = group(w, input)?;
    let name = input
        .get("logStreamName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let stream = g.streams.get(name).ok_or_else(|| {
        ApiError::new(
            "ResourceNotFoundException",
            "The specified log stream does not exist.",
        )
    })?;
    let (start, end) = time_window(input)?;
    let page_limit = limit(input, MAX_EVENTS)?;
    let from_head = input.get("startFromHead").and_then(Value::as_bool) == Some(true);
    let passed = match input.get("nextToken").and_then(Value::as_str) {
        None | Some("") => None,
        Some(t) => Some(parse_token(t, &['f', 'b'])?),
    };
    let events: Vec<&LogEvent> = stream
        .sorted()
        .into_iter()
        .filter(|e| e.timestamp >= start && e.timestamp < end)
        .collect();
    // Forward pages read from their position on; backward pages (and the first page
    // without startFromHead) read the newest events before it.
    let (forward, bound) = match passed {
        Some(('f', p)) => (true, Some(p)),
        Some((_, p)) => (false, Some(p)),
        None => (from_head, None),
    };
    let page: Vec<&LogEvent> = if forward {
        events
            .iter()
            .filter(|e| bound.is_none_or(|b| e.position() > b))
            .take(page_limit)
            .copied()
            .collect()
    } else {
        let before: Vec<&LogEvent> = events
            .iter()
            .filter(|e| bound.is_none_or(|b| e.position() < b))
            .copied()
            .collect();
        before[before.len().saturating_sub(page_limit)..].to_vec()
    };
    let origin = Position {
        timestamp: 0,
        seq: 0,
    };
    let end_position = Position {
        timestamp: i64::MAX,
        seq: u64::MAX,
    };
    let (next_forward, next_backward) = match (page.first(), page.last()) {
        (Some(first), Some(last)) => (token('f', last.position()), token('b', first.position())),
        // Nothing more this way: the token passed comes back unchanged.
        _ => (
            token('f', bound.unwrap_or(origin)),
            token('b', bound.unwrap_or(end_position)),
        ),
    };
    let items: Vec<Value> = page
        .iter()
        .map(|e| json!({"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion_time}))
        .collect();
    Ok(json!({
        "events": items,
        "nextForwardToken": next_forward,
        "nextBackwardToken": next_backward,
    }))
}
