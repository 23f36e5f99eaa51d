//! Lambda steps: the job-trigger function (Python 3.8, code from fixtures) and its environment variables.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, Runtime, State};
use serde::Deserialize;
use serde_json::json;

use super::{Observed, RunContext, RunbookStep, Settings, StepError, StringMap, optional, tag_pairs};
use crate::package::{Package, listing};
use crate::poll::poll_until;
use crate::targets::capabilities::Capability;
use crate::verify::{Expect, Expected};

/// "AWS Lambda > Lambda triggers the AWS Batch", steps 1-2: a function from the code the runbook unzips.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFunction {
    pub name: String,
    pub runtime: String,
    pub handler: String,
    /// Name of the execution role.
    pub role: String,
    /// The code: a `.py` file or a folder (zipped with its files at the package's root), or a `.zip` uploaded as
    /// it is (the console's "Upload from .zip file"). It must hold the handler's module.
    pub code: PathBuf,
    #[serde(default = "default_timeout")]
    pub timeout: i32,
}

fn default_timeout() -> i32 {
    3
}

impl Settings for CreateFunction {
    fn resolve_files(&mut self, base_dir: &Path) -> Result<(), String> {
        let package = Package::open(base_dir, &self.code).map_err(|e| format!("with.code: {e}"))?;
        let paths = package.paths().map_err(|e| format!("with.code: {e}"))?;
        check_handler(&self.handler, &paths).map_err(|e| format!("with.code: {}: {e}", package.path().display()))?;
        self.code = package.path().to_path_buf();
        Ok(())
    }
}

