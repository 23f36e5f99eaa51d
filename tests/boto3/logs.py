"""boto3 against the emulator's CloudWatch Logs (AWS_ENDPOINT_URL): groups, streams, events, paginators, filter
patterns, retention, refusals; and what Lambda writes there (streams named as AWS names them, START / END / REPORT,
the handler's prints, an unhandled error), only when the function's role may write logs; Invoke's LogType=Tail."""
import base64
import io
import json
import re
import time
import uuid
import zipfile

import boto3
from botocore.exceptions import ClientError

logs = boto3.client("logs")
iam = boto3.client("iam")
lam = boto3.client("lambda")
suffix = uuid.uuid4().hex[:8]
group = "/crts/test-" + suffix


def expect_error(code, message, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        assert error.response["Error"]["Code"] == code, error.response
        assert message in error.response["Error"]["Message"], error.response
        return
    raise AssertionError("expected " + code)


def now_ms():
    return int(time.time() * 1000)


# --- The API
logs.create_log_group(logGroupName=group, tags={"team": "crts"})
expect_error("ResourceAlreadyExistsException", "already exists", logs.create_log_group, logGroupName=group)
logs.put_retention_policy(logGroupName=group, retentionInDays=14)
expect_error("InvalidParameterException", "Member must satisfy enum value set", logs.put_retention_policy,
             logGroupName=group, retentionInDays=2)
for stream in ("app/a", "app/b", "other"):
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
start = now_ms() - 60_000
for i in range(30):
    stream = ("app/a", "app/b", "other")[i % 3]
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": start + i * 100, "message": "event %d level=%s" % (i, "ERROR" if i % 5 == 0 else "INFO")}])
expect_error("InvalidParameterException", "chronological order", logs.put_log_events, logGroupName=group,
             logStreamName="other", logEvents=[{"timestamp": start + 2, "message": "b"}, {"timestamp": start + 1, "message": "a"}])
expect_error("ResourceNotFoundException", "The specified log stream does not exist.", logs.put_log_events,
             logGroupName=group, logStreamName="missing", logEvents=[{"timestamp": start, "message": "x"}])

described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
assert [g["logGroupName"] for g in described] == [group], described
assert described[0]["retentionInDays"] == 14 and described[0]["arn"].endswith(":log-group:%s:*" % group), described
assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"team": "crts"}

# Paginators: DescribeLogStreams three at a time, FilterLogEvents seven at a time (every event once).
pages = list(logs.get_paginator("describe_log_streams").paginate(logGroupName=group, PaginationConfig={"PageSize": 2}))
assert [len(p["logStreams"]) for p in pages] == [2, 1], pages
events = [e for p in logs.get_paginator("filter_log_events").paginate(logGroupName=group, PaginationConfig={"PageSize": 7})
          for e in p["events"]]
assert len(events) == 30 and len({e["eventId"] for e in events}) == 30, len(events)
assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events), "interleaved by time"

# Filter patterns: a term, a quoted phrase, alternatives and exclusion, a stream prefix.
errors = logs.filter_log_events(logGroupName=group, filterPattern="ERROR")["events"]
assert [e["message"] for e in errors] == ["event %d level=ERROR" % i for i in (0, 5, 10, 15, 20, 25)], errors
phrase = logs.filter_log_events(logGroupName=group, filterPattern='"event 7 level"')["events"]
assert [e["message"] for e in phrase] == ["event 7 level=INFO"], phrase
either = logs.filter_log_events(logGroupName=group, filterPattern='?"event 1 " ?"event 2 "', logStreamNamePrefix="app/")["events"]
assert sorted(e["message"] for e in either) == ["event 1 level=INFO"], either
excluded = logs.filter_log_events(logGroupName=group, filterPattern="ERROR -\"event 0 \"", logStreamNames=["app/a"])["events"]
assert [e["message"] for e in excluded] == ["event 15 level=ERROR"], excluded
expect_error("InvalidParameterException", "Invalid filter pattern", logs.filter_log_events, logGroupName=group,
             filterPattern="RequestId:")

