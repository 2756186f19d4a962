//! The pure part of the Service controller: which Services it serves, and the child custom
//! resources a Service's spec and annotations ask for. Every annotation is checked before anything
//! is written, so an invalid one changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Service, ServicePort};

use super::annotations::{Annotations, BACKEND_TYPE_ANNOTATION, Errors, ID, Ignored, SLB_NAME};
use super::listener_settings::{ListenerSettings, access_control, not_taken};
use super::operator_annotations;
use crate::context::Config;
use crate::crd::{
    DeletionPolicy, ListenerProtocol, LocalObjectReference, ServiceBackendReference,
    SlbInstanceSpec, SlbListenerSpec, SlbVServerGroupSpec,
};

/// The prefix of the cloud controller manager's annotations, whose names we keep.
pub const ANNOTATION_PREFIX: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-";

/// The older prefix the cloud controller manager still reads.
pub(super) const LEGACY_ANNOTATION_PREFIX: &str =
    "service.beta.kubernetes.io/alicloud-loadbalancer-";

/// The annotations that shape a load balancer the operator creates; an adopted one (`id`) is used
/// as it is, so they cannot be combined with it.
const INSTANCE_ANNOTATIONS: [&str; 10] = [
    "name",
    "resource-group-id",
    "address-type",
    "charge-type",
    "bandwidth",
    "spec",
    "vswitch-id",
    "master-zoneid",
    "slave-zoneid",
    "additional-resource-tags",
];

/// The SlbInstance spec allows 8 tags of its own.
const MAX_ADDITIONAL_TAGS: usize = 8;

/// Whether the operator gives `service` an SLB: type LoadBalancer, and a loadBalancerClass that is
/// ours (or none, when `--manage-services-without-class`).
pub fn is_served(service: &Service, config: &Config) -> bool {
    let Some(spec) = &service.spec else {
        return false;
    };
    if spec.type_.as_deref() != Some("LoadBalancer") {
        return false;
    }
    match &spec.load_balancer_class {
        Some(class) => *class == config.service_load_balancer_class,
        None => {
            config.manage_services_without_class || operator_annotations::migrates_from_ccm(service)
        }
    }
}

/// The child custom resources of a Service, by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Children {
    /// Named after the Service.
    pub instance: SlbInstanceSpec,
    /// One per Service port, named `<service>-<port>`.
    pub groups: BTreeMap<String, SlbVServerGroupSpec>,
    /// One per Service port (none on an adopted load balancer without
    /// `force-override-listeners: "true"`), named `<service>-<port>`.
    pub listeners: BTreeMap<String, SlbListenerSpec>,
    /// `hostname`: published in the Service's ingress instead of the address.
    pub hostname: Option<String>,
    /// The listener annotations none of the listeners takes, named with the ignored ones.
    pub not_taken: Vec<Ignored>,
}

/// The name of the group and the listener of a Service port.
fn port_child_name(service_name: &str, port: i32) -> String {
    format!("{service_name}-{port}")
}

