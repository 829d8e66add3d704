//! Plain environments for unit tests: an App Runner service and a Serverless v2 cluster with
//! everything else empty.

use super::{
    DatabaseState, DbMode, Discovery, EnvKey, Environment, KindFacts, ParameterSetting, Power,
    ServiceState, ServiceStatus, cost::ComputePrices,
};

pub fn environment(name: &str) -> Environment {
    Environment {
        key: EnvKey::new("us-east-1", name),
        owner: None,
        discovery: Discovery::Tags,
        service: Some(ServiceState {
            name: format!("scale0-{name}"),
            arn: format!("arn:aws:apprunner:us-east-1:1:service/scale0-{name}/x"),
            id: "x".into(),
            url: None,
            status: ServiceStatus::Running,
            operation: None,
            recent_operations: Vec::new(),
            image_identifier: None,
            auto_deployments: false,
            scaling: None,
            vcpu: 1.0,
            memory_gb: 2.0,
            active_instances: None,
            tags: Vec::new(),
            kind: "apprunner",
            kind_label: "App Runner",
            console_url: None,
            prices: ComputePrices {
                gb_hour: 0.0,
                vcpu_hour: 0.0,
                standing_hour: 0.0,
            },
            facts: KindFacts::default(),
        }),
        database: Some(DatabaseState {
            id: format!("scale0{name}"),
            arn: String::new(),
            status: "available".into(),
            mode: DbMode::ServerlessV2 {
                min_acu: 0.0,
                max_acu: 4.0,
                seconds_until_auto_pause: Some(300),
            },
            engine_version: "16.4".into(),
            power: Power::Unknown,
            capacity: None,
            connections: None,
            writer_id: None,
            http_endpoint_enabled: true,
            secret_arn: None,
            automatic_restart_time: None,
            auto_pause_at: None,
            max_connections_setting: ParameterSetting::Default,
            tags: Vec::new(),
        }),
        image: None,
        unread: Vec::new(),
        read_only: None,
    }
}
