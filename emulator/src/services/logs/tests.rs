//! CloudWatch Logs driven through its entry point (`logs::handle`): groups, streams and events read back, paging,
//! what Lambda and Batch write through [`LogSink`], and every refusal in AWS's words.

use http::{HeaderValue, Method};
use serde_json::{Value, json};

use super::{LogSink, Logs, TARGET_PREFIX, now_ms};
use crate::identity::Caller;
use crate::protocol::test_request;
use crate::services::Authorize;
use crate::services::test_support::{AllowAll, DenyRoles, account, role_session};

async fn call_as(logs: &Logs, iam: &dyn Authorize, operation: &str, input: Value, caller: Caller) -> (u16, Value) {
    let mut req = test_request(Method::POST, "/", input.to_string().as_bytes(), caller);
    let target = format!("{TARGET_PREFIX}.{operation}");
    req.headers.insert("x-amz-target", HeaderValue::from_str(&target).expect("a header value"));
    let response = super::handle(logs, iam, req).await;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn call(logs: &Logs, operation: &str, input: Value) -> (u16, Value) {
    call_as(logs, &AllowAll, operation, input, account()).await
}

async fn ok(logs: &Logs, operation: &str, input: Value) -> Value {
    let (status, out) = call(logs, operation, input.clone()).await;
    assert_eq!(status, 200, "{operation} {input}: {out}");
    out
}

fn messages(out: &Value) -> Vec<&str> {
    out["events"].as_array().expect("events").iter().map(|e| e["message"].as_str().expect("a message")).collect()
}

#[tokio::test]
async fn groups_streams_and_events_are_written_and_read_back() {
    let logs = Logs::new();
    ok(&logs, "CreateLogGroup", json!({"logGroupName": "/aws/lambda/crts", "tags": {"team": "crts"}})).await;
    ok(&logs, "PutRetentionPolicy", json!({"logGroupName": "/aws/lambda/crts", "retentionInDays": 7})).await;
    ok(&logs, "CreateLogStream", json!({"logGroupName": "/aws/lambda/crts", "logStreamName": "a"})).await;
    let now = now_ms();
    let events: Vec<Value> =
        (0..5).map(|i| json!({"timestamp": now - 5000 + i * 1000, "message": format!("line {i}")})).collect();
    let put = ok(
        &logs,
        "PutLogEvents",
        json!({"logGroupName": "/aws/lambda/crts", "logStreamName": "a", "logEvents": events}),
    )
    .await;
    assert!(put["nextSequenceToken"].is_string() && put.get("rejectedLogEventsInfo").is_none(), "{put}");

    let groups = ok(&logs, "DescribeLogGroups", json!({"logGroupNamePrefix": "/aws/lambda/"})).await;
    let group = &groups["logGroups"][0];
    assert_eq!(group["logGroupName"], "/aws/lambda/crts");
    assert_eq!(group["retentionInDays"], 7);
    assert_eq!(group["arn"], "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/crts:*");
    assert_eq!(group["storedBytes"], 30);
    let tags = ok(&logs, "ListTagsLogGroup", json!({"logGroupName": "/aws/lambda/crts"})).await;
    assert_eq!(tags["tags"], json!({"team": "crts"}));

    let streams = ok(&logs, "DescribeLogStreams", json!({"logGroupName": "/aws/lambda/crts"})).await;
    assert_eq!(streams["logStreams"][0]["firstEventTimestamp"], now - 5000);
    assert_eq!(streams["logStreams"][0]["lastEventTimestamp"], now - 1000);

    // GetLogEvents: the last two by default; backward from there; forward to the end, where the token repeats.
    let get = |token: Option<&str>, head: bool| {
        let mut input =
            json!({"logGroupName": "/aws/lambda/crts", "logStreamName": "a", "limit": 2, "startFromHead": head});
        if let Some(token) = token {
            input["nextToken"] = json!(token);
        }
        input
    };
    let tail = ok(&logs, "GetLogEvents", get(None, false)).await;
    assert_eq!(messages(&tail), ["line 3", "line 4"]);
    let before = ok(&logs, "GetLogEvents", get(tail["nextBackwardToken"].as_str(), false)).await;
    assert_eq!(messages(&before), ["line 1", "line 2"]);
    let head = ok(&logs, "GetLogEvents", get(None, true)).await;
    assert_eq!(messages(&head), ["line 0", "line 1"]);
    let end = ok(&logs, "GetLogEvents", get(tail["nextForwardToken"].as_str(), false)).await;
    assert_eq!((messages(&end).len(), &end["nextForwardToken"]), (0, &tail["nextForwardToken"]));

    // An event older than the last, sent later, is read in timestamp order.
    ok(
        &logs,
        "PutLogEvents",
        json!({"logGroupName": "/aws/lambda/crts", "logStreamName": "a", "logEvents": [{"timestamp": now - 4500, "message": "late"}]}),
    )
    .await;
    let all = ok(
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "/aws/lambda/crts", "logStreamName": "a", "startFromHead": true}),
    )
    .await;
    assert_eq!(messages(&all), ["line 0", "late", "line 1", "line 2", "line 3", "line 4"]);

    ok(&logs, "DeleteLogStream", json!({"logGroupName": "/aws/lambda/crts", "logStreamName": "a"})).await;
    ok(&logs, "DeleteLogGroup", json!({"logGroupName": "/aws/lambda/crts"})).await;
    assert_eq!(ok(&logs, "DescribeLogGroups", json!({})).await["logGroups"], json!([]));
}

