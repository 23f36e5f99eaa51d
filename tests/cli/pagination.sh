#!/usr/bin/env bash
# The AWS CLI's auto-pagination against an emulator (AWS_ENDPOINT_URL): with --page-size 2 the CLI follows each
# service's token (NextMarker, Marker/IsTruncated, position, nextToken) until the end and prints one merged list,
# which must hold every item created here exactly once. A second request with --max-items 3 stops after three
# items and hands back a NextToken that --starting-token resumes from. Rerunnable (names carry a suffix).
set -euo pipefail
aws() { command aws --output json "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
N=7
suffix=$(python3 -c 'import uuid; print(uuid.uuid4().hex[:8])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every one of the names in $2 (one a line) comes exactly once in the listing $1 prints, one name a line.
check() {
  local what=$1 listed=$2 expected=$3
  python3 - "$what" "$listed" "$expected" <<'EOF'
import sys
what, listed, expected = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
twice = sorted({n for n in listed if listed.count(n) > 1})
missing = [n for n in expected if n not in listed]
if twice or missing:
    sys.exit("FAIL: %s: twice %s, missing %s, listed %s" % (what, twice, missing, listed))
EOF
}

names() { for i in $(seq 0 $((N - 1))); do echo "$1-$suffix-$i"; done; }

# Lambda.
trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
python3 -c "
import io, zipfile, sys
b = io.BytesIO()
with zipfile.ZipFile(b, 'w') as z: z.writestr('app.py', 'def handler(e, c):\n    return e\n')
open(sys.argv[1], 'wb').write(b.getvalue())" "$work/code.zip"
roles=$(names role)
for role in $roles; do aws iam create-role --role-name "$role" --assume-role-policy-document "$trust" >/dev/null; done
role_arn=$(aws iam get-role --role-name "role-$suffix-0" | q '["Role"]["Arn"]')
functions=$(names fn)
for fn in $functions; do
  aws lambda create-function --function-name "$fn" --runtime python3.8 --role "$role_arn" --handler app.handler \
    --zip-file "fileb://$work/code.zip" >/dev/null
done
listed=$(aws lambda list-functions --page-size 2 --query 'Functions[].FunctionName' --output text | tr '\t' '\n')
check "aws lambda list-functions" "$listed" "$functions"

# IAM.
listed=$(aws iam list-roles --page-size 2 --query 'Roles[].RoleName' --output text | tr '\t' '\n')
check "aws iam list-roles" "$listed" "$roles"
first=$(aws iam list-roles --page-size 2 --max-items 3)
first_names=$(echo "$first" | python3 -c 'import json,sys; print("\n".join(r["RoleName"] for r in json.load(sys.stdin)["Roles"]))')
[ "$(echo "$first_names" | wc -l)" = 3 ] || fail "aws iam list-roles --max-items 3: $first"
token=$(echo "$first" | q '["NextToken"]')
rest=$(aws iam list-roles --page-size 2 --starting-token "$token" --query 'Roles[].RoleName' --output text | tr '\t' '\n')
check "aws iam list-roles --max-items 3, then --starting-token" "$first_names
$rest" "$roles"

# API Gateway.
apis=""
for name in $(names api); do apis="$apis $(aws apigateway create-rest-api --name "$name" | q '["id"]')"; done
listed=$(aws apigateway get-rest-apis --page-size 2 --query 'items[].id' --output text | tr '\t' '\n')
check "aws apigateway get-rest-apis" "$listed" "$apis"

# ECR.
repositories=$(names repo)
for name in $repositories; do aws ecr create-repository --repository-name "$name" >/dev/null; done
listed=$(aws ecr describe-repositories --page-size 2 --query 'repositories[].repositoryName' --output text | tr '\t' '\n')
check "aws ecr describe-repositories" "$listed" "$repositories"

# Batch.
aws batch create-compute-environment --compute-environment-name "ce-$suffix" --type MANAGED --state ENABLED \
  --compute-resources 'type=FARGATE,maxvCpus=4,subnets=subnet-1,securityGroupIds=sg-1' >/dev/null
queues=$(names jq)
for name in $queues; do
  aws batch create-job-queue --job-queue-name "$name" --state ENABLED --priority 1 \
    --compute-environment-order "order=1,computeEnvironment=ce-$suffix" >/dev/null
done
listed=$(aws batch describe-job-queues --page-size 2 --query 'jobQueues[].jobQueueName' --output text | tr '\t' '\n')
check "aws batch describe-job-queues" "$listed" "$queues"

# A token the emulator did not issue is the service's own refusal.
if refused=$(aws lambda list-functions --marker not-a-marker 2>&1); then fail "a foreign marker was accepted"; fi
case "$refused" in
  *"(InvalidParameterValueException)"*) ;;
  *) fail "a foreign Lambda marker: expected InvalidParameterValueException, got: $refused" ;;
esac

for fn in $functions; do aws lambda delete-function --function-name "$fn" >/dev/null; done
for api in $apis; do aws apigateway delete-rest-api --rest-api-id "$api" >/dev/null; done
for name in $repositories; do aws ecr delete-repository --repository-name "$name" >/dev/null; done
echo "aws cli pagination (--page-size 2 on lambda, iam, apigateway, ecr, batch): ok"
