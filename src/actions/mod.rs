//! The action table: every verb scale0 knows, once. Each entry owns its label, tooltip,
//! keyboard shortcut, confirmation, timeout, precondition and how it runs. The desktop
//! app's buttons, menus, command palette and help overlay, and the CLI's subcommands, are
//! all drawn from it, so a verb behaves the same wherever it is started.
//!
//! Adding a verb: one `Verb` variant and one `Spec` in `TABLE` (the tests check that every
//! verb has an entry), its precondition in preconditions.rs, and, if it acts on AWS, its
//! arm in run.rs.

pub mod palette;
mod preconditions;
mod run;

pub use preconditions::{Context, Refusal, action_precondition, precondition};
pub use run::run;

use crate::backend::ImageRef;
use crate::model::Environment;
use serde::Serialize;

/// Every verb.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verb {
    Refresh,
    WakeEnv,
    SleepEnv,
    WakeDb,
    StopDb,
    StartDb,
    PauseService,
    ResumeService,
    DeployImage,
    Rollback,
    Burst,
    OpenConsole,
    OpenUrl,
    CopyUrl,
    Settings,
    OpenDemo,
    Palette,
    Help,
    History,
    KeepAwake,
    CancelKeepAwake,
    Why,
}

impl Verb {
    /// Whether it changes something in AWS or sends load (refused on read-only accounts).
    /// Exhaustive on purpose: a new verb must say which it is.
    pub fn mutates(self) -> bool {
        match self {
            Verb::WakeEnv
            | Verb::SleepEnv
            | Verb::WakeDb
            | Verb::StopDb
            | Verb::StartDb
            | Verb::PauseService
            | Verb::ResumeService
            | Verb::DeployImage
            | Verb::Rollback
            | Verb::Burst
            | Verb::KeepAwake
            | Verb::CancelKeepAwake => true,
            Verb::Why => false,
            Verb::Refresh
            | Verb::OpenConsole
            | Verb::OpenUrl
            | Verb::CopyUrl
            | Verb::Settings
            | Verb::OpenDemo
            | Verb::Palette
            | Verb::Help
            | Verb::History => false,
        }
    }
}

/// Where a verb applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The whole app (refresh, settings, help).
    App,
    /// The selected environment.
    Environment,
}

/// A keyboard shortcut, independent of the UI toolkit: `key` is an egui key name
/// ("W", "F5", "Comma", "Questionmark"), `command` is Ctrl (Cmd on macOS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shortcut {
    pub command: bool,
    pub shift: bool,
    pub key: &'static str,
}

const fn key(key: &'static str) -> Option<Shortcut> {
    Some(Shortcut {
        command: false,
        shift: false,
        key,
    })
}

const fn shift(key: &'static str) -> Option<Shortcut> {
    Some(Shortcut {
        command: false,
        shift: true,
        key,
    })
}

const fn command(key: &'static str) -> Option<Shortcut> {
    Some(Shortcut {
        command: true,
        shift: false,
        key,
    })
}

/// One verb's entry.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub verb: Verb,
    pub label: &'static str,
    pub tooltip: &'static str,
    pub shortcut: Option<Shortcut>,
    pub scope: Scope,
    /// Asks before running; the dialog names account, region and environment.
    pub confirm: bool,
    /// How long the whole action may take, in seconds (the UI and the CLI alike; the CLI's
    /// `--timeout` may override it). None: it returns at once.
    pub timeout: Option<f64>,
    /// The CLI subcommand that runs it, if any.
    pub cli: Option<&'static str>,
}

/// Ten minutes: a paused database resumes in 15-30 s, a paused service in 1-2 min, a
/// stopped cluster in several minutes.
const WAKE_TIMEOUT: f64 = 600.0;
/// Twenty minutes: App Runner deployments usually take 3-6 minutes, sometimes far more.
const DEPLOY_TIMEOUT: f64 = 1200.0;
/// One AWS call (bounded again by the SDK's own operation timeout).
const CALL_TIMEOUT: f64 = 60.0;

