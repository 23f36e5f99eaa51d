//! CloudWatch Logs (awsJson1.1, `X-Amz-Target: Logs_20140328.<Operation>`, signing name `logs`): log groups,
//! streams and events, where Lambda writes each invocation's output (`/aws/lambda/<function>`) and Batch each
//! job's (`/aws/batch/job`), through [`LogSink`].
//!
//! <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_Operations.html>
//!
//! Events live in memory, per account and region, sorted by timestamp within their stream (as CloudWatch Logs keeps
//! them, whatever order batches arrive in). Retention is applied when events are read or written: an event older
//! than its group's retention is gone. Deliberate deviations: KMS keys, log group classes, data protection,
//! subscriptions, metric filters, Insights queries and Live Tail are not emulated; filter patterns are the
//! unstructured ones (terms, quoted phrases, `?` and `-`; see [`filter`]) — JSON (`{ $.x = ... }`), space-delimited
//! (`[...]`) and regular-expression (`%...%`) patterns are refused as InvalidParameterException, saying so.

mod events;
pub mod filter;
mod groups;
mod streams;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use crate::protocol::json::{self as json_protocol, parse};
use crate::protocol::{AwsError, AwsRequest, AwsResult, Response};
use crate::services::tagging::{Tagged, Tags};
use crate::services::{Authorize, Call, Service, iam};
use crate::store::Scoped;

pub const TARGET_PREFIX: &str = "Logs_20140328";

/// The CloudWatch Logs service of one emulator instance.
#[derive(Debug, Default)]
pub struct Logs {
    /// Log groups per (account, region), by name.
    groups: Scoped<(String, String), BTreeMap<String, LogGroup>>,
    /// Orders events that share a timestamp and makes their ids unique.
    sequence: AtomicU64,
}

impl Service for Logs {
    const IAM_PREFIX: &'static str = "logs";
    const PROTOCOL: iam::Protocol = iam::Protocol::Json;
}

#[derive(Debug, Clone)]
pub(crate) struct LogGroup {
    pub name: String,
    pub created: i64,
    pub retention_days: Option<u32>,
    pub tags: Tags,
    pub streams: BTreeMap<String, LogStream>,
}

#[derive(Debug, Clone)]
pub(crate) struct LogStream {
    pub name: String,
    pub created: i64,
    /// Sorted by (timestamp, sequence).
    pub events: Vec<Event>,
    pub last_ingestion: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub timestamp: i64,
    pub ingestion: i64,
    /// Unique across the emulator: orders events of equal timestamps by arrival and names them (`eventId`).
    pub sequence: u64,
    pub message: String,
}

impl Event {
    /// The (timestamp, sequence) key events are sorted and paged by.
    fn key(&self) -> (i64, u64) {
        (self.timestamp, self.sequence)
    }
}

impl LogStream {
    fn new(name: &str, now: i64) -> Self {
        Self { name: name.to_owned(), created: now, events: Vec::new(), last_ingestion: None }
    }

    /// Inserts events in timestamp order (after any already there with the same timestamp).
    fn insert(&mut self, events: impl IntoIterator<Item = Event>) {
        for event in events {
            let at = self.events.partition_point(|e| e.key() <= event.key());
            self.last_ingestion = Some(event.ingestion);
            self.events.insert(at, event);
        }
    }

    fn stored_bytes(&self) -> u64 {
        self.events.iter().map(|e| e.message.len() as u64).sum()
    }

    /// Drops events older than `oldest` (the group's retention).
    fn expire(&mut self, oldest: Option<i64>) {
        if let Some(oldest) = oldest {
            self.events.retain(|e| e.timestamp >= oldest);
        }
    }
}

impl LogGroup {
    /// The earliest timestamp the group's retention keeps, if it has one.
    fn oldest_kept(&self, now: i64) -> Option<i64> {
        self.retention_days.map(|days| now - i64::from(days) * DAY_MS)
    }

    fn expire(&mut self, now: i64) {
        let oldest = self.oldest_kept(now);
        for stream in self.streams.values_mut() {
            stream.expire(oldest);
        }
    }
}

