//! EventBridge Scheduler (restJson1): schedules and schedule groups, with at(), rate()
//! and cron() expressions in IANA time zones. Due schedules run on the emulator's clock
//! (world/schedules.rs) through `invoke_target`, which calls the emulator's own App
//! Runner, ECS and RDS operations as a universal target would.

use super::{ApiError, ApiResult, paginate, required_str};
use crate::emulator::Shared;
use crate::emulator::shapes::AwsService;
use crate::emulator::world::World;
use crate::emulator::world::schedules::{
    DEFAULT_GROUP, Schedule, ScheduleGroup, group_arn, schedule_arn,
};
use crate::model::schedule_expr::{Expression, zone};
use serde_json::{Map, Value, json};

const SVC: AwsService = AwsService::Scheduler;

pub fn call(shared: &Shared, op: &str, input: &Value) -> Option<ApiResult> {
    let (mut world, now) = shared.world();
    let w = &mut *world;
    let region = w.region.clone();
    w.scheduler.ensure_default_group(&region, now);
    Some(match op {
        "CreateSchedule" => put_schedule(w, input, now, false),
        "UpdateSchedule" => put_schedule(w, input, now, true),
        "GetSchedule" => get_schedule(w, input),
        "ListSchedules" => list_schedules(w, input),
        "DeleteSchedule" => delete_schedule(w, input),
        "CreateScheduleGroup" => create_group(w, input, now),
        "GetScheduleGroup" => get_group(w, input),
        "ListScheduleGroups" => list_groups(w, input),
        "DeleteScheduleGroup" => delete_group(w, input),
        "TagResource" => tag(w, input, now),
        "UntagResource" => untag(w, input),
        "ListTagsForResource" => list_tags(w, input),
        _ => return None,
    })
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", message)
}

fn not_found(message: impl Into<String>) -> ApiError {
    ApiError::new("ResourceNotFoundException", message)
}

fn check_name(what: &str, name: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "1 validation error detected: Value '{name}' at '{what}' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+"
        )))
    }
}

fn group_name(input: &Value) -> Result<String, ApiError> {
    let group = input
        .get("GroupName")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_GROUP);
    check_name("groupName", group)?;
    Ok(group.to_string())
}

fn existing_group(w: &World, group: &str) -> Result<(), ApiError> {
    if w.scheduler.groups.contains_key(group) {
        Ok(())
    } else {
        Err(not_found(format!("Schedule group {group} does not exist.")))
    }
}

fn date(input: &Value, name: &str) -> Option<f64> {
    input.get(name).and_then(Value::as_f64)
}

/// CreateSchedule and UpdateSchedule (which replaces every field, as AWS's does).
fn put_schedule(w: &mut World, input: &Value, now: f64, update: bool) -> ApiResult {
    let name = required_str(SVC, input, "Name")?;
    check_name("name", name)?;
    let group = group_name(input)?;
    existing_group(w, &group)?;
    let key = (group.clone(), name.to_string());
    let previous = w.scheduler.schedules.get(&key);
    match (update, previous) {
        (false, Some(_)) => {
            return Err(ApiError::new(
                "ConflictException",
                format!("Schedule {name} already exists."),
            ));
        }
        (true, None) => return Err(not_found(format!("Schedule {name} does not exist."))),
        _ => {}
    }
    let created = previous.map_or(now, |p| p.created);
    let text = required_str(SVC, input, "ScheduleExpression")?;
    let expression = Expression::parse(text).map_err(invalid)?;
    let timezone = input
        .get("ScheduleExpressionTimezone")
        .and_then(Value::as_str)
        .unwrap_or("UTC");
    zone(timezone).map_err(invalid)?;
    let target = input
        .get("Target")
        .filter(|t| t.is_object())
        .ok_or_else(|| invalid("Target is required"))?;
    let arn = target["Arn"].as_str().unwrap_or_default();
    let role = target["RoleArn"].as_str().unwrap_or_default();
    if arn.is_empty() || role.is_empty() {
        return Err(invalid("Target.Arn and Target.RoleArn are required"));
    }
    if !w.scheduler.roles.contains(role) {
        return Err(invalid(
            "The execution role you provide must allow AWS EventBridge Scheduler to assume the role.",
        ));
    }
    if let Some(text) = target["Input"].as_str()
        && arn.contains(":aws-sdk:")
        && serde_json::from_str::<Value>(text).is_err()
    {
        return Err(invalid(
            "Target.Input must be valid JSON for a universal target.",
        ));
    }
    let flexible = input
        .get("FlexibleTimeWindow")
        .filter(|f| f.is_object())
        .ok_or_else(|| invalid("FlexibleTimeWindow is required"))?;
    match (
        flexible["Mode"].as_str(),
        flexible["MaximumWindowInMinutes"].as_i64(),
    ) {
        (Some("OFF"), None) => {}
        (Some("FLEXIBLE"), Some(1..=1440)) => {}
        _ => {
            return Err(invalid(
                "FlexibleTimeWindow: Mode OFF, or FLEXIBLE with MaximumWindowInMinutes 1 to 1440.",
            ));
        }
    }
    let enabled = match input.get("State").and_then(Value::as_str) {
        None | Some("ENABLED") => true,
        Some("DISABLED") => false,
        Some(other) => return Err(invalid(format!("Invalid State {other}"))),
    };
    let after = match input.get("ActionAfterCompletion").and_then(Value::as_str) {
        None | Some("NONE") => "NONE",
        Some("DELETE") => "DELETE",
        Some(other) => return Err(invalid(format!("Invalid ActionAfterCompletion {other}"))),
    };
    let (start, end) = (date(input, "StartDate"), date(input, "EndDate"));
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        return Err(invalid("The EndDate must be later than the StartDate."));
    }
    if end.is_some_and(|e| e <= now) {
        return Err(invalid(
            "The EndDate you specify cannot be earlier than the current time.",
        ));
    }
    let mut schedule = Schedule {
        name: name.to_string(),
        group: group.clone(),
        arn: schedule_arn(&w.region, &group, name),
        expression_text: text.to_string(),
        expression,
        timezone: timezone.to_string(),
        enabled,
        start,
        end,
        description: input
            .get("Description")
            .and_then(Value::as_str)
            .map(str::to_string),
        target: target.clone(),
        flexible: flexible.clone(),
        action_after_completion: after.to_string(),
        created,
        modified: now,
        next: None,
    };
    schedule.plan(now);
    let arn = schedule.arn.clone();
    w.scheduler.schedules.insert(key, schedule);
    Ok(json!({"ScheduleArn": arn}))
}

