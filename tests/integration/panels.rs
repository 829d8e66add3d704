//! Every panel drawn alone from a hand-made view model, no backend: an AccessKit snapshot
//! per panel (the roles, labels, values and disabled states a screen reader and these
//! tests see, compared with tests/snapshots/panels/*.txt; `UPDATE_SNAPSHOTS=1` rewrites
//! them), plus behaviour queries on what the person can do.

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use scale0::actions::{Context, Verb};
use scale0::model::*;
use scale0::ui::burst::{BurstForm, Shape};
use scale0::ui::intent::Intent;
use scale0::ui::panels;
use scale0::ui::view::{self, BurstView, GraphsView, HeaderView, Problem, ProblemsView};
use std::collections::HashMap;
use std::path::PathBuf;

pub(crate) const NOW: f64 = 1_795_428_000.0;

pub(crate) fn service(name: &str, status: ServiceStatus) -> ServiceState {
    ServiceState {
        name: format!("scale0-{name}"),
        arn: format!("arn:aws:apprunner:us-east-1:123456789012:service/scale0-{name}/abc"),
        id: "abc".into(),
        url: Some("abc.us-east-1.awsapprunner.com".into()),
        status,
        operation: None,
        recent_operations: Vec::new(),
        image_identifier: Some(format!(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/scale0:{name}"
        )),
        auto_deployments: false,
        scaling: Some(Scaling {
            max_concurrency: 100,
            min_size: 1,
            max_size: 25,
        }),
        vcpu: 1.0,
        memory_gb: 2.0,
        active_instances: Some(1.0),
        tags: vec![("scale0:previous-image".into(), "v1".into())],
        kind: "apprunner",
        kind_label: "App Runner",
        console_url: Some("https://console.example/scale0".into()),
        prices: cost::ComputePrices {
            gb_hour: 0.007,
            vcpu_hour: 0.064,
            standing_hour: 0.0,
        },
        facts: Default::default(),
    }
}

pub(crate) fn database(name: &str, power: Power) -> DatabaseState {
    DatabaseState {
        id: format!("scale0{name}"),
        arn: format!("arn:aws:rds:us-east-1:123456789012:cluster:scale0{name}"),
        status: "available".into(),
        mode: DbMode::ServerlessV2 {
            min_acu: 0.0,
            max_acu: 4.0,
            seconds_until_auto_pause: Some(300),
        },
        engine_version: "16.4".into(),
        power,
        capacity: Some(0.0),
        connections: Some(0.0),
        writer_id: None,
        http_endpoint_enabled: true,
        secret_arn: None,
        automatic_restart_time: None,
        auto_pause_at: None,
        max_connections_setting: ParameterSetting::Default,
        tags: Vec::new(),
    }
}

pub(crate) fn env(name: &str, owner: &str, status: ServiceStatus, power: Power) -> Environment {
    Environment {
        key: EnvKey::new("us-east-1", name),
        owner: Some(owner.into()),
        discovery: Discovery::Tags,
        service: Some(service(name, status)),
        database: Some(database(name, power)),
        image: Some(ImageState {
            repository: "scale0".into(),
            tag: Some(name.into()),
            digest: Some(format!("sha256:{}", "a".repeat(64))),
            pushed_at: Some(NOW - 7200.0),
            newer_waiting: name == "dave",
        }),
        read_only: None,
        unread: Vec::new(),
    }
}

pub(crate) fn world() -> Vec<Environment> {
    vec![
        env(
            "dave",
            "dave",
            ServiceStatus::Running,
            Power::Paused {
                since: Some(NOW - 3.0 * 3600.0),
            },
        ),
        env("qa", "dave", ServiceStatus::Running, Power::Awake),
        express_env("dave2", "dave"),
        env(
            "carol",
            "carol",
            ServiceStatus::Paused,
            Power::Paused { since: None },
        ),
    ]
}

/// dave's second environment, mid-migration: an ECS Express service scaled to zero.
pub(crate) fn express_env(name: &str, owner: &str) -> Environment {
    let mut e = env(
        name,
        owner,
        ServiceStatus::Paused,
        Power::Paused { since: None },
    );
    if let Some(s) = e.service.as_mut() {
        s.kind = "ecs-express";
        s.kind_label = "ECS Express";
        s.arn = format!("arn:aws:ecs:us-east-1:123456789012:service/default/scale0-{name}");
        s.facts.paused_word = Some("scaled to zero");
        s.facts.difference = Some("at zero tasks it answers 503 and does not wake on a request");
        s.scaling = Some(Scaling {
            max_concurrency: 0,
            min_size: 0,
            max_size: 4,
        });
    }
    e
}

