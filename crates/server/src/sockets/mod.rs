//! Every socket the server accepts, of every kind (page loads, API calls,
//! WebSockets, video streams, TLS handshakes), held to limits that no slow,
//! silent or half-open client can get past.
//!
//! ```text
//!  accept ──► admit (table) ──► TrackedIo ──► [TLS handshake] ──► HTTP/1.1 (hyper) ──► app
//!    │            │ refused: 503 at once           ▲ bytes in/out      request/response bodies
//!    │            │ full: close the longest        │                        │
//!    │            ▼ waiting socket                 │                        ▼
//!  back off    reaper (every ≤ 1 s): judge each socket by its activity (rules) and close
//!  on errors   those past the header, keep-alive, body-rate or send limit
//! ```
//!
//! * **Caps** ([`SocketLimits`]): at most `max_per_client` sockets from one
//!   client address (IPv6: one /64), refused at once past it (plain HTTP:
//!   a short 503); at most `max_total` in all, kept below the descriptor
//!   limit so accepting never fails for want of one: past it, the socket
//!   idle or half-open the longest is closed to make room, or, if every
//!   socket is busy, the new one is refused.
//! * **Timeouts**, judged by the reaper from what each socket has done
//!   (`rules`): a request's head within `header_timeout` of its first byte
//!   (of the connection, for a socket that says nothing; a TLS handshake is
//!   part of the first head); a kept-alive socket idle for at most
//!   `keep_alive_timeout`; a request body at `min_body_rate` or faster
//!   over each 10-s window; a response the client takes nothing of for at
//!   most `send_timeout`. A request the app is working on is never cut
//!   short, and a WebSocket, once upgraded, is watched by its own handler
//!   (`connections`, `ws`).
//! * **Accept errors** (out of descriptors, say) back off from 10 ms to 1 s
//!   and are logged at most once a second.
//!
//! The long-lived connections' own caps (`connections`) apply on top: they
//! bound memory, these bound descriptors and time.

mod activity;
mod bodies;
mod io;
mod limits;
mod rules;
mod table;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::shutdown::Stopping;
use activity::Activity;
use bodies::{ResponseBody, WatchedBody};
use io::TrackedIo;
pub use limits::{
    default_max_sockets, descriptor_limit, raise_descriptor_limit, SocketLimits, BODY_RATE_WINDOW,
    DEFAULT_HEADER_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_MAX_SOCKETS_PER_CLIENT,
    DEFAULT_MIN_BODY_RATE, DEFAULT_SEND_TIMEOUT, MAX_HEAD_BYTES,
};
pub(crate) use rules::CloseReason;
pub(crate) use table::{SocketRefusal, Sockets};

/// Connections the kernel may hold for the accept loop (clamped by the
/// system's `somaxconn`, 4096 on current Linux): a burst of connections,
/// hostile or not, should wait in the queue rather than have its SYNs
/// dropped, which costs a well-behaved client a one-second retransmit.
const LISTEN_BACKLOG: u32 = 4096;

/// A listener on `addr` with the [`LISTEN_BACKLOG`] queue.
pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As std and tokio do: a restarted server can bind at once.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Accepts sockets on `listener` and serves `app` on each (over TLS when
/// `tls` is given) until shutting down begins; then stops accepting and
/// returns, while the sockets already open finish on their own (each
/// closes once its request in flight is answered).
pub(crate) async fn accept_until_stopping(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    sockets: Arc<Sockets>,
    stopping: Arc<Stopping>,
) {
    let mut backoff = AcceptBackoff::default();
    let mut refusals = Throttle::default();
    let stop = stopping.begun();
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, client) = match accepted {
            Ok(accepted) => {
                backoff.reset();
                accepted
            }
            // The client gave up before we took it: nothing to wait for.
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                sockets.metrics.accept_errors.inc();
                tokio::time::sleep(backoff.after(&error)).await;
                continue;
            }
        };
        let place = match sockets.admit(client.ip()) {
            Ok(place) => place,
            Err(refusal) => {
                sockets.metrics.refused(refusal.label());
                if let Some(also) = refusals.allow() {
                    tracing::warn!(%client, %refusal, also_refused = also, "socket refused");
                }
                if tls.is_none() {
                    refuse_plain(&stream, refusal);
                }
                continue;
            }
        };
        // Small WebSocket messages go out at once (no Nagle delay).
        let _ = stream.set_nodelay(true);
        let activity = Arc::clone(place.activity());
        let io = TrackedIo::new(stream, place);
        tokio::spawn(serve_socket(
            io,
            activity,
            client,
            tls.clone(),
            app.clone(),
            Arc::clone(&stopping),
        ));
    }
}

/// Runs the reaper of `sockets` until the returned guard is dropped.
pub(crate) fn start_reaper(sockets: &Arc<Sockets>) -> Reaper {
    let sockets = Arc::clone(sockets);
    Reaper(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(sockets.reap_interval());
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            sockets.reap();
        }
    }))
}

/// The running reaper; dropping it stops it.
pub(crate) struct Reaper(JoinHandle<()>);

