use super::*;
use slb_api::{
    AddressType as ApiAddressType, InternetChargeType as ApiChargeType,
    LoadBalancerStatus as ApiStatus,
};

const UID: &str = "0b9d3a4e-6f1c-4a57-9a63-1d2f5c7e8a90";

fn identity() -> Identity<'static> {
    Identity {
        uid: UID,
        default_name: "default/web".into(),
        cluster_id: "cluster-1",
    }
}

fn spec(yaml: &str) -> SlbInstanceSpec {
    serde_yaml::from_str(yaml).unwrap_or_else(|e| unreachable!("bad test spec: {e}"))
}

/// What SLB reports for a load balancer created from `spec("{}")` with our tags.
fn remote() -> DescribeLoadBalancerAttributeResponse {
    DescribeLoadBalancerAttributeResponse {
        load_balancer_id: "lb-1".into(),
        load_balancer_name: "default/web".into(),
        load_balancer_status: Some(ApiStatus::Active),
        address_type: Some(ApiAddressType::Internet),
        internet_charge_type: Some(ApiChargeType::PayByTraffic),
        address: "47.0.0.1".into(),
        ..Default::default()
    }
}

fn our_tags() -> Vec<TagSet> {
    vec![
        tag_set(OWNER_UID_TAG, UID),
        tag_set(CLUSTER_ID_TAG, "cluster-1"),
    ]
}

fn tag_set(key: &str, value: &str) -> TagSet {
    TagSet {
        tag_key: key.into(),
        tag_value: Some(value.into()),
        ..Default::default()
    }
}

/// What was observed: the load balancer as SLB describes it, and its tags when they were read.
fn observed_with(
    load_balancer: DescribeLoadBalancerAttributeResponse,
    tags: Option<Vec<TagSet>>,
) -> Observed {
    Observed {
        load_balancer: Some(load_balancer),
        tags,
        ..Observed::default()
    }
}

/// The plan of the test object with the spec `yaml`.
fn plan_for(yaml: &str, observed: &Observed) -> Plan {
    plan(&spec(yaml), &identity(), observed, None)
}

fn changes(plan: Plan) -> Vec<Change> {
    match plan {
        Plan::Changes(changes) => changes,
        other => unreachable!("expected changes, got {other:?}"),
    }
}

/// The plan for a missing load balancer with the spec `yaml` (`replaced`: the one deleted outside
/// that it stands in for), and the create it starts with.
fn create_planned(yaml: &str, replaced: Option<&str>) -> (Vec<Change>, CreateLoadBalancerRequest) {
    let planned = changes(plan(
        &spec(yaml),
        &identity(),
        &Observed::default(),
        replaced,
    ));
    let Some(Change::Create(request)) = planned.first() else {
        unreachable!("expected a create first: {planned:?}");
    };
    let request = request.as_ref().clone();
    (planned, request)
}

#[test]
fn a_missing_load_balancer_is_created_with_a_token_from_the_uid_then_tagged() {
    let (planned, request) = create_planned("{}", None);
    assert_eq!(request.client_token.as_deref(), Some(UID));
    assert_eq!(request.load_balancer_name.as_deref(), Some("default/web"));
    assert_eq!(request.address_type, Some(ApiAddressType::Internet));
    assert_eq!(
        planned[1..],
        [Change::AddTags(vec![
            Tag::new(CLUSTER_ID_TAG, "cluster-1"),
            Tag::new(OWNER_UID_TAG, UID)
        ])]
    );
}

#[test]
fn a_create_recorded_before_a_crash_is_sent_again_unchanged_whatever_the_spec_says() {
    let recorded = CreateLoadBalancerRequest {
        load_balancer_name: Some("default/web".into()),
        client_token: Some(UID.into()),
        ..Default::default()
    };
    let observed = Observed {
        pending_create: Some(recorded.clone()),
        ..Observed::default()
    };
    let planned = changes(plan_for("{name: renamed, bandwidth: 5}", &observed));
    assert_eq!(planned.first(), Some(&Change::Create(Box::new(recorded))));

    // Once the load balancer is found, the spec rules: here, its new name.
    let found = observed_with(remote(), Some(our_tags()));
    assert_eq!(
        changes(plan_for("{name: renamed}", &found)),
        [Change::SetName("renamed".into())]
    );
}

#[test]
fn a_recorded_create_survives_its_round_trip_through_the_status() {
    let (_, request) = create_planned("{bandwidth: 5, internetChargeType: paybybandwidth}", None);
    let recorded = serde_json::to_string(&request).unwrap_or_else(|e| unreachable!("{e}"));
    let read_back: CreateLoadBalancerRequest =
        serde_json::from_str(&recorded).unwrap_or_else(|e| unreachable!("{e}: {recorded}"));
    assert_eq!(read_back, request);
}

