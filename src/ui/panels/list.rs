//! The environment list: grouped by owner, a state badge, sparklines and a one-line summary
//! per row. Only the rows on screen are laid out (a virtualised list), so 200 environments
//! cost what a screenful does.

use super::{badge, theme};
use crate::ui::intent::Intent;
use crate::ui::plot;
use crate::ui::view::ListView;
use egui::{RichText, Ui};

/// Height of one row: name line plus summary line.
const ROW_HEIGHT: f32 = 42.0;

pub fn show(ui: &mut Ui, view: &ListView, filter: &mut String) -> Option<Intent> {
    ui.horizontal(|ui| {
        let label = ui.label("Filter");
        ui.add(
            egui::TextEdit::singleline(filter)
                .hint_text("name or owner")
                .desired_width(180.0),
        )
        .labelled_by(label.id);
        if view.hidden > 0 {
            ui.weak(format!("{} hidden", view.hidden));
        }
    });
    ui.separator();
    if view.loading {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("reading environments...");
        });
        return None;
    }
    if view.rows.is_empty() {
        ui.weak("no environments");
        return None;
    }
    // Group headings are rows of their own, so every row has one height.
    enum Item {
        Group(usize),
        Env(usize),
    }
    let mut items = Vec::with_capacity(view.rows.len() * 2);
    for (i, row) in view.rows.iter().enumerate() {
        if row.group.is_some() {
            items.push(Item::Group(i));
        }
        items.push(Item::Env(i));
    }
    let mut chosen = None;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show_rows(ui, ROW_HEIGHT, items.len(), |ui, range| {
            for item in &items[range] {
                match *item {
                    Item::Group(i) => {
                        let text = view.rows[i].group.as_deref().unwrap_or_default();
                        ui.allocate_ui(egui::vec2(ui.available_width(), ROW_HEIGHT), |ui| {
                            ui.add_space(ROW_HEIGHT - 20.0);
                            ui.label(RichText::new(text).strong().color(theme::MUTED));
                        });
                    }
                    Item::Env(i) => {
                        let row = &view.rows[i];
                        ui.push_id(&row.key, |ui| {
                            ui.allocate_ui(egui::vec2(ui.available_width(), ROW_HEIGHT), |ui| {
                                ui.set_min_height(ROW_HEIGHT);
                                ui.horizontal(|ui| {
                                    badge(ui, &row.badge);
                                    let name = RichText::new(&row.name).monospace();
                                    if ui.selectable_label(row.selected, name).clicked() {
                                        chosen = Some(Intent::Select(row.key.clone()));
                                    }
                                    if !row.kind.is_empty() {
                                        ui.label(
                                            RichText::new(row.kind).small().color(theme::MUTED),
                                        )
                                        .on_hover_text("compute kind");
                                    }
                                    if let Some(m) =
                                        view.sparklines.and_then(|all| all.get(&row.key))
                                    {
                                        plot::sparkline_ui(ui, &m.requests, theme::NEUTRAL)
                                            .on_hover_text("requests, last hour");
                                        // Red only when there were errors to show.
                                        if m.status_5xx.any_above_zero {
                                            plot::sparkline_ui(ui, &m.status_5xx, theme::ERROR)
                                                .on_hover_text("5xx, last hour");
                                        } else {
                                            ui.add_space(64.0);
                                        }
                                        plot::sparkline_ui(ui, &m.capacity, theme::OK)
                                            .on_hover_text("database ACU, last hour");
                                    }
                                    if row.busy {
                                        ui.spinner();
                                    }
                                });
                                ui.label(RichText::new(&row.summary).small().color(theme::MUTED));
                            });
                        });
                    }
                }
            }
        });
    chosen
}
