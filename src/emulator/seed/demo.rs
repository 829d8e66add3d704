//! The demo world: six developers' environments and an unpaired cluster, each left in
//! the state its story needs, after two days of traffic and actions run through the
//! world's own rules (see history.rs).

use super::history::{self, Action, Session};
use super::{
    ClusterSpec, EnvSpec, REPOSITORY, ServiceSpec, add_environment, digest, ensure_image,
    new_cluster,
};
use crate::emulator::world::cluster::{DbMode, SleepBlockers};
use crate::emulator::world::service::{AppServer, OperationType};
use crate::emulator::world::{Image, World};

/// How far back the demo's history starts: frank paused two days ago.
const HISTORY_SECONDS: f64 = 2.0 * 86400.0 + 3600.0;

/// A session `start_ago` minutes before `now`, lasting `minutes`.
fn session(
    now: f64,
    service: Option<usize>,
    start_ago: f64,
    minutes: f64,
    rpm: f64,
    clients: u32,
) -> Option<Session> {
    Some(Session {
        service: service?,
        start: now - start_ago * 60.0,
        minutes,
        rpm,
        clients,
    })
}

pub fn demo(world: &mut World, now: f64) {
    let from = now - HISTORY_SECONDS;
    world.processed_to = from;
    // Older images, so the image picker has history.
    for (tag, days) in [("v1.4.0", 20.0), ("v1.5.0", 9.0), ("v1.5.1", 3.0)] {
        ensure_image(world, tag, now - days * 86400.0);
    }
    let untagged = digest(world);
    if let Some(repo) = world.repositories.first_mut() {
        repo.images.push(Image {
            digest: untagged,
            tags: Vec::new(),
            size_bytes: 181_220_114,
            pushed_at: now - 12.0 * 86400.0,
        });
    }

    // dev: the seed project itself: untagged, v1 legacy database, Django runserver with
    // DEBUG and conn_max_age: each instance keeps a thread and a connection per front-end
    // connection. Its own parameter group sets max_connections to 100, the setup the
    // real app was measured with, so 150 clients run out of connections within a minute
    // (HTTP 500 with the FATAL line), as the seed project saw; scale0 reads the 100 from
    // the parameter group (AWS's v1 default at 2 ACU would be 180).
    let mut dev = EnvSpec::new("dev", "alice");
    dev.tagged = false;
    dev.service = Some(ServiceSpec {
        app_server: AppServer::ThreadPerConnection,
        debug: true,
        ..ServiceSpec::default()
    });
    let mut dev_db = ClusterSpec::v1();
    dev_db.log_export = true;
    dev_db.max_connections = Some(100);
    dev.cluster = Some(dev_db);
    let dev_s = add_environment(world, &dev, from);

    // qa: the fix: gunicorn with bounded workers, a v2 cluster; busy right now.
    let mut qa = EnvSpec::new("qa", "bob");
    qa.service = Some(ServiceSpec {
        max_concurrency: 50,
        max_size: 4,
        ..ServiceSpec::default()
    });
    let mut qa_db = ClusterSpec::v2(0.0, 4.0);
    qa_db.mode = DbMode::ServerlessV2 {
        min: 0.0,
        max: 4.0,
        seconds_until_auto_pause: 600,
    };
    qa_db.log_export = true;
    qa.cluster = Some(qa_db);
    let qa_s = add_environment(world, &qa, from);

    // carol: service paused three hours ago, and so a paused database.
    let carol_s = add_environment(world, &EnvSpec::new("carol", "carol"), from);

    // dave: service up and idle, database auto-paused; a newer :dave image waits
    // (automatic deployments are off).
    let mut dave = EnvSpec::new("dave", "dave");
    dave.service = Some(ServiceSpec {
        auto_deployments: false,
        ..ServiceSpec::default()
    });
    let dave_s = add_environment(world, &dave, from);

    // erin: a deployment of a newly pushed :erin image is under way.
    let erin_s = add_environment(world, &EnvSpec::new("erin", "erin"), from);

    // frank: on holiday: service paused and cluster stopped two days ago.
    let mut frank = EnvSpec::new("frank", "frank");
    let mut stopped = ClusterSpec::v2(0.0, 8.0);
    stopped.mode = DbMode::ServerlessV2 {
        min: 0.0,
        max: 8.0,
        seconds_until_auto_pause: 300,
    };
    frank.cluster = Some(stopped);
    let frank_s = add_environment(world, &frank, from);

    // ECS Express Mode, the kind a team that starts today gets (App Runner takes no new
    // customers): gina's is up and busy now; hank's is scaled to zero (min 0, desired 0,
    // its scaling target kept in a tag) with a paused database; bob is mid-migration,
    // his qa on App Runner and qa2 on ECS Express.
    let express = |min_size: u32, max_size: u32, paused: bool| ServiceSpec {
        express: true,
        min_size,
        max_size,
        paused,
        ..ServiceSpec::default()
    };
    let mut gina = EnvSpec::new("gina", "gina");
    gina.service = Some(express(1, 4, false));
    let gina_s = add_environment(world, &gina, from);
    let mut hank = EnvSpec::new("hank", "hank");
    hank.service = Some(express(1, 2, true));
    add_environment(world, &hank, from);
    let mut qa2 = EnvSpec::new("qa2", "bob");
    qa2.service = Some(express(1, 4, false));
    let qa2_s = add_environment(world, &qa2, from);

    // An unpaired provisioned cluster that belongs to nobody's environment.
    let reporting = ClusterSpec::provisioned("db.t4g.medium");
    let cluster = new_cluster(world, "reporting", &reporting, Vec::new(), from);
    world.clusters.push(cluster);

    let sessions: Vec<Session> = [
        session(now, dev_s, 23.0 * 60.0, 45.0, 40.0, 2),
        session(now, dev_s, 7.0 * 60.0, 90.0, 120.0, 3),
        session(now, dev_s, 6.0 * 60.0, 5.0, 9000.0, 201),
        session(now, dev_s, 40.0, 38.0, 60.0, 2),
        session(now, qa_s, 20.0 * 60.0, 120.0, 200.0, 4),
        session(now, qa_s, 9.0 * 60.0, 240.0, 300.0, 6),
        session(now, qa_s, 5.5 * 60.0, 5.0, 9000.0, 150),
        session(now, qa_s, 90.0, 95.0, 250.0, 5),
        session(now, carol_s, 22.0 * 60.0, 60.0, 80.0, 2),
        session(now, carol_s, 5.0 * 60.0, 90.0, 100.0, 2),
        session(now, dave_s, 10.0 * 60.0, 60.0, 90.0, 2),
        session(now, dave_s, 3.0 * 60.0, 50.0, 70.0, 2),
        session(now, erin_s, 4.0 * 60.0, 200.0, 60.0, 2),
        session(now, gina_s, 3.0 * 60.0, 200.0, 240.0, 4),
        session(now, qa2_s, 8.0 * 60.0, 120.0, 90.0, 2),
    ]
    .into_iter()
    .flatten()
    .collect();

    // Each small session starts after a deployment of the developer's latest work.
    let mut actions: Vec<(f64, Action)> = sessions
        .iter()
        // App Runner deployments; the Express services run their first revision.
        .filter(|s| s.clients < 50 && world.services[s.service].express.is_none())
        .enumerate()
        .map(|(k, s)| {
            let kind = if k % 2 == 0 {
                OperationType::UpdateService
            } else {
                OperationType::StartDeployment
            };
            (s.start - 400.0, Action::Deploy(s.service, kind))
        })
        .collect();
    if let Some(i) = carol_s {
        actions.push((now - 3.0 * 3600.0, Action::PauseService(i)));
    }
    if let (Some(i), Some(c)) = (frank_s, world.cluster_index("scale0frank")) {
        actions.push((now - 2.0 * 86400.0, Action::PauseService(i)));
        actions.push((now - 2.0 * 86400.0 + 400.0, Action::StopCluster(c)));
    }
    history::run(world, now - 120.0, &sessions, &actions);

    push_newer(world, "dave", now - 40.0 * 60.0);
    push_newer(world, "erin", now - 3.0 * 60.0);
    if let Some(i) = erin_s {
        let image = world.services[i].image_identifier.clone();
        world.deploy(i, OperationType::UpdateService, image, now - 120.0);
    }
    // reporting never sleeps, and says why: besides its provisioned writer, an RDS Proxy
    // fronts it, logical replication is on, it is the primary of a global database (so it
    // can't be stopped either) and a zero-ETL integration reads from it.
    if let Some(c) = world.cluster_index("reporting") {
        world.clusters[c].blockers = SleepBlockers {
            proxy: Some("reporting-proxy".into()),
            logical_replication: true,
            global_cluster: Some("reporting-global".into()),
            zero_etl: Some("reporting-to-redshift".into()),
        };
    }
    // The role scale0's keep-awake and sleep schedules run as (README: "Scheduler role").
    world.scheduler.roles.insert(format!(
        "arn:aws:iam::{}:role/scale0-scheduler",
        world.account
    ));
    world.catch_up(now);
}

