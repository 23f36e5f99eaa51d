"""boto3 against the emulator's API Gateway (AWS_ENDPOINT_URL), past the runbook's happy path: a usage plan's quota
and throttle enforced on execute-api (200, 200, then 429 Limit Exceeded / Too Many Requests, customisable as
gateway responses), GetUsage and UpdateUsage, GetExport of a stage (swagger and oas30, JSON and YAML, with and
without the integration extensions), and TestInvokeMethod on a Lambda proxy and a MOCK method."""
import datetime
import io
import json
import os
import time
import urllib.error
import urllib.request
import zipfile

import boto3
import yaml
from botocore.exceptions import ClientError

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
apigw = boto3.client("apigateway")
SUFFIX = str(int(time.time() * 1000))


def expect_error(code, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        assert error.response["Error"]["Code"] == code, error.response
        return error.response["Error"]["Message"]
    raise AssertionError("expected " + code)


def request(url, key=None, method="GET"):
    headers = {"x-api-key": key} if key else {}
    req = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def mock_api(name, path_part="items"):
    """An API with GET /{path_part} (MOCK, API key required) deployed to stage `prod`."""
    api = apigw.create_rest_api(name=name, description="usage and export")
    api_id = api["id"]
    resource = apigw.create_resource(restApiId=api_id, parentId=api["rootResourceId"], pathPart=path_part)
    rid = resource["id"]
    apigw.put_method(restApiId=api_id, resourceId=rid, httpMethod="GET", authorizationType="NONE",
                     apiKeyRequired=True, requestParameters={"method.request.querystring.page": False})
    apigw.put_method_response(restApiId=api_id, resourceId=rid, httpMethod="GET", statusCode="200",
                              responseModels={"application/json": "Empty"})
    apigw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_integration_response(restApiId=api_id, resourceId=rid, httpMethod="GET", statusCode="200",
                                   responseTemplates={"application/json": '{"items": []}'})
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    return api_id, rid


def url(api_id, stage, path):
    return f"{ENDPOINT}/_aws/execute-api/{api_id}/{stage}/{path}"


def new_key(name):
    return apigw.create_api_key(name=name + "-" + SUFFIX, enabled=True)


# --- 1. Quota: 2 a day; the third request is refused with AWS's 429 and not counted.
api_id, rid = mock_api("usage-" + SUFFIX)
key = new_key("quota")
plan = apigw.create_usage_plan(name="quota-" + SUFFIX, apiStages=[{"apiId": api_id, "stage": "prod"}],
                               quota={"limit": 2, "period": "DAY"},
                               throttle={"rateLimit": 100.0, "burstLimit": 100})
assert plan["quota"] == {"limit": 2, "offset": 0, "period": "DAY"}, plan
assert plan["throttle"] == {"burstLimit": 100, "rateLimit": 100.0}, plan
apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
statuses = [request(url(api_id, "prod", "items"), key["value"]) for _ in range(3)]
assert [s for s, _, _ in statuses] == [200, 200, 429], statuses
status, headers, body = statuses[2]
assert json.loads(body) == {"message": "Limit Exceeded"}, body
assert headers["x-amzn-ErrorType"] == "LimitExceededException", dict(headers)
# A missing key is still 403, not 429.
assert request(url(api_id, "prod", "items"))[0] == 403

today = datetime.datetime.now(datetime.timezone.utc).date()
start = (today - datetime.timedelta(days=1)).isoformat()
usage = apigw.get_usage(usagePlanId=plan["id"], startDate=start, endDate=today.isoformat())
assert usage["usagePlanId"] == plan["id"] and usage["startDate"] == start, usage
assert usage["items"] == {key["id"]: [[0, 2], [2, 0]]}, usage
expect_error("BadRequestException", apigw.get_usage, usagePlanId=plan["id"], startDate=today.isoformat(),
             endDate=start)
expect_error("BadRequestException", apigw.get_usage, usagePlanId=plan["id"], startDate="yesterday",
             endDate=start)
expect_error("NotFoundException", apigw.get_usage, usagePlanId="nope", startDate=start, endDate=start)

# UpdateUsage grants more of today's quota: one more request passes, then 429 again.
updated = apigw.update_usage(usagePlanId=plan["id"], keyId=key["id"],
                             patchOperations=[{"op": "replace", "path": "/remaining", "value": "1"}])
assert updated["items"][key["id"]][-1] == [2, 1], updated
assert [request(url(api_id, "prod", "items"), key["value"])[0] for _ in range(2)] == [200, 429]

# QUOTA_EXCEEDED is a gateway response like the others.
apigw.put_gateway_response(restApiId=api_id, responseType="QUOTA_EXCEEDED", statusCode="429",
                           responseParameters={"gatewayresponse.header.Retry-After": "'86400'"},
                           responseTemplates={"application/json": '{"error": "$context.error.message"}'})
apigw.create_deployment(restApiId=api_id, stageName="prod")
status, headers, body = request(url(api_id, "prod", "items"), key["value"])
assert (status, headers["Retry-After"], json.loads(body)) == (429, "86400", {"error": "Limit Exceeded"}), body

# --- 2. Throttle: a burst of 1 refilled once in ~16 minutes: the second immediate request is refused.
key2 = new_key("throttle")
plan2 = apigw.create_usage_plan(name="throttle-" + SUFFIX, apiStages=[{"apiId": api_id, "stage": "prod"}],
                                throttle={"rateLimit": 0.001, "burstLimit": 1})
apigw.create_usage_plan_key(usagePlanId=plan2["id"], keyId=key2["id"], keyType="API_KEY")
first, second = (request(url(api_id, "prod", "items"), key2["value"]) for _ in range(2))
assert first[0] == 200, first
assert (second[0], json.loads(second[2])) == (429, {"message": "Too Many Requests"}), second
assert second[1]["x-amzn-ErrorType"] == "TooManyRequestsException", dict(second[1])
# A method throttle in the plan (`/path/METHOD`) replaces the plan's for that method.
key4 = new_key("method")
plan4 = apigw.create_usage_plan(name="method-" + SUFFIX, throttle={"rateLimit": 100.0, "burstLimit": 100},
                                apiStages=[{"apiId": api_id, "stage": "prod",
                                            "throttle": {"/items/GET": {"rateLimit": 0.0, "burstLimit": 0}}}])
assert plan4["apiStages"][0]["throttle"] == {"/items/GET": {"burstLimit": 0, "rateLimit": 0.0}}, plan4
apigw.create_usage_plan_key(usagePlanId=plan4["id"], keyId=key4["id"], keyType="API_KEY")
assert request(url(api_id, "prod", "items"), key4["value"])[0] == 429
updated = apigw.update_usage_plan(usagePlanId=plan2["id"], patchOperations=[
    {"op": "replace", "path": "/throttle/burstLimit", "value": "5"}])
assert updated["throttle"] == {"burstLimit": 5, "rateLimit": 0.001}, updated
expect_error("BadRequestException", apigw.update_usage_plan, usagePlanId=plan2["id"],
             patchOperations=[{"op": "replace", "path": "/quota/period", "value": "YEAR"}])
expect_error("BadRequestException", apigw.create_usage_plan, name="bad", quota={"limit": 5, "period": "HOUR"})
usage2 = apigw.get_usage(usagePlanId=plan2["id"], startDate=today.isoformat(), endDate=today.isoformat())
assert usage2["items"] == {key2["id"]: [[1, 0]]}, usage2

# Stage-wide throttling through the stage's */* method settings applies to every request, keyed or not.
stage = apigw.update_stage(restApiId=api_id, stageName="prod", patchOperations=[
    {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "0"}])
assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 0, stage
key3 = new_key("stage")
plan3 = apigw.create_usage_plan(name="stage-" + SUFFIX, apiStages=[{"apiId": api_id, "stage": "prod"}])
apigw.create_usage_plan_key(usagePlanId=plan3["id"], keyId=key3["id"], keyType="API_KEY")
assert request(url(api_id, "prod", "items"), key3["value"])[0] == 429

# --- 3. GetExport: the stage's deployment (not later edits), Swagger and OpenAPI, JSON and YAML.
export_api, export_rid = mock_api("export-" + SUFFIX, path_part="{id}")
apigw.put_method(restApiId=export_api, resourceId=export_rid, httpMethod="DELETE", authorizationType="NONE")
apigw.put_integration(restApiId=export_api, resourceId=export_rid, httpMethod="DELETE", type="MOCK",
                      requestTemplates={"application/json": '{"statusCode": 200}'})  # not deployed yet
deployed_at = apigw.get_stage(restApiId=export_api, stageName="prod")["deploymentId"]
created = apigw.get_deployment(restApiId=export_api, deploymentId=deployed_at)["createdDate"]


def export(kind, accepts="application/json", extensions=None):
    kwargs = {"parameters": {"extensions": extensions}} if extensions else {}
    out = apigw.get_export(restApiId=export_api, stageName="prod", exportType=kind, accepts=accepts, **kwargs)
    assert out["contentType"] == accepts, out
    text = out["body"].read().decode()
    return json.loads(text) if accepts == "application/json" else yaml.safe_load(text)


swagger = export("swagger")
assert swagger["swagger"] == "2.0" and swagger["info"]["title"] == "export-" + SUFFIX, swagger
assert swagger["info"]["version"] == created.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), swagger
assert swagger["host"] == f"{export_api}.execute-api.us-east-1.amazonaws.com", swagger
assert swagger["basePath"] == "/prod" and swagger["schemes"] == ["https"], swagger
assert list(swagger["paths"]) == ["/{id}"], swagger  # DELETE came after the deployment
get = swagger["paths"]["/{id}"]["get"]
assert {"name": "id", "in": "path", "required": True, "type": "string"} in get["parameters"], get
assert {"name": "page", "in": "query", "required": False, "type": "string"} in get["parameters"], get
assert get["responses"]["200"] == {"description": "200 response", "schema": {"$ref": "#/definitions/Empty"}}, get
assert get["security"] == [{"api_key": []}], get
assert "x-amazon-apigateway-integration" not in get, get
assert swagger["securityDefinitions"]["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
assert swagger["definitions"]["Empty"]["type"] == "object", swagger

with_integrations = export("swagger", "application/yaml", "integrations")
integration = with_integrations["paths"]["/{id}"]["get"]["x-amazon-apigateway-integration"]
assert integration["type"] == "mock" and integration["passthroughBehavior"] == "when_no_match", integration
assert integration["responses"]["default"]["statusCode"] == "200", integration
assert "x-amazon-apigateway-api-key-source" not in with_integrations, with_integrations

oas = export("oas30", "application/yaml")
assert oas["openapi"].startswith("3.0") and oas["info"]["title"] == "export-" + SUFFIX, oas
server = oas["servers"][0]
assert server["url"] == f"https://{export_api}.execute-api.us-east-1.amazonaws.com/{{basePath}}", server
assert server["variables"]["basePath"]["default"] == "prod", server
get = oas["paths"]["/{id}"]["get"]
assert {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}} in get["parameters"], get
assert get["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Empty"}
assert oas["components"]["securitySchemes"]["api_key"]["in"] == "header", oas
full = export("oas30", "application/json", "apigateway")
assert full["x-amazon-apigateway-api-key-source"] == "HEADER", full
assert full["paths"]["/{id}"]["get"]["x-amazon-apigateway-integration"]["type"] == "mock", full
expect_error("NotFoundException", apigw.get_export, restApiId=export_api, stageName="nope", exportType="swagger")
expect_error("BadRequestException", apigw.get_export, restApiId=export_api, stageName="prod", exportType="raml")
expect_error("BadRequestException", apigw.get_export, restApiId=export_api, stageName="prod", exportType="swagger",
             accepts="text/html")

