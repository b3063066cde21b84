//! `serve`'s HTTPS options.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use melodora_server::tls::self_signed;
use melodora_server::TlsIdentity;

/// How `serve` gets its certificate, if it serves HTTPS.
#[derive(Args, Debug, Clone)]
pub struct TlsArgs {
    /// Serve HTTPS with this certificate chain (PEM, the server's
    /// certificate first). Needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a certificate made for this machine's names and
    /// addresses, kept in the data directory and reused; its SHA-256
    /// fingerprint is printed, to compare with what a phone's browser shows.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub tls_self_signed: bool,
}

/// The certificate in use, and what to tell the user about it.
pub struct Tls {
    pub identity: TlsIdentity,
    /// Lines for the terminal (where the certificate is, its fingerprint).
    pub notes: Vec<String>,
}

impl TlsArgs {
    /// The certificate to serve on `addr`, if HTTPS was asked for;
    /// `data_dir` is where a self-signed one is kept.
    pub fn tls(&self, addr: SocketAddr, data_dir: &Path) -> Result<Option<Tls>> {
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            let identity = TlsIdentity::from_pem_files(cert, key).with_context(|| {
                format!(
                    "cannot serve HTTPS with {} and {}",
                    cert.display(),
                    key.display()
                )
            })?;
            let notes = vec![format!(
                "Certificate {} (SHA-256 {}), valid until {}",
                cert.display(),
                identity.fingerprint(),
                identity.not_after().date()
            )];
            return Ok(Some(Tls { identity, notes }));
        }
        if !self.tls_self_signed {
            return Ok(None);
        }
        let machine = melodora_server::machine_name();
        let names = self_signed::names_for(addr.ip(), machine.as_deref());
        let made = self_signed::load_or_create(data_dir, &names)
            .context("cannot set up the self-signed certificate")?;
        let mut notes = Vec::new();
        match &made.created_because {
            Some(reason) => notes.push(format!(
                "Made a new self-signed certificate ({reason}): {}",
                made.cert_path.display()
            )),
            None => notes.push(format!(
                "Using the self-signed certificate {}",
                made.cert_path.display()
            )),
        }
        notes.push(format!("  for {}", made.names.join(", ")));
        notes.push(format!(
            "  SHA-256 fingerprint {}",
            made.identity.fingerprint()
        ));
        notes.push(
            "  Browsers warn about a self-signed certificate: check that the fingerprint \
             they show matches this one before going on."
                .to_string(),
        );
        Ok(Some(Tls {
            identity: made.identity,
            notes,
        }))
    }
}
