//! Which web pages may use this server: the defence against cross-site
//! WebSocket hijacking and cross-site reads.
//!
//! Browsers do not apply the same-origin policy to WebSockets, and they
//! load images (such as the `/video_feed` stream) from anywhere; what they
//! do is say who is asking. So a request is served when:
//!
//! * its `Origin` is this server's own (same host and port as the `Host` it
//!   was sent to; `http` or `https`, since a TLS proxy in front changes the
//!   scheme but not the name), or one named with `--allowed-origin`;
//! * it has no `Origin` and does not come from another site's page:
//!   `Sec-Fetch-Site` (sent by current browsers with every request) is
//!   absent, `same-origin` or `none` (the user typed the address). Tools
//!   such as curl, the CLI and the load generator send neither header and
//!   keep working.
//!
//! Everything else is refused, the `null` origin of sandboxed frames and
//! `file:` pages included. Origins are compared as browsers serialise them:
//! case-insensitive host names, default ports left out, international names
//! in punycode.

use std::fmt;
use std::str::FromStr;

use url::{Host, Url};

use super::host::Authority;

/// An origin named with `--allowed-origin`: its pages may use the server
/// like its own (WebSocket, API, and cross-origin reads through CORS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigin(url::Origin);

/// Why an `--allowed-origin` value is not an origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowedOriginError {
    #[error("not a URL: {0}")]
    NotAUrl(#[source] url::ParseError),
    #[error("an origin is a scheme, a host and a port, such as https://app.example or http://127.0.0.1:3000; wildcards and `null` are not accepted")]
    NotAnOrigin,
    #[error("only http and https origins can be allowed")]
    Scheme,
    #[error("an origin has no user, path, query or fragment: give it as {0}")]
    Extra(String),
}

impl FromStr for AllowedOrigin {
    type Err = AllowedOriginError;

    fn from_str(text: &str) -> Result<AllowedOrigin, AllowedOriginError> {
        if text == "*" || text.eq_ignore_ascii_case("null") {
            return Err(AllowedOriginError::NotAnOrigin);
        }
        let url = Url::parse(text).map_err(AllowedOriginError::NotAUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(AllowedOriginError::Scheme);
        }
        let origin = url.origin();
        if !origin.is_tuple() || url.host_str().is_none_or(str::is_empty) {
            return Err(AllowedOriginError::NotAnOrigin);
        }
        let extra = !url.username().is_empty()
            || url.password().is_some()
            || url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some();
        if extra {
            return Err(AllowedOriginError::Extra(origin.ascii_serialization()));
        }
        Ok(AllowedOrigin(origin))
    }
}

impl fmt::Display for AllowedOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.ascii_serialization())
    }
}

/// Who is asking, when the request may go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A page of this server.
    SameOrigin,
    /// A page of an `--allowed-origin`; the origin is echoed in CORS headers.
    Allowed(String),
    /// Not a page (curl, the CLI) or the user typing the address.
    NotAPage,
}

/// Why a request from a page was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginRefusal {
    #[error("requests from sandboxed or local pages (origin `null`) are not accepted")]
    Null,
    #[error("the Origin header is not an origin")]
    Malformed,
    #[error(
        "pages from {0} may not use this server; start it with --allowed-origin {0} to let them"
    )]
    Foreign(String),
    #[error("requests from another site's page are not accepted (Sec-Fetch-Site: {0})")]
    CrossSite(String),
}

