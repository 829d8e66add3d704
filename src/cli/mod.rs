//! The `scale0` command line. Scripts depend on it: keep subcommands, flags, output and
//! exit codes stable (README documents them).

mod emulator;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit codes (documented in README).
pub mod exit {
    pub const OK: u8 = 0;
    /// Something failed that is not one of the cases below.
    pub const FAILURE: u8 = 1;
    /// Bad flags or arguments.
    pub const USAGE: u8 = 2;
}

#[derive(Parser, Debug)]
#[command(
    name = "scale0",
    version,
    about = "Manage scale-to-zero developer environments on AWS (App Runner + Aurora + ECR)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the embedded local AWS region in the foreground on 127.0.0.1.
    Emulator(emulator::EmulatorArgs),
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("scale0: could not start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Emulator(args) => emulator::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("scale0: {e:#}");
            ExitCode::from(exit::FAILURE)
        }
    }
}

/// Logs go to stderr, filtered by RUST_LOG (default: warnings). Nothing logged carries
/// credentials: request bodies and headers are never logged.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
