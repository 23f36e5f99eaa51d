//! One run: validate the scenario, start the target, apply the steps in order, run the checks, report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::checks::{self, CheckResult, Outcome};
use crate::context::RunContext;
use crate::progress;
use crate::provision::{self, ProvisionOptions};
use crate::report::{Normalizer, Report, StepReport};
use crate::scenario::{self, ScenarioError, VarOverride, Variables};
use crate::targets::{self, TargetError, TargetSpec};

/// What to run where.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub scenario: PathBuf,
    pub target: TargetSpec,
    /// `--var NAME=VALUE`: scenario variables set on the command line.
    pub variables: Vec<VarOverride>,
    pub region: Option<String>,
    /// Where reports and check artifacts (screenshots) go.
    pub report_dir: Option<PathBuf>,
    /// `--provision`: unique names, a journal, and teardown after the checks.
    pub provision: Option<ProvisionOptions>,
    /// `--account-id`: the account the credentials must belong to (required with `--target aws`).
    pub account_id: Option<String>,
}

/// Why a run could not happen at all (exit code 2). Step and check failures are in the [`Report`].
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("invalid scenario: {0}")]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Target(#[from] TargetError),
    /// A refused command line (`run --target aws`, a bad ignore file, ...): the message says what to do.
    #[error("{0}")]
    Input(String),
}

/// Why `run --target aws` is refused.
pub const AWS_RUN_REFUSED: &str = "run --target aws would create a second CRTS stack in your account and leave it there, so it is refused: to check an account set up by hand, use `crts-harness verify --target aws --account-id ACCOUNT` (read-only, with a drift report); for a throwaway stack with unique names that is torn down after the checks, use `crts-harness run --provision --target aws --account-id ACCOUNT`";
/// Why `run --provision --target aws` needs the account.
const PROVISION_ACCOUNT_NEEDED: &str = "run --provision --target aws needs --account-id ACCOUNT (or CRTS_AWS_ACCOUNT_ID): the 12-digit account to create the throwaway stack in, checked before anything is created";

/// The variables only a target knows: `account_id`, `region`, and `ecr_registry` (the host its ECR repository
/// URIs name).
fn runtime_variables(account_id: &str, region: &str, ecr_registry: &str) -> Variables {
    let mut vars = Variables::default();
    vars.insert("account_id", account_id);
    vars.insert("region", region);
    vars.insert("ecr_registry", ecr_registry);
    vars
}

/// [`runtime_variables`] of a target that is up.
pub(crate) fn runtime_variables_of(session: &crate::targets::TargetSession) -> Variables {
    runtime_variables(&session.account_id, &session.region, &session.ecr_registry())
}

/// Validates the scenario without touching any target (with AWS's values for the default account and region).
pub fn validate(path: &Path, overrides: &[VarOverride]) -> Result<scenario::Scenario, ScenarioError> {
    scenario::load(
        path,
        &runtime_variables("000000000000", "us-east-1", "000000000000.dkr.ecr.us-east-1.amazonaws.com"),
        overrides,
    )
}

