//! View models: plain structs each panel draws from, built from the app's state by pure
//! functions. A panel never reaches into the app, the worker or the backend, so each one can
//! be drawn in a test from a hand-made view.

use crate::actions::{self, Context, Verb};
use crate::burst::Snapshot;
use crate::model::cost::Cost;
use crate::model::diagnose::ConnectionBudget;
use crate::model::{
    EnvKey, EnvMetrics, Environment, Event as TimelineEvent, Image, Part, Power, ServiceStatus,
    human_duration, short_digest,
};
use crate::ui::plot::RowSparklines;
use std::collections::HashMap;
use std::sync::Arc;

/// What a colour means; the theme turns it into a colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Ok,
    Warn,
    Error,
    Info,
    Muted,
}

/// A state shown as colour and word together.
#[derive(Clone, Debug, PartialEq)]
pub struct Badge {
    pub text: String,
    pub tone: Tone,
    pub hover: String,
}

fn badge(text: &str, tone: Tone, hover: impl Into<String>) -> Badge {
    Badge {
        text: text.to_string(),
        tone,
        hover: hover.into(),
    }
}

/// The environment's state in one word: failing, deploying, waking, running, paused or
/// unknown, from its service and database together.
pub fn env_badge(env: &Environment) -> Badge {
    // A part that failed to read makes the whole state a guess: say so first.
    if let Some(u) = env.unread(Part::Service).or(env.unread(Part::Database)) {
        let word = if u.last_read.is_some() {
            "stale"
        } else {
            "unknown"
        };
        return badge(word, Tone::Warn, format!("{}: {}", u.kind.label(), u.error));
    }
    let service = env.service.as_ref();
    let db = env.database.as_ref();
    let failing = service.is_some_and(|s| {
        matches!(
            s.status,
            ServiceStatus::CreateFailed | ServiceStatus::DeleteFailed
        ) || s
            .recent_operations
            .first()
            .is_some_and(|o| o.status == "FAILED" || o.status.starts_with("ROLLBACK"))
    });
    if failing {
        return badge(
            "failing",
            Tone::Error,
            "the service's last operation failed",
        );
    }
    if let Some(warning) = service.and_then(|s| s.facts.warning.as_ref()) {
        return badge("broken", Tone::Error, warning.clone());
    }
    if let Some(op) = service.and_then(|s| s.operation.as_ref()) {
        let word = match op.kind.as_str() {
            "PAUSE_SERVICE" => "pausing",
            "RESUME_SERVICE" | "TASKS_STARTING" => "waking",
            _ => "deploying",
        };
        return badge(word, Tone::Info, format!("{} in progress", op.kind));
    }
    if db.is_some_and(|d| matches!(d.power, Power::Resuming { .. }) || d.status == "starting") {
        return badge("waking", Tone::Info, "the database is resuming");
    }
    let service_paused = service.is_some_and(|s| s.status == ServiceStatus::Paused);
    let db_asleep = db.is_some_and(|d| matches!(d.power, Power::Paused { .. } | Power::Stopped));
    if service_paused || (service.is_none() && db_asleep) {
        return badge("paused", Tone::Muted, "asleep: costs almost nothing");
    }
    if db.is_some_and(|d| d.power == Power::Unknown) && service.is_none() {
        return badge(
            "unknown",
            Tone::Warn,
            "the database's state could not be read",
        );
    }
    if service.is_some_and(|s| s.status == ServiceStatus::Running) {
        if db_asleep {
            return badge("running", Tone::Ok, "app running, database paused");
        }
        return badge("running", Tone::Ok, "app running");
    }
    if db.is_some_and(|d| d.power == Power::Awake) {
        return badge("running", Tone::Ok, "database awake");
    }
    badge("unknown", Tone::Warn, "the state could not be read")
}

