//! S3 multipart uploads: the CompleteMultipartUpload body (`<Part><PartNumber/><ETag/></Part>...`) and
//! UploadPart's `partNumber`. The input is the body; its first line is also tried as a part number.
#![no_main]
use crts_emulator::fuzzing::{s3_complete_multipart, s3_part_number};
use crts_emulator::protocol::xml::XmlWriter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(line) = data.split(|b| *b == b'\n').next().and_then(|l| std::str::from_utf8(l).ok()) {
        if let Ok(n) = s3_part_number(Some(line)) {
            assert!((1..=10_000).contains(&n));
        }
    }
    let Ok(parts) = s3_complete_multipart(data) else { return };
    assert!(!parts.is_empty());
    // The same parts, written as a client writes them, read back the same.
    if parts.iter().all(|(_, etag)| crts_fuzz::xml_chars(etag) && !etag.contains('\r')) {
        let mut w = XmlWriter::new();
        w.open("CompleteMultipartUpload", Some("http://s3.amazonaws.com/doc/2006-03-01/"));
        for (number, etag) in &parts {
            w.open("Part", None).text("PartNumber", &number.to_string()).text("ETag", etag).close("Part");
        }
        w.close("CompleteMultipartUpload");
        assert_eq!(s3_complete_multipart(w.finish().as_bytes()).ok(), Some(parts));
    }
});
