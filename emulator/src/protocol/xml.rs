//! XML for awsQuery and restXml: a small writer for responses (elements, text, escaping), and a reader for the
//! request documents S3 takes ([`parse`] into an [`Element`] tree), so no service touches an XML parser.

/// Builds an XML document by appending elements. Text is always escaped.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub fn new() -> Self {
        Self { out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") }
    }

    /// Opens `<name>` (with an optional `xmlns`).
    pub fn open(&mut self, name: &str, xmlns: Option<&str>) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        if let Some(ns) = xmlns {
            self.out.push_str(" xmlns=\"");
            escape_into(&mut self.out, ns);
            self.out.push('"');
        }
        self.out.push('>');
        self
    }

    /// Opens `<name a="v" ...>` with attributes (escaped), e.g. the `xsi:type` of an ACL grantee.
    pub fn open_with_attrs(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        for (attr, value) in attrs {
            self.out.push(' ');
            self.out.push_str(attr);
            self.out.push_str("=\"");
            escape_into(&mut self.out, value);
            self.out.push('"');
        }
        self.out.push('>');
        self
    }

    /// Closes `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// `<name>text</name>`.
    pub fn text(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name, None);
        escape_into(&mut self.out, text);
        self.close(name)
    }

    /// `<name>text</name>` when the value is present; nothing otherwise.
    pub fn opt_text(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(text) = text {
            self.text(name, text);
        }
        self
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Escapes the five XML special characters, and carriage returns (a parser reads a literal `\r` as `\n`, so a
/// value a client sent with one would come back changed; `&#13;` is how AWS writes it too).
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '\r' => out.push_str("&#13;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// An element of a request document: its local name (namespaces are ignored, as S3 does), its text, and its
/// child elements in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    /// The element's first text (`<Key>a</Key>` is `a`); `None` when it starts with an element or is empty.
    pub text: Option<String>,
    pub children: Vec<Element>,
    /// Where the element is in the document's text, for keeping part of a document as it was sent.
    pub range: std::ops::Range<usize>,
}

/// How deep a request document may nest: S3's documents (CORS, website, Delete, tagging,
/// CompleteMultipartUpload) go four or five levels deep; this bounds the recursion that reads them.
const MAX_DEPTH: usize = 32;

/// The root element of an XML document, or `None` when the body is not UTF-8, not well-formed XML, or nested
/// deeper than any request document ([`MAX_DEPTH`]).
pub fn parse(body: &[u8]) -> Option<Element> {
    let text = std::str::from_utf8(body).ok()?;
    let document = roxmltree::Document::parse(text).ok()?;
    Element::from_node(document.root_element(), 0)
}

impl Element {
    fn from_node(node: roxmltree::Node<'_, '_>, depth: usize) -> Option<Self> {
        if depth > MAX_DEPTH {
            return None;
        }
        let children = node.children().filter(roxmltree::Node::is_element);
        Some(Self {
            name: node.tag_name().name().to_owned(),
            text: node.text().map(str::to_owned),
            children: children.map(|child| Self::from_node(child, depth + 1)).collect::<Option<_>>()?,
            range: node.range(),
        })
    }

    /// Whether this element is called `name`.
    pub fn is(&self, name: &str) -> bool {
        self.name == name
    }

    /// The first child element called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(name))
    }

    /// Every child element called `name`, in order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(name))
    }

    /// The text of the first child element called `name` (`""` when it has none).
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_deref().unwrap_or(""))
    }

    /// The trimmed texts of every child element called `name`.
    pub fn children_text(&self, name: &str) -> Vec<String> {
        self.children_named(name).map(|c| c.text.as_deref().unwrap_or("").trim().to_owned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        let mut w = XmlWriter::new();
        w.open("A", Some("urn:x")).text("B", "<&\"'>").close("A");
        assert!(w.finish().ends_with("<A xmlns=\"urn:x\"><B>&lt;&amp;&quot;&apos;&gt;</B></A>"));
    }

    /// Found by the `query` fuzz target: a value with `\r\n` (sent form-encoded) came back as `\n`.
    #[test]
    fn carriage_returns_survive_a_round_trip() {
        let mut w = XmlWriter::new();
        w.text("Message", "AssumeRole HTTP/1.1\r\nline\r");
        let written = w.finish();
        assert!(written.ends_with("<Message>AssumeRole HTTP/1.1&#13;\nline&#13;</Message>"), "{written}");
        let doc = parse(written.as_bytes()).expect("well-formed");
        assert_eq!(doc.text.as_deref(), Some("AssumeRole HTTP/1.1\r\nline\r"));
    }

    #[test]
    fn reads_elements_by_local_name() {
        let doc = parse(b"<Delete xmlns=\"urn:s3\"><Quiet>true</Quiet><Object><Key> a </Key></Object><Object><Key/></Object></Delete>")
            .expect("well-formed");
        assert!(doc.is("Delete"));
        assert_eq!(doc.child_text("Quiet"), Some("true"));
        let keys: Vec<_> = doc.children_named("Object").filter_map(|o| o.child_text("Key")).collect();
        assert_eq!(keys, [" a ", ""]);
        assert_eq!(doc.child("Missing"), None);
        assert_eq!(parse(b"<Open>"), None);
        assert_eq!(parse(&[0xff]), None);
    }

    /// A document nested far deeper than any request document is refused, not read by deep recursion.
    #[test]
    fn refuses_documents_nested_deeper_than_any_request_document() {
        let deep = format!("{}{}", "<a>".repeat(200_000), "</a>".repeat(200_000));
        assert_eq!(parse(deep.as_bytes()), None);
        let fine = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse(fine.as_bytes()).is_some());
    }
}
