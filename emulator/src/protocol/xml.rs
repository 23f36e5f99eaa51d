//! A small XML writer for awsQuery (and later restXml) responses: elements, text, escaping. Nothing more.

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

/// Escapes the five XML special characters.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
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
}
