//! Log events: PutLogEvents, GetLogEvents (one stream, by position tokens), FilterLogEvents (across streams,
//! filter patterns, paged).

use serde::Deserialize;
use serde_json::{Value, json};

use super::filter::FilterPattern;
use super::groups::page_error;
use super::{Call, DAY_MS, Event, Logs, invalid, now_ms, required, stream_not_found};
use crate::protocol::AwsResult;
use crate::services::pagination::{self, PageSize};

/// GetLogEvents and FilterLogEvents: `limit` 1-10,000, 10,000 by default.
const EVENTS_PAGE: PageSize = PageSize { default: 10_000, max: 10_000 };
/// PutLogEvents: at most 1,048,576 bytes, counting each event's message in UTF-8 plus 26 bytes.
const MAX_BATCH_BYTES: usize = 1_048_576;
const EVENT_OVERHEAD: usize = 26;
const MAX_BATCH_EVENTS: usize = 10_000;
/// Events more than 2 hours ahead or 14 days behind the time they arrive are rejected (not refused).
const TOO_NEW_MS: i64 = 2 * 60 * 60 * 1000;
const TOO_OLD_MS: i64 = 14 * DAY_MS;

#[derive(Debug, Deserialize)]
pub(super) struct InputEvent {
    timestamp: Option<i64>,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PutInput {
    log_group_name: Option<String>,
    log_stream_name: Option<String>,
    log_events: Option<Vec<InputEvent>>,
    #[serde(default)]
    #[allow(dead_code, reason = "accepted and ignored, as AWS has done since January 2023")]
    sequence_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GetInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    next_token: Option<String>,
    limit: Option<i64>,
    #[serde(default)]
    start_from_head: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FilterInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefix: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    filter_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
    #[serde(default)]
    #[allow(dead_code, reason = "deprecated by AWS: events are always interleaved")]
    interleaved: Option<bool>,
}

/// `eventId`: 56 digits, as AWS's look, unique per event (its timestamp, then its sequence number).
fn event_id(event: &Event) -> String {
    format!("{}{:036}", pagination::number(event.timestamp), event.sequence)
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html>
/// Refused: events out of chronological order, a batch spanning more than 24 hours, over 10,000 events or
/// 1,048,576 bytes, an empty message. Rejected (reported in `rejectedLogEventsInfo`, not stored): events more than
/// 2 hours in the future, more than 14 days old, or older than the group's retention. `sequenceToken` is ignored,
/// as AWS has done since 2023; `nextSequenceToken` is still returned.
pub(super) fn put_log_events(call: &Call<'_, Logs>, input: PutInput) -> AwsResult<Value> {
    let group_name = required(input.log_group_name.as_ref(), "logGroupName")?;
    let stream_name = required(input.log_stream_name.as_ref(), "logStreamName")?;
    let events = required(input.log_events.as_ref(), "logEvents")?;
    super::checked_group_name(group_name)?;
    super::checked_stream_name(stream_name)?;
    call.authorize(&[call.stream_resource(group_name, stream_name)])?;
    if events.is_empty() || events.len() > MAX_BATCH_EVENTS {
        let constraint = if events.is_empty() { "greater than or equal to 1" } else { "less than or equal to 10000" };
        return Err(invalid(format!(
            "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length {constraint}"
        )));
    }
    let mut batch = Vec::with_capacity(events.len());
    for (at, event) in events.iter().enumerate() {
        let member = |name: &str| format!("logEvents.{}.member.{name}", at + 1);
        let timestamp = *required(event.timestamp.as_ref(), &member("timestamp"))?;
        let message = required(event.message.as_ref(), &member("message"))?;
        if message.is_empty() {
            return Err(invalid(format!(
                "1 validation error detected: Value '' at '{}' failed to satisfy constraint: Member must have length greater than or equal to 1",
                member("message")
            )));
        }
        batch.push((timestamp, message));
    }
    if batch.windows(2).any(|pair| pair[1].0 < pair[0].0) {
        return Err(invalid("Log events in a single PutLogEvents request must be in chronological order."));
    }
    if let (Some(first), Some(last)) = (batch.first(), batch.last())
        && last.0 - first.0 > DAY_MS
    {
        return Err(invalid(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        ));
    }
    let bytes: usize = batch.iter().map(|(_, message)| message.len() + EVENT_OVERHEAD).sum();
    if bytes > MAX_BATCH_BYTES {
        return Err(invalid(format!("Upload too large: {bytes} bytes exceeds limit of {MAX_BATCH_BYTES}")));
    }
    let now = now_ms();
    let logs = call.service;
    call.group(group_name, |group| {
        let expired_before = group.oldest_kept(now);
        let stream = group.streams.get_mut(stream_name).ok_or_else(stream_not_found)?;
        let mut rejected = serde_json::Map::new();
        let mut kept = Vec::with_capacity(batch.len());
        for (at, (timestamp, message)) in batch.into_iter().enumerate() {
            if timestamp > now + TOO_NEW_MS {
                rejected.entry("tooNewLogEventStartIndex").or_insert(json!(at));
            } else if timestamp < now - TOO_OLD_MS {
                rejected.insert("tooOldLogEventEndIndex".into(), json!(at));
            } else if expired_before.is_some_and(|oldest| timestamp < oldest) {
                rejected.insert("expiredLogEventEndIndex".into(), json!(at));
            } else {
                kept.push(Event {
                    timestamp,
                    ingestion: now,
                    sequence: logs.next_sequence(),
                    message: message.clone(),
                });
            }
        }
        stream.insert(kept);
        let mut out = json!({ "nextSequenceToken": format!("{:056}", logs.next_sequence()) });
        if !rejected.is_empty() {
            out["rejectedLogEventsInfo"] = Value::Object(rejected);
        }
        Ok(out)
    })
}

/// A GetLogEvents position: just after (`f/`) or just before (`b/`) the event with this (timestamp, sequence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    forward: bool,
    key: (i64, u64),
}

impl Position {
    /// `f/<56 digits>/s`, the shape of AWS's tokens (opaque to clients): the timestamp as 20 digits, the sequence
    /// as 36.
    fn token(self) -> String {
        let direction = if self.forward { 'f' } else { 'b' };
        format!("{direction}/{}{:036}/s", pagination::number(self.key.0), self.key.1)
    }

