//! The desktop app: every environment at a glance, live, with one-click actions. View
//! state only; the worker does all I/O. An app shell (app.rs) draws panels (panels/) from
//! plain view models (view.rs); every user action comes from the action table
//! (crate::actions) through `Intent::Invoke`.

pub mod accounts;
mod app;
mod app_actions;
pub mod burst;
pub mod desktop_notify;
mod events;
pub mod intent;
mod list_cache;
pub mod logs;
pub mod panels;
pub mod plot;
mod preload;
pub mod repaint;
pub mod settings;
pub mod theme;
pub mod view;
pub mod worker;

pub use app::App;
pub use panels::notifications::Notification;
pub use settings::Settings;

use crate::backend::session::DemoChoice;
use egui::Ui;
use worker::Worker;

/// eframe's entry: the App plus persistence.
pub struct DesktopApp {
    pub app: App,
    /// `SCALE0_LOG_FRAMES=1`: one line on stderr per frame drawn, for the idle bench.
    log_frames: bool,
    frames: u64,
}

impl eframe::App for DesktopApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.app.show(ui);
        if self.log_frames {
            self.frames += 1;
            eprintln!("scale0 frame {} at {:.3}", self.frames, self.app.now());
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.app.settings);
    }
}

/// Opens the window. `demo` forces the embedded region; otherwise AWS's default chain,
/// falling back to the demo region (marked) only when there are no credentials at all.
pub fn run(target: worker::Target) -> Result<(), eframe::Error> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_inner_size([1400.0, 900.0])
        .with_title("scale0")
        .with_app_id("scale0");
    // The icon is embedded at build time, so the binary runs from any directory.
    if let Ok(icon) = eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon-256.png"))
    {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    eframe::run_native(
        "scale0",
        options,
        Box::new(move |cc| {
            let settings: Settings = cc
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default();
            let mut target = target;
            if target.profiles.is_empty() {
                target.profiles = settings.profiles();
            }
            if target.regions.is_empty() {
                target.regions = settings.regions();
            }
            theme::apply(&cc.egui_ctx);
            let ctx = cc.egui_ctx.clone();
            let config_path = target.config_path.clone();
            let worker = Worker::spawn(target, move |within| ctx.request_repaint_after(within));
            let mut app = App::new(worker, settings);
            app.config_path = config_path;
            let (extend, clicks) = std::sync::mpsc::channel();
            let ctx = cc.egui_ctx.clone();
            app.notices.notifier = Some(Box::new(desktop_notify::PlatformNotifier {
                extend,
                repaint: std::sync::Arc::new(move || ctx.request_repaint()),
            }));
            app.extend_clicks = Some(clicks);
            Ok(Box::new(DesktopApp {
                app,
                log_frames: std::env::var_os("SCALE0_LOG_FRAMES").is_some(),
                frames: 0,
            }))
        }),
    )
}
