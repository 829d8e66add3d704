//! Settings kept between runs (eframe's storage).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Settings {
    pub profile: String,
    pub regions: String,
    pub refresh_seconds: f64,
    pub window_seconds: f64,
    pub selected: Option<String>,
    pub filter: String,
    /// Which desktop notifications are on.
    pub notify: super::desktop_notify::NotifySettings,
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
            notify: Default::default(),
        }
    }
}

impl Settings {
    /// The active profiles (`profile` holds them comma-separated; empty: the default
    /// chain).
    pub fn profiles(&self) -> Vec<String> {
        split_list(&self.profile)
    }

    pub fn regions(&self) -> Vec<String> {
        split_list(&self.regions)
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect()
}
