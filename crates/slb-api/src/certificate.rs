//! Server certificates and their private keys in PEM: what UploadServerCertificate checks before it accepts a
//! pair. [`inspect`] parses the certificate, derives the public key of the private key and compares the two,
//! so that a mismatching, unreadable or expired pair can be refused before it is sent.
//!
//! Keys read: RSA (PKCS#1 `RSA PRIVATE KEY` and PKCS#8 `PRIVATE KEY`), compared by modulus and public
//! exponent, so any key size; EC on P-256 and P-384 (PKCS#8 and SEC1 `EC PRIVATE KEY`), whose public point is
//! derived from the private scalar with `ring`. Other key types are [`CertificateError::UnsupportedKey`].

use ring::digest;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair,
    EcdsaSigningAlgorithm,
};

/// What a certificate says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The subject's first common name, if it has one.
    pub common_name: Option<String>,
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
    /// SHA-1 of the DER certificate as colon-separated lower-case hex pairs: the API's `Fingerprint`.
    pub fingerprint: String,
}

impl CertificateInfo {
    /// Whether the certificate is outside its validity at `unix_seconds`.
    pub fn is_expired_at(&self, unix_seconds: i64) -> bool {
        unix_seconds > self.not_after
    }
}

/// Why a certificate or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("not a PEM X.509 certificate")]
    NotACertificate,
    #[error("not a PEM private key")]
    NotAKey,
    #[error("the private key is encrypted")]
    EncryptedKey,
    #[error("unsupported private key type (RSA, and EC on P-256 or P-384, are read)")]
    UnsupportedKey,
    #[error("the private key does not match the certificate")]
    KeyMismatch,
}

/// Parses the certificate (the first `CERTIFICATE` block; any following ones, a chain, must parse too).
pub fn parse_certificate(cert_pem: &str) -> Result<CertificateInfo, CertificateError> {
    leaf(cert_pem).map(|(info, _)| info)
}

/// Parses the certificate and the private key and checks that the key is the certificate's.
pub fn inspect(cert_pem: &str, key_pem: &str) -> Result<CertificateInfo, CertificateError> {
    let (info, public_key) = leaf(cert_pem)?;
    if key_matches(&public_key, key_pem)? {
        Ok(info)
    } else {
        Err(CertificateError::KeyMismatch)
    }
}

/// SHA-1 of DER bytes as colon-separated lower-case hex pairs.
pub fn fingerprint(der: &[u8]) -> String {
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const EXPLICIT_0: u8 = 0xa0;

/// A public key as a certificate carries it.
enum PublicKey {
    Rsa { modulus: Vec<u8>, exponent: Vec<u8> },
    Ec { curve: Vec<u8>, point: Vec<u8> },
    Other,
}

/// A private key, reduced to what identifies its public half.
enum PrivateKey<'a> {
    Rsa {
        modulus: &'a [u8],
        exponent: &'a [u8],
    },
    Ec {
        curve: &'a [u8],
        scalar: &'a [u8],
    },
}

/// A minimal DER reader: one tag-length-value at a time (single-byte tags, definite lengths).
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.rest.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return None;
            }
            let (bytes, after) = rest.split_at(count);
            rest = after;
            bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
        };
        if rest.len() < len {
            return None;
        }
        let (value, after) = rest.split_at(len);
        self.rest = after;
        Some((tag, value))
    }

    fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        self.next().filter(|(t, _)| *t == tag).map(|(_, v)| v)
    }

    /// The contents of the SEQUENCE that `bytes` holds.
    fn sequence(bytes: &'a [u8]) -> Option<Self> {
        Der::new(bytes).expect(SEQUENCE).map(Der::new)
    }
}

