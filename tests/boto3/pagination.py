"""boto3's paginators against the emulator (AWS_ENDPOINT_URL), two items a page: every list and describe operation
that pages on AWS serves each item exactly once in ceil(n/2) pages (Lambda ListFunctions; IAM ListRoles,
ListPolicies, ListAttachedRolePolicies, ListRolePolicies, ListRoleTags, ListPolicyTags; API Gateway GetRestApis,
GetResources, GetDeployments, GetGatewayResponses, GetApiKeys, GetUsagePlans, GetUsagePlanKeys; ECR
DescribeRepositories, DescribeImages, ListImages; Batch DescribeComputeEnvironments, DescribeJobQueues,
DescribeJobDefinitions, ListJobs; S3 ListMultipartUploads, ListParts), an item created between two pages neither
repeats nor shifts the rest, and a token the emulator did not issue (or a page size out of range) gets each
service's own error. Rerunnable against a long-lived emulator (names carry a suffix)."""
import io
import json
import uuid
import zipfile

import boto3
from botocore.exceptions import ClientError

N = 7
suffix = uuid.uuid4().hex[:8]
lam, iam, apigw, ecr, batch = (boto3.client(s) for s in ("lambda", "iam", "apigateway", "ecr", "batch"))
walked = []


def walk(client, operation, result_key, name_of, mine, between=None, **kwargs):
    """Walks `operation` with boto3's paginator two items a page; every one of `mine` comes exactly once, every
    page but the last is full, there are ceil(n/2) pages. `between` runs after the first page."""
    pages, names = 0, []
    for page in client.get_paginator(operation).paginate(PaginationConfig={"PageSize": 2}, **kwargs):
        items = page.get(result_key, [])
        assert len(items) <= 2, (operation, page)
        if pages > 0:
            assert previous_full, (operation, "a page after a short one", names)
        previous_full = len(items) == 2
        names += [name_of(item) for item in items]
        pages += 1
        if pages == 1 and between:
            between()
    assert len(names) == len(set(names)), (operation, "an item came twice", names)
    missing = [m for m in mine if m not in names]
    assert not missing, (operation, "never came", missing, names)
    assert pages == max(1, (len(names) + 1) // 2), (operation, pages, len(names))
    walked.append(operation)
    return names


def refused(code, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        assert error.response["Error"]["Code"] == code, (code, error.response)
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400, error.response
        return
    raise AssertionError("expected " + code)


def names(prefix, n=N):
    return ["%s-%s-%d" % (prefix, suffix, i) for i in range(n)]


# IAM: roles, customer-managed policies, a role's attached and inline policies and tags, a policy's tags.
trust = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
allow = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                             "Resource": "*"}]})
roles = names("role")
for role in roles:
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
late_role = "role-%s-zz" % suffix
walk(iam, "list_roles", "Roles", lambda r: r["RoleName"], roles + [late_role],
     between=lambda: iam.create_role(RoleName=late_role, AssumeRolePolicyDocument=trust))
policies = [iam.create_policy(PolicyName=p, PolicyDocument=allow)["Policy"]["Arn"] for p in names("policy")]
walk(iam, "list_policies", "Policies", lambda p: p["Arn"], policies, Scope="Local")
for arn in policies:
    iam.attach_role_policy(RoleName=roles[0], PolicyArn=arn)
attached = walk(iam, "list_attached_role_policies", "AttachedPolicies", lambda p: p["PolicyArn"], policies,
                RoleName=roles[0])
assert len(attached) == N, attached
inline = names("inline")
for name in inline:
    iam.put_role_policy(RoleName=roles[0], PolicyName=name, PolicyDocument=allow)
