//! The desktop app: every environment at a glance, live, with one-click actions. View
//! state only; the worker does all I/O. Panels are `*_ui` functions; every user action
//! comes from one table (`ACTIONS`: label, shortcut, needs confirmation).

pub mod plot;
pub mod worker;

use crate::backend::session::DemoChoice;
use crate::backend::{ImageRef, Inventory};
use crate::burst::{BurstConfig, Snapshot};
use crate::model::{
    EnvKey, EnvMetrics, Environment, Event as TimelineEvent, Image, Power, ServiceStatus,
    human_duration, short_digest,
};
use egui::{Color32, Key, KeyboardShortcut, Modifiers, RichText, Ui};
use egui_plot::{HLine, Legend, Line, Plot, PlotPoints, VLine};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use worker::{Action, Command, Event, Worker};

/// Settings kept between runs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Settings {
    pub profile: String,
    pub regions: String,
    pub refresh_seconds: f64,
    pub window_seconds: f64,
    pub selected: Option<String>,
    pub filter: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            profile: String::new(),
            regions: String::new(),
            refresh_seconds: 30.0,
            window_seconds: 3.0 * 3600.0,
            selected: None,
            filter: String::new(),
        }
    }
}

/// The graph windows a user can pick.
pub const WINDOWS: [(f64, &str); 5] = [
    (900.0, "15 min"),
    (3600.0, "1 h"),
    (3.0 * 3600.0, "3 h"),
    (12.0 * 3600.0, "12 h"),
    (86400.0, "24 h"),
];

