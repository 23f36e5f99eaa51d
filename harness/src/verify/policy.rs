//! The least-privilege IAM policy a `verify` run needs: the union of what each of the scenario's steps and checks
//! reads ([`crate::steps::StepAction::reads`], [`crate::scenario::CheckName::iam_actions`]), all read-only actions.
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
    pub resource: &'static str,
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
            resource: "*",
        }],
    }
}

/// The policy document for `run --provision` of `scenario`: what its steps apply, read back and tear down, and
/// what its checks do (a job, a temporary API key).
pub fn provision_policy(scenario: &Scenario) -> PolicyDocument {
    let actions: BTreeSet<&'static str> = scenario
        .steps
        .iter()
        .flat_map(|step| step.action.reads().iter().chain(step.action.changes()).copied())
        .chain(scenario.checks.iter().flat_map(|check| check.iam_actions(true).iter().copied()))
        .collect();
    PolicyDocument {
        version: "2012-10-17",
        statement: vec![Statement {
            sid: "CrtsHarnessProvision",
            effect: "Allow",
            action: actions.into_iter().collect(),
            resource: "*",
        }],
    }
}

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
