//! Access keys, from the environment or a file. The secret never appears in `Debug` or `Display` output.

use crate::error::Error;
use serde::Deserialize;
use std::fmt;
use std::path::Path;

/// Environment variable holding the access key ID.
pub const ACCESS_KEY_ID_ENV: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// Environment variable holding the access key secret.
pub const ACCESS_KEY_SECRET_ENV: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";

/// An access key pair.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    access_key_secret: String,
}

/// The credentials file: a JSON object `{"accessKeyId": "...", "accessKeySecret": "..."}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CredentialsFile {
    access_key_id: String,
    access_key_secret: String,
}

impl Credentials {
    /// Credentials from a key ID and secret; both must be non-empty.
    pub fn new(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
    ) -> Result<Self, Error> {
        let (access_key_id, access_key_secret) = (access_key_id.into(), access_key_secret.into());
        if access_key_id.trim().is_empty() || access_key_secret.is_empty() {
            return Err(Error::Config(
                "the access key ID and secret must not be empty".to_owned(),
            ));
        }
        Ok(Credentials {
            access_key_id,
            access_key_secret,
        })
    }

    /// Credentials from `ALIBABA_CLOUD_ACCESS_KEY_ID` and `ALIBABA_CLOUD_ACCESS_KEY_SECRET`.
    pub fn from_env() -> Result<Self, Error> {
        let read = |name: &str| {
            std::env::var(name)
                .map_err(|_| Error::Config(format!("environment variable {name} is not set")))
        };
        Credentials::new(read(ACCESS_KEY_ID_ENV)?, read(ACCESS_KEY_SECRET_ENV)?)
    }

    /// Credentials from a JSON file `{"accessKeyId": "...", "accessKeySecret": "..."}` (for example a
    /// mounted Kubernetes Secret).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!(
                "cannot read credentials file {}: {e}",
                path.display()
            ))
        })?;
        // serde_json's error text can quote the input; keep only its position so the secret cannot leak.
        let file: CredentialsFile = serde_json::from_str(&text).map_err(|e| {
            Error::Config(format!(
                "credentials file {} is not {{\"accessKeyId\": ..., \"accessKeySecret\": ...}} (line {}, column {})",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        Credentials::new(file.access_key_id, file.access_key_secret)
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub(crate) fn access_key_secret(&self) -> &str {
        &self.access_key_secret
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "access key {}", self.access_key_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const SECRET: &str = "s3cr3t-VALUE-never-shown";

    #[test]
    fn debug_and_display_hide_the_secret() {
        let credentials = Credentials::new("LTAIexample", SECRET).unwrap();
        let debug = format!("{credentials:?}");
        let pretty = format!("{credentials:#?}");
        let display = credentials.to_string();
        for text in [&debug, &pretty, &display] {
            assert!(!text.contains(SECRET), "{text}");
            assert!(text.contains("LTAIexample"), "{text}");
        }
    }

    #[test]
    fn from_file() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        write!(
            file,
            r#"{{"accessKeyId": "id1", "accessKeySecret": "{SECRET}"}}"#
        )
        .unwrap();
        let credentials = Credentials::from_file(file.path()).unwrap();
        assert_eq!(credentials.access_key_id(), "id1");
        assert_eq!(credentials.access_key_secret(), SECRET);
    }

    #[test]
    fn bad_file_does_not_leak_the_secret() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        write!(
            file,
            r#"{{"accessKeyId": "id1", "accessKeySecret": "{SECRET}", "extra": 1}}"#
        )
        .unwrap();
        let error = Credentials::from_file(file.path()).unwrap_err().to_string();
        assert!(!error.contains(SECRET), "{error}");
    }

    #[test]
    fn empty_values_are_rejected() {
        assert!(Credentials::new("", "x").is_err());
        assert!(Credentials::new("id", "").is_err());
    }
}
