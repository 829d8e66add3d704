//! World files for `scale0 emulator --world FILE`: environments described in TOML, so the
//! same app can be set up in any configuration (README documents the format).

use super::seed::{ClusterSpec, EnvSpec, ServiceSpec};
use super::world::cluster::DbMode;
use super::world::service::AppServer;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum WorldFileError {
    #[error("could not read the world file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid world file: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("invalid world file: environment {env}: {message}")]
    Invalid { env: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorldFile {
    #[serde(default)]
    environment: Vec<EnvironmentEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvironmentEntry {
    name: String,
    owner: Option<String>,
    #[serde(default = "yes")]
    tagged: bool,
    service: Option<ServiceEntry>,
    cluster: Option<ClusterEntry>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceEntry {
    /// "runserver" or "gunicorn".
    server: String,
    workers: Option<u32>,
    threads: Option<u32>,
    #[serde(default)]
    debug: bool,
    #[serde(default)]
    conn_max_age: u32,
    vcpu: Option<f64>,
    max_concurrency: Option<u32>,
    min_size: Option<u32>,
    max_size: Option<u32>,
    #[serde(default)]
    paused: bool,
    /// "apprunner" (the default) or "ecs-express".
    kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterEntry {
    /// "v2", "v1" or "provisioned".
    mode: String,
    min_acu: Option<f64>,
    max_acu: Option<f64>,
    seconds_until_auto_pause: Option<u32>,
    instance_class: Option<String>,
    /// A parameter-group value; AWS's default for the mode otherwise.
    max_connections: Option<u32>,
    /// The PostgreSQL log exported to CloudWatch Logs.
    #[serde(default)]
    log_export: bool,
    #[serde(default)]
    paused: bool,
    #[serde(default)]
    stopped: bool,
}

pub fn load(path: &std::path::Path) -> Result<Vec<EnvSpec>, WorldFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| WorldFileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text)
}

pub fn parse(text: &str) -> Result<Vec<EnvSpec>, WorldFileError> {
    let file: WorldFile = toml::from_str(text)?;
    file.environment.into_iter().map(env_spec).collect()
}

fn env_spec(e: EnvironmentEntry) -> Result<EnvSpec, WorldFileError> {
    let invalid = |message: String| WorldFileError::Invalid {
        env: e.name.clone(),
        message,
    };
    let service = match &e.service {
        None => None,
        Some(s) => {
            let app_server = match s.server.as_str() {
                "runserver" => AppServer::ThreadPerConnection,
                "gunicorn" => AppServer::Gunicorn {
                    workers: s.workers.unwrap_or(1).max(1),
                    threads: s.threads.unwrap_or(1).max(1),
                },
                other => {
                    return Err(invalid(format!(
                        "server {other:?} is not runserver or gunicorn"
                    )));
                }
            };
            let vcpu = s.vcpu.unwrap_or(1.0);
            if ![0.25, 0.5, 1.0, 2.0, 4.0].contains(&vcpu) {
                return Err(invalid(format!("vcpu {vcpu} is not 0.25, 0.5, 1, 2 or 4")));
            }
            let d = ServiceSpec::default();
            Some(ServiceSpec {
                paused: s.paused,
                app_server,
                debug: s.debug,
                conn_max_age: s.conn_max_age,
                vcpu,
                max_concurrency: s.max_concurrency.unwrap_or(d.max_concurrency).clamp(1, 200),
                min_size: s.min_size.unwrap_or(d.min_size).clamp(1, 25),
                max_size: s.max_size.unwrap_or(d.max_size).max(1),
                auto_deployments: true,
                express: match s.kind.as_deref() {
                    None | Some("apprunner") => false,
                    Some("ecs-express") => true,
                    Some(other) => {
                        return Err(invalid(format!(
                            "kind {other:?} is not apprunner or ecs-express"
                        )));
                    }
                },
            })
        }
    };
    let cluster = match &e.cluster {
        None => None,
        Some(c) => {
            let mut spec = match c.mode.as_str() {
                "v2" => {
                    let min = c.min_acu.unwrap_or(0.0);
                    let max = c.max_acu.unwrap_or(4.0);
                    let mut spec = ClusterSpec::v2(min, max);
                    spec.mode = DbMode::ServerlessV2 {
                        min,
                        max,
                        seconds_until_auto_pause: c.seconds_until_auto_pause.unwrap_or(300),
                    };
                    spec
                }
                "v1" => {
                    let mut spec = ClusterSpec::v1();
                    spec.mode = DbMode::ServerlessV1 {
                        min: c.min_acu.unwrap_or(2.0) as u32,
                        max: c.max_acu.unwrap_or(4.0) as u32,
                        auto_pause: true,
                        seconds_until_auto_pause: c.seconds_until_auto_pause.unwrap_or(300),
                    };
                    spec
                }
                "provisioned" => {
                    ClusterSpec::provisioned(c.instance_class.as_deref().unwrap_or("db.t4g.medium"))
                }
                other => {
                    return Err(invalid(format!(
                        "cluster mode {other:?} is not v2, v1 or provisioned"
                    )));
                }
            };
            spec.max_connections = c.max_connections;
            spec.log_export = c.log_export;
            spec.paused = c.paused;
            spec.stopped = c.stopped;
            Some(spec)
        }
    };
    Ok(EnvSpec {
        env: e.name,
        owner: e.owner,
        tagged: e.tagged,
        service,
        cluster,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_world_file_describes_services_and_clusters() {
        let envs = parse(
            r#"
[[environment]]
name = "fixed"
owner = "bob"
service = { server = "gunicorn", workers = 4, threads = 8, vcpu = 2, max_size = 1 }
cluster = { mode = "v2", min_acu = 0, max_acu = 8 }
"#,
        )
        .unwrap();
        let s = envs[0].service.as_ref().unwrap();
        assert_eq!(
            s.app_server,
            AppServer::Gunicorn {
                workers: 4,
                threads: 8
            }
        );
        assert_eq!((s.vcpu, s.max_size), (2.0, 1));
        assert!(
            parse("[[environment]]\nname = \"x\"\nservice = { server = \"uwsgi\" }\n").is_err()
        );
        assert!(parse("[[environment]]\nname = \"x\"\ncolour = 1\n").is_err());
    }
}
