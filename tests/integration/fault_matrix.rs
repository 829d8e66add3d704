//! The fault matrix: every CLI command (enumerated from the action table, plus the read
//! commands) against every injected fault (throttling, 5xx, access denied, expired token,
//! a stalled call, slow calls, malformed bodies) on App Runner, ECS, RDS, ECR and
//! CloudWatch separately and all together, through the real binary against the emulator;
//! the service commands run on an ECS Express environment too (in the rows whose
//! faults can reach it, to keep the matrix's time bounded). Every cell
//! asserts: no panic, bounded time, the exit code README documents, no false "done", and
//! the failing part named. Rows (one emulator each) and cells run concurrently; the
//! matrix is printed as a table. A new verb with a CLI subcommand joins by the action
//! table (and fails here until it has arguments); a new compute kind joins as a row.

use crate::common::*;
use scale0::emulator::seed::{ClusterSpec, EnvSpec, ServiceSpec};
use scale0::emulator::{Emulator, Options, Seed};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One faulted service: its label in messages and its signing name in fault rules
/// (None: every service at once). A new compute kind adds its row here.
pub const SERVICES: [(&str, Option<&str>); 6] = [
    ("App Runner", Some("apprunner")),
    ("ECS Express", Some("ecs")),
    ("RDS", Some("rds")),
    ("ECR", Some("ecr")),
    ("CloudWatch", Some("monitoring")),
    ("all", None),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    None,
    Throttle,
    ServerError,
    AccessDenied,
    ExpiredToken,
    Stall,
    Slow,
    Malformed,
}

pub const FAULTS: [Fault; 7] = [
    Fault::Throttle,
    Fault::ServerError,
    Fault::AccessDenied,
    Fault::ExpiredToken,
    Fault::Stall,
    Fault::Slow,
    Fault::Malformed,
];

impl Fault {
    pub fn rule(self) -> Option<serde_json::Value> {
        Some(match self {
            Fault::None => return None,
            Fault::Throttle => json!({"kind": "throttle"}),
            Fault::ServerError => json!({"kind": "server_error"}),
            Fault::AccessDenied => json!({"kind": "access_denied"}),
            Fault::ExpiredToken => json!({"kind": "expired_token"}),
            Fault::Stall => json!({"kind": "stall"}),
            // Seconds per call.
            Fault::Slow => json!({"kind": "latency", "ms": 1000}),
            Fault::Malformed => json!({"kind": "malformed"}),
        })
    }

    /// The exit code when a part the command needs failed this way (README).
    fn code(self) -> i32 {
        match self {
            Fault::None | Fault::Slow => 0,
            Fault::AccessDenied | Fault::ExpiredToken => 5,
            Fault::Stall => 4,
            Fault::Throttle | Fault::ServerError | Fault::Malformed => 1,
        }
    }

    /// Each call's bound (SCALE0_CALL_TIMEOUT, retries included): short where a call
    /// stalls, so a stall costs 4 s; room elsewhere for the SDK's retries and backoff on
    /// a busy machine, so an error is seen as itself rather than as a timeout.
    pub fn call_timeout(self) -> &'static str {
        match self {
            Fault::Stall => "4",
            _ => "10",
        }
    }
}

/// The command line of each CLI command, on its own environment (so the cells of a row
/// share one world without meeting). None: a new command this matrix does not know yet.
fn args(command: &str) -> Option<Vec<String>> {
    let v: Vec<&str> = match command {
        "envs" => vec!["envs"],
        "status" => vec!["status", "reads"],
        "events" => vec!["events", "reads"],
        "images" => vec!["images", "reads"],
        "wake" => vec!["wake", "wake"],
        "sleep" => vec!["sleep", "sleep"],
        "wake-db" => vec!["wake-db", "wakedb"],
        "stop-db" => vec!["stop-db", "stopdb"],
        "start-db" => vec!["start-db", "startdb"],
        "pause" => vec!["pause", "pause"],
        "resume" => vec!["resume", "resume"],
        "deploy" => vec!["deploy", "deploy", "--tag", "wake"],
        "rollback" => vec!["rollback", "rollback"],
        "burst" => vec!["burst", "burst", "-n", "10", "-c", "2", "--no-save"],
        "keep-awake" => vec!["keep-awake", "keep", "--for", "1h"],
        "why" => vec!["why", "reads"],
        "wake/ecs" => vec!["wake", "wakeecs"],
        "pause/ecs" => vec!["pause", "pauseecs"],
        "resume/ecs" => vec!["resume", "resumeecs"],
        _ => return None,
    };
    Some(v.into_iter().map(String::from).collect())
}

