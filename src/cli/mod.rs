//! The `scale0` command line. Scripts and CI depend on it: keep subcommands, flags, JSON
//! output (with its schema version) and exit codes stable (README documents them).

mod accounts;
mod burst;
mod commands;
mod emulator;
mod logs;
mod output;
mod plan;

use crate::backend::BackendError;
use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;

/// Exit codes (documented in README).
pub mod exit {
    pub const OK: u8 = 0;
    /// Total failure: nothing reachable, or nothing done (an AWS or network error).
    pub const FAILURE: u8 = 1;
    /// Bad flags or arguments: unknown environment, invalid tag, bad duration, config.
    pub const USAGE: u8 = 2;
    /// Partial: some parts done (or read), some not; or refused in the current state.
    pub const REFUSED: u8 = 3;
    pub const PARTIAL: u8 = 3;
    /// A wait or an AWS call ran out of time.
    pub const TIMEOUT: u8 = 4;
    /// Missing, expired or insufficient credentials.
    pub const CREDENTIALS: u8 = 5;
    /// The account is read-only (scale0's config, or a production name): nothing was done.
    pub const READ_ONLY: u8 = 6;
}

/// The exit code for a failure of `kind` where nothing was done.
pub fn code_for(kind: Option<crate::model::FailureKind>) -> u8 {
    use crate::model::FailureKind as K;
    match kind {
        Some(K::ExpiredCredentials | K::Credentials | K::AccessDenied) => exit::CREDENTIALS,
        Some(K::TimedOut) => exit::TIMEOUT,
        Some(K::BadInput) => exit::USAGE,
        Some(K::Refused) => exit::REFUSED,
        _ => exit::FAILURE,
    }
}

/// The JSON output's schema version; bump it on incompatible changes.
pub const JSON_SCHEMA: u32 = 1;

