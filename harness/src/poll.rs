//! Polling a target until something becomes true: fast against emulators, patient against AWS.

use std::future::Future;
use std::time::{Duration, Instant};

/// Calls `attempt` until it returns `Ok(Some(_))`, an error, or `limit` passes (then `Ok(None)`).
/// The delay starts at 5 ms and doubles up to 250 ms, so emulators answer in milliseconds, a wait overshoots what
/// it waits for by at most a quarter of a second, and AWS is asked at most four times a second.
pub async fn poll_until<T, E, F, Fut>(limit: Duration, mut attempt: F) -> Result<Option<T>, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, E>>,
{
    let started = Instant::now();
    let mut delay = Duration::from_millis(5);
    loop {
        if let Some(value) = attempt().await? {
            return Ok(Some(value));
        }
        if started.elapsed() >= limit {
            return Ok(None);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(250));
    }
}
