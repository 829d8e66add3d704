//! Read-only accounts: a profile or account marked read-only (scale0's config, or by
//! default any profile or account name that says prod/production) gets no mutating action
//! from the desktop app or the CLI. Explicit settings win over the naming rule:
//! `[accounts] writable` lifts it, `[accounts] read_only` imposes it.

use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    /// Profile names or account ids that are read-only, whatever they are called.
    #[serde(default)]
    pub read_only: Vec<String>,
    /// Profile names or account ids that may be changed even if their name says prod.
    #[serde(default)]
    pub writable: Vec<String>,
}

/// What the connection knows to decide: the profile and the settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Guard {
    pub profile: Option<String>,
    pub settings: AccountSettings,
}

/// Whether a name reads as production ("prod", "production", "prd" as a word).
fn says_production(name: &str) -> bool {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| matches!(w, "prod" | "production" | "prd"))
}

impl Guard {
    /// Why an environment in `account` (by `account_name` where known) is read-only, or
    /// None when mutating actions may run.
    pub fn read_only_reason(
        &self,
        account: Option<&str>,
        account_name: Option<&str>,
    ) -> Option<String> {
        let listed = |list: &[String]| {
            [self.profile.as_deref(), account]
                .into_iter()
                .flatten()
                .find(|n| list.iter().any(|l| l == n))
                .map(str::to_string)
        };
        if let Some(n) = listed(&self.settings.read_only) {
            return Some(format!(
                "{n} is read-only (scale0 config: [accounts] read_only)"
            ));
        }
        if listed(&self.settings.writable).is_some() {
            return None;
        }
        if let Some(p) = self.profile.as_deref().filter(|p| says_production(p)) {
            return Some(format!(
                "profile {p} looks like production, so it is read-only (list it in [accounts] writable to change it)"
            ));
        }
        if let Some(a) = account_name.filter(|a| says_production(a)) {
            return Some(format!(
                "account {a} looks like production, so it is read-only (list it in [accounts] writable to change it)"
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(profile: &str, read_only: &[&str], writable: &[&str]) -> Guard {
        Guard {
            profile: Some(profile.into()),
            settings: AccountSettings {
                read_only: read_only.iter().map(|s| s.to_string()).collect(),
                writable: writable.iter().map(|s| s.to_string()).collect(),
            },
        }
    }

    #[test]
    fn production_names_are_read_only_unless_listed_writable() {
        assert!(
            guard("prod-admin", &[], &[])
                .read_only_reason(None, None)
                .is_some()
        );
        assert!(
            guard("Production", &[], &[])
                .read_only_reason(None, None)
                .is_some()
        );
        assert!(
            guard("dev", &[], &[])
                .read_only_reason(None, Some("acme-prd"))
                .is_some()
        );
        // Not a word: "product" and "reprod" are not production.
        assert!(
            guard("product-team", &[], &[])
                .read_only_reason(None, None)
                .is_none()
        );
        assert!(
            guard("prod-admin", &[], &["prod-admin"])
                .read_only_reason(None, None)
                .is_none()
        );
    }

    #[test]
    fn explicit_read_only_wins_by_profile_or_account() {
        let g = guard("dev", &["210987654321"], &["dev"]);
        assert!(g.read_only_reason(Some("210987654321"), None).is_some());
        assert!(g.read_only_reason(Some("123456789012"), None).is_none());
        assert!(
            guard("shared", &["shared"], &[])
                .read_only_reason(None, None)
                .is_some()
        );
    }
}
