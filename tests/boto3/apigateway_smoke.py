"""boto3 against the emulator's API Gateway (AWS_ENDPOINT_URL): the control plane's shapes and errors, and the
execute-api data plane (MOCK CORS preflight, API keys, missing routes, deployments as snapshots)."""
import json
import urllib.error
import urllib.request

import boto3
from botocore.exceptions import ClientError

ENDPOINT = __import__("os").environ["AWS_ENDPOINT_URL"]
apigw = boto3.client("apigateway")


def expect_error(code, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        assert error.response["Error"]["Code"] == code, error.response
        return error.response["Error"]["Message"]
    raise AssertionError("expected " + code)


def request(method, url, headers=None):
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=b"{}" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


api = apigw.create_rest_api(name="smoke-api")
api_id = api["id"]
assert api["apiKeySource"] == "HEADER" and api["rootResourceId"], api
assert any(a["id"] == api_id for a in apigw.get_rest_apis()["items"])
root = api["rootResourceId"]
resource = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="crts")
assert resource["path"] == "/crts" and resource["parentId"] == root, resource
message = expect_error("ConflictException", apigw.create_resource, restApiId=api_id, parentId=root, pathPart="crts")
assert message == "Another resource with the same parent already has this name: crts", message
expect_error("NotFoundException", apigw.get_resource, restApiId=api_id, resourceId="nope")
expect_error("NotFoundException", apigw.get_rest_api, restApiId="nope")
rid = resource["id"]

apigw.put_method(restApiId=api_id, resourceId=rid, httpMethod="POST", authorizationType="NONE")
expect_error("ConflictException", apigw.put_method, restApiId=api_id, resourceId=rid, httpMethod="POST",
             authorizationType="NONE")
expect_error("BadRequestException", apigw.put_method, restApiId=api_id, resourceId=rid, httpMethod="FETCH",
             authorizationType="NONE")
method = apigw.update_method(restApiId=api_id, resourceId=rid, httpMethod="POST",
                             patchOperations=[{"op": "replace", "path": "/apiKeyRequired", "value": "true"}])
assert method["apiKeyRequired"] is True, method
apigw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="POST", type="MOCK",
                      requestTemplates={"application/json": '{"statusCode": 200}'})
apigw.put_integration_response(restApiId=api_id, resourceId=rid, httpMethod="POST", statusCode="200",
                               responseTemplates={"application/json": '{"mocked": true}'})
apigw.put_method(restApiId=api_id, resourceId=rid, httpMethod="OPTIONS", authorizationType="NONE")
integration = apigw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="OPTIONS", type="MOCK",
                                    requestTemplates={"application/json": '{"statusCode": 200}'})
assert integration["passthroughBehavior"] == "WHEN_NO_MATCH" and integration["timeoutInMillis"] == 29000, integration
apigw.put_method_response(restApiId=api_id, resourceId=rid, httpMethod="OPTIONS", statusCode="200",
                          responseParameters={"method.response.header.Access-Control-Allow-Origin": False,
                                              "method.response.header.Access-Control-Allow-Methods": False})
apigw.put_integration_response(restApiId=api_id, resourceId=rid, httpMethod="OPTIONS", statusCode="200",
                               responseParameters={"method.response.header.Access-Control-Allow-Origin": "'*'",
                                                   "method.response.header.Access-Control-Allow-Methods": "'OPTIONS,POST'"},
                               responseTemplates={"application/json": ""})
got = apigw.get_method(restApiId=api_id, resourceId=rid, httpMethod="OPTIONS")
assert got["methodIntegration"]["integrationResponses"]["200"]["responseParameters"], got
# An empty template reads back as null, as on AWS (aws/aws-cli#1610).
assert got["methodIntegration"]["integrationResponses"]["200"]["responseTemplates"] == {"application/json": None}, got
embedded = apigw.get_resources(restApiId=api_id, embed=["methods"])["items"]
assert sorted([r for r in embedded if r["path"] == "/crts"][0]["resourceMethods"]) == ["OPTIONS", "POST"], embedded

