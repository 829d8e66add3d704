//! The worker: owns the async side (backend, bursts) on its own tokio runtime. The UI
//! sends Commands and drains Events; it never waits on the network.

use crate::backend::aws::AwsBackend;
use crate::backend::session::{Session, SessionError};
use crate::backend::{ActionReport, BackendError, Inventory};
use crate::burst::runs::{self, RunRecord};
use crate::burst::{self, BurstConfig, BurstHandle, Settings as BurstSettings, Snapshot};
use crate::clock::Clock;
use crate::model::{EnvKey, EnvMetrics, Environment, Event as TimelineEvent, Image};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::mpsc as async_mpsc;

pub use crate::actions::Action;

pub enum Command {
    Refresh,
    /// Series for one environment over the last `window` seconds.
    Metrics {
        env: Environment,
        window: f64,
    },
    /// Last hour of series for every environment (sparklines).
    Sparklines(Vec<Environment>),
    Images(Environment),
    Timeline {
        env: Environment,
        window: f64,
    },
    Act {
        env: Environment,
        action: Action,
    },
    /// Start a burst; when it ends, save it in `save_to` and send the saved runs.
    StartBurst {
        config: BurstConfig,
        environment: String,
        save_to: Option<PathBuf>,
    },
    StopBurst,
    /// Read (or follow) a log for the logs panel; replaces the one before.
    Logs(super::logs::LogsRequest),
    StopLogs,
    /// A point on the running burst's timeline, seconds since it started.
    BurstMarker {
        at: f64,
        text: String,
    },
    /// The runs saved in this folder.
    ListRuns(PathBuf),
    /// Stops waiting for an environment's running action.
    Cancel(EnvKey),
    /// The environment's sleep plan: blockers and schedules.
    Plan(Environment),
    /// The window asks for data it does not hold (another environment, another window):
    /// the next answers wake it even when they equal earlier ones.
    ExpectNew,
}

pub enum Event {
    Connected {
        label: String,
        demo: bool,
    },
    ConnectFailed(SessionError),
    /// A whole refresh, read at `at` (the server's clock); it may reach the window later
    /// than that when it is the same as the one before.
    Inventory {
        at: f64,
        result: Result<Inventory, BackendError>,
    },
    /// One region's environments, while other regions are still being read; the whole
    /// `Inventory` follows.
    RegionAnswered {
        region: String,
        /// The account's label with several accounts ("" with one).
        account: String,
        environments: Vec<Environment>,
    },
    /// One environment's series for the window (seconds) it was asked for.
    Metrics(EnvKey, f64, Result<EnvMetrics, BackendError>),
    /// Sparklines (the last hour of requests, 5xx and capacity), and the regions whose
    /// series could not be read.
    Sparklines(Vec<(EnvKey, EnvMetrics)>, Vec<(String, BackendError)>),
    Images(EnvKey, Result<Vec<Image>, BackendError>),
    Timeline(EnvKey, Result<Vec<TimelineEvent>, BackendError>),
    ActionDone {
        env: EnvKey,
        action: Action,
        result: Result<ActionReport, BackendError>,
    },
    Burst(Snapshot),
    BurstFailed(String),
    /// An answer for the logs request of this generation.
    Logs(u64, super::logs::LogsChunk),
    /// Saved burst runs, oldest first.
    Runs(Result<Vec<RunRecord>, String>),
    Plan(EnvKey, crate::model::plan::PlanRead),
    /// Minutes of the last quarter hour when scale0's schedules in `region` failed to call
    /// their target (minute, failures).
    ScheduleFailures {
        region: String,
        group: String,
        result: Result<Vec<(f64, f64)>, BackendError>,
    },
}

/// How to reach AWS: the same target the CLI connects to.
pub use crate::backend::session::Target;

