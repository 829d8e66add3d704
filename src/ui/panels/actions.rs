//! The action bar: one button per environment verb of the action table (disabled with the
//! reason on hover), the image picker and its Deploy button.

use super::shortcut_text;
use crate::actions::Verb;
use crate::ui::intent::Intent;
use crate::ui::view::ActionsView;
use egui::Ui;

pub fn show(ui: &mut Ui, view: &ActionsView) -> Option<Intent> {
    let mut intent = None;
    ui.horizontal_wrapped(|ui| {
        for b in &view.buttons {
            // A precondition that can't be evaluated says so on the button itself.
            let unknown = b
                .disabled
                .as_deref()
                .is_some_and(|r| r.starts_with("state unknown"));
            let text = if unknown {
                format!("{} (state unknown)", b.label)
            } else {
                b.label.to_string()
            };
            let response = ui.add_enabled(b.disabled.is_none(), egui::Button::new(text));
            let keys = b
                .shortcut
                .map(|s| format!(" ({})", shortcut_text(ui.ctx(), &s)))
                .unwrap_or_default();
            let response = match &b.disabled {
                Some(r) => response.on_disabled_hover_text(format!("Not now: {r}")),
                None => response.on_hover_text(format!("{}{keys}", b.tooltip)),
            };
            if response.clicked() {
                intent = Some(Intent::Invoke(b.verb));
            }
        }
        if let Some(what) = &view.busy {
            ui.spinner();
            ui.label(what);
            // Long actions (wake, deploy: minutes) can be stopped from here.
            if ui
                .button("Cancel")
                .on_hover_text("Stop waiting; what was already asked of AWS may still happen")
                .clicked()
            {
                intent = Some(Intent::CancelAction);
            }
        }
    });
    if let Some(tag) = &view.newer_while_paused {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(
                super::theme::WARN,
                format!(
                    "a newer :{tag} was pushed while paused; Resume runs the image it last ran"
                ),
            );
            if ui
                .button(format!("Resume and deploy newer :{tag}"))
                .on_hover_text("Resume the service, then deploy the image now at the tag")
                .clicked()
            {
                intent = Some(Intent::ResumeAndDeployNewer);
            }
        });
    }
    ui.horizontal(|ui| {
        let current = view
            .chosen
            .clone()
            .unwrap_or_else(|| "choose a tag...".into());
        egui::ComboBox::new("image picker", "image")
            .selected_text(current)
            .width(280.0)
            .show_ui(ui, |ui| {
                if view.images.is_empty() {
                    ui.weak("no images read yet");
                }
                for image in &view.images {
                    let selected = view.chosen.as_deref() == Some(image.reference.as_str());
                    if ui.selectable_label(selected, &image.text).clicked() {
                        intent = Some(Intent::ChooseImage(image.reference.clone()));
                    }
                }
            });
        let response = ui.add_enabled(
            view.deploy_disabled.is_none(),
            egui::Button::new(Verb::DeployImage.label()),
        );
        let response = match &view.deploy_disabled {
            Some(r) => response.on_disabled_hover_text(format!("Not now: {r}")),
            None => {
                response.on_hover_text(format!("{} (asks first)", Verb::DeployImage.spec().tooltip))
            }
        };
        if response.clicked() {
            intent = Some(Intent::Invoke(Verb::DeployImage));
        }
    });
    intent
}
