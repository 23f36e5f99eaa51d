//! The one HTTP listener: reads a request, finds the service it is for, and hands it over.
//!
//! Routing, in order: the execute-api URL forms (data plane, usually unsigned), then the SigV4 credential
//! scope's service name, then the shape of unsigned requests (path prefixes, `Action=` form bodies).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use http::{HeaderMap, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::identity::Caller;
use crate::protocol::{self, AwsError, AwsRequest, RequestContext, Response, rest_json, sigv4};
use crate::services::{apigateway, batch, ecr, iam, lambda, logs, s3, sts, tagging};
use crate::state::AppState;

/// Largest request body accepted (Lambda zips travel base64-encoded inside JSON).
const MAX_BODY_BYTES: usize = 128 * 1024 * 1024;
/// How long stopping waits, after ending the Lambda handlers still running, for the requests they served to be
/// answered (with the error of a sandbox that died) before their connections are closed.
const ANSWER_AFTER_KILL: std::time::Duration = std::time::Duration::from_secs(1);

/// A running emulator. Dropping it stops the listener; [`Emulator::shutdown`] also waits for it and stops the
/// Lambda workers.
pub struct Emulator {
    addr: SocketAddr,
    endpoint: String,
    state: Arc<AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// Stops idle Lambda workers periodically; aborted when the emulator stops.
    reaper: JoinHandle<()>,
    /// Runtimes being got ready ([`crate::LambdaConfig::prestart`]): stopped with the emulator.
    prestarts: Vec<tokio::task::AbortHandle>,
}

/// The Batch jobs of one emulator instance (see [`Emulator::jobs`]).
#[derive(Clone)]
pub struct Jobs(Arc<AppState>);

impl Jobs {
    /// Every job, in every account and region, oldest first, with its status now.
    pub fn states(&self) -> Vec<crate::services::batch::JobState> {
        self.0.batch.job_states()
    }
}

impl Emulator {
    /// Binds the listener and starts serving in the background of the current Tokio runtime.
    pub async fn start(config: Config) -> std::io::Result<Self> {
        let listener = TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        let endpoint = format!("http://{addr}");
        let state = Arc::new(AppState::new(config, endpoint.clone()));
        let app = axum::Router::new().fallback(dispatch).with_state(Arc::clone(&state));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::error!("emulator listener stopped: {e}");
            }
        });
        // Idle Lambda workers are stopped after the configured idle timeout, as AWS reclaims idle environments.
        let reaper = tokio::spawn({
            let state = Arc::clone(&state);
            async move {
                let mut ticks = tokio::time::interval(state.lambda.reap_every());
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    ticks.tick().await;
                    state.lambda.reap_idle().await;
                }
            }
        });
        let prestarts = state
            .config
            .lambda
            .prestart
            .iter()
            .map(|runtime| {
                let (state, runtime) = (Arc::clone(&state), runtime.clone());
                tokio::spawn(async move { state.lambda.prestart(&runtime).await }).abort_handle()
            })
            .collect();
        tracing::debug!(%endpoint, "emulator listening");
        Ok(Self { addr, endpoint, state, shutdown: Some(tx), task: Some(task), reaper, prestarts })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request this instance answered, oldest first (at most the last 10,000).
    pub fn requests(&self) -> Vec<crate::journal::Entry> {
        self.state.journal.entries()
    }

    /// Every request answered from now on, as it is answered (see [`crate::journal::Journal::subscribe`]).
    pub fn subscribe_requests(&self) -> tokio::sync::broadcast::Receiver<crate::journal::Entry> {
        self.state.journal.subscribe()
    }

    /// This instance's Batch jobs, as a handle that can be kept (a log that follows their states).
    pub fn jobs(&self) -> Jobs {
        Jobs(Arc::clone(&self.state))
    }

    /// Failures to inject into the next requests, for tests of clients' retries.
    pub fn faults(&self) -> &crate::faults::Faults {
        &self.state.faults
    }

    /// The instance's state, for tests that need to look inside.
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Stops accepting requests, gives the requests in flight the configured grace ([`Config::shutdown_grace`]),
    /// then stops every Lambda worker, busy ones included: a handler still running is ended and its request
    /// answered as AWS answers an invocation whose sandbox died (`Runtime.ExitError`), within a second; a request
    /// still unanswered after that has its connection closed. No worker process outlives this.
    pub async fn shutdown(mut self) {
        self.stop_listener();
        let grace = self.state.config.shutdown_grace;
        let Some(mut task) = self.task.take() else {
            self.state.lambda.shutdown().await;
            self.state.batch.shutdown().await;
            return;
        };
        let finished = tokio::time::timeout(grace, &mut task).await.is_ok();
        self.state.lambda.shutdown().await;
        self.state.batch.shutdown().await;
        if !finished && tokio::time::timeout(ANSWER_AFTER_KILL, &mut task).await.is_err() {
            tracing::warn!(
                "requests still in flight {grace:?} after stopping, and after their handlers ended: closing their connections"
            );
            task.abort();
        }
    }

    fn stop_listener(&mut self) {
        self.reaper.abort();
        self.prestarts.iter().for_each(tokio::task::AbortHandle::abort);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop_listener();
    }
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The API Gateway data plane: `stage` and the resource path after it.
    ExecuteApi {
        api_id: String,
        stage: String,
        path: String,
    },
    /// The OCI Distribution API (`/v2/...`) of the ECR registry.
    Registry,
    /// The S3 static website endpoint of a bucket.
    S3Website {
        bucket: String,
    },
    Service(Service),
    Health,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Iam,
    Sts,
    Lambda,
    Batch,
    ApiGateway,
    S3,
    Ecr,
    /// CloudWatch Logs.
    Logs,
    /// The Resource Groups Tagging API.
    Tagging,
}

