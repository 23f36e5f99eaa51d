//! Reading scenario files: YAML → raw structs → `extends` resolved → variables substituted → typed steps.
//!
//! Everything is checked before a scenario is returned, so nothing is ever applied from an invalid file.
//! Errors name the file, the line and the step, and say what to do.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::{Mapping, Value};

use super::model::{Scenario, ScenarioVariable, Step};
use super::vars::Variables;
use crate::checks::{CheckName, CheckSettings};
use crate::steps::StepAction;

/// Deepest `extends` chain accepted (a loop is reported as such before this is reached).
const MAX_EXTENDS_DEPTH: usize = 8;

/// A scenario file that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub step: Option<String>,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(step) = &self.step {
            write!(f, ": step `{step}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// The file as written. Unknown keys are errors (a typo must not silently drop a step's setting).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    description: Option<String>,
    /// Another scenario file (relative to this one) that this one changes.
    extends: Option<String>,
    #[serde(default)]
    variables: Mapping,
    steps: Option<Vec<RawStep>>,
    /// Step ids of the extended scenario to leave out.
    #[serde(default)]
    remove_steps: Vec<String>,
    /// Step id → keys merged into that step's `with`.
    #[serde(default)]
    override_steps: Mapping,
    checks: Option<Vec<CheckName>>,
    /// The variables that name what the steps create (`run --provision` makes each unique).
    resource_names: Option<Vec<String>>,
    /// Settings of the checks (API, trigger body, CORS origin, ...).
    settings: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: String,
    #[serde(default)]
    runbook: String,
    action: String,
    #[serde(default)]
    with: Value,
}

/// A step as resolved through `extends`, remembering the file and line it came from.
#[derive(Debug, Clone)]
struct SourcedStep {
    file: PathBuf,
    line: Option<usize>,
    raw: RawStep,
}

/// Everything after `extends` is resolved, before substitution.
#[derive(Debug, Default)]
struct Resolved {
    name: Option<String>,
    description: Option<String>,
    /// The file that lists the steps (the end of the `extends` chain): fixture paths are relative to its
    /// repository root.
    steps_file: PathBuf,
    variables: Vec<(String, Value, PathBuf)>,
    steps: Vec<SourcedStep>,
    checks: Option<Vec<CheckName>>,
    resource_names: Option<Vec<String>>,
    settings: Option<(Value, PathBuf)>,
    /// The files read, the end of the `extends` chain first (canonical paths).
    files: Vec<PathBuf>,
}

/// `--var NAME=VALUE`: a scenario variable set on the command line. A value starting with `./` or `../` is a path
/// relative to the working directory, made absolute here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarOverride {
    pub name: String,
    pub value: String,
}

impl std::str::FromStr for VarOverride {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (name, value) = text
            .split_once('=')
            .filter(|(name, _)| !name.trim().is_empty())
            .ok_or_else(|| format!("`{text}` is not NAME=VALUE (e.g. --var lambda_code=./lambda.zip)"))?;
        let dir = std::env::current_dir().unwrap_or_default();
        Ok(Self { name: name.trim().to_owned(), value: anchor_path(value, &dir) })
    }
}

/// A value starting with `./` or `../` is a path relative to `dir` (the folder of the file that sets it, or the
/// working directory for `--var`); anything else is kept as written (fixture paths are relative to the
/// repository root).
fn anchor_path(value: &str, dir: &Path) -> String {
    if value.starts_with("./") || value.starts_with("../") {
        let joined = std::path::absolute(dir.join(value)).unwrap_or_else(|_| dir.join(value));
        // `a/b/../c` → `a/c`, so that messages and reports show a plain path.
        let mut clean = PathBuf::new();
        for part in joined.components() {
            match part {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    clean.pop();
                }
                other => clean.push(other),
            }
        }
        clean.display().to_string()
    } else {
        value.to_owned()
    }
}