#[tokio::test]
async fn filter_log_events_interleaves_streams_filters_and_pages() {
    let logs = Logs::new();
    let now = now_ms();
    for (stream, offset) in [("2026/12/04/[$LATEST]aa", 0), ("2026/12/04/[$LATEST]bb", 500)] {
        let events: Vec<(i64, String)> = (0..3)
            .map(|i| (now - 10_000 + i * 1000 + offset, format!("START RequestId: {stream}-{i} Version: $LATEST")))
            .chain([(now - 1000 + offset, format!("[ERROR] Exception: boom in {stream}"))])
            .collect();
        assert!(logs.append("123456789012", "us-east-1", "/aws/lambda/crts", stream, events, true));
    }
    let all = ok(&logs, "FilterLogEvents", json!({"logGroupName": "/aws/lambda/crts"})).await;
    let streams: Vec<&str> = all["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["logStreamName"].as_str().expect("a name"))
        .collect();
    assert_eq!(streams.len(), 8);
    assert_eq!(streams[..2], ["2026/12/04/[$LATEST]aa", "2026/12/04/[$LATEST]bb"], "interleaved by timestamp");
    assert_eq!(all["searchedLogStreams"], json!([]));

    let errors =
        ok(&logs, "FilterLogEvents", json!({"logGroupName": "/aws/lambda/crts", "filterPattern": "ERROR -bb"})).await;
    assert_eq!(messages(&errors), ["[ERROR] Exception: boom in 2026/12/04/[$LATEST]aa"]);
    let phrase = ok(
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "/aws/lambda/crts", "filterPattern": "\"RequestId: 2026/12/04/[$LATEST]bb-1\"", "logStreamNamePrefix": "2026/12/04/[$LATEST]b"}),
    )
    .await;
    assert_eq!(messages(&phrase), ["START RequestId: 2026/12/04/[$LATEST]bb-1 Version: $LATEST"]);
    let window = ok(
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "/aws/lambda/crts", "startTime": now - 9000, "endTime": now - 8000}),
    )
    .await;
    assert_eq!(messages(&window).len(), 3, "both ends inclusive: {window}");

    // Paged three at a time, every event once, also with an event added between pages.
    let mut token: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let mut input = json!({"logGroupName": "/aws/lambda/crts", "limit": 3});
        if let Some(token) = &token {
            input["nextToken"] = json!(token);
        }
        let page = ok(&logs, "FilterLogEvents", input).await;
        seen.extend(
            page["events"].as_array().expect("events").iter().map(|e| e["eventId"].as_str().expect("an id").to_owned()),
        );
        if seen.len() == 3 {
            logs.append(
                "123456789012",
                "us-east-1",
                "/aws/lambda/crts",
                "2026/12/04/[$LATEST]aa",
                vec![(now, "new".into())],
                false,
            );
        }
        match page["nextToken"].as_str() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    let unique: std::collections::BTreeSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (9, 9), "{seen:?}");
    assert!(seen.iter().all(|id| id.len() == 56 && id.bytes().all(|b| b.is_ascii_digit())));
}

