//! `crts-harness verify`: reads what a target already has, step by step, compares it with what each scenario step
//! would set, and runs the checks that change nothing. It never creates, changes or deletes anything; what would
//! (a real Batch job, a temporary API key, an anonymous write probe) happens only with `--trigger-job`.
//!
//! Per step: [`crate::steps::StepAction::observe`] reads the step's resources by the scenario's names, and
//! [`diff`] compares that with [`crate::steps::StepAction::expected`], giving a [`DriftStatus`] with
//! CloudFormation-style [`Difference`]s; [`ignore`] accepts known deviations; [`policy`] is the least-privilege
//! policy a run needs; [`report`] renders the drift table as text, JSON and JUnit.

pub mod diff;
pub mod ignore;
pub mod policy;
pub mod report;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

pub use diff::{DiffKind, Difference, Expect, Expected, absent, diff};
pub use ignore::IgnoreRules;

use crate::checks::{self, CheckResult, Outcome};
use crate::context::{ApiKeyFact, RunContext, VerifyMode};
use crate::report::Normalizer;
use crate::run::{self, RunError};
use crate::scenario::{self, ScenarioVariable, VarOverride};
use crate::steps::{ErrorKind, Observed};
use crate::targets::{self, TargetSpec};

/// The environment variable that gives the API key's value instead of reading it (GetApiKey `includeValue`).
pub const API_KEY_ENV: &str = "CRTS_API_KEY";

/// What to verify where.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    pub scenario: PathBuf,
    pub target: TargetSpec,
    pub variables: Vec<VarOverride>,
    pub region: Option<String>,
    pub report_dir: Option<PathBuf>,
    /// `--ignore FILE`: known deviations to accept.
    pub ignore: Option<PathBuf>,
    /// `--trigger-job`: run the checks that submit one real Batch job (and the writes that cost nothing).
    pub trigger_job: bool,
    /// `--account-id`: the account the credentials must belong to (required on `aws`).
    pub account_id: Option<String>,
}

/// How a step's resources compare with the runbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftStatus {
    InSync,
    /// Different, with the differences.
    Modified,
    /// Not on the target.
    Missing,
    /// Not compared, and why (the target cannot do the step, ...). Not a failure.
    NotChecked,
    /// The caller may not read it: the refused IAM action is named.
    Denied,
    /// The scenario's name matches several resources; none is picked.
    Ambiguous,
    /// Reading failed otherwise.
    Error,
    /// Different or missing, and the ignore file accepts it.
    Ignored,
}

impl DriftStatus {
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Modified | Self::Missing | Self::Denied | Self::Ambiguous | Self::Error)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InSync => "in_sync",
            Self::Modified => "modified",
            Self::Missing => "missing",
            Self::NotChecked => "not_checked",
            Self::Denied => "denied",
            Self::Ambiguous => "ambiguous",
            Self::Error => "error",
            Self::Ignored => "ignored",
        }
    }
}

/// One step's drift.
#[derive(Debug, Clone, Serialize)]
pub struct StepDrift {
    pub id: String,
    pub runbook: String,
    pub status: DriftStatus,
    /// Why it is missing, not checked, denied, ambiguous or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The IAM action refused (`denied`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denied_action: Option<String>,
    /// Every difference, the ignored ones marked (never dropped).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
    /// The ignore-file line that accepts the step being missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored_by: Option<String>,
    /// What was read back.
    #[serde(skip_serializing_if = "Observed::is_empty")]
    pub observed: Observed,
}

/// Everything a verify run found.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    pub scenario: String,
    pub variables: Vec<ScenarioVariable>,
    pub target: String,
    /// The ignore file, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore_file: Option<PathBuf>,
    pub trigger_job: bool,
    /// Said before the table (e.g. why everything is missing on `embedded`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub steps: Vec<StepDrift>,
    pub checks: Vec<CheckResult>,
    #[serde(serialize_with = "millis")]
    pub wall_time: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0)
}