pub struct Worker {
    commands: async_mpsc::UnboundedSender<Command>,
    events: mpsc::Receiver<Event>,
    clock: std::sync::Arc<std::sync::Mutex<Clock>>,
    /// What it connects to (None: a backend given by a test); a reconnect keeps its files.
    target: Option<Target>,
    _thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    /// Starts a worker thread with its own runtime that connects to `target`.
    pub fn spawn(target: Target, repaint: impl Fn(Duration) + Send + Sync + 'static) -> Worker {
        let (commands, rx) = async_mpsc::unbounded_channel();
        let (tx, events) = mpsc::channel();
        let clock = std::sync::Arc::new(std::sync::Mutex::new(Clock::real()));
        let shared_clock = clock.clone();
        let kept = target.clone();
        let thread = std::thread::Builder::new()
            .name("scale0-worker".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Event::ConnectFailed(SessionError::Runtime(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let sink = Sink::new(tx, std::sync::Arc::new(repaint));
                    let Some(session) = connect(target, &sink).await else {
                        return;
                    };
                    *shared_clock
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) =
                        session.backend.clock().clone();
                    // The session (and a demo emulator in it) lives as long as the worker.
                    serve(session.backend.clone(), rx, sink).await;
                    drop(session);
                });
            })
            .ok();
        Worker {
            commands,
            events,
            clock,
            target: Some(kept),
            _thread: thread,
        }
    }

    /// A worker on an existing runtime and backend (tests: the emulator's clock and world).
    pub fn with_backend(
        runtime: &tokio::runtime::Handle,
        backend: AwsBackend,
        label: String,
        repaint: impl Fn(Duration) + Send + Sync + 'static,
    ) -> Worker {
        let (commands, rx) = async_mpsc::unbounded_channel();
        let (tx, events) = mpsc::channel();
        let clock = std::sync::Arc::new(std::sync::Mutex::new(backend.clock().clone()));
        let sink = Sink::new(tx, std::sync::Arc::new(repaint));
        sink.send(Event::Connected { label, demo: true });
        runtime.spawn(serve(backend, rx, sink));
        Worker {
            commands,
            events,
            clock,
            target: None,
            _thread: None,
        }
    }

    pub fn send(&self, command: Command) {
        // The worker only stops with the app; a send after that has nobody to tell.
        let _ = self.commands.send(command);
    }

    pub fn target(&self) -> Option<&Target> {
        self.target.as_ref()
    }

    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    /// The backend's present (the emulator's clock in the demo region).
    pub fn now(&self) -> f64 {
        self.clock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .now()
    }
}

/// How long a background read's answer may wait for the next frame: a refresh answers in a
/// few events (a region, the inventory, the selected environment's series, sparklines) within
/// tens of milliseconds, and one frame draws them all, not one frame each.
pub const FOLD_ANSWERS_WITHIN: Duration = Duration::from_millis(150);

#[derive(Clone)]
struct Sink {
    tx: mpsc::Sender<Event>,
    /// Asks the window for a frame within the given time.
    repaint: std::sync::Arc<dyn Fn(Duration) + Send + Sync>,
    /// A fingerprint of the last answer of each background read: an answer equal to the one
    /// before is queued without waking the window (the next frame takes it), so an idle
    /// window whose data did not change draws nothing new.
    last_answers: std::sync::Arc<std::sync::Mutex<HashMap<String, u64>>>,
}

impl Sink {
    fn new(
        tx: mpsc::Sender<Event>,
        repaint: std::sync::Arc<dyn Fn(Duration) + Send + Sync>,
    ) -> Sink {
        Sink {
            tx,
            repaint,
            last_answers: Default::default(),
        }
    }

    fn forget_answers(&self) {
        self.last_answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    fn send(&self, event: Event) {
        // What the person is waiting for (an action's outcome, a connection, logs they
        // opened, a running burst) is drawn at once; background reads are folded, and not
        // drawn at all when they say what the last one said.
        let answer = match &event {
            Event::Inventory { result, .. } => Some(("inventory".to_string(), fingerprint(result))),
            Event::RegionAnswered {
                region,
                account,
                environments,
            } => Some((
                format!("region {account}/{region}"),
                fingerprint(environments),
            )),
            Event::Metrics(key, window, result) => {
                Some((format!("metrics {key:?} {window}"), fingerprint(result)))
            }
            Event::Sparklines(all, failed) => {
                Some(("sparklines".into(), fingerprint(&(all, failed))))
            }
            Event::Images(key, result) => Some((format!("images {key:?}"), fingerprint(result))),
            Event::Timeline(key, result) => {
                Some((format!("timeline {key:?}"), fingerprint(result)))
            }
            Event::Plan(key, plan) => Some((format!("plan {key:?}"), fingerprint(plan))),
            Event::ScheduleFailures { region, result, .. } => {
                Some((format!("scheduler {region}"), fingerprint(result)))
            }
            _ => None,
        };
        let wake = match answer {
            None => Some(Duration::ZERO),
            Some((slot, print)) => {
                let mut last = self
                    .last_answers
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let changed = last.insert(slot, print) != Some(print);
                changed.then_some(FOLD_ANSWERS_WITHIN)
            }
        };
        if self.tx.send(event).is_ok()
            && let Some(within) = wake
        {
            (self.repaint)(within);
        }
    }
}

/// A 64-bit fingerprint of a value's full Debug text (every field, floats exactly), fed to
/// the hasher as it is written: no copy of the text is kept.
fn fingerprint(value: &impl std::fmt::Debug) -> u64 {
    use std::hash::Hasher;
    struct Feed(std::collections::hash_map::DefaultHasher);
    impl std::fmt::Write for Feed {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.write(s.as_bytes());
            Ok(())
        }
    }
    let mut feed = Feed(Default::default());
    // Writing to a hasher cannot fail; a Debug impl that errors only shortens the text.
    let _ = std::fmt::write(&mut feed, format_args!("{value:?}"));
    feed.0.finish()
}

