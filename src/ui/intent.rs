//! What a person asked for in a panel. Panels return intents; the app shell applies them,
//! so panels stay free of app state and every action still goes through the action table.

use crate::actions::Verb;
use crate::model::EnvKey;

#[derive(Clone, Debug, PartialEq)]
pub enum Intent {
    Select(EnvKey),
    /// A verb from a button, a menu, the palette or a shortcut.
    Invoke(Verb),
    ChooseImage(String),
    SetWindow(f64),
    SetBurst {
        concurrency: u32,
        seconds: f64,
        ramp: f64,
    },
    StopBurst,
    /// Reconnect with the settings' profile and regions, or to the demo region.
    Reconnect {
        demo: bool,
    },
    ConfirmYes,
    ConfirmNo,
    ClosePalette,
    CloseHelp,
    CloseSettings,
    /// Keep the selected environment awake until this time (the server's clock).
    KeepAwakeUntil(f64),
}