/// Loads and validates a scenario. `runtime` holds the variables only the target knows (`region`,
/// `account_id`, `ecr_registry`); validate with placeholders first, then load again once the target is known.
/// `overrides` replace the values of variables the scenario declares (`--var`); naming another is an error.
pub fn load(path: &Path, runtime: &Variables, overrides: &[VarOverride]) -> Result<Scenario, ScenarioError> {
    let mut resolved = resolve(path, 0, &mut Vec::new())?;
    let base_dir = repository_root(&resolved.steps_file);

    let mut from_command_line = BTreeSet::new();
    for var in overrides {
        let Some(slot) = resolved.variables.iter_mut().find(|(name, _, _)| *name == var.name) else {
            let known: Vec<&str> = resolved.variables.iter().map(|(name, _, _)| name.as_str()).collect();
            let message = if runtime.get(&var.name).is_some() {
                format!(
                    "--var {}: set by the target, not by the scenario (scenario variables: {})",
                    var.name,
                    known.join(", ")
                )
            } else {
                format!("--var {}: the scenario has no such variable (known: {})", var.name, known.join(", "))
            };
            return Err(error(path, None, None, message));
        };
        slot.1 = Value::String(var.value.clone());
        from_command_line.insert(var.name.clone());
    }

    let mut vars = runtime.clone();
    let mut variables = Vec::with_capacity(resolved.variables.len());
    for (name, value, file) in &resolved.variables {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(error(file, None, None, format!("variable `{name}` must be a string, number or boolean"))),
        };
        let text = vars.substitute(&text).map_err(|m| error(file, None, None, format!("variable `{name}`: {m}")))?;
        vars.insert(name.clone(), text.clone());
        variables.push(ScenarioVariable {
            name: name.clone(),
            value: text,
            from_command_line: from_command_line.contains(name),
            set_in: Some(file.clone()),
        });
    }

    let mut seen = BTreeSet::new();
    let mut steps = Vec::with_capacity(resolved.steps.len());
    for sourced in resolved.steps {
        let SourcedStep { file, line, raw } = sourced;
        let fail = |message: String| error(&file, line, Some(&raw.id), message);
        if !seen.insert(raw.id.clone()) {
            return Err(fail("duplicate step id (each runbook step appears once; rename one)".to_owned()));
        }
        let mut with = raw.with.clone();
        vars.substitute_value(&mut with).map_err(&fail)?;
        let action = StepAction::parse(&raw.action, with, &base_dir)
            .map_err(|message| fail(format!("{message}{}", provenance(&raw.with, &file, &variables))))?;
        steps.push(Step { id: raw.id, runbook: raw.runbook, line: line.unwrap_or(0), action });
    }
    if steps.is_empty() {
        return Err(error(path, None, None, "the scenario has no steps".to_owned()));
    }

    let resource_names = resolved.resource_names.unwrap_or_default();
    if let Some(unknown) = resource_names.iter().find(|name| !variables.iter().any(|v| v.name == **name)) {
        let known: Vec<&str> = variables.iter().map(|v| v.name.as_str()).collect();
        return Err(error(
            path,
            None,
            None,
            format!("resource_names: `{unknown}` is not a variable of the scenario (variables: {})", known.join(", ")),
        ));
    }
    let checks = resolved.checks.unwrap_or_default();
    let settings = match resolved.settings {
        Some((mut value, file)) => {
            vars.substitute_value(&mut value).map_err(|m| error(&file, None, None, format!("settings: {m}")))?;
            Some((value, file))
        }
        None => None,
    };
    let settings_file = settings.as_ref().map_or_else(|| path.to_path_buf(), |(_, f)| f.clone());
    let check_settings = CheckSettings::parse(settings.map(|(v, _)| v), &checks)
        .map_err(|m| error(&settings_file, None, None, format!("settings: {m}")))?;

    Ok(Scenario {
        name: resolved.name.unwrap_or_else(|| file_stem(path)),
        description: resolved.description.unwrap_or_default(),
        path: path.to_path_buf(),
        files: resolved.files.iter().rev().cloned().collect(),
        base_dir,
        variables,
        steps,
        checks,
        check_settings,
        resource_names,
    })
}