pub(crate) const DAY_MS: i64 = 24 * 60 * 60 * 1000;

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Where other services write what their code prints: Lambda each invocation's output, Batch each job's.
pub trait LogSink: Send + Sync {
    /// Appends `events` (timestamp in ms, message) to `stream` of `group`, creating the stream, and the group when
    /// `create_group` (the writer may `logs:CreateLogGroup`). False when the group is missing and may not be
    /// created: as on AWS, the output is then lost.
    fn append(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        events: Vec<(i64, String)>,
        create_group: bool,
    ) -> bool;
}

impl LogSink for Logs {
    fn append(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        events: Vec<(i64, String)>,
        create_group: bool,
    ) -> bool {
        let now = now_ms();
        let events: Vec<Event> = events
            .into_iter()
            .map(|(timestamp, message)| Event { timestamp, ingestion: now, sequence: self.next_sequence(), message })
            .collect();
        self.groups.with((account.to_owned(), region.to_owned()), |groups| {
            if !groups.contains_key(group) {
                if !create_group {
                    return false;
                }
                groups.insert(group.to_owned(), LogGroup::new(group, now, Tags::new()));
            }
            let Some(group) = groups.get_mut(group) else { return false };
            group.streams.entry(stream.to_owned()).or_insert_with(|| LogStream::new(stream, now)).insert(events);
            true
        })
    }
}

impl LogGroup {
    fn new(name: &str, now: i64, tags: Tags) -> Self {
        Self { name: name.to_owned(), created: now, retention_days: None, tags, streams: BTreeMap::new() }
    }
}

impl Logs {
    pub fn new() -> Self {
        Self::default()
    }

    fn next_sequence(&self) -> u64 {
        self.sequence.fetch_add(1, Ordering::Relaxed)
    }

    /// Every log group of an account and region with its tags (the Resource Groups Tagging API).
    pub fn tagged(&self, account: &str, region: &str) -> Vec<Tagged> {
        self.groups.read((account.to_owned(), region.to_owned()), |groups| {
            groups
                .into_iter()
                .flat_map(|groups| groups.values())
                .map(|group| Tagged { arn: group_arn(region, account, &group.name), tags: group.tags.clone() })
                .collect()
        })
    }