/// The service part's badge.
pub fn service_badge(env: &Environment) -> Option<Badge> {
    let unread = env.unread(Part::Service);
    let Some(s) = env.service.as_ref() else {
        return unread.map(|u| unread_badge(u, None));
    };
    if let Some(u) = unread {
        return Some(unread_badge(u, Some(s.status.label())));
    }
    Some(match &s.status {
        ServiceStatus::Running => badge("running", Tone::Ok, s.status.label()),
        ServiceStatus::Paused => badge("paused", Tone::Muted, "no instances, no compute cost"),
        ServiceStatus::OperationInProgress => badge(
            "busy",
            Tone::Info,
            s.operation
                .as_ref()
                .map(|o| format!("{} in progress", o.kind))
                .unwrap_or_else(|| "operation in progress".into()),
        ),
        other => badge(other.label(), Tone::Error, other.label()),
    })
}

/// The database part's badge.
pub fn db_badge(env: &Environment, now: f64) -> Option<Badge> {
    let unread = env.unread(Part::Database);
    let Some(db) = env.database.as_ref() else {
        return unread.map(|u| unread_badge(u, None));
    };
    if let Some(u) = unread {
        let mut b = unread_badge(u, Some(&db.status));
        if let Some(t) = u.last_read {
            b.text = format!("{}, {} old", b.text, human_duration(now - t));
        }
        return Some(b);
    }
    Some(match &db.power {
        Power::Awake => badge(
            "awake",
            Tone::Ok,
            format!("{} ACU", db.capacity.unwrap_or(0.0)),
        ),
        Power::Paused { since } => badge(
            "paused",
            Tone::Muted,
            match since {
                Some(t) => format!("paused for {}", human_duration(now - t)),
                None => "paused (since before the metrics window)".into(),
            },
        ),
        Power::Resuming { .. } => badge("waking", Tone::Info, "resuming: 15-30 s"),
        Power::Stopped => badge(
            "stopped",
            Tone::Muted,
            "stopped; AWS starts it after 7 days",
        ),
        Power::Transitioning => badge("changing", Tone::Info, db.status.clone()),
        Power::Unknown => badge("unknown", Tone::Warn, "no recent metric or event tells"),
    })
}

/// A part that could not be read: "unknown", or its last known state marked stale.
fn unread_badge(u: &crate::model::Unread, last: Option<&str>) -> Badge {
    let text = match last {
        Some(state) => format!("{state} (stale)"),
        None => "unknown".into(),
    };
    badge(
        &text,
        Tone::Warn,
        format!("{}: {}", u.kind.label(), u.error),
    )
}

/// One row of the environment list: plain strings, built once per change of the data it
/// shows (not per frame).
#[derive(Clone, Debug)]
pub struct ListRow {
    pub key: EnvKey,
    /// Set on the first row of an owner's group.
    pub group: Option<String>,
    pub name: String,
    pub badge: Badge,
    /// The compute kind's name ("App Runner", "ECS Express"); empty without a service.
    pub kind: &'static str,
    pub summary: String,
    pub selected: bool,
    pub busy: bool,
}

#[derive(Clone, Debug, Default)]
pub struct ListView<'a> {
    /// Shared with the app's cache, so an unchanged list costs nothing to hand over.
    pub rows: Arc<Vec<ListRow>>,
    /// Each environment's sparklines, already reduced to their few points.
    pub sparklines: Option<&'a HashMap<EnvKey, RowSparklines>>,
    /// Still loading the first inventory.
    pub loading: bool,
    /// Environments hidden by the filter.
    pub hidden: usize,
}