pub(crate) fn series(values: &[f64]) -> MetricSeries {
    MetricSeries {
        points: values
            .iter()
            .enumerate()
            .map(|(i, v)| (NOW - 3600.0 + i as f64 * 60.0, *v))
            .collect(),
    }
}

/// The AccessKit tree as indented lines: role, label, value, disabled.
pub(crate) fn tree<S>(h: &Harness<'_, S>) -> String {
    fn walk<'t>(node: &egui_kittest::Node<'t>, depth: usize, out: &mut String) {
        let a = node.accesskit_node();
        let label = a.label().unwrap_or_default();
        let value = a.value().unwrap_or_default();
        let mut indent = depth;
        if !label.is_empty() || !value.is_empty() {
            out.push_str(&format!(
                "{}{:?} {:?}{}{}\n",
                "  ".repeat(depth),
                a.role(),
                label,
                if value.is_empty() {
                    String::new()
                } else {
                    format!(" = {value:?}")
                },
                if a.is_disabled() { " (disabled)" } else { "" }
            ));
            indent += 1;
        }
        for child in node.children() {
            walk(&child, indent, out);
        }
    }
    let mut out = String::new();
    walk(&h.root(), 0, &mut out);
    out
}

pub(crate) fn check_snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/panels")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: run with UPDATE_SNAPSHOTS=1 and review it",
            path.display()
        )
    });
    assert_eq!(
        expected,
        actual,
        "panel {name} changed (UPDATE_SNAPSHOTS=1 rewrites {})",
        path.display()
    );
}

pub(crate) fn cx(env: Option<&Environment>) -> Context<'_> {
    Context {
        env,
        busy: false,
        demo: false,
    }
}

#[test]
fn list_panel_groups_by_owner_with_badges_and_filters() {
    let envs = world();
    let spark = HashMap::new();
    let busy = |_: &EnvKey| false;
    let view = view::list_view(&envs, "", Some("us-east-1/qa"), &busy, &spark, NOW);
    let mut filter = String::new();
    let mut clicked = None;
    let mut h = Harness::new_ui(|ui| {
        if let Some(i) = panels::list::show(ui, &view, &mut filter) {
            clicked = Some(i);
        }
    });
    h.run();
    check_snapshot("list", &tree(&h));
    assert!(h.query_by_label("Owner dave").is_some());
    assert_eq!(
        h.query_all_by_label("paused").count(),
        2,
        "carol's and dave2's badges"
    );
    assert!(h.query_by_label("ECS Express").is_some(), "dave2's kind");
    h.get_by_label("carol").click();
    h.run();
    drop(h);
    assert_eq!(
        clicked,
        Some(Intent::Select(EnvKey::new("us-east-1", "carol")))
    );
    let filtered = view::list_view(&envs, "CAR", None, &busy, &spark, NOW);
    assert_eq!(filtered.rows.len(), 1);
    assert_eq!(filtered.hidden, 3);
    // Both kinds side by side, each named.
    assert!(h_kinds(&view).contains(&"ECS Express") && h_kinds(&view).contains(&"App Runner"));
}

