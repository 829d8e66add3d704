//! What a person asked for in a panel. Panels return intents; the app shell applies them,
//! so panels stay free of app state and every action still goes through the action table.

use crate::actions::Verb;
use crate::model::EnvKey;
use crate::model::logs::LogSource;

#[derive(Clone, Debug, PartialEq)]
pub enum Intent {
    Select(EnvKey),
    /// A verb from a button, a menu, the palette or a shortcut.
    Invoke(Verb),
    ChooseImage(String),
    SetWindow(f64),
    /// The burst strip's fields changed.
    SetBurst(crate::ui::burst::BurstForm),
    StopBurst,
    /// Reload the saved burst runs.
    ListRuns,
    /// Overlay these two saved runs (indices into the list).
    CompareRuns(Option<usize>, Option<usize>),
    /// Cancel the selected environment's running action.
    CancelAction,
    /// Reconnect with the settings' profile and regions, or to the demo region.
    Reconnect {
        demo: bool,
    },
    /// Log in to IAM Identity Center for this profile (the device flow, in the browser).
    Login(String),
    /// Stop the login under way.
    CancelLogin,
    /// Reconnect with this one profile (the palette).
    SwitchProfile(String),
    ConfirmYes,
    ConfirmNo,
    ClosePalette,
    CloseHelp,
    CloseSettings,
    /// The logs panel: which log, read again with the typed filter, follow on/off, a
    /// line selected (its time marks the graphs).
    LogSource(LogSource),
    LogFilter,
    LogFollow(bool),
    LogSelect(usize),
    /// The logs around a moment (a graph point or an event line clicked).
    LogsAt(f64),
    Copy(String),
    /// Keep the selected environment awake until this time (the server's clock).
    KeepAwakeUntil(f64),
    /// Resume the paused service and deploy the newer image pushed to its tag.
    ResumeAndDeployNewer,
}
