//! Log groups: create, describe (paged), delete, retention, tags.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Call, LogGroup, Logs, group_arn, group_not_found, invalid, now_ms, required};
use crate::protocol::{AwsError, AwsResult};
use crate::services::pagination::{self, PageError, PageSize};
use crate::services::tagging::{self, Tags};

/// The retention periods CloudWatch Logs accepts, in days.
const RETENTION_DAYS: [u32; 22] =
    [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// DescribeLogGroups and DescribeLogStreams: `limit` 1-50, 50 by default.
pub(super) const DESCRIBE_PAGE: PageSize = PageSize { default: 50, max: 50 };

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GroupInput {
    log_group_name: Option<String>,
    #[serde(default)]
    tags: Option<Tags>,
    #[serde(default)]
    retention_in_days: Option<i64>,
    #[serde(default)]
    #[allow(dead_code, reason = "accepted; events are not encrypted in memory")]
    kms_key_id: Option<String>,
    #[serde(default)]
    log_group_class: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DescribeGroupsInput {
    log_group_name_prefix: Option<String>,
    log_group_name_pattern: Option<String>,
    limit: Option<i64>,
    next_token: Option<String>,
    log_group_class: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ResourceTagsInput {
    resource_arn: Option<String>,
    tags: Option<Tags>,
    tag_keys: Option<Vec<String>>,
}

/// A page size or token CloudWatch Logs refuses, in its words.
pub(super) fn page_error(error: PageError) -> AwsError {
    match error {
        PageError::Token => invalid("The specified nextToken is invalid."),
        limit => invalid(limit.validation_message("limit")),
    }
}

/// The JSON of a group as DescribeLogGroups answers it.
fn group_json(region: &str, account: &str, group: &LogGroup) -> Value {
    let arn = group_arn(region, account, &group.name);
    let mut out = json!({
        "logGroupName": group.name,
        "creationTime": group.created,
        "metricFilterCount": 0,
        "arn": format!("{arn}:*"),
        "logGroupArn": arn,
        "storedBytes": group.streams.values().map(super::LogStream::stored_bytes).sum::<u64>(),
        "logGroupClass": "STANDARD",
        "deletionProtectionEnabled": false,
    });
    if let Some(days) = group.retention_days {
        out["retentionInDays"] = json!(days);
    }
    out
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html>
/// Deviation: `logGroupClass` other than STANDARD is refused.
pub(super) fn create_log_group(call: &Call<'_, Logs>, input: GroupInput) -> AwsResult<Value> {
    let name = required(input.log_group_name.as_ref(), "logGroupName")?;
    super::checked_group_name(name)?;
    call.authorize(&[call.group_resource(name)])?;
    if input.log_group_class.as_deref().is_some_and(|class| class != "STANDARD") {
        return Err(invalid("crts-emulator keeps only STANDARD log groups (logGroupClass)"));
    }
    let tags = input.tags.unwrap_or_default();
    if !tags.is_empty() {
        call.authorize_action("TagResource", &[call.group_resource(name)])?;
    }
    tagging::check(&Tags::new(), &tags).map_err(invalid)?;
    call.groups(|groups| {
        if groups.contains_key(name) {
            return Err(AwsError::bad_request(
                "ResourceAlreadyExistsException",
                "The specified log group already exists",
            ));
        }
        groups.insert(name.clone(), LogGroup::new(name, now_ms(), tags));
        Ok(json!({}))
    })
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogGroups.html>
/// Paged by `limit` (1-50) and `nextToken`, in name order. `logGroupNamePattern` matches a case-insensitive
/// substring, as AWS does. Deviation: `accountIdentifiers` and `includeLinkedAccounts` (cross-account
/// observability) are ignored.
pub(super) fn describe_log_groups(call: &Call<'_, Logs>, input: DescribeGroupsInput) -> AwsResult<Value> {
    call.authorize(&[format!("arn:aws:logs:{}:{}:log-group:*", call.region(), call.account_id())])?;
    if input.log_group_name_prefix.is_some() && input.log_group_name_pattern.is_some() {
        return Err(invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."));
    }
    let pattern = input.log_group_name_pattern.as_deref().map(str::to_ascii_lowercase);
    let now = now_ms();
    let (region, account) = (call.region().to_owned(), call.account_id().to_owned());
    let items = call.groups(|groups| {
        groups
            .values_mut()
            .filter(|g| input.log_group_name_prefix.as_deref().is_none_or(|p| g.name.starts_with(p)))
            .filter(|g| pattern.as_deref().is_none_or(|p| g.name.to_ascii_lowercase().contains(p)))
            .filter(|_| input.log_group_class.as_deref().is_none_or(|class| class == "STANDARD"))
            .map(|g| {
                g.expire(now);
                (g.name.clone(), group_json(&region, &account, g))
            })
            .collect::<Vec<_>>()
    });
    let page = pagination::page(items, DESCRIBE_PAGE, input.limit, input.next_token.as_deref()).map_err(page_error)?;
    let mut out = json!({ "logGroups": page.items });
    if let Some(next) = page.next {
        out["nextToken"] = json!(next);
    }
    Ok(out)
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogGroup.html>
/// The group goes with its streams and events.
pub(super) fn delete_log_group(call: &Call<'_, Logs>, input: GroupInput) -> AwsResult<Value> {
    let name = required(input.log_group_name.as_ref(), "logGroupName")?;
    super::checked_group_name(name)?;
    call.authorize(&[call.group_resource(name)])?;
    call.groups(|groups| groups.remove(name)).ok_or_else(group_not_found)?;
    Ok(json!({}))
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html>
/// Events older than the retention are dropped from then on (AWS deletes them within days; here at once).
pub(super) fn put_retention_policy(call: &Call<'_, Logs>, input: GroupInput) -> AwsResult<Value> {
    let name = required(input.log_group_name.as_ref(), "logGroupName")?;
    super::checked_group_name(name)?;
    let days = *required(input.retention_in_days.as_ref(), "retentionInDays")?;
    let days = u32::try_from(days).ok().filter(|d| RETENTION_DAYS.contains(d)).ok_or_else(|| {
        let allowed: Vec<String> = RETENTION_DAYS.iter().map(u32::to_string).collect();
        invalid(format!(
            "1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            allowed.join(", ")
        ))
    })?;
    call.authorize(&[call.group_resource(name)])?;
    call.group(name, |group| {
        group.retention_days = Some(days);
        group.expire(now_ms());
        Ok(json!({}))
    })
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteRetentionPolicy.html>
pub(super) fn delete_retention_policy(call: &Call<'_, Logs>, input: GroupInput) -> AwsResult<Value> {
    let name = required(input.log_group_name.as_ref(), "logGroupName")?;
    super::checked_group_name(name)?;
    call.authorize(&[call.group_resource(name)])?;
    call.group(name, |group| {
        group.retention_days = None;
        Ok(json!({}))
    })
}

impl Call<'_, Logs> {
    /// The group a tagging operation's `resourceArn` names (`arn:aws:logs:<region>:<account>:log-group:<name>`,
    /// with or without `:*`): its tags, under `f`.
    fn with_tags_of<T>(&self, arn: &str, f: impl FnOnce(&mut Tags) -> AwsResult<T>) -> AwsResult<T> {
        let prefix = format!("arn:aws:logs:{}:{}:log-group:", self.region(), self.account_id());
        let name = arn
            .strip_prefix(&prefix)
            .map(|rest| rest.strip_suffix(":*").unwrap_or(rest))
            .ok_or_else(|| invalid(format!("The specified ARN {arn} is not a log group of this account and region")))?;
        self.group(name, |group| f(&mut group.tags)).map_err(|e| {
            if e.code == "ResourceNotFoundException" {
                AwsError::bad_request(
                    "ResourceNotFoundException",
                    format!("The specified resource {arn} does not exist."),
                )
            } else {
                e
            }
        })
    }
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TagResource.html>
pub(super) fn tag_resource(call: &Call<'_, Logs>, input: ResourceTagsInput) -> AwsResult<Value> {
    let arn = required(input.resource_arn.as_ref(), "resourceArn")?;
    let new = required(input.tags.as_ref(), "tags")?;
    call.authorize(std::slice::from_ref(arn))?;
    call.with_tags_of(arn, |tags| {
        tagging::check(tags, new).map_err(|message| {
            let code = if message.contains("at most") { "TooManyTagsException" } else { "InvalidParameterException" };
            AwsError::bad_request(code, message)
        })?;
        tags.extend(new.clone());
        Ok(json!({}))
    })
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_UntagResource.html>
pub(super) fn untag_resource(call: &Call<'_, Logs>, input: ResourceTagsInput) -> AwsResult<Value> {
    let arn = required(input.resource_arn.as_ref(), "resourceArn")?;
    let keys = required(input.tag_keys.as_ref(), "tagKeys")?;
    call.authorize(std::slice::from_ref(arn))?;
    call.with_tags_of(arn, |tags| {
        for key in keys {
            tags.remove(key);
        }
        Ok(json!({}))
    })
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_ListTagsForResource.html>
pub(super) fn list_tags_for_resource(call: &Call<'_, Logs>, input: ResourceTagsInput) -> AwsResult<Value> {
    let arn = required(input.resource_arn.as_ref(), "resourceArn")?;
    call.authorize(std::slice::from_ref(arn))?;
    call.with_tags_of(arn, |tags| Ok(json!({ "tags": tags })))
}

/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_ListTagsLogGroup.html> (deprecated
/// by AWS in favour of ListTagsForResource; the AWS CLI's `list-tags-log-group` still sends it).
pub(super) fn list_tags_log_group(call: &Call<'_, Logs>, input: GroupInput) -> AwsResult<Value> {
    let name = required(input.log_group_name.as_ref(), "logGroupName")?;
    super::checked_group_name(name)?;
    call.authorize(&[call.group_resource(name)])?;
    call.group(name, |group| Ok(json!({ "tags": group.tags })))
}
