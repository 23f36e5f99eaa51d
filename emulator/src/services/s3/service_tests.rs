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
