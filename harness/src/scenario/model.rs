//! The validated, in-memory form of a scenario file.

use std::path::PathBuf;

use serde::Serialize;

use crate::checks::{CheckName, CheckSettings};
use crate::steps::StepAction;

/// A scenario ready to run: every step parsed into its typed action, variables substituted.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The file it was loaded from (for messages).
    pub path: PathBuf,
    /// Every file it was read from: itself, then the ones it `extends` (canonical paths).
    pub files: Vec<PathBuf>,
    /// The directory that relative fixture paths are resolved against (the repository root for ours).
    pub base_dir: PathBuf,
    /// The scenario's variables in the order they are defined, with their final values.
    pub variables: Vec<ScenarioVariable>,
    pub steps: Vec<Step>,
    pub checks: Vec<CheckName>,
    pub check_settings: CheckSettings,
    /// The variables that name what the steps create (`run --provision` gives each a run-unique suffix).
    pub resource_names: Vec<String>,
}

impl Scenario {
    /// The Lambda runtimes its steps create functions of (`python3.8`), for a target that can get them ready ahead.
    pub fn lambda_runtimes(&self) -> Vec<String> {
        let mut runtimes: Vec<String> = self
            .steps
            .iter()
            .filter_map(|step| match &step.action {
                StepAction::LambdaCreateFunction(create) => Some(create.runtime.clone()),
                _ => None,
            })
            .collect();
        runtimes.sort();
        runtimes.dedup();
        runtimes
    }
}

/// A scenario variable as the run used it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioVariable {
    pub name: String,
    pub value: String,
    /// Set with `--var`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub from_command_line: bool,
    /// The scenario file that sets it (the last one, through `extends`).
    #[serde(skip)]
    pub set_in: Option<PathBuf>,
}

/// One runbook step.
#[derive(Debug, Clone)]
pub struct Step {
    /// `section.step`, e.g. `apigateway.enable-cors`.
    pub id: String,
    /// Where in the runbook this step is documented.
    pub runbook: String,
    /// Line of the step in its file (1-based), for messages.
    pub line: usize,
    pub action: StepAction,
}
