//! Certificates from Secrets: read and checked before any call, uploaded under a name derived from
//! their content (so that one uploaded before a crash is found again), and deleted once the
//! listener no longer uses them, if SLB still has them under that name.

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use slb_api::certificate::{CertificateError, CertificateInfo, inspect, parse_certificate};
use slb_api::{
    DeleteCACertificateRequest, DeleteServerCertificateRequest, DescribeCACertificatesRequest,
    DescribeServerCertificatesRequest, SlbApi, UploadCACertificateRequest,
    UploadServerCertificateRequest,
};

use super::outcome::Applied;
use super::plan::{self, certificate_name};
use crate::context::Context;
use crate::controller::events;
use crate::controller::object::ObjectKey;
use crate::controller::references::get_referenced;
use crate::controller::status::record_status;
use crate::crd::{
    CertificateKind, CertificateSource, ListenerProtocol, SlbListener, SlbListenerSpec,
    SlbListenerStatus, UploadedCertificate,
};
use crate::error::{Error, Result};

const TLS_CERTIFICATE_KEY: &str = "tls.crt";
const TLS_PRIVATE_KEY_KEY: &str = "tls.key";
const CA_CERTIFICATE_KEY: &str = "ca.crt";

/// A certificate the listener needs: an ID given in the spec, or PEM read from a Secret.
pub(super) enum WantedCertificate {
    None,
    Id(String),
    Pem {
        name: String,
        upload: Upload,
        /// The end of its validity, RFC 3339.
        not_after: String,
    },
}

/// What is uploaded for a certificate from a Secret.
pub(super) enum Upload {
    Server {
        certificate: String,
        private_key: String,
    },
    Ca {
        certificate: String,
    },
}

impl Upload {
    fn kind(&self) -> CertificateKind {
        match self {
            Upload::Server { .. } => CertificateKind::Server,
            Upload::Ca { .. } => CertificateKind::Ca,
        }
    }
}

pub(super) struct WantedCertificates {
    pub server: WantedCertificate,
    pub ca: WantedCertificate,
}

/// The certificates the spec asks for, each from a Secret parsed and checked, so that a bad one is
/// refused before any call.
pub(super) async fn read_certificates(
    ctx: &Context,
    key: &ObjectKey,
    spec: &SlbListenerSpec,
) -> Result<WantedCertificates> {
    if spec.protocol != ListenerProtocol::Https {
        return Ok(WantedCertificates {
            server: WantedCertificate::None,
            ca: WantedCertificate::None,
        });
    }
    Ok(WantedCertificates {
        server: read_certificate(
            ctx,
            key,
            spec.server_certificate.as_ref(),
            CertificateKind::Server,
        )
        .await?,
        ca: read_certificate(ctx, key, spec.ca_certificate.as_ref(), CertificateKind::Ca).await?,
    })
}

async fn read_certificate(
    ctx: &Context,
    key: &ObjectKey,
    source: Option<&CertificateSource>,
    kind: CertificateKind,
) -> Result<WantedCertificate> {
    let Some(source) = source else {
        return Ok(WantedCertificate::None);
    };
    if let Some(id) = &source.certificate_id {
        return Ok(WantedCertificate::Id(id.clone()));
    }
    let Some(reference) = &source.secret_ref else {
        return Ok(WantedCertificate::None);
    };
    let secret: Secret = get_referenced(ctx, &key.namespace, "Secret", &reference.name).await?;
    let text = |field: &str| -> Result<String> {
        let bytes = secret
            .data
            .as_ref()
            .and_then(|data| data.get(field))
            .filter(|value| !value.0.is_empty())
            .ok_or_else(|| Error::InvalidCertificate {
                name: reference.name.clone(),
                reason: format!("it has no {field}"),
            })?;
        String::from_utf8(bytes.0.clone()).map_err(|_| Error::InvalidCertificate {
            name: reference.name.clone(),
            reason: format!("{field} is not PEM text"),
        })
    };
    let (upload, parsed) = match kind {
        CertificateKind::Server => {
            let certificate = text(TLS_CERTIFICATE_KEY)?;
            let private_key = text(TLS_PRIVATE_KEY_KEY)?;
            let parsed = inspect(&certificate, &private_key);
            let upload = Upload::Server {
                certificate,
                private_key,
            };
            (upload, parsed)
        }
        CertificateKind::Ca => {
            let certificate = text(CA_CERTIFICATE_KEY)?;
            let parsed = parse_certificate(&certificate);
            (Upload::Ca { certificate }, parsed)
        }
    };
    let not_after =
        accept(kind, parsed, Timestamp::now()).map_err(|reason| Error::InvalidCertificate {
            name: reference.name.clone(),
            reason,
        })?;
    let certificate = match &upload {
        Upload::Server { certificate, .. } | Upload::Ca { certificate } => certificate,
    };
    Ok(WantedCertificate::Pem {
        name: certificate_name(&key.uid, certificate),
        upload,
        not_after,
    })
}

