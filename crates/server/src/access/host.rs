//! Which `Host` names this server answers to: the defence against DNS
//! rebinding.
//!
//! A rebinding page lives at a name its owner controls (`evil.example`) and
//! makes that name resolve to 127.0.0.1: the browser then treats our server
//! as part of the attacker's origin and lets the page read every answer. The
//! one thing the attacker cannot change is the `Host` header, which carries
//! the attacker's name; so a request is answered only when its `Host` is a
//! name this server knows to be its own:
//!
//! * the loopback names and addresses (`localhost`, `*.localhost`,
//!   `127.0.0.0/8`, `::1`) when the server listens on loopback or on every
//!   address; browsers resolve `localhost` themselves, so no DNS answer can
//!   point it elsewhere;
//! * the address it is bound to, and when bound to every address
//!   (`0.0.0.0`, `[::]`) any IP address literal: a literal involves no DNS,
//!   so it cannot be rebound, and the machine's addresses change with the
//!   network it is on;
//! * the machine's host name, and that name under `.local` (mDNS, how phones
//!   on the network find it);
//! * names given with `--public-host NAME[:PORT]` (a reverse proxy's public
//!   name, a DNS name of the machine).
//!
//! Names are compared as DNS names: case does not matter, one trailing dot
//! is ignored (`localhost.` is `localhost`), and internationalised names are
//! compared in their ASCII (punycode) form, which is what browsers send.
//! A port, when the `Host` gives one, must be the port the server listens on
//! (or the one a `--public-host` names); a `Host` without a port is what a
//! proxy on the default port forwards, and is accepted.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use url::Host;

/// A host name or address and, if it was given, its port, as found in a
/// `Host` header or an origin; the name is normalised (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    /// The name or address, normalised.
    pub host: Host<String>,
    /// The port, if one was written.
    pub port: Option<u16>,
}

/// Why a `Host` header or `--public-host` value is not a host name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorityError {
    #[error("empty host")]
    Empty,
    #[error("a host name, not a URL, is expected (no scheme, path, user or wildcard)")]
    NotAHost,
    #[error("the port is not a number from 1 to 65535")]
    BadPort,
    #[error("not a valid host name or address: {0}")]
    BadHost(url::ParseError),
}

impl Authority {
    /// Parses `host[:port]`, `[v6]` or `[v6]:port`, as in a `Host` header.
    pub fn parse(text: &str) -> Result<Authority, AuthorityError> {
        if text.is_empty() {
            return Err(AuthorityError::Empty);
        }
        // `%` too: percent-escapes would spell one name as many.
        if text.contains(['/', '\\', '@', '*', '?', '#', ' ', '%']) || text.contains("://") {
            return Err(AuthorityError::NotAHost);
        }
        let (host, port) = split_port(text)?;
        let host = host.strip_suffix('.').unwrap_or(host);
        if host.is_empty() {
            return Err(AuthorityError::Empty);
        }
        let host = Host::parse(host).map_err(AuthorityError::BadHost)?;
        Ok(Authority { host, port })
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

/// Splits off a `:port` (an IPv6 address must be in brackets to have one).
fn split_port(text: &str) -> Result<(&str, Option<u16>), AuthorityError> {
    let (host, port) = if text.starts_with('[') {
        match text.find(']') {
            Some(end) => match &text[end + 1..] {
                "" => (text, None),
                rest => (
                    &text[..=end],
                    Some(rest.strip_prefix(':').ok_or(AuthorityError::NotAHost)?),
                ),
            },
            None => return Err(AuthorityError::NotAHost),
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        None => None,
        Some(port) => {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AuthorityError::BadPort);
            }
            match port.parse::<u16>() {
                Ok(0) | Err(_) => return Err(AuthorityError::BadPort),
                Ok(port) => Some(port),
            }
        }
    };
    Ok((host, port))
}

/// A name given with `--public-host`: the server answers to it, on the
/// given port or, without one, on any port the request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicHost(pub Authority);

impl FromStr for PublicHost {
    type Err = AuthorityError;