/// Decides whether a request is from a page that may use this server.
///
/// `origin` and `fetch_site` are the `Origin` and `Sec-Fetch-Site` headers
/// (`Err` when a header is repeated or not text), `host` the request's
/// (already accepted) `Host`.
pub fn check(
    origin: Option<Result<&str, ()>>,
    fetch_site: Option<Result<&str, ()>>,
    host: &Authority,
    allowed: &[AllowedOrigin],
) -> Result<Caller, OriginRefusal> {
    let Some(origin) = origin else {
        return match fetch_site {
            None | Some(Ok("same-origin" | "none")) => Ok(Caller::NotAPage),
            Some(Ok(site)) => Err(OriginRefusal::CrossSite(site.to_string())),
            Some(Err(())) => Err(OriginRefusal::CrossSite("unreadable".into())),
        };
    };
    let origin = origin.map_err(|()| OriginRefusal::Malformed)?;
    if origin.eq_ignore_ascii_case("null") {
        return Err(OriginRefusal::Null);
    }
    let url = Url::parse(origin).map_err(|_| OriginRefusal::Malformed)?;
    let serialised = url.origin();
    if !matches!(url.scheme(), "http" | "https") || !serialised.is_tuple() {
        return Err(OriginRefusal::Foreign(origin.to_string()));
    }
    if is_same_origin(&url, host) {
        return Ok(Caller::SameOrigin);
    }
    if allowed.iter().any(|a| a.0 == serialised) {
        return Ok(Caller::Allowed(serialised.ascii_serialization()));
    }
    Err(OriginRefusal::Foreign(serialised.ascii_serialization()))
}

