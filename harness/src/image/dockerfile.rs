//! Reading a Dockerfile for the built-in (no Docker) image builder: the instructions it can apply (`FROM scratch`,
//! `COPY`/`ADD` of context files, `ENTRYPOINT`, `CMD`, `ENV`, `WORKDIR`, `LABEL`, `USER`) and, by line, those it
//! cannot (reported as not applied, never silently dropped).

use std::collections::BTreeMap;

/// What the built-in builder takes from a Dockerfile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// `(source in the context, destination in the image)`, in order.
    pub copies: Vec<(String, String)>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<(String, String)>,
    pub workdir: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub user: Option<String>,
    /// `line N: INSTRUCTION ...` for every instruction that was not applied.
    pub not_applied: Vec<String>,
}

/// Parses a Dockerfile. Errors name the line.
pub fn parse(text: &str) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let mut saw_from = false;
    for (line_no, line) in logical_lines(text) {
        let (instruction, args) = line.split_once(char::is_whitespace).unwrap_or((line.as_str(), ""));
        let args = args.trim();
        match instruction.to_ascii_uppercase().as_str() {
            "FROM" => {
                if saw_from {
                    return Err(format!("line {line_no}: multi-stage builds need Docker (a second FROM)"));
                }
                saw_from = true;
                let image = args.split_whitespace().next().unwrap_or("");
                if image != "scratch" {
                    return Err(format!(
                        "line {line_no}: FROM {image}: without Docker only `FROM scratch` can be built (no registry to pull {image} from)"
                    ));
                }
            }
            "COPY" | "ADD" => {
                let mut parts = words(args);
                if parts.iter().any(|p| p.starts_with("--")) {
                    plan.not_applied.push(format!(
                        "line {line_no}: {instruction} options {}",
                        parts.iter().filter(|p| p.starts_with("--")).cloned().collect::<Vec<_>>().join(" ")
                    ));
                    parts.retain(|p| !p.starts_with("--"));
                }
                if parts.len() < 2 {
                    return Err(format!("line {line_no}: {instruction} needs a source and a destination"));
                }
                let dest = parts.pop().unwrap_or_default();
                for source in parts {
                    if source.contains("://") {
                        return Err(format!("line {line_no}: {instruction} from a URL needs Docker"));
                    }
                    plan.copies.push((source, dest.clone()));
                }
            }
            "ENTRYPOINT" => plan.entrypoint = Some(exec_form(args)),
            "CMD" => plan.cmd = Some(exec_form(args)),
            "ENV" => plan.env.extend(key_values(args)),
            "LABEL" => plan.labels.extend(key_values(args)),
            "WORKDIR" => plan.workdir = Some(args.to_owned()),
            "USER" => plan.user = Some(args.to_owned()),
            other => plan.not_applied.push(format!("line {line_no}: {other} {args}").trim_end().to_owned()),
        }
    }
    if !saw_from {
        return Err("the Dockerfile has no FROM".to_owned());
    }
    Ok(plan)
}

/// The context files a Dockerfile's `COPY` and `ADD` instructions name (any base image; copies `--from` another
/// stage or image are not from the context and are left out).
pub fn copied_sources(text: &str) -> Vec<String> {
    let mut sources = Vec::new();
    for (_, line) in logical_lines(text) {
        let (instruction, args) = line.split_once(char::is_whitespace).unwrap_or((line.as_str(), ""));
        if !matches!(instruction.to_ascii_uppercase().as_str(), "COPY" | "ADD") {
            continue;
        }
        let mut parts = words(args.trim());
        if parts.iter().any(|p| p.starts_with("--from")) {
            continue;
        }
        parts.retain(|p| !p.starts_with("--"));
        parts.pop();
        sources.extend(parts.into_iter().map(|p| p.trim_start_matches("./").to_owned()));
    }
    sources
}

/// Lines without comments, with `\` continuations joined, numbered by their first physical line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if current.is_none() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        let (start, mut text) = current.take().unwrap_or((i + 1, String::new()));
        if let Some(body) = trimmed.strip_suffix('\\') {
            text.push_str(body);
            text.push(' ');
            current = Some((start, text));
        } else {
            text.push_str(trimmed);
            out.push((start, text));
        }
    }
    if let Some(last) = current {
        out.push(last);
    }
    out
}

/// `["a", "b"]` (exec form) or `a b` (shell form, run by `/bin/sh -c`).
fn exec_form(args: &str) -> Vec<String> {
    match serde_json::from_str::<Vec<String>>(args) {
        Ok(list) => list,
        Err(_) => vec!["/bin/sh".to_owned(), "-c".to_owned(), args.to_owned()],
    }
}

/// `k=v k2="v 2"` or the legacy `k v`.
fn key_values(args: &str) -> Vec<(String, String)> {
    let parts = words(args);
    if parts.iter().all(|p| p.contains('=')) {
        parts.into_iter().filter_map(|p| p.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned()))).collect()
    } else {
        let (key, value) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
        vec![(key.to_owned(), value.trim().to_owned())]
    }
}

/// Splits on whitespace, honouring double quotes.
fn words(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in args.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_files_a_dockerfile_copies() {
        let text = "FROM python:3.8\nCOPY --chown=1:1 ./crts-job app.py /crts/\nADD a \\\n  /b\nCOPY --from=build /out /out\nRUN x\n";
        assert_eq!(copied_sources(text), ["crts-job", "app.py", "a"]);
    }

    #[test]
    fn a_scratch_dockerfile_becomes_a_plan_and_the_rest_is_reported() {
        let plan = parse(
            "# CRTS\nFROM scratch\nCOPY busybox /bin/busybox\nCOPY run.sh \\\n  /crts/run\nENV A=1 B=\"two words\"\n\
             WORKDIR /crts\nRUN echo hi\nEXPOSE 80\nENTRYPOINT [\"/bin/busybox\", \"sh\", \"/crts/run\"]\nCMD [\"smoke\"]\n",
        )
        .expect("parses");
        assert_eq!(plan.copies, [("busybox".into(), "/bin/busybox".into()), ("run.sh".into(), "/crts/run".into())]);
        assert_eq!(plan.env, [("A".into(), "1".into()), ("B".into(), "two words".into())]);
        assert_eq!(plan.entrypoint.as_deref(), Some(&["/bin/busybox".to_owned(), "sh".into(), "/crts/run".into()][..]));
        assert_eq!(plan.cmd.as_deref(), Some(&["smoke".to_owned()][..]));
        assert_eq!(plan.workdir.as_deref(), Some("/crts"));
        assert_eq!(plan.not_applied, ["line 8: RUN echo hi", "line 9: EXPOSE 80"]);
    }

    #[test]
    fn base_images_need_docker() {
        let err = parse("FROM python:3.8\n").expect_err("refused");
        assert!(err.starts_with("line 1: FROM python:3.8: without Docker"), "{err}");
        assert!(parse("COPY a b\n").is_err());
    }
}
