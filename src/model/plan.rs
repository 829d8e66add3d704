//! The plan for an environment's sleep: keep-awakes (read back from tags, so every
//! teammate's scale0 shows them), recurring sleep windows, the names scale0 gives its
//! EventBridge Scheduler schedules, and the IAM role those schedules run as.

use super::schedule_expr::{Expression, zone};
use super::{Environment, Time};
use serde::Serialize;

/// Tags on the cluster and the service while a keep-awake runs.
pub const TAG_AWAKE_UNTIL: &str = "scale0:keep-awake-until";
pub const TAG_AWAKE_BY: &str = "scale0:keep-awake-by";
/// The schedule group scale0 keeps its schedules in, unless the config names another.
pub const DEFAULT_GROUP: &str = "scale0";
/// The IAM role scale0 looks for, unless the config names another.
pub const DEFAULT_ROLE: &str = "scale0-scheduler";

/// "kept awake by dave until 17:30".
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeepAwake {
    pub until: Time,
    pub by: String,
}

/// The keep-awake recorded on the environment's cluster or service, if any and not
/// expired at `now` (an expired tag is what a failed restore leaves behind: shown too,
/// as expired, by `why`).
pub fn keep_awake(env: &Environment) -> Option<KeepAwake> {
    let tags = env
        .database
        .iter()
        .map(|d| &d.tags)
        .chain(env.service.iter().map(|s| &s.tags));
    for tags in tags {
        let get = |k: &str| {
            tags.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        if let Some(until) = get(TAG_AWAKE_UNTIL).and_then(parse_iso) {
            return Some(KeepAwake {
                until,
                by: get(TAG_AWAKE_BY).unwrap_or("someone").to_string(),
            });
        }
    }
    None
}

/// "kept awake by dave until 17:30" (this computer's time zone), or "" if none runs.
pub fn keep_awake_phrase(env: &Environment, now: Time) -> String {
    let tz = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
    keep_awake_phrase_in(env, now, &tz)
}

/// The same in a given time zone.
pub fn keep_awake_phrase_in(env: &Environment, now: Time, tz: &jiff::tz::TimeZone) -> String {
    match keep_awake(env) {
        Some(k) if k.until > now => {
            format!("kept awake by {} until {}", k.by, wall(k.until, now, tz))
        }
        _ => String::new(),
    }
}

/// `2026-11-23T17:30:00Z` as epoch seconds.
pub fn parse_iso(text: &str) -> Option<Time> {
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_second() as f64)
}

