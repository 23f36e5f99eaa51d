"""boto3 against the emulator's Lambda (AWS_ENDPOINT_URL): create, invoke (value, error, timeout, logs,
role credentials), update, permissions, delete."""
import base64
import io
import json
import uuid
import zipfile

import boto3
from botocore.exceptions import ClientError

iam = boto3.client("iam")
lam = boto3.client("lambda")
suffix = uuid.uuid4().hex[:8]
name = "smoke-" + suffix

HANDLER = '''
import json, os, time
import boto3

def handler(event, context):
    if event.get("raise"):
        raise ValueError("boom")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    print("hello from", context.function_name)
    identity = boto3.client("sts").get_caller_identity()
    return {"arn": identity["Arn"], "env": os.environ.get("GREETING"), "remaining": context.get_remaining_time_in_millis() > 0}
'''


def package(source):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("app.py", source)
    return buffer.getvalue()


def invoke(payload, **kwargs):
    out = lam.invoke(FunctionName=name, Payload=json.dumps(payload), **kwargs)
    return out, json.loads(out["Payload"].read())


def expect_error(code, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        assert error.response["Error"]["Code"] == code, error.response
        return
    raise AssertionError("expected " + code)


trust = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="role-" + suffix, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]

expect_error("InvalidParameterValueException", lam.create_function, FunctionName=name, Runtime="python3.8",
             Role="arn:aws:iam::000000000000:role/nope", Handler="app.handler", Code={"ZipFile": package(HANDLER)})
created = lam.create_function(FunctionName=name, Runtime="python3.8", Role=role, Handler="app.handler",
                              Code={"ZipFile": package(HANDLER)}, Timeout=2,
                              Environment={"Variables": {"GREETING": "hi"}})
assert created["State"] == "Pending", created
lam.get_waiter("function_active_v2").wait(FunctionName=name)
expect_error("ResourceConflictException", lam.create_function, FunctionName=name, Runtime="python3.8", Role=role,
             Handler="app.handler", Code={"ZipFile": package(HANDLER)})
expect_error("ResourceNotFoundException", lam.get_function, FunctionName="nope-" + suffix)

out, payload = invoke({}, LogType="Tail")
assert "FunctionError" not in out, payload
assert payload["arn"] == "arn:aws:sts::000000000000:assumed-role/role-%s/%s" % (suffix, name), payload
assert payload["env"] == "hi" and payload["remaining"], payload
assert "hello from " + name in base64.b64decode(out["LogResult"]).decode(), out["LogResult"]

out, payload = invoke({"raise": True})
assert out["FunctionError"] == "Unhandled", out
assert payload["errorType"] == "ValueError" and payload["errorMessage"] == "boom", payload
assert isinstance(payload["stackTrace"], list), payload

out, payload = invoke({"sleep": 3})
assert out["FunctionError"] == "Unhandled", out
assert payload["errorMessage"] == "Task timed out after 2.00 seconds", payload
out, payload = invoke({})
assert "FunctionError" not in out, payload

assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
assert lam.invoke(FunctionName=name, InvocationType="DryRun", Payload=b"{}")["StatusCode"] == 204

lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GREETING": "bonjour"}})
lam.get_waiter("function_updated_v2").wait(FunctionName=name)
out, payload = invoke({})
assert payload["env"] == "bonjour", payload

statement = lam.add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                               Principal="apigateway.amazonaws.com",
                               SourceArn="arn:aws:execute-api:us-east-1:000000000000:abc/*/POST/x")["Statement"]
assert json.loads(statement)["Principal"] == {"Service": "apigateway.amazonaws.com"}, statement
expect_error("ResourceConflictException", lam.add_permission, FunctionName=name, StatementId="apigw",
             Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com")
policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
assert [s["Sid"] for s in policy["Statement"]] == ["apigw"], policy
lam.remove_permission(FunctionName=name, StatementId="apigw")
expect_error("ResourceNotFoundException", lam.get_policy, FunctionName=name)

assert name in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
lam.delete_function(FunctionName=name)
expect_error("ResourceNotFoundException", lam.get_function, FunctionName=name)
print("lambda smoke: ok")
