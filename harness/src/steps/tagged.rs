//! What provisioned runs left in an account, found by their `crts-harness:run-id` tag rather than a journal
//! (the journal can be lost with a CI runner), and removed resource by resource with the same removals the
//! steps' teardowns use.
//!
//! Found through the Resource Groups Tagging API's `GetResources` (Lambda, Batch, API Gateway, ECR, S3), plus IAM,
//! which `GetResources` does not cover: roles and customer-managed policies whose names carry a run suffix
//! (`-crts-`), confirmed with `ListRoleTags` / `ListPolicyTags`.

use std::collections::BTreeMap;

use aws_sdk_resourcegroupstagging::types::TagFilter;

use super::{CREATED_TAG, RUN_ID_TAG, RunContext, StepError, optional};

/// One resource a provisioned run made, by ARN, with the run id its tag names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedResource {
    pub arn: String,
    pub run_id: String,
    /// The `crts-harness:created` tag: when the run started (RFC 3339).
    pub created: Option<String>,
}

impl TaggedResource {
    /// What kind of resource the ARN names, in teardown order (earlier kinds are removed first).
    fn rank(&self) -> usize {
        let kind = kind(&self.arn);
        ORDER.iter().position(|k| *k == kind).unwrap_or(ORDER.len())
    }
}

/// Teardown order for leftovers of any run: what uses a resource goes before it.
const ORDER: &[&str] = &[
    "apigateway:usageplans",
    "apigateway:apikeys",
    "apigateway:restapis",
    "lambda:function",
    "batch:job-queue",
    "batch:job-definition",
    "batch:compute-environment",
    "ecr:repository",
    "s3:bucket",
    "iam:policy",
    "iam:role",
];

/// `service:type` of an ARN (`apigateway:restapis`, `batch:job-queue`, `s3:bucket`, ...).
fn kind(arn: &str) -> String {
    let mut parts = arn.splitn(6, ':');
    let service = parts.nth(2).unwrap_or_default();
    let resource = parts.nth(2).unwrap_or_default();
    if service == "s3" {
        return "s3:bucket".to_owned();
    }
    let kind = resource.trim_start_matches('/').split(['/', ':']).next().unwrap_or_default();
    format!("{service}:{kind}")
}

/// Every resource tagged with `crts-harness:run-id` (any run), in teardown order. Stages are left out: they go
/// with their REST API.
pub async fn find(ctx: &RunContext) -> Result<Vec<TaggedResource>, StepError> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = ctx
            .tagging
            .get_resources()
            .tag_filters(TagFilter::builder().key(RUN_ID_TAG).build())
            .set_pagination_token(token.clone())
            .send()
            .await
            .map_err(|e| StepError::sdk("GetResources", e))?;
        for mapping in page.resource_tag_mapping_list() {
            let tag = |key: &str| mapping.tags().iter().find(|t| t.key() == key).map(|t| t.value().to_owned());
            if let (Some(arn), Some(run_id)) = (mapping.resource_arn(), tag(RUN_ID_TAG))
                && !arn.contains("/stages/")
            {
                found.push(TaggedResource { arn: arn.to_owned(), run_id, created: tag(CREATED_TAG) });
            }
        }
        token = page.pagination_token().filter(|t| !t.is_empty()).map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    // Deregistered job definition revisions keep their tags (AWS keeps them, INACTIVE): nothing is left to remove.
    let mut active = Vec::with_capacity(found.len());
    for resource in found {
        if kind(&resource.arn) == "batch:job-definition" {
            let described = ctx.batch.describe_job_definitions().job_definitions(&resource.arn).send().await;
            let described = described.map_err(|e| StepError::sdk("DescribeJobDefinitions", e))?;
            if !described.job_definitions().iter().any(|d| d.status() == Some("ACTIVE")) {
                continue;
            }
        }
        active.push(resource);
    }
    let mut found = active;
    found.extend(iam_roles(ctx).await?);
    found.extend(iam_policies(ctx).await?);
    found.sort_by_key(|r| (r.rank(), r.arn.clone()));
    Ok(found)
}