fn find_schedule<'a>(w: &'a World, input: &Value) -> Result<&'a Schedule, ApiError> {
    let name = required_str(SVC, input, "Name")?;
    let group = group_name(input)?;
    existing_group(w, &group)?;
    w.scheduler
        .schedules
        .get(&(group, name.to_string()))
        .ok_or_else(|| not_found(format!("Schedule {name} does not exist.")))
}

fn get_schedule(w: &World, input: &Value) -> ApiResult {
    let s = find_schedule(w, input)?;
    Ok(json!({
        "Arn": s.arn,
        "GroupName": s.group,
        "Name": s.name,
        "ScheduleExpression": s.expression_text,
        "ScheduleExpressionTimezone": s.timezone,
        "StartDate": s.start,
        "EndDate": s.end,
        "Description": s.description,
        "State": if s.enabled { "ENABLED" } else { "DISABLED" },
        "CreationDate": s.created,
        "LastModificationDate": s.modified,
        "Target": s.target,
        "FlexibleTimeWindow": s.flexible,
        "ActionAfterCompletion": s.action_after_completion,
    }))
}

fn max_results(input: &Value) -> Result<usize, ApiError> {
    match input.get("MaxResults").and_then(Value::as_i64) {
        None => Ok(100),
        Some(n @ 1..=100) => Ok(n as usize),
        Some(n) => Err(invalid(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100"
        ))),
    }
}

fn list_schedules(w: &World, input: &Value) -> ApiResult {
    let group = input.get("GroupName").and_then(Value::as_str);
    if let Some(g) = group {
        existing_group(w, g)?;
    }
    let prefix = input.get("NamePrefix").and_then(Value::as_str);
    let state = input.get("State").and_then(Value::as_str);
    let matching: Vec<&Schedule> = w
        .scheduler
        .schedules
        .values()
        .filter(|s| group.is_none_or(|g| s.group == g))
        .filter(|s| prefix.is_none_or(|p| s.name.starts_with(p)))
        .filter(|s| state.is_none_or(|st| (st == "ENABLED") == s.enabled))
        .collect();
    let token = input.get("NextToken").and_then(Value::as_str);
    let (page, next) = paginate(SVC, &matching, token, max_results(input)?)?;
    let items: Vec<Value> = page
        .iter()
        .map(|s| {
            json!({
                "Arn": s.arn, "Name": s.name, "GroupName": s.group,
                "State": if s.enabled { "ENABLED" } else { "DISABLED" },
                "CreationDate": s.created, "LastModificationDate": s.modified,
                "Target": {"Arn": s.target_arn()},
            })
        })
        .collect();
    Ok(json!({"Schedules": items, "NextToken": next}))
}

fn delete_schedule(w: &mut World, input: &Value) -> ApiResult {
    let key = {
        let s = find_schedule(w, input)?;
        (s.group.clone(), s.name.clone())
    };
    w.scheduler.schedules.remove(&key);
    Ok(json!({}))
}

fn group_json(g: &ScheduleGroup) -> Value {
    json!({
        "Arn": g.arn, "Name": g.name, "State": "ACTIVE",
        "CreationDate": g.created, "LastModificationDate": g.modified,
    })
}

fn create_group(w: &mut World, input: &Value, now: f64) -> ApiResult {
    let name = required_str(SVC, input, "Name")?;
    check_name("name", name)?;
    if w.scheduler.groups.contains_key(name) {
        return Err(ApiError::new(
            "ConflictException",
            format!("Schedule group {name} already exists."),
        ));
    }
    let group = ScheduleGroup {
        name: name.to_string(),
        arn: group_arn(&w.region, name),
        created: now,
        modified: now,
        tags: tags(input)?,
    };
    let arn = group.arn.clone();
    w.scheduler.groups.insert(name.to_string(), group);
    Ok(json!({"ScheduleGroupArn": arn}))
}