#[test]
fn the_create_request_carries_the_spec() {
    let (planned, request) = create_planned(
        "{name: shop, internetChargeType: paybybandwidth, bandwidth: 20, loadBalancerSpec: slb.s2.small, \
         masterZoneId: cn-hangzhou-b, slaveZoneId: cn-hangzhou-d, status: inactive}",
        None,
    );
    assert_eq!(request.load_balancer_name.as_deref(), Some("shop"));
    assert_eq!(
        request.internet_charge_type,
        Some(ApiChargeType::PayByBandwidth)
    );
    assert_eq!(request.bandwidth, Some(20));
    assert_eq!(
        request.load_balancer_spec,
        Some(slb_api::LoadBalancerSpec::S2Small)
    );
    assert_eq!(request.master_zone_id.as_deref(), Some("cn-hangzhou-b"));
    assert!(planned.contains(&Change::SetStatus(ApiStatus::Inactive)));
}

#[test]
fn an_intranet_load_balancer_is_created_without_internet_billing() {
    let (_, request) = create_planned("{addressType: intranet, vSwitchId: vsw-1}", None);
    assert_eq!(request.address_type, Some(ApiAddressType::Intranet));
    assert_eq!(request.internet_charge_type, None);
    assert_eq!(request.vswitch_id.as_deref(), Some("vsw-1"));
}

#[test]
fn a_load_balancer_matching_the_spec_needs_no_call() {
    let observed = observed_with(remote(), Some(our_tags()));
    assert_eq!(plan_for("{}", &observed), Plan::Changes(vec![]));
    // In the steady state the tags are not read at all.
    let observed = observed_with(remote(), None);
    assert_eq!(plan_for("{}", &observed), Plan::Changes(vec![]));
}

#[test]
fn drift_in_name_status_and_billing_is_restored() {
    let mut drifted = remote();
    drifted.load_balancer_name = "renamed-in-console".into();
    drifted.load_balancer_status = Some(ApiStatus::Inactive);
    drifted.internet_charge_type = Some(ApiChargeType::PayByBandwidth);
    drifted.bandwidth = Some(5);
    let observed = observed_with(drifted, None);
    assert_eq!(
        changes(plan_for("{}", &observed)),
        [
            Change::SetName("default/web".into()),
            Change::SetStatus(ApiStatus::Active),
            Change::ModifyInternetSpec {
                charge_type: ApiChargeType::PayByTraffic,
                bandwidth: None
            },
        ]
    );
}

#[test]
fn a_bandwidth_change_is_a_modify_internet_spec() {
    let mut current = remote();
    current.internet_charge_type = Some(ApiChargeType::PayByBandwidth);
    current.bandwidth = Some(10);
    let observed = observed_with(current, None);
    assert_eq!(
        changes(plan_for(
            "{internetChargeType: paybybandwidth, bandwidth: 50}",
            &observed
        )),
        [Change::ModifyInternetSpec {
            charge_type: ApiChargeType::PayByBandwidth,
            bandwidth: Some(50)
        }]
    );
}

#[test]
fn a_locked_load_balancer_is_not_switched() {
    let mut locked = remote();
    locked.load_balancer_status = Some(ApiStatus::Locked);
    let observed = observed_with(locked, None);
    assert_eq!(plan_for("{}", &observed), Plan::Changes(vec![]));
}

#[test]
fn new_and_changed_tags_are_added_five_per_call() {
    let mut tags = our_tags();
    tags.push(tag_set("a", "old"));
    let observed = observed_with(remote(), Some(tags));
    let planned = changes(plan_for(
        "{tags: {a: '1', b: '2', c: '3', d: '4', e: '5'}}",
        &observed,
    ));
    assert_eq!(planned.len(), 1);
    let Change::AddTags(added) = &planned[0] else {
        unreachable!("expected tags: {planned:?}");
    };
    assert_eq!(added.len(), 5);
    assert!(added.contains(&Tag::new("a", "1")));
}

#[test]
fn an_adopted_load_balancer_is_never_changed() {
    let mut foreign = remote();
    foreign.load_balancer_name = "someone-elses".into();
    foreign.load_balancer_status = Some(ApiStatus::Inactive);
    let observed = observed_with(foreign, None);
    assert_eq!(
        plan_for("{loadBalancerId: lb-adopted}", &observed),
        Plan::Adopted(Vec::new())
    );
}

