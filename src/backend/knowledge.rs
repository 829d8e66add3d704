//! Three-valued knowledge: after a refresh, every part of every environment is known,
//! unknown because its read failed (with the error and its kind), or absent. A failing
//! read never turns into "no app": the last known value is kept, marked stale with its
//! age, and an environment known before stays listed while the reads that found it fail.

use super::{BackendError, FailureKind, ReadFailure};
use crate::model::{Environment, Part, Time, Unread};
use std::collections::HashMap;

/// What one region's refresh could not read.
#[derive(Default)]
pub(super) struct Misses {
    /// A service listing failed (some compute kind): any environment may lack its service.
    pub services: Option<ReadFailure>,
    /// Per environment name: its service's details could not be read.
    pub described: HashMap<String, ReadFailure>,
    /// The clusters could not be listed.
    pub databases: Option<ReadFailure>,
    /// Per repository: its images could not be read.
    pub images: HashMap<String, ReadFailure>,
    /// Metrics or RDS events (what tells paused from awake) could not be read.
    pub metrics: Option<ReadFailure>,
}

impl Misses {
    /// Records a failure as typed (`failures`) and as the text problems list.
    pub fn failure(region: &str, service: &str, e: &BackendError) -> ReadFailure {
        ReadFailure {
            account: String::new(),
            region: region.to_string(),
            service: service.to_string(),
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl ReadFailure {
    /// "us-east-1: App Runner: <message>", the problems list's line.
    pub fn line(&self) -> String {
        let place = match (self.account.as_str(), self.region.as_str()) {
            ("", region) => region.to_string(),
            (account, "") => account.to_string(),
            (account, region) => format!("{account}/{region}"),
        };
        format!("{place}: {}: {}", self.service, self.message)
    }
}

fn unread(part: Part, f: &ReadFailure, last_read: Option<Time>) -> Unread {
    Unread {
        part,
        kind: f.kind,
        error: f.line(),
        last_read,
    }
}

/// When `previous`'s `part` was last read: at the previous refresh, or earlier if it was
/// already stale then.
fn read_time(previous: &Environment, part: Part, previous_at: Option<Time>) -> Option<Time> {
    match previous.unread(part) {
        Some(u) => u.last_read,
        None => previous_at,
    }
}

/// Marks what `misses` left unknown in `envs`, keeping `previous` values (read at
/// `previous_at`) as stale ones, and keeps previously known environments that the
/// failing reads may have hidden.
pub(super) fn reconcile(
    envs: &mut Vec<Environment>,
    previous: &[Environment],
    previous_at: Option<Time>,
    misses: &Misses,
) {
    for env in envs.iter_mut() {
        let before = previous.iter().find(|p| p.key == env.key);
        let service_miss = misses
            .described
            .get(&env.key.name)
            .or(misses.services.as_ref().filter(|_| env.service.is_none()));
        if let Some(f) = service_miss {
            let kept = before.and_then(|p| p.service.clone().map(|s| (p, s)));
            let last = kept
                .as_ref()
                .and_then(|(p, _)| read_time(p, Part::Service, previous_at));
            if let Some((_, s)) = kept {
                env.service = Some(s);
            }
            if env.image.is_none()
                && let Some(p) = before
            {
                env.image = p.image.clone();
            }
            env.unread.push(unread(Part::Service, f, last));
        }
        if let Some(f) = &misses.databases {
            let kept = before.and_then(|p| p.database.clone().map(|d| (p, d)));
            let last = kept
                .as_ref()
                .and_then(|(p, _)| read_time(p, Part::Database, previous_at));
            if let Some((_, d)) = kept {
                env.database = Some(d);
            }
            env.unread.push(unread(Part::Database, f, last));
        }
        let repo_miss = env
            .image
            .as_ref()
            .and_then(|i| misses.images.get(&i.repository))
            .or(service_miss.filter(|_| env.image.is_none()));
        if let Some(f) = repo_miss {
            let kept = before.and_then(|p| p.image.clone().map(|i| (p, i)));
            let last = kept
                .as_ref()
                .and_then(|(p, _)| read_time(p, Part::Image, previous_at));
            if let Some((_, i)) = kept {
                env.image = Some(i);
            }
            env.unread.push(unread(Part::Image, f, last));
        }
        if let Some(f) = &misses.metrics {
            let last = before.and_then(|p| read_time(p, Part::Metrics, previous_at));
            // The paused state and the live figures came from metrics: keep the last known.
            if let (Some(db), Some(old)) = (
                env.database.as_mut(),
                before.and_then(|p| p.database.as_ref()),
            ) && misses.databases.is_none()
                && db.id == old.id
            {
                db.power = old.power.clone();
                db.capacity = old.capacity.or(db.capacity);
                db.connections = old.connections;
                db.auto_pause_at = old.auto_pause_at;
            }
            env.unread.push(unread(Part::Metrics, f, last));
        }
    }
    // Known before, not found now, and a failing read could be why: still listed, stale.
    for p in previous {
        if envs.iter().any(|e| e.key == p.key) {
            continue;
        }
        let service_miss = p.service.as_ref().and(misses.services.as_ref());
        let db_miss = p.database.as_ref().and(misses.databases.as_ref());
        let Some(f) = service_miss.or(db_miss) else {
            continue;
        };
        let mut kept = p.clone();
        kept.unread.clear();
        for part in [Part::Service, Part::Database, Part::Image, Part::Metrics] {
            let miss = match part {
                Part::Service => service_miss,
                Part::Database => db_miss,
                _ => Some(f),
            };
            if let Some(m) = miss {
                kept.unread
                    .push(unread(part, m, read_time(p, part, previous_at)));
            }
        }
        envs.push(kept);
    }
}

/// Whether every failure in `failures` is of one kind, and which.
pub fn common_kind(failures: &[ReadFailure]) -> Option<FailureKind> {
    let first = failures.first()?.kind;
    failures.iter().all(|f| f.kind == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Discovery, EnvKey};

    fn env(name: &str) -> Environment {
        Environment {
            key: EnvKey::new("r", name),
            owner: None,
            discovery: Discovery::Tags,
            service: None,
            database: None,
            image: None,
            unread: Vec::new(),
            read_only: None,
        }
    }

    fn service(name: &str) -> crate::model::ServiceState {
        crate::model::ServiceState {
            name: name.into(),
            arn: format!("arn:aws:apprunner:r:1:service/{name}/x"),
            id: "x".into(),
            url: None,
            status: crate::model::ServiceStatus::Running,
            operation: None,
            recent_operations: Vec::new(),
            image_identifier: None,
            auto_deployments: false,
            scaling: None,
            vcpu: 1.0,
            memory_gb: 2.0,
            active_instances: None,
            tags: Vec::new(),
            kind: "apprunner",
            kind_label: "App Runner",
            console_url: None,
            prices: crate::model::cost::ComputePrices {
                gb_hour: 0.0,
                vcpu_hour: 0.0,
                standing_hour: 0.0,
            },
            facts: crate::model::KindFacts::default(),
        }
    }

    fn throttled() -> ReadFailure {
        Misses::failure(
            "r",
            "App Runner",
            &BackendError::Aws {
                context: "listing".into(),
                code: "ThrottlingException".into(),
                message: "Rate exceeded".into(),
            },
        )
    }

    #[test]
    fn a_failed_listing_is_unknown_not_absent_and_known_environments_stay_stale() {
        // Nothing known before: the service is unknown, not "no app".
        let mut envs = vec![env("carol")];
        let misses = Misses {
            services: Some(throttled()),
            ..Misses::default()
        };
        reconcile(&mut envs, &[], None, &misses);
        let u = envs[0].unread(Part::Service).expect("service unread");
        assert_eq!((u.kind, u.last_read), (FailureKind::Throttled, None));
        assert!(envs[0].summary(0.0).starts_with("app unknown (throttled)"));

        // Known before: kept, stale since the previous refresh; a vanished one stays.
        let mut before = env("carol");
        before.database = None;
        let mut gone = env("dave");
        gone.service = Some(service("scale0-dave"));
        before.service = Some(service("scale0-carol"));
        let mut envs = vec![env("carol")];
        reconcile(&mut envs, &[before, gone], Some(100.0), &misses);
        assert_eq!(envs.len(), 2);
        assert!(envs.iter().all(|e| e.service.is_some()));
        assert!(
            envs.iter()
                .all(|e| e.unread(Part::Service).and_then(|u| u.last_read) == Some(100.0))
        );
        assert!(
            envs[0].summary(160.0).contains("stale 1 min (throttled)"),
            "{}",
            envs[0].summary(160.0)
        );
    }
}
