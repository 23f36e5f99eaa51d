//! S3 bucket policies: parsing, Block Public Access's "is it public?", and the anonymous decision for an
//! action and resource (the lines after `--next--`). An anonymous Allow only comes from a public policy.
#![no_main]
use crts_emulator::services::iam::Context;
use crts_emulator::services::s3::bucket_policy::{BucketPolicy, Verdict};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parts = crts_fuzz::split(data);
    let Ok(text) = std::str::from_utf8(parts[0]) else { return };
    let Ok(policy) = BucketPolicy::parse(text, "cris-swagger-bucket") else { return };
    assert_eq!(policy.text, text, "the policy is kept as sent");
    let public = policy.is_public();
    let request = parts.get(1).map(|r| String::from_utf8_lossy(r).into_owned()).unwrap_or_default();
    let mut lines = request.lines();
    let action = lines.next().unwrap_or("s3:GetObject");
    let resource = lines.next().unwrap_or("arn:aws:s3:::cris-swagger-bucket/index.html");
    for (action, resource) in [(action, resource), ("s3:GetObject", "arn:aws:s3:::cris-swagger-bucket/swagger.json")] {
        // An anonymous request's keys, as S3 builds them (with a listing's own when there are more lines).
        let mut context = Context::now()
            .with("aws:SecureTransport", "false")
            .with("aws:RequestedRegion", "us-east-1")
            .with("aws:PrincipalType", "Anonymous");
        for line in request.lines().skip(2) {
            if let Some((key @ ("s3:prefix" | "s3:delimiter" | "s3:max-keys"), value)) = line.split_once('=') {
                context.insert(key, value);
            }
        }
        if policy.decide_anonymous(action, resource, &context) == Verdict::Allow {
            assert!(public, "an anonymous Allow comes from a public statement");
        }
    }
});
