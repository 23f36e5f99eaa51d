//! Checks: what the deployed CRTS stack must do, asked over HTTP (and the SDK) like its users would.
//!
//! A failed check is data in the report, not an `Err`: each check returns a [`CheckResult`] made of
//! observations (what was asked, what was expected, what came back).
//!
//! Each check is one file with a type implementing [`Check`], registered by one line in the `checks!` table
//! below; [`CheckName`] and everything the harness asks of a check by name come from that table.

mod api_key;
mod cors;
mod image;
mod job_trigger;
pub mod settings;
mod swagger_browser;
mod swagger_site;

use serde::Serialize;

pub use settings::{ApiSettings, CheckSettings, CorsSettings, ImageSettings, SwaggerSettings, TriggerSettings};

use crate::context::{RunContext, SideEffect};
use crate::targets::capabilities::Capability;
use settings::Section;

/// One check: what it needs, what it would change, and how it runs.
trait Check {
    /// What the target must be able to do for this check.
    const REQUIRES: &'static [Capability];
    /// The `settings:` sections the check reads; a scenario that lists the check must have them.
    const NEEDS: &'static [Section];
    /// What the whole check would change on the target (`verify` runs it only with `--trigger-job`).
    const SIDE_EFFECT: Option<SideEffect> = None;

    /// The IAM actions the check needs on a verify run: read-only, unless `trigger_job` (what `--trigger-job`
    /// lets it do).
    fn iam_actions(trigger_job: bool) -> &'static [&'static str];

    /// Makes the check's observations; [`Skip`] when it cannot run on this machine (no browser).
    async fn run(ctx: &RunContext, settings: &CheckSettings) -> Result<Vec<Observation>, Skip>;
}

/// A check that cannot run on this machine, and why (`no browser`): reported as skipped.
pub struct Skip(pub String);

/// Declares every check a scenario can ask for, in one table: the name a scenario writes, the [`CheckName`]
/// variant, and the type implementing [`Check`].
macro_rules! checks {
    ($( $name:literal => $variant:ident($check:ty); )*) => {
        /// The checks a scenario asks for.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, schemars::JsonSchema,
        )]
        pub enum CheckName {
            $( #[serde(rename = $name)] $variant, )*
        }

        impl CheckName {
            /// Every check, in the table's order.
            pub const ALL: &[CheckName] = &[$( CheckName::$variant ),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $( CheckName::$variant => $name, )*
                }
            }

            /// What the target must be able to do for this check.
            pub fn requires(self) -> &'static [Capability] {
                match self {
                    $( CheckName::$variant => <$check as Check>::REQUIRES, )*
                }
            }

            /// What the whole check would change on the target (see [`Check::SIDE_EFFECT`]).
            pub fn side_effect(self) -> Option<SideEffect> {
                match self {
                    $( CheckName::$variant => <$check as Check>::SIDE_EFFECT, )*
                }
            }

            /// The IAM actions the check needs on a verify run (see [`Check::iam_actions`]).
            pub fn iam_actions(self, trigger_job: bool) -> &'static [&'static str] {
                match self {
                    $( CheckName::$variant => <$check as Check>::iam_actions(trigger_job), )*
                }
            }

            /// The `settings:` sections the check reads.
            pub fn needs(self) -> &'static [Section] {
                match self {
                    $( CheckName::$variant => <$check as Check>::NEEDS, )*
                }
            }

            async fn observe(self, ctx: &RunContext, settings: &CheckSettings) -> Result<Vec<Observation>, Skip> {
                match self {
                    $( CheckName::$variant => <$check as Check>::run(ctx, settings).await, )*
                }
            }
        }
    };
}

checks! {
    "cors" => Cors(cors::Cors);
    "api_key" => ApiKey(api_key::ApiKey);
    "job_trigger" => JobTrigger(job_trigger::JobTrigger);
    "swagger_site" => SwaggerSite(swagger_site::SwaggerSite);
    "swagger_browser" => SwaggerBrowser(swagger_browser::SwaggerBrowser);
    "image" => Image(image::Image);
}

/// The result of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub name: CheckName,
    pub outcome: Outcome,
    pub observations: Vec<Observation>,
    /// How long the check took (reports and benchmarks; not part of snapshots).
    #[serde(skip)]
    pub duration: std::time::Duration,
}

