//! Panels drawn in egui_kittest from hand-made view models (continued from panels.rs, whose
//! helpers these share): the profile picker and palette, the logs panel, the sleep panel.

use crate::panels::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use scale0::model::plan;
use scale0::model::*;
use scale0::ui::intent::Intent;
use scale0::ui::panels;
use scale0::ui::view;
fn profiles_view() -> scale0::ui::accounts::ProfilesView {
    use scale0::ui::accounts::{LoginState, LoginView, LoginWord, ProfileRow, ProfilesView};
    let row =
        |name: &str, account: &str, region: &str, login: LoginWord, active: bool| ProfileRow {
            name: name.into(),
            account: account.into(),
            region: region.into(),
            sso_session: (!matches!(login, LoginWord::NotSso(_))).then(|| "corp".to_string()),
            login,
            active,
        };
    ProfilesView {
        rows: vec![
            row(
                "dev-sso",
                "123456789012",
                "us-east-1",
                LoginWord::LoggedIn {
                    until: "2026-11-24T18:00:00Z".into(),
                },
                true,
            ),
            row(
                "keys",
                "-",
                "eu-west-1",
                LoginWord::NotSso("access keys"),
                false,
            ),
            row(
                "prod-look",
                "210987654321",
                "eu-west-3",
                LoginWord::Missing,
                false,
            ),
        ],
        error: None,
        loading: false,
        login: Some(LoginView {
            profile: "prod-look".into(),
            state: LoginState::Waiting {
                url: "https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH".into(),
                code: "ABCD-EFGH".into(),
            },
        }),
    }
}

#[test]
fn profile_picker_checks_several_and_offers_a_login_with_its_code() {
    use scale0::ui::accounts::LoginOffer;
    let view = profiles_view();
    let mut settings = scale0::ui::Settings {
        profile: "dev-sso".into(),
        ..Default::default()
    };
    let offer = LoginOffer {
        profiles: vec!["prod-look".into()],
        login: view.login.clone(),
    };
    let mut got = Vec::new();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1200.0, 900.0))
        .build_ui(|ui| {
            got.extend(panels::profiles::login_offer(ui, &offer));
            got.extend(panels::settings::show(ui.ctx(), true, &mut settings, &view));
        });
    h.run_steps(2);
    check_snapshot("profiles", &tree(&h));
    for shown in [
        "210987654321",
        "eu-west-3",
        "not logged in",
        "logged in until",
    ] {
        assert!(h.query_by_label_contains(shown).is_some(), "{shown}");
    }
    // The code is on screen (twice: banner and picker) and can be copied.
    assert!(h.query_all_by_label("ABCD-EFGH").count() >= 1);
    h.get_all_by_label("Copy code").last().unwrap().click();
    h.run_steps(2);
    // A second profile checked joins the active set.
    h.get_by_label("prod-look").click();
    h.run_steps(2);
    h.get_by_label("Apply and reconnect").click();
    h.run_steps(2);
    drop(h);
    assert_eq!(settings.profiles(), ["dev-sso", "prod-look"]);
    assert!(got.contains(&Intent::Copy("ABCD-EFGH".into())), "{got:?}");
    assert!(got.contains(&Intent::Reconnect { demo: false }), "{got:?}");

    // The offer without a login under way: one button per profile.
    let offer = LoginOffer {
        profiles: vec!["prod-look".into()],
        login: None,
    };
    let mut got = None;
    let mut h = Harness::new_ui(|ui| {
        if let Some(i) = panels::profiles::login_offer(ui, &offer) {
            got = Some(i);
        }
    });
    h.run();
    h.get_by_label("Log in to prod-look").click();
    h.run();
    drop(h);
    assert_eq!(got, Some(Intent::Login("prod-look".into())));
}

#[test]
fn palette_switches_to_a_profile() {
    let mut query = String::from("look");
    let names = vec!["dev-sso".to_string(), "prod-look".to_string()];
    let mut got = Vec::new();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1200.0, 900.0))
        .build_ui(|ui| {
            got.extend(panels::palette::show(
                ui.ctx(),
                &mut query,
                &cx(None),
                &names,
            ));
        });
    h.run();
    assert!(h.query_by_label("Switch to profile dev-sso").is_none());
    h.get_by_label("Switch to profile prod-look").click();
    h.run();
    drop(h);
    assert!(
        got.contains(&Intent::SwitchProfile("prod-look".into())),
        "{got:?}"
    );
}

