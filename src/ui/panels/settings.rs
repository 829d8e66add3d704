//! The settings window: profile, regions, refresh interval, which desktop notifications
//! are on, and switching account or region (or to the demo region) without restarting.

use crate::ui::intent::Intent;
use crate::ui::settings::Settings;
use egui::Ui;

pub fn show(ctx: &egui::Context, open: bool, settings: &mut Settings) -> Option<Intent> {
    if !open {
        return None;
    }
    let mut intent = None;
    let mut still_open = true;
    egui::Window::new("Settings")
        .collapsible(false)
        .open(&mut still_open)
        .show(ctx, |ui: &mut Ui| {
            let label = ui.label("AWS profiles, comma-separated (empty: the default chain)");
            ui.text_edit_singleline(&mut settings.profile)
                .labelled_by(label.id);
            let label = ui.label("Regions, comma-separated (empty: the profile's)");
            ui.text_edit_singleline(&mut settings.regions)
                .labelled_by(label.id);
            ui.add(
                egui::Slider::new(&mut settings.refresh_seconds, 10.0..=300.0)
                    .text("refresh every (s)"),
            );
            ui.label("Desktop notifications");
            ui.horizontal_wrapped(|ui| {
                let n = &mut settings.notify;
                ui.checkbox(&mut n.wake, "wake finished");
                ui.checkbox(&mut n.deploy, "deploy ended");
                ui.checkbox(&mut n.keep_awake, "keep-awake ends in 10 min");
                ui.checkbox(&mut n.schedule, "schedule failed");
            });
            ui.horizontal(|ui| {
                if ui
                    .button("Switch to this account")
                    .on_hover_text("Reconnect now with this profile and these regions")
                    .clicked()
                {
                    intent = Some(Intent::Reconnect { demo: false });
                }
                if ui
                    .button("Demo region")
                    .on_hover_text("Switch to the embedded demo region")
                    .clicked()
                {
                    intent = Some(Intent::Invoke(crate::actions::Verb::OpenDemo));
                }
            });
        });
    if !still_open {
        intent = intent.or(Some(Intent::CloseSettings));
    }
    intent
}