/// How a check or step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "reason")]
pub enum Outcome {
    Passed,
    Failed,
    /// Not run, and why (an earlier step failed, ...). Never counts as passed.
    NotRun(String),
    /// Could not run here, and why (`no browser`): reported, never counted as passed, not a failure.
    Skipped(String),
    /// The target cannot do this (`unsupported on localstack: ECR is a Pro service ...`): recorded as such in
    /// reports and snapshots, never counted as passed, not a failure.
    Unsupported(String),
    /// Not made because it would change the target (`verify` without `--trigger-job`), and why.
    NotChecked(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Passed => f.write_str("passed"),
            Outcome::Failed => f.write_str("FAILED"),
            Outcome::NotRun(reason) => write!(f, "not run: {reason}"),
            Outcome::Skipped(reason) => write!(f, "skipped: {reason}"),
            Outcome::Unsupported(reason) => f.write_str(reason),
            Outcome::NotChecked(reason) => write!(f, "not checked: {reason}"),
        }
    }
}

/// One thing a check looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    pub what: String,
    pub expected: String,
    pub actual: String,
    pub ok: bool,
    /// Set when the target cannot do what this observation needs (`unsupported on localstack: ...`): the
    /// observation was not made, and the check cannot pass on this target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<String>,
    /// Set when making this observation would change the target (`verify`): it was not made, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_checked: Option<String>,
}

impl Observation {
    pub fn new(what: impl Into<String>, expected: impl Into<String>, actual: impl Into<String>, ok: bool) -> Self {
        Self {
            what: what.into(),
            expected: expected.into(),
            actual: actual.into(),
            ok,
            unsupported: None,
            not_checked: None,
        }
    }

    /// An observation not made because it would change the target (see [`RunContext::refuses`]).
    pub fn not_checked(what: impl Into<String>, expected: impl Into<String>, reason: String) -> Self {
        Self { actual: "(not checked)".into(), not_checked: Some(reason), ..Self::new(what, expected, "", false) }
    }

    /// An observation the target cannot make, and why (see [`crate::targets::TargetSession::lacks`]).
    pub fn unsupported(what: impl Into<String>, expected: impl Into<String>, reason: String) -> Self {
        Self {
            what: what.into(),
            expected: expected.into(),
            actual: "(not observed)".into(),
            ok: false,
            unsupported: Some(reason),
            not_checked: None,
        }
    }
}

impl CheckResult {
    /// Failed when an observation that was made is not as expected; otherwise unsupported when the target
    /// could not make some of them (the others stay in the report); otherwise passed.
    /// Observations not made because they would change the target count for nothing, unless none was made.
    fn from_observations(name: CheckName, observations: Vec<Observation>) -> Self {
        let made = |o: &&Observation| o.unsupported.is_none() && o.not_checked.is_none();
        let failed = observations.iter().filter(made).any(|o| !o.ok);
        let none_made = observations.iter().filter(made).count() == 0;
        let outcome = match observations.iter().find_map(|o| o.unsupported.as_ref()) {
            _ if failed => Outcome::Failed,
            Some(reason) => Outcome::Unsupported(reason.clone()),
            None => match observations.iter().find_map(|o| o.not_checked.as_ref()) {
                Some(reason) if none_made => Outcome::NotChecked(reason.clone()),
                _ => Outcome::Passed,
            },
        };
        Self { name, outcome, observations, duration: Default::default() }
    }

    pub fn unsupported(name: CheckName, reason: impl Into<String>) -> Self {
        Self {
            name,
            outcome: Outcome::Unsupported(reason.into()),
            observations: Vec::new(),
            duration: Default::default(),
        }
    }

    pub fn not_checked(name: CheckName, reason: impl Into<String>) -> Self {
        Self {
            name,
            outcome: Outcome::NotChecked(reason.into()),
            observations: Vec::new(),
            duration: Default::default(),
        }
    }

    pub fn not_run(name: CheckName, reason: impl Into<String>) -> Self {
        Self { name, outcome: Outcome::NotRun(reason.into()), observations: Vec::new(), duration: Default::default() }
    }
}

