//! Runs kept after the fact: each burst's settings, target, results and per-second series
//! saved as one JSON file under the XDG data dir (`scale0/bursts/`), listed, loaded,
//! compared, and written as JSON or CSV.

use super::Snapshot;
use super::config::Settings;
use super::stats::ErrorKind;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Overrides where runs are saved (tests, scripts).
pub const DIR_ENV: &str = "SCALE0_BURSTS_DIR";
const SCHEMA: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum RunsError {
    #[error("no data directory on this system; set {DIR_ENV}")]
    NoDataDir,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a saved burst: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("no saved burst matches {0:?} (see `scale0 burst list`)")]
    NotFound(String),
    #[error("{0:?} matches several saved bursts: {1}")]
    Ambiguous(String, String),
}

/// What was burst: the URL, and the environment's image and scaling when known.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub url: String,
    pub environment: Option<String>,
    pub image_tag: Option<String>,
    pub image_digest: Option<String>,
    /// e.g. "max concurrency 100, 1-25 instances".
    pub scaling: Option<String>,
}

/// One saved burst.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub schema: u32,
    /// e.g. 20260516-142233-3f9a; also the file name.
    pub id: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub target: Target,
    pub settings: Settings,
    pub result: Snapshot,
}

impl RunRecord {
    /// A record for a finished burst that started `elapsed` seconds before now.
    pub fn new(target: Target, settings: Settings, result: Snapshot) -> RunRecord {
        let now = time::OffsetDateTime::now_utc();
        let started = now - time::Duration::seconds_f64(result.elapsed);
        let stamp = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        RunRecord {
            schema: SCHEMA,
            id: format!(
                "{}-{}",
                started.format(stamp).unwrap_or_default(),
                &suffix[..4]
            ),
            started_at: started
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            target,
            settings,
            result,
        }
    }
}

/// Where runs are saved: `$SCALE0_BURSTS_DIR`, else `<data dir>/scale0/bursts`.
pub fn dir() -> Result<PathBuf, RunsError> {
    if let Some(d) = std::env::var_os(DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    dirs::data_dir()
        .map(|d| d.join("scale0").join("bursts"))
        .ok_or(RunsError::NoDataDir)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunsError + '_ {
    move |source| RunsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Saves a run in `dir`; returns its path.
pub fn save(dir: &Path, run: &RunRecord) -> Result<PathBuf, RunsError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(format!("{}.json", run.id));
    let text = serde_json::to_string_pretty(run).map_err(|source| RunsError::Parse {
        path: path.clone(),
        source,
    })?;
    // Written aside and renamed, so a crash never leaves half a run.
    let partial = path.with_extension("json.partial");
    std::fs::write(&partial, text).map_err(io(&partial))?;
    std::fs::rename(&partial, &path).map_err(io(&path))?;
    Ok(path)
}

pub fn load_file(path: &Path) -> Result<RunRecord, RunsError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    serde_json::from_str(&text).map_err(|source| RunsError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Every saved run in `dir`, oldest first; files that are not runs are skipped.
pub fn list(dir: &Path) -> Result<Vec<RunRecord>, RunsError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut runs: Vec<RunRecord> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| match load_file(&p) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!("skipping {e}");
                None
            }
        })
        .collect();
    runs.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(runs)
}

