//! The environment's header: name, state badges, the parts' facts, cost, the connection
//! budget and what keeps the database awake, each with how old it is.

use super::{badge, theme};
use crate::model::{DbMode, human_duration};
use crate::ui::view::HeaderView;
use egui::{RichText, Ui};

pub fn show(ui: &mut Ui, view: &HeaderView) {
    let env = view.env;
    ui.horizontal(|ui| {
        ui.heading(&env.key.name);
        badge(ui, &view.badge);
        ui.label(RichText::new(&env.key.region).color(theme::MUTED));
        let account = match (env.key.account.as_str(), env.account()) {
            ("", id) => id.map(|id| format!("account {id}")),
            (label, Some(id)) if label != id => Some(format!("account {label} ({id})")),
            (label, _) => Some(format!("account {label}")),
        };
        if let Some(account) = account {
            ui.label(RichText::new(account).color(theme::MUTED));
        }
        if let Some(why) = &env.read_only {
            // Visible before any button is tried: nothing here can be changed from scale0.
            ui.label(
                RichText::new(" READ-ONLY ")
                    .strong()
                    .color(egui::Color32::BLACK)
                    .background_color(theme::WARN),
            )
            .on_hover_text(why);
        }
        if let Some(age) = view.state_age {
            ui.label(
                RichText::new(format!("state read {}", crate::ui::repaint::age_text(age)))
                    .small()
                    .color(theme::MUTED),
            );
        }
    });
    // Two columns whose values wrap: the graphs below keep the panel's width.
    egui::Grid::new("header facts")
        .num_columns(2)
        .spacing([12.0, 3.0])
        .max_col_width(ui.available_width() - 90.0)
        .show(ui, |ui| {
            if let Some(s) = &env.service {
                ui.label(RichText::new("Service").strong());
                ui.horizontal(|ui| {
                    if let Some(b) = &view.service {
                        badge(ui, b);
                    }
                    ui.label(&s.name);
                    ui.label(RichText::new(s.kind_label).color(theme::MUTED));
                    if let Some(url) = s.http_url() {
                        ui.hyperlink_to(&url, &url);
                    }
                });
                ui.end_row();
                ui.label(RichText::new("Scaling").strong());
                match &s.scaling {
                    // Target tracking on CPU or requests per task, not concurrency.
                    Some(sc) if sc.max_concurrency == 0 => ui.label(format!(
                        "{} running of {}-{} tasks, target tracking; {} vCPU, {} GB",
                        s.active_instances.unwrap_or(0.0),
                        sc.min_size,
                        sc.max_size,
                        s.vcpu,
                        s.memory_gb
                    )),
                    Some(sc) => ui.label(format!(
                        "{} active of {}-{} instances, {} requests each; {} vCPU, {} GB",
                        s.active_instances.unwrap_or(0.0),
                        sc.min_size,
                        sc.max_size,
                        sc.max_concurrency,
                        s.vcpu,
                        s.memory_gb
                    )),
                    None => ui.label(RichText::new("unknown").color(theme::WARN)),
                };
                ui.end_row();
                if let Some(warning) = &s.facts.warning {
                    ui.label(RichText::new("Problem").strong().color(theme::ERROR));
                    ui.label(RichText::new(warning).color(theme::ERROR));
                    ui.end_row();
                }
                if let Some(difference) = s.facts.difference {
                    ui.label(RichText::new("Note").strong());
                    ui.label(RichText::new(difference).color(theme::MUTED));
                    ui.end_row();
                }
            }
            if let Some(db) = &env.database {
                ui.label(RichText::new("Database").strong());
                ui.horizontal(|ui| {
                    if let Some(b) = &view.database {
                        badge(ui, b);
                    }
                    ui.label(format!(
                        "{} ({}, {})",
                        db.id,
                        db.mode.label(),
                        db.engine_version
                    ));
                });
                ui.end_row();
                ui.label(RichText::new("Capacity").strong());
                let range = match &db.mode {
                    DbMode::ServerlessV2 {
                        min_acu, max_acu, ..
                    } => format!("{min_acu}-{max_acu} ACU"),
                    DbMode::ServerlessV1 {
                        min_acu, max_acu, ..
                    } => format!("{min_acu}-{max_acu} ACU"),
                    DbMode::Provisioned { instance_class } => instance_class.clone(),
                };
                let pause = match (db.mode.auto_pause_seconds(), db.auto_pause_at) {
                    (Some(_), Some(t)) => {
                        format!("auto-pauses in {} if idle", human_duration(t - view.now))
                    }
                    (Some(s), None) => format!("auto-pause after {s} s idle"),
                    (None, _) => "no auto-pause".into(),
                };
                ui.label(format!("{range}, {pause}; {}", db.max_connections_label()));
                ui.end_row();
            }
            if let Some(image) = &env.image {
                ui.label(RichText::new("Image").strong());
                ui.horizontal(|ui| {
                    ui.label(format!(
                        "{}:{}",
                        image.repository,
                        image.tag.as_deref().unwrap_or("(digest)")
                    ));
                    if image.newer_waiting {
                        ui.label(
                            RichText::new("newer image pushed, not deployed").color(theme::WARN),
                        );
                    }
                });
                ui.end_row();
            }
            // Always a row, so the action bar below never moves when the figures arrive.
            ui.label(RichText::new("Cost").strong());
            match &view.cost {
                Some(cost) => {
                    ui.label(format!(
                        "${:.3}/h now, ${:.0}/month at {}, pausing saves ${:.0}/month",
                        cost.per_hour_now,
                        cost.per_month_at_recent_usage,
                        view.cost_basis,
                        cost.saved_per_month()
                    ))
                    .on_hover_text(format!(
                        "us-east-1 list prices; never paused it would cost ${:.0}/month",
                        cost.per_month_never_paused
                    ));
                }
                None => {
                    ui.label(RichText::new("reading usage...").color(theme::MUTED));
                }
            }
            ui.end_row();
        });
    if let Some(b) = &view.budget
        && b.over_budget
    {
        ui.label(
            RichText::new(format!(
                "Connection budget: up to {} concurrent requests against {} max_connections: expect HTTP 500s under load",
                b.peak_requests, b.max_connections
            ))
            .color(theme::WARN),
        );
    }
    if !view.blockers.is_empty() {
        ui.label(
            RichText::new(format!("Won't auto-pause: {}", view.blockers.join("; ")))
                .color(theme::WARN),
        );
    }
}
