//! Keep awake until: the database does not auto-pause and the service is not paused until
//! then, and afterwards both go back to sleeping by themselves, with nobody's laptop on.
//! Done with AWS's own parts: MinCapacity above 0 (v2) or AutoPause off (v1) now, and a
//! one-time EventBridge Scheduler schedule that restores it; a paused service is resumed
//! and a one-time schedule pauses it again. The expiry and who set it are tags on the
//! cluster and the service. Any failure undoes the steps already taken.

use super::aws::{AwsBackend, RegionClients};
use super::scheduler::{Existing, Spec};
use super::{ActionReport, BackendError, Step};
use crate::model::plan::{self, TAG_AWAKE_BY, TAG_AWAKE_UNTIL, schedule_name};
use crate::model::{DbMode, Environment, ServiceStatus, Time};
use serde_json::{Value, json};

/// The longest keep-awake: a week, past which a sleep schedule is the better tool.
pub const MAX_SECONDS: f64 = 7.0 * 86400.0;
const MODIFY_CLUSTER: &str = "arn:aws:scheduler:::aws-sdk:rds:modifyDBCluster";

/// A step to take back if a later one fails.
enum Undo {
    Modify(Value),
    DeleteSchedule(String),
    PutSchedule(Box<Existing>),
    ClusterTags(Vec<(String, String)>),
    ServiceTags(Vec<(String, String)>),
}

impl AwsBackend {
    pub async fn keep_awake(
        &self,
        env: &Environment,
        until: Time,
        by: &str,
    ) -> Result<ActionReport, BackendError> {
        let now = self.clock.now();
        if until <= now + 60.0 {
            return Err(BackendError::InvalidInput(format!(
                "the expiry {} is in the past (AWS's clock says {})",
                plan::iso(until),
                plan::iso(now)
            )));
        }
        if until > now + MAX_SECONDS {
            return Err(BackendError::InvalidInput(format!(
                "the expiry {} is more than 7 days away; use a sleep schedule instead",
                plan::iso(until)
            )));
        }
        if env.database.is_none() && env.service.is_none() {
            return Err(BackendError::Refused(format!(
                "environment {} has neither a database nor a service",
                env.key.name
            )));
        }
        if let Some(db) = &env.database
            && db.status != "available"
        {
            return Err(BackendError::Refused(format!(
                "database {} is {}; start it first (scale0 start-db {})",
                db.id, db.status, env.key.name
            )));
        }
        let r = self.region_for(&env.key)?;
        self.scheduler_role(env)?;
        self.ensure_group(r).await?;
        let mut report = ActionReport {
            env: Some(env.key.clone()),
            ..ActionReport::default()
        };
        let mut undo = Vec::new();
        match self.hold(r, env, until, by, &mut report, &mut undo).await {
            Ok(()) => Ok(report),
            Err(e) => {
                let undone = self.undo(r, env, undo).await;
                Err(with_rollback(e, undone))
            }
        }
    }

