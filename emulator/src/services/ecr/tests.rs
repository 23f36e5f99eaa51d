//! ECR's control plane driven through its entry point (`ecr::api::handle`) with only the registry and an
//! `Authorize`: a repository with tags, its tags by ARN, an unknown target, a refused role session.

use http::{HeaderValue, Method};
use serde_json::Value;

use super::Ecr;
use crate::identity::Caller;
use crate::protocol::test_request;
use crate::services::test_support::{DenyRoles, account, role_session};

async fn call(ecr: &Ecr, operation: &str, body: Value, caller: Caller) -> (u16, Value) {
    let mut req = test_request(Method::POST, "/", body.to_string().as_bytes(), caller);
    let target = format!("AmazonEC2ContainerRegistry_V20150921.{operation}");
    req.headers.insert("x-amz-target", HeaderValue::from_str(&target).expect("a header value"));
    let response = super::api::handle(ecr, &DenyRoles, req).await;
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_repository_keeps_its_tags_and_refusals_are_ecrs() {
    let ecr = Ecr::new();
    let tags = serde_json::json!([{"Key": "team", "Value": "crts"}]);
    let (status, created) =
        call(&ecr, "CreateRepository", serde_json::json!({"repositoryName": "crts", "tags": tags}), account()).await;
    assert_eq!(status, 200, "{created}");
    let arn = created["repository"]["repositoryArn"].clone();
    let (status, listed) = call(&ecr, "ListTagsForResource", serde_json::json!({"resourceArn": arn}), account()).await;
    assert_eq!((status, listed["tags"].clone()), (200, tags));
    assert_eq!(
        ecr.pull_error("123456789012.dkr.ecr.us-east-1.amazonaws.com/crts:latest").map(|_| "missing"),
        Some("missing")
    );
    assert_eq!(ecr.pull_error("busybox:latest"), None, "another registry's image is taken to be there");

    let (status, unknown) = call(&ecr, "MakeCoffee", serde_json::json!({}), account()).await;
    assert_eq!((status, unknown["__type"].as_str()), (400, Some("UnknownOperationException")), "{unknown}");
    let (status, refused) = call(&ecr, "DescribeRepositories", serde_json::json!({}), role_session()).await;
    assert_eq!((status, refused["__type"].as_str()), (400, Some("AccessDeniedException")), "{refused}");
}

#[tokio::test]
async fn describe_repositories_pages_by_token_and_refusals_are_ecrs() {
    use crate::services::pagination::test_support::assert_each_once;
    use serde_json::json;
    let ecr = Ecr::new();
    let create = |name: &'static str| {
        let ecr = &ecr;
        async move {
            let (status, created) = call(ecr, "CreateRepository", json!({"repositoryName": name}), account()).await;
            assert_eq!(status, 200, "{created}");
        }
    };
    for name in ["r1", "r2", "r3", "r4", "r5"] {
        create(name).await;
    }
    let mut pages = Vec::new();
    let mut token = Value::Null;
    loop {
        let (status, page) =
            call(&ecr, "DescribeRepositories", json!({"maxResults": 2, "nextToken": token}), account()).await;
        assert_eq!(status, 200, "{page}");
        let names = page["repositories"].as_array().expect("repositories").iter();
        pages.push(names.map(|r| r["repositoryName"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>());
        if pages.len() == 1 {
            create("r0").await;
            create("r9").await;
        }
        match page.get("nextToken") {
            Some(next) => token = next.clone(),
            None => break,
        }
    }
    assert_each_once(&pages, &["r1", "r2", "r3", "r4", "r5", "r9"], 2);
    assert_eq!(pages.len(), 3, "{pages:?}");

    for input in [
        json!({"nextToken": "garbage"}),
        json!({"maxResults": 1001}),
        json!({"maxResults": 0}),
        json!({"repositoryNames": ["r1"], "maxResults": 1}),
    ] {
        let (status, refused) = call(&ecr, "DescribeRepositories", input.clone(), account()).await;
        assert_eq!(
            (status, refused["__type"].as_str()),
            (400, Some("InvalidParameterException")),
            "{input}: {refused}"
        );
    }
    let (status, refused) =
        call(&ecr, "ListImages", json!({"repositoryName": "r1", "nextToken": "garbage"}), account()).await;
    assert_eq!((status, refused["__type"].as_str()), (400, Some("InvalidParameterException")), "{refused}");
}
