//! The environment commands: connect the backend, run one command, print the result.

use super::output;
use super::{CliError, Command, GlobalArgs, JSON_SCHEMA};
use crate::actions::{self, Action};
use crate::backend::config;
use crate::backend::session::{DemoChoice, Session, SessionError, Target};
use crate::backend::{ActionReport, ImageRef, Inventory};
use crate::model::Environment;
use serde_json::json;

/// "90", "90s", "30m", "24h", "7d": seconds, for clap.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (use e.g. 90s, 30m, 24h, 7d)"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("{text:?}: a duration can't be negative"));
    }
    let factor = match unit {
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (use s, m, h or d)"
            ));
        }
    };
    Ok(value * factor)
}

/// Connects as the flags say: --demo (a running emulator, or one started here),
/// --endpoint-url, or AWS's default credential chain; always the server's clock.
pub async fn connect(global: &GlobalArgs) -> Result<Session, CliError> {
    if let Some(url) = &global.endpoint_url {
        let ok = reqwest::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            return Err(CliError::Usage(format!(
                "--endpoint-url {} is not an http(s) URL",
                crate::backend::cut(url, 80)
            )));
        }
    }
    // SCALE0_CALL_TIMEOUT (seconds) bounds each AWS call, retries included (default 30).
    let operation_timeout = match std::env::var("SCALE0_CALL_TIMEOUT") {
        Ok(v) => match v.trim().parse::<f64>() {
            Ok(s) if s > 0.0 && s.is_finite() => Some(std::time::Duration::from_secs_f64(s)),
            _ => {
                return Err(CliError::Usage(format!(
                    "SCALE0_CALL_TIMEOUT={} is not a number of seconds",
                    crate::backend::cut(&v, 40)
                )));
            }
        },
        Err(_) => None,
    };
    let target = Target {
        profiles: global.profiles.clone(),
        regions: global.regions.clone(),
        endpoint_url: global.endpoint_url.clone(),
        config_path: global.config.clone(),
        demo: if global.demo {
            DemoChoice::Always
        } else {
            DemoChoice::Never
        },
        operation_timeout,
        aws_files: Default::default(),
    };
    Session::connect(&target).await.map_err(|e| match e {
        SessionError::Backend(e) => CliError::Backend(e),
        SessionError::Config(e) => CliError::Usage(e.to_string()),
        e @ (SessionError::Demo(_) | SessionError::Runtime(_)) => CliError::Other(e.into()),
    })
}

