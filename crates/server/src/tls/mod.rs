//! HTTPS: the server's certificate. Handshakes run in each socket's own
//! task, within the header timeout (see `sockets`): a client that connects
//! and stalls holds neither the accept loop nor anyone else's handshake.
//!
//! Browsers give the camera only to pages from `localhost` or from HTTPS, so
//! a phone on the network can use Melodora only over TLS. The certificate is
//! either the operator's (`--tls-cert`/`--tls-key`, PEM files, see
//! [`TlsIdentity::from_pem_files`]) or one the server makes for itself once
//! and keeps in its data directory (`--tls-self-signed`, see
//! [`self_signed`]). Either way it is checked before the server starts: a
//! key that is not the certificate's, or a certificate that is expired or
//! not yet valid, is an error rather than a server no browser can talk to.
//!
//! rustls runs on the `ring` provider, chosen here rather than process-wide,
//! so nothing depends on which provider another crate installs. Only
//! HTTP/1.1 is offered (ALPN): WebSockets then work over TLS exactly as
//! without it, with no HTTP/2 extended CONNECT needed.

pub mod self_signed;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

/// A certificate chain and its private key, checked and ready to serve.
#[derive(Clone)]
pub struct TlsIdentity {
    config: Arc<ServerConfig>,
    fingerprint: String,
    not_after: time::OffsetDateTime,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("fingerprint", &self.fingerprint)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// Why a certificate or key cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// A self-signed certificate or its key could not be kept.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why it could not be written.
        #[source]
        source: std::io::Error,
    },
    /// The certificate file holds no certificate.
    #[error("{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The certificate file is not PEM.
    #[error("{} is not a PEM certificate chain", path.display())]
    BadCertificatePem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: pem::Error,
    },
    /// The key file holds no private key in a known PEM form.
    #[error("{} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)", path.display())]
    BadKeyPem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: pem::Error,
    },
    /// The certificate is PEM but not a certificate.
    #[error("the certificate is not valid X.509")]
    BadCertificate(#[source] x509_parser::nom::Err<x509_parser::error::X509Error>),
    /// The certificate's validity ended (its end date).
    #[error("the certificate expired on {0}")]
    Expired(time::OffsetDateTime),
    /// The certificate's validity has not begun (its start date).
    #[error("the certificate is not valid before {0}")]
    NotYetValid(time::OffsetDateTime),
    /// The key is not the certificate's, or rustls cannot use it.
    #[error("the private key does not belong to the certificate, or is not usable")]
    KeyMismatch(#[source] rustls::Error),
    /// rcgen could not make a certificate.
    #[error("cannot make a self-signed certificate")]
    Generate(#[source] rcgen::Error),
}

impl TlsIdentity {
    /// Reads a PEM certificate chain (the server's certificate first) and
    /// its PEM private key, and checks that they belong together and that
    /// the certificate is valid now.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<TlsIdentity, TlsError> {
        let cert_pem = read(cert)?;
        let key_pem = read(key)?;
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| TlsError::BadCertificatePem {
                path: cert.to_path_buf(),
                source,
            })?;
        if chain.is_empty() {
            return Err(TlsError::NoCertificate {
                path: cert.to_path_buf(),
            });
        }
        let key_der =
            PrivateKeyDer::from_pem_slice(&key_pem).map_err(|source| TlsError::BadKeyPem {
                path: key.to_path_buf(),
                source,
            })?;
        TlsIdentity::new(chain, key_der)
    }

    /// Checks `chain` (leaf first) against `key` and the clock.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<TlsIdentity, TlsError> {
        let (not_before, not_after) = validity(&chain[0])?;
        let now = time::OffsetDateTime::now_utc();
        if now > not_after {
            return Err(TlsError::Expired(not_after));
        }
        if now < not_before {
            return Err(TlsError::NotYetValid(not_before));
        }
        let fingerprint = fingerprint(&chain[0]);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::KeyMismatch)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(TlsError::KeyMismatch)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsIdentity {
            config: Arc::new(config),
            fingerprint,
            not_after,
        })
    }

    /// The certificate's SHA-256 fingerprint, as browsers show it
    /// (`AB:CD:...`): what a user compares before trusting a self-signed
    /// certificate.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// When the certificate expires.
    pub fn not_after(&self) -> time::OffsetDateTime {
        self.not_after
    }

    /// The rustls configuration serving this identity.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.config)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The certificate's validity period.
fn validity(
    cert: &CertificateDer<'_>,
) -> Result<(time::OffsetDateTime, time::OffsetDateTime), TlsError> {
    let (_, parsed) =
        x509_parser::parse_x509_certificate(cert.as_ref()).map_err(TlsError::BadCertificate)?;
    let validity = parsed.validity();
    Ok((
        validity.not_before.to_datetime(),
        validity.not_after.to_datetime(),
    ))
}

/// SHA-256 of the certificate's DER, as colon-separated upper-case hex.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
