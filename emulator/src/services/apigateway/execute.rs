//! The execute-api data plane: a deployed stage answering HTTP requests as API Gateway does, and the same
//! path for TestInvokeMethod (the console's Test button), which runs a method of the live API.
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html>
//!
//! Order of evaluation, as on AWS: the stage and resource/method (else 403 Missing Authentication Token),
//! the API key when the method requires one (else 403 Forbidden), the stage's throttle and the key's usage plan
//! (throttle, then quota: 429 Too Many Requests / Limit Exceeded, [`super::usage`]), then the integration: MOCK
//! answers from its integration response; AWS_PROXY invokes the Lambda function and maps its answer (a malformed
//! answer or a function error is 502). Every refusal is a gateway response ([`gateway_error`]), customisable
//! with PutGatewayResponse. Deviations: mapping templates are returned as written (no VTL), and AWS/HTTP
//! integrations answer 500.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};

use super::ApiGateway;
use super::model::{Method, Resource, Snapshot, Throttle};
use super::proxy;
use super::usage::{self, Refusal};
use crate::protocol::{AwsRequest, Response};
use crate::services::lambda::Env as LambdaEnv;
use crate::services::lambda::ServiceInvocation;

/// What a request runs against: a deployed stage, found across accounts (execute-api requests are unsigned;
/// API ids are global), or the live API for TestInvokeMethod.
pub(crate) struct Target {
    pub account_id: String,
    pub region: String,
    pub api_id: String,
    pub stage: String,
    pub deployment_id: String,
    pub snapshot: Arc<Snapshot>,
    pub variables: BTreeMap<String, String>,
    /// The stage's own throttle (`methodSettings` `*/*`).
    pub throttle: Option<Throttle>,
}

/// One of API Gateway's own answers (not the integration's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GatewayError {
    MissingAuthenticationToken,
    InvalidApiKey,
    Throttled,
    QuotaExceeded,
    /// The function's answer could not be mapped, or the function failed: 502.
    BadGateway,
    /// The integration could not be invoked (permissions, configuration): 500.
    Configuration,
}

impl GatewayError {
    /// Every error the data plane answers with, for tests that go through each.
    #[cfg(test)]
    pub(crate) const ALL: [Self; 6] = [
        Self::MissingAuthenticationToken,
        Self::InvalidApiKey,
        Self::Throttled,
        Self::QuotaExceeded,
        Self::BadGateway,
        Self::Configuration,
    ];

    /// (gateway response type, status, x-amzn-ErrorType, message, default body as AWS writes it).
    pub(crate) fn parts(self) -> (&'static str, u16, &'static str, &'static str, &'static str) {
        match self {
            Self::MissingAuthenticationToken => (
                "MISSING_AUTHENTICATION_TOKEN",
                403,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
                r#"{"message":"Missing Authentication Token"}"#,
            ),
            Self::InvalidApiKey => {
                ("INVALID_API_KEY", 403, "ForbiddenException", "Forbidden", r#"{"message":"Forbidden"}"#)
            }
            Self::Throttled => (
                "THROTTLED",
                429,
                "TooManyRequestsException",
                "Too Many Requests",
                r#"{"message":"Too Many Requests"}"#,
            ),
            Self::QuotaExceeded => {
                ("QUOTA_EXCEEDED", 429, "LimitExceededException", "Limit Exceeded", r#"{"message":"Limit Exceeded"}"#)
            }
            Self::BadGateway => (
                "DEFAULT_5XX",
                502,
                "InternalServerErrorException",
                "Internal server error",
                r#"{"message": "Internal server error"}"#,
            ),
            Self::Configuration => (
                "API_CONFIGURATION_ERROR",
                500,
                "InternalServerErrorException",
                "Internal server error",
                r#"{"message": "Internal server error"}"#,
            ),
        }
    }
}

impl From<Refusal> for GatewayError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Throttled => Self::Throttled,
            Refusal::QuotaExceeded => Self::QuotaExceeded,
        }
    }
}

/// The execution log API Gateway writes for a request (what TestInvokeMethod returns as `log`), one timestamped
/// line at a time. API key values appear masked, as in AWS's logs.
#[derive(Debug, Default)]
pub(crate) struct ExecutionLog {
    lines: Vec<String>,
}