impl Route {
    /// The short name the request journal uses.
    fn label(&self) -> &'static str {
        match self {
            Route::ExecuteApi { .. } => "execute-api",
            Route::Registry => "registry",
            Route::S3Website { .. } => "s3-website",
            Route::Health => "health",
            Route::Service(service) => match service {
                Service::Iam => "iam",
                Service::Sts => "sts",
                Service::Lambda => "lambda",
                Service::Batch => "batch",
                Service::ApiGateway => "apigateway",
                Service::S3 => "s3",
                Service::Ecr => "ecr",
                Service::Logs => "logs",
                Service::Tagging => "tagging",
            },
        }
    }
}

impl Service {
    fn from_signing_name(name: &str) -> Option<Self> {
        Some(match name {
            "iam" => Service::Iam,
            "sts" => Service::Sts,
            "lambda" => Service::Lambda,
            "batch" => Service::Batch,
            "apigateway" => Service::ApiGateway,
            "s3" => Service::S3,
            "ecr" => Service::Ecr,
            "logs" => Service::Logs,
            "tagging" => Service::Tagging,
            _ => return None,
        })
    }
}

/// Decides where a request goes from its host, path, signature scope and (for awsQuery) form body.
pub fn route(host: &str, path: &str, signing_name: Option<&str>, body: &[u8]) -> Option<Route> {
    if let Some(route) = execute_api_route(host, path) {
        return Some(route);
    }
    if let Some(bucket) = s3::website::bucket_from_website_host(host) {
        return Some(Route::S3Website { bucket });
    }
    // The registry answers `/v2/...` on every host but an S3 virtual host, where it is an object key (bucket names
    // have at least 3 characters, so `/v2/...` is never a path-style S3 request).
    if (path == "/v2" || path.starts_with("/v2/"))
        && (ecr::registry::registry_of_host(host).is_some() || s3::bucket_from_host(host).is_none())
    {
        return Some(Route::Registry);
    }
    if path == "/_localstack/health" || path == "/_crts/health" {
        return Some(Route::Health);
    }
    if let Some(name) = signing_name {
        return Service::from_signing_name(name).map(Route::Service);
    }
    // Unsigned requests (browsers, curl, tests): recognise the service by the host, then the shape of the request.
    if s3::bucket_from_host(host).is_some() {
        return Some(Route::Service(Service::S3));
    }
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let service = match first {
        "2015-03-31" | "2016-08-19" | "2017-03-31" | "2018-10-31" | "2019-09-25" | "2019-09-30" | "2020-06-30"
        | "2021-10-31" => Service::Lambda,
        "v1" => Service::Batch,
        "restapis" | "apikeys" | "usageplans" | "deployments" | "account" | "domainnames" => Service::ApiGateway,
        _ => {
            // awsQuery (IAM, STS) carries `Action=` in a form body; anything else unsigned is anonymous S3.
            let Some(action) = protocol::parse_query(std::str::from_utf8(body).unwrap_or(""))
                .into_iter()
                .find(|(k, _)| k == "Action")
                .map(|(_, v)| v)
            else {
                return Some(Route::Service(Service::S3));
            };
            if matches!(action.as_str(), "GetCallerIdentity" | "AssumeRole" | "GetSessionToken") {
                Service::Sts
            } else {
                Service::Iam
            }
        }
    };
    Some(Route::Service(service))
}

