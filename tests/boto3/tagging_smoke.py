"""boto3 against the emulator's tagging (AWS_ENDPOINT_URL): each service's own tag operations (IAM roles and
policies, Lambda, Batch, API Gateway, ECR, S3 buckets), AWS's tag rules and errors, and the Resource Groups
Tagging API's GetResources with tag and type filters and its paginator. Exits non-zero on any failure."""
import io
import json
import uuid
import zipfile

import boto3
from botocore.exceptions import ClientError

suffix = uuid.uuid4().hex[:8]
RUN = {"crts-harness:run-id": suffix}
iam, lam, batch = boto3.client("iam"), boto3.client("lambda"), boto3.client("batch")
apigw, ecr, s3 = boto3.client("apigateway"), boto3.client("ecr"), boto3.client("s3")
tagging = boto3.client("resourcegroupstaggingapi")


def expect_error(code, status, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        assert error.response["Error"]["Code"] == code, error.response
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status, error.response
        return error.response["Error"]["Message"]
    raise AssertionError("expected %s from %s" % (code, call.__name__))


def as_list(tags):
    return [{"Key": k, "Value": v} for k, v in tags.items()]


too_many = {"k%d" % i: "v" for i in range(51)}

# IAM: tags on create, TagRole/ListRoleTags/UntagRole, TagPolicy/ListPolicyTags/UntagPolicy; GetRole shows them.
trust = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="tag-role-" + suffix, AssumeRolePolicyDocument=json.dumps(trust),
                       Tags=as_list(RUN))["Role"]
assert role["Tags"] == as_list(RUN), role
iam.tag_role(RoleName=role["RoleName"], Tags=[{"Key": "team", "Value": "crts"}])
assert iam.list_role_tags(RoleName=role["RoleName"])["Tags"] == as_list({**RUN, "team": "crts"})
assert iam.get_role(RoleName=role["RoleName"])["Role"]["Tags"] == as_list({**RUN, "team": "crts"})
iam.untag_role(RoleName=role["RoleName"], TagKeys=["team"])
assert iam.list_role_tags(RoleName=role["RoleName"])["Tags"] == as_list(RUN)
assert "aws:" in expect_error("InvalidInput", 400, iam.tag_role, RoleName=role["RoleName"],
                              Tags=[{"Key": "aws:reserved", "Value": "x"}])