impl Drop for Reaper {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One socket, from its TLS handshake (if any) to its last request; ends
/// early when the reaper closes it.
async fn serve_socket(
    io: TrackedIo<TcpStream>,
    activity: Arc<Activity>,
    client: SocketAddr,
    tls: Option<TlsAcceptor>,
    app: Router,
    stopping: Arc<Stopping>,
) {
    let Some(acceptor) = tls else {
        return serve_http(io, activity, client, app, &stopping).await;
    };
    let handshake = tokio::select! {
        handshake = acceptor.accept(io) => handshake,
        reason = activity.closed() => {
            tracing::debug!(%client, reason = reason.label(), "TLS handshake cut short");
            return;
        }
    };
    match handshake {
        Ok(tls) => serve_http(tls, activity, client, app, &stopping).await,
        Err(error) => tracing::debug!(%client, %error, "TLS handshake failed"),
    }
}

/// HTTP/1.1 on one socket (hyper), with upgrades to WebSockets.
async fn serve_http<I>(
    io: I,
    activity: Arc<Activity>,
    client: SocketAddr,
    app: Router,
    stopping: &Stopping,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = {
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |request| {
            respond(request, app.clone(), client, Arc::clone(&activity))
        })
    };
    let mut http = http1::Builder::new();
    // Timeouts are the reaper's; hyper's own would need its timer.
    http.header_read_timeout(None).max_buf_size(MAX_HEAD_BYTES);
    let connection = http
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        served = connection.as_mut() => return log_end(client, served),
        reason = activity.closed() => return log_close(client, reason),
        () = stopping.begun() => connection.as_mut().graceful_shutdown(),
    }
    tokio::select! {
        served = connection => log_end(client, served),
        reason = activity.closed() => log_close(client, reason),
    }
}

/// Hands one request to the app, with the client's address
/// (`ConnectInfo`) and its body watched; the request stays in service
/// until its response's body has been handed over.
async fn respond(
    request: Request<Incoming>,
    app: Router,
    client: SocketAddr,
    activity: Arc<Activity>,
) -> Result<Response<ResponseBody>, Infallible> {
    let in_service = activity.begin_request();
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(ConnectInfo(client));
    let request = Request::from_parts(parts, Body::new(WatchedBody::new(body, &activity)));
    let response = app.oneshot(request).await?;
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        activity.upgrade();
    }
    Ok(response.map(|body| ResponseBody::new(body, in_service)))
}

fn log_end(client: SocketAddr, served: Result<(), hyper::Error>) {
    if let Err(error) = served {
        tracing::debug!(%client, %error, "connection ended with an error");
    }
}

fn log_close(client: SocketAddr, reason: CloseReason) {
    tracing::debug!(%client, reason = reason.label(), "connection closed by the server");
}

/// Tells a plain-HTTP client it was refused, if its socket can take the
/// few bytes at once, and closes it (by dropping it): nothing waits on a
/// refused client.
fn refuse_plain(stream: &TcpStream, refusal: SocketRefusal) {
    let body = serde_json::json!({ "error": refusal.to_string() }).to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         x-content-type-options: nosniff\r\nretry-after: 5\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(response.as_bytes());
}

/// Errors that concern one client's socket, not the listener.
fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// How long to wait after an accept error: from 10 ms, doubling to 1 s
/// while errors go on; logged at most once a second.
#[derive(Debug, Default)]
struct AcceptBackoff {
    delay: Duration,
    log: Throttle,
}

impl AcceptBackoff {
    fn after(&mut self, error: &std::io::Error) -> Duration {
        self.delay = (self.delay * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
        if let Some(also) = self.log.allow() {
            tracing::warn!(%error, retry_ms = self.delay.as_millis() as u64, also_failed = also,
                "cannot accept a connection");
        }
        self.delay
    }

    fn reset(&mut self) {
        self.delay = Duration::ZERO;
    }
}

/// At most one log line a second, saying how many were left out.
#[derive(Debug, Default)]
struct Throttle {
    last: Option<Instant>,
    held_back: u64,
}

impl Throttle {
    /// `Some(n)` if a line may be written now (`n` left out since the
    /// last one); `None` if it is to be left out.
    fn allow(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < Duration::from_secs(1))
        {
            self.held_back += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held_back))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_back_off_from_10_ms_to_a_second_and_reset() {
        let mut backoff = AcceptBackoff::default();
        let error = std::io::Error::other("too many open files");
        let delays: Vec<_> = (0..10).map(|_| backoff.after(&error).as_millis()).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.after(&error), Duration::from_millis(10));
    }

    #[test]
    fn the_throttle_lets_one_line_a_second_through_and_counts_the_rest() {
        let mut throttle = Throttle::default();
        assert_eq!(throttle.allow(), Some(0));
        assert_eq!(throttle.allow(), None);
        assert_eq!(throttle.allow(), None);
        throttle.last = Some(Instant::now() - Duration::from_secs(2));
        assert_eq!(throttle.allow(), Some(2));
    }
}