/// The list, filtered by name or owner, grouped by owner (the inventory's order).
pub fn list_view<'a>(
    environments: &[Environment],
    filter: &str,
    selected: Option<&str>,
    busy: &dyn Fn(&EnvKey) -> bool,
    sparklines: &'a HashMap<EnvKey, RowSparklines>,
    now: f64,
) -> ListView<'a> {
    let filter = filter.trim().to_lowercase();
    let mut rows = Vec::new();
    let mut hidden = 0;
    let mut owner: Option<Option<&str>> = None;
    let several_regions = environments
        .iter()
        .any(|e| e.key.region != environments[0].key.region);
    for env in environments {
        let matches = filter.is_empty()
            || env.key.name.to_lowercase().contains(&filter)
            || env.key.account.to_lowercase().contains(&filter)
            || env
                .owner
                .as_deref()
                .is_some_and(|o| o.to_lowercase().contains(&filter));
        if !matches {
            hidden += 1;
            continue;
        }
        let group = (owner != Some(env.owner.as_deref())).then(|| {
            owner = Some(env.owner.as_deref());
            env.owner
                .as_deref()
                .map(|o| format!("Owner {o}"))
                .unwrap_or_else(|| "No owner".into())
        });
        let key_text = env.key.to_string();
        rows.push(ListRow {
            key: env.key.clone(),
            group,
            // With several accounts, each row says whose it is (and where, if that varies).
            name: match (env.key.account.as_str(), several_regions) {
                ("", _) => env.key.name.clone(),
                (account, false) => format!("{}  {account}", env.key.name),
                (account, true) => format!("{}  {account} {}", env.key.name, env.key.region),
            },
            badge: env_badge(env),
            kind: env.service.as_ref().map_or("", |s| s.kind_label),
            summary: env.summary(now),
            selected: selected == Some(key_text.as_str()),
            busy: busy(&env.key),
        });
    }
    ListView {
        rows: Arc::new(rows),
        sparklines: Some(sparklines),
        loading: false,
        hidden,
    }
}

/// The environment's header: what it is, its parts' states, cost and budget, and how old
/// each figure is.
#[derive(Clone, Debug)]
pub struct HeaderView<'a> {
    pub env: &'a Environment,
    pub now: f64,
    pub badge: Badge,
    pub service: Option<Badge>,
    pub database: Option<Badge>,
    pub cost: Option<Cost>,
    /// What the monthly figure is based on ("the last 3 h").
    pub cost_basis: String,
    pub budget: Option<ConnectionBudget>,
    pub blockers: Vec<String>,
    /// Seconds since the state was read, and since the graphs' series were.
    pub state_age: Option<f64>,
    pub metrics_age: Option<f64>,
}