fn resolve(path: &Path, depth: usize, chain: &mut Vec<PathBuf>) -> Result<Resolved, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        error(
            path,
            None,
            None,
            format!("cannot read the scenario file: {e} (check the path; scenarios live in scenarios/)"),
        )
    })?;
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if chain.contains(&canonical) {
        return Err(error(path, None, None, "`extends` forms a loop".to_owned()));
    }
    if depth > MAX_EXTENDS_DEPTH {
        return Err(error(path, None, None, format!("`extends` is nested deeper than {MAX_EXTENDS_DEPTH} files")));
    }
    chain.push(canonical);

    let deserializer = serde_norway::Deserializer::from_str(&text);
    let raw: RawScenario = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let line = e.inner().location().map(|l| l.line());
        let at = e.path().to_string();
        let message = if at == "." || at.is_empty() { e.inner().to_string() } else { format!("{at}: {}", e.inner()) };
        error(path, line, None, strip_location(&message))
    })?;

    let mut resolved = match &raw.extends {
        Some(parent) => {
            if raw.steps.is_some() {
                return Err(error(path, None, None,
                    "a scenario that `extends` another changes it with `remove_steps` and `override_steps`; it cannot list `steps` of its own".to_owned()));
            }
            let parent_path = path.parent().unwrap_or(Path::new(".")).join(parent);
            resolve(&parent_path, depth + 1, chain)?
        }
        None => {
            let Some(steps) = raw.steps.clone() else {
                return Err(error(
                    path,
                    None,
                    None,
                    "missing `steps` (a list of runbook steps), or `extends: <file>`".to_owned(),
                ));
            };
            let steps = steps
                .into_iter()
                .map(|raw_step| SourcedStep {
                    line: step_line(&text, &raw_step.id),
                    file: path.to_path_buf(),
                    raw: raw_step,
                })
                .collect();
            Resolved { steps, steps_file: path.to_path_buf(), ..Default::default() }
        }
    };

    for id in &raw.remove_steps {
        let before = resolved.steps.len();
        resolved.steps.retain(|s| &s.raw.id != id);
        if resolved.steps.len() == before {
            return Err(error(
                path,
                find_line(&text, id),
                None,
                format!("remove_steps: no step `{id}` in the extended scenario"),
            ));
        }
    }
    for (id, changes) in &raw.override_steps {
        let Some(id) = id.as_str() else {
            return Err(error(path, None, None, "override_steps: keys must be step ids".to_owned()));
        };
        let line = find_line(&text, id);
        let Some(step) = resolved.steps.iter_mut().find(|s| s.raw.id == id) else {
            return Err(error(path, line, None, format!("override_steps: no step `{id}` in the extended scenario")));
        };
        let Value::Mapping(changes) = changes else {
            return Err(error(
                path,
                line,
                Some(id),
                "override_steps: the value must be a mapping of `with` keys".to_owned(),
            ));
        };
        merge_into(&mut step.raw.with, changes);
        step.file = path.to_path_buf();
        step.line = line;
    }

    if raw.name.is_some() {
        resolved.name = raw.name;
    }
    if raw.description.is_some() {
        resolved.description = raw.description;
    }
    for (name, value) in raw.variables {
        let Some(name) = name.as_str().map(str::to_owned) else {
            return Err(error(path, None, None, "variables: names must be strings".to_owned()));
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let value = match value {
            Value::String(text) => Value::String(anchor_path(&text, dir)),
            other => other,
        };
        // A variable set again keeps its place, so that the ones after it can still use it.
        match resolved.variables.iter_mut().find(|(n, _, _)| *n == name) {
            Some(slot) => *slot = (name, value, path.to_path_buf()),
            None => resolved.variables.push((name, value, path.to_path_buf())),
        }
    }
    if raw.checks.is_some() {
        resolved.checks = raw.checks;
    }
    if raw.resource_names.is_some() {
        resolved.resource_names = raw.resource_names;
    }
    if let Some(settings) = raw.settings {
        match &mut resolved.settings {
            Some((existing, file)) => {
                if let Value::Mapping(changes) = &settings {
                    merge_into(existing, changes);
                    *file = path.to_path_buf();
                } else {
                    return Err(error(path, None, None, "settings: must be a mapping".to_owned()));
                }
            }
            None => resolved.settings = Some((settings, path.to_path_buf())),
        }
    }
    resolved.files.extend(chain.pop());
    Ok(resolved)
}

/// Where the variables a step uses were set, when not in the step's own file: ` (${lambda_code} = ./x.zip, set
/// with --var)`, so that an error about a developer's file points at where they named it.
fn provenance(with: &Value, step_file: &Path, variables: &[ScenarioVariable]) -> String {
    let mut strings = Vec::new();
    collect_strings(with, &mut strings);
    let notes: Vec<String> = variables
        .iter()
        .filter(|var| strings.iter().any(|s| s.contains(&format!("${{{}}}", var.name))))
        .filter_map(|var| {
            let set = match &var.set_in {
                _ if var.from_command_line => "with --var".to_owned(),
                Some(file) if file != step_file => format!("in {}", file.display()),
                _ => return None,
            };
            Some(format!("${{{}}} = {}, set {set}", var.name, var.value))
        })
        .collect();
    if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) }
}

fn collect_strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Sequence(items) => items.iter().for_each(|item| collect_strings(item, out)),
        Value::Mapping(map) => map.iter().for_each(|(_, v)| collect_strings(v, out)),
        Value::Tagged(tagged) => collect_strings(&tagged.value, out),
        _ => {}
    }
}

/// Deep-merges `changes` into `target` (mappings merge key by key; anything else replaces).
fn merge_into(target: &mut Value, changes: &Mapping) {
    if !target.is_mapping() {
        *target = Value::Mapping(Mapping::new());
    }
    let Value::Mapping(map) = target else { return };
    for (key, change) in changes {
        match (map.get_mut(key), change) {
            (Some(existing @ Value::Mapping(_)), Value::Mapping(inner)) => merge_into(existing, inner),
            _ => {
                map.insert(key.clone(), change.clone());
            }
        }
    }
}

/// The line of `- id: <id>` in the file (serde_norway keeps no spans; ids are unique, so the text finds it).
fn step_line(text: &str, id: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start().trim_start_matches('-').trim_start();
            line.strip_prefix("id:").is_some_and(|v| v.trim().trim_matches(['"', '\'']) == id)
        })
        .map(|i| i + 1)
}

/// The first line mentioning `needle`, for messages about `remove_steps`/`override_steps` entries.
fn find_line(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|line| line.contains(needle)).map(|i| i + 1)
}

/// serde_norway appends " at line N column M" to messages; the line is reported separately.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Fixture paths in scenarios are relative to the repository root: the parent of `scenarios/`.
fn repository_root(path: &Path) -> PathBuf {
    let absolute = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    absolute
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|n| n == "scenarios"))
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| absolute.parent().map(Path::to_path_buf).unwrap_or_default())
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "scenario".to_owned())
}

fn error(file: &Path, line: Option<usize>, step: Option<&str>, message: String) -> ScenarioError {
    ScenarioError { file: file.to_path_buf(), line, step: step.map(str::to_owned), message }
}
