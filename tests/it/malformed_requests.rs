//! A malformed request of each protocol gets an AWS-shaped 4xx (never a 5xx, never a panic), and the
//! emulator keeps serving afterwards.

use rstest::rstest;

use crate::support::emulator;

/// A SigV4 Authorization header for `service`: the emulator routes by its credential scope.
fn auth(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=test/20261124/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
    )
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    /// awsQuery: `<ErrorResponse><Error><Code>...`.
    QueryXml,
    /// rest-json: `x-amzn-ErrorType` + JSON body with a message.
    RestJson,
}

#[rstest]
#[case::iam_no_action("iam", "POST", "/", "Version=2010-05-08", Shape::QueryXml, "MissingAction")]
#[case::iam_unknown_action(
    "iam",
    "POST",
    "/",
    "Action=MakeCoffee&Version=2010-05-08",
    Shape::QueryXml,
    "InvalidAction"
)]
#[case::iam_missing_member(
    "iam",
    "POST",
    "/",
    "Action=CreateRole&Version=2010-05-08",
    Shape::QueryXml,
    "ValidationError"
)]
#[case::iam_bad_policy(
    "iam",
    "POST",
    "/",
    "Action=CreatePolicy&PolicyName=p&PolicyDocument=%7Bnot-json&Version=2010-05-08",
    Shape::QueryXml,
    "MalformedPolicyDocument"
)]
#[case::sts_unknown_action("sts", "POST", "/", "Action=Nope&Version=2011-06-15", Shape::QueryXml, "InvalidAction")]
#[case::lambda_bad_json("lambda", "POST", "/2015-03-31/functions", "{not json", Shape::RestJson, "")]
#[case::lambda_wrong_type("lambda", "POST", "/2015-03-31/functions", r#"{"FunctionName": 42}"#, Shape::RestJson, "")]
#[case::lambda_unknown_route("lambda", "GET", "/2015-03-31/nothing-here", "", Shape::RestJson, "")]
#[case::batch_bad_json("batch", "POST", "/v1/submitjob", "[1,2", Shape::RestJson, "")]
#[case::batch_missing_members("batch", "POST", "/v1/submitjob", "{}", Shape::RestJson, "")]
#[case::apigateway_bad_json("apigateway", "POST", "/restapis", "{\"name\":", Shape::RestJson, "")]
#[case::apigateway_bad_patch(
    "apigateway",
    "PATCH",
    "/apikeys/nope",
    r#"{"patchOperations": "replace"}"#,
    Shape::RestJson,
    ""
)]
#[case::unknown_service("dynamodb", "POST", "/", "{}", Shape::RestJson, "UnrecognizedServiceException")]
#[tokio::test]
async fn malformed_requests_get_aws_shaped_client_errors(
    #[case] service: &str,
    #[case] method: &str,
    #[case] path: &str,
    #[case] body: &str,
    #[case] shape: Shape,
    #[case] code: &str,
) {
    let emulator = emulator().await;
    let http = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("valid method");
    let response = http
        .request(method, format!("{}{path}", emulator.endpoint()))
        .header("Authorization", auth(service))
        .header(
            "Content-Type",
            if matches!(shape, Shape::QueryXml) { "application/x-www-form-urlencoded" } else { "application/json" },
        )
        .body(body.to_owned())
        .send()
        .await
        .expect("the emulator answers");
    let status = response.status();
    let error_type = response.headers().get("x-amzn-ErrorType").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let text = response.text().await.expect("a body");
    assert!(status.is_client_error(), "{service} {path}: expected 4xx, got {status}: {text}");
    match shape {
        Shape::QueryXml => {
            assert!(text.contains("<ErrorResponse"), "awsQuery error body: {text}");
            assert!(text.contains(&format!("<Code>{code}</Code>")), "code {code} in {text}");
        }
        Shape::RestJson => {
            let error_type = error_type.unwrap_or_else(|| panic!("x-amzn-ErrorType on {service} {path}: {text}"));
            if !code.is_empty() {
                assert_eq!(error_type, code);
            }
            let json: serde_json::Value = serde_json::from_str(&text).expect("a JSON error body");
            assert!(json.get("message").or_else(|| json.get("Message")).is_some(), "a message in {text}");
        }
    }
    // Still serving.
    let health = http.get(format!("{}/_crts/health", emulator.endpoint())).send().await.expect("alive");
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn bodies_that_are_not_utf8_or_not_json_objects_are_refused_cleanly() {
    let emulator = emulator().await;
    let http = reqwest::Client::new();
    for (service, path, body) in [
        ("iam", "/", vec![0xff, 0xfe, 0x00]),
        ("lambda", "/2015-03-31/functions", vec![0xff, 0xfe]),
        ("batch", "/v1/createjobqueue", b"\"a string\"".to_vec()),
        ("apigateway", "/restapis", b"null".to_vec()),
    ] {
        let response = http
            .post(format!("{}{path}", emulator.endpoint()))
            .header("Authorization", auth(service))
            .body(body)
            .send()
            .await
            .expect("the emulator answers");
        assert!(response.status().is_client_error(), "{service}: {}", response.status());
    }
}
