//! Tags on REST APIs, stages, API keys and usage plans: TagResource, GetTags, UntagResource
//! (`/tags/{resource_arn}`, the ARN URL-encoded as one path segment).
//!
//! ARNs: `arn:aws:apigateway:<region>::/restapis/<id>`, `.../restapis/<id>/stages/<name>`, `.../apikeys/<id>`,
//! `.../usageplans/<id>`.

use std::collections::BTreeMap;

use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::model::{Store, Tags};
use super::{ApiGateway, bad_request, input, not_found};
use crate::protocol::{AwsResult, Response, rest_json};
use crate::services::Call;
use crate::services::tagging::{self, Tagged};

/// A create operation's `tags`, checked against AWS's rules.
pub(super) fn check_new(tags: &Tags) -> AwsResult<()> {
    tagging::check(&Tags::new(), tags).map_err(bad_request)
}

/// Runs `f` on the tags of the resource `arn` names in this call's account and region.
fn with_tags<T>(call: &Call<'_, ApiGateway>, arn: &str, f: impl FnOnce(&mut Tags) -> AwsResult<T>) -> AwsResult<T> {
    let prefix = format!("arn:aws:apigateway:{}::/", call.region());
    let Some(path) = arn.strip_prefix(&prefix) else {
        return Err(bad_request(format!("Invalid ARN specified in the request: {arn}")));
    };
    let parts: Vec<&str> = path.split('/').collect();
    call.store(|store| {
        let tags = match parts.as_slice() {
            ["restapis", api] => store.apis.get_mut(*api).map(|a| &mut a.tags),
            ["restapis", api, "stages", stage] => {
                store.apis.get_mut(*api).and_then(|a| a.stages.get_mut(*stage)).map(|s| &mut s.tags)
            }
            ["apikeys", id] => store.api_keys.get_mut(*id).map(|k| &mut k.tags),
            ["usageplans", id] => store.usage_plans.get_mut(*id).map(|p| &mut p.tags),
            _ => return Err(bad_request(format!("Invalid ARN specified in the request: {arn}"))),
        };
        f(tags.ok_or_else(|| not_found(format!("Invalid resource identifier specified: {arn}")))?)
    })
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetTags.html>
pub(super) fn get(call: &Call<'_, ApiGateway>, arn: &str) -> AwsResult<Response> {
    let tags = with_tags(call, arn, |tags| Ok(tags.clone()))?;
    Ok(rest_json::ok(&json!({ "tags": tags })))
}

#[derive(Debug, Deserialize)]
struct TagInput {
    tags: Option<BTreeMap<String, String>>,
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_TagResource.html>
pub(super) fn tag(call: &Call<'_, ApiGateway>, arn: &str) -> AwsResult<Response> {
    let input: TagInput = input(call.req)?;
    let new = input.tags.ok_or_else(|| bad_request("Invalid request: tags must not be null"))?;
    with_tags(call, arn, |tags| {
        tagging::check(tags, &new).map_err(bad_request)?;
        tags.extend(new);
        Ok(())
    })?;
    Ok(rest_json::empty(StatusCode::NO_CONTENT))
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_UntagResource.html> (`tagKeys` repeated in the query)
pub(super) fn untag(call: &Call<'_, ApiGateway>, arn: &str) -> AwsResult<Response> {
    let keys: Vec<&str> = call.req.query.iter().filter(|(k, _)| k == "tagKeys").map(|(_, v)| v.as_str()).collect();
    if keys.is_empty() {
        return Err(bad_request("Invalid request: tagKeys must not be null"));
    }
    with_tags(call, arn, |tags| {
        for key in keys {
            tags.remove(key);
        }
        Ok(())
    })?;
    Ok(rest_json::empty(StatusCode::NO_CONTENT))
}

/// Every REST API, stage, API key and usage plan of a store with its tags.
pub(super) fn tagged(store: &Store, region: &str) -> Vec<Tagged> {
    let arn = |path: String| format!("arn:aws:apigateway:{region}::/{path}");
    let mut all = Vec::new();
    for api in store.apis.values() {
        all.push(Tagged { arn: arn(format!("restapis/{}", api.id)), tags: api.tags.clone() });
        for stage in api.stages.values() {
            let path = format!("restapis/{}/stages/{}", api.id, stage.name);
            all.push(Tagged { arn: arn(path), tags: stage.tags.clone() });
        }
    }
    all.extend(store.api_keys.values().map(|k| Tagged { arn: arn(format!("apikeys/{}", k.id)), tags: k.tags.clone() }));
    let plans = store.usage_plans.values();
    all.extend(plans.map(|p| Tagged { arn: arn(format!("usageplans/{}", p.id)), tags: p.tags.clone() }));
    all
}