pub const TABLE: &[Spec] = &[
    Spec {
        verb: Verb::Refresh,
        label: "Refresh",
        tooltip: "Read every environment's state again now",
        shortcut: key("F5"),
        scope: Scope::App,
        confirm: false,
        timeout: Some(CALL_TIMEOUT),
        cli: Some("envs"),
    },
    Spec {
        verb: Verb::WakeEnv,
        label: "Wake environment",
        tooltip: "Resume the service, wake or start the database, and wait until the app answers",
        shortcut: key("W"),
        scope: Scope::Environment,
        confirm: false,
        timeout: Some(WAKE_TIMEOUT),
        cli: Some("wake"),
    },
    Spec {
        verb: Verb::SleepEnv,
        label: "Sleep environment",
        tooltip: "Pause the service so nothing holds the database, which then auto-pauses",
        shortcut: key("S"),
        scope: Scope::Environment,
        confirm: true,
        timeout: Some(CALL_TIMEOUT),
        cli: Some("sleep"),
    },
    Spec {
        verb: Verb::WakeDb,
        label: "Wake database",
        tooltip: "Wake only the database (Data API SELECT 1, or v1 capacity, or start it)",
        shortcut: shift("W"),
        scope: Scope::Environment,
        confirm: false,
        timeout: Some(WAKE_TIMEOUT),
        cli: Some("wake-db"),
    },
    Spec {
        verb: Verb::StopDb,
        label: "Stop database",
        tooltip: "Stop only the database cluster (AWS starts it again after 7 days)",
        shortcut: shift("S"),
        scope: Scope::Environment,
        confirm: true,
        timeout: Some(CALL_TIMEOUT),
        cli: Some("stop-db"),
    },
    Spec {
        verb: Verb::StartDb,
        label: "Start database",
        tooltip: "Start a stopped database cluster (takes several minutes)",
        shortcut: shift("T"),
        scope: Scope::Environment,
        confirm: false,
        timeout: Some(CALL_TIMEOUT),
        cli: Some("start-db"),
    },
    Spec {
        verb: Verb::PauseService,
        label: "Pause service",
        tooltip: "Pause the service: no instances, no compute cost, the URL stops answering",
        shortcut: key("P"),
        scope: Scope::Environment,
        confirm: true,
        timeout: Some(CALL_TIMEOUT),
        cli: Some("pause"),
    },
    Spec {
        verb: Verb::ResumeService,
        label: "Resume service",
        tooltip: "Resume the service with the image it last ran (not a newer push)",
        shortcut: key("R"),
        scope: Scope::Environment,
        confirm: false,
        timeout: Some(CALL_TIMEOUT),
        cli: Some("resume"),
    },
    Spec {
        verb: Verb::DeployImage,
        label: "Deploy image",
        tooltip: "Deploy the chosen tag or digest of the environment's repository",
        shortcut: key("D"),
        scope: Scope::Environment,
        confirm: true,
        timeout: Some(DEPLOY_TIMEOUT),
        cli: Some("deploy"),
    },
    Spec {
        verb: Verb::Rollback,
        label: "Roll back",
        tooltip: "Deploy the image that ran before scale0's last deploy",
        shortcut: shift("R"),
        scope: Scope::Environment,
        confirm: true,
        timeout: Some(DEPLOY_TIMEOUT),
        cli: Some("rollback"),
    },
    Spec {
        verb: Verb::KeepAwake,
        label: "Keep awake 2 h",
        tooltip: "Hold the database and service awake for 2 hours; AWS puts them back to sleep by itself (scale0 keep-awake ENV --until 17:30 | --for 2h)",
        shortcut: key("A"),
        scope: Scope::Environment,
        confirm: false,
        timeout: Some(CALL_TIMEOUT),
        cli: Some("keep-awake"),
    },
    Spec {
        verb: Verb::CancelKeepAwake,
        label: "End keep-awake",
        tooltip: "Let the environment sleep again now: restore auto-pause, pause a service that was paused, delete the schedules",
        shortcut: shift("A"),
        scope: Scope::Environment,
        confirm: false,
        timeout: Some(CALL_TIMEOUT),
        cli: Some("keep-awake"),
    },
    Spec {
        verb: Verb::Why,
        label: "Why isn't it sleeping?",
        tooltip: "What keeps the database awake and the service running, read without waking anything",
        shortcut: key("Y"),
        scope: Scope::Environment,
        confirm: false,
        timeout: Some(CALL_TIMEOUT),
        cli: Some("why"),
    },
    Spec {
        verb: Verb::Burst,
        label: "Run load burst",
        tooltip: "Send a bounded HTTP burst to the environment's URL, drawn on its graphs",
        shortcut: key("B"),
        scope: Scope::Environment,
        confirm: false,
        timeout: None,
        cli: Some("burst"),
    },
    Spec {
        verb: Verb::OpenConsole,
        label: "Open in AWS console",
        tooltip: "Open the service's page in the AWS console in your browser",
        shortcut: key("O"),
        scope: Scope::Environment,
        confirm: false,
        timeout: None,
        cli: None,
    },
    Spec {
        verb: Verb::OpenUrl,
        label: "Open service URL",
        tooltip: "Open the app in your browser",
        shortcut: key("U"),
        scope: Scope::Environment,
        confirm: false,
        timeout: None,
        cli: None,
    },
    Spec {
        verb: Verb::CopyUrl,
        label: "Copy service URL",
        tooltip: "Copy the app's URL to the clipboard",
        shortcut: key("C"),
        scope: Scope::Environment,
        confirm: false,
        timeout: None,
        cli: None,
    },
    Spec {
        verb: Verb::Settings,
        label: "Settings",
        tooltip: "AWS profile, regions, refresh interval",
        shortcut: command("Comma"),
        scope: Scope::App,
        confirm: false,
        timeout: None,
        cli: Some("config"),
    },
    Spec {
        verb: Verb::OpenDemo,
        label: "Switch to the demo region",
        tooltip: "The embedded local AWS region: nothing there touches a real account",
        shortcut: None,
        scope: Scope::App,
        confirm: false,
        timeout: None,
        cli: None,
    },
    Spec {
        verb: Verb::Palette,
        label: "Command palette",
        tooltip: "Search every action that applies to the selection",
        shortcut: command("K"),
        scope: Scope::App,
        confirm: false,
        timeout: None,
        cli: None,
    },
    Spec {
        verb: Verb::Help,
        label: "Keyboard shortcuts",
        tooltip: "Every action and its shortcut",
        shortcut: key("Questionmark"),
        scope: Scope::App,
        confirm: false,
        timeout: None,
        cli: None,
    },
    Spec {
        verb: Verb::History,
        label: "Notification history",
        tooltip: "Every action's outcome this session",
        shortcut: key("H"),
        scope: Scope::App,
        confirm: false,
        timeout: None,
        cli: None,
    },
];

