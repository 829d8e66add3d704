//! `scale0 emulator` as a process, driven by the AWS CLI (botocore), the way a user
//! outside Rust would use it.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Python tool the tests drive (aws, moto_server): from SCALE0_PY_BIN (set by
/// scripts/test), target/py-venv, or PATH.
pub fn py_tool(name: &str) -> PathBuf {
    let candidates = std::env::var_os("SCALE0_PY_BIN")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/py-venv/bin")])
        .chain(
            std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .unwrap_or_default(),
        );
    candidates
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} not found: run the tests with scripts/test, which installs it")
        })
}

/// A running `scale0 emulator`, stopped with SIGTERM when dropped.
pub struct EmulatorProcess {
    child: Child,
    pub endpoint: String,
}

impl EmulatorProcess {
    pub fn start(args: &[&str]) -> EmulatorProcess {
        let runtime_dir = tempdir();
        let mut child = Command::new(env!("CARGO_BIN_EXE_scale0"))
            .arg("emulator")
            .args(args)
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("scale0 emulator starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("first line");
        let endpoint = first.trim().to_string();
        assert!(
            endpoint.starts_with("http://127.0.0.1:"),
            "first line is the endpoint: {endpoint:?}"
        );
        let recorded = std::fs::read_to_string(runtime_dir.join("scale0/emulator-endpoint"))
            .expect("endpoint recorded");
        assert_eq!(recorded.trim(), endpoint);
        EmulatorProcess { child, endpoint }
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "emulator did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "scale0-test-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs `aws <service> <args> --output json` against the endpoint; returns (exit code,
/// parsed stdout, stderr).
pub fn aws(endpoint: &str, args: &[&str]) -> (i32, Value, String) {
    let home = tempdir();
    let out = Command::new(py_tool("aws"))
        .args(args)
        .args([
            "--endpoint-url",
            endpoint,
            "--region",
            "us-east-1",
            "--output",
            "json",
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("HOME", &home)
        .output()
        .expect("aws runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        value,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn aws_ok(endpoint: &str, args: &[&str]) -> Value {
    let (code, value, stderr) = aws(endpoint, args);
    assert_eq!(code, 0, "aws {args:?} failed: {stderr}");
    value
}

fn advance(endpoint: &str, seconds: f64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{endpoint}/_scale0/clock/advance"))
            .json(&json!({"seconds": seconds}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    });
}

#[test]
fn the_aws_cli_runs_every_operation_against_scale0_emulator() {
    let mut emu = EmulatorProcess::start(&["--port", "0", "--speed", "0"]);
    let e = emu.endpoint.clone();

    // App Runner.
    let services = aws_ok(&e, &["apprunner", "list-services"]);
    let arn = |name: &str| {
        services["ServiceSummaryList"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["ServiceName"] == name)
            .unwrap()["ServiceArn"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (qa, dave, carol) = (arn("scale0-qa"), arn("scale0-dave"), arn("scale0-carol"));
    let described = aws_ok(&e, &["apprunner", "describe-service", "--service-arn", &qa]);
    assert_eq!(described["Service"]["Status"], "RUNNING");
    let scaling =
        described["Service"]["AutoScalingConfigurationSummary"]["AutoScalingConfigurationArn"]
            .as_str()
            .unwrap()
            .to_string();
    let sc = aws_ok(
        &e,
        &[
            "apprunner",
            "describe-auto-scaling-configuration",
            "--auto-scaling-configuration-arn",
            &scaling,
        ],
    );
    assert_eq!(sc["AutoScalingConfiguration"]["MaxConcurrency"], 50);
    aws_ok(&e, &["apprunner", "list-operations", "--service-arn", &qa]);
    aws_ok(
        &e,
        &[
            "apprunner",
            "tag-resource",
            "--resource-arn",
            &qa,
            "--tags",
            "Key=team,Value=web",
        ],
    );
    let tags = aws_ok(
        &e,
        &["apprunner", "list-tags-for-resource", "--resource-arn", &qa],
    );
    assert_eq!(tags["Tags"].as_array().unwrap().len(), 3);
    aws_ok(
        &e,
        &[
            "apprunner",
            "untag-resource",
            "--resource-arn",
            &qa,
            "--tag-keys",
            "team",
        ],
    );
    let paused = aws_ok(&e, &["apprunner", "pause-service", "--service-arn", &dave]);
    assert_eq!(paused["Service"]["Status"], "OPERATION_IN_PROGRESS");
    let (code, _, stderr) = aws(&e, &["apprunner", "pause-service", "--service-arn", &dave]);
    assert_ne!(code, 0);
    assert!(stderr.contains("InvalidStateException"), "{stderr}");
    aws_ok(
        &e,
        &["apprunner", "resume-service", "--service-arn", &carol],
    );
    aws_ok(&e, &["apprunner", "start-deployment", "--service-arn", &qa]);
    advance(&e, 400.0);
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/scale0:v1.5.1";
    let updated = aws_ok(
        &e,
        &[
            "apprunner",
            "update-service",
            "--service-arn",
            &qa,
            "--source-configuration",
            &format!("ImageRepository={{ImageIdentifier={image},ImageRepositoryType=ECR}}"),
        ],
    );
    assert_eq!(
        updated["Service"]["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"],
        image
    );

    // ECR.
    let repos = aws_ok(&e, &["ecr", "describe-repositories"]);
    assert_eq!(repos["repositories"][0]["repositoryName"], "scale0");
    let images = aws_ok(
        &e,
        &["ecr", "describe-images", "--repository-name", "scale0"],
    );
    assert!(images["imageDetails"].as_array().unwrap().len() >= 8);
    let ids = aws_ok(&e, &["ecr", "list-images", "--repository-name", "scale0"]);
    assert!(!ids["imageIds"].as_array().unwrap().is_empty());

    // RDS.
    let clusters = aws_ok(&e, &["rds", "describe-db-clusters"]);
    assert_eq!(
        clusters["DBClusters"].as_array().unwrap().len(),
        10,
        "the ECS Express environments have clusters too"
    );
    aws_ok(&e, &["rds", "describe-db-instances"]);
    aws_ok(&e, &["rds", "describe-events", "--duration", "1440"]);
    // dev's own parameter group carries its max_connections; default groups list defaults.
    let dev_group = clusters["DBClusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["DBClusterIdentifier"] == "scale0dev")
        .unwrap()["DBClusterParameterGroup"]
        .as_str()
        .unwrap()
        .to_string();
    let user = aws_ok(
        &e,
        &[
            "rds",
            "describe-db-cluster-parameters",
            "--db-cluster-parameter-group-name",
            &dev_group,
            "--source",
            "user",
        ],
    );
    let params = user["Parameters"].as_array().unwrap();
    assert_eq!(params.len(), 1, "{user}");
    assert_eq!(params[0]["ParameterName"], "max_connections");
    assert_eq!(params[0]["ParameterValue"], "100");
    let defaults = aws_ok(
        &e,
        &[
            "rds",
            "describe-db-cluster-parameters",
            "--db-cluster-parameter-group-name",
            "default.aurora-postgresql16",
        ],
    );
    assert!(defaults["Parameters"].as_array().unwrap().len() >= 5);
    let (code, _, err) = aws(
        &e,
        &[
            "rds",
            "describe-db-cluster-parameters",
            "--db-cluster-parameter-group-name",
            "no-such-group",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("DBParameterGroupNotFound"), "{err}");
    let qa_arn = "arn:aws:rds:us-east-1:123456789012:cluster:scale0qa";
    aws_ok(
        &e,
        &[
            "rds",
            "add-tags-to-resource",
            "--resource-name",
            qa_arn,
            "--tags",
            "Key=team,Value=web",
        ],
    );
    aws_ok(
        &e,
        &["rds", "list-tags-for-resource", "--resource-name", qa_arn],
    );
    aws_ok(
        &e,
        &[
            "rds",
            "modify-db-cluster",
            "--db-cluster-identifier",
            "scale0qa",
            "--serverless-v2-scaling-configuration",
            "MinCapacity=0,MaxCapacity=4,SecondsUntilAutoPause=300",
        ],
    );
    let cap = aws_ok(
        &e,
        &[
            "rds",
            "modify-current-db-cluster-capacity",
            "--db-cluster-identifier",
            "scale0dev",
            "--capacity",
            "4",
        ],
    );
    assert_eq!(cap["PendingCapacity"], 4);
    aws_ok(
        &e,
        &[
            "rds",
            "stop-db-cluster",
            "--db-cluster-identifier",
            "scale0dave",
        ],
    );
    aws_ok(
        &e,
        &[
            "rds",
            "start-db-cluster",
            "--db-cluster-identifier",
            "scale0frank",
        ],
    );
    let (code, _, stderr) = aws(
        &e,
        &[
            "rds",
            "describe-db-clusters",
            "--db-cluster-identifier",
            "nope",
        ],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("DBClusterNotFoundFault"), "{stderr}");

    // A v2 cluster with no connections pauses after its timeout, with 0370/0372 events
    // and capacity 0, and resumes on a Data API call.
    advance(&e, 1500.0);
    let events = aws_ok(
        &e,
        &[
            "rds",
            "describe-events",
            "--source-type",
            "db-instance",
            "--source-identifier",
            "scale0qa-instance-1",
            "--duration",
            "30",
        ],
    );
    let messages: Vec<&str> = events["Events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["Message"].as_str())
        .collect();
    assert!(
        messages.ends_with(&[
            "Initiated pause for the DB instance.",
            "Successfully paused the DB instance."
        ]),
        "{messages:?}"
    );
    let queries = r#"[{"Id":"acu","MetricStat":{"Metric":{"Namespace":"AWS/RDS","MetricName":"ServerlessDatabaseCapacity","Dimensions":[{"Name":"DBClusterIdentifier","Value":"scale0qa"}]},"Period":60,"Stat":"Maximum"}}]"#;
    let data = aws_ok(
        &e,
        &[
            "cloudwatch",
            "get-metric-data",
            "--metric-data-queries",
            queries,
            "--start-time",
            "2020-01-01T00:00:00Z",
            "--end-time",
            "2100-01-01T00:00:00Z",
            "--scan-by",
            "TimestampDescending",
        ],
    );
    assert_eq!(data["MetricDataResults"][0]["Values"][0], 0.0, "{data}");
    let metrics = aws_ok(
        &e,
        &["cloudwatch", "list-metrics", "--namespace", "AWS/RDS"],
    );
    assert!(!metrics["Metrics"].as_array().unwrap().is_empty());
    let cluster = aws_ok(
        &e,
        &[
            "rds",
            "describe-db-clusters",
            "--db-cluster-identifier",
            "scale0qa",
        ],
    );
    let secret = cluster["DBClusters"][0]["MasterUserSecret"]["SecretArn"]
        .as_str()
        .unwrap()
        .to_string();
    let execute = [
        "rds-data",
        "execute-statement",
        "--resource-arn",
        qa_arn,
        "--secret-arn",
        &secret,
        "--sql",
        "SELECT 1",
    ];
    let (code, _, stderr) = aws(&e, &execute);
    assert_ne!(code, 0);
    assert!(stderr.contains("DatabaseResumingException"), "{stderr}");
    advance(&e, 20.0);
    let result = aws_ok(&e, &execute);
    assert_eq!(result["records"][0][0]["longValue"], 1);

    // SIGTERM stops it cleanly.
    let status = emu.terminate();
    assert!(status.success(), "{status:?}");
}

#[test]
fn the_aws_cli_reads_the_demo_worlds_logs() {
    let emu = EmulatorProcess::start(&["--port", "0", "--speed", "0"]);
    let e = emu.endpoint.clone();
    let groups = aws_ok(
        &e,
        &[
            "logs",
            "describe-log-groups",
            "--log-group-name-prefix",
            "/aws/apprunner/scale0-qa/",
        ],
    );
    let names: Vec<&str> = groups["logGroups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["logGroupName"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let app = names.iter().find(|n| n.ends_with("/application")).unwrap();
    // The CLI follows nextToken itself across pages of 2.
    let booted = aws_ok(
        &e,
        &[
            "logs",
            "filter-log-events",
            "--log-group-name",
            app,
            "--filter-pattern",
            "\"Booting worker\"",
            "--page-size",
            "2",
        ],
    );
    let events = booted["events"].as_array().unwrap();
    assert!(events.len() > 2, "more than one page: {}", events.len());
    assert!(
        events
            .iter()
            .all(|ev| ev["message"].as_str().unwrap().contains("Booting worker"))
    );
    let (code, _, stderr) = aws(
        &e,
        &[
            "logs",
            "filter-log-events",
            "--log-group-name",
            "/aws/rds/cluster/scale0dave/postgresql",
        ],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("ResourceNotFoundException"), "{stderr}");
}