fn h_kinds(view: &view::ListView<'_>) -> Vec<&'static str> {
    view.rows.iter().map(|r| r.kind).collect()
}

#[test]
fn header_panel_shows_state_cost_budget_and_ages() {
    let envs = world();
    let dave = &envs[0];
    let view = HeaderView {
        env: dave,
        now: NOW,
        badge: view::env_badge(dave),
        service: view::service_badge(dave),
        database: view::db_badge(dave, NOW),
        cost: Some(cost::estimate(dave, 0.5, 0.2)),
        cost_basis: "the last 3 h's usage".into(),
        budget: diagnose::connection_budget(dave),
        blockers: vec!["1 open connection keeps it awake".into()],
        state_age: Some(12.0),
        metrics_age: Some(20.0),
    };
    let mut h = Harness::new_ui(|ui| panels::header::show(ui, &view));
    h.run();
    check_snapshot("header", &tree(&h));
    assert!(h.query_by_label_contains("newer image pushed").is_some());
    assert!(h.query_by_label_contains("expect HTTP 500s").is_some());
    assert!(
        h.query_by_label_contains("state read under a minute ago")
            .is_some()
    );
}

#[test]
fn header_panel_says_what_is_different_for_ecs_express() {
    let envs = world();
    let dave2 = &envs[2];
    let view = HeaderView {
        env: dave2,
        now: NOW,
        badge: view::env_badge(dave2),
        service: view::service_badge(dave2),
        database: view::db_badge(dave2, NOW),
        cost: Some(cost::estimate(dave2, 0.0, 0.0)),
        cost_basis: "the last 3 h's usage".into(),
        budget: diagnose::connection_budget(dave2),
        blockers: Vec::new(),
        state_age: Some(12.0),
        metrics_age: Some(20.0),
    };
    let mut h = Harness::new_ui(|ui| panels::header::show(ui, &view));
    h.run();
    assert!(h.query_by_label("ECS Express").is_some());
    assert!(
        h.query_by_label_contains("does not wake on a request")
            .is_some()
    );
    assert!(
        h.query_by_label_contains("0-4 tasks, target tracking")
            .is_some()
    );
    assert!(h.query_by_label_contains("requests each").is_none());
}

#[test]
fn actions_panel_disables_with_reasons_and_invokes_the_table() {
    let envs = world();
    let carol = &envs[3];
    let images = vec![Image {
        digest: format!("sha256:{}", "b".repeat(64)),
        tags: vec!["v2".into()],
        pushed_at: Some(NOW - 600.0),
        size_bytes: Some(190_000_000),
    }];
    let view = view::actions_view(&cx(Some(carol)), None, &images, None, None, NOW);
    let mut got = None;
    let mut h = Harness::new_ui(|ui| {
        if let Some(i) = panels::actions::show(ui, &view) {
            got = Some(i);
        }
    });
    h.run();
    check_snapshot("actions", &tree(&h));
    assert!(
        h.get_by_label("Pause service")
            .accesskit_node()
            .is_disabled()
    );
    assert!(
        h.get_by_label("Deploy image")
            .accesskit_node()
            .is_disabled()
    );
    h.get_by_label("Resume service").click();
    h.run();
    drop(h);
    assert_eq!(got, Some(Intent::Invoke(Verb::ResumeService)));
}

#[test]
fn graphs_panel_has_units_windows_and_asks_for_a_window() {
    let envs = world();
    let m = EnvMetrics {
        requests: series(&[10.0, 20.0, 300.0, 20.0]),
        status_5xx: series(&[0.0, 0.0, 40.0, 0.0]),
        capacity: series(&[0.0, 1.0, 2.0, 1.0]),
        ..EnvMetrics::default()
    };
    let events = vec![Event {
        time: NOW - 1800.0,
        source: "database",
        message: "Successfully resumed the DB instance.".into(),
    }];
    let view = GraphsView {
        metrics: Some(&m),
        revision: 0,
        start: NOW - 3600.0,
        end: NOW,
        window: 3600.0,
        events: &events,
        burst: vec![[NOW - 600.0, 600.0]],
        max_connections: envs[0]
            .database
            .as_ref()
            .map(|d| d.max_connections() as f64),
        error: None,
        marker: None,
        upcoming: Vec::new(),
    };
    let mut got = None;
    let mut h = Harness::builder()
        .with_size(egui::vec2(1000.0, 900.0))
        .build_ui(|ui| {
            if let Some(i) = panels::graphs::show(ui, &view) {
                got = Some(i);
            }
        });
    h.run();
    check_snapshot("graphs", &tree(&h));
    for title in [
        "Requests per minute",
        "Latency",
        "Database capacity (0 = paused)",
        "Database connections",
    ] {
        assert!(h.query_by_label(title).is_some(), "{title}");
    }
    h.get_by_label("24 h").click();
    h.run();
    drop(h);
    assert_eq!(got, Some(Intent::SetWindow(86400.0)));
}

#[test]
fn burst_panel_starts_through_the_table_and_says_why_not() {
    let view = BurstView {
        form: BurstForm::default(),
        running: false,
        snapshot: None,
        disabled: None,
        url: Some("http://127.0.0.1:9/".into()),
    };
    let mut got = None;
    let mut h = Harness::new_ui(|ui| {
        if let Some(i) = panels::burst::show(ui, &view) {
            got = Some(i);
        }
    });
    h.run();
    check_snapshot("burst", &tree(&h));
    h.get_by_label("Start burst").click();
    h.run();
    drop(h);
    assert_eq!(got, Some(Intent::Invoke(Verb::Burst)));
    let refused = BurstView {
        disabled: Some("the service has no URL yet".into()),
        ..view
    };
    let mut h = Harness::new_ui(|ui| {
        panels::burst::show(ui, &refused);
    });
    h.run();
    assert!(h.get_by_label("Start burst").accesskit_node().is_disabled());
}

#[test]
fn burst_panel_offers_stages_and_a_fixed_rate_and_shows_live_markers() {
    let mut snapshot = scale0::burst::Snapshot::default();
    snapshot.markers.push(scale0::burst::phases::Marker {
        at: 3.5,
        text: "database: resumed".into(),
    });
    for (shape, field) in [(Shape::Stages, "5s:10,10s:50,5s:0"), (Shape::Rate, "rate ")] {
        let view = BurstView {
            form: BurstForm {
                shape,
                ..BurstForm::default()
            },
            running: true,
            snapshot: Some(&snapshot),
            disabled: None,
            url: Some("http://127.0.0.1:9/".into()),
        };
        let mut h = Harness::new_ui(|ui| {
            panels::burst::show(ui, &view);
        });
        // Running: the spinner keeps repainting.
        h.run_steps(3);
        let t = tree(&h);
        assert!(t.contains(shape.label()), "{t}");
        assert!(
            t.contains(field) || h.query_by_value(field).is_some(),
            "{shape:?} shows its field: {t}"
        );
        assert!(t.contains("+3.5 s database: resumed"), "{t}");
    }
}

#[test]
fn burst_compare_overlays_two_saved_runs() {
    use scale0::burst::runs::{RunRecord, Target};
    let run = |rps: u64| {
        let s = scale0::burst::Snapshot {
            per_second: (0..5)
                .map(|_| scale0::burst::stats::Second {
                    responses: rps,
                    p99: 2.0,
                    ..Default::default()
                })
                .collect(),
            requests_per_second: rps as f64,
            ..Default::default()
        };
        let settings = scale0::burst::BurstConfig {
            url: "http://127.0.0.1:9/".into(),
            ..Default::default()
        }
        .settings();
        RunRecord::new(Target::default(), settings, s)
    };
    let mut b = run(200);
    b.id.push('b');
    let runs = vec![run(100), b];
    let view = view::CompareView {
        runs: &runs,
        chosen: (Some(0), Some(1)),
    };
    let mut got = None;
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 700.0))
        .build_ui(|ui| {
            if let Some(i) = panels::burst::compare_ui(ui, &view) {
                got = Some(i);
            }
        });
    h.run();
    let t = tree(&h);
    for title in ["Runs: responses per second", "Runs: p99 latency"] {
        assert!(t.contains(title), "{t}");
    }
    assert!(t.contains("100 req/s") && t.contains("200 req/s"), "{t}");
    h.get_by_label("Reload").click();
    h.run();
    drop(h);
    assert_eq!(got, Some(Intent::ListRuns));
}

