//! Shapes of load for the closed model: a constant number of workers, a linear ramp to
//! it, or k6-like stages (`10s:10,30s:150,20s:0`). All of them are one piecewise-linear
//! concurrency target over time; worker `w` sends while `w < target(t)`.

use super::BurstError;
use serde::{Deserialize, Serialize};

/// One stage: move linearly from the previous target to `target` over `duration` seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub duration: f64,
    pub target: u32,
}

/// Parses `10s:10,30s:150,20s:0` (durations as `-z` takes them: 90s, 2m, 1.5h; a bare
/// number is seconds). Every mistake names the stage and what was expected.
pub fn parse_stages(text: &str) -> Result<Vec<Stage>, BurstError> {
    let bad = |index: usize, item: &str, reason: String| {
        BurstError::BadStages(format!("stage {} ({item:?}): {reason}", index + 1))
    };
    if text.trim().is_empty() {
        return Err(BurstError::BadStages(
            "no stages given; expected e.g. 10s:10,30s:150,20s:0".into(),
        ));
    }
    let mut stages = Vec::new();
    for (i, item) in text.split(',').enumerate() {
        let item = item.trim();
        let (duration, target) = item
            .split_once(':')
            .ok_or_else(|| bad(i, item, "expected DURATION:TARGET, e.g. 30s:150".into()))?;
        let duration = parse_seconds(duration).map_err(|reason| bad(i, item, reason))?;
        let target = target.trim().parse::<u32>().map_err(|_| {
            bad(
                i,
                item,
                format!("target {target:?} is not a whole number of workers"),
            )
        })?;
        stages.push(Stage { duration, target });
    }
    Ok(stages)
}

/// `90s`, `2m`, `1.5h`, `500ms` or a bare number of seconds.
pub fn parse_seconds(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{t:?} is not a duration (use e.g. 500ms, 30s, 2m)"))?;
    let factor = match unit {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {t:?} (use ms, s, m or h)"
            ));
        }
    };
    let seconds = value * factor;
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("{t:?}: a duration must be positive"));
    }
    Ok(seconds)
}

/// The concurrency target over time, as (seconds since start, workers) corners joined by
/// straight lines; after the last corner the target stays at its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    corners: Vec<(f64, f64)>,
}

impl Schedule {
    pub fn constant(workers: u32) -> Schedule {
        Schedule {
            corners: vec![(0.0, workers as f64)],
        }
    }

    pub fn ramp(seconds: f64, workers: u32) -> Schedule {
        Schedule {
            corners: vec![(0.0, 0.0), (seconds, workers as f64)],
        }
    }

    pub fn stages(stages: &[Stage]) -> Schedule {
        let mut corners = vec![(0.0, 0.0)];
        let mut t = 0.0;
        for s in stages {
            t += s.duration;
            corners.push((t, s.target as f64));
        }
        Schedule { corners }
    }

    /// The (fractional) number of workers meant to be sending at `t`.
    pub fn target_at(&self, t: f64) -> f64 {
        let mut value = self.corners.first().map_or(0.0, |c| c.1);
        for pair in self.corners.windows(2) {
            let ((t0, v0), (t1, v1)) = (pair[0], pair[1]);
            if t < t0 {
                break;
            }
            value = if t >= t1 || t1 <= t0 {
                v1
            } else {
                v0 + (v1 - v0) * (t - t0) / (t1 - t0)
            };
        }
        value
    }

    /// Whether worker `w` sends at `t`.
    pub fn active(&self, worker: u32, t: f64) -> bool {
        (worker as f64) < self.target_at(t)
    }

    /// The earliest moment at or after `from` when worker `w` sends, or None if it never
    /// does again.
    pub fn next_active(&self, worker: u32, from: f64) -> Option<f64> {
        if self.active(worker, from) {
            return Some(from);
        }
        let w = worker as f64;
        for pair in self.corners.windows(2) {
            let ((t0, v0), (t1, v1)) = (pair[0], pair[1]);
            if t1 <= from || v1 <= v0 || v1 <= w {
                continue;
            }
            // Rising through w inside this segment: active just after the crossing.
            let crossing = t0 + (w - v0).max(0.0) / (v1 - v0) * (t1 - t0);
            let at = (crossing + 1e-6).max(from);
            if at <= t1 {
                return Some(at);
            }
        }
        let last = self.corners.last()?;
        (last.1 > w).then_some(last.0.max(from))
    }

    /// The highest target: how many workers to spawn.
    pub fn peak(&self) -> u32 {
        self.corners.iter().map(|c| c.1).fold(0.0, f64::max).ceil() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_lists_parse_and_mistakes_are_named() {
        assert_eq!(
            parse_stages("10s:10, 30s:150,20s:0").unwrap(),
            vec![
                Stage {
                    duration: 10.0,
                    target: 10
                },
                Stage {
                    duration: 30.0,
                    target: 150
                },
                Stage {
                    duration: 20.0,
                    target: 0
                },
            ]
        );
        assert_eq!(parse_stages("1m:5").unwrap()[0].duration, 60.0);
        let err = |t: &str| parse_stages(t).unwrap_err().to_string();
        assert!(
            err("10s:10,30x:150").contains("stage 2"),
            "{}",
            err("10s:10,30x:150")
        );
        assert!(err("10s:10,30x:150").contains("unknown unit"));
        assert!(err("10s").contains("DURATION:TARGET"));
        assert!(err("10s:-3").contains("whole number"));
        assert!(err("abc:3").contains("not a duration"));
        assert!(err("").contains("no stages"));
    }

    #[test]
    fn ramps_and_stages_bring_workers_in_and_out_in_order() {
        let ramp = Schedule::ramp(10.0, 10);
        assert_eq!(ramp.target_at(5.0), 5.0);
        assert_eq!(ramp.target_at(60.0), 10.0);
        assert!(ramp.active(0, 0.5) && !ramp.active(5, 4.0) && ramp.active(5, 5.5));
        let start = ramp.next_active(5, 0.0).unwrap();
        assert!((start - 5.0).abs() < 1e-3, "{start}");
        assert_eq!(ramp.peak(), 10);

        let stages = Schedule::stages(&parse_stages("10s:10,10s:10,10s:0").unwrap());
        assert_eq!(stages.target_at(15.0), 10.0);
        assert_eq!(stages.target_at(25.0), 5.0);
        assert!(stages.active(7, 22.0) && !stages.active(7, 28.0));
        // Once the last stage has brought it down, a worker never sends again.
        assert_eq!(stages.next_active(7, 28.0), None);
        // Up, down, up again: the worker comes back in the third stage.
        let wave = Schedule::stages(&parse_stages("10s:4,10s:0,10s:4").unwrap());
        let back = wave.next_active(2, 16.0).unwrap();
        assert!((back - 25.0).abs() < 1e-3, "{back}");
        assert_eq!(Schedule::constant(3).next_active(2, 7.0), Some(7.0));
        assert_eq!(Schedule::constant(3).next_active(3, 7.0), None);
    }
}