pub async fn run(global: &GlobalArgs, command: Command) -> Result<(), CliError> {
    if let Command::Config = command {
        let path = global.config.clone().or_else(config::default_path);
        match path {
            Some(p) => println!("# {}\n{}", p.display(), config::EXAMPLE),
            None => println!("{}", config::EXAMPLE),
        }
        return Ok(());
    }
    let connection = connect(global).await?;
    let backend = &connection.backend;
    let inventory = backend.inventory().await?;
    check_inventory(global, &inventory)?;
    let now = backend.clock().now();
    let json = global.json;
    match command {
        Command::Envs => {
            if json {
                print_json(
                    json!({"environments": inventory.environments, "problems": inventory.problems}),
                );
            } else {
                print!("{}", output::envs_table(&inventory.environments, now));
            }
            partial(&inventory, None)?;
        }
        Command::Status { env } => {
            let e = resolve(&inventory, &env)?;
            let day = backend
                .metrics(&e.key.region, &[e], now - 86400.0, now, 3600)
                .await
                .ok()
                .and_then(|m| m.into_iter().next())
                .unwrap_or_default();
            let average = |s: &crate::model::MetricSeries| {
                crate::model::cost::average_over(s, 3600.0, 86400.0)
            };
            let cost = crate::model::cost::estimate(
                e,
                average(&day.active_instances),
                average(&day.capacity),
            );
            let budget = crate::model::diagnose::connection_budget(e);
            let blockers = crate::model::diagnose::pause_blockers(e);
            if json {
                print_json(
                    json!({"environment": e, "summary": e.summary(now), "cost": cost, "connection_budget": budget, "pause_blockers": blockers}),
                );
            } else {
                print!(
                    "{}",
                    output::status(e, now, &cost, budget.as_ref(), &blockers)
                );
            }
            partial(&inventory, Some(e))?;
        }
        Command::Events { env, since } => {
            let e = resolve(&inventory, &env)?;
            let since = since.min(14.0 * 86400.0);
            let events = backend.events(e, since).await?;
            if json {
                print_json(json!({"environment": e.key, "events": events}));
            } else {
                print!("{}", output::events(&events));
            }
            // Without the service or the database, half of the timeline is missing.
            if let Some(u) = e
                .unread(crate::model::Part::Service)
                .or(e.unread(crate::model::Part::Database))
            {
                return Err(CliError::Outcome {
                    code: super::exit::PARTIAL,
                    message: format!(
                        "partial: the {}'s events are missing: {}",
                        u.part.label(),
                        u.error
                    ),
                });
            }
        }
        Command::Images { env } => {
            let e = resolve(&inventory, &env)?;
            // The repository comes from the service: unknown is not "scale0".
            if e.image.is_none()
                && let Some(u) = e.unread(crate::model::Part::Service)
            {
                return Err(CliError::Backend(crate::backend::BackendError::Unknown {
                    kind: u.kind,
                    message: format!("the image repository is unknown: {}", u.error),
                }));
            }
            let (repository, images) = backend.images(e).await?;
            let deployed = e.image.as_ref().and_then(|i| i.digest.clone());
            if json {
                print_json(
                    json!({"environment": e.key, "repository": repository, "deployed_digest": deployed, "images": images}),
                );
            } else {
                print!(
                    "{}",
                    output::images(&repository, &images, deployed.as_deref())
                );
            }
        }
        Command::Wake {
            env,
            db_only,
            wait,
            timeout,
        } => {
            let action = if db_only {
                Action::WakeDb
            } else {
                Action::WakeEnv { wait }
            };
            act(&connection, &inventory, &env, &[action], timeout, json).await?;
        }
        Command::Sleep { env, stop_db } => {
            let mut actions = vec![Action::SleepEnv];
            if stop_db {
                actions.push(Action::StopDb);
            }
            act(&connection, &inventory, &env, &actions, None, json).await?;
        }
        Command::WakeDb { env, timeout } => {
            act(
                &connection,
                &inventory,
                &env,
                &[Action::WakeDb],
                timeout,
                json,
            )
            .await?;
        }
        Command::StopDb { env } => {
            act(&connection, &inventory, &env, &[Action::StopDb], None, json).await?;
        }
        Command::StartDb { env } => {
            act(
                &connection,
                &inventory,
                &env,
                &[Action::StartDb],
                None,
                json,
            )
            .await?;
        }
        Command::Pause { env } => {
            act(
                &connection,
                &inventory,
                &env,
                &[Action::PauseService],
                None,
                json,
            )
            .await?;
        }
        Command::Resume {
            env,
            deploy_newer,
            tasks,
        } => {
            let e = resolve(&inventory, &env)?;
            let newer = e.image.as_ref().filter(|i| i.newer_waiting);
            let action = match (deploy_newer, newer.and_then(|i| i.tag.clone())) {
                (true, _) if tasks.is_some() => {
                    return Err(CliError::Usage(
                        "give --tasks or --deploy-newer, not both: resume with --tasks first"
                            .into(),
                    ));
                }
                // Resume-then-deploy: the deploy with --resume does both, in order.
                (true, Some(tag)) => Action::DeployImage {
                    image: ImageRef::Tag(tag),
                    resume: true,
                    wait: false,
                },
                (true, None) => {
                    return Err(CliError::Usage(format!(
                        "no newer image is waiting for {}: run scale0 resume {env}",
                        e.key.name
                    )));
                }
                (false, _) => {
                    // Said before acting, so nobody expects the new image after it.
                    if let Some(note) = crate::backend::newer_image_note(e) {
                        eprintln!("scale0: note: {note}");
                    }
                    Action::ResumeService { tasks }
                }
            };
            act(&connection, &inventory, &env, &[action], None, json).await?;
        }
        Command::Deploy {
            env,
            tag,
            digest,
            resume,
            wait,
            timeout,
        } => {
            let image = match (tag, digest) {
                (Some(t), None) => ImageRef::Tag(t),
                (None, Some(d)) => ImageRef::Digest(d),
                _ => {
                    return Err(CliError::Usage(
                        "give exactly one of --tag or --digest".into(),
                    ));
                }
            };
            image.validate()?;
            let action = Action::DeployImage {
                image,
                resume,
                wait,
            };
            act(&connection, &inventory, &env, &[action], timeout, json).await?;
        }
        Command::Rollback { env, wait, timeout } => {
            let action = Action::Rollback { wait };
            act(&connection, &inventory, &env, &[action], timeout, json).await?;
        }
        Command::Config
        | Command::Emulator(_)
        | Command::Burst(_)
        | Command::Login(_)
        | Command::Profiles
        | Command::Logs(_)
        | Command::KeepAwake(_)
        | Command::Schedules(_)
        | Command::Why { .. }
        | Command::Completions { .. } => {}
    }
    Ok(())
}

