//! The app shell: the state the panels are drawn from, the layout, and what each intent
//! does. Every action goes through the action table (`invoke`, in app_actions.rs), whether
//! it came from a button, the palette, a menu or a shortcut.

use super::app_actions::{Running, newer_while_paused};
use super::burst::BurstState;
use super::events::ProblemTracker;
use super::intent::Intent;
use super::list_cache::ListCache;
use super::panels::{self, notifications::Notification};
use super::plot::RowSparklines;
use super::settings::Settings;
use super::view::{self, BurstView, GraphsView, HeaderView, ProblemsView};
use super::worker::{Command, Worker};
use super::{DemoChoice, theme};
use crate::actions::{self, Action, Context, Verb};
use crate::backend::Inventory;
use crate::model::{EnvKey, EnvMetrics, Environment, Event as TimelineEvent, Image};
use egui::{RichText, Ui};
use std::collections::HashMap;

pub struct App {
    pub(super) worker: Worker,
    pub settings: Settings,
    /// The config file the app was started with (`--config`), kept across reconnects.
    pub config_path: Option<std::path::PathBuf>,
    pub(super) connection: Option<String>,
    pub(super) demo: bool,
    pub(super) connect_error: Option<String>,
    pub(super) inventory: Option<Inventory>,
    pub(super) inventory_at: Option<f64>,
    pub(super) problems: ProblemTracker,
    pub(super) refresh_due: f64,
    pub(super) refresh_in_flight: bool,
    /// Per environment: when read, for which window, the series.
    pub(super) metrics: HashMap<EnvKey, (f64, f64, EnvMetrics)>,
    pub(super) metrics_error: HashMap<EnvKey, String>,
    /// Each environment's list sparklines, stored reduced to their few points.
    pub(super) sparklines: HashMap<EnvKey, RowSparklines>,
    /// Bumped by every event and intent: what was built from the state is kept until then.
    pub(super) revision: u64,
    pub(super) list_cache: Option<ListCache>,
    pub(super) list_builds: u64,
    pub(super) images: HashMap<EnvKey, Vec<Image>>,
    pub(super) timeline: HashMap<EnvKey, Vec<TimelineEvent>>,
    pub(super) plans: HashMap<EnvKey, crate::model::plan::PlanRead>,
    /// Each environment's running action: its label, when it started (server clock), and
    /// the action table's timeout for it.
    pub(super) busy: HashMap<EnvKey, Running>,
    pub notifications: Vec<Notification>,
    pub(super) show_history: bool,
    pub(super) confirm: Option<(Environment, Action)>,
    pub(super) image_choice: Option<String>,
    pub(super) burst: BurstState,
    /// The palette's query while it is open.
    pub(super) palette: Option<String>,
    pub(super) help: bool,
    pub(super) settings_open: bool,
    pub(super) logs: super::logs::LogsState,
    pub(super) accounts: super::accounts::Accounts,
    /// Desktop notifications sent (once per event) and where they go.
    pub notices: super::desktop_notify::Notices,
    /// "Extend 1 h" clicked on a desktop notification: the environment and its expiry.
    pub extend_clicks: Option<std::sync::mpsc::Receiver<(EnvKey, f64)>>,
}

impl App {
    pub fn new(worker: Worker, settings: Settings) -> App {
        App {
            worker,
            settings,
            config_path: None,
            connection: None,
            demo: false,
            connect_error: None,
            inventory: None,
            inventory_at: None,
            problems: ProblemTracker::default(),
            refresh_due: 0.0,
            refresh_in_flight: false,
            metrics: HashMap::new(),
            metrics_error: HashMap::new(),
            sparklines: HashMap::new(),
            revision: 0,
            list_cache: None,
            list_builds: 0,
            images: HashMap::new(),
            timeline: HashMap::new(),
            plans: HashMap::new(),
            busy: HashMap::new(),
            notifications: Vec::new(),
            show_history: false,
            confirm: None,
            image_choice: None,
            burst: BurstState::new(),
            palette: None,
            help: false,
            settings_open: false,
            logs: Default::default(),
            accounts: Default::default(),
            notices: Default::default(),
            extend_clicks: None,
        }
    }