fn adopted_with(tags: Vec<TagSet>) -> Plan {
    let observed = observed_with(remote(), Some(tags));
    plan_for("{loadBalancerId: lb-1}", &observed)
}

#[test]
fn an_unclaimed_load_balancer_is_adopted_by_tagging_it() {
    assert_eq!(
        adopted_with(vec![tag_set("team", "web")]),
        Plan::Adopted(vec![Change::AddTags(vec![
            Tag::new(ADOPTED_BY_TAG, UID),
            Tag::new(CLUSTER_ID_TAG, "cluster-1"),
        ])])
    );
    let ours = vec![
        tag_set(ADOPTED_BY_TAG, UID),
        tag_set(CLUSTER_ID_TAG, "cluster-1"),
    ];
    assert_eq!(adopted_with(ours), Plan::Adopted(Vec::new()));
}

#[test]
fn of_two_objects_that_tagged_one_load_balancer_at_once_only_the_last_tag_adopts_it() {
    // Both found it unclaimed and both tagged it; AddTags overwrites, so the tag read back names one.
    let last_tag = vec![
        tag_set(ADOPTED_BY_TAG, "the-other-uid"),
        tag_set(CLUSTER_ID_TAG, "cluster-1"),
    ];
    assert!(matches!(adopted_with(last_tag), Plan::Conflict(m) if m.contains("the-other-uid")));
    let ours = vec![
        tag_set(ADOPTED_BY_TAG, UID),
        tag_set(CLUSTER_ID_TAG, "cluster-1"),
    ];
    assert_eq!(adopted_with(ours), Plan::Adopted(Vec::new()));
}

#[test]
fn a_load_balancer_someone_else_holds_is_never_adopted() {
    let other_object = vec![
        tag_set(ADOPTED_BY_TAG, "another-uid"),
        tag_set(CLUSTER_ID_TAG, "cluster-1"),
    ];
    assert!(matches!(adopted_with(other_object), Plan::Conflict(m) if m.contains("another-uid")));
    let other_cluster = vec![
        tag_set(OWNER_UID_TAG, "x"),
        tag_set(CLUSTER_ID_TAG, "cluster-2"),
    ];
    assert!(matches!(adopted_with(other_cluster), Plan::NotOwned(m) if m.contains("cluster-2")));
    let ccm = vec![tag_set("kubernetes.do.not.delete", "a1b2c3")];
    assert!(matches!(adopted_with(ccm), Plan::NotOwned(m) if m.contains("controller manager")));
    let created_by_another = vec![
        tag_set(OWNER_UID_TAG, "another-uid"),
        tag_set(CLUSTER_ID_TAG, "cluster-1"),
    ];
    assert!(matches!(
        adopted_with(created_by_another),
        Plan::NotOwned(_)
    ));
}

#[test]
fn a_created_load_balancer_is_changed_only_while_its_tags_say_it_is_ours() {
    let mut renamed = remote();
    renamed.load_balancer_name = "changed-outside".into();
    let with_tags = |tags: Vec<TagSet>| observed_with(renamed.clone(), Some(tags));
    let ours = with_tags(vec![
        tag_set(OWNER_UID_TAG, UID),
        tag_set(CLUSTER_ID_TAG, "cluster-1"),
    ]);
    let planned = plan_for("{}", &ours);
    assert!(planned.changes_existing());
    assert!(
        matches!(&planned, Plan::Changes(c) if c.contains(&Change::SetName("default/web".into())))
    );

    let taken = with_tags(vec![
        tag_set(OWNER_UID_TAG, "another-uid"),
        tag_set(CLUSTER_ID_TAG, "cluster-1"),
    ]);
    assert!(matches!(plan_for("{}", &taken), Plan::NotOwned(m) if m.contains("lb-1")));

    // Recorded at creation, with a crash before the tags: the tags are added, ownership first.
    let untagged = with_tags(vec![tag_set("team", "web")]);
    let Plan::Changes(changes) = plan_for("{}", &untagged) else {
        unreachable!("an untagged load balancer we recorded is ours")
    };
    let first_tags = changes.iter().find_map(|c| match c {
        Change::AddTags(tags) => Some(tags.clone()),
        _ => None,
    });
    let mut first_two: Vec<String> = first_tags
        .unwrap_or_default()
        .into_iter()
        .take(2)
        .map(|t| t.tag_key)
        .collect();
    first_two.sort();
    assert_eq!(first_two, [CLUSTER_ID_TAG, OWNER_UID_TAG]);
}