# --- 4. TestInvokeMethod: the live method (never deployed), no API key, a Lambda proxy and a malformed answer.
iam = boto3.client("iam")
lam = boto3.client("lambda")
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="usage-" + SUFFIX, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
HANDLER = """
import json
def handler(event, context):
    if event["path"].endswith("/malformed"):
        return {"status": 200}
    return {"statusCode": 201, "headers": {"x-echo": event["queryStringParameters"]["q"]},
            "body": json.dumps({"stage": event["requestContext"]["stage"], "vars": event["stageVariables"],
                                "id": event["pathParameters"]["id"], "body": event["body"]})}
"""
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as z:
    z.writestr("app.py", HANDLER)
function = lam.create_function(FunctionName="usage-" + SUFFIX, Runtime="python3.8", Role=role, Handler="app.handler",
                               Code={"ZipFile": buffer.getvalue()})["FunctionArn"]
lam.get_waiter("function_active_v2").wait(FunctionName=function)
lam.add_permission(FunctionName=function, StatementId="apigw", Action="lambda:InvokeFunction",
                   Principal="apigateway.amazonaws.com")
test_api = apigw.create_rest_api(name="test-invoke-" + SUFFIX)
parent = apigw.create_resource(restApiId=test_api["id"], parentId=test_api["rootResourceId"], pathPart="things")
proxy = apigw.create_resource(restApiId=test_api["id"], parentId=parent["id"], pathPart="{id}")
apigw.put_method(restApiId=test_api["id"], resourceId=proxy["id"], httpMethod="POST", authorizationType="NONE",
                 apiKeyRequired=True)
