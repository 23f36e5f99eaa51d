//! Function control plane: CreateFunction, GetFunction, GetFunctionConfiguration, UpdateFunctionCode,
//! UpdateFunctionConfiguration, DeleteFunction, ListFunctions.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Digest;

use super::Env;
use super::runtime::{self, Pool, WorkerSpec};
use super::{Function, function_arn, function_name, not_found};
use crate::protocol::{AwsError, AwsResult, Response, rest_json};
use crate::services::{Call, pagination};

/// Runtimes the emulator runs (Python only: the runbook's function is Python 3.8).
const RUNTIMES: &[&str] =
    &["python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14"];

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidParameterValueException", message)
}

fn timestamp() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    function_name: String,
    runtime: Option<String>,
    role: String,
    handler: Option<String>,
    code: CodeInput,
    #[serde(default)]
    description: String,
    timeout: Option<u32>,
    memory_size: Option<u32>,
    environment: Option<EnvironmentInput>,
    architectures: Option<Vec<String>>,
    package_type: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CodeInput {
    zip_file: Option<String>,
    s3_bucket: Option<String>,
    image_uri: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EnvironmentInput {
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html>
/// Deviations: only `Zip` packages with Python runtimes; code from S3 or container images is refused;
/// versions (`Publish`), layers, VPC and dead-letter settings are accepted but not emulated.
pub(super) async fn create(call: &Call<'_, Arc<dyn Env>>) -> AwsResult<Response> {
    let input: CreateInput = rest_json::input(call.req)?;
    let (account, region) = (call.account_id().to_owned(), call.region().to_owned());
    let name = function_name(&input.function_name).to_owned();
    validate_name(&name)?;
    let arn = function_arn(&region, &account, &name);
    call.authorize(std::slice::from_ref(&arn))?;
    if input.package_type.as_deref() == Some("Image") || input.code.image_uri.is_some() {
        return Err(invalid("crts-emulator runs Zip packages only (PackageType Image is not emulated)"));
    }
    let runtime_name = input.runtime.ok_or_else(|| invalid("Runtime is required for .zip deployment packages."))?;
    validate_runtime(&runtime_name)?;
    let handler = input.handler.ok_or_else(|| invalid("Handler is required for .zip deployment packages."))?;
    validate_role(call.service, &input.role)?;
    let timeout = validate_timeout(input.timeout.unwrap_or(3))?;
    let memory = validate_memory(input.memory_size.unwrap_or(128))?;
    crate::services::tagging::check(&BTreeMap::new(), &input.tags).map_err(invalid)?;
    if !input.tags.is_empty() {
        call.authorize_action("TagResource", std::slice::from_ref(&arn))?;
    }
    let zip = decode_zip(&input.code)?;
    if call.service.lambda().with_functions(&account, &region, |fs| fs.contains_key(&name)) {
        return Err(AwsError::conflict("ResourceConflictException", format!("Function already exist: {name}")));
    }
    let code_dir = call.service.lambda().work_dir.join("code").join(crate::identity::random_lower_alnum(16));
    extract(&zip, &code_dir).await?;

    let function = Function {
        name: name.clone(),
        arn: arn.clone(),
        runtime: runtime_name,
        role: input.role,
        handler,
        description: input.description,
        timeout,
        memory,
        environment: input.environment.unwrap_or_default().variables,
        architectures: input.architectures.unwrap_or_else(|| vec!["x86_64".to_owned()]),
        code_dir,
        code_size: zip.len() as u64,
        code_sha256: base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&zip)),
        last_modified: timestamp(),
        revision_id: uuid::Uuid::new_v4().to_string(),
        pending_report: true,
        policy: Vec::new(),
        pool: None,
        tags: input.tags,
    };
    let inserted = call.service.lambda().with_functions(&account, &region, |fs| {
        if fs.contains_key(&name) {
            return false;
        }
        fs.insert(name.clone(), function.clone());
        true
    });
    if !inserted {
        return Err(AwsError::conflict("ResourceConflictException", format!("Function already exist: {name}")));
    }
    prewarm(call.service, &account, &region, &name);
    let mut configuration = configuration(&function);
    configuration["State"] = json!("Pending");
    configuration["StateReason"] = json!("The function is being created.");
    configuration["StateReasonCode"] = json!("Creating");
    if let Some(map) = configuration.as_object_mut() {
        map.remove("LastUpdateStatus");
    }
    Ok(rest_json::respond(StatusCode::CREATED, &configuration))
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html>
pub(super) fn get(call: &Call<'_, Arc<dyn Env>>, reference: &str) -> AwsResult<Response> {
    let function = read(call, reference)?;
    Ok(rest_json::ok(&json!({
        "Configuration": configuration(&function),
        "Code": { "RepositoryType": "S3", "Location": format!("{}/_crts/lambda-code/{}", call.req.ctx.endpoint, function.name) },
        "Tags": function.tags,
    })))
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html>
pub(super) fn get_configuration(call: &Call<'_, Arc<dyn Env>>, reference: &str) -> AwsResult<Response> {
    let function = read(call, reference)?;
    Ok(rest_json::ok(&configuration(&function)))
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html>
///
/// In name order, `MaxItems` (1-50, default 50) per page; `NextMarker` when there is more, `Marker` to go on
/// ([`pagination`]). A size out of range is a ValidationException, a marker this emulator did not issue an
/// InvalidParameterValueException. `FunctionVersion` and `MasterRegion` are ignored (no versions, no replicas).
pub(super) fn list(call: &Call<'_, Arc<dyn Env>>) -> AwsResult<Response> {
    call.authorize(&["*".to_owned()])?;
    let size = pagination::PageSize { default: 50, max: 50 };
    let refused = |e: pagination::PageError| match e {
        pagination::PageError::Token => invalid("Invalid marker"),
        limit => AwsError::validation(limit.validation_message("maxItems")),
    };
    let limit = pagination::limit_param(call.req.query_param("MaxItems"), size).map_err(refused)?;
    let functions: Vec<(String, Value)> =
        call.service.lambda().with_functions(call.account_id(), call.region(), |fs| {
            fs.iter().map(|(name, f)| (name.clone(), configuration(f))).collect()
        });
    let page = pagination::page(functions, size, limit, call.req.query_param("Marker")).map_err(refused)?;
    let mut out = json!({ "Functions": page.items });
    if let Some(next) = page.next {
        out["NextMarker"] = json!(next);
    }
    Ok(rest_json::ok(&out))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateConfigurationInput {
    role: Option<String>,
    handler: Option<String>,
    description: Option<String>,
    timeout: Option<u32>,
    memory_size: Option<u32>,
    environment: Option<EnvironmentInput>,
    runtime: Option<String>,
    revision_id: Option<String>,
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html>
/// Warm workers of the previous configuration finish what they are doing and stop.
pub(super) async fn update_configuration(call: &Call<'_, Arc<dyn Env>>, reference: &str) -> AwsResult<Response> {
    let input: UpdateConfigurationInput = rest_json::input(call.req)?;
    if let Some(runtime) = &input.runtime {
        validate_runtime(runtime)?;
    }
    if let Some(role) = &input.role {
        validate_role(call.service, role)?;
    }
    let timeout = input.timeout.map(validate_timeout).transpose()?;
    let memory = input.memory_size.map(validate_memory).transpose()?;
    let updated = update(call, reference, input.revision_id.as_deref(), |f| {
        if let Some(role) = input.role {
            f.role = role;
        }
        if let Some(handler) = input.handler {
            f.handler = handler;
        }
        if let Some(description) = input.description {
            f.description = description;
        }
        if let Some(runtime) = input.runtime {
            f.runtime = runtime;
        }
        if let Some(timeout) = timeout {
            f.timeout = timeout;
        }
        if let Some(memory) = memory {
            f.memory = memory;
        }
        if let Some(environment) = input.environment {
            f.environment = environment.variables;
        }
    })?;
    Ok(rest_json::ok(&in_progress(&updated)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateCodeInput {
    zip_file: Option<String>,
    s3_bucket: Option<String>,
    image_uri: Option<String>,
    revision_id: Option<String>,
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html>
pub(super) async fn update_code(call: &Call<'_, Arc<dyn Env>>, reference: &str) -> AwsResult<Response> {
    let input: UpdateCodeInput = rest_json::input(call.req)?;
    let zip =
        decode_zip(&CodeInput { zip_file: input.zip_file, s3_bucket: input.s3_bucket, image_uri: input.image_uri })?;
    let code_dir = call.service.lambda().work_dir.join("code").join(crate::identity::random_lower_alnum(16));
    extract(&zip, &code_dir).await?;
    let sha = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&zip));
    let result = update(call, reference, input.revision_id.as_deref(), |f| {
        f.code_dir = code_dir.clone();
        f.code_size = zip.len() as u64;
        f.code_sha256 = sha;
    });
    let updated = match result {
        Ok(updated) => updated,
        Err(e) => {
            let _ = tokio::fs::remove_dir_all(&code_dir).await;
            return Err(e);
        }
    };
    Ok(rest_json::ok(&in_progress(&updated)))
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html>
pub(super) async fn delete(call: &Call<'_, Arc<dyn Env>>, reference: &str) -> AwsResult<Response> {
    let (account, region) = (call.account_id().to_owned(), call.region().to_owned());
    let name = function_name(reference).to_owned();
    let arn = function_arn(&region, &account, &name);
    call.authorize(std::slice::from_ref(&arn))?;
    let removed = call
        .service
        .lambda()
        .with_functions(&account, &region, |fs| fs.remove(&name))
        .ok_or_else(|| not_found(&arn))?;
    if let Some(pool) = removed.pool {
        pool.shutdown().await;
    }
    let _ = tokio::fs::remove_dir_all(&removed.code_dir).await;
    Ok(rest_json::empty(StatusCode::NO_CONTENT))
}

/// Reads a function (marking a pending create/update as reported finished).
fn read(call: &Call<'_, Arc<dyn Env>>, reference: &str) -> AwsResult<Function> {
    let (account, region) = (call.account_id(), call.region());
    let name = function_name(reference);
    let arn = function_arn(region, account, name);
    call.authorize(std::slice::from_ref(&arn))?;
    call.service
        .lambda()
        .with_functions(account, region, |fs| {
            fs.get_mut(name).map(|f| {
                f.pending_report = false;
                f.clone()
            })
        })
        .ok_or_else(|| not_found(&arn))
}

/// Applies a change to a function: new revision, workers retired, the next worker got ready (see [`prewarm`]).
fn update(
    call: &Call<'_, Arc<dyn Env>>,
    reference: &str,
    expected_revision: Option<&str>,
    change: impl FnOnce(&mut Function),
) -> AwsResult<Function> {
    let (account, region) = (call.account_id().to_owned(), call.region().to_owned());
    let name = function_name(reference).to_owned();
    let arn = function_arn(&region, &account, &name);
    call.authorize(std::slice::from_ref(&arn))?;
    let (updated, retired) = call.service.lambda().with_functions(&account, &region, |fs| {
        let function = fs.get_mut(&name).ok_or_else(|| not_found(&arn))?;
        if let Some(expected) = expected_revision
            && expected != function.revision_id
        {
            return Err(AwsError::bad_request(
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
            ));
        }
        change(function);
        function.revision_id = uuid::Uuid::new_v4().to_string();
        function.last_modified = timestamp();
        function.pending_report = true;
        let retired = function.pool.take();
        Ok((function.clone(), retired))
    })?;
    if let Some(pool) = retired {
        tokio::spawn(async move { pool.shutdown().await });
    }
    prewarm(call.service, &account, &region, &name);
    Ok(updated)
}

/// FunctionConfiguration as AWS returns it, for a function whose last operation has finished.
pub(super) fn configuration(f: &Function) -> Value {
    json!({
        "FunctionName": f.name,
        "FunctionArn": f.arn,
        "Runtime": f.runtime,
        "Role": f.role,
        "Handler": f.handler,
        "CodeSize": f.code_size,
        "Description": f.description,
        "Timeout": f.timeout,
        "MemorySize": f.memory,
        "LastModified": f.last_modified,
        "CodeSha256": f.code_sha256,
        "Version": "$LATEST",
        "Environment": { "Variables": f.environment },
        "TracingConfig": { "Mode": "PassThrough" },
        "RevisionId": f.revision_id,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": f.architectures,
        "EphemeralStorage": { "Size": 512 },
        "LoggingConfig": { "LogFormat": "Text", "LogGroup": format!("/aws/lambda/{}", f.name) },
        "SnapStart": { "ApplyOn": "None", "OptimizationStatus": "Off" },
        "RuntimeVersionConfig": { "RuntimeVersionArn": format!("arn:aws:lambda:::runtime:{}", f.runtime) },
    })
}

/// The answer to an update: the new configuration, with the update reported as in progress.
fn in_progress(f: &Function) -> Value {
    let mut value = configuration(f);
    value["LastUpdateStatus"] = json!("InProgress");
    value["LastUpdateStatusReason"] = json!("The function is being created.");
    value["LastUpdateStatusReasonCode"] = json!("Creating");
    value
}

fn validate_name(name: &str) -> AwsResult<()> {
    let valid =
        !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(AwsError::validation(format!(
            "1 validation error detected: Value '{name}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
        )))
    }
}

fn validate_runtime(runtime: &str) -> AwsResult<()> {
    if RUNTIMES.contains(&runtime) {
        Ok(())
    } else {
        Err(invalid(format!(
            "The runtime parameter of {runtime} is not supported by crts-emulator; supported runtimes: {}",
            RUNTIMES.join(", ")
        )))
    }
}

fn validate_role(state: &Arc<dyn Env>, role: &str) -> AwsResult<()> {
    if state.role_exists(role) {
        Ok(())
    } else {
        Err(invalid("The role defined for the function cannot be assumed by Lambda."))
    }
}

fn validate_timeout(timeout: u32) -> AwsResult<u32> {
    if (1..=900).contains(&timeout) {
        Ok(timeout)
    } else {
        Err(AwsError::validation(format!(
            "1 validation error detected: Value '{timeout}' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"
        )))
    }
}

fn validate_memory(memory: u32) -> AwsResult<u32> {
    if (128..=10240).contains(&memory) {
        Ok(memory)
    } else {
        Err(AwsError::validation(format!(
            "1 validation error detected: Value '{memory}' at 'memorySize' failed to satisfy constraint: Member must have value between 128 and 10240"
        )))
    }
}

fn decode_zip(code: &CodeInput) -> AwsResult<Vec<u8>> {
    if code.s3_bucket.is_some() {
        return Err(invalid("crts-emulator does not emulate S3 yet: upload the code as ZipFile"));
    }
    let Some(encoded) = &code.zip_file else {
        return Err(invalid("Please provide a source for function code."));
    };
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| invalid("Could not unzip uploaded file. Please check your file, then try to upload again."))
}

/// Extracts a deployment package (zip-slip safe: the zip crate refuses entries outside `dir`).
async fn extract(zip: &[u8], dir: &std::path::Path) -> AwsResult<()> {
    let zip = zip.to_vec();
    let dir = dir.to_path_buf();
    let result = tokio::task::spawn_blocking(move || {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        archive.extract(&dir).map_err(|e| e.to_string())
    })
    .await
    .map_err(AwsError::internal)?;
    result.map_err(|e| {
        tracing::debug!("unzipping a deployment package failed: {e}");
        invalid("Could not unzip uploaded file. Please check your file, then try to upload again.")
    })
}

/// Resolves the function's interpreter and gets its first worker ready in the background ([`Pool::prewarm`]: a
/// spare runtime, or a worker of its own), so the first invocation does not pay a Python start.
pub(super) fn prewarm(state: &Arc<dyn Env>, account: &str, region: &str, name: &str) {
    let (state, account, region, name) = (Arc::clone(state), account.to_owned(), region.to_owned(), name.to_owned());
    tokio::spawn(async move {
        if let Ok(pool) = ensure_pool(&state, &account, &region, &name).await {
            pool.prewarm().await;
        }
    });
}

/// The function's current worker pool, made (and its interpreter resolved) if it has none.
pub(super) async fn ensure_pool(
    state: &Arc<dyn Env>,
    account: &str,
    region: &str,
    name: &str,
) -> Result<Arc<Pool>, String> {
    let arn = function_arn(region, account, name);
    let snapshot = state.lambda().with_functions(account, region, |fs| fs.get(name).cloned());
    let function = snapshot.ok_or_else(|| format!("Function not found: {arn}"))?;
    if let Some(pool) = function.pool {
        return Ok(pool);
    }
    let interpreter = runtime::interpreter::resolve(&state.lambda().config, &function.runtime).await?;
    let bootstrap = runtime::bootstrap_file(&state.lambda().work_dir).await?;
    let session = state.issue_session(&function.role, &function.name);
    let spec = WorkerSpec {
        bootstrap,
        code_dir: function.code_dir.clone(),
        function_arn: function.arn.clone(),
        timeout: std::time::Duration::from_secs(u64::from(function.timeout)),
        env: worker_env(&function, region, state.endpoint(), &session),
        session,
    };
    let lambda = state.lambda();
    let pool = Pool::new(interpreter, spec, lambda.config.max_workers_per_function, &lambda.capacity);
    // Keep the pool only if the function was not updated meanwhile; otherwise use it once and let it go.
    let stored = state.lambda().with_functions(account, region, |fs| match fs.get_mut(name) {
        Some(current) if current.revision_id == function.revision_id => {
            Some(Arc::clone(current.pool.get_or_insert_with(|| Arc::clone(&pool))))
        }
        _ => None,
    });
    Ok(stored.unwrap_or(pool))
}

/// The worker's whole environment: the function's variables, Lambda's reserved ones, the role session's
/// credentials, and the emulator as the AWS endpoint. Nothing of the emulator's own AWS settings leaks in.
fn worker_env(
    f: &Function,
    region: &str,
    endpoint: &str,
    session: &crate::identity::RoleSession,
) -> Vec<(String, String)> {
    let mut env = runtime::spare::host_env();
    env.extend(f.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
    let reserved = [
        ("AWS_LAMBDA_FUNCTION_NAME", f.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", f.memory.to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", f.name)),
        ("AWS_REGION", region.to_owned()),
        ("AWS_DEFAULT_REGION", region.to_owned()),
        ("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", f.runtime)),
        ("LAMBDA_TASK_ROOT", f.code_dir.display().to_string()),
        ("LAMBDA_RUNTIME_DIR", f.code_dir.display().to_string()),
        ("_HANDLER", f.handler.clone()),
        ("AWS_ACCESS_KEY_ID", session.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", session.secret_access_key.clone()),
        ("AWS_SESSION_TOKEN", session.session_token.clone()),
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_CONFIG_FILE", "/dev/null".to_owned()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()),
    ];
    env.extend(reserved.into_iter().map(|(k, v)| (k.to_owned(), v)));
    env.extend(runtime::spare::RUNTIME_ENV.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    env
}