/// The execute-api URL forms of DESIGN.md: `/_aws/execute-api/{id}/{stage}/...`,
/// `/restapis/{id}/{stage}/_user_request_/...`, and host-style `{id}.execute-api.<anything>/{stage}/...`.
fn execute_api_route(host: &str, path: &str) -> Option<Route> {
    let host = host.split(':').next().unwrap_or(host);
    let (api_id, rest) = if let Some(rest) = path.strip_prefix("/_aws/execute-api/") {
        let (api_id, rest) = rest.split_once('/').unwrap_or((rest, ""));
        (api_id.to_owned(), rest)
    } else if let Some(rest) = path.strip_prefix("/restapis/") {
        let mut parts = rest.splitn(4, '/');
        let api_id = parts.next()?;
        let stage = parts.next()?;
        if parts.next()? != "_user_request_" {
            return None;
        }
        let tail = parts.next().unwrap_or("");
        return Some(Route::ExecuteApi {
            api_id: api_id.to_owned(),
            stage: stage.to_owned(),
            path: format!("/{tail}"),
        });
    } else if let Some((api_id, _)) = host.split_once(".execute-api.") {
        (api_id.to_owned(), path.trim_start_matches('/'))
    } else {
        return None;
    };
    let (stage, tail) = rest.split_once('/').unwrap_or((rest, ""));
    Some(Route::ExecuteApi { api_id, stage: stage.to_owned(), path: format!("/{tail}") })
}

/// Why a request body was not read.
enum BodyProblem {
    TooLarge,
    /// Shorter than its Content-Length, or chunks that do not parse.
    Malformed(String),
}

