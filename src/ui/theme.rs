//! Colours that mean something, used the same way in every panel: errors and 5xx red,
//! success and 2xx green, plain counts neutral, p50 and p99 told apart by hue and dash (not
//! by red against green), warnings amber. State badges pair a colour with a word.

use egui::Color32;

pub const ERROR: Color32 = Color32::from_rgb(235, 87, 87);
pub const OK: Color32 = Color32::from_rgb(82, 196, 120);
pub const WARN: Color32 = Color32::from_rgb(242, 178, 60);
pub const NEUTRAL: Color32 = Color32::from_rgb(175, 180, 195);
pub const INFO: Color32 = Color32::from_rgb(96, 165, 250);
/// Latency percentiles: blue (p50) and violet, dashed (p99).
pub const P50: Color32 = Color32::from_rgb(96, 165, 250);
pub const P99: Color32 = Color32::from_rgb(192, 132, 252);
/// The burst's own series on the graphs.
pub const BURST: Color32 = Color32::from_rgb(250, 204, 21);
pub const MUTED: Color32 = Color32::from_gray(140);
pub const EVENT_LINE: Color32 = Color32::from_gray(110);
/// The selected log line's time on the graphs.
pub const LOG_MARKER: Color32 = Color32::from_rgb(45, 212, 191);
/// A planned action (a schedule's next firing) on the graphs.
pub const PLANNED: Color32 = Color32::from_rgb(167, 139, 250);
pub const DEMO_BG: Color32 = Color32::from_rgb(120, 80, 0);

/// Text sizes: body text readable at a glance, headings clearly above it.
pub const BODY: f32 = 14.0;
pub const SMALL: f32 = 12.5;
pub const HEADING: f32 = 20.0;

/// Applies the sizes to a context once at start.
pub fn apply(ctx: &egui::Context) {
    ctx.all_styles_mut(|style| {
        use egui::{FontFamily, FontId, TextStyle};
        style.text_styles = [
            (
                TextStyle::Heading,
                FontId::new(HEADING, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(BODY, FontFamily::Proportional)),
            (
                TextStyle::Button,
                FontId::new(BODY, FontFamily::Proportional),
            ),
            (
                TextStyle::Small,
                FontId::new(SMALL, FontFamily::Proportional),
            ),
            (
                TextStyle::Monospace,
                FontId::new(BODY, FontFamily::Monospace),
            ),
        ]
        .into();
    });
}