/// An unsigned big-endian integer without its leading zeros.
fn unsigned(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn leaf(cert_pem: &str) -> Result<(CertificateInfo, PublicKey), CertificateError> {
    let blocks = pem::parse_many(cert_pem).map_err(|_| CertificateError::NotACertificate)?;
    let mut certificates = blocks.iter().filter(|b| b.tag() == "CERTIFICATE");
    let first = certificates
        .next()
        .ok_or(CertificateError::NotACertificate)?;
    for chained in certificates {
        x509_parser::parse_x509_certificate(chained.contents())
            .map_err(|_| CertificateError::NotACertificate)?;
    }
    let der = first.contents();
    let (_, certificate) =
        x509_parser::parse_x509_certificate(der).map_err(|_| CertificateError::NotACertificate)?;
    let common_name = certificate
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    let validity = certificate.validity();
    let info = CertificateInfo {
        common_name,
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        fingerprint: fingerprint(der),
    };
    let public_key =
        public_key(certificate.public_key().raw).ok_or(CertificateError::NotACertificate)?;
    Ok((info, public_key))
}

/// SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING }.
fn public_key(spki: &[u8]) -> Option<PublicKey> {
    let mut spki = Der::sequence(spki)?;
    let mut algorithm = Der::new(spki.expect(SEQUENCE)?);
    let oid = algorithm.expect(OID)?;
    let parameters = algorithm.next();
    let (unused_bits, key) = spki.expect(BIT_STRING)?.split_first()?;
    if *unused_bits != 0 {
        return None;
    }
    Some(if oid == RSA_ENCRYPTION {
        let mut rsa = Der::sequence(key)?;
        PublicKey::Rsa {
            modulus: unsigned(rsa.expect(INTEGER)?).to_vec(),
            exponent: unsigned(rsa.expect(INTEGER)?).to_vec(),
        }
    } else if oid == EC_PUBLIC_KEY {
        let curve = parameters.filter(|(tag, _)| *tag == OID)?.1;
        PublicKey::Ec {
            curve: curve.to_vec(),
            point: key.to_vec(),
        }
    } else {
        PublicKey::Other
    })
}

/// The first private-key block: its label and DER.
fn key_block(key_pem: &str) -> Result<(String, Vec<u8>), CertificateError> {
    // Both PKCS#8 `ENCRYPTED PRIVATE KEY` and the legacy `Proc-Type: 4,ENCRYPTED` header say so in the text.
    if key_pem.contains("ENCRYPTED") {
        return Err(CertificateError::EncryptedKey);
    }
    let blocks = pem::parse_many(key_pem).map_err(|_| CertificateError::NotAKey)?;
    let block = blocks
        .into_iter()
        .find(|b| b.tag().ends_with("PRIVATE KEY"))
        .ok_or(CertificateError::NotAKey)?;
    Ok((block.tag().to_string(), block.into_contents()))
}

fn parse_private_key<'a>(label: &str, der: &'a [u8]) -> Result<PrivateKey<'a>, CertificateError> {
    match label {
        "RSA PRIVATE KEY" => rsa_private_key(der).ok_or(CertificateError::NotAKey),
        "EC PRIVATE KEY" => ec_private_key(der, None).ok_or(CertificateError::NotAKey),
        "PRIVATE KEY" => pkcs8(der),
        _ => Err(CertificateError::NotAKey),
    }
}

/// RSAPrivateKey ::= SEQUENCE { version, modulus, publicExponent, ... } (PKCS#1).
fn rsa_private_key(der: &[u8]) -> Option<PrivateKey<'_>> {
    let mut key = Der::sequence(der)?;
    key.expect(INTEGER)?;
    Some(PrivateKey::Rsa {
        modulus: unsigned(key.expect(INTEGER)?),
        exponent: unsigned(key.expect(INTEGER)?),
    })
}

/// ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, [0] curve OPTIONAL, [1] publicKey OPTIONAL }
/// (SEC1); inside PKCS#8 the curve may come from the outer algorithm instead.
fn ec_private_key<'a>(der: &'a [u8], outer_curve: Option<&'a [u8]>) -> Option<PrivateKey<'a>> {
    let mut key = Der::sequence(der)?;
    if key.expect(INTEGER)? != [1] {
        return None;
    }
    let scalar = key.expect(OCTET_STRING)?;
    let mut curve = outer_curve;
    while let Some((tag, value)) = key.next() {
        if tag == EXPLICIT_0 {
            curve = Some(Der::new(value).expect(OID)?);
        }
    }
    Some(PrivateKey::Ec {
        curve: curve?,
        scalar,
    })
}

/// PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier, privateKey OCTET STRING, ... } (PKCS#8).
fn pkcs8(der: &[u8]) -> Result<PrivateKey<'_>, CertificateError> {
    let not_a_key = CertificateError::NotAKey;
    let mut info = Der::sequence(der).ok_or(not_a_key.clone())?;
    info.expect(INTEGER).ok_or(not_a_key.clone())?;
    let mut algorithm = Der::new(info.expect(SEQUENCE).ok_or(not_a_key.clone())?);
    let oid = algorithm.expect(OID).ok_or(not_a_key.clone())?;
    let parameters = algorithm.next();
    let inner = info.expect(OCTET_STRING).ok_or(not_a_key.clone())?;
    if oid == RSA_ENCRYPTION {
        rsa_private_key(inner).ok_or(not_a_key)
    } else if oid == EC_PUBLIC_KEY {
        let curve = parameters.filter(|(tag, _)| *tag == OID).map(|(_, v)| v);
        ec_private_key(inner, curve).ok_or(not_a_key)
    } else {
        Err(CertificateError::UnsupportedKey)
    }
}

fn ecdsa_algorithm(curve: &[u8]) -> Option<(&'static EcdsaSigningAlgorithm, usize)> {
    if curve == P256 {
        Some((&ECDSA_P256_SHA256_ASN1_SIGNING, 32))
    } else if curve == P384 {
        Some((&ECDSA_P384_SHA384_ASN1_SIGNING, 48))
    } else {
        None
    }
}

