//! Reports: what a run did, as a text table, JSON, JUnit XML, and the normalized snapshot view.

mod junit;
mod text;

use std::time::Duration;

use serde::Serialize;

use crate::checks::{CheckResult, Outcome};
use crate::steps::Observed;

pub use junit::{junit_status, to_junit};
pub use text::to_text;
pub(crate) use text::write_variables;

/// Everything a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: String,
    /// The scenario's variables as the run used them (`--var` ones marked).
    pub variables: Vec<crate::scenario::ScenarioVariable>,
    pub target: String,
    #[serde(serialize_with = "millis")]
    pub target_start: Duration,
    /// On other targets, how long the embedded emulator takes to become usable (measured in the same way,
    /// right before the run), so the report shows the two start times side by side.
    #[serde(serialize_with = "optional_millis", skip_serializing_if = "Option::is_none")]
    pub embedded_start: Option<Duration>,
    #[serde(serialize_with = "millis")]
    pub wall_time: Duration,
    pub steps: Vec<StepReport>,
    pub checks: Vec<CheckResult>,
    /// `run --provision`: what teardown removed and what it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teardown: Option<crate::provision::Teardown>,
}

/// One runbook step's result.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub id: String,
    pub runbook: String,
    pub outcome: Outcome,
    /// What the step read back from the target.
    pub observed: Observed,
    /// The target's refusal or the unexpected effect, when the step failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How the step went about it (e.g. which image builder ran), for people; not part of snapshots.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
}

impl StepReport {
    /// A step that was not attempted, and why (`outcome`: not run, unsupported).
    pub fn skipped(step: &crate::scenario::Step, outcome: Outcome) -> Self {
        Self {
            id: step.id.clone(),
            runbook: step.runbook.clone(),
            outcome,
            observed: Default::default(),
            error: None,
            notes: Vec::new(),
            duration: Default::default(),
        }
    }
}

#[allow(clippy::ref_option)] // serde's serialize_with passes `&Option<T>`
fn optional_millis<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => millis(d, s),
        None => s.serialize_none(),
    }
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0)
}

impl Report {
    /// `run --provision` left something in the account (exit code 4).
    pub fn left_over(&self) -> bool {
        self.teardown.as_ref().is_some_and(|t| !t.leftovers.is_empty())
    }

    /// True when every step and check passed, or was skipped or is unsupported on the target (both shown,
    /// never hidden, never counted as passed).
    pub fn passed(&self) -> bool {
        self.steps.iter().all(|s| matches!(s.outcome, Outcome::Passed | Outcome::Unsupported(_)))
            && self.checks.iter().all(|c| {
                matches!(
                    c.outcome,
                    Outcome::Passed | Outcome::Skipped(_) | Outcome::Unsupported(_) | Outcome::NotChecked(_)
                )
            })
    }

    /// The view snapshots record: outcomes and observations, without timings; ids, the account and region
    /// already normalized by the run (see `Normalizer`). The same on every target that supports a check.
    pub fn snapshot_view(&self) -> serde_json::Value {
        let steps: Vec<serde_json::Value> = self
            .steps
            .iter()
            .map(|s| {
                let mut step = serde_json::json!({ "id": s.id, "outcome": s.outcome });
                if !s.observed.is_empty() {
                    step["observed"] = serde_json::json!(s.observed);
                }
                if let Some(error) = &s.error {
                    step["error"] = serde_json::json!(error);
                }
                step
            })
            .collect();
        serde_json::json!({ "scenario": self.scenario, "steps": steps, "checks": self.checks })
    }

    /// The snapshot view of a single check.
    pub fn check_view(&self, name: crate::scenario::CheckName) -> serde_json::Value {
        self.checks.iter().find(|c| c.name == name).map_or(serde_json::Value::Null, |c| serde_json::json!(c))
    }
}

/// Rewrites target-specific values (account id, region, secrets) into stable placeholders.
#[derive(Debug, Clone)]
pub struct Normalizer {
    replacements: Vec<(String, String)>,
}

impl Normalizer {
    pub fn new(account_id: &str, region: &str) -> Self {
        Self {
            replacements: vec![
                (account_id.to_owned(), "<account>".to_owned()),
                (region.to_owned(), "<region>".to_owned()),
            ],
        }
    }

    /// Secrets (API key values) are replaced wherever they appear.
    pub fn add_secret(&mut self, secret: &str) {
        if !secret.is_empty() {
            self.replacements.insert(0, (secret.to_owned(), "<redacted>".to_owned()));
        }
    }

    pub fn text(&self, text: &str) -> String {
        let replaced = self.replacements.iter().fold(text.to_owned(), |t, (from, to)| t.replace(from, to));
        redact_digests(&redact_uuids(&replaced))
    }

    pub fn value(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => *s = self.text(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.value(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.value(v)),
            _ => {}
        }
    }
}

/// Replaces every `sha256:<64 hex>` (image and layer digests) with `sha256:<digest>`: its shape is the contract,
/// its value depends on how and when the image was built.
fn redact_digests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("sha256:") {
        let after = &rest[at + 7..];
        let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        out.push_str(&rest[..at + 7]);
        if hex == 64 {
            out.push_str("<digest>");
            rest = &after[64..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Replaces every UUID (job ids, request ids) with `<uuid>`: they differ on every run.
fn redact_uuids(text: &str) -> String {
    const SHAPE: [usize; 5] = [8, 4, 4, 4, 12];
    let bytes = text.as_bytes();
    let is_uuid_at = |start: usize| {
        let mut i = start;
        for (n, len) in SHAPE.iter().enumerate() {
            if i + len > bytes.len() || !bytes[i..i + len].iter().all(u8::is_ascii_hexdigit) {
                return false;
            }
            i += len;
            if n < 4 {
                if bytes.get(i) != Some(&b'-') {
                    return false;
                }
                i += 1;
            }
        }
        bytes.get(i).is_none_or(|b| !b.is_ascii_hexdigit())
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let boundary = i == 0 || !bytes[i - 1].is_ascii_hexdigit();
        if boundary && is_uuid_at(i) {
            out.push_str("<uuid>");
            i += 36;
        } else {
            let c = text[i..].chars().next().unwrap_or_default();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_accounts_regions_secrets_and_uuids() {
        let mut n = Normalizer::new("123456789012", "eu-west-1");
        n.add_secret("s3cr3tkeyvalue");
        assert_eq!(
            n.text("arn:aws:batch:eu-west-1:123456789012:job/5d7b224f-c493-4390-bab0-701d2bf99137 key=s3cr3tkeyvalue"),
            "arn:aws:batch:<region>:<account>:job/<uuid> key=<redacted>"
        );
        assert_eq!(n.text("not-a-uuid 5d7b224f-c493"), "not-a-uuid 5d7b224f-c493");
    }
}