/// Epoch seconds as `2026-11-23T17:30:00Z` (tags) .
pub fn iso(t: Time) -> String {
    jiff::Timestamp::from_second(t as i64)
        .map(|ts| ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// The wall time of `t` in `tz`: "17:30", or "Tue 17:30" when not within the day.
pub fn wall(t: Time, now: Time, tz: &jiff::tz::TimeZone) -> String {
    let Ok(ts) = jiff::Timestamp::from_second(t as i64) else {
        return String::new();
    };
    let z = ts.to_zoned_datetime(tz.clone());
    if (t - now).abs() < 20.0 * 3600.0 {
        z.strftime("%H:%M").to_string()
    } else {
        z.strftime("%a %d %b %H:%M").to_string()
    }
}

/// The names of scale0's schedules for an environment; `part` is "db" or "service".
pub fn schedule_name(kind: &str, env: &str, part: &str) -> String {
    format!("{kind}-{env}-{part}")
}

/// Which of scale0's schedules a name is, and for which environment: (kind, env, part).
pub fn parse_schedule_name(name: &str) -> Option<(&str, &str, &str)> {
    let (kind, rest) = ["keep-awake", "sleep", "wake", "restop"]
        .into_iter()
        .find_map(|k| name.strip_prefix(k)?.strip_prefix('-').map(|r| (k, r)))?;
    let (env, part) = rest.rsplit_once('-')?;
    ["db", "service"]
        .contains(&part)
        .then_some((kind, env, part))
}

/// "awake 08:00-19:00 MON-FRI in Europe/Berlin": asleep the rest of the time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SleepWindow {
    /// Wake at (hour, minute).
    pub wake: (i8, i8),
    /// Sleep at (hour, minute).
    pub sleep: (i8, i8),
    /// AWS cron day-of-week field: "MON-FRI", "*", "MON,WED".
    pub days: String,
    pub timezone: String,
}

impl SleepWindow {
    /// Parses `--awake 08:00-19:00 --days MON-FRI --tz Europe/Berlin`.
    pub fn parse(awake: &str, days: &str, timezone: &str) -> Result<SleepWindow, String> {
        let (a, b) = awake
            .split_once('-')
            .ok_or_else(|| format!("{awake:?}: expected HH:MM-HH:MM, e.g. 08:00-19:00"))?;
        let hm = |t: &str| -> Result<(i8, i8), String> {
            let (h, m) = t.trim().split_once(':').unwrap_or((t.trim(), "0"));
            match (h.parse::<i8>(), m.parse::<i8>()) {
                (Ok(h @ 0..=23), Ok(m @ 0..=59)) => Ok((h, m)),
                _ => Err(format!("{t:?} is not a time of day (HH:MM)")),
            }
        };
        let (wake, sleep) = (hm(a)?, hm(b)?);
        if wake >= sleep {
            return Err(format!(
                "{awake:?}: the awake time must start before it ends, within one day"
            ));
        }
        zone(timezone).map_err(|_| {
            format!("unknown time zone {timezone:?} (use an IANA name such as Europe/Berlin)")
        })?;
        let w = SleepWindow {
            wake,
            sleep,
            days: days.trim().to_ascii_uppercase(),
            timezone: timezone.to_string(),
        };
        // Both expressions must be valid for AWS too.
        Expression::parse(&w.cron(true)).map_err(|e| format!("days {days:?}: {e}"))?;
        Ok(w)
    }

    /// The cron expression for waking (`true`) or sleeping.
    pub fn cron(&self, wake: bool) -> String {
        let (h, m) = if wake { self.wake } else { self.sleep };
        format!("cron({m} {h} ? * {} *)", self.days)
    }

    /// Reads a window back from the two crons scale0 wrote.
    pub fn from_crons(wake: &str, sleep: &str, timezone: &str) -> Option<SleepWindow> {
        let fields = |c: &str| -> Option<(i8, i8, String)> {
            let body = c.strip_prefix("cron(")?.strip_suffix(')')?;
            let f: Vec<&str> = body.split_whitespace().collect();
            Some((
                f.get(1)?.parse().ok()?,
                f.first()?.parse().ok()?,
                f.get(4)?.to_string(),
            ))
        };
        let (wh, wm, days) = fields(wake)?;
        let (sh, sm, _) = fields(sleep)?;
        Some(SleepWindow {
            wake: (wh, wm),
            sleep: (sh, sm),
            days,
            timezone: timezone.to_string(),
        })
    }

    /// Whether the window says "asleep" at `t`: its last switch before `t` was a sleep.
    pub fn asleep_at(&self, t: Time) -> bool {
        let Ok(tz) = zone(&self.timezone) else {
            return false;
        };
        let last = |wake: bool| -> Option<Time> {
            let e = Expression::parse(&self.cron(wake)).ok()?;
            // A weekly window switches at least once in any 8 days.
            let mut at = e.next_after(t - 8.0 * 86400.0, 0.0, &tz, None, None)?;
            let mut last = None;
            for _ in 0..16 {
                if at > t {
                    break;
                }
                last = Some(at);
                at = e.next_after(at, 0.0, &tz, None, None)?;
            }
            last
        };
        match (last(false), last(true)) {
            (Some(sleep), Some(wake)) => sleep > wake,
            (Some(_), None) => true,
            _ => false,
        }
    }

    pub fn label(&self) -> String {
        format!(
            "awake {:02}:{:02}-{:02}:{:02} {} in {}",
            self.wake.0, self.wake.1, self.sleep.0, self.sleep.1, self.days, self.timezone
        )
    }
}

/// One of scale0's schedules as read back from EventBridge Scheduler.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedSchedule {
    pub name: String,
    pub env: String,
    /// "keep-awake", "sleep", "wake" or "restop".
    pub kind: String,
    pub part: String,
    pub expression: String,
    pub timezone: String,
    pub enabled: bool,
    /// Its next firing, computed from the expression on the server's clock.
    pub next: Option<Time>,
    /// The target operation, e.g. `apprunner:pauseService`.
    pub action: String,
}

/// An environment's plan as last read: each part known, or why it could not be read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanRead {
    pub read_at: Time,
    pub why: Result<super::blockers::Why, String>,
    pub schedules: Result<Vec<PlannedSchedule>, String>,
    /// Dollars spent since the month began (UTC), estimated from hourly metrics.
    pub month_so_far: Result<f64, String>,
}