impl ExecutionLog {
    pub(crate) fn line(&mut self, text: impl std::fmt::Display) {
        let time = chrono::Utc::now().format("%a %b %d %H:%M:%S UTC %Y");
        self.lines.push(format!("{time} : {text}"));
    }

    pub(crate) fn text(&self, request_id: &str) -> String {
        let mut out = format!("Execution log for request {request_id}\n");
        for line in &self.lines {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// `{a=1, b=2}`, as API Gateway's execution log prints maps.
fn log_map<'a>(entries: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let parts: Vec<String> = entries.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// A secret as AWS's logs show it: stars, then its last four characters.
fn masked(secret: &str) -> String {
    let tail: String = secret.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{}{tail}", "*".repeat(secret.chars().count().saturating_sub(4).max(4)))
}

fn header_log(req: &AwsRequest) -> String {
    log_map(req.headers.iter().map(|(name, value)| {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let shown = if matches!(name.as_str(), "x-api-key" | "authorization") { masked(&value) } else { value };
        (name.as_str(), shown)
    }))
}

/// Serves one execute-api request on `stage` of REST API `api_id`: API Gateway's side (the stage's deployment,
/// API keys, usage plans, CORS, gateway responses) and the function behind a Lambda proxy integration, through
/// `lambda`.
pub async fn handle(
    gateway: &ApiGateway,
    lambda: &Arc<dyn LambdaEnv>,
    api_id: &str,
    stage: &str,
    req: AwsRequest,
) -> Response {
    // The request's id, as the server journals it: the one `x-amzn-RequestId` and the Lambda event carry.
    let request_id = req.ctx.request_id.clone();
    let apigw_id = format!("{}=", crate::identity::random_alnum(15));
    let mut response = serve(gateway, lambda, api_id, stage, &req, &request_id, &apigw_id).await;
    let headers = response.headers_mut();
    for (name, value) in [("x-amzn-RequestId", request_id.as_str()), ("x-amz-apigw-id", apigw_id.as_str())] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    response
}

async fn serve(
    gateway: &ApiGateway,
    lambda: &Arc<dyn LambdaEnv>,
    api_id: &str,
    stage: &str,
    req: &AwsRequest,
    request_id: &str,
    apigw_id: &str,
) -> Response {
    let Some(target) = find_stage(gateway, api_id, stage) else {
        return gateway_error(None, GatewayError::MissingAuthenticationToken);
    };
    let snapshot = &target.snapshot;
    let Some((resource, path_parameters)) = match_resource(&snapshot.resources, &req.segments) else {
        return gateway_error(Some(snapshot), GatewayError::MissingAuthenticationToken);
    };
    let verb = req.method.as_str();
    let Some(method) = resource.methods.get(verb).or_else(|| resource.methods.get("ANY")) else {
        return gateway_error(Some(snapshot), GatewayError::MissingAuthenticationToken);
    };
    let mut log = ExecutionLog::default();
    let admitted = admit(gateway, &target, resource, method, verb, req.header("x-api-key"));
    let outcome = match admitted {
        Ok(api_key) => {
            let run =
                Run { target: &target, resource, path_parameters: &path_parameters, method, request_id, apigw_id };
            integrate(lambda, &run, req, api_key.as_ref(), &mut log).await
        }
        Err(error) => Err(error),
    };
    outcome.unwrap_or_else(|error| gateway_error(Some(snapshot), error))
}

/// The checks before the integration: the API key (when required) and its usage plan, the stage's throttle.
/// Answers the key's (value, id) when one was checked.
fn admit(
    gateway: &ApiGateway,
    target: &Target,
    resource: &Resource,
    method: &Method,
    verb: &str,
    key_value: Option<&str>,
) -> Result<Option<(String, String)>, GatewayError> {
    let now = std::time::Instant::now();
    let today = chrono::Utc::now().date_naive();
    let method_key = format!("{}/{verb}", resource.path);
    gateway.with_store(&target.account_id, &target.region, |store| {
        let mut api_key = None;
        if method.api_key_required {
            let key = key_value
                .and_then(|value| store.api_keys.values().find(|k| k.value == value && k.enabled))
                .ok_or(GatewayError::InvalidApiKey)?;
            let plan = store
                .usage_plans
                .values()
                .find(|p| {
                    p.keys.contains(&key.id)
                        && p.api_stages.iter().any(|s| s.api_id == target.api_id && s.stage == target.stage)
                })
                .ok_or(GatewayError::InvalidApiKey)?;
            let (plan_id, key_id, value) = (plan.id.clone(), key.id.clone(), key.value.clone());
            if let Some(throttle) = target.throttle {
                let bucket = format!("stage/{}/{}", target.api_id, target.stage);
                usage::admit_stage(store, bucket, throttle, now)?;
            }
            let admission = usage::Admission {
                plan_id: &plan_id,
                key_id: &key_id,
                api_id: &target.api_id,
                stage: &target.stage,
                method: &method_key,
                now,
                today,
            };
            usage::admit(store, &admission)?;
            api_key = Some((value, key_id));
        } else if let Some(throttle) = target.throttle {
            let bucket = format!("stage/{}/{}", target.api_id, target.stage);
            usage::admit_stage(store, bucket, throttle, now)?;
        }
        Ok(api_key)
    })
}

/// One method about to run its integration.
pub(crate) struct Run<'a> {
    pub target: &'a Target,
    pub resource: &'a Resource,
    pub path_parameters: &'a BTreeMap<String, String>,
    pub method: &'a Method,
    pub request_id: &'a str,
    pub apigw_id: &'a str,
}

/// Runs the method's integration for `req` and answers what the client gets, or the gateway error to answer
/// instead; what happens is written to `log`.
pub(crate) async fn integrate(
    lambda: &Arc<dyn LambdaEnv>,
    run: &Run<'_>,
    req: &AwsRequest,
    api_key: Option<&(String, String)>,
    log: &mut ExecutionLog,
) -> Result<Response, GatewayError> {
    let (target, resource, method) = (run.target, run.resource, run.method);
    let (api_id, stage, verb) = (target.api_id.as_str(), target.stage.as_str(), req.method.as_str());
    log.line(format!("Starting execution for request: {}", run.request_id));
    log.line(format!("HTTP Method: {verb}, Resource Path: {}", req.raw_path));
    log.line(format!(
        "Method request path: {}",
        log_map(run.path_parameters.iter().map(|(k, v)| (k.as_str(), v.clone())))
    ));
    log.line(format!(
        "Method request query string: {}",
        log_map(req.query.iter().map(|(k, v)| (k.as_str(), v.clone())))
    ));
    log.line(format!("Method request headers: {}", header_log(req)));
    log.line(format!("Method request body before transformations: {}", String::from_utf8_lossy(&req.body)));
    if let Some((value, _)) = api_key {
        log.line(format!(
            "API Key {} authorized because method '{verb} {}' requires API Key and API Key is valid",
            masked(value),
            resource.path
        ));
    }
    let Some(integration) = &method.integration else {
        log.line("Execution failed due to configuration error: No integration defined for method");
        return Err(GatewayError::Configuration);
    };
    let response = match integration.kind.as_str() {
        "MOCK" => {
            log.line(format!(
                "Endpoint request body after transformations: {}",
                integration.request_templates.get("application/json").map_or("", String::as_str)
            ));
            mock(method, log)?
        }
        "AWS_PROXY" => {
            if integration.http_method.as_deref() != Some("POST") {
                tracing::warn!("AWS_PROXY integration of {api_id} {verb} {} must use POST", resource.path);
                log.line("Execution failed due to configuration error: Lambda proxy integrations must use POST");
                return Err(GatewayError::Configuration);
            }
            let Some(function) = integration.uri.as_deref().and_then(function_from_uri) else {
                tracing::warn!("AWS_PROXY integration of {api_id} has no Lambda function URI");
                log.line("Execution failed due to configuration error: Invalid Lambda function URI");
                return Err(GatewayError::Configuration);
            };
            let host = req.header("host").unwrap_or("localhost").to_owned();
            let event = proxy::event(
                req,
                &proxy::EventContext {
                    account_id: &target.account_id,
                    api_id,
                    stage,
                    deployment_id: &target.deployment_id,
                    resource_id: &resource.id,
                    resource_path: &resource.path,
                    path_parameters: run.path_parameters,
                    stage_variables: &target.variables,
                    request_id: run.request_id,
                    extended_request_id: run.apigw_id,
                    api_key: api_key.map(|(value, id)| (value.as_str(), id.as_str())),
                    host: &host,
                },
            );
            let source_arn = format!(
                "arn:aws:execute-api:{}:{}:{api_id}/{stage}/{verb}/{}",
                target.region,
                target.account_id,
                resource.path.trim_start_matches('/')
            );
            let payload = event.to_string();
            log.line(format!(
                "Endpoint request URI: https://lambda.{}.amazonaws.com/2015-03-31/functions/{function}/invocations",
                target.region
            ));
            log.line(format!("Endpoint request body after transformations: {payload}"));
            log.line(format!(
                "Sending request to https://lambda.{}.amazonaws.com/2015-03-31/functions/{function}/invocations",
                target.region
            ));
            let invocation = ServiceInvocation {
                function: &function,
                account_id: &target.account_id,
                region: &target.region,
                principal: "apigateway.amazonaws.com",
                source_arn: &source_arn,
                payload: Bytes::from(payload),
            };
            let started = std::time::Instant::now();
            let outcome = match crate::services::lambda::invoke_for_service(lambda, invocation).await {
                Ok(outcome) => outcome,
                Err(e) => {
                    tracing::warn!("Execution failed due to configuration error: {e}");
                    log.line(format!("Execution failed due to configuration error: {e}"));
                    return Err(GatewayError::Configuration);
                }
            };
            log.line(format!(
                "Received response. Status: 200, Integration latency: {} ms",
                started.elapsed().as_millis()
            ));
            log.line(format!(
                "Endpoint response body before transformations: {}",
                String::from_utf8_lossy(&outcome.payload)
            ));
            if outcome.function_error.is_some() {
                tracing::info!("Lambda execution failed: {}", String::from_utf8_lossy(&outcome.payload));
                log.line("Lambda execution failed with status 200 due to customer function error");
                return Err(GatewayError::BadGateway);
            }
            match proxy::map_response(&outcome.payload) {
                Some(mapped) => proxy_response(mapped),
                None => {
                    tracing::info!("Execution failed due to configuration error: Malformed Lambda proxy response");
                    log.line("Execution failed due to configuration error: Malformed Lambda proxy response");
                    return Err(GatewayError::BadGateway);
                }
            }
        }
        other => {
            tracing::warn!("integration type {other} is not served by crts-emulator's data plane");
            log.line(format!("Execution failed due to configuration error: {other} integrations are not emulated"));
            return Err(GatewayError::Configuration);
        }
    };
    let headers = log_map(
        response.headers().iter().map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v.as_bytes()).into_owned())),
    );
    log.line(format!("Method response headers: {headers}"));
    log.line("Successfully completed execution");
    log.line(format!("Method completed with status: {}", response.status().as_u16()));
    Ok(response)
}

