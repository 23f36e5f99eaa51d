"""boto3 against the emulator's IAM and STS (AWS_ENDPOINT_URL): roles, managed and inline policies, errors."""
import json
import uuid

import boto3
from botocore.exceptions import ClientError

iam = boto3.client("iam")
sts = boto3.client("sts")
suffix = uuid.uuid4().hex[:8]
role_name = "crts-role-" + suffix
trust = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
runbook = {"Version": "2012-10-17", "Statement": [
    {"Sid": "VisualEditor0", "Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*"}]}


def expect_error(code, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        assert error.response["Error"]["Code"] == code, error.response
        return error
    raise AssertionError("expected %s" % code)


identity = sts.get_caller_identity()
assert identity["Account"] == "000000000000", identity

role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust), Description="smoke")["Role"]
assert role["Arn"] == "arn:aws:iam::000000000000:role/" + role_name, role
assert role["AssumeRolePolicyDocument"] == trust, role["AssumeRolePolicyDocument"]  # botocore URL-decodes it
assert iam.get_role(RoleName=role_name)["Role"]["RoleId"] == role["RoleId"]
expect_error("EntityAlreadyExists", iam.create_role, RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))
expect_error("NoSuchEntity", iam.get_role, RoleName="nope-" + suffix)
expect_error("MalformedPolicyDocument", iam.create_role, RoleName="bad-" + suffix, AssumeRolePolicyDocument="{")

policy = iam.create_policy(PolicyName="submit-" + suffix, PolicyDocument=json.dumps(runbook))["Policy"]
assert policy["DefaultVersionId"] == "v1", policy
iam.attach_role_policy(RoleName=role_name, PolicyArn=policy["Arn"])
iam.attach_role_policy(RoleName=role_name,
                       PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
assert sorted(p["PolicyName"] for p in attached) == sorted(["submit-" + suffix, "AWSLambdaBasicExecutionRole"]), attached
assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["AttachmentCount"] == 1
version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v1")["PolicyVersion"]
assert version["Document"] == runbook, version
expect_error("NoSuchEntity", iam.attach_role_policy, RoleName=role_name, PolicyArn="arn:aws:iam::aws:policy/Nope")
expect_error("DeleteConflict", iam.delete_role, RoleName=role_name)
expect_error("DeleteConflict", iam.delete_policy, PolicyArn=policy["Arn"])

iam.put_role_policy(RoleName=role_name, PolicyName="inline", PolicyDocument=json.dumps(runbook))
assert iam.get_role_policy(RoleName=role_name, PolicyName="inline")["PolicyDocument"] == runbook
assert iam.list_role_policies(RoleName=role_name)["PolicyNames"] == ["inline"]
expect_error("NoSuchEntity", iam.get_role_policy, RoleName=role_name, PolicyName="nope")

# AssumeRole: the role trusts only Lambda, so the account may not assume it; a role that trusts the account may.
expect_error("AccessDenied", sts.assume_role, RoleArn=role["Arn"], RoleSessionName="smoke")
reader = iam.create_role(RoleName="reader-" + suffix, AssumeRolePolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]}))["Role"]
assumed = sts.assume_role(RoleArn=reader["Arn"], RoleSessionName="smoke", DurationSeconds=900)
credentials = assumed["Credentials"]
assert credentials["AccessKeyId"].startswith("ASIA"), credentials
assert assumed["AssumedRoleUser"]["Arn"] == "arn:aws:sts::000000000000:assumed-role/reader-%s/smoke" % suffix, assumed
assert assumed["AssumedRoleUser"]["AssumedRoleId"] == reader["RoleId"] + ":smoke", assumed
as_reader = boto3.client("sts", aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"])
assert as_reader.get_caller_identity()["Arn"] == assumed["AssumedRoleUser"]["Arn"]
iam.delete_role(RoleName="reader-" + suffix)

iam.delete_role_policy(RoleName=role_name, PolicyName="inline")
iam.detach_role_policy(RoleName=role_name, PolicyArn=policy["Arn"])
iam.detach_role_policy(RoleName=role_name,
                       PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
iam.delete_policy(PolicyArn=policy["Arn"])
iam.delete_role(RoleName=role_name)
expect_error("NoSuchEntity", iam.get_role, RoleName=role_name)
print("iam smoke: ok")