/// AWS's answer to a body that is too large or malformed: in the caller's protocol, with the service's own error
/// names (S3's IncompleteBody and EntityTooLarge, Lambda's InvalidRequestContentException and
/// RequestTooLargeException, Batch's ClientException, awsJson's SerializationException, the registry's
/// BLOB_UPLOAD_INVALID and SIZE_INVALID, API Gateway's "Request Too Long" on execute-api).
fn body_refusal(problem: BodyProblem, route: Option<&Route>, method: &http::Method, request_id: &str) -> Response {
    use StatusCode as S;
    let (too_large, message) = match problem {
        BodyProblem::TooLarge => {
            (true, "The request body is larger than this emulator takes (at most 128 MiB)".to_owned())
        }
        BodyProblem::Malformed(detail) => (false, format!("The request body is incomplete or badly framed ({detail})")),
    };
    // (status, code) when too large, and when malformed.
    let pick = |large: (S, &'static str), malformed: (S, &'static str)| {
        let (status, code) = if too_large { large } else { malformed };
        AwsError::new(status, code, message.clone())
    };
    let entity_too_large = (S::PAYLOAD_TOO_LARGE, "RequestEntityTooLargeException");
    match route {
        // S3 answers 400 for both.
        Some(Route::Service(Service::S3) | Route::S3Website { .. }) => protocol::rest_xml::error(
            &pick((S::BAD_REQUEST, "EntityTooLarge"), (S::BAD_REQUEST, "IncompleteBody")),
            method,
            request_id,
        ),
        Some(Route::Registry) => {
            protocol::oci::error(&pick((S::PAYLOAD_TOO_LARGE, "SIZE_INVALID"), (S::BAD_REQUEST, "BLOB_UPLOAD_INVALID")))
        }
        Some(Route::Service(service @ (Service::Iam | Service::Sts))) => {
            let xmlns = if *service == Service::Iam { iam::XMLNS } else { sts::XMLNS };
            let error = pick((S::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge"), (S::BAD_REQUEST, "MalformedInput"));
            protocol::query::error(&error, xmlns, request_id)
        }
        Some(Route::Service(Service::Ecr | Service::Logs | Service::Tagging)) => {
            protocol::json::error(&pick(entity_too_large, (S::BAD_REQUEST, "SerializationException")))
        }
        Some(Route::Service(Service::Lambda)) => rest_json::error(
            &pick(
                (S::PAYLOAD_TOO_LARGE, "RequestTooLargeException"),
                (S::BAD_REQUEST, "InvalidRequestContentException"),
            ),
            rest_json::ErrorStyle::LambdaTyped,
        ),
        Some(Route::Service(Service::Batch)) => rest_json::error(
            &pick(entity_too_large, (S::BAD_REQUEST, "ClientException")),
            rest_json::ErrorStyle::Message,
        ),
        Some(Route::ExecuteApi { .. }) => {
            let mut error = pick((S::PAYLOAD_TOO_LARGE, "RequestTooLarge"), (S::BAD_REQUEST, "BadRequestException"));
            if too_large {
                error.message = "Request Too Long".to_owned();
            }
            rest_json::error(&error, rest_json::ErrorStyle::Message)
        }
        Some(Route::Service(Service::ApiGateway) | Route::Health) | None => rest_json::error(
            &pick(entity_too_large, (S::BAD_REQUEST, "BadRequestException")),
            rest_json::ErrorStyle::Message,
        ),
    }
}

async fn dispatch(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let host = host_of(&parts.headers, &parts.uri);
    let raw_path = parts.uri.path().to_owned();
    let query = protocol::parse_query(parts.uri.query().unwrap_or(""));
    let scope = sigv4::credential_scope(&parts.headers, &query);
    // A body is refused in the protocol of whoever sent it (routing by host, path and signature alone): too large
    // (declared, so it is refused before it is sent, or counted) or cut off / badly framed (a malformed request).
    let refuse = |problem: BodyProblem| {
        let route = route(&host, &raw_path, scope.as_ref().map(|s| s.service.as_str()), b"");
        protocol::with_request_id(body_refusal(problem, route.as_ref(), &parts.method, &request_id), &request_id)
    };
    let declared = parts.headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return refuse(BodyProblem::TooLarge);
    }
    // A request with both Content-Length and Transfer-Encoding (how requests are smuggled past proxies) never
    // gets here as such: hyper reads it by Transfer-Encoding, drops Content-Length and closes the connection after
    // answering (RFC 9112 6.3), so nothing sent after it on the connection is read as another request.
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(e) => {
            let too_large =
                std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |inner| inner.source())
                    .any(|inner| inner.is::<http_body_util::LengthLimitError>());
            return refuse(if too_large { BodyProblem::TooLarge } else { BodyProblem::Malformed(e.to_string()) });
        }
    };
    // A SigV2 presigned URL names no region.
    let region = scope
        .as_ref()
        .map(|s| s.region.clone())
        .filter(|region| !region.is_empty())
        .unwrap_or_else(|| state.config.default_region.clone());
    let caller = match &scope {
        Some(scope) => state.sessions.caller_for(&scope.access_key_id),
        None => Caller::Anonymous,
    };
    let route = route(&host, &raw_path, scope.as_ref().map(|s| s.service.as_str()), &body);
    let operation = crate::journal::operation_of(&parts.headers, &query, &body, &parts.method, &raw_path);
    let ctx = RequestContext { request_id: request_id.clone(), region, caller, endpoint: state.endpoint.clone() };
    let method = parts.method.clone();

    let injected = state.faults.take(&operation, &raw_path);
    let response = if let Some(refusal) = injected {
        protocol::with_request_id(refusal, &request_id)
    } else {
        match route.clone() {
            Some(Route::ExecuteApi { api_id, stage, path }) => {
                let req = AwsRequest {
                    method: parts.method,
                    segments: protocol::decode_segments(&path),
                    raw_path: path,
                    query,
                    headers: parts.headers,
                    body,
                    ctx,
                };
                let lambda: Arc<dyn lambda::Env> = state.clone();
                apigateway::execute::handle(&state.apigateway, &lambda, &api_id, &stage, req).await
            }
            Some(Route::S3Website { bucket }) => {
                let req = AwsRequest {
                    method: parts.method,
                    segments: protocol::decode_segments(&raw_path),
                    raw_path: raw_path.clone(),
                    query,
                    headers: parts.headers,
                    body,
                    ctx: RequestContext { caller: Caller::Anonymous, ..ctx },
                };
                s3::website::handle(&state.s3, &state.iam, &bucket, req).await
            }
            Some(Route::Registry) => {
                let req = AwsRequest {
                    method: parts.method,
                    segments: Vec::new(),
                    raw_path: raw_path.clone(),
                    query,
                    headers: parts.headers,
                    body,
                    ctx,
                };
                ecr::registry::handle(&state.ecr, req).await
            }
            Some(Route::Health) => rest_json::ok(&serde_json::json!({
                "services": { "iam": "running", "sts": "running", "lambda": "running", "batch": "running", "apigateway": "running", "s3": "running", "ecr": "running", "logs": "running", "tagging": "running" },
                "edition": "crts-emulator",
                "version": env!("CARGO_PKG_VERSION"),
            })),
            Some(Route::Service(service)) => {
                let req = AwsRequest {
                    method: parts.method,
                    segments: protocol::decode_segments(&raw_path),
                    raw_path: raw_path.clone(),
                    query,
                    headers: parts.headers,
                    body,
                    ctx,
                };
                let response = match service {
                    Service::Iam => iam::handle(&state.iam, req).await,
                    Service::Sts => sts::handle(&state.iam, &state.sessions, req).await,
                    Service::Lambda => {
                        let env: Arc<dyn lambda::Env> = state.clone();
                        lambda::handle(&env, req).await
                    }
                    Service::Batch => batch::handle(&state.batch, &state.iam, &state.ecr, req).await,
                    Service::ApiGateway => {
                        let env: Arc<dyn lambda::Env> = state.clone();
                        apigateway::handle(&state.apigateway, &state.iam, &env, req).await
                    }
                    Service::S3 => s3::handle(&state.s3, &state.iam, req).await,
                    Service::Ecr => ecr::api::handle(&state.ecr, &state.iam, req).await,
                    Service::Logs => logs::handle(state.logs.as_ref(), &state.iam, req).await,
                    Service::Tagging => {
                        let services: [&dyn crate::services::TaggedResources; 6] = [
                            &state.lambda,
                            &state.batch,
                            &state.apigateway,
                            &state.ecr,
                            &state.s3,
                            state.logs.as_ref(),
                        ];
                        tagging::handle(&services, &state.iam, req).await
                    }
                };
                protocol::with_request_id(response, &request_id)
            }
            None => {
                let service = scope.as_ref().map_or("(unsigned)", |s| s.service.as_str());
                let err = AwsError::bad_request(
                    "UnrecognizedServiceException",
                    format!(
                        "crts-emulator does not emulate the service for this request (signing name {service}, path {raw_path}); it serves iam, sts, lambda, batch, apigateway, s3 (+ website), ecr (+ registry), logs, tagging and execute-api"
                    ),
                );
                protocol::with_request_id(rest_json::error(&err, rest_json::ErrorStyle::Message), &request_id)
            }
        }
    };
    state.journal.record(crate::journal::Entry {
        service: route.as_ref().map_or("unknown", Route::label),
        operation,
        method: method.to_string(),
        path: raw_path.clone(),
        status: response.status().as_u16(),
        latency: started.elapsed(),
    });
    tracing::debug!(
        %method, path = %raw_path, route = ?route, status = response.status().as_u16(),
        elapsed_us = started.elapsed().as_micros() as u64, "request"
    );
    response
}

