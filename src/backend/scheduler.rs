//! EventBridge Scheduler, as scale0 uses it: its own schedule group per project, the IAM
//! role the schedules run as (the config's, or `scale0-scheduler` in the environment's
//! account), and its schedules found again by name (model/plan.rs).

use super::BackendError;
use super::aws::{AwsBackend, RegionClients};
use crate::model::plan::{self, PlannedSchedule};
use crate::model::schedule_expr::{Expression, zone};
use crate::model::{Environment, Time};
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, ScheduleState, Target,
};
use aws_smithy_types::DateTime;

/// A schedule scale0 writes: one target, one expression.
#[derive(Clone, Debug)]
pub struct Spec {
    pub name: String,
    pub expression: String,
    pub timezone: String,
    pub target_arn: String,
    pub input: String,
    /// One-time schedules delete themselves once run.
    pub once: bool,
    /// No firing before this (a keep-awake holds a sleep schedule back).
    pub start: Option<Time>,
}

/// A schedule as read back, with what is needed to write it again.
#[derive(Clone, Debug)]
pub struct Existing {
    pub spec: Spec,
    pub role: String,
    pub enabled: bool,
}

impl AwsBackend {
    pub fn schedule_group(&self) -> String {
        self.scheduler_settings
            .group
            .clone()
            .unwrap_or_else(|| plan::DEFAULT_GROUP.to_string())
    }

    /// The role schedules run as: the config's, else `scale0-scheduler` in the account
    /// that owns the environment (whether it exists is learnt from the scheduler itself).
    pub(super) fn scheduler_role(&self, env: &Environment) -> Result<String, BackendError> {
        if let Some(arn) = &self.scheduler_settings.role_arn {
            return Ok(arn.clone());
        }
        let account = env.account().ok_or_else(|| {
            BackendError::Other(format!(
                "can't tell which AWS account {} is in (no ARN)",
                env.key.name
            ))
        })?;
        Ok(format!(
            "arn:aws:iam::{account}:role/{}",
            plan::DEFAULT_ROLE
        ))
    }

    /// The scheduler's refusal of a role, as what to create instead.
    fn role_problem(&self, env: &Environment, role: &str, message: &str) -> BackendError {
        let account = env.account().unwrap_or("<account>");
        let name = role.rsplit('/').next().unwrap_or(plan::DEFAULT_ROLE);
        BackendError::InvalidInput(format!(
            "no usable scheduler role: {message}\n  (tried {role})\n\n{}",
            plan::role_instructions(account, &env.key.region, name)
        ))
    }

