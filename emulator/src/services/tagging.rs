//! Tags, as every service here keeps them, and the Resource Groups Tagging API (awsJson1.1,
//! `X-Amz-Target: ResourceGroupsTaggingAPI_20170126.<Operation>`, signing name `tagging`), whose `GetResources`
//! finds tagged resources across services.
//!
//! <https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html>
//!
//! Each service stores its resources' tags and answers its own tagging operations; for `GetResources` it lists
//! what it holds through [`Tagged`] (one account, one region). As on AWS, IAM roles are not returned by
//! `GetResources` ("The GetResources operation does not currently support IAM users and roles"), and neither are
//! IAM policies here: find those with IAM's own `ListRoleTags` / `ListPolicyTags`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::protocol::json::{self as json_protocol, parse};
use crate::protocol::{AwsError, AwsRequest, AwsResult, Response};
use crate::services::iam::Protocol;
use crate::services::{Authorize, Call, Service, TaggedResources, pagination};

/// A resource's tags, by key.
pub type Tags = BTreeMap<String, String>;

pub const TARGET_PREFIX: &str = "ResourceGroupsTaggingAPI_20170126";

/// At most this many tags on one resource (every service here).
pub const MAX_TAGS: usize = 50;

/// AWS's rules for tags, common to the services here: at most 50 per resource (counting those it already has,
/// unless a new value replaces one), keys of 1 to 128 characters that do not start with `aws:` (reserved), values
/// of at most 256. The error names the rule; each service wraps it in its own error code.
pub fn check(existing: &Tags, new: &Tags) -> Result<(), String> {
    for (key, value) in new {
        if key.is_empty() || key.chars().count() > 128 {
            return Err(format!("Tag key {key:?} must be 1 to 128 characters long"));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(format!("Tag key {key:?} starts with the reserved prefix aws:"));
        }
        if value.chars().count() > 256 {
            return Err(format!("The value of tag {key:?} is longer than 256 characters"));
        }
    }
    let total = existing.keys().chain(new.keys().filter(|k| !existing.contains_key(*k))).count();
    if total > MAX_TAGS {
        return Err(format!("A resource can have at most {MAX_TAGS} tags; this would give it {total}"));
    }
    Ok(())
}

/// A resource and its tags, as a service lists it for `GetResources`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    pub arn: String,
    pub tags: Tags,
}

/// Serves one Resource Groups Tagging API request over the resources of `services`.
pub async fn handle(services: &[&dyn TaggedResources], iam: &dyn Authorize, req: AwsRequest) -> Response {
    match dispatch(services, iam, &req) {
        Ok(output) => json_protocol::ok(&output),
        Err(err) => json_protocol::error(&err),
    }
}

/// The Resource Groups Tagging API for one request: it holds nothing of its own, it reads every service's tagged
/// resources.
struct Tagging<'a> {
    services: &'a [&'a dyn TaggedResources],
}

impl Service for Tagging<'_> {
    const IAM_PREFIX: &'static str = "tag";
    const PROTOCOL: Protocol = Protocol::Json;
}

impl Call<'_, Tagging<'_>> {
    /// Every resource the services hold in the caller's account and region.
    fn resources(&self) -> Vec<Tagged> {
        everything(self.service.services, self.account_id(), self.region())
    }
}

