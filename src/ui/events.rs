//! Folding the worker's events into the app's state: the last good value is kept while a
//! read fails, a failure is remembered with when it started and when that part last
//! worked, and metrics for a window that is no longer shown are dropped.

use super::App;
use super::panels::notifications::Notification;
use super::view::Problem;
use super::worker::{Command, Event};
use crate::backend::{BackendError, Outcome, Verdict};
use crate::model::{Power, ServiceStatus, human_duration};
use std::collections::BTreeMap;

/// Failing parts by name ("us-east-1: RDS"), with when they started failing and when they
/// last worked.
#[derive(Default)]
pub struct ProblemTracker {
    failing: BTreeMap<String, (String, f64)>,
    last_worked: BTreeMap<String, f64>,
    first_success: Option<f64>,
}

impl ProblemTracker {
    /// Takes one refresh's problems ("<region>: <part>: <error>"), at `now`.
    pub fn update(&mut self, problems: &[String], now: f64) {
        let current: BTreeMap<String, String> =
            problems.iter().map(|p| (part_of(p), p.clone())).collect();
        let known: Vec<String> = self
            .failing
            .keys()
            .chain(self.last_worked.keys())
            .cloned()
            .collect();
        for part in known {
            if !current.contains_key(&part) {
                self.failing.remove(&part);
                self.last_worked.insert(part, now);
            }
        }
        for (part, text) in current {
            let since = self.failing.get(&part).map(|(_, t)| *t).unwrap_or(now);
            self.failing.insert(part, (text, since));
        }
        self.first_success.get_or_insert(now);
    }

    /// A part failing outside a refresh (the whole refresh, metrics, images, events).
    pub fn fail(&mut self, part: &str, error: &BackendError, now: f64) {
        let since = self.failing.get(part).map(|(_, t)| *t).unwrap_or(now);
        self.failing.insert(
            part.to_string(),
            (format!("{part}: {}: {error}", error.kind().label()), since),
        );
    }

    pub fn clear(&mut self, part: &str, now: f64) {
        if self.failing.remove(part).is_some() || !self.last_worked.contains_key(part) {
            self.last_worked.insert(part.to_string(), now);
        }
    }

    pub fn problems(&self) -> Vec<Problem> {
        self.failing
            .iter()
            .map(|(part, (text, since))| Problem {
                what: text.clone(),
                since: Some(*since),
                last_worked: self.last_worked.get(part).copied(),
            })
            .collect()
    }
}

/// "us-east-1: App Runner" from "us-east-1: App Runner: Rate exceeded".
fn part_of(problem: &str) -> String {
    let mut parts = problem.splitn(3, ": ");
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), Some(_)) => format!("{a}: {b}"),
        _ => problem.to_string(),
    }
}

impl App {
    pub(super) fn notify(&mut self, text: String, ok: bool) {
        let at = self.worker.now();
        self.notifications.push(Notification { at, text, ok });
    }

