//! The JSON bodies of awsJson1.1 (ECR, Tagging: `X-Amz-Target` and the body) and rest-json (API Gateway,
//! Lambda, Batch): both decoders agree, and what they decode serializes and decodes back to the same value.
#![no_main]
use crts_emulator::protocol::{json, rest_json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = crts_fuzz::request(data);
    let req = raw.aws(crts_fuzz::account());
    if let Ok(op) = json::operation(&req, "AmazonEC2ContainerRegistry_V20150921") {
        assert!(!op.is_empty());
    }
    let aws_json = json::input_value(&req);
    let rest = rest_json::input_value(&req);
    match (&aws_json, &rest) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert!(a.code == b.code && a.status == b.status),
        _ => panic!("awsJson and rest-json disagree on a body"),
    }
    match aws_json {
        Ok(value) => {
            let text = serde_json::to_vec(&value).expect("a decoded value serializes");
            let again: serde_json::Value = serde_json::from_slice(&text).expect("and decodes again");
            assert_eq!(value, again);
            // The shapes operations decode into: a wrong type is a SerializationException, not a panic.
            let _ = json::parse::<std::collections::BTreeMap<String, serde_json::Value>>(value.clone());
            let _ = json::parse::<Vec<String>>(value);
        }
        Err(err) => {
            assert_eq!(err.code, "SerializationException");
            let _ = json::error(&err);
        }
    }
});
