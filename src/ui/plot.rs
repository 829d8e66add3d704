//! Series reduced to what the pixels can show before plotting, and small sparklines.

use crate::model::MetricSeries;
use egui::{Color32, Sense, Stroke, Ui, Vec2, pos2};

/// Keeps, per pixel column, the first, minimum and maximum points, so a 24-hour series
/// costs as much to draw as the plot is wide. Gaps (missing minutes) stay gaps: a jump
/// of more than `gap` seconds breaks the line into segments.
pub fn reduce(points: &[(f64, f64)], columns: usize, gap: f64) -> Vec<Vec<[f64; 2]>> {
    let mut segments: Vec<Vec<[f64; 2]>> = Vec::new();
    if points.is_empty() {
        return segments;
    }
    let (t0, t1) = (points[0].0, points[points.len() - 1].0);
    let width = ((t1 - t0) / columns.max(1) as f64).max(1e-9);
    let mut current: Vec<[f64; 2]> = Vec::new();
    let mut column_of_last = usize::MAX;
    let mut bucket: Vec<(f64, f64)> = Vec::new();
    let mut previous_t = f64::NEG_INFINITY;
    let flush = |bucket: &mut Vec<(f64, f64)>, current: &mut Vec<[f64; 2]>| {
        if bucket.is_empty() {
            return;
        }
        let first = bucket[0];
        let min = bucket
            .iter()
            .copied()
            .fold(first, |a, b| if b.1 < a.1 { b } else { a });
        let max = bucket
            .iter()
            .copied()
            .fold(first, |a, b| if b.1 > a.1 { b } else { a });
        let mut keep = vec![first, min, max];
        keep.sort_by(|a, b| a.0.total_cmp(&b.0));
        keep.dedup_by(|a, b| a.0 == b.0);
        current.extend(keep.into_iter().map(|(t, v)| [t, v]));
        bucket.clear();
    };
    for &(t, v) in points {
        if t - previous_t > gap && !bucket.is_empty() {
            flush(&mut bucket, &mut current);
            segments.push(std::mem::take(&mut current));
        }
        let column = ((t - t0) / width) as usize;
        if column != column_of_last {
            flush(&mut bucket, &mut current);
            column_of_last = column;
        }
        bucket.push((t, v));
        previous_t = t;
    }
    flush(&mut bucket, &mut current);
    segments.push(current);
    segments.retain(|s| !s.is_empty());
    segments
}

/// A tiny line of the last hour, drawn with the painter (no plot machinery).
pub fn sparkline(
    ui: &mut Ui,
    series: &MetricSeries,
    max_hint: f64,
    color: Color32,
) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(Vec2::new(60.0, 16.0), Sense::hover());
    if series.points.len() < 2 || !ui.is_rect_visible(rect) {
        return response;
    }
    let (t0, t1) = (series.points[0].0, series.points[series.points.len() - 1].0);
    let max = series
        .points
        .iter()
        .map(|p| p.1)
        .fold(max_hint, f64::max)
        .max(1e-9);
    let to_screen = |(t, v): (f64, f64)| {
        pos2(
            rect.left() + ((t - t0) / (t1 - t0).max(1.0)) as f32 * rect.width(),
            rect.bottom() - (v / max) as f32 * rect.height(),
        )
    };
    // Reduced to the sparkline's own width, whatever the series' length.
    let points: Vec<_> = reduce(&series.points, rect.width() as usize / 2, f64::INFINITY)
        .into_iter()
        .flatten()
        .map(|[t, v]| to_screen((t, v)))
        .collect();
    ui.painter()
        .add(egui::Shape::line(points, Stroke::new(1.0, color)));
    response
}

#[cfg(test)]
mod tests {
    use super::reduce;

    #[test]
    fn reduction_keeps_extremes_and_gaps() {
        let points: Vec<(f64, f64)> = (0..1440)
            .map(|i| {
                (
                    i as f64 * 60.0,
                    if i == 700 { 99.0 } else { (i % 7) as f64 },
                )
            })
            .collect();
        let segments = reduce(&points, 100, 120.0);
        assert_eq!(segments.len(), 1);
        assert!(segments[0].len() <= 300, "{}", segments[0].len());
        assert!(
            segments[0].iter().any(|p| p[1] == 99.0),
            "the spike survives"
        );
        let mut gapped = points.clone();
        gapped.retain(|(t, _)| !(30000.0..40000.0).contains(t));
        assert_eq!(
            reduce(&gapped, 100, 120.0).len(),
            2,
            "a gap splits the line"
        );
    }
}
