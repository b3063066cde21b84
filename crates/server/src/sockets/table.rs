//! Every open socket, by client address: who may open one more, which to
//! close to make room, and the reaper that closes sockets past their
//! timeouts.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::activity::{millis_since, Activity};
use super::limits::SocketLimits;
use super::rules::{judge, BodyWindow, CloseReason, Verdict};
use crate::connections::client_key;
use crate::metrics::SocketMetrics;

/// Why a new socket was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SocketRefusal {
    #[error("too many connections from this address (at most {0}); close some and try again")]
    ClientFull(usize),
    #[error("the server is full (at most {0} connections, every one busy); try again later")]
    Full(usize),
}

impl SocketRefusal {
    pub(crate) fn label(self) -> &'static str {
        match self {
            SocketRefusal::ClientFull(_) => "client_full",
            SocketRefusal::Full(_) => "full",
        }
    }
}

/// The open sockets, shared by the accept loop, every socket and the
/// reaper.
#[derive(Debug)]
pub(crate) struct Sockets {
    limits: SocketLimits,
    epoch: Instant,
    next_id: AtomicU64,
    table: Mutex<Table>,
    pub(crate) metrics: SocketMetrics,
}

#[derive(Debug, Default)]
struct Table {
    open: HashMap<u64, Entry>,
    per_client: HashMap<IpAddr, usize>,
    /// Sockets that may be closed to make room, the longest waiting
    /// first, as the reaper last saw them.
    waiting: VecDeque<u64>,
}

#[derive(Debug)]
struct Entry {
    activity: Arc<Activity>,
    window: BodyWindow,
}

/// One admitted socket's place; dropping it (with the socket) frees it.
#[derive(Debug)]
pub(crate) struct SocketPlace {
    sockets: Arc<Sockets>,
    id: u64,
    client: IpAddr,
    activity: Arc<Activity>,
}

impl SocketPlace {
    pub(crate) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }
}

impl Drop for SocketPlace {
    fn drop(&mut self) {
        let mut table = self.sockets.lock();
        table.open.remove(&self.id);
        if let Some(count) = table.per_client.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                table.per_client.remove(&self.client);
            }
        }
        self.sockets.metrics.open.set(table.open.len() as i64);
    }
}

impl Sockets {
    pub(crate) fn new(limits: SocketLimits, metrics: SocketMetrics) -> Arc<Sockets> {
        Arc::new(Sockets {
            limits,
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            table: Mutex::new(Table::default()),
            metrics,
        })
    }

    /// Sockets open now.
    pub(crate) fn open_count(&self) -> usize {
        self.lock().open.len()
    }

    /// A place for a new socket from `client`: refused past the client's
    /// cap; at the server's cap, the socket waiting longest is closed to
    /// make room, and if none is waiting the new one is refused.
    pub(crate) fn admit(self: &Arc<Self>, client: IpAddr) -> Result<SocketPlace, SocketRefusal> {
        let client = client_key(client);
        let mut table = self.lock();
        let from_client = table.per_client.get(&client).copied().unwrap_or(0);
        if from_client >= self.limits.max_per_client {
            return Err(SocketRefusal::ClientFull(self.limits.max_per_client));
        }
        if table.open.len() >= self.limits.max_total && !self.evict_one(&mut table) {
            return Err(SocketRefusal::Full(self.limits.max_total));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity::new(self.epoch));
        table.open.insert(
            id,
            Entry {
                activity: Arc::clone(&activity),
                window: BodyWindow::default(),
            },
        );
        *table.per_client.entry(client).or_default() += 1;
        self.metrics.open.set(table.open.len() as i64);
        Ok(SocketPlace {
            sockets: Arc::clone(self),
            id,
            client,
            activity,
        })
    }

    /// Closes the socket that has waited longest and still waits; false if
    /// none does.
    fn evict_one(&self, table: &mut Table) -> bool {
        while let Some(id) = table.waiting.pop_front() {
            let Some(entry) = table.open.get(&id) else {
                continue;
            };
            if entry.activity.evictable() && entry.activity.close(CloseReason::Evicted) {
                self.metrics.closed(CloseReason::Evicted.label());
                return true;
            }
        }
        false
    }