    /// Creates the project's schedule group unless it exists.
    pub(super) async fn ensure_group(&self, r: &RegionClients) -> Result<(), BackendError> {
        let group = self.schedule_group();
        match r
            .scheduler
            .create_schedule_group()
            .name(&group)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conflict_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(self.err("creating the schedule group", e)),
        }
    }

    /// Writes `spec` (creating it, or replacing it if it exists).
    pub(super) async fn put_schedule(
        &self,
        r: &RegionClients,
        env: &Environment,
        spec: &Spec,
        enabled: bool,
    ) -> Result<(), BackendError> {
        let role = self.scheduler_role(env)?;
        let target = Target::builder()
            .arn(&spec.target_arn)
            .role_arn(&role)
            .input(&spec.input)
            .build()
            .map_err(|e| BackendError::Other(format!("building the schedule target: {e}")))?;
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| BackendError::Other(format!("building the schedule window: {e}")))?;
        let state = if enabled {
            ScheduleState::Enabled
        } else {
            ScheduleState::Disabled
        };
        let after = if spec.once {
            ActionAfterCompletion::Delete
        } else {
            ActionAfterCompletion::None
        };
        let start = spec.start.map(DateTime::from_secs_f64);
        let group = self.schedule_group();
        let created = r
            .scheduler
            .create_schedule()
            .name(&spec.name)
            .group_name(&group)
            .schedule_expression(&spec.expression)
            .schedule_expression_timezone(&spec.timezone)
            .set_start_date(start)
            .state(state.clone())
            .action_after_completion(after.clone())
            .flexible_time_window(window.clone())
            .target(target.clone())
            .description("written by scale0")
            .send()
            .await;
        match created {
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conflict_exception()) =>
            {
                r.scheduler
                    .update_schedule()
                    .name(&spec.name)
                    .group_name(&group)
                    .schedule_expression(&spec.expression)
                    .schedule_expression_timezone(&spec.timezone)
                    .set_start_date(start)
                    .state(state)
                    .action_after_completion(after)
                    .flexible_time_window(window)
                    .target(target)
                    .description("written by scale0")
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| self.schedule_error(env, &role, e))
            }
            Err(e) => Err(self.schedule_error(env, &role, e)),
            Ok(_) => Ok(()),
        }
    }

    fn schedule_error<E, R>(
        &self,
        env: &Environment,
        role: &str,
        e: aws_sdk_scheduler::error::SdkError<E, R>,
    ) -> BackendError
    where
        E: aws_sdk_scheduler::error::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
        R: std::fmt::Debug,
    {
        let message = e
            .as_service_error()
            .and_then(|s| s.message())
            .unwrap_or_default()
            .to_string();
        if message.contains("assume the role") {
            return self.role_problem(env, role, &message);
        }
        self.err("writing the schedule", e)
    }

    /// Deletes a schedule; false if it did not exist.
    pub(super) async fn delete_schedule(
        &self,
        r: &RegionClients,
        name: &str,
    ) -> Result<bool, BackendError> {
        match r
            .scheduler
            .delete_schedule()
            .name(name)
            .group_name(self.schedule_group())
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.err("deleting the schedule", e)),
        }
    }

    /// One schedule of the project's group, if it exists.
    pub(super) async fn get_schedule(
        &self,
        r: &RegionClients,
        name: &str,
    ) -> Result<Option<Existing>, BackendError> {
        let got = match r
            .scheduler
            .get_schedule()
            .name(name)
            .group_name(self.schedule_group())
            .send()
            .await
        {
            Ok(g) => g,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(self.err("reading the schedule", e)),
        };
        let target = got.target();
        Ok(Some(Existing {
            spec: Spec {
                name: name.to_string(),
                expression: got.schedule_expression().unwrap_or_default().to_string(),
                timezone: got
                    .schedule_expression_timezone()
                    .unwrap_or("UTC")
                    .to_string(),
                target_arn: target.map(|t| t.arn().to_string()).unwrap_or_default(),
                input: target
                    .and_then(|t| t.input())
                    .unwrap_or_default()
                    .to_string(),
                once: got.action_after_completion() == Some(&ActionAfterCompletion::Delete),
                start: got.start_date().map(|d| d.as_secs_f64()),
            },
            role: target.map(|t| t.role_arn().to_string()).unwrap_or_default(),
            enabled: got.state() != Some(&ScheduleState::Disabled),
        }))
    }

    /// Every schedule of scale0's in the region's group, with its next firing; `env`
    /// narrows it to one environment. A missing group is no schedules.
    /// Minutes in `[start, end)` when one of scale0's schedules in the region `id` (see
    /// `region_ids`) failed to call its target (EventBridge Scheduler's `TargetErrorCount`
    /// for the group; AWS does not say which schedule, only the dead-letter queue would):
    /// (minute, failures).
    pub async fn schedule_failures(
        &self,
        id: &str,
        start: f64,
        end: f64,
    ) -> Result<Vec<(f64, f64)>, BackendError> {
        let r = self.region_by_id(id)?;
        let group = self.schedule_group();
        let points = super::metrics::fetch_sum(
            r,
            "AWS/Scheduler",
            "TargetErrorCount",
            &[("ScheduleGroup", group.as_str())],
            start,
            end,
            60,
        )
        .await?;
        Ok(points.into_iter().filter(|(_, n)| *n > 0.0).collect())
    }

    pub async fn schedules_in(
        &self,
        region: &str,
        env: Option<&str>,
    ) -> Result<Vec<PlannedSchedule>, BackendError> {
        self.schedules_at(self.region(region)?, env).await
    }

    /// The same in one account's region (an environment's).
    pub(super) async fn schedules_at(
        &self,
        r: &super::aws::RegionClients,
        env: Option<&str>,
    ) -> Result<Vec<PlannedSchedule>, BackendError> {
        let group = self.schedule_group();
        let mut names = Vec::new();
        let mut pages = r
            .scheduler
            .list_schedules()
            .group_name(&group)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_not_found_exception()) =>
                {
                    return Ok(Vec::new());
                }
                Err(e) => return Err(self.err("listing schedules", e)),
            };
            for s in page.schedules() {
                let Some(name) = s.name() else { continue };
                if plan::parse_schedule_name(name)
                    .is_some_and(|(_, e, _)| env.is_none_or(|want| want == e))
                {
                    names.push(name.to_string());
                }
            }
        }
        let now = self.clock.now();
        let reads = names.iter().map(|n| self.get_schedule(r, n));
        let mut out = Vec::new();
        for (name, got) in names
            .iter()
            .zip(futures_util::future::join_all(reads).await)
        {
            // Deleted between the listing and the read: a one-time schedule that just ran.
            let Some(existing) = got? else { continue };
            let Some((kind, env, part)) = plan::parse_schedule_name(name) else {
                continue;
            };
            let next = Expression::parse(&existing.spec.expression)
                .ok()
                .zip(zone(&existing.spec.timezone).ok())
                .and_then(|(e, tz)| {
                    existing
                        .enabled
                        .then(|| e.next_after(now, now, &tz, existing.spec.start, None))
                        .flatten()
                });
            out.push(PlannedSchedule {
                name: name.clone(),
                env: env.to_string(),
                kind: kind.to_string(),
                part: part.to_string(),
                expression: existing.spec.expression.clone(),
                timezone: existing.spec.timezone.clone(),
                enabled: existing.enabled,
                next,
                action: existing
                    .spec
                    .target_arn
                    .strip_prefix("arn:aws:scheduler:::aws-sdk:")
                    .unwrap_or(&existing.spec.target_arn)
                    .to_string(),
            });
        }
        let next = |p: &PlannedSchedule| p.next.unwrap_or(f64::MAX);
        out.sort_by(|a, b| a.env.cmp(&b.env).then(next(a).total_cmp(&next(b))));
        Ok(out)
    }
}
