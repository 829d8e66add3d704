//! Once a minute every resource's accumulators become CloudWatch data points.

use super::World;
use super::cluster::ClusterStatus;
use super::metrics::{APPRUNNER, Datum, MetricKey, MetricStore, RDS};
use super::service::ServiceStatus;

impl World {
    /// Writes the minute starting at `minute` for every resource and resets accumulators.
    pub(super) fn flush_minute(&mut self, minute: i64) {
        for i in 0..self.services.len() {
            let s = &mut self.services[i];
            let m = std::mem::take(&mut s.minute);
            s.minute.peak_active = s.active_instances;
            s.minute.peak_concurrency = s.concurrency;
            if s.status == ServiceStatus::Paused && m.requests == 0 {
                continue;
            }
            let dims = [
                ("ServiceID", s.id.as_str()),
                ("ServiceName", s.name.as_str()),
            ];
            let put = |store: &mut MetricStore, name: &str, d: Datum| {
                store.put(MetricKey::new(APPRUNNER, name, &dims), minute, d)
            };
            let active = m.peak_active.max(s.active_instances) as f64;
            let concurrency = m.peak_concurrency.max(s.concurrency) as f64;
            if let Some(x) = &s.express {
                // Averaged over the running tasks, busy or not.
                let tasks = x.running as f64;
                let cpu = if tasks > 0.0 {
                    (m.cpu_busy_ms / (60_000.0 * s.vcpus.max(0.25) * tasks) * 100.0)
                        .clamp(1.0, 100.0)
                } else {
                    0.0
                };
                self.express_minute(i, minute, &m, cpu);
                continue;
            }
            put(&mut self.metrics, "ActiveInstances", Datum::single(active));
            put(&mut self.metrics, "Concurrency", Datum::single(concurrency));
            // Busy core-time over what the active instances' vCPUs could give.
            let cpu = if active > 0.0 {
                (m.cpu_busy_ms / (60_000.0 * s.vcpus.max(0.25) * active) * 100.0).clamp(1.0, 100.0)
            } else {
                0.5
            };
            put(&mut self.metrics, "CPUUtilization", Datum::single(cpu));
            let memory = if s.status == ServiceStatus::Paused {
                0.0
            } else {
                22.0 + cpu / 5.0
            };
            put(
                &mut self.metrics,
                "MemoryUtilization",
                Datum::single(memory),
            );
            if m.requests > 0 {
                put(
                    &mut self.metrics,
                    "Requests",
                    Datum::single(m.requests as f64),
                );
                put(
                    &mut self.metrics,
                    "2xxStatusResponses",
                    Datum::single(m.status_2xx as f64),
                );
                put(
                    &mut self.metrics,
                    "4xxStatusResponses",
                    Datum::single(m.status_4xx as f64),
                );
                put(
                    &mut self.metrics,
                    "5xxStatusResponses",
                    Datum::single(m.status_5xx as f64),
                );
                put(&mut self.metrics, "RequestLatency", m.latency_ms);
            }
        }
        for i in 0..self.clusters.len() {
            let peak = self.clusters[i].minute.peak_connections;
            self.v1_scaling_point(
                i,
                minute as f64 + 60.0,
                peak.max(self.clusters[i].connections),
            );
            let c = &mut self.clusters[i];
            let m = std::mem::take(&mut c.minute);
            c.minute.peak_connections = c.connections;
            if c.status != ClusterStatus::Available {
                continue;
            }
            let capacity = c.reported_capacity();
            let peak_capacity = m.peak_capacity.max(capacity);
            let cluster_dims = [("DBClusterIdentifier", c.id.as_str())];
            let instance_dims = [("DBInstanceIdentifier", c.writer_id.as_str())];
            let mut put = |name: &str, v: f64| {
                self.metrics.put(
                    MetricKey::new(RDS, name, &cluster_dims),
                    minute,
                    Datum::single(v),
                );
                self.metrics.put(
                    MetricKey::new(RDS, name, &instance_dims),
                    minute,
                    Datum::single(v),
                );
            };
            if c.is_serverless() {
                put("ServerlessDatabaseCapacity", peak_capacity);
                let max = c.max_capacity().max(0.5);
                put("ACUUtilization", (peak_capacity / max * 100.0).min(100.0));
            }
            let paused = c.paused();
            if paused && c.is_v1() {
                // A paused v1 cluster sends no CPU data at all.
                continue;
            }
            let connections = m.peak_connections.max(c.connections) as f64;
            put(
                "CPUUtilization",
                if paused {
                    0.0
                } else {
                    (3.0 + connections * 0.4).min(100.0)
                },
            );
            if !paused {
                put("DatabaseConnections", connections);
            }
        }
        // CloudWatch keeps 1-minute points for 15 days.
        self.metrics.expire(minute - 15 * 86400);
        let horizon = minute as f64 - 14.0 * 86400.0;
        self.events.retain(|e| e.date >= horizon);
    }
}
