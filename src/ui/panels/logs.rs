//! The logs panel: source, filter, follow, the lines (only the rows on screen are laid
//! out, so 100,000 lines cost what 30 do), colour by level, the selected line in full
//! with copy, and the same query in the AWS console. A line's time is what the graphs
//! mark; a graph or an event asks this panel for the logs around a moment.

use super::{clock_label, theme};
use crate::model::logs::{Level, LogSource};
use crate::ui::intent::Intent;
use crate::ui::logs::{LogRow, LogsView};
use egui::{Color32, RichText, Ui};

const VISIBLE_HEIGHT: f32 = 260.0;

fn level_color(level: Level) -> Color32 {
    match level {
        Level::Error => theme::ERROR,
        Level::Warn => theme::WARN,
        Level::Info => Color32::PLACEHOLDER,
        Level::Debug => theme::MUTED,
    }
}

/// `filter` is the filter box's text; Enter (or Apply) reads with it.
pub fn show(ui: &mut Ui, view: &LogsView, filter: &mut String) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Logs").strong());
        for source in LogSource::ALL {
            if ui
                .selectable_label(view.source == source, source.label())
                .clicked()
                && view.source != source
            {
                intents.push(Intent::LogSource(source));
            }
        }
        ui.separator();
        let edit = ui.add(
            egui::TextEdit::singleline(filter)
                .hint_text("filter: FATAL, \"two words\", ?a ?b, -skip, or plain text")
                .desired_width(260.0),
        );
        let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let changed = filter.as_str() != view.applied_filter;
        if ui
            .add_enabled(changed, egui::Button::new("Apply"))
            .on_hover_text("Read the logs again with this filter (or press Enter)")
            .clicked()
            || (entered && changed)
        {
            intents.push(Intent::LogFilter);
        }
        let follow = if view.follow { "Following" } else { "Follow" };
        if ui
            .selectable_label(view.follow, follow)
            .on_hover_text("Keep reading new lines as they arrive")
            .clicked()
        {
            intents.push(Intent::LogFollow(!view.follow));
        }
        if let Some(url) = view.console_url {
            ui.hyperlink_to("Open in AWS console", url)
                .on_hover_text("The same log group, window and filter in CloudWatch");
        }
    });
    if let Some((tone, text)) = &view.status {
        ui.label(RichText::new(text).small().color(super::tone_color(*tone)));
    }
    // A row is a button: its text plus the button's padding.
    let row_height =
        ui.text_style_height(&egui::TextStyle::Monospace) + 2.0 * ui.spacing().button_padding.y;
    let mut area = egui::ScrollArea::vertical()
        .id_salt("log lines")
        .max_height(VISIBLE_HEIGHT)
        .auto_shrink([false, true])
        .stick_to_bottom(view.follow);
    if let Some(row) = view.scroll_to {
        let spacing = ui.spacing().item_spacing.y;
        let offset = (row as f32 * (row_height + spacing) - VISIBLE_HEIGHT / 2.0).max(0.0);
        area = area.vertical_scroll_offset(offset);
    }
    area.show_rows(ui, row_height, view.rows.len(), |ui, range| {
        for i in range {
            let row = &view.rows[i];
            if row_ui(ui, row, view.selected == Some(i)).clicked() {
                intents.push(Intent::LogSelect(i));
            }
        }
    });
    if let Some(row) = view.selected.and_then(|i| view.rows.get(i)) {
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(format!("selected line, {}", clock_seconds(row.time()))).small(),
            );
            if ui.button("Copy line").clicked() {
                intents.push(Intent::Copy(row.text()));
            }
        });
        let text = row.text();
        // Read-only (a &str buffer), but selectable: a traceback in full.
        ui.add(
            egui::TextEdit::multiline(&mut text.as_str())
                .font(egui::TextStyle::Monospace)
                .desired_rows(3)
                .desired_width(f32::INFINITY),
        );
    }
    intents
}

/// One line: time, stream, the message's first line coloured by level.
fn row_ui(ui: &mut Ui, row: &LogRow, selected: bool) -> egui::Response {
    let (stream, message) = match row {
        LogRow::Line(l) => (short_stream(&l.stream), l.message.as_str()),
        LogRow::Mark(_) => ("", ""),
    };
    let first = match row {
        LogRow::Line(_) => {
            let mut lines = message.lines();
            let head = lines.next().unwrap_or("");
            let more = lines.count();
            if more > 0 {
                format!("{head}  (+{more} lines)")
            } else {
                head.to_string()
            }
        }
        LogRow::Mark(m) => m.text(),
    };
    let color = level_color(row.level());
    let mut text =
        RichText::new(format!("{} {stream:>8} {first}", clock_seconds(row.time()))).monospace();
    if color != Color32::PLACEHOLDER {
        text = text.color(color);
    }
    ui.add(
        egui::Button::selectable(selected, text)
            .truncate()
            .min_size(egui::vec2(ui.available_width(), 0.0)),
    )
}

/// "HH:MM:SS" in UTC.
fn clock_seconds(t: f64) -> String {
    format!("{}:{:02}", clock_label(t), (t.rem_euclid(60.0)) as u32)
}

/// The stream's last 8 characters: enough to tell instances apart.
fn short_stream(stream: &str) -> &str {
    let start = stream.char_indices().rev().nth(7).map_or(0, |(i, _)| i);
    &stream[start..]
}