/// Every action with its keyboard shortcut and whether it asks for confirmation first.
pub const ACTIONS: [(ActionKind, &str, KeyboardShortcut, bool); 7] = [
    (
        ActionKind::WakeAndWait,
        "Wake and wait until ready",
        KeyboardShortcut::new(Modifiers::NONE, Key::W),
        false,
    ),
    (
        ActionKind::WakeDb,
        "Wake database",
        KeyboardShortcut::new(Modifiers::SHIFT, Key::W),
        false,
    ),
    (
        ActionKind::Sleep,
        "Sleep",
        KeyboardShortcut::new(Modifiers::NONE, Key::S),
        true,
    ),
    (
        ActionKind::StopDb,
        "Stop database",
        KeyboardShortcut::new(Modifiers::SHIFT, Key::S),
        true,
    ),
    (
        ActionKind::Pause,
        "Pause service",
        KeyboardShortcut::new(Modifiers::NONE, Key::P),
        true,
    ),
    (
        ActionKind::Resume,
        "Resume service",
        KeyboardShortcut::new(Modifiers::NONE, Key::R),
        false,
    ),
    (
        ActionKind::Rollback,
        "Roll back",
        KeyboardShortcut::new(Modifiers::SHIFT, Key::R),
        true,
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionKind {
    WakeAndWait,
    WakeDb,
    Sleep,
    StopDb,
    Pause,
    Resume,
    Rollback,
}

impl ActionKind {
    fn action(self) -> Action {
        match self {
            ActionKind::WakeAndWait => Action::WakeAndWait,
            ActionKind::WakeDb => Action::WakeDb,
            ActionKind::Sleep => Action::Sleep,
            ActionKind::StopDb => Action::StopDb,
            ActionKind::Pause => Action::Pause,
            ActionKind::Resume => Action::Resume,
            ActionKind::Rollback => Action::Rollback,
        }
    }
}

/// Why an action can't run now, or None when it can.
pub fn disabled_reason(env: &Environment, kind: ActionKind, busy: bool) -> Option<String> {
    if busy {
        return Some("an action on this environment is already running".into());
    }
    let service = env.service.as_ref();
    let db = env.database.as_ref();
    let operation = service
        .and_then(|s| s.operation.as_ref())
        .map(|o| o.kind.clone());
    let in_progress = service.is_some_and(|s| s.status == ServiceStatus::OperationInProgress);
    let need_service = || {
        service
            .is_none()
            .then(|| "this environment has no App Runner service".to_string())
    };
    let op_running = || {
        in_progress.then(|| {
            format!(
                "{} is in progress",
                operation.clone().unwrap_or_else(|| "an operation".into())
            )
        })
    };
    match kind {
        ActionKind::Pause => need_service().or_else(op_running).or_else(|| {
            (service?.status == ServiceStatus::Paused)
                .then(|| "the service is already paused".into())
        }),
        ActionKind::Resume => need_service().or_else(op_running).or_else(|| {
            (service?.status != ServiceStatus::Paused).then(|| "the service is not paused".into())
        }),
        ActionKind::Rollback => need_service().or_else(op_running).or_else(|| {
            let s = service?;
            if s.status == ServiceStatus::Paused {
                return Some("the service is paused: resume it first".into());
            }
            (!s.tags
                .iter()
                .any(|(k, _)| k == crate::backend::discovery::PREVIOUS_IMAGE_TAG))
            .then(|| "no previous image recorded (scale0 records one on each deploy)".into())
        }),
        ActionKind::WakeDb | ActionKind::WakeAndWait => {
            let Some(db) = db else {
                return (kind == ActionKind::WakeDb)
                    .then(|| "this environment has no database".into())
                    .or_else(need_service);
            };
            if db.status == "stopping" {
                return Some("the cluster is stopping".into());
            }
            if kind == ActionKind::WakeDb && db.power == Power::Awake {
                return Some("the database is already awake".into());
            }
            None
        }
        ActionKind::Sleep => need_service().or_else(op_running).or_else(|| {
            (service?.status == ServiceStatus::Paused)
                .then(|| "the service is already paused".into())
        }),
        ActionKind::StopDb => {
            let Some(db) = db else {
                return Some("this environment has no database".into());
            };
            if matches!(db.mode, crate::model::DbMode::ServerlessV1 { .. }) {
                return Some("Aurora Serverless v1 can't be stopped; it pauses by itself".into());
            }
            (db.status != "available").then(|| format!("the cluster is {}", db.status))
        }
    }
}

pub struct Notification {
    pub at: f64,
    pub text: String,
    pub ok: bool,
}

#[derive(Default)]
struct BurstPanel {
    concurrency: u32,
    seconds: f64,
    snapshot: Option<Snapshot>,
    running: bool,
    /// Backend time when it started, to draw it on the environment's time axis.
    started_at: f64,
    env: Option<EnvKey>,
}

pub struct App {
    worker: Worker,
    pub settings: Settings,
    connection: Option<String>,
    demo: bool,
    connect_error: Option<String>,
    /// The config file the app was started with (`--config`), kept across reconnects.
    pub config_path: Option<std::path::PathBuf>,
    inventory: Option<Inventory>,
    refresh_error: Option<String>,
    updated_at: Option<f64>,
    refresh_due: f64,
    refresh_in_flight: bool,
    metrics: HashMap<EnvKey, (f64, EnvMetrics)>,
    sparklines: HashMap<EnvKey, EnvMetrics>,
    images: HashMap<EnvKey, Vec<Image>>,
    timeline: HashMap<EnvKey, Vec<TimelineEvent>>,
    busy: HashMap<EnvKey, String>,
    pub notifications: Vec<Notification>,
    show_history: bool,
    confirm: Option<(Environment, Action)>,
    image_choice: Option<String>,
    burst: BurstPanel,
}

impl App {
    /// The backend's present: the server's clock.
    pub fn now(&self) -> f64 {
        self.worker.now()
    }

    pub fn new(worker: Worker, settings: Settings) -> App {
        App {
            worker,
            settings,
            connection: None,
            demo: false,
            connect_error: None,
            config_path: None,
            inventory: None,
            refresh_error: None,
            updated_at: None,
            refresh_due: 0.0,
            refresh_in_flight: false,
            metrics: HashMap::new(),
            sparklines: HashMap::new(),
            images: HashMap::new(),
            timeline: HashMap::new(),
            busy: HashMap::new(),
            notifications: Vec::new(),
            show_history: false,
            confirm: None,
            image_choice: None,
            burst: BurstPanel {
                concurrency: 50,
                seconds: 10.0,
                ..BurstPanel::default()
            },
        }
    }

    /// Loads data as if the worker had sent it (benchmarks, previews).
    pub fn load(
        &mut self,
        inventory: Inventory,
        metrics: HashMap<EnvKey, EnvMetrics>,
        connection: &str,
    ) {
        let now = self.worker.now();
        self.connection = Some(connection.to_string());
        self.updated_at = Some(now);
        self.refresh_due = f64::INFINITY;
        self.sparklines = metrics.clone();
        self.metrics = metrics.into_iter().map(|(k, m)| (k, (now, m))).collect();
        if self.settings.selected.is_none() {
            self.settings.selected = inventory.environments.first().map(|e| e.key.to_string());
        }
        self.inventory = Some(inventory);
    }

    /// Switches accounts without restarting: a new worker for the new target; the old
    /// one stops when its command channel closes.
    fn reconnect(&mut self, ctx: &egui::Context, demo: bool) {
        let target = worker::Target {
            profile: Some(self.settings.profile.trim().to_string()).filter(|p| !p.is_empty()),
            regions: self
                .settings
                .regions
                .split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect(),
            endpoint_url: None,
            config_path: self.config_path.clone(),
            demo: if demo {
                DemoChoice::Always
            } else {
                DemoChoice::WhenNothingConfigured
            },
            operation_timeout: None,
        };
        let ctx = ctx.clone();
        self.worker = Worker::spawn(target, move || ctx.request_repaint());
        self.connection = None;
        self.connect_error = None;
        self.inventory = None;
        self.refresh_error = None;
        self.updated_at = None;
        self.refresh_due = 0.0;
        self.refresh_in_flight = false;
        self.metrics.clear();
        self.sparklines.clear();
        self.images.clear();
        self.timeline.clear();
        self.busy.clear();
        self.burst = BurstPanel {
            concurrency: self.burst.concurrency,
            seconds: self.burst.seconds,
            ..BurstPanel::default()
        };
    }

    /// Sets the burst panel's concurrency and duration (seconds).
    pub fn set_burst(&mut self, concurrency: u32, seconds: f64) {
        self.burst.concurrency = concurrency;
        self.burst.seconds = seconds;
    }

    fn selected_env(&self) -> Option<&Environment> {
        let wanted = self.settings.selected.as_deref()?;
        self.inventory
            .as_ref()?
            .environments
            .iter()
            .find(|e| e.key.to_string() == wanted)
    }

    fn notify(&mut self, text: String, ok: bool) {
        let at = self.worker.now();
        self.notifications.push(Notification { at, text, ok });
    }

    /// Drains the worker's events; never blocks.
    fn absorb(&mut self) {
        while let Some(event) = self.worker.try_recv() {
            match event {
                Event::Connected { label, demo } => {
                    self.connection = Some(label);
                    self.connect_error = None;
                    self.demo = demo;
                    self.refresh_due = 0.0;
                }
                Event::ConnectFailed(e) => self.connect_error = Some(e.to_string()),
                Event::Inventory(result) => {
                    self.refresh_in_flight = false;
                    match result {
                        Ok(inv) => {
                            self.updated_at = Some(self.worker.now());
                            self.refresh_error = None;
                            let envs = inv.environments.clone();
                            if self.settings.selected.is_none() {
                                // First start: show a live environment rather than an empty view.
                                let live = envs.iter().find(|e| {
                                    e.service
                                        .as_ref()
                                        .is_some_and(|s| s.status == ServiceStatus::Running)
                                        && e.database
                                            .as_ref()
                                            .is_some_and(|d| d.power == Power::Awake)
                                });
                                self.settings.selected =
                                    live.or(envs.first()).map(|e| e.key.to_string());
                            }
                            self.inventory = Some(inv);
                            self.worker.send(Command::Sparklines(envs));
                            self.request_details();
                        }
                        // Keep the last good inventory; mark it stale.
                        Err(e) => self.refresh_error = Some(e),
                    }
                }
                Event::Metrics(key, _, Ok(m)) => {
                    let now = self.worker.now();
                    self.metrics.insert(key, (now, m));
                }
                Event::Metrics(_, _, Err(e)) => self.refresh_error = Some(e),
                Event::Sparklines(all) => self.sparklines.extend(all),
                Event::Images(key, Ok(images)) => {
                    self.images.insert(key, images);
                }
                Event::Timeline(key, Ok(events)) => {
                    self.timeline.insert(key, events);
                }
                Event::Images(_, Err(e)) | Event::Timeline(_, Err(e)) => {
                    self.refresh_error = Some(e)
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
                            let total = report.total_seconds();
                            self.notify(
                                format!(
                                    "{}: {} done in {}: {}",
                                    env.name,
                                    action.label(),
                                    human_duration(total),
                                    steps.join("; ")
                                ),
                                true,
                            );
                        }
                        Err(e) => self.notify(
                            format!("{}: {} failed: {e}", env.name, action.label()),
                            false,
                        ),
                    }
                    self.refresh_due = 0.0;
                }
                Event::Burst(s) => {
                    if s.finished {
                        self.burst.running = false;
                        self.notify(
                            format!("burst finished: {} responses, {:.0} req/s, p99 {:.1} ms, {} 5xx, {} errors", s.responses, s.requests_per_second, s.latency.p99, s.status_count(500..=599), s.errors_total),
                            s.status_count(500..=599) == 0 && s.errors_total == 0,
                        );
                        self.refresh_due = 0.0;
                    }
                    self.burst.snapshot = Some(s);
                }
                Event::BurstFailed(e) => {
                    self.burst.running = false;
                    self.notify(format!("burst refused: {e}"), false);
                }
            }
        }
    }

    fn request_details(&mut self) {
        let Some(env) = self.selected_env().cloned() else {
            return;
        };
        let window = self.settings.window_seconds;
        self.worker.send(Command::Metrics {
            env: env.clone(),
            window,
        });
        self.worker.send(Command::Images(env.clone()));
        self.worker.send(Command::Timeline { env, window });
    }

    /// Polls fast only while something is in flight.
    fn schedule(&mut self, ctx: &egui::Context) {
        let now = self.worker.now();
        if self.connection.is_some() && !self.refresh_in_flight && now >= self.refresh_due {
            self.refresh_in_flight = true;
            self.worker.send(Command::Refresh);
            let fast = !self.busy.is_empty()
                || self.burst.running
                || self.inventory.as_ref().is_some_and(|i| {
                    i.environments.iter().any(|e| {
                        e.service
                            .as_ref()
                            .is_some_and(|s| s.status == ServiceStatus::OperationInProgress)
                    })
                });
            self.refresh_due = now
                + if fast {
                    5.0
                } else {
                    self.settings.refresh_seconds.max(5.0)
                };
        }
        // Ages and countdowns tick once a second; new data repaints at once.
        ctx.request_repaint_after(std::time::Duration::from_secs(1));
    }

    fn start(&mut self, env: Environment, action: Action) {
        self.busy.insert(env.key.clone(), action.label());
        self.notify(
            format!("{}: {} started", env.key.name, action.label()),
            true,
        );
        self.worker.send(Command::Act { env, action });
        self.refresh_due = 0.0;
    }

    /// The whole UI, inside any `Ui` (eframe's root or a test harness).
    pub fn show(&mut self, ui: &mut Ui) {
        self.absorb();
        self.schedule(ui.ctx());
        self.shortcuts(ui);
        egui::Panel::top("top").show(ui, |ui| self.top_ui(ui));
        egui::Panel::bottom("notifications").show(ui, |ui| self.notifications_ui(ui));
        egui::Panel::left("environments")
            .default_size(430.0)
            .resizable(true)
            .show(ui, |ui| self.list_ui(ui));
        egui::CentralPanel::default_margins().show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| self.env_ui(ui));
        });
        self.confirm_ui(ui);
    }

    fn shortcuts(&mut self, ui: &mut Ui) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let Some(env) = self.selected_env().cloned() else {
            return;
        };
        for (kind, _, shortcut, _) in ACTIONS {
            if ui.input_mut(|i| i.consume_shortcut(&shortcut))
                && disabled_reason(&env, kind, self.busy.contains_key(&env.key)).is_none()
            {
                self.request(
                    env.clone(),
                    kind.action(),
                    ACTIONS.iter().any(|a| a.0 == kind && a.3),
                );
            }
        }
    }

    fn request(&mut self, env: Environment, action: Action, confirm: bool) {
        if confirm {
            self.confirm = Some((env, action));
        } else {
            self.start(env, action);
        }
    }

    fn top_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.heading("scale0");
            match (&self.connection, &self.connect_error) {
                (_, Some(e)) => {
                    ui.colored_label(Color32::LIGHT_RED, format!("can't connect: {e}"));
                }
                (Some(label), None) => {
                    if self.demo {
                        ui.label(
                            RichText::new(format!(" {label} "))
                                .background_color(Color32::from_rgb(120, 80, 0))
                                .color(Color32::WHITE),
                        )
                        .on_hover_text(
                            "An embedded local AWS region: nothing here touches a real account.",
                        );
                    } else {
                        ui.label(label);
                    }
                }
                (None, None) => {
                    ui.spinner();
                    ui.label("connecting...");
                }
            }
            ui.separator();
            let now = self.worker.now();
            match (self.updated_at, &self.refresh_error) {
                (Some(t), Some(e)) => {
                    ui.colored_label(
                        Color32::YELLOW,
                        format!("stale: updated {} ago", human_duration(now - t)),
                    )
                    .on_hover_text(e);
                }
                (Some(t), None) => {
                    ui.weak(format!("updated {} ago", human_duration(now - t)));
                }
                _ => {}
            }
            if ui
                .button("Refresh")
                .on_hover_text("Refresh now (F5)")
                .clicked()
                || ui.input(|i| i.key_pressed(Key::F5))
            {
                self.refresh_due = 0.0;
            }
            ui.menu_button("Settings", |ui| {
                ui.label("AWS profile (empty: the default chain)");
                ui.text_edit_singleline(&mut self.settings.profile);
                ui.label("Regions, comma-separated (empty: the profile's)");
                ui.text_edit_singleline(&mut self.settings.regions);
                ui.horizontal(|ui| {
                    if ui
                        .button("Switch to this account")
                        .on_hover_text("Reconnect now with this profile and these regions")
                        .clicked()
                    {
                        self.reconnect(ui.ctx(), false);
                        ui.close();
                    }
                    if ui
                        .button("Demo region")
                        .on_hover_text("Switch to the embedded demo region")
                        .clicked()
                    {
                        self.reconnect(ui.ctx(), true);
                        ui.close();
                    }
                });
                ui.add(
                    egui::Slider::new(&mut self.settings.refresh_seconds, 10.0..=300.0)
                        .text("refresh every (s)"),
                );
            });
        });
    }

    fn list_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.label("Filter");
            ui.add(
                egui::TextEdit::singleline(&mut self.settings.filter)
                    .hint_text("name or owner")
                    .desired_width(160.0),
            );
        });
        ui.separator();
        let Some(inv) = &self.inventory else {
            ui.spinner();
            return;
        };
        let filter = self.settings.filter.to_lowercase();
        let now = self.worker.now();
        let mut chosen = None;
        egui::ScrollArea::vertical().show(ui, |ui| {
            let mut owner: Option<Option<String>> = None;
            for env in &inv.environments {
                let matches = filter.is_empty()
                    || env.key.name.to_lowercase().contains(&filter)
                    || env
                        .owner
                        .as_deref()
                        .is_some_and(|o| o.to_lowercase().contains(&filter));
                if !matches {
                    continue;
                }
                if owner.as_ref() != Some(&env.owner) {
                    owner = Some(env.owner.clone());
                    ui.add_space(4.0);
                    let owner = env
                        .owner
                        .as_deref()
                        .map(|o| format!("Owner {o}"))
                        .unwrap_or_else(|| "No owner".into());
                    ui.label(RichText::new(owner).strong());
                }
                let selected =
                    self.settings.selected.as_deref() == Some(env.key.to_string().as_str());
                ui.horizontal(|ui| {
                    if ui
                        .selectable_label(selected, RichText::new(&env.key.name).monospace())
                        .clicked()
                    {
                        chosen = Some(env.key.to_string());
                    }
                    if let Some(m) = self.sparklines.get(&env.key) {
                        plot::sparkline(ui, &m.active_instances, 1.0, Color32::LIGHT_BLUE);
                        plot::sparkline(ui, &m.capacity, 1.0, Color32::LIGHT_GREEN);
                    }
                    if self.busy.contains_key(&env.key) {
                        ui.spinner();
                    }
                });
                ui.label(RichText::new(env.summary(now)).small());
            }
        });
        if let Some(key) = chosen {
            self.settings.selected = Some(key);
            self.image_choice = None;
            self.request_details();
        }
    }

    fn env_ui(&mut self, ui: &mut Ui) {
        let Some(env) = self.selected_env().cloned() else {
            ui.label("Select an environment on the left.");
            return;
        };
        let now = self.worker.now();
        ui.heading(format!("{} ({})", env.key.name, env.key.region));
        ui.label(env.summary(now));
        self.details_ui(ui, &env, now);
        ui.separator();
        self.actions_ui(ui, &env);
        ui.separator();
        self.graphs_ui(ui, &env);
        ui.separator();
        self.burst_ui(ui, &env);
        ui.separator();
        self.timeline_ui(ui, &env);
    }

    fn details_ui(&mut self, ui: &mut Ui, env: &Environment, now: f64) {
        egui::Grid::new("details").num_columns(2).show(ui, |ui| {
            if let Some(s) = &env.service {
                ui.label("Service");
                ui.horizontal(|ui| {
                    ui.label(format!("{} ({})", s.name, s.status.label()));
                    if let Some(url) = s.http_url() {
                        ui.hyperlink_to(&url, &url);
                    }
                });
                ui.end_row();
                if let Some(sc) = &s.scaling {
                    ui.label("Scaling");
                    ui.label(format!(
                        "MaxConcurrency {}, MinSize {}, MaxSize {}; {} active instances",
                        sc.max_concurrency,
                        sc.min_size,
                        sc.max_size,
                        s.active_instances.unwrap_or(0.0)
                    ));
                    ui.end_row();
                }
            }
            if let Some(db) = &env.database {
                ui.label("Database");
                ui.label(format!(
                    "{} {} ({}, {})",
                    db.id,
                    db.status,
                    db.mode.label(),
                    db.engine_version
                ));
                ui.end_row();
                ui.label("Capacity");
                let pause = match db.mode.auto_pause_seconds() {
                    Some(s) => format!("auto-pause after {s} s idle"),
                    None => "no auto-pause".into(),
                };
                let range = match &db.mode {
                    crate::model::DbMode::ServerlessV2 {
                        min_acu, max_acu, ..
                    } => format!("{min_acu}-{max_acu} ACU"),
                    crate::model::DbMode::ServerlessV1 {
                        min_acu, max_acu, ..
                    } => format!("{min_acu}-{max_acu} ACU"),
                    crate::model::DbMode::Provisioned { instance_class } => instance_class.clone(),
                };
                ui.label(format!(
                    "{range}, {pause}; ~{} max_connections",
                    db.max_connections_estimate()
                ));
                ui.end_row();
                if let Some(t) = db.auto_pause_at {
                    ui.label("Auto-pause");
                    ui.label(format!(
                        "in {} if nothing connects",
                        human_duration(t - now)
                    ));
                    ui.end_row();
                }
            }
            if let Some(b) = crate::model::diagnose::connection_budget(env)
                && b.over_budget
            {
                ui.label("Budget");
                ui.colored_label(
                    Color32::YELLOW,
                    format!(
                        "up to {} concurrent requests vs ~{} max_connections: 500s under load",
                        b.peak_requests, b.max_connections
                    ),
                );
                ui.end_row();
            }
        });
    }

    fn actions_ui(&mut self, ui: &mut Ui, env: &Environment) {
        let busy = self.busy.get(&env.key).cloned();
        ui.horizontal_wrapped(|ui| {
            for (kind, label, shortcut, confirm) in ACTIONS {
                let reason = disabled_reason(env, kind, busy.is_some());
                let shortcut_text = ui.ctx().format_shortcut(&shortcut);
                let response = ui.add_enabled(reason.is_none(), egui::Button::new(label));
                let response = match &reason {
                    Some(r) => response.on_disabled_hover_text(format!("Not now: {r}")),
                    None => response.on_hover_text(format!("Shortcut: {shortcut_text}")),
                };
                if response.clicked() {
                    self.request(env.clone(), kind.action(), confirm);
                }
            }
            if let Some(what) = &busy {
                ui.spinner();
                ui.label(what);
            }
        });
        // The image picker: tags, pushed at, size, digest, which one is configured.
        let images = self.images.get(&env.key).cloned().unwrap_or_default();
        let configured = env.image.as_ref().and_then(|i| i.digest.clone());
        ui.horizontal(|ui| {
            let current = self
                .image_choice
                .clone()
                .unwrap_or_else(|| "choose a tag...".into());
            egui::ComboBox::new("image picker", "image")
                .selected_text(current)
                .width(260.0)
                .show_ui(ui, |ui| {
                    for image in &images {
                        let name = image
                            .tags
                            .first()
                            .cloned()
                            .unwrap_or_else(|| short_digest(&image.digest));
                        let pushed = image
                            .pushed_at
                            .map(|t| format!("{} ago", human_duration(self.worker.now() - t)))
                            .unwrap_or_default();
                        let size = image
                            .size_bytes
                            .map(|b| format!("{:.0} MB", b as f64 / 1e6))
                            .unwrap_or_default();
                        let marker = if Some(&image.digest) == configured.as_ref() {
                            " (configured)"
                        } else {
                            ""
                        };
                        let reference = match image.tags.first() {
                            Some(t) => t.clone(),
                            None => image.digest.clone(),
                        };
                        ui.selectable_value(
                            &mut self.image_choice,
                            Some(reference),
                            format!(
                                "{name}{marker}  {pushed}  {size}  {}",
                                short_digest(&image.digest)
                            ),
                        );
                    }
                });
            let choice = self.image_choice.clone();
            let reason = match (&choice, busy.is_some()) {
                (_, true) => Some("an action on this environment is already running".to_string()),
                (None, _) => Some("choose an image first".into()),
                _ => env.service.as_ref().and_then(|s| match s.status {
                    ServiceStatus::Paused => Some("the service is paused: resume it first".into()),
                    ServiceStatus::OperationInProgress => {
                        Some("an operation is in progress".into())
                    }
                    _ => None,
                }),
            };
            let response = ui.add_enabled(reason.is_none(), egui::Button::new("Deploy"));
            let response = match &reason {
                Some(r) => response.on_disabled_hover_text(format!("Not now: {r}")),
                None => response.on_hover_text("Deploy the chosen image (asks first)"),
            };
            if response.clicked()
                && let Some(reference) = choice
            {
                let image = if reference.starts_with("sha256:") {
                    ImageRef::Digest(reference)
                } else {
                    ImageRef::Tag(reference)
                };
                self.confirm = Some((env.clone(), Action::Deploy(image)));
            }
        });
    }

    fn graphs_ui(&mut self, ui: &mut Ui, env: &Environment) {
        ui.horizontal(|ui| {
            ui.label("Window");
            for (seconds, label) in WINDOWS {
                if ui
                    .selectable_label(self.settings.window_seconds == seconds, label)
                    .clicked()
                {
                    self.settings.window_seconds = seconds;
                    self.request_details();
                }
            }
        });
        let Some((_, m)) = self.metrics.get(&env.key) else {
            ui.spinner();
            return;
        };
        let m = m.clone();
        let now = self.worker.now();
        let start = now - self.settings.window_seconds;
        // Two points (min and max) per ~3 pixels is all a line can show.
        let columns = (ui.available_width().max(100.0) / 3.0) as usize;
        let timeline = self.timeline.get(&env.key).cloned().unwrap_or_default();
        let link = egui::Id::unique("env time axis");
        let graph = |ui: &mut Ui,
                     title: &str,
                     series: Vec<(&str, &crate::model::MetricSeries)>,
                     extra: &dyn Fn(&mut egui_plot::PlotUi<'_>)| {
            ui.label(RichText::new(title).strong());
            Plot::new(title)
                .height(110.0)
                .link_axis(link, [true, false])
                .include_x(start)
                .include_x(now)
                .include_y(0.0)
                .legend(Legend::default())
                .allow_scroll(false)
                .x_axis_formatter(|mark, _| clock_label(mark.value))
                .show(ui, |plot_ui| {
                    for (name, s) in &series {
                        for segment in plot::reduce(&s.points, columns, 150.0) {
                            plot_ui.line(Line::new(*name, PlotPoints::from(segment)));
                        }
                    }
                    // Unnamed, so the legend lists series, not events.
                    for e in &timeline {
                        plot_ui.vline(VLine::new("", e.time).color(Color32::from_gray(90)));
                    }
                    extra(plot_ui);
                });
        };
        graph(
            ui,
            "Instances and concurrency",
            vec![
                ("active instances", &m.active_instances),
                ("concurrency", &m.concurrency),
            ],
            &|_| {},
        );
        let burst_points: Vec<[f64; 2]> = match (
            &self.burst.snapshot,
            self.burst.env.as_ref() == Some(&env.key),
        ) {
            (Some(s), true) => s
                .per_second
                .iter()
                .enumerate()
                .map(|(i, p)| [self.burst.started_at + i as f64, (p.responses * 60) as f64])
                .collect(),
            _ => Vec::new(),
        };
        graph(
            ui,
            "Requests per minute: all, 2xx, 5xx (burst in orange)",
            vec![
                ("requests", &m.requests),
                ("2xx", &m.status_2xx),
                ("5xx", &m.status_5xx),
            ],
            &|plot_ui| {
                if !burst_points.is_empty() {
                    plot_ui.line(
                        Line::new("burst (x60)", PlotPoints::from(burst_points.clone()))
                            .color(Color32::ORANGE),
                    );
                }
            },
        );
        graph(
            ui,
            "Latency (ms): p50, p99",
            vec![("p50", &m.latency_p50), ("p99", &m.latency_p99)],
            &|_| {},
        );
        graph(
            ui,
            "Database capacity (ACU); 0 = paused",
            vec![("ACU", &m.capacity)],
            &|_| {},
        );
        let max_connections = env
            .database
            .as_ref()
            .map(|d| d.max_connections_estimate() as f64);
        graph(
            ui,
            "Database connections vs max_connections",
            vec![("connections", &m.connections)],
            &|plot_ui| {
                if let Some(max) = max_connections {
                    plot_ui
                        .hline(HLine::new("max_connections (est.)", max).color(Color32::LIGHT_RED));
                }
            },
        );
    }

    fn burst_ui(&mut self, ui: &mut Ui, env: &Environment) {
        ui.label(RichText::new("Load burst").strong());
        let url = env.service.as_ref().and_then(|s| s.http_url());
        ui.horizontal(|ui| {
            ui.add(
                egui::DragValue::new(&mut self.burst.concurrency)
                    .range(1..=crate::burst::MAX_CONCURRENCY)
                    .prefix("concurrency "),
            );
            ui.add(
                egui::DragValue::new(&mut self.burst.seconds)
                    .range(1.0..=120.0)
                    .suffix(" s")
                    .prefix("for "),
            );
            if self.burst.running {
                if ui
                    .button("Stop burst")
                    .on_hover_text("Stops every request within a second")
                    .clicked()
                {
                    self.worker.send(Command::StopBurst);
                }
                ui.spinner();
            } else {
                let reason = match &url {
                    None => Some("this environment has no service URL"),
                    Some(_)
                        if env
                            .service
                            .as_ref()
                            .is_some_and(|s| s.status == ServiceStatus::Paused) =>
                    {
                        Some("the service is paused")
                    }
                    _ => None,
                };
                let response = ui.add_enabled(reason.is_none(), egui::Button::new("Start burst"));
                let response = match reason {
                    Some(r) => response.on_disabled_hover_text(format!("Not now: {r}")),
                    None => {
                        response.on_hover_text("GET the service URL from many connections at once")
                    }
                };
                if response.clicked()
                    && let Some(url) = url.clone()
                {
                    self.burst.running = true;
                    self.burst.snapshot = None;
                    self.burst.started_at = self.worker.now();
                    self.burst.env = Some(env.key.clone());
                    self.worker.send(Command::StartBurst(BurstConfig {
                        url,
                        concurrency: self.burst.concurrency,
                        duration: Some(self.burst.seconds),
                        timeout: 20.0,
                        ..BurstConfig::default()
                    }));
                }
            }
        });
        if let Some(s) = &self.burst.snapshot {
            ui.label(format!(
                "{:.1} s: {} responses, {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, 2xx {}, 5xx {}, errors {}",
                s.elapsed, s.responses, s.requests_per_second, s.latency.p50, s.latency.p99, s.status_count(200..=299), s.status_count(500..=599), s.errors_total
            ));
        }
    }

    fn timeline_ui(&mut self, ui: &mut Ui, env: &Environment) {
        ui.label(RichText::new("Timeline").strong());
        let Some(events) = self.timeline.get(&env.key) else {
            return;
        };
        if events.is_empty() {
            ui.weak("no events in this window");
        }
        for e in events.iter().rev().take(30) {
            ui.label(format!(
                "{}  {:8}  {}",
                clock_label(e.time),
                e.source,
                e.message
            ));
        }
    }

    fn notifications_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.toggle_value(
                &mut self.show_history,
                format!("History ({})", self.notifications.len()),
            );
            if let Some(n) = self.notifications.last() {
                let color = if n.ok {
                    ui.visuals().text_color()
                } else {
                    Color32::LIGHT_RED
                };
                ui.colored_label(color, &n.text);
            }
        });
        if self.show_history {
            egui::ScrollArea::vertical()
                .max_height(160.0)
                .show(ui, |ui| {
                    for n in self.notifications.iter().rev() {
                        let color = if n.ok {
                            ui.visuals().text_color()
                        } else {
                            Color32::LIGHT_RED
                        };
                        ui.colored_label(color, format!("{}  {}", clock_label(n.at), n.text));
                    }
                });
        }
    }

    fn confirm_ui(&mut self, ui: &mut Ui) {
        let Some((env, action)) = self.confirm.clone() else {
            return;
        };
        let mut open = true;
        let mut decided = None;
        egui::Window::new("Confirm")
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .show(ui.ctx(), |ui| {
                ui.label(format!("{} on {}?", action.label(), env.key.name));
                ui.horizontal(|ui| {
                    if ui.button("Yes, go ahead").clicked() {
                        decided = Some(true);
                    }
                    if ui.button("Cancel").clicked() {
                        decided = Some(false);
                    }
                });
            });
        match (open, decided) {
            (_, Some(true)) => {
                self.confirm = None;
                self.start(env, action);
            }
            (false, _) | (_, Some(false)) => self.confirm = None,
            _ => {}
        }
    }
}

