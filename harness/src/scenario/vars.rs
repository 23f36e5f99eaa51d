//! `${name}` substitution in scenario strings.

use std::collections::BTreeMap;

/// Scenario variables. Values may themselves use earlier-defined variables.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    values: BTreeMap<String, String>,
}

impl Variables {
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.values.insert(name.into(), value.into());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Replaces every `${name}` in `text`. `$${` escapes a literal `${`. Unknown names are an error that lists
    /// the known ones.
    pub fn substitute(&self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            if rest[..start].ends_with('$') {
                out.push_str(&rest[..start - 1]);
                out.push_str("${");
                rest = &rest[start + 2..];
                continue;
            }
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| format!("unterminated `${{` in {text:?}"))?;
            let name = after[..end].trim();
            let value = self.get(name).ok_or_else(|| {
                let known: Vec<&str> = self.values.keys().map(String::as_str).collect();
                format!("unknown variable `${{{name}}}` (known: {})", known.join(", "))
            })?;
            out.push_str(value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Substitutes in every string of a YAML value, recursively.
    pub fn substitute_value(&self, value: &mut serde_norway::Value) -> Result<(), String> {
        match value {
            serde_norway::Value::String(s) => *s = self.substitute(s)?,
            serde_norway::Value::Sequence(items) => {
                for item in items {
                    self.substitute_value(item)?;
                }
            }
            serde_norway::Value::Mapping(map) => {
                for (_, v) in map.iter_mut() {
                    self.substitute_value(v)?;
                }
            }
            serde_norway::Value::Tagged(tagged) => self.substitute_value(&mut tagged.value)?,
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_known_names_and_reports_unknown_ones() {
        let mut vars = Variables::default();
        vars.insert("queue", "crts-aws-jq");
        assert_eq!(vars.substitute("q=${queue}, ${ queue }").as_deref(), Ok("q=crts-aws-jq, crts-aws-jq"));
        assert_eq!(vars.substitute("literal $${queue}").as_deref(), Ok("literal ${queue}"));
        assert_eq!(vars.substitute("${nope}"), Err("unknown variable `${nope}` (known: queue)".to_owned()));
        assert!(vars.substitute("${queue").is_err());
    }
}
