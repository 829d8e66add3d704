//! The cost of one UI frame (layout and tessellation, no GPU) at team scale, and the live
//! heap. Two paths in one run, on the same environments and the same 1-minute data:
//!
//! - baseline: what the app did before issue 20: the selected environment's graphs hold
//!   every 1-minute point of the window and every frame rebuilds the list rows and
//!   reduces every series again (this baseline is kind to the old app: its sparklines are
//!   not re-reduced each frame and only one copy of the data is held, where it held two);
//! - new: the app as it is: the window read at the period it would ask CloudWatch for,
//!   sparklines of the last hour, reductions and rows kept until something changes.
//!
//! Run: bench/frame.sh [--environments N] [--days D] [--frames F]
//! (cargo run --release --features bench-tools --bin frame-bench -- ...)

use clap::Parser;
use scale0::backend::aws::{AwsBackend, ConnectOptions};
use scale0::backend::config::Config;
use scale0::backend::metrics::period_for;
use scale0::clock::Clock;
use scale0::emulator::seed::EnvSpec;
use scale0::emulator::{Emulator, Options, Seed};
use scale0::model::{EnvKey, EnvMetrics, MetricSeries};
use scale0::ui::worker::Worker;
use scale0::ui::{App, Settings};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

/// Counts live heap bytes.
struct Counting;
static LIVE: AtomicI64 = AtomicI64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[derive(Parser)]
#[command(about = "UI frame cost and live heap at team scale (baseline and new path)")]
struct Args {
    /// Environments in the list.
    #[arg(long, default_value_t = 50)]
    environments: usize,
    /// Days of 1-minute history in every series (and the graphs' window).
    #[arg(long, default_value_t = 1.0)]
    days: f64,
    /// Frames timed per path (the first 10 are not counted).
    #[arg(long, default_value_t = 300)]
    frames: usize,
}

fn mb(bytes: i64) -> f64 {
    bytes as f64 / 1e6
}

/// Every series of one environment at 1-minute points over `span` seconds.
fn one_minute(now: f64, span: f64) -> EnvMetrics {
    let n = (span / 60.0) as usize;
    let series = |f: &dyn Fn(usize) -> f64| MetricSeries {
        points: (0..n)
            .map(|i| (now - span + i as f64 * 60.0, f(i)))
            .collect(),
    };
    let wave = |i: usize, scale: f64| ((i as f64 / 37.0).sin() + 1.0) * scale;
    EnvMetrics {
        active_instances: series(&|i| wave(i, 2.0).round()),
        concurrency: series(&|i| wave(i, 80.0)),
        requests: series(&|i| wave(i, 900.0)),
        status_2xx: series(&|i| wave(i, 880.0)),
        status_4xx: series(&|i| wave(i, 3.0)),
        status_5xx: series(&|i| if i % 97 == 0 { 40.0 } else { 0.0 }),
        latency_p50: series(&|i| 40.0 + wave(i, 20.0)),
        latency_p99: series(&|i| 120.0 + wave(i, 90.0)),
        capacity: series(&|i| {
            if (i / 120) % 3 == 0 {
                0.0
            } else {
                0.5 + wave(i, 1.5)
            }
        }),
        acu_utilization: series(&|i| wave(i, 40.0)),
        connections: series(&|i| wave(i, 60.0)),
        cpu: series(&|i| wave(i, 30.0)),
    }
}

/// What CloudWatch answers for `period`: one point per period (the bucket's mean stands for
/// any statistic here; the frame cost depends on the count, not the values).
fn at_period(m: &EnvMetrics, period: f64) -> EnvMetrics {
    let coarse = |s: &MetricSeries| {
        let mut out: Vec<(f64, f64)> = Vec::new();
        let mut bucket = (f64::NAN, 0.0, 0usize);
        for &(t, v) in &s.points {
            let start = (t / period).floor() * period;
            if start != bucket.0 && bucket.2 > 0 {
                out.push((bucket.0, bucket.1 / bucket.2 as f64));
                bucket = (start, 0.0, 0);
            }
            bucket.0 = start;
            bucket.1 += v;
            bucket.2 += 1;
        }
        if bucket.2 > 0 {
            out.push((bucket.0, bucket.1 / bucket.2 as f64));
        }
        MetricSeries { points: out }
    };
    EnvMetrics {
        active_instances: coarse(&m.active_instances),
        concurrency: coarse(&m.concurrency),
        requests: coarse(&m.requests),
        status_2xx: coarse(&m.status_2xx),
        status_4xx: coarse(&m.status_4xx),
        status_5xx: coarse(&m.status_5xx),
        latency_p50: coarse(&m.latency_p50),
        latency_p99: coarse(&m.latency_p99),
        capacity: coarse(&m.capacity),
        acu_utilization: coarse(&m.acu_utilization),
        connections: coarse(&m.connections),
        cpu: coarse(&m.cpu),
    }
}

