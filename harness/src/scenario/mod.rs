//! Scenario files: the runbook as YAML, one entry per documented step, validated before anything is applied.
//!
//! ```yaml
//! name: crts
//! variables: { queue: crts-aws-jq }
//! steps:
//!   - id: batch.job-queue            # names the runbook section
//!     runbook: "AWS Batch > Job Queue, step 1"
//!     action: batch.create-job-queue # what the step does (see steps/)
//!     with: { name: "${queue}", compute_environments: [crts-fargate-ce] }
//! checks: [cors, api_key, job_trigger]
//! ```
//!
//! A fault scenario `extends:` another file and removes or overrides single steps (see `load.rs`).

mod load;
mod model;
pub mod schema;
mod vars;

/// The checks a scenario lists, and their settings, are the checks' own (the scenario composes steps and checks).
pub use crate::checks::{
    ApiSettings, CheckName, CheckSettings, CorsSettings, ImageSettings, SwaggerSettings, TriggerSettings,
};
pub use load::{ScenarioError, VarOverride, load};
pub use model::{Scenario, ScenarioVariable, Step};
pub use vars::Variables;