#[test]
fn cleanup_deletes_only_what_the_object_owns_and_adopted_ones_only_when_allowed() {
    let created = spec("{}");
    assert_eq!(release(&created, None, false), Release::Delete);
    assert_eq!(refusal(&created, &Ownership::Ours), None);
    let foreign = Ownership::Foreign("another cluster".into());
    assert_eq!(
        refusal(&created, &foreign).as_deref(),
        Some("another cluster")
    );

    let adopted_delete = spec("{loadBalancerId: lb-1, deletionPolicy: Delete}");
    let adopted = Ownership::AdoptedByUs;
    assert_eq!(
        release(&adopted_delete, None, false),
        Release::Orphan { untag: true }
    );
    assert_eq!(release(&adopted_delete, None, true), Release::Delete);
    assert_eq!(refusal(&adopted_delete, &adopted), None);
    assert!(refusal(&adopted_delete, &Ownership::Unclaimed).is_some());
    assert!(refusal(&adopted_delete, &Ownership::AdoptedByOther("x".into())).is_some());
    let adopted_orphan = spec("{loadBalancerId: lb-1}");
    assert_eq!(
        release(&adopted_orphan, None, true),
        Release::Orphan { untag: true }
    );
}

#[test]
fn orphaning_what_the_object_created_needs_no_call_to_slb() {
    // Nothing of ours to take off: an object whose SLB calls fail (wrong credentials) still goes.
    let created_orphan = spec("{deletionPolicy: Orphan}");
    assert_eq!(
        release(&created_orphan, None, true),
        Release::Orphan { untag: false }
    );
}

#[test]
fn a_take_over_is_deleted_only_when_the_admin_allows_deleting_adopted_load_balancers() {
    let taken_over = spec("takeOverFromCcm: a0b9d3a4e6f1c4a579a631d2f5c7e8a9");
    assert!(adopts_existing(&taken_over, None));
    assert_eq!(deletion_policy(&taken_over), DeletionPolicy::Delete);
    // Its tags are ours once taken over: there are no adoption tags to remove.
    assert_eq!(
        release(&taken_over, None, false),
        Release::Orphan { untag: false }
    );
    assert_eq!(release(&taken_over, None, true), Release::Delete);
    assert_eq!(refusal(&taken_over, &Ownership::Ours), None);
    let ccms = Ownership::Foreign("the Alibaba Cloud controller manager manages it".into());
    assert!(refusal(&taken_over, &ccms).is_some(), "never taken over");

    // The take-over recorded in the status holds after the spec drops takeOverFromCcm.
    let dropped = spec("{}");
    let recorded = SlbInstanceStatus {
        taken_over_from_ccm: Some("a0b9d3a4e6f1c4a579a631d2f5c7e8a9".into()),
        ..SlbInstanceStatus::default()
    };
    assert!(adopts_existing(&dropped, Some(&recorded)));
    assert_eq!(
        release(&dropped, Some(&recorded), false),
        Release::Orphan { untag: false }
    );
    assert_eq!(release(&dropped, Some(&recorded), true), Release::Delete);
    assert_eq!(
        release(&dropped, Some(&SlbInstanceStatus::default()), false),
        Release::Delete
    );
}

#[test]
fn a_missing_adopted_load_balancer_is_reported_not_created() {
    assert_eq!(
        plan_for("{loadBalancerId: lb-gone}", &Observed::default()),
        Plan::AdoptedMissing {
            load_balancer_id: "lb-gone".into()
        }
    );
}

#[test]
fn a_load_balancer_deleted_outside_is_recreated_with_a_new_token() {
    let (_, request) = create_planned("{}", Some("lb-old"));
    assert_eq!(
        request.client_token.as_deref(),
        Some(format!("{UID}.lb-old").as_str())
    );
}

#[test]
fn client_tokens_fit_the_api() {
    let token = client_token(
        UID,
        Some("lb-bp1o94dp5i6earr9g6d1l-with-a-very-long-suffix"),
    );
    assert_eq!(token.len(), 64);
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-/._".contains(c))
    );
    assert_eq!(
        client_token(UID, None),
        client_token(UID, None),
        "stable across restarts"
    );
}

#[test]
fn deletion_policy_defaults_to_delete_for_created_and_orphan_for_adopted() {
    assert_eq!(deletion_policy(&spec("{}")), DeletionPolicy::Delete);
    assert_eq!(
        deletion_policy(&spec("{loadBalancerId: lb-1}")),
        DeletionPolicy::Orphan
    );
    assert_eq!(
        deletion_policy(&spec("{loadBalancerId: lb-1, deletionPolicy: Delete}")),
        DeletionPolicy::Delete
    );
    assert_eq!(
        deletion_policy(&spec("{deletionPolicy: Orphan}")),
        DeletionPolicy::Orphan
    );
}