    /// Whether a refresh has answered yet, with environments or with its failure.
    pub fn inventory_seen(&self) -> bool {
        self.inventory_at.is_some() || !self.problems.problems().is_empty()
    }

    /// The backend's present: the server's clock.
    pub fn now(&self) -> f64 {
        self.worker.now()
    }

    /// Sets the burst panel's concurrency and duration (seconds).
    pub fn set_burst(&mut self, concurrency: u32, seconds: f64) {
        self.burst.form.concurrency = concurrency;
        self.burst.form.seconds = seconds;
    }

    /// The saved burst runs the app has read, oldest first.
    pub fn burst_runs(&self) -> &[crate::burst::runs::RunRecord] {
        &self.burst.runs
    }

    /// Where finished bursts are saved for comparing (None: not saved).
    pub fn set_burst_runs_dir(&mut self, dir: Option<std::path::PathBuf>) {
        self.burst.runs_dir = dir;
    }

    pub(super) fn selected_env(&self) -> Option<&Environment> {
        let wanted = self.settings.selected.as_deref()?;
        self.inventory
            .as_ref()?
            .environments
            .iter()
            .find(|e| e.key.to_string() == wanted)
    }

    pub(super) fn context<'a>(&self, env: Option<&'a Environment>) -> Context<'a> {
        Context {
            env,
            busy: env.is_some_and(|e| self.busy.contains_key(&e.key)),
            demo: self.demo,
        }
    }

    /// The whole UI, inside any `Ui` (eframe's root or a test harness).
    pub fn show(&mut self, ui: &mut Ui) {
        self.absorb();
        self.poll_accounts(ui.ctx());
        self.take_extend_clicks();
        self.schedule(ui.ctx());
        self.ensure_logs();
        let mut intents = Vec::new();
        intents.extend(self.shortcuts(ui));
        egui::Panel::top("top").show(ui, |ui| intents.extend(self.top_ui(ui)));
        egui::Panel::bottom("notifications").show(ui, |ui| {
            panels::notifications::show(ui, &self.notifications, &mut self.show_history)
        });
        egui::Panel::left("environments")
            .default_size(440.0)
            .resizable(true)
            .show(ui, |ui| intents.extend(self.list_ui(ui)));
        egui::CentralPanel::default_margins().show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| intents.extend(self.env_ui(ui)));
        });
        for intent in intents {
            self.apply(ui.ctx(), intent);
        }
        // Dialogs opened by this frame's clicks appear in this frame already.
        for intent in self.overlays(ui.ctx()) {
            self.apply(ui.ctx(), intent);
        }
    }

    fn top_ui(&mut self, ui: &mut Ui) -> Vec<Intent> {
        let mut intents = Vec::new();
        ui.horizontal(|ui| {
            ui.heading("scale0");
            match (&self.connection, &self.connect_error) {
                (_, Some(e)) => {
                    ui.colored_label(theme::ERROR, format!("can't connect: {e}"));
                }
                (Some(label), None) if self.demo => {
                    ui.label(
                        RichText::new(format!(" {label} "))
                            .background_color(theme::DEMO_BG)
                            .color(egui::Color32::WHITE),
                    )
                    .on_hover_text(
                        "An embedded local AWS region: nothing here touches a real account.",
                    );
                }
                (Some(label), None) => {
                    ui.label(label);
                }
                (None, None) => {
                    ui.spinner();
                    ui.label("connecting...");
                }
            }
            ui.separator();
            let now = self.worker.now();
            if let Some(t) = self.inventory_at {
                let problems = self.problems.problems().len();
                let text = format!("updated {}", super::repaint::age_text(now - t));
                if problems > 0 {
                    ui.colored_label(theme::WARN, format!("{text}, {problems} problem(s)"));
                } else {
                    ui.weak(text);
                }
            }
            for verb in [Verb::Refresh, Verb::Settings, Verb::Palette, Verb::Help] {
                let spec = verb.spec();
                let keys = spec
                    .shortcut
                    .map(|s| panels::shortcut_text(ui.ctx(), &s))
                    .unwrap_or_default();
                let text = if verb == Verb::Palette {
                    format!("Actions ({keys})")
                } else {
                    spec.label.to_string()
                };
                if ui
                    .button(text)
                    .on_hover_text(format!("{} ({keys})", spec.tooltip))
                    .clicked()
                {
                    intents.push(Intent::Invoke(verb));
                }
            }
        });
        intents
    }

    fn list_ui(&mut self, ui: &mut Ui) -> Option<Intent> {
        if self.inventory.is_none() {
            let view = view::ListView {
                loading: self.connect_error.is_none(),
                ..Default::default()
            };
            return panels::list::show(ui, &view, &mut self.settings.filter);
        }
        let mut filter = self.settings.filter.clone();
        let view = self.cached_list_view();
        let intent = panels::list::show(ui, &view, &mut filter);
        if filter != self.settings.filter {
            self.settings.filter = filter;
            self.revision += 1;
        }
        intent
    }

    fn env_ui(&mut self, ui: &mut Ui) -> Vec<Intent> {
        let mut intents = Vec::new();
        let now = self.worker.now();
        let problems = ProblemsView {
            problems: self.problems.problems(),
            now,
        };
        intents.extend(panels::problems::show(ui, &problems));
        intents.extend(panels::profiles::login_offer(ui, &self.login_offer()));
        let Some(env) = self.selected_env().cloned() else {
            ui.label("Select an environment on the left.");
            return intents;
        };
        let window = self.settings.window_seconds;
        let loaded = self.metrics.get(&env.key);
        let cost = loaded.map(|(_, w, m)| {
            let period = f64::from(crate::backend::metrics::period_for(*w));
            crate::model::cost::estimate(
                &env,
                crate::model::cost::average_over(&m.active_instances, period, *w),
                crate::model::cost::average_over(&m.capacity, period, *w),
            )
        });
        let plan_cost = cost.clone();
        let header = HeaderView {
            env: &env,
            now,
            badge: view::env_badge(&env),
            service: view::service_badge(&env),
            database: view::db_badge(&env, now),
            cost,
            cost_basis: {
                let shown = loaded.map(|l| l.1).unwrap_or(window);
                let name = panels::graphs::WINDOWS
                    .iter()
                    .find(|(w, _)| *w == shown)
                    .map(|(_, n)| n.to_string())
                    .unwrap_or_else(|| crate::model::human_duration(shown));
                format!("the last {name}'s usage")
            },
            budget: crate::model::diagnose::connection_budget(&env),
            blockers: crate::model::diagnose::pause_blockers(&env),
            state_age: self.inventory_at.map(|t| now - t),
            metrics_age: loaded.map(|l| now - l.0),
        };
        panels::header::show(ui, &header);
        ui.separator();
        let cx = self.context(Some(&env));
        let mut actions = view::actions_view(
            &cx,
            self.busy.get(&env.key).map(|r| r.progress(now)),
            self.images.get(&env.key).map(Vec::as_slice).unwrap_or(&[]),
            env.image.as_ref().and_then(|i| i.digest.as_deref()),
            self.image_choice.clone(),
            now,
        );
        actions.newer_while_paused = newer_while_paused(&env);
        intents.extend(panels::actions::show(ui, &actions));
        let burst = BurstView {
            form: self.burst.form.clone(),
            running: self.burst.running,
            snapshot: self.burst.snapshot.as_ref(),
            disabled: actions::precondition(Verb::Burst, &cx)
                .err()
                .map(|r| r.to_string()),
            url: env.service.as_ref().and_then(|s| s.http_url()),
        };
        intents.extend(panels::burst::show(ui, &burst));
        ui.collapsing("Compare saved runs", |ui| {
            let view = view::CompareView {
                runs: &self.burst.runs,
                chosen: self.burst.compare,
            };
            intents.extend(panels::burst::compare_ui(ui, &view));
        });
        ui.separator();
        let burst_points: Vec<[f64; 2]> = match &self.burst.snapshot {
            Some(s) if self.burst.env.as_ref() == Some(&env.key) => s
                .per_second
                .iter()
                .enumerate()
                .map(|(i, p)| [self.burst.started_at + i as f64, (p.responses * 60) as f64])
                .collect(),
            _ => Vec::new(),
        };
        let events = self.timeline.get(&env.key).map(Vec::as_slice);
        let graphs = GraphsView {
            metrics: loaded.map(|l| &l.2),
            revision: self.revision,
            start: now - window,
            end: now,
            window,
            events: events.unwrap_or(&[]),
            burst: burst_points,
            max_connections: env.database.as_ref().map(|d| d.max_connections() as f64),
            error: self.metrics_error.get(&env.key).cloned(),
            marker: self.logs.marker(),
            upcoming: view::upcoming_actions(self.plans.get(&env.key), now, window),
        };
        intents.extend(panels::graphs::show(ui, &graphs));
        ui.separator();
        intents.extend(super::logs::panel(ui, &mut self.logs, now));
        ui.separator();
        intents.extend(panels::timeline::show(ui, events));
        // Last, so its late arrival moves nothing above it.
        ui.separator();
        let tz = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
        let plan = self.plans.get(&env.key);
        let sleep = view::sleep_view(&env, plan, now, &tz, plan_cost.as_ref());
        intents.extend(panels::sleep::show(ui, &sleep));
        intents
    }

    fn overlays(&mut self, ctx: &egui::Context) -> Vec<Intent> {
        let mut intents = Vec::new();
        if let Some((env, action)) = &self.confirm {
            let question = actions::confirmation(action, env);
            intents.extend(panels::confirm::show(ctx, &action.label(), &question));
        }
        if self.palette.is_some() {
            let env = self.selected_env().cloned();
            let cx = self.context(env.as_ref());
            let names = self.accounts.names();
            if let Some(query) = &mut self.palette {
                intents.extend(panels::palette::show(ctx, query, &cx, &names));
            }
        }
        if self.help {
            intents.extend(panels::help::show(ctx));
        }
        let profiles = self.profiles_view();
        intents.extend(panels::settings::show(
            ctx,
            self.settings_open,
            &mut self.settings,
            &profiles,
        ));
        intents
    }

    /// Keyboard shortcuts from the action table, when no text field has the focus.
    fn shortcuts(&mut self, ui: &mut Ui) -> Vec<Intent> {
        let typing = ui.ctx().egui_wants_keyboard_input();
        let mut intents = Vec::new();
        for spec in actions::TABLE {
            let Some(shortcut) = spec.shortcut.as_ref().and_then(panels::keyboard_shortcut) else {
                continue;
            };
            // Command shortcuts (palette, settings) work even while typing.
            if typing && !shortcut.modifiers.command {
                continue;
            }
            if ui.input_mut(|i| i.consume_shortcut(&shortcut)) {
                intents.push(Intent::Invoke(spec.verb));
            }
        }
        intents
    }

    fn apply(&mut self, ctx: &egui::Context, intent: Intent) {
        self.revision += 1;
        match intent {
            Intent::Select(key) => {
                self.settings.selected = Some(key.to_string());
                self.image_choice = None;
                self.request_new_details();
            }
            Intent::Invoke(verb) => self.invoke(ctx, verb),
            Intent::ChooseImage(reference) => self.image_choice = Some(reference),
            Intent::SetWindow(seconds) => {
                self.settings.window_seconds = seconds;
                self.request_new_details();
                // The logs read the graphs' window again (ensure_logs, next frame).
                self.logs.env = None;
            }
            Intent::SetBurst(form) => self.burst.form = form,
            Intent::StopBurst => self.worker.send(Command::StopBurst),
            Intent::ListRuns => self.list_runs(),
            Intent::CompareRuns(a, b) => self.burst.compare = (a, b),
            Intent::CancelAction => {
                if let Some(env) = self.selected_env() {
                    self.worker.send(Command::Cancel(env.key.clone()));
                }
            }
            Intent::Reconnect { demo } => {
                self.settings_open = false;
                self.reconnect(ctx, demo);
            }
            Intent::ConfirmYes => {
                if let Some((env, action)) = self.confirm.take() {
                    self.start(env, action);
                }
            }
            Intent::ConfirmNo => self.confirm = None,
            Intent::ClosePalette => self.palette = None,
            Intent::CloseHelp => self.help = false,
            Intent::CloseSettings => self.settings_open = false,
            Intent::Copy(text) => {
                ctx.copy_text(text);
                self.notify("copied the line".into(), true);
            }
            intent @ (Intent::LogSource(_)
            | Intent::LogFilter
            | Intent::LogFollow(_)
            | Intent::LogSelect(_)
            | Intent::LogsAt(_)) => self.apply_logs(intent),
            intent @ (Intent::Login(_) | Intent::CancelLogin | Intent::SwitchProfile(_)) => {
                self.apply_accounts(ctx, intent)
            }
            Intent::KeepAwakeUntil(until) => self.keep_awake(until),
            Intent::ResumeAndDeployNewer => self.resume_and_deploy_newer(),
        }
    }

    pub(super) fn list_runs(&mut self) {
        if let Some(dir) = &self.burst.runs_dir {
            self.worker.send(Command::ListRuns(dir.clone()));
        }
    }

    /// Switches accounts without restarting: a new worker for the new target; the old
    /// one stops when its command channel closes.
    pub(super) fn reconnect(&mut self, ctx: &egui::Context, demo: bool) {
        let target = super::worker::Target {
            profiles: self.settings.profiles(),
            regions: self.settings.regions(),
            // An --endpoint-url and the AWS files hold across reconnects, as --config does.
            endpoint_url: self.worker.target().and_then(|t| t.endpoint_url.clone()),
            aws_files: self.accounts.files.clone(),
            config_path: self.config_path.clone(),
            demo: if demo {
                DemoChoice::Always
            } else {
                DemoChoice::WhenNothingConfigured
            },
            operation_timeout: None,
        };
        let ctx = ctx.clone();
        self.worker = Worker::spawn(target, move |within| ctx.request_repaint_after(within));
        self.connection = None;
        self.connect_error = None;
        self.inventory = None;
        self.inventory_at = None;
        self.problems = ProblemTracker::default();
        self.refresh_due = 0.0;
        self.refresh_in_flight = false;
        self.metrics.clear();
        self.metrics_error.clear();
        self.sparklines.clear();
        self.list_cache = None;
        self.images.clear();
        self.timeline.clear();
        self.logs = Default::default();
        self.busy.clear();
        self.confirm = None;
        self.burst = BurstState {
            form: self.burst.form.clone(),
            runs_dir: self.burst.runs_dir.take(),
            runs: std::mem::take(&mut self.burst.runs),
            compare: self.burst.compare,
            ..BurstState::default()
        };
    }

    /// Polls fast only while something is in flight.
    fn schedule(&mut self, ctx: &egui::Context) {
        let now = self.worker.now();
        if self.connection.is_some() && !self.refresh_in_flight && now >= self.refresh_due {
            self.refresh_in_flight = true;
            self.worker.send(Command::Refresh);
            // Our own action or burst: every 5 s. Someone's operation under way (a deploy
            // takes minutes): every 15 s. Otherwise the setting (30 s by default).
            let ours = !self.busy.is_empty() || self.burst.running;
            let theirs = self.inventory.as_ref().is_some_and(|i| {
                i.environments.iter().any(|e| {
                    e.service.as_ref().is_some_and(|s| {
                        s.status == crate::model::ServiceStatus::OperationInProgress
                    })
                })
            });
            let every = self.settings.refresh_seconds.max(5.0);
            self.refresh_due = now
                + if ours {
                    5.0
                } else if theirs {
                    every.min(15.0)
                } else {
                    every
                };
        }
        // New data and input repaint at once; time passing only when it changes the screen.
        ctx.request_repaint_after(self.next_frame_in());
    }
}
