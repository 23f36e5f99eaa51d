"""A CRTS stack made by hand with boto3 the way the AWS console makes it, for `crts-harness verify` tests.

    console_stack.py build DEFINITION_OUT [--drift NAME]   make the stack against AWS_ENDPOINT_URL; print (JSON) the
                                                           scenario variables that name what it made
    console_stack.py dump                                  print (JSON) everything the services read back, to show
                                                           that a verify run changed nothing

The names are the console's kind (a role under /service-role/ with a suffix, a function that is not `crts`), not the
runbook's examples, so verify is shown to follow `--var`. `--drift NAME` does one thing differently, as an operator
might: see DRIFTS. Exits non-zero on any failure.
"""
import argparse
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

DRIFTS = {
    "public-ip-off": "job definition revision 2 registered without Assign public IP",
    "api-key-not-deployed": "API Key Required set on POST after the last deployment (the stage serves it without)",
    "env-wrong-revision": "the Lambda's aws_jobdefinition names revision 1",
    "policy-detached": "the SubmitJob policy created but not attached to the Lambda's role",
    "cors-options-missing": "Enable CORS never done (no OPTIONS method)",
    "website-off": "static website hosting not enabled",
    "bucket-cors-missing": "no CORS rules on the bucket",
    "image-not-pushed": "the repository made, the image never pushed",
}

NAMES = {
    "repository": "crts-console",
    "image_tag": "v1",
    "execution_role": "crtsBatchExecutionRole",
    "compute_environment": "crts-console-ce",
    "job_queue": "crts-console-jq",
    "job_definition": "CrtsConsoleJD",
    "function": "crts-console",
    "api_resource": "crts-console",
    "lambda_role": "crts-console-role-9f3k2x1q",
    "submit_job_policy": "crts-console-submitjob",
    "api_name": "crts-console-API",
    "api_key": "crts-console-key",
    "usage_plan": "crts-console-plan",
    "swagger_bucket": "crts-console-swagger",
}


def fixture(path, mode="r"):
    with open(os.path.join(REPO, path), mode) as f:
        return f.read()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_image(ecr, repository, tag):
    """docker push, done with the registry API: two blobs and an OCI manifest."""
    auth = ecr.get_authorization_token()["authorizationData"][0]
    headers = {"Authorization": "Basic " + auth["authorizationToken"]}

    def call(method, path, data, content_type="application/octet-stream"):
        request = urllib.request.Request(auth["proxyEndpoint"].rstrip("/") + path, method=method, data=data,
                                         headers={**headers, "Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status in (201, 202), (path, response.status)

    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Entrypoint": ["/crts/run"]}, "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    layer = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00"  # an empty gzip
    for blob in (config, layer):
        call("POST", f"/v2/{repository}/blobs/uploads/?digest={sha256(blob)}", blob)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha256(layer),
                    "size": len(layer)}],
    }).encode()
    call("PUT", f"/v2/{repository}/manifests/{tag}", manifest, "application/vnd.oci.image.manifest.v1+json")


