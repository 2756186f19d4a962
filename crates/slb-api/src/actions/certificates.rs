//! Server certificates (with private keys) and CA certificates.

use crate::action::{Validate, ValidationError, action};
use crate::check;
use crate::lenient;
use crate::model::Acknowledged;
use serde::{Deserialize, Serialize};

/// `UploadServerCertificate`: uploads one certificate with its private key (both or neither are stored).
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadServerCertificateRequest {
    /// PEM certificate (chain).
    pub server_certificate: String,
    /// PEM private key.
    pub private_key: String,
    pub server_certificate_name: Option<String>,
    pub ali_cloud_certificate_id: Option<String>,
    pub ali_cloud_certificate_name: Option<String>,
    pub resource_group_id: Option<String>,
}

// The private key never appears in logs.
impl std::fmt::Debug for UploadServerCertificateRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadServerCertificateRequest")
            .field("server_certificate_name", &self.server_certificate_name)
            .field("server_certificate_len", &self.server_certificate.len())
            .field("private_key", &"<redacted>")
            .field("ali_cloud_certificate_id", &self.ali_cloud_certificate_id)
            .field(
                "ali_cloud_certificate_name",
                &self.ali_cloud_certificate_name,
            )
            .field("resource_group_id", &self.resource_group_id)
            .finish()
    }
}

impl Validate for UploadServerCertificateRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("ServerCertificate", &self.server_certificate)?;
        check::required("PrivateKey", &self.private_key)?;
        check::opt_name("ServerCertificateName", &self.server_certificate_name)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UploadServerCertificateResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub server_certificate_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub server_certificate_name: String,
    /// Colon-separated hex pairs.
    #[serde(deserialize_with = "lenient::string")]
    pub fingerprint: String,
}

action!(UploadServerCertificateRequest => UploadServerCertificateResponse, "UploadServerCertificate", idempotent = false);

/// `DeleteServerCertificate`: refused while a listener uses the certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteServerCertificateRequest {
    pub server_certificate_id: String,
}

impl Validate for DeleteServerCertificateRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("ServerCertificateId", &self.server_certificate_id)
    }
}

action!(DeleteServerCertificateRequest => DeleteServerCertificateResponse = Acknowledged, "DeleteServerCertificate");

/// `DescribeServerCertificates`: one certificate, or all of the region when no ID is given. Contents are
/// never returned, only names and fingerprints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeServerCertificatesRequest {
    pub server_certificate_id: Option<String>,
    pub resource_group_id: Option<String>,
}

impl Validate for DescribeServerCertificatesRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServerCertificate {
    #[serde(deserialize_with = "lenient::string")]
    pub server_certificate_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub server_certificate_name: String,
    pub region_id: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub fingerprint: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeServerCertificatesResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `ServerCertificates.ServerCertificate[]` on the wire.
    #[serde(deserialize_with = "lenient::list")]
    pub server_certificates: Vec<ServerCertificate>,
}

action!(DescribeServerCertificatesRequest => DescribeServerCertificatesResponse, "DescribeServerCertificates");

/// `SetServerCertificateName`: renames a server certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetServerCertificateNameRequest {
    pub server_certificate_id: String,
    /// 1–80 characters of letters, digits, `-/._`.
    pub server_certificate_name: String,
}

impl Validate for SetServerCertificateNameRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("ServerCertificateId", &self.server_certificate_id)?;
        check::name("ServerCertificateName", &self.server_certificate_name)
    }
}

action!(SetServerCertificateNameRequest => SetServerCertificateNameResponse = Acknowledged, "SetServerCertificateName");

/// `UploadCACertificate`: uploads one CA certificate (for mutual TLS on HTTPS listeners).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UploadCACertificateRequest {
    /// PEM certificate.
    #[serde(rename = "CACertificate")]
    pub ca_certificate: String,
    #[serde(rename = "CACertificateName")]
    pub ca_certificate_name: String,
    #[serde(rename = "ResourceGroupId")]
    pub resource_group_id: Option<String>,
}

impl Validate for UploadCACertificateRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("CACertificate", &self.ca_certificate)?;
        check::name("CACertificateName", &self.ca_certificate_name)
    }
}

/// The reference's table says `CACertificateId`/`CACertificateName`, its examples `ServerCertificate…`;
/// both are accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct UploadCACertificateResponse {
    #[serde(rename = "RequestId", deserialize_with = "lenient::string")]
    pub request_id: String,
    #[serde(
        rename = "CACertificateId",
        alias = "ServerCertificateId",
        deserialize_with = "lenient::string"
    )]
    pub ca_certificate_id: String,
    #[serde(
        rename = "CACertificateName",
        alias = "ServerCertificateName",
        deserialize_with = "lenient::string"
    )]
    pub ca_certificate_name: String,
    #[serde(rename = "Fingerprint", deserialize_with = "lenient::string")]
    pub fingerprint: String,
}

action!(UploadCACertificateRequest => UploadCACertificateResponse, "UploadCACertificate", idempotent = false);

/// `DeleteCACertificate`: refused while a listener uses the certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeleteCACertificateRequest {
    #[serde(rename = "CACertificateId")]
    pub ca_certificate_id: String,
}

impl Validate for DeleteCACertificateRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("CACertificateId", &self.ca_certificate_id)
    }
}

action!(DeleteCACertificateRequest => DeleteCACertificateResponse = Acknowledged, "DeleteCACertificate");

/// `DescribeCACertificates`: one CA certificate, or all of the region when no ID is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DescribeCACertificatesRequest {
    #[serde(rename = "CACertificateId")]
    pub ca_certificate_id: Option<String>,
    #[serde(rename = "ResourceGroupId")]
    pub resource_group_id: Option<String>,
}

impl Validate for DescribeCACertificatesRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CACertificate {
    #[serde(rename = "CACertificateId", deserialize_with = "lenient::string")]
    pub ca_certificate_id: String,
    #[serde(rename = "CACertificateName", deserialize_with = "lenient::string")]
    pub ca_certificate_name: String,
    #[serde(rename = "RegionId")]
    pub region_id: Option<String>,
    #[serde(rename = "Fingerprint", deserialize_with = "lenient::string")]
    pub fingerprint: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DescribeCACertificatesResponse {
    #[serde(rename = "RequestId", deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `CACertificates.CACertificate[]` on the wire.
    #[serde(rename = "CACertificates", deserialize_with = "lenient::list")]
    pub ca_certificates: Vec<CACertificate>,
}

action!(DescribeCACertificatesRequest => DescribeCACertificatesResponse, "DescribeCACertificates");

/// `SetCACertificateName`: renames a CA certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SetCACertificateNameRequest {
    #[serde(rename = "CACertificateId")]
    pub ca_certificate_id: String,
    /// 1–80 characters of letters, digits, `-/._`.
    #[serde(rename = "CACertificateName")]
    pub ca_certificate_name: String,
}

impl Validate for SetCACertificateNameRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("CACertificateId", &self.ca_certificate_id)?;
        check::name("CACertificateName", &self.ca_certificate_name)
    }
}

action!(SetCACertificateNameRequest => SetCACertificateNameResponse = Acknowledged, "SetCACertificateName");