fn push_newer(world: &mut World, tag: &str, at: f64) {
    let d = digest(world);
    if let Some(repo) = world.repositories.iter_mut().find(|r| r.name == REPOSITORY) {
        for image in &mut repo.images {
            image.tags.retain(|t| t != tag);
        }
        repo.images.push(Image {
            digest: d,
            tags: vec![tag.to_string()],
            size_bytes: 188_400_512,
            pushed_at: at,
        });
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::world::cluster::ClusterStatus;
    use crate::emulator::world::metrics::{APPRUNNER, MetricKey};
    use crate::emulator::world::service::ServiceStatus;

    #[test]
    fn demo_world_has_every_state_the_issue_names() {
        let now = 1_800_000_000.0;
        let mut w = World::empty("us-east-1", now);
        demo(&mut w, now);
        let status = |name: &str| w.services[w.service_index(name).unwrap()].status;
        assert_eq!(status("scale0-qa"), ServiceStatus::Running);
        assert_eq!(status("scale0-carol"), ServiceStatus::Paused);
        assert_eq!(status("scale0-erin"), ServiceStatus::OperationInProgress);
        let cluster = |id: &str| &w.clusters[w.cluster_index(id).unwrap()];
        assert!(cluster("scale0dave").paused(), "dave's database is paused");
        assert!(cluster("scale0carol").paused());
        assert!(!cluster("scale0qa").paused());
        assert_eq!(cluster("scale0frank").status, ClusterStatus::Stopped);
        assert!(cluster("scale0dev").is_v1());
        assert!(w.events.len() > 10, "history has pause/resume events");
        let express = |name: &str| {
            let x = w.services[w.service_index(name).unwrap()].express.as_ref();
            x.map(|x| (x.desired, x.running))
        };
        assert_eq!(express("scale0-gina"), Some((1, 1)), "gina's service is up");
        assert_eq!(
            express("scale0-hank"),
            Some((0, 0)),
            "hank's is scaled to zero"
        );
        assert!(express("scale0-qa2").is_some() && express("scale0-qa").is_none());
        let requests = MetricKey::new(
            APPRUNNER,
            "Requests",
            &[
                ("ServiceID", &w.services[1].id),
                ("ServiceName", "scale0-qa"),
            ],
        );
        let points = w
            .metrics
            .query(&requests, (now - 86400.0) as i64, now as i64, 3600, "Sum");
        assert!(points.len() > 5, "{points:?}");
    }
}
