//! Log streams: create, describe (paged, by name or by last event time, either way round), delete.

use serde::Deserialize;
use serde_json::{Value, json};

use super::groups::{DESCRIBE_PAGE, page_error};
use super::{Call, LogStream, Logs, group_arn, invalid, now_ms, required, stream_not_found};
use crate::protocol::{AwsError, AwsResult};
use crate::services::pagination;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StreamInput {
    log_group_name: Option<String>,
    log_stream_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DescribeStreamsInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name_prefix: Option<String>,
    order_by: Option<String>,
    #[serde(default)]
    descending: bool,
    limit: Option<i64>,
    next_token: Option<String>,
}

/// A stream as DescribeLogStreams answers it (the event timestamps only once it has events).
fn stream_json(arn_of_group: &str, stream: &LogStream) -> Value {
    let mut out = json!({
        "logStreamName": stream.name,
        "creationTime": stream.created,
        "arn": format!("{arn_of_group}:log-stream:{}", stream.name),
        "storedBytes": 0,
    });
    if let (Some(first), Some(last)) = (stream.events.first(), stream.events.last()) {
        out["firstEventTimestamp"] = json!(first.timestamp);
        out["lastEventTimestamp"] = json!(last.timestamp);
    }
    if let Some(ingested) = stream.last_ingestion {
        out["lastIngestionTime"] = json!(ingested);
    }
    out
}

/// A sort key whose ascending order is `text`'s descending order: each byte inverted, then a terminator above
/// every inverted byte, so that a longer name sorts before its prefix.
fn descending(text: &str) -> String {
    let mut key: String = text.bytes().map(|b| format!("{:02x}", 255 - b)).collect();
    key.push_str("ff");
    key
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogStream.html>
pub(super) fn create_log_stream(call: &Call<'_, Logs>, input: StreamInput) -> AwsResult<Value> {
    let group = required(input.log_group_name.as_ref(), "logGroupName")?;
    let name = required(input.log_stream_name.as_ref(), "logStreamName")?;
    super::checked_group_name(group)?;
    super::checked_stream_name(name)?;
    call.authorize(&[call.stream_resource(group, name)])?;
    call.group(group, |group| {
        if group.streams.contains_key(name) {
            return Err(AwsError::bad_request(
                "ResourceAlreadyExistsException",
                "The specified log stream already exists",
            ));
        }
        group.streams.insert(name.clone(), LogStream::new(name, now_ms()));
        Ok(json!({}))
    })
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogStreams.html>
/// `orderBy` LogStreamName (the default; `logStreamNamePrefix` only with it) or LastEventTime, `descending`, paged
/// by `limit` (1-50) and `nextToken`. `storedBytes` is 0, as AWS has answered since 2019 (the group has the figure).
pub(super) fn describe_log_streams(call: &Call<'_, Logs>, input: DescribeStreamsInput) -> AwsResult<Value> {
    let group = call.group_named(input.log_group_name.as_ref(), input.log_group_identifier.as_ref())?;
    call.authorize(&[call.group_resource(&group)])?;
    let by_time = match input.order_by.as_deref() {
        None | Some("LogStreamName") => false,
        Some("LastEventTime") => true,
        Some(other) => {
            return Err(invalid(format!(
                "1 validation error detected: Value '{other}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"
            )));
        }
    };
    if by_time && input.log_stream_name_prefix.is_some() {
        return Err(invalid("Cannot order by LastEventTime with a logStreamNamePrefix."));
    }
    let arn_of_group = group_arn(call.region(), call.account_id(), &group);
    let items = call.group(&group, |group| {
        Ok(group
            .streams
            .values()
            .filter(|s| input.log_stream_name_prefix.as_deref().is_none_or(|p| s.name.starts_with(p)))
            .map(|s| {
                let name = if input.descending { descending(&s.name) } else { s.name.clone() };
                let key = if by_time {
                    let last = s.events.last().map_or(0, |e| e.timestamp);
                    let last = if input.descending { -last } else { last };
                    pagination::key(&[&pagination::number(last), &name])
                } else {
                    name
                };
                (key, stream_json(&arn_of_group, s))
            })
            .collect::<Vec<_>>())
    })?;
    let page = pagination::page(items, DESCRIBE_PAGE, input.limit, input.next_token.as_deref()).map_err(page_error)?;
    let mut out = json!({ "logStreams": page.items });
    if let Some(next) = page.next {
        out["nextToken"] = json!(next);
    }
    Ok(out)
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogStream.html>
pub(super) fn delete_log_stream(call: &Call<'_, Logs>, input: StreamInput) -> AwsResult<Value> {
    let group = required(input.log_group_name.as_ref(), "logGroupName")?;
    let name = required(input.log_stream_name.as_ref(), "logStreamName")?;
    super::checked_group_name(group)?;
    super::checked_stream_name(name)?;
    call.authorize(&[call.stream_resource(group, name)])?;
    call.group(group, |group| group.streams.remove(name).map(|_| json!({})).ok_or_else(stream_not_found))
}

#[cfg(test)]
mod tests {
    use super::descending;

    #[test]
    fn descending_keys_reverse_the_order_of_names() {
        let mut names = ["a", "ab", "b", "2026/12/04/[$LATEST]ff", "2026/12/04/[$LATEST]0a"];
        names.sort_by_key(|name| descending(name));
        assert_eq!(names, ["b", "ab", "a", "2026/12/04/[$LATEST]ff", "2026/12/04/[$LATEST]0a"]);
    }
}