    /// Judges every socket: closes those past a limit, and lists those
    /// waiting, the longest first, for [`admit`](Self::admit) to make room.
    pub(crate) fn reap(&self) {
        let now_ms = millis_since(self.epoch);
        let mut table = self.lock();
        let mut waiting = Vec::new();
        for (&id, entry) in table.open.iter_mut() {
            let seen = entry.activity.seen(now_ms);
            match judge(&seen, &self.limits, &mut entry.window) {
                Verdict::Busy => {}
                Verdict::Waiting { since_ms } => waiting.push((since_ms, id)),
                Verdict::Close(reason) => {
                    if entry.activity.close(reason) {
                        self.metrics.closed(reason.label());
                        tracing::debug!(reason = reason.label(), "closing a socket");
                    }
                }
            }
        }
        waiting.sort_unstable();
        table.waiting = waiting.into_iter().map(|(_, id)| id).collect();
    }

    /// How often the reaper looks: a quarter of the shortest limit, from
    /// 20 ms to 1 s, so a socket is closed at most that late.
    pub(crate) fn reap_interval(&self) -> Duration {
        let limits = &self.limits;
        let shortest = [
            limits.header_timeout,
            limits.keep_alive_timeout,
            limits.send_timeout,
            limits.body_rate_window,
        ]
        .into_iter()
        .min()
        .unwrap_or(limits.body_rate_window);
        (shortest / 4).clamp(Duration::from_millis(20), Duration::from_secs(1))
    }

    /// Resolves once no socket is open (checked every 20 ms: only
    /// shutting down waits on it).
    pub(crate) async fn all_closed(&self) {
        while self.open_count() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // The table stays consistent whatever a panicking holder did.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_total: usize, max_per_client: usize) -> SocketLimits {
        SocketLimits {
            max_total,
            max_per_client,
            header_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(30),
            min_body_rate: 1024,
            body_rate_window: Duration::from_secs(10),
            send_timeout: Duration::from_secs(30),
        }
    }

    fn sockets(max_total: usize, max_per_client: usize) -> Arc<Sockets> {
        Sockets::new(limits(max_total, max_per_client), SocketMetrics::default())
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn one_address_is_capped_and_others_are_still_admitted() {
        let sockets = sockets(100, 2);
        let _a = sockets.admit(ip("10.0.0.1")).unwrap();
        let b = sockets.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(
            sockets.admit(ip("10.0.0.1")).unwrap_err(),
            SocketRefusal::ClientFull(2)
        );
        assert!(sockets.admit(ip("10.0.0.2")).is_ok());
        drop(b);
        assert!(sockets.admit(ip("10.0.0.1")).is_ok(), "a place was freed");
        // IPv6 by /64.
        let _c = sockets.admit(ip("2001:db8::1")).unwrap();
        let _d = sockets.admit(ip("2001:db8::2")).unwrap();
        assert!(sockets.admit(ip("2001:db8::3")).is_err());
        assert!(sockets.admit(ip("2001:db8:0:1::1")).is_ok());
    }

    #[test]
    fn at_the_cap_the_longest_waiting_socket_makes_room_and_busy_ones_do_not() {
        let sockets = sockets(2, 10);
        let old = sockets.admit(ip("10.0.0.1")).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        let busy = sockets.admit(ip("10.0.0.2")).unwrap();
        let _request = busy.activity().begin_request();
        sockets.reap();
        let new = sockets.admit(ip("10.0.0.3")).expect("room made");
        assert!(!old.activity().evictable(), "the waiting one is closing");
        assert!(!busy.activity().evictable());
        // Nothing else waits: the next is refused at once.
        assert_eq!(
            sockets.admit(ip("10.0.0.4")).unwrap_err(),
            SocketRefusal::Full(2)
        );
        drop((old, new));
        assert_eq!(sockets.open_count(), 1);
    }

    #[test]
    fn the_reap_interval_follows_the_shortest_limit() {
        assert_eq!(sockets(1, 1).reap_interval(), Duration::from_secs(1));
        let quick = Sockets::new(
            SocketLimits {
                header_timeout: Duration::from_millis(400),
                ..limits(1, 1)
            },
            SocketMetrics::default(),
        );
        assert_eq!(quick.reap_interval(), Duration::from_millis(100));
    }
}
