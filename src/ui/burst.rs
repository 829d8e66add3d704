//! The burst as the app holds it: the form (shape of load), the running burst, the
//! environment's events already marked on its timeline, and saved runs to compare.

use crate::burst::runs::RunRecord;
use crate::burst::{BurstConfig, Snapshot, shape};
use crate::model::{EnvKey, Event as TimelineEvent};
use std::path::PathBuf;

/// How load arrives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Shape {
    /// All workers at once for the duration.
    #[default]
    Constant,
    /// From 0 to the workers over `ramp` seconds, then hold.
    Ramp,
    /// k6-like stages, e.g. "10s:10,30s:150,20s:0".
    Stages,
    /// Open model: a fixed total arrival rate, latency from each request's due time.
    Rate,
}

impl Shape {
    pub const ALL: [Shape; 4] = [Shape::Constant, Shape::Ramp, Shape::Stages, Shape::Rate];

    pub fn label(self) -> &'static str {
        match self {
            Shape::Constant => "constant",
            Shape::Ramp => "ramp",
            Shape::Stages => "stages",
            Shape::Rate => "fixed rate (-q)",
        }
    }
}

/// What the burst strip's fields say.
#[derive(Clone, Debug, PartialEq)]
pub struct BurstForm {
    pub shape: Shape,
    /// Workers (with a rate: most requests in flight).
    pub concurrency: u32,
    pub seconds: f64,
    pub ramp: f64,
    pub stages: String,
    /// Total requests per second (open model).
    pub rate: f64,
}

impl Default for BurstForm {
    fn default() -> Self {
        BurstForm {
            shape: Shape::Constant,
            concurrency: 50,
            seconds: 10.0,
            ramp: 5.0,
            stages: "5s:10,10s:50,5s:0".into(),
            rate: 100.0,
        }
    }
}

impl BurstForm {
    /// The burst this form asks for; a stage list that does not parse is a clear error.
    pub fn config(&self, url: String) -> Result<BurstConfig, String> {
        let mut config = BurstConfig {
            url,
            concurrency: self.concurrency,
            duration: Some(self.seconds),
            timeout: 20.0,
            ..BurstConfig::default()
        };
        match self.shape {
            Shape::Constant => {}
            Shape::Ramp => config.ramp = (self.ramp > 0.0).then_some(self.ramp.min(self.seconds)),
            Shape::Stages => {
                config.stages = shape::parse_stages(&self.stages).map_err(|e| e.to_string())?;
                config.duration = None;
            }
            Shape::Rate => {
                config.rate = Some(self.rate);
                config.correct_coordinated_omission = true;
            }
        }
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    }
}

#[derive(Default)]
pub struct BurstState {
    pub form: BurstForm,
    pub snapshot: Option<Snapshot>,
    pub running: bool,
    /// Server time when it started, to draw it on the environment's time axis.
    pub started_at: f64,
    pub env: Option<EnvKey>,
    /// The environment's events already sent to the running burst as markers.
    pub marked: Vec<(f64, String)>,
    /// Where finished bursts are saved (None: not saved).
    pub runs_dir: Option<PathBuf>,
    /// Saved runs, oldest first, and the two overlaid (indices).
    pub runs: Vec<RunRecord>,
    pub compare: (Option<usize>, Option<usize>),
}

impl BurstState {
    pub fn new() -> BurstState {
        BurstState {
            runs_dir: crate::burst::runs::dir().ok(),
            ..BurstState::default()
        }
    }

    /// The environment's events since the running burst started that it has not marked
    /// yet, as (seconds since its start, text): database resumed, instances added, ...
    pub fn new_markers(&mut self, env: &EnvKey, events: &[TimelineEvent]) -> Vec<(f64, String)> {
        if !self.running || self.env.as_ref() != Some(env) {
            return Vec::new();
        }
        let mut fresh = Vec::new();
        for e in events.iter().filter(|e| e.time >= self.started_at) {
            let marker = (
                e.time - self.started_at,
                format!("{}: {}", e.source, e.message),
            );
            if !self.marked.contains(&marker) {
                self.marked.push(marker.clone());
                fresh.push(marker);
            }
        }
        fresh
    }

    /// The two runs chosen for the overlay.
    pub fn compared(&self) -> (Option<&RunRecord>, Option<&RunRecord>) {
        let pick = |i: Option<usize>| i.and_then(|i| self.runs.get(i));
        (pick(self.compare.0), pick(self.compare.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shape_becomes_its_config() {
        let url = || "http://127.0.0.1:9/".to_string();
        let mut form = BurstForm::default();
        assert!(form.config(url()).unwrap().ramp.is_none());
        form.shape = Shape::Ramp;
        assert_eq!(form.config(url()).unwrap().ramp, Some(5.0));
        form.shape = Shape::Stages;
        let c = form.config(url()).unwrap();
        assert_eq!((c.stages.len(), c.duration), (3, None));
        form.stages = "10s:ten".into();
        assert!(
            form.config(url()).is_err(),
            "a stage list that does not parse"
        );
        form.shape = Shape::Rate;
        let c = form.config(url()).unwrap();
        assert_eq!(c.rate, Some(100.0));
        assert!(c.correct_coordinated_omission);
    }

    #[test]
    fn events_become_markers_once_and_only_for_the_running_burst() {
        let env = EnvKey::new("us-east-1", "dave");
        let mut s = BurstState {
            running: true,
            started_at: 100.0,
            env: Some(env.clone()),
            ..BurstState::default()
        };
        let event = |time, message: &str| TimelineEvent {
            time,
            source: "database",
            message: message.into(),
        };
        let events = vec![event(90.0, "paused"), event(103.5, "resumed")];
        assert_eq!(
            s.new_markers(&env, &events),
            vec![(3.5, "database: resumed".to_string())]
        );
        assert!(s.new_markers(&env, &events).is_empty(), "sent once");
        s.running = false;
        assert!(s.new_markers(&env, &[event(110.0, "x")]).is_empty());
    }
}