    async fn hold(
        &self,
        r: &RegionClients,
        env: &Environment,
        until: Time,
        by: &str,
        report: &mut ActionReport,
        undo: &mut Vec<Undo>,
    ) -> Result<(), BackendError> {
        let started = self.waits.now();
        let step = |report: &mut ActionReport, what: String| {
            report.steps.push(Step {
                what,
                seconds: self.waits.now() - started,
            })
        };
        let at = at_expression(until);
        let name = &env.key.name;
        // The database: raise it and schedule the restore, or move an existing restore.
        if let Some(db) = &env.database {
            let sched = schedule_name("keep-awake", name, "db");
            if let Some(existing) = self.get_schedule(r, &sched).await? {
                let mut spec = existing.spec.clone();
                spec.expression = at.clone();
                self.put_schedule(r, env, &spec, true).await?;
                undo.push(Undo::PutSchedule(Box::new(existing)));
                step(
                    report,
                    format!("moved {}'s restore to {}", db.id, plan::iso(until)),
                );
            } else if let Some((raise, restore, what)) = hold_and_restore(db) {
                self.modify(r, &raise).await?;
                undo.push(Undo::Modify(restore.clone()));
                step(report, format!("{what} on {}", db.id));
                let spec = Spec {
                    name: sched.clone(),
                    expression: at.clone(),
                    timezone: "UTC".into(),
                    target_arn: MODIFY_CLUSTER.into(),
                    input: restore.to_string(),
                    once: true,
                    start: None,
                };
                self.put_schedule(r, env, &spec, true).await?;
                undo.push(Undo::DeleteSchedule(sched));
                step(
                    report,
                    format!(
                        "scheduled its restore at {} ({})",
                        plan::iso(until),
                        spec.name
                    ),
                );
            } else {
                step(
                    report,
                    format!("{} needs no hold: it does not auto-pause now", db.id),
                );
            }
        }
        // The service: a paused one is resumed (last) and paused again at the expiry.
        let mut resume = None;
        if let Some(s) = &env.service {
            let sched = schedule_name("keep-awake", name, "service");
            let kind = self.compute(r, s)?;
            if let Some(existing) = self.get_schedule(r, &sched).await? {
                let mut spec = existing.spec.clone();
                spec.expression = at.clone();
                self.put_schedule(r, env, &spec, true).await?;
                undo.push(Undo::PutSchedule(Box::new(existing)));
                step(
                    report,
                    format!("moved {}'s pause to {}", s.name, plan::iso(until)),
                );
            } else if s.status == ServiceStatus::Paused
                || self.window_asleep_at(r, name, until).await?
            {
                let (target_arn, input) = kind.scheduler_target(s, true).ok_or_else(|| {
                    BackendError::Refused(format!(
                        "scale0 can't schedule a pause of {} services yet",
                        kind.label()
                    ))
                })?;
                let spec = Spec {
                    name: sched.clone(),
                    expression: at.clone(),
                    timezone: "UTC".into(),
                    target_arn,
                    input,
                    once: true,
                    start: None,
                };
                self.put_schedule(r, env, &spec, true).await?;
                undo.push(Undo::DeleteSchedule(sched));
                step(
                    report,
                    format!("scheduled a pause of {} at {}", s.name, plan::iso(until)),
                );
                if s.status == ServiceStatus::Paused {
                    resume = Some((kind, s));
                }
            }
        }
        // Sleep schedules wait for the keep-awake: no firing before the expiry.
        for part in ["db", "service"] {
            let sched = schedule_name("sleep", name, part);
            if let Some(existing) = self.get_schedule(r, &sched).await?
                && existing.spec.start.is_none_or(|s| s < until)
            {
                let mut spec = existing.spec.clone();
                spec.start = Some(until);
                self.put_schedule(r, env, &spec, existing.enabled).await?;
                undo.push(Undo::PutSchedule(Box::new(existing)));
                step(report, format!("held {sched} back until the expiry"));
            }
        }
        // Everyone's scale0 reads who and until when from the tags.
        let tags = vec![
            (TAG_AWAKE_UNTIL.to_string(), plan::iso(until)),
            (TAG_AWAKE_BY.to_string(), by.to_string()),
        ];
        if let Some(db) = &env.database {
            self.tag_cluster(r, &db.arn, &tags).await?;
            undo.push(Undo::ClusterTags(previous_tags(&db.tags)));
        }
        if let Some(s) = &env.service {
            self.compute(r, s)?.tag(s, &tags).await?;
            undo.push(Undo::ServiceTags(previous_tags(&s.tags)));
        }
        step(
            report,
            format!("recorded: kept awake by {by} until {}", plan::iso(until)),
        );
        if let Some((kind, s)) = resume {
            kind.resume(s).await?;
            step(
                report,
                format!("asked {} to resume {}", kind.label(), s.name),
            );
            report
                .left
                .push("the service resumes in 1-2 minutes".into());
        }
        report.left.push(format!(
            "at {} EventBridge Scheduler puts it back to sleep, with or without scale0 running",
            plan::iso(until)
        ));
        Ok(())
    }

    /// Whether the environment's sleep window says "asleep" at `t`: then the keep-awake
    /// ends with a pause, since the window's own pause was held back.
    async fn window_asleep_at(
        &self,
        r: &RegionClients,
        env: &str,
        t: Time,
    ) -> Result<bool, BackendError> {
        let wake = self
            .get_schedule(r, &schedule_name("wake", env, "service"))
            .await?;
        let sleep = self
            .get_schedule(r, &schedule_name("sleep", env, "service"))
            .await?;
        Ok(match (wake, sleep) {
            (Some(w), Some(s)) => plan::SleepWindow::from_crons(
                &w.spec.expression,
                &s.spec.expression,
                &s.spec.timezone,
            )
            .is_some_and(|window| window.asleep_at(t)),
            _ => false,
        })
    }

