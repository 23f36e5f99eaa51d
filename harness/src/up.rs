//! `crts-harness up`: the whole CRTS stack live on this machine. The emulator listens on the port the developer
//! chose, the scenario is applied and checked once, and the stack stays up until Ctrl-C:
//! - the Swagger site opens in a browser already authorised with the local API key (an initializer line the
//!   harness adds to the bucket's copy of the page: this stack only, never a real account);
//! - a request log shows each execute-api call and each Batch job state change as they happen;
//! - with `--watch`, saving a file the scenario uses brings only the steps that read it up to date (the Lambda's
//!   code, the image, the Swagger files; the scenario file itself) and runs the checks again. An edit that cannot
//!   be applied (a handler that does not compile, a scenario that does not load, an image that does not build) is
//!   reported, and the stack keeps serving what it had.
//!
//! [`Stack`] is the stack and what can be done to it (the command, the tests and `bench` drive it);
//! [`Watcher`] turns file events into batches of changed paths; [`up`] is the command.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::checks::{self, CheckName, CheckResult, Outcome};
use crate::context::RunContext;
use crate::progress;
use crate::report::{Normalizer, Report, StepReport};
use crate::run::{self, RunError, normalize_check, step_report};
use crate::scenario::{self, Scenario, VarOverride};
use crate::targets::{self, TargetSpec, embedded};

/// What to bring up, and where.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub scenario: PathBuf,
    pub variables: Vec<VarOverride>,
    /// Where the emulator listens (`127.0.0.1:4566` by default; port 0 picks a free one).
    pub bind: SocketAddr,
    pub region: Option<String>,
    /// Where screenshots go (the temporary directory otherwise).
    pub report_dir: Option<PathBuf>,
}

/// A CRTS stack that is up: the emulator, the run's context, the scenario as it was last applied, and what the
/// checks said last.
pub struct Stack {
    emulator: crts_emulator::Emulator,
    ctx: RunContext,
    options: UpOptions,
    /// The scenario as applied: what the files on disk are compared with.
    scenario: Scenario,
    normalizer: Normalizer,
    /// The steps before this index are applied (all of them, unless one failed).
    applied: usize,
    /// Each applied step's files as they were when it was applied or last updated (see [`fingerprint`]): a step
    /// whose files differ now is due, whatever events said (an update that failed is tried again; a file put
    /// back as it was is no change).
    inputs: BTreeMap<String, [u8; 32]>,
    checks: Vec<CheckResult>,
    /// Set on Ctrl-C or SIGTERM: no further step is started.
    stopping: Arc<AtomicBool>,
}

/// What one batch of file changes did.
#[derive(Debug)]
pub struct Cycle {
    pub changed: Vec<PathBuf>,
    /// Why nothing was changed: the scenario does not load, or the change cannot be made in place.
    pub refused: Option<String>,
    /// Each step brought up to date (or applied for the first time), in order, with how it went.
    pub steps: Vec<(String, Result<Duration, String>)>,
    /// The checks, when they ran again: each with its outcome before this change (`None`: it did not run then).
    pub checks: Vec<(CheckResult, Option<Outcome>)>,
    pub checks_time: Duration,
}

impl Cycle {
    /// Something was changed and every check passed.
    pub fn green(&self) -> bool {
        self.refused.is_none()
            && self.steps.iter().all(|(_, r)| r.is_ok())
            && !self.checks.is_empty()
            && self.checks.iter().all(|(c, _)| c.outcome == Outcome::Passed)
    }

