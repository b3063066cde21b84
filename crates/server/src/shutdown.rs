//! Graceful shutdown: on SIGTERM or Ctrl-C the server stops accepting,
//! lets requests in flight finish, closes every WebSocket with a close
//! frame (1001, "going away") once its frame in analysis is answered, ends
//! video streams, and returns, all within a bound ([`DEFAULT_GRACE`]):
//! past it, whatever is still open is dropped and the server returns
//! anyway, so a supervisor's stop never hangs.

use std::sync::OnceLock;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// How long shutting down may take by default.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// Whether the server is shutting down, for everything that must react:
/// WebSockets, video streams, readiness.
#[derive(Debug)]
pub(crate) struct Stopping {
    flag: watch::Sender<bool>,
    since: OnceLock<Instant>,
}

impl Stopping {
    pub(crate) fn new() -> Stopping {
        Stopping {
            flag: watch::Sender::new(false),
            since: OnceLock::new(),
        }
    }

    /// Starts shutting down (once; later calls change nothing).
    pub(crate) fn begin(&self) {
        self.since.get_or_init(Instant::now);
        self.flag.send_replace(true);
    }

    pub(crate) fn is_stopping(&self) -> bool {
        *self.flag.borrow()
    }

    /// Resolves once shutting down has begun.
    pub(crate) async fn begun(&self) {
        let mut flag = self.flag.subscribe();
        // The sender lives in `self`, so the channel cannot close first.
        let _ = flag.wait_for(|stopping| *stopping).await;
    }

    /// Resolves `grace` after shutting down began.
    pub(crate) async fn past(&self, grace: Duration) {
        self.begun().await;
        let since = *self.since.get().expect("set before the flag");
        tokio::time::sleep_until(since + grace).await;
    }
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM: what `serve` waits on
/// to shut down gracefully.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("interrupted; shutting down"),
        () = terminate => tracing::info!("SIGTERM; shutting down"),
    }
}
