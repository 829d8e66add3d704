//! When the window needs its next frame. New data, input and running animations (spinners)
//! repaint at once by themselves; what is left is time passing: the next refresh, and the
//! ages and countdowns on screen, which change at most every few seconds as shown.

use super::App;
use crate::model::human_duration;
use std::time::Duration;

/// Ages are shown by the minute ("under a minute ago", "2 min ago"): with refreshes every
/// 30 s a healthy window's ages never change text, so time alone repaints it once a minute
/// at most; a failing read's age still grows visibly.
pub fn age_text(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 60.0 {
        "under a minute ago".into()
    } else {
        format!("{} ago", human_duration(s.floor()))
    }
}

/// Seconds until the text of an age (or a countdown) of `seconds` changes.
fn until_text_changes(seconds: f64) -> f64 {
    60.0 - seconds.abs() % 60.0
}

/// Repaint at least this often while anything time-based is on screen (list summaries such
/// as "db paused 12 min" move by the minute).
const SLOWEST_TICK_SECONDS: f64 = 60.0;

impl App {
    /// How long the window may sleep before time changes something it shows.
    pub(super) fn next_frame_in(&self) -> Duration {
        let now = self.worker.now();
        let mut wait = SLOWEST_TICK_SECONDS;
        if self.connection.is_some() {
            // A refresh whose answer equals the last one arrives without waking the window:
            // the frame at the next refresh takes it. One overdue is looked for every second.
            let due = self.refresh_due - now;
            wait = wait.min(if self.refresh_in_flight {
                due.max(1.0)
            } else {
                due
            });
        }
        if let Some(t) = self.inventory_at {
            wait = wait.min(until_text_changes(now - t));
        }
        // A running action's elapsed time ticks by the second.
        if let Some(running) = self.selected_env().and_then(|e| self.busy.get(&e.key)) {
            wait = wait.min(1.0 - (now - running.started).rem_euclid(1.0) + 0.01);
        }
        // The selected database's auto-pause countdown ticks by the second in its last minute.
        if let Some(at) = self
            .selected_env()
            .and_then(|e| e.database.as_ref())
            .and_then(|d| d.auto_pause_at)
            .filter(|at| *at > now)
        {
            let left = at - now;
            wait = wait.min(if left < 60.0 { 1.0 } else { left % 60.0 + 0.05 });
        }
        Duration::from_secs_f64(wait.clamp(0.05, SLOWEST_TICK_SECONDS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_shown_in_steps_and_the_next_change_is_known() {
        assert_eq!(age_text(3.0), "under a minute ago");
        assert_eq!(age_text(27.0), "under a minute ago");
        assert_eq!(age_text(125.0), "2 min ago");
        assert_eq!(until_text_changes(27.0), 33.0);
        assert_eq!(until_text_changes(125.0), 55.0);
        // Shown text is the same until then, different right after.
        for age in [0.0, 7.5, 27.0, 59.0, 61.0, 3599.0, 7201.5] {
            let next = until_text_changes(age);
            assert_eq!(age_text(age), age_text(age + next - 0.01), "{age}");
            assert_ne!(age_text(age), age_text(age + next + 0.01), "{age}");
        }
    }
}
