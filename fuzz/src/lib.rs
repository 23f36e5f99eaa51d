//! What the fuzz targets share: requests written as raw HTTP, so that the seeds are real requests as clients send
//! them (`METHOD /path?query HTTP/1.1`, header lines, a blank line, the body), and several requests in one input
//! separated by [`NEXT`].

use bytes::Bytes;
use crts_emulator::identity::Caller;
use crts_emulator::protocol::{AwsRequest, RequestContext, decode_segments, parse_query};
use http::{HeaderMap, HeaderName, HeaderValue, Method};

/// Separates requests (or a document and a request) in one input.
pub const NEXT: &[u8] = b"\n--next--\n";

/// One request as read from the input. Lines that are not valid HTTP are skipped, never refused: the fuzzer
/// reaches the parser under test with whatever is left.
#[derive(Debug, Clone)]
pub struct RawRequest {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Splits `data` at every [`NEXT`].
pub fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(NEXT.len()).position(|w| w == NEXT) {
        parts.push(&rest[..at]);
        rest = &rest[at + NEXT.len()..];
    }
    parts.push(rest);
    parts
}

/// Reads one request: the request line, headers up to a blank line, and the rest as the body.
pub fn request(data: &[u8]) -> RawRequest {
    let (line, mut rest) = next_line(data);
    let mut words = line.split(|b| *b == b' ').filter(|w| !w.is_empty());
    let method = words.next().and_then(|m| Method::from_bytes(m).ok()).unwrap_or(Method::GET);
    let target = String::from_utf8_lossy(words.next().unwrap_or(b"/")).into_owned();
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), query.to_owned()),
        None => (target, String::new()),
    };
    let mut headers = HeaderMap::new();
    loop {
        if rest.is_empty() {
            break;
        }
        let (line, after) = next_line(rest);
        rest = after;
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else { continue };
        let (name, value) = (line[..colon].trim_ascii(), line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            headers.append(name, value);
        }
    }
    RawRequest { method, path, query, headers, body: Bytes::copy_from_slice(rest) }
}

/// The line up to `\n` (without `\r\n`) and what follows it.
fn next_line(data: &[u8]) -> (&[u8], &[u8]) {
    let (line, rest) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &data[data.len()..]),
    };
    (line.strip_suffix(b"\r").unwrap_or(line), rest)
}

impl RawRequest {
    /// The request as the server hands it to a service, from `caller`.
    pub fn aws(&self, caller: Caller) -> AwsRequest {
        AwsRequest {
            method: self.method.clone(),
            segments: decode_segments(&self.path),
            raw_path: self.path.clone(),
            query: parse_query(&self.query),
            headers: self.headers.clone(),
            body: self.body.clone(),
            ctx: RequestContext {
                request_id: "fuzz-1".to_owned(),
                region: "us-east-1".to_owned(),
                caller,
                endpoint: "http://127.0.0.1:4566".to_owned(),
            },
        }
    }
}

/// The account's own caller (what the runbook's CLI calls are).
pub fn account() -> Caller {
    Caller::Account { account_id: "000000000000".to_owned(), access_key_id: "AKIAFUZZ".to_owned() }
}

/// Whether `text` can be carried by an XML 1.0 document at all (its characters are all XML `Char`s).
pub fn xml_chars(text: &str) -> bool {
    text.chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..))
}
