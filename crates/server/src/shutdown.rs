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
/// to shut down gracefully. The handlers are installed when this is
/// called, not when the future is first polled, so that a signal sent the
/// moment the server says it is ready still shuts it down gracefully
/// rather than killing it; call it inside the runtime (`Runtime::enter`).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let interrupted = async {
                match interrupt.as_mut() {
                    Some(stream) => {
                        stream.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let terminated = async {
                match terminate.as_mut() {
                    Some(stream) => {
                        stream.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = interrupted => tracing::info!("interrupted; shutting down"),
                () = terminated => tracing::info!("SIGTERM; shutting down"),
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            tracing::info!("interrupted; shutting down");
        }
    }
}
