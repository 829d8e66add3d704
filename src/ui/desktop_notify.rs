//! Desktop notifications for what people wait for with the window in the background: a
//! wake that finished (the app answers), a deploy that ended either way, a keep-awake about
//! to expire (10 minutes before, with "Extend 1 h"), a schedule that failed. One per event
//! (each has an id, remembered), each kind can be turned off in Settings. Sent through the
//! platform's notification service (notify-rust); where there is none, the in-app
//! notification list still has every one of them, and the first failure to reach the
//! service is said once.

use crate::model::EnvKey;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::mpsc;

/// How long before a keep-awake ends its notification comes.
pub const KEEP_AWAKE_WARNING_SECONDS: f64 = 600.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    Wake,
    Deploy,
    KeepAwake,
    Schedule,
}

/// One desktop notification.
#[derive(Clone, Debug, PartialEq)]
pub struct DesktopNote {
    /// The event it tells about: never two notifications with one id.
    pub id: String,
    pub kind: NoticeKind,
    pub title: String,
    pub body: String,
    pub ok: bool,
    /// "Extend 1 h" on a keep-awake about to end: the environment and its current expiry.
    pub extend: Option<(EnvKey, f64)>,
}

/// Which kinds notify (Settings); all on by default.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct NotifySettings {
    pub wake: bool,
    pub deploy: bool,
    pub keep_awake: bool,
    pub schedule: bool,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            wake: true,
            deploy: true,
            keep_awake: true,
            schedule: true,
        }
    }
}

impl NotifySettings {
    pub fn allows(&self, kind: NoticeKind) -> bool {
        match kind {
            NoticeKind::Wake => self.wake,
            NoticeKind::Deploy => self.deploy,
            NoticeKind::KeepAwake => self.keep_awake,
            NoticeKind::Schedule => self.schedule,
        }
    }
}

/// Where notifications go: the platform's service in the app, a recorder in tests.
pub trait Notifier: Send {
    fn show(&self, note: &DesktopNote) -> Result<(), String>;
}

/// The platform's notification service. "Extend 1 h" clicks come back on `extend`.
pub struct PlatformNotifier {
    pub extend: mpsc::Sender<(EnvKey, f64)>,
    /// Wakes the window when a click arrives.
    pub repaint: std::sync::Arc<dyn Fn() + Send + Sync>,
}

impl Notifier for PlatformNotifier {
    fn show(&self, note: &DesktopNote) -> Result<(), String> {
        let mut n = notify_rust::Notification::new();
        n.appname("scale0").summary(&note.title).body(&note.body);
        #[cfg(all(unix, not(target_os = "macos")))]
        if note.extend.is_some() {
            n.action("extend", "Extend 1 h");
        }
        let handle = n.show().map_err(|e| e.to_string())?;
        #[cfg(all(unix, not(target_os = "macos")))]
        if let Some(extend) = note.extend.clone() {
            let (tx, repaint) = (self.extend.clone(), self.repaint.clone());
            // The service answers when the person clicks or the notification closes.
            std::thread::spawn(move || {
                handle.wait_for_action(|action| {
                    if action == "extend" && tx.send(extend).is_ok() {
                        repaint();
                    }
                });
            });
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        drop(handle);
        Ok(())
    }
}

/// What was sent, so each event notifies once, and what the service said when it failed.
#[derive(Default)]
pub struct Notices {
    sent: HashSet<String>,
    pub notifier: Option<Box<dyn Notifier>>,
    /// The first failure to reach the notification service (said once in the app).
    pub unavailable: Option<String>,
}

impl Notices {
    /// Sends `note` unless its kind is off or its event was already told. Returns a
    /// failure to reach the service the first time it happens.
    pub fn notify(&mut self, settings: &NotifySettings, note: DesktopNote) -> Option<String> {
        if !settings.allows(note.kind) || !self.sent.insert(note.id.clone()) {
            return None;
        }
        let notifier = self.notifier.as_ref()?;
        match notifier.show(&note) {
            Ok(()) => None,
            Err(e) if self.unavailable.is_none() => {
                self.unavailable = Some(e.clone());
                Some(e)
            }
            Err(_) => None,
        }
    }
}

/// The keep-awakes in `envs` that end within the warning time after `now`.
pub fn keep_awakes_ending(
    envs: &[crate::model::Environment],
    now: f64,
    tz: &jiff::tz::TimeZone,
) -> Vec<DesktopNote> {
    envs.iter()
        .filter_map(|e| crate::model::plan::keep_awake(e).map(|k| (e, k)))
        .filter(|(_, k)| k.until > now && k.until - now <= KEEP_AWAKE_WARNING_SECONDS)
        .map(|(e, k)| DesktopNote {
            id: format!("keep-awake {} {}", e.key, k.until),
            kind: NoticeKind::KeepAwake,
            title: format!(
                "{}: keep-awake ends in {}",
                e.key.name,
                crate::model::human_duration(k.until - now)
            ),
            body: format!(
                "kept awake by {} until {}; then it sleeps on its own",
                k.by,
                crate::model::plan::wall(k.until, now, tz)
            ),
            ok: true,
            extend: Some((e.key.clone(), k.until)),
        })
        .collect()
}

/// Failed schedule targets: one notification per region and minute.
pub fn schedule_failed(region: &str, minute: f64, failures: f64, group: &str) -> DesktopNote {
    DesktopNote {
        id: format!("schedule {region} {minute}"),
        kind: NoticeKind::Schedule,
        title: format!("a scale0 schedule failed in {region}"),
        body: format!(
            "{failures:.0} target call(s) failed at {} UTC in schedule group {group}; `scale0 schedules` lists them",
            crate::ui::panels::clock_label(minute)
        ),
        ok: false,
        extend: None,
    }
}

impl super::App {
    /// Sends a desktop notification (once per event, if its kind is on); says once in the
    /// app when the platform's service can't be reached.
    pub(super) fn desktop_note(&mut self, note: DesktopNote) {
        if let Some(e) = self.notices.notify(&self.settings.notify, note) {
            self.notify(
                format!("desktop notifications unavailable ({e}); they stay in this list"),
                false,
            );
        }
    }

