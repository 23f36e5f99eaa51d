//! Amazon API Gateway, REST APIs (v1): the control plane (rest-json under `/restapis`, `/apikeys`,
//! `/usageplans`) and the execute-api data plane that serves deployed stages ([`execute`]).
//!
//! <https://docs.aws.amazon.com/apigateway/latest/api/API_Operations.html>
//!
//! Codemap: [`model`] (stored resources and their JSON), [`rest_apis`] (APIs and resources), [`methods`]
//! (methods, integrations and their responses), [`deployments`] (deployments and stages), [`api_keys`]
//! (keys, usage plans), [`usage`] (usage plans enforced: throttles, quotas, GetUsage), [`export`] (GetExport),
//! [`gateway_responses`], [`tags`], [`patch`] (patch operations), [`execute`] and [`proxy`] (the data plane, also
//! behind TestInvokeMethod). Resources live per account and region.

mod api_keys;
mod deployments;
pub mod execute;
mod export;
mod gateway_responses;
mod methods;
mod model;
pub(crate) mod patch;
mod proxy;
mod rest_apis;
mod tags;
mod test_invoke;
#[cfg(test)]
mod tests;
mod usage;

use std::sync::Arc;

use http::{Method, StatusCode};

use crate::protocol::{AwsError, AwsRequest, AwsResult, Response, rest_json};
use crate::services::iam::Protocol;
use crate::services::lambda::Env as LambdaEnv;
use crate::services::{Authorize, Call, Service, pagination};

use model::{RestApi, Store};

/// Serves one control-plane request. TestInvokeMethod runs a method's integration, which may invoke a Lambda
/// function through `lambda`; every other operation is answered by [`route`].
pub async fn handle(
    gateway: &ApiGateway,
    iam: &dyn Authorize,
    lambda: &Arc<dyn LambdaEnv>,
    req: AwsRequest,
) -> Response {
    let result = match req.path().as_slice() {
        ["restapis", api, "resources", id, "methods", verb] if req.method == Method::POST => {
            let call = Call { service: gateway, req: &req, iam, operation: req.method.as_str() };
            match call.authorize(&[format!("arn:aws:apigateway:{}::{}", call.region(), req.raw_path)]) {
                Ok(()) => test_invoke::test_invoke_method(&call, lambda, api, id, verb).await,
                Err(refused) => Err(refused),
            }
        }
        _ => route(gateway, iam, &req),
    };
    rest_json::finish(result, rest_json::ErrorStyle::Message)
}

