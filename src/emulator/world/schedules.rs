//! EventBridge Scheduler's state: schedule groups, schedules and what each invocation did.
//! Due schedules run inside `World::catch_up` on the emulator's clock, by calling the
//! emulator's own App Runner, ECS and RDS operations (universal targets
//! `arn:aws:scheduler:::aws-sdk:<service>:<apiAction>`), so a target acts exactly as the
//! SDK call would. A failed invocation is recorded as AWS records it: the
//! `AWS/Scheduler` metrics (`InvocationAttemptCount`, `TargetErrorCount`,
//! `InvocationsSentToDeadLetterCount`) and, with a dead-letter queue, a message in it.

use super::World;
use super::metrics::{Datum, MetricKey};
use crate::model::schedule_expr::{Expression, zone};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub const NAMESPACE: &str = "AWS/Scheduler";
pub const DEFAULT_GROUP: &str = "default";

/// Calls one of the emulator's own operations: service signing name ("rds",
/// "apprunner"), operation name, input named as the model names it. Errors are (code,
/// message). Set by the emulator at start, so the world does not depend on the API layer.
pub type Invoker = fn(&mut World, f64, &str, &str, &Value) -> Result<Value, (String, String)>;

#[derive(Clone, Debug)]
pub struct ScheduleGroup {
    pub name: String,
    pub arn: String,
    pub created: f64,
    pub modified: f64,
    pub tags: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct Schedule {
    pub name: String,
    pub group: String,
    pub arn: String,
    pub expression_text: String,
    pub expression: Expression,
    pub timezone: String,
    pub enabled: bool,
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub description: Option<String>,
    /// The Target structure as the caller gave it (Arn, RoleArn, Input, ...).
    pub target: Value,
    pub flexible: Value,
    pub action_after_completion: String,
    pub created: f64,
    pub modified: f64,
    /// When it fires next, if ever.
    pub next: Option<f64>,
}

impl Schedule {
    pub fn target_arn(&self) -> &str {
        self.target["Arn"].as_str().unwrap_or_default()
    }

    /// Recomputes the next firing after `after`.
    pub fn plan(&mut self, after: f64) {
        self.next = if self.enabled {
            // Invariant: the zone was validated when the schedule was created or updated.
            zone(&self.timezone).ok().and_then(|tz| {
                self.expression
                    .next_after(after, self.modified, &tz, self.start, self.end)
            })
        } else {
            None
        };
    }
}

/// One invocation: when, of what, and how it ended.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub time: f64,
    pub group: String,
    pub schedule: String,
    pub target_arn: String,
    /// The target's error (code, message), if it failed.
    pub error: Option<(String, String)>,
    /// The dead-letter queue the failure was sent to, if the target has one.
    pub dead_letter: Option<String>,
}

#[derive(Debug, Default)]
pub struct Scheduler {
    pub groups: BTreeMap<String, ScheduleGroup>,
    /// By (group, name).
    pub schedules: BTreeMap<(String, String), Schedule>,
    /// IAM roles that EventBridge Scheduler may assume (the emulator has no IAM; a
    /// schedule naming another role is refused as AWS refuses it).
    pub roles: BTreeSet<String>,
    pub invocations: Vec<Invocation>,
    pub invoker: Option<Invoker>,
}

impl Scheduler {
    pub fn next_due(&self) -> Option<f64> {
        self.schedules
            .values()
            .filter_map(|s| s.next)
            .reduce(f64::min)
    }

    /// Makes sure the `default` group exists, as it always does on AWS.
    pub fn ensure_default_group(&mut self, region: &str, now: f64) {
        if !self.groups.contains_key(DEFAULT_GROUP) {
            self.groups.insert(
                DEFAULT_GROUP.into(),
                ScheduleGroup {
                    name: DEFAULT_GROUP.into(),
                    arn: group_arn(region, DEFAULT_GROUP),
                    created: now,
                    modified: now,
                    tags: Vec::new(),
                },
            );
        }
    }
}

