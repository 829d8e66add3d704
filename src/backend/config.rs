//! The config file: `<platform config dir>/scale0/config.toml` (on Linux
//! `~/.config/scale0/config.toml`). Everything in it is optional.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Written by `scale0 config --example`; the README shows it too.
pub const EXAMPLE: &str = r#"# scale0 configuration. Every setting is optional.

# [aws]
# profile = "dev"                    # like --profile / AWS_PROFILE
# regions = ["eu-west-3"]            # like --region (repeatable)

# Read-only accounts get no pause, resume, wake, sleep, deploy, rollback or burst.
# Profiles and accounts whose name says prod/production are read-only by default.
# [accounts]
# read_only = ["shared-staging", "210987654321"]   # profile names or account ids
# writable = ["prod-sandbox"]                      # lifts the naming rule

# Environments are found by tags first (scale0:env, scale0:owner), then by the seed
# project's names (service scale0-<env>, cluster scale0<env>, image scale0:<env>).
# Map anything else explicitly; an explicit mapping wins over tags and names.
#
# [[environment]]
# name = "demo"                      # as `scale0 envs` shows it
# owner = "alice"
# region = "eu-west-3"               # optional: the first region otherwise
# service = "my-app"                 # App Runner service name
# cluster = "mydb"                   # Aurora DB cluster identifier
# secret_arn = "arn:aws:secretsmanager:eu-west-3:123456789012:secret:mydb-abc123"
#                                    # lets `wake` use the RDS Data API when the cluster
#                                    # has no managed master user secret

# Keep-awakes and sleep schedules run as EventBridge Scheduler schedules (README:
# "Schedules and the scheduler role").
# [scheduler]
# role_arn = "arn:aws:iam::123456789012:role/scale0-scheduler"  # default: that name
# group = "scale0"                   # the project's schedule group
"#;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub aws: AwsSettings,
    #[serde(default, rename = "environment")]
    pub environments: Vec<EnvMapping>,
    #[serde(default)]
    pub accounts: crate::backend::guard::AccountSettings,
    #[serde(default)]
    pub scheduler: SchedulerSettings,
}

/// Where scale0's schedules live and which IAM role they run as.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SchedulerSettings {
    pub role_arn: Option<String>,
    pub group: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AwsSettings {
    pub profile: Option<String>,
    #[serde(default)]
    pub regions: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnvMapping {
    pub name: String,
    pub owner: Option<String>,
    pub region: Option<String>,
    pub service: Option<String>,
    pub cluster: Option<String>,
    pub secret_arn: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("scale0").join("config.toml"))
}

impl Config {
    /// Loads `path`; a missing file is an empty config, a malformed one an error that
    /// says where.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Config::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        })
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
        for m in &config.environments {
            if m.name.trim().is_empty() || m.name.contains('/') {
                return Err(format!(
                    "environment name {:?} must be non-empty and without '/'",
                    m.name
                ));
            }
            if m.service.is_none() && m.cluster.is_none() {
                return Err(format!(
                    "environment {:?} maps neither a service nor a cluster",
                    m.name
                ));
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_and_mappings_are_read() {
        assert_eq!(Config::parse(EXAMPLE).unwrap(), Config::default());
        let c = Config::parse(
            "[aws]\nregions = [\"eu-west-3\"]\n[[environment]]\nname = \"demo\"\nservice = \"app\"\n",
        )
        .unwrap();
        assert_eq!(c.aws.regions, ["eu-west-3"]);
        assert_eq!(c.environments[0].service.as_deref(), Some("app"));
    }

    #[test]
    fn malformed_config_says_what_is_wrong() {
        let e = Config::parse("[[environment]]\nname = \"x\"\nservise = \"typo\"\n").unwrap_err();
        assert!(e.contains("servise"), "{e}");
        let e = Config::parse("[[environment]]\nname = \"x\"\n").unwrap_err();
        assert!(e.contains("neither"), "{e}");
        assert!(Config::parse("not toml [").is_err());
    }
}
