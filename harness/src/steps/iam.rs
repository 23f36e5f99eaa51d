//! IAM steps: the roles the runbook's services run as, and the runbook's `batch:SubmitJob` policy.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::json;

use super::{Observed, RunContext, Settings, StepError, fixture};

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

impl CreateRole {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let document = read(&self.trust_policy)?;
        ctx.iam
            .create_role()
            .role_name(&self.name)
            .assume_role_policy_document(document)
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

impl AttachPolicy {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let document = read(&self.document)?;
        let created = ctx
            .iam
            .create_policy()
            .policy_name(&self.policy_name)
            .policy_document(document)
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
        let attached = attached_policy_names(ctx, &self.role).await?;
        if !attached.contains(&self.policy_name) {
            return Err(StepError::unexpected(format!(
                "policy {} is not attached to role {}",
                self.policy_name, self.role
            )));
        }
        Ok(Observed::from([
            ("policy".into(), json!(self.policy_name)),
            ("allows".into(), json!(allowed_actions(&document))),
            ("attached_to".into(), json!(self.role)),
        ]))
    }
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
    statements(document).into_iter().filter(|s| s["Effect"] == "Allow").flat_map(|s| strings(&s["Action"])).collect()
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
