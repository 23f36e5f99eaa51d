//! IAM steps: the roles the runbook's services run as, and the runbook's `batch:SubmitJob` policy.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::json;

use super::{Observed, RunContext, RunbookStep, Settings, StepError, fixture, optional};
use crate::verify::{Expect, Expected};

/// Creates a role with a trust policy from a file, and attaches AWS-managed policies to it.
/// (The Lambda console does this for a new function; Batch on Fargate needs an execution role.)
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRole {
    pub name: String,
    /// Trust policy document (JSON file).
    pub trust_policy: PathBuf,
    #[serde(default)]
    pub managed_policies: Vec<String>,
}

impl Settings for CreateRole {
    fn resolve_files(&mut self, base_dir: &Path) -> Result<(), String> {
        self.trust_policy = fixture(base_dir, &self.trust_policy)?;
        Ok(())
    }
}

impl RunbookStep for CreateRole {
    const READS: &'static [&'static str] = &["iam:GetRole", "iam:ListAttachedRolePolicies"];
    const CHANGES: &'static [&'static str] = &[
        "iam:CreateRole",
        "iam:TagRole",
        "iam:AttachRolePolicy",
        "iam:ListRoleTags",
        "iam:DetachRolePolicy",
        "iam:DeleteRole",
    ];

    fn inputs(&self) -> Vec<&Path> {
        vec![&self.trust_policy]
    }

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let document = read(&self.trust_policy)?;
        ctx.iam
            .create_role()
            .role_name(&self.name)
            .assume_role_policy_document(document)
            .set_tags(iam_tags(ctx))
            .send()
            .await
            .map_err(|e| StepError::sdk("CreateRole", e))?;
        for arn in &self.managed_policies {
            ctx.iam
                .attach_role_policy()
                .role_name(&self.name)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| StepError::sdk("AttachRolePolicy", e))?;
        }
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let role = ctx.iam.get_role().role_name(&self.name).send().await.map_err(|e| StepError::sdk("GetRole", e))?;
        let role = role.role().ok_or_else(|| StepError::unexpected("GetRole returned no role"))?;
        let trust = decode_policy(role.assume_role_policy_document().unwrap_or_default())?;
        let attached = attached_policy_names(ctx, &self.name).await?;
        Ok(Observed::from([
            ("role".into(), json!(role.role_name())),
            ("trusted_services".into(), json!(trusted_services(&trust))),
            ("attached_policies".into(), json!(attached)),
        ]))
    }

    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        let trust = decode_policy(&read(&self.trust_policy)?)?;
        let managed = self.managed_policies.iter().map(|arn| arn.rsplit('/').next().unwrap_or(arn));
        Ok(Expected::from([
            ("role".into(), Expect::is(&self.name)),
            ("trusted_services".into(), Expect::is(trusted_services(&trust))),
            // The role's other policies come from later steps (the SubmitJob policy) or the operator's own.
            ("attached_policies".into(), Expect::includes(managed)),
        ]))
    }

    fn creates(&self, _ctx: &RunContext) -> Vec<String> {
        vec![format!("IAM role {}", self.name)]
    }

    /// Detaches the role's managed policies, then deletes it.
    async fn tear_down(&self, ctx: &mut RunContext) -> Result<Vec<String>, StepError> {
        let tags = ctx.iam.list_role_tags().role_name(&self.name).send().await;
        let Some(tags) = optional("ListRoleTags", tags)? else { return Ok(Vec::new()) };
        ctx.ensure_owned(&format!("IAM role {}", self.name), tags.tags().iter().map(|t| (t.key(), t.value())))?;
        remove_role(ctx, &self.name).await
    }
}

/// Detaches a role's managed policies, then deletes it.
pub(crate) async fn remove_role(ctx: &RunContext, name: &str) -> Result<Vec<String>, StepError> {
    let listed = ctx.iam.list_attached_role_policies().role_name(name).send().await;
    let Some(attached) = optional("ListAttachedRolePolicies", listed)? else { return Ok(Vec::new()) };
    for arn in attached.attached_policies().iter().filter_map(|p| p.policy_arn()) {
        let detached = ctx.iam.detach_role_policy().role_name(name).policy_arn(arn).send().await;
        optional("DetachRolePolicy", detached)?;
    }
    optional("DeleteRole", ctx.iam.delete_role().role_name(name).send().await)?;
    Ok(vec![format!("IAM role {name}")])
}

