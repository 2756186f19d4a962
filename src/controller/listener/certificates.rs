//! Certificates from Secrets: read, uploaded under a name derived from
//! their content (so that one uploaded before a crash is found again), and deleted once the
//! listener no longer uses them.

use k8s_openapi::api::core::v1::Secret;
use slb_api::{
    DeleteCACertificateRequest, DeleteServerCertificateRequest, DescribeCACertificatesRequest,
    DescribeServerCertificatesRequest, SlbApi, UploadCACertificateRequest,
    UploadServerCertificateRequest,
};

use super::outcome::Applied;
use super::plan::{self, certificate_name};
use crate::context::Context;
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
    Pem { name: String, upload: Upload },
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

/// The certificates the spec asks for.
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
    let upload = match kind {
        CertificateKind::Server => Upload::Server {
            certificate: text(TLS_CERTIFICATE_KEY)?,
            private_key: text(TLS_PRIVATE_KEY_KEY)?,
        },
        CertificateKind::Ca => Upload::Ca {
            certificate: text(CA_CERTIFICATE_KEY)?,
        },
    };
    let certificate = match &upload {
        Upload::Server { certificate, .. } | Upload::Ca { certificate } => certificate,
    };
    Ok(WantedCertificate::Pem {
        name: certificate_name(&key.uid, certificate),
        upload,
    })
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
    let (name, upload) = match wanted {
        WantedCertificate::None => return Ok(None),
        WantedCertificate::Id(id) => return Ok(Some(id)),
        WantedCertificate::Pem { name, upload } => (name, upload),
    };
    let kind = upload.kind();
    if let Some(uploaded) = status
        .uploaded_certificates
        .iter()
        .find(|u| u.kind == kind && u.name == name)
    {
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
/// out), adding each to `deleted` as it goes.
pub(super) async fn delete_unused_certificates(
    slb: &dyn SlbApi,
    status: &mut SlbListenerStatus,
    deleted: &mut Vec<UploadedCertificate>,
) -> Result<()> {
    let unused = plan::unused_certificates(
        &status.uploaded_certificates,
        status.server_certificate_id.as_deref(),
        status.ca_certificate_id.as_deref(),
    );
    for certificate in unused {
        if delete_certificate(slb, &certificate).await? {
            deleted.push(certificate.clone());
        }
        status.uploaded_certificates.retain(|u| u != &certificate);
    }
    Ok(())
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