#[test]
fn logs_panel_picks_a_source_filters_follows_selects_and_copies() {
    use scale0::model::logs::{LogLine, LogMark, LogSource};
    use scale0::ui::logs::{LogRow, LogsView};
    let line = |t: f64, m: &str| {
        LogRow::Line(LogLine {
            time: NOW + t,
            stream: "instance/0123456789abcdef".into(),
            message: m.into(),
            id: t.to_string(),
        })
    };
    let rows = vec![
        line(0.0, "[2026-11-23T10:00:00Z] \"GET / HTTP/1.1\" 200 6792"),
        line(
            1.0,
            "Internal Server Error: /\nTraceback (most recent call last):\ndjango.db.utils.OperationalError: FATAL:  remaining connection slots are reserved",
        ),
        LogRow::Mark(LogMark::Resumed {
            since: NOW + 2.0,
            until: NOW + 42.0,
            reason: "could not reach the AWS endpoint".into(),
        }),
    ];
    let view = LogsView {
        source: LogSource::App,
        follow: false,
        rows: &rows,
        selected: Some(1),
        scroll_to: None,
        status: Some((view::Tone::Muted, "3 lines".into())),
        console_url: Some("https://us-east-1.console.aws.amazon.com/cloudwatch/home"),
        applied_filter: "",
    };
    let mut got = Vec::new();
    let mut filter = String::new();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1000.0, 600.0))
        .build_ui(|ui| got.extend(panels::logs::show(ui, &view, &mut filter)));
    h.run();
    check_snapshot("logs", &tree(&h));
    assert!(
        h.query_by_label_contains("(+2 lines)").is_some(),
        "a traceback's first line"
    );
    assert!(
        h.query_by_label_contains("resumed, nothing missed")
            .is_some(),
        "the outage is marked"
    );
    h.get_by_label("database").click();
    h.run();
    h.get_by_label("Follow").click();
    h.run();
    h.get_by_label("Copy line").click();
    h.run();
    h.get_by_label_contains("200 6792").click();
    h.run();
    h.get_by_role(egui::accesskit::Role::TextInput).click();
    h.run();
    h.get_by_role(egui::accesskit::Role::TextInput)
        .type_text("FATAL");
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
    drop(h);
    assert_eq!(
        got,
        vec![
            Intent::LogSource(LogSource::Db),
            Intent::LogFollow(true),
            Intent::Copy(
                "Internal Server Error: /\nTraceback (most recent call last):\ndjango.db.utils.OperationalError: FATAL:  remaining connection slots are reserved".into()
            ),
            Intent::LogSelect(0),
            Intent::LogFilter,
        ]
    );
    assert_eq!(filter, "FATAL");
}

#[test]
fn sleep_panel_shows_the_keep_awake_schedules_and_why_and_extends() {
    use scale0::model::blockers::{Finding, Why};
    use scale0::model::plan::{PlanRead, PlannedSchedule};
    let mut dave = world()[0].clone();
    if let Some(db) = dave.database.as_mut() {
        db.tags
            .push(("scale0:keep-awake-until".into(), plan::iso(NOW + 3600.0)));
        db.tags.push(("scale0:keep-awake-by".into(), "dave".into()));
    }
    let read = PlanRead {
        read_at: NOW - 30.0,
        why: Ok(Why {
            env: dave.key.clone(),
            read_at: NOW - 30.0,
            database: vec![
                Finding::blocks(
                    "kept awake by dave until 2026-11-23T11:00:00Z",
                    "wait for it",
                ),
                Finding::clear("no RDS Proxy in front of it"),
                Finding::Unknown {
                    what: "zero-ETL integrations".into(),
                    error: "access denied: rds:DescribeIntegrations".into(),
                },
            ],
            service: Vec::new(),
            automatic_restart: None,
        }),
        schedules: Ok(vec![PlannedSchedule {
            name: "keep-awake-dave-db".into(),
            env: "dave".into(),
            kind: "keep-awake".into(),
            part: "db".into(),
            expression: "at(2026-11-23T11:00:00)".into(),
            timezone: "UTC".into(),
            enabled: true,
            next: Some(NOW + 3600.0),
            action: "rds:modifyDBCluster".into(),
        }]),
        month_so_far: Ok(4.56),
    };
    let cost = cost::Cost {
        per_hour_now: 0.1,
        per_month_at_recent_usage: 30.0,
        per_month_never_paused: 73.0,
    };
    let view = view::sleep_view(
        &dave,
        Some(&read),
        NOW,
        &jiff::tz::TimeZone::UTC,
        Some(&cost),
    );
    assert!(
        view.cost.as_deref().is_some_and(
            |c| c.contains("no sleep window") && c.starts_with("this month so far $4.56; ")
        ),
        "{view:?}"
    );
    assert_eq!(
        view.keep_awake.as_deref(),
        Some("kept awake by dave until 11:00")
    );
    let mut got = None;
    let mut h = Harness::new_ui(|ui| {
        if let Some(i) = panels::sleep::show(ui, &view) {
            got = Some(i);
        }
    });
    h.run();
    check_snapshot("sleep", &tree(&h));
    assert!(
        h.query_all_by_label_contains("unknown (access denied")
            .next()
            .is_some()
    );
    h.get_by_label("Extend 1 h").click();
    h.run();
    drop(h);
    assert_eq!(got, Some(Intent::KeepAwakeUntil(NOW + 7200.0)));
}