impl RunbookStep for CreateFunction {
    const READS: &'static [&'static str] = &["lambda:GetFunctionConfiguration"];
    const CHANGES: &'static [&'static str] = &[
        "iam:GetRole",
        "iam:PassRole",
        "lambda:CreateFunction",
        "lambda:TagResource",
        "lambda:GetFunction",
        "lambda:DeleteFunction",
        "logs:DeleteLogGroup",
    ];
    const UPDATABLE: bool = true;

    fn inputs(&self) -> Vec<&Path> {
        vec![&self.code]
    }

    /// New code (UpdateFunctionCode) once its Python compiles, and the configuration the settings give
    /// (UpdateFunctionConfiguration), each waited for: a handler that does not compile is refused here, naming
    /// the file and line, and the function keeps the code it had.
    async fn update(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let package = Package::open(Path::new(""), &self.code).map_err(StepError::unexpected)?;
        let paths = package.paths().map_err(StepError::unexpected)?;
        check_handler(&self.handler, &paths)
            .map_err(|e| StepError::unexpected(format!("{}: {e}", package.path().display())))?;
        crate::package::check_python_syntax(&package, &self.runtime).await.map_err(StepError::unexpected)?;
        let zip = package.lambda_zip().map_err(StepError::unexpected)?;
        ctx.lambda
            .update_function_code()
            .function_name(&self.name)
            .zip_file(Blob::new(zip))
            .send()
            .await
            .map_err(|e| StepError::sdk("UpdateFunctionCode", e))?;
        wait_for_update(ctx, &self.name).await?;
        // The configuration only when the settings changed it: every update replaces the function's workers.
        let config = configuration(&ctx.lambda, &self.name).await?;
        let same = config.runtime().map(|r| r.as_str()) == Some(self.runtime.as_str())
            && config.handler() == Some(self.handler.as_str())
            && config.timeout() == Some(self.timeout)
            && role_arn_name_of(config.role()) == Some(self.role.as_str());
        if same {
            return Ok(());
        }
        let role = ctx.iam.get_role().role_name(&self.role).send().await.map_err(|e| StepError::sdk("GetRole", e))?;
        ctx.lambda
            .update_function_configuration()
            .function_name(&self.name)
            .runtime(Runtime::from(self.runtime.as_str()))
            .handler(&self.handler)
            .role(role.role().map(|r| r.arn().to_owned()).unwrap_or_default())
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| StepError::sdk("UpdateFunctionConfiguration", e))?;
        wait_for_update(ctx, &self.name).await
    }

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let zip = Package::open(Path::new(""), &self.code)
            .and_then(|package| package.lambda_zip())
            .map_err(StepError::unexpected)?;
        let role = ctx.iam.get_role().role_name(&self.role).send().await.map_err(|e| StepError::sdk("GetRole", e))?;
        let role_arn = role.role().map(|r| r.arn().to_owned()).unwrap_or_default();
        ctx.lambda
            .create_function()
            .function_name(&self.name)
            .runtime(Runtime::from(self.runtime.as_str()))
            .handler(&self.handler)
            .role(role_arn)
            .timeout(self.timeout)
            .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(Blob::new(zip)).build())
            .set_tags(ctx.tags())
            .send()
            .await
            .map_err(|e| StepError::sdk("CreateFunction", e))?;
        if let Some(reason) = ctx.target.lacks(&[Capability::LambdaExecution]) {
            // A target that cannot run functions never makes them Active (LocalStack: Pending, then Failed), so
            // the state is recorded as not observable there rather than left out.
            ctx.notes.push(format!("not waiting for the function to become Active: {reason}"));
            return Ok(());
        }
        let lambda = ctx.lambda.clone();
        let name = self.name.clone();
        poll_until(Duration::from_secs(120), ctx.target.poll_interval(), || {
            let lambda = lambda.clone();
            let name = name.clone();
            async move {
                let out = configuration(&lambda, &name).await?;
                Ok((out.state() == Some(&State::Active)).then_some(()))
            }
        })
        .await?
        .ok_or_else(|| StepError::unexpected(format!("function {} did not become Active within 120 s", self.name)))
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let config = configuration(&ctx.lambda, &self.name).await?;
        let state = match ctx.target.lacks(&[Capability::LambdaExecution]) {
            Some(reason) => json!(reason),
            None => json!(config.state().map(|s| s.as_str())),
        };
        Ok(Observed::from([
            ("function".into(), json!(config.function_name())),
            ("runtime".into(), json!(config.runtime().map(|r| r.as_str()))),
            ("handler".into(), json!(config.handler())),
            ("state".into(), state),
            ("role".into(), json!(role_arn_name_of(config.role()))),
        ]))
    }

    async fn expected(&self, ctx: &mut RunContext) -> Result<Expected, StepError> {
        let mut expected = Expected::from([
            ("function".into(), Expect::is(&self.name)),
            ("runtime".into(), Expect::is(&self.runtime)),
            ("handler".into(), Expect::is(&self.handler)),
            ("role".into(), Expect::is(&self.role)),
        ]);
        if ctx.target.lacks(&[Capability::LambdaExecution]).is_none() {
            expected.insert("state".into(), Expect::is(State::Active.as_str()));
        }
        Ok(expected)
    }

    fn creates(&self, _ctx: &RunContext) -> Vec<String> {
        vec![format!("Lambda function {}", self.name)]
    }

    async fn tear_down(&self, ctx: &mut RunContext) -> Result<Vec<String>, StepError> {
        let function = ctx.lambda.get_function().function_name(&self.name).send().await;
        let Some(function) = optional("GetFunction", function)? else { return Ok(Vec::new()) };
        ctx.ensure_owned(&format!("Lambda function {}", self.name), tag_pairs(function.tags()))?;
        remove_function(ctx, &self.name).await
    }
}

/// The function's configuration (GetFunctionConfiguration).
async fn configuration(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
) -> Result<aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput, StepError> {
    lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .map_err(|e| StepError::sdk("GetFunctionConfiguration", e))
}

