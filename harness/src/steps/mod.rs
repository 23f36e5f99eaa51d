//! Runbook steps. Each step *applies* a change through the AWS SDK for Rust and then *observes* what it meant
//! by reading it back, so the observation (not the request) is what the report shows.
//!
//! A step's `action` in the scenario picks one of the [`StepAction`] variants (the `step_actions!` table below);
//! its `with:` mapping is deserialized into that variant's settings with unknown keys refused.

mod apigateway;
mod batch;
mod ecr;
mod iam;
mod lambda;
mod logs;
mod s3;
mod swagger;
pub mod tagged;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::targets::capabilities::Capability;
use crate::verify::Expected;

use crate::context::{CREATED_TAG, RUN_ID_TAG, RunContext};
pub(crate) use ecr::registry_login;

/// What a step did, as the report shows it: a few normalized facts read back from the target.
pub type Observed = BTreeMap<String, serde_json::Value>;

/// One runbook step: its settings (the `with:` mapping) and the three things a step does. `run` applies, then
/// observes; `verify` observes and compares with [`RunbookStep::expected`], never applying.
trait RunbookStep: Settings {
    /// The IAM actions `observe` and `expected` need, all read-only: `crts-harness policy verify` prints their union.
    const READS: &'static [&'static str];

    /// The IAM actions `apply` and `tear_down` need: `crts-harness policy provision` prints their union with the
    /// reads.
    const CHANGES: &'static [&'static str];

    /// Makes the change on the target.
    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError>;

    /// Reads back what the step made, found by the scenario's names; changes nothing. [`StepError::missing`] when
    /// the step's resource is not there; a missing part of it is read as `null` or absent, for `expected` to show.
    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError>;

    /// What `observe` reads when the target is as the runbook says: only what the runbook states (the values a
    /// target assigns, such as digests, are not in it).
    async fn expected(&self, ctx: &mut RunContext) -> Result<Expected, StepError>;

    /// Removes what `apply` made (`run --provision`), found by the scenario's names; what is already gone is not
    /// an error. Returns what was removed, e.g. `IAM role crts-role-crts-3f9a1c`. A step whose changes live inside
    /// another step's resource (a method in the REST API, an object in the bucket) removes nothing itself.
    async fn tear_down(&self, _ctx: &mut RunContext) -> Result<Vec<String>, StepError> {
        Ok(Vec::new())
    }

    /// Whether `up --watch` can bring what the step made in line with changed settings or files, on a stack
    /// where it was applied ([`RunbookStep::update`]); otherwise such a change needs `up` to start again.
    const UPDATABLE: bool = false;

    /// The files and folders the step reads (`up --watch` brings the step up to date when one changes).
    fn inputs(&self) -> Vec<&Path> {
        Vec::new()
    }

    /// Brings what the step made in line with its settings and files (only when [`RunbookStep::UPDATABLE`]).
    /// Applying again, by default: right for the steps whose `apply` puts (a configuration, objects, an image).
    async fn update(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        self.apply(ctx).await
    }

    /// What `apply` made that `tear_down` removes, by kind and name (with the id the target assigned, when it
    /// has one), e.g. `Lambda function crts-crts-3f9a1c`: the journal records it, and a second Ctrl-C lists it.
    fn creates(&self, _ctx: &RunContext) -> Vec<String> {
        Vec::new()
    }
}