/// Whether a parsed certificate may be uploaded at `now` (pure): the end of its validity (RFC
/// 3339), or why it is refused.
fn accept(
    kind: CertificateKind,
    parsed: Result<CertificateInfo, CertificateError>,
    now: Timestamp,
) -> Result<String, String> {
    let field = match kind {
        CertificateKind::Server => TLS_CERTIFICATE_KEY,
        CertificateKind::Ca => CA_CERTIFICATE_KEY,
    };
    let info = parsed.map_err(|error| match error {
        CertificateError::NotACertificate => format!("{field}: {error}"),
        CertificateError::NotAKey
        | CertificateError::EncryptedKey
        | CertificateError::UnsupportedKey => format!("{TLS_PRIVATE_KEY_KEY}: {error}"),
        CertificateError::KeyMismatch => format!("{TLS_PRIVATE_KEY_KEY}: {error} in {field}"),
    })?;
    let not_after = Timestamp::from_second(info.not_after)
        .map_err(|_| format!("{field}: its notAfter {} is out of range", info.not_after))?;
    if info.is_expired_at(now.as_second()) {
        return Err(format!("{field}: the certificate expired at {not_after}"));
    }
    Ok(not_after.to_string())
}

/// The ID of the wanted certificate, uploading it first when it is new. An upload is recorded in
/// the status at once, so that it is found again (and deleted in time) whatever happens next.
pub(super) async fn ensure_certificate(
    ctx: &Context,
    listener: &SlbListener,
    slb: &dyn SlbApi,
    status: &mut SlbListenerStatus,
    wanted: WantedCertificate,
    applied: &mut Applied,
) -> Result<Option<String>> {
    let (name, upload, not_after) = match wanted {
        WantedCertificate::None => return Ok(None),
        WantedCertificate::Id(id) => return Ok(Some(id)),
        WantedCertificate::Pem {
            name,
            upload,
            not_after,
        } => (name, upload, not_after),
    };
    let kind = upload.kind();
    if let Some(uploaded) = status
        .uploaded_certificates
        .iter_mut()
        .find(|u| u.kind == kind && u.name == name)
    {
        // Recorded before the status showed expiry: the same name is the same content.
        uploaded.not_after.get_or_insert(not_after);
        return Ok(Some(uploaded.id.clone()));
    }
    // Uploaded before a crash, but not recorded: the name finds it.
    let found = find_certificate(slb, kind, &name).await?;
    let uploading = found.is_none();
    let id = match found {
        Some(id) => id,
        None => match upload {
            Upload::Server {
                certificate,
                private_key,
            } => {
                slb.upload_server_certificate(&UploadServerCertificateRequest {
                    server_certificate: certificate,
                    private_key,
                    server_certificate_name: Some(name.clone()),
                    ..Default::default()
                })
                .await?
                .server_certificate_id
            }
            Upload::Ca { certificate } => {
                slb.upload_ca_certificate(&UploadCACertificateRequest {
                    ca_certificate: certificate,
                    ca_certificate_name: name.clone(),
                    resource_group_id: None,
                })
                .await?
                .ca_certificate_id
            }
        },
    };
    let uploaded = UploadedCertificate {
        kind,
        id: id.clone(),
        name,
        not_after: Some(not_after),
    };
    if uploading {
        applied.uploaded_certificates.push(uploaded.clone());
    }
    status.uploaded_certificates.push(uploaded);
    record_status(ctx, listener, status).await?;
    Ok(Some(id))
}

async fn find_certificate(
    slb: &dyn SlbApi,
    kind: CertificateKind,
    name: &str,
) -> Result<Option<String>> {
    Ok(match kind {
        CertificateKind::Server => slb
            .describe_server_certificates(&DescribeServerCertificatesRequest::default())
            .await?
            .server_certificates
            .into_iter()
            .find(|c| c.server_certificate_name == name)
            .map(|c| c.server_certificate_id),
        CertificateKind::Ca => slb
            .describe_ca_certificates(&DescribeCACertificatesRequest::default())
            .await?
            .ca_certificates
            .into_iter()
            .find(|c| c.ca_certificate_name == name)
            .map(|c| c.ca_certificate_id),
    })
}