    /// Drains the worker's events; never blocks.
    pub(super) fn absorb(&mut self) {
        while let Some(event) = self.worker.try_recv() {
            let now = self.worker.now();
            self.revision += 1;
            match event {
                Event::Connected { label, demo } => {
                    self.connection = Some(label);
                    self.connect_error = None;
                    self.demo = demo;
                    self.refresh_due = 0.0;
                    self.list_runs();
                }
                Event::ConnectFailed(e) => self.connect_error = Some(e.to_string()),
                Event::Inventory {
                    at,
                    result: Ok(inv),
                } => {
                    self.refresh_in_flight = false;
                    self.inventory_at = Some(at);
                    self.problems.clear("refresh", now);
                    // "region: service: kind: message": the banner names the kind.
                    let lines: Vec<String> = inv
                        .failures
                        .iter()
                        .map(|f| {
                            format!(
                                "{}: {}: {}: {}",
                                f.region,
                                f.service,
                                f.kind.label(),
                                f.message
                            )
                        })
                        .collect();
                    self.problems.update(&lines, now);
                    if self.settings.selected.is_none() {
                        // First start: show a live environment rather than an empty view.
                        let live = inv.environments.iter().find(|e| {
                            e.service
                                .as_ref()
                                .is_some_and(|s| s.status == ServiceStatus::Running)
                                && e.database.as_ref().is_some_and(|d| d.power == Power::Awake)
                        });
                        self.settings.selected =
                            live.or(inv.environments.first()).map(|e| e.key.to_string());
                    }
                    let envs = inv.environments.clone();
                    self.desktop_keep_awake_notes(&envs, now);
                    self.inventory = Some(inv);
                    self.worker.send(Command::Sparklines(envs));
                    self.request_details();
                }
                Event::RegionAnswered {
                    region,
                    account,
                    environments,
                } => {
                    // The list shows a region as soon as it answers; the rest stay as they
                    // were until theirs do.
                    let inv = self.inventory.get_or_insert_with(Default::default);
                    inv.environments
                        .retain(|e| e.key.region != region || e.key.account != account);
                    inv.environments.extend(environments);
                    crate::backend::inventory::sort_for_list(&mut inv.environments);
                }
                Event::Inventory { result: Err(e), .. } => {
                    // Keep the last good inventory; the problems banner says why it's old.
                    self.refresh_in_flight = false;
                    self.problems.fail("refresh", &e, now);
                }
                Event::Metrics(key, window, result) => {
                    // A reply for a window no longer shown must not replace the current one.
                    if window != self.settings.window_seconds {
                        continue;
                    }
                    match result {
                        Ok(m) => {
                            // Only the selected environment's series are kept: the rest are
                            // out of reach and read again when selected.
                            let selected = self.settings.selected.clone();
                            self.metrics.retain(|k, _| Some(k.to_string()) == selected);
                            self.metrics.insert(key.clone(), (now, window, m));
                            self.metrics_error.remove(&key);
                        }
                        Err(e) => {
                            self.metrics_error.insert(key, e.to_string());
                        }
                    }
                }
                Event::Sparklines(all, failed) => {
                    // Environments gone from the list take their sparklines with them.
                    if let Some(inv) = &self.inventory {
                        let listed: std::collections::HashSet<_> =
                            inv.environments.iter().map(|e| &e.key).collect();
                        self.sparklines.retain(|k, _| listed.contains(k));
                    }
                    self.sparklines.extend(
                        all.iter()
                            .map(|(k, m)| (k.clone(), crate::ui::plot::RowSparklines::new(m))),
                    );
                    for (region, e) in failed {
                        self.problems
                            .fail(&format!("{region}: sparklines"), &e, now);
                    }
                }
                Event::Images(key, Ok(images)) => {
                    self.images.insert(key, images);
                }
                Event::Timeline(key, Ok(events)) => {
                    // Live markers: what the environment did while the burst ran.
                    for (at, text) in self.burst.new_markers(&key, &events) {
                        self.worker.send(Command::BurstMarker { at, text });
                    }
                    self.timeline.insert(key, events);
                }
                Event::Images(key, Err(e)) => {
                    self.problems
                        .fail(&format!("{}: images", key.name), &e, now)
                }
                Event::Timeline(key, Err(e)) => {
                    self.problems
                        .fail(&format!("{}: events", key.name), &e, now)
                }
                Event::ActionDone {
                    env,
                    action,
                    result,
                } => {
                    self.busy.remove(&env);
                    match result {
                        Ok(report) => {
                            let steps: Vec<String> = report
                                .steps
                                .iter()
                                .map(|s| format!("{} ({})", s.what, human_duration(s.seconds)))
                                .collect();
                            // Done only if every part did; otherwise each part says how it ended.
                            let verdict = report.verdict();
                            let word = match verdict {
                                Verdict::Done => "done",
                                Verdict::Partial => "PARTLY failed",
                                Verdict::TimedOut => "TIMED OUT",
                                Verdict::Failed(_) => "FAILED",
                            };
                            let mut text = format!(
                                "{}: {} {word} in {}: {}",
                                env.name,
                                action.label(),
                                human_duration(report.total_seconds()),
                                steps.join("; ")
                            );
                            let bad: Vec<String> = report
                                .parts
                                .iter()
                                .filter(|p| {
                                    !matches!(
                                        p.outcome,
                                        Outcome::Done | Outcome::AlreadyDone | Outcome::Pending
                                    )
                                })
                                .map(|p| format!("{}: {}", p.part, p.detail))
                                .collect();
                            if !bad.is_empty() {
                                text.push_str(&format!("; not done: {}", bad.join("; ")));
                            }
                            if !report.left.is_empty() {
                                text.push_str(&format!(
                                    "; still to happen: {}",
                                    report.left.join("; ")
                                ));
                            }
                            self.desktop_action_note(
                                &env,
                                &action,
                                &text,
                                verdict == Verdict::Done,
                            );
                            self.notify(text, verdict == Verdict::Done);
                        }
                        Err(e) => {
                            let text = format!("{}: {} failed: {e}", env.name, action.label());
                            self.desktop_action_note(&env, &action, &text, false);
                            self.notify(text, false);
                        }
                    }
                    self.refresh_due = 0.0;
                }
                Event::Burst(s) => {
                    if s.finished {
                        self.burst.running = false;
                        let failures = s.status_count(500..=599) + s.errors_total;
                        self.notify(
                            format!(
                                "burst finished: {} responses, {:.0} req/s, p99 {:.1} ms, {} 5xx, {} errors",
                                s.responses,
                                s.requests_per_second,
                                s.latency.p99,
                                s.status_count(500..=599),
                                s.errors_total
                            ),
                            failures == 0,
                        );
                        self.refresh_due = 0.0;
                    }
                    self.burst.snapshot = Some(s);
                }
                Event::Logs(generation, chunk) => self.logs.absorb(generation, chunk),
                Event::ScheduleFailures {
                    region,
                    group,
                    result,
                } => match result {
                    Ok(minutes) => {
                        self.problems.clear(&format!("{region}: scheduler"), now);
                        for (minute, failures) in minutes {
                            let note = super::desktop_notify::schedule_failed(
                                &region, minute, failures, &group,
                            );
                            self.desktop_note(note);
                        }
                    }
                    Err(e) => self.problems.fail(&format!("{region}: scheduler"), &e, now),
                },
                Event::Plan(key, plan) => {
                    self.plans.insert(key, plan);
                }
                Event::BurstFailed(e) => {
                    self.burst.running = false;
                    self.notify(format!("burst refused: {e}"), false);
                }
                Event::Runs(Ok(runs)) => {
                    // The newest two, until the person picks others.
                    let n = runs.len();
                    if self.burst.compare == (None, None) && n >= 2 {
                        self.burst.compare = (Some(n - 2), Some(n - 1));
                    }
                    self.burst.runs = runs;
                }
                Event::Runs(Err(e)) => self.notify(format!("saved bursts: {e}"), false),
            }
        }
    }