    fn parse(token: &str) -> Option<Self> {
        let (forward, rest) = match token.split_at_checked(2)? {
            ("f/", rest) => (true, rest),
            ("b/", rest) => (false, rest),
            _ => return None,
        };
        let digits = rest.strip_suffix("/s")?;
        if digits.len() != 56 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let shifted: i128 = digits[..20].parse().ok()?;
        let timestamp = i64::try_from(shifted + i128::from(i64::MIN)).ok()?;
        let sequence: u64 = digits[20..].parse().ok()?;
        Some(Self { forward, key: (timestamp, sequence) })
    }
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html>
/// Without a token, the first `limit` events (`startFromHead`) or the last `limit` (the default) between
/// `startTime` (inclusive) and `endTime` (exclusive); a forward token gives the events after the last one served,
/// a backward token those before the first. At the end of the stream the same token comes back, as on AWS.
/// Deviation: pages are cut by `limit` only, not also at AWS's 1 MB.
pub(super) fn get_log_events(call: &Call<'_, Logs>, input: GetInput) -> AwsResult<Value> {
    let group = call.group_named(input.log_group_name.as_ref(), input.log_group_identifier.as_ref())?;
    let stream_name = required(input.log_stream_name.as_ref(), "logStreamName")?;
    super::checked_stream_name(stream_name)?;
    call.authorize(&[call.stream_resource(&group, stream_name)])?;
    let limit = match input.limit {
        None => EVENTS_PAGE.default,
        Some(n) => usize::try_from(n).ok().filter(|n| (1..=EVENTS_PAGE.max).contains(n)).ok_or_else(|| {
            page_error(pagination::PageError::Limit { requested: n.to_string(), max: EVENTS_PAGE.max })
        })?,
    };
    let position = match input.next_token.as_deref() {
        None | Some("") => None,
        Some(token) => Some(Position::parse(token).ok_or_else(|| invalid("The specified nextToken is invalid."))?),
    };
    call.group(&group, |group| {
        let stream = group.streams.get(stream_name).ok_or_else(stream_not_found)?;
        let in_range = |e: &&Event| {
            input.start_time.is_none_or(|start| e.timestamp >= start)
                && input.end_time.is_none_or(|end| e.timestamp < end)
        };
        let served: Vec<&Event> = match position {
            Some(Position { forward: true, key }) => {
                stream.events.iter().filter(|e| e.key() > key).filter(in_range).take(limit).collect()
            }
            Some(Position { forward: false, key }) => {
                last(stream.events.iter().filter(|e| e.key() < key).filter(in_range), limit)
            }
            None if input.start_from_head => stream.events.iter().filter(in_range).take(limit).collect(),
            None => last(stream.events.iter().filter(in_range), limit),
        };
        let forward = served.last().map(|e| e.key()).or(position.map(|p| p.key)).unwrap_or((i64::MIN, 0));
        let backward = served.first().map(|e| e.key()).or(position.map(|p| p.key)).unwrap_or((i64::MAX, u64::MAX));
        let events: Vec<Value> = served
            .iter()
            .map(|e| json!({ "timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion }))
            .collect();
        Ok(json!({
            "events": events,
            "nextForwardToken": Position { forward: true, key: forward }.token(),
            "nextBackwardToken": Position { forward: false, key: backward }.token(),
        }))
    })
}

/// The last `limit` of `events`, in order.
fn last<'a>(events: impl Iterator<Item = &'a Event>, limit: usize) -> Vec<&'a Event> {
    let all: Vec<&Event> = events.collect();
    all[all.len().saturating_sub(limit)..].to_vec()
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html>
/// Events of every stream of the group (or of `logStreamNames`, or those with `logStreamNamePrefix`) between
/// `startTime` and `endTime` (both inclusive) that match `filterPattern` ([`FilterPattern`]), interleaved by
/// timestamp, paged by `limit` and an opaque `nextToken`. `searchedLogStreams` is empty, as AWS has answered since
/// 2020. Deviation: pages are cut by `limit` only, not also at AWS's 1 MB.
pub(super) fn filter_log_events(call: &Call<'_, Logs>, input: FilterInput) -> AwsResult<Value> {
    let group = call.group_named(input.log_group_name.as_ref(), input.log_group_identifier.as_ref())?;
    call.authorize(&[call.group_resource(&group)])?;
    if input.log_stream_names.is_some() && input.log_stream_name_prefix.is_some() {
        return Err(invalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters."));
    }
    if let Some(names) = &input.log_stream_names
        && !(1..=100).contains(&names.len())
    {
        return Err(invalid(format!(
            "1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length {}",
            if names.is_empty() { "greater than or equal to 1" } else { "less than or equal to 100" }
        )));
    }
    let pattern = FilterPattern::parse(input.filter_pattern.as_deref().unwrap_or("")).map_err(invalid)?;
    let items = call.group(&group, |group| {
        let mut items = Vec::new();
        for stream in group.streams.values() {
            let named = match (&input.log_stream_names, &input.log_stream_name_prefix) {
                (Some(names), _) => names.contains(&stream.name),
                (None, Some(prefix)) => stream.name.starts_with(prefix.as_str()),
                (None, None) => true,
            };
            if !named {
                continue;
            }
            for event in &stream.events {
                if input.start_time.is_some_and(|start| event.timestamp < start)
                    || input.end_time.is_some_and(|end| event.timestamp > end)
                    || !pattern.matches(&event.message)
                {
                    continue;
                }
                let key = pagination::key(&[&pagination::number(event.timestamp), &format!("{:020}", event.sequence)]);
                items.push((
                    key,
                    json!({
                        "logStreamName": stream.name,
                        "timestamp": event.timestamp,
                        "message": event.message,
                        "ingestionTime": event.ingestion,
                        "eventId": event_id(event),
                    }),
                ));
            }
        }
        Ok(items)
    })?;
    let page = pagination::page(items, EVENTS_PAGE, input.limit, input.next_token.as_deref()).map_err(page_error)?;
    let mut out = json!({ "events": page.items, "searchedLogStreams": [] });
    if let Some(next) = page.next {
        out["nextToken"] = json!(next);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::Position;

    #[test]
    fn positions_survive_their_token_and_foreign_tokens_do_not_parse() {
        for position in [
            Position { forward: true, key: (1_733_000_000_000, 7) },
            Position { forward: false, key: (i64::MIN, 0) },
            Position { forward: true, key: (i64::MAX, u64::MAX) },
        ] {
            let token = position.token();
            assert_eq!(token.len(), 2 + 56 + 2, "{token}");
            assert_eq!(Position::parse(&token), Some(position));
        }
        for bad in ["", "f/", "f/12/s", "x/00000000000000000000000000000000000000000000000000000000/s", "garbage"] {
            assert_eq!(Position::parse(bad), None, "{bad}");
        }
    }
}
