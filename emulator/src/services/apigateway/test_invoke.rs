//! TestInvokeMethod: the console's Test button. Runs one method of the API as it is now (no deployment needed)
//! through the data plane's own integration code ([`execute::integrate`]), without the API key check, usage plans
//! or throttles, and answers what the client would get with API Gateway's execution log.
//! <https://docs.aws.amazon.com/apigateway/latest/api/API_TestInvokeMethod.html>
//!
//! As on AWS, the Lambda proxy event names the stage `test-invoke-stage` and the deployment
//! `test-invoke-deployment-id`, and the request's `stageVariables` stand in for a stage's. Deviation: the log has
//! the lines this emulator can write truthfully (the request, the endpoint request and response, the method
//! response), not every line AWS writes.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::json;

use super::execute::{self, ExecutionLog, Run, Target};
use super::{ApiGateway, bad_request, input, not_found};
use crate::protocol::{AwsRequest, AwsResult, Response, rest_json};
use crate::services::Call;
use crate::services::lambda::Env as LambdaEnv;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestInvokeInput {
    path_with_query_string: Option<String>,
    body: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    multi_value_headers: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    stage_variables: BTreeMap<String, String>,
}

/// The most a test invocation's answer may hold (Lambda's synchronous payload limit is 6 MB).
const MAX_BODY: usize = 10 * 1024 * 1024;

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_TestInvokeMethod.html>
pub(super) async fn test_invoke_method(
    call: &Call<'_, ApiGateway>,
    lambda: &Arc<dyn LambdaEnv>,
    api_id: &str,
    resource_id: &str,
    verb: &str,
) -> AwsResult<Response> {
    let input: TestInvokeInput = if call.req.body.is_empty() { TestInvokeInput::default() } else { input(call.req)? };
    let region = call.region().to_owned();
    let account_id = call.account_id().to_owned();
    let (target, resource, method) = call.api(api_id, |api| {
        let resource =
            api.resources.get(resource_id).ok_or_else(|| not_found("Invalid Resource identifier specified"))?;
        let method = resource.methods.get(verb).ok_or_else(|| not_found("Invalid Method identifier specified"))?;
        let target = Target {
            account_id,
            region,
            api_id: api_id.to_owned(),
            stage: "test-invoke-stage".to_owned(),
            deployment_id: "test-invoke-deployment-id".to_owned(),
            snapshot: Arc::new(super::deployments::snapshot(api)),
            variables: input.stage_variables.clone(),
            throttle: None,
        };
        Ok((target, resource.clone(), method.clone()))
    })?;
    let path_with_query = input.path_with_query_string.clone().unwrap_or_else(|| resource.path.clone());
    let (path, query) = path_with_query.split_once('?').unwrap_or((path_with_query.as_str(), ""));
    let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
    let segments = crate::protocol::decode_segments(&path);
    let path_parameters = execute::path_parameters(&resource, &segments)
        .ok_or_else(|| bad_request(format!("The path {path} does not match the resource's path {}", resource.path)))?;
    let mut headers = HeaderMap::new();
    let single = input.headers.iter();
    let multi = input.multi_value_headers.iter().flat_map(|(k, vs)| vs.iter().map(move |v| (k, v)));
    for (name, value) in single.chain(multi) {
        let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::from_str(value)) else {
            return Err(bad_request(format!("Invalid header: {name}")));
        };
        headers.append(name, value);
    }
    let method_verb = http::Method::from_bytes(verb.as_bytes()).unwrap_or(http::Method::GET);
    let req = AwsRequest {
        method: method_verb,
        segments,
        raw_path: path,
        query: crate::protocol::parse_query(query),
        headers,
        body: Bytes::from(input.body.clone().unwrap_or_default()),
        ctx: call.req.ctx.clone(),
    };
    let request_id = call.request_id().to_owned();
    let apigw_id = format!("{}=", crate::identity::random_alnum(15));
    let run = Run {
        target: &target,
        resource: &resource,
        path_parameters: &path_parameters,
        method: &method,
        request_id: &request_id,
        apigw_id: &apigw_id,
    };
    let mut log = ExecutionLog::default();
    let started = std::time::Instant::now();
    let response = match execute::integrate(lambda, &run, &req, None, &mut log).await {
        Ok(response) => response,
        Err(error) => {
            log.line(format!("Method completed with status: {}", error.parts().1));
            execute::gateway_error(Some(&target.snapshot), error)
        }
    };
    let latency = started.elapsed().as_millis() as u64;
    let status = response.status().as_u16();
    let mut single = BTreeMap::new();
    let mut multi: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in response.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let name = name.as_str().to_owned();
        single.insert(name.clone(), value.clone());
        multi.entry(name).or_default().push(value);
    }
    let body = axum::body::to_bytes(response.into_body(), MAX_BODY)
        .await
        .map_err(|e| crate::protocol::AwsError::internal(format!("reading the test invocation's answer: {e}")))?;
    Ok(rest_json::ok(&json!({
        "status": status,
        "body": String::from_utf8_lossy(&body),
        "headers": single,
        "multiValueHeaders": multi,
        "log": log.text(&request_id),
        "latency": latency,
    })))
}
