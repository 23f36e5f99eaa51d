//! What a target can do. Steps and checks that need something a target lacks are reported as
//! `unsupported on <target>: <reason>`: never passed, never silently skipped.

use std::collections::BTreeMap;

/// Something the runbook needs that not every AWS-compatible target has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// ECR repositories and a registry to push to.
    Ecr,
    /// AWS Batch compute environments, queues, job definitions and jobs.
    Batch,
    /// IAM and resource policies evaluated (a Lambda without batch:SubmitJob is refused; an anonymous PUT to a
    /// bucket whose policy grants only GetObject is refused).
    IamEnforcement,
    /// Lambda functions actually run when invoked.
    LambdaExecution,
}

/// The capabilities a target lacks, each with the reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    missing: BTreeMap<Capability, String>,
}

impl Capabilities {
    /// Everything (the embedded emulator, AWS).
    pub fn all() -> Self {
        Self::default()
    }

    pub fn without(mut self, capability: Capability, reason: impl Into<String>) -> Self {
        self.missing.insert(capability, reason.into());
        self
    }

    /// `Err(reason)` when any of `needed` is missing.
    pub fn check(&self, needed: &[Capability]) -> Result<(), String> {
        match needed.iter().find_map(|c| self.missing.get(c)) {
            Some(reason) => Err(reason.clone()),
            None => Ok(()),
        }
    }

    pub fn has(&self, capability: Capability) -> bool {
        !self.missing.contains_key(&capability)
    }

    /// `capability: reason` lines, for the report header.
    pub fn missing(&self) -> impl Iterator<Item = (Capability, &str)> {
        self.missing.iter().map(|(c, r)| (*c, r.as_str()))
    }
}

/// What `/_localstack/info` says about a LocalStack instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalStackInfo {
    pub version: String,
    pub edition: String,
    pub pro: bool,
}

impl LocalStackInfo {
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        let version = value.get("version")?.as_str()?.to_owned();
        let edition = value.get("edition").and_then(|e| e.as_str()).unwrap_or("unknown").to_owned();
        let pro = value.get("is_license_activated").and_then(serde_json::Value::as_bool).unwrap_or(false)
            || matches!(edition.as_str(), "pro" | "enterprise" | "ultimate" | "team");
        Some(Self { version, edition, pro })
    }
}

/// LocalStack's capabilities: the free edition has no ECR or Batch and does not enforce IAM; Lambda functions
/// run only in containers of the AWS Lambda runtime images, through a Docker socket. A Pro licence lifts the
/// first three.
pub fn localstack(info: &LocalStackInfo, lambda_runtime: Result<(), String>) -> Capabilities {
    let mut capabilities = Capabilities::all();
    if !info.pro {
        let why = |what: &str| {
            format!("{what} (LocalStack {} without a Pro licence; set LOCALSTACK_AUTH_TOKEN)", info.version)
        };
        capabilities = capabilities
            .without(Capability::Ecr, why("ECR is a Pro service"))
            .without(Capability::Batch, why("Batch is a Pro service"))
            .without(Capability::IamEnforcement, why("IAM and bucket policies are not enforced"));
    }
    if let Err(reason) = lambda_runtime {
        capabilities = capabilities.without(Capability::LambdaExecution, reason);
    }
    capabilities
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_free_edition_lacks_ecr_batch_and_iam_enforcement_and_pro_lifts_them() {
        let free = LocalStackInfo::from_json(
            &serde_json::json!({"version": "2026.3.0", "edition": "unknown", "is_license_activated": false}),
        )
        .expect("info");
        let caps = localstack(&free, Err("no runtime image".into()));
        assert!(caps.check(&[Capability::Ecr]).expect_err("missing").contains("ECR is a Pro service"));
        assert_eq!(caps.check(&[Capability::LambdaExecution]), Err("no runtime image".into()));
        let pro = LocalStackInfo { pro: true, ..free };
        let caps = localstack(&pro, Ok(()));
        assert_eq!(caps, Capabilities::all());
    }
}