/// Waits until the function's last update is no longer in progress (AWS applies updates asynchronously).
async fn wait_for_update(ctx: &RunContext, function: &str) -> Result<(), StepError> {
    let lambda = ctx.lambda.clone();
    poll_until(Duration::from_secs(120), ctx.target.poll_interval(), || {
        let lambda = lambda.clone();
        async move {
            let out = configuration(&lambda, function).await?;
            Ok(out.last_update_status().is_none_or(|s| s.as_str() != "InProgress").then_some(()))
        }
    })
    .await?
    .ok_or_else(|| StepError::unexpected(format!("the update of {function} did not finish within 120 s")))
}

/// Deletes a function (its permissions go with it) and the log group its invocations wrote.
pub(crate) async fn remove_function(ctx: &RunContext, name: &str) -> Result<Vec<String>, StepError> {
    let deleted = optional("DeleteFunction", ctx.lambda.delete_function().function_name(name).send().await)?;
    let mut removed: Vec<String> = deleted.map(|_| format!("Lambda function {name}")).into_iter().collect();
    removed.extend(super::logs::remove_function_logs(ctx, name).await?);
    Ok(removed)
}

/// "Configuration -> Environment Variables": sets the function's variables (replacing the previous set).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetEnvironment {
    pub function: String,
    pub variables: StringMap,
}

impl Settings for SetEnvironment {}

impl RunbookStep for SetEnvironment {
    const READS: &'static [&'static str] = &["lambda:GetFunctionConfiguration"];
    const CHANGES: &'static [&'static str] = &["lambda:UpdateFunctionConfiguration"];
    const UPDATABLE: bool = true;

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        ctx.lambda
            .update_function_configuration()
            .function_name(&self.function)
            .environment(
                Environment::builder().set_variables(Some(self.variables.clone().into_iter().collect())).build(),
            )
            .send()
            .await
            .map_err(|e| StepError::sdk("UpdateFunctionConfiguration", e))?;
        wait_for_update(ctx, &self.function).await
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let config = configuration(&ctx.lambda, &self.function).await?;
        let variables: StringMap = config
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Ok(Observed::from([("function".into(), json!(self.function)), ("environment".into(), json!(variables))]))
    }

    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        Ok(Expected::from([("environment".into(), Expect::is(&self.variables))]))
    }
}

/// `crts-role` of `arn:aws:iam::123456789012:role/crts-role`.
fn role_arn_name_of(arn: Option<&str>) -> Option<&str> {
    arn.and_then(|r| r.rsplit('/').next())
}

/// The handler `pkg.module.function` needs `pkg/module.py` (or `pkg/module/__init__.py`) in the package: AWS
/// accepts the upload without it and fails every invocation with `Runtime.ImportModuleError`, so it is said here,
/// before anything is applied.
fn check_handler(handler: &str, paths: &[String]) -> Result<(), String> {
    let Some((module, _)) = handler.rsplit_once('.').filter(|(m, f)| !m.is_empty() && !f.is_empty()) else {
        return Err(format!("the handler `{handler}` is not `module.function` (e.g. lambda_function.lambda_handler)"));
    };
    let file = format!("{}.py", module.replace('.', "/"));
    let package = format!("{}/__init__.py", module.replace('.', "/"));
    if paths.iter().any(|p| *p == file || *p == package) {
        Ok(())
    } else {
        Err(format!("no `{file}` for the handler `{handler}`{}", listing(paths)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn the_handler_module_must_be_in_the_package() {
        assert_eq!(check_handler("lambda_function.lambda_handler", &entries(&["lambda_function.py"])), Ok(()));
        assert_eq!(check_handler("app.handlers.main", &entries(&["app/handlers/__init__.py"])), Ok(()));
        assert_eq!(
            check_handler("lambda_function.lambda_handler", &entries(&["handler.py", "lib/x.py"])),
            Err("no `lambda_function.py` for the handler `lambda_function.lambda_handler` (it holds: handler.py, lib/x.py)".to_owned())
        );
        assert!(check_handler("lambda_handler", &entries(&[])).is_err());
    }
}
