//! The command palette's search: fuzzy, over every action's label and tooltip, best first.
//! Pure, so the ranking is tested without a window.

use super::{Context, Spec, TABLE, precondition};

/// One palette row: the action, and why it can't run now (shown greyed out), if so.
#[derive(Clone, Debug)]
pub struct Entry {
    pub spec: &'static Spec,
    pub disabled: Option<String>,
    pub score: i32,
}

/// The actions matching `query`, best first. Actions for the selected environment come
/// only when one is selected; disabled ones stay listed (with the reason) after the rest.
pub fn search(query: &str, cx: &Context) -> Vec<Entry> {
    let mut out: Vec<Entry> = TABLE
        .iter()
        .filter(|spec| spec.verb != super::Verb::Palette)
        .filter_map(|spec| {
            let score = score(query, spec.label).or_else(|| {
                // A match in the tooltip ranks below any match in the label.
                score(query, spec.tooltip).map(|s| s - 1000)
            })?;
            let disabled = precondition(spec.verb, cx).err().map(|r| r.to_string());
            Some(Entry {
                spec,
                disabled,
                score,
            })
        })
        .collect();
    out.sort_by_key(|e| (e.disabled.is_some(), -e.score));
    out
}

/// The palette's "Switch to profile NAME" rows matching `query`, best first, with their
/// scores (on the same scale as `search`'s).
pub fn search_profiles(query: &str, names: &[String]) -> Vec<(String, i32)> {
    let mut out: Vec<(String, i32)> = names
        .iter()
        .filter_map(|n| {
            // The name itself first: "prod" is prod-look, not "PROfile Dev-sso".
            let s = score(query, n)
                .map(|s| s + 20)
                .or_else(|| score(query, &switch_label(n)))?;
            Some((n.clone(), s))
        })
        .collect();
    out.sort_by_key(|(_, s)| -s);
    out
}

pub fn switch_label(profile: &str) -> String {
    format!("Switch to profile {profile}")
}

/// A subsequence match of `query` in `text`, case-insensitive: higher for matches at word
/// starts and for consecutive letters, None when some letter is missing.
pub fn score(query: &str, text: &str) -> Option<i32> {
    let query: Vec<char> = query
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    if query.is_empty() {
        return Some(0);
    }
    let text: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let mut score = 0;
    let mut q = 0;
    let mut previous_matched = false;
    for (i, c) in text.iter().enumerate() {
        if q < query.len() && *c == query[q] {
            let word_start = i == 0 || !text[i - 1].is_alphanumeric();
            score += 1 + if word_start { 10 } else { 0 } + if previous_matched { 5 } else { 0 };
            q += 1;
            previous_matched = true;
        } else {
            previous_matched = false;
        }
    }
    (q == query.len()).then_some(score - text.len() as i32 / 8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Verb;

    #[test]
    fn word_starts_and_runs_rank_first() {
        assert!(score("sd", "Stop database") > score("sd", "Sleep environment and dump"));
        assert_eq!(score("xyz", "Stop database"), None);
        assert!(score("pause", "Pause service").is_some());
        assert!(score("PAUSE", "Pause service").is_some());
    }

    #[test]
    fn profiles_are_found_by_name_and_by_switch() {
        let names = vec!["dev-sso".to_string(), "prod-look".to_string()];
        assert_eq!(search_profiles("prod", &names)[0].0, "prod-look");
        assert_eq!(search_profiles("switch", &names).len(), 2);
        assert!(search_profiles("zzz", &names).is_empty());
    }

    #[test]
    fn without_a_selection_environment_actions_are_listed_disabled_last() {
        let cx = Context {
            env: None,
            busy: false,
            demo: true,
        };
        let all = search("", &cx);
        assert!(all.iter().all(|e| e.spec.verb != Verb::Palette));
        let first_disabled = all.iter().position(|e| e.disabled.is_some()).unwrap();
        assert!(all[..first_disabled].iter().all(|e| e.disabled.is_none()));
        assert!(all[first_disabled..].iter().all(|e| e.disabled.is_some()));
        let stop = search("stop db", &cx);
        assert_eq!(stop[0].spec.verb, Verb::StopDb);
        assert_eq!(
            stop[0].disabled.as_deref(),
            Some("select an environment first")
        );
    }
}