/// The request's host: the `Host` header (HTTP/1.1) or the URI authority (HTTP/2, absolute-form).
fn host_of(headers: &HeaderMap, uri: &http::Uri) -> String {
    headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(api: &str, stage: &str, path: &str) -> Option<Route> {
        Some(Route::ExecuteApi { api_id: api.into(), stage: stage.into(), path: path.into() })
    }

    #[test]
    fn execute_api_url_forms() {
        assert_eq!(
            route("127.0.0.1:4566", "/_aws/execute-api/abc123/default/crts", None, b""),
            exec("abc123", "default", "/crts")
        );
        assert_eq!(
            route("localhost", "/restapis/abc123/default/_user_request_/crts", None, b""),
            exec("abc123", "default", "/crts")
        );
        assert_eq!(
            route("abc123.execute-api.localhost.localstack.cloud:4566", "/default/crts", None, b""),
            exec("abc123", "default", "/crts")
        );
        assert_eq!(route("abc123.execute-api.localhost:4566", "/default", None, b""), exec("abc123", "default", "/"));
        assert_eq!(
            route("abc123.execute-api.us-east-1.amazonaws.com", "/default/a/b", None, b""),
            exec("abc123", "default", "/a/b")
        );
    }

    #[test]
    fn control_plane_by_scope_then_by_shape() {
        assert_eq!(
            route("h", "/restapis/abc/resources", Some("apigateway"), b""),
            Some(Route::Service(Service::ApiGateway))
        );
        assert_eq!(route("h", "/", Some("iam"), b"Action=CreateRole"), Some(Route::Service(Service::Iam)));
        assert_eq!(route("h", "/2015-03-31/functions/f", None, b""), Some(Route::Service(Service::Lambda)));
        assert_eq!(route("h", "/v1/submitjob", None, b""), Some(Route::Service(Service::Batch)));
        assert_eq!(
            route("h", "/", None, b"Action=GetCallerIdentity&Version=2011-06-15"),
            Some(Route::Service(Service::Sts))
        );
        assert_eq!(route("h", "/", None, b"Action=GetRole"), Some(Route::Service(Service::Iam)));
        assert_eq!(route("h", "/nothing", None, b""), Some(Route::Service(Service::S3)));
        assert_eq!(route("h", "/", Some("s3"), b""), Some(Route::Service(Service::S3)));
        assert_eq!(route("h", "/", Some("ecr"), b"{}"), Some(Route::Service(Service::Ecr)));
        assert_eq!(route("localhost:4566", "/v2/", None, b""), Some(Route::Registry));
        assert_eq!(
            route("1.dkr.ecr.us-east-1.localhost.localstack.cloud", "/v2/crts/manifests/latest", None, b""),
            Some(Route::Registry)
        );
        assert_eq!(route("b.s3.localhost.localstack.cloud:4566", "/", None, b""), Some(Route::Service(Service::S3)));
        // On an S3 virtual host, `/v2/...` is an object key, signed or not.
        assert_eq!(
            route("b.s3.localhost.localstack.cloud:4566", "/v2/x", None, b""),
            Some(Route::Service(Service::S3))
        );
        assert_eq!(route("bucket.localhost:4566", "/v2/x", Some("s3"), b""), Some(Route::Service(Service::S3)));
        assert_eq!(
            route("000000000000.dkr.ecr.us-east-1.localhost:4566", "/v2/crts/tags/list", None, b""),
            Some(Route::Registry)
        );
        assert_eq!(
            route("site.s3-website.localhost:4566", "/index.html", None, b""),
            Some(Route::S3Website { bucket: "site".into() })
        );
    }
}