fn find_stage(gateway: &ApiGateway, api_id: &str, stage: &str) -> Option<Target> {
    gateway.find(|account_id, region, store| {
        let api = store.apis.get(api_id)?;
        let stage = api.stages.get(stage)?;
        let deployment = api.deployments.get(&stage.deployment_id)?;
        Some(Target {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            api_id: api_id.to_owned(),
            stage: stage.name.clone(),
            deployment_id: deployment.id.clone(),
            snapshot: Arc::clone(&deployment.snapshot),
            variables: stage.variables.clone(),
            throttle: stage.throttle,
        })
    })
}

/// The path parameters of `segments` for `resource`, or `None` when its path does not match them.
pub(crate) fn path_parameters(resource: &Resource, segments: &[String]) -> Option<BTreeMap<String, String>> {
    let template: Vec<&str> = resource.path.split('/').filter(|s| !s.is_empty()).collect();
    match_template(&template, segments).map(|(_, parameters)| parameters)
}

/// The most specific resource whose path matches: literal segments beat `{param}`, which beats `{proxy+}`.
fn match_resource<'a>(
    resources: &'a [Resource],
    segments: &[String],
) -> Option<(&'a Resource, BTreeMap<String, String>)> {
    let mut best: Option<(Vec<u8>, &Resource, BTreeMap<String, String>)> = None;
    for resource in resources {
        let template: Vec<&str> = resource.path.split('/').filter(|s| !s.is_empty()).collect();
        let Some((score, parameters)) = match_template(&template, segments) else { continue };
        if best.as_ref().is_none_or(|(best_score, _, _)| score > *best_score) {
            best = Some((score, resource, parameters));
        }
    }
    best.map(|(_, resource, parameters)| (resource, parameters))
}

