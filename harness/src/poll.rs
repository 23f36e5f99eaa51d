//! Polling a target until something becomes true: fast against emulators, patient against AWS.

use std::future::Future;
use std::time::{Duration, Instant};

/// Calls `attempt` until it returns `Ok(Some(_))`, an error, or `limit` passes (then `Ok(None)`).
/// The delay starts at 5 ms and doubles up to `longest` ([`TargetSession::poll_interval`]: a wait on AWS asks at
/// most four times a second, one on an emulator, whose answers cost a millisecond, overshoots by at most 20 ms).
///
/// [`TargetSession::poll_interval`]: crate::targets::TargetSession::poll_interval
pub async fn poll_until<T, E, F, Fut>(limit: Duration, longest: Duration, mut attempt: F) -> Result<Option<T>, E>
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
        delay = (delay * 2).min(longest);
    }
}