#[derive(Parser, Debug)]
#[command(
    name = "scale0",
    version = crate::VERSION,
    about = "Manage scale-to-zero developer environments on AWS (App Runner + Aurora + ECR)",
    after_help = "Exit codes:\n  0  all done (also \"nothing to do\")\n  1  total failure: nothing reachable, or nothing done (the endpoint and why)\n  2  bad input or config (flags, unknown environment, a --config that is missing or does not parse)\n  3  partial: some parts done or read, some not (each part named), or refused in this state\n  4  timed out (what was still pending)\n  5  credentials: missing, expired or denied (the command to run)\n  6  read-only account: nothing was done"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Without a command, the desktop app opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// AWS profile (like AWS_PROFILE); repeat for several accounts at once.
    #[arg(long = "profile", global = true, env = "AWS_PROFILE")]
    pub profiles: Vec<String>,
    /// AWS region; repeat for several.
    #[arg(long = "region", global = true)]
    pub regions: Vec<String>,
    /// Send every AWS call to this endpoint (an emulator, LocalStack-style tools).
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
    /// Use the embedded demo region (a running `scale0 emulator`, or one started here).
    #[arg(long, global = true, conflicts_with = "endpoint_url")]
    pub demo: bool,
    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    pub json: bool,
    /// Config file (default: the platform config directory's scale0/config.toml).
    #[arg(long, global = true)]
    pub config: Option<std::path::PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List every environment with its state.
    Envs,
    /// One environment in detail: service, database, image, diagnostics and cost.
    Status { env: String },
    /// The environment's timeline: deployments, pauses, resumes, scaling.
    Events {
        env: String,
        /// How far back (90s, 30m, 24h, 7d; at most 14d).
        #[arg(long, default_value = "24h", value_parser = commands::parse_duration)]
        since: f64,
    },
    /// The images in the environment's repository, newest first.
    Images { env: String },
    /// Wake environment: resume the service, wake or start the database; --wait until the
    /// app answers.
    Wake {
        env: String,
        /// Only the database; leave the service as it is (same as `wake-db`).
        #[arg(long)]
        db_only: bool,
        /// Wait until the service URL answers 2xx.
        #[arg(long)]
        wait: bool,
        /// How long to wait (e.g. 10m; default: the action's, 10m).
        #[arg(long, value_parser = commands::parse_duration)]
        timeout: Option<f64>,
    },
    /// Sleep environment: pause the service so the database auto-pauses; --stop-db also
    /// stops the database.
    Sleep {
        env: String,
        #[arg(long)]
        stop_db: bool,
    },
    /// Wake database: only the database (Data API SELECT 1, v1 capacity, or start it).
    WakeDb {
        env: String,
        #[arg(long, value_parser = commands::parse_duration)]
        timeout: Option<f64>,
    },
    /// Stop database: stop only the database cluster.
    StopDb { env: String },
    /// Start database: start a stopped database cluster.
    StartDb { env: String },
    /// Pause service.
    Pause { env: String },
    /// Resume service (with the image it last ran; says so when a newer one was pushed).
    Resume {
        env: String,
        /// Resume, then deploy the newer image pushed to the service's tag while paused.
        #[arg(long)]
        deploy_newer: bool,
        /// ECS Express: run this many tasks (its minimum), when the size from before the
        /// pause is not recorded.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        tasks: Option<u32>,
    },
    /// Deploy image: a tag or digest of the environment's image repository.
    Deploy {
        env: String,
        #[arg(long, conflicts_with = "digest", required_unless_present = "digest")]
        tag: Option<String>,
        #[arg(long)]
        digest: Option<String>,
        /// Resume a paused service first (otherwise deploying to it is refused).
        #[arg(long)]
        resume: bool,
        /// Wait until the deployment finishes.
        #[arg(long)]
        wait: bool,
        /// How long to wait (default: the action's, 20m).
        #[arg(long, value_parser = commands::parse_duration)]
        timeout: Option<f64>,
    },
    /// Roll back: deploy the image that ran before the last deploy made by scale0.
    Rollback {
        env: String,
        #[arg(long)]
        wait: bool,
        /// How long to wait (default: the action's, 20m).
        #[arg(long, value_parser = commands::parse_duration)]
        timeout: Option<f64>,
    },
    /// Keep awake: hold the database and service awake until a time; EventBridge Scheduler
    /// puts them back to sleep by itself (--cancel ends it now).
    KeepAwake(plan::KeepAwakeArgs),
    /// List scale0's schedules (keep-awakes, sleep windows), or set one: --awake
    /// 08:00-19:00 --days MON-FRI --tz Europe/Berlin; --remove; --stop-after-restart.
    Schedules(plan::SchedulesArgs),
    /// Why isn't it sleeping? What keeps the database awake and the service running.
    Why { env: String },
    /// Send an HTTP load burst to a URL or an environment's service (like hey or oha).
    Burst(Box<burst::BurstArgs>),
    /// Log in to IAM Identity Center (SSO) for --profile, in the browser; the token is
    /// shared with the AWS CLI.
    Login(accounts::LoginArgs),
    /// List the AWS profiles: account, region, credentials, SSO session and login state.
    Profiles,
    /// The environment's logs from CloudWatch Logs (app, deploy, events, db), like
    /// `aws logs tail`; --follow keeps reading.
    Logs(logs::LogsArgs),
    /// Print the config file's path and a commented example.
    Config,
    /// Run the embedded local AWS region in the foreground on 127.0.0.1.
    Emulator(emulator::EmulatorArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging();
    // A burst confined to one core (taskset, a one-CPU container) runs on one thread: the
    // current-thread scheduler costs less per task wake-up than a one-worker pool.
    let one_core = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    let mut builder = if one_core && matches!(cli.command, Some(Command::Burst(_))) {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("scale0: could not start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let json = cli.global.json;
    let Some(command) = cli.command else {
        // The desktop app runs its own worker runtime; the window owns this thread.
        drop(runtime);
        // The desktop app honours the same flags as the commands, --config included.
        let target = crate::backend::session::Target {
            profiles: cli.global.profiles.clone(),
            regions: cli.global.regions.clone(),
            endpoint_url: cli.global.endpoint_url.clone(),
            config_path: cli.global.config.clone(),
            demo: if cli.global.demo {
                crate::backend::session::DemoChoice::Always
            } else {
                crate::backend::session::DemoChoice::WhenNothingConfigured
            },
            operation_timeout: None,
            aws_files: Default::default(),
        };
        return match crate::ui::run(target) {
            Ok(()) => ExitCode::from(exit::OK),
            Err(e) => {
                eprintln!(
                    "scale0: could not open the window: {e}
  (on a server without a display, use the commands: scale0 --help)"
                );
                ExitCode::from(exit::FAILURE)
            }
        };
    };
    if let Command::Completions { shell } = command {
        use clap::CommandFactory;
        clap_complete::generate(shell, &mut Cli::command(), "scale0", &mut std::io::stdout());
        return ExitCode::from(exit::OK);
    }
    let result = runtime.block_on(async {
        match command {
            Command::Emulator(args) => emulator::run(args, cli.global.regions.first().cloned())
                .await
                .map_err(CliError::Other),
            Command::Burst(args) => burst::run(&cli.global, *args).await,
            Command::Login(args) => accounts::login(&cli.global, args).await,
            Command::Profiles => accounts::profiles(&cli.global).await,
            Command::Logs(args) => logs::run(&cli.global, args).await,
            Command::KeepAwake(args) => plan::keep_awake(&cli.global, args).await,
            Command::Schedules(args) => plan::schedules(&cli.global, args).await,
            Command::Why { env } => plan::why(&cli.global, &env).await,
            command => commands::run(&cli.global, command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            let code = e.exit_code();
            if json {
                let body = serde_json::json!({
                    "schema": JSON_SCHEMA,
                    "error": {"kind": e.kind(), "message": e.to_string(), "exit_code": code},
                });
                println!("{body}");
            }
            // Not eprintln!: a closed stderr must not turn an error into a panic.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "scale0: {e:#}");
            ExitCode::from(code)
        }
    }
}

/// An error at the CLI's edge, with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("{0}")]
    Usage(String),
    /// An outcome already printed in full (partial, timed out, failed): the one-line
    /// summary and its code.
    #[error("{message}")]
    Outcome { code: u8, message: String },
    #[error("{0:#}")]
    Other(anyhow::Error),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Backend(e) => match e {
                BackendError::Credentials { .. } | BackendError::AccessDenied(_) => {
                    exit::CREDENTIALS
                }
                BackendError::NotFound(_)
                | BackendError::InvalidInput(_)
                | BackendError::NoRegion(_) => exit::USAGE,
                // Log export off is the environment's state, like a paused service.
                BackendError::Refused(_) | BackendError::NoLogGroup { .. } => exit::REFUSED,
                BackendError::ReadOnly(_) => exit::READ_ONLY,
                BackendError::Timeout(_) => exit::TIMEOUT,
                BackendError::Unknown { kind, .. } => code_for(Some(*kind)),
                BackendError::Aws { .. }
                | BackendError::Unreachable(_)
                | BackendError::Malformed(_)
                | BackendError::Other(_) => exit::FAILURE,
            },
            CliError::Outcome { code, .. } => *code,
            CliError::Usage(_) => exit::USAGE,
            CliError::Other(_) => exit::FAILURE,
        }
    }

    fn kind(&self) -> &'static str {
        match self.exit_code() {
            exit::REFUSED if matches!(self, CliError::Outcome { .. }) => "partial",
            exit::USAGE => "usage",
            exit::REFUSED => "refused",
            exit::TIMEOUT => "timeout",
            exit::CREDENTIALS => "credentials",
            exit::READ_ONLY => "read_only",
            _ => "failure",
        }
    }
}

