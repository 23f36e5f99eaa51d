//! `crts-harness cleanup`: what provisioned runs left behind (a crash, a second Ctrl-C, `--keep`), found through
//! their journals (`--journal FILE`, else every journal in the user's cache), listed — the default, a dry run — or
//! removed with `--yes`, by the same teardown a run does, on the names the journal recorded.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::context::{Owner, RunContext};
use crate::provision::{self, Journal, Teardown};
use crate::run::{self, RunError};
use crate::scenario::{self, VarOverride};
use crate::steps::tagged::{self, TaggedResource};
use crate::targets::{self, TargetSpec};

/// What to clean up.
#[derive(Debug, Clone, Default)]
pub struct CleanupOptions {
    /// Journals to read; none: every journal in the user's cache.
    pub journals: Vec<PathBuf>,
    pub run_id: Option<String>,
    /// Only runs that started at least this long ago.
    pub older_than: Option<Duration>,
    /// Remove; without it, only list.
    pub yes: bool,
    /// Instead of the target the journal names.
    pub target: Option<TargetSpec>,
    pub region: Option<String>,
    pub account_id: Option<String>,
}

/// A provisioned run that has something left, as its journal tells it.
#[derive(Debug, Clone)]
pub struct LeftRun {
    pub journal: PathBuf,
    pub run_id: String,
    pub started: Option<chrono::DateTime<chrono::Utc>>,
    pub scenario: PathBuf,
    pub variables: Vec<VarOverride>,
    pub target: String,
    pub region: Option<String>,
    /// The steps applied and not torn down, in run order.
    pub steps: Vec<String>,
}

/// The runs with something left, oldest first.
pub fn find(options: &CleanupOptions) -> Result<Vec<LeftRun>, String> {
    let journals = if options.journals.is_empty() {
        let dir = provision::cache_dir().join("runs");
        match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect(),
            Err(_) => Vec::new(),
        }
    } else {
        options.journals.clone()
    };
    let mut runs = Vec::new();
    for path in journals {
        let run = read(&path)?;
        if run.steps.is_empty() || options.run_id.as_ref().is_some_and(|id| *id != run.run_id) {
            continue;
        }
        if let (Some(age), Some(started)) = (options.older_than, run.started) {
            let cutoff = chrono::Utc::now() - chrono::Duration::from_std(age).unwrap_or_default();
            if started > cutoff {
                continue;
            }
        }
        runs.push(run);
    }
    runs.sort_by_key(|r| r.started);
    Ok(runs)
}

/// A journal's run: its first event says what ran where.
fn read(path: &Path) -> Result<LeftRun, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let first: serde_json::Value = text
        .lines()
        .next()
        .and_then(|line| serde_json::from_str(line).ok())
        .filter(|event: &serde_json::Value| event["event"] == "run")
        .ok_or_else(|| format!("{}: not a crts-harness provision journal (no `run` event first)", path.display()))?;
    let detail = &first["detail"];
    let variables = detail["variables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            v.as_str()?.split_once('=').map(|(n, v)| VarOverride { name: n.to_owned(), value: v.to_owned() })
        })
        .collect();
    Ok(LeftRun {
        journal: path.to_path_buf(),
        run_id: detail["run_id"].as_str().unwrap_or_default().to_owned(),
        started: first["time"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc()),
        scenario: PathBuf::from(detail["scenario"].as_str().unwrap_or_default()),
        variables,
        target: detail["target"].as_str().unwrap_or_default().to_owned(),
        region: detail["region"].as_str().map(str::to_owned),
        steps: provision::open_steps(path),
    })
}

/// Tears down what `run` left, on its target (or `options.target`).
pub async fn remove(run: &LeftRun, options: &CleanupOptions) -> Result<Teardown, RunError> {
    let spec = match &options.target {
        Some(spec) => spec.clone(),
        None => run.target.parse().map_err(RunError::Input)?,
    };
    if spec.ephemeral() {
        return Err(RunError::Input(format!(
            "run {} was on the embedded target, which stopped with it: nothing is left (delete {})",
            run.run_id,
            run.journal.display()
        )));
    }
    if spec.real_account() && options.account_id.is_none() {
        return Err(RunError::Input("cleanup --target aws needs --account-id ACCOUNT (or CRTS_AWS_ACCOUNT_ID)".into()));
    }
    run::validate(&run.scenario, &run.variables)?;
    let region = options.region.clone().or_else(|| run.region.clone());
    let target = targets::start_for(&spec, region.as_deref(), options.account_id.as_deref()).await?;
    let scenario = scenario::load(&run.scenario, &run::runtime_variables_of(&target.session), &run.variables)?;
    let steps: Vec<&scenario::Step> = scenario.steps.iter().filter(|s| run.steps.contains(&s.id)).collect();
    let mut journal = Journal::append(&run.journal)
        .map_err(|e| RunError::Input(format!("cannot write the journal {}: {e}", run.journal.display())))?;
    let mut ctx = RunContext::new(target.session.clone());
    ctx.owner = Some(Owner::new(&run.run_id));
    let teardown = provision::tear_down(&steps, &mut ctx, &mut journal, &run.run_id).await;
    target.stop().await;
    Ok(teardown)
}