#[test]
fn timeline_panel_lists_events_newest_first() {
    let events = vec![
        Event {
            time: NOW - 7200.0,
            source: "service",
            message: "START_DEPLOYMENT started".into(),
        },
        Event {
            time: NOW - 600.0,
            source: "database",
            message: "Successfully paused the DB instance.".into(),
        },
    ];
    let mut h = Harness::new_ui(|ui| {
        panels::timeline::show(ui, Some(&events));
    });
    h.run();
    let t = tree(&h);
    check_snapshot("timeline", &t);
    assert!(t.find("paused the DB").unwrap() < t.find("START_DEPLOYMENT").unwrap());
}

#[test]
fn problems_panel_names_the_failing_part_its_age_and_retries() {
    let view = ProblemsView {
        problems: vec![Problem {
            what: "us-east-1: App Runner: throttled: Rate exceeded".into(),
            since: Some(NOW - 90.0),
            last_worked: Some(NOW - 120.0),
        }],
        now: NOW,
    };
    let mut got = None;
    let mut h = Harness::new_ui(|ui| {
        if let Some(i) = panels::problems::show(ui, &view) {
            got = Some(i);
        }
    });
    h.run();
    check_snapshot("problems", &tree(&h));
    assert!(h.query_by_label_contains("last worked 2 min ago").is_some());
    h.get_by_label("Retry now").click();
    h.run();
    drop(h);
    assert_eq!(got, Some(Intent::Invoke(Verb::Refresh)));
}

#[test]
fn settings_palette_help_and_confirm_overlays() {
    let mut settings = scale0::ui::Settings::default();
    let mut got = Vec::new();
    let envs = world();
    let mut query = String::from("pause");
    let mut h = Harness::builder()
        .with_size(egui::vec2(1200.0, 900.0))
        .build_ui(|ui| {
            got.extend(panels::settings::show(
                ui.ctx(),
                true,
                &mut settings,
                &Default::default(),
            ));
            got.extend(panels::palette::show(
                ui.ctx(),
                &mut query,
                &cx(Some(&envs[1])),
                &[],
            ));
            got.extend(panels::help::show(ui.ctx()));
            got.extend(panels::confirm::show(
                ui.ctx(),
                "Pause service",
                "Pause scale0-qa of environment qa (account 123456789012, us-east-1)?",
            ));
        });
    h.run();
    check_snapshot("overlays", &tree(&h));
    // The help overlay lists every action of the table.
    for spec in scale0::actions::TABLE {
        assert!(
            h.query_all_by_label(spec.label).next().is_some(),
            "{} in help",
            spec.label
        );
    }
    h.get_by_label("Yes, go ahead").click();
    h.run();
    drop(h);
    assert!(got.contains(&Intent::ConfirmYes), "{got:?}");
}
