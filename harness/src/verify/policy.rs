//! The least-privilege IAM policy a `verify` run needs: the union of what each of the scenario's steps and checks
//! reads ([`crate::steps::StepAction::reads`], [`crate::checks::CheckName::iam_actions`]), all read-only actions.
//! Tests prove it by enforcement: verify as a role session holding exactly this policy passes; without one of the
//! actions the step that needs it is `denied`, naming it.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::scenario::Scenario;

/// An IAM policy document, its keys in the order IAM writes them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub sid: &'static str,
    pub effect: &'static str,
    pub action: Vec<&'static str>,
    pub resource: Resource,
}

/// A statement's `Resource`: one ARN pattern, or several.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Resource {
    One(&'static str),
    Many(Vec<&'static str>),
}

/// The policy document for verifying `scenario`; `trigger_job` adds what `--trigger-job` needs (its reads, and the
/// temporary API key's writes).
pub fn verify_policy(scenario: &Scenario, trigger_job: bool) -> PolicyDocument {
    let actions: BTreeSet<&'static str> = scenario
        .steps
        .iter()
        .flat_map(|step| step.action.reads().iter().copied())
        .chain(scenario.checks.iter().flat_map(|check| check.iam_actions(trigger_job).iter().copied()))
        .collect();
    PolicyDocument {
        version: "2012-10-17",
        statement: vec![Statement {
            sid: if trigger_job { "CrtsHarnessVerifyTriggerJob" } else { "CrtsHarnessVerifyReadOnly" },
            effect: "Allow",
            action: actions.into_iter().collect(),
            resource: Resource::One("*"),
        }],
    }
}

/// The policy document for `run --provision` of `scenario`: what its steps apply, read back and tear down, and
/// what its checks do (a job, a temporary API key). Reads are allowed on `*` (AWS's list and describe actions
/// take no resource); every change is allowed only on the run's resources, by [`PROVISION_SCOPES`].
pub fn provision_policy(scenario: &Scenario) -> PolicyDocument {
    let actions: BTreeSet<&'static str> = scenario
        .steps
        .iter()
        .flat_map(|step| step.action.reads().iter().chain(step.action.changes()).copied())
        .chain(scenario.checks.iter().flat_map(|check| check.iam_actions(true).iter().copied()))
        .chain(CLEANUP_READS.iter().copied())
        .collect();
    let (reads, changes): (Vec<&'static str>, Vec<&'static str>) =
        actions.into_iter().partition(|action| is_read_only(action));
    let mut statement = vec![Statement {
        sid: "CrtsHarnessProvisionRead",
        effect: "Allow",
        action: reads,
        resource: Resource::One("*"),
    }];
    for (sid, applies, resources) in PROVISION_SCOPES {
        let action: Vec<&'static str> = changes.iter().copied().filter(|a| applies(a)).collect();
        if !action.is_empty() {
            statement.push(Statement { sid, effect: "Allow", action, resource: Resource::Many(resources.to_vec()) });
        }
    }
    let covered = |a: &&str| PROVISION_SCOPES.iter().any(|(_, applies, _)| applies(a));
    let rest: Vec<&'static str> = changes.iter().copied().filter(|a| !covered(a)).collect();
    if !rest.is_empty() {
        statement.push(Statement {
            sid: "CrtsHarnessProvisionOther",
            effect: "Allow",
            action: rest,
            resource: Resource::One("*"),
        });
    }
    PolicyDocument { version: "2012-10-17", statement }
}

/// What `cleanup` reads to find runs by tag: the Resource Groups Tagging API, and IAM, which it does not cover.
const CLEANUP_READS: &[&str] =
    &["tag:GetResources", "iam:ListRoles", "iam:ListRoleTags", "iam:ListPolicies", "iam:ListPolicyTags"];

type Scope = (&'static str, fn(&str) -> bool, &'static [&'static str]);

/// Where a provisioned run's changes are allowed, by service: the names every provisioned resource has (they end
/// in `-crts-<run id>`), or for API Gateway, whose ARNs carry ids AWS assigns, its REST APIs, keys, usage plans and
/// tags (not the account's settings, domain names or VPC links). Batch jobs have AWS-assigned ids too: `job/*`.
const PROVISION_SCOPES: &[Scope] = &[
    (
        "CrtsHarnessBatchServiceLinkedRole",
        |a| a == "iam:CreateServiceLinkedRole",
        &["arn:aws:iam::*:role/aws-service-role/batch.amazonaws.com/*"],
    ),
    (
        "CrtsHarnessProvisionIam",
        |a| a.starts_with("iam:") && a != "iam:CreateServiceLinkedRole",
        &["arn:aws:iam::*:role/*-crts-*", "arn:aws:iam::*:policy/*-crts-*"],
    ),
    ("CrtsHarnessProvisionLambda", |a| a.starts_with("lambda:"), &["arn:aws:lambda:*:*:function:*-crts-*"]),
    (
        "CrtsHarnessProvisionBatch",
        |a| a.starts_with("batch:"),
        &[
            "arn:aws:batch:*:*:compute-environment/*-crts-*",
            "arn:aws:batch:*:*:job-queue/*-crts-*",
            "arn:aws:batch:*:*:job-definition/*-crts-*",
            "arn:aws:batch:*:*:job/*",
        ],
    ),
    ("CrtsHarnessProvisionEcr", |a| a.starts_with("ecr:"), &["arn:aws:ecr:*:*:repository/*-crts-*"]),
    (
        // The run's function's log group, and its jobs' streams in Batch's shared group (whose deletion teardown
        // attempts only when the run's jobs created it: see steps/logs.rs).
        "CrtsHarnessProvisionLogs",
        |a| a.starts_with("logs:"),
        &[
            "arn:aws:logs:*:*:log-group:/aws/lambda/*-crts-*",
            "arn:aws:logs:*:*:log-group:/aws/lambda/*-crts-*:*",
            "arn:aws:logs:*:*:log-group:/aws/batch/job",
            "arn:aws:logs:*:*:log-group:/aws/batch/job:*",
        ],
    ),
    ("CrtsHarnessProvisionS3", |a| a.starts_with("s3:"), &["arn:aws:s3:::*-crts-*", "arn:aws:s3:::*-crts-*/*"]),
    (
        "CrtsHarnessProvisionApiGateway",
        |a| a.starts_with("apigateway:"),
        &[
            "arn:aws:apigateway:*::/restapis",
            "arn:aws:apigateway:*::/restapis/*",
            "arn:aws:apigateway:*::/apikeys",
            "arn:aws:apigateway:*::/apikeys/*",
            "arn:aws:apigateway:*::/usageplans",
            "arn:aws:apigateway:*::/usageplans/*",
            "arn:aws:apigateway:*::/tags/*",
        ],
    ),
];

/// Every action a policy may grant to verify must only read: `Get*`, `List*`, `Describe*`, `BatchGet*`,
/// API Gateway's `GET`, and ECR's `GetAuthorizationToken` (a registry login, needed to read a manifest).
pub fn is_read_only(action: &str) -> bool {
    let name = action.split(':').nth(1).unwrap_or(action);
    ["Get", "List", "Describe", "BatchGet"].iter().any(|prefix| name.starts_with(prefix)) || name == "GET"
}

/// The IAM action an operation needs, for refusals that do not name it (S3 says only "Access Denied").
pub fn action_of(operation: &str) -> String {
    let s3 = match operation {
        "HeadBucket" | "ListObjectsV2" => Some("s3:ListBucket"),
        "GetPublicAccessBlock" => Some("s3:GetBucketPublicAccessBlock"),
        "GetBucketCors" => Some("s3:GetBucketCORS"),
        "GetBucketWebsite" => Some("s3:GetBucketWebsite"),
        "GetBucketPolicy" => Some("s3:GetBucketPolicy"),
        "GetObject" => Some("s3:GetObject"),
        _ => None,
    };
    s3.map_or_else(|| format!("(the action of {operation})"), str::to_owned)
}
