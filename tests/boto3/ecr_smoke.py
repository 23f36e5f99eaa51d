"""boto3 against the emulator's ECR (AWS_ENDPOINT_URL): repositories, authorization tokens, and images pushed
through the OCI registry API on the same port (monolithic, chunked and mounted blobs, manifests by tag and
digest), seen through DescribeImages/ListImages/BatchGetImage, PutImage and BatchDeleteImage."""
import base64
import hashlib
import json
import os
import urllib.error
import urllib.request

import boto3
from botocore.exceptions import ClientError

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
ecr = boto3.client("ecr")


def expect_error(code, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        assert error.response["Error"]["Code"] == code, error.response
        return error.response["Error"]["Message"]
    raise AssertionError("expected " + code)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry:
    def __init__(self, password):
        self.auth = "Basic " + base64.b64encode(("AWS:" + password).encode()).decode()

    def request(self, method, path, data=None, headers=None, auth=True):
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = self.auth
        req = urllib.request.Request(ENDPOINT + path, method=method, data=data, headers=headers)
        try:
            with urllib.request.urlopen(req) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()


# Repositories.
repo = ecr.create_repository(repositoryName="crts")["repository"]
account = repo["registryId"]
assert repo["repositoryUri"] == f"{account}.dkr.ecr.us-east-1.amazonaws.com/crts", repo
assert repo["repositoryArn"] == f"arn:aws:ecr:us-east-1:{account}:repository/crts", repo
ecr.create_repository(repositoryName="team/base")
message = expect_error("RepositoryAlreadyExistsException", ecr.create_repository, repositoryName="crts")
assert message == f"The repository with name 'crts' already exists in the registry with id '{account}'", message
expect_error("InvalidParameterException", ecr.create_repository, repositoryName="Bad Name")
expect_error("RepositoryNotFoundException", ecr.describe_repositories, repositoryNames=["nope"])
names = sorted(r["repositoryName"] for r in ecr.describe_repositories()["repositories"])
assert names == ["crts", "team/base"], names

# Token: base64 "AWS:<password>", a proxy endpoint, an expiry.
auth = ecr.get_authorization_token()["authorizationData"][0]
user, password = base64.b64decode(auth["authorizationToken"]).decode().split(":", 1)
assert user == "AWS" and auth["proxyEndpoint"].startswith("http://localhost:") and auth["expiresAt"], auth
registry = Registry(password)
status, headers, _ = registry.request("GET", "/v2/", auth=False)
assert status == 401 and headers["WWW-Authenticate"].startswith("Basic "), (status, dict(headers))
assert Registry("wrong").request("GET", "/v2/")[0] == 401
assert registry.request("GET", "/v2/")[0] == 200

# Blobs: a monolithic upload (config), a chunked one (layer), and a mount into another repository.
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Entrypoint": ["/crts/run"]},
                     "rootfs": {"type": "layers", "diff_ids": []}}).encode()
status, headers, _ = registry.request("POST", f"/v2/crts/blobs/uploads/?digest={sha256(config)}", data=config,
                                      headers={"Content-Type": "application/octet-stream"})
assert status == 201 and headers["Docker-Content-Digest"] == sha256(config), (status, dict(headers))
layer = os.urandom(300_000)
status, headers, _ = registry.request("POST", "/v2/crts/blobs/uploads/", data=b"")
assert status == 202, status
location = headers["Location"]
for start in range(0, len(layer), 100_000):
    chunk = layer[start:start + 100_000]
    status, headers, _ = registry.request("PATCH", location, data=chunk, headers={
        "Content-Range": f"{start}-{start + len(chunk) - 1}", "Content-Type": "application/octet-stream"})
    assert status == 202 and headers["Range"] == f"0-{start + len(chunk) - 1}", (status, dict(headers))
    location = headers["Location"]
