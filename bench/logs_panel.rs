//! The logs panel's frame cost (layout and tessellation, no GPU) with 100,000 lines
//! against 1,000, in one run: virtualised rows should make them cost the same.
//! Run: cargo bench --bench logs_panel

use scale0::model::logs::LogLine;
use scale0::ui::logs::{LogRow, LogsView};
use scale0::ui::panels;
use std::time::Instant;

const FRAMES: usize = 200;

fn rows(n: usize) -> Vec<LogRow> {
    (0..n)
        .map(|i| {
            let message = match i % 50 {
                0 => "Internal Server Error: /\nTraceback (most recent call last):\n  File \"x\"\ndjango.db.utils.OperationalError: connection failed: FATAL:  remaining connection slots are reserved".to_string(),
                7 => format!("[2026-11-23T10:00:{:02}Z] \"GET / HTTP/1.1\" 500 145", i % 60),
                _ => format!("[2026-11-23T10:00:{:02}Z] \"GET / HTTP/1.1\" 200 6792", i % 60),
            };
            LogRow::Line(LogLine {
                time: 1_795_428_000.0 + i as f64 * 0.05,
                stream: format!("instance/{:032x}", i % 3),
                message,
                id: i.to_string(),
            })
        })
        .collect()
}

/// Median and p90 frame time (ms) of the panel drawing `rows`, following (stuck to the
/// newest line) or jumped to the middle with a line selected.
fn measure(rows: &[LogRow], follow: bool) -> (f64, f64) {
    let ctx = egui::Context::default();
    let middle = rows.len() / 2;
    let view = LogsView {
        source: Default::default(),
        follow,
        rows,
        selected: (!follow).then_some(middle),
        scroll_to: None,
        status: None,
        console_url: Some("https://console.example/"),
        applied_filter: "",
    };
    let mut filter = String::new();
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1400.0, 1000.0),
        )),
        ..Default::default()
    };
    let mut times = Vec::with_capacity(FRAMES);
    for frame in 0..FRAMES + 10 {
        let view = LogsView {
            // The first frame jumps, as a click on a graph does; later ones stay there.
            scroll_to: (!follow && frame == 0).then_some(middle),
            ..view.clone()
        };
        let started = Instant::now();
        let mut output = ctx.run_ui(input(), |ui| {
            std::hint::black_box(panels::logs::show(ui, &view, &mut filter));
        });
        // No GPU takes the font texture here (epaint asserts that someone does).
        output.textures_delta.clear();
        let shapes = std::mem::take(&mut output.shapes);
        let primitives = ctx.tessellate(shapes, output.pixels_per_point);
        std::hint::black_box(primitives);
        if frame >= 10 {
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() * 9 / 10])
}

fn main() {
    let small = rows(1_000);
    let large = rows(100_000);
    println!("logs panel, one frame (layout + tessellation), 1400x1000, {FRAMES} frames each");
    for follow in [true, false] {
        let mode = if follow {
            "following (newest lines)"
        } else {
            "jumped to the middle, a line selected"
        };
        // Interleaved, so both sizes see the same machine load.
        let (s1, l1) = (measure(&small, follow), measure(&large, follow));
        let (s2, l2) = (measure(&small, follow), measure(&large, follow));
        let (small_med, small_p90) = (s1.0.min(s2.0), s1.1.min(s2.1));
        let (large_med, large_p90) = (l1.0.min(l2.0), l1.1.min(l2.1));
        println!("  {mode}:");
        println!("    1,000 lines (baseline): median {small_med:.2} ms  p90 {small_p90:.2} ms");
        println!("    100,000 lines:          median {large_med:.2} ms  p90 {large_p90:.2} ms");
        println!(
            "    100k / 1k: {:.2}x median, {:.2}x p90 (goal: about 1x; 16.7 ms is one 60 Hz frame)",
            large_med / small_med,
            large_p90 / small_p90
        );
    }
}