/// Deletes the uploaded certificates the listener no longer uses (after a renewal swapped them
/// out), adding each to `deleted` as it goes. A recorded ID whose certificate in SLB does not carry
/// this object's name is not ours: it is left in SLB, with a Warning, and forgotten.
pub(super) async fn delete_unused_certificates(
    ctx: &Context,
    listener: &SlbListener,
    slb: &dyn SlbApi,
    status: &mut SlbListenerStatus,
    deleted: &mut Vec<UploadedCertificate>,
) -> Result<()> {
    let unused = plan::unused_certificates(
        &status.uploaded_certificates,
        status.server_certificate_id.as_deref(),
        status.ca_certificate_id.as_deref(),
    );
    let uid = listener.metadata.uid.as_deref().unwrap_or_default();
    for certificate in unused {
        match name_in_slb(slb, &certificate).await? {
            Some(name) if plan::named_for(uid, &name) => {
                let was_there = delete_certificate(slb, &certificate).await?;
                deleted.extend(was_there.then(|| certificate.clone()));
            }
            Some(name) => {
                let note = format!(
                    "Left certificate {} in place: its name {name} is not one this object \
                     uploaded under",
                    certificate.id
                );
                events::warning(ctx, listener, "CertificateNotOwned", note).await;
            }
            None => {}
        }
        status.uploaded_certificates.retain(|u| u != &certificate);
    }
    Ok(())
}

/// The name SLB has for a recorded certificate; `None` when SLB has it no more.
async fn name_in_slb(
    slb: &dyn SlbApi,
    certificate: &UploadedCertificate,
) -> Result<Option<String>> {
    let id = Some(certificate.id.clone());
    let described = match certificate.kind {
        CertificateKind::Server => slb
            .describe_server_certificates(&DescribeServerCertificatesRequest {
                server_certificate_id: id,
                ..Default::default()
            })
            .await
            .map(|r| {
                r.server_certificates
                    .into_iter()
                    .find(|c| c.server_certificate_id == certificate.id)
                    .map(|c| c.server_certificate_name)
            }),
        CertificateKind::Ca => slb
            .describe_ca_certificates(&DescribeCACertificatesRequest {
                ca_certificate_id: id,
                ..Default::default()
            })
            .await
            .map(|r| {
                r.ca_certificates
                    .into_iter()
                    .find(|c| c.ca_certificate_id == certificate.id)
                    .map(|c| c.ca_certificate_name)
            }),
    };
    match described {
        Ok(name) => Ok(name),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Deletes one certificate; false when SLB had it no more.
async fn delete_certificate(slb: &dyn SlbApi, certificate: &UploadedCertificate) -> Result<bool> {
    let id = certificate.id.clone();
    let deleted = match certificate.kind {
        CertificateKind::Server => slb
            .delete_server_certificate(&DeleteServerCertificateRequest {
                server_certificate_id: id,
            })
            .await
            .map(|_| ()),
        CertificateKind::Ca => slb
            .delete_ca_certificate(&DeleteCACertificateRequest {
                ca_certificate_id: id,
            })
            .await
            .map(|_| ()),
    };
    match deleted {
        Ok(()) => Ok(true),
        Err(error) if error.is_not_found() => Ok(false),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(not_after: i64) -> CertificateInfo {
        CertificateInfo {
            common_name: Some("web".into()),
            not_before: 0,
            not_after,
            fingerprint: "00:11".into(),
        }
    }

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn a_valid_certificate_is_accepted_with_its_expiry() {
        let accepted = accept(
            CertificateKind::Server,
            Ok(info(1_800_000_000)),
            at(1_700_000_000),
        );
        assert_eq!(accepted, Ok("2027-01-15T08:00:00Z".to_owned()));
    }

    #[test]
    fn an_expired_certificate_is_refused() {
        let refused = accept(
            CertificateKind::Ca,
            Ok(info(1_600_000_000)),
            at(1_700_000_000),
        );
        let reason = refused.err().unwrap_or_default();
        assert!(
            reason.starts_with("ca.crt: the certificate expired at 2020-09-13"),
            "{reason}"
        );
    }

    #[test]
    fn a_key_that_does_not_match_or_cannot_be_read_is_refused_naming_the_field() {
        let now = at(1_700_000_000);
        for (error, message) in [
            (
                CertificateError::KeyMismatch,
                "tls.key: the private key does not match the certificate in tls.crt",
            ),
            (
                CertificateError::EncryptedKey,
                "tls.key: the private key is encrypted",
            ),
            (
                CertificateError::NotACertificate,
                "tls.crt: not a PEM X.509 certificate",
            ),
        ] {
            let refused = accept(CertificateKind::Server, Err(error), now);
            assert_eq!(refused, Err(message.to_owned()));
        }
    }
}
