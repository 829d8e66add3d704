//! EventBridge Scheduler's schedule expressions: `at(yyyy-mm-ddThh:mm:ss)`,
//! `rate(value unit)` and `cron(minutes hours day-of-month month day-of-week year)`, each
//! read in the schedule's time zone (IANA names, via jiff's bundled database), and the
//! next time each one fires.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expression {
    /// Once, at this wall time in the schedule's zone.
    At(DateTime),
    /// Every `seconds`, counted from the start date (or creation).
    Rate {
        seconds: f64,
    },
    Cron(Cron),
}

/// The accepted values of each cron field (minutes 0-59, hours 0-23, day of month 1-31,
/// month 1-12, day of week 1-7 = SUN-SAT, years). `None` for `?`.
#[derive(Clone, Debug, PartialEq)]
pub struct Cron {
    minutes: Vec<i8>,
    hours: Vec<i8>,
    days: Option<Vec<i8>>,
    months: Vec<i8>,
    weekdays: Option<Vec<i8>>,
    years: Option<Vec<i16>>,
}

/// How far ahead the next cron time is searched (AWS allows years up to 2199; a schedule
/// with nothing in the next ten years is treated as having no next time).
const SEARCH_DAYS: i32 = 3660;

pub fn zone(name: &str) -> Result<TimeZone, String> {
    if name == "UTC" || name.is_empty() {
        return Ok(TimeZone::UTC);
    }
    TimeZone::get(name).map_err(|_| format!("Invalid time zone: {name}"))
}

impl Expression {
    pub fn parse(text: &str) -> Result<Expression, String> {
        let bad = || format!("Invalid Schedule Expression {text}.");
        let t = text.trim();
        let inner = |prefix: &str| {
            t.strip_prefix(prefix)
                .and_then(|r| r.strip_suffix(')'))
                .map(str::trim)
        };
        if let Some(body) = inner("at(") {
            let dt: DateTime = body.parse().map_err(|_| bad())?;
            if body.len() != 19 {
                return Err(bad());
            }
            return Ok(Expression::At(dt));
        }
        if let Some(body) = inner("rate(") {
            let (value, unit) = body.split_once(' ').ok_or_else(bad)?;
            let value: u32 = value.trim().parse().map_err(|_| bad())?;
            let unit_seconds = match (unit.trim(), value) {
                ("minute", 1) | ("minutes", 2..) => 60.0,
                ("hour", 1) | ("hours", 2..) => 3600.0,
                ("day", 1) | ("days", 2..) => 86400.0,
                _ => return Err(bad()),
            };
            return Ok(Expression::Rate {
                seconds: value as f64 * unit_seconds,
            });
        }
        if let Some(body) = inner("cron(") {
            return Cron::parse(body).map(Expression::Cron).map_err(|why| {
                if why.is_empty() {
                    bad()
                } else {
                    format!("{} {why}", bad())
                }
            });
        }
        Err(bad())
    }

    /// The first firing strictly after `after` (epoch seconds), within [start, end], for a
    /// schedule whose rate counts from `anchor`.
    pub fn next_after(
        &self,
        after: f64,
        anchor: f64,
        tz: &TimeZone,
        start: Option<f64>,
        end: Option<f64>,
    ) -> Option<f64> {
        let after = match start {
            Some(s) if s > after => s - 0.001,
            _ => after,
        };
        let next = match self {
            Expression::At(dt) => {
                let t = tz.to_timestamp(*dt).ok()?.as_second() as f64;
                (t > after).then_some(t)
            }
            Expression::Rate { seconds } => {
                let anchor = start.unwrap_or(anchor);
                let k = ((after - anchor) / seconds).floor().max(0.0) + 1.0;
                Some(anchor + k * seconds)
            }
            Expression::Cron(cron) => cron.next_after(after, tz),
        }?;
        end.is_none_or(|e| next <= e).then_some(next)
    }
}

fn named(token: &str, names: &[&str], base: i8) -> Option<i8> {
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(token))
        .map(|i| i as i8 + base)
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One cron field: `*`, `a`, `a-b`, `a/n`, `*/n`, `a-b/n` and comma lists, names allowed
/// where AWS allows them. `L`, `W` and `#` are refused by name (the emulator does not
/// implement them).
fn field(text: &str, lo: i32, hi: i32, names: &[&str], base: i8) -> Result<Vec<i32>, String> {
    if text.contains(['L', 'W', '#']) && !names.iter().any(|n| text.contains(n)) {
        return Err(format!(
            "The scale0 emulator does not support L, W or # in cron fields (got {text})."
        ));
    }
    let value = |t: &str| -> Result<i32, String> {
        t.parse::<i32>()
            .ok()
            .or_else(|| named(t, names, base).map(i32::from))
            .filter(|v| (lo..=hi).contains(v))
            .ok_or_default()
    };
    let mut out = Vec::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<i32>().ok().filter(|s| *s > 0).ok_or_default()?),
            None => (part, 1),
        };
        let (a, b) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if part.contains('/') => (value(r)?, hi),
                None => (value(r)?, value(r)?),
            },
        };
        if a > b {
            return Err(String::new());
        }
        out.extend((a..=b).step_by(step as usize));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

