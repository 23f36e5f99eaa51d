//! awsQuery (IAM, STS): the form body and query string of a request, its lists and structure lists, and the
//! XML that echoes decoded values back (the error message of a ValidationError names a parameter).
#![no_main]
use crts_emulator::protocol::query::QueryInput;
use crts_emulator::protocol::xml::{XmlWriter, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = crts_fuzz::request(data);
    let req = raw.aws(crts_fuzz::account());
    let Ok(input) = QueryInput::from_request(&req) else {
        assert!(std::str::from_utf8(&req.body).is_err(), "only a body that is not UTF-8 is refused");
        return;
    };
    let action = input.action();
    assert_eq!(action, input.get("Action"));
    for name in ["Action", "RoleName", "PolicyArn", "Tags", "PolicyDocument"] {
        let _ = input.required(name);
    }
    let members = input.list("Tags");
    let structs = input.struct_list("Tags");
    assert!(members.len() + structs.len() <= req.query.len() + data.len() + 1);
    // Whatever a client sent comes back intact in the XML of the response (a value an XML document can carry).
    let mut values: Vec<&str> = members;
    values.extend(action);
    values.extend(structs.iter().flat_map(|s| s.values().copied()));
    for value in values.into_iter().filter(|v| crts_fuzz::xml_chars(v)) {
        let mut w = XmlWriter::new();
        w.open("ErrorResponse", Some("https://iam.amazonaws.com/doc/2010-05-08/")).text("Message", value);
        w.close("ErrorResponse");
        let doc = parse(w.finish().as_bytes()).expect("the writer's XML is well-formed");
        let back = doc.child_text("Message").unwrap_or_default();
        assert_eq!(back, value, "a value written into a response reads back the same");
    }
});