impl Verb {
    /// This verb's entry in the table.
    pub fn spec(self) -> &'static Spec {
        TABLE
            .iter()
            .find(|s| s.verb == self)
            // Invariant: the table has one entry per verb (checked by a unit test).
            .unwrap_or(&TABLE[0])
    }

    pub fn label(self) -> &'static str {
        self.spec().label
    }

    pub fn timeout(self) -> Option<f64> {
        self.spec().timeout
    }
}

/// A verb with what it runs on: what the worker and the CLI execute.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Wake everything; with `wait`, until the app answers 2xx.
    WakeEnv {
        wait: bool,
    },
    SleepEnv,
    WakeDb,
    StopDb,
    StartDb,
    PauseService,
    /// `tasks`: how many to run (ECS Express whose size from before the pause is lost).
    ResumeService {
        tasks: Option<u32>,
    },
    /// `resume`: resume a paused service first (otherwise a paused service refuses).
    DeployImage {
        image: ImageRef,
        resume: bool,
        wait: bool,
    },
    Rollback {
        wait: bool,
    },
    /// Until this time (the server's clock), recorded as set by `by`.
    KeepAwake {
        until: crate::model::Time,
        by: String,
    },
    CancelKeepAwake,
}

impl Action {
    pub fn verb(&self) -> Verb {
        match self {
            Action::WakeEnv { .. } => Verb::WakeEnv,
            Action::SleepEnv => Verb::SleepEnv,
            Action::WakeDb => Verb::WakeDb,
            Action::StopDb => Verb::StopDb,
            Action::StartDb => Verb::StartDb,
            Action::PauseService => Verb::PauseService,
            Action::ResumeService { .. } => Verb::ResumeService,
            Action::DeployImage { .. } => Verb::DeployImage,
            Action::Rollback { .. } => Verb::Rollback,
            Action::KeepAwake { .. } => Verb::KeepAwake,
            Action::CancelKeepAwake => Verb::CancelKeepAwake,
        }
    }