/// The service commands again, on an ECS Express environment.
const ECS_COMMANDS: [&str; 3] = ["wake/ecs", "pause/ecs", "resume/ecs"];

/// Whether a row runs the ECS commands: the faults that can reach them (ECS, App Runner
/// beside it, RDS under its database, all) and the baseline. ECR and CloudWatch faults
/// reach them no differently than the App Runner columns show.
fn runs_ecs(service: Option<&str>) -> bool {
    !matches!(service, Some("ecr" | "monitoring"))
}

/// Every command: the action table's CLI subcommands that reach AWS, and the reads.
fn commands() -> Vec<&'static str> {
    let mut out = vec!["status", "events", "images"];
    for spec in scale0::actions::TABLE {
        if let Some(name) = spec.cli
            && name != "config"
            && !out.contains(&name)
        {
            out.push(name);
        }
    }
    out
}

/// What each command needs read (or done) on which service: (part, signing name).
fn needs(command: &str) -> &'static [&'static str] {
    match command {
        "images" | "deploy" | "rollback" => &["apprunner", "ecr"],
        "pause" | "resume" | "burst" => &["apprunner"],
        "pause/ecs" | "resume/ecs" => &["ecs"],
        "keep-awake" => &["rds", "apprunner"],
        "wake-db" | "stop-db" | "start-db" => &["rds"],
        _ => &[],
    }
}

/// The exit code README promises for `command` with `fault` on `service`.
fn expected(command: &str, service: Option<&str>, fault: Fault) -> i32 {
    if matches!(fault, Fault::None | Fault::Slow) {
        return 0;
    }
    // Credentials are the same for every service: any expired answer means exit 5.
    let Some(service) = service else {
        return fault.code();
    };
    if fault == Fault::ExpiredToken {
        return 5;
    }
    match command {
        // An App Runner environment's status needs nothing from ECS: complete.
        "status" if service == "ecs" => 0,
        // What they show is incomplete: partial.
        "envs" | "status" => 3,
        "events" | "wake" | "sleep" if matches!(service, "apprunner" | "rds") => 3,
        "wake/ecs" if matches!(service, "ecs" | "rds") => 3,
        c if needs(c).contains(&service) => fault.code(),
        _ => 0,
    }
}

/// The world: one environment per command, each in the state its command acts on; with
/// `ecs`, the ECS Express environments alone (their own world, so the App Runner cells
/// list no more than before and the matrix's time grows little).
async fn world_of(ecs: bool) -> Emulator {
    // A fast clock: the Data API's resume takes 15-30 emulated seconds; not faster than
    // auto-pause (300 s) between the CLI's SELECT 1 retries, 3 real seconds apart.
    let emu = Emulator::start(Options {
        port: 0,
        speed: 60.0,
        seed: Seed::Empty,
        region: "us-east-1".into(),
        start_time: Some(t0()),
    })
    .await
    .expect("emulator starts");
    let spec = |name: &str, paused: bool, cluster: Option<(bool, bool)>| {
        let mut e = EnvSpec::new(name, "dev");
        e.service = Some(ServiceSpec {
            paused,
            auto_deployments: false,
            express: ecs,
            max_size: if ecs { 4 } else { 25 },
            ..ServiceSpec::default()
        });
        e.cluster = cluster.map(|(paused, stopped)| {
            let mut c = ClusterSpec::v2(0.0, 4.0);
            c.paused = paused;
            c.stopped = stopped;
            c
        });
        e
    };
    if ecs {
        for e in [
            spec("wakeecs", true, Some((true, false))),
            spec("pauseecs", false, None),
            spec("resumeecs", true, None),
        ] {
            emu.add_environment(e).await.expect("environment added");
        }
        return emu;
    }
    for e in [
        spec("reads", false, Some((false, false))),
        spec("wake", true, Some((true, false))),
        spec("sleep", false, Some((false, false))),
        spec("wakedb", false, Some((true, false))),
        spec("stopdb", false, Some((false, false))),
        spec("startdb", false, Some((false, true))),
        spec("pause", false, None),
        spec("resume", true, None),
        spec("deploy", false, None),
        spec("rollback", false, None),
        spec("burst", false, None),
        spec("keep", false, Some((false, false))),
    ] {
        emu.add_environment(e).await.expect("environment added");
    }
    // Rollback needs the image scale0 recorded before its last deploy.
    emu.with_world(|w, _| {
        // keep-awake's restore schedule runs as this role (found by name).
        w.scheduler
            .roles
            .insert("arn:aws:iam::123456789012:role/scale0-scheduler".into());
        let previous = format!("{}:wake", w.ecr_uri("scale0"));
        if let Some(i) = w.service_index("scale0-rollback") {
            w.services[i]
                .tags
                .push(("scale0:previous-image".into(), previous));
        }
    });
    emu
}