/// A run by id, unique id prefix, `last` / `last~N` (N runs before the last), or a path.
pub fn load(dir: &Path, which: &str) -> Result<RunRecord, RunsError> {
    let path = Path::new(which);
    if which.ends_with(".json") && path.exists() {
        return load_file(path);
    }
    let mut runs = list(dir)?;
    if let Some(back) = which.strip_prefix("last") {
        let back: usize = match back.strip_prefix('~') {
            Some(n) => n.parse().map_err(|_| RunsError::NotFound(which.into()))?,
            None if back.is_empty() => 0,
            None => return Err(RunsError::NotFound(which.into())),
        };
        let i = runs
            .len()
            .checked_sub(back + 1)
            .ok_or_else(|| RunsError::NotFound(which.into()))?;
        return Ok(runs.swap_remove(i));
    }
    let mut matching: Vec<RunRecord> = runs
        .into_iter()
        .filter(|r| r.id.starts_with(which))
        .collect();
    match matching.len() {
        0 => Err(RunsError::NotFound(which.into())),
        1 => Ok(matching.remove(0)),
        _ => Err(RunsError::Ambiguous(
            which.into(),
            matching
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}

/// One line of a comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Difference {
    pub name: String,
    pub a: String,
    pub b: String,
    /// (b - a) / a in percent, for numbers.
    pub change_percent: Option<f64>,
}

/// What differs between two runs: settings and target first, then results.
pub fn compare(a: &RunRecord, b: &RunRecord) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut text = |name: &str, x: String, y: String| {
        if x != y {
            out.push(Difference {
                name: name.into(),
                a: x,
                b: y,
                change_percent: None,
            });
        }
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    text("url", a.target.url.clone(), b.target.url.clone());
    text(
        "image tag",
        opt(&a.target.image_tag),
        opt(&b.target.image_tag),
    );
    text(
        "image digest",
        opt(&a.target.image_digest),
        opt(&b.target.image_digest),
    );
    text("scaling", opt(&a.target.scaling), opt(&b.target.scaling));
    text("load", a.settings.shape(), b.settings.shape());
    text(
        "method",
        a.settings.method.clone(),
        b.settings.method.clone(),
    );
    text(
        "protocols",
        a.result.protocols.join(" "),
        b.result.protocols.join(" "),
    );
    let (ra, rb) = (&a.result, &b.result);
    let cold = |s: &Snapshot| s.phases.cold.as_ref().and_then(|c| c.first_success_after);
    let mut numbers: Vec<(&str, Option<f64>, Option<f64>)> = vec![
        ("duration s", Some(ra.elapsed), Some(rb.elapsed)),
        (
            "requests/s",
            Some(ra.requests_per_second),
            Some(rb.requests_per_second),
        ),
        (
            "responses",
            Some(ra.responses as f64),
            Some(rb.responses as f64),
        ),
        (
            "error rate %",
            Some(ra.error_rate() * 100.0),
            Some(rb.error_rate() * 100.0),
        ),
        (
            "5xx",
            Some(ra.status_count(500..=599) as f64),
            Some(rb.status_count(500..=599) as f64),
        ),
    ];
    for kind in ErrorKind::ALL {
        let n = |s: &Snapshot| s.errors.get(&kind).map(|n| *n as f64);
        numbers.push((kind.key(), n(ra), n(rb)));
    }
    numbers.extend([
        ("late", Some(ra.late as f64), Some(rb.late as f64)),
        ("p50 ms", Some(ra.latency.p50), Some(rb.latency.p50)),
        ("p90 ms", Some(ra.latency.p90), Some(rb.latency.p90)),
        ("p99 ms", Some(ra.latency.p99), Some(rb.latency.p99)),
        ("p99.9 ms", Some(ra.latency.p999), Some(rb.latency.p999)),
        ("max ms", Some(ra.latency.max), Some(rb.latency.max)),
        ("first success s (cold)", cold(ra), cold(rb)),
        (
            "warm p99 ms",
            Some(ra.phases.warm.latency.p99),
            Some(rb.phases.warm.latency.p99),
        ),
    ]);
    for (name, x, y) in numbers {
        if x.is_none() && y.is_none() {
            continue;
        }
        let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
        let change = match (x, y) {
            (Some(x), Some(y)) if x != 0.0 => Some((y - x) / x * 100.0),
            _ => None,
        };
        out.push(Difference {
            name: name.into(),
            a: show(x),
            b: show(y),
            change_percent: change,
        });
    }
    out
}

/// The per-second series as CSV, one row a second.
pub fn csv(run: &Snapshot) -> String {
    let mut o = String::from(
        "second,target,responses,errors,server_errors,late,p50_ms,p90_ms,p99_ms,p999_ms,\
         status_2xx,status_3xx,status_4xx,status_5xx",
    );
    for kind in ErrorKind::ALL {
        let _ = write!(o, ",error_{}", kind.key());
    }
    o.push('\n');
    for (i, s) in run.per_second.iter().enumerate() {
        let class = |c: u16| -> u64 {
            s.statuses
                .iter()
                .filter(|(k, _)| **k / 100 == c)
                .map(|(_, n)| n)
                .sum()
        };
        let _ = write!(
            o,
            "{i},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            s.target,
            s.responses,
            s.errors,
            s.server_errors,
            s.late,
            s.p50,
            s.p90,
            s.p99,
            s.p999,
            class(2),
            class(3),
            class(4),
            class(5)
        );
        for kind in ErrorKind::ALL {
            let _ = write!(o, ",{}", s.error_kinds.get(&kind).copied().unwrap_or(0));
        }
        o.push('\n');
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::burst::stats::Second;

    fn run(rps: f64, p99: f64) -> RunRecord {
        let mut result = Snapshot {
            url: "http://127.0.0.1:1/".into(),
            requests_per_second: rps,
            responses: 100,
            ..Snapshot::default()
        };
        result.latency.p99 = p99;
        result.per_second = vec![Second {
            responses: 100,
            ..Second::default()
        }];
        RunRecord::new(Target::default(), Settings::default(), result)
    }

    #[test]
    fn runs_are_saved_listed_found_and_compared() {
        let dir = std::env::temp_dir().join(format!("scale0-runs-{}", uuid::Uuid::new_v4()));
        let a = run(1000.0, 10.0);
        let mut b = run(1500.0, 5.0);
        b.id = format!("{}x", a.id);
        save(&dir, &a).unwrap();
        save(&dir, &b).unwrap();
        std::fs::write(dir.join("stray.json"), "{}").unwrap();
        let all = list(&dir).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(load(&dir, "last").unwrap().id, b.id);
        assert_eq!(load(&dir, "last~1").unwrap().id, a.id);
        assert!(matches!(
            load(&dir, &a.id[..8]),
            Err(RunsError::Ambiguous(..))
        ));
        assert!(matches!(load(&dir, "nope"), Err(RunsError::NotFound(_))));
        let loaded = load(&dir, &b.id).unwrap();
        assert_eq!(loaded.result.per_second, b.result.per_second);
        let diff = compare(&a, &loaded);
        let rps = diff.iter().find(|d| d.name == "requests/s").unwrap();
        assert_eq!(rps.change_percent, Some(50.0));
        let p99 = diff.iter().find(|d| d.name == "p99 ms").unwrap();
        assert_eq!(p99.change_percent, Some(-50.0));
        assert!(
            !diff.iter().any(|d| d.name == "url"),
            "same URL is no difference"
        );
        let text = csv(&loaded.result);
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().next().unwrap().contains("error_tls_expired"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
