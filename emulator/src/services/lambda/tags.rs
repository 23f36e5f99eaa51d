//! Function tags: TagResource, ListTags, UntagResource (`/2017-03-31/tags/{ARN}`).

use std::collections::BTreeMap;
use std::sync::Arc;

use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::Env;
use super::{function_name, not_found};
use crate::protocol::{AwsError, AwsResult, Response, rest_json};
use crate::services::Call;
use crate::services::tagging::{self, Tags};

/// Runs `f` on the tags of the function `arn` names (tags are addressed by ARN only).
fn with_tags<T>(call: &Call<'_, Arc<dyn Env>>, arn: &str, f: impl FnOnce(&mut Tags) -> AwsResult<T>) -> AwsResult<T> {
    let (account, region) = (call.account_id(), call.region());
    if !arn.starts_with("arn:aws:lambda:") || !arn.contains(":function:") {
        return Err(AwsError::bad_request(
            "InvalidParameterValueException",
            format!(
                "1 validation error detected: Value '{arn}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:lambda:..."
            ),
        ));
    }
    let name = function_name(arn);
    call.service.lambda().with_functions(account, region, |fs| match fs.get_mut(name) {
        Some(function) if function.arn == arn => f(&mut function.tags),
        _ => Err(not_found(arn)),
    })
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_ListTags.html>
pub(super) fn list(call: &Call<'_, Arc<dyn Env>>, arn: &str) -> AwsResult<Response> {
    call.authorize(&[arn.to_owned()])?;
    let tags = with_tags(call, arn, |tags| Ok(tags.clone()))?;
    Ok(rest_json::ok(&json!({ "Tags": tags })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagInput {
    tags: Option<BTreeMap<String, String>>,
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_TagResource.html>
pub(super) fn tag(call: &Call<'_, Arc<dyn Env>>, arn: &str) -> AwsResult<Response> {
    let input: TagInput = rest_json::input(call.req)?;
    let new = input.tags.ok_or_else(|| {
        AwsError::bad_request(
            "InvalidParameterValueException",
            "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
        )
    })?;
    call.authorize(&[arn.to_owned()])?;
    with_tags(call, arn, |tags| {
        tagging::check(tags, &new).map_err(|e| AwsError::bad_request("InvalidParameterValueException", e))?;
        tags.extend(new);
        Ok(())
    })?;
    Ok(rest_json::empty(StatusCode::NO_CONTENT))
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_UntagResource.html> (`tagKeys` repeated in the query)
pub(super) fn untag(call: &Call<'_, Arc<dyn Env>>, arn: &str) -> AwsResult<Response> {
    let keys: Vec<&str> = call.req.query.iter().filter(|(k, _)| k == "tagKeys").map(|(_, v)| v.as_str()).collect();
    if keys.is_empty() {
        return Err(AwsError::bad_request(
            "InvalidParameterValueException",
            "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
        ));
    }
    call.authorize(&[arn.to_owned()])?;
    with_tags(call, arn, |tags| {
        for key in keys {
            tags.remove(key);
        }
        Ok(())
    })?;
    Ok(rest_json::empty(StatusCode::NO_CONTENT))
}