/// The children `service` asks for, or every problem with its annotations and ports.
pub fn children(service: &Service) -> Result<Children, Vec<String>> {
    let name = service.metadata.name.clone().unwrap_or_default();
    let annotations = Annotations(service.metadata.annotations.clone().unwrap_or_default());
    let mut errors = Errors::default();

    let mut instance = instance_spec(&annotations, &mut errors);
    instance.take_over_from_ccm = operator_annotations::ccm_takeover(
        service,
        instance.load_balancer_id.is_some(),
        &mut errors,
    );
    let adopted = instance.load_balancer_id.is_some();
    let override_listeners = annotations
        .on_off("force-override-listeners", &mut errors, "true", "false")
        .unwrap_or(false);
    let ports = service
        .spec
        .as_ref()
        .and_then(|spec| spec.ports.clone())
        .unwrap_or_default();
    let protocols = protocol_overrides(&annotations, &ports, &mut errors);
    let mut settings = ListenerSettings::read(service, &annotations, &mut errors);
    let source_ranges = service
        .spec
        .as_ref()
        .and_then(|spec| spec.load_balancer_source_ranges.clone())
        .unwrap_or_default();
    settings.access_control = access_control(&annotations, &source_ranges, &mut errors);
    let backends = BackendSettings::read(&annotations, &mut errors);
    let existing_groups = existing_groups(&annotations, &ports, adopted, &mut errors);
    let hostname = annotations.string("hostname", &mut errors, 253, HOSTNAME);

    let mut groups = BTreeMap::new();
    let mut listeners = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for port in &ports {
        let child = port_child_name(&name, port.port);
        if !seen.insert(port.port) {
            errors.push(format!(
                "port {} appears twice (once per protocol); an SLB port has one protocol",
                port.port
            ));
            continue;
        }
        let Some(node_port) = port.node_port.filter(|p| *p > 0) else {
            errors.push(format!(
                "port {} has no nodePort; the backends are the nodes on the NodePort, so keep allocateLoadBalancerNodePorts on",
                port.port
            ));
            continue;
        };
        let Some(protocol) = listener_protocol(port, protocols.get(&port.port), &mut errors) else {
            continue;
        };
        groups.insert(
            child.clone(),
            SlbVServerGroupSpec {
                instance_ref: LocalObjectReference { name: name.clone() },
                name: None,
                v_server_group_id: existing_groups.get(&port.port).cloned(),
                backends: None,
                service_ref: Some(backends.reference(&name, port.port)),
                // The Service's groups leave with it, also from an adopted load balancer that stays.
                deletion_policy: adopted.then_some(DeletionPolicy::Delete),
            },
        );
        if adopted && !override_listeners {
            continue;
        }
        let mut listener =
            settings.listener(&name, &child, port.port, node_port, protocol, &mut errors);
        // The Service forced its listeners onto the adopted load balancer; they leave with it,
        // while the load balancer itself stays.
        listener.deletion_policy = adopted.then_some(DeletionPolicy::Delete);
        listeners.insert(child, listener);
    }
    share_bandwidth(&instance, &mut listeners, &mut errors);
    let not_taken = not_taken(&annotations, listeners.values());
    errors.into_result(Children {
        instance,
        groups,
        listeners,
        hostname,
        not_taken,
    })
}

/// `vgroup-port`: `rsp-1:443,rsp-2:80`, existing VServer groups of the adopted load balancer that
/// receive the nodes of those Service ports instead of groups of their own.
fn existing_groups(
    annotations: &Annotations,
    ports: &[ServicePort],
    adopted: bool,
    errors: &mut Errors,
) -> BTreeMap<i32, String> {
    let key = "vgroup-port";
    let mut groups = BTreeMap::new();
    let Some(value) = annotations.get(key) else {
        return groups;
    };
    if !adopted {
        errors.push(format!(
            "{ANNOTATION_PREFIX}{key} needs {ANNOTATION_PREFIX}id: only the groups of an adopted load balancer can be used"
        ));
        return groups;
    }
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let parsed = entry.split_once(':').and_then(|(id, port)| {
            let id = id.trim();
            let valid = !id.is_empty() && id.len() <= 64 && id.chars().all(ID.0);
            Some((valid.then_some(id)?, port.trim().parse::<i32>().ok()?))
        });
        match parsed {
            Some((id, port)) if ports.iter().any(|p| p.port == port) => {
                if groups.insert(port, id.to_owned()).is_some() {
                    errors.push(format!(
                        "{ANNOTATION_PREFIX}{key}: port {port} is given two groups"
                    ));
                }
            }
            Some((_, port)) => errors.push(format!(
                "{ANNOTATION_PREFIX}{key}: the Service has no port {port}"
            )),
            None => errors.push(format!(
                "{ANNOTATION_PREFIX}{key}: {entry:?} is not of the form <vserver-group-id>:<port>"
            )),
        }
    }
    groups
}

/// The settings of the Service's groups: which nodes, their weights, and the drain.
#[derive(Default)]
struct BackendSettings {
    drain_seconds: Option<i32>,
    node_selector: Option<BTreeMap<String, String>>,
    exclude_unschedulable: Option<bool>,
    total_weight: Option<i32>,
    default_weight: Option<i32>,
    keep_weights: Option<bool>,
}