    fn from_str(text: &str) -> Result<PublicHost, AuthorityError> {
        Authority::parse(text).map(PublicHost)
    }
}

impl fmt::Display for PublicHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The names this server answers to (see the module docs).
#[derive(Debug, Clone)]
pub struct HostPolicy {
    bound: SocketAddr,
    machine_names: Vec<String>,
    public: Vec<PublicHost>,
}

impl HostPolicy {
    /// The policy of a server listening on `bound` on a machine called
    /// `machine_name` (if known), answering also to `public` names.
    pub fn new(bound: SocketAddr, machine_name: Option<&str>, public: &[PublicHost]) -> Self {
        let machine_names = machine_name
            .and_then(|name| Authority::parse(name).ok())
            .and_then(|name| match name.host {
                Host::Domain(name) => Some(name),
                _ => None,
            })
            .map(|name| {
                let local = format!("{}.local", name.split('.').next().unwrap_or(&name));
                vec![name, local]
            })
            .unwrap_or_default();
        HostPolicy {
            bound,
            machine_names,
            public: public.to_vec(),
        }
    }

    /// Whether a request naming `host` is for this server.
    pub fn accepts(&self, host: &Authority) -> bool {
        let public = self
            .public
            .iter()
            .any(|p| p.0.host == host.host && (p.0.port.is_none() || p.0.port == host.port));
        let own_port = host.port.unwrap_or(self.bound.port()) == self.bound.port();
        public || (own_port && self.is_own_name(&host.host))
    }

    fn is_own_name(&self, host: &Host<String>) -> bool {
        let bound = self.bound.ip();
        let loopback_reachable = bound.is_loopback() || bound.is_unspecified();
        match host {
            Host::Domain(name) => {
                (loopback_reachable && is_localhost(name))
                    || self.machine_names.iter().any(|own| own == name)
            }
            Host::Ipv4(ip) => self.is_own_address(IpAddr::V4(*ip), loopback_reachable),
            Host::Ipv6(ip) => self.is_own_address(IpAddr::V6(*ip), loopback_reachable),
        }
    }

