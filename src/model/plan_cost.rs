//! Cost follows the plan: the rest of the month forecast with the environment's sleep
//! window and keep-awake, and what the window saves against staying awake. Awake costs
//! what `Cost::per_month_never_paused` says per hour; asleep (service paused, database
//! auto-paused or stopped) costs nothing beyond storage, which no plan changes.

use super::Time;
use super::cost::{Cost, HOURS_PER_MONTH};
use super::plan::SleepWindow;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanCost {
    /// Share of the week the window keeps it awake (1 without a window).
    pub awake_share: f64,
    /// Dollars from now to the end of the month with the window and the keep-awake.
    pub rest_of_month: f64,
    /// Dollars per month the window saves against staying awake all the time.
    pub saved_per_month: f64,
}

/// The share of a week inside the window: its awake hours on the days it names.
pub fn awake_share(window: &SleepWindow) -> f64 {
    const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    let day = |name: &str| DAYS.iter().position(|d| d.eq_ignore_ascii_case(name));
    let mut on = [false; 7];
    for part in window.days.split(',') {
        match part.trim() {
            "*" => on = [true; 7],
            p => match p.split_once('-') {
                Some((a, b)) => {
                    if let (Some(a), Some(b)) = (day(a), day(b)) {
                        (a..=b).for_each(|d| on[d] = true);
                    }
                }
                None => {
                    let d = day(p).or_else(|| p.parse::<usize>().ok().map(|n| n.saturating_sub(1)));
                    if let Some(d) = d.filter(|d| *d < 7) {
                        on[d] = true;
                    }
                }
            },
        }
    }
    let hours = |(h, m): (i8, i8)| h as f64 + m as f64 / 60.0;
    let per_day = (hours(window.sleep) - hours(window.wake)).max(0.0);
    on.iter().filter(|d| **d).count() as f64 * per_day / 168.0
}

/// The forecast from `now` to `month_end` (epoch seconds of the next month's start).
pub fn forecast(
    cost: &Cost,
    window: Option<&SleepWindow>,
    keep_until: Option<Time>,
    now: Time,
    month_end: Time,
) -> PlanCost {
    let awake_per_hour = cost.per_month_never_paused / HOURS_PER_MONTH;
    let hours_left = ((month_end - now) / 3600.0).max(0.0);
    let Some(window) = window else {
        // No window: it sleeps as it has lately (recent usage), unless kept awake.
        let kept = keep_until.map_or(0.0, |u| ((u - now) / 3600.0).clamp(0.0, hours_left));
        let recent = cost.per_month_at_recent_usage / HOURS_PER_MONTH;
        return PlanCost {
            awake_share: 1.0,
            rest_of_month: kept * awake_per_hour + (hours_left - kept) * recent,
            saved_per_month: 0.0,
        };
    };
    let share = awake_share(window);
    let kept = keep_until.map_or(0.0, |u| ((u - now) / 3600.0).clamp(0.0, hours_left));
    PlanCost {
        awake_share: share,
        rest_of_month: kept * awake_per_hour + (hours_left - kept) * share * awake_per_hour,
        saved_per_month: (1.0 - share) * awake_per_hour * HOURS_PER_MONTH,
    }
}

/// The start of the month after `now`'s, in UTC (AWS bills calendar months in UTC).
pub fn month_end(now: Time) -> Time {
    month_boundary(now, true)
}

/// The start of `now`'s month, in UTC.
pub fn month_start(now: Time) -> Time {
    month_boundary(now, false)
}

fn month_boundary(now: Time, next: bool) -> Time {
    let Ok(ts) = jiff::Timestamp::from_second(now as i64) else {
        return now;
    };
    let date = ts.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let (y, m) = match (next, date.month()) {
        (false, m) => (date.year(), m),
        (true, 12) => (date.year() + 1, 1),
        (true, m) => (date.year(), m + 1),
    };
    jiff::civil::Date::new(y, m, 1)
        .ok()
        .and_then(|d| jiff::tz::TimeZone::UTC.to_timestamp(d.at(0, 0, 0, 0)).ok())
        .map_or(now, |t| t.as_second() as f64)
}

/// This month so far (when it could be read), then the forecast with the environment's
/// sleep window (read back from its schedules).
pub fn line(
    cost: &Cost,
    schedules: &[super::plan::PlannedSchedule],
    keep_until: Option<f64>,
    so_far: &Result<f64, String>,
    now: f64,
) -> String {
    let spent = match so_far {
        Ok(d) => format!("this month so far ${d:.2}; "),
        Err(e) => format!("this month so far unknown ({e}); "),
    };
    format!("{spent}{}", forecast_line(cost, schedules, keep_until, now))
}

fn forecast_line(
    cost: &Cost,
    schedules: &[super::plan::PlannedSchedule],
    keep_until: Option<f64>,
    now: f64,
) -> String {
    let find = |kind: &str| {
        schedules
            .iter()
            .find(|s| s.kind == kind && s.part == "service")
    };
    let window = find("wake")
        .zip(find("sleep"))
        .and_then(|(w, s)| SleepWindow::from_crons(&w.expression, &s.expression, &s.timezone));
    let f = forecast(cost, window.as_ref(), keep_until, now, month_end(now));
    match window {
        Some(_) => format!(
            "rest of the month with this plan ${:.2} (awake {:.0}% of the week); the window saves ${:.2}/month",
            f.rest_of_month,
            f.awake_share * 100.0,
            f.saved_per_month
        ),
        None => format!(
            "rest of the month at recent usage ${:.2}; no sleep window",
            f.rest_of_month
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weekday_window_costs_a_third_of_always_on() {
        let w = SleepWindow::parse("08:00-19:00", "MON-FRI", "Europe/Berlin").unwrap();
        assert!((awake_share(&w) - 55.0 / 168.0).abs() < 1e-9);
        let cost = Cost {
            per_hour_now: 0.0,
            per_month_at_recent_usage: 30.0,
            per_month_never_paused: 73.0,
        };
        let now = 1_795_428_000.0; // 2026-11-23T10:00Z
        let end = month_end(now);
        assert_eq!(end, 1_796_083_200.0, "2026-12-01T00:00Z");
        assert_eq!(month_start(now), 1_793_491_200.0, "2026-11-01T00:00Z");
        assert_eq!(month_start(end), end, "a month starts at its own start");
        let planned = forecast(&cost, Some(&w), None, now, end);
        let hours = (end - now) / 3600.0;
        assert!((planned.rest_of_month - hours * 0.1 * 55.0 / 168.0).abs() < 1e-9);
        assert!((planned.saved_per_month - 73.0 * 113.0 / 168.0).abs() < 1e-9);
        // A keep-awake for the next 5 hours costs those hours awake.
        let kept = forecast(&cost, Some(&w), Some(now + 5.0 * 3600.0), now, end);
        assert!(kept.rest_of_month > planned.rest_of_month);
        let none = forecast(&cost, None, None, now, end);
        assert!((none.rest_of_month - hours * 30.0 / 730.0).abs() < 1e-9);
    }
}