    /// Asks for the selected environment's graphs, images and timeline after a refresh.
    pub(super) fn request_details(&mut self) {
        let Some(env) = self.selected_env().cloned() else {
            return;
        };
        let window = self.settings.window_seconds;
        self.worker.send(Command::Metrics {
            env: env.clone(),
            window,
        });
        self.worker.send(Command::Images(env.clone()));
        self.worker.send(Command::Plan(env.clone()));
        self.worker.send(Command::Timeline { env, window });
    }

    /// Asks for details the window does not hold yet (another environment or window): their
    /// answers wake the window even when they equal answers it had before.
    pub(super) fn request_new_details(&mut self) {
        self.worker.send(Command::ExpectNew);
        self.request_details();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_remembers_when_it_started_and_when_its_part_last_worked() {
        let mut t = ProblemTracker::default();
        t.update(&[], 100.0);
        t.update(&["us-east-1: RDS: Rate exceeded".into()], 130.0);
        t.update(&["us-east-1: RDS: Rate exceeded again".into()], 160.0);
        let p = t.problems();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].since, Some(130.0));
        assert!(p[0].what.ends_with("again"));
        t.update(&[], 190.0);
        assert!(t.problems().is_empty());
        t.update(&["us-east-1: RDS: down".into()], 220.0);
        assert_eq!(t.problems()[0].last_worked, Some(190.0));
    }
}
