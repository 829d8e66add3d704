//! The backend against moto server, a second, independent implementation of the ECR and
//! RDS APIs (it has no App Runner and leaves some fields empty): nothing may crash, and
//! what moto implements must work.

use crate::common::*;
use crate::emulator_cli::py_tool;
use scale0::backend::aws::{AwsBackend, ConnectOptions};
use scale0::backend::config::Config;
use scale0::model::{DbMode, Discovery, Power};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn moto() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(py_tool("moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    // Owned by the guard from here on, so it is killed and waited for on every path.
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..200 {
        if reqwest::get(format!("{}/moto-api/", moto.endpoint))
            .await
            .is_ok()
        {
            return moto;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("moto_server did not start on {}", moto.endpoint);
}

#[tokio::test]
async fn the_backend_reads_and_acts_on_moto() {
    let moto = moto().await;
    let config = sdk_config(&moto.endpoint).await;
    let rds = aws_sdk_rds::Client::new(&config);
    let ecr = aws_sdk_ecr::Client::new(&config);
    ecr.create_repository()
        .repository_name("scale0")
        .send()
        .await
        .expect("moto creates a repository");
    rds.create_db_cluster()
        .db_cluster_identifier("scale0dev")
        .engine("aurora-postgresql")
        .engine_version("16.4")
        .master_username("dbuser")
        .master_user_password("ChangeMe123")
        .serverless_v2_scaling_configuration(
            aws_sdk_rds::types::ServerlessV2ScalingConfiguration::builder()
                .min_capacity(0.0)
                .max_capacity(4.0)
                .build(),
        )
        .send()
        .await
        .expect("moto creates a cluster");
    rds.create_db_instance()
        .db_instance_identifier("scale0dev-instance-1")
        .db_cluster_identifier("scale0dev")
        .engine("aurora-postgresql")
        .db_instance_class("db.serverless")
        .send()
        .await
        .expect("moto creates the writer");
    rds.create_db_cluster()
        .db_cluster_identifier("reporting")
        .engine("aurora-postgresql")
        .master_username("dbuser")
        .master_user_password("ChangeMe123")
        .send()
        .await
        .unwrap();

    let b: AwsBackend = AwsBackend::connect(
        ConnectOptions {
            endpoint_url: Some(moto.endpoint.clone()),
            regions: vec!["us-east-1".into()],
            demo_credentials: true,
            operation_timeout: Some(Duration::from_secs(10)),
            ..ConnectOptions::default()
        },
        Config::default(),
        scale0::backend::server_clock::TimeSource::server(),
    )
    .await
    .unwrap();
    let inv = b
        .inventory()
        .await
        .expect("an inventory even without App Runner");
    assert!(
        inv.problems.iter().any(|p| p.contains("App Runner")),
        "moto has no App Runner: {:?}",
        inv.problems
    );
    let dev = inv.resolve("dev").expect("scale0dev found by its name");
    assert_eq!(dev.discovery, Discovery::Naming);
    let db = dev.database.as_ref().unwrap();
    assert!(
        matches!(db.mode, DbMode::ServerlessV2 { .. }),
        "{:?}",
        db.mode
    );
    assert!(!matches!(db.power, Power::Stopped));
    assert_eq!(
        inv.resolve("reporting").unwrap().discovery,
        Discovery::Unpaired
    );
    // The CLI's summary phrases work on moto's sparser answers.
    assert!(!dev.summary(0.0).is_empty());

    // Stop and start through the same backend calls the CLI uses.
    let report = b.stop_database(dev).await.expect("moto stops clusters");
    assert!(
        report
            .steps
            .iter()
            .any(|s| s.what.contains("stop scale0dev")),
        "{report:?}"
    );
    let inv = b.inventory().await.unwrap();
    let dev = inv.resolve("dev").unwrap();
    assert_eq!(dev.database.as_ref().unwrap().status, "stopped");
    let report = b
        .wake(dev, true, false, 30.0)
        .await
        .expect("moto starts clusters");
    assert!(
        report.steps[0].what.contains("started cluster"),
        "{report:?}"
    );
    drop(moto);
}