pub async fn run(options: &RunOptions) -> Result<Report, RunError> {
    let started = Instant::now();
    if options.target.real_account() {
        match (&options.provision, &options.account_id) {
            (None, _) => return Err(RunError::Input(AWS_RUN_REFUSED.to_owned())),
            (Some(_), None) => return Err(RunError::Input(PROVISION_ACCOUNT_NEEDED.to_owned())),
            (Some(_), Some(_)) => {}
        }
    }
    let validated = validate(&options.scenario, &options.variables)?;
    let mut variables = options.variables.clone();
    let mut provisioned = match &options.provision {
        Some(provision) => {
            let run_id = provision.run_id.clone().unwrap_or_else(provision::new_run_id);
            provision::check_run_id(&run_id).map_err(RunError::Input)?;
            variables.extend(provision::name_overrides(&validated, &run_id));
            let mut journal = provision::Journal::create(options.report_dir.as_deref(), &run_id).map_err(|e| {
                RunError::Input(format!(
                    "cannot write the provision journal: {e} (pass --report-dir to put it elsewhere)"
                ))
            })?;
            // What `cleanup` needs to find this run's resources again after a crash.
            let scenario_path = std::path::absolute(&options.scenario).unwrap_or_else(|_| options.scenario.clone());
            journal.record(
                "run",
                "",
                serde_json::json!({
                    "run_id": run_id,
                    "scenario": scenario_path,
                    "variables": variables.iter().map(|v| format!("{}={}", v.name, v.value)).collect::<Vec<_>>(),
                    "target": options.target.to_string(),
                    "region": options.region,
                }),
            );
            eprintln!(
                "run --provision: run {run_id}, every name ends in {}; journal {}",
                provision::suffix(&run_id),
                journal.path.display()
            );
            Some((run_id, journal))
        }
        None => None,
    };
    progress::begin(format!("starting the {} target", options.target));
    // The embedded emulator starts the scenario's Lambda runtimes while the first steps run.
    let spec = options.target.with_lambda_runtimes(&validated.lambda_runtimes());
    let target = targets::start_for(&spec, options.region.as_deref(), options.account_id.as_deref()).await;
    progress::end(if target.is_ok() { "ready" } else { "failed" });
    let target = target?;
    let session = target.session.clone();
    let scenario = scenario::load(&options.scenario, &runtime_variables_of(&session), &variables)?;
    let mut normalizer = Normalizer::new(&session.account_id, &session.region);
    let mut ctx = RunContext::new(session.clone());
    ctx.artifacts.clone_from(&options.report_dir);
    ctx.owner = provisioned.as_ref().map(|(run_id, _)| crate::context::Owner::new(run_id));
    // Chromium starts while the steps run: the browser check would otherwise wait for it.
    let browser_check = scenario::CheckName::SwaggerBrowser;
    if scenario.checks.contains(&browser_check)
        && ctx.target.lacks(browser_check.requires()).is_none()
        && crate::browser::installed().is_ok()
    {
        ctx.browser = crate::browser::Prestart::begin();
    }

    let mut steps = Vec::with_capacity(scenario.steps.len());
    let mut failed_step: Option<String> = None;
    // The steps whose changes teardown removes (every one that was attempted).
    let mut applied = Vec::new();
    let interrupt = provisioned.as_ref().map(|(run_id, journal)| provision::on_interrupt(run_id, &journal.path));
    let interrupted = || interrupt.as_ref().is_some_and(provision::Interrupt::requested);
    for (number, step) in scenario.steps.iter().enumerate() {
        if interrupted() {
            failed_step.get_or_insert_with(|| INTERRUPTED.to_owned());
        }
        // What the target cannot do is said first: the earlier steps would not have made it possible.
        let skipped = match (ctx.target.lacks(step.action.requires()), &failed_step) {
            (Some(reason), _) => Some(Outcome::Unsupported(normalizer.text(&reason))),
            (None, Some(failed)) => Some(Outcome::NotRun(not_run_reason(failed))),
            (None, None) => None,
        };
        if let Some(outcome) = skipped {
            steps.push(StepReport::skipped(step, outcome));
            continue;
        }
        let step_started = Instant::now();
        progress::begin(format!("[{}/{}] step {}", number + 1, scenario.steps.len(), step.id));
        if let Some((_, journal)) = &mut provisioned {
            // What the step is about to make, by kind and name (ids come with "applied").
            let creating = serde_json::json!({ "action": step.action.name(), "creating": step.action.creates(&ctx) });
            journal.record("applying", &step.id, creating);
            applied.push(step);
        }
        let result = step.action.run(&mut ctx).await;
        if let Some((_, journal)) = &mut provisioned {
            // What the step made, by name and id: what a second Ctrl-C lists (a failed step may have made some).
            let created = serde_json::json!({ "created": step.action.creates(&ctx) });
            journal.record(if result.is_ok() { "applied" } else { "failed" }, &step.id, created);
        }
        progress::end(if result.is_ok() { "passed" } else { "FAILED" });
        if result.is_err() {
            failed_step = Some(step.id.clone());
        }
        steps.push(step_report(step, result, &mut ctx, &mut normalizer, step_started));
    }

    if interrupted() {
        failed_step.get_or_insert_with(|| INTERRUPTED.to_owned());
    }
    // As for steps, what the target cannot do is said first; the checks that can run run at once.
    let mut checks: Vec<Option<CheckResult>> = scenario
        .checks
        .iter()
        .map(|&name| match (ctx.target.lacks(name.requires()), &failed_step) {
            (Some(reason), _) => Some(CheckResult::unsupported(name, normalizer.text(&reason))),
            (None, Some(failed)) => Some(CheckResult::not_run(name, not_run_reason(failed))),
            (None, None) => None,
        })
        .collect();
    let runnable: Vec<checks::CheckName> =
        scenario.checks.iter().zip(&checks).filter(|(_, done)| done.is_none()).map(|(&name, _)| name).collect();
    if !runnable.is_empty() {
        let names: Vec<&str> = runnable.iter().map(|name| name.as_str()).collect();
        progress::begin(format!("checks {} (at once)", names.join(", ")));
        let results = checks::run_all(&runnable, &ctx, &scenario.check_settings).await;
        let failed: Vec<&str> =
            results.iter().filter(|c| c.outcome == Outcome::Failed).map(|c| c.name.as_str()).collect();
        progress::end(&if failed.is_empty() { "done".to_owned() } else { format!("FAILED: {}", failed.join(", ")) });
        let mut results = results.into_iter();
        for slot in checks.iter_mut().filter(|slot| slot.is_none()) {
            *slot = results.next();
        }
    }
    let mut checks: Vec<CheckResult> = checks.into_iter().flatten().collect();
    for result in &mut checks {
        normalize_check(result, &normalizer);
    }
    // The browser started ahead, when the browser check did not run.
    ctx.browser.finish().await;

    let teardown = match (&mut provisioned, &options.provision) {
        (Some((run_id, journal)), Some(provision)) if provision.keep => {
            journal.record("kept", "", serde_json::Value::Null);
            eprintln!(
                "WARNING: --keep: the stack of run {run_id} stays in the account ({} steps applied; every name ends in {}). Remove it with: crts-harness cleanup --journal {} --yes",
                applied.len(),
                provision::suffix(run_id),
                journal.path.display()
            );
            Some(provision::Teardown {
                run_id: run_id.clone(),
                journal: journal.path.clone(),
                kept: true,
                removed: Vec::new(),
                leftovers: Vec::new(),
            })
        }
        (Some((run_id, journal)), _) => Some(provision::tear_down(&applied, &mut ctx, journal, run_id).await),
        (None, _) => None,
    };
    drop(interrupt);
    let embedded_start =
        if options.target.ephemeral() { None } else { embedded_start_time(options.region.as_deref()).await };
    let report = Report {
        scenario: scenario.name.clone(),
        variables: scenario
            .variables
            .iter()
            .map(|var| scenario::ScenarioVariable { value: normalizer.text(&var.value), ..var.clone() })
            .collect(),
        target: session.kind.to_owned(),
        target_start: target.start_time,
        embedded_start,
        wall_time: started.elapsed(),
        steps,
        checks,
        teardown,
    };
    if !report.passed()
        && let (Some(dir), Some(logs)) = (&options.report_dir, target.logs().await)
    {
        let path = dir.join(format!("{}.log", session.kind));
        match std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, logs)) {
            Ok(()) => eprintln!("the target's logs: {}", path.display()),
            Err(e) => eprintln!("cannot write the target's logs to {}: {e}", path.display()),
        }
    }
    target.stop().await;
    Ok(report)
}

