#!/usr/bin/env bash
# The AWS CLI past the runbook's happy path against an emulator (AWS_ENDPOINT_URL): a MOCK method behind an API key
# and a usage plan with a quota of 2 (the third call through the invoke URL gets 429 Limit Exceeded), get-usage
# counting those calls, get-export of the stage to a file (Swagger JSON, OpenAPI YAML with the integration
# extensions), and test-invoke-method (the console's Test button). Rerunnable (names carry a suffix).
set -euo pipefail
aws() { command aws --output json "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
suffix=$(python3 -c 'import uuid; print(uuid.uuid4().hex[:8])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

api=$(aws apigateway create-rest-api --name "cli-$suffix" | q '["id"]')
root=$(aws apigateway get-resources --rest-api-id "$api" | q '["items"][0]["id"]')
rid=$(aws apigateway create-resource --rest-api-id "$api" --parent-id "$root" --path-part items | q '["id"]')
aws apigateway put-method --rest-api-id "$api" --resource-id "$rid" --http-method GET --authorization-type NONE \
  --api-key-required >/dev/null
aws apigateway put-method-response --rest-api-id "$api" --resource-id "$rid" --http-method GET --status-code 200 \
  --response-models application/json=Empty >/dev/null
aws apigateway put-integration --rest-api-id "$api" --resource-id "$rid" --http-method GET --type MOCK \
  --request-templates '{"application/json": "{\"statusCode\": 200}"}' >/dev/null
aws apigateway put-integration-response --rest-api-id "$api" --resource-id "$rid" --http-method GET \
  --status-code 200 --response-templates '{"application/json": "{\"items\": []}"}' >/dev/null
aws apigateway create-deployment --rest-api-id "$api" --stage-name prod >/dev/null

key=$(aws apigateway create-api-key --name "cli-$suffix" --enabled)
key_id=$(echo "$key" | q '["id"]')
key_value=$(echo "$key" | q '["value"]')
plan=$(aws apigateway create-usage-plan --name "cli-$suffix" --api-stages "apiId=$api,stage=prod" \
  --quota limit=2,period=DAY --throttle rateLimit=50,burstLimit=50 | q '["id"]')
aws apigateway create-usage-plan-key --usage-plan-id "$plan" --key-id "$key_id" --key-type API_KEY >/dev/null

url="$AWS_ENDPOINT_URL/_aws/execute-api/$api/prod/items"
codes=""
for _ in 1 2 3; do
  codes="$codes $(curl -s -o "$work/body" -w '%{http_code}' -H "x-api-key: $key_value" "$url")"
done
[ "$codes" = " 200 200 429" ] || fail "quota of 2: got$codes"
[ "$(cat "$work/body")" = '{"message":"Limit Exceeded"}' ] || fail "429 body: $(cat "$work/body")"

today=$(python3 -c 'import datetime; print(datetime.datetime.now(datetime.timezone.utc).date())')
usage=$(aws apigateway get-usage --usage-plan-id "$plan" --start-date "$today" --end-date "$today")
[ "$(echo "$usage" | q "['items']['$key_id']")" = "[[2, 0]]" ] || fail "get-usage: $usage"

aws apigateway get-export --rest-api-id "$api" --stage-name prod --export-type swagger "$work/out.json" >/dev/null
python3 - "$work/out.json" "$api" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["swagger"] == "2.0" and doc["basePath"] == "/prod", doc
assert doc["host"] == f"{sys.argv[2]}.execute-api.us-east-1.amazonaws.com", doc
assert doc["paths"]["/items"]["get"]["security"] == [{"api_key": []}], doc
assert "x-amazon-apigateway-integration" not in doc["paths"]["/items"]["get"], doc
PY
aws apigateway get-export --rest-api-id "$api" --stage-name prod --export-type oas30 \
  --parameters extensions=integrations --accepts application/yaml "$work/out.yaml" >/dev/null
python3 - "$work/out.yaml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
assert doc["openapi"].startswith("3.0") and doc["servers"][0]["variables"]["basePath"]["default"] == "prod", doc
assert doc["paths"]["/items"]["get"]["x-amazon-apigateway-integration"]["type"] == "mock", doc
PY

tested=$(aws apigateway test-invoke-method --rest-api-id "$api" --resource-id "$rid" --http-method GET \
  --path-with-query-string '/items?page=1')
[ "$(echo "$tested" | q '["status"]')" = "200" ] || fail "test-invoke-method status: $tested"
[ "$(echo "$tested" | q '["body"]')" = '{"items": []}' ] || fail "test-invoke-method body: $tested"
log=$(echo "$tested" | q '["log"]')
[[ "$log" == *"Method completed with status: 200"* ]] || fail "test-invoke-method log: $tested"

echo "cli apigateway: ok"