impl BackendSettings {
    fn read(annotations: &Annotations, errors: &mut Errors) -> Self {
        if let Some(backend_type) = annotations.raw(BACKEND_TYPE_ANNOTATION)
            && !backend_type.eq_ignore_ascii_case("ecs")
        {
            errors.push(format!(
                "{BACKEND_TYPE_ANNOTATION}: {backend_type:?}: the backends are the nodes (ecs); API 2014-05-15 cannot add pods' network interfaces (eni)"
            ));
        }
        let drain = annotations.on_off("connection-drain", errors, "on", "off");
        let drain_timeout = annotations.int("connection-drain-timeout", errors, 10, 900);
        let drain_seconds = match (drain, drain_timeout) {
            (Some(true), Some(timeout)) => Some(timeout),
            (Some(true), None) => {
                errors.push(format!(
                    "{ANNOTATION_PREFIX}connection-drain: on needs {ANNOTATION_PREFIX}connection-drain-timeout"
                ));
                None
            }
            (Some(false), _) => Some(0),
            (None, Some(_)) => {
                errors.push(format!(
                    "{ANNOTATION_PREFIX}connection-drain-timeout needs {ANNOTATION_PREFIX}connection-drain: on"
                ));
                None
            }
            (None, None) => None,
        };
        Self {
            drain_seconds,
            node_selector: node_labels(annotations, errors),
            exclude_unschedulable: annotations.on_off(
                "remove-unscheduled-backend",
                errors,
                "on",
                "off",
            ),
            total_weight: annotations.int("weight", errors, 1, 100),
            default_weight: annotations.int("default-weight", errors, 1, 100),
            keep_weights: annotations.on_off("ignore-weight-update", errors, "on", "off"),
        }
    }

    fn reference(&self, service: &str, port: i32) -> ServiceBackendReference {
        ServiceBackendReference {
            name: service.to_owned(),
            port,
            weighting: None,
            drain_seconds: self.drain_seconds,
            node_selector: self.node_selector.clone(),
            exclude_unschedulable: self.exclude_unschedulable,
            total_weight: self.total_weight,
            default_weight: self.default_weight,
            keep_weights: self.keep_weights,
        }
    }
}

/// `backend-label`: `k1=v1,k2=v2`, the labels a node needs to be a backend.
fn node_labels(annotations: &Annotations, errors: &mut Errors) -> Option<BTreeMap<String, String>> {
    let key = "backend-label";
    let value = annotations.get(key)?;
    let mut labels = BTreeMap::new();
    for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((label, value)) if !label.trim().is_empty() => {
                labels.insert(label.trim().to_owned(), value.trim().to_owned());
            }
            _ => errors.push(format!(
                "{ANNOTATION_PREFIX}{key}: {pair:?} is not of the form label=value"
            )),
        }
    }
    Some(labels).filter(|labels| !labels.is_empty())
}

/// The characters of a DNS name.
const HOSTNAME: (fn(char) -> bool, &str) = (
    |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.',
    "lowercase letters, digits, '-' or '.'",
);

/// A load balancer billed by bandwidth needs a peak bandwidth on each listener, and SLB refuses
/// listeners whose peaks add up to more than the instance's: each gets an equal share.
fn share_bandwidth(
    instance: &SlbInstanceSpec,
    listeners: &mut BTreeMap<String, SlbListenerSpec>,
    errors: &mut Errors,
) {
    let Some(total) = instance.bandwidth else {
        return;
    };
    let count = i32::try_from(listeners.len()).unwrap_or(i32::MAX).max(1);
    let share = total / count;
    if share < 1 {
        errors.push(format!(
            "{ANNOTATION_PREFIX}bandwidth: {total} Mbps cannot be shared by {count} listeners (at least 1 Mbps each)"
        ));
        return;
    }
    for listener in listeners.values_mut() {
        listener.bandwidth = Some(share);
    }
}

