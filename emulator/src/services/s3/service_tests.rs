//! S3 driven through its entry point (`s3::handle`) with only its buckets and an `Authorize`: a bucket, its tag
//! set, an object, an anonymous read refused without a policy, a role session refused by IAM.

use http::Method;

use super::S3;
use crate::identity::Caller;
use crate::protocol::test_request;
use crate::services::test_support::{DenyRoles, account, role_session};

async fn call(s3: &S3, method: Method, path: &str, body: &str, caller: Caller) -> (u16, String) {
    let response = super::handle(s3, &DenyRoles, test_request(method, path, body.as_bytes(), caller)).await;
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn a_bucket_its_tags_an_object_and_who_may_read_it() {
    let s3 = S3::new();
    assert_eq!(call(&s3, Method::PUT, "/site", "", account()).await.0, 200);
    let (status, body) = call(&s3, Method::GET, "/site?tagging", "", account()).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("<Code>NoSuchTagSet</Code>"), "{body}");
    let tagging = "<Tagging><TagSet><Tag><Key>team</Key><Value>crts</Value></Tag></TagSet></Tagging>";
    assert_eq!(call(&s3, Method::PUT, "/site?tagging", tagging, account()).await.0, 204);
    let (_, body) = call(&s3, Method::GET, "/site?tagging", "", account()).await;
    assert!(body.contains("<Key>team</Key><Value>crts</Value>"), "{body}");
    assert_eq!(s3.tagged("123456789012", "us-east-1")[0].tags.get("team").map(String::as_str), Some("crts"));

    assert_eq!(call(&s3, Method::PUT, "/site/index.html", "<html>", account()).await.0, 200);
    assert_eq!(call(&s3, Method::GET, "/site/index.html", "", account()).await, (200, "<html>".to_owned()));
    let (status, body) = call(&s3, Method::GET, "/site/index.html", "", Caller::Anonymous).await;
    assert!(status == 403 && body.contains("<Code>AccessDenied</Code>"), "{status} {body}");
    let (status, body) = call(&s3, Method::GET, "/site/index.html", "", role_session()).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("is not authorized to perform: s3:GetObject"), "{body}");
}

/// The text of every `<element>` in `xml`, in order.
fn elements(xml: &str, element: &str) -> Vec<String> {
    let (open, close) = (format!("<{element}>"), format!("</{element}>"));
    xml.split(&open).skip(1).filter_map(|s| s.split_once(&close).map(|(text, _)| text.to_owned())).collect()
}

#[tokio::test]
async fn multipart_listings_page_by_s3s_markers() {
    use crate::services::pagination::test_support::assert_each_once;
    let s3 = S3::new();
    assert_eq!(call(&s3, Method::PUT, "/mpu", "", account()).await.0, 200);
    let create = |key: &'static str| {
        let s3 = &s3;
        async move {
            let (status, body) = call(s3, Method::POST, &format!("/mpu/{key}?uploads"), "", account()).await;
            assert_eq!(status, 200, "{body}");
            elements(&body, "UploadId").pop().expect("an upload id")
        }
    };
    let mut ids = Vec::new();
    for key in ["a", "b", "b", "c", "d"] {
        ids.push(create(key).await);
    }
    let mut pages = Vec::new();
    let mut query = String::new();
    loop {
        let (status, body) = call(&s3, Method::GET, &format!("/mpu?uploads&max-uploads=2{query}"), "", account()).await;
        assert_eq!(status, 200, "{body}");
        pages.push(elements(&body, "UploadId"));
        if pages.len() == 1 {
            ids.push(create("e").await); // after the markers: served once
            create("0").await; // before them: not served, nothing repeats
        }
        if elements(&body, "IsTruncated") == ["false"] {
            break;
        }
        let (key, id) = (elements(&body, "NextKeyMarker").remove(0), elements(&body, "NextUploadIdMarker").remove(0));
        query = format!("&key-marker={key}&upload-id-marker={id}");
    }
    let expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_each_once(&pages, &expected, 2);
    assert_eq!(pages.len(), 3, "{pages:?}");
    let (status, body) = call(&s3, Method::GET, "/mpu?uploads&max-uploads=x", "", account()).await;
    assert!(status == 400 && body.contains("<Code>InvalidArgument</Code>"), "{status} {body}");

    let upload = &ids[0];
    for part in 1..=5 {
        let path = format!("/mpu/a?partNumber={part}&uploadId={upload}");
        assert_eq!(call(&s3, Method::PUT, &path, "part", account()).await.0, 200);
    }
    let mut parts = Vec::new();
    let mut marker = 0;
    loop {
        let path = format!("/mpu/a?uploadId={upload}&max-parts=2&part-number-marker={marker}");
        let (status, body) = call(&s3, Method::GET, &path, "", account()).await;
        assert_eq!(status, 200, "{body}");
        parts.push(elements(&body, "PartNumber"));
        marker = elements(&body, "NextPartNumberMarker")[0].parse().expect("a part number");
        if elements(&body, "IsTruncated") == ["false"] {
            break;
        }
    }
    assert_eq!(parts, [vec!["1", "2"], vec!["3", "4"], vec!["5"]]);
}