trait OkOrDefault<T> {
    fn ok_or_default(self) -> Result<T, String>;
}

impl<T> OkOrDefault<T> for Option<T> {
    fn ok_or_default(self) -> Result<T, String> {
        self.ok_or_else(String::new)
    }
}

impl Cron {
    pub fn parse(body: &str) -> Result<Cron, String> {
        let f: Vec<&str> = body.split_whitespace().collect();
        let [minutes, hours, dom, month, dow, year] = f.as_slice() else {
            return Err("A cron expression has six fields.".into());
        };
        // AWS: exactly one of day-of-month and day-of-week is '?'.
        if (*dom == "?") == (*dow == "?") {
            return Err("Use '?' in exactly one of day-of-month and day-of-week.".into());
        }
        let small = |v: Vec<i32>| v.into_iter().map(|x| x as i8).collect::<Vec<i8>>();
        Ok(Cron {
            minutes: small(field(minutes, 0, 59, &[], 0)?),
            hours: small(field(hours, 0, 23, &[], 0)?),
            days: (*dom != "?")
                .then(|| field(dom, 1, 31, &[], 0).map(small))
                .transpose()?,
            months: small(field(month, 1, 12, &MONTHS, 1)?),
            weekdays: (*dow != "?")
                .then(|| field(dow, 1, 7, &DAYS, 1).map(small))
                .transpose()?,
            years: (*year != "*")
                .then(|| {
                    field(year, 1970, 2199, &[], 0)
                        .map(|v| v.into_iter().map(|y| y as i16).collect())
                })
                .transpose()?,
        })
    }

    fn day_matches(&self, d: Date) -> bool {
        self.months.contains(&d.month())
            && self.years.as_ref().is_none_or(|y| y.contains(&d.year()))
            && self.days.as_ref().is_none_or(|v| v.contains(&d.day()))
            && self
                .weekdays
                .as_ref()
                .is_none_or(|v| v.contains(&d.weekday().to_sunday_one_offset()))
    }

    /// Walks days in the zone, then the day's hours and minutes in order. Wall times that
    /// a DST change skips fire at the shifted instant, as jiff's "compatible" rule says.
    fn next_after(&self, after: f64, tz: &TimeZone) -> Option<f64> {
        let from: ZonedDateTime = Timestamp::from_second(after.floor() as i64)
            .ok()?
            .to_zoned_datetime(tz.clone());
        let mut day = from.datetime().date();
        for _ in 0..SEARCH_DAYS {
            if self.day_matches(day) {
                for h in &self.hours {
                    for m in &self.minutes {
                        let wall = day.at(*h, *m, 0, 0);
                        let t = tz.to_timestamp(wall).ok()?.as_second() as f64;
                        if t > after {
                            return Some(t);
                        }
                    }
                }
            }
            day = day.tomorrow().ok()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> f64 {
        text.parse::<Timestamp>().unwrap().as_second() as f64
    }

    #[test]
    fn at_is_read_in_the_schedule_zone() {
        let e = Expression::parse("at(2026-11-23T17:30:00)").unwrap();
        let berlin = zone("Europe/Berlin").unwrap();
        let t = e.next_after(ts("2026-11-23T00:00:00Z"), 0.0, &berlin, None, None);
        assert_eq!(t, Some(ts("2026-11-23T16:30:00Z")));
        // Once past, an at() expression has no next time.
        assert_eq!(e.next_after(t.unwrap(), 0.0, &berlin, None, None), None);
    }

    #[test]
    fn rate_counts_from_the_anchor() {
        let e = Expression::parse("rate(5 minutes)").unwrap();
        let anchor = ts("2026-11-23T10:00:00Z");
        let t = e.next_after(anchor + 1.0, anchor, &TimeZone::UTC, None, None);
        assert_eq!(t, Some(anchor + 300.0));
        assert!(Expression::parse("rate(1 minutes)").is_err());
        assert!(Expression::parse("rate(0 hours)").is_err());
    }

    #[test]
    fn weekday_cron_skips_the_weekend_across_a_dst_change() {
        // 19:00 Mon-Fri in Berlin; 2026-10-23 is a Friday, DST ends on Sunday 2026-10-25.
        let e = Expression::parse("cron(0 19 ? * MON-FRI *)").unwrap();
        let berlin = zone("Europe/Berlin").unwrap();
        let friday_after = ts("2026-10-23T18:00:00Z");
        let t = e
            .next_after(friday_after, 0.0, &berlin, None, None)
            .unwrap();
        // Monday 19:00 CET is 18:00 UTC (it was 17:00 UTC on Friday, in CEST).
        assert_eq!(t, ts("2026-10-26T18:00:00Z"));
    }

    #[test]
    fn bad_expressions_and_zones_are_refused() {
        for bad in [
            "cron(0 19 * * MON-FRI *)",
            "cron(0 25 ? * * *)",
            "cron(0 19 ? * *)",
            "at(2026-11-23 17:30)",
            "every 5 minutes",
            "cron(0 19 L * ? *)",
        ] {
            assert!(Expression::parse(bad).is_err(), "{bad}");
        }
        assert!(zone("Europe/Atlantis").is_err());
        assert!(zone("America/New_York").is_ok());
    }
}
