//! The demo world's past, made by running the world itself: synthetic clients send
//! traffic minute by minute through the same rules the live listeners use (instances
//! following concurrency, connections per app thread, max_connections, CPU per request
//! from the workload model), operations start through the world's own calls, and
//! `catch_up` turns it all into transitions, events and CloudWatch minutes.

use crate::emulator::workload::model;
use crate::emulator::world::service::{OperationType, Work};
use crate::emulator::world::{Connect, World};
use rand::RngExt;

/// Clients using one service for a while: `rpm` requests per minute asked for by
/// `clients` concurrent clients (a load test when many).
#[derive(Clone, Copy, Debug)]
pub struct Session {
    pub service: usize,
    pub start: f64,
    pub minutes: f64,
    pub rpm: f64,
    pub clients: u32,
}

/// Something a developer did at a given time.
#[derive(Clone, Debug)]
pub enum Action {
    /// A deployment of the service's configured image (a push or a redeploy).
    Deploy(usize, OperationType),
    PauseService(usize),
    StopCluster(usize),
}

/// Runs the world from its `processed_to` to `to` with this traffic and these actions.
pub fn run(world: &mut World, to: f64, sessions: &[Session], actions: &[(f64, Action)]) {
    let mut actions: Vec<&(f64, Action)> = actions.iter().collect();
    actions.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut next_action = 0;
    let mut t = (world.processed_to / 60.0).floor() * 60.0;
    while t < to {
        let end = (t + 60.0).min(to);
        while let Some((at, action)) = actions.get(next_action).copied() {
            if *at >= end {
                break;
            }
            world.catch_up(at.max(world.processed_to));
            act(world, action, *at);
            next_action += 1;
        }
        world.catch_up(t.max(world.processed_to));
        for s in sessions {
            if t >= s.start && t < s.start + s.minutes * 60.0 && end - t >= 60.0 {
                drive_minute(world, s, t);
            }
        }
        world.catch_up(end);
        t = end;
    }
}

fn act(world: &mut World, action: &Action, t: f64) {
    match *action {
        Action::Deploy(i, kind) => {
            let image = world.services[i].image_identifier.clone();
            world.deploy(i, kind, image, t);
        }
        Action::PauseService(i) => {
            let took = world.pause_duration();
            world.start_operation(i, OperationType::PauseService, Work::Pause, took, t);
        }
        Action::StopCluster(c) => {
            let until = t + world.durations.cluster_stop;
            world.clusters[c].status =
                crate::emulator::world::cluster::ClusterStatus::Stopping { until };
        }
    }
}

/// One minute of one session: how many requests the app could serve, with what
/// statuses and latencies, fed to the world one by one.
fn drive_minute(world: &mut World, session: &Session, t: f64) {
    let i = session.service;
    if !world.services[i].serving() {
        return;
    }
    let (app, vcpus) = (world.services[i].app, world.services[i].vcpus);
    let cluster = world.services[i]
        .cluster
        .clone()
        .and_then(|c| world.cluster_index(&c));
    let clients = session.clients.max(1);
    let offered = session.rpm / 60.0 * world.rng.random_range(0.7..1.3);

    // Concurrency arrives first: the front scales instances by the world's rule.
    for _ in 0..clients {
        world.request_started(i, t);
    }
    let instances = world.services[i].active_instances.max(1);
    let per_instance = clients.div_ceil(instances);
    let threads = model::threads(app.server, per_instance) * instances;

    // Every thread opens its connection (waiting out a resume, as a request would).
    let mut held = 0;
    let mut cold_start_ms = 0.0;
    if let Some(c) = cluster {
        let mut k = 0;
        while k < threads {
            match world.connect(c, t) {
                Connect::Connected => held += 1,
                Connect::WaitUntil(until) if until < t + 60.0 => {
                    world.catch_up(until);
                    cold_start_ms = (until - t) * 1000.0;
                    continue;
                }
                _ => {}
            }
            k += 1;
        }
    } else {
        held = threads;
    }
    let failing = threads - held;
    let steady = model::steady(
        &app,
        vcpus,
        held.div_ceil(instances),
        failing / instances,
        offered / instances as f64,
    );
    let requests = (steady.rps * instances as f64 * 60.0).round() as u64;
    let errors = (steady.errors_per_second * instances as f64 * 60.0).round() as u64;
    // Little's law: the requests in flight, never more than the clients.
    let in_flight = ((steady.rps * instances as f64 * steady.latency_ms / 1000.0).ceil() as u32)
        .clamp(1, clients);
    for _ in in_flight..clients {
        world.request_finished(i, t, 0, 0.0);
    }
    let mut open = in_flight as u64;
    for j in 0..requests {
        let status = if j < errors { 500 } else { 200 };
        let mut latency = steady.latency_ms * world.rng.random_range(0.6..1.6);
        if j == 0 {
            latency += cold_start_ms;
        }
        world.request_finished(i, t + 30.0, status, latency);
        open -= 1;
        if open < in_flight as u64 && open < requests - j - 1 {
            world.request_started(i, t + 30.0);
            open += 1;
        }
    }
    for _ in 0..open {
        world.request_finished(i, t + 59.0, 0, 0.0);
    }
    world.services[i].minute.cpu_busy_ms += steady.busy_ms_per_second * instances as f64 * 60.0;
    if let Some(c) = cluster {
        for _ in 0..held {
            world.disconnect(c, t + 59.0);
        }
    }
}