#[test]
fn tags_the_spec_no_longer_declares_are_removed() {
    let mut tags = our_tags();
    tags.push(tag_set("team", "old"));
    let observed = observed_with(remote(), Some(tags));
    assert_eq!(
        changes(plan_for("{}", &observed)),
        [Change::RemoveTags(vec![Tag::new("team", "old")])]
    );
}

#[test]
fn system_tags_are_never_removed() {
    let mut tags = our_tags();
    for key in ["acs:rm:rgId", "aliyun-managed"] {
        tags.push(tag_set(key, "x"));
    }
    let observed = observed_with(remote(), Some(tags));
    assert_eq!(plan_for("{}", &observed), Plan::Changes(vec![]));
}

/// The tags the cloud controller manager puts on the load balancer it made under `name`.
fn ccm_tags(name: &str) -> Vec<TagSet> {
    vec![
        tag_set(CCM_NAME_TAG, name),
        tag_set("ack.aliyun.com", "c0ffee"),
    ]
}

fn taken_over(tags: Vec<TagSet>) -> Plan {
    let ccms = DescribeLoadBalancerAttributeResponse {
        load_balancer_name: "a0b9d3a4e6f1c4a579a631d2f5c7e8a9".into(),
        ..remote()
    };
    let observed = observed_with(ccms, Some(tags));
    plan_for(
        "takeOverFromCcm: a0b9d3a4e6f1c4a579a631d2f5c7e8a9",
        &observed,
    )
}

#[test]
fn the_ccms_load_balancer_is_taken_over_by_tagging_it_ours_and_removing_the_ccms_tags() {
    let planned = changes(taken_over(ccm_tags("a0b9d3a4e6f1c4a579a631d2f5c7e8a9")));
    assert_eq!(
        planned,
        [
            Change::SetName("default/web".into()),
            Change::AddTags(vec![
                Tag::new(CLUSTER_ID_TAG, "cluster-1"),
                Tag::new(OWNER_UID_TAG, UID)
            ]),
            Change::RemoveTags(vec![
                Tag::new(CCM_NAME_TAG, "a0b9d3a4e6f1c4a579a631d2f5c7e8a9"),
                Tag::new("ack.aliyun.com", "c0ffee")
            ]),
        ]
    );
    // Once ours (a crash before the CCM's tags went), the rest is finished as for any of ours.
    let mut half_done = our_tags();
    half_done.extend(ccm_tags("a0b9d3a4e6f1c4a579a631d2f5c7e8a9"));
    let planned = changes(taken_over(half_done));
    assert!(
        matches!(planned.last(), Some(Change::RemoveTags(tags)) if tags.len() == 2),
        "{planned:?}"
    );
}

#[test]
fn only_the_ccms_load_balancer_of_that_name_and_nobody_elses_is_taken_over() {
    let other_name = taken_over(ccm_tags("a-another-service"));
    assert!(
        matches!(other_name, Plan::NotOwned(ref m) if m.contains("not tagged")),
        "{other_name:?}"
    );
    let mut claimed = ccm_tags("a0b9d3a4e6f1c4a579a631d2f5c7e8a9");
    claimed.push(tag_set(OWNER_UID_TAG, "someone-else"));
    claimed.push(tag_set(CLUSTER_ID_TAG, "cluster-1"));
    assert!(matches!(taken_over(claimed), Plan::NotOwned(_)));
    let mut adopted = ccm_tags("a0b9d3a4e6f1c4a579a631d2f5c7e8a9");
    adopted.push(tag_set(ADOPTED_BY_TAG, "someone-else"));
    assert!(matches!(taken_over(adopted), Plan::NotOwned(_)));
    // Without the take-over, the CCM's load balancer is never ours.
    let observed = observed_with(remote(), Some(ccm_tags("a0b9d3a4e6f1c4a579a631d2f5c7e8a9")));
    assert!(matches!(plan_for("{}", &observed), Plan::NotOwned(_)));
}

#[test]
fn a_missing_ccm_load_balancer_is_reported_and_nothing_is_created() {
    assert_eq!(
        plan_for(
            "takeOverFromCcm: a0b9d3a4e6f1c4a579a631d2f5c7e8a9",
            &Observed::default()
        ),
        Plan::CcmLoadBalancerMissing {
            ccm_name: "a0b9d3a4e6f1c4a579a631d2f5c7e8a9".into()
        }
    );
    // Taken over once and deleted outside since: replaced (a create first), as any load balancer
    // of ours.
    create_planned(
        "takeOverFromCcm: a0b9d3a4e6f1c4a579a631d2f5c7e8a9",
        Some("lb-1"),
    );
}
