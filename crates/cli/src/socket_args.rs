//! `serve`'s limits on sockets: how many, and how long a client may take
//! over each part of a request (README's security section).

use std::time::Duration;

use clap::Args;
use melodora_server::{
    default_max_sockets, SocketLimits, DEFAULT_HEADER_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT,
    DEFAULT_MAX_SOCKETS_PER_CLIENT, DEFAULT_MIN_BODY_RATE, DEFAULT_SEND_TIMEOUT,
};

/// The socket limits, one flag each.
#[derive(Args, Debug, Clone)]
pub struct SocketArgs {
    /// Most sockets open at once, of every kind (page loads, API calls,
    /// WebSockets, streams, TLS handshakes). Default: the descriptor limit
    /// less an eighth, within half the memory; never more than that
    /// descriptor bound. Past it the socket idle or half-open the longest is
    /// closed to make room, or the new one is refused if all are busy.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_sockets: Option<u32>,
    /// Most sockets open at once from one client address (IPv6: one /64);
    /// past it a new one is refused at once (plain HTTP: 503).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_SOCKETS_PER_CLIENT as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_sockets_per_client: u32,
    /// Seconds a client may take to send a request's head, from its first
    /// byte (or from connecting, for a client that says nothing; a TLS
    /// handshake is part of the first head).
    #[arg(long, value_name = "S", default_value_t = DEFAULT_HEADER_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_s: u64,
    /// Seconds a kept-alive connection may wait, silent, for its next
    /// request.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_KEEP_ALIVE_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub keep_alive_timeout_s: u64,
    /// Slowest a request body (a photo upload) may arrive, in bytes per
    /// second over each 10-second window; slower, the connection is closed.
    #[arg(long, value_name = "BYTES_PER_S", default_value_t = DEFAULT_MIN_BODY_RATE,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub min_body_rate: u64,
    /// Seconds the server waits for a client to take any of a response
    /// before closing the connection.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEND_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub send_timeout_s: u64,
}

impl SocketArgs {
    /// The limits, for a process that may hold `descriptor_limit`
    /// descriptors: `--max-sockets` is held below that limit (with a
    /// warning), so that accepting never runs out of descriptors.
    pub fn limits(&self, descriptor_limit: Option<u64>) -> SocketLimits {
        let defaults = SocketLimits::default();
        let ceiling = default_max_sockets(descriptor_limit, None);
        let max_total = match self.max_sockets {
            Some(asked) if asked as usize > ceiling => {
                tracing::warn!(
                    asked,
                    descriptor_limit,
                    using = ceiling,
                    "--max-sockets is above what the descriptor limit allows; using the most it allows"
                );
                ceiling
            }
            Some(asked) => asked as usize,
            None => defaults.max_total,
        };
        SocketLimits {
            max_total,
            max_per_client: self.max_sockets_per_client as usize,
            header_timeout: Duration::from_secs(self.header_timeout_s),
            keep_alive_timeout: Duration::from_secs(self.keep_alive_timeout_s),
            min_body_rate: self.min_body_rate,
            body_rate_window: defaults.body_rate_window,
            send_timeout: Duration::from_secs(self.send_timeout_s),
        }
    }
}
