//! The Lambda proxy integration (REST API, payload v1.0): the event API Gateway sends to the function, and
//! how the function's answer becomes the HTTP response.
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html>

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::protocol::AwsRequest;

/// What the event needs to know besides the request itself.
pub(crate) struct EventContext<'a> {
    pub account_id: &'a str,
    pub api_id: &'a str,
    pub stage: &'a str,
    pub deployment_id: &'a str,
    pub resource_id: &'a str,
    pub resource_path: &'a str,
    pub path_parameters: &'a BTreeMap<String, String>,
    pub stage_variables: &'a BTreeMap<String, String>,
    pub request_id: &'a str,
    pub extended_request_id: &'a str,
    pub api_key: Option<(&'a str, &'a str)>,
    pub host: &'a str,
}

/// The v1.0 proxy event, member for member as AWS sends it (absent collections are `null`, not `{}`).
pub(crate) fn event(req: &AwsRequest, ctx: &EventContext<'_>) -> Value {
    let path = if req.raw_path.is_empty() { "/".to_owned() } else { req.raw_path.clone() };
    let mut headers = Map::new();
    let mut multi_headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &req.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let name = canonical_header(name.as_str());
        headers.insert(name.clone(), json!(value));
        multi_headers.entry(name).or_default().push(value);
    }
    let mut query = Map::new();
    let mut multi_query: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &req.query {
        query.insert(name.clone(), json!(value));
        multi_query.entry(name.clone()).or_default().push(value.clone());
    }
    let or_null = |empty: bool, value: Value| if empty { Value::Null } else { value };
    let now = chrono::Utc::now();
    let user_agent = req.header("user-agent");
    let source_ip = req.header("x-forwarded-for").and_then(|f| f.split(',').next()).unwrap_or("127.0.0.1").trim();
    let body = (!req.body.is_empty()).then(|| String::from_utf8_lossy(&req.body).into_owned());
    json!({
        "resource": ctx.resource_path,
        "path": path,
        "httpMethod": req.method.as_str(),
        "headers": or_null(headers.is_empty(), Value::Object(headers)),
        "multiValueHeaders": or_null(multi_headers.is_empty(), json!(multi_headers)),
        "queryStringParameters": or_null(query.is_empty(), Value::Object(query)),
        "multiValueQueryStringParameters": or_null(multi_query.is_empty(), json!(multi_query)),
        "pathParameters": or_null(ctx.path_parameters.is_empty(), json!(ctx.path_parameters)),
        "stageVariables": or_null(ctx.stage_variables.is_empty(), json!(ctx.stage_variables)),
        "requestContext": {
            "resourceId": ctx.resource_id,
            "resourcePath": ctx.resource_path,
            "httpMethod": req.method.as_str(),
            "extendedRequestId": ctx.extended_request_id,
            "requestTime": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "path": format!("/{}{path}", ctx.stage),
            "accountId": ctx.account_id,
            "protocol": "HTTP/1.1",
            "stage": ctx.stage,
            "domainPrefix": ctx.host.split('.').next().unwrap_or(ctx.host),
            "requestTimeEpoch": now.timestamp_millis(),
            "requestId": ctx.request_id,
            "identity": {
                "cognitoIdentityPoolId": null,
                "accountId": null,
                "cognitoIdentityId": null,
                "caller": null,
                "apiKey": ctx.api_key.map(|(value, _)| value),
                "apiKeyId": ctx.api_key.map(|(_, id)| id),
                "sourceIp": source_ip,
                "principalOrgId": null,
                "accessKey": null,
                "cognitoAuthenticationType": null,
                "cognitoAuthenticationProvider": null,
                "userArn": null,
                "userAgent": user_agent,
                "user": null,
            },
            "domainName": ctx.host,
            "deploymentId": ctx.deployment_id,
            "apiId": ctx.api_id,
        },
        "body": body,
        "isBase64Encoded": false,
    })
}

/// `content-type` → `Content-Type`, as API Gateway forwards header names.
fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A function answer API Gateway can turn into an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProxyResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Validates and maps the function's answer; `None` is API Gateway's 502 "Malformed Lambda proxy response".
pub(crate) fn map_response(payload: &[u8]) -> Option<ProxyResponse> {
    let Value::Object(answer) = serde_json::from_slice::<Value>(payload).ok()? else { return None };
    const KNOWN: &[&str] = &["statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"];
    if answer.keys().any(|k| !KNOWN.contains(&k.as_str())) {
        return None;
    }
    let status = match answer.get("statusCode")? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    let status = u16::try_from(status).ok().filter(|s| (100..=599).contains(s))?;
    let mut headers = Vec::new();
    match answer.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, value) in map {
                headers.push((name.clone(), scalar(value)?));
            }
        }
        Some(_) => return None,
    }
    match answer.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, values) in map {
                let Value::Array(values) = values else { return None };
                for value in values {
                    headers.push((name.clone(), scalar(value)?));
                }
            }
        }
        Some(_) => return None,
    }
    let base64 = match answer.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return None,
    };
    let body = match answer.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if base64 => base64::engine::general_purpose::STANDARD.decode(s).ok()?,
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(_) => return None,
    };
    Some(ProxyResponse { status, headers, body })
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each case of aws-reference.md's "AWS_PROXY output validation".
    #[test]
    fn proxy_output_validation() {
        let ok = |payload: &str| {
            map_response(payload.as_bytes()).map(|r| (r.status, String::from_utf8_lossy(&r.body).into_owned()))
        };
        assert_eq!(ok(r#"{"statusCode":200}"#), Some((200, String::new())));
        assert_eq!(ok(r#"{"statusCode":"201","body":"created"}"#), Some((201, "created".into())));
        assert_eq!(ok(r#"{}"#), None);
        assert_eq!(ok(r#"{"statusCode":200,"extra":1}"#), None);
        assert_eq!(ok(r#"{"statusCode":"abc"}"#), None);
        assert_eq!(ok(r#""just a string""#), None);
        assert_eq!(ok(r#"{"statusCode":200,"multiValueHeaders":{"a":"not-a-list"}}"#), None);
        assert_eq!(ok(r#"{"status":200}"#), None);
        assert_eq!(ok(r#"{"statusCode":200,"body":{"not":"a string"}}"#), None);
        assert_eq!(ok(r#"{"statusCode":200,"body":"aGk=","isBase64Encoded":true}"#), Some((200, "hi".into())));
        assert_eq!(ok("not json"), None);
        let merged = map_response(br#"{"statusCode":200,"headers":{"a":"1"},"multiValueHeaders":{"b":["2","3"]}}"#)
            .expect("valid");
        assert_eq!(merged.headers, vec![("a".into(), "1".into()), ("b".into(), "2".into()), ("b".into(), "3".into())]);
    }

    #[test]
    fn header_names_are_canonical() {
        assert_eq!(canonical_header("content-type"), "Content-Type");
        assert_eq!(canonical_header("x-api-key"), "X-Api-Key");
    }
}