def build(definition_out, drift):
    n = NAMES
    iam, batch, lam = boto3.client("iam"), boto3.client("batch"), boto3.client("lambda")
    apigw, s3, ecr = boto3.client("apigateway"), boto3.client("s3"), boto3.client("ecr")
    account = boto3.client("sts").get_caller_identity()["Account"]

    # ECR: the repository, and the image as `docker push` leaves it.
    uri = ecr.create_repository(repositoryName=n["repository"])["repository"]["repositoryUri"]
    if drift != "image-not-pushed":
        push_image(ecr, n["repository"], n["image_tag"])

    # AWS Batch
    exec_role = iam.create_role(RoleName=n["execution_role"],
                                AssumeRolePolicyDocument=fixture("fixtures/policies/ecs-tasks-trust.json"))
    iam.attach_role_policy(RoleName=n["execution_role"],
                           PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
    batch.create_compute_environment(
        computeEnvironmentName=n["compute_environment"], type="MANAGED", state="ENABLED",
        computeResources={"type": "FARGATE", "maxvCpus": 256, "subnets": ["subnet-0a1b2c3d"],
                          "securityGroupIds": ["sg-0a1b2c3d"]})
    batch.create_job_queue(jobQueueName=n["job_queue"], state="ENABLED", priority=1,
                           computeEnvironmentOrder=[{"order": 1, "computeEnvironment": n["compute_environment"]}])
    for image, public_ip in (("busybox", "DISABLED"),
                             (f"{uri}:{n['image_tag']}", "DISABLED" if drift == "public-ip-off" else "ENABLED")):
        revision = batch.register_job_definition(
            jobDefinitionName=n["job_definition"], type="container", platformCapabilities=["FARGATE"],
            parameters={"suite": "smoke", "target": "default"},
            containerProperties={"image": image, "executionRoleArn": exec_role["Role"]["Arn"],
                                 "command": ["/crts/run", "Ref::suite", "Ref::target"],
                                 "resourceRequirements": [{"type": "VCPU", "value": "1"},
                                                          {"type": "MEMORY", "value": "2048"}],
                                 "networkConfiguration": {"assignPublicIp": public_ip}})["revision"]
    assert revision == 2, revision

    # AWS Lambda: the console makes the role under /service-role/.
    role = iam.create_role(RoleName=n["lambda_role"], Path="/service-role/",
                           AssumeRolePolicyDocument=fixture("fixtures/policies/lambda-trust.json"))["Role"]
    iam.attach_role_policy(RoleName=n["lambda_role"],
                           PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("lambda_function.py", fixture("fixtures/lambda/lambda_function.py"))
    function = lam.create_function(FunctionName=n["function"], Runtime="python3.8", Role=role["Arn"],
                                   Handler="lambda_function.lambda_handler", Timeout=30,
                                   Code={"ZipFile": code.getvalue()})
    for _ in range(600):
        if lam.get_function_configuration(FunctionName=n["function"])["State"] == "Active":
            break
        time.sleep(0.1)
    revision = 1 if drift == "env-wrong-revision" else 2
    lam.update_function_configuration(FunctionName=n["function"], Environment={"Variables": {
        "aws_jobqueue": n["job_queue"], "aws_jobdefinition": f"{n['job_definition']}:{revision}"}})
    policy = iam.create_policy(PolicyName=n["submit_job_policy"],
                               PolicyDocument=fixture("fixtures/policies/batch-submit-job.json"))["Policy"]
    if drift != "policy-detached":
        iam.attach_role_policy(RoleName=n["lambda_role"], PolicyArn=policy["Arn"])

    # API Gateway: "Add trigger" (a REST API, a resource named after the function with ANY, deployed to default),
    # then the runbook's edits.
    api = apigw.create_rest_api(name=n["api_name"], endpointConfiguration={"types": ["REGIONAL"]})
    api_id = api["id"]
    root = [r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/"][0]["id"]
    resource = apigw.create_resource(restApiId=api_id, parentId=root, pathPart=n["function"])["id"]
    lambda_uri = (f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
                  f"{function['FunctionArn']}/invocations")
    for method in ("ANY", "POST"):
        apigw.put_method(restApiId=api_id, resourceId=resource, httpMethod=method, authorizationType="NONE",
                         apiKeyRequired=False)
        apigw.put_integration(restApiId=api_id, resourceId=resource, httpMethod=method, type="AWS_PROXY",
                              integrationHttpMethod="POST", uri=lambda_uri)
        lam.add_permission(FunctionName=n["function"], StatementId=f"console-{method.lower()}-{api_id}",
                           Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                           SourceArn=f"arn:aws:execute-api:{REGION}:{account}:{api_id}/*/{method.replace('ANY', '*')}/{n['function']}")
        if method == "ANY":
            apigw.create_deployment(restApiId=api_id, stageName="default")

    def api_key_required(value):
        apigw.update_method(restApiId=api_id, resourceId=resource, httpMethod="POST", patchOperations=[
            {"op": "replace", "path": "/apiKeyRequired", "value": "true" if value else "false"}])

    api_key_required(True)
    apigw.delete_method(restApiId=api_id, resourceId=resource, httpMethod="ANY")
    key = apigw.create_api_key(name=n["api_key"], enabled=True)
    plan = apigw.create_usage_plan(name=n["usage_plan"], apiStages=[{"apiId": api_id, "stage": "default"}])
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    headers = {"Access-Control-Allow-Headers": "'Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token'",
               "Access-Control-Allow-Methods": "'OPTIONS,POST'", "Access-Control-Allow-Origin": "'*'"}
    if drift != "cors-options-missing":
        apigw.put_method(restApiId=api_id, resourceId=resource, httpMethod="OPTIONS", authorizationType="NONE")
        apigw.put_integration(restApiId=api_id, resourceId=resource, httpMethod="OPTIONS", type="MOCK",
                              requestTemplates={"application/json": '{"statusCode": 200}'})
        apigw.put_method_response(restApiId=api_id, resourceId=resource, httpMethod="OPTIONS", statusCode="200",
                                  responseModels={"application/json": "Empty"},
                                  responseParameters={f"method.response.header.{h}": False for h in headers})
        apigw.put_integration_response(restApiId=api_id, resourceId=resource, httpMethod="OPTIONS",
                                       statusCode="200",
                                       responseParameters={f"method.response.header.{h}": v for h, v in headers.items()})
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        apigw.put_gateway_response(restApiId=api_id, responseType=kind,
                                   responseParameters={f"gatewayresponse.header.{h}": v for h, v in headers.items()})
    apigw.put_method_response(restApiId=api_id, resourceId=resource, httpMethod="POST", statusCode="200",
                              responseParameters={"method.response.header.Access-Control-Allow-Origin": False})
    if drift == "api-key-not-deployed":
        api_key_required(False)
    apigw.create_deployment(restApiId=api_id, stageName="default")
    if drift == "api-key-not-deployed":
        api_key_required(True)

    # S3: the bucket with public access allowed, website hosting, the policy, CORS, and the Swagger site.
    bucket = n["swagger_bucket"]
    s3.create_bucket(Bucket=bucket)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    if drift != "website-off":
        s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_bucket_policy(Bucket=bucket, Policy=fixture("fixtures/s3/bucket-policy.json").replace(
        "arn:aws:s3:::cris-swagger-bucket", f"arn:aws:s3:::{bucket}"))
    if drift != "bucket-cors-missing":
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": json.loads(fixture("fixtures/s3/cors.json"))})
    for name, content_type in (("index.html", "text/html"), ("swagger-initializer.js", "application/javascript")):
        s3.put_object(Bucket=bucket, Key=name, Body=fixture(f"fixtures/swagger/site/{name}", "rb"),
                      ContentType=content_type)
    s3.put_object(Bucket=bucket, Key="swagger-ui-bundle.js", Body=b"/* Swagger UI, as the Swagger code ships it */",
                  ContentType="application/javascript")
    # "Update crts-swagger.json with the API gateway details": this API's path and its invoke URL on the emulator.
    spec = json.loads(fixture("fixtures/swagger/crts-swagger.json"))
    spec["paths"] = {f"/{n['function']}": operations for operations in spec["paths"].values()}
    port = ENDPOINT.rstrip("/").rsplit(":", 1)[1]
    spec.update(host=f"{api_id}.execute-api.localhost:{port}", basePath="/default", schemes=["http"])
    with open(definition_out, "w") as f:
        json.dump(spec, f, indent=2)
    s3.put_object(Bucket=bucket, Key="crts-swagger.json", Body=json.dumps(spec).encode(),
                  ContentType="application/json")
    print(json.dumps({**n, "swagger_definition": os.path.abspath(definition_out)}))


def dump():
    """Everything the services read back (the API key values included), in a stable order."""
    iam, batch, lam = boto3.client("iam"), boto3.client("batch"), boto3.client("lambda")
    apigw, s3, ecr = boto3.client("apigateway"), boto3.client("s3"), boto3.client("ecr")
    out = {"roles": {}, "policies": {}, "functions": {}, "apis": {}, "buckets": {}, "repositories": {}}
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        out["roles"][name] = {"role": role, "attached": iam.list_attached_role_policies(RoleName=name),
                              "tags": iam.list_role_tags(RoleName=name)["Tags"]}
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        out["policies"][policy["PolicyName"]] = {"policy": policy, "document": version["PolicyVersion"]["Document"],
                                                 "tags": iam.list_policy_tags(PolicyArn=policy["Arn"])["Tags"]}
    out["compute_environments"] = batch.describe_compute_environments()["computeEnvironments"]
    out["job_queues"] = batch.describe_job_queues()["jobQueues"]
    # Deregistered revisions stay, INACTIVE, as on AWS: what exists is the active ones.
    out["job_definitions"] = batch.describe_job_definitions(status="ACTIVE")["jobDefinitions"]
    statuses = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
    out["jobs"] = {q["jobQueueName"]: [batch.list_jobs(jobQueue=q["jobQueueName"], jobStatus=s)["jobSummaryList"]
                                       for s in statuses] for q in out["job_queues"]}
    for function in lam.list_functions()["Functions"]:
        name = function["FunctionName"]
        try:
            policy = lam.get_policy(FunctionName=name)["Policy"]
        except lam.exceptions.ResourceNotFoundException:
            policy = None
        out["functions"][name] = {"configuration": function, "policy": policy,
                                  "tags": lam.list_tags(Resource=function["FunctionArn"])["Tags"]}
    for api in apigw.get_rest_apis()["items"]:
        api_id = api["id"]
        out["apis"][api_id] = {
            "api": api,
            "resources": apigw.get_resources(restApiId=api_id, embed=["methods"])["items"],
            "stages": apigw.get_stages(restApiId=api_id)["item"],
            "deployments": apigw.get_deployments(restApiId=api_id)["items"],
            "gateway_responses": apigw.get_gateway_responses(restApiId=api_id)["items"],
        }
    out["api_keys"] = apigw.get_api_keys(includeValues=True)["items"]
    out["usage_plans"] = [{"plan": plan, "keys": apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]}
                          for plan in apigw.get_usage_plans()["items"]]
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        parts = {}
        for part, call in (("policy", s3.get_bucket_policy), ("cors", s3.get_bucket_cors),
                           ("website", s3.get_bucket_website), ("public_access", s3.get_public_access_block),
                           ("tags", s3.get_bucket_tagging)):
            try:
                parts[part] = call(Bucket=name)
            except s3.exceptions.ClientError as error:
                parts[part] = error.response["Error"]["Code"]
        parts["objects"] = [{k: o[k] for k in ("Key", "ETag", "Size", "LastModified")}
                            for o in s3.list_objects_v2(Bucket=name).get("Contents", [])]
        out["buckets"][name] = parts
    for repository in ecr.describe_repositories()["repositories"]:
        name = repository["repositoryName"]
        out["repositories"][name] = {"repository": repository,
                                     "images": ecr.describe_images(repositoryName=name)["imageDetails"],
                                     "tags": ecr.list_tags_for_resource(resourceArn=repository["repositoryArn"])["tags"]}
    # Every tagged resource outside IAM, as the Resource Groups Tagging API lists it (API Gateway and Batch tags).
    tagging = boto3.client("resourcegroupstaggingapi")
    out["tagged"] = [r for page in tagging.get_paginator("get_resources").paginate() for r in page["ResourceTagMappingList"]]
    print(json.dumps(without_metadata(out), sort_keys=True, default=str, indent=1))


def without_metadata(value):
    """The data without each response's ResponseMetadata (its request id differs on every call)."""
    if isinstance(value, dict):
        return {k: without_metadata(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [without_metadata(v) for v in value]
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build")
    make.add_argument("definition_out")
    make.add_argument("--drift", choices=sorted(DRIFTS))
    commands.add_parser("dump")
    untag = commands.add_parser("untag", help="take every tag off a bucket or a function (as someone else might)")
    untag.add_argument("kind", choices=["bucket", "function"])
    untag.add_argument("name")
    args = parser.parse_args()
    if args.command == "build":
        build(args.definition_out, args.drift)
    elif args.command == "untag":
        if args.kind == "bucket":
            boto3.client("s3").delete_bucket_tagging(Bucket=args.name)
        else:
            lam = boto3.client("lambda")
            arn = lam.get_function(FunctionName=args.name)["Configuration"]["FunctionArn"]
            keys = list(lam.list_tags(Resource=arn)["Tags"])
            lam.untag_resource(Resource=arn, TagKeys=keys)
    else:
        dump()


if __name__ == "__main__":
    sys.exit(main())