/// Per-segment specificity (2 literal, 1 parameter, 0 greedy) and the extracted path parameters.
fn match_template(template: &[&str], segments: &[String]) -> Option<(Vec<u8>, BTreeMap<String, String>)> {
    let mut score = Vec::with_capacity(template.len());
    let mut parameters = BTreeMap::new();
    for (i, part) in template.iter().enumerate() {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            if i >= segments.len() {
                return None;
            }
            parameters.insert(name.to_owned(), segments[i..].join("/"));
            score.push(0);
            return Some((score, parameters));
        }
        let segment = segments.get(i)?;
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            parameters.insert(name.to_owned(), segment.clone());
            score.push(1);
        } else if part == segment {
            score.push(2);
        } else {
            return None;
        }
    }
    (template.len() == segments.len()).then_some((score, parameters))
}

/// `arn:aws:apigateway:r:lambda:path/2015-03-31/functions/<function arn>/invocations` → the function ARN.
fn function_from_uri(uri: &str) -> Option<String> {
    let rest = uri.split_once("/functions/")?.1;
    Some(rest.strip_suffix("/invocations").unwrap_or(rest).to_owned())
}

/// A MOCK integration: the request template's statusCode selects the integration response, whose literal
/// header mappings (`'*'`) and template become the answer.
fn mock(method: &Method, log: &mut ExecutionLog) -> Result<Response, GatewayError> {
    let Some(integration) = &method.integration else { return Err(GatewayError::Configuration) };
    let template = integration
        .request_templates
        .get("application/json")
        .or_else(|| integration.request_templates.values().next())
        .map(String::as_str)
        .unwrap_or("{\"statusCode\": 200}");
    let status = serde_json::from_str::<serde_json::Value>(template)
        .ok()
        .and_then(|v| v["statusCode"].as_u64())
        .unwrap_or(200)
        .to_string();
    let selected = integration
        .responses
        .values()
        .find(|r| r.selection_pattern.as_deref().is_some_and(|p| !p.is_empty() && p == status))
        .or_else(|| integration.responses.values().find(|r| r.selection_pattern.as_deref().is_none_or(str::is_empty)));
    let Some(selected) = selected else {
        tracing::warn!("MOCK integration has no integration response for status {status}");
        log.line(format!("Execution failed due to configuration error: No match for output mapping and no default output mapping configured. Endpoint Response Status Code: {status}"));
        return Err(GatewayError::Configuration);
    };
    let status = selected.status_code.parse().ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    let body = selected
        .response_templates
        .get("application/json")
        .or_else(|| selected.response_templates.values().next())
        .cloned()
        .unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (target, source) in &selected.response_parameters {
        let (Some(name), Some(value)) = (target.strip_prefix("method.response.header."), literal(source)) else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (http::HeaderName::try_from(name), HeaderValue::from_str(value)) {
            headers.insert(name, value);
        }
    }
    Ok(response)
}

