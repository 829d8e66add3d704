//! The cost of one UI frame (layout and tessellation, no GPU) with 50 environments and
//! 24 h of 1-minute data in every graph; and whether live memory grows frame to frame.
//! Run: bench/frame.sh (cargo run --release --features bench-tools --bin frame-bench)

use scale0::backend::aws::{AwsBackend, ConnectOptions};
use scale0::backend::config::Config;
use scale0::clock::Clock;
use scale0::emulator::seed::EnvSpec;
use scale0::emulator::{Emulator, Options, Seed};
use scale0::model::{EnvMetrics, MetricSeries};
use scale0::ui::worker::Worker;
use scale0::ui::{App, Settings};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

/// Counts live heap bytes, to see whether frames leak or grow.
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

const ENVIRONMENTS: usize = 50;
const FRAMES: usize = 300;

fn day(now: f64, f: impl Fn(usize) -> f64) -> MetricSeries {
    MetricSeries {
        points: (0..1440)
            .map(|i| (now - 86400.0 + i as f64 * 60.0, f(i)))
            .collect(),
    }
}

#[tokio::main]
async fn main() {
    let emu = Emulator::start(Options {
        seed: Seed::Empty,
        speed: 0.0,
        ..Options::default()
    })
    .await
    .expect("emulator");
    for i in 0..ENVIRONMENTS {
        emu.add_environment(EnvSpec::new(
            &format!("dev{i:02}"),
            &format!("owner{}", i % 7),
        ))
        .await
        .expect("environment");
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
    .await
    .expect("backend");
    let inventory = backend.inventory().await.expect("inventory");
    let now = emu.clock().now();
    let metrics: HashMap<_, _> = inventory
        .environments
        .iter()
        .map(|e| {
            let wave = |i: usize, scale: f64| ((i as f64 / 37.0).sin() + 1.0) * scale;
            let m = EnvMetrics {
                active_instances: day(now, |i| wave(i, 2.0).round()),
                concurrency: day(now, |i| wave(i, 80.0)),
                requests: day(now, |i| wave(i, 900.0)),
                status_2xx: day(now, |i| wave(i, 880.0)),
                status_4xx: day(now, |i| wave(i, 3.0)),
                status_5xx: day(now, |i| if i % 97 == 0 { 40.0 } else { 0.0 }),
                latency_p50: day(now, |i| 40.0 + wave(i, 20.0)),
                latency_p99: day(now, |i| 120.0 + wave(i, 90.0)),
                capacity: day(now, |i| {
                    if (i / 120) % 3 == 0 {
                        0.0
                    } else {
                        0.5 + wave(i, 1.5)
                    }
                }),
                acu_utilization: day(now, |i| wave(i, 40.0)),
                connections: day(now, |i| wave(i, 60.0)),
            };
            (e.key.clone(), m)
        })
        .collect();
    emu.shutdown().await;

    let mut app = App::new(
        Worker::detached(Clock::starting_at(now, 0.0)),
        Settings {
            window_seconds: 86400.0,
            ..Settings::default()
        },
    );
    app.load(inventory, metrics, "benchmark");
    let ctx = egui::Context::default();
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1400.0, 1000.0),
        )),
        ..Default::default()
    };
    let mut times = Vec::with_capacity(FRAMES);
    let mut live_at = Vec::new();
    for frame in 0..FRAMES {
        let started = Instant::now();
        let output = ctx.run_ui(input(), |ui| app.show(ui));
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        std::hint::black_box(primitives);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        if frame == 50 || frame == FRAMES - 1 {
            live_at.push(LIVE.load(Ordering::Relaxed));
        }
    }
    let mut sorted = times[10..].to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let p90 = sorted[sorted.len() * 9 / 10];
    println!(
        "one frame, {ENVIRONMENTS} environments, 24 h of 1-minute points in each of 5 graphs, 1400x1000, layout + tessellation"
    );
    println!("  frames:  {FRAMES} (first 10 ignored)");
    println!("  median:  {median:.2} ms   p90: {p90:.2} ms   (goal: median under 4 ms)");
    println!(
        "  live heap after frame 50: {:.1} MB, after frame {FRAMES}: {:.1} MB (growth {:+.1} KB)",
        live_at[0] as f64 / 1e6,
        live_at[1] as f64 / 1e6,
        (live_at[1] - live_at[0]) as f64 / 1e3
    );
}
