//! Fault injection: rules that make matching API calls slow, throttled, failing or
//! silent, so clients can be tested against them. Managed under `/_scale0/faults`.

use super::protocol::GenericError;
use super::shapes::AwsService;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer after `ms` more milliseconds (real time).
    Latency {
        ms: u64,
    },
    /// The service's throttling error.
    Throttle,
    /// An HTTP 5xx with the service's internal error.
    ServerError,
    /// Never answer: the client must time out.
    Stall,
    AccessDenied,
    ExpiredToken,
    /// A 200 whose body no parser accepts.
    Malformed,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct FaultRule {
    #[serde(default)]
    pub id: u64,
    /// Signing name (apprunner, ecr, rds, monitoring, rds-data); all services if absent.
    #[serde(default)]
    pub service: Option<String>,
    /// Operation name such as PauseService; all operations if absent.
    #[serde(default)]
    pub operation: Option<String>,
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many matching calls it applies to; forever if absent.
    #[serde(default)]
    pub count: Option<u32>,
}

/// What the matching rules do to one call.
#[derive(Debug, Default, PartialEq)]
pub struct Effect {
    pub latency_ms: u64,
    pub stall: bool,
    pub error: Option<GenericError>,
    pub malformed: bool,
}

#[derive(Default)]
pub struct Faults {
    rules: Vec<FaultRule>,
    next_id: u64,
}

impl Faults {
    pub fn add(&mut self, mut rule: FaultRule) -> Result<FaultRule, String> {
        if let Some(s) = &rule.service
            && AwsService::from_name(s).is_none()
        {
            return Err(format!(
                "unknown service {s:?}; use apprunner, ecr, rds, monitoring or rds-data"
            ));
        }
        if rule.count == Some(0) {
            return Err("count must be at least 1".into());
        }
        self.next_id += 1;
        rule.id = self.next_id;
        self.rules.push(rule.clone());
        Ok(rule)
    }

    pub fn list(&self) -> &[FaultRule] {
        &self.rules
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.id != id);
        self.rules.len() != before
    }

    /// Applies (and uses up) the rules matching this call.
    pub fn apply(&mut self, service: AwsService, operation: &str) -> Effect {
        let mut effect = Effect::default();
        for rule in &mut self.rules {
            let matches = rule
                .service
                .as_deref()
                .is_none_or(|s| AwsService::from_name(s) == Some(service))
                && rule.operation.as_deref().is_none_or(|o| o == operation);
            if !matches {
                continue;
            }
            let applies = match &rule.kind {
                FaultKind::Latency { ms } => {
                    effect.latency_ms += ms;
                    true
                }
                FaultKind::Malformed => {
                    effect.malformed = true;
                    true
                }
                FaultKind::Stall if !effect.stall && effect.error.is_none() => {
                    effect.stall = true;
                    true
                }
                kind if effect.error.is_none() && !effect.stall => {
                    effect.error = Some(match kind {
                        FaultKind::Throttle => GenericError::Throttling,
                        FaultKind::AccessDenied => GenericError::AccessDenied,
                        FaultKind::ExpiredToken => GenericError::ExpiredToken,
                        _ => GenericError::Internal,
                    });
                    true
                }
                _ => false,
            };
            if applies && let Some(n) = &mut rule.count {
                *n -= 1;
            }
        }
        self.rules.retain(|r| r.count != Some(0));
        effect
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> FaultRule {
        serde_json::from_str(json).expect("rule json")
    }

    #[test]
    fn rules_match_by_service_and_operation_and_run_out() {
        let mut f = Faults::default();
        f.add(rule(
            r#"{"service":"apprunner","operation":"PauseService","kind":"throttle","count":1}"#,
        ))
        .unwrap();
        f.add(rule(r#"{"kind":"latency","ms":50}"#)).unwrap();
        assert_eq!(
            f.apply(AwsService::Rds, "DescribeDBClusters"),
            Effect {
                latency_ms: 50,
                stall: false,
                error: None,
                malformed: false,
            }
        );
        assert_eq!(
            f.apply(AwsService::AppRunner, "PauseService").error,
            Some(GenericError::Throttling)
        );
        assert_eq!(f.apply(AwsService::AppRunner, "PauseService").error, None);
        assert_eq!(f.list().len(), 1);
    }

    #[test]
    fn unknown_services_are_refused() {
        let mut f = Faults::default();
        assert!(f.add(rule(r#"{"service":"s3","kind":"stall"}"#)).is_err());
    }
}
