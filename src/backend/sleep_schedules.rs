//! Sleep schedules: "awake 08:00-19:00 MON-FRI in Europe/Berlin" as recurring
//! EventBridge Scheduler schedules that pause and resume the service, and switch the
//! database where it would not sleep on its own (MinCapacity above 0: to 0 and back; a
//! provisioned writer: stop and start). A running keep-awake holds them back until it
//! expires. And the schedule that stops a cluster again after AWS's 7-day restart.

use super::aws::AwsBackend;
use super::scheduler::Spec;
use super::{ActionReport, BackendError, Step};
use crate::model::plan::{self, SleepWindow, schedule_name};
use crate::model::{DbMode, Environment};
use serde_json::json;

const RDS: &str = "arn:aws:scheduler:::aws-sdk:rds:";

impl AwsBackend {
    /// Writes the environment's sleep window; refuses if it already has one unless
    /// `replace` (two windows would fight over the same service).
    pub async fn set_sleep_window(
        &self,
        env: &Environment,
        window: &SleepWindow,
        replace: bool,
    ) -> Result<ActionReport, BackendError> {
        let r = self.region_for(&env.key)?;
        let name = &env.key.name;
        let existing = self
            .schedules_at(self.region_for(&env.key)?, Some(name))
            .await?;
        let current: Vec<_> = existing
            .iter()
            .filter(|s| s.kind == "sleep" || s.kind == "wake")
            .collect();
        if !current.is_empty() && !replace {
            let label = current
                .iter()
                .map(|s| format!("{} {}", s.name, s.expression))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(BackendError::InvalidInput(format!(
                "{name} already has a sleep schedule ({label}); it would overlap: pass --replace to change it, or remove it first"
            )));
        }
        let mut specs = Vec::new();
        if let Some(s) = &env.service {
            let kind = self.compute(r, s)?;
            for (wake, sched) in [(false, "sleep"), (true, "wake")] {
                let (target_arn, input) = kind.scheduler_target(s, !wake).ok_or_else(|| {
                    BackendError::Refused(format!(
                        "scale0 can't schedule {} services yet",
                        kind.label()
                    ))
                })?;
                specs.push((wake, sched, "service", target_arn, input));
            }
        }
        if let Some(db) = &env.database {
            let id = &db.id;
            match &db.mode {
                DbMode::ServerlessV2 {
                    min_acu, max_acu, ..
                } if *min_acu > 0.0 => {
                    let input = |min: f64| {
                        json!({"DbClusterIdentifier": id, "ServerlessV2ScalingConfiguration": {"MinCapacity": min, "MaxCapacity": max_acu}}).to_string()
                    };
                    specs.push((
                        false,
                        "sleep",
                        "db",
                        format!("{RDS}modifyDBCluster"),
                        input(0.0),
                    ));
                    specs.push((
                        true,
                        "wake",
                        "db",
                        format!("{RDS}modifyDBCluster"),
                        input(*min_acu),
                    ));
                }
                DbMode::Provisioned { .. } => {
                    // A global database's members can't be stopped: refuse now, not at 19:00.
                    if let crate::model::blockers::Finding::Blocks { what, .. } =
                        self.global_finding(r, db).await
                    {
                        return Err(BackendError::Refused(format!(
                            "{} can't be stopped on a schedule: {what}",
                            db.id
                        )));
                    }
                    let input = json!({"DbClusterIdentifier": id}).to_string();
                    specs.push((
                        false,
                        "sleep",
                        "db",
                        format!("{RDS}stopDBCluster"),
                        input.clone(),
                    ));
                    specs.push((true, "wake", "db", format!("{RDS}startDBCluster"), input));
                }
                // MinCapacity 0 and v1 auto-pause once the service stops holding them.
                _ => {}
            }
        }
        self.ensure_group(r).await?;
        let hold = plan::keep_awake(env)
            .map(|k| k.until)
            .filter(|u| *u > self.clock.now());
        let started = self.waits.now();
        let mut report = ActionReport {
            env: Some(env.key.clone()),
            ..ActionReport::default()
        };
        let mut written: Vec<String> = Vec::new();
        for (wake, kind, part, target_arn, input) in specs {
            let spec = Spec {
                name: schedule_name(kind, name, part),
                expression: window.cron(wake),
                timezone: window.timezone.clone(),
                target_arn,
                input,
                once: false,
                start: hold,
            };
            if let Err(e) = self.put_schedule(r, env, &spec, true).await {
                // Nothing half-created: the schedules written so far go too.
                let mut undone = Vec::new();
                for n in &written {
                    match self.delete_schedule(r, n).await {
                        Ok(_) => undone.push(format!("deleted {n}")),
                        Err(d) => undone.push(format!("could NOT delete {n}: {d}")),
                    }
                }
                return Err(match undone.is_empty() {
                    true => e,
                    false => {
                        BackendError::Other(format!("{e}\n  rolled back: {}", undone.join("; ")))
                    }
                });
            }
            written.push(spec.name.clone());
            report.steps.push(Step {
                what: format!("{} {} ({})", spec.name, spec.expression, spec.timezone),
                seconds: self.waits.now() - started,
            });
        }
        // A replaced window may have had database schedules this one does not need.
        for old in current {
            if !written.contains(&old.name) {
                self.delete_schedule(r, &old.name).await?;
                report.steps.push(Step {
                    what: format!("deleted {}", old.name),
                    seconds: self.waits.now() - started,
                });
            }
        }
        if let Some(until) = hold {
            report.left.push(format!(
                "held back until the keep-awake ends at {}",
                plan::iso(until)
            ));
        }
        report.left.push(window.label());
        Ok(report)
    }