async fn connect(target: Target, sink: &Sink) -> Option<Session> {
    match Session::connect(&target).await {
        Ok(session) => {
            sink.send(Event::Connected {
                label: session.label.clone(),
                demo: session.demo,
            });
            Some(session)
        }
        Err(e) => {
            sink.send(Event::ConnectFailed(e));
            None
        }
    }
}

async fn serve(backend: AwsBackend, mut rx: async_mpsc::UnboundedReceiver<Command>, sink: Sink) {
    // The running burst, with what saving it needs when it ends.
    let mut burst: Option<(BurstHandle, BurstSettings, String, Option<PathBuf>)> = None;
    // At most one log read at a time: a new request ends the one before.
    let mut logs: Option<tokio::task::JoinHandle<()>> = None;
    // Each environment's running action, so it can be cancelled.
    let mut running: std::collections::HashMap<EnvKey, (tokio::task::AbortHandle, Action)> =
        std::collections::HashMap::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            command = rx.recv() => {
                let Some(command) = command else { break };
                match command {
                    Command::StartBurst { config, environment, save_to } => {
                        if let Some((b, ..)) = burst.take() { b.cancel(); }
                        let settings = config.settings();
                        match burst::start(config) {
                            Ok(h) => burst = Some((h, settings, environment, save_to)),
                            Err(e) => sink.send(Event::BurstFailed(e.to_string())),
                        }
                    }
                    Command::StopBurst => {
                        if let Some((b, ..)) = &burst { b.cancel(); }
                    }
                    Command::BurstMarker { at, text } => {
                        if let Some((b, ..)) = &burst { b.add_marker(at, text); }
                    }
                    Command::Logs(request) => {
                        if let Some(task) = logs.take() { task.abort(); }
                        let (backend, sink) = (backend.clone(), sink.clone());
                        logs = Some(tokio::spawn(async move {
                            let generation = request.generation;
                            super::logs::run(&backend, request, |chunk| {
                                sink.send(Event::Logs(generation, chunk));
                            })
                            .await;
                        }));
                    }
                    Command::ExpectNew => sink.forget_answers(),
                    Command::StopLogs => {
                        if let Some(task) = logs.take() { task.abort(); }
                    }
                    Command::Cancel(key) => {
                        if let Some((handle, action)) = running.remove(&key)
                            && !handle.is_finished()
                        {
                            handle.abort();
                            sink.send(Event::ActionDone {
                                env: key,
                                action,
                                result: Err(BackendError::Refused(
                                    "cancelled: what was already asked of AWS may still happen; the next refresh shows the state".into(),
                                )),
                            });
                        }
                    }
                    Command::Act { env, action } => {
                        let key = env.key.clone();
                        let (backend, task_sink) = (backend.clone(), sink.clone());
                        let kept = action.clone();
                        let task = tokio::spawn(async move {
                            handle(&backend, Command::Act { env, action }, &task_sink).await
                        });
                        running.retain(|_, (h, _)| !h.is_finished());
                        running.insert(key, (task.abort_handle(), kept));
                    }
                    other => {
                        let (backend, sink) = (backend.clone(), sink.clone());
                        tokio::spawn(async move { handle(&backend, other, &sink).await });
                    }
                }
            }
            _ = ticker.tick(), if burst.is_some() => {
                let snapshot = match &burst {
                    Some((b, ..)) => b.snapshot(),
                    None => continue,
                };
                sink.send(Event::Burst(snapshot.clone()));
                if snapshot.finished
                    && let Some((_, settings, environment, Some(dir))) = burst.take()
                {
                    let sink = sink.clone();
                    tokio::task::spawn_blocking(move || {
                        save_run(&dir, settings, environment, snapshot, &sink);
                    });
                }
            }
        }
    }
}