/// Whether the private key in `key_pem` is the one of `public`.
fn key_matches(public: &PublicKey, key_pem: &str) -> Result<bool, CertificateError> {
    let (label, der) = key_block(key_pem)?;
    let private = parse_private_key(&label, &der)?;
    match (public, private) {
        (
            PublicKey::Rsa { modulus, exponent },
            PrivateKey::Rsa {
                modulus: n,
                exponent: e,
            },
        ) => Ok(modulus.as_slice() == n && exponent.as_slice() == e),
        (PublicKey::Ec { curve, point }, PrivateKey::Ec { curve: c, scalar }) => {
            let (algorithm, length) = ecdsa_algorithm(c).ok_or(CertificateError::UnsupportedKey)?;
            if curve.as_slice() != c {
                return Ok(false);
            }
            // RFC 5915 fixes the scalar's length, but some encoders drop leading zero bytes.
            let scalar = unsigned(scalar);
            if scalar.len() > length {
                return Err(CertificateError::NotAKey);
            }
            let mut padded = vec![0u8; length - scalar.len()];
            padded.extend_from_slice(scalar);
            // ring derives the public point from the scalar and refuses a point that is not that one.
            Ok(EcdsaKeyPair::from_private_key_and_public_key(
                algorithm,
                &padded,
                point,
                &SystemRandom::new(),
            )
            .is_ok())
        }
        (PublicKey::Other, _) => Err(CertificateError::UnsupportedKey),
        _ => Ok(false),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    // Generated once with openssl (1024-bit RSA keeps them short; the RSA check does not depend on the size);
    // the emulator's tests use the P-256 ones too.
    const RSA_CERT: &str = include_str!("../testdata/rsa.crt");
    const RSA_PKCS8: &str = include_str!("../testdata/rsa-pkcs8.key");
    const RSA_PKCS1: &str = include_str!("../testdata/rsa-pkcs1.key");
    const RSA_OTHER: &str = include_str!("../testdata/rsa-other.key");
    const EC_CERT: &str = include_str!("../testdata/ec-p256.crt");
    const EC_PKCS8: &str = include_str!("../testdata/ec-p256-pkcs8.key");
    const EC_SEC1: &str = include_str!("../testdata/ec-p256-sec1.key");
    const EC_OTHER: &str = include_str!("../testdata/ec-p256-other.key");
    const P384_CERT: &str = include_str!("../testdata/ec-p384.crt");
    const P384_KEY: &str = include_str!("../testdata/ec-p384.key");
    const ED25519_KEY: &str = include_str!("../testdata/ed25519.key");

    #[test]
    fn matching_pairs_are_accepted() {
        for (cert, key) in [
            (RSA_CERT, RSA_PKCS8),
            (RSA_CERT, RSA_PKCS1),
            (EC_CERT, EC_PKCS8),
            (EC_CERT, EC_SEC1),
            (P384_CERT, P384_KEY),
        ] {
            let info = inspect(cert, key).unwrap_or_else(|e| panic!("{e}: {key}"));
            assert!(info.not_before < info.not_after);
            assert_eq!(info.fingerprint.len(), 59, "{}", info.fingerprint);
        }
        let info = inspect(RSA_CERT, RSA_PKCS8).unwrap();
        assert_eq!(info.common_name.as_deref(), Some("rsa.test"));
        assert_eq!(
            inspect(EC_CERT, EC_SEC1).unwrap().common_name.as_deref(),
            Some("ec.test")
        );
        assert!(!info.is_expired_at(info.not_before));
        assert!(info.is_expired_at(info.not_after + 1));
        assert_eq!(parse_certificate(RSA_CERT), Ok(info));
    }

    #[test]
    fn mismatching_pairs_are_refused() {
        for (cert, key) in [
            (RSA_CERT, RSA_OTHER),
            (RSA_CERT, EC_PKCS8),
            (EC_CERT, EC_OTHER),
            (EC_CERT, P384_KEY),
            (EC_CERT, RSA_PKCS1),
            (P384_CERT, EC_SEC1),
        ] {
            assert_eq!(
                inspect(cert, key),
                Err(CertificateError::KeyMismatch),
                "{key}"
            );
        }
    }

    #[test]
    fn unreadable_input_is_named() {
        let not_a_key = CertificateError::NotAKey;
        assert_eq!(
            inspect("test", EC_PKCS8),
            Err(CertificateError::NotACertificate)
        );
        let garbage = "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";
        assert_eq!(
            inspect(garbage, EC_PKCS8),
            Err(CertificateError::NotACertificate)
        );
        assert_eq!(
            inspect(EC_PKCS8, EC_PKCS8),
            Err(CertificateError::NotACertificate)
        );
        assert_eq!(inspect(EC_CERT, "wmsad!q23"), Err(not_a_key.clone()));
        assert_eq!(inspect(EC_CERT, EC_CERT), Err(not_a_key.clone()));
        let short = "-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----\n";
        assert_eq!(inspect(EC_CERT, short), Err(not_a_key));
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAEC\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert_eq!(
            inspect(EC_CERT, encrypted),
            Err(CertificateError::EncryptedKey)
        );
        assert_eq!(
            inspect(EC_CERT, ED25519_KEY),
            Err(CertificateError::UnsupportedKey)
        );
        // A chain: the first certificate is the one the key belongs to, the rest must parse.
        let chain = format!("{EC_CERT}{RSA_CERT}");
        assert!(inspect(&chain, EC_SEC1).is_ok());
        assert_eq!(
            inspect(&format!("{EC_CERT}{garbage}"), EC_SEC1),
            Err(CertificateError::NotACertificate)
        );
    }

    #[test]
    fn fingerprints_are_sha1_hex_pairs() {
        assert_eq!(
            fingerprint(b""),
            "da:39:a3:ee:5e:6b:4b:0d:32:55:bf:ef:95:60:18:90:af:d8:07:09"
        );
    }
}
