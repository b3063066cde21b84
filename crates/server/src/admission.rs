//! How many frames are analysed at once, and for how long a frame may wait
//! for its turn.
//!
//! Analyses are CPU-bound: running more at once than there are cores only
//! makes each one slower. So at most `workers` run together, the others wait
//! in arrival order, and a frame that has waited longer than `max_wait` is
//! dropped (its client is told and sends a fresh one). Under overload each
//! client's frame rate falls while the latency of the frames that are
//! analysed stays bounded, instead of every frame getting slower.

use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

/// Default longest wait for a turn.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_millis(60);

/// The analysis slots shared by all connections.
#[derive(Debug)]
pub struct AnalysisSlots {
    permits: Semaphore,
    max_wait: Duration,
}

impl AnalysisSlots {
    /// `workers` analyses at once (at least one).
    pub fn new(workers: usize, max_wait: Duration) -> AnalysisSlots {
        AnalysisSlots {
            permits: Semaphore::new(workers.max(1)),
            max_wait,
        }
    }

    /// A turn for a frame, or `None` if it waited too long and should be
    /// dropped.
    pub async fn enter(&self) -> Option<SemaphorePermit<'_>> {
        self.enter_within(self.max_wait).await
    }

    /// A turn within `limit`, or `None`.
    pub async fn enter_within(&self, limit: Duration) -> Option<SemaphorePermit<'_>> {
        let queued = Instant::now();
        let permit = tokio::time::timeout(limit, self.permits.acquire())
            .await
            .ok()?
            .ok()?;
        (queued.elapsed() <= limit).then_some(permit)
    }
}

/// Cores to use for analyses by default.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_frame_that_waits_too_long_is_dropped() {
        let slots = AnalysisSlots::new(1, Duration::from_millis(20));
        let busy = slots.enter().await.expect("a free slot");
        assert!(slots.enter().await.is_none(), "the only slot is taken");
        drop(busy);
        assert!(slots.enter().await.is_some(), "free again");
    }
}