# GetLogEvents from the head, then forward until the token repeats (how SDKs read a stream to its end).
seen, token = [], None
while True:
    kwargs = {"nextToken": token} if token else {"startFromHead": True}
    out = logs.get_log_events(logGroupName=group, logStreamName="app/a", limit=4, **kwargs)
    seen.extend(e["message"] for e in out["events"])
    if out["nextForwardToken"] == token:
        break
    token = out["nextForwardToken"]
assert seen == ["event %d level=%s" % (i, "ERROR" if i % 5 == 0 else "INFO") for i in range(0, 30, 3)], seen
expect_error("InvalidParameterException", "nextToken", logs.get_log_events, logGroupName=group,
             logStreamName="app/a", nextToken="f/1/s")

logs.delete_log_stream(logGroupName=group, logStreamName="other")
logs.delete_log_group(logGroupName=group)
expect_error("ResourceNotFoundException", "The specified log group does not exist.", logs.delete_log_group,
             logGroupName=group)

# --- What Lambda writes
HANDLER = '''
def handler(event, context):
    if event.get("raise"):
        raise ValueError("boom")
    print("hello from", context.function_name, "in", context.log_stream_name)
    if event.get("big"):
        print("x" * 10000)
    return {"stream": context.log_stream_name}
'''
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as z:
    z.writestr("app.py", HANDLER)
trust = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def function(name, may_log):
    role = iam.create_role(RoleName="logs-" + name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    if may_log:
        iam.attach_role_policy(RoleName=role["RoleName"],
                               PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    lam.create_function(FunctionName=name, Runtime="python3.8", Role=role["Arn"], Handler="app.handler",
                        Code={"ZipFile": buffer.getvalue()})
    lam.get_waiter("function_active_v2").wait(FunctionName=name)


name = "logged-" + suffix
function(name, True)
out = lam.invoke(FunctionName=name, Payload=b"{}")
stream = json.loads(out["Payload"].read())["stream"]
assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", stream), stream
lam.invoke(FunctionName=name, Payload=json.dumps({"raise": True}))
streams = logs.describe_log_streams(logGroupName="/aws/lambda/" + name)["logStreams"]
assert [s["logStreamName"] for s in streams] == [stream], (streams, stream)
messages = [e["message"] for e in logs.get_log_events(logGroupName="/aws/lambda/" + name, logStreamName=stream,
                                                      startFromHead=True)["events"]]
assert messages[0].startswith("START RequestId: ") and messages[0].endswith(" Version: $LATEST"), messages
assert messages[1] == "hello from %s in %s" % (name, stream), messages
assert messages[2].startswith("END RequestId: "), messages
report = messages[3]
assert re.match(r"REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\t"
                r"Max Memory Used: \d+ MB\tInit Duration: [\d.]+ ms", report), report
assert "Init Duration" not in messages[-1], "only an execution environment's first invocation reports its init"
error = [m for m in messages if m.startswith("[ERROR]")]
assert len(error) == 1 and error[0].startswith("[ERROR] ValueError: boom\rTraceback (most recent call last):"), messages
found = logs.filter_log_events(logGroupName="/aws/lambda/" + name, filterPattern='"hello from"')["events"]
assert [e["logStreamName"] for e in found] == [stream], found

# LogType=Tail: the last 4 KB of the invocation's log, ending with its REPORT line.
out = lam.invoke(FunctionName=name, Payload=json.dumps({"big": True}), LogType="Tail")
tail = base64.b64decode(out["LogResult"]).decode()
assert len(tail.encode()) == 4096 and tail.rstrip("\t\n").split("\n")[-1].startswith("REPORT RequestId: "), tail[-300:]

# A role that may not write logs: the function runs, its output is not kept (as on AWS).
silent = "silent-" + suffix
function(silent, False)
assert "FunctionError" not in lam.invoke(FunctionName=silent, Payload=b"{}")
assert logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/" + silent)["logGroups"] == []

print("logs: ok")