/// "14:05" for an epoch time, in UTC.
fn clock_label(t: f64) -> String {
    let s = t.rem_euclid(86400.0) as u64;
    format!("{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

/// eframe's entry: the App plus persistence.
pub struct DesktopApp {
    pub app: App,
}

impl eframe::App for DesktopApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.app.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.app.settings);
    }
}

/// Opens the window. `demo` forces the embedded region; otherwise AWS's default chain,
/// falling back to the demo region (marked) only when there are no credentials at all.
pub fn run(target: worker::Target) -> Result<(), eframe::Error> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_inner_size([1400.0, 900.0])
        .with_title("scale0")
        .with_app_id("scale0");
    // The icon is embedded at build time, so the binary runs from any directory.
    if let Ok(icon) = eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon-256.png"))
    {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    eframe::run_native(
        "scale0",
        options,
        Box::new(move |cc| {
            let settings: Settings = cc
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default();
            let mut target = target;
            if target.profile.is_none() && !settings.profile.is_empty() {
                target.profile = Some(settings.profile.clone());
            }
            if target.regions.is_empty() && !settings.regions.is_empty() {
                target.regions = settings
                    .regions
                    .split(',')
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty())
                    .collect();
            }
            let ctx = cc.egui_ctx.clone();
            let config_path = target.config_path.clone();
            let worker = Worker::spawn(target, move || ctx.request_repaint());
            let mut app = App::new(worker, settings);
            app.config_path = config_path;
            Ok(Box::new(DesktopApp { app }))
        }),
    )
}
