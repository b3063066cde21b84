//! Who may use the server: its own pages, named origins, and nobody who
//! reaches it under a name that is not its own.
//!
//! One middleware, [`guard`], runs before every handler:
//! 1. the `Host` must be a name this server answers to ([`host`]), else
//!    421 (400 when there is no readable `Host` at all): this stops DNS
//!    rebinding;
//! 2. on everything but the page and its static files, the request must come
//!    from this server's own pages or an `--allowed-origin` ([`origin`]),
//!    else 403: this stops other sites' pages from opening `/ws`, embedding
//!    `/video_feed` or calling the API from the user's browser. Pages of an
//!    allowed origin also get the CORS headers that let them read answers.

pub mod host;
pub mod origin;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::ApiError;
pub use host::{Authority, HostPolicy, PublicHost};
pub use origin::{AllowedOrigin, Caller};

/// What `melodora serve` was told about origins and names.
#[derive(Debug, Clone, Default)]
pub struct AccessOptions {
    /// Other origins whose pages may use the server (`--allowed-origin`).
    pub allowed_origins: Vec<AllowedOrigin>,
    /// Further names the server answers to (`--public-host`).
    pub public_hosts: Vec<PublicHost>,
}

/// The rules of one running server (they depend on the address it is
/// bound to).
#[derive(Debug, Clone)]
pub struct AccessPolicy {
    hosts: HostPolicy,
    allowed_origins: Vec<AllowedOrigin>,
}

impl AccessPolicy {
    /// The rules for a server bound to `bound` on a machine called
    /// `machine_name`.
    pub fn new(options: &AccessOptions, bound: SocketAddr, machine_name: Option<&str>) -> Self {
        AccessPolicy {
            hosts: HostPolicy::new(bound, machine_name, &options.public_hosts),
            allowed_origins: options.allowed_origins.clone(),
        }
    }
}

/// Paths any page may load: the app's page and its scripts and styles
/// (a link to the app from anywhere must work; other origins cannot read
/// these answers anyway).
fn is_public_path(path: &str) -> bool {
    path == "/" || path.starts_with("/static/")
}

/// The access middleware (see the module docs).
pub async fn guard(
    State(policy): State<Arc<AccessPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let host = match request_host(&request) {
        Ok(host) => host,
        Err(error) => return error.into_response(),
    };
    if !policy.hosts.accepts(&host) {
        let message = format!(
            "this server does not answer to the name {host}; if that name is the server's, \
             start it with --public-host {host}"
        );
        return ApiError::new(StatusCode::MISDIRECTED_REQUEST, message).into_response();
    }
    if is_public_path(request.uri().path()) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let caller = origin::check(
        single(headers, &header::ORIGIN),
        single(headers, &HeaderName::from_static("sec-fetch-site")),
        &host,
        &policy.allowed_origins,
    );
    let mut response = match caller {
        Err(refusal) => ApiError::new(StatusCode::FORBIDDEN, refusal.to_string()).into_response(),
        Ok(Caller::Allowed(origin)) if is_preflight(&request) => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            allow_cross_origin(response.headers_mut(), &origin, true);
            response
        }
        Ok(Caller::Allowed(origin)) => {
            let mut response = next.run(request).await;
            allow_cross_origin(response.headers_mut(), &origin, false);
            response
        }
        Ok(Caller::SameOrigin | Caller::NotAPage) => next.run(request).await,
    };
    // The answer depends on who asked: caches must keep them apart.
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("origin"));
    response
}

/// The `Host` a request was sent to (the URI's authority for HTTP/2).
fn request_host(request: &Request<Body>) -> Result<Authority, ApiError> {
    let bad = |message: &str| ApiError::new(StatusCode::BAD_REQUEST, message.to_string());
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let text = match (hosts.next(), hosts.next()) {
        (Some(host), None) => host
            .to_str()
            .map_err(|_| bad("the Host header is not ASCII text"))?
            .to_string(),
        (Some(_), Some(_)) => return Err(bad("more than one Host header")),
        (None, _) => match request.uri().authority() {
            Some(authority) => authority.as_str().to_string(),
            None => return Err(bad("the request names no Host")),
        },
    };
    Authority::parse(&text).map_err(|e| bad(&format!("bad Host header: {e}")))
}

/// A header that may appear once: `None` if absent, `Err` if repeated or
/// not text.
fn single<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<Result<&'a str, ()>> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return Some(Err(()));
    }
    Some(first.to_str().map_err(|_| ()))
}

/// A CORS preflight: the browser asks before a cross-origin POST of JSON.
fn is_preflight(request: &Request<Body>) -> bool {
    request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Lets a page of `origin` read the answer (and, for a preflight, send
/// its GET or its POST of JSON).
fn allow_cross_origin(headers: &mut HeaderMap, origin: &str, preflight: bool) {
    if let Ok(origin) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    if preflight {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
}
