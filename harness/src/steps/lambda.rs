//! Lambda steps: the job-trigger function (Python 3.8, code from fixtures) and its environment variables.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, Runtime, State};
use serde::Deserialize;
use serde_json::json;

use super::{Observed, RunContext, Settings, StepError, StringMap, fixture};
use crate::poll::poll_until;
use crate::targets::capabilities::Capability;

/// "AWS Lambda > Lambda triggers the AWS Batch", steps 1-2: a function from one Python file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateFunction {
    pub name: String,
    pub runtime: String,
    pub handler: String,
    /// Name of the execution role.
    pub role: String,
    /// The handler's source file; zipped at the root of the deployment package.
    pub code: PathBuf,
    #[serde(default = "default_timeout")]
    pub timeout: i32,
}

fn default_timeout() -> i32 {
    3
}

impl Settings for CreateFunction {
    fn resolve_files(&mut self, base_dir: &Path) -> Result<(), String> {
        self.code = fixture(base_dir, &self.code)?;
        Ok(())
    }
}

impl CreateFunction {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let zip = zip_single_file(&self.code)?;
        let role = ctx.iam.get_role().role_name(&self.role).send().await.map_err(|e| StepError::sdk("GetRole", e))?;
        let role_arn = role.role().map(|r| r.arn().to_owned()).unwrap_or_default();
        let created = ctx
            .lambda
            .create_function()
            .function_name(&self.name)
            .runtime(Runtime::from(self.runtime.as_str()))
            .handler(&self.handler)
            .role(role_arn)
            .timeout(self.timeout)
            .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(Blob::new(zip)).build())
            .send()
            .await
            .map_err(|e| StepError::sdk("CreateFunction", e))?;

        if let Some(reason) = ctx.target.lacks(&[Capability::LambdaExecution]) {
            // A target that cannot run functions never makes them Active (LocalStack: Pending, then Failed), so
            // the state is recorded as not observable there rather than left out.
            ctx.notes.push(format!("not waiting for the function to become Active: {reason}"));
            return Ok(Observed::from([
                ("function".into(), json!(created.function_name())),
                ("runtime".into(), json!(created.runtime().map(|r| r.as_str()))),
                ("handler".into(), json!(created.handler())),
                ("role".into(), json!(role_arn_name_of(created.role()))),
                ("state".into(), json!(reason)),
            ]));
        }

        let lambda = ctx.lambda.clone();
        let name = self.name.clone();
        let config = poll_until(Duration::from_secs(120), || {
            let lambda = lambda.clone();
            let name = name.clone();
            async move {
                let out = lambda
                    .get_function_configuration()
                    .function_name(&name)
                    .send()
                    .await
                    .map_err(|e| StepError::sdk("GetFunctionConfiguration", e))?;
                Ok((out.state() == Some(&State::Active)).then_some(out))
            }
        })
        .await?
        .ok_or_else(|| StepError::unexpected(format!("function {} did not become Active within 120 s", self.name)))?;
        Ok(Observed::from([
            ("function".into(), json!(config.function_name())),
            ("runtime".into(), json!(config.runtime().map(|r| r.as_str()))),
            ("handler".into(), json!(config.handler())),
            ("state".into(), json!(config.state().map(|s| s.as_str()))),
            ("role".into(), json!(role_arn_name_of(config.role()))),
        ]))
    }
}

/// "Configuration -> Environment Variables": sets the function's variables (replacing the previous set).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetEnvironment {
    pub function: String,
    pub variables: StringMap,
}

impl Settings for SetEnvironment {}

impl SetEnvironment {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        ctx.lambda
            .update_function_configuration()
            .function_name(&self.function)
            .environment(
                Environment::builder().set_variables(Some(self.variables.clone().into_iter().collect())).build(),
            )
            .send()
            .await
            .map_err(|e| StepError::sdk("UpdateFunctionConfiguration", e))?;

        let lambda = ctx.lambda.clone();
        let name = self.function.clone();
        let config = poll_until(Duration::from_secs(120), || {
            let lambda = lambda.clone();
            let name = name.clone();
            async move {
                let out = lambda
                    .get_function_configuration()
                    .function_name(&name)
                    .send()
                    .await
                    .map_err(|e| StepError::sdk("GetFunctionConfiguration", e))?;
                let done = out.last_update_status().is_none_or(|s| s.as_str() != "InProgress");
                Ok(done.then_some(out))
            }
        })
        .await?
        .ok_or_else(|| StepError::unexpected(format!("the update of {} did not finish within 120 s", self.function)))?;
        let variables: StringMap = config
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Ok(Observed::from([("function".into(), json!(self.function)), ("environment".into(), json!(variables))]))
    }
}

/// `crts-role` of `arn:aws:iam::123456789012:role/crts-role`.
fn role_arn_name_of(arn: Option<&str>) -> Option<&str> {
    arn.and_then(|r| r.rsplit('/').next())
}

/// A deployment package: one file at the root of a zip, as the console's editor produces.
fn zip_single_file(path: &Path) -> Result<Vec<u8>, StepError> {
    let source =
        std::fs::read(path).map_err(|e| StepError::unexpected(format!("cannot read {}: {e}", path.display())))?;
    let name =
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "lambda_function.py".into());
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let zipped = writer
        .start_file(name, options)
        .and_then(|()| writer.write_all(&source).map_err(Into::into))
        .and_then(|()| writer.finish());
    zipped
        .map(std::io::Cursor::into_inner)
        .map_err(|e| StepError::unexpected(format!("zipping {}: {e}", path.display())))
}
