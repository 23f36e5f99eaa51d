//! Tags on compute environments, job queues, job definition revisions and jobs (`/v1/tags/{resourceArn}`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Batch, Store, client_error, required};
use crate::protocol::AwsResult;
use crate::services::Call;
use crate::services::tagging::{self, Tagged, Tags};

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

/// Every compute environment, job queue, active job definition revision and tagged job of a store.
pub(crate) fn tagged(store: &Store) -> Vec<Tagged> {
    let entry = |arn: &String, tags: &Tags| Tagged { arn: arn.clone(), tags: tags.clone() };
    let mut all: Vec<Tagged> = store.compute_environments.values().map(|ce| entry(&ce.arn, &ce.tags)).collect();
    all.extend(store.job_queues.values().map(|q| entry(&q.arn, &q.tags)));
    let definitions = store.job_definitions.values().flatten().filter(|d| d.status == "ACTIVE");
    all.extend(definitions.map(|d| entry(&d.arn, &d.tags)));
    all.extend(store.jobs.values().filter(|j| !j.tags.is_empty()).map(|j| entry(&j.arn, &j.tags)));
    all
}

fn not_found(arn: &str) -> crate::protocol::AwsError {
    client_error(format!("Resource {arn} not found."))
}

/// ListTagsForResource: <https://docs.aws.amazon.com/batch/latest/APIReference/API_ListTagsForResource.html>
pub(crate) fn list(call: &Call<'_, Batch>, arn: &str) -> AwsResult<Value> {
    call.authorize(&[arn.to_owned()])?;
    call.with_store(|store| {
        let tags = tags_of(store, arn).ok_or_else(|| not_found(arn))?;
        Ok(json!({ "tags": tags }))
    })
}

#[derive(Debug, Deserialize)]
struct TagInput {
    tags: Option<BTreeMap<String, String>>,
}

/// The tags a create operation was given, checked against AWS's rules; tagging on create needs
/// `batch:TagResource` on the new resource `arn`, as on AWS.
pub(crate) fn checked(call: &Call<'_, Batch>, arn: &str, tags: Option<Tags>) -> AwsResult<Tags> {
    let tags = tags.unwrap_or_default();
    tagging::check(&Tags::new(), &tags).map_err(client_error)?;
    if !tags.is_empty() {
        call.authorize_action("TagResource", &[arn.to_owned()])?;
    }
    Ok(tags)
}

/// TagResource: <https://docs.aws.amazon.com/batch/latest/APIReference/API_TagResource.html>
pub(crate) fn tag(call: &Call<'_, Batch>, arn: &str) -> AwsResult<Value> {
    let input: TagInput = call.input()?;
    let new_tags = required(input.tags, "tags")?;
    call.authorize(&[arn.to_owned()])?;
    call.with_store(|store| {
        let tags = tags_of(store, arn).ok_or_else(|| not_found(arn))?;
        tagging::check(tags, &new_tags).map_err(client_error)?;
        tags.extend(new_tags);
        Ok(json!({}))
    })
}

/// UntagResource: <https://docs.aws.amazon.com/batch/latest/APIReference/API_UntagResource.html>
///
/// `tagKeys` come in the query string (repeated).
pub(crate) fn untag(call: &Call<'_, Batch>, arn: &str) -> AwsResult<Value> {
    let keys: Vec<String> =
        call.req.query.iter().filter(|(k, _)| k == "tagKeys").map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let keys = required((!keys.is_empty()).then_some(keys), "tagKeys")?;
    call.authorize(&[arn.to_owned()])?;
    call.with_store(|store| {
        let tags = tags_of(store, arn).ok_or_else(|| not_found(arn))?;
        for key in keys {
            tags.remove(&key);
        }
        Ok(json!({}))
    })
}
