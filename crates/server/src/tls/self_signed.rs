//! `--tls-self-signed`: a certificate the server makes for itself, once.
//!
//! It names everything a browser on the network may call this machine by:
//! `localhost`, the loopback addresses, the host name and its mDNS form
//! (`NAME.local`), and the address the server is bound to (every interface
//! address when bound to all). It is kept in the data directory
//! (`tls/self-signed-cert.pem`, and the key, readable by its owner only,
//! in `tls/self-signed-key.pem`) so that its fingerprint stays the same
//! from one start to the next: a user who checked it once, or installed it
//! on a phone, need not do it again. A new one is made only when there is
//! none, when it is unreadable or no longer matches its key, when it
//! expires within [`RENEW_BEFORE_DAYS`], or when the machine has an address
//! it does not name (the network changed).

use std::collections::BTreeSet;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rustls::pki_types::CertificateDer;

use super::{TlsError, TlsIdentity};

/// Where the certificate lives, inside the data directory.
pub const CERT_FILE: &str = "tls/self-signed-cert.pem";
/// Where its private key lives, inside the data directory.
pub const KEY_FILE: &str = "tls/self-signed-key.pem";
/// How long a new certificate is valid.
pub const VALIDITY_DAYS: i64 = 365;
/// A certificate expiring sooner than this is replaced at start.
pub const RENEW_BEFORE_DAYS: i64 = 30;

/// The certificate in use and how it came to be.
#[derive(Debug)]
pub struct SelfSigned {
    /// The certificate and key, ready to serve.
    pub identity: TlsIdentity,
    /// Where the certificate is (for the user to install it on a phone).
    pub cert_path: PathBuf,
    /// Why a new one was made this time; `None` when the kept one is used.
    pub created_because: Option<String>,
    /// The names and addresses it holds.
    pub names: Vec<String>,
}

/// The kept certificate if it still serves `names`, else a new one (kept
/// for next time).
pub fn load_or_create(data_dir: &Path, names: &[String]) -> Result<SelfSigned, TlsError> {
    let cert_path = data_dir.join(CERT_FILE);
    let key_path = data_dir.join(KEY_FILE);
    let reason = match kept(&cert_path, &key_path, names)? {
        Ok((identity, held)) => {
            return Ok(SelfSigned {
                identity,
                cert_path,
                created_because: None,
                names: held,
            })
        }
        Err(reason) => reason,
    };
    let (cert_pem, key_pem) = generate(names)?;
    write_private(&key_path, key_pem.as_bytes())?;
    write_private(&cert_path, cert_pem.as_bytes())?;
    let identity = TlsIdentity::from_pem_files(&cert_path, &key_path)?;
    Ok(SelfSigned {
        identity,
        cert_path,
        created_because: Some(reason),
        names: names.to_vec(),
    })
}

/// The kept certificate and the names it holds, or why it cannot be kept.
/// Only an I/O error other than "not found" is an error: the files are the
/// server's own, so anything wrong with their content is mended by making
/// new ones.
#[allow(clippy::type_complexity)]
fn kept(
    cert_path: &Path,
    key_path: &Path,
    names: &[String],
) -> Result<Result<(TlsIdentity, Vec<String>), String>, TlsError> {
    if !cert_path.exists() || !key_path.exists() {
        return Ok(Err("there was none".into()));
    }
    let identity = match TlsIdentity::from_pem_files(cert_path, key_path) {
        Ok(identity) => identity,
        Err(TlsError::Read { path, source }) => return Err(TlsError::Read { path, source }),
        Err(error) => return Ok(Err(format!("the kept one was unusable: {error}"))),
    };
    let renew_from = identity.not_after() - time::Duration::days(RENEW_BEFORE_DAYS);
    if time::OffsetDateTime::now_utc() > renew_from {
        return Ok(Err(format!(
            "the kept one expires on {}",
            identity.not_after().date()
        )));
    }
    let pem = std::fs::read(cert_path).map_err(|source| TlsError::Read {
        path: cert_path.to_path_buf(),
        source,
    })?;
    let held = held_names(&pem).unwrap_or_default();
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| !held.contains(&normalise(name)))
        .collect();
    if let Some(name) = missing.first() {
        return Ok(Err(format!("the kept one does not name {name}")));
    }
    Ok(Ok((identity, held.into_iter().collect())))
}

/// The DNS names and IP addresses a PEM certificate holds.
fn held_names(pem: &[u8]) -> Option<BTreeSet<String>> {
    use rustls::pki_types::pem::PemObject;
    use x509_parser::extensions::GeneralName;
    let der = CertificateDer::from_pem_slice(pem).ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let alternatives = cert.subject_alternative_name().ok()??;
    let names = alternatives
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(normalise(dns)),
            GeneralName::IPAddress(bytes) => ip_from_bytes(bytes).map(|ip| ip.to_string()),
            _ => None,
        })
        .collect();
    Some(names)
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
}

