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
    let target = Target {
        profile: global.profile.clone(),
        regions: global.regions.clone(),
        endpoint_url: global.endpoint_url.clone(),
        config_path: global.config.clone(),
        demo: if global.demo {
            DemoChoice::Always
        } else {
            DemoChoice::Never
        },
        operation_timeout: None,
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
    for problem in &inventory.problems {
        eprintln!("scale0: warning: {problem}");
    }
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
        }
        Command::Status { env } => {
            let e = inventory.resolve(&env)?;
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
        }
        Command::Events { env, since } => {
            let e = inventory.resolve(&env)?;
            let since = since.min(14.0 * 86400.0);
            let events = backend.events(e, since).await?;
            if json {
                print_json(json!({"environment": e.key, "events": events}));
            } else {
                print!("{}", output::events(&events));
            }
        }
        Command::Images { env } => {
            let e = inventory.resolve(&env)?;
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
        Command::Resume { env } => {
            act(
                &connection,
                &inventory,
                &env,
                &[Action::ResumeService],
                None,
                json,
            )
            .await?;
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
    let mut env = inventory.resolve(wanted)?.clone();
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
    }
    finish(connection, &env, &report, json).await
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
            "state": state.as_ref().map(|s| s.summary(now)),
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