    /// The messages of one stream in order, for tests and other services' reports.
    pub fn messages(&self, account: &str, region: &str, group: &str, stream: &str) -> Option<Vec<String>> {
        self.groups.read((account.to_owned(), region.to_owned()), |groups| {
            let stream = groups?.get(group)?.streams.get(stream)?;
            Some(stream.events.iter().map(|e| e.message.clone()).collect())
        })
    }
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>` (DescribeLogGroups' `logGroupArn`, what tags name).
pub(crate) fn group_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{name}")
}

/// Serves one CloudWatch Logs request.
pub async fn handle(logs: &Logs, iam: &dyn Authorize, req: AwsRequest) -> Response {
    match dispatch(logs, iam, &req) {
        Ok(output) => json_protocol::ok(&output),
        Err(err) => json_protocol::error(&err),
    }
}

/// One `match` from `X-Amz-Target`'s operation to its handler.
fn dispatch(logs: &Logs, iam: &dyn Authorize, req: &AwsRequest) -> AwsResult<Value> {
    let operation = json_protocol::operation(req, TARGET_PREFIX)?;
    let input = json_protocol::input_value(req)?;
    let call = Call { service: logs, req, iam, operation };
    match operation {
        "CreateLogGroup" => groups::create_log_group(&call, parse(input)?),
        "DescribeLogGroups" => groups::describe_log_groups(&call, parse(input)?),
        "DeleteLogGroup" => groups::delete_log_group(&call, parse(input)?),
        "PutRetentionPolicy" => groups::put_retention_policy(&call, parse(input)?),
        "DeleteRetentionPolicy" => groups::delete_retention_policy(&call, parse(input)?),
        "TagResource" => groups::tag_resource(&call, parse(input)?),
        "UntagResource" => groups::untag_resource(&call, parse(input)?),
        "ListTagsForResource" => groups::list_tags_for_resource(&call, parse(input)?),
        "ListTagsLogGroup" => groups::list_tags_log_group(&call, parse(input)?),
        "CreateLogStream" => streams::create_log_stream(&call, parse(input)?),
        "DescribeLogStreams" => streams::describe_log_streams(&call, parse(input)?),
        "DeleteLogStream" => streams::delete_log_stream(&call, parse(input)?),
        "PutLogEvents" => events::put_log_events(&call, parse(input)?),
        "GetLogEvents" => events::get_log_events(&call, parse(input)?),
        "FilterLogEvents" => events::filter_log_events(&call, parse(input)?),
        other => Err(AwsError::bad_request(
            "UnknownOperationException",
            format!("crts-emulator does not implement the CloudWatch Logs operation {other}"),
        )),
    }
}

/// CloudWatch Logs' side of every operation: its groups in the caller's account and region, names, errors.
impl Call<'_, Logs> {
    fn scope(&self) -> (String, String) {
        (self.account_id().to_owned(), self.region().to_owned())
    }

    /// Runs `f` on the caller's log groups (retention applied first to `group`, when named).
    fn groups<T>(&self, f: impl FnOnce(&mut BTreeMap<String, LogGroup>) -> T) -> T {
        self.service.groups.with(self.scope(), f)
    }

    /// Runs `f` on one existing group, with its expired events dropped, or ResourceNotFoundException.
    fn group<T>(&self, name: &str, f: impl FnOnce(&mut LogGroup) -> AwsResult<T>) -> AwsResult<T> {
        let now = now_ms();
        self.groups(|groups| {
            let group = groups.get_mut(name).ok_or_else(group_not_found)?;
            group.expire(now);
            f(group)
        })
    }

    /// The resource IAM is asked about for a group: `arn:aws:logs:<region>:<account>:log-group:<name>:*`, as the
    /// Logs actions name it.
    fn group_resource(&self, name: &str) -> String {
        format!("{}:*", group_arn(self.region(), self.account_id(), name))
    }

    fn stream_resource(&self, group: &str, stream: &str) -> String {
        format!("{}:log-stream:{stream}", group_arn(self.region(), self.account_id(), group))
    }

    /// The group an operation names by `logGroupName` or `logGroupIdentifier` (a name or an ARN of this account
    /// and region, with or without the trailing `:*`); exactly one of them.
    fn group_named(&self, name: Option<&String>, identifier: Option<&String>) -> AwsResult<String> {
        match (name, identifier) {
            (Some(_), Some(_)) => Err(invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")),
            (Some(name), None) => checked_group_name(name).map(|()| name.clone()),
            (None, Some(identifier)) => {
                let prefix = format!("arn:aws:logs:{}:{}:log-group:", self.region(), self.account_id());
                let name = match identifier.strip_prefix(&prefix) {
                    Some(rest) => rest.strip_suffix(":*").unwrap_or(rest),
                    None if identifier.starts_with("arn:") => {
                        return Err(invalid(format!(
                            "The log group ARN {identifier} does not name a log group of this account and region"
                        )));
                    }
                    None => identifier,
                };
                checked_group_name(name).map(|()| name.to_owned())
            }
            (None, None) => Err(invalid("Either logGroupName or logGroupIdentifier must be provided.")),
        }
    }
}

pub(crate) fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidParameterException", message)
}

pub(crate) fn group_not_found() -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", "The specified log group does not exist.")
}

pub(crate) fn stream_not_found() -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", "The specified log stream does not exist.")
}

/// A required member, or InvalidParameterException naming it as AWS's validation does.
pub(crate) fn required<'a, T>(value: Option<&'a T>, member: &str) -> AwsResult<&'a T> {
    value.ok_or_else(|| {
        invalid(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// Log group names: 1-512 characters of `[.\-_/#A-Za-z0-9]`.
pub(crate) fn checked_group_name(name: &str) -> AwsResult<()> {
    let ok = (1..=512).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#'));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        )))
    }
}

/// Log stream names: 1-512 characters, no `:` or `*`.
pub(crate) fn checked_stream_name(name: &str) -> AwsResult<()> {
    if (1..=512).contains(&name.len()) && !name.contains([':', '*']) {
        Ok(())
    } else {
        Err(invalid(format!(
            "1 validation error detected: Value '{name}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"
        )))
    }
}