/// `'value'` → `value` (static mapping values are quoted).
fn literal(source: &str) -> Option<&str> {
    source.strip_prefix('\'').and_then(|s| s.strip_suffix('\''))
}

fn proxy_response(mapped: proxy::ProxyResponse) -> Response {
    let mut response = Response::new(Body::from(mapped.body));
    *response.status_mut() = StatusCode::from_u16(mapped.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    for (name, value) in &mapped.headers {
        if let (Ok(name), Ok(value)) = (http::HeaderName::try_from(name.as_str()), HeaderValue::from_str(value)) {
            headers.append(name, value);
        }
    }
    if !headers.contains_key(http::header::CONTENT_TYPE) {
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    let trace = format!("Root=1-{:08x}-{}", chrono::Utc::now().timestamp(), crate::identity::random_lower_alnum(24));
    if let Ok(value) = HeaderValue::from_str(&trace) {
        headers.insert("X-Amzn-Trace-Id", value);
    }
    response
}

/// One of API Gateway's own errors, with the API's gateway response override when it has one (the exact
/// type first, then DEFAULT_4XX / DEFAULT_5XX). Without an override there are no CORS headers, as on AWS.
pub(crate) fn gateway_error(snapshot: Option<&Snapshot>, error: GatewayError) -> Response {
    let (kind, status, error_type, message, default_body) = error.parts();
    let family = if status >= 500 { "DEFAULT_5XX" } else { "DEFAULT_4XX" };
    let custom = snapshot.and_then(|s| s.gateway_responses.get(kind).or_else(|| s.gateway_responses.get(family)));
    let (status, body, extra_headers) = match custom {
        Some(custom) => {
            let status = custom.status_code.as_deref().and_then(|s| s.parse().ok()).unwrap_or(status);
            let body = custom
                .response_templates
                .get("application/json")
                .map(|t| {
                    t.replace("$context.error.messageString", &format!("\"{message}\""))
                        .replace("$context.error.message", message)
                        .replace("$context.error.responseType", kind)
                })
                .unwrap_or_else(|| default_body.to_owned());
            let headers: Vec<(String, String)> = custom
                .response_parameters
                .iter()
                .filter_map(|(k, v)| {
                    Some((k.strip_prefix("gatewayresponse.header.")?.to_owned(), literal(v)?.to_owned()))
                })
                .collect();
            (status, body, headers)
        }
        None => (status, default_body.to_owned(), Vec::new()),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("x-amzn-ErrorType", HeaderValue::from_static(error_type));
    for (name, value) in extra_headers {
        if let (Ok(name), Ok(value)) = (http::HeaderName::try_from(name.as_str()), HeaderValue::from_str(&value)) {
            headers.insert(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(path: &str) -> Resource {
        Resource {
            id: path.to_owned(),
            parent_id: None,
            path_part: None,
            path: path.to_owned(),
            methods: BTreeMap::new(),
        }
    }

    fn segments(path: &str) -> Vec<String> {
        path.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect()
    }

    #[test]
    fn literal_beats_parameter_beats_greedy() {
        let resources = vec![
            resource("/"),
            resource("/crts"),
            resource("/{function}"),
            resource("/{proxy+}"),
            resource("/crts/{id}"),
        ];
        let matched = |path: &str| match_resource(&resources, &segments(path)).map(|(r, p)| (r.path.clone(), p));
        assert_eq!(matched("/").map(|m| m.0), Some("/".to_owned()));
        assert_eq!(matched("/crts").map(|m| m.0), Some("/crts".to_owned()));
        let (path, params) = matched("/other").expect("matches the parameter");
        assert_eq!((path.as_str(), params.get("function").map(String::as_str)), ("/{function}", Some("other")));
        let (path, params) = matched("/a/b/c").expect("greedy");
        assert_eq!((path.as_str(), params.get("proxy").map(String::as_str)), ("/{proxy+}", Some("a/b/c")));
        assert_eq!(matched("/crts/42").map(|m| m.0), Some("/crts/{id}".to_owned()));
        let no_greedy = vec![resource("/"), resource("/crts")];
        assert!(match_resource(&no_greedy, &segments("/nothing")).is_none());
    }

    #[test]
    fn lambda_function_arns_come_from_integration_uris() {
        assert_eq!(
            function_from_uri("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:crts/invocations").as_deref(),
            Some("arn:aws:lambda:us-east-1:000000000000:function:crts")
        );
        assert_eq!(function_from_uri("arn:aws:apigateway:us-east-1:s3:path/bucket"), None);
    }

    #[test]
    fn default_gateway_errors_are_awss_bodies_without_cors() {
        let response = gateway_error(None, GatewayError::InvalidApiKey);
        assert_eq!(response.status(), 403);
        assert_eq!(response.headers()["x-amzn-ErrorType"], "ForbiddenException");
        assert!(!response.headers().contains_key("access-control-allow-origin"));
        assert_eq!(gateway_error(None, GatewayError::BadGateway).status(), 502);
    }
}