/// Detaches a customer-managed policy from `roles`, then deletes it.
pub(crate) async fn remove_policy(ctx: &RunContext, arn: &str, roles: &[&str]) -> Result<Vec<String>, StepError> {
    for role in roles {
        optional("DetachRolePolicy", ctx.iam.detach_role_policy().role_name(*role).policy_arn(arn).send().await)?;
    }
    optional("DeletePolicy", ctx.iam.delete_policy().policy_arn(arn).send().await)?;
    Ok(vec![format!("IAM policy {}", arn.rsplit('/').next().unwrap_or(arn))])
}

/// Creates a customer-managed policy from a file (verbatim) and attaches it to a role.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachPolicy {
    pub role: String,
    pub policy_name: String,
    /// Policy document (JSON file), sent exactly as written.
    pub document: PathBuf,
}

impl Settings for AttachPolicy {
    fn resolve_files(&mut self, base_dir: &Path) -> Result<(), String> {
        self.document = fixture(base_dir, &self.document)?;
        Ok(())
    }
}

impl RunbookStep for AttachPolicy {
    const READS: &'static [&'static str] =
        &["iam:ListAttachedRolePolicies", "iam:ListPolicies", "iam:GetPolicy", "iam:GetPolicyVersion"];
    const CHANGES: &'static [&'static str] = &[
        "iam:CreatePolicy",
        "iam:TagPolicy",
        "iam:AttachRolePolicy",
        "iam:ListPolicyTags",
        "iam:DetachRolePolicy",
        "iam:DeletePolicy",
    ];

    fn inputs(&self) -> Vec<&Path> {
        vec![&self.document]
    }

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let document = read(&self.document)?;
        let created = ctx
            .iam
            .create_policy()
            .policy_name(&self.policy_name)
            .policy_document(document)
            .set_tags(iam_tags(ctx))
            .send()
            .await
            .map_err(|e| StepError::sdk("CreatePolicy", e))?;
        let arn = created
            .policy()
            .and_then(|p| p.arn())
            .ok_or_else(|| StepError::unexpected("CreatePolicy returned no policy ARN"))?
            .to_owned();
        ctx.iam
            .attach_role_policy()
            .role_name(&self.role)
            .policy_arn(&arn)
            .send()
            .await
            .map_err(|e| StepError::sdk("AttachRolePolicy", e))?;
        if !attached_policy_names(ctx, &self.role).await?.contains(&self.policy_name) {
            return Err(StepError::unexpected(format!(
                "policy {} is not attached to role {}",
                self.policy_name, self.role
            )));
        }
        Ok(())
    }

    /// The customer-managed policy of that name: attached to the role, else anywhere in the account (then
    /// `attached_to` is null).
    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let attached = ctx
            .iam
            .list_attached_role_policies()
            .role_name(&self.role)
            .send()
            .await
            .map_err(|e| StepError::sdk("ListAttachedRolePolicies", e))?;
        let on_role = attached
            .attached_policies()
            .iter()
            .find(|p| p.policy_name() == Some(self.policy_name.as_str()))
            .and_then(|p| p.policy_arn())
            .map(str::to_owned);
        let arn = match on_role.clone() {
            Some(arn) => arn,
            None => local_policy_arn(ctx, &self.policy_name).await?.ok_or_else(|| {
                StepError::missing(format!("no customer-managed policy named {} in the account", self.policy_name))
            })?,
        };
        let policy = ctx.iam.get_policy().policy_arn(&arn).send().await.map_err(|e| StepError::sdk("GetPolicy", e))?;
        let version_id = policy.policy().and_then(|p| p.default_version_id()).unwrap_or("v1").to_owned();
        let version = ctx
            .iam
            .get_policy_version()
            .policy_arn(&arn)
            .version_id(version_id)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetPolicyVersion", e))?;
        let document = decode_policy(version.policy_version().and_then(|v| v.document()).unwrap_or_default())?;
        Ok(Observed::from([
            ("policy".into(), json!(self.policy_name)),
            ("allows".into(), json!(allowed_actions(&document))),
            ("attached_to".into(), json!(on_role.map(|_| &self.role))),
        ]))
    }

    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        let document = decode_policy(&read(&self.document)?)?;
        Ok(Expected::from([
            ("policy".into(), Expect::is(&self.policy_name)),
            ("allows".into(), Expect::is(allowed_actions(&document))),
            ("attached_to".into(), Expect::is(&self.role)),
        ]))
    }

    fn creates(&self, _ctx: &RunContext) -> Vec<String> {
        vec![format!("IAM policy {}", self.policy_name)]
    }

    /// Detaches the policy from the role, then deletes it.
    async fn tear_down(&self, ctx: &mut RunContext) -> Result<Vec<String>, StepError> {
        let Some(arn) = local_policy_arn(ctx, &self.policy_name).await? else { return Ok(Vec::new()) };
        let tags = ctx.iam.list_policy_tags().policy_arn(&arn).send().await;
        let Some(tags) = optional("ListPolicyTags", tags)? else { return Ok(Vec::new()) };
        ctx.ensure_owned(
            &format!("IAM policy {}", self.policy_name),
            tags.tags().iter().map(|t| (t.key(), t.value())),
        )?;
        remove_policy(ctx, &arn, &[&self.role]).await
    }
}

