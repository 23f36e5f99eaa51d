"""boto3 against the emulator (AWS_ENDPOINT_URL): policy `Condition` blocks decide real calls. A trust policy that
requires sts:ExternalId, an identity policy that denies every region but us-east-1 (aws:RequestedRegion), an
s3:ListBucket Allow limited to the session's own prefix (s3:prefix with a ${aws:PrincipalTag/team} variable), and
bucket policies with aws:SecureTransport and aws:CurrentTime conditions. Each is shown allowing and refusing."""
import json
import os
import urllib.error
import urllib.request
import uuid

import boto3
from botocore.exceptions import ClientError

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
suffix = uuid.uuid4().hex[:8]
iam = boto3.client("iam")
sts = boto3.client("sts")
s3 = boto3.client("s3")
account = sts.get_caller_identity()["Account"]


def expect_error(code, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        assert error.response["Error"]["Code"] == code, error.response
        return error.response["Error"]["Message"]
    raise AssertionError("expected " + code)


def document(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# A role only a caller presenting the agreed ExternalId may assume.
role_name = "conditional-" + suffix
trust = document({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % account}, "Action": "sts:AssumeRole",
                  "Condition": {"StringEquals": {"sts:ExternalId": "crts-" + suffix}}})
role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust,
                       Tags=[{"Key": "team", "Value": "crts"}])["Role"]
bucket = "conditions-" + suffix
iam.put_role_policy(RoleName=role_name, PolicyName="conditional", PolicyDocument=document(
    {"Effect": "Allow", "Action": ["batch:Describe*", "s3:GetObject"], "Resource": "*"},
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::" + bucket,
     "Condition": {"StringLike": {"s3:prefix": "${aws:PrincipalTag/team}/*"}}},
    {"Effect": "Deny", "Action": "*", "Resource": "*",
     "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}},
))

message = expect_error("AccessDenied", sts.assume_role, RoleArn=role["Arn"], RoleSessionName="no-id")
assert message.endswith("sts:AssumeRole on resource: " + role["Arn"]), message
expect_error("AccessDenied", sts.assume_role, RoleArn=role["Arn"], RoleSessionName="wrong-id", ExternalId="guess")
credentials = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="with-id", ExternalId="crts-" + suffix)["Credentials"]
session = boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                aws_secret_access_key=credentials["SecretAccessKey"],
                                aws_session_token=credentials["SessionToken"])

# aws:RequestedRegion: the same call allowed in us-east-1 and explicitly denied in eu-west-1.
session.client("batch", region_name="us-east-1").describe_job_queues()
message = expect_error("AccessDeniedException", session.client("batch", region_name="eu-west-1").describe_job_queues)
assert message.endswith("with an explicit deny in an identity-based policy"), message

# s3:prefix: the session lists under crts/ (its team tag) and nowhere else.
s3.create_bucket(Bucket=bucket)
s3.put_object(Bucket=bucket, Key="crts/report.txt", Body=b"hello")
role_s3 = session.client("s3", region_name="us-east-1")
listed = role_s3.list_objects_v2(Bucket=bucket, Prefix="crts/")
assert [o["Key"] for o in listed["Contents"]] == ["crts/report.txt"], listed
for prefix in ["other/", ""]:
    kwargs = {"Prefix": prefix} if prefix else {}
    message = expect_error("AccessDenied", role_s3.list_objects_v2, Bucket=bucket, **kwargs)
    assert message.endswith("because no identity-based policy allows the s3:ListBucket action"), message
assert role_s3.get_object(Bucket=bucket, Key="crts/report.txt")["Body"].read() == b"hello"

# A bucket policy denying insecure transport denies the owner over the emulator's plain HTTP, but the owner keeps
# the right to remove it.
s3.put_bucket_policy(Bucket=bucket, Policy=document(
    {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::" + bucket, "arn:aws:s3:::%s/*" % bucket],
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))
message = expect_error("AccessDenied", s3.get_object, Bucket=bucket, Key="crts/report.txt")
assert message.endswith("with an explicit deny in a resource-based policy"), message
expect_error("AccessDenied", role_s3.get_object, Bucket=bucket, Key="crts/report.txt")
s3.delete_bucket_policy(Bucket=bucket)
assert s3.get_object(Bucket=bucket, Key="crts/report.txt")["Body"].read() == b"hello"


# aws:CurrentTime: anonymous reads granted only inside a time window.
def anonymous_get():
    try:
        with urllib.request.urlopen("%s/%s/crts/report.txt" % (ENDPOINT, bucket)) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


s3.delete_public_access_block(Bucket=bucket)
for operator, expected in [("DateGreaterThan", 200), ("DateLessThan", 403)]:
    s3.put_bucket_policy(Bucket=bucket, Policy=document(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket,
         "Condition": {operator: {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}}))
    assert anonymous_get() == expected, (operator, anonymous_get())

# A condition IAM cannot read is refused when the policy is stored.
expect_error("MalformedPolicyDocument", iam.put_role_policy, RoleName=role_name, PolicyName="bad",
             PolicyDocument=document({"Effect": "Allow", "Action": "*", "Resource": "*",
                                      "Condition": {"StringEqualz": {"aws:RequestedRegion": "us-east-1"}}}))

s3.delete_object(Bucket=bucket, Key="crts/report.txt")
s3.delete_bucket_policy(Bucket=bucket)
s3.delete_bucket(Bucket=bucket)
iam.delete_role_policy(RoleName=role_name, PolicyName="conditional")
iam.delete_role(RoleName=role_name)
print("iam_conditions: ok")
