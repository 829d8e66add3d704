//! Live-state inference: what only metrics and events tell about an environment (active
//! instances, capacity, connections, whether the database is paused and since when, when it
//! would auto-pause, whether a newer image waits). Pure functions over model types.

use super::ImageRef;
use crate::model::{
    DatabaseState, DbMode, EnvMetrics, Environment, Image, ImageState, MetricSeries, Power,
    ServiceState, ServiceStatus, Time,
};

/// One RDS event, as the backend needs it.
#[derive(Clone, Debug)]
pub struct RdsEvent {
    pub source: String,
    pub time: Time,
    pub message: String,
}

pub fn image_state(
    repository: &str,
    reference: &ImageRef,
    images: &[Image],
    service: Option<&ServiceState>,
) -> ImageState {
    let current = images.iter().find(|i| match reference {
        ImageRef::Tag(t) => i.tags.iter().any(|x| x == t),
        ImageRef::Digest(d) => &i.digest == d,
    });
    let last_deploy = service.and_then(|s| {
        s.recent_operations
            .iter()
            .filter(|o| {
                o.status == "SUCCEEDED"
                    && matches!(
                        o.kind.as_str(),
                        "START_DEPLOYMENT" | "UPDATE_SERVICE" | "CREATE_SERVICE" | "RESUME_SERVICE"
                    )
            })
            .filter_map(|o| o.ended_at)
            .reduce(f64::max)
    });
    let tag = match reference {
        ImageRef::Tag(t) => Some(t.clone()),
        ImageRef::Digest(_) => None,
    };
    ImageState {
        repository: repository.to_string(),
        tag: tag.clone(),
        digest: current.map(|i| i.digest.clone()),
        pushed_at: current.and_then(|i| i.pushed_at),
        // The tag moved after the last successful deployment: that image is not running.
        newer_waiting: tag.is_some()
            && matches!((current.and_then(|i| i.pushed_at), last_deploy), (Some(p), Some(d)) if p > d),
    }
}

/// Fills in what only metrics and events tell: active instances, capacity, connections,
/// whether the writer is paused, and when it would auto-pause.
pub fn apply_live_state(env: &mut Environment, m: &EnvMetrics, events: &[RdsEvent], now: Time) {
    if let Some(s) = &mut env.service {
        s.active_instances = match s.status {
            ServiceStatus::Paused => Some(0.0),
            _ => m
                .active_instances
                .last()
                .filter(|(t, _)| now - t < 300.0)
                .map(|(_, v)| v)
                .or(Some(0.0)),
        };
    }
    let Some(db) = &mut env.database else { return };
    let fresh = |series: &MetricSeries| {
        series
            .last()
            .filter(|(t, _)| now - t < 600.0)
            .map(|(_, v)| v)
    };
    if db.capacity.is_none() {
        db.capacity = fresh(&m.capacity);
    }
    db.connections = fresh(&m.connections);
    if !matches!(db.power, Power::Unknown | Power::Paused { .. })
        || matches!(db.mode, DbMode::Provisioned { .. })
    {
        return;
    }
    // The newest pause/resume event of this writer (v2: db-instance 0370-0374) or
    // cluster (v1: 0144-0148) decides; metrics fill in when events are older than a day.
    let mine: Vec<&RdsEvent> = events
        .iter()
        .filter(|e| e.source == db.id || Some(&e.source) == db.writer_id.as_ref())
        .filter(|e| pause_event(&e.message).is_some())
        .collect();
    db.power = match mine
        .last()
        .and_then(|e| pause_event(&e.message).map(|k| (k, e.time)))
    {
        Some((PauseEvent::Paused, t)) => Power::Paused { since: Some(t) },
        Some((PauseEvent::Resuming, t)) => Power::Resuming { since: Some(t) },
        Some((PauseEvent::Awake, _)) => Power::Awake,
        None => match (db.capacity, &db.power) {
            (Some(0.0), _) => Power::Paused { since: None },
            (_, Power::Paused { since }) => Power::Paused { since: *since },
            (Some(_), _) => Power::Awake,
            (None, _) => Power::Unknown,
        },
    };
    if matches!(db.power, Power::Paused { .. }) {
        db.capacity = Some(0.0);
        db.connections = Some(0.0);
    }
    // When it will pause: the last minute with a connection (or the last resume), plus
    // SecondsUntilAutoPause, if nothing is connected now.
    if db.power == Power::Awake
        && let Some(seconds) = db.mode.auto_pause_seconds()
        && db.connections.is_some_and(|c| c == 0.0)
    {
        // Idle since the minute after the last busy one, or at least since the window's
        // first point when every point is zero.
        let last_busy = m
            .connections
            .points
            .iter()
            .filter(|(_, v)| *v > 0.0)
            .map(|(t, _)| t + 60.0)
            .reduce(f64::max)
            .or_else(|| m.connections.points.first().map(|(t, _)| *t));
        let last_resume = mine
            .iter()
            .filter(|e| pause_event(&e.message) == Some(PauseEvent::Awake))
            .map(|e| e.time)
            .reduce(f64::max);
        if let Some(idle_since) = [last_busy, last_resume]
            .into_iter()
            .flatten()
            .reduce(f64::max)
        {
            db.auto_pause_at = Some((idle_since + seconds as f64).max(now));
        }
    }
}

