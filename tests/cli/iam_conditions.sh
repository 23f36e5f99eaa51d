#!/usr/bin/env bash
# The AWS CLI against an emulator (AWS_ENDPOINT_URL): a trust policy's sts:ExternalId condition decides
# `aws sts assume-role`, and an identity policy's aws:RequestedRegion Deny decides a call made with `--region`.
# Rerunnable (names carry a suffix).
set -euo pipefail
aws() { command aws --output json "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
suffix=$(python3 -c 'import uuid; print(uuid.uuid4().hex[:8])')
role=cli-conditional-$suffix
account=$(aws sts get-caller-identity | q '["Account"]')

trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"'$account'"},"Action":"sts:AssumeRole",
  "Condition":{"StringEquals":{"sts:ExternalId":"cli-'$suffix'"}}}]}'
role_arn=$(aws iam create-role --role-name "$role" --assume-role-policy-document "$trust" | q '["Role"]["Arn"]')
aws iam put-role-policy --role-name "$role" --policy-name regions --policy-document '{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"batch:DescribeJobQueues","Resource":"*"},
  {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}]}'

# Without the ExternalId, and with a wrong one: AccessDenied.
for args in "" "--external-id guess"; do
  # shellcheck disable=SC2086
  if out=$(aws sts assume-role --role-arn "$role_arn" --role-session-name cli $args 2>&1); then
    fail "assume-role $args was allowed: $out"
  fi
  grep -q "AccessDenied" <<<"$out" || fail "assume-role $args: $out"
done
creds=$(aws sts assume-role --role-arn "$role_arn" --role-session-name cli --external-id "cli-$suffix")
export AWS_ACCESS_KEY_ID=$(q '["Credentials"]["AccessKeyId"]' <<<"$creds")
export AWS_SECRET_ACCESS_KEY=$(q '["Credentials"]["SecretAccessKey"]' <<<"$creds")
export AWS_SESSION_TOKEN=$(q '["Credentials"]["SessionToken"]' <<<"$creds")

aws batch describe-job-queues --region us-east-1 >/dev/null || fail "describe-job-queues in us-east-1 was refused"
if out=$(aws batch describe-job-queues --region eu-west-1 2>&1); then
  fail "describe-job-queues in eu-west-1 was allowed: $out"
fi
grep -q "AccessDeniedException" <<<"$out" || fail "eu-west-1: $out"
grep -q "with an explicit deny in an identity-based policy" <<<"$out" || fail "eu-west-1: $out"

unset AWS_SESSION_TOKEN
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
aws iam delete-role-policy --role-name "$role" --policy-name regions
aws iam delete-role --role-name "$role"
echo "iam_conditions.sh: ok"
