//! The XML reader of request documents (S3's restXml bodies): bounded depth, ranges that slice the text, and
//! what it reads written back with the response writer reads back the same.
#![no_main]
use crts_emulator::protocol::xml::{Element, XmlWriter, parse};
use libfuzzer_sys::fuzz_target;

/// The element's shape (names and children) and the texts of its leaves.
fn shape(element: &Element, out: &mut Vec<String>) {
    out.push(format!("<{}>", element.name));
    if element.children.is_empty() {
        out.push(element.text.clone().unwrap_or_default());
    }
    for child in &element.children {
        shape(child, out);
    }
    out.push("</>".to_owned());
}

fn depth(element: &Element) -> usize {
    1 + element.children.iter().map(depth).max().unwrap_or(0)
}

fn check_ranges(element: &Element, text: &str) {
    let slice = text.get(element.range.clone()).expect("an element's range slices the document");
    assert!(slice.starts_with('<'), "an element's range starts at its tag");
    for child in &element.children {
        assert!(child.range.start >= element.range.start && child.range.end <= element.range.end);
        check_ranges(child, text);
    }
}

/// Leaves written with `XmlWriter::text`, inner elements with open/close.
fn write_leaves(element: &Element, w: &mut XmlWriter) {
    if element.children.is_empty() {
        w.text(&element.name, element.text.as_deref().unwrap_or(""));
        return;
    }
    w.open(&element.name, None);
    for child in &element.children {
        write_leaves(child, w);
    }
    w.close(&element.name);
}

fuzz_target!(|data: &[u8]| {
    let Some(root) = parse(data) else { return };
    let text = std::str::from_utf8(data).expect("a parsed document is UTF-8");
    assert!(depth(&root) <= 34, "the reader is bounded in depth");
    check_ranges(&root, text);
    let mut w = XmlWriter::new();
    write_leaves(&root, &mut w);
    let written = w.finish();
    let again = parse(written.as_bytes()).expect("what the writer writes reads back");
    let (mut a, mut b) = (Vec::new(), Vec::new());
    shape(&root, &mut a);
    shape(&again, &mut b);
    assert_eq!(a, b, "written back, a document reads the same: {written}");
});
