//! The rules a socket is judged by: given what it has been doing
//! ([`Seen`]) and the limits, whether it is busy, waiting (and so may be
//! closed to make room), or past a timeout. Pure functions of their
//! inputs, so every rule is tested without a socket.

use std::time::Duration;

use super::limits::SocketLimits;

/// What one socket has been doing, at `now_ms` (milliseconds since the
/// server's epoch, as every time here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seen {
    pub now_ms: u64,
    pub opened_ms: u64,
    pub upgraded: bool,
    pub in_service: bool,
    pub requests_done: u64,
    pub idle_since_ms: u64,
    pub first_byte_ms: Option<u64>,
    pub body_open: bool,
    pub body_bytes: u64,
    pub write_blocked_since_ms: Option<u64>,
}

/// Why the server closed a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CloseReason {
    /// A request's head (or the TLS handshake) took too long, or the
    /// client connected and said nothing.
    HeaderTimeout,
    /// A kept-alive socket waited too long for its next request.
    KeepAliveTimeout,
    /// A request body came slower than the minimum rate.
    SlowBody,
    /// The client took none of a response for too long.
    SendTimeout,
    /// Closed to make room for a new socket at the server's cap.
    Evicted,
}

impl CloseReason {
    /// Every reason, for metrics.
    pub(crate) const ALL: [CloseReason; 5] = [
        CloseReason::HeaderTimeout,
        CloseReason::KeepAliveTimeout,
        CloseReason::SlowBody,
        CloseReason::SendTimeout,
        CloseReason::Evicted,
    ];

    /// The label in logs and metrics.
    pub(crate) fn label(self) -> &'static str {
        match self {
            CloseReason::HeaderTimeout => "header_timeout",
            CloseReason::KeepAliveTimeout => "keep_alive_timeout",
            CloseReason::SlowBody => "slow_body",
            CloseReason::SendTimeout => "send_timeout",
            CloseReason::Evicted => "evicted",
        }
    }

    /// A non-zero code, to keep the reason in an atomic.
    pub(crate) fn code(self) -> u8 {
        match self {
            CloseReason::HeaderTimeout => 1,
            CloseReason::KeepAliveTimeout => 2,
            CloseReason::SlowBody => 3,
            CloseReason::SendTimeout => 4,
            CloseReason::Evicted => 5,
        }
    }

    /// The reason of a [`code`](Self::code); `None` for 0 (open).
    pub(crate) fn from_code(code: u8) -> Option<CloseReason> {
        CloseReason::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// Where a request body's current rate window began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct BodyWindow {
    started: Option<(u64, u64)>,
}

/// What the reaper does with a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A request in service or an upgraded socket: left alone, and never
    /// closed to make room.
    Busy,
    /// Idle or half-open since `since_ms`: left for now; the longest
    /// waiting is closed first when the server needs room.
    Waiting { since_ms: u64 },
    /// Past a limit.
    Close(CloseReason),
}

fn ms(duration: Duration) -> u64 {
    duration.as_millis() as u64
}