/// What runs left that carries their tag, on one target.
#[derive(Debug, Default)]
pub struct TagCleanup {
    /// By run id, in teardown order.
    pub found: std::collections::BTreeMap<String, Vec<TaggedResource>>,
    pub removed: Vec<String>,
    /// (ARN, last error).
    pub leftovers: Vec<(String, String)>,
    /// Runs found only by tag that `--yes` did not remove: without `--run-id` or `--older-than`, a run no journal
    /// here names may be in progress on another machine.
    pub held: Vec<String>,
}

/// Finds what provisioned runs left on `spec` by the `crts-harness:run-id` tag (whatever their journals say),
/// filtered by `--run-id` and `--older-than` (the `crts-harness:created` tag), and with `--yes` removes it, run
/// by run, in teardown order, each resource only if it still carries the run's tag when read just before. With
/// `--journal`, only the journals' runs are looked for. `--yes` removes a run no journal here names only when
/// `--run-id` or `--older-than` says so (it may be running elsewhere). Untagged resources are never touched.
/// `journals` are the runs this cleanup read journals for; `region`, the journals' region when `--region` is not
/// given.
pub async fn by_tag(
    spec: &TargetSpec,
    options: &CleanupOptions,
    journals: &[LeftRun],
    region: Option<&str>,
) -> Result<TagCleanup, RunError> {
    if spec.real_account() && options.account_id.is_none() {
        return Err(RunError::Input("cleanup --target aws needs --account-id ACCOUNT (or CRTS_AWS_ACCOUNT_ID)".into()));
    }
    let region = options.region.as_deref().or(region);
    let target = targets::start_for(spec, region, options.account_id.as_deref()).await?;
    let ctx = RunContext::new(target.session.clone());
    let journal_runs: Vec<&str> = journals.iter().map(|r| r.run_id.as_str()).collect();
    let result = by_tag_on(&ctx, options, &journal_runs).await;
    target.stop().await;
    result.map_err(|e| RunError::Input(format!("cannot search {spec} by tag: {}", e.message)))
}

async fn by_tag_on(
    ctx: &RunContext,
    options: &CleanupOptions,
    journal_runs: &[&str],
) -> Result<TagCleanup, crate::steps::StepError> {
    let cutoff = options.older_than.map(|age| chrono::Utc::now() - chrono::Duration::from_std(age).unwrap_or_default());
    let old_enough = |resource: &TaggedResource| match (cutoff, &resource.created) {
        (None, _) => true,
        (Some(cutoff), Some(created)) => {
            chrono::DateTime::parse_from_rfc3339(created).is_ok_and(|t| t.to_utc() <= cutoff)
        }
        (Some(_), None) => false,
    };
    let found: Vec<TaggedResource> = tagged::find(ctx)
        .await?
        .into_iter()
        .filter(|r| options.run_id.as_ref().is_none_or(|id| *id == r.run_id))
        .filter(|r| options.journals.is_empty() || journal_runs.contains(&r.run_id.as_str()))
        .filter(old_enough)
        .collect();
    let mut cleanup = TagCleanup { found: tagged::by_run(found), ..TagCleanup::default() };
    if !options.yes {
        return Ok(cleanup);
    }
    let chosen = options.run_id.is_some() || options.older_than.is_some();
    for (run_id, resources) in &cleanup.found {
        if !chosen && !journal_runs.contains(&run_id.as_str()) {
            cleanup.held.push(run_id.clone());
            continue;
        }
        let mut owned = ctx.clone();
        owned.owner = Some(Owner::new(run_id));
        let roles: Vec<&str> = resources
            .iter()
            .filter_map(|r| r.arn.split_once(":role/").map(|(_, name)| name.rsplit('/').next().unwrap_or(name)))
            .collect();
        for resource in resources {
            match tagged::remove(&owned, resource, &roles).await {
                Ok(removed) => cleanup.removed.extend(removed),
                Err(e) => cleanup.leftovers.push((resource.arn.clone(), e.message)),
            }
        }
    }
    Ok(cleanup)
}

/// `90s`, `30m`, `12h`, `7d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().map_err(|_| format!("`{text}` is not a duration (e.g. 30m, 12h, 7d)"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{text}` is not a duration (e.g. 30m, 12h, 7d)")),
    };
    Ok(Duration::from_secs(n * seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_a_number_and_a_unit() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert!(parse_duration("7 days").is_err());
        assert!(parse_duration("h").is_err());
    }
}
