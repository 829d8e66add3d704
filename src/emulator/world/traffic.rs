//! Work arriving from apps: database connections, Data API touches and requests, which
//! move concurrency, instances, connections and capacity.

use super::cluster::{ClusterStatus, DbMode, Power};
use super::{Connect, World};

impl World {
    /// An app (or psql) opening a connection to the cluster's writer.
    pub fn connect(&mut self, i: usize, t: f64) -> Connect {
        match self.clusters[i].status {
            ClusterStatus::Available => {}
            // While stopped, connection attempts do not resume anything.
            _ => return Connect::Refused("could not connect to server: Connection refused"),
        }
        match self.clusters[i].power {
            Power::Paused { .. } | Power::Resuming { .. } => {
                return Connect::WaitUntil(self.begin_resume(i, t));
            }
            Power::Pausing { .. } => self.cancel_pause(i, t),
            Power::Awake => {}
        }
        let c = &mut self.clusters[i];
        if c.connections >= c.usable_connections() {
            self.log_db(
                i,
                t,
                "FATAL:  remaining connection slots are reserved for non-replication superuser connections",
                true,
            );
            return Connect::TooManyConnections;
        }
        c.connections += 1;
        c.idle_since = None;
        c.minute.peak_connections = c.minute.peak_connections.max(c.connections);
        self.rescale_cluster(i);
        Connect::Connected
    }

    pub fn disconnect(&mut self, i: usize, t: f64) {
        let c = &mut self.clusters[i];
        c.connections = c.connections.saturating_sub(1);
        if c.connections == 0 {
            c.idle_since = Some(t);
        }
    }

    /// Work that touches the writer without holding a connection (a Data API call):
    /// it resets the idle timer.
    pub fn touch(&mut self, i: usize, t: f64) {
        self.cancel_pause(i, t);
        let c = &mut self.clusters[i];
        if c.connections == 0 {
            c.idle_since = Some(t);
        }
    }

    /// v2 follows its load continuously; v1 waits for a scaling point (see below).
    pub(super) fn rescale_cluster(&mut self, i: usize) {
        let c = &mut self.clusters[i];
        if c.power == Power::Awake && c.is_serverless() && !c.is_v1() {
            c.capacity = c.capacity.max(c.target_capacity());
        }
        c.minute.peak_capacity = c.minute.peak_capacity.max(c.capacity);
    }

    /// v1 scales one step at a scaling point, found about once a minute (reference
    /// section 1.6: "scaling in about a minute"), when connections press on the limit.
    pub(super) fn v1_scaling_point(&mut self, i: usize, t: f64, peak_connections: u32) {
        let c = &self.clusters[i];
        let DbMode::ServerlessV1 { max, .. } = c.mode else {
            return;
        };
        let from = c.capacity;
        // Connections are one of v1's two triggers (CPU the other, not emulated here).
        let pressed = peak_connections as f64 >= 0.9 * c.max_connections() as f64;
        if c.power != Power::Awake || !pressed || from >= max as f64 {
            return;
        }
        let to = (from * 2.0).min(max as f64);
        self.clusters[i].capacity = to;
        let (a, b) = (from as u32, to as u32);
        self.add_event(i, false, format!("Scaling DB cluster from {a} capacity units to {b} capacity units for this reason: Autoscaling."), vec!["notification"], t);
        self.add_event(
            i,
            false,
            format!("The DB cluster has scaled from {a} capacity units to {b} capacity units."),
            vec!["notification"],
            t,
        );
    }

    // ---- traffic -------------------------------------------------------------------------

    pub fn request_started(&mut self, i: usize, t: f64) {
        let scaling = self.scaling_of(&self.services[i]);
        let s = &mut self.services[i];
        s.concurrency += 1;
        s.last_request_at = t;
        s.rescale(&scaling, t);
    }

    pub fn request_finished(&mut self, i: usize, t: f64, status: u16, latency_ms: f64) {
        self.request_finished_on(i, None, t, status, latency_ms, None);
    }

    /// A request answered by instance `instance` (when known), with the database's
    /// message when a refused connection made it fail.
    pub fn request_finished_on(
        &mut self,
        i: usize,
        instance: Option<usize>,
        t: f64,
        status: u16,
        latency_ms: f64,
        db_error: Option<&str>,
    ) {
        if status != 0 {
            self.log_request(i, instance, t, status, db_error);
        }
        let scaling = self.scaling_of(&self.services[i]);
        let s = &mut self.services[i];
        s.concurrency = s.concurrency.saturating_sub(1);
        s.last_request_at = t;
        s.rescale(&scaling, t);
        if status == 0 {
            // The client went away before an answer: nothing for the metrics.
            return;
        }
        let m = &mut s.minute;
        m.requests += 1;
        match status {
            200..=299 => m.status_2xx += 1,
            400..=499 => m.status_4xx += 1,
            500..=599 => m.status_5xx += 1,
            _ => {}
        }
        m.latency_ms.add(latency_ms);
    }
}
