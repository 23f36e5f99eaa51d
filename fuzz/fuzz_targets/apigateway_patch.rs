//! API Gateway's `patchOperations` (the body of every Update* request): only the six JSON-patch ops pass, and a
//! map key escaped in a path (`~0`, `~1`) reads back as the key.
#![no_main]
use crts_emulator::fuzzing::{apigateway_patch, apigateway_patch_key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = crts_fuzz::request(data);
    let req = raw.aws(crts_fuzz::account());
    let Ok(ops) = apigateway_patch(&req) else { return };
    for (op, path, _) in &ops {
        assert!(matches!(op.as_str(), "add" | "remove" | "replace" | "move" | "copy" | "test"));
        let prefix = "/requestParameters/";
        let escaped = format!("{prefix}{}", path.replace('~', "~0").replace('/', "~1"));
        assert_eq!(apigateway_patch_key(&escaped, prefix).as_deref(), Some(path.as_str()));
        let _ = apigateway_patch_key(path, "/variables/");
    }
});
