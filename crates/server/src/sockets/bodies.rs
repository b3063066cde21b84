//! The request and response bodies of a socket's requests, wrapped so the
//! socket knows when a request body is arriving (and how fast) and when a
//! response has been handed over whole.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};

use super::activity::{Activity, InService};

/// A request body that reports its bytes to its socket's activity.
pub(crate) struct WatchedBody<B> {
    inner: B,
    activity: Option<Arc<Activity>>,
}

impl<B: http_body::Body> WatchedBody<B> {
    /// Watches `inner`; a body that is already over is not watched.
    pub(crate) fn new(inner: B, activity: &Arc<Activity>) -> WatchedBody<B> {
        let activity = (!inner.is_end_stream()).then(|| {
            activity.body_opened();
            Arc::clone(activity)
        });
        WatchedBody { inner, activity }
    }
}

impl<B> WatchedBody<B> {
    /// The body is over, or nobody reads it any more: said once.
    fn close(&mut self) {
        if let Some(activity) = self.activity.take() {
            activity.body_closed();
        }
    }
}

impl<B> Drop for WatchedBody<B> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<B> http_body::Body for WatchedBody<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let result = Pin::new(&mut self.inner).poll_frame(cx);
        match &result {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(activity), Some(data)) = (&self.activity, frame.data_ref()) {
                    activity.body_received(data.len());
                }
                if self.inner.is_end_stream() {
                    self.close();
                }
            }
            Poll::Ready(_) => self.close(),
            Poll::Pending => {}
        }
        result
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that keeps its request in service until it has been
/// handed over whole (or dropped).
pub(crate) struct ResponseBody {
    inner: Body,
    _in_service: InService,
}

impl ResponseBody {
    pub(crate) fn new(inner: Body, in_service: InService) -> ResponseBody {
        ResponseBody {
            inner,
            _in_service: in_service,
        }
    }
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
