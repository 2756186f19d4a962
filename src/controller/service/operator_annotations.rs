//! The Service annotations of the operator itself (prefix `slb.operator.dev/`), for what the cloud
//! controller manager has no annotation for: the certificate of HTTPS ports from a TLS Secret, and
//! taking over the load balancer the cloud controller manager made for the Service.

use k8s_openapi::api::core::v1::Service;

use super::annotations::Errors;
use crate::crd::{CertificateSource, LocalObjectReference};

/// A `kubernetes.io/tls` Secret in the Service's namespace: the certificate of its HTTPS ports,
/// uploaded, rotated and deleted by their listeners.
pub const TLS_SECRET_ANNOTATION: &str = "slb.operator.dev/tls-secret";

/// `"true"`: take over the load balancer the cloud controller manager created for this Service,
/// instead of creating one (see docs/migrating-from-ccm.md).
pub const MIGRATE_FROM_CCM_ANNOTATION: &str = "slb.operator.dev/migrate-from-ccm";

/// The longest name the cloud controller manager gives a load balancer.
const CCM_NAME_LENGTH: usize = 32;

fn annotation<'a>(service: &'a Service, key: &str) -> Option<&'a str> {
    service
        .metadata
        .annotations
        .as_ref()?
        .get(key)
        .map(|value| value.trim())
}

/// The certificate of the Service's HTTPS ports: from `cert-id`, or from the TLS Secret; never both.
pub(super) fn server_certificate(
    service: &Service,
    certificate_id: Option<&String>,
    errors: &mut Errors,
) -> Option<CertificateSource> {
    let secret = annotation(service, TLS_SECRET_ANNOTATION);
    if let Some(name) = secret
        && !is_dns_subdomain(name)
    {
        errors.push(format!(
            "{TLS_SECRET_ANNOTATION}: {name:?} is not the name of a Secret (a DNS subdomain of at most 253 characters)"
        ));
        return None;
    }
    match (certificate_id, secret) {
        (Some(_), Some(_)) => {
            errors.push(format!(
                "{}cert-id and {TLS_SECRET_ANNOTATION} both give the HTTPS certificate; set one",
                super::plan::ANNOTATION_PREFIX
            ));
            None
        }
        (Some(id), None) => Some(CertificateSource {
            secret_ref: None,
            certificate_id: Some(id.clone()),
        }),
        (None, Some(name)) => Some(CertificateSource {
            secret_ref: Some(LocalObjectReference {
                name: name.to_owned(),
            }),
            certificate_id: None,
        }),
        (None, None) => None,
    }
}

/// Whether the Service asks to take over the cloud controller manager's load balancer.
pub fn migrates_from_ccm(service: &Service) -> bool {
    annotation(service, MIGRATE_FROM_CCM_ANNOTATION).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The cloud controller manager's name of the Service's load balancer, the value of its
/// `kubernetes.do.not.delete` tag, when the Service asks to take it over; checked against `id`.
pub(super) fn ccm_takeover(
    service: &Service,
    adopts_by_id: bool,
    errors: &mut Errors,
) -> Option<String> {
    let value = annotation(service, MIGRATE_FROM_CCM_ANNOTATION)?;
    if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") {
        errors.push(format!(
            "{MIGRATE_FROM_CCM_ANNOTATION}: {value:?} must be true or false"
        ));
        return None;
    }
    if !migrates_from_ccm(service) {
        return None;
    }
    if adopts_by_id {
        errors.push(format!(
            "{MIGRATE_FROM_CCM_ANNOTATION} takes over the cloud controller manager's load balancer, {}id adopts another: set one",
            super::plan::ANNOTATION_PREFIX
        ));
        return None;
    }
    let uid = service.metadata.uid.as_deref().unwrap_or_default();
    if uid.is_empty() {
        errors.push("the Service has no uid yet".to_owned());
        return None;
    }
    Some(ccm_load_balancer_name(uid))
}

/// How the cloud controller manager names a Service's load balancer (Kubernetes'
/// `cloudprovider.DefaultLoadBalancerName`): `a` and the uid without dashes, cut at 32 characters.
pub fn ccm_load_balancer_name(uid: &str) -> String {
    let mut name: String = std::iter::once('a')
        .chain(uid.chars().filter(|c| *c != '-'))
        .collect();
    name.truncate(CCM_NAME_LENGTH);
    name
}