/// Runs actions on one environment through the action table (the same preconditions and
/// timeouts as the desktop app), one after the other, then prints the outcome.
pub(super) async fn act(
    connection: &Session,
    inventory: &Inventory,
    wanted: &str,
    actions: &[Action],
    timeout: Option<f64>,
    json: bool,
) -> Result<(), CliError> {
    let mut env = resolve(inventory, wanted)?.clone();
    let mut report = ActionReport {
        env: Some(env.key.clone()),
        ..ActionReport::default()
    };
    for (i, action) in actions.iter().enumerate() {
        if i > 0 {
            // The next action's precondition is checked on the state the last one left.
            let fresh = connection.backend.inventory().await?;
            env = fresh.resolve(wanted)?.clone();
        }
        let part = actions::run(&connection.backend, &env, action, timeout).await?;
        report.steps.extend(part.steps);
        report.left.extend(part.left);
        report.parts.extend(part.parts);
    }
    finish(connection, &env, &report, json).await?;
    verdict(&report)
}

/// The exit code an action's parts add up to: 0 only if each part did what it said.
fn verdict(report: &ActionReport) -> Result<(), CliError> {
    use crate::backend::{Outcome, Verdict};
    let named = |keep: &dyn Fn(Outcome) -> bool| {
        report
            .parts
            .iter()
            .filter(|p| keep(p.outcome))
            .map(|p| format!("{}: {}", p.part, p.detail))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let not_done = |o: Outcome| matches!(o, Outcome::Failed | Outcome::Unknown | Outcome::TimedOut);
    let (code, message) = match report.verdict() {
        Verdict::Done => return Ok(()),
        Verdict::Partial => (
            super::exit::PARTIAL,
            format!("partial: {}", named(&not_done)),
        ),
        Verdict::TimedOut => (
            super::exit::TIMEOUT,
            format!(
                "timed out; still pending: {}",
                named(&|o| o == Outcome::TimedOut)
            ),
        ),
        Verdict::Failed(kind) => (
            super::code_for(kind),
            format!("nothing done: {}", named(&not_done)),
        ),
    };
    Err(CliError::Outcome { code, message })
}

/// Warns of each failed read; fails at once when credentials failed anywhere (they are
/// the same for every service) or when nothing at all could be read.
pub(super) fn check_inventory(global: &GlobalArgs, inventory: &Inventory) -> Result<(), CliError> {
    use crate::model::FailureKind as K;
    for problem in &inventory.problems {
        eprintln!("scale0: warning: can't read {problem}");
    }
    // With several accounts, one account's credentials are its problem (a partial
    // result); with one, nothing can be read.
    if let Some(f) = inventory
        .failures
        .iter()
        .find(|f| matches!(f.kind, K::ExpiredCredentials | K::Credentials) && f.account.is_empty())
    {
        return Err(CliError::Outcome {
            code: super::exit::CREDENTIALS,
            message: format!(
                "{}: {}: run `aws sso login` or `aws configure` (or set AWS_PROFILE), then try again",
                f.service, f.message
            ),
        });
    }
    if inventory.environments.is_empty() && !inventory.failures.is_empty() {
        return Err(nothing_reachable(global, inventory));
    }
    Ok(())
}

/// Finds an environment; one that is not found while reads failed may exist unseen.
pub(super) fn resolve<'a>(
    inventory: &'a Inventory,
    wanted: &str,
) -> Result<&'a Environment, CliError> {
    match inventory.resolve(wanted) {
        Ok(e) => Ok(e),
        Err(e @ crate::backend::BackendError::NotFound(_)) if !inventory.failures.is_empty() => {
            let kind = crate::backend::common_kind(&inventory.failures);
            Err(CliError::Outcome {
                code: super::code_for(kind),
                message: format!(
                    "{e}; it may exist: {}",
                    inventory
                        .failures
                        .iter()
                        .map(|f| format!("{} could not be read ({})", f.service, f.kind.label()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Exit 3 when what was shown is incomplete: some reads failed (all, or `env`'s).
fn partial(inventory: &Inventory, env: Option<&Environment>) -> Result<(), CliError> {
    let missing: Vec<String> = match env {
        Some(e) => e
            .unread
            .iter()
            .map(|u| format!("{} {}", u.part.label(), u.kind.label()))
            .collect(),
        None => inventory
            .failures
            .iter()
            .map(|f| format!("{} {} {}", f.region, f.service, f.kind.label()))
            .collect(),
    };
    if missing.is_empty() {
        return Ok(());
    }
    Err(CliError::Outcome {
        code: super::exit::PARTIAL,
        message: format!("partial: could not read {}", missing.join(", ")),
    })
}

/// Total failure, in one plain sentence: which endpoint, and why.
fn nothing_reachable(global: &GlobalArgs, inventory: &Inventory) -> CliError {
    let kind = crate::backend::common_kind(&inventory.failures);
    let place = match &global.endpoint_url {
        Some(url) => crate::backend::cut(url, 80),
        None => format!(
            "AWS in {}",
            inventory
                .failures
                .iter()
                .map(|f| f.region.as_str())
                .filter(|r| !r.is_empty())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let why = match kind {
        Some(k) => {
            let services: Vec<&str> = inventory
                .failures
                .iter()
                .map(|f| f.service.as_str())
                .collect();
            format!("{} ({})", k.label(), services.join(", "))
        }
        None => inventory
            .failures
            .iter()
            .map(|f| format!("{} {}", f.service, f.kind.label()))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let first = inventory
        .failures
        .first()
        .map(|f| f.message.clone())
        .unwrap_or_default();
    CliError::Outcome {
        code: super::code_for(kind),
        message: format!("nothing could be read from {place}: {why}; first error: {first}"),
    }
}

/// Prints what an action did, what is left, and the state it left behind.
async fn finish(
    connection: &Session,
    env: &Environment,
    report: &ActionReport,
    json: bool,
) -> Result<(), CliError> {
    let backend = &connection.backend;
    let after: Option<Inventory> = backend.inventory().await.ok();
    let state = after
        .as_ref()
        .and_then(|i| i.resolve(&env.key.to_string()).ok())
        .cloned();
    let now = backend.clock().now();
    if json {
        print_json(json!({
            "environment": env.key,
            "steps": report.steps,
            "left": report.left,
            "parts": report.parts,
            "outcome": match report.verdict() {
                crate::backend::Verdict::Done => "done",
                crate::backend::Verdict::Partial => "partial",
                crate::backend::Verdict::TimedOut => "timed_out",
                crate::backend::Verdict::Failed(_) => "failed",
            },
            "state": state.as_ref().map(|s| s.summary(now)),
            "state_unread": state.as_ref().map(|s| &s.unread),
        }));
    } else {
        print!("{}", output::report(report, state.as_ref(), now));
    }
    Ok(())
}

pub(super) fn print_json(mut value: serde_json::Value) {
    if let Some(map) = value.as_object_mut() {
        map.insert("schema".into(), json!(JSON_SCHEMA));
    }
    println!("{value:#}");
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_parse_with_units_and_refuse_nonsense() {
        assert_eq!(parse_duration("90"), Ok(90.0));
        assert_eq!(parse_duration("30m"), Ok(1800.0));
        assert_eq!(parse_duration("24h"), Ok(86400.0));
        assert_eq!(parse_duration("1.5d"), Ok(129600.0));
        assert!(parse_duration("-5m").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
