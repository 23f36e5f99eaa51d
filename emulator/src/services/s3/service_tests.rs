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
