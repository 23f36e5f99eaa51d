"""The CRTS runbook's job-trigger path done with boto3 against an emulator (AWS_ENDPOINT_URL), then a POST
through the deployed API that must become a SUCCEEDED Batch job. Exits non-zero on any failure."""
import base64
import hashlib
import io
import json
import os
import sys
import time
import urllib.error
import urllib.request
import zipfile

import boto3

REPO = os.environ.get("CRTS_REPO", os.path.join(os.path.dirname(__file__), "..", ".."))
ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")

iam = boto3.client("iam")
batch = boto3.client("batch")
lam = boto3.client("lambda")
apigw = boto3.client("apigateway")
account = boto3.client("sts").get_caller_identity()["Account"]


def fixture(path):
    with open(os.path.join(REPO, path)) as f:
        return f.read()


def post(url, body, key=None, method="POST"):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["x-api-key"] = key
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


# AWS Elastic Container Registry: the repository, and the image pushed as `docker push` does it (a config blob,
# then the manifest), so the job definition's image can be pulled.
ecr = boto3.client("ecr")
ecr.create_repository(repositoryName="crts")
login = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]


def registry(method, path, data, content_type="application/octet-stream"):
    request = urllib.request.Request(ENDPOINT + path, data=data, method=method, headers={
        "Authorization": "Basic " + login, "Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/crts/run"]},
                     "rootfs": {"type": "layers", "diff_ids": []}}).encode()
config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
assert registry("POST", "/v2/crts/blobs/uploads/?digest=" + config_digest, config) == 201
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": [],
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": config_digest, "size": len(config)}}).encode()
assert registry("PUT", "/v2/crts/manifests/latest", manifest, "application/vnd.oci.image.manifest.v1+json") == 201

# AWS Batch
exec_role = iam.create_role(RoleName="ecsTaskExecutionRole",
                            AssumeRolePolicyDocument=fixture("fixtures/policies/ecs-tasks-trust.json"))["Role"]["Arn"]
batch.create_compute_environment(computeEnvironmentName="crts-ce", type="MANAGED", state="ENABLED",
                                 computeResources={"type": "FARGATE", "maxvCpus": 4, "subnets": ["subnet-1"],
                                                   "securityGroupIds": ["sg-1"]})
batch.create_job_queue(jobQueueName="crts-aws-jq", state="ENABLED", priority=1,
                       computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "crts-ce"}])
for image in ("busybox", "%s.dkr.ecr.%s.amazonaws.com/crts:latest" % (account, REGION)):
    revision = batch.register_job_definition(
        jobDefinitionName="CrtsAwsJD", type="container", platformCapabilities=["FARGATE"],
        containerProperties={"image": image, "executionRoleArn": exec_role,
                             "resourceRequirements": [{"type": "VCPU", "value": "1"},
                                                      {"type": "MEMORY", "value": "2048"}],
                             "networkConfiguration": {"assignPublicIp": "ENABLED"}})["revision"]
assert revision == 2, revision

# AWS Lambda
role_arn = iam.create_role(RoleName="crts-role",
                           AssumeRolePolicyDocument=fixture("fixtures/policies/lambda-trust.json"))["Role"]["Arn"]
code = io.BytesIO()
with zipfile.ZipFile(code, "w") as z:
    z.writestr("lambda_function.py", fixture("fixtures/lambda/lambda_function.py"))
function_arn = lam.create_function(FunctionName="crts", Runtime="python3.8", Role=role_arn,
                                   Handler="lambda_function.lambda_handler", Code={"ZipFile": code.getvalue()},
                                   Timeout=30)["FunctionArn"]
lam.get_waiter("function_active_v2").wait(FunctionName="crts", WaiterConfig={"Delay": 1})
lam.update_function_configuration(FunctionName="crts", Environment={
    "Variables": {"aws_jobqueue": "crts-aws-jq", "aws_jobdefinition": "CrtsAwsJD:2"}})
policy_arn = iam.create_policy(PolicyName="crts-batch-submit-job",
                               PolicyDocument=fixture("fixtures/policies/batch-submit-job.json"))["Policy"]["Arn"]
iam.attach_role_policy(RoleName="crts-role", PolicyArn=policy_arn)

# AWS API Gateway
api_id = apigw.create_rest_api(name="crts-API")["id"]
root = [r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/"][0]["id"]
resource = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="crts")["id"]
uri = "arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations" % (REGION, function_arn)
apigw.put_method(restApiId=api_id, resourceId=resource, httpMethod="POST", authorizationType="NONE",
                 apiKeyRequired=True)
apigw.put_integration(restApiId=api_id, resourceId=resource, httpMethod="POST", type="AWS_PROXY",
                      integrationHttpMethod="POST", uri=uri)
lam.add_permission(FunctionName="crts", StatementId="apigw", Action="lambda:InvokeFunction",
                   Principal="apigateway.amazonaws.com",
                   SourceArn="arn:aws:execute-api:%s:%s:%s/*/POST/crts" % (REGION, account, api_id))
apigw.put_method(restApiId=api_id, resourceId=resource, httpMethod="OPTIONS", authorizationType="NONE")
apigw.put_integration(restApiId=api_id, resourceId=resource, httpMethod="OPTIONS", type="MOCK",
                      requestTemplates={"application/json": '{"statusCode": 200}'})
apigw.put_method_response(restApiId=api_id, resourceId=resource, httpMethod="OPTIONS", statusCode="200",
                          responseParameters={"method.response.header.Access-Control-Allow-Origin": False,
                                              "method.response.header.Access-Control-Allow-Methods": False,
                                              "method.response.header.Access-Control-Allow-Headers": False})
apigw.put_integration_response(restApiId=api_id, resourceId=resource, httpMethod="OPTIONS", statusCode="200",
                               responseParameters={
                                   "method.response.header.Access-Control-Allow-Origin": "'*'",
                                   "method.response.header.Access-Control-Allow-Methods": "'OPTIONS,POST'",
                                   "method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Api-Key'"})
apigw.create_deployment(restApiId=api_id, stageName="default")
key = apigw.create_api_key(name="crts-api-key", enabled=True)
plan = apigw.create_usage_plan(name="crts-plan", apiStages=[{"apiId": api_id, "stage": "default"}])
apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")

# Trigger
url = "%s/_aws/execute-api/%s/default/crts" % (ENDPOINT, api_id)
body = {"jobName": "boto3-run", "parameters": {"suite": "smoke"}}
status, answer = post(url, body)
assert status == 403 and answer == {"message": "Forbidden"}, (status, answer)
status, answer = post(url, body, key["value"])
assert status == 200 and "jobId" in answer, (status, answer)
job_id = answer["jobId"]
for _ in range(200):
    job = batch.describe_jobs(jobs=[job_id])["jobs"][0]
    if job["status"] in ("SUCCEEDED", "FAILED"):
        break
    time.sleep(0.05)
assert job["status"] == "SUCCEEDED", job["status"]
assert job["jobDefinition"].endswith(":job-definition/CrtsAwsJD:2"), job["jobDefinition"]
assert job["jobQueue"].endswith(":job-queue/crts-aws-jq"), job["jobQueue"]
assert job["parameters"] == {"suite": "smoke"}, job["parameters"]
print("boto3 crts setup and trigger: ok (job %s)" % job_id)
sys.exit(0)
