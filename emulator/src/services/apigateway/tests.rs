//! API Gateway driven through its entry points (`apigateway::handle`, `execute::handle`) with only an `Authorize`
//! and a Lambda environment without functions: a REST API with tags, its tags by ARN, an unknown route, a refused
//! role session; paging; every refusal of the execute-api data plane (429s of usage plans and stages included) as
//! AWS answers it by default, customised with PutGatewayResponse, and through the DEFAULT_4XX / DEFAULT_5XX
//! fallbacks; TestInvokeMethod on a MOCK method.

use std::sync::Arc;

use http::Method;
use serde_json::{Value, json};

use super::ApiGateway;
use crate::protocol::test_request;
use crate::services::Authorize;
use crate::services::lambda::Env;
use crate::services::test_support::{AllowAll as Allow, DenyAll as Deny, account};

/// Lambda with no functions (and no interpreter): invoking anything fails as a missing function does.
fn env() -> Arc<dyn Env> {
    crate::services::lambda::test_support::env(&Allow, None)
}

async fn call(gateway: &ApiGateway, iam: &dyn Authorize, method: Method, path: &str, body: &str) -> (u16, Value) {
    let request = test_request(method, path, body.as_bytes(), account());
    let response = super::handle(gateway, iam, &env(), request).await;
    let status = response.status().as_u16();
    let error = response.headers().get("x-amzn-ErrorType").map(|v| v.to_str().unwrap_or_default().to_owned());
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    let mut json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(code) = error {
        json["__code"] = Value::String(code);
    }
    (status, json)
}

