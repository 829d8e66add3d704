//! CloudWatch's store in the emulator: one statistic set per metric per minute, as AWS
//! keeps standard-resolution metrics, with a few raw samples kept for percentiles.

use std::collections::BTreeMap;

pub const APPRUNNER: &str = "AWS/AppRunner";
pub const RDS: &str = "AWS/RDS";

/// Raw samples kept per minute, enough for p50/p90/p99 of a minute's latency.
const SAMPLES_PER_MINUTE: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetricKey {
    pub namespace: String,
    pub name: String,
    /// Sorted by name, so lookups do not depend on the order a client sends them in.
    pub dimensions: Vec<(String, String)>,
}

impl MetricKey {
    pub fn new(namespace: &str, name: &str, dimensions: &[(&str, &str)]) -> MetricKey {
        let mut dimensions: Vec<(String, String)> = dimensions
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        dimensions.sort();
        MetricKey {
            namespace: namespace.to_string(),
            name: name.to_string(),
            dimensions,
        }
    }
}

/// One minute of one metric.
#[derive(Clone, Debug, Default)]
pub struct Datum {
    pub sum: f64,
    pub count: u64,
    pub min: f64,
    pub max: f64,
    pub samples: Vec<f32>,
}

impl Datum {
    pub fn single(value: f64) -> Datum {
        let mut d = Datum::default();
        d.add(value);
        d
    }

    pub fn add(&mut self, value: f64) {
        if self.count == 0 {
            self.min = value;
            self.max = value;
        } else {
            self.min = self.min.min(value);
            self.max = self.max.max(value);
        }
        self.sum += value;
        self.count += 1;
        if self.samples.len() < SAMPLES_PER_MINUTE {
            self.samples.push(value as f32);
        } else {
            // Deterministic thinning keeps a spread of the minute's samples.
            let slot = (self.count as usize * 7919) % SAMPLES_PER_MINUTE;
            self.samples[slot] = value as f32;
        }
    }

    fn merge(&mut self, other: &Datum) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = other.clone();
            return;
        }
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
        self.count += other.count;
        for s in &other.samples {
            if self.samples.len() < SAMPLES_PER_MINUTE * 4 {
                self.samples.push(*s);
            }
        }
    }

    /// The value of a CloudWatch statistic: Average, Sum, Minimum, Maximum, SampleCount, pNN.
    pub fn statistic(&self, stat: &str) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        match stat {
            "Average" => Some(self.sum / self.count as f64),
            "Sum" => Some(self.sum),
            "Minimum" => Some(self.min),
            "Maximum" => Some(self.max),
            "SampleCount" => Some(self.count as f64),
            p if p.starts_with('p') => {
                let q: f64 = p[1..].parse().ok()?;
                if !(0.0..=100.0).contains(&q) {
                    return None;
                }
                let mut sorted = self.samples.clone();
                sorted.sort_by(f32::total_cmp);
                let idx = ((q / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
                sorted.get(idx).map(|v| *v as f64)
            }
            _ => None,
        }
    }
}

#[derive(Default)]
pub struct MetricStore {
    /// Per metric, minutes in ascending order (epoch seconds of the minute's start).
    series: BTreeMap<MetricKey, Vec<(i64, Datum)>>,
}

impl MetricStore {
    pub fn put(&mut self, key: MetricKey, minute: i64, datum: Datum) {
        let points = self.series.entry(key).or_default();
        match points.binary_search_by_key(&minute, |(m, _)| *m) {
            Ok(i) => points[i].1.merge(&datum),
            Err(i) => points.insert(i, (minute, datum)),
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &MetricKey> {
        self.series.keys()
    }

    /// Aggregates `[start, end)` into periods of `period` seconds aligned to `start`.
    /// Periods with no data are left out, as CloudWatch leaves gaps.
    pub fn query(
        &self,
        key: &MetricKey,
        start: i64,
        end: i64,
        period: i64,
        stat: &str,
    ) -> Vec<(i64, f64)> {
        let Some(points) = self.series.get(key) else {
            return Vec::new();
        };
        let period = period.max(60);
        let first = points.partition_point(|(m, _)| *m < start);
        let mut out = Vec::new();
        let mut bucket: Option<(i64, Datum)> = None;
        for (minute, datum) in points[first..].iter().take_while(|(m, _)| *m < end) {
            let bucket_start = start + (minute - start) / period * period;
            match &mut bucket {
                Some((b, acc)) if *b == bucket_start => acc.merge(datum),
                _ => {
                    if let Some((b, acc)) = bucket.take()
                        && let Some(v) = acc.statistic(stat)
                    {
                        out.push((b, v));
                    }
                    bucket = Some((bucket_start, datum.clone()));
                }
            }
        }
        if let Some((b, acc)) = bucket
            && let Some(v) = acc.statistic(stat)
        {
            out.push((b, v));
        }
        out
    }

    /// Drops minutes older than `before` (CloudWatch keeps 1-minute data for 15 days).
    pub fn expire(&mut self, before: i64) {
        for points in self.series.values_mut() {
            let keep_from = points.partition_point(|(m, _)| *m < before);
            points.drain(..keep_from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_aggregates_periods_and_keeps_gaps() {
        let mut store = MetricStore::default();
        let key = MetricKey::new(APPRUNNER, "Requests", &[("ServiceName", "a")]);
        for (minute, v) in [(0, 1.0), (60, 2.0), (240, 5.0)] {
            store.put(key.clone(), minute, Datum::single(v));
        }
        assert_eq!(
            store.query(&key, 0, 600, 60, "Sum"),
            vec![(0, 1.0), (60, 2.0), (240, 5.0)]
        );
        assert_eq!(
            store.query(&key, 0, 600, 120, "Sum"),
            vec![(0, 3.0), (240, 5.0)]
        );
        assert_eq!(store.query(&key, 0, 600, 300, "Maximum"), vec![(0, 5.0)]);
    }

    #[test]
    fn percentiles_come_from_samples() {
        let mut d = Datum::default();
        for v in 1..=51 {
            d.add(v as f64);
        }
        assert_eq!(d.statistic("p50"), Some(26.0));
        assert_eq!(d.statistic("p100"), Some(51.0));
        assert_eq!(d.statistic("Average"), Some(26.0));
        assert_eq!(d.statistic("p200"), None);
    }
}