/// Declares every action a scenario step can take, in one table: the name a scenario writes, the variant, its
/// settings (a [`RunbookStep`]), and what the target must be able to do. The enum, [`ACTIONS`], parsing,
/// dispatch, capabilities, the IAM actions `verify` needs and the JSON Schema of each action's settings all come
/// from this table, so a new step is its settings struct plus one line here.
macro_rules! step_actions {
    ($( $name:literal => $variant:ident($settings:ty) requires [$($capability:ident),*]; )*) => {
        /// Every action a scenario step can take, with its settings.
        #[derive(Debug, Clone)]
        pub enum StepAction {
            $( $variant($settings), )*
        }

        /// The action names a scenario may use.
        pub const ACTIONS: &[&str] = &[$( $name ),*];

        impl StepAction {
            fn parse_known(action: &str, with: serde_norway::Value, base_dir: &Path) -> Option<Result<Self, String>> {
                match action {
                    $( $name => Some(settings::<$settings>(with, base_dir).map(Self::$variant)), )*
                    _ => None,
                }
            }

            /// The name a scenario uses for this action.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $name, )*
                }
            }

            /// What the target must be able to do for this step.
            pub fn requires(&self) -> &'static [Capability] {
                match self {
                    $( Self::$variant(_) => &[$( Capability::$capability ),*], )*
                }
            }

            /// Applies the step to the target, then reads back what it meant.
            pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
                match self {
                    $( Self::$variant(settings) => {
                        settings.apply(ctx).await?;
                        settings.observe(ctx).await
                    } )*
                }
            }

            /// Whether `up --watch` can change what the step made in place (see [`RunbookStep::UPDATABLE`]).
            pub fn updatable(&self) -> bool {
                match self {
                    $( Self::$variant(_) => <$settings as RunbookStep>::UPDATABLE, )*
                }
            }

            /// The files and folders the step reads (see [`RunbookStep::inputs`]).
            pub fn inputs(&self) -> Vec<&Path> {
                match self {
                    $( Self::$variant(settings) => settings.inputs(), )*
                }
            }

            /// Brings what the step made up to date, then reads it back (see [`RunbookStep::update`]).
            pub async fn update(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
                match self {
                    $( Self::$variant(settings) => {
                        settings.update(ctx).await?;
                        settings.observe(ctx).await
                    } )*
                }
            }

            /// Reads back what the step made, changing nothing (see [`RunbookStep::observe`]).
            pub async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
                match self {
                    $( Self::$variant(settings) => settings.observe(ctx).await, )*
                }
            }

            /// What [`Self::observe`] reads when the target is as the runbook says.
            pub async fn expected(&self, ctx: &mut RunContext) -> Result<Expected, StepError> {
                match self {
                    $( Self::$variant(settings) => settings.expected(ctx).await, )*
                }
            }

            /// What the step made (see [`RunbookStep::creates`]).
            pub fn creates(&self, ctx: &RunContext) -> Vec<String> {
                match self {
                    $( Self::$variant(settings) => settings.creates(ctx), )*
                }
            }

            /// Removes what the step made (see [`RunbookStep::tear_down`]).
            pub async fn tear_down(&self, ctx: &mut RunContext) -> Result<Vec<String>, StepError> {
                match self {
                    $( Self::$variant(settings) => settings.tear_down(ctx).await, )*
                }
            }

            /// The IAM actions applying and tearing down this step need.
            pub fn changes(&self) -> &'static [&'static str] {
                match self {
                    $( Self::$variant(_) => <$settings as RunbookStep>::CHANGES, )*
                }
            }

            /// The IAM actions observing this step needs (read-only).
            pub fn reads(&self) -> &'static [&'static str] {
                match self {
                    $( Self::$variant(_) => <$settings as RunbookStep>::READS, )*
                }
            }

            /// Each action's name with the JSON Schema of its settings.
            pub fn schemas(generator: &mut schemars::SchemaGenerator) -> Vec<(&'static str, schemars::Schema)> {
                vec![$( ($name, generator.subschema_for::<$settings>()) ),*]
            }
        }
    };
}

