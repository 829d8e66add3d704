//! What a request to the seed's Wagtail app costs, in CPU time on one core, and how much
//! CPU an instance can give it. The live listeners spend these costs in real time on the
//! instance's emulated cores; the demo world's history uses the same figures in their
//! steady-state form. Calibrated on issue 13's measurements (Wagtail 8, Django 5.2,
//! PostgreSQL 15, 2 cores): gunicorn 4x8 without DEBUG served ~120 requests per second
//! per core; runserver with DEBUG served ~27 per core, with 2-8 % DEBUG error pages.

use crate::emulator::world::service::{AppServer, AppSettings};

/// CPython's switch interval: a thread holds the interpreter lock (and a core) this long.
pub const SLICE_MS: f64 = 5.0;
/// The home page on one thread with DEBUG off.
pub const PAGE_MS: f64 = 7.0;
/// DEBUG keeps every query, renders templates in debug mode: pages cost more.
pub const DEBUG_FACTOR: f64 = 1.6;
/// Django's technical 500 page (traceback, settings, request) against a DEBUG page.
pub const DEBUG_ERROR_FACTOR: f64 = 4.0;
/// A plain 500 page without DEBUG: the failed connect and a short template.
pub const PLAIN_ERROR_MS: f64 = 2.0;
/// Extra cost when many threads of one process contend for its interpreter lock
/// (lock hand-offs, cache misses), approached as the number of runnable threads grows.
pub const CONTENTION: f64 = 0.2;

/// How a request ends, which decides what it costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Page,
    /// The database refused a connection: Django renders an error page.
    DbError,
}

/// CPU milliseconds (on one full core) for one request, with `runnable` threads of the
/// same process wanting the interpreter lock at the time.
pub fn cpu_ms(app: &AppSettings, outcome: Outcome, runnable: u32) -> f64 {
    let contention = 1.0 + CONTENTION * (1.0 - 1.0 / runnable.max(1) as f64);
    let page = PAGE_MS * if app.debug { DEBUG_FACTOR } else { 1.0 };
    let cost = match (outcome, app.debug) {
        (Outcome::Page, _) => page,
        (Outcome::DbError, true) => page * DEBUG_ERROR_FACTOR,
        (Outcome::DbError, false) => PLAIN_ERROR_MS,
    };
    cost * contention
}

/// Cores an instance's app can keep busy: its vCPUs, but no more than one per
/// interpreter process (the interpreter lock).
pub fn usable_cores(server: AppServer, vcpus: f64) -> f64 {
    vcpus.min(server.processes() as f64)
}

/// Threads on one instance serving `clients` client connections (runserver: one per
/// connection; gunicorn: no more than its pool).
pub fn threads(server: AppServer, clients: u32) -> u32 {
    match server.thread_limit() {
        Some(limit) => clients.min(limit),
        None => clients,
    }
}

/// One instance in a steady state, as the history needs it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Steady {
    pub rps: f64,
    pub latency_ms: f64,
    pub errors_per_second: f64,
    /// Core-milliseconds used per second.
    pub busy_ms_per_second: f64,
}

/// Processor sharing on one instance: `ok` threads render pages and `failing` threads
/// render error pages, all sharing the usable cores equally; `offered_rps` caps the rate
/// when clients ask for less than the instance could serve.
pub fn steady(app: &AppSettings, vcpus: f64, ok: u32, failing: u32, offered_rps: f64) -> Steady {
    let threads = ok + failing;
    if threads == 0 || offered_rps <= 0.0 {
        return Steady {
            rps: 0.0,
            latency_ms: 0.0,
            errors_per_second: 0.0,
            busy_ms_per_second: 0.0,
        };
    }
    let per_process = threads.div_ceil(app.server.processes());
    let page = cpu_ms(app, Outcome::Page, per_process);
    let error = cpu_ms(app, Outcome::DbError, per_process);
    let cores = usable_cores(app.server, vcpus).min(threads as f64);
    // Each thread gets cores/threads of a core; its rate is that share over its cost.
    let share = 1000.0 * cores / threads as f64;
    let ok_rps = ok as f64 * share / page;
    let error_rps = failing as f64 * share / error;
    let capacity = ok_rps + error_rps;
    let scale = (offered_rps / capacity).min(1.0);
    let rps = capacity * scale;
    let busy = (ok_rps * page + error_rps * error) * scale;
    let utilisation = busy / (1000.0 * cores);
    let latency_ms = if scale < 1.0 {
        page / (1.0 - utilisation).max(0.05)
    } else {
        threads as f64 * 1000.0 / capacity
    };
    Steady {
        rps,
        latency_ms,
        errors_per_second: error_rps * scale,
        busy_ms_per_second: busy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runserver() -> AppSettings {
        AppSettings {
            server: AppServer::ThreadPerConnection,
            debug: true,
            conn_max_age: 600,
        }
    }

    #[test]
    fn the_interpreter_lock_caps_runserver_at_one_core() {
        let two = steady(&runserver(), 2.0, 100, 0, f64::INFINITY);
        let one = steady(&runserver(), 1.0, 100, 0, f64::INFINITY);
        assert!((two.rps - one.rps).abs() < 1e-9);
        let gunicorn = AppSettings {
            server: AppServer::Gunicorn {
                workers: 4,
                threads: 8,
            },
            debug: false,
            conn_max_age: 600,
        };
        let g = steady(&gunicorn, 2.0, 32, 0, f64::INFINITY);
        assert!(g.rps > 3.0 * two.rps, "{g:?} vs {two:?}");
    }

    #[test]
    fn debug_error_pages_are_few_but_expensive() {
        let s = steady(&runserver(), 1.0, 97, 53, f64::INFINITY);
        let share = s.errors_per_second / s.rps;
        assert!(share > 0.02 && share < 0.15, "{share}");
    }
}
