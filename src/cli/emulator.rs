//! `scale0 emulator`: the local region in the foreground.

use crate::emulator::{Emulator, Options, Seed};
use anyhow::Context;
use std::io::Write;

#[derive(clap::Args, Debug)]
pub struct EmulatorArgs {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Emulated seconds per real second (0 freezes the clock; advance it with
    /// POST /_scale0/clock/advance). It compresses database pause and resume, scaling
    /// and deployment delays; the apps' CPU service time is real time at any speed
    /// (it is what a burst measures).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Start with no environments instead of the demo world.
    #[arg(long, conflicts_with = "world")]
    pub empty: bool,
    /// Start with the environments of this world file (TOML; see README) instead of the
    /// demo world.
    #[arg(long, value_name = "FILE")]
    pub world: Option<std::path::PathBuf>,
}

/// `region` (the global --region, first one) names the region in ARNs and URLs.
pub async fn run(args: EmulatorArgs, region: Option<String>) -> anyhow::Result<()> {
    let world = match &args.world {
        Some(path) => Some(crate::emulator::world_file::load(path)?),
        None => None,
    };
    let emulator = Emulator::start(Options {
        port: args.port,
        speed: args.speed,
        seed: if args.empty || world.is_some() {
            Seed::Empty
        } else {
            Seed::Demo
        },
        region: region.unwrap_or_else(|| "us-east-1".into()),
        start_time: None,
    })
    .await
    .context("could not start the emulator")?;
    for env in world.unwrap_or_default() {
        let name = env.env.clone();
        emulator
            .add_environment(env)
            .await
            .with_context(|| format!("could not add environment {name}"))?;
    }
    let record = crate::emulator::runtime_record::write(emulator.endpoint_url());
    if let Err(e) = &record {
        tracing::warn!(error = %e, "could not record the emulator endpoint");
    }
    // The endpoint is the first line of stdout, for scripts.
    let mut out = std::io::stdout();
    writeln!(out, "{}", emulator.endpoint_url())?;
    out.flush()?;
    eprintln!(
        "scale0 emulator: region {} at {} (speed {}x). Ctrl-C to stop.",
        emulator.with_world(|w, _| w.region.clone()),
        emulator.endpoint_url(),
        emulator.clock().speed()
    );
    wait_for_signal().await;
    if let Ok(path) = record {
        crate::emulator::runtime_record::remove(&path, emulator.endpoint_url());
    }
    emulator.shutdown().await;
    eprintln!("scale0 emulator: stopped");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