assert walk(iam, "list_role_policies", "PolicyNames", lambda n: n, inline, RoleName=roles[0]) == sorted(inline)
keys = names("key")
iam.tag_role(RoleName=roles[0], Tags=[{"Key": k, "Value": "v"} for k in keys])
assert len(walk(iam, "list_role_tags", "Tags", lambda t: t["Key"], keys, RoleName=roles[0])) == N
iam.tag_policy(PolicyArn=policies[0], Tags=[{"Key": k, "Value": "v"} for k in keys])
assert len(walk(iam, "list_policy_tags", "Tags", lambda t: t["Key"], keys, PolicyArn=policies[0])) == N
refused("ValidationError", iam.list_roles, Marker="not-a-marker")
refused("ValidationError", iam.list_roles, MaxItems=1001)

# Lambda: functions, one created between two pages.
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as z:
    z.writestr("app.py", "def handler(event, context):\n    return event\n")
code = {"ZipFile": buffer.getvalue()}
role_arn = iam.get_role(RoleName=roles[0])["Role"]["Arn"]


def create_function(name):
    lam.create_function(FunctionName=name, Runtime="python3.8", Role=role_arn, Handler="app.handler", Code=code)


functions = names("fn")
for name in functions:
    create_function(name)
late_function = "fn-%s-zz" % suffix
walk(lam, "list_functions", "Functions", lambda f: f["FunctionName"], functions + [late_function],
     between=lambda: create_function(late_function))
refused("InvalidParameterValueException", lam.list_functions, Marker="not-a-marker")
refused("ValidationException", lam.list_functions, MaxItems=51)

# API Gateway: REST APIs, one API's resources and deployments, API keys, usage plans, one plan's keys.
apis = [apigw.create_rest_api(name=n)["id"] for n in names("api")]
walk(apigw, "get_rest_apis", "items", lambda a: a["id"], apis)
api = apis[0]
root = apigw.get_resources(restApiId=api)["items"][0]["id"]
paths = ["/" + p for p in names("path")]
for path in paths:
    apigw.create_resource(restApiId=api, parentId=root, pathPart=path[1:])
assert len(walk(apigw, "get_resources", "items", lambda r: r["path"], paths + ["/"], restApiId=api)) == N + 1
apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK",
                      requestTemplates={"application/json": '{"statusCode": 200}'})
deployments = [apigw.create_deployment(restApiId=api, description=str(i))["id"] for i in range(N)]
assert len(walk(apigw, "get_deployments", "items", lambda d: d["id"], deployments, restApiId=api)) == N
responses = walk(apigw, "get_gateway_responses", "items", lambda r: r["responseType"], ["DEFAULT_4XX", "WAF_FILTERED"],
                 restApiId=api)
assert responses == sorted(responses) and len(responses) == 21, responses
api_keys = [apigw.create_api_key(name=n, enabled=True)["id"] for n in names("apikey")]
walk(apigw, "get_api_keys", "items", lambda k: k["id"], api_keys)
plans = [apigw.create_usage_plan(name=n)["id"] for n in names("plan")]
walk(apigw, "get_usage_plans", "items", lambda p: p["id"], plans)
for key in api_keys:
    apigw.create_usage_plan_key(usagePlanId=plans[0], keyId=key, keyType="API_KEY")
assert len(walk(apigw, "get_usage_plan_keys", "items", lambda k: k["id"], api_keys, usagePlanId=plans[0])) == N
refused("BadRequestException", apigw.get_rest_apis, position="not-a-position")
refused("BadRequestException", apigw.get_rest_apis, limit=501)

# ECR: repositories, one repository's images (image indexes that name nothing, each its own digest and tag).
repositories = names("repo")
for name in repositories:
    ecr.create_repository(repositoryName=name)
walk(ecr, "describe_repositories", "repositories", lambda r: r["repositoryName"], repositories)
digests = []
for i in range(N):
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": [], "annotations": {"n": str(i)}})
    image = ecr.put_image(repositoryName=repositories[0], imageManifest=index, imageTag="t%d" % i,
                          imageManifestMediaType="application/vnd.oci.image.index.v1+json")["image"]
    digests.append(image["imageId"]["imageDigest"])