    /// Ends a keep-awake now: restores the database as its schedule would, pauses a
    /// service that was paused before, frees the sleep schedules and removes the tags.
    pub async fn cancel_keep_awake(&self, env: &Environment) -> Result<ActionReport, BackendError> {
        let r = self.region_for(&env.key)?;
        let name = &env.key.name;
        let started = self.waits.now();
        let mut report = ActionReport {
            env: Some(env.key.clone()),
            ..ActionReport::default()
        };
        let step = |report: &mut ActionReport, what: String| {
            report.steps.push(Step {
                what,
                seconds: self.waits.now() - started,
            })
        };
        let sched = schedule_name("keep-awake", name, "db");
        if let Some(existing) = self.get_schedule(r, &sched).await? {
            let input: Value = serde_json::from_str(&existing.spec.input).unwrap_or_default();
            self.modify(r, &input).await?;
            self.delete_schedule(r, &sched).await?;
            step(&mut report, "restored the database's auto-pause now".into());
        }
        let sched = schedule_name("keep-awake", name, "service");
        if self.get_schedule(r, &sched).await?.is_some() {
            self.delete_schedule(r, &sched).await?;
            step(&mut report, format!("deleted {sched}"));
            if let Some(s) = &env.service {
                match s.status {
                    ServiceStatus::Running => {
                        self.compute(r, s)?.pause(s).await?;
                        step(&mut report, format!("asked to pause {} again", s.name));
                    }
                    _ => report.left.push(format!(
                        "{} is {}: pause it once that is done (scale0 pause {name})",
                        s.name,
                        s.status.label()
                    )),
                }
            }
        }
        for part in ["db", "service"] {
            let sched = schedule_name("sleep", name, part);
            if let Some(existing) = self.get_schedule(r, &sched).await?
                && existing.spec.start.is_some()
            {
                let mut spec = existing.spec.clone();
                spec.start = None;
                self.put_schedule(r, env, &spec, existing.enabled).await?;
                step(&mut report, format!("released {sched}"));
            }
        }
        let keys = vec![TAG_AWAKE_UNTIL.to_string(), TAG_AWAKE_BY.to_string()];
        if let Some(db) = &env.database {
            self.untag_cluster(r, &db.arn, &keys).await?;
        }
        if let Some(s) = &env.service {
            self.compute(r, s)?.untag(s, &keys).await?;
        }
        step(&mut report, "removed the keep-awake tags".into());
        Ok(report)
    }

    async fn undo(&self, r: &RegionClients, env: &Environment, steps: Vec<Undo>) -> Vec<String> {
        let mut out = Vec::new();
        for u in steps.into_iter().rev() {
            let (what, result) = match u {
                Undo::Modify(v) => ("the database's scaling", self.modify(r, &v).await),
                Undo::DeleteSchedule(n) => (
                    "a new schedule",
                    self.delete_schedule(r, &n).await.map(|_| ()),
                ),
                Undo::PutSchedule(e) => (
                    "a changed schedule",
                    self.put_schedule(r, env, &e.spec, e.enabled).await,
                ),
                Undo::ClusterTags(t) => match &env.database {
                    Some(db) => (
                        "the cluster's tags",
                        self.restore_cluster_tags(r, &db.arn, t).await,
                    ),
                    None => continue,
                },
                Undo::ServiceTags(t) => match &env.service {
                    Some(s) => (
                        "the service's tags",
                        self.restore_service_tags(r, s, t).await,
                    ),
                    None => continue,
                },
            };
            out.push(match result {
                Ok(()) => format!("undid {what}"),
                Err(e) => format!("could NOT undo {what}: {e}"),
            });
        }
        out
    }

    /// ModifyDBCluster from a universal-target Input (the same JSON the restore runs).
    async fn modify(&self, r: &RegionClients, input: &Value) -> Result<(), BackendError> {
        use aws_sdk_rds::types::{ScalingConfiguration, ServerlessV2ScalingConfiguration};
        let id = input["DbClusterIdentifier"].as_str().unwrap_or_default();
        let mut call = r.rds.modify_db_cluster().db_cluster_identifier(id);
        let v2 = &input["ServerlessV2ScalingConfiguration"];
        if v2.is_object() {
            call = call.serverless_v2_scaling_configuration(
                ServerlessV2ScalingConfiguration::builder()
                    .set_min_capacity(v2["MinCapacity"].as_f64())
                    .set_max_capacity(v2["MaxCapacity"].as_f64())
                    .set_seconds_until_auto_pause(
                        v2["SecondsUntilAutoPause"].as_i64().map(|s| s as i32),
                    )
                    .build(),
            );
        }
        let v1 = &input["ScalingConfiguration"];
        if v1.is_object() {
            call = call.scaling_configuration(
                ScalingConfiguration::builder()
                    .set_auto_pause(v1["AutoPause"].as_bool())
                    .set_min_capacity(v1["MinCapacity"].as_i64().map(|c| c as i32))
                    .set_max_capacity(v1["MaxCapacity"].as_i64().map(|c| c as i32))
                    .set_seconds_until_auto_pause(
                        v1["SecondsUntilAutoPause"].as_i64().map(|s| s as i32),
                    )
                    .build(),
            );
        }
        call.send()
            .await
            .map(|_| ())
            .map_err(|e| self.err("changing the database's scaling", e))
    }

