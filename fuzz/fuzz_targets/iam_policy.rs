//! IAM policy documents: parsing, evaluation of an action on resources (the lines after `--next--`), trust
//! policies, and the wildcard match they all use. Properties: a pattern matches itself; a case-sensitive match
//! is also a case-insensitive one; an explicit Deny wins over any Allow; an Allow-all document allows what any
//! document does not explicitly deny.
#![no_main]
use crts_emulator::services::iam::Context;
use crts_emulator::services::iam::policy::{Decision, PolicyDocument, evaluate, trust_decision, wildcard_match};
use libfuzzer_sys::fuzz_target;

const ALLOW_ALL: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
const DENY_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;

fuzz_target!(|data: &[u8]| {
    let parts = crts_fuzz::split(data);
    let text = String::from_utf8_lossy(parts[0]);
    let request = parts.get(1).map(|r| String::from_utf8_lossy(r).into_owned()).unwrap_or_default();
    let mut lines = request.lines();
    let action = lines.next().unwrap_or("lambda:InvokeFunction").to_owned();
    let resources: Vec<String> = lines.take(4).map(str::to_owned).collect();

    for pattern in [&action, &text.chars().take(64).collect::<String>()] {
        assert!(wildcard_match(pattern, pattern, false) && wildcard_match(pattern, pattern, true));
    }
    for resource in &resources {
        if wildcard_match(&action, resource, false) {
            assert!(wildcard_match(&action, resource, true));
        }
    }
    // The request's keys: the lines after the resources, `key=value`.
    let mut context = Context::now();
    for line in request.lines().skip(5) {
        if let Some((key, value)) = line.split_once('=') {
            context.insert(key, value);
        }
    }
    let _ = trust_decision(&text, &["arn:aws:iam::000000000000:root".to_owned(), action.clone()], &context);

    let Ok(document) = PolicyDocument::parse(&text) else { return };
    let (Ok(allow_all), Ok(deny_all)) = (PolicyDocument::parse(ALLOW_ALL), PolicyDocument::parse(DENY_ALL)) else {
        panic!("the fixed documents parse");
    };
    let alone = evaluate([&document], &action, &resources, &context);
    let denied = evaluate([&document, &deny_all], &action, &resources, &context);
    assert!(matches!(denied, Err((Decision::ExplicitDeny, _))), "an explicit Deny wins: {denied:?}");
    let with_allow = evaluate([&allow_all, &document], &action, &resources, &context);
    match &alone {
        Ok(()) => assert_eq!(with_allow, Ok(())),
        Err((Decision::ExplicitDeny, _)) => assert!(matches!(with_allow, Err((Decision::ExplicitDeny, _)))),
        Err(_) => {}
    }
    if let Err((Decision::ExplicitDeny, _)) = with_allow {
        assert!(alone.is_err());
    }
});
