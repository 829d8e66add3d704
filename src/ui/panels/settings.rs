//! The settings window: the profile picker, regions, refresh interval, which desktop
//! notifications are on, and switching account or region (or to the demo region) without
//! restarting.

use crate::ui::accounts::ProfilesView;
use crate::ui::intent::Intent;
use crate::ui::settings::Settings;
use egui::Ui;

pub fn show(
    ctx: &egui::Context,
    open: bool,
    settings: &mut Settings,
    profiles: &ProfilesView,
) -> Option<Intent> {
    if !open {
        return None;
    }
    let mut intent = None;
    let mut still_open = true;
    egui::Window::new("Settings")
        .collapsible(false)
        .open(&mut still_open)
        .show(ctx, |ui: &mut Ui| {
            let mut chosen = settings.profiles();
            intent = super::profiles::picker(ui, profiles, &mut chosen);
            if chosen != settings.profiles() {
                settings.profile = chosen.join(", ");
            }
            ui.separator();
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
                    .button("Apply and reconnect")
                    .on_hover_text("Reconnect now with the checked profiles and these regions")
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
