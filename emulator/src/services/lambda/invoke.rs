//! Invoke, and invocations by other services (API Gateway's Lambda proxy integration).

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};

use super::Env;
use super::functions::ensure_pool;
use super::runtime::{self, Invocation, Outcome, WorkerSpec};
use super::{function_arn, function_name, json_payload, not_found, permissions};
use crate::identity::Caller;
use crate::protocol::{AwsError, AwsResult, Response, rest_json};
use crate::services::Call;

/// What a synchronous invocation returned.
#[derive(Debug, Clone)]
pub struct InvokeOutcome {
    /// The function's response payload (JSON), or Lambda's error payload when `function_error` is set.
    pub payload: Bytes,
    /// `Unhandled` when the handler raised or timed out (the `X-Amz-Function-Error` header).
    pub function_error: Option<String>,
    /// The invocation's log (START/END/REPORT lines and what the handler printed).
    pub log: String,
}

/// An AWS service (API Gateway) invoking a function on a user's behalf.
#[derive(Debug, Clone)]
pub struct ServiceInvocation<'a> {
    /// Function name, partial or full ARN.
    pub function: &'a str,
    pub account_id: &'a str,
    pub region: &'a str,
    /// e.g. `apigateway.amazonaws.com`: must be granted by the function's resource policy (AddPermission).
    pub principal: &'a str,
    /// e.g. `arn:aws:execute-api:us-east-1:000000000000:abc123/default/POST/crts`, matched against `SourceArn`.
    pub source_arn: &'a str,
    pub payload: Bytes,
}

/// Invokes a function synchronously for another service. Errors: the function does not exist
/// (ResourceNotFoundException), or its resource policy does not allow `principal` from `source_arn`
/// (AccessDeniedException): API Gateway turns both into its own 5xx answers.
pub async fn invoke_for_service(
    state: &Arc<dyn Env>,
    invocation: ServiceInvocation<'_>,
) -> Result<InvokeOutcome, AwsError> {
    let name = function_name(invocation.function);
    let arn = function_arn(invocation.region, invocation.account_id, name);
    let policy = state
        .lambda()
        .with_functions(invocation.account_id, invocation.region, |fs| fs.get(name).map(|f| f.policy.clone()))
        .ok_or_else(|| not_found(&arn))?;
    // What the invoking service tells Lambda about the request, as the policy's condition keys.
    let context = crate::services::iam::Context::now()
        .with("aws:SourceArn", invocation.source_arn)
        .with("aws:SourceAccount", invocation.account_id);
    if !permissions::allows_service(&policy, invocation.principal, &context) {
        return Err(AwsError::new(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            format!(
                "The resource policy of {arn} does not allow {} to invoke it from {}",
                invocation.principal, invocation.source_arn
            ),
        ));
    }
    run(state, invocation.account_id, invocation.region, name, &invocation.payload).await
}

/// Runs the function once on a warm worker.
async fn run(
    state: &Arc<dyn Env>,
    account: &str,
    region: &str,
    name: &str,
    payload: &Bytes,
) -> AwsResult<InvokeOutcome> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let pool = ensure_pool(state, account, region, name).await.map_err(|message| {
        if message.starts_with("Function not found") {
            AwsError::not_found("ResourceNotFoundException", message)
        } else {
            // The interpreter cannot run the function (no Python, no boto3 offline): AWS's closest is a
            // runtime failure of the service.
            AwsError::new(StatusCode::BAD_GATEWAY, "ServiceException", message)
        }
    })?;
    let started = chrono::Utc::now().timestamp_millis();
    let invocation = pool.invoke(&request_id, &json_payload(payload)).await;
    write_log(state, pool.spec(), account, region, name, &invocation, started);
    Ok(match invocation.outcome {
        Outcome::Returned(json) => {
            InvokeOutcome { payload: Bytes::from(json), function_error: None, log: invocation.log }
        }
        Outcome::Failed(mut error) => {
            error["requestId"] = serde_json::json!(request_id);
            if error.get("stackTrace").is_none() {
                error["stackTrace"] = serde_json::json!([]);
            }
            InvokeOutcome {
                payload: Bytes::from(error.to_string()),
                function_error: Some("Unhandled".to_owned()),
                log: invocation.log,
            }
        }
    })
}

