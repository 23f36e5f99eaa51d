//! Role and customer-managed policy tags: TagRole, UntagRole, ListRoleTags, TagPolicy, UntagPolicy,
//! ListPolicyTags, and the `Tags` of CreateRole and CreatePolicy.

use super::Iam;
use super::operations::no_such_role;
use crate::protocol::query::QueryInput;
use crate::protocol::xml::XmlWriter;
use crate::protocol::{AwsError, AwsResult, Response};
use crate::services::Call;
use crate::services::tagging::{self, Tags};

/// The request's `Tags.member.N.Key/Value`, checked against AWS's rules given the `existing` tags: InvalidInput
/// for a bad key or value, LimitExceeded (409) past 50 tags.
pub(super) fn checked(input: &QueryInput, existing: &Tags) -> AwsResult<Tags> {
    let mut tags = Tags::new();
    for member in input.struct_list("Tags") {
        let key = member.get("Key").copied().unwrap_or_default();
        if tags.insert(key.to_owned(), member.get("Value").copied().unwrap_or_default().to_owned()).is_some() {
            return Err(AwsError::bad_request("InvalidInput", format!("Duplicate tag keys found: {key}")));
        }
    }
    tagging::check(existing, &tags).map_err(|e| {
        if e.contains("at most") {
            AwsError::conflict("LimitExceeded", e)
        } else {
            AwsError::bad_request("InvalidInput", e)
        }
    })?;
    Ok(tags)
}

/// The tags of a CreateRole or CreatePolicy, which need `iam:<tag_action>` on the new `arn` too, as on AWS.
pub(super) fn on_create(call: &Call<'_, Iam>, input: &QueryInput, tag_action: &str, arn: &str) -> AwsResult<Tags> {
    let tags = checked(input, &Tags::new())?;
    if !tags.is_empty() {
        call.authorize_action(tag_action, &[arn.to_owned()])?;
    }
    Ok(tags)
}

/// `<Tags><member><Key/><Value/></member>...</Tags>`.
pub(super) fn write(w: &mut XmlWriter, tags: &Tags) {
    w.open("Tags", None);
    for (key, value) in tags {
        w.open("member", None).text("Key", key).text("Value", value).close("member");
    }
    w.close("Tags");
}

fn tag_keys(input: &QueryInput) -> AwsResult<Vec<&str>> {
    let keys = input.list("TagKeys");
    if keys.is_empty() {
        return Err(AwsError::bad_request(
            "ValidationError",
            "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
        ));
    }
    Ok(keys)
}

/// Runs `f` on the tags of the role `RoleName` names.
fn with_role_tags<T>(
    call: &Call<'_, Iam>,
    input: &QueryInput,
    f: impl FnOnce(&mut Tags) -> AwsResult<T>,
) -> AwsResult<T> {
    let name = input.required("RoleName")?;
    call.authorize(&[call.role_arn(name)])?;
    call.with_account(|account| match account.roles.get_mut(name) {
        Some(role) => f(&mut role.tags),
        None => Err(no_such_role(name)),
    })
}

/// Runs `f` on the tags of the customer-managed policy `PolicyArn` names.
fn with_policy_tags<T>(
    call: &Call<'_, Iam>,
    input: &QueryInput,
    f: impl FnOnce(&mut Tags) -> AwsResult<T>,
) -> AwsResult<T> {
    let arn = input.required("PolicyArn")?;
    call.authorize(&[arn.to_owned()])?;
    call.with_account(|account| match account.policies.get_mut(arn) {
        Some(policy) => f(&mut policy.tags),
        None => Err(AwsError::not_found("NoSuchEntity", format!("Policy {arn} was not found."))),
    })
}

/// ListRoleTags and ListPolicyTags: by key, paged like every IAM list ([`super::operations::page`]).
fn list_response(call: &Call<'_, Iam>, input: &QueryInput, tags: Tags) -> AwsResult<Response> {
    let page = super::operations::page(input, tags.into_iter().map(|(k, v)| (k.clone(), (k, v))).collect())?;
    let tags: Tags = page.items.into_iter().collect();
    Ok(call.respond(|w| {
        write(w, &tags);
        super::operations::write_truncation(w, page.next.as_deref());
    }))
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagRole.html>
pub(super) fn tag_role(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    with_role_tags(call, input, |tags| {
        let new = checked(input, tags)?;
        tags.extend(new);
        Ok(())
    })?;
    Ok(call.respond_empty())
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_UntagRole.html>
pub(super) fn untag_role(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let keys = tag_keys(input)?;
    with_role_tags(call, input, |tags| {
        keys.iter().for_each(|k| drop(tags.remove(*k)));
        Ok(())
    })?;
    Ok(call.respond_empty())
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoleTags.html> (paged)
pub(super) fn list_role_tags(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let tags = with_role_tags(call, input, |tags| Ok(tags.clone()))?;
    list_response(call, input, tags)
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagPolicy.html>
pub(super) fn tag_policy(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    with_policy_tags(call, input, |tags| {
        let new = checked(input, tags)?;
        tags.extend(new);
        Ok(())
    })?;
    Ok(call.respond_empty())
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_UntagPolicy.html>
pub(super) fn untag_policy(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let keys = tag_keys(input)?;
    with_policy_tags(call, input, |tags| {
        keys.iter().for_each(|k| drop(tags.remove(*k)));
        Ok(())
    })?;
    Ok(call.respond_empty())
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicyTags.html> (paged)
pub(super) fn list_policy_tags(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let tags = with_policy_tags(call, input, |tags| Ok(tags.clone()))?;
    list_response(call, input, tags)
}
