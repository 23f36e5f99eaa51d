#!/usr/bin/env bash
# The CRTS runbook's job-trigger path done with the AWS CLI against an emulator (AWS_ENDPOINT_URL), then a POST
# through the deployed API that must become a SUCCEEDED Batch job. Exits non-zero on any failure.
set -euo pipefail
repo=${CRTS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
region=${AWS_DEFAULT_REGION:-us-east-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
aws() { command aws --output json "$@"; }
q() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

account=$(aws sts get-caller-identity | q '["Account"]')
# AWS Elastic Container Registry: the repository, and the image pushed as `docker push` does it (a config blob,
# then the manifest), so the job definition's image can be pulled.
aws ecr create-repository --repository-name crts >/dev/null
password=$(aws ecr get-login-password)
printf '%s' '{"architecture":"amd64","os":"linux","config":{"Cmd":["/crts/run"]},"rootfs":{"type":"layers","diff_ids":[]}}' \
  >"$work/config.json"
config_digest="sha256:$(sha256sum "$work/config.json" | cut -d' ' -f1)"
config_size=$(wc -c <"$work/config.json")
code=$(curl -s -o /dev/null -w '%{http_code}' -u "AWS:$password" --data-binary "@$work/config.json" \
  "$AWS_ENDPOINT_URL/v2/crts/blobs/uploads/?digest=$config_digest")
[ "$code" = 201 ] || { echo "FAIL: blob upload answered $code" >&2; exit 1; }
manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"layers\":[],\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$config_digest\",\"size\":$config_size}}"
code=$(curl -s -o /dev/null -w '%{http_code}' -u "AWS:$password" -X PUT \
  -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "$manifest" \
  "$AWS_ENDPOINT_URL/v2/crts/manifests/latest")
[ "$code" = 201 ] || { echo "FAIL: manifest push answered $code" >&2; exit 1; }
exec_role=$(aws iam create-role --role-name ecsTaskExecutionRole \
  --assume-role-policy-document "file://$repo/fixtures/policies/ecs-tasks-trust.json" | q '["Role"]["Arn"]')
aws batch create-compute-environment --compute-environment-name crts-ce --type MANAGED --state ENABLED \
  --compute-resources type=FARGATE,maxvCpus=4,subnets=subnet-1,securityGroupIds=sg-1 >/dev/null
aws batch create-job-queue --job-queue-name crts-aws-jq --priority 1 --state ENABLED \
  --compute-environment-order order=1,computeEnvironment=crts-ce >/dev/null
for image in busybox "$account.dkr.ecr.$region.amazonaws.com/crts:latest"; do
  revision=$(aws batch register-job-definition --job-definition-name CrtsAwsJD --type container \
    --platform-capabilities FARGATE \
    --container-properties "{\"image\":\"$image\",\"executionRoleArn\":\"$exec_role\",\"resourceRequirements\":[{\"type\":\"VCPU\",\"value\":\"1\"},{\"type\":\"MEMORY\",\"value\":\"2048\"}],\"networkConfiguration\":{\"assignPublicIp\":\"ENABLED\"}}" \
    | q '["revision"]')
done
[ "$revision" = 2 ]

role_arn=$(aws iam create-role --role-name crts-role \
  --assume-role-policy-document "file://$repo/fixtures/policies/lambda-trust.json" | q '["Role"]["Arn"]')
python3 -c "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.write(sys.argv[2],'lambda_function.py'); z.close()" \
  "$work/code.zip" "$repo/fixtures/lambda/lambda_function.py"
function_arn=$(aws lambda create-function --function-name crts --runtime python3.8 --role "$role_arn" \
  --handler lambda_function.lambda_handler --zip-file "fileb://$work/code.zip" --timeout 30 | q '["FunctionArn"]')
aws lambda wait function-active-v2 --function-name crts
aws lambda update-function-configuration --function-name crts \
  --environment 'Variables={aws_jobqueue=crts-aws-jq,aws_jobdefinition=CrtsAwsJD:2}' >/dev/null
policy_arn=$(aws iam create-policy --policy-name crts-batch-submit-job \
  --policy-document "file://$repo/fixtures/policies/batch-submit-job.json" | q '["Policy"]["Arn"]')
aws iam attach-role-policy --role-name crts-role --policy-arn "$policy_arn"

api_id=$(aws apigateway create-rest-api --name crts-API | q '["id"]')
root_id=$(aws apigateway get-resources --rest-api-id "$api_id" | q '["items"][0]["id"]')
resource_id=$(aws apigateway create-resource --rest-api-id "$api_id" --parent-id "$root_id" --path-part crts | q '["id"]')
aws apigateway put-method --rest-api-id "$api_id" --resource-id "$resource_id" --http-method POST \
  --authorization-type NONE --api-key-required >/dev/null
aws apigateway put-integration --rest-api-id "$api_id" --resource-id "$resource_id" --http-method POST \
  --type AWS_PROXY --integration-http-method POST \
  --uri "arn:aws:apigateway:$region:lambda:path/2015-03-31/functions/$function_arn/invocations" >/dev/null
aws lambda add-permission --function-name crts --statement-id apigw --action lambda:InvokeFunction \
  --principal apigateway.amazonaws.com --source-arn "arn:aws:execute-api:$region:$account:$api_id/*/POST/crts" >/dev/null
aws apigateway create-deployment --rest-api-id "$api_id" --stage-name default >/dev/null
key=$(aws apigateway create-api-key --name crts-api-key --enabled)
key_id=$(echo "$key" | q '["id"]')
key_value=$(echo "$key" | q '["value"]')
plan_id=$(aws apigateway create-usage-plan --name crts-plan --api-stages "apiId=$api_id,stage=default" | q '["id"]')
aws apigateway create-usage-plan-key --usage-plan-id "$plan_id" --key-id "$key_id" --key-type API_KEY >/dev/null

url="$AWS_ENDPOINT_URL/_aws/execute-api/$api_id/default/crts"
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$url")
[ "$status" = 403 ] || { echo "no key: expected 403, got $status"; exit 1; }
answer=$(curl -sf -X POST -H 'Content-Type: application/json' -H "x-api-key: $key_value" \
  -d '{"jobName":"cli-run","parameters":{"suite":"smoke"}}' "$url")
job_id=$(echo "$answer" | q '["jobId"]')
for _ in $(seq 100); do
  job_status=$(aws batch describe-jobs --jobs "$job_id" | q '["jobs"][0]["status"]')
  case $job_status in SUCCEEDED|FAILED) break ;; esac
  sleep 0.1
done
[ "$job_status" = SUCCEEDED ] || { echo "job ended $job_status"; exit 1; }
echo "aws cli crts setup and trigger: ok (job $job_id)"
