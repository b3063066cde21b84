//! What one socket has been doing: bytes read, requests in service, a
//! request body arriving, a response the client does not take. The socket's
//! reader and writer ([`TrackedIo`](super::io::TrackedIo)), the request and
//! response bodies ([`bodies`](super::bodies)) and the service record it
//! here with a few atomic operations; the reaper reads it
//! ([`Activity::seen`]) and asks for the socket to be closed
//! ([`Activity::close`]).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Notify;

use super::rules::{CloseReason, Seen};

/// "Not set" for the times kept as milliseconds since the epoch.
const UNSET: u64 = u64::MAX;

/// One socket's activity, shared by its reader, its requests and the
/// reaper.
#[derive(Debug)]
pub(crate) struct Activity {
    epoch: Instant,
    opened_ms: u64,
    /// Requests whose response has not been handed over whole.
    in_service: AtomicU32,
    requests_done: AtomicU64,
    /// When the last request was answered (or the socket opened).
    idle_since_ms: AtomicU64,
    /// The first byte read since then; `UNSET` while silent.
    first_byte_ms: AtomicU64,
    /// A request body is being read, and how much of it has come.
    body_open: AtomicBool,
    body_bytes: AtomicU64,
    /// Since when the client has taken none of what the server writes.
    write_blocked_since_ms: AtomicU64,
    /// Switched to another protocol (a WebSocket): its own handler
    /// watches it from then on.
    upgraded: AtomicBool,
    /// Why the server closes it; 0 while open.
    closing: AtomicU8,
    close: Notify,
}

