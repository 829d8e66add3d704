//! The wire, byte for byte: every response validated against its output shape in AWS's
//! models, and bad or unknown requests answered in each protocol's error shape.

use crate::common::*;
use scale0::emulator::Seed;
use scale0::emulator::shapes::{AwsService, cbor_to_json};
use serde_json::{Value, json};

fn auth(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261123/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
    )
}

pub(crate) struct Raw {
    pub(crate) status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

async fn post(url: String, headers: &[(&str, String)], body: Vec<u8>) -> Raw {
    let mut req = reqwest::Client::new().post(url).body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let r = req.send().await.expect("request");
    Raw {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.bytes().await.expect("body").to_vec(),
    }
}

pub(crate) async fn json_call(
    endpoint: &str,
    service: AwsService,
    op: &str,
    input: Value,
) -> (Raw, Value) {
    let model = service.model();
    let prefix = model.metadata("targetPrefix").unwrap();
    let version = model.metadata("jsonVersion").unwrap();
    let raw = post(
        endpoint.to_string(),
        &[
            ("x-amz-target", format!("{prefix}.{op}")),
            ("content-type", format!("application/x-amz-json-{version}")),
            ("authorization", auth(service.name())),
        ],
        serde_json::to_vec(&input).unwrap(),
    )
    .await;
    let body = serde_json::from_slice(&raw.body).unwrap_or(Value::Null);
    (raw, body)
}

async fn query_call(endpoint: &str, service: AwsService, op: &str, params: &[(&str, &str)]) -> Raw {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", op);
    form.append_pair("Version", service.model().metadata("apiVersion").unwrap());
    for (k, v) in params {
        form.append_pair(k, v);
    }
    post(
        endpoint.to_string(),
        &[
            ("content-type", "application/x-www-form-urlencoded".into()),
            ("authorization", auth(service.name())),
        ],
        form.finish().into_bytes(),
    )
    .await
}

async fn cbor_call(endpoint: &str, op: &str, input: ciborium::Value) -> (Raw, Value) {
    let mut body = Vec::new();
    ciborium::into_writer(&input, &mut body).unwrap();
    let raw = post(
        format!("{endpoint}/service/GraniteServiceVersion20100801/operation/{op}"),
        &[
            ("smithy-protocol", "rpc-v2-cbor".into()),
            ("content-type", "application/cbor".into()),
            ("accept", "application/cbor".into()),
            ("authorization", auth("monitoring")),
        ],
        body,
    )
    .await;
    let value: ciborium::Value =
        ciborium::from_reader(raw.body.as_slice()).unwrap_or(ciborium::Value::Null);
    (raw, cbor_to_json(&value))
}

pub(crate) fn assert_valid(service: AwsService, op: &str, body: &Value) {
    let model = service.model();
    let shape = model
        .output_shape(op)
        .unwrap_or_else(|| panic!("{op} has an output shape"));
    let problems = model.validate(shape, body);
    assert!(problems.is_empty(), "{op}: {problems:#?}\n{body:#}");
}

#[tokio::test]
async fn every_response_matches_its_output_shape() {
    let emu = emulator(Seed::Demo).await;
    let e = emu.endpoint_url().to_string();
    let ar = AwsService::AppRunner;

    let (raw, list) = json_call(&e, ar, "ListServices", json!({})).await;
    assert_eq!(raw.status, 200);
    assert_valid(ar, "ListServices", &list);
    let arn = |name: &str| {
        list["ServiceSummaryList"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["ServiceName"] == name)
            .unwrap()["ServiceArn"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (qa, carol) = (arn("scale0-qa"), arn("scale0-carol"));
    let mut calls = vec![
        ("DescribeService", json!({"ServiceArn": qa})),
        ("ListOperations", json!({"ServiceArn": qa})),
        ("ListTagsForResource", json!({"ResourceArn": qa})),
        (
            "TagResource",
            json!({"ResourceArn": qa, "Tags": [{"Key": "k", "Value": "v"}]}),
        ),
        (
            "UntagResource",
            json!({"ResourceArn": qa, "TagKeys": ["k"]}),
        ),
        ("ResumeService", json!({"ServiceArn": carol})),
        ("PauseService", json!({"ServiceArn": arn("scale0-dave")})),
        ("StartDeployment", json!({"ServiceArn": qa})),
    ];
    let (_, described) = json_call(
        &e,
        ar,
        "DescribeService",
        json!({"ServiceArn": arn("scale0-dev")}),
    )
    .await;
    let scaling =
        described["Service"]["AutoScalingConfigurationSummary"]["AutoScalingConfigurationArn"]
            .as_str()
            .unwrap()
            .to_string();
    calls.push((
        "DescribeAutoScalingConfiguration",
        json!({"AutoScalingConfigurationArn": scaling}),
    ));
    calls.push((
        "UpdateService",
        json!({"ServiceArn": arn("scale0-dev"), "SourceConfiguration": {"ImageRepository": {"ImageIdentifier": "123456789012.dkr.ecr.us-east-1.amazonaws.com/scale0:v1.5.1", "ImageRepositoryType": "ECR"}}}),
    ));
    for (op, input) in calls {
        let (raw, body) = json_call(&e, ar, op, input).await;
        assert_eq!(raw.status, 200, "{op}: {body}");
        assert_eq!(raw.headers["content-type"], "application/x-amz-json-1.0");
        assert_valid(ar, op, &body);
    }

    let ecr = AwsService::Ecr;
    for (op, input) in [
        ("DescribeRepositories", json!({})),
        ("DescribeImages", json!({"repositoryName": "scale0"})),
        (
            "ListImages",
            json!({"repositoryName": "scale0", "maxResults": 2}),
        ),
    ] {
        let (raw, body) = json_call(&e, ecr, op, input).await;
        assert_eq!(raw.status, 200, "{op}: {body}");
        assert_eq!(raw.headers["content-type"], "application/x-amz-json-1.1");
        assert_valid(ecr, op, &body);
    }

    let rds = AwsService::Rds;
    let cluster_arn = "arn:aws:rds:us-east-1:123456789012:cluster:scale0qa";
    for (op, params) in [
        ("DescribeDBClusters", vec![]),
        ("DescribeDBInstances", vec![]),
        ("DescribeEvents", vec![("Duration", "1440")]),
        (
            "ModifyDBCluster",
            vec![
                ("DBClusterIdentifier", "scale0qa"),
                ("ServerlessV2ScalingConfiguration.MinCapacity", "0"),
                ("ServerlessV2ScalingConfiguration.MaxCapacity", "8"),
            ],
        ),
        (
            "ModifyCurrentDBClusterCapacity",
            vec![("DBClusterIdentifier", "scale0dev"), ("Capacity", "4")],
        ),
        ("StopDBCluster", vec![("DBClusterIdentifier", "scale0dave")]),
        (
            "StartDBCluster",
            vec![("DBClusterIdentifier", "scale0frank")],
        ),
        (
            "AddTagsToResource",
            vec![
                ("ResourceName", cluster_arn),
                ("Tags.Tag.1.Key", "k"),
                ("Tags.Tag.1.Value", "v"),
            ],
        ),
        ("ListTagsForResource", vec![("ResourceName", cluster_arn)]),
    ] {
        let raw = query_call(&e, rds, op, &params).await;
        let xml = String::from_utf8(raw.body).unwrap();
        assert_eq!(raw.status, 200, "{op}: {xml}");
        if rds.model().output_shape(op).is_none() {
            continue;
        }
        let body = rds
            .model()
            .from_query_xml(op, &xml)
            .unwrap_or_else(|e| panic!("{op}: {e}\n{xml}"));
        assert_valid(rds, op, &body);
    }

    let cw = AwsService::CloudWatch;
    let (raw, body) = cbor_call(&e, "ListMetrics", ciborium::Value::Map(vec![])).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.headers["smithy-protocol"], "rpc-v2-cbor");
    assert_valid(cw, "ListMetrics", &body);
    use ciborium::Value as C;
    let ts = |t: f64| C::Tag(1, Box::new(C::Float(t)));
    let query = C::Map(vec![
        (C::Text("Id".into()), C::Text("q".into())),
        (
            C::Text("MetricStat".into()),
            C::Map(vec![
                (
                    C::Text("Metric".into()),
                    C::Map(vec![
                        (C::Text("Namespace".into()), C::Text("AWS/RDS".into())),
                        (
                            C::Text("MetricName".into()),
                            C::Text("ServerlessDatabaseCapacity".into()),
                        ),
                        (
                            C::Text("Dimensions".into()),
                            C::Array(vec![C::Map(vec![
                                (
                                    C::Text("Name".into()),
                                    C::Text("DBClusterIdentifier".into()),
                                ),
                                (C::Text("Value".into()), C::Text("scale0qa".into())),
                            ])]),
                        ),
                    ]),
                ),
                (C::Text("Period".into()), C::Integer(300.into())),
                (C::Text("Stat".into()), C::Text("Average".into())),
            ]),
        ),
    ]);
    let input = C::Map(vec![
        (C::Text("MetricDataQueries".into()), C::Array(vec![query])),
        (C::Text("StartTime".into()), ts(t0() - 7200.0)),
        (C::Text("EndTime".into()), ts(t0())),
    ]);
    let mut encoded = Vec::new();
    ciborium::into_writer(&input, &mut encoded).unwrap();
    let (raw, body) = cbor_call(&e, "GetMetricData", input).await;
    assert_eq!(raw.status, 200, "{body}");
    assert_valid(cw, "GetMetricData", &body);
    assert!(
        !body["MetricDataResults"][0]["Values"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Timestamps travel as CBOR tag 1.
    let decoded: C = ciborium::from_reader(raw.body.as_slice()).unwrap();
    let text = format!("{decoded:?}");
    assert!(text.contains("Tag(1,"), "{text}");

    // The same call in awsJson1_0, as botocore and the AWS CLI may send it.
    let json_input = json!({"MetricDataQueries": [{"Id": "q", "MetricStat": {"Metric": {"Namespace": "AWS/RDS", "MetricName": "ServerlessDatabaseCapacity", "Dimensions": [{"Name": "DBClusterIdentifier", "Value": "scale0qa"}]}, "Period": 300, "Stat": "Average"}}], "StartTime": t0() - 7200.0, "EndTime": t0()});
    let (raw, body) = json_call(&e, cw, "GetMetricData", json_input).await;
    assert_eq!(raw.status, 200, "{body}");
    assert_valid(cw, "GetMetricData", &body);

    let data = AwsService::RdsData;
    let secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-scale0qa-x";
    let raw = post(
        format!("{e}/Execute"),
        &[
            ("content-type", "application/json".into()),
            ("authorization", auth("rds-data")),
        ],
        serde_json::to_vec(
            &json!({"resourceArn": cluster_arn, "secretArn": secret, "sql": "SELECT 1"}),
        )
        .unwrap(),
    )
    .await;
    let body: Value = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(raw.status, 200, "{body}");
    assert_valid(data, "ExecuteStatement", &body);
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_and_unknown_requests_get_protocol_errors() {
    let emu = emulator(Seed::Demo).await;
    let e = emu.endpoint_url().to_string();
    let json_headers = |target: &str| {
        vec![
            ("x-amz-target", target.to_string()),
            ("content-type", "application/x-amz-json-1.0".to_string()),
        ]
    };

    // Malformed JSON.
    let raw = post(
        e.clone(),
        &json_headers("AppRunner.ListServices"),
        b"{not json".to_vec(),
    )
    .await;
    assert_eq!(raw.status, 400);
    assert_eq!(raw.headers["x-amzn-errortype"], "SerializationException");
    // Unknown operation of a known service, and an unknown service.
    let raw = post(
        e.clone(),
        &json_headers("AppRunner.CreateService"),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(raw.status, 400);
    let body: Value = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(body["__type"], "UnknownOperationException");
    assert!(body["message"].as_str().unwrap().contains("CreateService"));
    let raw = post(
        e.clone(),
        &json_headers("DynamoDB_20120810.ListTables"),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(raw.status, 400);
    // Missing required member and wrong types.
    let (raw, body) = json_call(&e, AwsService::AppRunner, "DescribeService", json!({})).await;
    assert_eq!(
        (raw.status, body["__type"].as_str()),
        (400, Some("InvalidRequestException"))
    );
    let (raw, body) = json_call(
        &e,
        AwsService::AppRunner,
        "ListServices",
        json!({"MaxResults": 500}),
    )
    .await;
    assert_eq!(
        (raw.status, body["__type"].as_str()),
        (400, Some("InvalidRequestException"))
    );
    let (raw, _) = json_call(
        &e,
        AwsService::AppRunner,
        "ListServices",
        json!({"NextToken": "garbage"}),
    )
    .await;
    assert_eq!(raw.status, 400);
    let (raw, _) = json_call(
        &e,
        AwsService::AppRunner,
        "DescribeService",
        json!({"ServiceArn": 42}),
    )
    .await;
    assert_eq!(raw.status, 400);
    // A JSON array instead of an object.
    let raw = post(
        e.clone(),
        &json_headers("AppRunner.ListServices"),
        b"[1,2]".to_vec(),
    )
    .await;
    assert_eq!(raw.status, 400);

    // Query protocol: unknown action, missing action, bad filter.
    let raw = query_call(&e, AwsService::Rds, "DeleteDBCluster", &[]).await;
    let xml = String::from_utf8(raw.body).unwrap();
    assert_eq!(raw.status, 400, "{xml}");
    assert!(
        xml.contains("<Code>InvalidAction</Code>") && xml.contains("<ErrorResponse"),
        "{xml}"
    );
    let raw = post(
        e.clone(),
        &[("content-type", "application/x-www-form-urlencoded".into())],
        b"Version=2014-10-31".to_vec(),
    )
    .await;
    assert_eq!(raw.status, 400);
    assert!(
        String::from_utf8(raw.body)
            .unwrap()
            .contains("MissingAction")
    );
    let raw = query_call(
        &e,
        AwsService::Rds,
        "DescribeDBClusters",
        &[
            ("Filters.Filter.1.Name", "tag:x"),
            ("Filters.Filter.1.Values.Value.1", "y"),
        ],
    )
    .await;
    assert_eq!(raw.status, 400);
    let raw = query_call(
        &e,
        AwsService::Rds,
        "DescribeDBClusters",
        &[("DBClusterIdentifier", "nope")],
    )
    .await;
    assert_eq!(raw.status, 404);
    let xml = String::from_utf8(raw.body).unwrap();
    assert!(
        xml.contains("<Code>DBClusterNotFoundFault</Code>") && xml.contains("<Type>Sender</Type>"),
        "{xml}"
    );

    // CBOR: garbage body, unknown operation, error headers of a query-compatible service.
    let raw = post(
        format!("{e}/service/GraniteServiceVersion20100801/operation/GetMetricData"),
        &[
            ("smithy-protocol", "rpc-v2-cbor".into()),
            ("content-type", "application/cbor".into()),
        ],
        vec![0xff, 0x00, 0x13],
    )
    .await;
    assert_eq!(raw.status, 400);
    let (raw, body) = cbor_call(&e, "PutMetricAlarm", ciborium::Value::Map(vec![])).await;
    assert_eq!(raw.status, 400);
    assert_eq!(
        body["__type"],
        "com.amazonaws.cloudwatch#UnknownOperationException"
    );
    let (raw, _) = cbor_call(&e, "GetMetricData", ciborium::Value::Map(vec![])).await;
    assert_eq!(raw.status, 400);
    assert_eq!(raw.headers["x-amzn-query-error"], "MissingParameter;Sender");

    // A path nobody serves, and an empty POST.
    let raw = post(format!("{e}/nothing/here"), &[], Vec::new()).await;
    assert_eq!(raw.status, 400);
    let raw = post(e.clone(), &[], b"\x00\x01\x02".to_vec()).await;
    assert_eq!(raw.status, 400);

    // After all that the server still answers.
    let (raw, _) = json_call(&e, AwsService::AppRunner, "ListServices", json!({})).await;
    assert_eq!(raw.status, 200);
    emu.shutdown().await;
}

#[tokio::test]
async fn admin_routes_move_the_clock_and_reject_bad_input() {
    let emu = emulator(Seed::Empty).await;
    let (status, body) = admin(&emu, "/_scale0/clock/advance", json!({"seconds": 90})).await;
    assert_eq!(status, 200);
    assert_eq!(body["now"].as_f64(), Some(t0() + 90.0));
    for bad in [
        json!({"seconds": -1}),
        json!({"seconds": "soon"}),
        json!({}),
    ] {
        let (status, body) = admin(&emu, "/_scale0/clock/advance", bad).await;
        assert_eq!(status, 400, "{body}");
    }
    let (status, _) = admin(&emu, "/_scale0/clock/speed", json!({"speed": 60})).await;
    assert_eq!(status, 200);
    assert_eq!(emu.clock().speed(), 60.0);
    let (status, _) = admin(&emu, "/_scale0/faults", json!({"kind": "explode"})).await;
    assert_eq!(status, 400);
    let (status, _) = admin(
        &emu,
        "/_scale0/faults/maintenance",
        json!({"service": "nope"}),
    )
    .await;
    assert_eq!(status, 404);
    emu.shutdown().await;
}