/// Runs `names` all at once (the checks are independent of each other: each asks its own questions), their
/// results in the order of `names`.
pub async fn run_all(names: &[CheckName], ctx: &RunContext, settings: &CheckSettings) -> Vec<CheckResult> {
    let mut running = tokio::task::JoinSet::new();
    for (index, &name) in names.iter().enumerate() {
        let (ctx, settings) = (ctx.clone(), settings.clone());
        running.spawn(async move { (index, run(name, &ctx, &settings).await) });
    }
    let mut results: Vec<Option<CheckResult>> = vec![None; names.len()];
    while let Some(done) = running.join_next().await {
        match done {
            Ok((index, result)) => results[index] = Some(result),
            Err(e) => tracing::warn!("a check did not finish: {e}"),
        }
    }
    results
        .into_iter()
        .zip(names)
        .map(|(result, &name)| {
            result.unwrap_or_else(|| CheckResult {
                name,
                outcome: Outcome::Failed,
                observations: vec![Observation::new(
                    "the check",
                    "to finish",
                    "it stopped (a bug: see the log)",
                    false,
                )],
                duration: Default::default(),
            })
        })
        .collect()
}

/// Runs one check against the deployed stack.
pub async fn run(name: CheckName, ctx: &RunContext, settings: &CheckSettings) -> CheckResult {
    let started = std::time::Instant::now();
    let mut result = run_check(name, ctx, settings).await;
    result.duration = started.elapsed();
    result
}

async fn run_check(name: CheckName, ctx: &RunContext, settings: &CheckSettings) -> CheckResult {
    if let Some(reason) = name.side_effect().and_then(|effect| ctx.refuses(effect)) {
        return CheckResult::not_checked(name, reason);
    }
    let observations = match name.observe(ctx, settings).await {
        Ok(observations) => observations,
        Err(Skip(reason)) => {
            return CheckResult {
                name,
                outcome: Outcome::Skipped(reason),
                observations: Vec::new(),
                duration: Default::default(),
            };
        }
    };
    CheckResult::from_observations(name, observations)
}

/// A response as checks see it: status, headers (lower-case names) and body text.
#[derive(Debug, Clone)]
struct HttpAnswer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl HttpAnswer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `403 {"message":"Forbidden"}`: the status and the body, as the snapshot shows them. A JSON body is shown
    /// compact, so targets that differ only in whitespace (LocalStack writes `{"message": "Forbidden"}`) agree.
    fn summary(&self) -> String {
        let body = self.body.trim();
        let compact = serde_json::from_str::<serde_json::Value>(body).ok().map(|json| json.to_string());
        match compact {
            _ if body.is_empty() => self.status.to_string(),
            Some(json) => format!("{} {json}", self.status),
            None => format!("{} {body}", self.status),
        }
    }
}

async fn send(request: reqwest::RequestBuilder) -> Result<HttpAnswer, String> {
    let response = request.send().await.map_err(|e| format!("request failed: {e}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.map_err(|e| format!("reading the body failed: {e}"))?;
    Ok(HttpAnswer { status, headers, body })
}

/// The invoke URL of the API resource the checks exercise.
async fn invoke_url(ctx: &RunContext, api: &ApiSettings) -> Result<String, String> {
    let api_id = api_id(ctx, api).await?;
    Ok(ctx.target.invoke_url(&api_id, &api.stage, &api.path))
}

/// The id of the API the checks exercise (learned by the steps, else looked up by name).
async fn api_id(ctx: &RunContext, api: &ApiSettings) -> Result<String, String> {
    let api_id = match ctx.facts.rest_api_ids.get(&api.name) {
        Some(id) => id.clone(),
        None => {
            let apis =
                ctx.apigateway.get_rest_apis().limit(500).send().await.map_err(|e| {
                    format!("GetRestApis: {}", aws_smithy_types::error::display::DisplayErrorContext(&e))
                })?;
            apis.items()
                .iter()
                .find(|a| a.name() == Some(api.name.as_str()))
                .and_then(|a| a.id())
                .map(str::to_owned)
                .ok_or_else(|| format!("no REST API named {}", api.name))?
        }
    };
    Ok(api_id)
}

#[cfg(test)]
mod tests {
    use super::CheckName;

    /// The name a scenario writes, the name reports print and the JSON Schema's list are the table's one name.
    #[test]
    fn each_check_is_parsed_printed_and_listed_by_the_same_name() {
        let schema = serde_json::to_string(&schemars::schema_for!(CheckName)).expect("schema");
        for check in CheckName::ALL {
            let written: CheckName = serde_norway::from_str(check.as_str()).expect("parses");
            assert_eq!(written, *check);
            assert_eq!(serde_json::to_value(check).expect("serializes"), check.as_str());
            assert!(schema.contains(&format!("\"{}\"", check.as_str())), "{schema}");
        }
    }
}