/// One `match` from `X-Amz-Target`'s operation to what it does; each asks IAM for `tag:<operation>` on `*`.
fn dispatch(services: &[&dyn TaggedResources], iam: &dyn Authorize, req: &AwsRequest) -> AwsResult<Value> {
    let operation = json_protocol::operation(req, TARGET_PREFIX)?;
    let input: Value = json_protocol::input_value(req)?;
    let tagging = Tagging { services };
    let call = Call { service: &tagging, req, iam, operation };
    let everywhere = ["*".to_owned()];
    match operation {
        "GetResources" => {
            let input: GetResourcesInput = parse(input)?;
            call.authorize(&everywhere)?;
            get_resources(input, call.resources())
        }
        "GetTagKeys" => {
            call.authorize(&everywhere)?;
            let keys: std::collections::BTreeSet<String> =
                call.resources().into_iter().flat_map(|r| r.tags.into_keys()).collect();
            Ok(json!({ "TagKeys": keys, "PaginationToken": "" }))
        }
        "GetTagValues" => {
            #[derive(Deserialize)]
            #[serde(rename_all = "PascalCase")]
            struct Input {
                key: Option<String>,
            }
            let input: Input = parse(input)?;
            let key = input.key.ok_or_else(|| invalid("Key is required"))?;
            call.authorize(&everywhere)?;
            let values: std::collections::BTreeSet<String> =
                call.resources().into_iter().filter_map(|mut r| r.tags.remove(&key)).collect();
            Ok(json!({ "TagValues": values, "PaginationToken": "" }))
        }
        other => Err(AwsError::bad_request(
            "UnknownOperationException",
            format!("crts-emulator does not implement the Resource Groups Tagging API operation {other}"),
        )),
    }
}

/// Every tagged resource the services hold in this account and region (untagged ones too: `GetResources`
/// without filters returns resources that once had tags; here, every resource that can have them).
fn everything(services: &[&dyn TaggedResources], account: &str, region: &str) -> Vec<Tagged> {
    let mut all: Vec<Tagged> = services.iter().flat_map(|service| service.tagged(account, region)).collect();
    all.sort_by(|a, b| a.arn.cmp(&b.arn));
    all
}

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidParameterException", message)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetResourcesInput {
    pagination_token: Option<String>,
    #[serde(default)]
    tag_filters: Vec<TagFilter>,
    resources_per_page: Option<i64>,
    #[serde(default)]
    resource_type_filters: Vec<String>,
    #[serde(default, rename = "ResourceARNList")]
    resource_arn_list: Vec<String>,
    #[serde(default)]
    #[allow(dead_code, reason = "accepted; every resource is returned with its tags")]
    include_compliance_details: Option<bool>,
    #[serde(default)]
    #[allow(dead_code, reason = "accepted; there are no tag policies")]
    exclude_compliant_resources: Option<bool>,
    /// Accepted (refused with ResourceARNList); not a limit here.
    #[serde(default)]
    tags_per_page: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagFilter {
    key: Option<String>,
    #[serde(default)]
    values: Vec<String>,
}

/// GetResources: filters (tag keys with any of their values; resource types `service` or `service:type`; an ARN
/// list, which excludes the other two, as on AWS), pages of `ResourcesPerPage` (1-100, default 50) with an
/// opaque token ([`pagination`]: by ARN, so a page is stable while resources are added).
fn get_resources(input: GetResourcesInput, resources: Vec<Tagged>) -> AwsResult<Value> {
    let paged = input.resources_per_page.is_some() || input.tags_per_page.is_some() || input.pagination_token.is_some();
    if !input.resource_arn_list.is_empty()
        && (!input.tag_filters.is_empty() || !input.resource_type_filters.is_empty() || paged)
    {
        return Err(invalid(
            "ResourceARNList cannot be used together with TagFilters, ResourceTypeFilters, ResourcesPerPage, \
             TagsPerPage or PaginationToken",
        ));
    }
    if input.tag_filters.len() > 50 {
        return Err(invalid("TagFilters can hold at most 50 filters"));
    }
    let mut filters = Vec::new();
    for filter in &input.tag_filters {
        let key = filter.key.clone().filter(|k| !k.is_empty()).ok_or_else(|| invalid("A TagFilter needs a Key"))?;
        filters.push((key, &filter.values));
    }
    let matches = |r: &Tagged| {
        let tags_ok = filters.iter().all(|(key, values)| {
            r.tags.get(key).is_some_and(|value| values.is_empty() || values.iter().any(|v| v == value))
        });
        let type_ok = input.resource_type_filters.is_empty()
            || input.resource_type_filters.iter().any(|t| type_matches(t, &r.arn));
        let arn_ok = input.resource_arn_list.is_empty() || input.resource_arn_list.contains(&r.arn);
        tags_ok && type_ok && arn_ok
    };
    let selected: Vec<(String, Value)> = resources
        .iter()
        .filter(|r| matches(r))
        .map(|r| {
            let tags: Vec<Value> = r.tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
            (r.arn.clone(), json!({ "ResourceARN": r.arn, "Tags": tags }))
        })
        .collect();
    let size = pagination::PageSize { default: 50, max: 100 };
    let per_page = input.resources_per_page;
    let page = pagination::page(selected, size, per_page, input.pagination_token.as_deref()).map_err(|e| match e {
        pagination::PageError::Token => {
            AwsError::bad_request("PaginationTokenExpiredException", "The PaginationToken is invalid or has expired")
        }
        pagination::PageError::Limit { requested, .. } => {
            invalid(format!("ResourcesPerPage must be between 1 and 100, not {requested}"))
        }
    })?;
    Ok(json!({ "PaginationToken": page.next.unwrap_or_default(), "ResourceTagMappingList": page.items }))
}

