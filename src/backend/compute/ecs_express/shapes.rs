//! ECS's answers turned into what the kind needs: ARNs split, tags, the newest
//! configuration, deployment statuses in scale0's words, and the scaling-target tag.

use crate::backend::convert;
use aws_sdk_ecs::types::{
    ExpressGatewayScalingTarget, ExpressGatewayServiceConfiguration,
    ExpressGatewayServiceScalingMetric, Tag,
};

/// `arn:aws:ecs:<region>:<account>:service/<cluster>/<name>` -> (cluster, name).
pub(super) fn cluster_and_name(arn: &str) -> Option<(&str, &str)> {
    let path = arn.split_once(":service/")?.1;
    path.split_once('/')
}

/// The CloudWatch dimension form of an ELB ARN (`app/...`, `targetgroup/...`).
pub(super) fn arn_suffix(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    resource
        .strip_prefix("loadbalancer/")
        .unwrap_or(resource)
        .to_string()
}

pub(super) fn tags_of(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
        .collect()
}

/// The newest configuration: activeConfigurations is unordered (aws.md 16.1.5).
pub(super) fn newest(
    configs: &[ExpressGatewayServiceConfiguration],
) -> Option<&ExpressGatewayServiceConfiguration> {
    configs.iter().max_by(|a, b| {
        convert::time(a.created_at())
            .partial_cmp(&convert::time(b.created_at()))
            .unwrap_or(std::cmp::Ordering::Equal)
    })
}

/// A deployment's status in the words the generic deploy wait reads.
pub(super) fn operation_status(aws: &str) -> String {
    match aws {
        "SUCCESSFUL" => "SUCCEEDED".into(),
        "ROLLBACK_SUCCESSFUL" => "ROLLBACK_SUCCEEDED".into(),
        other => other.into(),
    }
}

/// The scaling target as the tag keeps it: `min=1,max=4,metric=AVERAGE_CPU,target=60`.
pub(super) fn scaling_tag(t: &ExpressGatewayScalingTarget) -> String {
    format!(
        "min={},max={},metric={},target={}",
        t.min_task_count().unwrap_or(1),
        t.max_task_count().unwrap_or(1),
        t.auto_scaling_metric()
            .map_or("AVERAGE_CPU", |m| m.as_str()),
        t.auto_scaling_target_value().unwrap_or(60)
    )
}

pub(super) fn parse_scaling_tag(v: &str) -> Option<ExpressGatewayScalingTarget> {
    let field = |k: &str| {
        v.split(',')
            .find_map(|p| p.strip_prefix(k)?.strip_prefix('='))
    };
    let min = field("min")?.parse::<i32>().ok()?;
    let max = field("max")?.parse::<i32>().ok()?;
    Some(
        ExpressGatewayScalingTarget::builder()
            .min_task_count(min)
            .max_task_count(max.max(min).max(1))
            .auto_scaling_metric(ExpressGatewayServiceScalingMetric::from(
                field("metric").unwrap_or("AVERAGE_CPU"),
            ))
            .auto_scaling_target_value(field("target").and_then(|t| t.parse().ok()).unwrap_or(60))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scaling_tag_round_trips_and_a_bad_one_is_refused() {
        let t =
            parse_scaling_tag("min=2,max=6,metric=REQUEST_COUNT_PER_TARGET,target=100").unwrap();
        assert_eq!(
            scaling_tag(&t),
            "min=2,max=6,metric=REQUEST_COUNT_PER_TARGET,target=100"
        );
        let short = parse_scaling_tag("min=1,max=4").unwrap();
        assert_eq!(
            scaling_tag(&short),
            "min=1,max=4,metric=AVERAGE_CPU,target=60"
        );
        assert!(parse_scaling_tag("max=4").is_none());
        assert!(parse_scaling_tag("min=one,max=4").is_none());
    }

    #[test]
    fn arns_split_into_their_parts() {
        assert_eq!(
            cluster_and_name("arn:aws:ecs:us-east-1:1:service/default/scale0-a"),
            Some(("default", "scale0-a"))
        );
        assert_eq!(
            arn_suffix("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/alb/abc"),
            "app/alb/abc"
        );
        assert_eq!(
            arn_suffix("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg/def"),
            "targetgroup/tg/def"
        );
    }
}
