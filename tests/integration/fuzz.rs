//! The emulator against hostile clients: a bounded property test (proptest, fixed seed,
//! at least 10,000 requests, 100 at a time) throws malformed requests at every protocol
//! it speaks (awsQuery/XML, JSON 1.0 and 1.1, REST-JSON, Smithy RPC v2 CBOR, the admin
//! API). It must never die, never hold a connection past a timeout, and answer a request
//! it can't serve with a 4xx in the protocol's AWS error shape. A Content-Length that
//! promises more than is sent gets a 400 after the body timeout, not silence.

use crate::common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use scale0::emulator::Seed;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Cases x requests per case: the CI's fixed budget.
const CASES: u32 = 100;
const PER_CASE: usize = 100;
/// No answer may take longer (the emulator's body timeout is 2 s).
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
struct Req {
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        // Text that is almost a document: braces, tags, quotes, numbers.
        "[{}<>\\[\\]\":,=&a-zA-Z0-9 ./_-]{0,200}".prop_map(String::into_bytes),
    ]
}

/// A JSON object with the members operations take, holding odd values.
fn json_body() -> impl Strategy<Value = Vec<u8>> {
    let key = prop_oneof![
        Just("ServiceArn"),
        Just("repositoryName"),
        Just("imageIds"),
        Just("MetricDataQueries"),
        Just("resourceArn"),
        Just("sql"),
        Just("seconds"),
        Just("speed"),
        Just("service"),
        Just("kind"),
        Just("tag"),
        Just("repository"),
        Just("MaxResults"),
        Just("NextToken"),
    ];
    let value = prop_oneof![
        any::<i32>().prop_map(|n| serde_json::json!(n)),
        (0.0f64..1000.0).prop_map(|n| serde_json::json!(n)),
        "[a-z:/0-9-]{0,40}".prop_map(|s| serde_json::json!(s)),
        Just(serde_json::json!(null)),
        Just(serde_json::json!([1, "x", {}])),
        Just(serde_json::json!({"a": {"b": []}})),
    ];
    proptest::collection::vec((key, value), 0..5).prop_map(|members| {
        let map: serde_json::Map<String, serde_json::Value> = members
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        serde_json::Value::Object(map).to_string().into_bytes()
    })
}

fn operation() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("ListServices".to_string()),
        Just("DescribeService".to_string()),
        Just("PauseService".to_string()),
        Just("UpdateService".to_string()),
        Just("DescribeImages".to_string()),
        Just("GetMetricData".to_string()),
        Just("DescribeDBClusters".to_string()),
        Just("StopDBCluster".to_string()),
        Just("ModifyCurrentDBClusterCapacity".to_string()),
        Just("FilterLogEvents".to_string()),
        "[A-Za-z]{0,30}",
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![json_body(), bytes()]
}

fn request() -> impl Strategy<Value = Req> {
    let json = |prefix: &'static str, version: &'static str| {
        (operation(), body()).prop_map(move |(op, body)| Req {
            method: "POST",
            path: "/".into(),
            headers: vec![
                ("x-amz-target".into(), format!("{prefix}.{op}")),
                (
                    "content-type".into(),
                    format!("application/x-amz-json-{version}"),
                ),
            ],
            body,
        })
    };
    prop_oneof![
        // awsQuery (RDS): form bodies with odd actions and parameters.
        (operation(), "[A-Za-z0-9.=&%+_-]{0,120}", bytes()).prop_map(|(op, params, raw)| Req {
            method: "POST",
            path: "/".into(),
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded".into()
            )],
            body: if raw.len() % 3 == 0 {
                raw
            } else {
                format!("Action={op}&Version=2014-10-31&{params}").into_bytes()
            },
        }),
        json("AppRunner", "1.0"),
        json("AmazonEC2ContainerRegistry_V20150921", "1.1"),
        json("GraniteServiceVersion20100801", "1.0"),
        json("Logs_20140328", "1.1"),
        // An unknown target prefix.
        ("[A-Za-z_0-9]{0,20}", operation(), body()).prop_map(|(prefix, op, body)| Req {
            method: "POST",
            path: "/".into(),
            headers: vec![("x-amz-target".into(), format!("{prefix}.{op}"))],
            body,
        }),
        // Smithy RPC v2 CBOR (CloudWatch).
        ("[A-Za-z0-9]{0,30}", operation(), bytes()).prop_map(|(service, op, body)| Req {
            method: "POST",
            path: if service.len() % 2 == 0 {
                format!("/service/GraniteServiceVersion20100801/operation/{op}")
            } else {
                format!("/service/{service}/operation/{op}")
            },
            headers: vec![
                ("smithy-protocol".into(), "rpc-v2-cbor".into()),
                ("content-type".into(), "application/cbor".into()),
            ],
            body,
        }),
        // REST-JSON (RDS Data API).
        (
            prop_oneof![
                Just("/Execute"),
                Just("/BeginTransaction"),
                Just("/execute")
            ],
            body()
        )
            .prop_map(|(path, body)| Req {
                method: "POST",
                path: path.into(),
                headers: vec![("content-type".into(), "application/json".into())],
                body,
            }),
        // The admin API: every route, odd methods and bodies (numbers stay small, so no
        // request asks for a month of emulated time).
        (
            prop_oneof![
                Just("/_scale0/clock"),
                Just("/_scale0/clock/advance"),
                Just("/_scale0/clock/speed"),
                Just("/_scale0/faults"),
                Just("/_scale0/faults/999"),
                Just("/_scale0/faults/x"),
                Just("/_scale0/faults/deploy-failure"),
                Just("/_scale0/faults/maintenance"),
                Just("/_scale0/ecr/push"),
                Just("/_scale0/world"),
                Just("/_scale0/stats"),
                Just("/_scale0/nowhere"),
            ],
            prop_oneof![Just("GET"), Just("POST"), Just("DELETE"), Just("PUT")],
            body(),
        )
            .prop_map(|(path, method, body)| Req {
                method,
                path: path.into(),
                headers: vec![("content-type".into(), "application/json".into())],
                body,
            }),
    ]
}