/// Whether a name ends in a run suffix (`...-crts-<id>`): only those IAM resources' tags are read.
fn has_run_suffix(name: &str) -> bool {
    name.rsplit_once("-crts-").is_some_and(|(_, id)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
}

async fn iam_roles(ctx: &RunContext) -> Result<Vec<TaggedResource>, StepError> {
    let mut found = Vec::new();
    let mut pages = ctx.iam.list_roles().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| StepError::sdk("ListRoles", e))?;
        for role in page.roles().iter().filter(|r| has_run_suffix(r.role_name())) {
            let tags = ctx.iam.list_role_tags().role_name(role.role_name()).send().await;
            let tags = tags.map_err(|e| StepError::sdk("ListRoleTags", e))?;
            if let Some(resource) = iam_resource(role.arn(), tags.tags()) {
                found.push(resource);
            }
        }
    }
    Ok(found)
}

async fn iam_policies(ctx: &RunContext) -> Result<Vec<TaggedResource>, StepError> {
    let mut found = Vec::new();
    let local = aws_sdk_iam::types::PolicyScopeType::Local;
    let mut pages = ctx.iam.list_policies().scope(local).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| StepError::sdk("ListPolicies", e))?;
        for policy in page.policies().iter().filter(|p| p.policy_name().is_some_and(has_run_suffix)) {
            let Some(arn) = policy.arn() else { continue };
            let tags = ctx.iam.list_policy_tags().policy_arn(arn).send().await;
            let tags = tags.map_err(|e| StepError::sdk("ListPolicyTags", e))?;
            if let Some(resource) = iam_resource(arn, tags.tags()) {
                found.push(resource);
            }
        }
    }
    Ok(found)
}

fn iam_resource(arn: &str, tags: &[aws_sdk_iam::types::Tag]) -> Option<TaggedResource> {
    let tag = |key: &str| tags.iter().find(|t| t.key() == key).map(|t| t.value().to_owned());
    Some(TaggedResource { arn: arn.to_owned(), run_id: tag(RUN_ID_TAG)?, created: tag(CREATED_TAG) })
}