/// One action button.
#[derive(Clone, Debug)]
pub struct ActionButton {
    pub verb: Verb,
    pub label: &'static str,
    pub tooltip: &'static str,
    pub shortcut: Option<actions::Shortcut>,
    pub disabled: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ImageChoice {
    /// What deploying it means: a tag, or the digest when untagged.
    pub reference: String,
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct ActionsView {
    pub buttons: Vec<ActionButton>,
    pub busy: Option<String>,
    pub images: Vec<ImageChoice>,
    pub chosen: Option<String>,
    pub deploy_disabled: Option<String>,
    /// A newer image pushed to the tag while the service was paused (the tag): resume
    /// would run the old one, so resume-then-deploy is offered.
    pub newer_while_paused: Option<String>,
}

/// The environment verbs that are buttons in the action bar, in the table's order.
const BAR: [Verb; 9] = [
    Verb::WakeEnv,
    Verb::SleepEnv,
    Verb::WakeDb,
    Verb::StopDb,
    Verb::StartDb,
    Verb::PauseService,
    Verb::ResumeService,
    Verb::Rollback,
    Verb::OpenConsole,
];

pub fn actions_view(
    cx: &Context,
    busy: Option<String>,
    images: &[Image],
    configured: Option<&str>,
    chosen: Option<String>,
    now: f64,
) -> ActionsView {
    let buttons = actions::TABLE
        .iter()
        .filter(|s| BAR.contains(&s.verb))
        .map(|s| ActionButton {
            verb: s.verb,
            label: s.label,
            tooltip: s.tooltip,
            shortcut: s.shortcut,
            disabled: actions::precondition(s.verb, cx)
                .err()
                .map(|r| r.to_string()),
        })
        .collect();
    let images = images
        .iter()
        .map(|image| {
            let name = image
                .tags
                .first()
                .cloned()
                .unwrap_or_else(|| short_digest(&image.digest));
            let pushed = image
                .pushed_at
                .map(|t| format!("{} ago", human_duration(now - t)))
                .unwrap_or_default();
            let size = image
                .size_bytes
                .map(|b| format!("{:.0} MB", b as f64 / 1e6))
                .unwrap_or_default();
            let marker = if Some(image.digest.as_str()) == configured {
                " (configured)"
            } else {
                ""
            };
            ImageChoice {
                reference: image
                    .tags
                    .first()
                    .cloned()
                    .unwrap_or_else(|| image.digest.clone()),
                text: format!(
                    "{name}{marker}  {pushed}  {size}  {}",
                    short_digest(&image.digest)
                ),
            }
        })
        .collect();
    let deploy_disabled = match actions::precondition(Verb::DeployImage, cx) {
        Err(r) => Some(r.to_string()),
        Ok(()) if chosen.is_none() => Some("choose an image first".into()),
        Ok(()) => None,
    };
    ActionsView {
        buttons,
        busy,
        images,
        chosen,
        deploy_disabled,
        newer_while_paused: None,
    }
}

/// The graphs: one time axis for every series, the timeline's events and a burst.
#[derive(Clone, Debug)]
pub struct GraphsView<'a> {
    pub metrics: Option<&'a EnvMetrics>,
    /// Changes whenever `metrics` does: the reduced series are kept until it changes.
    pub revision: u64,
    pub start: f64,
    pub end: f64,
    pub window: f64,
    pub events: &'a [TimelineEvent],
    /// The burst's responses per second, scaled to per minute, on the same axis.
    pub burst: Vec<[f64; 2]>,
    pub max_connections: Option<f64>,
    /// The metrics could not be read: why.
    pub error: Option<String>,
    /// The selected log line's time, marked on every graph.
    pub marker: Option<f64>,
    /// Planned actions shortly after `end` (time, what): the axis reaches them.
    pub upcoming: Vec<(f64, String)>,
}

/// How far past now the graphs look for planned actions: a quarter of the window.
pub const UPCOMING_SHARE: f64 = 0.25;

/// The environment's scheduled actions due within a quarter of the window after `now`,
/// as the graphs mark them ("sleep", "wake", "keep-awake ends", "stop again").
pub fn upcoming_actions(
    plan: Option<&crate::model::plan::PlanRead>,
    now: f64,
    window: f64,
) -> Vec<(f64, String)> {
    let Some(Ok(schedules)) = plan.map(|p| &p.schedules) else {
        return Vec::new();
    };
    let horizon = now + window * UPCOMING_SHARE;
    let mut out: Vec<(f64, String)> = schedules
        .iter()
        .filter(|s| s.enabled)
        .filter_map(|s| s.next.filter(|t| *t > now && *t <= horizon).map(|t| (t, s)))
        .map(|(t, s)| {
            let what = match s.kind.as_str() {
                "keep-awake" => "keep-awake ends".to_string(),
                "restop" => "stop again".to_string(),
                other => other.to_string(),
            };
            (t, format!("{what} ({})", s.part))
        })
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out.dedup();
    out
}

#[derive(Clone, Debug)]
pub struct BurstView<'a> {
    pub form: crate::ui::burst::BurstForm,
    pub running: bool,
    pub snapshot: Option<&'a Snapshot>,
    pub disabled: Option<String>,
    pub url: Option<String>,
}

/// Saved burst runs and the two overlaid (indices into `runs`).
#[derive(Clone, Debug)]
pub struct CompareView<'a> {
    pub runs: &'a [crate::burst::runs::RunRecord],
    pub chosen: (Option<usize>, Option<usize>),
}

/// One thing that could not be read, and when it last worked.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub what: String,
    pub since: Option<f64>,
    pub last_worked: Option<f64>,
}