/// One `match` from the route (method and path) to its handler. API Gateway's IAM actions are the HTTP methods
/// (`apigateway:GET` on `arn:aws:apigateway:<region>::<path>`), so every call is authorized here, before the match.
fn route(gateway: &ApiGateway, iam: &dyn Authorize, req: &AwsRequest) -> AwsResult<Response> {
    let call = Call { service: gateway, req, iam, operation: req.method.as_str() };
    call.authorize(&[format!("arn:aws:apigateway:{}::{}", call.region(), req.raw_path)])?;
    let m = &req.method;
    let path = req.path();
    match path.as_slice() {
        ["restapis"] if m == Method::POST => rest_apis::create_api(&call),
        ["restapis"] if m == Method::GET => rest_apis::get_apis(&call),
        ["restapis", api] if m == Method::GET => rest_apis::get_api(&call, api),
        ["restapis", api] if m == Method::DELETE => rest_apis::delete_api(&call, api),
        ["restapis", api] if m == Method::PATCH => rest_apis::update_api(&call, api),
        ["restapis", api, "resources"] if m == Method::GET => rest_apis::get_resources(&call, api),
        ["restapis", api, "resources", parent] if m == Method::POST => rest_apis::create_resource(&call, api, parent),
        ["restapis", api, "resources", id] if m == Method::GET => rest_apis::get_resource(&call, api, id),
        ["restapis", api, "resources", id] if m == Method::DELETE => rest_apis::delete_resource(&call, api, id),
        ["restapis", api, "resources", id] if m == Method::PATCH => rest_apis::update_resource(&call, api, id),
        ["restapis", api, "resources", id, "methods", verb] => methods::method(&call, api, id, verb),
        ["restapis", api, "resources", id, "methods", verb, "responses", status] => {
            methods::method_response(&call, api, id, verb, status)
        }
        ["restapis", api, "resources", id, "methods", verb, "integration"] => {
            methods::integration(&call, api, id, verb)
        }
        ["restapis", api, "resources", id, "methods", verb, "integration", "responses", status] => {
            methods::integration_response(&call, api, id, verb, status)
        }
        ["restapis", api, "deployments"] if m == Method::POST => deployments::create_deployment(&call, api),
        ["restapis", api, "deployments"] if m == Method::GET => deployments::get_deployments(&call, api),
        ["restapis", api, "deployments", id] if m == Method::GET => deployments::get_deployment(&call, api, id),
        ["restapis", api, "deployments", id] if m == Method::DELETE => deployments::delete_deployment(&call, api, id),
        ["restapis", api, "stages"] if m == Method::POST => deployments::create_stage(&call, api),
        ["restapis", api, "stages"] if m == Method::GET => deployments::get_stages(&call, api),
        ["restapis", api, "stages", name] if m == Method::GET => deployments::get_stage(&call, api, name),
        ["restapis", api, "stages", name] if m == Method::DELETE => deployments::delete_stage(&call, api, name),
        ["restapis", api, "stages", name] if m == Method::PATCH => deployments::update_stage(&call, api, name),
        ["restapis", api, "stages", name, "exports", kind] if m == Method::GET => {
            export::get_export(&call, api, name, kind)
        }
        ["restapis", api, "gatewayresponses"] if m == Method::GET => gateway_responses::get_all(&call, api),
        ["restapis", api, "gatewayresponses", kind] => gateway_responses::one(&call, api, kind),
        ["apikeys"] if m == Method::POST => api_keys::create_key(&call),
        ["apikeys"] if m == Method::GET => api_keys::get_keys(&call),
        ["apikeys", id] if m == Method::GET => api_keys::get_key(&call, id),
        ["apikeys", id] if m == Method::PATCH => api_keys::update_key(&call, id),
        ["apikeys", id] if m == Method::DELETE => api_keys::delete_key(&call, id),
        ["usageplans"] if m == Method::POST => api_keys::create_plan(&call),
        ["usageplans"] if m == Method::GET => api_keys::get_plans(&call),
        ["usageplans", id] if m == Method::GET => api_keys::get_plan(&call, id),
        ["usageplans", id] if m == Method::PATCH => api_keys::update_plan(&call, id),
        ["usageplans", id] if m == Method::DELETE => api_keys::delete_plan(&call, id),
        ["usageplans", id, "keys"] if m == Method::POST => api_keys::create_plan_key(&call, id),
        ["usageplans", id, "keys"] if m == Method::GET => api_keys::get_plan_keys(&call, id),
        ["usageplans", id, "keys", key] if m == Method::GET => api_keys::get_plan_key(&call, id, key),
        ["usageplans", id, "keys", key] if m == Method::DELETE => api_keys::delete_plan_key(&call, id, key),
        ["usageplans", id, "keys", key, "usage"] if m == Method::PATCH => usage::update_usage(&call, id, key),
        ["usageplans", id, "usage"] if m == Method::GET => usage::get_usage(&call, id),
        ["tags", arn] if m == Method::GET => tags::get(&call, arn),
        ["tags", arn] if m == Method::PUT => tags::tag(&call, arn),
        ["tags", arn] if m == Method::DELETE => tags::untag(&call, arn),
        _ => Err(AwsError::unknown_operation("API Gateway", m, &req.raw_path)),
    }
}

/// The API Gateway service of one emulator instance.
#[derive(Debug, Default)]
pub struct ApiGateway {
    stores: crate::store::Scoped<(String, String), Store>,
}