/// RFC 1123 subdomain: what Kubernetes accepts as a Secret's name.
fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(annotations: &[(&str, &str)]) -> Service {
        let annotations: std::collections::BTreeMap<&str, &str> =
            annotations.iter().copied().collect();
        serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": "web",
                "uid": "0b5e8c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b",
                "annotations": annotations,
            },
        }))
        .unwrap_or_else(|e| unreachable!("bad test Service: {e}"))
    }

    fn messages(errors: Errors) -> Vec<String> {
        errors.into_result(()).err().unwrap_or_default()
    }

    /// One message per entry of `mentions`, in order, each containing it.
    fn assert_mentioned(errors: Errors, mentions: &[&str]) {
        let messages = messages(errors);
        assert_eq!(messages.len(), mentions.len(), "{messages:?}");
        for (message, mention) in messages.iter().zip(mentions) {
            assert!(message.contains(mention), "{messages:?}");
        }
    }

    #[test]
    fn the_ccm_name_is_a_and_the_uid_without_dashes_cut_at_32() {
        let name = ccm_load_balancer_name("0b5e8c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b");
        assert_eq!(name, "a0b5e8c1a2f3d4e5f8a9b0c1d2e3f4a5");
        assert_eq!(name.len(), 32);
    }

    #[test]
    fn https_ports_take_the_certificate_from_the_secret_or_the_id_but_not_both() {
        let id = "1234_abc".to_owned();
        let mut errors = Errors::default();
        let from_secret = server_certificate(
            &service(&[(TLS_SECRET_ANNOTATION, "web-tls")]),
            None,
            &mut errors,
        );
        assert_eq!(
            from_secret.and_then(|s| s.secret_ref).map(|r| r.name),
            Some("web-tls".to_owned())
        );
        let from_id = server_certificate(&service(&[]), Some(&id), &mut errors);
        assert_eq!(from_id.and_then(|s| s.certificate_id), Some(id.clone()));
        assert!(messages(errors).is_empty());

        let mut errors = Errors::default();
        let both = server_certificate(
            &service(&[(TLS_SECRET_ANNOTATION, "web-tls")]),
            Some(&id),
            &mut errors,
        );
        assert_eq!(both, None);
        let bad_name = server_certificate(
            &service(&[(TLS_SECRET_ANNOTATION, "Web_TLS")]),
            None,
            &mut errors,
        );
        assert_eq!(bad_name, None);
        assert_mentioned(errors, &["set one", "not the name of a Secret"]);
    }

    #[test]
    fn the_services_children_carry_the_secret_and_the_take_over() {
        let mut svc: Service = serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": "web",
                "uid": "0b5e8c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b",
                "annotations": {
                    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-protocol-port": "https:443",
                    TLS_SECRET_ANNOTATION: "web-tls",
                    MIGRATE_FROM_CCM_ANNOTATION: "true",
                },
            },
            "spec": {
                "type": "LoadBalancer",
                "ports": [
                    {"port": 443, "protocol": "TCP", "nodePort": 30443},
                    {"port": 80, "protocol": "TCP", "nodePort": 30080},
                ],
            },
        }))
        .unwrap_or_else(|e| unreachable!("bad test Service: {e}"));
        let children = super::super::plan::children(&svc)
            .unwrap_or_else(|e| unreachable!("unexpected errors: {e:?}"));
        assert_eq!(
            children.instance.take_over_from_ccm.as_deref(),
            Some("a0b5e8c1a2f3d4e5f8a9b0c1d2e3f4a5")
        );
        let https = children.listeners["web-443"].server_certificate.clone();
        assert_eq!(
            https.and_then(|s| s.secret_ref).map(|r| r.name).as_deref(),
            Some("web-tls")
        );
        assert_eq!(children.listeners["web-80"].server_certificate, None);

        // The opt-in serves a class-less Service even when class-less ones are not served.
        let config = crate::context::Config {
            cluster_id: "c1".into(),
            default_region: "cn-hangzhou".into(),
            resync_period: std::time::Duration::from_secs(600),
            concurrency: 1.into(),
            watch_namespaces: Vec::new(),
            service_load_balancer_class: "slb.operator.dev/slb".into(),
            manage_services_without_class: false,
            allow_deleting_adopted: false,
            adoption_namespaces: None,
            certificate_expiry_warning: std::time::Duration::from_secs(3600),
        };
        assert!(super::super::plan::is_served(&svc, &config));
        if let Some(annotations) = svc.metadata.annotations.as_mut() {
            annotations.remove(MIGRATE_FROM_CCM_ANNOTATION);
        }
        assert!(!super::super::plan::is_served(&svc, &config));
    }

    #[test]
    fn migration_is_an_explicit_opt_in_that_excludes_the_id_annotation() {
        let mut errors = Errors::default();
        assert_eq!(ccm_takeover(&service(&[]), false, &mut errors), None);
        let off = service(&[(MIGRATE_FROM_CCM_ANNOTATION, "false")]);
        assert_eq!(ccm_takeover(&off, false, &mut errors), None);
        assert!(!migrates_from_ccm(&off));
        let on = service(&[(MIGRATE_FROM_CCM_ANNOTATION, "true")]);
        assert!(migrates_from_ccm(&on));
        assert_eq!(
            ccm_takeover(&on, false, &mut errors).as_deref(),
            Some("a0b5e8c1a2f3d4e5f8a9b0c1d2e3f4a5")
        );
        assert!(messages(errors).is_empty());

        let mut errors = Errors::default();
        assert_eq!(ccm_takeover(&on, true, &mut errors), None);
        let yes = service(&[(MIGRATE_FROM_CCM_ANNOTATION, "yes")]);
        assert_eq!(ccm_takeover(&yes, false, &mut errors), None);
        assert_mentioned(errors, &["set one", "must be true or false"]);
    }
}
