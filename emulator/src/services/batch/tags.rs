//! Tags on compute environments, job queues, job definition revisions and jobs (`/v1/tags/{resourceArn}`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Op, Store, client_error, required};
use crate::protocol::AwsResult;

/// The tags of the resource `arn` names, if it exists.
fn tags_of<'a>(store: &'a mut Store, arn: &str) -> Option<&'a mut BTreeMap<String, String>> {
    if let Some(ce) = store.compute_environments.values_mut().find(|ce| ce.arn == arn) {
        return Some(&mut ce.tags);
    }
    if let Some(queue) = store.job_queues.values_mut().find(|q| q.arn == arn) {
        return Some(&mut queue.tags);
    }
    if let Some(definition) = store.job_definitions.values_mut().flatten().find(|d| d.arn == arn) {
        return Some(&mut definition.tags);
    }
    store.jobs.values_mut().find(|j| j.arn == arn).map(|j| &mut j.tags)
}

fn not_found(arn: &str) -> crate::protocol::AwsError {
    client_error(format!("Resource {arn} not found."))
}

/// ListTagsForResource: <https://docs.aws.amazon.com/batch/latest/APIReference/API_ListTagsForResource.html>
pub(crate) fn list(op: &Op<'_>, arn: &str) -> AwsResult<Value> {
    op.authorize("ListTagsForResource", &[arn.to_owned()])?;
    op.with_store(|store| {
        let tags = tags_of(store, arn).ok_or_else(|| not_found(arn))?;
        Ok(json!({ "tags": tags }))
    })
}

#[derive(Debug, Deserialize)]
struct TagInput {
    tags: Option<BTreeMap<String, String>>,
}

/// TagResource: <https://docs.aws.amazon.com/batch/latest/APIReference/API_TagResource.html>
///
/// Deviation: AWS's limit of 50 tags and its key/value length limits are not enforced.
pub(crate) fn tag(op: &Op<'_>, arn: &str) -> AwsResult<Value> {
    let input: TagInput = op.input()?;
    let new_tags = required(input.tags, "tags")?;
    op.authorize("TagResource", &[arn.to_owned()])?;
    op.with_store(|store| {
        let tags = tags_of(store, arn).ok_or_else(|| not_found(arn))?;
        tags.extend(new_tags);
        Ok(json!({}))
    })
}

/// UntagResource: <https://docs.aws.amazon.com/batch/latest/APIReference/API_UntagResource.html>
///
/// `tagKeys` come in the query string (repeated).
pub(crate) fn untag(op: &Op<'_>, arn: &str) -> AwsResult<Value> {
    let keys: Vec<String> =
        op.req.query.iter().filter(|(k, _)| k == "tagKeys").map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let keys = required((!keys.is_empty()).then_some(keys), "tagKeys")?;
    op.authorize("UntagResource", &[arn.to_owned()])?;
    op.with_store(|store| {
        let tags = tags_of(store, arn).ok_or_else(|| not_found(arn))?;
        for key in keys {
            tags.remove(&key);
        }
        Ok(json!({}))
    })
}