fn instance_spec(annotations: &Annotations, errors: &mut Errors) -> SlbInstanceSpec {
    let load_balancer_id = annotations.string("id", errors, 64, ID);
    if load_balancer_id.is_some() {
        let shaping: Vec<&str> = INSTANCE_ANNOTATIONS
            .into_iter()
            .filter(|short_name| annotations.get(short_name).is_some())
            .collect();
        if !shaping.is_empty() {
            errors.push(format!(
                "{ANNOTATION_PREFIX}id adopts an existing load balancer as it is, so {} cannot be set with it",
                shaping.join(", ")
            ));
        }
    }
    let address_type = annotations.one_of("address-type", errors, "internet, intranet");
    let internet_charge_type =
        annotations.one_of("charge-type", errors, "paybytraffic, paybybandwidth");
    let bandwidth = annotations.int("bandwidth", errors, 1, 1000);
    if bandwidth.is_some()
        && internet_charge_type != Some(crate::crd::InternetChargeType::Paybybandwidth)
    {
        errors.push(format!(
            "{ANNOTATION_PREFIX}bandwidth needs {ANNOTATION_PREFIX}charge-type: paybybandwidth"
        ));
    }
    if internet_charge_type.is_some() && address_type == Some(crate::crd::AddressType::Intranet) {
        errors.push(format!(
            "{ANNOTATION_PREFIX}charge-type applies only to address-type internet"
        ));
    }
    let v_switch_id = annotations.string("vswitch-id", errors, 64, ID);
    check_fixed_choices(annotations, v_switch_id.is_some(), errors);
    let preserve = annotations
        .on_off("preserve-lb-on-delete", errors, "true", "false")
        .unwrap_or(false);
    SlbInstanceSpec {
        region_id: None,
        name: annotations.string("name", errors, 80, SLB_NAME),
        address_type,
        internet_charge_type,
        bandwidth,
        load_balancer_spec: annotations.one_of(
            "spec",
            errors,
            "slb.s1.small, slb.s2.small, slb.s2.medium, slb.s3.small, slb.s3.medium, slb.s3.large",
        ),
        v_switch_id,
        resource_group_id: annotations.string("resource-group-id", errors, 64, ID),
        master_zone_id: annotations.string("master-zoneid", errors, 64, ID),
        slave_zone_id: annotations.string("slave-zoneid", errors, 64, ID),
        status: None,
        tags: additional_tags(annotations, errors),
        load_balancer_id,
        take_over_from_ccm: None,
        // The load balancer, and with it its listeners and groups, stays when the Service goes.
        deletion_policy: preserve.then_some(DeletionPolicy::Orphan),
    }
}

/// The instance annotations whose other values API 2014-05-15 cannot create: `ip-version` (IPv4),
/// `instance-charge-type` (by specification), and `network-type`, which the vSwitch decides.
fn check_fixed_choices(annotations: &Annotations, has_vswitch: bool, errors: &mut Errors) {
    if annotations
        .get("ip-version")
        .is_some_and(|v| !v.eq_ignore_ascii_case("ipv4"))
    {
        errors.push(format!(
            "{ANNOTATION_PREFIX}ip-version: API 2014-05-15 creates IPv4 load balancers only"
        ));
    }
    if annotations
        .get("instance-charge-type")
        .is_some_and(|v| !v.eq_ignore_ascii_case("PayBySpec"))
    {
        errors.push(format!(
            "{ANNOTATION_PREFIX}instance-charge-type: API 2014-05-15 bills by specification only (PayBySpec)"
        ));
    }
    match annotations.get("network-type").map(str::to_ascii_lowercase).as_deref() {
        None => {}
        Some("vpc") if !has_vswitch => errors.push(format!(
            "{ANNOTATION_PREFIX}network-type: vpc needs {ANNOTATION_PREFIX}vswitch-id (API 2014-05-15 places a VPC load balancer by its vSwitch)"
        )),
        Some("classic") if has_vswitch => errors.push(format!(
            "{ANNOTATION_PREFIX}network-type: classic cannot have {ANNOTATION_PREFIX}vswitch-id"
        )),
        Some("vpc" | "classic") => {}
        Some(other) => errors.push(format!(
            "{ANNOTATION_PREFIX}network-type: {other:?} must be classic or vpc"
        )),
    }
}