deployment = apigw.create_deployment(restApiId=api_id, stageName="default")
assert [s["stageName"] for s in apigw.get_stages(restApiId=api_id)["item"]] == ["default"]
message = expect_error("BadRequestException", apigw.delete_deployment, restApiId=api_id, deploymentId=deployment["id"])
assert message == "Active stages pointing to this deployment must be moved or deleted", message

key = apigw.create_api_key(name="smoke-key")
assert key["enabled"] is False, key  # AWS's default
assert "value" not in apigw.get_api_key(apiKey=key["id"])
assert len(apigw.get_api_key(apiKey=key["id"], includeValue=True)["value"]) == 40
plan = apigw.create_usage_plan(name="smoke-plan", apiStages=[{"apiId": api_id, "stage": "default"}])
plan_key = apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
assert plan_key["type"] == "API_KEY" and plan_key["value"] == key["value"], plan_key
expect_error("NotFoundException", apigw.get_usage_plan, usagePlanId="nope")

base = "%s/_aws/execute-api/%s/default" % (ENDPOINT, api_id)
status, headers, body = request("OPTIONS", base + "/crts", {"Origin": "http://example.com"})
assert status == 200 and headers["Access-Control-Allow-Origin"] == "*", (status, headers)
assert headers["Access-Control-Allow-Methods"] == "OPTIONS,POST", headers
assert request("POST", base + "/crts")[:3:2] == (403, '{"message":"Forbidden"}')
status, _, body = request("POST", base + "/crts", {"x-api-key": key["value"]})
assert (status, body) == (403, '{"message":"Forbidden"}'), "a disabled key is refused"
apigw.update_api_key(apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "true"}])
status, headers, body = request("POST", base + "/crts", {"x-api-key": key["value"]})
assert (status, json.loads(body)) == (200, {"mocked": True}), (status, body)
assert headers.get("x-amzn-RequestId"), dict(headers)
status, headers, body = request("GET", base + "/nothing")
assert (status, body) == (403, '{"message":"Missing Authentication Token"}'), (status, body)
assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException", headers

# A stage serves its deployment: an edit is invisible until the next deployment.
apigw.delete_method(restApiId=api_id, resourceId=rid, httpMethod="OPTIONS")
assert request("OPTIONS", base + "/crts")[0] == 200
apigw.create_deployment(restApiId=api_id, stageName="default")
assert request("OPTIONS", base + "/crts")[0] == 403

# Gateway response overrides apply to the stage's errors once deployed.
apigw.put_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN", statusCode="404",
                           responseParameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"})
apigw.create_deployment(restApiId=api_id, stageName="default")
status, headers, _ = request("GET", base + "/nothing")
assert status == 404 and headers["Access-Control-Allow-Origin"] == "*", (status, headers)

# A DEFAULT_4XX override is carried over to every 4XX type without its own, and reported that way.
cors = {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}
apigw.put_gateway_response(restApiId=api_id, responseType="DEFAULT_4XX", responseParameters=cors)
responses = {r["responseType"]: r for r in apigw.get_gateway_responses(restApiId=api_id)["items"]}
assert len(responses) == 21, sorted(responses)
invalid_key = responses["INVALID_API_KEY"]
assert invalid_key["defaultResponse"] and invalid_key["statusCode"] == "403", invalid_key
assert invalid_key["responseParameters"] == cors, invalid_key
assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404", responses["MISSING_AUTHENTICATION_TOKEN"]
assert not responses["MISSING_AUTHENTICATION_TOKEN"]["defaultResponse"]
assert responses["INTEGRATION_FAILURE"]["responseParameters"] == {}, responses["INTEGRATION_FAILURE"]
assert apigw.get_gateway_response(restApiId=api_id, responseType="THROTTLED")["responseParameters"] == cors

apigw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
apigw.delete_usage_plan(usagePlanId=plan["id"])
apigw.delete_api_key(apiKey=key["id"])
apigw.delete_rest_api(restApiId=api_id)
expect_error("NotFoundException", apigw.get_rest_api, restApiId=api_id)
print("apigateway smoke: ok")
