//! Lambda's control plane driven through its entry point (`lambda::handle`) with a stand-in environment: only
//! its functions, an `Authorize`, one role that exists, and no interpreter (nothing is invoked here; the
//! integration tests run functions). Creating a function and reading it back, the refusals a caller meets (a role
//! Lambda cannot assume, a duplicate, a missing function, a role session IAM refuses, an unknown route).

use std::io::Write as _;
use std::sync::Arc;

use base64::Engine as _;
use http::Method;
use serde_json::{Value, json};

use super::Env;
use crate::identity::Caller;
use crate::protocol::test_request;
use crate::services::test_support::{DenyRoles, account, role_session};

const ROLE: &str = "arn:aws:iam::123456789012:role/crts-lambda";

fn env() -> Arc<dyn Env> {
    super::test_support::env(&DenyRoles, Some(ROLE))
}

fn package() -> String {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("lambda_function.py", zip::write::SimpleFileOptions::default()).expect("a zip entry");
    zip.write_all(b"def lambda_handler(event, context):\n    return {}\n").expect("written");
    let bytes = zip.finish().expect("a zip").into_inner();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn call(env: &Arc<dyn Env>, method: Method, path: &str, body: Value, caller: Caller) -> (u16, Value) {
    let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
    let response = super::handle(env, test_request(method, path, &body, caller)).await;
    let status = response.status().as_u16();
    let error_type = response.headers().get("x-amzn-errortype").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    let mut value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if let (Some(error_type), Some(object)) = (error_type, value.as_object_mut()) {
        object.insert("x-amzn-ErrorType".into(), json!(error_type));
    }
    (status, value)
}

fn create_input(role: &str) -> Value {
    json!({
        "FunctionName": "crts",
        "Runtime": "python3.8",
        "Role": role,
        "Handler": "lambda_function.lambda_handler",
        "Code": {"ZipFile": package()},
        "Environment": {"Variables": {"aws_jobqueue": "crts-aws-jq"}},
        "Tags": {"team": "crts"},
    })
}

#[tokio::test]
async fn a_function_is_created_read_back_and_refused_as_lambda_refuses() {
    let env = env();
    let functions = "/2015-03-31/functions";

    let (status, refused) =
        call(&env, Method::POST, functions, create_input("arn:aws:iam::123456789012:role/none"), account()).await;
    assert_eq!(
        (status, refused["x-amzn-ErrorType"].as_str(), refused["Type"].as_str(), refused["message"].as_str()),
        (
            400,
            Some("InvalidParameterValueException"),
            Some("User"),
            Some("The role defined for the function cannot be assumed by Lambda.")
        ),
        "{refused}"
    );

    let (status, created) = call(&env, Method::POST, functions, create_input(ROLE), account()).await;
    assert_eq!((status, created["State"].as_str()), (201, Some("Pending")), "{created}");
    assert_eq!(created["FunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:crts");

    let (status, again) = call(&env, Method::POST, functions, create_input(ROLE), account()).await;
    assert_eq!((status, again["x-amzn-ErrorType"].as_str()), (409, Some("ResourceConflictException")), "{again}");

    let (status, read) = call(&env, Method::GET, "/2015-03-31/functions/crts", Value::Null, account()).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["Configuration"]["Environment"]["Variables"], json!({"aws_jobqueue": "crts-aws-jq"}));
    assert_eq!(read["Tags"], json!({"team": "crts"}));

    let (status, missing) = call(&env, Method::GET, "/2015-03-31/functions/nope", Value::Null, account()).await;
    assert_eq!((status, missing["x-amzn-ErrorType"].as_str()), (404, Some("ResourceNotFoundException")), "{missing}");

    let (status, denied) = call(&env, Method::GET, "/2015-03-31/functions/crts", Value::Null, role_session()).await;
    assert_eq!((status, denied["x-amzn-ErrorType"].as_str()), (403, Some("AccessDeniedException")), "{denied}");
    assert!(denied["message"].as_str().is_some_and(|m| m.contains("lambda:GetFunction")), "{denied}");

    let (status, unknown) = call(&env, Method::PATCH, functions, Value::Null, account()).await;
    assert_eq!((status, unknown["x-amzn-ErrorType"].as_str()), (404, Some("UnknownOperationException")), "{unknown}");
}

#[tokio::test]
async fn list_functions_pages_by_marker_and_refuses_a_foreign_one() {
    use crate::services::pagination::test_support::assert_each_once;
    let env = env();
    let create = |name: String| {
        let env = env.clone();
        async move {
            let mut input = create_input(ROLE);
            input["FunctionName"] = json!(name);
            let (status, created) = call(&env, Method::POST, "/2015-03-31/functions", input, account()).await;
            assert_eq!(status, 201, "{created}");
        }
    };
    for i in 0..5 {
        create(format!("fn-{i}")).await;
    }
    let mut pages = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let path = match &marker {
            None => "/2015-03-31/functions?MaxItems=2".to_owned(),
            Some(m) => format!("/2015-03-31/functions?MaxItems=2&Marker={m}"),
        };
        let (status, page) = call(&env, Method::GET, &path, Value::Null, account()).await;
        assert_eq!(status, 200, "{page}");
        let names = page["Functions"].as_array().expect("Functions").iter();
        pages.push(names.map(|f| f["FunctionName"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>());
        if pages.len() == 1 {
            create("fn-9".to_owned()).await; // after the marker: served once, on a later page
            create("fn-00".to_owned()).await; // before it: not served, and nothing repeats
        }
        match page["NextMarker"].as_str() {
            Some(next) => marker = Some(next.to_owned()),
            None => break,
        }
    }
    assert_each_once(&pages, &["fn-0", "fn-1", "fn-2", "fn-3", "fn-4", "fn-9"], 2);
    assert_eq!(pages.len(), 3, "{pages:?}");

    let (status, all) = call(&env, Method::GET, "/2015-03-31/functions", Value::Null, account()).await;
    assert_eq!((status, all["Functions"].as_array().map(Vec::len), all.get("NextMarker")), (200, Some(7), None));
    let (status, refused) =
        call(&env, Method::GET, "/2015-03-31/functions?Marker=garbage", Value::Null, account()).await;
    assert_eq!((status, refused["x-amzn-ErrorType"].as_str()), (400, Some("InvalidParameterValueException")));
    for size in ["0", "51", "many"] {
        let path = format!("/2015-03-31/functions?MaxItems={size}");
        let (status, refused) = call(&env, Method::GET, &path, Value::Null, account()).await;
        assert_eq!((status, refused["x-amzn-ErrorType"].as_str()), (400, Some("ValidationException")), "{refused}");
    }
}