impl Activity {
    pub(crate) fn new(epoch: Instant) -> Activity {
        let opened_ms = millis_since(epoch);
        Activity {
            epoch,
            opened_ms,
            in_service: AtomicU32::new(0),
            requests_done: AtomicU64::new(0),
            idle_since_ms: AtomicU64::new(opened_ms),
            first_byte_ms: AtomicU64::new(UNSET),
            body_open: AtomicBool::new(false),
            body_bytes: AtomicU64::new(0),
            write_blocked_since_ms: AtomicU64::new(UNSET),
            upgraded: AtomicBool::new(false),
            closing: AtomicU8::new(0),
            close: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        millis_since(self.epoch)
    }

    /// `bytes` came in from the client.
    pub(crate) fn read(&self, bytes: usize) {
        if bytes > 0
            && self.first_byte_ms.load(Ordering::Relaxed) == UNSET
            && self.in_service.load(Ordering::Relaxed) == 0
        {
            let _ = self.first_byte_ms.compare_exchange(
                UNSET,
                self.now_ms(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    /// A write found the client's window full.
    pub(crate) fn write_blocked(&self) {
        if self.write_blocked_since_ms.load(Ordering::Relaxed) == UNSET {
            let _ = self.write_blocked_since_ms.compare_exchange(
                UNSET,
                self.now_ms(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    /// A write went out.
    pub(crate) fn wrote(&self) {
        if self.write_blocked_since_ms.load(Ordering::Relaxed) != UNSET {
            self.write_blocked_since_ms.store(UNSET, Ordering::Relaxed);
        }
    }

    /// A request's head has been read and it goes to the app; the
    /// request is in service until the guard is dropped (with its
    /// response's body).
    pub(crate) fn begin_request(self: &Arc<Self>) -> InService {
        self.in_service.fetch_add(1, Ordering::Relaxed);
        InService {
            activity: Arc::clone(self),
        }
    }

    /// The request being served has a body still to come.
    pub(crate) fn body_opened(&self) {
        self.body_bytes.store(0, Ordering::Relaxed);
        self.body_open.store(true, Ordering::Relaxed);
    }

    /// `bytes` of a request body came in.
    pub(crate) fn body_received(&self, bytes: usize) {
        self.body_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// The request body is over, or nobody reads it any more.
    pub(crate) fn body_closed(&self) {
        self.body_open.store(false, Ordering::Relaxed);
    }

    /// The socket now speaks another protocol (WebSocket).
    pub(crate) fn upgrade(&self) {
        self.upgraded.store(true, Ordering::Relaxed);
    }

    /// Whether the server may close it to make room: nothing in service,
    /// not upgraded, not already being closed.
    pub(crate) fn evictable(&self) -> bool {
        self.in_service.load(Ordering::Relaxed) == 0
            && !self.upgraded.load(Ordering::Relaxed)
            && self.closing.load(Ordering::Relaxed) == 0
    }

    /// What the reaper judges the socket by, at `now_ms`.
    pub(crate) fn seen(&self, now_ms: u64) -> Seen {
        let set = |value: u64| (value != UNSET).then_some(value);
        Seen {
            now_ms,
            opened_ms: self.opened_ms,
            upgraded: self.upgraded.load(Ordering::Relaxed),
            in_service: self.in_service.load(Ordering::Relaxed) > 0,
            requests_done: self.requests_done.load(Ordering::Relaxed),
            idle_since_ms: self.idle_since_ms.load(Ordering::Relaxed),
            first_byte_ms: set(self.first_byte_ms.load(Ordering::Relaxed)),
            body_open: self.body_open.load(Ordering::Relaxed),
            body_bytes: self.body_bytes.load(Ordering::Relaxed),
            write_blocked_since_ms: set(self.write_blocked_since_ms.load(Ordering::Relaxed)),
        }
    }

    /// Asks the socket's task to close it, for `reason`; the first reason
    /// given is the one kept. Returns whether this call closed it.
    pub(crate) fn close(&self, reason: CloseReason) -> bool {
        let first = self
            .closing
            .compare_exchange(0, reason.code(), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok();
        if first {
            // Kept as a permit if the task is not waiting right now.
            self.close.notify_one();
        }
        first
    }

    /// Resolves once the server has decided to close the socket.
    pub(crate) async fn closed(&self) -> CloseReason {
        loop {
            if let Some(reason) = CloseReason::from_code(self.closing.load(Ordering::Relaxed)) {
                return reason;
            }
            self.close.notified().await;
        }
    }
}

/// A request in service; dropping it marks the request answered.
#[derive(Debug)]
pub(crate) struct InService {
    activity: Arc<Activity>,
}

impl Drop for InService {
    fn drop(&mut self) {
        let activity = &self.activity;
        activity.body_open.store(false, Ordering::Relaxed);
        activity
            .idle_since_ms
            .store(activity.now_ms(), Ordering::Relaxed);
        activity.first_byte_ms.store(UNSET, Ordering::Relaxed);
        activity.requests_done.fetch_add(1, Ordering::Relaxed);
        activity.in_service.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Milliseconds from `epoch` to now.
pub(crate) fn millis_since(epoch: Instant) -> u64 {
    epoch.elapsed().as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_in_service_hides_bytes_and_its_end_starts_an_idle_spell() {
        let activity = Arc::new(Activity::new(Instant::now()));
        assert_eq!(activity.seen(0).first_byte_ms, None);
        activity.read(10);
        assert!(activity.seen(0).first_byte_ms.is_some());
        let request = activity.begin_request();
        assert!(!activity.evictable());
        drop(request);
        let seen = activity.seen(0);
        assert_eq!(seen.first_byte_ms, None, "a new idle spell");
        assert_eq!(seen.requests_done, 1);
        assert!(!seen.in_service);
        assert!(activity.evictable());
        activity.upgrade();
        assert!(!activity.evictable());
    }

    #[tokio::test]
    async fn the_first_close_reason_is_kept_and_wakes_the_task() {
        let activity = Activity::new(Instant::now());
        assert!(activity.close(CloseReason::HeaderTimeout));
        assert!(!activity.close(CloseReason::Evicted));
        assert_eq!(activity.closed().await, CloseReason::HeaderTimeout);
        assert!(!activity.evictable());
    }
}
