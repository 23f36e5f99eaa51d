//! Function tags: TagResource, ListTags, UntagResource (`/2017-03-31/tags/{ARN}`).

use std::collections::BTreeMap;
use std::sync::Arc;

use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::Env;
use super::{authorize, function_name, not_found};
use crate::protocol::{AwsError, AwsRequest, AwsResult, Response, rest_json};
use crate::services::tagging::{self, Tags};

/// Runs `f` on the tags of the function `arn` names (tags are addressed by ARN only).
fn with_tags<T>(
    state: &Arc<dyn Env>,
    req: &AwsRequest,
    arn: &str,
    f: impl FnOnce(&mut Tags) -> AwsResult<T>,
) -> AwsResult<T> {
    let (account, region) = (req.ctx.account_id(), req.ctx.region.as_str());
    if !arn.starts_with("arn:aws:lambda:") || !arn.contains(":function:") {
        return Err(AwsError::bad_request(
            "InvalidParameterValueException",
            format!(
                "1 validation error detected: Value '{arn}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:lambda:..."
            ),
        ));
    }
    let name = function_name(arn);
    state.lambda().with_functions(account, region, |fs| match fs.get_mut(name) {
        Some(function) if function.arn == arn => f(&mut function.tags),
        _ => Err(not_found(arn)),
    })
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_ListTags.html>
pub(super) fn list(state: &Arc<dyn Env>, req: &AwsRequest, arn: &str) -> AwsResult<Response> {
    authorize(state, req, "ListTags", arn)?;
    let tags = with_tags(state, req, arn, |tags| Ok(tags.clone()))?;
    Ok(rest_json::ok(&json!({ "Tags": tags })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagInput {
    tags: Option<BTreeMap<String, String>>,
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_TagResource.html>
pub(super) fn tag(state: &Arc<dyn Env>, req: &AwsRequest, arn: &str) -> AwsResult<Response> {
    let input: TagInput = rest_json::input(req)?;
    let new = input.tags.ok_or_else(|| {
        AwsError::bad_request(
            "InvalidParameterValueException",
            "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
        )
    })?;
    authorize(state, req, "TagResource", arn)?;
    with_tags(state, req, arn, |tags| {
        tagging::check(tags, &new).map_err(|e| AwsError::bad_request("InvalidParameterValueException", e))?;
        tags.extend(new);
        Ok(())
    })?;
    Ok(rest_json::empty(StatusCode::NO_CONTENT))
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_UntagResource.html> (`tagKeys` repeated in the query)
pub(super) fn untag(state: &Arc<dyn Env>, req: &AwsRequest, arn: &str) -> AwsResult<Response> {
    let keys: Vec<&str> = req.query.iter().filter(|(k, _)| k == "tagKeys").map(|(_, v)| v.as_str()).collect();
    if keys.is_empty() {
        return Err(AwsError::bad_request(
            "InvalidParameterValueException",
            "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
        ));
    }
    authorize(state, req, "UntagResource", arn)?;
    with_tags(state, req, arn, |tags| {
        for key in keys {
            tags.remove(key);
        }
        Ok(())
    })?;
    Ok(rest_json::empty(StatusCode::NO_CONTENT))
}