apigw.put_integration(restApiId=test_api["id"], resourceId=proxy["id"], httpMethod="POST", type="AWS_PROXY",
                      integrationHttpMethod="POST",
                      uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function}/invocations")
tested = apigw.test_invoke_method(restApiId=test_api["id"], resourceId=proxy["id"], httpMethod="POST",
                                  pathWithQueryString="/things/42?q=hello", body='{"n": 1}',
                                  headers={"Content-Type": "application/json"}, stageVariables={"env": "test"})
assert tested["status"] == 201, tested
assert json.loads(tested["body"]) == {"stage": "test-invoke-stage", "vars": {"env": "test"}, "id": "42",
                                      "body": '{"n": 1}'}, tested
assert tested["headers"]["x-echo"] == "hello" and tested["multiValueHeaders"]["x-echo"] == ["hello"], tested
assert tested["log"].startswith("Execution log for request "), tested["log"]
for line in ("Method request path: {id=42}", "Endpoint request body after transformations: {",
             "Method completed with status: 201"):
    assert line in tested["log"], (line, tested["log"])
assert tested["latency"] >= 0, tested
malformed = apigw.test_invoke_method(restApiId=test_api["id"], resourceId=proxy["id"], httpMethod="POST",
                                     pathWithQueryString="/things/malformed")
assert (malformed["status"], json.loads(malformed["body"])) == (502, {"message": "Internal server error"}), malformed
assert "Malformed Lambda proxy response" in malformed["log"], malformed["log"]
# The 502 is the DEFAULT_5XX gateway response: customised, the deployed stage answers with it too.
apigw.put_gateway_response(restApiId=test_api["id"], responseType="DEFAULT_5XX",
                           responseTemplates={"application/json": '{"oops": "$context.error.message"}'})
malformed = apigw.test_invoke_method(restApiId=test_api["id"], resourceId=proxy["id"], httpMethod="POST",
                                     pathWithQueryString="/things/malformed")
assert (malformed["status"], json.loads(malformed["body"])) == (502, {"oops": "Internal server error"}), malformed
expect_error("NotFoundException", apigw.test_invoke_method, restApiId=test_api["id"], resourceId=proxy["id"],
             httpMethod="GET")

print("apigateway_usage: ok")