    /// A wake that finished or a deploy (or rollback) that ended, either way.
    pub(super) fn desktop_action_note(
        &mut self,
        env: &EnvKey,
        action: &crate::actions::Action,
        text: &str,
        ok: bool,
    ) {
        use crate::actions::Action;
        let kind = match action {
            Action::WakeEnv { .. } => NoticeKind::Wake,
            Action::DeployImage { .. } | Action::Rollback { .. } => NoticeKind::Deploy,
            _ => return,
        };
        let outcome = if ok { "done" } else { "did not finish" };
        let now = self.worker.now();
        self.desktop_note(DesktopNote {
            id: format!("{} {env} {now}", action.label()),
            kind,
            title: format!("{}: {} {outcome}", env.name, action.label()),
            body: text.to_string(),
            ok,
            extend: None,
        });
    }

    /// Keep-awakes about to end, from a fresh inventory.
    pub(super) fn desktop_keep_awake_notes(
        &mut self,
        envs: &[crate::model::Environment],
        now: f64,
    ) {
        let tz = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
        for note in keep_awakes_ending(envs, now, &tz) {
            self.desktop_note(note);
        }
    }

    /// "Extend 1 h" clicked on a notification: keep that environment awake an hour longer.
    pub(super) fn take_extend_clicks(&mut self) {
        let clicks: Vec<(EnvKey, f64)> = match &self.extend_clicks {
            Some(rx) => rx.try_iter().collect(),
            None => return,
        };
        for (key, until) in clicks {
            let env = self
                .inventory
                .as_ref()
                .and_then(|i| i.environments.iter().find(|e| e.key == key))
                .cloned();
            match env {
                Some(env) => {
                    let by = std::env::var("USER").unwrap_or_else(|_| "someone".into());
                    self.start(
                        env,
                        crate::actions::Action::KeepAwake {
                            until: until + 3600.0,
                            by,
                        },
                    );
                }
                None => self.notify(
                    format!("{}: no longer listed, not extended", key.name),
                    false,
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    struct Recorder(Arc<Mutex<Vec<String>>>);
    impl Notifier for Recorder {
        fn show(&self, note: &DesktopNote) -> Result<(), String> {
            self.0.lock().expect("recorder").push(note.id.clone());
            Ok(())
        }
    }

    struct NoService;
    impl Notifier for NoService {
        fn show(&self, _: &DesktopNote) -> Result<(), String> {
            Err("no notification service on the session bus".into())
        }
    }

    fn note(id: &str, kind: NoticeKind) -> DesktopNote {
        DesktopNote {
            id: id.into(),
            kind,
            title: id.into(),
            body: String::new(),
            ok: true,
            extend: None,
        }
    }

    #[test]
    fn each_event_notifies_once_and_kinds_can_be_turned_off() {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let mut notices = Notices {
            notifier: Some(Box::new(Recorder(sent.clone()))),
            ..Default::default()
        };
        let mut settings = NotifySettings::default();
        notices.notify(&settings, note("wake dev 1", NoticeKind::Wake));
        notices.notify(&settings, note("wake dev 1", NoticeKind::Wake));
        settings.deploy = false;
        notices.notify(&settings, note("deploy dev 2", NoticeKind::Deploy));
        notices.notify(&settings, note("schedule r 60", NoticeKind::Schedule));
        assert_eq!(
            *sent.lock().expect("recorder"),
            ["wake dev 1", "schedule r 60"]
        );
    }

    #[test]
    fn a_missing_notification_service_is_said_once() {
        let mut notices = Notices {
            notifier: Some(Box::new(NoService)),
            ..Default::default()
        };
        let settings = NotifySettings::default();
        let first = notices.notify(&settings, note("a", NoticeKind::Wake));
        let second = notices.notify(&settings, note("b", NoticeKind::Wake));
        assert!(first.is_some_and(|e| e.contains("session bus")));
        assert_eq!(second, None);
    }

    #[test]
    fn keep_awakes_ending_within_ten_minutes_offer_an_extension() {
        let now = 1_796_083_200.0;
        let with_keep = |name: &str, until: f64| {
            let mut e = crate::model::test_support::environment(name);
            if let Some(db) = e.database.as_mut() {
                db.tags.push((
                    "scale0:keep-awake-until".into(),
                    crate::model::plan::iso(until),
                ));
                db.tags.push(("scale0:keep-awake-by".into(), "dave".into()));
            }
            e
        };
        let envs = [
            with_keep("soon", now + 540.0),
            with_keep("later", now + 3600.0),
            crate::model::test_support::environment("none"),
        ];
        let notes = keep_awakes_ending(&envs, now, &jiff::tz::TimeZone::UTC);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].extend, Some((envs[0].key.clone(), now + 540.0)));
        assert!(
            notes[0].title.contains("soon: keep-awake ends in 9 min"),
            "{}",
            notes[0].title
        );
        assert!(
            notes[0].body.contains("kept awake by dave until"),
            "{}",
            notes[0].body
        );
    }
}