pub async fn world() -> Emulator {
    world_of(false).await
}

struct Cell {
    command: &'static str,
    service: &'static str,
    fault: Fault,
    code: i32,
    expected: i32,
    seconds: f64,
    problems: Vec<String>,
}

pub fn home() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scale0-matrix-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp home");
    dir
}

/// Runs the binary with an empty home, bounded by a kill after `limit`.
pub fn run_cli(
    args: &[String],
    env: &[(&str, &str)],
    home: &Path,
    limit: Duration,
) -> (i32, String, String, f64) {
    let started = Instant::now();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_scale0"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_RUNTIME_DIR", home)
        .env("AWS_CONFIG_FILE", home.join(".aws/config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("scale0 starts");
    // Drain the pipes while waiting, so a chatty run can't block on a full pipe.
    let mut out = child.stdout.take().expect("stdout piped");
    let mut err = child.stderr.take().expect("stderr piped");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code().unwrap_or(-1);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break -9;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    (code, stdout, stderr, started.elapsed().as_secs_f64())
}

/// One cell: the command's run judged against what README promises.
fn judge(cell: &mut Cell, stdout: &str, stderr: &str, label: &str) {
    let mut p = Vec::new();
    if stderr.contains("panicked") || cell.code == 101 {
        p.push("panicked".to_string());
    }
    if cell.code == -9 {
        p.push("did not finish within its bound".into());
    }
    if cell.code != cell.expected {
        p.push(format!("exit {} (expected {})", cell.code, cell.expected));
    }
    if stderr.contains("DispatchFailure {") || stderr.contains("ServiceError {") {
        p.push("Debug output in a message".into());
    }
    if cell.expected != 0 {
        // No false "done": nothing says the faulted part is done, and the outcome is
        // not reported as success.
        let faulted_part = match label {
            "App Runner" | "ECS Express" => Some("service"),
            "RDS" => Some("database"),
            _ => None,
        };
        let false_done = stdout
            .lines()
            .any(|l| l.starts_with("done") && faulted_part.is_some_and(|part| l.contains(part)))
            || stdout.contains("nothing to do");
        if false_done {
            p.push("claims done".into());
        }
        // The failing part named.
        let names: &[&str] = match label {
            "RDS" => &["RDS", "Aurora"],
            "ECS Express" => &["ECS"],
            "all" => &["App Runner", "ECS Express", "RDS", "ECR", "CloudWatch"],
            other => &[other],
        };
        let named = names.iter().any(|s| stderr.contains(s));
        if !named {
            p.push(format!("does not name {label}"));
        }
    }
    if !p.is_empty() {
        p.push(format!("stdout: {stdout:?} stderr: {stderr:?}"));
    }
    cell.problems = p;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_against_every_fault_on_every_service() {
    let _heavy = HEAVY.lock().await;
    let started = Instant::now();
    let commands = commands();
    for c in &commands {
        assert!(
            args(c).is_some(),
            "command {c} is new: give it arguments and an environment in this matrix"
        );
    }
    // The baseline row proves every cell can pass; then every fault on every service.
    let mut rows: Vec<(&'static str, Option<&'static str>, Fault)> =
        vec![("none", None, Fault::None)];
    for fault in FAULTS {
        for (label, service) in SERVICES {
            rows.push((label, service, fault));
        }
    }
    // Bounded parallelism: the CLI runs are cheap but the machine has two cores.
    // Most cells wait (on stalls and latency), so more run at once than there are cores.
    let slots = Arc::new(tokio::sync::Semaphore::new(24));
    let mut tasks = Vec::new();
    for (label, service, fault) in rows.clone() {
        let mut commands = commands.clone();
        if runs_ecs(service) {
            commands.extend(ECS_COMMANDS);
        }
        let slots = slots.clone();
        tasks.push(tokio::spawn(async move {
            let emu = world().await;
            let ecs_emu = match runs_ecs(service) {
                true => Some(world_of(true).await),
                false => None,
            };
            for e in std::iter::once(&emu).chain(&ecs_emu) {
                if let Some(mut rule) = fault.rule() {
                    if let Some(s) = service {
                        rule["service"] = json!(s);
                    }
                    let (status, body) = admin(e, "/_scale0/faults", rule).await;
                    assert_eq!(status, 201, "{body}");
                }
            }
            let mut cells = Vec::new();
            let mut runs = Vec::new();
            for command in commands {
                let slots = slots.clone();
                let endpoint = match (&ecs_emu, ECS_COMMANDS.contains(&command)) {
                    (Some(e), true) => e.endpoint_url().to_string(),
                    _ => emu.endpoint_url().to_string(),
                };
                runs.push(tokio::spawn(async move {
                    let _slot = slots.acquire_owned().await.expect("semaphore open");
                    let mut all = vec![
                        "--endpoint-url".to_string(),
                        endpoint,
                        "--region".into(),
                        "us-east-1".into(),
                    ];
                    all.extend(args(command).unwrap_or_default());
                    let home = home();
                    let (code, stdout, stderr, seconds) = tokio::task::spawn_blocking(move || {
                        run_cli(
                            &all,
                            &[("SCALE0_CALL_TIMEOUT", fault.call_timeout())],
                            &home,
                            Duration::from_secs(60),
                        )
                    })
                    .await
                    .expect("cli run");
                    let mut cell = Cell {
                        command,
                        service: label,
                        fault,
                        code,
                        expected: expected(command, service, fault),
                        seconds,
                        problems: Vec::new(),
                    };
                    judge(&mut cell, &stdout, &stderr, label);
                    cell
                }));
            }
            for r in runs {
                cells.push(r.await.expect("cell"));
            }
            emu.shutdown().await;
            if let Some(e) = ecs_emu {
                e.shutdown().await;
            }
            cells
        }));
    }
    let mut cells = Vec::new();
    for t in tasks {
        cells.extend(t.await.expect("row"));
    }
    let mut columns = commands.clone();
    columns.extend(ECS_COMMANDS);
    print_table(&cells, &columns);
    let failures: Vec<String> = cells
        .iter()
        .filter(|c| !c.problems.is_empty())
        .map(|c| {
            format!(
                "{} with {:?} on {}: {}",
                c.command,
                c.fault,
                c.service,
                c.problems.join("; ")
            )
        })
        .collect();
    let slowest = cells.iter().map(|c| c.seconds).fold(0.0, f64::max);
    println!(
        "{} cells in {:.1} s (slowest cell {slowest:.1} s)",
        cells.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cells failed:\n{}",
        failures.len(),
        cells.len(),
        failures.join("\n")
    );
}

/// Rows: fault on service; columns: commands; each cell the exit code, marked when wrong.
fn print_table(cells: &[Cell], commands: &[&str]) {
    let mut rows: BTreeMap<(Fault, &str), BTreeMap<&str, String>> = BTreeMap::new();
    for c in cells {
        let mark = if c.problems.is_empty() { "" } else { "!" };
        rows.entry((c.fault, c.service))
            .or_default()
            .insert(c.command, format!("{}{mark}", c.code));
    }
    let mut out = format!("{:<26}", "fault / service");
    for c in commands {
        out.push_str(&format!(" {c:>8}"));
    }
    out.push('\n');
    for ((fault, service), row) in &rows {
        out.push_str(&format!("{:<26}", format!("{fault:?} / {service}")));
        for c in commands {
            out.push_str(&format!(
                " {:>8}",
                row.get(c).map(String::as_str).unwrap_or("-")
            ));
        }
        out.push('\n');
    }
    println!("{out}");
}
