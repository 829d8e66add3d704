use super::*;
use serde_json::json;

#[test]
fn query_input_follows_list_location_names() {
    let model = AwsService::Rds.model();
    let params = vec![
        ("Action".to_string(), "DescribeDBClusters".to_string()),
        ("Filters.Filter.1.Name".to_string(), "engine".to_string()),
        (
            "Filters.Filter.1.Values.Value.1".to_string(),
            "aurora-postgresql".to_string(),
        ),
        ("MaxRecords".to_string(), "20".to_string()),
    ];
    let v = model.from_query("DescribeDBClustersMessage", &params);
    assert_eq!(
        v,
        json!({"Filters": [{"Name": "engine", "Values": ["aurora-postgresql"]}], "MaxRecords": 20})
    );
}

#[test]
fn xml_output_wraps_lists_and_formats_timestamps() {
    let model = AwsService::Rds.model();
    let value = json!({"Events": [{"SourceIdentifier": "c1", "Date": 0.0, "EventCategories": ["notification"]}]});
    let xml = model.to_query_xml("DescribeEvents", &value, "req-1");
    assert!(xml.contains("<DescribeEventsResult><Events><Event><Date>1970-01-01T00:00:00.000Z</Date><EventCategories><EventCategory>notification</EventCategory></EventCategories><SourceIdentifier>c1</SourceIdentifier></Event></Events></DescribeEventsResult>"), "{xml}");
    assert!(xml.ends_with(
        "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DescribeEventsResponse>"
    ));
}

#[test]
fn validation_reports_missing_required_and_bad_enums() {
    let model = AwsService::AppRunner.model();
    let problems = model.validate(
        "ServiceSummary",
        &json!({"ServiceName": "abcd", "Status": "SLEEPING", "Bogus": 1}),
    );
    assert!(
        problems.iter().any(|p| p.contains("SLEEPING")),
        "{problems:?}"
    );
    assert!(problems.iter().any(|p| p.contains("Bogus")), "{problems:?}");
}

#[test]
fn error_shapes_are_found_by_code() {
    assert_eq!(
        AwsService::Rds
            .model()
            .error_status("DBClusterNotFoundFault"),
        Some(404)
    );
    assert_eq!(
        AwsService::AppRunner
            .model()
            .error_message_member("InvalidStateException"),
        "Message"
    );
}