    async fn tag_cluster(
        &self,
        r: &RegionClients,
        arn: &str,
        tags: &[(String, String)],
    ) -> Result<(), BackendError> {
        let tags = tags
            .iter()
            .map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build())
            .collect();
        r.rds
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.err("tagging the cluster", e))
    }

    async fn untag_cluster(
        &self,
        r: &RegionClients,
        arn: &str,
        keys: &[String],
    ) -> Result<(), BackendError> {
        r.rds
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.err("untagging the cluster", e))
    }

    /// Puts the keep-awake tags back as they were: the old values, or none.
    async fn restore_cluster_tags(
        &self,
        r: &RegionClients,
        arn: &str,
        previous: Vec<(String, String)>,
    ) -> Result<(), BackendError> {
        if previous.is_empty() {
            let keys = [TAG_AWAKE_UNTIL.to_string(), TAG_AWAKE_BY.to_string()];
            self.untag_cluster(r, arn, &keys).await
        } else {
            self.tag_cluster(r, arn, &previous).await
        }
    }

    async fn restore_service_tags(
        &self,
        r: &RegionClients,
        s: &crate::model::ServiceState,
        previous: Vec<(String, String)>,
    ) -> Result<(), BackendError> {
        let kind = self.compute(r, s)?;
        if previous.is_empty() {
            let keys = [TAG_AWAKE_UNTIL.to_string(), TAG_AWAKE_BY.to_string()];
            kind.untag(s, &keys).await
        } else {
            kind.tag(s, &previous).await
        }
    }
}

/// The keep-awake tags a resource had before (empty if none).
fn previous_tags(tags: &[(String, String)]) -> Vec<(String, String)> {
    tags.iter()
        .filter(|(k, _)| k == TAG_AWAKE_UNTIL || k == TAG_AWAKE_BY)
        .cloned()
        .collect()
}

/// `at(2026-11-23T17:30:00)`, in UTC.
fn at_expression(t: Time) -> String {
    format!("at({})", plan::iso(t).trim_end_matches('Z'))
}

/// What holds this database awake now, what restores it (as a universal target's
/// Input), and how to say it; None if it does not auto-pause anyway.
fn hold_and_restore(db: &crate::model::DatabaseState) -> Option<(Value, Value, String)> {
    let id = &db.id;
    match &db.mode {
        DbMode::ServerlessV2 {
            min_acu,
            max_acu,
            seconds_until_auto_pause,
        } if *min_acu == 0.0 => {
            let seconds = seconds_until_auto_pause.unwrap_or(300);
            Some((
                json!({"DbClusterIdentifier": id, "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": max_acu}}),
                json!({"DbClusterIdentifier": id, "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.0, "MaxCapacity": max_acu, "SecondsUntilAutoPause": seconds}}),
                "raised MinCapacity to 0.5 ACU".into(),
            ))
        }
        DbMode::ServerlessV1 {
            min_acu,
            max_acu,
            auto_pause: true,
            seconds_until_auto_pause,
        } => {
            let config = |auto: bool| json!({"AutoPause": auto, "MinCapacity": min_acu, "MaxCapacity": max_acu, "SecondsUntilAutoPause": seconds_until_auto_pause.unwrap_or(300)});
            Some((
                json!({"DbClusterIdentifier": id, "ScalingConfiguration": config(false)}),
                json!({"DbClusterIdentifier": id, "ScalingConfiguration": config(true)}),
                "turned AutoPause off".into(),
            ))
        }
        _ => None,
    }
}

fn with_rollback(e: BackendError, undone: Vec<String>) -> BackendError {
    if undone.is_empty() {
        return e;
    }
    let clean = !undone.iter().any(|u| u.starts_with("could NOT"));
    let note = format!(
        "{e}\n  {}: {}",
        if clean {
            "nothing is left half-done"
        } else {
            "SOME STEPS REMAIN"
        },
        undone.join("; ")
    );
    match e {
        BackendError::InvalidInput(_) => BackendError::InvalidInput(note),
        BackendError::Refused(_) => BackendError::Refused(note),
        BackendError::AccessDenied(_) => BackendError::AccessDenied(note),
        BackendError::Timeout(_) => BackendError::Timeout(note),
        _ => BackendError::Other(note),
    }
}