assert len(walk(ecr, "describe_images", "imageDetails", lambda d: d["imageDigest"], digests,
                repositoryName=repositories[0])) == N
assert len(walk(ecr, "list_images", "imageIds", lambda i: i["imageTag"], ["t%d" % i for i in range(N)],
                repositoryName=repositories[0])) == N
refused("InvalidParameterException", ecr.describe_repositories, nextToken="not-a-token")
refused("InvalidParameterException", ecr.describe_repositories, repositoryNames=[repositories[0]], maxResults=1)
refused("InvalidParameterException", ecr.list_images, repositoryName=repositories[0], maxResults=1001)

# Batch: compute environments, job queues, job definitions, a queue's jobs.
environments = names("ce")
for name in environments:
    batch.create_compute_environment(computeEnvironmentName=name, type="MANAGED", state="ENABLED", computeResources={
        "type": "FARGATE", "maxvCpus": 4, "subnets": ["subnet-1"], "securityGroupIds": ["sg-1"]})
walk(batch, "describe_compute_environments", "computeEnvironments", lambda c: c["computeEnvironmentName"],
     environments)
queues = names("jq")
for name in queues:
    batch.create_job_queue(jobQueueName=name, state="ENABLED", priority=1,
                           computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environments[0]}])
walk(batch, "describe_job_queues", "jobQueues", lambda q: q["jobQueueName"], queues)
definitions = names("jd")
account = boto3.client("sts").get_caller_identity()["Account"]
container = {"image": "busybox", "executionRoleArn": "arn:aws:iam::%s:role/ecsTaskExecutionRole" % account,
             "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}]}
for name in definitions:
    batch.register_job_definition(jobDefinitionName=name, type="container", platformCapabilities=["FARGATE"],
                                  containerProperties=container)
walk(batch, "describe_job_definitions", "jobDefinitions", lambda d: d["jobDefinitionName"], definitions)
jobs = [batch.submit_job(jobName="job-%d" % i, jobQueue=queues[0], jobDefinition=definitions[0])["jobId"]
        for i in range(N)]
assert len(walk(batch, "list_jobs", "jobSummaryList", lambda j: j["jobId"], jobs, jobQueue=queues[0],
                filters=[{"name": "JOB_NAME", "values": ["job-*"]}])) == N
refused("ClientException", batch.describe_job_queues, nextToken="not-a-token")
refused("ClientException", batch.describe_job_queues, maxResults=1001)

# S3: a bucket's multipart uploads (two of them for one key), one upload's parts (S3's own markers).
s3 = boto3.client("s3")
bucket = "pages-" + suffix
s3.create_bucket(Bucket=bucket)
uploads = [s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
           for key in ["k0", "k1", "k1", "k2", "k3", "k4", "k5"]]
walk(s3, "list_multipart_uploads", "Uploads", lambda u: u["UploadId"], uploads, Bucket=bucket)
for number in range(1, N + 1):
    s3.upload_part(Bucket=bucket, Key="k0", UploadId=uploads[0], PartNumber=number, Body=b"part")
assert walk(s3, "list_parts", "Parts", lambda p: p["PartNumber"], list(range(1, N + 1)), Bucket=bucket, Key="k0",
            UploadId=uploads[0]) == list(range(1, N + 1))
for key, upload in zip(["k0", "k1", "k1", "k2", "k3", "k4", "k5"], uploads):
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload)
s3.delete_bucket(Bucket=bucket)

# Clean up what costs something to keep (Lambda's workers), and the rest that is cheap to remove.
for name in functions + [late_function]:
    lam.delete_function(FunctionName=name)
for api_id in apis:
    apigw.delete_rest_api(restApiId=api_id)
for name in repositories:
    ecr.delete_repository(repositoryName=name, force=True)

assert len(walked) == 23, walked
print("boto3 pagination (%d operations, %d items each, two a page): ok" % (len(walked), N))