/// An AWS-shaped error: JSON with a type or message, query XML with a code, or CBOR.
fn aws_shaped(content_type: &str, body: &[u8]) -> bool {
    if content_type.contains("cbor") {
        return !body.is_empty();
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) {
        return ["__type", "code", "Code", "message", "Message", "error"]
            .iter()
            .any(|k| map.contains_key(*k));
    }
    let text = String::from_utf8_lossy(body);
    text.contains("<Error>") && text.contains("<Code>")
}

/// Sends one request; Err says what was wrong with the answer.
async fn send(client: &reqwest::Client, endpoint: &str, r: &Req) -> Result<u16, String> {
    let method = reqwest::Method::from_bytes(r.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut builder = client
        .request(method, format!("{endpoint}{}", r.path))
        .body(r.body.clone());
    for (k, v) in &r.headers {
        builder = builder.header(k, v);
    }
    let started = Instant::now();
    let response = builder
        .send()
        .await
        .map_err(|e| format!("no answer after {:?}: {e}", started.elapsed()))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("answer cut off: {e}"))?;
    if status >= 500 {
        return Err(format!(
            "HTTP {status} for a client's mistake: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    if (400..500).contains(&status) && !aws_shaped(&content_type, &body) {
        return Err(format!(
            "HTTP {status} not in an AWS error shape ({content_type}): {}",
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(status)
}

#[test]
fn hostile_requests_get_aws_shaped_4xx_and_never_kill_or_hang_the_emulator() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let _heavy = HEAVY.blocking_lock();
    let emu = runtime.block_on(emulator(Seed::Demo));
    let endpoint = emu.endpoint_url().to_string();
    let client = reqwest::Client::builder()
        .timeout(ANSWER_WITHIN)
        .build()
        .expect("client");
    let started = Instant::now();
    let sent = std::sync::atomic::AtomicUsize::new(0);
    let statuses = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        max_shrink_iters: 64,
        ..Config::default()
    };
    // A fixed seed: CI runs the same 10,000 requests every time.
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let result = runner.run(&proptest::collection::vec(request(), PER_CASE), |batch| {
        let answers = runtime.block_on(futures_util::future::join_all(
            batch.iter().map(|r| send(&client, &endpoint, r)),
        ));
        sent.fetch_add(batch.len(), std::sync::atomic::Ordering::Relaxed);
        for (r, a) in batch.iter().zip(answers) {
            match a {
                Ok(status) => {
                    *statuses
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .entry(status)
                        .or_default() += 1
                }
                Err(e) => {
                    return Err(TestCaseError::fail(format!("{e}\nrequest: {r:?}")));
                }
            }
        }
        Ok(())
    });
    let sent = sent.into_inner();
    println!(
        "fuzz: {sent} requests in {:.1} s, statuses {:?}",
        started.elapsed().as_secs_f64(),
        statuses.into_inner().unwrap_or_default()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(sent >= 10_000, "only {sent} requests");
    // Still alive and answering.
    let health = runtime.block_on(async {
        client
            .get(format!("{endpoint}/_scale0/health"))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    assert_eq!(health.ok(), Some(200), "the emulator still answers");
    runtime.block_on(emu.shutdown());
}

/// A body shorter than its Content-Length: a 400 once the body timeout passes, and the
/// connection is closed rather than held open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_content_length_gets_a_timeout_and_a_400() {
    let emu = emulator(Seed::Empty).await;
    let address = emu.endpoint_url().trim_start_matches("http://").to_string();
    for (headers, body) in [
        (
            "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AppRunner.ListServices\r\ncontent-type: application/x-amz-json-1.0\r\nContent-Length: 500\r\n\r\n",
            "{\"MaxResults\":",
        ),
        (
            "POST /_scale0/faults HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nContent-Length: 90\r\n\r\n",
            "{",
        ),
    ] {
        let started = Instant::now();
        let mut stream = tokio::net::TcpStream::connect(&address)
            .await
            .expect("connects");
        stream
            .write_all(format!("{headers}{body}").as_bytes())
            .await
            .expect("writes");
        let mut answer = Vec::new();
        let read = tokio::time::timeout(ANSWER_WITHIN, stream.read_to_end(&mut answer)).await;
        let text = String::from_utf8_lossy(&answer);
        assert!(read.is_ok(), "the connection was held open: {text}");
        assert!(text.starts_with("HTTP/1.1 400"), "{text}");
        assert!(
            text.contains("IncompleteBody"),
            "an AWS-shaped error: {text}"
        );
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "it waited for the promised body first"
        );
    }
    emu.shutdown().await;
}
