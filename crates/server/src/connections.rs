//! How many long-lived connections (WebSockets and `/video_feed` streams)
//! the server holds at once, in all and per client address.
//!
//! Each open WebSocket costs memory even when idle (about 135 KB measured)
//! and up to a few frames' worth when busy, so without a cap any page the
//! user visits could open connections until the machine runs out of memory.
//! A connection past a limit is refused (a WebSocket gets the close code
//! 1013, "try again later"; a stream a 503), and the ones already open are
//! not disturbed.
//!
//! Clients are told apart by address: IPv4 addresses one by one, IPv6
//! addresses by their /64 network (one machine usually holds a whole /64,
//! and could otherwise pick a fresh address for every connection). Behind a
//! reverse proxy every client has the proxy's address, so the per-client
//! limit then applies to all of them together.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::access::host::canonical;

/// The limits, as `melodora serve` sets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections over all clients.
    pub max_total: usize,
    /// Open connections from one client address.
    pub max_per_client: usize,
    /// A WebSocket that neither sends anything nor answers pings (nor
    /// takes what the server sends) for this long is closed.
    pub idle_timeout: Duration,
}

/// Default connections per client address: a few tabs of the page with
/// room to spare, and the benchmarks' 60 simulated clients on loopback.
pub const DEFAULT_MAX_PER_CLIENT: usize = 64;

/// Default idle timeout: three missed pings.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Memory one busy connection may hold at worst: the 8 MB WebSocket
/// message being read, a 2 MB frame waiting and one being analysed.
const WORST_CASE_BYTES_PER_CONNECTION: u64 = 12 << 20;

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_total: default_max_total(total_memory_bytes()),
            max_per_client: DEFAULT_MAX_PER_CLIENT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// The default cap: as many worst-case connections as fit in half of the
/// machine's memory, from 32 to 4096 (1024 on a 24 GiB machine, 85 on a
/// 2 GiB one). 256 when the memory size is unknown.
pub fn default_max_total(memory_bytes: Option<u64>) -> usize {
    memory_bytes.map_or(256, |bytes| {
        (bytes / 2 / WORST_CASE_BYTES_PER_CONNECTION).clamp(32, 4096) as usize
    })
}

/// The machine's memory, where the system says (Linux: `/proc/meminfo`).
pub fn total_memory_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Why a connection was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the server is full (at most {0} connections at once); try again later")]
    Full(usize),
    #[error("too many connections from this address (at most {0}); close some and try again")]
    ClientFull(usize),
}

/// The open connections, shared by all handlers.
#[derive(Debug)]
pub struct Connections {
    limits: ConnectionLimits,
    open: Mutex<OpenConnections>,
}

#[derive(Debug, Default)]
struct OpenConnections {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// One open connection; dropping it frees its place.
#[derive(Debug)]
pub struct ConnectionPermit {
    connections: Arc<Connections>,
    client: IpAddr,
}

impl Connections {
    pub fn new(limits: ConnectionLimits) -> Arc<Connections> {
        Arc::new(Connections {
            limits,
            open: Mutex::new(OpenConnections::default()),
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> ConnectionLimits {
        self.limits
    }

    /// Connections open now.
    pub fn in_use(&self) -> usize {
        self.lock().total
    }

    /// A place for a new connection from `client`, if both limits allow.
    pub fn open(self: &Arc<Self>, client: IpAddr) -> Result<ConnectionPermit, Refusal> {
        let client = client_key(client);
        let mut open = self.lock();
        if open.total >= self.limits.max_total {
            return Err(Refusal::Full(self.limits.max_total));
        }
        let from_client = open.per_client.entry(client).or_default();
        if *from_client >= self.limits.max_per_client {
            return Err(Refusal::ClientFull(self.limits.max_per_client));
        }
        *from_client += 1;
        open.total += 1;
        Ok(ConnectionPermit {
            connections: Arc::clone(self),
            client,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OpenConnections> {
        // The counts stay consistent whatever a panicking holder did.
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut open = self.connections.lock();
        open.total -= 1;
        if let Some(count) = open.per_client.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.per_client.remove(&self.client);
            }
        }
    }
}

/// The address a client is counted under: IPv4 as it is, IPv6 by its /64.
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(network))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_total: usize, max_per_client: usize) -> ConnectionLimits {
        ConnectionLimits {
            max_total,
            max_per_client,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }

    #[test]
    fn the_total_cap_refuses_past_the_limit_and_frees_on_close() {
        let connections = Connections::new(limits(2, 10));
        let a = connections.open("10.0.0.1".parse().unwrap()).unwrap();
        let _b = connections.open("10.0.0.2".parse().unwrap()).unwrap();
        assert_eq!(
            connections.open("10.0.0.3".parse().unwrap()).unwrap_err(),
            Refusal::Full(2)
        );
        assert_eq!(connections.in_use(), 2);
        drop(a);
        assert_eq!(connections.in_use(), 1);
        assert!(connections.open("10.0.0.3".parse().unwrap()).is_ok());
    }

    #[test]
    fn one_client_cannot_take_every_place() {
        let connections = Connections::new(limits(10, 2));
        let client: IpAddr = "10.0.0.1".parse().unwrap();
        let _a = connections.open(client).unwrap();
        let _b = connections.open(client).unwrap();
        assert_eq!(
            connections.open(client).unwrap_err(),
            Refusal::ClientFull(2)
        );
        assert!(connections.open("10.0.0.2".parse().unwrap()).is_ok());
    }

    #[test]
    fn ipv6_clients_count_by_their_64_network_and_mapped_ipv4_as_ipv4() {
        let connections = Connections::new(limits(10, 1));
        let _a = connections
            .open("2001:db8:1:2::1".parse().unwrap())
            .unwrap();
        assert!(connections
            .open("2001:db8:1:2::ffff".parse().unwrap())
            .is_err());
        assert!(connections.open("2001:db8:1:3::1".parse().unwrap()).is_ok());
        let _c = connections.open("192.0.2.7".parse().unwrap()).unwrap();
        assert!(connections
            .open("::ffff:192.0.2.7".parse().unwrap())
            .is_err());
    }

    #[test]
    fn the_default_cap_follows_memory() {
        assert_eq!(default_max_total(Some(24 << 30)), 1024);
        assert_eq!(default_max_total(Some(2 << 30)), 85);
        assert_eq!(default_max_total(Some(256 << 20)), 32);
        assert_eq!(default_max_total(Some(1 << 40)), 4096);
        assert_eq!(default_max_total(None), 256);
    }
}