/// Judges a socket. `window` is the socket's body-rate window, kept
/// between calls.
pub(crate) fn judge(seen: &Seen, limits: &SocketLimits, window: &mut BodyWindow) -> Verdict {
    let now = seen.now_ms;
    let past = |since: u64, limit: Duration| now.saturating_sub(since) >= ms(limit);
    if seen.upgraded {
        return Verdict::Busy;
    }
    if seen
        .write_blocked_since_ms
        .is_some_and(|since| past(since, limits.send_timeout))
    {
        return Verdict::Close(CloseReason::SendTimeout);
    }
    if seen.in_service {
        if !seen.body_open {
            *window = BodyWindow::default();
            return Verdict::Busy;
        }
        let (start_ms, start_bytes) = *window.started.get_or_insert((now, seen.body_bytes));
        if past(start_ms, limits.body_rate_window) {
            let elapsed_s = now.saturating_sub(start_ms) as f64 / 1000.0;
            let needed = (limits.min_body_rate as f64 * elapsed_s) as u64;
            if seen.body_bytes.saturating_sub(start_bytes) < needed {
                return Verdict::Close(CloseReason::SlowBody);
            }
            window.started = Some((now, seen.body_bytes));
        }
        return Verdict::Busy;
    }
    *window = BodyWindow::default();
    let (since, limit, reason) = match seen.first_byte_ms {
        // A request's head is coming (or a TLS handshake).
        Some(first) => (first, limits.header_timeout, CloseReason::HeaderTimeout),
        // Connected and said nothing yet.
        None if seen.requests_done == 0 => (
            seen.opened_ms,
            limits.header_timeout,
            CloseReason::HeaderTimeout,
        ),
        None => (
            seen.idle_since_ms,
            limits.keep_alive_timeout,
            CloseReason::KeepAliveTimeout,
        ),
    };
    if past(since, limit) {
        Verdict::Close(reason)
    } else {
        Verdict::Waiting { since_ms: since }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> SocketLimits {
        SocketLimits {
            max_total: 100,
            max_per_client: 10,
            header_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(30),
            min_body_rate: 1024,
            body_rate_window: Duration::from_secs(10),
            send_timeout: Duration::from_secs(30),
        }
    }

    /// A socket opened at 0 that has done nothing, seen at `now_ms`.
    fn fresh(now_ms: u64) -> Seen {
        Seen {
            now_ms,
            opened_ms: 0,
            upgraded: false,
            in_service: false,
            requests_done: 0,
            idle_since_ms: 0,
            first_byte_ms: None,
            body_open: false,
            body_bytes: 0,
            write_blocked_since_ms: None,
        }
    }

    fn judge_once(seen: Seen) -> Verdict {
        judge(&seen, &limits(), &mut BodyWindow::default())
    }

    #[test]
    fn a_silent_new_socket_gets_the_header_timeout_from_its_opening() {
        assert_eq!(judge_once(fresh(9_999)), Verdict::Waiting { since_ms: 0 });
        assert_eq!(
            judge_once(fresh(10_000)),
            Verdict::Close(CloseReason::HeaderTimeout)
        );
    }

    #[test]
    fn a_head_must_be_whole_within_the_header_timeout_of_its_first_byte() {
        let started = Seen {
            requests_done: 3,
            idle_since_ms: 1_000,
            first_byte_ms: Some(25_000),
            ..fresh(34_000)
        };
        assert_eq!(judge_once(started), Verdict::Waiting { since_ms: 25_000 });
        let late = Seen {
            now_ms: 35_000,
            ..started
        };
        assert_eq!(judge_once(late), Verdict::Close(CloseReason::HeaderTimeout));
    }

    #[test]
    fn a_kept_alive_socket_may_idle_for_the_keep_alive_timeout() {
        let idle = Seen {
            requests_done: 1,
            idle_since_ms: 5_000,
            ..fresh(34_999)
        };
        assert_eq!(judge_once(idle), Verdict::Waiting { since_ms: 5_000 });
        let over = Seen {
            now_ms: 35_000,
            ..idle
        };
        assert_eq!(
            judge_once(over),
            Verdict::Close(CloseReason::KeepAliveTimeout)
        );
    }

    #[test]
    fn a_request_in_service_without_a_body_is_busy_however_long() {
        let busy = Seen {
            in_service: true,
            ..fresh(3_600_000)
        };
        assert_eq!(judge_once(busy), Verdict::Busy);
        let upgraded = Seen {
            upgraded: true,
            ..fresh(3_600_000)
        };
        assert_eq!(judge_once(upgraded), Verdict::Busy);
    }

    #[test]
    fn a_body_must_bring_the_minimum_rate_in_every_window() {
        let limits = limits();
        let mut window = BodyWindow::default();
        let body = |now_ms, body_bytes| Seen {
            in_service: true,
            body_open: true,
            body_bytes,
            ..fresh(now_ms)
        };
        // A slow phone: 5 KB/s, with a 6-second stall in the second window.
        assert_eq!(judge(&body(0, 0), &limits, &mut window), Verdict::Busy);
        assert_eq!(
            judge(&body(10_000, 50_000), &limits, &mut window),
            Verdict::Busy
        );
        assert_eq!(
            judge(&body(16_000, 50_000), &limits, &mut window),
            Verdict::Busy
        );
        assert_eq!(
            judge(&body(20_000, 70_000), &limits, &mut window),
            Verdict::Busy
        );
        // One byte every five seconds: closed at the end of the window.
        assert_eq!(
            judge(&body(25_000, 70_001), &limits, &mut window),
            Verdict::Busy
        );
        assert_eq!(
            judge(&body(30_000, 70_002), &limits, &mut window),
            Verdict::Close(CloseReason::SlowBody)
        );
    }

    #[test]
    fn a_finished_body_leaves_the_request_busy_and_resets_the_window() {
        let limits = limits();
        let mut window = BodyWindow::default();
        let open = Seen {
            in_service: true,
            body_open: true,
            ..fresh(0)
        };
        assert_eq!(judge(&open, &limits, &mut window), Verdict::Busy);
        let done = Seen {
            body_open: false,
            ..open
        };
        assert_eq!(judge(&done, &limits, &mut window), Verdict::Busy);
        assert_eq!(window, BodyWindow::default());
    }

    #[test]
    fn a_client_that_takes_nothing_is_closed_after_the_send_timeout() {
        let blocked = Seen {
            in_service: true,
            write_blocked_since_ms: Some(1_000),
            ..fresh(30_999)
        };
        assert_eq!(judge_once(blocked), Verdict::Busy);
        let over = Seen {
            now_ms: 31_000,
            ..blocked
        };
        assert_eq!(judge_once(over), Verdict::Close(CloseReason::SendTimeout));
    }

    #[test]
    fn close_reasons_round_trip_through_their_codes() {
        for reason in CloseReason::ALL {
            assert_eq!(CloseReason::from_code(reason.code()), Some(reason));
        }
        assert_eq!(CloseReason::from_code(0), None);
    }
}