#[tokio::test]
async fn describe_operations_page_and_order_as_aws_does() {
    let logs = Logs::new();
    for i in 0..7 {
        ok(&logs, "CreateLogGroup", json!({"logGroupName": format!("/crts/{i}")})).await;
    }
    let first = ok(&logs, "DescribeLogGroups", json!({"limit": 5})).await;
    assert_eq!(first["logGroups"].as_array().map(Vec::len), Some(5));
    let rest = ok(&logs, "DescribeLogGroups", json!({"limit": 5, "nextToken": first["nextToken"]})).await;
    assert_eq!((rest["logGroups"].as_array().map(Vec::len), rest.get("nextToken")), (Some(2), None));
    let pattern = ok(&logs, "DescribeLogGroups", json!({"logGroupNamePattern": "RTS/6"})).await;
    assert_eq!(pattern["logGroups"][0]["logGroupName"], "/crts/6");

    let now = now_ms();
    for (stream, at) in [("b", now - 3000), ("a", now - 1000), ("c", now - 2000)] {
        logs.append("123456789012", "us-east-1", "/crts/0", stream, vec![(at, "x".into())], false);
    }
    let names = |out: &Value| -> Vec<String> {
        out["logStreams"]
            .as_array()
            .expect("streams")
            .iter()
            .map(|s| s["logStreamName"].as_str().expect("a name").to_owned())
            .collect()
    };
    let by =
        |order: &str, descending: bool| json!({"logGroupName": "/crts/0", "orderBy": order, "descending": descending});
    assert_eq!(names(&ok(&logs, "DescribeLogStreams", by("LogStreamName", false)).await), ["a", "b", "c"]);
    assert_eq!(names(&ok(&logs, "DescribeLogStreams", by("LogStreamName", true)).await), ["c", "b", "a"]);
    assert_eq!(names(&ok(&logs, "DescribeLogStreams", by("LastEventTime", false)).await), ["b", "c", "a"]);
    assert_eq!(names(&ok(&logs, "DescribeLogStreams", by("LastEventTime", true)).await), ["a", "c", "b"]);
}

#[tokio::test]
async fn retention_drops_old_events_and_rejects_what_aws_rejects() {
    let logs = Logs::new();
    ok(&logs, "CreateLogGroup", json!({"logGroupName": "g"})).await;
    ok(&logs, "CreateLogStream", json!({"logGroupName": "g", "logStreamName": "s"})).await;
    let now = now_ms();
    let day = super::DAY_MS;
    let put = ok(
        &logs,
        "PutLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [
            {"timestamp": now - 15 * day, "message": "too old"},
        ]}),
    )
    .await;
    assert_eq!(put["rejectedLogEventsInfo"], json!({"tooOldLogEventEndIndex": 0}));
    for (timestamp, message) in [(now - 2 * day, "two days"), (now - day / 2, "recent")] {
        let put = ok(
            &logs,
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": timestamp, "message": message}]}),
        )
        .await;
        assert!(put.get("rejectedLogEventsInfo").is_none(), "{put}");
    }
    let put = ok(
        &logs,
        "PutLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [
            {"timestamp": now, "message": "now"},
            {"timestamp": now + 3 * 60 * 60 * 1000, "message": "too new"},
        ]}),
    )
    .await;
    assert_eq!(put["rejectedLogEventsInfo"], json!({"tooNewLogEventStartIndex": 1}));
    ok(&logs, "PutRetentionPolicy", json!({"logGroupName": "g", "retentionInDays": 1})).await;
    let all =
        ok(&logs, "GetLogEvents", json!({"logGroupName": "g", "logStreamName": "s", "startFromHead": true})).await;
    assert_eq!(messages(&all), ["recent", "now"], "the two-day-old event is past the retention");
    let put = ok(
        &logs,
        "PutLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": now - 2 * day, "message": "expired"}]}),
    )
    .await;
    assert_eq!(put["rejectedLogEventsInfo"], json!({"expiredLogEventEndIndex": 0}));
}

