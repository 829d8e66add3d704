//! Desktop notifications from the real app against the demo region: a wake that finished,
//! a keep-awake about to end (with "Extend 1 h" clicked), a schedule that failed; each once.

use crate::backend::backend;
use crate::common::*;
use crate::ui::{harness, has_label, step_until};
use egui_kittest::kittest::Queryable;
use scale0::emulator::Seed;
use scale0::ui::desktop_notify::{DesktopNote, NoticeKind, Notifier};
use std::sync::{Arc, Mutex};

struct Recorder(Arc<Mutex<Vec<DesktopNote>>>);

impl Notifier for Recorder {
    fn show(&self, note: &DesktopNote) -> Result<(), String> {
        self.0.lock().expect("recorder").push(note.clone());
        Ok(())
    }
}

fn of_kind(notes: &Arc<Mutex<Vec<DesktopNote>>>, kind: NoticeKind) -> Vec<DesktopNote> {
    let all = notes.lock().expect("recorder");
    all.iter().filter(|n| n.kind == kind).cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_notifications_come_once_per_event_and_extend_keeps_awake() {
    let emu = emulator(Seed::Demo).await;
    let b = backend(&emu).await;
    let mut h = harness(&emu, b);
    let notes = Arc::new(Mutex::new(Vec::new()));
    h.state_mut().notices.notifier = Some(Box::new(Recorder(notes.clone())));
    let (clicks, clicked) = std::sync::mpsc::channel();
    h.state_mut().extend_clicks = Some(clicked);
    step_until(&mut h, &emu, 0.0, "the environment list", |h| {
        has_label(h, "carol")
    });
    h.run_steps(4);

    // A wake that finishes: one notification, when the app answers.
    h.get_by_label("carol").click();
    step_until(&mut h, &emu, 0.0, "carol selected", |h| {
        h.state().settings.selected.as_deref() == Some("us-east-1/carol")
    });
    h.run_steps(2);
    h.get_by_label("Wake environment").click();
    // While it runs, the action bar says for how long, and how long it may take at most.
    h.run_steps(2);
    assert!(
        has_label(&h, "Wake environment: running 0:0") && has_label(&h, "(gives up after "),
        "the running action shows its elapsed time"
    );
    step_until(&mut h, &emu, 5.0, "carol's wake to finish", |h| {
        h.state()
            .notifications
            .iter()
            .any(|n| n.text.contains("Wake environment done"))
    });
    let wakes = of_kind(&notes, NoticeKind::Wake);
    assert_eq!(wakes.len(), 1, "{wakes:?}");
    assert!(wakes[0].ok && wakes[0].title.contains("carol: Wake environment done"));

    // A schedule in scale0's group whose target fails (the cluster does not exist).
    let scheduler = crate::scheduler::scheduler(&emu).await;
    let _ = scheduler
        .create_schedule_group()
        .name("scale0")
        .send()
        .await;
    let at = scale0::model::plan::iso(emu.clock().now() + 60.0);
    scheduler
        .create_schedule()
        .group_name("scale0")
        .name("stop-nothing")
        .schedule_expression(format!("at({})", at.trim_end_matches('Z')))
        .flexible_time_window(crate::scheduler::off())
        .target(crate::scheduler::target(
            "arn:aws:scheduler:::aws-sdk:rds:stopDBCluster",
            serde_json::json!({"DbClusterIdentifier": "no-such-cluster"}),
        ))
        .send()
        .await
        .expect("create the failing schedule");
    step_until(
        &mut h,
        &emu,
        5.0,
        "the schedule failure notification",
        |_| !of_kind(&notes, NoticeKind::Schedule).is_empty(),
    );

    // Keep dave awake for 2 h; 1 h 52 min later the notification offers an extension.
    h.get_by_label("dave").click();
    step_until(&mut h, &emu, 0.0, "dave selected", |h| {
        h.state().settings.selected.as_deref() == Some("us-east-1/dave")
    });
    h.run_steps(2);
    h.key_press(egui::Key::A);
    step_until(&mut h, &emu, 0.0, "the keep-awake", |h| {
        h.state()
            .notifications
            .iter()
            .any(|n| n.text.contains("Keep awake 2 h done"))
    });
    emu.advance(2.0 * 3600.0 - 8.0 * 60.0);
    step_until(&mut h, &emu, 1.0, "the keep-awake warning", |_| {
        !of_kind(&notes, NoticeKind::KeepAwake).is_empty()
    });
    let warning = of_kind(&notes, NoticeKind::KeepAwake).remove(0);
    let (key, until) = warning.extend.clone().expect("an Extend 1 h offer");
    assert_eq!(key.name, "dave");
    assert!(
        warning.title.contains("dave: keep-awake ends in"),
        "{warning:?}"
    );
    // The person clicks "Extend 1 h" on the notification.
    clicks.send((key, until)).expect("the app listens");
    step_until(&mut h, &emu, 1.0, "the extension", |h| {
        h.state()
            .notifications
            .iter()
            .filter(|n| n.text.contains("Keep awake") && n.text.contains("done"))
            .count()
            >= 2
    });
    let kept = emu.with_world(|w, _| {
        let c = &w.clusters[w.cluster_index("scale0dave").expect("dave's cluster")];
        c.tags
            .iter()
            .find(|(k, _)| k == "scale0:keep-awake-until")
            .map(|(_, v)| v.clone())
    });
    assert_eq!(kept, Some(scale0::model::plan::iso(until + 3600.0)));
    // More refreshes: still one notification per event.
    for _ in 0..40 {
        h.step();
        emu.advance(5.0);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(of_kind(&notes, NoticeKind::KeepAwake).len(), 1);
    assert_eq!(of_kind(&notes, NoticeKind::Wake).len(), 1);
    let schedule = of_kind(&notes, NoticeKind::Schedule);
    assert_eq!(schedule.len(), 1, "{schedule:?}");
    assert!(
        schedule[0].body.contains("schedule group scale0"),
        "{schedule:?}"
    );
}
