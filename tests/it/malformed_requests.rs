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
#[case::iam_no_action("iam", "POST", "/", "Version=2010-05-08", Shape::QueryXml, "MissingAction", 400)]
#[case::iam_unknown_action(
    "iam",
    "POST",
    "/",
    "Action=MakeCoffee&Version=2010-05-08",
    Shape::QueryXml,
    "InvalidAction",
    400
)]
#[case::iam_missing_member(
    "iam",
    "POST",
    "/",
    "Action=CreateRole&Version=2010-05-08",
    Shape::QueryXml,
    "ValidationError",
    400
)]
#[case::iam_bad_policy(
    "iam",
    "POST",
    "/",
    "Action=CreatePolicy&PolicyName=p&PolicyDocument=%7Bnot-json&Version=2010-05-08",
    Shape::QueryXml,
    "MalformedPolicyDocument",
    400
)]
#[case::sts_unknown_action("sts", "POST", "/", "Action=Nope&Version=2011-06-15", Shape::QueryXml, "InvalidAction", 400)]
#[case::lambda_bad_json(
    "lambda",
    "POST",
    "/2015-03-31/functions",
    "{not json",
    Shape::RestJson,
    "SerializationException",
    400
)]
#[case::lambda_wrong_type(
    "lambda",
    "POST",
    "/2015-03-31/functions",
    r#"{"FunctionName": 42}"#,
    Shape::RestJson,
    "SerializationException",
    400
)]
#[case::lambda_unknown_route(
    "lambda",
    "GET",
    "/2015-03-31/nothing-here",
    "",
    Shape::RestJson,
    "UnknownOperationException",
    404
)]
#[case::batch_bad_json("batch", "POST", "/v1/submitjob", "[1,2", Shape::RestJson, "SerializationException", 400)]
#[case::batch_missing_members("batch", "POST", "/v1/submitjob", "{}", Shape::RestJson, "ClientException", 400)]
#[case::apigateway_bad_json(
    "apigateway",
    "POST",
    "/restapis",
    "{\"name\":",
    Shape::RestJson,
    "BadRequestException",
    400
)]
#[case::apigateway_bad_patch(
    "apigateway",
    "PATCH",
    "/apikeys/nope",
    r#"{"patchOperations": "replace"}"#,
    Shape::RestJson,
    "BadRequestException",
    400
)]
#[case::unknown_service("dynamodb", "POST", "/", "{}", Shape::RestJson, "UnrecognizedServiceException", 400)]
// An operation no route serves, per protocol: rest-json 404 UnknownOperationException (AWS's common errors),
// awsQuery 400 InvalidAction (the same list; the IAM and STS cases above), awsJson 400 UnknownOperationException
// (as AWS's JSON services answer a target they do not know).
#[case::batch_unknown_operation(
    "batch",
    "POST",
    "/v1/createschedulingpolicy",
    "{}",
    Shape::RestJson,
    "UnknownOperationException",
    404
)]
#[case::apigateway_unknown_route(
    "apigateway",
    "GET",
    "/vpclinks",
    "",
    Shape::RestJson,
    "UnknownOperationException",
    404
)]
#[case::ecr_no_target("ecr", "POST", "/", "{}", Shape::RestJson, "UnknownOperationException", 400)]
#[case::tagging_no_target("tagging", "POST", "/", "{}", Shape::RestJson, "UnknownOperationException", 400)]
#[tokio::test]
async fn malformed_requests_get_aws_shaped_client_errors(
    #[case] service: &str,
    #[case] method: &str,
    #[case] path: &str,
    #[case] body: &str,
    #[case] shape: Shape,
    #[case] code: &str,
    #[case] expected_status: u16,
) {
    let emulator = emulator().await;
    let http = reqwest::Client::new();
    let method_name = method;
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
    assert_eq!(status.as_u16(), expected_status, "{service} {method_name} {path}: {text}");
    match shape {
        Shape::QueryXml => {
            assert!(text.contains("<ErrorResponse"), "awsQuery error body: {text}");
            assert!(text.contains(&format!("<Code>{code}</Code>")), "code {code} in {text}");
        }
        Shape::RestJson => {
            let error_type = error_type.unwrap_or_else(|| panic!("x-amzn-ErrorType on {service} {path}: {text}"));
            assert_eq!(error_type, code, "{service} {path}: {text}");
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
    for (service, path, body, code) in [
        ("iam", "/", vec![0xff, 0xfe, 0x00], "<Code>MalformedQueryString</Code>"),
        ("lambda", "/2015-03-31/functions", vec![0xff, 0xfe], "SerializationException"),
        ("batch", "/v1/createjobqueue", b"\"a string\"".to_vec(), "SerializationException"),
        ("apigateway", "/restapis", b"null".to_vec(), "BadRequestException"),
    ] {
        let response = http
            .post(format!("{}{path}", emulator.endpoint()))
            .header("Authorization", auth(service))
            .body(body)
            .send()
            .await
            .expect("the emulator answers");
        let status = response.status();
        let error_type = response.headers().get("x-amzn-ErrorType").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = response.text().await.expect("a body");
        assert_eq!(status, 400, "{service}: {text}");
        assert!(error_type.as_deref() == Some(code) || text.contains(code), "{service}: {code} in {text}");
        let health = http.get(format!("{}/_crts/health", emulator.endpoint())).send().await.expect("alive");
        assert_eq!(health.status(), 200, "still serving after the {service} request");
    }
}

/// Where a malformed request goes: S3 and ECR signed for their service, the registry with a valid ECR token.
#[derive(Debug, Clone, Copy)]
enum Api {
    S3,
    Ecr(&'static str),
    Registry,
}

/// One malformed request and what must come back: the status, and text the error body must hold.
#[derive(Debug)]
struct Refusal {
    what: &'static str,
    api: Api,
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static [u8],
    status: u16,
    needle: &'static str,
}

fn refusal(what: &'static str, api: Api, method: &'static str, path: &'static str, body: &'static [u8]) -> Refusal {
    Refusal { what, api, method, path, headers: Vec::new(), body, status: 400, needle: "" }
}

impl Refusal {
    fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }

    fn answers(self, status: u16, needle: &'static str) -> Self {
        Self { status, needle, ..self }
    }
}

/// S3 (restXml), ECR (awsJson1.1) and the registry (OCI JSON errors) refuse malformed input in their own shapes.
#[tokio::test]
async fn s3_ecr_and_registry_refuse_malformed_input_in_their_own_shapes() {
    let emulator = emulator().await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", emulator.endpoint());
    let ecr = |operation: &str, body: &'static str| {
        http.post(url("/"))
            .header("Authorization", auth("ecr"))
            .header("X-Amz-Target", format!("AmazonEC2ContainerRegistry_V20150921.{operation}"))
            .header("Content-Type", "application/x-amz-json-1.1")
            .body(body)
    };
    let created = http.put(url("/malformed")).header("Authorization", auth("s3")).send().await.expect("answers");
    assert_eq!(created.status(), 200, "CreateBucket");
    let repository = ecr("CreateRepository", r#"{"repositoryName": "crts"}"#).send().await.expect("answers");
    assert_eq!(repository.status(), 200, "CreateRepository");
    let token: serde_json::Value =
        ecr("GetAuthorizationToken", "{}").send().await.expect("answers").json().await.expect("JSON");
    let basic = format!("Basic {}", token["authorizationData"][0]["authorizationToken"].as_str().expect("token"));

    use Api::{Ecr, Registry, S3};
    let refusals = [
        refusal("S3 configuration that is not XML", S3, "PUT", "/malformed?cors", b"<CORSConfiguration><Cors")
            .answers(400, "<Code>MalformedXML</Code>"),
        refusal("S3 policy that is not JSON", S3, "PUT", "/malformed?policy", b"{not json")
            .answers(400, "<Code>MalformedPolicy</Code>"),
        refusal("S3 aws-chunked body with a bad chunk size", S3, "PUT", "/malformed/key", b"zz\r\ndata\r\n")
            .header("content-encoding", "aws-chunked")
            .answers(400, "<Code>IncompleteBody</Code>"),
        refusal(
            "S3 aws-chunked body without its announced trailer",
            S3,
            "PUT",
            "/malformed/key",
            b"4\r\ndata\r\n0\r\n\r\n",
        )
        .header("x-amz-trailer", "x-amz-checksum-crc32")
        .header("content-encoding", "aws-chunked")
        .answers(400, "<Code>MalformedTrailerError</Code>"),
        refusal("S3 GET of a missing key with a malformed Range", S3, "GET", "/malformed/nothing", b"")
            .header("range", "bytes=oops")
            .answers(404, "<Code>NoSuchKey</Code>"),
        refusal("ECR body that is not JSON", Ecr("CreateRepository"), "POST", "/", b"{bad")
            .answers(400, "SerializationException"),
        refusal("ECR member of the wrong type", Ecr("CreateRepository"), "POST", "/", br#"{"repositoryName": 7}"#)
            .answers(400, "SerializationException"),
        refusal("ECR invalid repository name", Ecr("CreateRepository"), "POST", "/", br#"{"repositoryName": "A b"}"#)
            .answers(400, "InvalidParameterException"),
        refusal(
            "ECR BatchGetImage without imageIds",
            Ecr("BatchGetImage"),
            "POST",
            "/",
            br#"{"repositoryName": "crts"}"#,
        )
        .answers(400, "Value null at 'imageIds'"),
        refusal("registry Basic auth that is not base64", Registry, "GET", "/v2/", b"")
            .header("authorization", "Basic %%%")
            .answers(401, "DENIED"),
        refusal("registry manifest that is not JSON", Registry, "PUT", "/v2/crts/manifests/latest", b"not json")
            .answers(400, "MANIFEST_INVALID"),
        refusal("registry tag outside the OCI grammar", Registry, "PUT", "/v2/crts/manifests/%ZZ", b"{}")
            .answers(400, "TAG_INVALID"),
        refusal("registry upload finished without a digest", Registry, "PUT", "/v2/crts/blobs/uploads/x", b"")
            .answers(400, "DIGEST_INVALID"),
        refusal("registry repository that does not exist", Registry, "GET", "/v2/nothing/tags/list", b"")
            .answers(404, "NAME_UNKNOWN"),
    ];
    for case in refusals {
        let method = reqwest::Method::from_bytes(case.method.as_bytes()).expect("valid method");
        let mut request = http.request(method, url(case.path)).body(case.body);
        request = match case.api {
            S3 => request.header("Authorization", auth("s3")),
            Ecr(operation) => request
                .header("Authorization", auth("ecr"))
                .header("X-Amz-Target", format!("AmazonEC2ContainerRegistry_V20150921.{operation}"))
                .header("Content-Type", "application/x-amz-json-1.1"),
            Registry if case.headers.iter().any(|(name, _)| *name == "authorization") => request,
            Registry => request.header("Authorization", &basic),
        };
        for (name, value) in &case.headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the emulator answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        assert_eq!(status, case.status, "{}: {text}", case.what);
        assert!(text.contains(case.needle), "{}: {} in {text}", case.what, case.needle);
        let health = http.get(url("/_crts/health")).send().await.expect("alive");
        assert_eq!(health.status(), 200, "still serving after: {}", case.what);
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

/// Sends raw bytes (optionally closing the write half after them) and returns the status line and body.
async fn raw_exchange(address: &str, request: &[u8], close_write: bool) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    stream.write_all(request).await.expect("send");
    if close_write {
        stream.shutdown().await.expect("close the write half");
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "no answer within 5 s to {}", String::from_utf8_lossy(request));
    String::from_utf8_lossy(&answer).into_owned()
}

/// A body shorter than its Content-Length, or with a chunk size that does not parse, is a malformed request (400
/// in the caller's protocol, with the service's own name for it), not "too large"; a declared Content-Length over
/// the limit is refused at once, before the body is sent. One row per protocol (and per service where the names
/// differ).
#[tokio::test]
async fn cut_off_and_badly_chunked_bodies_are_malformed_and_oversized_ones_are_refused_at_once() {
    let emulator = emulator().await;
    let address = emulator.endpoint().trim_start_matches("http://").to_owned();
    let signed = |line: &str, service: &str, extra: &str| {
        format!("{line} HTTP/1.1\r\nHost: {address}\r\nAuthorization: {}\r\n{extra}", auth(service))
    };
    // (protocol, request head without framing, cut off / bad chunk needle, declared too large: status + needle)
    let protocols = [
        (
            "rest-json Batch",
            signed("POST /v1/submitjob", "batch", ""),
            "x-amzn-errortype: ClientException",
            "413",
            "RequestEntityTooLargeException",
        ),
        (
            "rest-json Lambda",
            signed("POST /2015-03-31/functions", "lambda", ""),
            "InvalidRequestContentException",
            "413",
            "RequestTooLargeException",
        ),
        (
            "rest-json API Gateway",
            signed("POST /restapis", "apigateway", ""),
            "BadRequestException",
            "413",
            "RequestEntityTooLargeException",
        ),
        (
            "awsJson ECR",
            signed("POST /", "ecr", "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.CreateRepository\r\n"),
            "\"__type\":\"SerializationException\"",
            "413",
            "\"__type\":\"RequestEntityTooLargeException\"",
        ),
        (
            "awsQuery IAM",
            signed("POST /", "iam", ""),
            "<Code>MalformedInput</Code>",
            "413",
            "<Code>RequestEntityTooLarge</Code>",
        ),
        (
            "awsQuery STS",
            signed("POST /", "sts", ""),
            "<Code>MalformedInput</Code>",
            "413",
            "<Code>RequestEntityTooLarge</Code>",
        ),
        (
            "restXml S3",
            signed("PUT /bucket/key", "s3", ""),
            "<Code>IncompleteBody</Code>",
            "400",
            "<Code>EntityTooLarge</Code>",
        ),
        (
            "OCI registry",
            format!("PUT /v2/crts/blobs/uploads/x HTTP/1.1\r\nHost: {address}\r\n"),
            "BLOB_UPLOAD_INVALID",
            "413",
            "SIZE_INVALID",
        ),
        (
            "execute-api",
            format!("POST /restapis/abc/default/_user_request_/crts HTTP/1.1\r\nHost: {address}\r\n"),
            "BadRequestException",
            "413",
            "Request Too Long",
        ),
    ];
    for (protocol, head, malformed, large_status, too_large) in protocols {
        let cases = [
            ("cut off", format!("{head}Content-Length: 100\r\n\r\n{{}}"), true, "400", malformed),
            (
                "bad chunk size",
                format!("{head}Transfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"),
                false,
                "400",
                malformed,
            ),
            ("declared too large", format!("{head}Content-Length: 209715200\r\n\r\n"), false, large_status, too_large),
        ];
        for (what, request, close_write, status, needle) in cases {
            let answer = raw_exchange(&address, request.as_bytes(), close_write).await;
            assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{protocol}, {what}: {answer}");
            assert!(answer.contains(needle), "{protocol}, {what}: expected {needle} in {answer}");
        }
    }
    let health = reqwest::get(format!("{}/_crts/health", emulator.endpoint())).await.expect("alive");
    assert_eq!(health.status(), 200);
}

/// A request with both Content-Length and Transfer-Encoding is read by Transfer-Encoding (Content-Length is
/// dropped) and its connection is closed after the answer: a request smuggled behind it on the same connection
/// is never read.
#[tokio::test]
async fn a_request_with_both_framings_is_read_by_its_chunks_and_closes_its_connection() {
    let emulator = emulator().await;
    let address = emulator.endpoint().trim_start_matches("http://").to_owned();
    let smuggling = format!(
        "POST /v1/describejobqueues HTTP/1.1\r\nHost: {address}\r\nAuthorization: {}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{{}}\r\n0\r\n\r\nGET /_crts/health HTTP/1.1\r\nHost: {address}\r\n\r\n",
        auth("batch")
    );
    let answer = raw_exchange(&address, smuggling.as_bytes(), false).await;
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(answer.contains("\"jobQueues\":[]"), "read by its chunks: {answer}");
    assert_eq!(answer.matches("HTTP/1.1 ").count(), 1, "the request behind it was not read: {answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
}
