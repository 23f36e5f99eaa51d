//! CloudWatch Logs filter patterns (FilterLogEvents' `filterPattern`): the input's first line is a pattern, the
//! rest a message. Parsing and matching never panic, and any text without a double quote, quoted, is a valid
//! pattern that matches every message containing that text.
#![no_main]
use crts_emulator::services::logs::filter::FilterPattern;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (pattern, message) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(parsed) = FilterPattern::parse(pattern) {
        let _ = parsed.matches(message);
    }
    if !pattern.is_empty() && !pattern.contains('"') {
        let quoted = FilterPattern::parse(&format!("\"{pattern}\"")).expect("a quoted phrase is a valid pattern");
        assert!(quoted.matches(&format!("before {pattern} after")), "the phrase {pattern:?} is found");
    }
});