expect_error("LimitExceeded", 409, iam.tag_role, RoleName=role["RoleName"], Tags=as_list(too_many))
expect_error("NoSuchEntity", 404, iam.list_role_tags, RoleName="nope-" + suffix)
policy = iam.create_policy(PolicyName="tag-policy-" + suffix, Tags=as_list(RUN), PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*"}]}))
assert iam.list_policy_tags(PolicyArn=policy["Policy"]["Arn"])["Tags"] == as_list(RUN)
iam.tag_policy(PolicyArn=policy["Policy"]["Arn"], Tags=[{"Key": "team", "Value": "crts"}])
iam.untag_policy(PolicyArn=policy["Policy"]["Arn"], TagKeys=["team", "absent"])
assert iam.get_policy(PolicyArn=policy["Policy"]["Arn"])["Policy"]["Tags"] == as_list(RUN)

# Lambda: Tags on create, TagResource/ListTags/UntagResource by ARN.
code = io.BytesIO()
with zipfile.ZipFile(code, "w") as archive:
    archive.writestr("lambda_function.py", "def lambda_handler(event, context):\n    return {}\n")
function = lam.create_function(FunctionName="tag-fn-" + suffix, Runtime="python3.12", Role=role["Arn"],
                               Handler="lambda_function.lambda_handler", Code={"ZipFile": code.getvalue()}, Tags=RUN)
arn = function["FunctionArn"]
lam.tag_resource(Resource=arn, Tags={"team": "crts"})
assert lam.list_tags(Resource=arn)["Tags"] == {**RUN, "team": "crts"}
assert lam.get_function(FunctionName=function["FunctionName"])["Tags"] == {**RUN, "team": "crts"}
lam.untag_resource(Resource=arn, TagKeys=["team"])
assert lam.list_tags(Resource=arn)["Tags"] == RUN
expect_error("ResourceNotFoundException", 404, lam.list_tags, Resource=arn + "-gone")
expect_error("InvalidParameterValueException", 400, lam.tag_resource, Resource=arn, Tags=too_many)

# Batch: the 50-tag and aws: rules on TagResource and on create.
ce = batch.create_compute_environment(computeEnvironmentName="tag-ce-" + suffix, type="MANAGED", tags=RUN,
                                      computeResources={"type": "FARGATE", "maxvCpus": 4, "subnets": ["s"]})
assert batch.list_tags_for_resource(resourceArn=ce["computeEnvironmentArn"])["tags"] == RUN
expect_error("ClientException", 400, batch.tag_resource, resourceArn=ce["computeEnvironmentArn"],
             tags={"aws:x": "y"})
expect_error("ClientException", 400, batch.create_compute_environment, computeEnvironmentName="x-" + suffix,
             type="MANAGED", tags=too_many, computeResources={"type": "FARGATE", "maxvCpus": 4, "subnets": ["s"]})

# API Gateway: tags on create (REST API, key, usage plan, stage), TagResource/GetTags/UntagResource by ARN.
api = apigw.create_rest_api(name="tag-api-" + suffix, tags=RUN)
assert api["tags"] == RUN, api
api_arn = "arn:aws:apigateway:us-east-1::/restapis/" + api["id"]
root = apigw.get_resources(restApiId=api["id"])["items"][0]["id"]
apigw.put_method(restApiId=api["id"], resourceId=root, httpMethod="GET", authorizationType="NONE")
apigw.put_integration(restApiId=api["id"], resourceId=root, httpMethod="GET", type="MOCK")
apigw.create_deployment(restApiId=api["id"], stageName="default")
stage_arn = api_arn + "/stages/default"
assert apigw.get_tags(resourceArn=stage_arn)["tags"] == {}
apigw.tag_resource(resourceArn=stage_arn, tags=RUN)
assert apigw.get_stage(restApiId=api["id"], stageName="default")["tags"] == RUN
key = apigw.create_api_key(name="tag-key-" + suffix, tags=RUN)
plan = apigw.create_usage_plan(name="tag-plan-" + suffix, tags=RUN)
for resource_arn in (api_arn, "arn:aws:apigateway:us-east-1::/apikeys/" + key["id"],
                     "arn:aws:apigateway:us-east-1::/usageplans/" + plan["id"]):
    apigw.tag_resource(resourceArn=resource_arn, tags={"team": "crts"})
    assert apigw.get_tags(resourceArn=resource_arn)["tags"] == {**RUN, "team": "crts"}, resource_arn
    apigw.untag_resource(resourceArn=resource_arn, tagKeys=["team"])
    assert apigw.get_tags(resourceArn=resource_arn)["tags"] == RUN, resource_arn
expect_error("NotFoundException", 404, apigw.get_tags, resourceArn="arn:aws:apigateway:us-east-1::/restapis/nope")
expect_error("BadRequestException", 400, apigw.tag_resource, resourceArn=api_arn, tags=too_many)

# ECR: tags on create, TagResource/ListTagsForResource/UntagResource, its own error codes.
repository = ecr.create_repository(repositoryName="tag-repo-" + suffix, tags=as_list(RUN))["repository"]
ecr.tag_resource(resourceArn=repository["repositoryArn"], tags=[{"Key": "team", "Value": "crts"}])
assert ecr.list_tags_for_resource(resourceArn=repository["repositoryArn"])["tags"] == as_list({**RUN, "team": "crts"})
ecr.untag_resource(resourceArn=repository["repositoryArn"], tagKeys=["team"])
assert ecr.list_tags_for_resource(resourceArn=repository["repositoryArn"])["tags"] == as_list(RUN)
expect_error("TooManyTagsException", 400, ecr.tag_resource, resourceArn=repository["repositoryArn"],
             tags=as_list(too_many))
expect_error("InvalidTagParameterException", 400, ecr.tag_resource, resourceArn=repository["repositoryArn"],
             tags=[{"Key": "aws:x", "Value": "y"}])
expect_error("InvalidParameterException", 400, ecr.list_tags_for_resource, resourceArn="not-an-arn")
expect_error("RepositoryNotFoundException", 400, ecr.list_tags_for_resource,
             resourceArn=repository["repositoryArn"] + "-gone")

# S3: PutBucketTagging replaces the set, GetBucketTagging, DeleteBucketTagging, NoSuchTagSet, InvalidTag.
bucket = "tag-bucket-" + suffix
s3.create_bucket(Bucket=bucket)
expect_error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket=bucket)
s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": as_list({"team": "crts"})})
s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": as_list(RUN)})
assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == as_list(RUN)
expect_error("InvalidTag", 400, s3.put_bucket_tagging, Bucket=bucket,
             Tagging={"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]})
expect_error("NoSuchBucket", 404, s3.get_bucket_tagging, Bucket=bucket + "-gone")

# GetResources: by tag (key and value), by type, paged with boto3's paginator; IAM roles are not listed (AWS).
filters = [{"Key": "crts-harness:run-id", "Values": [suffix]}]
pages = tagging.get_paginator("get_resources").paginate(TagFilters=filters, ResourcesPerPage=2)
found = [m["ResourceARN"] for page in pages for m in page["ResourceTagMappingList"]]
assert sorted(found) == sorted([
    api_arn, stage_arn, "arn:aws:apigateway:us-east-1::/apikeys/" + key["id"],
    "arn:aws:apigateway:us-east-1::/usageplans/" + plan["id"], ce["computeEnvironmentArn"], arn,
    repository["repositoryArn"], "arn:aws:s3:::" + bucket]), found
assert role["Arn"] not in found
by_type = tagging.get_resources(TagFilters=filters, ResourceTypeFilters=["s3", "lambda:function"])
assert sorted(m["ResourceARN"] for m in by_type["ResourceTagMappingList"]) == sorted([arn, "arn:aws:s3:::" + bucket])
assert tagging.get_resources(TagFilters=[{"Key": "crts-harness:run-id", "Values": ["other"]}])[
    "ResourceTagMappingList"] == []
expect_error("PaginationTokenExpiredException", 400, tagging.get_resources, PaginationToken="garbage")
expect_error("InvalidParameterException", 400, tagging.get_resources, ResourceARNList=[arn], TagFilters=filters)
assert suffix in tagging.get_tag_values(Key="crts-harness:run-id")["TagValues"]
assert "crts-harness:run-id" in tagging.get_tag_keys()["TagKeys"]

# Tagging on create needs the tagging action too (iam:TagRole, ecr:TagResource, batch:TagResource,
# lambda:TagResource), as on AWS: a role session allowed only to create is refused when it tags.
creator_trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"AWS": "arn:aws:iam::000000000000:root"}}]}
creator = iam.create_role(RoleName="tag-creator-" + suffix, AssumeRolePolicyDocument=json.dumps(creator_trust))
iam.put_role_policy(RoleName="tag-creator-" + suffix, PolicyName="create-only", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
        "iam:CreateRole", "iam:DeleteRole", "ecr:CreateRepository", "ecr:DeleteRepository", "iam:PassRole",
        "batch:CreateComputeEnvironment", "lambda:CreateFunction", "lambda:DeleteFunction"]}]}))