impl DriftReport {
    /// Every step in sync (or ignored, or not checked with a reason) and every check that ran passed.
    pub fn passed(&self) -> bool {
        self.steps.iter().all(|s| !s.status.is_failure())
            && self.checks.iter().all(|c| {
                matches!(
                    c.outcome,
                    Outcome::Passed | Outcome::Skipped(_) | Outcome::Unsupported(_) | Outcome::NotChecked(_)
                )
            })
    }

    /// The view drift snapshots record: each step's status, reason and differences (no observed values, no
    /// timings), and each check's outcome.
    pub fn snapshot_view(&self) -> serde_json::Value {
        let steps: Vec<serde_json::Value> = self
            .steps
            .iter()
            .map(|s| {
                let mut step = serde_json::json!({ "id": s.id, "status": s.status });
                for (key, value) in
                    [("reason", &s.reason), ("denied_action", &s.denied_action), ("ignored_by", &s.ignored_by)]
                {
                    if let Some(value) = value {
                        step[key] = serde_json::json!(value);
                    }
                }
                if !s.differences.is_empty() {
                    step["differences"] = serde_json::json!(s.differences);
                }
                step
            })
            .collect();
        let checks: Vec<serde_json::Value> =
            self.checks.iter().map(|c| serde_json::json!({ "name": c.name, "outcome": c.outcome })).collect();
        serde_json::json!({ "scenario": self.scenario, "steps": steps, "checks": checks })
    }
}

/// Why `verify --target aws` needs `--account-id`.
const ACCOUNT_ID_NEEDED: &str = "verify --target aws needs --account-id ACCOUNT (or CRTS_AWS_ACCOUNT_ID): the 12-digit account the credentials must belong to, so that the wrong profile cannot be read by mistake";

pub async fn verify(options: &VerifyOptions) -> Result<DriftReport, RunError> {
    let started = Instant::now();
    let validated = run::validate(&options.scenario, &options.variables)?;
    let step_ids: Vec<&str> = validated.steps.iter().map(|s| s.id.as_str()).collect();
    let ignore = match &options.ignore {
        Some(path) => Some(IgnoreRules::load(path, &step_ids).map_err(RunError::Input)?),
        None => None,
    };
    if options.target.real_account() && options.account_id.is_none() {
        return Err(RunError::Input(ACCOUNT_ID_NEEDED.to_owned()));
    }
    let target = targets::start_for(&options.target, options.region.as_deref(), options.account_id.as_deref()).await?;
    let session = target.session.clone();
    let scenario = scenario::load(&options.scenario, &run::runtime_variables_of(&session), &options.variables)?;
    let mut normalizer = Normalizer::new(&session.account_id, &session.region);
    let mut ctx = RunContext::new(session.clone());
    ctx.verify = Some(VerifyMode { trigger_job: options.trigger_job });
    ctx.artifacts.clone_from(&options.report_dir);

    let mut steps = Vec::with_capacity(scenario.steps.len());
    for (number, step) in scenario.steps.iter().enumerate() {
        crate::progress::begin(format!("[{}/{}] reading {}", number + 1, scenario.steps.len(), step.id));
        let drift = verify_step(step, &mut ctx, ignore.as_ref()).await;
        crate::progress::end(drift.status.as_str());
        steps.push(drift);
    }

    if let Ok(value) = std::env::var(API_KEY_ENV)
        && !value.is_empty()
        && let Some(api) = &scenario.check_settings.api
    {
        let known = ctx.facts.api_keys.get(&api.api_key).cloned();
        let (id, usage_plan_id) = known.map(|k| (k.id, k.usage_plan_id)).unwrap_or_default();
        ctx.facts.api_keys.insert(api.api_key.clone(), ApiKeyFact { id, value, usage_plan_id });
    }
    for key in ctx.facts.api_keys.values() {
        normalizer.add_secret(&key.value);
    }

    let mut checks = Vec::with_capacity(scenario.checks.len());
    for &name in &scenario.checks {
        let mut result = match ctx.target.lacks(name.requires()) {
            Some(reason) => CheckResult::unsupported(name, normalizer.text(&reason)),
            None => {
                crate::progress::begin(format!("check {}", name.as_str()));
                let result = checks::run(name, &ctx, &scenario.check_settings).await;
                crate::progress::end(&result.outcome.to_string());
                result
            }
        };
        for o in &mut result.observations {
            o.actual = normalizer.text(&o.actual);
            o.expected = normalizer.text(&o.expected);
        }
        checks.push(result);
    }
    for step in &mut steps {
        normalize_step(step, &normalizer);
    }

    let mut notes = Vec::new();
    if options.target.ephemeral() {
        notes.push(
            "the embedded target starts empty, so there is nothing to read: verify a stack that exists (--target endpoint=URL after `crts-harness run --target endpoint=URL`, or --target aws)"
                .to_owned(),
        );
    }
    let report = DriftReport {
        scenario: scenario.name.clone(),
        variables: scenario
            .variables
            .iter()
            .map(|var| ScenarioVariable { value: normalizer.text(&var.value), ..var.clone() })
            .collect(),
        target: session.kind.to_owned(),
        ignore_file: options.ignore.clone(),
        trigger_job: options.trigger_job,
        notes,
        steps,
        checks,
        wall_time: started.elapsed(),
    };
    target.stop().await;
    Ok(report)
}

