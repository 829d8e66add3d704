//! One emulated App Runner instance of a service: its vCPUs, its app's interpreter
//! processes and threads, and the database connection each thread holds.

use super::model::{self, Outcome, SLICE_MS};
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

pub struct Instance {
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
    /// gunicorn's bounded pool: a permit per thread and the idle threads.
    pool: Option<(Arc<Semaphore>, Mutex<Vec<AppThread>>)>,
    /// runserver: new threads go to its one process.
    next_process: AtomicU32,
}

/// A thread taken from the pool for one request; it goes back when dropped.
pub struct PooledThread<'a> {
    pub thread: AppThread,
    instance: &'a Instance,
    _permit: OwnedSemaphorePermit,
}

impl Drop for PooledThread<'_> {
    fn drop(&mut self) {
        if let Some((_, idle)) = &self.instance.pool {
            idle.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(std::mem::take(&mut self.thread));
        }
    }
}

impl Instance {
    pub fn new(app: AppSettings, vcpus: f64) -> Instance {
        let vcpus = vcpus.max(0.125);
        let cores = vcpus.ceil().max(1.0);
        let processes = app.server.processes() as usize;
        let pool = app.server.thread_limit().map(|limit| {
            let threads = (0..limit as usize)
                .map(|k| AppThread {
                    process: k % processes,
                    db: None,
                })
                .collect();
            (
                Arc::new(Semaphore::new(limit as usize)),
                Mutex::new(threads),
            )
        });
        Instance {
            app,
            in_flight: AtomicU32::new(0),
            cores: Arc::new(Semaphore::new(cores as usize)),
            core_speed: vcpus / cores,
            locks: (0..processes)
                .map(|_| Arc::new(Semaphore::new(1)))
                .collect(),
            runnable: (0..processes).map(|_| AtomicU32::new(0)).collect(),
            pool,
            next_process: AtomicU32::new(0),
        }
    }

    /// A thread for a new client connection (runserver); None under a bounded pool.
    pub fn spawn_thread(&self) -> AppThread {
        let p = self.next_process.fetch_add(1, Ordering::Relaxed) as usize % self.locks.len();
        AppThread {
            process: p,
            db: None,
        }
    }

    /// Waits for a free thread of the bounded pool (gunicorn); None for runserver.
    pub async fn pooled_thread(&self) -> Option<PooledThread<'_>> {
        let (permits, idle) = self.pool.as_ref()?;
        let permit = permits.clone().acquire_owned().await.ok()?;
        let thread = idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        Some(PooledThread {
            thread,
            instance: self,
            _permit: permit,
        })
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
