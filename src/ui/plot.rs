//! Series reduced to what the pixels can show before plotting: per pixel column the first,
//! lowest, highest and last point (M4), so a one-minute 5xx spike in a week survives and a
//! line costs what the plot is wide, not what the data is long. The graphs keep the reduced
//! series until the data or the width changes; sparklines are stored already reduced.

use crate::model::MetricSeries;
use egui::{Color32, Pos2, Sense, Stroke, Ui, Vec2, pos2};
use egui_plot::PlotPoint;

/// A series reduced to pixel columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decimated {
    /// Lines in time order; a gap in the data (a missing stretch) ends one.
    pub segments: Vec<Vec<PlotPoint>>,
    /// The highest value, where there is one.
    pub max: Option<f64>,
}

impl Decimated {
    pub fn point_count(&self) -> usize {
        self.segments.iter().map(Vec::len).sum()
    }
}

/// Reduces time-ordered `points` to at most four per column of `column_seconds`
/// (first, min, max, last). Columns are aligned to multiples of `column_seconds` since the
/// epoch, so new data at the end leaves earlier columns as they were. A jump of more than
/// `gap` seconds between points starts a new segment; non-finite values are skipped.
pub fn decimate(points: &[(f64, f64)], column_seconds: f64, gap: f64) -> Decimated {
    let column_seconds = column_seconds.max(1e-9);
    let mut out = Decimated::default();
    let mut segment: Vec<PlotPoint> = Vec::new();
    // The column being filled: its index and its first, min, max and last points.
    let mut column: Option<(i64, [(f64, f64); 4])> = None;
    let mut previous_t = f64::NEG_INFINITY;
    let flush = |column: &mut Option<(i64, [(f64, f64); 4])>, segment: &mut Vec<PlotPoint>| {
        if let Some((_, mut keep)) = column.take() {
            keep.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut last_t = f64::NAN;
            for (t, v) in keep {
                if t != last_t {
                    segment.push(PlotPoint::new(t, v));
                    last_t = t;
                }
            }
        }
    };
    for &(t, v) in points {
        if !t.is_finite() || !v.is_finite() {
            continue;
        }
        out.max = Some(out.max.map_or(v, |m: f64| m.max(v)));
        if t - previous_t > gap {
            flush(&mut column, &mut segment);
            if !segment.is_empty() {
                out.segments.push(std::mem::take(&mut segment));
            }
        }
        previous_t = t;
        let index = (t / column_seconds).floor() as i64;
        match &mut column {
            Some((i, keep)) if *i == index => {
                if v < keep[1].1 {
                    keep[1] = (t, v);
                }
                if v > keep[2].1 {
                    keep[2] = (t, v);
                }
                keep[3] = (t, v);
            }
            _ => {
                flush(&mut column, &mut segment);
                column = Some((index, [(t, v); 4]));
            }
        }
    }
    flush(&mut column, &mut segment);
    if !segment.is_empty() {
        out.segments.push(segment);
    }
    out
}

/// A small line of the last hour, kept as its few points in a unit square (x: time from the
/// series' first to last point, y: value over the larger of its maximum and a hint).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sparkline {
    points: Vec<Pos2>,
    /// Any value above zero (the 5xx sparkline is only drawn when there were errors).
    pub any_above_zero: bool,
}

/// Sparkline size in points.
const SPARKLINE_SIZE: Vec2 = Vec2::new(60.0, 16.0);

impl Sparkline {
    pub fn new(series: &MetricSeries, max_hint: f64) -> Sparkline {
        let points = &series.points;
        let any_above_zero = points.iter().any(|p| p.1 > 0.0);
        let (Some(first), Some(last)) = (points.first(), points.last()) else {
            return Sparkline::default();
        };
        let span = (last.0 - first.0).max(1.0);
        let max = points
            .iter()
            .map(|p| p.1)
            .fold(max_hint, f64::max)
            .max(1e-9);
        // One column per two points of width: more would not show.
        let columns = (SPARKLINE_SIZE.x / 2.0) as f64;
        let reduced = decimate(points, span / columns, f64::INFINITY);
        let points = reduced
            .segments
            .iter()
            .flatten()
            .map(|p| pos2(((p.x - first.0) / span) as f32, (p.y / max) as f32))
            .collect();
        Sparkline {
            points,
            any_above_zero,
        }
    }

    pub fn point_count(&self) -> usize {
        self.points.len()
    }
}

/// The three sparklines of a list row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowSparklines {
    pub requests: Sparkline,
    pub status_5xx: Sparkline,
    pub capacity: Sparkline,
}