#[tokio::test]
async fn a_rest_api_keeps_its_tags_and_refusals_are_api_gateways() {
    let gateway = ApiGateway::new();
    let (status, api) =
        call(&gateway, &Allow, Method::POST, "/restapis", r#"{"name": "crts", "tags": {"team": "crts"}}"#).await;
    assert_eq!(status, 201, "{api}");
    assert_eq!(api["tags"]["team"], "crts");
    let arn = format!("arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Frestapis%2F{}", api["id"].as_str().expect("an id"));
    let (status, _) =
        call(&gateway, &Allow, Method::PUT, &format!("/tags/{arn}"), r#"{"tags": {"owner": "ops"}}"#).await;
    assert_eq!(status, 204);
    let (status, tags) = call(&gateway, &Allow, Method::GET, &format!("/tags/{arn}"), "").await;
    assert_eq!((status, tags["tags"].clone()), (200, serde_json::json!({"team": "crts", "owner": "ops"})));
    let (status, tags) = call(&gateway, &Allow, Method::DELETE, &format!("/tags/{arn}?tagKeys=team"), "").await;
    assert_eq!(status, 204, "{tags}");

    let (status, unknown) = call(&gateway, &Allow, Method::GET, "/vpclinks", "").await;
    assert_eq!((status, unknown["__code"].as_str()), (404, Some("UnknownOperationException")), "{unknown}");
    let (status, refused) = call(&gateway, &Deny, Method::POST, "/restapis", r#"{"name": "x"}"#).await;
    assert_eq!((status, refused["__code"].as_str()), (403, Some("AccessDeniedException")), "{refused}");
    assert_eq!(refused["message"], "User: x is not authorized to perform: apigateway:POST");
}

#[tokio::test]
async fn get_rest_apis_pages_by_position_and_refusals_are_bad_requests() {
    use crate::services::pagination::test_support::assert_each_once;
    let gateway = ApiGateway::new();
    let mut names = Vec::new();
    for i in 0..5 {
        let (status, api) =
            call(&gateway, &Allow, Method::POST, "/restapis", &format!(r#"{{"name": "api-{i}"}}"#)).await;
        assert_eq!(status, 201, "{api}");
        names.push(format!("api-{i}"));
    }
    let mut pages = Vec::new();
    let mut position: Option<String> = None;
    loop {
        let path = match &position {
            None => "/restapis?limit=2".to_owned(),
            Some(p) => format!("/restapis?limit=2&position={p}"),
        };
        let (status, page) = call(&gateway, &Allow, Method::GET, &path, "").await;
        assert_eq!(status, 200, "{page}");
        let items = page["item"].as_array().expect("item").iter();
        pages.push(items.map(|a| a["name"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>());
        if pages.len() == 1 {
            // Ids are random: the new API lands before or after the position, and nothing repeats either way.
            call(&gateway, &Allow, Method::POST, "/restapis", r#"{"name": "late"}"#).await;
        }
        match page["position"].as_str() {
            Some(next) => position = Some(next.to_owned()),
            None => break,
        }
    }
    let expected: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_each_once(&pages, &expected, 2);

    for path in ["/restapis?position=garbage", "/restapis?limit=0", "/restapis?limit=501", "/apikeys?limit=x"] {
        let (status, refused) = call(&gateway, &Allow, Method::GET, path, "").await;
        assert_eq!((status, refused["__code"].as_str()), (400, Some("BadRequestException")), "{path}: {refused}");
    }
}

/// A control-plane call that must succeed.
async fn ok(gateway: &ApiGateway, method: Method, path: &str, body: Value) -> Value {
    let (status, out) = call(gateway, &Allow, method.clone(), path, &body.to_string()).await;
    assert!((200..300).contains(&status), "{method} {path}: {status} {out}");
    out
}

/// An execute-api request: (status, x-amzn-ErrorType, a custom header, body).
async fn invoke(
    gateway: &ApiGateway,
    api: &str,
    verb: Method,
    path: &str,
    key: Option<&str>,
) -> (u16, String, String, String) {
    let mut request = test_request(verb, path, b"", crate::identity::Caller::Anonymous);
    if let Some(key) = key {
        request.headers.insert("x-api-key", key.parse().expect("a header value"));
    }
    let response = super::execute::handle(gateway, &env(), api, "prod", request).await;
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap_or_default().to_owned());
    let (status, error_type, custom) = (response.status().as_u16(), header("x-amzn-ErrorType"), header("x-custom"));
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, error_type.unwrap_or_default(), custom.unwrap_or_default(), String::from_utf8_lossy(&body).into_owned())
}

/// Adds `path_part` under the root with `verb`, its integration and a 200 integration response.
async fn method(
    gateway: &ApiGateway,
    api: &str,
    root: &str,
    path_part: &str,
    verb: &str,
    key: bool,
    integration: Value,
) -> String {
    let resource =
        ok(gateway, Method::POST, &format!("/restapis/{api}/resources/{root}"), json!({"pathPart": path_part})).await;
    let id = resource["id"].as_str().expect("an id").to_owned();
    let base = format!("/restapis/{api}/resources/{id}/methods/{verb}");
    ok(gateway, Method::PUT, &base, json!({"authorizationType": "NONE", "apiKeyRequired": key})).await;
    ok(gateway, Method::PUT, &format!("{base}/integration"), integration).await;
    ok(
        gateway,
        Method::PUT,
        &format!("{base}/integration/responses/200"),
        json!({"responseTemplates": {"application/json": "{\"ok\": true}"}}),
    )
    .await;
    id
}

/// An API whose data plane can answer each of its refusals: `/items` (MOCK, key required), `/broken` (MOCK whose
/// status matches no integration response), `/gone` (a Lambda proxy to a function that does not exist), and keys
/// `quota-key-...` (quota 1, already used), `throttle-key-...` (burst 0).
async fn refusing_api(gateway: &ApiGateway) -> String {
    let api = ok(gateway, Method::POST, "/restapis", json!({"name": "refusals"})).await;
    let (id, root) =
        (api["id"].as_str().expect("id").to_owned(), api["rootResourceId"].as_str().expect("root").to_owned());
    let mock = json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}});
    method(gateway, &id, &root, "items", "GET", true, mock).await;
    let broken = json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 500}"}});
    let broken_id = method(gateway, &id, &root, "broken", "GET", false, broken).await;
    // Only a 200 response, selected by pattern: status 500 matches nothing and there is no default.
    ok(
        gateway,
        Method::PUT,
        &format!("/restapis/{id}/resources/{broken_id}/methods/GET/integration/responses/200"),
        json!({"selectionPattern": "200"}),
    )
    .await;
    let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:gone/invocations";
    method(gateway, &id, &root, "gone", "POST", false, json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": uri}))
        .await;
    ok(gateway, Method::POST, &format!("/restapis/{id}/deployments"), json!({"stageName": "prod"})).await;
    for (name, plan) in [
        ("quota", json!({"quota": {"limit": 1, "period": "DAY"}})),
        ("throttle", json!({"throttle": {"burstLimit": 0, "rateLimit": 0.0}})),
        ("ok", json!({})),
    ] {
        let mut plan = plan;
        plan["name"] = json!(name);
        plan["apiStages"] = json!([{"apiId": id, "stage": "prod"}]);
        let plan = ok(gateway, Method::POST, "/usageplans", plan).await;
        let value = format!("{name}-key-0123456789abcdefghij");
        let key = ok(gateway, Method::POST, "/apikeys", json!({"name": name, "enabled": true, "value": value})).await;
        let path = format!("/usageplans/{}/keys", plan["id"].as_str().expect("plan id"));
        ok(gateway, Method::POST, &path, json!({"keyId": key["id"], "keyType": "API_KEY"})).await;
    }
    let (status, ..) = invoke(gateway, &id, Method::GET, "/items", Some("quota-key-0123456789abcdefghij")).await;
    assert_eq!(status, 200, "the quota's one request");
    id
}

/// (gateway response type, verb, path, API key, default status, x-amzn-ErrorType, default body).
type Refusal = (&'static str, &'static str, &'static str, Option<&'static str>, u16, &'static str, &'static str);

/// Each refusal the data plane produces: its gateway response type, its request, and AWS's default answer.
const REFUSALS: &[Refusal] = &[
    (
        "MISSING_AUTHENTICATION_TOKEN",
        "GET",
        "/nowhere",
        None,
        403,
        "MissingAuthenticationTokenException",
        r#"{"message":"Missing Authentication Token"}"#,
    ),
    (
        "INVALID_API_KEY",
        "GET",
        "/items",
        Some("wrong-key-0123456789abcdefghij"),
        403,
        "ForbiddenException",
        r#"{"message":"Forbidden"}"#,
    ),
    (
        "QUOTA_EXCEEDED",
        "GET",
        "/items",
        Some("quota-key-0123456789abcdefghij"),
        429,
        "LimitExceededException",
        r#"{"message":"Limit Exceeded"}"#,
    ),
    (
        "THROTTLED",
        "GET",
        "/items",
        Some("throttle-key-0123456789abcdefghij"),
        429,
        "TooManyRequestsException",
        r#"{"message":"Too Many Requests"}"#,
    ),
    (
        "API_CONFIGURATION_ERROR",
        "GET",
        "/broken",
        None,
        500,
        "InternalServerErrorException",
        r#"{"message": "Internal server error"}"#,
    ),
    (
        "API_CONFIGURATION_ERROR",
        "POST",
        "/gone",
        None,
        500,
        "InternalServerErrorException",
        r#"{"message": "Internal server error"}"#,
    ),
];

async fn redeploy(gateway: &ApiGateway, api: &str) {
    ok(gateway, Method::POST, &format!("/restapis/{api}/deployments"), json!({"stageName": "prod"})).await;
}

#[tokio::test]
async fn every_data_plane_refusal_is_awss_default_then_its_customised_gateway_response_then_the_family_fallback() {
    let gateway = ApiGateway::new();
    let api = refusing_api(&gateway).await;
    let (status, ..) = invoke(&gateway, &api, Method::GET, "/items", Some("ok-key-0123456789abcdefghij")).await;
    assert_eq!(status, 200, "a key within its plan passes");
    for &(kind, verb, path, key, status, error_type, body) in REFUSALS {
        let verb = Method::from_bytes(verb.as_bytes()).expect("a verb");
        let got = invoke(&gateway, &api, verb.clone(), path, key).await;
        assert_eq!(got, (status, error_type.to_owned(), String::new(), body.to_owned()), "{kind} by default");

        let custom = json!({
            "statusCode": "418",
            "responseParameters": {"gatewayresponse.header.x-custom": "'yes'"},
            "responseTemplates": {"application/json": "{\"kind\": \"$context.error.responseType\", \"says\": \"$context.error.message\"}"},
        });
        ok(&gateway, Method::PUT, &format!("/restapis/{api}/gatewayresponses/{kind}"), custom).await;
        redeploy(&gateway, &api).await;
        let message = serde_json::from_str::<Value>(body).expect("json")["message"].clone();
        let expected = json!({"kind": kind, "says": message}).to_string();
        let (got_status, got_type, got_header, got_body) = invoke(&gateway, &api, verb.clone(), path, key).await;
        let got_body: Value = serde_json::from_str(&got_body).expect("the template's JSON");
        assert_eq!(
            (got_status, got_type.as_str(), got_header.as_str(), got_body.to_string()),
            (418, error_type, "yes", expected),
            "{kind} customised"
        );

        ok(&gateway, Method::DELETE, &format!("/restapis/{api}/gatewayresponses/{kind}"), json!({})).await;
        let family = if status >= 500 { "DEFAULT_5XX" } else { "DEFAULT_4XX" };
        let fallback = json!({"responseParameters": {"gatewayresponse.header.x-custom": "'family'"}});
        ok(&gateway, Method::PUT, &format!("/restapis/{api}/gatewayresponses/{family}"), fallback).await;
        redeploy(&gateway, &api).await;
        let got = invoke(&gateway, &api, verb.clone(), path, key).await;
        assert_eq!(
            got,
            (status, error_type.to_owned(), "family".to_owned(), body.to_owned()),
            "{kind} through {family}"
        );
        ok(&gateway, Method::DELETE, &format!("/restapis/{api}/gatewayresponses/{family}"), json!({})).await;
        redeploy(&gateway, &api).await;
    }
}

/// Every [`GatewayError`](super::execute::GatewayError), the 502 of a failed or malformed Lambda answer included
/// (which needs a function to reach end to end: tests/boto3/apigateway_usage.py), answers as its gateway response.
#[test]
fn each_gateway_error_answers_through_its_type_or_family() {
    use super::execute::{GatewayError, gateway_error};
    use super::model::{GatewayResponse, Snapshot};
    for error in GatewayError::ALL {
        let (kind, status, error_type, ..) = error.parts();
        let response = |kind: &str| GatewayResponse {
            response_type: kind.to_owned(),
            status_code: Some("599".into()),
            response_parameters: [("gatewayresponse.header.x-type".to_owned(), format!("'{kind}'"))].into(),
            response_templates: Default::default(),
        };
        let family = if status >= 500 { "DEFAULT_5XX" } else { "DEFAULT_4XX" };
        for (set, answers) in [(vec![kind, family], kind), (vec![family], family)] {
            let snapshot = Snapshot {
                resources: Vec::new(),
                gateway_responses: set.iter().map(|k| ((*k).to_owned(), response(k))).collect(),
            };
            let answer = gateway_error(Some(&snapshot), error);
            assert_eq!(answer.status(), 599, "{error:?}");
            assert_eq!(answer.headers()["x-type"], answers, "{error:?}");
            assert_eq!(answer.headers()["x-amzn-ErrorType"], error_type, "{error:?}");
        }
        assert_eq!(gateway_error(None, error).status().as_u16(), status, "{error:?}");
    }
}

#[tokio::test]
async fn usage_refusals_and_checks_are_awss() {
    let gateway = ApiGateway::new();
    let api = refusing_api(&gateway).await;
    let plans = ok(&gateway, Method::GET, "/usageplans", json!({})).await;
    let quota_plan =
        plans["item"].as_array().expect("plans").iter().find(|p| p["name"] == "quota").expect("the quota plan");
    let plan = quota_plan["id"].as_str().expect("id");
    let keys = ok(&gateway, Method::GET, &format!("/usageplans/{plan}/keys"), json!({})).await;
    let key = keys["item"][0]["id"].as_str().expect("a key").to_owned();
    let today = chrono::Utc::now().date_naive();
    let usage =
        ok(&gateway, Method::GET, &format!("/usageplans/{plan}/usage?startDate={today}&endDate={today}"), json!({}))
            .await;
    assert_eq!(usage["values"], json!({ key.clone(): [[1, 0]] }), "{usage}");
    let cases: &[(Method, String, Value, u16, &str)] = &[
        (Method::GET, format!("/usageplans/{plan}/usage?startDate={today}"), json!({}), 400, "BadRequestException"),
        (
            Method::GET,
            format!("/usageplans/{plan}/usage?startDate=2026-13-01&endDate={today}"),
            json!({}),
            400,
            "BadRequestException",
        ),
        (
            Method::GET,
            format!("/usageplans/{plan}/usage?startDate=2020-01-01&endDate=2026-01-01"),
            json!({}),
            400,
            "BadRequestException",
        ),
        (
            Method::GET,
            format!("/usageplans/{plan}/usage?startDate={today}&endDate={today}&keyId=nope"),
            json!({}),
            404,
            "NotFoundException",
        ),
        (
            Method::GET,
            format!("/usageplans/nope/usage?startDate={today}&endDate={today}"),
            json!({}),
            404,
            "NotFoundException",
        ),
        (
            Method::PATCH,
            format!("/usageplans/{plan}/keys/{key}/usage"),
            json!({"patchOperations": [{"op": "replace", "path": "/remaining", "value": "-1"}]}),
            400,
            "BadRequestException",
        ),
        (
            Method::PATCH,
            format!("/usageplans/{plan}/keys/{key}/usage"),
            json!({"patchOperations": [{"op": "replace", "path": "/used", "value": "1"}]}),
            400,
            "BadRequestException",
        ),
        (
            Method::PATCH,
            format!("/usageplans/{plan}/keys/nope/usage"),
            json!({"patchOperations": []}),
            404,
            "NotFoundException",
        ),
        (
            Method::POST,
            "/usageplans".into(),
            json!({"name": "x", "quota": {"limit": 5, "period": "HOUR"}}),
            400,
            "BadRequestException",
        ),
        (
            Method::POST,
            "/usageplans".into(),
            json!({"name": "x", "quota": {"limit": 0, "period": "DAY"}}),
            400,
            "BadRequestException",
        ),
        (
            Method::POST,
            "/usageplans".into(),
            json!({"name": "x", "throttle": {"burstLimit": -1}}),
            400,
            "BadRequestException",
        ),
        (
            Method::POST,
            "/usageplans".into(),
            json!({"name": "x", "apiStages": [{"apiId": api, "stage": "prod", "throttle": {"items": {"burstLimit": 1}}}]}),
            400,
            "BadRequestException",
        ),
        (
            Method::PATCH,
            format!("/restapis/{api}/stages/prod"),
            json!({"patchOperations": [{"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "fast"}]}),
            400,
            "BadRequestException",
        ),
        (
            Method::PATCH,
            format!("/restapis/{api}/stages/prod"),
            json!({"patchOperations": [{"op": "replace", "path": "/*/*/caching/enabled", "value": "true"}]}),
            400,
            "BadRequestException",
        ),
    ];
    for (verb, path, body, status, code) in cases {
        let (got, out) = call(&gateway, &Allow, verb.clone(), path, &body.to_string()).await;
        assert_eq!((got, out["__code"].as_str()), (*status, Some(*code)), "{verb} {path}: {out}");
    }
    // UpdateUsage gives the key one more request today; a stage-wide burst of 0 then refuses every request.
    let patch = json!({"patchOperations": [{"op": "replace", "path": "/remaining", "value": "1"}]});
    let updated = ok(&gateway, Method::PATCH, &format!("/usageplans/{plan}/keys/{key}/usage"), patch).await;
    assert_eq!(updated["values"][&key].as_array().and_then(|d| d.last()), Some(&json!([1, 1])), "{updated}");
    let stage_throttle =
        json!({"patchOperations": [{"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "0"}]});
    ok(&gateway, Method::PATCH, &format!("/restapis/{api}/stages/prod"), stage_throttle).await;
    let (status, error_type, ..) = invoke(&gateway, &api, Method::GET, "/broken", None).await;
    assert_eq!(
        (status, error_type.as_str()),
        (429, "TooManyRequestsException"),
        "the stage's throttle applies without a key"
    );
    let (status, ..) = invoke(&gateway, &api, Method::GET, "/items", Some("quota-key-0123456789abcdefghij")).await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn test_invoke_method_runs_the_live_method_without_key_or_deployment() {
    let gateway = ApiGateway::new();
    let api = ok(&gateway, Method::POST, "/restapis", json!({"name": "console"})).await;
    let (api, root) =
        (api["id"].as_str().expect("id").to_owned(), api["rootResourceId"].as_str().expect("root").to_owned());
    let mock = json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}});
    let id = method(&gateway, &api, &root, "items", "GET", true, mock).await;
    let path = format!("/restapis/{api}/resources/{id}/methods/GET");
    let out = ok(
        &gateway,
        Method::POST,
        &path,
        json!({"pathWithQueryString": "/items?page=2", "headers": {"x-api-key": "secret-value-1234"}}),
    )
    .await;
    assert_eq!((out["status"].clone(), out["body"].clone()), (json!(200), json!("{\"ok\": true}")), "{out}");
    assert_eq!(out["headers"]["content-type"], "application/json", "{out}");
    let log = out["log"].as_str().expect("a log");
    assert!(log.starts_with("Execution log for request req-1\n"), "{log}");
    for line in [
        "Method request query string: {page=2}",
        "Endpoint request body after transformations: {\"statusCode\": 200}",
        "Method completed with status: 200",
    ] {
        assert!(log.contains(line), "{line} in {log}");
    }
    assert!(!log.contains("secret-value-1234"), "API keys are masked: {log}");
    let cases = [
        (format!("/restapis/{api}/resources/nope/methods/GET"), json!({}), 404),
        (format!("/restapis/{api}/resources/{id}/methods/POST"), json!({}), 404),
        (format!("/restapis/nope/resources/{id}/methods/GET"), json!({}), 404),
        (path.clone(), json!({"pathWithQueryString": "/other/path"}), 400),
        (path.clone(), json!({"headers": {"bad header": "x"}}), 400),
    ];
    for (path, body, status) in cases {
        let (got, out) = call(&gateway, &Allow, Method::POST, &path, &body.to_string()).await;
        assert_eq!(got, status, "{path} {body}: {out}");
    }
    let (status, refused) = call(&gateway, &Deny, Method::POST, &path, "{}").await;
    assert_eq!((status, refused["__code"].as_str()), (403, Some("AccessDeniedException")), "{refused}");
}
