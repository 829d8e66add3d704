//! One emulated App Runner instance of a service: its vCPUs, its app's interpreter
//! processes and threads, and the database connection each thread holds.

use super::model::{self, Outcome, SLICE_MS};
use crate::clock::Clock;
use crate::emulator::Shared;
use crate::emulator::world::service::AppSettings;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One database connection held by an app thread; closing it is dropping it.
pub struct DbConnection {
    pub(super) shared: Arc<Shared>,
    pub(super) cluster: usize,
    pub(super) opened_at: f64,
}

impl Drop for DbConnection {
    fn drop(&mut self) {
        let (mut world, now) = self.shared.world();
        world.disconnect(self.cluster, now);
    }
}

/// An app thread: which interpreter process runs it and the connection it keeps.
#[derive(Default)]
pub struct AppThread {
    pub process: usize,
    pub db: Option<DbConnection>,
}

impl AppThread {
    /// The connection to reuse, after Django's close_old_connections: one older than
    /// CONN_MAX_AGE is closed first.
    pub fn keep_fresh(&mut self, conn_max_age: u32, now: f64) {
        if self
            .db
            .as_ref()
            .is_some_and(|db| now - db.opened_at >= conn_max_age as f64)
        {
            self.db = None;
        }
    }
}

/// How long App Runner's front end keeps an idle connection to an instance open before
/// closing it (Envoy's default upstream idle timeout; App Runner's own is unverified).
/// Under runserver that connection's thread, and its database connection, end with it.
pub const UPSTREAM_IDLE_SECONDS: f64 = 3600.0;

pub struct Instance {
    /// Its place behind the front end, which names its log stream.
    pub index: usize,
    pub app: AppSettings,
    /// Requests this instance is serving (App Runner's per-instance concurrency).
    pub in_flight: AtomicU32,
    cores: Arc<Semaphore>,
    /// Fraction of a full core each emulated core runs at (0.25 vCPU: one core at 25 %).
    core_speed: f64,
    /// One interpreter lock per process.
    locks: Vec<Arc<Semaphore>>,
    /// Threads of each process that want the CPU now.
    runnable: Vec<AtomicU32>,
    /// gunicorn: a permit per thread of its bounded pool; runserver: unbounded.
    permits: Option<Arc<Semaphore>>,
    /// Idle threads with the emulated time they went idle. gunicorn: its pool's idle
    /// threads. runserver: one thread per idle connection the front end keeps open to
    /// this instance (the front end balances each request, so it opens as many as the
    /// instance's peak concurrency, and keeps them).
    idle: Mutex<Vec<(AppThread, f64)>>,
    /// runserver: new threads go to its one process.
    next_process: AtomicU32,
    clock: Clock,
}

/// A thread taken for one request; it goes back to the idle threads when dropped.
pub struct LeasedThread<'a> {
    pub thread: AppThread,
    instance: &'a Instance,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Drop for LeasedThread<'_> {
    fn drop(&mut self) {
        let now = self.instance.clock.now();
        self.instance
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((std::mem::take(&mut self.thread), now));
    }
}

impl Instance {
    pub fn new(index: usize, app: AppSettings, vcpus: f64, clock: Clock) -> Instance {
        let vcpus = vcpus.max(0.125);
        let cores = vcpus.ceil().max(1.0);
        let processes = app.server.processes() as usize;
        let now = clock.now();
        let idle = app
            .server
            .thread_limit()
            .map(|limit| {
                (0..limit as usize)
                    .map(|k| {
                        let thread = AppThread {
                            process: k % processes,
                            db: None,
                        };
                        (thread, now)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Instance {
            index,
            app,
            in_flight: AtomicU32::new(0),
            cores: Arc::new(Semaphore::new(cores as usize)),
            core_speed: vcpus / cores,
            locks: (0..processes)
                .map(|_| Arc::new(Semaphore::new(1)))
                .collect(),
            runnable: (0..processes).map(|_| AtomicU32::new(0)).collect(),
            permits: app
                .server
                .thread_limit()
                .map(|limit| Arc::new(Semaphore::new(limit as usize))),
            idle: Mutex::new(idle),
            next_process: AtomicU32::new(0),
            clock,
        }
    }

    /// A thread for one request: gunicorn waits for a free one of its pool; runserver
    /// reuses the thread of an idle front-end connection or starts one for a new
    /// connection.
    pub async fn thread(&self) -> Option<LeasedThread<'_>> {
        let permit = match &self.permits {
            Some(p) => Some(p.clone().acquire_owned().await.ok()?),
            None => None,
        };
        // The most recently used thread first, as a connection pool reuses them.
        let reused = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .map(|(t, _)| t);
        let thread = reused.unwrap_or_else(|| {
            let p = self.next_process.fetch_add(1, Ordering::Relaxed) as usize % self.locks.len();
            AppThread {
                process: p,
                db: None,
            }
        });
        Some(LeasedThread {
            thread,
            instance: self,
            _permit: permit,
        })
    }

    /// runserver: the front end closes connections idle for UPSTREAM_IDLE_SECONDS, which
    /// ends their threads and closes their database connections. Returns how many.
    pub fn close_idle_upstreams(&self, now: f64) -> usize {
        if self.permits.is_some() {
            return 0;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let before = idle.len();
        idle.retain(|(_, since)| now - since < UPSTREAM_IDLE_SECONDS);
        before - idle.len()
    }

    /// Runs one request's CPU work in real time: slices of the interpreter lock and a
    /// core, round robin with every other runnable thread. Returns core-milliseconds used.
    pub async fn compute(&self, process: usize, outcome: Outcome) -> f64 {
        let process = process % self.locks.len();
        let runnable = self.runnable[process].fetch_add(1, Ordering::Relaxed) + 1;
        let mut remaining = model::cpu_ms(&self.app, outcome, runnable);
        let mut used = 0.0;
        while remaining > 0.0 {
            let Ok(_lock) = self.locks[process].acquire().await else {
                break;
            };
            let Ok(_core) = self.cores.acquire().await else {
                break;
            };
            let slice = remaining.min(SLICE_MS);
            let started = Instant::now();
            tokio::time::sleep(Duration::from_secs_f64(slice / self.core_speed / 1000.0)).await;
            // The core was ours for as long as the timer really took.
            let work = started.elapsed().as_secs_f64() * 1000.0 * self.core_speed;
            remaining -= work;
            used += work;
        }
        self.runnable[process].fetch_sub(1, Ordering::Relaxed);
        used
    }
}