impl ApiGateway {
    pub fn new() -> Self {
        Self::default()
    }

    /// The first `Some` that `f` finds in any account and region (execute-api requests carry no account).
    pub(crate) fn find<T>(&self, mut f: impl FnMut(&str, &str, &Store) -> Option<T>) -> Option<T> {
        self.stores.all(|stores| stores.iter().find_map(|((account, region), store)| f(account, region, store)))
    }

    /// Runs `f` on one account and region's resources. Never held across an `.await`.
    pub(crate) fn with_store<T>(&self, account: &str, region: &str, f: impl FnOnce(&mut Store) -> T) -> T {
        self.stores.with((account.to_owned(), region.to_owned()), f)
    }
}

impl ApiGateway {
    /// Every REST API, stage, API key and usage plan of one account and region with its tags (for the Resource
    /// Groups Tagging API).
    pub fn tagged(&self, account: &str, region: &str) -> Vec<crate::services::tagging::Tagged> {
        self.with_store(account, region, |store| tags::tagged(store, region))
    }
}

impl Service for ApiGateway {
    const IAM_PREFIX: &'static str = "apigateway";
    const PROTOCOL: Protocol = Protocol::RestJson;
}

/// API Gateway's side of every control-plane call: the caller's account and region's resources.
impl Call<'_, ApiGateway> {
    fn store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        self.service.with_store(self.account_id(), self.region(), f)
    }

    /// Runs `f` on one REST API, or NotFound.
    fn api<T>(&self, api_id: &str, f: impl FnOnce(&mut RestApi) -> AwsResult<T>) -> AwsResult<T> {
        let account = self.account_id().to_owned();
        self.store(|store| match store.apis.get_mut(api_id) {
            Some(api) => f(api),
            None => Err(not_found(format!("Invalid API identifier specified {account}:{api_id}"))),
        })
    }
}

/// API Gateway's paging ([`pagination`]): `limit` 1-500 (default 25) and `position`, refused as
/// BadRequestException; the answer is `{"item": [...], "position": ...}`, with `position` only when there is more.
pub(crate) fn paged(call: &Call<'_, ApiGateway>, items: Vec<(String, serde_json::Value)>) -> AwsResult<Response> {
    let page = page(call, items)?;
    let mut out = serde_json::json!({ "item": page.items });
    if let Some(next) = page.next {
        out["position"] = serde_json::json!(next);
    }
    Ok(rest_json::ok(&out))
}

/// The page of `items` (each with its sort key) the request's `limit` and `position` ask for.
pub(crate) fn page<T>(call: &Call<'_, ApiGateway>, items: Vec<(String, T)>) -> AwsResult<pagination::Page<T>> {
    let size = pagination::PageSize { default: 25, max: 500 };
    let refused = |e: pagination::PageError| match e {
        pagination::PageError::Token => bad_request("Invalid position parameter"),
        limit => bad_request(limit.validation_message("limit")),
    };
    let limit = pagination::limit_param(call.req.query_param("limit"), size).map_err(refused)?;
    pagination::page(items, size, limit, call.req.query_param("position")).map_err(refused)
}

pub(crate) fn not_found(message: impl Into<String>) -> AwsError {
    AwsError::not_found("NotFoundException", message)
}

pub(crate) fn conflict(message: impl Into<String>) -> AwsError {
    AwsError::conflict("ConflictException", message)
}

pub(crate) fn bad_request(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("BadRequestException", message)
}

/// Decodes a JSON body, reporting problems as API Gateway's BadRequestException.
pub(crate) fn input<T: serde::de::DeserializeOwned>(req: &AwsRequest) -> AwsResult<T> {
    rest_json::input(req).map_err(|e| bad_request(e.message))
}

/// A new resource id: 10 lowercase alphanumerics, like `a1b2c3d4e5`.
pub(crate) fn new_id() -> String {
    crate::identity::random_lower_alnum(10)
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(crate) fn created(value: &serde_json::Value) -> Response {
    rest_json::respond(StatusCode::CREATED, value)
}