# Another repository cannot finish (or cancel) this upload, and trying leaves it intact.
registry.request("POST", f"/v2/team/base/blobs/uploads/?digest={sha256(config)}", data=config)
upload_id = location.rsplit("/", 1)[1]
status, _, body = registry.request("PUT", f"/v2/team/base/blobs/uploads/{upload_id}?digest={sha256(layer)}", data=b"")
assert status == 404 and b"BLOB_UPLOAD_UNKNOWN" in body, (status, body)
assert registry.request("DELETE", f"/v2/team/base/blobs/uploads/{upload_id}")[0] == 404
status, headers, _ = registry.request("GET", location)
assert status == 204 and headers["Range"] == f"0-{len(layer) - 1}" and headers["Location"] == location, status
status, headers, _ = registry.request("PUT", location + f"?digest={sha256(layer)}", data=b"")
assert status == 201 and headers["Docker-Content-Digest"] == sha256(layer), (status, dict(headers))
# A wrong digest is refused, and the upload is gone after a failed commit.
status, headers, _ = registry.request("POST", "/v2/crts/blobs/uploads/", data=b"abc")
status, _, body = registry.request("PUT", headers["Location"] + "?digest=sha256:" + "0" * 64, data=b"")
assert status == 400 and b"DIGEST_INVALID" in body, (status, body)
assert registry.request("GET", headers["Location"])[0] == 404
status, headers, _ = registry.request("HEAD", f"/v2/crts/blobs/{sha256(layer)}")
assert status == 200 and int(headers["Content-Length"]) == len(layer), (status, dict(headers))
assert registry.request("GET", f"/v2/crts/blobs/{sha256(layer)}")[2] == layer
assert registry.request("HEAD", f"/v2/team/base/blobs/{sha256(layer)}")[0] == 404
status, _, _ = registry.request("POST", f"/v2/team/base/blobs/uploads/?mount={sha256(layer)}&from=crts", data=b"")
assert status == 201 and registry.request("HEAD", f"/v2/team/base/blobs/{sha256(layer)}")[0] == 200, status

# Manifests: missing layers refused, then pushed by tag; visible through the ECR API.
def manifest_for(layers):
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": sha256(config), "size": len(config)},
                       "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                   "digest": d, "size": s} for d, s in layers]}).encode()


oci = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
status, _, body = registry.request("PUT", "/v2/crts/manifests/latest", data=manifest_for([("sha256:" + "1" * 64, 1)]),
                                   headers=oci)
assert status == 400 and b"BLOB_UNKNOWN" in body, (status, body)
manifest = manifest_for([(sha256(layer), len(layer))])
status, headers, _ = registry.request("PUT", "/v2/crts/manifests/latest", data=manifest, headers=oci)
assert status == 201 and headers["Docker-Content-Digest"] == sha256(manifest), (status, dict(headers))
status, headers, body = registry.request("GET", "/v2/crts/manifests/latest")
assert status == 200 and body == manifest and headers["Content-Type"] == oci["Content-Type"], status
assert registry.request("GET", f"/v2/crts/manifests/{sha256(manifest)}")[2] == manifest
assert json.loads(registry.request("GET", "/v2/crts/tags/list")[2]) == {"name": "crts", "tags": ["latest"]}
assert registry.request("PUT", "/v2/nope/manifests/latest", data=manifest, headers=oci)[0] == 404

