//! Runbook steps. Each step *applies* a change through the AWS SDK for Rust and then *observes* what it meant
//! by reading it back, so the observation (not the request) is what the report shows.
//!
//! A step's `action` in the scenario picks one of the [`StepAction`] variants; its `with:` mapping is
//! deserialized into that variant's settings with unknown keys refused.

mod apigateway;
mod batch;
mod context;
mod ecr;
mod iam;
mod lambda;
mod s3;
mod swagger;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::targets::capabilities::Capability;

pub use context::{Facts, RunContext};
pub(crate) use ecr::registry_login;

/// What a step did, as the report shows it: a few normalized facts read back from the target.
pub type Observed = BTreeMap<String, serde_json::Value>;

/// Every action a scenario step can take, with its settings.
#[derive(Debug, Clone)]
pub enum StepAction {
    EcrCreateRepository(ecr::CreateRepository),
    ImageBuildAndPush(ecr::BuildAndPush),
    IamCreateRole(iam::CreateRole),
    IamAttachPolicy(iam::AttachPolicy),
    BatchCreateComputeEnvironment(batch::CreateComputeEnvironment),
    BatchCreateJobQueue(batch::CreateJobQueue),
    BatchRegisterJobDefinition(batch::RegisterJobDefinition),
    LambdaCreateFunction(lambda::CreateFunction),
    LambdaSetEnvironment(lambda::SetEnvironment),
    ApiGatewayAddLambdaTrigger(apigateway::AddLambdaTrigger),
    ApiGatewayCreateMethod(apigateway::CreateMethod),
    ApiGatewayLambdaProxyIntegration(apigateway::LambdaProxyIntegration),
    ApiGatewayRequireApiKey(apigateway::RequireApiKey),
    ApiGatewayDeleteMethod(apigateway::DeleteMethod),
    ApiGatewayCreateApiKey(apigateway::CreateApiKey),
    ApiGatewayEnableCors(apigateway::EnableCors),
    ApiGatewayMethodResponseHeader(apigateway::MethodResponseHeader),
    ApiGatewayDeploy(apigateway::Deploy),
    S3CreateBucket(s3::CreateBucket),
    S3EnableWebsite(s3::EnableWebsite),
    S3PutBucketPolicy(s3::PutBucketPolicy),
    S3PutBucketCors(s3::PutBucketCors),
    SwaggerUploadUi(swagger::UploadUi),
    SwaggerPutApiDefinition(swagger::PutApiDefinition),
}

/// The action names a scenario may use, for error messages.
pub const ACTIONS: &[&str] = &[
    "ecr.create-repository",
    "image.build-and-push",
    "iam.create-role",
    "iam.attach-policy",
    "batch.create-compute-environment",
    "batch.create-job-queue",
    "batch.register-job-definition",
    "lambda.create-function",
    "lambda.set-environment",
    "apigateway.add-lambda-trigger",
    "apigateway.create-method",
    "apigateway.lambda-proxy-integration",
    "apigateway.require-api-key",
    "apigateway.delete-method",
    "apigateway.create-api-key",
    "apigateway.enable-cors",
    "apigateway.method-response-header",
    "apigateway.deploy",
    "s3.create-bucket",
    "s3.enable-website",
    "s3.put-bucket-policy",
    "s3.put-bucket-cors",
    "swagger.upload-ui",
    "swagger.put-api-definition",
];