/// Writes the invocation's log to CloudWatch Logs, as Lambda does: one event per line in the worker's stream of
/// `/aws/lambda/<function>` (START at the start, the rest at the end), if the function's role may
/// `logs:CreateLogStream` and `logs:PutLogEvents` there, creating the group if it may `logs:CreateLogGroup`
/// (AWSLambdaBasicExecutionRole grants the three). Otherwise the output is lost, as on AWS.
fn write_log(
    state: &Arc<dyn Env>,
    spec: &WorkerSpec,
    account: &str,
    region: &str,
    name: &str,
    invocation: &Invocation,
    started: i64,
) {
    let stream = invocation.log_stream.clone().unwrap_or_else(runtime::log_stream_name);
    let group = format!("/aws/lambda/{name}");
    let group_arn = format!("arn:aws:logs:{region}:{account}:log-group:{group}");
    let stream_arn = format!("{group_arn}:log-stream:{stream}");
    let caller = Caller::Role(spec.session.clone());
    // The Lambda service writes as the role, over TLS on AWS, with no client request behind it.
    let mut context =
        crate::services::iam::Context::now().with("aws:RequestedRegion", region).with("aws:SecureTransport", "true");
    state.iam().principal_keys(&caller, &mut context);
    let may =
        |action: &str, resource: &str| state.iam().authorize(&caller, action, &[resource.to_owned()], &context).is_ok();
    if !(may("logs:CreateLogStream", &stream_arn) && may("logs:PutLogEvents", &stream_arn)) {
        tracing::debug!(function = name, "the role may not write logs: the invocation's output is not kept");
        return;
    }
    let create_group = may("logs:CreateLogGroup", &format!("{group_arn}:*"));
    let ended = chrono::Utc::now().timestamp_millis().max(started);
    let events: Vec<(i64, String)> = invocation
        .log
        .lines()
        .enumerate()
        .map(|(at, line)| (if at == 0 { started } else { ended }, line.to_owned()))
        .filter(|(_, line)| !line.is_empty())
        .collect();
    if !events.is_empty() && !state.logs().append(account, region, &group, &stream, events, create_group) {
        tracing::debug!(function = name, "{group} does not exist and the role may not create it");
    }
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html>
/// Deviations: `Qualifier` other than `$LATEST` and `ClientContext` are not emulated.
pub(super) async fn invoke(call: &Call<'_, Arc<dyn Env>>, reference: &str) -> AwsResult<Response> {
    let (state, req) = (call.service, call.req);
    let (account, region) = (req.ctx.account_id().to_owned(), req.ctx.region.clone());
    let name = function_name(reference).to_owned();
    let arn = function_arn(&region, &account, &name);
    call.authorize(std::slice::from_ref(&arn))?;
    if !state.lambda().with_functions(&account, &region, |fs| fs.contains_key(&name)) {
        return Err(not_found(&arn));
    }
    if !req.body.is_empty() && serde_json::from_slice::<serde_json::Value>(&req.body).is_err() {
        return Err(AwsError::bad_request(
            "InvalidRequestContentException",
            "Could not parse request body into json: Could not parse payload into json",
        ));
    }
    match req.header("X-Amz-Invocation-Type").unwrap_or("RequestResponse") {
        "RequestResponse" => {}
        "Event" => {
            let (state, payload) = (Arc::clone(state), req.body.clone());
            tokio::spawn(async move {
                if let Err(e) = run(&state, &account, &region, &name, &payload).await {
                    tracing::warn!("asynchronous invocation of {name} failed: {e}");
                }
            });
            return Ok(rest_json::empty(StatusCode::ACCEPTED));
        }
        "DryRun" => return Ok(rest_json::empty(StatusCode::NO_CONTENT)),
        other => {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            )));
        }
    }
    let outcome = run(state, &account, &region, &name, &req.body).await?;
    let mut response = rest_json::json_bytes(StatusCode::OK, outcome.payload.to_vec());
    let headers = response.headers_mut();
    headers.insert("X-Amz-Executed-Version", HeaderValue::from_static("$LATEST"));
    if let Some(error) = &outcome.function_error
        && let Ok(value) = HeaderValue::from_str(error)
    {
        headers.insert("X-Amz-Function-Error", value);
    }
    if req.header("X-Amz-Log-Type") == Some("Tail") {
        let log = outcome.log.as_bytes();
        let tail = &log[log.len().saturating_sub(4096)..];
        if let Ok(value) = HeaderValue::from_str(&base64::engine::general_purpose::STANDARD.encode(tail)) {
            headers.insert("X-Amz-Log-Result", value);
        }
    }
    Ok(response)
}