    fn is_own_address(&self, ip: IpAddr, loopback_reachable: bool) -> bool {
        let ip = canonical(ip);
        let bound = canonical(self.bound.ip());
        bound.is_unspecified() || ip == bound || (loopback_reachable && ip.is_loopback())
    }
}

/// `localhost` and its subdomains, which browsers resolve to loopback
/// without asking DNS (RFC 6761).
fn is_localhost(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

/// An IPv4-mapped IPv6 address as its IPv4 address.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The machine's host name, if the system says.
pub fn machine_name() -> Option<String> {
    #[cfg(unix)]
    {
        let uname = rustix::system::uname();
        let name = uname.nodename().to_str().ok()?.trim().to_string();
        (!name.is_empty()).then_some(name)
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME").ok().filter(|n| !n.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(bound: &str, public: &[&str]) -> HostPolicy {
        let public: Vec<PublicHost> = public.iter().map(|p| p.parse().unwrap()).collect();
        HostPolicy::new(bound.parse().unwrap(), Some("studio"), &public)
    }

    /// Every `Host` decision, one row each: (bound address, public hosts,
    /// Host header, answered?).
    #[test]
    fn host_header_decisions() {
        let rows: &[(&str, &[&str], &str, bool)] = &[
            // Loopback server: loopback names and addresses, on its port.
            ("127.0.0.1:8000", &[], "127.0.0.1:8000", true),
            ("127.0.0.1:8000", &[], "localhost:8000", true),
            ("127.0.0.1:8000", &[], "LocalHost:8000", true),
            ("127.0.0.1:8000", &[], "localhost.:8000", true),
            ("127.0.0.1:8000", &[], "app.localhost:8000", true),
            ("127.0.0.1:8000", &[], "127.0.0.2:8000", true),
            ("127.0.0.1:8000", &[], "[::1]:8000", true),
            ("127.0.0.1:8000", &[], "[0:0:0:0:0:0:0:1]:8000", true),
            ("127.0.0.1:8000", &[], "localhost", true),
            // The machine's own name, and its mDNS name.
            ("127.0.0.1:8000", &[], "studio:8000", true),
            ("127.0.0.1:8000", &[], "Studio.local:8000", true),
            // Rebinding: a foreign name that resolves here.
            ("127.0.0.1:8000", &[], "evil.example:8000", false),
            ("127.0.0.1:8000", &[], "evil.example", false),
            ("127.0.0.1:8000", &[], "localhost.evil.example:8000", false),
            ("127.0.0.1:8000", &[], "127.0.0.1.nip.io:8000", false),
            // IDN: a Unicode name is its punycode; neither is ours.
            ("127.0.0.1:8000", &[], "xn--bcher-kva.example:8000", false),
            // Another port than the server's.
            ("127.0.0.1:8000", &[], "127.0.0.1:9000", false),
            ("127.0.0.1:8000", &[], "localhost:80", false),
            // Not a host at all.
            ("127.0.0.1:8000", &[], "", false),
            ("127.0.0.1:8000", &[], "localhost:", false),
            ("127.0.0.1:8000", &[], "localhost:99999", false),
            ("127.0.0.1:8000", &[], "localhost:8000:8000", false),
            ("127.0.0.1:8000", &[], "user@localhost:8000", false),
            ("127.0.0.1:8000", &[], "%6cocalhost:8000", false),
            ("127.0.0.1:8000", &[], "::1", false),
            ("127.0.0.1:8000", &[], "[::1", false),
            ("127.0.0.1:8000", &[], "[::1]8000", false),
            // A LAN address is not this loopback server's.
            ("127.0.0.1:8000", &[], "192.168.1.5:8000", false),
            // Bound to one LAN address: that address, not loopback names.
            ("192.168.1.5:8000", &[], "192.168.1.5:8000", true),
            ("192.168.1.5:8000", &[], "localhost:8000", false),
            ("192.168.1.5:8000", &[], "192.168.1.6:8000", false),
            // Bound to every address: any address literal, loopback names.
            ("0.0.0.0:8000", &[], "10.1.2.3:8000", true),
            ("0.0.0.0:8000", &[], "localhost:8000", true),
            ("[::]:8000", &[], "[fe80::1]:8000", true),
            ("0.0.0.0:8000", &[], "evil.example:8000", false),
            // Public names, with and without a port of their own.
            (
                "0.0.0.0:8000",
                &["melodora.example"],
                "melodora.example",
                true,
            ),
            (
                "0.0.0.0:8000",
                &["melodora.example"],
                "MELODORA.example.:8000",
                true,
            ),
            (
                "0.0.0.0:8000",
                &["melodora.example"],
                "melodora.example:443",
                true,
            ),
            (
                "0.0.0.0:8000",
                &["melodora.example:8443"],
                "melodora.example:8443",
                true,
            ),
            (
                "0.0.0.0:8000",
                &["melodora.example:8443"],
                "melodora.example:9000",
                false,
            ),
            (
                "0.0.0.0:8000",
                &["bücher.example"],
                "xn--bcher-kva.example:8000",
                true,
            ),
            (
                "0.0.0.0:8000",
                &["melodora.example"],
                "other.example",
                false,
            ),
        ];
        for (bound, public, header, expected) in rows {
            let policy = policy(bound, public);
            let accepted = Authority::parse(header).is_ok_and(|host| policy.accepts(&host));
            assert_eq!(
                accepted, *expected,
                "bound {bound}, public {public:?}, Host {header:?}"
            );
        }
    }

    #[test]
    fn public_hosts_must_be_names() {
        for bad in [
            "",
            "https://melodora.example",
            "*.example",
            "a b",
            "host:0",
            "x/y",
        ] {
            assert!(bad.parse::<PublicHost>().is_err(), "{bad:?}");
        }
        let idn: PublicHost = "Bücher.example.".parse().unwrap();
        assert_eq!(idn.to_string(), "xn--bcher-kva.example");
    }
}
