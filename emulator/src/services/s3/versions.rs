//! ListObjectVersions: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html>.

use super::S3;
use super::buckets::owner_id;
use super::model::Version;
use super::objects::{Entry, ListParams};
use super::{XMLNS, xml_time};
use crate::protocol::xml::XmlWriter;
use crate::protocol::{AwsResult, Response, rest_xml};
use crate::services::Call;

/// Every version and delete marker of the keys under `prefix`, by key, newest first within a key, each with
/// `IsLatest`; a bucket never versioned lists each object once as version `null` (what cleanup tools such as
/// aws-nuke and Terraform's `force_destroy` read). Keys holding the delimiter after the prefix roll into
/// CommonPrefixes as in ListObjects; every version, delete marker and common prefix counts toward `max-keys`.
///
/// Paging by S3's markers: after `key-marker` alone, the keys after it; with `version-id-marker` too, the versions
/// of that key older than that one, then the keys after it (a version id the key does not have: the keys after
/// it). `NextKeyMarker`/`NextVersionIdMarker` name the last version served (a common prefix: `NextKeyMarker`
/// only). Owner carries the canonical ID only, as S3 answers since November 2025.
pub fn list_object_versions(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let params = ListParams::of(call)?;
    let key_marker = call.req.query_param("key-marker").filter(|k| !k.is_empty());
    // S3 ignores version-id-marker without key-marker.
    let version_marker = call.req.query_param("version-id-marker").filter(|v| !v.is_empty() && key_marker.is_some());
    let (owner, page) = call.service.with_buckets(|buckets| {
        let Some(b) = buckets.get(bucket) else { return Err(super::error::no_such_bucket(bucket)) };
        // The keys with a version, in order: the current objects' and those with only noncurrent versions.
        let mut keys: Vec<&str> = b
            .objects
            .range::<str, _>((params.lower_bound(None), std::ops::Bound::Unbounded))
            .map(|(k, _)| k.as_str())
            .take_while(|k| k.starts_with(params.prefix))
            .collect();
        keys.extend(
            b.history
                .range::<str, _>((params.lower_bound(None), std::ops::Bound::Unbounded))
                .map(|(k, _)| k.as_str())
                .take_while(|k| k.starts_with(params.prefix)),
        );
        keys.sort_unstable();
        keys.dedup();
        let entries = keys.into_iter().flat_map(|key| {
            let mut versions: Vec<(bool, Version)> = b.versions_of(key).collect();
            match (key_marker, version_marker) {
                (Some(marker), _) if key < marker => versions.clear(),
                (Some(marker), None) if key == marker => versions.clear(),
                (Some(marker), Some(id)) if key == marker => {
                    match versions.iter().position(|(_, v)| v.version_id() == id) {
                        Some(at) => {
                            versions.drain(..=at);
                        }
                        None => versions.clear(),
                    }
                }
                _ => {}
            }
            versions.into_iter().map(move |version| (key, version))
        });
        let page = params.roll(entries, key_marker);
        Ok((b.owner.clone(), page))
    })?;
    let encode = |s: &str| params.encode(s);
    let owner = owner_id(&owner);
    let mut xml = XmlWriter::new();
    xml.open("ListVersionsResult", Some(XMLNS))
        .text("Name", bucket)
        .text("Prefix", &encode(params.prefix))
        .text("KeyMarker", &encode(key_marker.unwrap_or("")))
        .text("VersionIdMarker", version_marker.unwrap_or(""));
    if page.truncated {
        match &page.last {
            Some(Entry::Key(key)) => {
                xml.text("NextKeyMarker", &encode(key));
                if let Some((_, (_, version))) = page.contents.last() {
                    xml.text("NextVersionIdMarker", version.version_id());
                }
            }
            Some(Entry::Prefix(prefix)) => {
                xml.text("NextKeyMarker", &encode(prefix));
            }
            None => {}
        }
    }
    xml.text("MaxKeys", &params.max_keys.to_string());
    xml.opt_text("Delimiter", params.delimiter.map(encode).as_deref());
    xml.opt_text("EncodingType", params.url_encode.then_some("url"));
    xml.text("IsTruncated", &page.truncated.to_string());
    for (key, (latest, version)) in &page.contents {
        let latest = if *latest { "true" } else { "false" };
        match version {
            Version::Object(object) => {
                xml.open("Version", None)
                    .text("Key", &encode(key))
                    .text("VersionId", &object.version_id)
                    .text("IsLatest", latest)
                    .text("LastModified", &xml_time(&object.last_modified))
                    .text("ETag", &object.etag)
                    .text("Size", &object.body.len().to_string())
                    .open("Owner", None)
                    .text("ID", &owner)
                    .close("Owner")
                    .text("StorageClass", "STANDARD")
                    .close("Version");
            }
            Version::DeleteMarker { version_id, last_modified } => {
                xml.open("DeleteMarker", None)
                    .text("Key", &encode(key))
                    .text("VersionId", version_id)
                    .text("IsLatest", latest)
                    .text("LastModified", &xml_time(last_modified))
                    .open("Owner", None)
                    .text("ID", &owner)
                    .close("Owner")
                    .close("DeleteMarker");
            }
        }
    }
    for prefix in &page.common {
        xml.open("CommonPrefixes", None).text("Prefix", &encode(prefix)).close("CommonPrefixes");
    }
    xml.close("ListVersionsResult");
    Ok(rest_xml::ok(xml.finish()))
}