/// `k1=v1,k2=v2`, as the cloud controller manager writes them.
fn additional_tags(
    annotations: &Annotations,
    errors: &mut Errors,
) -> Option<BTreeMap<String, String>> {
    let key = "additional-resource-tags";
    let value = annotations.get(key)?;
    let mut tags = BTreeMap::new();
    for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((tag_key, tag_value)) = pair.split_once('=') else {
            errors.push(format!(
                "{ANNOTATION_PREFIX}{key}: {pair:?} is not of the form key=value"
            ));
            continue;
        };
        let (tag_key, tag_value) = (tag_key.trim(), tag_value.trim());
        let reserved = tag_key.starts_with("aliyun")
            || tag_key.starts_with("acs:")
            || tag_key.starts_with("slb.operator.dev/")
            || tag_value.starts_with("aliyun");
        if tag_key.is_empty() || tag_key.len() > 64 || tag_value.len() > 128 || reserved {
            errors.push(format!(
                "{ANNOTATION_PREFIX}{key}: tag {pair:?} needs a key of 1-64 characters and a value of at most 128, neither starting with aliyun (nor the key with acs: or slb.operator.dev/)"
            ));
            continue;
        }
        tags.insert(tag_key.to_owned(), tag_value.to_owned());
    }
    if tags.len() > MAX_ADDITIONAL_TAGS {
        errors.push(format!(
            "{ANNOTATION_PREFIX}{key}: at most {MAX_ADDITIONAL_TAGS} tags (the operator adds its own)"
        ));
    }
    Some(tags).filter(|tags| !tags.is_empty())
}

/// `protocol-port`: `https:443,http:80` picks the listener protocol of Service ports.
fn protocol_overrides(
    annotations: &Annotations,
    ports: &[ServicePort],
    errors: &mut Errors,
) -> BTreeMap<i32, ListenerProtocol> {
    let key = "protocol-port";
    let mut overrides = BTreeMap::new();
    let Some(value) = annotations.get(key) else {
        return overrides;
    };
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let parsed = entry.split_once(':').and_then(|(protocol, port)| {
            let protocol = match protocol.trim().to_ascii_lowercase().as_str() {
                "http" => ListenerProtocol::Http,
                "https" => ListenerProtocol::Https,
                "tcp" => ListenerProtocol::Tcp,
                "udp" => ListenerProtocol::Udp,
                _ => return None,
            };
            Some((protocol, port.trim().parse::<i32>().ok()?))
        });
        match parsed {
            Some((protocol, port)) if ports.iter().any(|p| p.port == port) => {
                overrides.insert(port, protocol);
            }
            Some((_, port)) => errors.push(format!(
                "{ANNOTATION_PREFIX}{key}: the Service has no port {port}"
            )),
            None => errors.push(format!(
                "{ANNOTATION_PREFIX}{key}: {entry:?} is not of the form protocol:port with protocol http, https, tcp or udp"
            )),
        }
    }
    overrides
}

/// The listener protocol of a Service port: the `protocol-port` choice, else its own TCP or UDP.
fn listener_protocol(
    port: &ServicePort,
    chosen: Option<&ListenerProtocol>,
    errors: &mut Errors,
) -> Option<ListenerProtocol> {
    let own = match port.protocol.as_deref().unwrap_or("TCP") {
        "TCP" => ListenerProtocol::Tcp,
        "UDP" => ListenerProtocol::Udp,
        other => {
            errors.push(format!(
                "port {}: protocol {other} cannot be load balanced by SLB (TCP or UDP only)",
                port.port
            ));
            return None;
        }
    };
    match (own, chosen.copied()) {
        (own, None) => Some(own),
        (ListenerProtocol::Udp, Some(ListenerProtocol::Udp)) => Some(ListenerProtocol::Udp),
        (ListenerProtocol::Udp, Some(_)) => {
            errors.push(format!(
                "{ANNOTATION_PREFIX}protocol-port: port {} is UDP, so its listener can only be udp",
                port.port
            ));
            None
        }
        (_, Some(ListenerProtocol::Udp)) => {
            errors.push(format!(
                "{ANNOTATION_PREFIX}protocol-port: port {} is TCP, so its listener cannot be udp",
                port.port
            ));
            None
        }
        (_, Some(chosen)) => Some(chosen),
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