impl RowSparklines {
    pub fn new(m: &crate::model::EnvMetrics) -> RowSparklines {
        RowSparklines {
            requests: Sparkline::new(&m.requests, 1.0),
            status_5xx: Sparkline::new(&m.status_5xx, 1.0),
            capacity: Sparkline::new(&m.capacity, 1.0),
        }
    }
}

/// Draws a sparkline with the painter (no plot machinery).
pub fn sparkline_ui(ui: &mut Ui, line: &Sparkline, color: Color32) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(SPARKLINE_SIZE, Sense::hover());
    if line.points.len() < 2 || !ui.is_rect_visible(rect) {
        return response;
    }
    let points = line
        .points
        .iter()
        .map(|p| {
            pos2(
                rect.left() + p.x * rect.width(),
                rect.bottom() - p.y * rect.height(),
            )
        })
        .collect();
    ui.painter()
        .add(egui::Shape::line(points, Stroke::new(1.0, color)));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A week of 1-minute points with noise and a few one-minute spikes.
    fn week() -> Vec<(f64, f64)> {
        let mut seed = 12345u64;
        (0..7 * 1440)
            .map(|i| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                let noise = (seed >> 33) as f64 / (1u64 << 31) as f64;
                let spike = if i % 2017 == 0 { 500.0 } else { 0.0 };
                (1_700_000_040.0 + i as f64 * 60.0, noise * 10.0 + spike)
            })
            .collect()
    }

    fn column_extremes(points: &[(f64, f64)], width: f64) -> Vec<(i64, f64, f64)> {
        let mut out: Vec<(i64, f64, f64)> = Vec::new();
        for &(t, v) in points {
            let c = (t / width).floor() as i64;
            match out.last_mut() {
                Some((i, lo, hi)) if *i == c => {
                    *lo = lo.min(v);
                    *hi = hi.max(v);
                }
                _ => out.push((c, v, v)),
            }
        }
        out
    }

    #[test]
    fn decimation_keeps_each_columns_min_and_max() {
        let points = week();
        let width = 7.0 * 86400.0 / 1300.0;
        let reduced = decimate(&points, width, 150.0);
        let flat: Vec<(f64, f64)> = reduced
            .segments
            .iter()
            .flatten()
            .map(|p| (p.x, p.y))
            .collect();
        assert_eq!(
            column_extremes(&points, width),
            column_extremes(&flat, width)
        );
        assert!(
            reduced.point_count() <= 4 * 1301,
            "{}",
            reduced.point_count()
        );
        assert!(reduced.point_count() < points.len() / 2);
        assert_eq!(reduced.max, points.iter().map(|p| p.1).reduce(f64::max));
        assert!(flat.windows(2).all(|w| w[0].0 < w[1].0), "time order kept");
    }

    #[test]
    fn a_gap_ends_a_segment_and_few_points_stay_as_they_are() {
        let mut points = week();
        points.retain(|(t, _)| !(1_700_100_000.0..1_700_200_000.0).contains(t));
        assert_eq!(decimate(&points, 600.0, 150.0).segments.len(), 2);
        let few = &points[..10];
        let kept = decimate(few, 1.0, 150.0);
        let flat: Vec<(f64, f64)> = kept.segments.iter().flatten().map(|p| (p.x, p.y)).collect();
        assert_eq!(flat, few.to_vec(), "one point per column: nothing to drop");
    }

    #[test]
    fn columns_before_new_data_do_not_move() {
        let points = week();
        let width = 600.0;
        let before = decimate(&points[..5000], width, 150.0);
        let after = decimate(&points, width, 150.0);
        // Every column but the last one filled before is unchanged.
        let cut = (points[4999].0 / width).floor() * width;
        let early = |d: &Decimated| -> Vec<PlotPoint> {
            d.segments
                .iter()
                .flatten()
                .filter(|p| p.x < cut)
                .copied()
                .collect()
        };
        assert_eq!(early(&before), early(&after));
    }

    #[test]
    fn a_sparkline_is_a_few_points_in_a_unit_square_and_keeps_its_spike() {
        let series = MetricSeries {
            points: (0..600)
                .map(|i| (i as f64 * 6.0, if i == 300 { 50.0 } else { 1.0 }))
                .collect(),
        };
        let line = Sparkline::new(&series, 1.0);
        assert!(line.point_count() <= 4 * 31, "{}", line.point_count());
        assert!(
            line.points.iter().any(|p| p.y == 1.0),
            "the spike is the top"
        );
        assert!(line.points.iter().all(|p| (0.0..=1.0).contains(&p.x)));
        assert!(line.any_above_zero);
        assert!(!Sparkline::new(&MetricSeries::default(), 1.0).any_above_zero);
    }
}