/// Reads one step back and compares it with what it would set.
async fn verify_step(step: &scenario::Step, ctx: &mut RunContext, ignore: Option<&IgnoreRules>) -> StepDrift {
    let mut drift = StepDrift {
        id: step.id.clone(),
        runbook: step.runbook.clone(),
        status: DriftStatus::InSync,
        reason: None,
        denied_action: None,
        differences: Vec::new(),
        ignored_by: None,
        observed: Observed::new(),
    };
    if let Some(reason) = ctx.target.lacks(step.action.requires()) {
        drift.status = DriftStatus::NotChecked;
        drift.reason = Some(reason);
        return drift;
    }
    let read = match step.action.observe(ctx).await {
        Ok(observed) => step.action.expected(ctx).await.map(|expected| (observed, expected)),
        Err(e) => Err(e),
    };
    let (observed, expected) = match read {
        Ok(read) => read,
        Err(e) => {
            drift.reason = Some(e.message.clone());
            if e.kind() == ErrorKind::Missing
                && let Ok(expected) = step.action.expected(ctx).await
            {
                // What the runbook states that the target lacks, path by path.
                drift.differences = absent(&expected);
            }
            drift.status = match e.kind() {
                ErrorKind::Missing => match ignore.and_then(|rules| rules.accepting(&step.id, None)) {
                    Some(line) => {
                        drift.ignored_by = Some(line);
                        DriftStatus::Ignored
                    }
                    None => DriftStatus::Missing,
                },
                ErrorKind::Denied(action) => {
                    drift.denied_action = Some(action);
                    DriftStatus::Denied
                }
                ErrorKind::Ambiguous => DriftStatus::Ambiguous,
                ErrorKind::Other => DriftStatus::Error,
            };
            return drift;
        }
    };
    if expected.is_empty() {
        // Nothing the runbook states can be read back: in sync would claim more than was compared.
        drift.status = DriftStatus::NotChecked;
        drift.reason = Some("nothing the runbook states about this step can be read back".to_owned());
        drift.observed = observed;
        return drift;
    }
    drift.differences = diff(&expected, &observed);
    for difference in &mut drift.differences {
        difference.ignored_by = ignore.and_then(|rules| rules.accepting(&step.id, Some(&difference.path)));
    }
    drift.status = if drift.differences.is_empty() {
        DriftStatus::InSync
    } else if drift.differences.iter().all(|d| d.ignored_by.is_some()) {
        DriftStatus::Ignored
    } else {
        DriftStatus::Modified
    };
    drift.observed = observed;
    drift
}

fn normalize_step(step: &mut StepDrift, normalizer: &Normalizer) {
    step.reason = step.reason.as_deref().map(|r| normalizer.text(r));
    step.observed.values_mut().for_each(|v| normalizer.value(v));
    for d in &mut step.differences {
        normalizer.value(&mut d.expected);
        normalizer.value(&mut d.actual);
    }
}