async fn handle(backend: &AwsBackend, command: Command, sink: &Sink) {
    let now = backend.clock().now();
    match command {
        Command::Refresh => {
            let answered = |region: &str, account: &str, environments: &[Environment]| {
                sink.send(Event::RegionAnswered {
                    region: region.to_string(),
                    account: account.to_string(),
                    environments: environments.to_vec(),
                })
            };
            let inventory = backend.inventory_as_regions_answer(answered).await;
            sink.send(Event::Inventory {
                at: now,
                result: inventory,
            });
            // Failed schedule targets since the last quarter hour (told once per minute).
            for region in backend.region_ids() {
                let result = backend.schedule_failures(&region, now - 900.0, now).await;
                sink.send(Event::ScheduleFailures {
                    region,
                    group: backend.schedule_group(),
                    result,
                });
            }
        }
        Command::Metrics { env, window } => {
            let period = crate::backend::metrics::period_for(window);
            let result = backend
                .metrics(&env.key.region, &[&env], now - window, now, period)
                .await
                .map(|mut m| m.pop().unwrap_or_default());
            sink.send(Event::Metrics(env.key, window, result));
        }
        Command::Sparklines(envs) => {
            let mut out = Vec::new();
            let mut failed = Vec::new();
            // One call per account and region: each has its own clients.
            let places: std::collections::BTreeSet<(String, String)> = envs
                .iter()
                .map(|e| (e.key.account.clone(), e.key.region.clone()))
                .collect();
            for (account, region) in places {
                let refs: Vec<&Environment> = envs
                    .iter()
                    .filter(|e| e.key.region == region && e.key.account == account)
                    .collect();
                let read = backend.sparkline_metrics(&region, &refs, now - 3600.0, now);
                match read.await {
                    Ok(all) => out.extend(refs.iter().map(|e| e.key.clone()).zip(all)),
                    Err(e) if account.is_empty() => failed.push((region, e)),
                    Err(e) => failed.push((format!("{account}/{region}"), e)),
                }
            }
            sink.send(Event::Sparklines(out, failed));
        }
        Command::Images(env) => {
            let result = backend.images(&env).await.map(|(_, images)| images);
            sink.send(Event::Images(env.key, result));
        }
        Command::Timeline { env, window } => {
            let result = backend.events(&env, window).await;
            sink.send(Event::Timeline(env.key, result));
        }
        Command::Act { env, action } => {
            let result = crate::actions::run(backend, &env, &action, None).await;
            sink.send(Event::ActionDone {
                env: env.key,
                action,
                result,
            });
        }
        Command::Plan(env) => {
            let plan = backend.plan(&env).await;
            sink.send(Event::Plan(env.key, plan));
        }
        Command::ListRuns(dir) => {
            let result = tokio::task::spawn_blocking(move || runs::list(&dir))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()));
            sink.send(Event::Runs(result));
        }
        Command::StartBurst { .. }
        | Command::StopBurst
        | Command::BurstMarker { .. }
        | Command::Logs(_)
        | Command::StopLogs
        | Command::ExpectNew
        | Command::Cancel(_) => {}
    }
}

/// Saves a finished burst from the app and sends the saved runs again.
fn save_run(
    dir: &std::path::Path,
    settings: BurstSettings,
    environment: String,
    result: Snapshot,
    sink: &Sink,
) {
    let target = runs::Target {
        url: settings.url.clone(),
        environment: Some(environment),
        ..runs::Target::default()
    };
    let record = RunRecord::new(target, settings, result);
    if let Err(e) = runs::save(dir, &record) {
        sink.send(Event::Runs(Err(format!("the run was not saved: {e}"))));
        return;
    }
    sink.send(Event::Runs(runs::list(dir).map_err(|e| e.to_string())));
}

impl Worker {
    /// A worker connected to nothing, on `clock`: for benchmarks that load data directly.
    pub fn detached(clock: Clock) -> Worker {
        let (commands, _) = async_mpsc::unbounded_channel();
        let (_, events) = mpsc::channel();
        Worker {
            commands,
            events,
            clock: std::sync::Arc::new(std::sync::Mutex::new(clock)),
            target: None,
            _thread: None,
        }
    }
}