impl StepAction {
    /// Parses `action` + `with` (variables already substituted). Files named in `with` are resolved against
    /// `base_dir` and must exist.
    pub fn parse(action: &str, with: serde_norway::Value, base_dir: &Path) -> Result<Self, String> {
        let with = if with.is_null() { serde_norway::Value::Mapping(Default::default()) } else { with };
        Ok(match action {
            "ecr.create-repository" => Self::EcrCreateRepository(settings(with, base_dir)?),
            "image.build-and-push" => Self::ImageBuildAndPush(settings(with, base_dir)?),
            "iam.create-role" => Self::IamCreateRole(settings(with, base_dir)?),
            "iam.attach-policy" => Self::IamAttachPolicy(settings(with, base_dir)?),
            "batch.create-compute-environment" => Self::BatchCreateComputeEnvironment(settings(with, base_dir)?),
            "batch.create-job-queue" => Self::BatchCreateJobQueue(settings(with, base_dir)?),
            "batch.register-job-definition" => Self::BatchRegisterJobDefinition(settings(with, base_dir)?),
            "lambda.create-function" => Self::LambdaCreateFunction(settings(with, base_dir)?),
            "lambda.set-environment" => Self::LambdaSetEnvironment(settings(with, base_dir)?),
            "apigateway.add-lambda-trigger" => Self::ApiGatewayAddLambdaTrigger(settings(with, base_dir)?),
            "apigateway.create-method" => Self::ApiGatewayCreateMethod(settings(with, base_dir)?),
            "apigateway.lambda-proxy-integration" => Self::ApiGatewayLambdaProxyIntegration(settings(with, base_dir)?),
            "apigateway.require-api-key" => Self::ApiGatewayRequireApiKey(settings(with, base_dir)?),
            "apigateway.delete-method" => Self::ApiGatewayDeleteMethod(settings(with, base_dir)?),
            "apigateway.create-api-key" => Self::ApiGatewayCreateApiKey(settings(with, base_dir)?),
            "apigateway.enable-cors" => Self::ApiGatewayEnableCors(settings(with, base_dir)?),
            "apigateway.method-response-header" => Self::ApiGatewayMethodResponseHeader(settings(with, base_dir)?),
            "apigateway.deploy" => Self::ApiGatewayDeploy(settings(with, base_dir)?),
            "s3.create-bucket" => Self::S3CreateBucket(settings(with, base_dir)?),
            "s3.enable-website" => Self::S3EnableWebsite(settings(with, base_dir)?),
            "s3.put-bucket-policy" => Self::S3PutBucketPolicy(settings(with, base_dir)?),
            "s3.put-bucket-cors" => Self::S3PutBucketCors(settings(with, base_dir)?),
            "swagger.upload-ui" => Self::SwaggerUploadUi(settings(with, base_dir)?),
            "swagger.put-api-definition" => Self::SwaggerPutApiDefinition(settings(with, base_dir)?),
            other => {
                let hint = match closest(other, ACTIONS) {
                    Some(near) => format!("did you mean `{near}`? known actions: {}", ACTIONS.join(", ")),
                    None => format!("known actions: {}", ACTIONS.join(", ")),
                };
                return Err(format!("unknown action `{other}` ({hint})"));
            }
        })
    }

    /// What the target must be able to do for this step.
    pub fn requires(&self) -> &'static [Capability] {
        match self {
            Self::EcrCreateRepository(_) | Self::ImageBuildAndPush(_) => &[Capability::Ecr],
            // Changing a function's configuration needs the function to have started: LocalStack refuses
            // updates to a version that is not running ("cannot be updated if an old one is not running").
            Self::LambdaSetEnvironment(_) => &[Capability::LambdaExecution],
            Self::BatchCreateComputeEnvironment(_)
            | Self::BatchCreateJobQueue(_)
            | Self::BatchRegisterJobDefinition(_) => &[Capability::Batch],
            _ => &[],
        }
    }

    /// Applies the step to the target, then reads back what it meant.
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        match self {
            Self::EcrCreateRepository(s) => s.run(ctx).await,
            Self::ImageBuildAndPush(s) => s.run(ctx).await,
            Self::IamCreateRole(s) => s.run(ctx).await,
            Self::IamAttachPolicy(s) => s.run(ctx).await,
            Self::BatchCreateComputeEnvironment(s) => s.run(ctx).await,
            Self::BatchCreateJobQueue(s) => s.run(ctx).await,
            Self::BatchRegisterJobDefinition(s) => s.run(ctx).await,
            Self::LambdaCreateFunction(s) => s.run(ctx).await,
            Self::LambdaSetEnvironment(s) => s.run(ctx).await,
            Self::ApiGatewayAddLambdaTrigger(s) => s.run(ctx).await,
            Self::ApiGatewayCreateMethod(s) => s.run(ctx).await,
            Self::ApiGatewayLambdaProxyIntegration(s) => s.run(ctx).await,
            Self::ApiGatewayRequireApiKey(s) => s.run(ctx).await,
            Self::ApiGatewayDeleteMethod(s) => s.run(ctx).await,
            Self::ApiGatewayCreateApiKey(s) => s.run(ctx).await,
            Self::ApiGatewayEnableCors(s) => s.run(ctx).await,
            Self::ApiGatewayMethodResponseHeader(s) => s.run(ctx).await,
            Self::ApiGatewayDeploy(s) => s.run(ctx).await,
            Self::S3CreateBucket(s) => s.run(ctx).await,
            Self::S3EnableWebsite(s) => s.run(ctx).await,
            Self::S3PutBucketPolicy(s) => s.run(ctx).await,
            Self::S3PutBucketCors(s) => s.run(ctx).await,
            Self::SwaggerUploadUi(s) => s.run(ctx).await,
            Self::SwaggerPutApiDefinition(s) => s.run(ctx).await,
        }
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
trait Settings: DeserializeOwned {
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
}

impl StepError {
    /// The step's effect, read back, is not what it should be.
    pub fn unexpected(message: impl Into<String>) -> Self {
        Self { code: String::new(), message: message.into() }
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
        Self { code, message }
    }
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A plain string-to-string map in settings (environment variables, parameters).
pub type StringMap = BTreeMap<String, String>;