session = boto3.client("sts").assume_role(RoleArn=creator["Role"]["Arn"], RoleSessionName="creator")["Credentials"]
as_creator = boto3.Session(aws_access_key_id=session["AccessKeyId"], aws_secret_access_key=session["SecretAccessKey"],
                           aws_session_token=session["SessionToken"])
refused = [
    ("AccessDenied", 403, as_creator.client("iam").create_role, dict(
        RoleName="tagged-" + suffix, AssumeRolePolicyDocument=json.dumps(trust), Tags=as_list(RUN))),
    ("AccessDeniedException", 400, as_creator.client("ecr").create_repository, dict(
        repositoryName="tagged-" + suffix, tags=as_list(RUN))),
    ("AccessDeniedException", 403, as_creator.client("batch").create_compute_environment, dict(
        computeEnvironmentName="tagged-" + suffix, type="MANAGED", tags=RUN,
        computeResources={"type": "FARGATE", "maxvCpus": 4, "subnets": ["s"]})),
    ("AccessDeniedException", 403, as_creator.client("lambda").create_function, dict(
        FunctionName="tagged-" + suffix, Runtime="python3.12", Role=role["Arn"], Tags=RUN,
        Handler="lambda_function.lambda_handler", Code={"ZipFile": code.getvalue()})),
]
for error_code, status, call, kwargs in refused:
    message = expect_error(error_code, status, call, **kwargs)
    assert "TagRole" in message or "TagResource" in message, message
    kwargs.pop("Tags", None), kwargs.pop("tags", None)
    call(**kwargs)  # the same create without tags is allowed
as_creator.client("iam").delete_role(RoleName="tagged-" + suffix)
as_creator.client("ecr").delete_repository(repositoryName="tagged-" + suffix)
as_creator.client("lambda").delete_function(FunctionName="tagged-" + suffix)
batch.update_compute_environment(computeEnvironment="tagged-" + suffix, state="DISABLED")
batch.delete_compute_environment(computeEnvironment="tagged-" + suffix)
iam.delete_role_policy(RoleName="tag-creator-" + suffix, PolicyName="create-only")
iam.delete_role(RoleName="tag-creator-" + suffix)

# Clean up what the script made.
s3.delete_bucket_tagging(Bucket=bucket)
expect_error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket=bucket)
s3.delete_bucket(Bucket=bucket)
ecr.delete_repository(repositoryName=repository["repositoryName"])
apigw.delete_usage_plan(usagePlanId=plan["id"])
apigw.delete_api_key(apiKey=key["id"])
apigw.delete_rest_api(restApiId=api["id"])
batch.update_compute_environment(computeEnvironment=ce["computeEnvironmentArn"], state="DISABLED")
batch.delete_compute_environment(computeEnvironment=ce["computeEnvironmentArn"])
lam.delete_function(FunctionName=function["FunctionName"])
iam.delete_policy(PolicyArn=policy["Policy"]["Arn"])
iam.delete_role(RoleName=role["RoleName"])
print("tagging smoke: ok")