/// A step's line in the report from what running it gave: what it read back, or its error, normalized (account,
/// region, and the API keys' values, which the step may just have learned).
pub(crate) fn step_report(
    step: &scenario::Step,
    result: Result<crate::steps::Observed, crate::steps::StepError>,
    ctx: &mut RunContext,
    normalizer: &mut Normalizer,
    started: Instant,
) -> StepReport {
    for key in ctx.facts.api_keys.values() {
        normalizer.add_secret(&key.value);
    }
    let (outcome, mut observed, error) = match result {
        Ok(observed) => (Outcome::Passed, observed, None),
        Err(e) => (Outcome::Failed, Default::default(), Some(normalizer.text(&e.message))),
    };
    observed.values_mut().for_each(|v| normalizer.value(v));
    tracing::debug!(step = %step.id, ok = error.is_none(), "step");
    StepReport {
        id: step.id.clone(),
        runbook: step.runbook.clone(),
        outcome,
        observed,
        error,
        notes: std::mem::take(&mut ctx.notes).into_iter().map(|n| normalizer.text(&n)).collect(),
        duration: started.elapsed(),
    }
}

/// A check's observations with the account, region and secrets replaced.
pub(crate) fn normalize_check(result: &mut CheckResult, normalizer: &Normalizer) {
    for o in &mut result.observations {
        o.actual = normalizer.text(&o.actual);
        o.expected = normalizer.text(&o.expected);
        o.unsupported = o.unsupported.as_deref().map(|r| normalizer.text(r));
    }
    tracing::debug!(check = result.name.as_str(), outcome = ?result.outcome, "check");
}

/// What stands for the failed step when Ctrl-C stopped the steps (see [`not_run_reason`]).
pub(crate) const INTERRUPTED: &str = "(interrupted)";

/// Why a step or check did not run: an earlier step failed, or Ctrl-C asked to stop ([`INTERRUPTED`]).
pub(crate) fn not_run_reason(failed: &str) -> String {
    if failed == INTERRUPTED { "interrupted (Ctrl-C)".to_owned() } else { format!("step {failed} failed") }
}

/// How long the embedded emulator takes to become usable, measured as [`targets::start`] measures any target.
async fn embedded_start_time(region: Option<&str>) -> Option<std::time::Duration> {
    let embedded = targets::start(&TargetSpec::embedded(), region).await.ok()?;
    let time = embedded.start_time;
    embedded.stop().await;
    Some(time)
}