step_actions! {
    "ecr.create-repository" => EcrCreateRepository(ecr::CreateRepository) requires [Ecr];
    "image.build-and-push" => ImageBuildAndPush(ecr::BuildAndPush) requires [Ecr];
    "iam.create-role" => IamCreateRole(iam::CreateRole) requires [];
    "iam.attach-policy" => IamAttachPolicy(iam::AttachPolicy) requires [];
    "batch.create-compute-environment" => BatchCreateComputeEnvironment(batch::CreateComputeEnvironment) requires [Batch];
    "batch.create-job-queue" => BatchCreateJobQueue(batch::CreateJobQueue) requires [Batch];
    "batch.register-job-definition" => BatchRegisterJobDefinition(batch::RegisterJobDefinition) requires [Batch];
    "lambda.create-function" => LambdaCreateFunction(lambda::CreateFunction) requires [];
    // Changing a function's configuration needs the function to have started: LocalStack refuses updates to a
    // version that is not running ("cannot be updated if an old one is not running").
    "lambda.set-environment" => LambdaSetEnvironment(lambda::SetEnvironment) requires [LambdaExecution];
    "apigateway.add-lambda-trigger" => ApiGatewayAddLambdaTrigger(apigateway::AddLambdaTrigger) requires [];
    "apigateway.create-method" => ApiGatewayCreateMethod(apigateway::CreateMethod) requires [];
    "apigateway.lambda-proxy-integration" => ApiGatewayLambdaProxyIntegration(apigateway::LambdaProxyIntegration) requires [];
    "apigateway.require-api-key" => ApiGatewayRequireApiKey(apigateway::RequireApiKey) requires [];
    "apigateway.delete-method" => ApiGatewayDeleteMethod(apigateway::DeleteMethod) requires [];
    "apigateway.create-api-key" => ApiGatewayCreateApiKey(apigateway::CreateApiKey) requires [];
    "apigateway.enable-cors" => ApiGatewayEnableCors(apigateway::EnableCors) requires [];
    "apigateway.method-response-header" => ApiGatewayMethodResponseHeader(apigateway::MethodResponseHeader) requires [];
    "apigateway.deploy" => ApiGatewayDeploy(apigateway::Deploy) requires [];
    "s3.create-bucket" => S3CreateBucket(s3::CreateBucket) requires [];
    "s3.enable-website" => S3EnableWebsite(s3::EnableWebsite) requires [];
    "s3.put-bucket-policy" => S3PutBucketPolicy(s3::PutBucketPolicy) requires [];
    "s3.put-bucket-cors" => S3PutBucketCors(s3::PutBucketCors) requires [];
    "swagger.upload-ui" => SwaggerUploadUi(swagger::UploadUi) requires [];
    "swagger.put-api-definition" => SwaggerPutApiDefinition(swagger::PutApiDefinition) requires [];
}

impl StepAction {
    /// Parses `action` + `with` (variables already substituted). Files named in `with` are resolved against
    /// `base_dir` and must exist.
    pub fn parse(action: &str, with: serde_norway::Value, base_dir: &Path) -> Result<Self, String> {
        let with = if with.is_null() { serde_norway::Value::Mapping(Default::default()) } else { with };
        Self::parse_known(action, with, base_dir).unwrap_or_else(|| {
            let hint = match closest(action, ACTIONS) {
                Some(near) => format!("did you mean `{near}`? known actions: {}", ACTIONS.join(", ")),
                None => format!("known actions: {}", ACTIONS.join(", ")),
            };
            Err(format!("unknown action `{action}` ({hint})"))
        })
    }
}

/// The candidate within a small edit distance of `word`, for "did you mean" hints.
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates.iter().map(|c| (edit_distance(word, c), *c)).filter(|(d, _)| *d <= 3).min().map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            current[j + 1] = (previous[j] + usize::from(ca != *cb)).min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Step settings that name files resolve and check them here, at validation time.
trait Settings: DeserializeOwned + schemars::JsonSchema {
    fn resolve_files(&mut self, _base_dir: &Path) -> Result<(), String> {
        Ok(())
    }
}

fn settings<T: Settings>(with: serde_norway::Value, base_dir: &Path) -> Result<T, String> {
    let mut value: T = serde_path_to_error::deserialize(with).map_err(|e| {
        let path = e.path().to_string();
        if path == "." { format!("with: {}", e.inner()) } else { format!("with.{path}: {}", e.inner()) }
    })?;
    value.resolve_files(base_dir)?;
    Ok(value)
}

/// Resolves a fixture path against the repository root and checks that it is a readable file.
fn fixture(base_dir: &Path, relative: &Path) -> Result<PathBuf, String> {
    let path = base_dir.join(relative);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "file `{}` not found (paths are relative to the repository root {})",
            relative.display(),
            base_dir.display()
        ))
    }
}

/// A step the target refused or that did not have the observed effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    /// The AWS error code when the target refused (e.g. `AccessDenied`), else empty.
    pub code: String,
    pub message: String,
    /// The operation that failed (`GetRole`), when it was an AWS call.
    pub operation: Option<String>,
}

/// What kind of failure a [`StepError`] is, for `verify`'s statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The resource is not there.
    Missing,
    /// The caller may not read it: the IAM action refused.
    Denied(String),
    /// The scenario's name matches more than one resource.
    Ambiguous,
    Other,
}

