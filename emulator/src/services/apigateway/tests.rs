//! API Gateway's control plane driven through its entry point (`apigateway::handle`) with only an `Authorize`:
//! a REST API with tags, its tags by ARN, an unknown route, a refused role session.

use http::Method;
use serde_json::Value;

use super::ApiGateway;
use crate::protocol::test_request;
use crate::services::Authorize;
use crate::services::test_support::{AllowAll as Allow, DenyAll as Deny, account};

async fn call(gateway: &ApiGateway, iam: &dyn Authorize, method: Method, path: &str, body: &str) -> (u16, Value) {
    let response = super::handle(gateway, iam, test_request(method, path, body.as_bytes(), account())).await;
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