    /// The one-screen summary `up --watch` prints.
    pub fn to_text(&self, root: &Path) -> String {
        let mut out = String::new();
        let names: Vec<String> = self.changed.iter().map(|p| shown(p, root)).collect();
        out.push_str(&format!("── {}  changed: {}\n", clock(), names.join(", ")));
        if let Some(reason) = &self.refused {
            out.push_str(&format!("   NOT APPLIED  {reason}\n   the stack keeps serving what it had\n"));
            return out;
        }
        if self.steps.is_empty() {
            out.push_str("   no step reads what changed\n");
        }
        for (id, result) in &self.steps {
            match result {
                Ok(took) => out.push_str(&format!("   updated      {id:<34} {:>6} ms\n", took.as_millis())),
                Err(e) => out.push_str(&format!("   NOT UPDATED  {id}: {e}\n")),
            }
        }
        if self.steps.iter().any(|(_, r)| r.is_err()) {
            out.push_str("   the stack keeps serving what it had for that step; fix it and save again\n");
        }
        if self.checks.is_empty() {
            return out;
        }
        let passed = self.checks.iter().filter(|(c, _)| c.outcome == Outcome::Passed).count();
        let slowest = self.checks.iter().map(|(c, _)| c).max_by_key(|c| c.duration);
        out.push_str(&format!(
            "   checks       {passed}/{} passed in {} ms{}\n",
            self.checks.len(),
            self.checks_time.as_millis(),
            slowest
                .map(|c| format!(" (all at once; slowest {} {} ms)", c.name.as_str(), c.duration.as_millis()))
                .unwrap_or_default()
        ));
        for (check, before) in &self.checks {
            let now = short(&check.outcome);
            let was = before.as_ref().map(short);
            if was.as_deref() != Some(now.as_str()) {
                let was = was.unwrap_or_else(|| "not run".to_owned());
                out.push_str(&format!("   changed      {:<16} {was} → {now}\n", check.name.as_str()));
            }
            if check.outcome == Outcome::Failed {
                for o in check.observations.iter().filter(|o| !o.ok && o.not_checked.is_none()) {
                    out.push_str(&format!(
                        "     {}: {}: expected {}, got {}\n",
                        check.name.as_str(),
                        o.what,
                        o.expected,
                        o.actual
                    ));
                }
            }
        }
        out
    }
}

/// `passed`, `FAILED`, `skipped` ...: an outcome in one word.
fn short(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed => "FAILED",
        Outcome::NotRun(_) => "not run",
        Outcome::Skipped(_) => "skipped",
        Outcome::Unsupported(_) => "unsupported",
        Outcome::NotChecked(_) => "not checked",
    }
    .to_owned()
}

fn clock() -> String {
    chrono::Local::now().format("%H:%M:%S").to_string()
}