/// Names compare case-blind; addresses in their canonical text.
fn normalise(name: &str) -> String {
    match name.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => name.to_ascii_lowercase(),
    }
}

/// A new certificate and key for `names`, as PEM.
fn generate(names: &[String]) -> Result<(String, String), TlsError> {
    let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(TlsError::Generate)?;
    let mut subject = rcgen::DistinguishedName::new();
    let host = names
        .iter()
        .find(|n| n.parse::<IpAddr>().is_err() && *n != "localhost")
        .map_or("localhost", String::as_str);
    subject.push(rcgen::DnType::CommonName, format!("Melodora on {host}"));
    subject.push(rcgen::DnType::OrganizationName, "Melodora (self-signed)");
    params.distinguished_name = subject;
    let now = time::OffsetDateTime::now_utc();
    // A little slack for clocks of phones that run slightly behind.
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(VALIDITY_DAYS);
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = rcgen::KeyPair::generate().map_err(TlsError::Generate)?;
    let cert = params.self_signed(&key).map_err(TlsError::Generate)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Writes a file readable by its owner only, whole or not at all (written
/// beside, then renamed over).
fn write_private(path: &Path, contents: &[u8]) -> Result<(), TlsError> {
    let error = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(error)?;
    let partial = path.with_extension("pem.partial");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&partial).map_err(error)?;
    file.write_all(contents).map_err(error)?;
    file.sync_all().map_err(error)?;
    std::fs::rename(&partial, path).map_err(error)
}

/// The names a browser may reach a server bound to `bound` by: `localhost`
/// and the loopback addresses, the machine's host name and `NAME.local`,
/// and the bound address (all interface addresses when bound to every
/// address; link-local IPv6 addresses are left out, as browsers do not open
/// URLs with them).
pub fn names_for(bound: IpAddr, machine_name: Option<&str>) -> Vec<String> {
    let mut names = vec!["localhost".to_string()];
    if let Some(name) = machine_name.filter(|n| !n.is_empty() && *n != "localhost") {
        let name = name.to_ascii_lowercase();
        if !name.ends_with(".local") {
            names.push(format!("{name}.local"));
        }
        names.insert(1, name);
    }
    let mut addresses: BTreeSet<IpAddr> = ["127.0.0.1", "::1"]
        .iter()
        .map(|a| a.parse().expect("a loopback address"))
        .collect();
    if bound.is_unspecified() {
        let interfaces = if_addrs::get_if_addrs().unwrap_or_default();
        addresses.extend(
            interfaces
                .iter()
                .map(|interface| interface.ip())
                .filter(|ip| !is_link_local_v6(ip)),
        );
    } else {
        addresses.insert(bound);
    }
    names.extend(addresses.iter().map(IpAddr::to_string));
    names
}

fn is_link_local_v6(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback_names() -> Vec<String> {
        names_for("127.0.0.1".parse().unwrap(), Some("Studio"))
    }

    #[test]
    fn names_cover_loopback_host_name_and_mdns() {
        assert_eq!(
            loopback_names(),
            ["localhost", "studio", "studio.local", "127.0.0.1", "::1"]
        );
        let lan = names_for("192.168.1.20".parse().unwrap(), None);
        assert!(lan.contains(&"192.168.1.20".to_string()), "{lan:?}");
    }

    #[test]
    fn the_certificate_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path(), &loopback_names()).unwrap();
        assert_eq!(first.created_because.as_deref(), Some("there was none"));
        let second = load_or_create(dir.path(), &loopback_names()).unwrap();
        assert_eq!(second.created_because, None);
        assert_eq!(first.identity.fingerprint(), second.identity.fingerprint());
        assert_eq!(first.identity.fingerprint().len(), 32 * 3 - 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key is readable by others: {mode:o}");
        }
    }

    #[test]
    fn a_new_address_or_a_broken_file_makes_a_new_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path(), &loopback_names()).unwrap();
        let mut moved = loopback_names();
        moved.push("10.1.2.3".into());
        let second = load_or_create(dir.path(), &moved).unwrap();
        assert_eq!(
            second.created_because.as_deref(),
            Some("the kept one does not name 10.1.2.3")
        );
        assert_ne!(first.identity.fingerprint(), second.identity.fingerprint());
        std::fs::write(dir.path().join(CERT_FILE), "garbage").unwrap();
        let third = load_or_create(dir.path(), &moved).unwrap();
        let reason = third.created_because.unwrap();
        assert!(reason.starts_with("the kept one was unusable"), "{reason}");
    }
}
