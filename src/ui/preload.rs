//! Loading data directly, as if the worker had delivered it: the frame benchmark and the
//! scale tests draw the real app on hand-made data without a backend.

use super::App;
use super::plot::RowSparklines;
use crate::backend::Inventory;
use crate::model::{EnvKey, EnvMetrics};
use std::collections::HashMap;

impl App {
    /// Loads data directly, as if the worker had delivered it (benchmarks): every
    /// environment's last hour becomes its sparklines, and only the selected environment's
    /// series are kept for the graphs, as the app keeps them.
    pub fn load(
        &mut self,
        inventory: Inventory,
        metrics: HashMap<EnvKey, EnvMetrics>,
        connection: &str,
    ) {
        let now = self.worker.now();
        self.connection = Some(connection.to_string());
        self.inventory_at = Some(now);
        self.refresh_due = f64::INFINITY;
        if self.settings.selected.is_none() {
            self.settings.selected = inventory.environments.first().map(|e| e.key.to_string());
        }
        let hour = |s: &crate::model::MetricSeries| crate::model::MetricSeries {
            points: s
                .points
                .iter()
                .copied()
                .filter(|p| p.0 >= now - 3600.0)
                .collect(),
        };
        self.sparklines = metrics
            .iter()
            .map(|(k, m)| {
                let last_hour = EnvMetrics {
                    requests: hour(&m.requests),
                    status_5xx: hour(&m.status_5xx),
                    capacity: hour(&m.capacity),
                    ..EnvMetrics::default()
                };
                (k.clone(), RowSparklines::new(&last_hour))
            })
            .collect();
        let window = self.settings.window_seconds;
        let selected = self.settings.selected.clone();
        self.metrics = metrics
            .into_iter()
            .filter(|(k, _)| Some(k.to_string()) == selected)
            .map(|(k, m)| (k, (now, window, m)))
            .collect();
        self.inventory = Some(inventory);
        self.revision += 1;
    }

    /// Makes the next frame rebuild what frames reuse (list rows, reduced graphs), as if
    /// the data had changed (benchmarks: the cost of a frame that rebuilds it all).
    pub fn forget_frame_caches(&mut self) {
        self.revision += 1;
    }
}
