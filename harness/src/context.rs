//! What steps and checks share during a run: the SDK clients for the target, an HTTP client, and the facts
//! learned so far (ids the target assigned, the API key's value).

use std::collections::BTreeMap;

use crate::targets::TargetSession;

/// SDK clients for one target, plus what the run has learned.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub target: TargetSession,
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub batch: aws_sdk_batch::Client,
    pub apigateway: aws_sdk_apigateway::Client,
    pub s3: aws_sdk_s3::Client,
    pub http: reqwest::Client,
    /// Where checks save files (screenshots): the report directory when there is one.
    pub artifacts: Option<std::path::PathBuf>,
    /// Notes the current step leaves for the report (not snapshotted).
    pub notes: Vec<String>,
    pub ecr: aws_sdk_ecr::Client,
    pub facts: Facts,
    /// Set by `verify`: the run must not change the target, but for what `--trigger-job` allows.
    pub verify: Option<VerifyMode>,
    /// Set by `run --provision` and `cleanup`: what the run tags, and the only resources teardown may remove.
    pub owner: Option<Owner>,
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    /// CloudWatch Logs: where the Lambda and the Batch jobs write what they print.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// The browser the swagger_browser check uses, when `run` started it ahead (else the check starts one).
    pub browser: crate::browser::Prestart,
    /// Whether the browser check saves its screenshots (`up` takes them once, not at every change).
    pub screenshots: bool,
}

/// The provisioned run whose resources these are: every resource it creates carries
/// `crts-harness:run-id=<run_id>` and `crts-harness:created=<created>`, and teardown removes nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub run_id: String,
    /// RFC 3339, when the run started.
    pub created: String,
}

/// The error code of [`RunContext::ensure_owned`]'s refusal.
pub const NOT_OWNED: &str = "NotOwnedByThisRun";

/// The tag that marks a resource as made by a provisioned run (its value is the run id).
pub const RUN_ID_TAG: &str = "crts-harness:run-id";
/// The tag that says when the run that made a resource started (RFC 3339).
pub const CREATED_TAG: &str = "crts-harness:created";

impl Owner {
    pub fn new(run_id: &str) -> Self {
        Self {
            run_id: run_id.to_owned(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

/// How `verify` runs the checks.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyMode {
    /// `--trigger-job`: one real Batch job (and the writes that cost nothing) are allowed.
    pub trigger_job: bool,
}

/// What a check would change on the target if it made an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SideEffect {
    /// The job_trigger check's POST: a real Batch job.
    SubmitsJob,
    /// Any other POST that reaches the function: one more Batch job.
    SubmitsAnotherJob,
    /// The api_key check's temporary disabled key.
    CreatesApiKey,
    /// The swagger_site check's anonymous PUT, which writes if the bucket lets anyone.
    WritesObject,
}

impl RunContext {
    pub fn new(target: TargetSession) -> Self {
        let config = &target.sdk_config;
        Self {
            iam: aws_sdk_iam::Client::new(config),
            lambda: aws_sdk_lambda::Client::new(config),
            batch: aws_sdk_batch::Client::new(config),
            apigateway: aws_sdk_apigateway::Client::new(config),
            // Emulators are addressed path-style (`http://127.0.0.1:PORT/bucket/key`): no DNS for bucket hosts.
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(config).force_path_style(target.endpoint.is_some()).build(),
            ),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .unwrap_or_else(|_| reqwest::Client::new()),
            facts: Facts::default(),
            artifacts: None,
            notes: Vec::new(),
            verify: None,
            owner: None,
            tagging: aws_sdk_resourcegroupstagging::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            ecr: aws_sdk_ecr::Client::new(config),
            browser: Default::default(),
            screenshots: true,
            target,
        }
    }
}

impl RunContext {
    /// The tags every resource a provisioned run creates carries (none outside `--provision`).
    pub fn tags(&self) -> Option<std::collections::HashMap<String, String>> {
        let owner = self.owner.as_ref()?;
        Some([(RUN_ID_TAG.to_owned(), owner.run_id.clone()), (CREATED_TAG.to_owned(), owner.created.clone())].into())
    }

    /// Teardown's safety rail: a resource is removed only if it carries this run's `crts-harness:run-id` tag.
    /// Outside a provisioned run (no owner), anything goes. `what` names the resource in the refusal.
    pub fn ensure_owned<'a>(
        &self,
        what: &str,
        tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), crate::steps::StepError> {
        let Some(owner) = &self.owner else { return Ok(()) };
        let found = tags.into_iter().find(|(key, _)| *key == RUN_ID_TAG).map(|(_, value)| value);
        if found == Some(owner.run_id.as_str()) {
            return Ok(());
        }
        let carries = found.map_or_else(|| "no crts-harness:run-id tag".to_owned(), |v| format!("{RUN_ID_TAG}={v}"));
        Err(crate::steps::StepError {
            code: NOT_OWNED.to_owned(),
            message: format!(
                "{what} carries {carries}, not {RUN_ID_TAG}={}: it was not made by this run, so it is left as it is",
                owner.run_id
            ),
            operation: None,
        })
    }

    /// Why a check may not make an observation with this side effect in this run (`None`: it may).
    pub fn refuses(&self, effect: SideEffect) -> Option<String> {
        let mode = self.verify?;
        let reason = match (effect, mode.trigger_job) {
            (SideEffect::SubmitsJob | SideEffect::SubmitsAnotherJob, false) => {
                "would submit a Batch job (pass --trigger-job)"
            }
            (SideEffect::SubmitsAnotherJob, true) => {
                "would submit a second Batch job (--trigger-job allows one: the job_trigger check's)"
            }
            (SideEffect::CreatesApiKey, false) => "would create a temporary API key (pass --trigger-job)",
            (SideEffect::WritesObject, false) => "would write an object if the bucket let anyone (pass --trigger-job)",
            (SideEffect::SubmitsJob | SideEffect::CreatesApiKey | SideEffect::WritesObject, true) => return None,
        };
        Some(reason.to_owned())
    }
}

/// Ids and values the target assigned, by the names the scenario uses.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// REST API name → id.
    pub rest_api_ids: BTreeMap<String, String>,
    /// API key name → id, as created.
    pub api_key_ids: BTreeMap<String, String>,
    /// API key name → (id, value), as read back. The value is a secret: never printed, redacted in reports.
    pub api_keys: BTreeMap<String, ApiKeyFact>,
    /// Usage plan name → id.
    pub usage_plan_ids: BTreeMap<String, String>,
}

#[derive(Clone)]
pub struct ApiKeyFact {
    pub id: String,
    pub value: String,
    pub usage_plan_id: String,
}

impl std::fmt::Debug for ApiKeyFact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyFact").field("id", &self.id).field("value", &"<redacted>").finish()
    }
}