pub fn group_arn(region: &str, name: &str) -> String {
    format!(
        "arn:aws:scheduler:{region}:{}:schedule-group/{name}",
        super::ACCOUNT
    )
}

pub fn schedule_arn(region: &str, group: &str, name: &str) -> String {
    format!(
        "arn:aws:scheduler:{region}:{}:schedule/{group}/{name}",
        super::ACCOUNT
    )
}

/// (service, operation) of a universal target ARN: `aws-sdk:rds:modifyDBCluster` names
/// the operation ModifyDBCluster.
pub fn universal_target(arn: &str) -> Option<(&str, String)> {
    let rest = arn.strip_prefix("arn:aws:scheduler:::aws-sdk:")?;
    let (service, action) = rest.split_once(':')?;
    let mut chars = action.chars();
    let first = chars.next()?;
    Some((
        service,
        first.to_ascii_uppercase().to_string() + chars.as_str(),
    ))
}

impl World {
    /// Runs every schedule due at `t`: invokes its target, records the outcome, plans
    /// the next firing, and deletes a finished one-time schedule that asks for it.
    pub(super) fn run_schedules(&mut self, t: f64) {
        let due: Vec<(String, String)> = self
            .scheduler
            .schedules
            .iter()
            .filter(|(_, s)| s.next.is_some_and(|n| n <= t))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            let Some(schedule) = self.scheduler.schedules.get(&key).cloned() else {
                continue;
            };
            let error = self.invoke(t, &schedule).err();
            let dead_letter = error.as_ref().and_then(|_| {
                schedule.target["DeadLetterConfig"]["Arn"]
                    .as_str()
                    .map(str::to_string)
            });
            let minute = (t / 60.0).floor() as i64 * 60;
            let dims = [("ScheduleGroup", key.0.as_str())];
            let mut count = |name: &str| {
                self.metrics.put(
                    MetricKey::new(NAMESPACE, name, &dims),
                    minute,
                    Datum::single(1.0),
                );
            };
            count("InvocationAttemptCount");
            if error.is_some() {
                count("TargetErrorCount");
                if dead_letter.is_some() {
                    count("InvocationsSentToDeadLetterCount");
                }
            }
            if let Some((code, message)) = &error {
                tracing::info!(schedule = %schedule.name, %code, %message, "scheduler target failed");
            }
            self.scheduler.invocations.push(Invocation {
                time: t,
                group: key.0.clone(),
                schedule: key.1.clone(),
                target_arn: schedule.target_arn().to_string(),
                error,
                dead_letter,
            });
            let once = matches!(schedule.expression, Expression::At(_));
            if once && schedule.action_after_completion == "DELETE" {
                self.scheduler.schedules.remove(&key);
            } else if let Some(s) = self.scheduler.schedules.get_mut(&key) {
                s.plan(t);
            }
        }
    }

    fn invoke(&mut self, t: f64, schedule: &Schedule) -> Result<(), (String, String)> {
        let arn = schedule.target_arn();
        let Some((service, operation)) = universal_target(arn) else {
            return Err((
                "ValidationException".into(),
                format!(
                    "The scale0 emulator invokes only universal targets (aws-sdk:*), not {arn}"
                ),
            ));
        };
        let role = schedule.target["RoleArn"].as_str().unwrap_or_default();
        if !self.scheduler.roles.contains(role) {
            return Err((
                "AccessDeniedException".into(),
                format!("EventBridge Scheduler could not assume the role {role}."),
            ));
        }
        let input = match schedule.target["Input"].as_str() {
            None | Some("") => Value::Object(Default::default()),
            Some(text) => serde_json::from_str(text).map_err(|e| {
                (
                    "ValidationException".into(),
                    format!("The target input is not valid JSON: {e}"),
                )
            })?,
        };
        let Some(invoker) = self.scheduler.invoker else {
            return Err((
                "InternalServerException".into(),
                "no target invoker is connected".into(),
            ));
        };
        invoker(self, t, service, &operation, &input).map(|_| ())
    }
}