# An index without a mediaType field (OCI allows that), sent as plain JSON, over that manifest, in the other
# repository; it is refused until the manifest it names is there.
plain = {"Content-Type": "application/json"}
index = json.dumps({"schemaVersion": 2, "manifests": [
    {"mediaType": oci["Content-Type"], "digest": sha256(manifest), "size": len(manifest),
     "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
status, _, body = registry.request("PUT", "/v2/team/base/manifests/multi", data=index, headers=plain)
assert status == 400 and b"MANIFEST_BLOB_UNKNOWN" in body, (status, body)
assert registry.request("PUT", f"/v2/team/base/manifests/{sha256(manifest)}", data=manifest, headers=oci)[0] == 201
status, headers, _ = registry.request("PUT", "/v2/team/base/manifests/multi", data=index, headers=plain)
assert status == 201 and headers["Docker-Content-Digest"] == sha256(index), (status, dict(headers))
status, headers, body = registry.request("HEAD", "/v2/team/base/manifests/multi")
assert status == 200 and body == b"" and headers["Docker-Content-Digest"] == sha256(index), status
assert headers["Content-Type"] == "application/vnd.oci.image.index.v1+json", dict(headers)
assert int(headers["Content-Length"]) == len(index), dict(headers)
multi = ecr.describe_images(repositoryName="team/base", imageIds=[{"imageTag": "multi"}])["imageDetails"][0]
assert multi["imageManifestMediaType"] == "application/vnd.oci.image.index.v1+json", multi
# The manifest the index names cannot go while the index is there, through either API; then it can.
refused = ecr.batch_delete_image(repositoryName="team/base", imageIds=[{"imageDigest": sha256(manifest)}])
assert refused["failures"][0]["failureCode"] == "ImageReferencedByManifestList" and not refused["imageIds"], refused
status, _, body = registry.request("DELETE", f"/v2/team/base/manifests/{sha256(manifest)}")
assert status == 409 and b"referenced by manifest list" in body, (status, body)
ecr.batch_delete_image(repositoryName="team/base", imageIds=[{"imageTag": "multi"}])
assert registry.request("DELETE", f"/v2/team/base/manifests/{sha256(manifest)}")[0] == 202

details = ecr.describe_images(repositoryName="crts")["imageDetails"]
assert len(details) == 1 and details[0]["imageDigest"] == sha256(manifest), details
assert details[0]["imageTags"] == ["latest"] and details[0]["imageSizeInBytes"] == len(layer), details
assert details[0]["imageManifestMediaType"] == oci["Content-Type"], details
expect_error("ImageNotFoundException", ecr.describe_images, repositoryName="crts", imageIds=[{"imageTag": "v9"}])
got = ecr.batch_get_image(repositoryName="crts", imageIds=[{"imageTag": "latest"}, {"imageTag": "v9"}])
assert got["images"][0]["imageManifest"] == manifest.decode(), got
assert got["failures"][0]["failureCode"] == "ImageNotFound", got

# PutImage adds a tag to the same manifest; a no-op PutImage is refused.
put = ecr.put_image(repositoryName="crts", imageManifest=manifest.decode(), imageTag="v1")
assert put["image"]["imageId"]["imageDigest"] == sha256(manifest), put
expect_error("ImageAlreadyExistsException", ecr.put_image, repositoryName="crts", imageManifest=manifest.decode(),
             imageTag="v1")
ids = ecr.list_images(repositoryName="crts")["imageIds"]
assert sorted(i["imageTag"] for i in ids) == ["latest", "v1"], ids
# The registry's DELETE by tag removes that tag only; the image and its other tags stay.
ecr.put_image(repositoryName="crts", imageManifest=manifest.decode(), imageTag="v2")
assert registry.request("DELETE", "/v2/crts/manifests/v2")[0] == 202
assert registry.request("GET", "/v2/crts/manifests/v2")[0] == 404
assert registry.request("GET", f"/v2/crts/manifests/{sha256(manifest)}")[0] == 200
assert json.loads(registry.request("GET", "/v2/crts/tags/list")[2])["tags"] == ["latest", "v1"]

# Deleting.
expect_error("RepositoryNotEmptyException", ecr.delete_repository, repositoryName="crts")
deleted = ecr.batch_delete_image(repositoryName="crts", imageIds=[{"imageTag": "v1"}])
assert deleted["imageIds"][0]["imageTag"] == "v1" and not deleted["failures"], deleted
assert [i["imageTag"] for i in ecr.list_images(repositoryName="crts")["imageIds"]] == ["latest"]
ecr.delete_repository(repositoryName="crts", force=True)
expect_error("RepositoryNotFoundException", ecr.describe_images, repositoryName="crts")
assert registry.request("GET", "/v2/crts/tags/list")[0] == 404
print("ecr smoke: ok")