    /// Deletes the environment's sleep and wake schedules.
    pub async fn remove_sleep_window(
        &self,
        env: &Environment,
    ) -> Result<ActionReport, BackendError> {
        let r = self.region_for(&env.key)?;
        let started = self.waits.now();
        let mut report = ActionReport {
            env: Some(env.key.clone()),
            ..ActionReport::default()
        };
        for kind in ["sleep", "wake"] {
            for part in ["service", "db"] {
                let n = schedule_name(kind, &env.key.name, part);
                if self.delete_schedule(r, &n).await? {
                    report.steps.push(Step {
                        what: format!("deleted {n}"),
                        seconds: self.waits.now() - started,
                    });
                }
            }
        }
        if report.steps.is_empty() {
            report.steps.push(Step {
                what: format!("nothing to do: {} has no sleep schedule", env.key.name),
                seconds: 0.0,
            });
        }
        Ok(report)
    }

    /// A stopped cluster starts by itself after 7 days (RDS-EVENT-0153): this schedules
    /// a stop 30 minutes after that automatic start.
    pub async fn stop_after_restart(
        &self,
        env: &Environment,
    ) -> Result<ActionReport, BackendError> {
        let db = env.database.as_ref().ok_or_else(|| {
            BackendError::Refused(format!("environment {} has no database", env.key.name))
        })?;
        if matches!(db.mode, DbMode::ServerlessV1 { .. }) {
            return Err(BackendError::Refused(format!(
                "{} is Aurora Serverless v1, which can't be stopped",
                db.id
            )));
        }
        let restart = db.automatic_restart_time.ok_or_else(|| {
            BackendError::Refused(format!(
                "{} is {}, not stopped: AWS has no automatic start planned",
                db.id, db.status
            ))
        })?;
        let r = self.region_for(&env.key)?;
        self.ensure_group(r).await?;
        let at = restart + 30.0 * 60.0;
        let spec = Spec {
            name: schedule_name("restop", &env.key.name, "db"),
            expression: format!("at({})", plan::iso(at).trim_end_matches('Z')),
            timezone: "UTC".into(),
            target_arn: format!("{RDS}stopDBCluster"),
            input: json!({"DbClusterIdentifier": db.id}).to_string(),
            once: true,
            start: None,
        };
        let started = self.waits.now();
        self.put_schedule(r, env, &spec, true).await?;
        Ok(ActionReport {
            env: Some(env.key.clone()),
            parts: Vec::new(),
            steps: vec![Step {
                what: format!("{} stops {} again at {}", spec.name, db.id, plan::iso(at)),
                seconds: self.waits.now() - started,
            }],
            left: vec![format!(
                "AWS starts it at {}; after this stop it restarts again 7 days later",
                plan::iso(restart)
            )],
        })
    }
}
