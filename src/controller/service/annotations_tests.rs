use super::*;

fn count(wanted: fn(&Support) -> bool) -> usize {
    CCM_ANNOTATIONS.iter().filter(|(_, s)| wanted(s)).count()
}

#[test]
fn every_annotation_of_the_cloud_controller_manager_is_listed_once() {
    let names: std::collections::BTreeSet<&str> =
        CCM_ANNOTATIONS.iter().map(|(name, _)| *name).collect();
    assert_eq!(names.len(), CCM_ANNOTATIONS.len());
    assert!(OWN_ANNOTATIONS.iter().all(|own| !names.contains(own)));
    let implemented = count(|s| *s == Implemented);
    let refused = count(|s| matches!(s, Refused(_)));
    assert_eq!(implemented + refused, 66);
    assert!(implemented >= 45, "{implemented} implemented");
}

#[test]
fn annotations_not_applied_are_named_with_why_and_applied_ones_are_not() {
    let annotations: BTreeMap<String, String> = [
        format!("{ANNOTATION_PREFIX}scheduler"),
        format!("{ANNOTATION_PREFIX}xforwardedfor-slbip"),
        format!("{ANNOTATION_PREFIX}acl-id"),
        format!("{LEGACY_ANNOTATION_PREFIX}http2-enabled"),
        format!("{ANNOTATION_PREFIX}no-such-thing"),
        BACKEND_TYPE_ANNOTATION.to_owned(),
        "example.com/other".to_owned(),
    ]
    .into_iter()
    .map(|key| (key, "x".to_owned()))
    .collect();
    let ignored: Vec<(String, &str)> = ignored(&annotations)
        .into_iter()
        .map(|i| (i.annotation, i.why))
        .collect();
    assert_eq!(
        ignored,
        vec![
            (
                format!("{ANNOTATION_PREFIX}acl-id"),
                "API 2014-05-15 has no access control lists; use spec.loadBalancerSourceRanges"
            ),
            (
                format!("{ANNOTATION_PREFIX}no-such-thing"),
                "not an annotation of the cloud controller manager or the operator"
            ),
            (
                format!("{LEGACY_ANNOTATION_PREFIX}http2-enabled"),
                LATER_API
            ),
        ]
    );
}

#[test]
fn the_readme_table_says_what_the_code_does() {
    let readme = include_str!("../../../README.md");
    for (name, support) in CCM_ANNOTATIONS {
        let status = match support {
            Implemented => "implemented",
            Refused(_) => "refused",
        };
        let row = format!("| `{name}` | {status} |");
        assert!(readme.contains(&row), "the README lacks {row:?}");
    }
}
