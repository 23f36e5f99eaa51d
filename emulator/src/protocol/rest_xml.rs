//! The restXml protocol (S3): XML documents in and out, errors as
//! `<Error><Code/><Message/>...<RequestId/><HostId/></Error>` on the REST endpoint (no body for HEAD), and as an
//! HTML page with the same facts on the website endpoint.
//!
//! Reference: <https://smithy.io/2.0/aws/protocols/aws-restxml-protocol.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>.

use axum::body::Body;
use http::{Method, StatusCode};

use super::xml::{XmlWriter, escape_into};
use super::{AwsError, Response};

/// 200 with an XML document.
pub fn ok(xml: String) -> Response {
    http::Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/xml")
        .body(Body::from(xml))
        .unwrap_or_default()
}

/// An error as S3's REST endpoint writes it: the code, the message, the error's extra elements, the request id
/// and host id; a HEAD request gets the status and headers without a body, as S3 answers it.
pub fn error(err: &AwsError, method: &Method, request_id: &str) -> Response {
    let mut builder = http::Response::builder()
        .status(err.status)
        .header("x-amz-request-id", request_id)
        .header("x-amz-id-2", host_id(request_id));
    if method == Method::HEAD {
        let mut response = builder.body(Body::empty()).unwrap_or_default();
        err.add_headers_to(&mut response);
        return response;
    }
    let mut xml = XmlWriter::new();
    xml.open("Error", None).text("Code", &err.code).text("Message", &err.message);
    for (name, value) in &err.extra {
        xml.text(name, value);
    }
    xml.text("RequestId", request_id).text("HostId", &host_id(request_id)).close("Error");
    builder = builder.header(http::header::CONTENT_TYPE, "application/xml");
    let mut response = builder.body(Body::from(xml.finish())).unwrap_or_default();
    err.add_headers_to(&mut response);
    response
}

/// An error as S3's website endpoint writes it: an HTML page with the same facts (no body for HEAD).
pub fn html_error(err: &AwsError, method: &Method, request_id: &str) -> Response {
    let title = format!("{} {}", err.status.as_u16(), err.status.canonical_reason().unwrap_or(""));
    let mut html = String::new();
    html.push_str("<html>\n<head><title>");
    escape_into(&mut html, &title);
    html.push_str("</title></head>\n<body>\n<h1>");
    escape_into(&mut html, &title);
    html.push_str("</h1>\n<ul>\n");
    let mut item = |name: &str, value: &str| {
        html.push_str("<li>");
        html.push_str(name);
        html.push_str(": ");
        escape_into(&mut html, value);
        html.push_str("</li>\n");
    };
    item("Code", &err.code);
    item("Message", &err.message);
    for (name, value) in &err.extra {
        item(name, value);
    }
    item("RequestId", request_id);
    item("HostId", &host_id(request_id));
    html.push_str("</ul>\n<hr/>\n</body>\n</html>\n");
    let body = if method == Method::HEAD { Body::empty() } else { Body::from(html) };
    let mut response = http::Response::builder()
        .status(err.status)
        .header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header("x-amz-request-id", request_id)
        .header("x-amz-id-2", host_id(request_id))
        .body(body)
        .unwrap_or_default();
    err.add_headers_to(&mut response);
    response
}

/// `x-amz-id-2`: an opaque id derived from the request id (AWS's is base64 too).
pub fn host_id(request_id: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(request_id.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn errors_carry_their_extra_elements_and_head_has_no_body() {
        let err = AwsError::new(StatusCode::NOT_FOUND, "NoSuchBucket", "The specified bucket does not exist")
            .with("BucketName", "site");
        let response = error(&err, &Method::GET, "req-1");
        assert_eq!(response.headers()["x-amz-id-2"], "cmVxLTE=");
        assert!(body(response).await.ends_with(
            "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>\
             <BucketName>site</BucketName><RequestId>req-1</RequestId><HostId>cmVxLTE=</HostId></Error>"
        ));
        let head = error(&err, &Method::HEAD, "req-1");
        assert_eq!((head.status(), head.headers().get("content-type")), (StatusCode::NOT_FOUND, None));
        assert_eq!(body(head).await, "");
        let page = body(html_error(&err, &Method::GET, "req-1")).await;
        assert!(page.contains("<title>404 Not Found</title>") && page.contains("<li>BucketName: site</li>"), "{page}");
    }
}