struct Measured {
    median: f64,
    p90: f64,
    live: i64,
}

/// Times `frames` frames of `app` at 1400x1000; `each_frame` runs before every frame.
fn time_frames(app: &mut App, frames: usize, mut each_frame: impl FnMut(&mut App)) -> Measured {
    let ctx = egui::Context::default();
    let mut times = Vec::with_capacity(frames);
    for frame in 0..frames {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1400.0, 1000.0),
            )),
            // Time moves as in a window at 60 frames a second.
            time: Some(frame as f64 / 60.0),
            ..Default::default()
        };
        each_frame(app);
        let started = Instant::now();
        let mut output = ctx.run_ui(input, |ui| app.show(ui));
        let primitives =
            ctx.tessellate(std::mem::take(&mut output.shapes), output.pixels_per_point);
        std::hint::black_box(primitives);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        output.textures_delta.clear();
    }
    let mut sorted = times[10.min(frames / 2)..].to_vec();
    sorted.sort_by(f64::total_cmp);
    Measured {
        median: sorted[sorted.len() / 2],
        p90: sorted[sorted.len() * 9 / 10],
        live: LIVE.load(Ordering::Relaxed),
    }
}

fn app_at(now: f64, window: f64) -> App {
    App::new(
        Worker::detached(Clock::starting_at(now, 0.0)),
        Settings {
            window_seconds: window,
            ..Settings::default()
        },
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let span = args.days * 86400.0;
    let emu = Emulator::start(Options {
        seed: Seed::Empty,
        speed: 0.0,
        ..Options::default()
    })
    .await?;
    for i in 0..args.environments {
        let spec = EnvSpec::new(&format!("dev{i:03}"), &format!("owner{}", i % 7));
        emu.add_environment(spec).await?;
    }
    let backend = AwsBackend::connect(
        ConnectOptions {
            endpoint_url: Some(emu.endpoint_url().to_string()),
            regions: vec!["us-east-1".into()],
            demo_credentials: true,
            ..ConnectOptions::default()
        },
        Config::default(),
        scale0::backend::server_clock::TimeSource::Shared(emu.clock().clone()),
    )
    .await?;
    let inventory = backend.inventory().await?;
    let now = emu.clock().now();
    drop(backend);
    emu.shutdown().await;
    let selected = inventory
        .environments
        .first()
        .map(|e| e.key.clone())
        .ok_or_else(|| anyhow::anyhow!("no environments"))?;

    let before_data = LIVE.load(Ordering::Relaxed);
    let full: HashMap<EnvKey, EnvMetrics> = inventory
        .environments
        .iter()
        .map(|e| (e.key.clone(), one_minute(now, span)))
        .collect();
    let data_bytes = LIVE.load(Ordering::Relaxed) - before_data;

    // Baseline: every point held, everything rebuilt every frame.
    let mut old = app_at(now, span);
    old.load(inventory.clone(), full.clone(), "benchmark");
    let baseline = time_frames(&mut old, args.frames, App::forget_frame_caches);
    drop(old);

    // New: the selected window at the period the app reads it at; the full data goes.
    let period = period_for(span);
    let mut delivered = full;
    if let Some(m) = delivered.get_mut(&selected) {
        *m = at_period(m, f64::from(period));
    }
    let mut new = app_at(now, span);
    new.load(inventory, delivered, "benchmark");
    let new_measured = time_frames(&mut new, args.frames, |_| {});

    println!(
        "one frame at 1400x1000 (layout + tessellation, no GPU): {} environments x {} days of \
         1-minute points ({} points per series), {} frames per path, first 10 not counted",
        args.environments,
        args.days,
        (span / 60.0) as usize,
        args.frames
    );
    println!(
        "1-minute data for every series of every environment: {:.1} MB",
        mb(data_bytes)
    );
    println!();
    println!("| path | median frame | p90 | live heap |");
    println!("|---|---|---|---|");
    println!(
        "| baseline (every point, rebuilt each frame) | {:.2} ms | {:.2} ms | {:.1} MB |",
        baseline.median,
        baseline.p90,
        mb(baseline.live)
    );
    println!(
        "| new (window at {period} s points, kept until changed) | {:.2} ms | {:.2} ms | {:.1} MB |",
        new_measured.median,
        new_measured.p90,
        mb(new_measured.live)
    );
    println!(
        "| new / baseline | {:.2}x | {:.2}x | {:.2}x |",
        new_measured.median / baseline.median,
        new_measured.p90 / baseline.p90,
        new_measured.live as f64 / baseline.live as f64
    );
    println!();
    println!("goals (issue 20): median under 2 ms, p90 under 4 ms, live heap under 100 MB");
    Ok(())
}