fn get_group(w: &World, input: &Value) -> ApiResult {
    let name = required_str(SVC, input, "Name")?;
    w.scheduler
        .groups
        .get(name)
        .map(group_json)
        .ok_or_else(|| not_found(format!("Schedule group {name} does not exist.")))
}

fn list_groups(w: &World, input: &Value) -> ApiResult {
    let prefix = input.get("NamePrefix").and_then(Value::as_str);
    let groups: Vec<&ScheduleGroup> = w
        .scheduler
        .groups
        .values()
        .filter(|g| prefix.is_none_or(|p| g.name.starts_with(p)))
        .collect();
    let token = input.get("NextToken").and_then(Value::as_str);
    let (page, next) = paginate(SVC, &groups, token, max_results(input)?)?;
    let items: Vec<Value> = page.iter().map(|g| group_json(g)).collect();
    Ok(json!({"ScheduleGroups": items, "NextToken": next}))
}

/// Deleting a group deletes its schedules (AWS does it asynchronously; here at once).
fn delete_group(w: &mut World, input: &Value) -> ApiResult {
    let name = required_str(SVC, input, "Name")?;
    if name == DEFAULT_GROUP {
        return Err(invalid("The default schedule group can't be deleted."));
    }
    existing_group(w, name)?;
    w.scheduler.groups.remove(name);
    w.scheduler.schedules.retain(|(g, _), _| g != name);
    Ok(json!({}))
}

fn tags(input: &Value) -> Result<Vec<(String, String)>, ApiError> {
    super::tags_from(SVC, input.get("Tags"))
}

/// Only schedule groups carry tags in EventBridge Scheduler.
fn tagged_group<'a>(w: &'a mut World, input: &Value) -> Result<&'a mut ScheduleGroup, ApiError> {
    let arn = required_str(SVC, input, "ResourceArn")?;
    w.scheduler
        .groups
        .values_mut()
        .find(|g| g.arn == arn)
        .ok_or_else(|| not_found(format!("Resource {arn} does not exist.")))
}

fn tag(w: &mut World, input: &Value, now: f64) -> ApiResult {
    let new = tags(input)?;
    let g = tagged_group(w, input)?;
    super::merge_tags(&mut g.tags, new);
    g.modified = now;
    Ok(json!({}))
}

fn untag(w: &mut World, input: &Value) -> ApiResult {
    let keys: Vec<String> = match input.get("TagKeys") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => return Err(invalid("TagKeys is required")),
    };
    let g = tagged_group(w, input)?;
    g.tags.retain(|(k, _)| !keys.contains(k));
    Ok(json!({}))
}

fn list_tags(w: &mut World, input: &Value) -> ApiResult {
    let g = tagged_group(w, input)?;
    Ok(json!({"Tags": super::tags_json(&g.tags)}))
}

/// The scheduler's way into the emulator's own operations: the universal target's input
/// (named as the SDKs name members, `DbClusterIdentifier`) is matched to the model's
/// member names (`DBClusterIdentifier`) case-insensitively, then the operation runs.
pub fn invoke_target(
    w: &mut World,
    now: f64,
    service: &str,
    operation: &str,
    input: &Value,
) -> Result<Value, (String, String)> {
    let Some(svc) = AwsService::from_name(service) else {
        return Err((
            "ValidationException".into(),
            format!("The scale0 emulator has no {service} service for a universal target."),
        ));
    };
    let model = svc.model();
    let shape = model.input_shape(operation).unwrap_or_default();
    let input = normalize(svc, shape, input);
    let result = match svc {
        AwsService::AppRunner => super::apprunner::dispatch(w, now, operation, &input),
        AwsService::Rds => super::rds::dispatch(w, now, operation, &input),
        AwsService::Ecs => super::ecs::dispatch(w, now, operation, &input),
        _ => None,
    };
    match result {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err((e.code, e.message)),
        None => Err((
            "ValidationException".into(),
            format!("The scale0 emulator does not run aws-sdk:{service}:{operation} as a target."),
        )),
    }
}

fn normalize(svc: AwsService, shape: &str, value: &Value) -> Value {
    let model = svc.model();
    let spec = model.shape(shape);
    match value {
        Value::Object(obj) => {
            let members = spec.get("members").and_then(Value::as_object);
            let mut out = Map::new();
            for (k, v) in obj {
                let found =
                    members.and_then(|m| m.iter().find(|(name, _)| name.eq_ignore_ascii_case(k)));
                match found {
                    Some((name, member)) => {
                        let inner = member["shape"].as_str().unwrap_or_default();
                        out.insert(name.clone(), normalize(svc, inner, v));
                    }
                    None => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let inner = spec
                .get("member")
                .and_then(|m| m["shape"].as_str())
                .unwrap_or_default();
            Value::Array(items.iter().map(|v| normalize(svc, inner, v)).collect())
        }
        other => other.clone(),
    }
}
