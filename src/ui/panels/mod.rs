//! The panels. Each draws one plain view model (src/ui/view.rs) and returns what the person
//! asked for as intents; none holds state of its own beyond egui's widget memory.

pub mod actions;
pub mod burst;
pub mod confirm;
pub mod graphs;
pub mod header;
pub mod help;
pub mod list;
pub mod logs;
pub mod notifications;
pub mod palette;
pub mod problems;
pub mod profiles;
pub mod settings;
pub mod sleep;
pub mod timeline;

use super::theme;
use super::view::{Badge, Tone};
use egui::{Color32, RichText, Ui};

pub fn tone_color(tone: Tone) -> Color32 {
    match tone {
        Tone::Ok => theme::OK,
        Tone::Warn => theme::WARN,
        Tone::Error => theme::ERROR,
        Tone::Info => theme::INFO,
        Tone::Muted => theme::MUTED,
    }
}

/// A state badge: the word on its colour, with what it means on hover.
pub fn badge(ui: &mut Ui, b: &Badge) -> egui::Response {
    let fill = tone_color(b.tone);
    egui::Frame::new()
        .fill(fill)
        .corner_radius(3.0)
        .inner_margin(egui::Margin::symmetric(4, 0))
        .show(ui, |ui| {
            ui.label(
                RichText::new(&b.text)
                    .color(Color32::BLACK)
                    .small()
                    .strong(),
            )
        })
        .inner
        .on_hover_text(&b.hover)
}

/// "Shift+W", "Ctrl+K": a shortcut as this platform writes it.
pub fn shortcut_text(ctx: &egui::Context, s: &crate::actions::Shortcut) -> String {
    match keyboard_shortcut(s) {
        Some(k) => ctx.format_shortcut(&k),
        None => s.key.to_string(),
    }
}

/// The egui shortcut for a table shortcut.
pub fn keyboard_shortcut(s: &crate::actions::Shortcut) -> Option<egui::KeyboardShortcut> {
    let key = egui::Key::from_name(s.key)?;
    let mut modifiers = egui::Modifiers::NONE;
    if s.command {
        modifiers |= egui::Modifiers::COMMAND;
    }
    if s.shift {
        modifiers |= egui::Modifiers::SHIFT;
    }
    Some(egui::KeyboardShortcut::new(modifiers, key))
}

/// "HH:MM" in UTC for a time axis or a log line.
pub fn clock_label(t: f64) -> String {
    let day = t.rem_euclid(86400.0);
    format!(
        "{:02}:{:02}",
        (day / 3600.0) as u32,
        (day % 3600.0 / 60.0) as u32
    )
}