#[derive(Clone, Debug, Default)]
pub struct ProblemsView {
    pub problems: Vec<Problem>,
    pub now: f64,
}

/// The sleep panel: the keep-awake, the schedules with their next firing, and why the
/// environment is not asleep, each part as last read (or why it could not be).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SleepView {
    /// "kept awake by dave until 17:30".
    pub keep_awake: Option<String>,
    /// What "Extend 1 h" asks for: the current expiry plus an hour.
    pub extend_until: Option<f64>,
    /// (schedule, when, next firing).
    pub schedules: Vec<(String, String, String)>,
    pub schedules_error: Option<String>,
    /// (tone, finding, what to do).
    pub findings: Vec<(Tone, String, Option<String>)>,
    pub why_error: Option<String>,
    /// AWS's automatic start of a stopped cluster, warned a day ahead.
    pub restart: Option<(Tone, String)>,
    /// Seconds since the plan was read; None while it has not been.
    pub age: Option<f64>,
    /// "rest of the month with this plan $4.20; the window saves $48/month".
    pub cost: Option<String>,
}

/// `tz`: the zone wall times are shown in (this computer's); `cost`: the header's
/// estimate, which the plan's forecast starts from.
pub fn sleep_view(
    env: &Environment,
    plan: Option<&crate::model::plan::PlanRead>,
    now: f64,
    tz: &jiff::tz::TimeZone,
    cost: Option<&Cost>,
) -> SleepView {
    use crate::model::blockers::Finding;
    use crate::model::plan;
    let keep = plan::keep_awake(env).filter(|k| k.until > now);
    let mut view = SleepView {
        keep_awake: keep
            .as_ref()
            .map(|_| plan::keep_awake_phrase_in(env, now, tz)),
        extend_until: keep.as_ref().map(|k| k.until + 3600.0),
        restart: env
            .database
            .as_ref()
            .and_then(|d| d.automatic_restart_time)
            .map(|t| {
                let soon = t - now < 86400.0;
                (
                    if soon { Tone::Warn } else { Tone::Info },
                    format!(
                        "AWS starts the stopped cluster by itself at {} (in {}){}",
                        plan::wall(t, now, tz),
                        human_duration(t - now),
                        if soon {
                            "; `scale0 schedules ENV --stop-after-restart` stops it again"
                        } else {
                            ""
                        }
                    ),
                )
            }),
        ..SleepView::default()
    };
    let Some(p) = plan else {
        return view;
    };
    view.age = Some(now - p.read_at);
    if let (Some(cost), Ok(list)) = (cost, &p.schedules) {
        view.cost = Some(crate::model::plan_cost::line(
            cost,
            list,
            keep.map(|k| k.until),
            &p.month_so_far,
            now,
        ));
    }
    match &p.schedules {
        Ok(list) => {
            view.schedules = list
                .iter()
                .map(|s| {
                    let when = if s.timezone == "UTC" {
                        s.expression.clone()
                    } else {
                        format!("{} {}", s.expression, s.timezone)
                    };
                    let next = match (s.enabled, s.next) {
                        (false, _) => "disabled".into(),
                        (true, Some(t)) => format!("{}: {}", s.action, plan::wall(t, now, tz)),
                        (true, None) => "never again".into(),
                    };
                    (s.name.clone(), when, next)
                })
                .collect()
        }
        Err(e) => view.schedules_error = Some(e.clone()),
    }
    match &p.why {
        Ok(why) => {
            view.findings = why
                .database
                .iter()
                .chain(&why.service)
                .map(|f| match f {
                    Finding::Blocks { what, fix } => (Tone::Warn, what.clone(), Some(fix.clone())),
                    Finding::Clear { what } => (Tone::Ok, what.clone(), None),
                    Finding::Unknown { what, error } => {
                        (Tone::Muted, format!("{what}: unknown ({error})"), None)
                    }
                })
                .collect()
        }
        Err(e) => view.why_error = Some(e.clone()),
    }
    view
}