/// Removes one resource [`find`] found by its tag, if it still carries the run's tag when it is read again just
/// before (`ctx.owner` is the run): the tag search can lag, and a name can be reused by someone else in between.
/// `roles` are the same run's tagged IAM role names, which its policies are detached from before they are deleted.
pub async fn remove(ctx: &RunContext, resource: &TaggedResource, roles: &[&str]) -> Result<Vec<String>, StepError> {
    let arn = resource.arn.as_str();
    let last = arn.rsplit(['/', ':']).next().unwrap_or(arn);
    let what = arn.to_owned();
    let Some(tags) = live_tags(ctx, arn, last).await? else { return Ok(Vec::new()) };
    ctx.ensure_owned(arn, tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    match kind(arn).as_str() {
        "apigateway:usageplans" => super::apigateway::remove_usage_plan(ctx, last).await,
        "apigateway:apikeys" => super::apigateway::remove_api_key(ctx, last, last).await,
        "apigateway:restapis" => super::apigateway::remove_rest_api(ctx, last, last).await,
        "lambda:function" => super::lambda::remove_function(ctx, last).await,
        "batch:job-queue" => super::batch::remove_job_queue(ctx, last).await,
        "batch:job-definition" => super::batch::deregister(ctx, arn).await,
        "batch:compute-environment" => super::batch::remove_compute_environment(ctx, last).await,
        "ecr:repository" => {
            super::ecr::remove_repository(ctx, arn.split_once(":repository/").map_or(last, |(_, n)| n)).await
        }
        "s3:bucket" => super::s3::remove_bucket(ctx, last).await,
        "iam:policy" => super::iam::remove_policy(ctx, arn, roles).await,
        "iam:role" => super::iam::remove_role(ctx, last).await,
        other => Err(StepError::unexpected(format!("{what}: cleanup does not know how to remove a {other}"))),
    }
}

/// The tags a resource carries now, read from its own service; `None` when it is gone.
async fn live_tags(ctx: &RunContext, arn: &str, last: &str) -> Result<Option<Vec<(String, String)>>, StepError> {
    type Pairs = Vec<(String, String)>;
    let from_map = |tags: Option<&std::collections::HashMap<String, String>>| -> Pairs {
        super::tag_pairs(tags).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    };
    let tags = match kind(arn).as_str() {
        "apigateway:usageplans" => {
            let plan = optional("GetUsagePlan", ctx.apigateway.get_usage_plan().usage_plan_id(last).send().await)?;
            plan.map(|p| from_map(p.tags()))
        }
        "apigateway:apikeys" => {
            optional("GetApiKey", ctx.apigateway.get_api_key().api_key(last).send().await)?.map(|k| from_map(k.tags()))
        }
        "apigateway:restapis" => {
            let api = optional("GetRestApi", ctx.apigateway.get_rest_api().rest_api_id(last).send().await)?;
            api.map(|a| from_map(a.tags()))
        }
        "lambda:function" => {
            let function = optional("GetFunction", ctx.lambda.get_function().function_name(last).send().await)?;
            function.map(|f| from_map(f.tags()))
        }
        "batch:job-queue" => {
            let described = ctx.batch.describe_job_queues().job_queues(arn).send().await;
            let described = described.map_err(|e| StepError::sdk("DescribeJobQueues", e))?;
            described.job_queues().first().map(|q| from_map(q.tags()))
        }
        "batch:compute-environment" => {
            let described = ctx.batch.describe_compute_environments().compute_environments(arn).send().await;
            let described = described.map_err(|e| StepError::sdk("DescribeComputeEnvironments", e))?;
            described.compute_environments().first().map(|ce| from_map(ce.tags()))
        }
        "batch:job-definition" => {
            let described = ctx.batch.describe_job_definitions().job_definitions(arn).send().await;
            let described = described.map_err(|e| StepError::sdk("DescribeJobDefinitions", e))?;
            let active = described.job_definitions().iter().find(|d| d.status() == Some("ACTIVE"));
            active.map(|d| from_map(d.tags()))
        }
        "ecr:repository" => {
            let listed =
                optional("ListTagsForResource", ctx.ecr.list_tags_for_resource().resource_arn(arn).send().await)?;
            listed.map(|l| l.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect())
        }
        "s3:bucket" => super::s3::bucket_tags(ctx, last).await?,
        "iam:policy" => {
            let listed = optional("ListPolicyTags", ctx.iam.list_policy_tags().policy_arn(arn).send().await)?;
            listed.map(|l| l.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect())
        }
        "iam:role" => {
            let listed = optional("ListRoleTags", ctx.iam.list_role_tags().role_name(last).send().await)?;
            listed.map(|l| l.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect())
        }
        other => return Err(StepError::unexpected(format!("{arn}: cleanup does not know how to read a {other}"))),
    };
    Ok(tags)
}

/// Groups `found` by run id, keeping teardown order within each run.
pub fn by_run(found: Vec<TaggedResource>) -> BTreeMap<String, Vec<TaggedResource>> {
    let mut runs: BTreeMap<String, Vec<TaggedResource>> = BTreeMap::new();
    for resource in found {
        runs.entry(resource.run_id.clone()).or_default().push(resource);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_sort_into_teardown_order() {
        let mut all: Vec<TaggedResource> = [
            "arn:aws:iam::1:role/crts-role-crts-abc",
            "arn:aws:s3:::site-crts-abc",
            "arn:aws:batch:us-east-1:1:compute-environment/ce-crts-abc",
            "arn:aws:batch:us-east-1:1:job-queue/q-crts-abc",
            "arn:aws:apigateway:us-east-1::/restapis/a1b2",
            "arn:aws:apigateway:us-east-1::/usageplans/p1",
            "arn:aws:iam::1:policy/submit-crts-abc",
        ]
        .iter()
        .map(|arn| TaggedResource { arn: (*arn).to_owned(), run_id: "abc".into(), created: None })
        .collect();
        all.sort_by_key(|r| (r.rank(), r.arn.clone()));
        let kinds: Vec<String> = all.iter().map(|r| kind(&r.arn)).collect();
        assert_eq!(
            kinds,
            [
                "apigateway:usageplans",
                "apigateway:restapis",
                "batch:job-queue",
                "batch:compute-environment",
                "s3:bucket",
                "iam:policy",
                "iam:role"
            ]
        );
        assert!(has_run_suffix("CrtsLambdaRole-crts-3f9a1c"));
        assert!(!has_run_suffix("ecsTaskExecutionRole"));
    }
}
