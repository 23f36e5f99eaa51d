//! What the emulator was asked, in order: one entry per request (service, operation, method, path, status), so a
//! test can show what a client did, e.g. that a read-only `verify` only read, or that a refused run made one call.
//! [`Journal::subscribe`] follows the requests as they are answered (`crts-harness up`'s request log).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::broadcast;

use http::{HeaderMap, Method};

/// Entries kept (the oldest are dropped first).
const CAPACITY: usize = 10_000;

/// One request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `iam`, `sts`, `lambda`, `batch`, `apigateway`, `s3`, `ecr`, `registry`, `execute-api`, `s3-website`,
    /// `health`, or `unknown`.
    pub service: &'static str,
    /// The operation: `X-Amz-Target`'s (`DescribeImages`), the query protocol's `Action` (`GetRole`), else the
    /// method and path (`GET /restapis`).
    pub operation: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// From the request's arrival to its answer.
    pub latency: Duration,
}

/// Requests a subscriber that falls behind may miss (it is told how many, by `RecvError::Lagged`).
const FEED_CAPACITY: usize = 1024;

#[derive(Debug)]
pub struct Journal {
    entries: Mutex<VecDeque<Entry>>,
    feed: broadcast::Sender<Entry>,
}

impl Default for Journal {
    fn default() -> Self {
        Self { entries: Mutex::default(), feed: broadcast::channel(FEED_CAPACITY).0 }
    }
}

impl Journal {
    pub(crate) fn record(&self, entry: Entry) {
        // Nobody subscribed is not an error.
        let _ = self.feed.send(entry.clone());
        let mut entries = crate::store::lock(&self.entries);
        if entries.len() == CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// Every request answered from now on, as it is answered.
    pub fn subscribe(&self) -> broadcast::Receiver<Entry> {
        self.feed.subscribe()
    }

    /// Every request recorded so far, oldest first.
    pub fn entries(&self) -> Vec<Entry> {
        crate::store::lock(&self.entries).iter().cloned().collect()
    }
}

/// The operation a request names: its `X-Amz-Target` (JSON protocols), its `Action` (query protocol, in the query
/// string or a form body), else `METHOD /path` (REST protocols).
pub(crate) fn operation_of(
    headers: &HeaderMap,
    query: &[(String, String)],
    body: &[u8],
    method: &Method,
    path: &str,
) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    if let Some((_, action)) = query.iter().find(|(k, _)| k == "Action") {
        return action.clone();
    }
    let form = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if form && let Some((_, action)) = form_urlencoded::parse(body).find(|(k, _)| k == "Action") {
        return action.into_owned();
    }
    format!("{method} {path}")
}
