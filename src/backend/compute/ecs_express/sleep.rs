//! Scaling an Express service to zero and back: scale0's own pause and resume (the
//! scaling target kept in a tag), tags, and the EventBridge Scheduler target that does the
//! same when nobody's laptop is on.

use super::shapes::{cluster_and_name, parse_scaling_tag, scaling_tag};
use super::{EcsExpress, SCALING_TAG};
use crate::backend::BackendError;
use crate::model::ServiceState;
use aws_sdk_ecs::types::{ExpressGatewayScalingTarget, Tag};

/// A schedule's one call (aws.md 16.3.4): UpdateService{desiredCount} starts no
/// deployment and needs nothing else; an Express update would be a deployment and resets
/// every field it is not sent (16.1.7), so a schedule written today would undo a deploy.
pub(super) const SCHEDULE_TARGET: &str = "arn:aws:scheduler:::aws-sdk:ecs:updateService";

impl EcsExpress {
    pub(super) async fn scale_to_zero(&self, s: &ServiceState) -> Result<(), BackendError> {
        let config = self.newest_config(&s.arn).await?;
        let current = config.scaling_target().cloned().unwrap_or_else(|| {
            ExpressGatewayScalingTarget::builder()
                .min_task_count(1)
                .max_task_count(1)
                .build()
        });
        // At min 0 already (a schedule resumed it): the recorded target is still the one
        // to go back to, so it is kept rather than replaced by min 0.
        let recorded = recorded_target(s).filter(|_| current.min_task_count() == Some(0));
        if recorded.is_none() {
            // Remembered on the service first, so anyone's scale0 can restore it.
            self.tag_pairs(
                &s.arn,
                &[(SCALING_TAG.to_string(), scaling_tag(&current))],
                "recording the scaling target",
            )
            .await?;
        }
        let zero = ExpressGatewayScalingTarget::builder()
            .min_task_count(0)
            .max_task_count(current.max_task_count().unwrap_or(1).max(1))
            .set_auto_scaling_metric(current.auto_scaling_metric().cloned())
            .set_auto_scaling_target_value(current.auto_scaling_target_value())
            .build();
        self.set_scaling(&s.arn, zero).await?;
        self.set_desired(&s.arn, 0).await
    }

    /// Back to the recorded scaling target; with `tasks`, to that many instead. Without
    /// a record but with a minimum above 0 (a schedule set desired 0 and left the scaling
    /// target alone), the minimum says how many.
    pub(super) async fn scale_back(
        &self,
        s: &ServiceState,
        tasks: Option<u32>,
    ) -> Result<(), BackendError> {
        let tagged = s.tags.iter().find(|(k, _)| k == SCALING_TAG);
        let min_now = s.scaling.as_ref().map_or(0, |sc| sc.min_size);
        let target = match (tasks, recorded_target(s)) {
            (Some(0), _) => {
                return Err(BackendError::InvalidInput(
                    "--tasks must be at least 1 (0 is what pause does)".into(),
                ));
            }
            (Some(n), recorded) => {
                let n = i32::try_from(n).unwrap_or(i32::MAX);
                // Metric and target as they were (recorded, or today's): AWS resets
                // omitted ones to its defaults (aws.md 16.1.7).
                let base = match recorded {
                    Some(r) => Some(r),
                    None => self.newest_config(&s.arn).await?.scaling_target().cloned(),
                };
                let (metric, value, max) = match &base {
                    Some(r) => (
                        r.auto_scaling_metric().cloned(),
                        r.auto_scaling_target_value(),
                        r.max_task_count().unwrap_or(n),
                    ),
                    None => (None, None, n),
                };
                Some(
                    ExpressGatewayScalingTarget::builder()
                        .min_task_count(n)
                        .max_task_count(max.max(n))
                        .set_auto_scaling_metric(metric)
                        .set_auto_scaling_target_value(value)
                        .build(),
                )
            }
            (None, Some(recorded)) => Some(recorded),
            (None, None) if min_now > 0 => None,
            (None, None) => {
                return Err(BackendError::Refused(format!(
                    "can't resume {}: its scaling minimum is 0 and the scaling target from before the pause is not recorded (tag {SCALING_TAG} is {}). Say how many tasks it should run: scale0 resume <environment> --tasks N (or tag the service with {SCALING_TAG}=min=1,max=N: aws ecs tag-resource --resource-arn {} --tags key={SCALING_TAG},value=min=1,max=4, then resume)",
                    s.name,
                    if tagged.is_some() {
                        "unreadable"
                    } else {
                        "missing"
                    },
                    s.arn
                )));
            }
        };
        let desired = target
            .as_ref()
            .and_then(|t| t.min_task_count())
            .unwrap_or(min_now as i32)
            .max(1);
        self.set_desired(&s.arn, desired).await?;
        if let Some(target) = target {
            self.set_scaling(&s.arn, target).await?;
        }
        if tagged.is_some() {
            self.client
                .untag_resource()
                .resource_arn(&s.arn)
                .tag_keys(SCALING_TAG)
                .send()
                .await
                .map_err(|e| self.err("clearing the recorded scaling target", e))?;
        }
        Ok(())
    }

    pub(super) async fn tag_pairs(
        &self,
        arn: &str,
        tags: &[(String, String)],
        context: &str,
    ) -> Result<(), BackendError> {
        let tags = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| self.err(context, e))?;
        Ok(())
    }

    pub(super) async fn untag_keys(&self, arn: &str, keys: &[String]) -> Result<(), BackendError> {
        self.client
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(|e| self.err("untagging the service", e))?;
        Ok(())
    }

    /// The schedule's UpdateService Input: desired 0 to pause; to resume, the recorded
    /// minimum (or today's), at least one task.
    pub(super) fn schedule_input(s: &ServiceState, pause: bool) -> Option<String> {
        let (cluster, name) = cluster_and_name(&s.arn)?;
        let desired = if pause {
            0
        } else {
            recorded_target(s)
                .and_then(|t| t.min_task_count())
                .unwrap_or_else(|| s.scaling.as_ref().map_or(1, |sc| sc.min_size as i32))
                .max(1)
        };
        Some(
            serde_json::json!({"Cluster": cluster, "Service": name, "DesiredCount": desired})
                .to_string(),
        )
    }
}

/// The scaling target a pause recorded, if the tag is there and readable.
fn recorded_target(s: &ServiceState) -> Option<ExpressGatewayScalingTarget> {
    s.tags
        .iter()
        .find(|(k, _)| k == SCALING_TAG)
        .and_then(|(_, v)| parse_scaling_tag(v))
}