#[tokio::test]
async fn refusals_are_answered_in_cloudwatch_logs_words() {
    let logs = Logs::new();
    ok(&logs, "CreateLogGroup", json!({"logGroupName": "g"})).await;
    ok(&logs, "CreateLogStream", json!({"logGroupName": "g", "logStreamName": "s"})).await;
    let now = now_ms();
    let big = "x".repeat(600_000);
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "CreateLogGroup",
            json!({"logGroupName": "g"}),
            "ResourceAlreadyExistsException",
            "The specified log group already exists",
        ),
        (
            "CreateLogGroup",
            json!({"logGroupName": "bad:name"}),
            "InvalidParameterException",
            "1 validation error detected: Value 'bad:name' at 'logGroupName' failed to satisfy constraint",
        ),
        (
            "CreateLogGroup",
            json!({}),
            "InvalidParameterException",
            "1 validation error detected: Value null at 'logGroupName'",
        ),
        (
            "CreateLogStream",
            json!({"logGroupName": "g", "logStreamName": "s"}),
            "ResourceAlreadyExistsException",
            "The specified log stream already exists",
        ),
        (
            "CreateLogStream",
            json!({"logGroupName": "none", "logStreamName": "s"}),
            "ResourceNotFoundException",
            "The specified log group does not exist.",
        ),
        (
            "CreateLogStream",
            json!({"logGroupName": "g", "logStreamName": "a*b"}),
            "InvalidParameterException",
            "1 validation error detected: Value 'a*b' at 'logStreamName'",
        ),
        (
            "DeleteLogGroup",
            json!({"logGroupName": "none"}),
            "ResourceNotFoundException",
            "The specified log group does not exist.",
        ),
        (
            "DeleteLogStream",
            json!({"logGroupName": "g", "logStreamName": "none"}),
            "ResourceNotFoundException",
            "The specified log stream does not exist.",
        ),
        (
            "PutRetentionPolicy",
            json!({"logGroupName": "g", "retentionInDays": 2}),
            "InvalidParameterException",
            "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5,",
        ),
        (
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "none", "logEvents": [{"timestamp": now, "message": "x"}]}),
            "ResourceNotFoundException",
            "The specified log stream does not exist.",
        ),
        (
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": []}),
            "InvalidParameterException",
            "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ),
        (
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}]}),
            "InvalidParameterException",
            "Log events in a single PutLogEvents request must be in chronological order.",
        ),
        (
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": now - 25 * 3_600_000, "message": "a"}, {"timestamp": now, "message": "b"}]}),
            "InvalidParameterException",
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        ),
        (
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": now, "message": big}, {"timestamp": now, "message": big}]}),
            "InvalidParameterException",
            "Upload too large: 1200052 bytes exceeds limit of 1048576",
        ),
        (
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": now, "message": ""}]}),
            "InvalidParameterException",
            "1 validation error detected: Value '' at 'logEvents.1.member.message'",
        ),
        (
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "nextToken": "f/123/s"}),
            "InvalidParameterException",
            "The specified nextToken is invalid.",
        ),
        (
            "GetLogEvents",
            json!({"logGroupName": "g", "logGroupIdentifier": "g", "logStreamName": "s"}),
            "InvalidParameterException",
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
        ),
        (
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "none"}),
            "ResourceNotFoundException",
            "The specified log stream does not exist.",
        ),
        (
            "FilterLogEvents",
            json!({"logGroupName": "none"}),
            "ResourceNotFoundException",
            "The specified log group does not exist.",
        ),
        (
            "FilterLogEvents",
            json!({"logGroupName": "g", "filterPattern": "RequestId:"}),
            "InvalidParameterException",
            "Invalid filter pattern: Invalid character(s) in term 'RequestId:'",
        ),
        (
            "FilterLogEvents",
            json!({"logGroupName": "g", "nextToken": "garbage"}),
            "InvalidParameterException",
            "The specified nextToken is invalid.",
        ),
        (
            "FilterLogEvents",
            json!({"logGroupName": "g", "limit": 0}),
            "InvalidParameterException",
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
        ),
        (
            "DescribeLogGroups",
            json!({"limit": 51}),
            "InvalidParameterException",
            "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50",
        ),
        (
            "DescribeLogStreams",
            json!({"logGroupName": "g", "orderBy": "LastEventTime", "logStreamNamePrefix": "s"}),
            "InvalidParameterException",
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ),
        (
            "ListTagsForResource",
            json!({"resourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:none"}),
            "ResourceNotFoundException",
            "The specified resource arn:aws:logs:us-east-1:123456789012:log-group:none does not exist.",
        ),
        (
            "StartLiveTail",
            json!({}),
            "UnknownOperationException",
            "crts-emulator does not implement the CloudWatch Logs operation StartLiveTail",
        ),
    ];
    for (operation, input, code, message) in cases {
        let (status, out) = call(&logs, operation, input.clone()).await;
        assert_eq!((status, out["__type"].as_str()), (400, Some(code)), "{operation} {input}: {out}");
        let said = out["message"].as_str().unwrap_or_default();
        assert!(said.starts_with(message), "{operation} {input}: {said}");
    }

    // A role session without logs permissions is refused with the action named.
    let (status, denied) = call_as(&logs, &DenyRoles, "DescribeLogGroups", json!({}), role_session()).await;
    assert_eq!((status, denied["__type"].as_str()), (400, Some("AccessDeniedException")), "{denied}");
    assert!(denied["message"].as_str().unwrap_or_default().contains("logs:DescribeLogGroups"), "{denied}");
}

#[test]
fn a_writer_that_may_not_create_the_group_loses_its_output_as_on_aws() {
    let logs = Logs::new();
    assert!(!logs.append("1", "r", "/aws/batch/job", "s", vec![(now_ms(), "lost".into())], false));
    assert_eq!(logs.messages("1", "r", "/aws/batch/job", "s"), None);
    assert!(logs.append("1", "r", "/aws/batch/job", "s", vec![(now_ms(), "kept".into())], true));
    assert_eq!(logs.messages("1", "r", "/aws/batch/job", "s"), Some(vec!["kept".to_owned()]));
}
