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

/// S3 (restXml), ECR (awsJson1.1) and the registry (OCI JSON errors) refuse malformed input in their own shapes:
/// `(what, method, path, extra headers, body, status, text the error body must hold)`.
#[tokio::test]
async fn s3_ecr_and_registry_refuse_malformed_input_in_their_own_shapes() {
    let emulator = emulator().await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", emulator.endpoint());
    let created = http.put(url("/malformed")).header("Authorization", auth("s3")).send().await.expect("answers");
    assert_eq!(created.status(), 200, "CreateBucket");
    let ecr_token = http
        .post(url("/"))
        .header("Authorization", auth("ecr"))
        .header("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken")
        .header("Content-Type", "application/x-amz-json-1.1")
        .body("{}")
        .send()
        .await
        .expect("answers")
        .json::<serde_json::Value>()
        .await
        .expect("JSON");
    let basic = format!("Basic {}", ecr_token["authorizationData"][0]["authorizationToken"].as_str().expect("token"));
    let ecr = |operation: &str| format!("AmazonEC2ContainerRegistry_V20150921.{operation}");
    let repository = http
        .post(url("/"))
        .header("Authorization", auth("ecr"))
        .header("X-Amz-Target", ecr("CreateRepository"))
        .header("Content-Type", "application/x-amz-json-1.1")
        .body(r#"{"repositoryName": "crts"}"#)
        .send()
        .await
        .expect("answers");
    assert_eq!(repository.status(), 200, "CreateRepository");
    let cases: Vec<(&str, &str, &str, Vec<(&str, String)>, Vec<u8>, u16, &str)> = vec![
        (
            "S3 configuration that is not XML",
            "PUT",
            "/malformed?cors",
            vec![],
            b"<CORSConfiguration><Cors".to_vec(),
            400,
            "<Code>MalformedXML</Code>",
        ),
        (
            "S3 policy that is not JSON",
            "PUT",
            "/malformed?policy",
            vec![],
            b"{not json".to_vec(),
            400,
            "<Code>MalformedPolicy</Code>",
        ),
        (
            "S3 aws-chunked body with a bad chunk size",
            "PUT",
            "/malformed/key",
            vec![("content-encoding", "aws-chunked".into())],
            b"zz\r\ndata\r\n".to_vec(),
            400,
            "<Code>IncompleteBody</Code>",
        ),
        (
            "S3 GET of a missing key with a malformed Range",
            "GET",
            "/malformed/nothing",
            vec![("range", "bytes=oops".into())],
            vec![],
            404,
            "<Code>NoSuchKey</Code>",
        ),
        (
            "ECR body that is not JSON",
            "POST",
            "/",
            vec![("x-amz-target", ecr("CreateRepository"))],
            b"{bad".to_vec(),
            400,
            "SerializationException",
        ),
        (
            "ECR member of the wrong type",
            "POST",
            "/",
            vec![("x-amz-target", ecr("CreateRepository"))],
            br#"{"repositoryName": 7}"#.to_vec(),
            400,
            "SerializationException",
        ),
        (
            "ECR BatchGetImage without imageIds",
            "POST",
            "/",
            vec![("x-amz-target", ecr("BatchGetImage"))],
            br#"{"repositoryName": "crts"}"#.to_vec(),
            400,
            "Value null at 'imageIds'",
        ),
        (
            "ECR invalid repository name",
            "POST",
            "/",
            vec![("x-amz-target", ecr("CreateRepository"))],
            br#"{"repositoryName": "Bad Name"}"#.to_vec(),
            400,
            "InvalidParameterException",
        ),
        (
            "registry Basic auth that is not base64",
            "GET",
            "/v2/",
            vec![("authorization", "Basic %%%".into())],
            vec![],
            401,
            "DENIED",
        ),
        (
            "registry manifest that is not JSON",
            "PUT",
            "/v2/crts/manifests/latest",
            vec![("authorization", basic.clone())],
            b"not json".to_vec(),
            400,
            "MANIFEST_INVALID",
        ),
        (
            "registry upload finished without a digest",
            "PUT",
            "/v2/crts/blobs/uploads/x",
            vec![("authorization", basic.clone())],
            vec![],
            400,
            "DIGEST_INVALID",
        ),
        (
            "registry repository that does not exist",
            "GET",
            "/v2/nothing/tags/list",
            vec![("authorization", basic.clone())],
            vec![],
            404,
            "NAME_UNKNOWN",
        ),
    ];
    for (what, method, path, headers, body, status, needle) in cases {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("valid method");
        let mut request = http.request(method, url(path)).body(body);
        if !path.starts_with("/v2/") {
            let service = if headers.iter().any(|(k, _)| *k == "x-amz-target") { "ecr" } else { "s3" };
            request = request.header("Authorization", auth(service));
        }
        if headers.iter().any(|(k, _)| *k == "x-amz-target") {
            request = request.header("Content-Type", "application/x-amz-json-1.1");
        }
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("the emulator answers");
        let got = response.status().as_u16();
        let text = response.text().await.expect("a body");
        assert_eq!(got, status, "{what}: {text}");
        assert!(text.contains(needle), "{what}: {needle} in {text}");
    }

    // A body over the emulator's limit is refused in S3's own XML, not as a dropped connection.
    let oversized = vec![b'x'; 128 * 1024 * 1024 + 1];
    let response = http
        .put(url("/malformed/huge"))
        .header("Authorization", auth("s3"))
        .body(oversized)
        .send()
        .await
        .expect("the emulator answers");
    assert_eq!(response.status(), 400);
    let text = response.text().await.expect("a body");
    assert!(text.contains("<Code>EntityTooLarge</Code>"), "{text}");
    let health = http.get(url("/_crts/health")).send().await.expect("alive");
    assert_eq!(health.status(), 200);
}
