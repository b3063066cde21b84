//! How long a client may take over each part of a request, and how many
//! sockets the server keeps open, in all and per client address.

use std::time::Duration;

/// The socket limits, as `melodora serve` sets them (each has a flag of the
/// same name; see README's security section).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketLimits {
    /// Open sockets of every kind (page loads, API calls, WebSockets,
    /// streams, TLS handshakes) over all clients. Kept below the
    /// descriptor limit, so that accepting never fails for lack of
    /// descriptors; past it the socket idle or half-open the longest is
    /// closed to make room, or, if every socket is busy, the new one is
    /// refused at once.
    pub max_total: usize,
    /// Open sockets from one client address (IPv6: one /64); past it a new
    /// socket is refused at once (plain HTTP: a short 503).
    pub max_per_client: usize,
    /// Longest a client may take to send a request's head (request line
    /// and headers), counted from its first byte, or from the moment it
    /// connected for a socket that says nothing; a TLS handshake counts as
    /// part of the first request's head.
    pub header_timeout: Duration,
    /// Longest a kept-alive socket may wait, silent, for its next request.
    pub keep_alive_timeout: Duration,
    /// Slowest a request body may arrive, in bytes per second, averaged
    /// over each `body_rate_window`.
    pub min_body_rate: u64,
    /// The window a body's rate is measured over ([`BODY_RATE_WINDOW`]).
    pub body_rate_window: Duration,
    /// Longest the server waits for a client to take any of a response
    /// (a client that reads nothing while the server has bytes to send).
    pub send_timeout: Duration,
}

/// Default [`SocketLimits::header_timeout`]: far beyond what a phone on a
/// poor link needs to send a kilobyte of headers.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Default [`SocketLimits::keep_alive_timeout`]: long enough for a page's
/// follow-up requests to reuse their sockets, short enough that idle
/// sockets do not pile up.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(30);

/// Default [`SocketLimits::min_body_rate`]: 1 KiB/s (8 kbit/s), below any
/// phone link: a 2 MB photo over poor 3G (200 kbit/s) takes 80 s, over
/// GPRS at its worst (20 kbit/s, 2.5 KB/s) 13 minutes, and both stay above
/// the floor; one byte every few seconds is closed within a window.
pub const DEFAULT_MIN_BODY_RATE: u64 = 1024;

/// Default [`SocketLimits::send_timeout`].
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Default [`SocketLimits::max_per_client`]: a browser opens about six
/// sockets to a server plus one WebSocket per tab; this leaves room for a
/// household's worth of tabs and for the benchmarks' clients on loopback
/// (which raise it further).
pub const DEFAULT_MAX_SOCKETS_PER_CLIENT: usize = 256;

/// The window over which a body's rate is measured by default: a stall
/// shorter than this is forgiven when the rest of the window makes up for
/// it.
pub const BODY_RATE_WINDOW: Duration = Duration::from_secs(10);

/// The largest request head (request line and headers) the server reads,
/// and so the most memory a half-open socket can make it hold: 64 KiB, 4x
/// what Node.js allows; a larger head is answered 431.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Descriptors kept free of client sockets: the store, the model files,
/// logs, the runtime's own, with room for a socket being refused.
fn reserved_descriptors(descriptor_limit: u64) -> u64 {
    (descriptor_limit / 8).max(64)
}

/// Worst-case memory of one open socket: a full request head, the
/// response being written and the task that serves it.
const WORST_CASE_BYTES_PER_SOCKET: u64 = 2 * MAX_HEAD_BYTES as u64;

impl Default for SocketLimits {
    fn default() -> Self {
        SocketLimits {
            max_total: default_max_sockets(
                descriptor_limit(),
                crate::connections::total_memory_bytes(),
            ),
            max_per_client: DEFAULT_MAX_SOCKETS_PER_CLIENT,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            min_body_rate: DEFAULT_MIN_BODY_RATE,
            body_rate_window: BODY_RATE_WINDOW,
            send_timeout: DEFAULT_SEND_TIMEOUT,
        }
    }
}

/// The default cap on open sockets: the descriptor limit less a reserve
/// (an eighth, at least 64), and no more than half the memory holds at
/// worst; at least 16. 17,500 for a limit of 20,000; 896 for 1,024.
pub fn default_max_sockets(descriptor_limit: Option<u64>, memory_bytes: Option<u64>) -> usize {
    let by_descriptors = descriptor_limit.map_or(896, |limit| {
        limit.saturating_sub(reserved_descriptors(limit))
    });
    let by_memory = memory_bytes.map_or(u64::MAX, |bytes| bytes / 2 / WORST_CASE_BYTES_PER_SOCKET);
    by_descriptors.min(by_memory).max(16) as usize
}

/// The most descriptors this process may hold now (its soft
/// `RLIMIT_NOFILE`); `None` where the system does not say.
pub fn descriptor_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Raises the soft descriptor limit to the hard one (many systems start
/// processes at 1,024 with a far higher hard limit), and returns the limit
/// the process then runs with. Where the hard limit is unlimited, raises to
/// 1,048,576. A refusal leaves the limit as it was.
pub fn raise_descriptor_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        const UNLIMITED_TARGET: u64 = 1 << 20;
        let limit = getrlimit(Resource::Nofile);
        let target = limit.maximum.unwrap_or(UNLIMITED_TARGET);
        if limit.current.is_some_and(|current| current < target) {
            let raised = Rlimit {
                current: Some(target),
                maximum: limit.maximum,
            };
            if let Err(error) = setrlimit(Resource::Nofile, raised) {
                tracing::warn!(%error, "cannot raise the descriptor limit");
            }
        }
    }
    descriptor_limit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_stays_below_the_descriptor_limit_and_within_memory() {
        assert_eq!(default_max_sockets(Some(20_000), Some(24 << 30)), 17_500);
        assert_eq!(default_max_sockets(Some(1024), Some(24 << 30)), 896);
        assert_eq!(default_max_sockets(Some(256), None), 192);
        assert_eq!(default_max_sockets(Some(70), None), 16);
        // A million descriptors on a 2 GiB machine: memory decides.
        assert_eq!(default_max_sockets(Some(1 << 20), Some(2 << 30)), 8192);
        assert_eq!(default_max_sockets(None, None), 896);
    }

    #[test]
    fn raising_never_lowers_the_limit() {
        let before = descriptor_limit();
        let after = raise_descriptor_limit();
        assert!(after >= before, "{before:?} -> {after:?}");
    }
}