/// A request with headers, through the entry point.
async fn call_with(
    s3: &S3,
    method: Method,
    path: &str,
    headers: &[(&'static str, &str)],
    body: &[u8],
) -> (u16, http::HeaderMap, String) {
    let mut req = test_request(method, path, body, account());
    for (name, value) in headers {
        req.headers.insert(*name, value.parse().expect("a header value"));
    }
    let response = super::handle(s3, &DenyRoles, req).await;
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// A listing query and its page: keys, common prefixes, IsTruncated, NextMarker.
type Page = (&'static str, &'static [&'static str], &'static [&'static str], &'static str, &'static [&'static str]);

#[tokio::test]
async fn listings_roll_keys_into_common_prefixes_and_resume_after_them() {
    let s3 = S3::new();
    assert_eq!(call(&s3, Method::PUT, "/lst", "", account()).await.0, 200);
    for key in ["asdf", "boo/bar", "boo/baz/xyzzy", "cquux/thud", "cquux/bla"] {
        assert_eq!(call(&s3, Method::PUT, &format!("/lst/{key}"), "x", account()).await.0, 200);
    }
    // (query, keys, common prefixes, IsTruncated, NextMarker)
    let cases: &[Page] = &[
        ("delimiter=/&max-keys=1", &["asdf"], &[], "true", &["asdf"]),
        ("delimiter=/&max-keys=1&marker=asdf", &[], &["boo/"], "true", &["boo/"]),
        ("delimiter=/&max-keys=1&marker=boo/", &[], &["cquux/"], "false", &[]),
        ("delimiter=/&prefix=boo/", &["boo/bar"], &["boo/baz/"], "false", &[]),
        ("delimiter=/&prefix=boo/&max-keys=1", &["boo/bar"], &[], "true", &["boo/bar"]),
        ("delimiter=/&prefix=boo/&max-keys=1&marker=boo/bar", &[], &["boo/baz/"], "false", &[]),
        ("delimiter=a", &["cquux/thud"], &["a", "boo/ba", "cquux/bla"], "false", &[]),
        ("max-keys=2", &["asdf", "boo/bar"], &[], "true", &[]),
        ("max-keys=0", &[], &[], "false", &[]),
        ("list-type=2&max-keys=0", &[], &[], "false", &[]),
    ];
    for (query, keys, prefixes, truncated, next) in cases {
        let (status, body) = call(&s3, Method::GET, &format!("/lst?{query}"), "", account()).await;
        assert_eq!(status, 200, "{query}: {body}");
        let common: Vec<String> =
            elements(&body, "CommonPrefixes").iter().flat_map(|c| elements(c, "Prefix")).collect();
        let listed: Vec<String> = elements(&body, "Contents").iter().flat_map(|c| elements(c, "Key")).collect();
        assert_eq!(
            (listed, common),
            (keys.to_vec().iter().map(|s| s.to_string()).collect(), prefixes.iter().map(|s| s.to_string()).collect()),
            "{query}: {body}"
        );
        assert_eq!(elements(&body, "IsTruncated"), [*truncated], "{query}");
        assert_eq!(elements(&body, "NextMarker"), *next, "{query}");
    }
    let (_, body) = call(&s3, Method::GET, "/lst?list-type=2&max-keys=0", "", account()).await;
    assert_eq!(elements(&body, "KeyCount"), ["0"]);
    let (_, v1) = call(&s3, Method::GET, "/lst?max-keys=1", "", account()).await;
    assert!(v1.contains("<Owner><ID>") && !v1.contains("DisplayName"), "{v1}");
    let (_, v2) = call(&s3, Method::GET, "/lst?list-type=2&max-keys=1", "", account()).await;
    assert!(!v2.contains("<Owner>"), "{v2}");
    let (_, v2) = call(&s3, Method::GET, "/lst?list-type=2&max-keys=1&fetch-owner=true", "", account()).await;
    assert!(v2.contains("<Owner><ID>"), "{v2}");
}

/// Every refusal of versioning, multipart checksums, UploadPartCopy, conditional writes and Object Ownership,
/// each from the state the steps before it left.
#[tokio::test]
async fn refusals_of_versions_checksums_copies_and_conditional_writes() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let s3 = S3::new();
    let sha = |data: &[u8]| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(data));
    let ok = |(status, _, body): (u16, http::HeaderMap, String)| {
        assert!(status == 200 || status == 204, "{status} {body}");
        body
    };
    ok(call_with(&s3, Method::PUT, "/rfs", &[], b"").await);
    ok(call_with(&s3, Method::PUT, "/rfs/k", &[], b"0123456789").await);
    let enabled = "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>";
    ok(call_with(&s3, Method::PUT, "/rfs?versioning", &[], enabled.as_bytes()).await);
    let (_, headers, _) = call_with(&s3, Method::DELETE, "/rfs/gone", &[], b"").await;
    let marker = headers["x-amz-version-id"].to_str().expect("text").to_owned();
    let upload = |key: &'static str, headers: &'static [(&'static str, &'static str)]| {
        let s3 = &s3;
        async move {
            let body = ok(call_with(s3, Method::POST, &format!("/rfs/{key}?uploads"), headers, b"").await);
            elements(&body, "UploadId").pop().expect("an upload id")
        }
    };
    let sums = upload("sums", &[("x-amz-checksum-algorithm", "SHA256")]).await;
    let copy = upload("copy", &[]).await;
    let conflict = upload("k", &[]).await;
    ok(call_with(&s3, Method::PUT, &format!("/rfs/k?partNumber=1&uploadId={conflict}"), &[], b"p").await);
    let wrong = sha(b"other");
    let complete_k = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{}</ETag></Part></CompleteMultipartUpload>",
        crate::services::s3::payload::etag(b"p")
    );
    ok(call_with(
        &s3,
        Method::PUT,
        &format!("/rfs/sums?partNumber=1&uploadId={sums}"),
        &[("x-amz-checksum-sha256", &sha(b"part"))],
        b"part",
    )
    .await);
    let complete_sums = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{}</ETag></Part></CompleteMultipartUpload>",
        crate::services::s3::payload::etag(b"part")
    );

    let marker_source = format!("rfs/gone?versionId={marker}");
    struct Case<'a> {
        what: &'a str,
        method: Method,
        path: String,
        headers: Vec<(&'static str, &'a str)>,
        body: String,
        status: u16,
        code: &'a str,
    }
    let case = |what, method, path: String, headers, body: &str, status, code| Case {
        what,
        method,
        path,
        headers,
        body: body.to_owned(),
        status,
        code,
    };
    let cases = vec![
        case(
            "If-None-Match on an existing key",
            Method::PUT,
            "/rfs/k".into(),
            vec![("if-none-match", "*")],
            "x",
            412,
            "PreconditionFailed",
        ),
        case(
            "If-Match with another ETag",
            Method::PUT,
            "/rfs/k".into(),
            vec![("if-match", "\"nope\"")],
            "x",
            412,
            "PreconditionFailed",
        ),
        case(
            "If-Match on a missing key",
            Method::PUT,
            "/rfs/missing".into(),
            vec![("if-match", "\"nope\"")],
            "x",
            404,
            "NoSuchKey",
        ),
        case(
            "If-Match on a key whose latest version is a delete marker",
            Method::PUT,
            "/rfs/gone".into(),
            vec![("if-match", "*")],
            "x",
            404,
            "NoSuchKey",
        ),
        case(
            "If-None-Match with an ETag",
            Method::PUT,
            "/rfs/new".into(),
            vec![("if-none-match", "\"abc\"")],
            "x",
            501,
            "NotImplemented",
        ),
        case(
            "a part whose SHA-256 does not match",
            Method::PUT,
            format!("/rfs/sums?partNumber=2&uploadId={sums}"),
            vec![("x-amz-checksum-sha256", &wrong)],
            "part",
            400,
            "BadDigest",
        ),
        case(
            "a part with another algorithm than the upload's",
            Method::PUT,
            format!("/rfs/sums?partNumber=2&uploadId={sums}"),
            vec![("x-amz-checksum-crc32", "AAAAAA==")],
            "",
            400,
            "InvalidRequest",
        ),
        case(
            "a completion whose declared checksum does not match",
            Method::POST,
            format!("/rfs/sums?uploadId={sums}"),
            vec![("x-amz-checksum-sha256", &wrong)],
            &complete_sums,
            400,
            "BadDigest",
        ),
        case(
            "a malformed copy range",
            Method::PUT,
            format!("/rfs/copy?partNumber=1&uploadId={copy}"),
            vec![("x-amz-copy-source", "rfs/k"), ("x-amz-copy-source-range", "bytes=0-")],
            "",
            400,
            "InvalidArgument",
        ),
        case(
            "a copy range starting past the end",
            Method::PUT,
            format!("/rfs/copy?partNumber=1&uploadId={copy}"),
            vec![("x-amz-copy-source", "rfs/k"), ("x-amz-copy-source-range", "bytes=10-11")],
            "",
            416,
            "InvalidRange",
        ),
        case(
            "a copy range ending past the end",
            Method::PUT,
            format!("/rfs/copy?partNumber=1&uploadId={copy}"),
            vec![("x-amz-copy-source", "rfs/k"), ("x-amz-copy-source-range", "bytes=0-10")],
            "",
            400,
            "InvalidArgument",
        ),
        case(
            "a copy from a delete marker",
            Method::PUT,
            format!("/rfs/copy?partNumber=1&uploadId={copy}"),
            vec![("x-amz-copy-source", &marker_source)],
            "",
            400,
            "InvalidRequest",
        ),
        case(
            "a copy into an upload that does not exist",
            Method::PUT,
            "/rfs/copy?partNumber=1&uploadId=nope".into(),
            vec![("x-amz-copy-source", "rfs/k")],
            "",
            404,
            "NoSuchUpload",
        ),
        case(
            "a version that does not exist",
            Method::GET,
            format!("/rfs/k?versionId={}", "0".repeat(32)),
            vec![],
            "",
            404,
            "NoSuchVersion",
        ),
        case(
            "a version id that cannot be one",
            Method::GET,
            "/rfs/k?versionId=bogus".into(),
            vec![],
            "",
            400,
            "InvalidArgument",
        ),
        case(
            "a key whose latest version is a delete marker",
            Method::GET,
            "/rfs/gone".into(),
            vec![],
            "",
            404,
            "NoSuchKey",
        ),
        case(
            "a delete marker read by version id",
            Method::GET,
            format!("/rfs/gone?versionId={marker}"),
            vec![],
            "",
            405,
            "MethodNotAllowed",
        ),
        case(
            "a versioning status S3 does not have",
            Method::PUT,
            "/rfs?versioning".into(),
            vec![],
            "<VersioningConfiguration><Status>On</Status></VersioningConfiguration>",
            400,
            "MalformedXML",
        ),
        case(
            "a public ACL while ACLs are disabled",
            Method::PUT,
            "/rfs?acl".into(),
            vec![("x-amz-acl", "public-read")],
            "",
            400,
            "AccessControlListNotSupported",
        ),
        case(
            "an object ACL while ACLs are disabled",
            Method::PUT,
            "/rfs/acl-key".into(),
            vec![("x-amz-acl", "public-read")],
            "",
            400,
            "AccessControlListNotSupported",
        ),
        case(
            "an ownership rule S3 does not have",
            Method::PUT,
            "/rfs?ownershipControls".into(),
            vec![],
            "<OwnershipControls><Rule><ObjectOwnership>Anyone</ObjectOwnership></Rule></OwnershipControls>",
            400,
            "MalformedXML",
        ),
        case("a bucket holding versions", Method::DELETE, "/rfs".into(), vec![], "", 409, "BucketNotEmpty"),
    ];
    for case in cases {
        let (status, _, body) = call_with(&s3, case.method, &case.path, &case.headers, case.body.as_bytes()).await;
        assert_eq!(status, case.status, "{}: {body}", case.what);
        assert!(body.contains(&format!("<Code>{}</Code>", case.code)), "{}: {body}", case.what);
    }
    // A conditional completion after the key was deleted during the upload: 409, as S3 answers a conflicting
    // operation; then the key is written, and the completion fails its condition: 412.
    ok(call_with(&s3, Method::DELETE, "/rfs/k", &[], b"").await);
    let (status, _, body) = call_with(
        &s3,
        Method::POST,
        &format!("/rfs/k?uploadId={conflict}"),
        &[("if-none-match", "*")],
        complete_k.as_bytes(),
    )
    .await;
    assert!(status == 409 && body.contains("<Code>ConditionalRequestConflict</Code>"), "{status} {body}");
    ok(call_with(&s3, Method::PUT, "/rfs/k", &[], b"again").await);
    let (status, _, body) = call_with(
        &s3,
        Method::POST,
        &format!("/rfs/k?uploadId={conflict}"),
        &[("if-none-match", "*")],
        complete_k.as_bytes(),
    )
    .await;
    assert!(status == 412 && body.contains("<Code>PreconditionFailed</Code>"), "{status} {body}");
    // Only delete markers left still keep the bucket: every version must go, markers included.
    let (_, body) = call(&s3, Method::GET, "/rfs?versions", "", account()).await;
    let mut versions = Vec::new();
    for tag in ["Version", "DeleteMarker"] {
        for entry in elements(&body, tag) {
            versions.push((elements(&entry, "Key").remove(0), elements(&entry, "VersionId").remove(0)));
        }
    }
    for (key, id) in versions.iter().filter(|(k, _)| k != "gone") {
        ok(call_with(&s3, Method::DELETE, &format!("/rfs/{key}?versionId={id}"), &[], b"").await);
    }
    let (status, _, body) = call_with(&s3, Method::DELETE, "/rfs", &[], b"").await;
    assert!(status == 409 && body.contains("<Code>BucketNotEmpty</Code>"), "a delete marker alone: {status} {body}");
    ok(call_with(&s3, Method::DELETE, &format!("/rfs/gone?versionId={marker}"), &[], b"").await);
    for upload in [&sums, &copy, &conflict] {
        let _ = call_with(&s3, Method::DELETE, &format!("/rfs/x?uploadId={upload}"), &[], b"").await;
    }
    assert_eq!(call_with(&s3, Method::DELETE, "/rfs", &[], b"").await.0, 204);
}