/// Logs go to stderr, filtered by RUST_LOG (default: scale0's warnings, other crates'
/// errors, so the SDK's notes do not bury the one message that matters). Nothing logged carries
/// credentials: request bodies and headers are never logged.
fn init_logging() {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error,scale0=warn"));
    // At any RUST_LOG: the SDK's credential loaders quote a failing credential_process's
    // output (which may hold the secret) and its command line; our own message says
    // what failed.
    for quiet in [
        "aws_config::profile=off",
        "aws_config::meta::credentials=off",
        "aws_config::credential_process=off",
        "aws_config::sso=off",
    ] {
        if let Ok(d) = quiet.parse() {
            filter = filter.add_directive(d);
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every entry of the action table has a label and (when it acts) a timeout, is in the
    /// palette, and, where it has a CLI subcommand, that subcommand exists.
    #[test]
    fn every_action_is_in_the_palette_and_its_cli_subcommand_exists() {
        use crate::actions::{Context, TABLE, Verb, palette};
        let cli = Cli::command();
        let cx = Context {
            env: None,
            busy: false,
            demo: false,
        };
        let listed = palette::search("", &cx);
        for spec in TABLE {
            assert!(!spec.label.is_empty(), "{:?}", spec.verb);
            if spec.verb != Verb::Palette {
                assert!(
                    listed.iter().any(|e| e.spec.verb == spec.verb),
                    "{:?} is in the palette",
                    spec.verb
                );
            }
            if let Some(name) = spec.cli {
                assert!(
                    cli.find_subcommand(name).is_some(),
                    "{:?}: subcommand {name} exists",
                    spec.verb
                );
            }
        }
    }
}
