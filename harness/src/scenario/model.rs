//! The validated, in-memory form of a scenario file.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::settings::CheckSettings;
use crate::steps::StepAction;

/// A scenario ready to run: every step parsed into its typed action, variables substituted.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The file it was loaded from (for messages).
    pub path: PathBuf,
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

/// The checks a scenario asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    Cors,
    ApiKey,
    JobTrigger,
    SwaggerSite,
    SwaggerBrowser,
    Image,
}

impl CheckName {
    /// What the target must be able to do for this check.
    pub fn requires(self) -> &'static [crate::targets::capabilities::Capability] {
        use crate::targets::capabilities::Capability::{Batch, Ecr, LambdaExecution};
        match self {
            CheckName::Image => &[Ecr, Batch],
            CheckName::JobTrigger => &[LambdaExecution, Batch],
            CheckName::SwaggerBrowser => &[LambdaExecution],
            CheckName::Cors | CheckName::ApiKey | CheckName::SwaggerSite => &[],
        }
    }

    /// What the whole check would change on the target (`verify` runs it only with `--trigger-job`).
    pub fn side_effect(self) -> Option<crate::context::SideEffect> {
        use crate::context::SideEffect::{SubmitsAnotherJob, SubmitsJob};
        match self {
            CheckName::JobTrigger => Some(SubmitsJob),
            // "Execute" with the key: another job, beyond the one job_trigger submits.
            CheckName::SwaggerBrowser => Some(SubmitsAnotherJob),
            CheckName::Cors | CheckName::ApiKey | CheckName::SwaggerSite | CheckName::Image => None,
        }
    }

    /// The IAM actions the check needs on a verify run: read-only, unless `trigger_job` (what `--trigger-job`
    /// lets it do: read the job it submits, create and delete a temporary API key).
    pub fn iam_actions(self, trigger_job: bool) -> &'static [&'static str] {
        match self {
            CheckName::Image => &[
                "batch:DescribeJobDefinitions",
                "ecr:DescribeRepositories",
                "ecr:DescribeImages",
                "ecr:GetAuthorizationToken",
                "ecr:BatchGetImage",
            ],
            CheckName::JobTrigger if trigger_job => &["apigateway:GET", "batch:DescribeJobs"],
            CheckName::ApiKey if trigger_job => {
                &["apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:DELETE"]
            }
            CheckName::JobTrigger | CheckName::SwaggerBrowser => &[],
            CheckName::Cors | CheckName::ApiKey | CheckName::SwaggerSite => &["apigateway:GET"],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::Cors => "cors",
            CheckName::ApiKey => "api_key",
            CheckName::JobTrigger => "job_trigger",
            CheckName::SwaggerSite => "swagger_site",
            CheckName::SwaggerBrowser => "swagger_browser",
            CheckName::Image => "image",
        }
    }
}