/// Error codes that mean "no such resource", per service.
const MISSING_CODES: &[&str] = &[
    MISSING,
    "NoSuchEntity",
    "ResourceNotFoundException",
    "NotFoundException",
    "NotFound",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchWebsiteConfiguration",
    "NoSuchBucketPolicy",
    "NoSuchCORSConfiguration",
    "RepositoryNotFoundException",
    "ImageNotFoundException",
];
/// Error codes that mean "not allowed", per service.
const DENIED_CODES: &[&str] = &["AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"];
const MISSING: &str = "CrtsNotFound";
const AMBIGUOUS: &str = "CrtsAmbiguous";

impl StepError {
    /// The step's effect, read back, is not what it should be.
    pub fn unexpected(message: impl Into<String>) -> Self {
        Self { code: String::new(), message: message.into(), operation: None }
    }

    /// The step's resource is not on the target.
    pub fn missing(message: impl Into<String>) -> Self {
        Self { code: MISSING.into(), message: message.into(), operation: None }
    }

    /// The scenario's name matches several resources, and none is picked.
    pub fn ambiguous(message: impl Into<String>) -> Self {
        Self { code: AMBIGUOUS.into(), message: message.into(), operation: None }
    }

    pub fn kind(&self) -> ErrorKind {
        if MISSING_CODES.contains(&self.code.as_str()) {
            ErrorKind::Missing
        } else if DENIED_CODES.contains(&self.code.as_str()) {
            ErrorKind::Denied(self.refused_action())
        } else if self.code == AMBIGUOUS {
            ErrorKind::Ambiguous
        } else {
            ErrorKind::Other
        }
    }

    /// The IAM action a refusal names (`... is not authorized to perform: iam:GetRole on resource ...`), else the
    /// one the failed operation needs (S3 says only "Access Denied").
    fn refused_action(&self) -> String {
        let named = self.message.split("perform: ").nth(1).and_then(|rest| rest.split_whitespace().next());
        match (named, self.operation.as_deref()) {
            (Some(action), _) => action.trim_end_matches([',', '.']).to_owned(),
            (None, Some(operation)) => crate::verify::policy::action_of(operation),
            (None, None) => "(unknown)".to_owned(),
        }
    }

    /// An SDK call failed: keeps AWS's error code and message (`DisplayErrorContext` for the full chain).
    pub fn sdk<E, R>(operation: &str, err: aws_smithy_runtime_api::client::result::SdkError<E, R>) -> Self
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        use aws_smithy_types::error::metadata::ProvideErrorMetadata;
        let code = err.code().unwrap_or_default().to_owned();
        let message = match err.message() {
            Some(m) => format!("{operation}: {code}: {m}"),
            None => format!("{operation}: {}", aws_smithy_types::error::display::DisplayErrorContext(&err)),
        };
        Self { code, message, operation: Some(operation.to_owned()) }
    }
}

/// A resource's tags as the SDKs of Lambda, Batch and API Gateway give them (a map, maybe absent), as pairs.
fn tag_pairs(tags: Option<&std::collections::HashMap<String, String>>) -> impl Iterator<Item = (&str, &str)> {
    tags.into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// A read whose "not found" means a part of the step's resource is absent (`Ok(None)`), not that the step failed.
fn optional<T, E, R>(
    operation: &str,
    result: Result<T, aws_smithy_runtime_api::client::result::SdkError<E, R>>,
) -> Result<Option<T>, StepError>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) => {
            let error = StepError::sdk(operation, e);
            if error.kind() == ErrorKind::Missing { Ok(None) } else { Err(error) }
        }
    }
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A plain string-to-string map in settings (environment variables, parameters).
pub type StringMap = BTreeMap<String, String>;

#[cfg(test)]
mod tests {
    use super::{ACTIONS, StepAction};

    /// Every listed name parses into its own variant's settings (and only a listed name does), and the JSON
    /// Schema describes the same names: the table cannot disagree with itself.
    #[test]
    fn every_listed_action_is_parsed_and_described_under_its_name() {
        let empty = || serde_norway::Value::Mapping(Default::default());
        for name in ACTIONS {
            assert!(StepAction::parse_known(name, empty(), std::path::Path::new(".")).is_some(), "{name}");
        }
        assert!(StepAction::parse_known("ecr.nope", empty(), std::path::Path::new(".")).is_none());
        let mut generator = schemars::SchemaGenerator::default();
        let described: Vec<&str> = StepAction::schemas(&mut generator).into_iter().map(|(name, _)| name).collect();
        assert_eq!(described, ACTIONS);
    }
}