/// The ARN of the account's own (`Scope=Local`) policy of that name.
async fn local_policy_arn(ctx: &RunContext, name: &str) -> Result<Option<String>, StepError> {
    let mut pages = ctx.iam.list_policies().scope(aws_sdk_iam::types::PolicyScopeType::Local).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| StepError::sdk("ListPolicies", e))?;
        if let Some(arn) = page.policies().iter().find(|p| p.policy_name() == Some(name)).and_then(|p| p.arn()) {
            return Ok(Some(arn.to_owned()));
        }
    }
    Ok(None)
}

/// The run's tags in IAM's shape (none outside a provisioned run).
fn iam_tags(ctx: &RunContext) -> Option<Vec<aws_sdk_iam::types::Tag>> {
    let tags = ctx.tags()?;
    Some(
        tags.into_iter().filter_map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build().ok()).collect(),
    )
}

fn read(path: &Path) -> Result<String, StepError> {
    std::fs::read_to_string(path).map_err(|e| StepError::unexpected(format!("cannot read {}: {e}", path.display())))
}

/// IAM returns policy documents URL-encoded.
fn decode_policy(text: &str) -> Result<serde_json::Value, StepError> {
    let decoded = percent_encoding::percent_decode_str(text).decode_utf8_lossy();
    serde_json::from_str(&decoded).map_err(|e| StepError::unexpected(format!("policy document is not JSON: {e}")))
}

async fn attached_policy_names(ctx: &RunContext, role: &str) -> Result<Vec<String>, StepError> {
    let listed = ctx
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .map_err(|e| StepError::sdk("ListAttachedRolePolicies", e))?;
    let mut names: Vec<String> =
        listed.attached_policies().iter().filter_map(|p| p.policy_name().map(str::to_owned)).collect();
    names.sort();
    Ok(names)
}

fn statements(document: &serde_json::Value) -> Vec<&serde_json::Value> {
    match &document["Statement"] {
        serde_json::Value::Array(items) => items.iter().collect(),
        statement @ serde_json::Value::Object(_) => vec![statement],
        _ => Vec::new(),
    }
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

fn trusted_services(document: &serde_json::Value) -> Vec<String> {
    statements(document).into_iter().flat_map(|s| strings(&s["Principal"]["Service"])).collect()
}

fn allowed_actions(document: &serde_json::Value) -> Vec<String> {
    let mut actions: Vec<String> = statements(document)
        .into_iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| strings(&s["Action"]))
        .collect();
    actions.sort();
    actions.dedup();
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_url_encoded_policies() {
        let doc = decode_policy(
            "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22batch%3ASubmitJob%22%7D%5D%7D",
        )
        .expect("valid");
        assert_eq!(allowed_actions(&doc), vec!["batch:SubmitJob"]);
        let trust = decode_policy(r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}}"#)
            .expect("valid");
        assert_eq!(trusted_services(&trust), vec!["lambda.amazonaws.com"]);
    }
}
