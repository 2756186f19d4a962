//! The SlbRule plan (pure): what to call, given the rule the spec asks for and the one SLB has.

use slb_api::NewRule;

/// A rule as SLB reports it; an empty domain or url is none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoteRule {
    pub id: String,
    pub name: String,
    pub domain: Option<String>,
    pub url: Option<String>,
    pub v_server_group_id: Option<String>,
}

/// What to do about the rule.
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
    /// A rule we did not record has the name but matches other requests: not ours to replace.
    NameTaken {
        rule_id: String,
    },
}

/// Plans the calls for `desired`, given the rule SLB has (if any). `recorded` says whether that rule
/// is the one whose ID the status holds, rather than one found by name.
pub fn plan(desired: NewRule, remote: Option<&RemoteRule>, recorded: bool) -> Plan {
    let Some(remote) = remote else {
        return Plan::Create(desired);
    };
    if remote.domain != desired.domain || remote.url != desired.url {
        if !recorded {
            return Plan::NameTaken {
                rule_id: remote.id.clone(),
            };
        }
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

/// The rule `id` among `rules`, else (after a crash before the status write) the one named `name`:
/// rule names are unique within a listener.
pub fn find<'a>(rules: &'a [RemoteRule], id: Option<&str>, name: &str) -> Option<&'a RemoteRule> {
    match id {
        Some(id) => rules.iter().find(|r| r.id == id),
        None => rules.iter().find(|r| r.name == name),
    }
}

/// The rule to plan against, and whether it is the one the status recorded. Unlike [`find`], a
/// recorded rule SLB no longer has falls back to the name: the create that replaced it may have
/// succeeded without an answer, and rule names are unique within a listener, so creating again
/// would fail for good.
pub fn locate<'a>(
    rules: &'a [RemoteRule],
    recorded: Option<&str>,
    name: &str,
) -> Option<(&'a RemoteRule, bool)> {
    match find(rules, recorded, name) {
        Some(rule) => Some((rule, recorded.is_some())),
        None if recorded.is_some() => find(rules, None, name).map(|rule| (rule, false)),
        None => None,
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
    fn plan_against_changed(change: impl FnOnce(&mut RemoteRule), recorded: bool) -> Plan {
        let mut found = remote("rsp-1");
        change(&mut found);
        plan(desired("rsp-1"), Some(&found), recorded)
    }

    #[test]
    fn a_missing_rule_is_created() {
        assert_eq!(
            plan(desired("rsp-1"), None, false),
            Plan::Create(desired("rsp-1"))
        );
    }

    #[test]
    fn a_matching_rule_needs_no_call() {
        assert_eq!(
            plan(desired("rsp-1"), Some(&remote("rsp-1")), true),
            Plan::InSync
        );
    }

    #[test]
    fn only_a_real_group_difference_calls_set_rule() {
        assert_eq!(
            plan(desired("rsp-2"), Some(&remote("rsp-1")), false),
            Plan::SetGroup {
                rule_id: "rule-1".into(),
                group_id: "rsp-2".into()
            }
        );
        let without_group = plan_against_changed(|r| r.v_server_group_id = None, true);
        assert!(matches!(without_group, Plan::SetGroup { .. }));
    }

    #[test]
    fn another_domain_or_url_is_a_replacement() {
        let other_url: fn(&mut RemoteRule) = |r| r.url = Some("/v2".into());
        let no_domain: fn(&mut RemoteRule) = |r| r.domain = None;
        for change in [other_url, no_domain] {
            assert_eq!(
                plan_against_changed(change, true),
                Plan::Replace {
                    old_id: "rule-1".into(),
                    create: desired("rsp-1")
                }
            );
        }
    }

    #[test]
    fn a_rule_found_by_name_with_other_requests_is_not_replaced() {
        assert_eq!(
            plan_against_changed(|r| r.url = Some("/other".into()), false),
            Plan::NameTaken {
                rule_id: "rule-1".into()
            }
        );
    }

    #[test]
    fn a_rule_is_found_by_its_id_else_by_its_unique_name() {
        let mut other = remote("rsp-1");
        other.id = "rule-2".into();
        other.name = "ns/other".into();
        let rules = vec![other, remote("rsp-1")];
        assert_eq!(
            find(&rules, Some("rule-1"), "x").map(|r| r.id.as_str()),
            Some("rule-1")
        );
        assert_eq!(
            find(&rules, None, "ns/api").map(|r| r.id.as_str()),
            Some("rule-1")
        );
        assert!(find(&rules, Some("rule-9"), "ns/api").is_none());
    }

    #[test]
    fn a_recorded_rule_that_is_gone_is_looked_for_by_name_as_not_recorded() {
        let mut replacement = remote("rsp-1");
        replacement.id = "rule-2".into();
        let rules = vec![replacement];
        let (found, recorded) = locate(&rules, Some("rule-1"), "ns/api")
            .unwrap_or_else(|| unreachable!("the rule named ns/api"));
        assert_eq!((found.id.as_str(), recorded), ("rule-2", false));
        // Found that way it is planned as any rule found by name: ours only if it matches.
        assert_eq!(plan(desired("rsp-1"), Some(found), recorded), Plan::InSync);
        let mut foreign = rules[0].clone();
        foreign.url = Some("/other".into());
        assert!(matches!(
            plan(desired("rsp-1"), Some(&foreign), recorded),
            Plan::NameTaken { .. }
        ));
    }

    #[test]
    fn a_recorded_rule_is_located_by_its_id_first() {
        let mut renamed = remote("rsp-1");
        renamed.name = "ns/renamed".into();
        let mut named = remote("rsp-1");
        named.id = "rule-2".into();
        let rules = vec![named, renamed];
        let (found, recorded) = locate(&rules, Some("rule-1"), "ns/api")
            .unwrap_or_else(|| unreachable!("the recorded rule"));
        assert_eq!((found.id.as_str(), recorded), ("rule-1", true));
        let (found, recorded) =
            locate(&rules, None, "ns/api").unwrap_or_else(|| unreachable!("the rule named ns/api"));
        assert_eq!((found.id.as_str(), recorded), ("rule-2", false));
        assert!(locate(&rules, Some("rule-9"), "ns/none").is_none());
    }

    #[test]
    fn empty_strings_from_slb_are_none() {
        assert_eq!(non_empty(Some(String::new())), None);
        assert_eq!(non_empty(Some("/a".into())), Some("/a".into()));
    }
}
