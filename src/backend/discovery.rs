//! Pairing services and clusters into environments: tags first (`scale0:env`,
//! `scale0:owner`), then the seed's names (service `scale0-<env>`, cluster `scale0<env>`),
//! with explicit config mappings winning over both. Whatever matches nothing is listed on
//! its own as unpaired, never dropped.

use super::config::EnvMapping;
use crate::model::{Discovery, EnvKey};

pub const ENV_TAG: &str = "scale0:env";
pub const OWNER_TAG: &str = "scale0:owner";
/// Where scale0 records the image deployed before the last deploy (for rollback).
pub const PREVIOUS_IMAGE_TAG: &str = "scale0:previous-image";

#[derive(Clone, Debug)]
pub struct Resource {
    /// Service name or cluster identifier.
    pub name: String,
    pub tags: Vec<(String, String)>,
}

impl Resource {
    fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// An environment's parts, by name, before their state is read.
#[derive(Clone, Debug, PartialEq)]
pub struct Pairing {
    pub key: EnvKey,
    pub owner: Option<String>,
    pub discovery: Discovery,
    pub service: Option<String>,
    pub cluster: Option<String>,
    pub secret_arn: Option<String>,
}

/// The cluster identifier the seed's convention gives an environment.
pub fn conventional_cluster(env: &str) -> String {
    let alnum: String = env
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("scale0{alnum}")
}

pub fn pair(
    account: &str,
    region: &str,
    services: &[Resource],
    clusters: &[Resource],
    mappings: &[EnvMapping],
    first_region: bool,
) -> Vec<Pairing> {
    let mut used_services = vec![false; services.len()];
    let mut used_clusters = vec![false; clusters.len()];
    let mut out: Vec<Pairing> = Vec::new();
    let key = |name: &str| EnvKey {
        region: region.to_string(),
        name: name.to_string(),
        account: account.to_string(),
    };

    // 1. Explicit mappings (for this region, or unqualified ones in the first region).
    for m in mappings {
        let here = match &m.region {
            Some(r) => r == region,
            None => first_region,
        };
        if !here {
            continue;
        }
        let s = m
            .service
            .as_ref()
            .and_then(|n| services.iter().position(|s| &s.name == n));
        let c = m
            .cluster
            .as_ref()
            .and_then(|n| clusters.iter().position(|c| &c.name == n));
        if s.is_none() && c.is_none() {
            continue;
        }
        if let Some(i) = s {
            used_services[i] = true;
        }
        if let Some(i) = c {
            used_clusters[i] = true;
        }
        out.push(Pairing {
            key: key(&m.name),
            owner: m.owner.clone(),
            discovery: Discovery::Config,
            service: s.map(|i| services[i].name.clone()),
            cluster: c.map(|i| clusters[i].name.clone()),
            secret_arn: m.secret_arn.clone(),
        });
    }

    // 2. Tags, then 3. names, for services; each brings its cluster along.
    for (i, s) in services.iter().enumerate() {
        if used_services[i] {
            continue;
        }
        let (env, discovery) = match (s.tag(ENV_TAG), s.name.strip_prefix("scale0-")) {
            (Some(env), _) => (env.to_string(), Discovery::Tags),
            (None, Some(env)) if !env.is_empty() => (env.to_string(), Discovery::Naming),
            _ => continue,
        };
        used_services[i] = true;
        let cluster = clusters
            .iter()
            .enumerate()
            .position(|(j, c)| !used_clusters[j] && c.tag(ENV_TAG) == Some(env.as_str()))
            .or_else(|| {
                let wanted = conventional_cluster(&env);
                clusters.iter().enumerate().position(|(j, c)| {
                    !used_clusters[j] && c.name == wanted && c.tag(ENV_TAG).is_none_or(|t| t == env)
                })
            });
        if let Some(j) = cluster {
            used_clusters[j] = true;
        }
        let owner = s
            .tag(OWNER_TAG)
            .or_else(|| cluster.and_then(|j| clusters[j].tag(OWNER_TAG)))
            .map(str::to_string);
        out.push(Pairing {
            key: key(&env),
            owner,
            discovery,
            service: Some(s.name.clone()),
            cluster: cluster.map(|j| clusters[j].name.clone()),
            secret_arn: None,
        });
    }

    // Clusters that found no service: still environments by tag or name.
    for (j, c) in clusters.iter().enumerate() {
        if used_clusters[j] {
            continue;
        }
        let (name, discovery) = match (c.tag(ENV_TAG), c.name.strip_prefix("scale0")) {
            (Some(env), _) => (env.to_string(), Discovery::Tags),
            (None, Some(env)) if !env.is_empty() => (env.to_string(), Discovery::Naming),
            _ => (c.name.clone(), Discovery::Unpaired),
        };
        used_clusters[j] = true;
        out.push(Pairing {
            key: key(&name),
            owner: c.tag(OWNER_TAG).map(str::to_string),
            discovery,
            service: None,
            cluster: Some(c.name.clone()),
            secret_arn: None,
        });
    }
    for (i, s) in services.iter().enumerate() {
        if !used_services[i] {
            out.push(Pairing {
                key: key(&s.name),
                owner: s.tag(OWNER_TAG).map(str::to_string),
                discovery: Discovery::Unpaired,
                service: Some(s.name.clone()),
                cluster: None,
                secret_arn: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(name: &str, tags: &[(&str, &str)]) -> Resource {
        Resource {
            name: name.into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn tags_then_names_then_unpaired() {
        let services = [
            res("scale0-dev", &[]),
            res("shop", &[(ENV_TAG, "alice"), (OWNER_TAG, "alice")]),
            res("legacy-api", &[]),
        ];
        let clusters = [
            res("scale0dev", &[]),
            res("shopdb", &[(ENV_TAG, "alice")]),
            res("scale0qa", &[(OWNER_TAG, "bob")]),
            res("reporting", &[]),
        ];
        let p = pair("", "eu-west-3", &services, &clusters, &[], true);
        let find = |n: &str| p.iter().find(|p| p.key.name == n).unwrap();
        assert_eq!(find("dev").cluster.as_deref(), Some("scale0dev"));
        assert_eq!(find("dev").discovery, Discovery::Naming);
        assert_eq!(find("alice").cluster.as_deref(), Some("shopdb"));
        assert_eq!(find("alice").discovery, Discovery::Tags);
        assert_eq!(find("qa").service, None);
        assert_eq!(find("qa").owner.as_deref(), Some("bob"));
        assert_eq!(find("reporting").discovery, Discovery::Unpaired);
        assert_eq!(find("legacy-api").discovery, Discovery::Unpaired);
        assert_eq!(p.len(), 5);
    }

    #[test]
    fn config_mappings_win() {
        let services = [res("scale0-dev", &[])];
        let clusters = [res("scale0dev", &[]), res("otherdb", &[])];
        let mapping = EnvMapping {
            name: "demo".into(),
            owner: Some("carol".into()),
            region: None,
            service: Some("scale0-dev".into()),
            cluster: Some("otherdb".into()),
            secret_arn: None,
        };
        let p = pair("", "us-east-1", &services, &clusters, &[mapping], true);
        assert_eq!(p[0].key.name, "demo");
        assert_eq!(p[0].cluster.as_deref(), Some("otherdb"));
        assert_eq!(
            p[1].key.name, "dev",
            "scale0dev is left as its own environment"
        );
        assert_eq!(p[1].service, None);
    }
}