/// `service` (e.g. `s3`) or `service:type` (e.g. `apigateway:restapis`, `batch:job-queue`, `s3:bucket`): the
/// ARN's service, and the first word of its resource part (a bucket ARN is all name: its type is `bucket`).
fn type_matches(filter: &str, arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let service = parts.nth(2).unwrap_or_default();
    let resource = parts.nth(2).unwrap_or_default();
    let kind = if service == "s3" {
        "bucket"
    } else {
        resource.trim_start_matches('/').split(['/', ':']).next().unwrap_or_default()
    };
    match filter.split_once(':') {
        None => filter == service,
        Some((s, t)) => s == service && t == kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagged(arn: &str, tags: &[(&str, &str)]) -> Tagged {
        Tagged { arn: arn.into(), tags: tags.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect() }
    }

    fn input(value: Value) -> GetResourcesInput {
        serde_json::from_value(value).expect("a GetResources input")
    }

    fn arns(out: &Value) -> Vec<String> {
        let list = out["ResourceTagMappingList"].as_array().expect("a list");
        list.iter().map(|r| r["ResourceARN"].as_str().expect("an ARN").to_owned()).collect()
    }

    #[test]
    fn tag_rules_are_awss() {
        let one: Tags = [("a".to_owned(), "1".to_owned())].into();
        assert_eq!(check(&Tags::new(), &one), Ok(()));
        let reserved = check(&Tags::new(), &[("aws:x".to_owned(), String::new())].into());
        assert!(reserved.expect_err("aws: is reserved").contains("aws:"));
        assert!(check(&Tags::new(), &[(String::new(), String::new())].into()).is_err());
        assert!(check(&Tags::new(), &[("k".to_owned(), "v".repeat(257))].into()).is_err());
        let fifty: Tags = (0..50).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(check(&fifty, &[("k1".to_owned(), "replaced".to_owned())].into()), Ok(()));
        assert!(check(&fifty, &one).expect_err("51 tags").contains("at most 50"));
    }

    #[test]
    fn get_resources_filters_by_tag_type_and_pages() {
        let all = vec![
            tagged("arn:aws:apigateway:us-east-1::/restapis/a1", &[("run", "1")]),
            tagged("arn:aws:batch:us-east-1:1:job-queue/q", &[("run", "1"), ("x", "y")]),
            tagged("arn:aws:s3:::b", &[("run", "2")]),
            tagged("arn:aws:s3:::c", &[]),
        ];
        let run = |value: Value| get_resources(input(value), all.clone()).expect("GetResources answers");
        assert_eq!(arns(&run(json!({"TagFilters": [{"Key": "run"}]}))).len(), 3);
        assert_eq!(
            arns(&run(json!({"TagFilters": [{"Key": "run", "Values": ["1"]}]}))),
            ["arn:aws:apigateway:us-east-1::/restapis/a1", "arn:aws:batch:us-east-1:1:job-queue/q"]
        );
        assert_eq!(arns(&run(json!({"ResourceTypeFilters": ["s3"]}))), ["arn:aws:s3:::b", "arn:aws:s3:::c"]);
        assert_eq!(arns(&run(json!({"ResourceTypeFilters": ["s3:bucket"]}))), ["arn:aws:s3:::b", "arn:aws:s3:::c"]);
        assert_eq!(arns(&run(json!({"ResourceTypeFilters": ["apigateway:restapis", "batch:job-queue"]}))).len(), 2);
        let first = run(json!({"ResourcesPerPage": 3}));
        assert_eq!(arns(&first).len(), 3);
        let token = first["PaginationToken"].as_str().expect("a token");
        assert!(!token.is_empty());
        let second = run(json!({"ResourcesPerPage": 3, "PaginationToken": token}));
        assert_eq!(arns(&second), ["arn:aws:s3:::c"]);
        assert_eq!(second["PaginationToken"], "");
        let bad = get_resources(input(json!({"PaginationToken": "zz"})), all.clone());
        assert_eq!(bad.expect_err("a bad token").code, "PaginationTokenExpiredException");
        let mixed = input(json!({"ResourceARNList": ["arn:aws:s3:::b"], "TagFilters": [{"Key": "run"}]}));
        assert_eq!(get_resources(mixed, all.clone()).expect_err("exclusive").code, "InvalidParameterException");
        let paged = input(json!({"ResourceARNList": ["arn:aws:s3:::b"], "ResourcesPerPage": 5}));
        assert_eq!(get_resources(paged, all.clone()).expect_err("exclusive").code, "InvalidParameterException");
        assert_eq!(arns(&run(json!({"ResourceARNList": ["arn:aws:s3:::b"]}))), ["arn:aws:s3:::b"]);
    }

    /// One service's resources, whatever the account and region asked.
    struct Fixed(Vec<Tagged>);

    impl TaggedResources for Fixed {
        fn tagged(&self, _account: &str, _region: &str) -> Vec<Tagged> {
            self.0.clone()
        }
    }

    async fn call(operation: &str, body: Value, caller: crate::identity::Caller) -> (u16, Value) {
        let buckets = Fixed(vec![tagged("arn:aws:s3:::b", &[("run", "1")])]);
        let mut req = crate::protocol::test_request(http::Method::POST, "/", body.to_string().as_bytes(), caller);
        let target = format!("{TARGET_PREFIX}.{operation}");
        req.headers.insert("x-amz-target", http::HeaderValue::from_str(&target).expect("a header value"));
        let response = handle(&[&buckets], &crate::services::test_support::DenyRoles, req).await;
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// Through the entry point: the services' resources by tag, and the refusals (a role session IAM refuses, an
    /// operation the API does not have).
    #[tokio::test]
    async fn the_entry_point_lists_by_tag_and_refuses_as_the_api_does() {
        use crate::services::test_support::{account, role_session};
        let (status, out) = call("GetResources", json!({"TagFilters": [{"Key": "run"}]}), account()).await;
        assert_eq!((status, arns(&out)), (200, vec!["arn:aws:s3:::b".to_owned()]), "{out}");
        let (status, out) = call("GetTagKeys", json!({}), account()).await;
        assert_eq!((status, out["TagKeys"].clone()), (200, json!(["run"])), "{out}");
        let (status, refused) = call("GetResources", json!({}), role_session()).await;
        assert_eq!((status, refused["__type"].as_str()), (400, Some("AccessDeniedException")), "{refused}");
        assert!(refused["message"].as_str().is_some_and(|m| m.contains("tag:GetResources")), "{refused}");
        let (status, unknown) = call("MakeCoffee", json!({}), account()).await;
        assert_eq!((status, unknown["__type"].as_str()), (400, Some("UnknownOperationException")), "{unknown}");
    }
}