    /// The label, with what it deploys.
    pub fn label(&self) -> String {
        match self {
            Action::DeployImage {
                image: ImageRef::Tag(t),
                ..
            } => format!("Deploy :{t}"),
            Action::DeployImage {
                image: ImageRef::Digest(d),
                ..
            } => format!("Deploy {}", crate::model::short_digest(d)),
            other => other.verb().label().to_string(),
        }
    }

    /// The environment action for a verb that needs no further input (the desktop app's
    /// buttons, shortcuts and palette), or None for verbs that need more (a chosen image)
    /// or that the UI handles itself.
    pub fn from_verb(verb: Verb) -> Option<Action> {
        Some(match verb {
            Verb::WakeEnv => Action::WakeEnv { wait: true },
            Verb::SleepEnv => Action::SleepEnv,
            Verb::WakeDb => Action::WakeDb,
            Verb::StopDb => Action::StopDb,
            Verb::StartDb => Action::StartDb,
            Verb::PauseService => Action::PauseService,
            Verb::ResumeService => Action::ResumeService { tasks: None },
            Verb::Rollback => Action::Rollback { wait: true },
            Verb::CancelKeepAwake => Action::CancelKeepAwake,
            _ => return None,
        })
    }
}

/// The question the confirmation dialog asks: what will happen, to which environment, in
/// which account and region.
pub fn confirmation(action: &Action, env: &Environment) -> String {
    let id = env.account().unwrap_or("unknown account");
    // The label (alias) with several accounts, and the id it stands for.
    let account = match env.key.account.as_str() {
        "" => id.to_string(),
        label if label == id => id.to_string(),
        label => format!("{label} {id}"),
    };
    let place = format!(
        "environment {} (account {account}, {})",
        env.key.name, env.key.region
    );
    let service = env
        .service
        .as_ref()
        .map(|s| s.name.as_str())
        .unwrap_or("the service");
    let database = env
        .database
        .as_ref()
        .map(|d| d.id.as_str())
        .unwrap_or("the database");
    match action {
        Action::SleepEnv => format!(
            "Sleep {place}? {service} is paused (its URL stops answering) and {database} auto-pauses once idle."
        ),
        Action::StopDb => format!(
            "Stop database {database} of {place}? The app gets errors until it is started again; AWS starts it after 7 days."
        ),
        Action::PauseService => {
            format!("Pause {service} of {place}? Its URL stops answering until it is resumed.")
        }
        Action::DeployImage { image, .. } => format!(
            "Deploy {} to {service} of {place}? The running app is replaced once the new one is healthy.",
            match image {
                ImageRef::Tag(t) => format!(":{t}"),
                ImageRef::Digest(d) => crate::model::short_digest(d),
            }
        ),
        Action::Rollback { .. } => format!(
            "Roll back {service} of {place} to the image it ran before scale0's last deploy?"
        ),
        other => format!("{} {place}?", other.label()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY_VERB: [Verb; 22] = [
        Verb::Refresh,
        Verb::WakeEnv,
        Verb::SleepEnv,
        Verb::WakeDb,
        Verb::StopDb,
        Verb::StartDb,
        Verb::PauseService,
        Verb::ResumeService,
        Verb::DeployImage,
        Verb::Rollback,
        Verb::Burst,
        Verb::OpenConsole,
        Verb::OpenUrl,
        Verb::CopyUrl,
        Verb::Settings,
        Verb::OpenDemo,
        Verb::Palette,
        Verb::Help,
        Verb::History,
        Verb::KeepAwake,
        Verb::CancelKeepAwake,
        Verb::Why,
    ];

    #[test]
    fn every_verb_has_exactly_one_complete_entry() {
        assert_eq!(TABLE.len(), EVERY_VERB.len());
        for verb in EVERY_VERB {
            let entries: Vec<&Spec> = TABLE.iter().filter(|s| s.verb == verb).collect();
            assert_eq!(entries.len(), 1, "{verb:?}");
            let spec = entries[0];
            assert!(
                !spec.label.is_empty() && !spec.tooltip.is_empty(),
                "{verb:?}"
            );
            // Verbs that act on AWS have a timeout.
            if Action::from_verb(verb).is_some() || verb == Verb::DeployImage {
                assert!(spec.timeout.is_some_and(|t| t > 0.0), "{verb:?}");
            }
        }
    }

    #[test]
    fn shortcuts_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for spec in TABLE {
            if let Some(s) = spec.shortcut {
                assert!(seen.insert((s.command, s.shift, s.key)), "{:?}", spec.verb);
            }
        }
    }
}
