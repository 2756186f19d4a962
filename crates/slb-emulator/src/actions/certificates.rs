//! Server certificates (with private keys) and CA certificates. Contents are parsed, a key must match its
//! certificate (`slb_api::certificate`), and then they are dropped: only the ID, name, region and fingerprint
//! are kept, as the API never returns contents.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use slb_api::certificate::{self, CertificateError};

use super::{Ctx, Response, list, response};
use crate::clock;
use crate::error::{self, ApiError};
use crate::params::{Params, is_valid_name};
use crate::state::{AccountState, Certificate};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Server,
    Ca,
}

impl Kind {
    fn field(self, suffix: &str) -> String {
        match self {
            Kind::Server => format!("ServerCertificate{suffix}"),
            Kind::Ca => format!("CACertificate{suffix}"),
        }
    }

    fn store(self, state: &mut AccountState) -> &mut BTreeMap<String, Certificate> {
        match self {
            Kind::Server => &mut state.server_certificates,
            Kind::Ca => &mut state.ca_certificates,
        }
    }

    /// Notes a certificate of this kind as possibly changed.
    fn touch(self, state: &mut AccountState, id: &str) {
        let dirty = match self {
            Kind::Server => &mut state.dirty.server_certificates,
            Kind::Ca => &mut state.dirty.ca_certificates,
        };
        dirty.insert(id.to_string());
    }

    /// The listener attribute that references this kind of certificate.
    fn listener_attribute(self) -> &'static str {
        match self {
            Kind::Server => "ServerCertificateId",
            Kind::Ca => "CACertificateId",
        }
    }
}

/// The reference's error for each way a certificate or key can be refused.
fn refusal(e: CertificateError) -> ApiError {
    match e {
        CertificateError::NotACertificate => error::CERTIFICATE_FORMAT,
        CertificateError::NotAKey | CertificateError::UnsupportedKey => error::KEY_FORMAT,
        CertificateError::EncryptedKey => error::KEY_ENCRYPTED,
        CertificateError::KeyMismatch => error::CERTIFICATE_KEY_MISMATCH,
    }
}

fn region(ctx: &Ctx<'_>) -> Result<String, ApiError> {
    ctx.region
        .clone()
        .ok_or_else(|| ApiError::missing("RegionId"))
}

fn store_new(
    ctx: &mut Ctx<'_>,
    kind: Kind,
    name: String,
    fingerprint: String,
) -> Result<Response, ApiError> {
    let region_id = region(ctx)?;
    let id = format!(
        "{}_{}_{}",
        ctx.account.account_id,
        ctx.rng.base36(11),
        region_id
    );
    let certificate = Certificate {
        id: id.clone(),
        name,
        region_id,
        fingerprint,
        created_ms: ctx.now_ms,
    };
    let body = describe_one(kind, &certificate);
    kind.touch(ctx.state, &id);
    kind.store(ctx.state).insert(id, certificate);
    Ok(body)
}

fn describe_one(kind: Kind, c: &Certificate) -> Response {
    response(vec![
        (&kind.field("Id"), json!(c.id)),
        (&kind.field("Name"), json!(c.name)),
        ("RegionId", json!(c.region_id)),
        ("Fingerprint", json!(c.fingerprint)),
        ("CreateTime", json!(clock::iso8601(c.created_ms))),
        ("CreateTimeStamp", json!(c.created_ms)),
    ])
}

pub fn upload_server(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let name = p.get("ServerCertificateName").map(str::to_string);
    if name.as_deref().is_some_and(|n| !is_valid_name(n)) {
        return Err(error::INVALID_PARAMETER);
    }
    let fingerprint = match (
        p.get("ServerCertificate"),
        p.get("PrivateKey"),
        p.get("AliCloudCertificateId"),
    ) {
        (Some(certificate), Some(key), _) => {
            certificate::inspect(certificate, key)
                .map_err(refusal)?
                .fingerprint
        }
        // A certificate from Alibaba Cloud's certificate service is referenced, not uploaded.
        (None, None, Some(cloud_id)) => certificate::fingerprint(cloud_id.as_bytes()),
        _ => return Err(error::CERTIFICATE_OR_KEY_EMPTY),
    };
    let name = name.unwrap_or_else(|| format!("cert-{}", &fingerprint[..8]));
    store_new(ctx, Kind::Server, name, fingerprint)
}

pub fn upload_ca(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let certificate = p.required("CACertificate")?;
    let name = p.required("CACertificateName")?.to_string();
    if !is_valid_name(&name) {
        return Err(error::INVALID_PARAMETER);
    }
    let info = certificate::parse_certificate(certificate).map_err(refusal)?;
    store_new(ctx, Kind::Ca, name, info.fingerprint)
}

fn find<'a>(ctx: &'a mut Ctx<'_>, kind: Kind, id: &str) -> Result<&'a mut Certificate, ApiError> {
    let region = ctx.region.clone();
    kind.touch(ctx.state, id);
    kind.store(ctx.state)
        .get_mut(id)
        .filter(|c| region.as_deref().is_none_or(|r| r == c.region_id))
        .ok_or(error::CERTIFICATE_NOT_FOUND)
}

pub fn delete(ctx: &mut Ctx<'_>, p: &Params, kind: Kind) -> Result<Response, ApiError> {
    let id = p.required(&kind.field("Id"))?.to_string();
    find(ctx, kind, &id)?;
    let attribute = kind.listener_attribute();
    let in_use = ctx
        .state
        .load_balancers
        .values()
        .flat_map(|lb| lb.listeners.values())
        .any(|l| l.attribute_str(attribute) == Some(id.as_str()));
    if in_use {
        return Err(error::CERTIFICATE_IN_USE);
    }
    kind.store(ctx.state).remove(&id);
    Ok(Response::new())
}

pub fn describe(ctx: &mut Ctx<'_>, p: &Params, kind: Kind) -> Result<Response, ApiError> {
    let region_id = region(ctx)?;
    let wanted = p.get(&kind.field("Id")).map(str::to_string);
    let items: Vec<Value> = kind
        .store(ctx.state)
        .values()
        .filter(|c| c.region_id == region_id && wanted.as_deref().is_none_or(|w| w == c.id))
        .map(|c| Value::Object(describe_one(kind, c)))
        .collect();
    Ok(response(vec![(
        &kind.field("s"),
        list(&kind.field(""), items),
    )]))
}

pub fn set_name(ctx: &mut Ctx<'_>, p: &Params, kind: Kind) -> Result<Response, ApiError> {
    let id = p.required(&kind.field("Id"))?.to_string();
    let name = p.required(&kind.field("Name"))?.to_string();
    if !is_valid_name(&name) {
        return Err(error::INVALID_PARAMETER);
    }
    find(ctx, kind, &id)?.name = name;
    Ok(Response::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_use_the_reference_errors() {
        assert_eq!(
            refusal(CertificateError::KeyMismatch).code,
            "CertificateNotMatchPrivateKey"
        );
        assert_eq!(
            refusal(CertificateError::NotACertificate),
            error::CERTIFICATE_FORMAT
        );
        assert_eq!(refusal(CertificateError::UnsupportedKey), error::KEY_FORMAT);
        assert_eq!(
            refusal(CertificateError::EncryptedKey),
            error::KEY_ENCRYPTED
        );
    }
}