/// The IAM role's trust policy: EventBridge Scheduler of this account may assume it.
pub fn role_trust_policy(account: &str) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }],
    }))
    .unwrap_or_default()
}

/// The role's permissions: exactly the calls scale0's schedules make.
pub fn role_permissions_policy(account: &str, region: &str) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["rds:ModifyDBCluster", "rds:StopDBCluster", "rds:StartDBCluster"],
                "Resource": format!("arn:aws:rds:{region}:{account}:cluster:*"),
            },
            {
                "Effect": "Allow",
                "Action": ["apprunner:PauseService", "apprunner:ResumeService"],
                "Resource": format!("arn:aws:apprunner:{region}:{account}:service/*"),
            },
            {
                // ECS Express: the desired task count (0 to sleep, its minimum to wake).
                "Effect": "Allow",
                "Action": ["ecs:UpdateService"],
                "Resource": format!("arn:aws:ecs:{region}:{account}:service/*"),
            },
        ],
    }))
    .unwrap_or_default()
}

/// What to do when no role can be used: both policies and the commands that create it.
pub fn role_instructions(account: &str, region: &str, role: &str) -> String {
    format!(
        "EventBridge Scheduler needs an IAM role it may assume to act when nobody's laptop is on.\n\
         Create it once per account (tagged scale0:role=scheduler):\n\n\
         aws iam create-role --role-name {role} --tags Key=scale0:role,Value=scheduler \\\n  \
         --assume-role-policy-document file://trust.json\n\
         aws iam put-role-policy --role-name {role} --policy-name scale0-schedules \\\n  \
         --policy-document file://permissions.json\n\n\
         trust.json:\n{}\n\npermissions.json:\n{}\n\n\
         Or name an existing role in the config file: [scheduler] role_arn = \"arn:aws:iam::{account}:role/...\"",
        role_trust_policy(account),
        role_permissions_policy(account, region)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_windows_round_trip_and_refuse_bad_input() {
        let w = SleepWindow::parse("08:00-19:00", "mon-fri", "Europe/Berlin").unwrap();
        assert_eq!(w.cron(true), "cron(0 8 ? * MON-FRI *)");
        assert_eq!(w.cron(false), "cron(0 19 ? * MON-FRI *)");
        let back = SleepWindow::from_crons(&w.cron(true), &w.cron(false), "Europe/Berlin");
        assert_eq!(back, Some(w.clone()));
        assert_eq!(w.label(), "awake 08:00-19:00 MON-FRI in Europe/Berlin");
        assert!(SleepWindow::parse("19:00-08:00", "*", "UTC").is_err());
        assert!(SleepWindow::parse("08:00-19:00", "*", "Mars/Olympus").is_err());
        assert!(SleepWindow::parse("08:00-25:00", "*", "UTC").is_err());
        assert!(SleepWindow::parse("08:00-19:00", "FUNDAY", "UTC").is_err());
        // 2026-11-23 is a Monday; 18:30 UTC is 19:30 in Berlin: asleep; 10:00 UTC awake.
        let monday = parse_iso("2026-11-23T00:00:00Z").unwrap();
        assert!(w.asleep_at(monday + 18.5 * 3600.0));
        assert!(!w.asleep_at(monday + 10.0 * 3600.0));
        // Saturday noon: asleep since Friday 19:00.
        assert!(w.asleep_at(monday + 5.0 * 86400.0 + 12.0 * 3600.0));
    }

    #[test]
    fn schedule_names_are_found_again() {
        let n = schedule_name("keep-awake", "dave-2", "db");
        assert_eq!(
            parse_schedule_name(&n),
            Some(("keep-awake", "dave-2", "db"))
        );
        assert_eq!(parse_schedule_name("someone-elses"), None);
        assert_eq!(
            iso(parse_iso("2026-11-23T17:30:00Z").unwrap()),
            "2026-11-23T17:30:00Z"
        );
    }

    #[test]
    fn the_role_policies_are_valid_json_naming_the_account() {
        let trust: serde_json::Value =
            serde_json::from_str(&role_trust_policy("123456789012")).unwrap();
        assert_eq!(
            trust["Statement"][0]["Principal"]["Service"],
            "scheduler.amazonaws.com"
        );
        let text = role_instructions("123456789012", "eu-west-3", "scale0-scheduler");
        assert!(text.contains("arn:aws:rds:eu-west-3:123456789012:cluster:*"));
        assert!(text.contains("\"ecs:UpdateService\""), "{text}");
        assert!(text.contains("arn:aws:ecs:eu-west-3:123456789012:service/*"));
    }
}
