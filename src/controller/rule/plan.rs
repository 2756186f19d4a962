//! The SlbRule plan (pure): what to call, given the rule the spec asks for and the one SLB has.

use slb_api::NewRule;

use crate::controller::master_slave_server_group::{Claim, claim};

/// A rule as SLB reports it; an empty domain or url is none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoteRule {
    pub id: String,
    pub name: String,
    pub domain: Option<String>,
    pub url: Option<String>,
    pub v_server_group_id: Option<String>,
}

/// What to do about the rule, which is this object's (see [`locate`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    InSync,
    Create(NewRule),
    /// SetRule: only the target group differs.
    SetGroup {
        rule_id: String,
        group_id: String,
    },
    /// Domain or url differ, which SLB cannot change: delete `old_id`, then create.
    Replace {
        old_id: String,
        create: NewRule,
    },
}

/// Plans the calls for `desired`, given this object's rule in SLB (if any).
pub fn plan(desired: NewRule, remote: Option<&RemoteRule>) -> Plan {
    let Some(remote) = remote else {
        return Plan::Create(desired);
    };
    if remote.domain != desired.domain || remote.url != desired.url {
        return Plan::Replace {
            old_id: remote.id.clone(),
            create: desired,
        };
    }
    match desired.v_server_group_id {
        Some(group_id) if remote.v_server_group_id.as_ref() != Some(&group_id) => Plan::SetGroup {
            rule_id: remote.id.clone(),
            group_id,
        },
        _ => Plan::InSync,
    }
}

/// This object's rule among `rules`: the one whose ID the status records, else one named `pending`,
/// the name its create was recorded under before being sent (see [`claim`]: SetRule cannot rename,
/// so a rule cannot be made under a uid-derived name and renamed after). `Err` is a rule someone
/// else made with the `wanted` name, never to be changed or deleted.
pub fn locate<'a>(
    rules: &'a [RemoteRule],
    recorded: Option<&str>,
    pending: Option<&str>,
    wanted: &str,
) -> Result<Option<&'a RemoteRule>, &'a RemoteRule> {
    if let Some(rule) = recorded.and_then(|id| rules.iter().find(|r| r.id == id)) {
        return Ok(Some(rule));
    }
    match claim(rules, |r| &r.name, pending, wanted) {
        Claim::Ours(rule) => Ok(Some(rule)),
        Claim::Taken(rule) => Err(rule),
        Claim::Free => Ok(None),
    }
}

/// An empty string from SLB is no value.
pub fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(group: &str) -> NewRule {
        NewRule {
            rule_name: "ns/api".into(),
            domain: Some("www.example.com".into()),
            url: Some("/api".into()),
            v_server_group_id: Some(group.into()),
        }
    }

    fn remote(group: &str) -> RemoteRule {
        RemoteRule {
            id: "rule-1".into(),
            name: "ns/api".into(),
            domain: Some("www.example.com".into()),
            url: Some("/api".into()),
            v_server_group_id: Some(group.into()),
        }
    }

    /// The plan for the rule to rsp-1 against the rule to rsp-1 that SLB holds with `change`.
    fn plan_against_changed(change: impl FnOnce(&mut RemoteRule)) -> Plan {
        let mut found = remote("rsp-1");
        change(&mut found);
        plan(desired("rsp-1"), Some(&found))
    }

    #[test]
    fn a_missing_rule_is_created() {
        assert_eq!(plan(desired("rsp-1"), None), Plan::Create(desired("rsp-1")));
    }

    #[test]
    fn a_matching_rule_needs_no_call() {
        assert_eq!(plan(desired("rsp-1"), Some(&remote("rsp-1"))), Plan::InSync);
    }

    #[test]
    fn only_a_real_group_difference_calls_set_rule() {
        assert_eq!(
            plan(desired("rsp-2"), Some(&remote("rsp-1"))),
            Plan::SetGroup {
                rule_id: "rule-1".into(),
                group_id: "rsp-2".into()
            }
        );
        let without_group = plan_against_changed(|r| r.v_server_group_id = None);
        assert!(matches!(without_group, Plan::SetGroup { .. }));
    }

    #[test]
    fn another_domain_or_url_is_a_replacement() {
        let other_url: fn(&mut RemoteRule) = |r| r.url = Some("/v2".into());
        let no_domain: fn(&mut RemoteRule) = |r| r.domain = None;
        for change in [other_url, no_domain] {
            assert_eq!(
                plan_against_changed(change),
                Plan::Replace {
                    old_id: "rule-1".into(),
                    create: desired("rsp-1")
                }
            );
        }
    }

    /// The ID of the rule [`locate`] finds ours, or `Err` with the one it refuses.
    fn located(
        rules: &[RemoteRule],
        recorded: Option<&str>,
        pending: Option<&str>,
    ) -> Result<Option<String>, String> {
        locate(rules, recorded, pending, "ns/api")
            .map(|found| found.map(|r| r.id.clone()))
            .map_err(|taken| taken.id.clone())
    }

    #[test]
    fn a_rule_with_the_name_that_is_not_recorded_is_someone_elses() {
        // Alike in every way, but neither its ID nor its create was recorded: never ours.
        let rules = vec![remote("rsp-1")];
        assert_eq!(located(&rules, None, None), Err("rule-1".into()));
        // The create was recorded before it was sent, and may have gone through unanswered.
        assert_eq!(
            located(&rules, None, Some("ns/api")),
            Ok(Some("rule-1".into()))
        );
        assert_eq!(located(&[], None, Some("ns/api")), Ok(None));
    }

    #[test]
    fn a_recorded_rule_is_located_by_its_id_first() {
        let mut renamed = remote("rsp-1");
        renamed.name = "ns/renamed".into();
        let mut named = remote("rsp-1");
        named.id = "rule-2".into();
        let rules = vec![named, renamed];
        assert_eq!(
            located(&rules, Some("rule-1"), None),
            Ok(Some("rule-1".into()))
        );
        // Gone, and replaced by a rule with its name that no recorded create made.
        let others = vec![rules[0].clone()];
        assert_eq!(located(&others, Some("rule-1"), None), Err("rule-2".into()));
        assert_eq!(located(&rules[1..], Some("rule-9"), None), Ok(None));
    }

    #[test]
    fn empty_strings_from_slb_are_none() {
        assert_eq!(non_empty(Some(String::new())), None);
        assert_eq!(non_empty(Some("/a".into())), Some("/a".into()));
    }
}