/// `path` relative to `root` when it is under it.
fn shown(path: &Path, root: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// A digest of files and folders (every file under a folder, by path and contents), to tell whether what a step
/// reads changed since it was applied. What cannot be read counts as its error text, so it differs too.
fn fingerprint(paths: &[&Path]) -> [u8; 32] {
    use sha2::Digest as _;
    let mut digest = sha2::Sha256::new();
    for path in paths {
        let mut files = Vec::new();
        collect_files(path, &mut files);
        files.sort();
        for file in files {
            digest.update(file.as_os_str().as_encoded_bytes());
            match std::fs::read(&file) {
                Ok(bytes) => digest.update(&bytes),
                Err(e) => digest.update(e.to_string().as_bytes()),
            }
            digest.update([0]);
        }
    }
    digest.finalize().into()
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) {
    match std::fs::read_dir(path) {
        Ok(entries) => {
            for entry in entries.flatten() {
                collect_files(&entry.path(), out);
            }
        }
        Err(_) => out.push(path.to_path_buf()),
    }
}

impl Stack {
    /// Starts the emulator, applies the scenario and runs its checks once. The report says how that went; the
    /// stack stays up whatever it says (a failed step is applied again when its files change).
    pub async fn start(options: UpOptions, stopping: Arc<AtomicBool>) -> Result<(Self, Report), RunError> {
        let started = Instant::now();
        let validated = run::validate(&options.scenario, &options.variables)?;
        let containers = crts_emulator::JobRunner::from_env().map_err(RunError::Input)?;
        let config = crts_emulator::Config {
            bind: options.bind,
            default_region: options.region.clone().unwrap_or_else(|| "us-east-1".to_owned()),
            lambda: crts_emulator::LambdaConfig {
                prestart: validated.lambda_runtimes(),
                ..crts_emulator::LambdaConfig::from_env()
            },
            batch: crts_emulator::BatchConfig { containers, ..Default::default() },
            ..Default::default()
        };
        let emulator = crts_emulator::Emulator::start(config).await.map_err(|e| {
            RunError::Input(format!(
                "cannot listen on {}: {e} (is another emulator or LocalStack using the port? pick another with --port)",
                options.bind
            ))
        })?;
        let target_start = started.elapsed();
        let spec = TargetSpec::new(embedded::Started { endpoint: emulator.endpoint().to_owned() });
        let target = match targets::start(&spec, options.region.as_deref()).await {
            Ok(target) => target,
            Err(e) => {
                emulator.shutdown().await;
                return Err(e.into());
            }
        };
        let session = target.session.clone();
        let scenario = match scenario::load(&options.scenario, &run::runtime_variables_of(&session), &options.variables)
        {
            Ok(scenario) => scenario,
            Err(e) => {
                emulator.shutdown().await;
                return Err(e.into());
            }
        };
        let mut ctx = RunContext::new(session.clone());
        ctx.artifacts.clone_from(&options.report_dir);
        if scenario.checks.contains(&CheckName::SwaggerBrowser) && crate::browser::installed().is_ok() {
            // One browser for the whole session: each round of checks finds it open.
            ctx.browser = crate::browser::Prestart::kept();
        }
        let mut stack = Self {
            emulator,
            ctx,
            normalizer: Normalizer::new(&session.account_id, &session.region),
            options,
            scenario,
            applied: 0,
            inputs: BTreeMap::new(),
            checks: Vec::new(),
            stopping,
        };
        let steps = stack.apply_remaining();
        let steps = steps.await;
        if stack.complete() {
            stack.preauthorize().await;
            let checks = stack.run_checks().await;
            stack.checks = checks;
        }
        // The first round's screenshots are the report's; after a change the developer has the page itself.
        stack.ctx.screenshots = false;
        let checks = if stack.complete() {
            stack.checks.clone()
        } else {
            let failed =
                steps.iter().find(|s| s.outcome == Outcome::Failed).map_or(run::INTERRUPTED, |s| s.id.as_str());
            let reason = run::not_run_reason(failed);
            stack.scenario.checks.iter().map(|&name| CheckResult::not_run(name, reason.clone())).collect()
        };
        let report = Report {
            scenario: stack.scenario.name.clone(),
            variables: stack
                .scenario
                .variables
                .iter()
                .map(|var| scenario::ScenarioVariable { value: stack.normalizer.text(&var.value), ..var.clone() })
                .collect(),
            target: session.kind.to_owned(),
            target_start,
            embedded_start: None,
            wall_time: started.elapsed(),
            steps,
            checks,
            teardown: None,
        };
        Ok((stack, report))
    }

    /// Every step applied.
    pub fn complete(&self) -> bool {
        self.applied == self.scenario.steps.len()
    }

    /// Where the emulator listens (`http://127.0.0.1:4566`).
    pub fn endpoint(&self) -> &str {
        self.emulator.endpoint()
    }

    /// The emulator, for what the request log follows.
    pub fn emulator(&self) -> &crts_emulator::Emulator {
        &self.emulator
    }

    /// The files and folders `--watch` follows: the scenario's own files and every step's inputs.
    pub fn watched(&self) -> Vec<PathBuf> {
        let mut paths: BTreeSet<PathBuf> = self.scenario.files.iter().cloned().collect();
        for step in &self.scenario.steps {
            paths.extend(step.action.inputs().into_iter().map(|p| std::path::absolute(p).unwrap_or(p.to_path_buf())));
        }
        paths.into_iter().collect()
    }

    /// The block `up` prints once the stack is up: where to click, what to export, how to stop. The API key's
    /// value is never in it.
    pub fn summary(&self, watching: bool) -> String {
        let settings = &self.scenario.check_settings;
        let mut out = String::new();
        out.push_str(&format!("CRTS is up: scenario {} on {}\n", self.scenario.path.display(), self.endpoint()));
        if let Some(swagger) = &settings.swagger {
            out.push_str(&format!(
                "  Swagger site  {}/   (authorised with the local API key: Try it out → Execute)\n",
                self.ctx.target.website_url(&swagger.bucket)
            ));
        }
        if let Some(api) = &settings.api
            && let Some(id) = self.ctx.facts.rest_api_ids.get(&api.name)
        {
            let (scheme, host, base) = self.ctx.target.api_base(id, &api.stage);
            out.push_str(&format!(
                "  Invoke URL    {scheme}://{host}{base}{}   (POST; header x-api-key: the value of API key {})\n",
                api.path, api.api_key
            ));
        }
        out.push_str(&format!(
            "  AWS CLI/boto3 {}\n",
            crate::targets::emulator_exports(self.endpoint(), &self.ctx.target.region)
        ));
        if watching {
            let root = &self.scenario.base_dir;
            let watched: Vec<String> = self.watched().iter().map(|p| shown(p, root)).collect();
            out.push_str(&format!("  Watching      {}\n", watched.join(", ")));
        }
        out.push_str(
            "  Stop          Ctrl-C (everything goes with it: the emulator, its Lambda workers and job containers)\n",
        );
        out
    }

    /// Applies the steps from the first one not applied yet, in order, until one fails.
    async fn apply_remaining(&mut self) -> Vec<StepReport> {
        let mut reports = Vec::new();
        let total = self.scenario.steps.len();
        let mut failed: Option<String> = None;
        for (index, step) in self.scenario.steps.iter().enumerate().skip(self.applied) {
            if failed.is_none() && self.stopping.load(Ordering::Relaxed) {
                failed = Some(run::INTERRUPTED.to_owned());
            }
            if let Some(failed) = &failed {
                reports.push(StepReport::skipped(step, Outcome::NotRun(run::not_run_reason(failed))));
                continue;
            }
            let started = Instant::now();
            progress::begin(format!("[{}/{total}] step {}", index + 1, step.id));
            let result = step.action.run(&mut self.ctx).await;
            progress::end(if result.is_ok() { "passed" } else { "FAILED" });
            if result.is_ok() {
                self.applied = index + 1;
                self.inputs.insert(step.id.clone(), fingerprint(&step.action.inputs()));
            } else {
                failed = Some(step.id.clone());
            }
            reports.push(step_report(step, result, &mut self.ctx, &mut self.normalizer, started));
        }
        reports
    }

    /// Runs every check of the scenario at once, each result normalized.
    async fn run_checks(&mut self) -> Vec<CheckResult> {
        let mut results = checks::run_all(&self.scenario.checks, &self.ctx, &self.scenario.check_settings).await;
        for result in &mut results {
            normalize_check(result, &self.normalizer);
        }
        results
    }

    /// Brings the stack in line with the files after `changed` changed: the scenario is read again (a step
    /// whose settings differ is updated), the steps that read a changed file are updated, the steps a failure left
    /// unapplied are applied, and the checks run again. Nothing is changed when the scenario does not load, when
    /// steps were added, removed or reordered, or when a step that must change cannot be changed in place.
    pub async fn apply_change(&mut self, changed: &[PathBuf]) -> Cycle {
        let mut cycle = Cycle {
            changed: changed.to_vec(),
            refused: None,
            steps: Vec::new(),
            checks: Vec::new(),
            checks_time: Duration::ZERO,
        };
        let wanted = match scenario::load(
            &self.options.scenario,
            &run::runtime_variables_of(&self.ctx.target),
            &self.options.variables,
        ) {
            Ok(wanted) => wanted,
            Err(e) => {
                cycle.refused = Some(e.to_string());
                return cycle;
            }
        };
        let ids = |s: &Scenario| s.steps.iter().map(|step| step.id.clone()).collect::<Vec<_>>();
        if ids(&wanted) != ids(&self.scenario) {
            cycle.refused = Some(format!(
                "steps were added, removed or reordered in {}: stop `up` and start it again to apply them",
                self.scenario.path.display()
            ));
            return cycle;
        }
        // What must change: the applied steps whose settings differ, or whose files differ from when they were
        // applied (the events only say when to look).
        let due: Vec<usize> = (0..self.applied)
            .filter(|&index| {
                let (old, new) = (&self.scenario.steps[index], &wanted.steps[index]);
                format!("{:?}", old.action) != format!("{:?}", new.action)
                    || self.inputs.get(&new.id) != Some(&fingerprint(&new.action.inputs()))
            })
            .collect();
        let fixed: Vec<&scenario::Step> =
            due.iter().map(|&index| &wanted.steps[index]).filter(|step| !step.action.updatable()).collect();
        if !fixed.is_empty() {
            let ids: Vec<&str> = fixed.iter().map(|step| step.id.as_str()).collect();
            let actions: Vec<&str> = fixed.iter().map(|step| step.action.name()).collect();
            cycle.refused = Some(format!(
                "{} cannot be changed in place (`{}`): stop `up` and start it again to apply this change",
                ids.join(", "),
                actions.join("`, `")
            ));
            return cycle;
        }
        let checks_before: BTreeMap<CheckName, Outcome> =
            self.checks.iter().map(|c| (c.name, c.outcome.clone())).collect();
        // New checks or check settings need nothing applied, only the checks run again.
        let checks_of = |s: &Scenario| format!("{:?} {:?}", s.checks, s.check_settings);
        let mut changed_something = checks_of(&wanted) != checks_of(&self.scenario);
        let mut failed = false;
        for &index in &due {
            if self.stopping.load(Ordering::Relaxed) {
                failed = true;
                break;
            }
            let step = &wanted.steps[index];
            // The files as they are before the update reads them: a save during it is seen at the next look.
            let inputs = fingerprint(&step.action.inputs());
            let started = Instant::now();
            match step.action.update(&mut self.ctx).await {
                Ok(_) => {
                    changed_something = true;
                    // This step is now as the files and settings say, whatever happens to the next ones.
                    self.inputs.insert(step.id.clone(), inputs);
                    self.scenario.steps[index] = step.clone();
                    cycle.steps.push((step.id.clone(), Ok(started.elapsed())));
                }
                Err(e) => {
                    failed = true;
                    cycle.steps.push((step.id.clone(), Err(self.normalizer.text(&e.message))));
                    break;
                }
            }
            self.ctx.notes.clear();
        }
        // After a failure, what was updated is recorded as such and the rest is tried again at the next change.
        if !failed {
            self.scenario = wanted;
            if !self.complete() {
                let before = self.applied;
                for report in self.apply_remaining().await {
                    let result = match (&report.outcome, &report.error) {
                        (Outcome::Passed, _) => Ok(report.duration),
                        (_, Some(error)) => Err(error.clone()),
                        _ => continue,
                    };
                    cycle.steps.push((report.id, result));
                }
                changed_something |= self.applied > before;
            }
        }
        if changed_something && self.complete() {
            self.preauthorize().await;
            let started = Instant::now();
            self.checks = self.run_checks().await;
            cycle.checks_time = started.elapsed();
            cycle.checks = self.checks.iter().map(|c| (c.clone(), checks_before.get(&c.name).cloned())).collect();
        }
        cycle
    }

    /// Authorises the Swagger page of this stack with its API key: a line added to the bucket's copy of
    /// `swagger-initializer.js` (or, when the Swagger code has none, a script at the end of `index.html`) calls
    /// Swagger UI's `preauthorizeApiKey` once the definition is loaded. Only the object in this emulator's bucket
    /// changes, never the developer's file; the key is written there and nowhere else.
    async fn preauthorize(&mut self) {
        if let Err(e) = preauthorize(&self.ctx, &self.scenario.check_settings).await {
            tracing::warn!("the Swagger page is not authorised with the API key (authorise it by hand): {e}");
        }
    }

    /// Stops the emulator (its Lambda workers and job containers with it) and the kept browser.
    pub async fn stop(self) {
        self.ctx.browser.finish().await;
        self.emulator.shutdown().await;
    }
}

/// Marks what the harness adds to the page, so that it is added once.
const PREAUTHORIZED: &str = "Added by crts-harness up";

async fn preauthorize(ctx: &RunContext, settings: &checks::CheckSettings) -> Result<(), String> {
    use aws_sdk_s3::primitives::ByteStream;
    let (Some(api), Some(swagger)) = (&settings.api, &settings.swagger) else { return Ok(()) };
    let Some(key) = ctx.facts.api_keys.get(&api.api_key) else {
        return Err(format!("the API key {} was not read", api.api_key));
    };
    let read = |key: String| async move {
        let object = ctx.s3.get_object().bucket(&swagger.bucket).key(&key).send().await.ok()?;
        let bytes = object.body.collect().await.ok()?.into_bytes();
        Some(String::from_utf8_lossy(&bytes).into_owned())
    };
    let definition = read(swagger.definition.clone())
        .await
        .ok_or_else(|| format!("{} is not in bucket {}", swagger.definition, swagger.bucket))?;
    let definition: serde_json::Value =
        crate::swagger_definition::parse(&definition).map_err(|e| format!("{}: {e}", swagger.definition))?;
    let scheme = api_key_scheme(&definition)
        .ok_or_else(|| format!("{} defines no apiKey security scheme sent as x-api-key", swagger.definition))?;
    let script = format!(
        "// {PREAUTHORIZED} (this local stack only): Swagger UI authorised with the stack's API key once the\n\
         // definition is loaded (preauthorizeApiKey does nothing before).\n\
         (function () {{\n  var tries = 0;\n  var timer = setInterval(function () {{\n    tries += 1;\n    \
         if ((window.ui && window.ui.preauthorizeApiKey && window.ui.preauthorizeApiKey({}, {})) || tries > 400) {{\n      \
         clearInterval(timer);\n    }}\n  }}, 25);\n}})();\n",
        serde_json::Value::from(scheme),
        serde_json::Value::from(key.value.as_str()),
    );
    let (object, text) = match read("swagger-initializer.js".to_owned()).await {
        Some(js) => ("swagger-initializer.js", format!("{js}\n{script}")),
        None => {
            let html = read("index.html".to_owned()).await.ok_or("index.html is not in the bucket")?;
            let tag = format!("<script>\n{script}</script>\n");
            let html = match html.rfind("</body>") {
                Some(at) => format!("{}{tag}{}", &html[..at], &html[at..]),
                None => format!("{html}{tag}"),
            };
            ("index.html", html)
        }
    };
    if text.matches(PREAUTHORIZED).count() > 1 {
        return Ok(());
    }
    let content_type = crate::swagger_ui::content_type(object);
    ctx.s3
        .put_object()
        .bucket(&swagger.bucket)
        .key(object)
        .content_type(content_type)
        .body(ByteStream::from(text.into_bytes()))
        .send()
        .await
        .map_err(|e| format!("PutObject {object}: {}", aws_smithy_types::error::display::DisplayErrorContext(&e)))?;
    Ok(())
}

/// The name of the definition's apiKey security scheme sent in the `x-api-key` header (Swagger 2.0's
/// securityDefinitions or OpenAPI 3's components.securitySchemes).
fn api_key_scheme(definition: &serde_json::Value) -> Option<String> {
    let schemes = definition
        .get("securityDefinitions")
        .or_else(|| definition.get("components").and_then(|c| c.get("securitySchemes")))?
        .as_object()?;
    schemes
        .iter()
        .find(|(_, s)| {
            s["type"] == "apiKey"
                && s["in"] == "header"
                && s["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case("x-api-key"))
        })
        .map(|(name, _)| name.clone())
}

/// File events, in batches: the paths under what is watched that changed, once the editor is done writing.
pub struct Watcher {
    _watcher: notify::RecommendedWatcher,
    events: tokio::sync::mpsc::UnboundedReceiver<PathBuf>,
    watched: Vec<PathBuf>,
}

/// How long the files must stay quiet before a batch is taken (editors write a file in several steps).
const SETTLE: Duration = Duration::from_millis(40);

impl Watcher {
    /// Watches `paths` (files and folders): a file through its folder, so that editors that save by renaming a
    /// new file over the old one are followed too.
    pub fn new(paths: &[PathBuf]) -> Result<Self, String> {
        use notify::Watcher as _;
        let (tx, events) = tokio::sync::mpsc::unbounded_channel();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event
                && !matches!(event.kind, notify::EventKind::Access(_))
            {
                for path in event.paths {
                    let _ = tx.send(path);
                }
            }
        })
        .map_err(|e| format!("cannot watch files: {e}"))?;
        // One watch per folder: recursive when any path needs it (a later watch of a folder replaces its first).
        let mut folders: BTreeMap<PathBuf, bool> = BTreeMap::new();
        for path in paths {
            let (folder, recursive) = if path.is_dir() {
                (path.clone(), true)
            } else {
                (path.parent().map(Path::to_path_buf).unwrap_or_default(), false)
            };
            *folders.entry(folder).or_default() |= recursive;
        }
        for (folder, recursive) in folders {
            let mode = if recursive { notify::RecursiveMode::Recursive } else { notify::RecursiveMode::NonRecursive };
            watcher.watch(&folder, mode).map_err(|e| format!("cannot watch {}: {e}", folder.display()))?;
        }
        Ok(Self { _watcher: watcher, events, watched: paths.to_vec() })
    }

    /// The next batch of changed paths that are (or are under) something watched, editors' scratch files left out.
    pub async fn next(&mut self) -> Option<Vec<PathBuf>> {
        loop {
            let first = self.events.recv().await?;
            let mut batch = BTreeSet::from([first]);
            while let Ok(Some(path)) = tokio::time::timeout(SETTLE, self.events.recv()).await {
                batch.insert(path);
            }
            let relevant: Vec<PathBuf> =
                batch.into_iter().filter(|p| !scratch(p) && self.watched.iter().any(|w| p.starts_with(w))).collect();
            if !relevant.is_empty() {
                return Some(relevant);
            }
        }
    }
}

