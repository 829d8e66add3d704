//! The environment list's rows, built once per change: a frame that only moves the mouse
//! hands the same rows to the list panel instead of formatting 200 summaries again.

use super::App;
use super::view::{self, ListRow};
use std::sync::Arc;

/// Rows as built for one state of the app.
pub(super) struct ListCache {
    /// The app's revision and the second they were built in (summaries show ages).
    key: (u64, i64),
    rows: Arc<Vec<ListRow>>,
    hidden: usize,
}

impl App {
    /// The list's view: rebuilt only when the data, the filter, the selection or the
    /// shown second changed.
    pub(super) fn cached_list_view(&mut self) -> view::ListView<'_> {
        let now = self.worker.now();
        let key = (self.revision, now.floor() as i64);
        let stale = self.list_cache.as_ref().is_none_or(|c| c.key != key);
        if stale && let Some(inv) = &self.inventory {
            let busy = |k: &crate::model::EnvKey| self.busy.contains_key(k);
            let built = view::list_view(
                &inv.environments,
                &self.settings.filter,
                self.settings.selected.as_deref(),
                &busy,
                &self.sparklines,
                now,
            );
            self.list_cache = Some(ListCache {
                key,
                rows: built.rows,
                hidden: built.hidden,
            });
            self.list_builds += 1;
        }
        match &self.list_cache {
            Some(c) => view::ListView {
                rows: c.rows.clone(),
                sparklines: Some(&self.sparklines),
                loading: false,
                hidden: c.hidden,
            },
            None => view::ListView::default(),
        }
    }

    /// How many times the list's rows were built (tests: a frame with no change builds
    /// none).
    pub fn list_builds(&self) -> u64 {
        self.list_builds
    }
}