/// Same host, and the same port: the one `Host` names, or the scheme's
/// default when `Host` names none.
fn is_same_origin(origin: &Url, host: &Authority) -> bool {
    let same_host = match origin.host() {
        Some(Host::Domain(name)) => {
            let name = name.strip_suffix('.').unwrap_or(name);
            matches!(&host.host, Host::Domain(own) if own == name)
        }
        Some(Host::Ipv4(ip)) => matches!(host.host, Host::Ipv4(own) if own == ip),
        Some(Host::Ipv6(ip)) => matches!(host.host, Host::Ipv6(own) if own == ip),
        None => false,
    };
    let same_port = match host.port {
        Some(port) => origin.port_or_known_default() == Some(port),
        None => origin.port().is_none(),
    };
    same_host && same_port
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (Host the request was sent to, Origin, Sec-Fetch-Site, allowed
    /// origins, served?)
    type Row = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        &'static [&'static str],
        bool,
    );

    /// Every `Origin` decision, one row each.
    #[test]
    fn origin_decisions() {
        let rows: &[Row] = &[
            // Our own pages.
            (
                "127.0.0.1:8000",
                Some("http://127.0.0.1:8000"),
                None,
                &[],
                true,
            ),
            (
                "localhost:8000",
                Some("http://localhost:8000"),
                None,
                &[],
                true,
            ),
            (
                "localhost:8000",
                Some("http://LOCALHOST:8000"),
                None,
                &[],
                true,
            ),
            (
                "localhost.:8000",
                Some("http://localhost.:8000"),
                None,
                &[],
                true,
            ),
            ("[::1]:8000", Some("http://[::1]:8000"), None, &[], true),
            ("[::1]:8000", Some("http://[0:0::1]:8000"), None, &[], true),
            // Behind a TLS proxy on the default port.
            (
                "melodora.example",
                Some("https://melodora.example"),
                None,
                &[],
                true,
            ),
            (
                "melodora.example",
                Some("https://melodora.example:443"),
                None,
                &[],
                true,
            ),
            (
                "melodora.example",
                Some("http://melodora.example"),
                None,
                &[],
                true,
            ),
            (
                "melodora.example",
                Some("https://melodora.example:8443"),
                None,
                &[],
                false,
            ),
            (
                "melodora.example:443",
                Some("https://melodora.example"),
                None,
                &[],
                true,
            ),
            // Same host, another port: another origin.
            (
                "127.0.0.1:8000",
                Some("http://127.0.0.1:3000"),
                None,
                &[],
                false,
            ),
            ("127.0.0.1:8000", Some("http://127.0.0.1"), None, &[], false),
            // Another host, including another spelling of loopback.
            (
                "127.0.0.1:8000",
                Some("http://localhost:8000"),
                None,
                &[],
                false,
            ),
            (
                "127.0.0.1:8000",
                Some("http://evil.example"),
                None,
                &[],
                false,
            ),
            (
                "127.0.0.1:8000",
                Some("http://127.0.0.1:8000.evil.example"),
                None,
                &[],
                false,
            ),
            // Opaque, odd or broken origins.
            ("127.0.0.1:8000", Some("null"), None, &[], false),
            ("127.0.0.1:8000", Some("NULL"), None, &[], false),
            ("127.0.0.1:8000", Some("file://"), None, &[], false),
            (
                "127.0.0.1:8000",
                Some("chrome-extension://abc"),
                None,
                &[],
                false,
            ),
            ("127.0.0.1:8000", Some(""), None, &[], false),
            ("127.0.0.1:8000", Some("127.0.0.1:8000"), None, &[], false),
            // Allowed origins: exactly those, IDN in punycode.
            (
                "127.0.0.1:8000",
                Some("http://127.0.0.1:3000"),
                None,
                &["http://127.0.0.1:3000"],
                true,
            ),
            (
                "127.0.0.1:8000",
                Some("https://app.example"),
                None,
                &["https://app.example:443/"],
                true,
            ),
            (
                "127.0.0.1:8000",
                Some("http://app.example"),
                None,
                &["https://app.example"],
                false,
            ),
            (
                "127.0.0.1:8000",
                Some("https://xn--bcher-kva.example"),
                None,
                &["https://bücher.example"],
                true,
            ),
            (
                "127.0.0.1:8000",
                Some("null"),
                None,
                &["http://127.0.0.1:3000"],
                false,
            ),
            // No Origin: tools, typed addresses, and other sites' images.
            ("127.0.0.1:8000", None, None, &[], true),
            ("127.0.0.1:8000", None, Some("none"), &[], true),
            ("127.0.0.1:8000", None, Some("same-origin"), &[], true),
            ("127.0.0.1:8000", None, Some("cross-site"), &[], false),
            ("127.0.0.1:8000", None, Some("same-site"), &[], false),
            (
                "127.0.0.1:8000",
                None,
                Some("cross-site"),
                &["http://127.0.0.1:3000"],
                false,
            ),
        ];
        for (host, origin, site, allowed, expected) in rows {
            let allowed: Vec<AllowedOrigin> = allowed.iter().map(|a| a.parse().unwrap()).collect();
            let host = Authority::parse(host).unwrap();
            let verdict = check(origin.map(Ok), site.map(Ok), &host, &allowed);
            assert_eq!(
                verdict.is_ok(),
                *expected,
                "Host {host:?}, Origin {origin:?}, Sec-Fetch-Site {site:?}, allowed {allowed:?}: {verdict:?}"
            );
        }
    }

    #[test]
    fn repeated_or_unreadable_headers_are_refused() {
        let host = Authority::parse("127.0.0.1:8000").unwrap();
        assert_eq!(
            check(Some(Err(())), None, &host, &[]),
            Err(OriginRefusal::Malformed)
        );
        assert!(check(None, Some(Err(())), &host, &[]).is_err());
    }

    #[test]
    fn allowed_origins_must_be_origins() {
        for bad in [
            "*",
            "null",
            "app.example",
            "ftp://app.example",
            "file:///tmp/x.html",
            "https://app.example/page",
            "https://user@app.example",
            "https://app.example/?q",
            "https://",
        ] {
            assert!(bad.parse::<AllowedOrigin>().is_err(), "{bad:?}");
        }
        let origin: AllowedOrigin = "HTTPS://Bücher.Example:443/".parse().unwrap();
        assert_eq!(origin.to_string(), "https://xn--bcher-kva.example");
    }

    #[test]
    fn the_caller_says_which_origin_to_echo() {
        let host = Authority::parse("127.0.0.1:8000").unwrap();
        let allowed = ["http://127.0.0.1:3000".parse().unwrap()];
        let caller = check(
            Some(Ok("http://127.0.0.1:3000")),
            Some(Ok("same-site")),
            &host,
            &allowed,
        );
        assert_eq!(caller, Ok(Caller::Allowed("http://127.0.0.1:3000".into())));
    }
}