/// Decides a database that the dashboard's window left unknown from its older capacity:
/// a last point of 0 means paused, since the first zero after the last busy period.
pub fn apply_capacity_history(db: &mut DatabaseState, history: &MetricSeries, period: f64) {
    if db.power != Power::Unknown {
        return;
    }
    let Some(&(_, last)) = history.points.last() else {
        return;
    };
    if last != 0.0 {
        return;
    }
    let last_busy = history
        .points
        .iter()
        .rev()
        .find(|(_, v)| *v > 0.0)
        .map(|(t, _)| *t);
    let since = match last_busy {
        Some(busy) => history
            .points
            .iter()
            .find(|(t, _)| *t > busy)
            .map(|(t, _)| *t)
            .or(Some(busy + period)),
        // Zero for the whole two weeks: paused since before them.
        None => None,
    };
    db.power = Power::Paused { since };
    db.capacity = Some(0.0);
    db.connections = Some(0.0);
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum PauseEvent {
    Paused,
    Resuming,
    Awake,
}

fn pause_event(message: &str) -> Option<PauseEvent> {
    match message {
        "Successfully paused the DB instance." | "The DB cluster is paused." => {
            Some(PauseEvent::Paused)
        }
        "Initiated resume for the DB instance." | "The DB cluster is being resumed." => {
            Some(PauseEvent::Resuming)
        }
        "Successfully resumed the DB instance."
        | "The DB cluster is resumed."
        | "Pause was canceled for the DB instance."
        | "Pause was canceled for the DB cluster."
        | "DB cluster started." => Some(PauseEvent::Awake),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paused_v2_unknown() -> DatabaseState {
        crate::model::test_support::environment("dev")
            .database
            .expect("the test environment has a database")
    }

    #[test]
    fn a_pause_older_than_the_window_is_still_known() {
        let mut db = paused_v2_unknown();
        let history = MetricSeries {
            points: vec![(0.0, 2.0), (3600.0, 1.0), (7200.0, 0.0), (10800.0, 0.0)],
        };
        apply_capacity_history(&mut db, &history, 3600.0);
        assert_eq!(
            db.power,
            Power::Paused {
                since: Some(7200.0)
            }
        );
        assert_eq!(db.capacity, Some(0.0));
    }

    #[test]
    fn zero_for_the_whole_history_is_paused_since_before_it_and_busy_stays_undecided() {
        let mut db = paused_v2_unknown();
        let zeros = MetricSeries {
            points: vec![(0.0, 0.0), (3600.0, 0.0)],
        };
        apply_capacity_history(&mut db, &zeros, 3600.0);
        assert_eq!(db.power, Power::Paused { since: None });

        let mut db = paused_v2_unknown();
        let busy = MetricSeries {
            points: vec![(0.0, 0.0), (3600.0, 2.0)],
        };
        apply_capacity_history(&mut db, &busy, 3600.0);
        assert_eq!(
            db.power,
            Power::Unknown,
            "an old busy point says nothing about now"
        );

        let mut db = paused_v2_unknown();
        apply_capacity_history(&mut db, &MetricSeries::default(), 3600.0);
        assert_eq!(db.power, Power::Unknown);
    }

    #[test]
    fn pause_events_decide_over_metrics() {
        let mut env = Environment {
            key: crate::model::EnvKey::new("us-east-1", "dev"),
            owner: None,
            discovery: crate::model::Discovery::Naming,
            service: None,
            database: Some(paused_v2_unknown()),
            image: None,
            read_only: None,
            unread: Vec::new(),
        };
        let events = [RdsEvent {
            source: "scale0dev".into(),
            time: 100.0,
            message: "Successfully paused the DB instance.".into(),
        }];
        apply_live_state(&mut env, &EnvMetrics::default(), &events, 1000.0);
        let db = env.database.as_ref().map(|d| d.power.clone());
        assert_eq!(db, Some(Power::Paused { since: Some(100.0) }));
    }
}
