#!/usr/bin/env bash
# The runbook's "Swagger via AWS S3" section done with the AWS CLI against an emulator (AWS_ENDPOINT_URL): bucket
# with public access allowed, static website hosting, the runbook's bucket policy and CORS, an uploaded site, then
# the website endpoint read anonymously with curl. Exits non-zero on any failure.
set -euo pipefail
repo=${CRTS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
bucket=crts-cli-swagger
port=${AWS_ENDPOINT_URL##*:}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
aws() { command aws --output json "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
site() { curl -s -o "$work/body" -w '%{http_code} %{content_type}' -H "Host: $bucket.s3-website.localhost:$port" \
  "$AWS_ENDPOINT_URL$1"; }

aws s3 mb "s3://$bucket" >/dev/null
# The runbook's policy is refused while Block Public Access is on (AWS's default for new buckets).
if aws s3api put-bucket-policy --bucket "$bucket" \
  --policy "$(sed "s/cris-swagger-bucket/$bucket/" "$repo/fixtures/s3/bucket-policy.json")" 2>"$work/err"; then
  fail "a public policy was accepted under BlockPublicPolicy"
fi
grep -q AccessDenied "$work/err" || fail "expected AccessDenied, got: $(cat "$work/err")"
aws s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
  BlockPublicAcls=false,IgnorePublicAcls=false,BlockPublicPolicy=false,RestrictPublicBuckets=false
aws s3 website "s3://$bucket" --index-document index.html --error-document error.html
aws s3api put-bucket-policy --bucket "$bucket" \
  --policy "$(sed "s/cris-swagger-bucket/$bucket/" "$repo/fixtures/s3/bucket-policy.json")"
aws s3api put-bucket-cors --bucket "$bucket" \
  --cors-configuration "{\"CORSRules\": $(cat "$repo/fixtures/s3/cors.json")}"
[ "$(aws s3api get-bucket-cors --bucket "$bucket" | python3 -c 'import json,sys; print(json.load(sys.stdin)["CORSRules"][0]["AllowedMethods"])')" = "['PUT', 'POST']" ] \
  || fail "CORS rules did not read back"

mkdir -p "$work/site/css"
echo '<html><body>swagger</body></html>' >"$work/site/index.html"
echo 'body { margin: 0 }' >"$work/site/css/app.css"
aws s3 cp "$work/site" "s3://$bucket/" --recursive >/dev/null
aws s3 cp "$repo/fixtures/s3/cors.json" "s3://$bucket/crts-swagger.json" --content-type application/json >/dev/null
[ "$(aws s3 ls "s3://$bucket/" --recursive | wc -l)" = 3 ] || fail "expected 3 objects: $(aws s3 ls "s3://$bucket/" --recursive)"
aws s3 cp "s3://$bucket/css/app.css" "$work/app.css" >/dev/null
cmp -s "$work/app.css" "$work/site/css/app.css" || fail "downloaded object differs"
# 10 MiB is over the CLI's 8 MiB multipart threshold: a multipart upload, then ranged downloads.
head -c $((10 * 1024 * 1024)) /dev/urandom >"$work/big.bin"
aws s3 cp "$work/big.bin" "s3://$bucket/big.bin" >/dev/null
etag=$(aws s3api head-object --bucket "$bucket" --key big.bin --query ETag --output text)
case "$etag" in *-2\"*|*-2) ;; *) fail "expected a two-part multipart ETag, got $etag" ;; esac
aws s3 cp "s3://$bucket/big.bin" "$work/big.back" >/dev/null
cmp -s "$work/big.bin" "$work/big.back" || fail "the multipart object read back differs"
aws s3 rm "s3://$bucket/big.bin" >/dev/null

[ "$(site /)" = "200 text/html" ] || fail "website index: $(site /)"
grep -q swagger "$work/body" || fail "website index body: $(cat "$work/body")"
[ "$(site /crts-swagger.json)" = "200 application/json" ] || fail "swagger json: $(site /crts-swagger.json)"
[ "$(site /missing.json | cut -d' ' -f1)" = 404 ] || fail "missing key: $(site /missing.json)"
grep -q 'NoSuchKey' "$work/body" || fail "404 page: $(cat "$work/body")"

# `aws s3 presign` (SigV2, the CLI's default for S3 here): the link alone reads the object; an expired one is S3's
# "Request has expired".
link=$(command aws s3 presign "s3://$bucket/css/app.css" --expires-in 300)
case "$link" in *AWSAccessKeyId=*Signature=*Expires=*) ;; *) fail "not a presigned URL: $link" ;; esac
[ "$(curl -s -o "$work/presigned" -w '%{http_code}' "$link")" = 200 ] || fail "presigned GET: $(cat "$work/presigned")"
cmp -s "$work/presigned" "$work/site/css/app.css" || fail "presigned GET body differs"
short=$(command aws s3 presign "s3://$bucket/css/app.css" --expires-in 1)
sleep 2.2
[ "$(curl -s -o "$work/presigned" -w '%{http_code}' "$short")" = 403 ] || fail "expired presigned GET: $(cat "$work/presigned")"
grep -q '<Message>Request has expired</Message>' "$work/presigned" || fail "expired: $(cat "$work/presigned")"

aws s3 rm "s3://$bucket" --recursive >/dev/null
aws s3 rb "s3://$bucket" >/dev/null
echo "aws cli s3 website and presigned URLs: ok"