/// Editors' swap and backup files, caches: never a change to apply.
fn scratch(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".pyc")
        || path.components().any(|c| c.as_os_str() == "__pycache__")
}

/// Prints one line per execute-api request and per Batch job state change, while `quiet` is not set (the
/// harness's own checks are not the developer's clicks: their requests and jobs are left out).
fn request_log(stack: &Stack, quiet: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    let mut requests = stack.emulator.subscribe_requests();
    let jobs_now = stack.emulator.jobs();
    tokio::spawn(async move {
        // Job id → the status last printed (`None`: a job the harness submitted, never printed).
        let mut jobs: BTreeMap<String, Option<&'static str>> =
            jobs_now.states().into_iter().map(|job| (job.id, None)).collect();
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            tokio::select! {
                request = requests.recv() => match request {
                    Ok(entry) if entry.service == "execute-api" && !quiet.load(Ordering::Relaxed) => {
                        say(&format!(
                            "{}  {:<6} {:<28} {}  {:>5} ms",
                            clock(), entry.method, entry.path, entry.status, entry.latency.as_millis()
                        ));
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        say(&format!("{}  ({missed} requests not shown: too many at once)", clock()));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = tick.tick() => {
                    let hide = quiet.load(Ordering::Relaxed);
                    for job in jobs_now.states() {
                        let known = jobs.entry(job.id.clone()).or_insert_with(|| (!hide).then_some(""));
                        let Some(last) = known else { continue };
                        if *last != job.status {
                            let reason = job.status_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
                            say(&format!("{}  job {} {} → {}{reason}", clock(), job.name, job.id, job.status));
                            *known = Some(job.status);
                        }
                    }
                }
            }
        }
    })
}

/// A line on standard output, whoever reads it (never dies of a closed pipe).
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// The `up` command: brings the stack up, prints where it is, follows requests and (with `watch`) file changes,
/// and stops everything on Ctrl-C or SIGTERM. Exit 0 when stopped that way; 2 when it could not come up; 1 when
/// the first apply failed and there is no `--watch` to fix it with.
pub async fn up(options: UpOptions, watch: bool) -> std::process::ExitCode {
    // Ctrl-C and SIGTERM are ours from the start: during a step they stop the steps after it; during a change,
    // the steps after the current one; then everything is stopped and cleaned up.
    let stopping = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(tokio::sync::Notify::new());
    tokio::spawn({
        let (stopping, stop) = (Arc::clone(&stopping), Arc::clone(&stop));
        async move {
            crate::cli::wait_for_stop_signal().await;
            stopping.store(true, Ordering::Relaxed);
            // A permit: the main loop sees it even if it is busy with a change right now.
            stop.notify_one();
        }
    });
    progress::enable();
    let started = Stack::start(options, Arc::clone(&stopping)).await;
    // Changes print their own summary.
    progress::disable();
    let (mut stack, report) = match started {
        Ok(up) => up,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    print!("{}", crate::report::to_text(&report));
    if stopping.load(Ordering::Relaxed) {
        say("stopping: the emulator, its Lambda workers and job containers");
        stack.stop().await;
        return std::process::ExitCode::SUCCESS;
    }
    if !stack.complete() && !watch {
        eprintln!("error: a step failed (see above): fix it and run `up` again, or use `up --watch` to fix it live");
        stack.stop().await;
        return std::process::ExitCode::from(1);
    }
    say(&stack.summary(watch));
    let quiet = Arc::new(AtomicBool::new(false));
    let log = request_log(&stack, Arc::clone(&quiet));
    let mut watcher = if watch {
        match Watcher::new(&stack.watched()) {
            Ok(watcher) => Some(watcher),
            Err(e) => {
                eprintln!("error: {e}");
                log.abort();
                stack.stop().await;
                return std::process::ExitCode::from(2);
            }
        }
    } else {
        None
    };
    let root = stack.scenario.base_dir.clone();
    loop {
        let change = async {
            match watcher.as_mut() {
                Some(watcher) => watcher.next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stop.notified() => break,
            changed = change => {
                let Some(changed) = changed else { break };
                quiet.store(true, Ordering::Relaxed);
                let cycle = stack.apply_change(&changed).await;
                quiet.store(false, Ordering::Relaxed);
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                say(cycle.to_text(&root).trim_end());
                // The scenario may now read other files.
                let now = stack.watched();
                if watcher.as_ref().is_some_and(|w| w.watched != now) {
                    match Watcher::new(&now) {
                        Ok(new) => watcher = Some(new),
                        Err(e) => eprintln!("warning: {e} (still watching the files from before)"),
                    }
                }
            }
        }
    }
    say("stopping: the emulator, its Lambda workers and job containers");
    log.abort();
    stack.stop().await;
    std::process::ExitCode::SUCCESS
}
