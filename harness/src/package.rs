//! What a CRTS developer hands the harness: a single file, a folder, or a `.zip` as the runbook has them ("unzip
//! the code", "unzip the docker package", "unzip the Swagger code"). The Lambda step uploads a zip exactly as it is
//! (the console's "Upload from .zip file"); the image and Swagger steps use the files, from the folder that holds
//! their marker file (`Dockerfile`, `index.html`) when a zip wraps everything in one top folder.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

/// A file, folder or zip named in a scenario, checked to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    path: PathBuf,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Folder,
    Zip,
}

/// One file of a package: its path inside the package (`/`-separated), contents, and whether it is executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub data: Vec<u8>,
    pub executable: bool,
}

impl Package {
    /// Resolves `relative` against `base_dir` (the repository root; absolute paths stay as they are). A path ending
    /// in `.zip` is a zip; otherwise a folder or a single file.
    pub fn open(base_dir: &Path, relative: &Path) -> Result<Self, String> {
        let path = base_dir.join(relative);
        let metadata = std::fs::metadata(&path).map_err(|_| not_found(base_dir, relative))?;
        let kind = if metadata.is_dir() {
            Kind::Folder
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
            Kind::Zip
        } else {
            Kind::File
        };
        Ok(Self { path, kind })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The paths of every file, sorted, without reading them (for checks at validation time).
    pub fn paths(&self) -> Result<Vec<String>, String> {
        let mut paths = match self.kind {
            Kind::File => vec![self.file_name()],
            Kind::Folder => {
                let mut files = Vec::new();
                walk(&self.path, &self.path, &mut files)?;
                files.into_iter().map(|(relative, _)| relative).collect()
            }
            Kind::Zip => {
                let mut archive = self.open_zip()?;
                let mut paths = Vec::with_capacity(archive.len());
                for index in 0..archive.len() {
                    let file = archive.by_index_raw(index).map_err(|e| self.not_a_zip(e))?;
                    let path = self.enclosed(&file)?;
                    if !file.is_dir() && !is_clutter(&path) {
                        paths.push(path);
                    }
                }
                paths
            }
        };
        paths.sort();
        Ok(paths)
    }

    /// Every file, sorted by path. A single file is one entry named by its file name.
    pub fn entries(&self) -> Result<Vec<Entry>, String> {
        let mut entries = match self.kind {
            Kind::File => {
                vec![Entry { path: self.file_name(), executable: is_executable(&self.path), data: read(&self.path)? }]
            }
            Kind::Folder => {
                let mut files = Vec::new();
                walk(&self.path, &self.path, &mut files)?;
                let mut entries = Vec::with_capacity(files.len());
                for (relative, path) in files {
                    entries.push(Entry { path: relative, executable: is_executable(&path), data: read(&path)? });
                }
                entries
            }
            Kind::Zip => self.zip_entries()?,
        };
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(entries)
    }

    /// The folder inside the package that holds `marker` (`""` for the root, or `"top/"` when everything is in
    /// one top folder, as zips made by "compress this folder" are), or why there is none.
    pub fn root_of(&self, marker: &str) -> Result<String, String> {
        let paths = self.paths()?;
        if paths.iter().any(|p| p == marker) {
            return Ok(String::new());
        }
        let top = paths.first().and_then(|p| p.split_once('/')).map(|(top, _)| format!("{top}/"));
        if let Some(top) = top
            && paths.iter().all(|p| p.starts_with(&top))
            && paths.iter().any(|p| *p == format!("{top}{marker}"))
        {
            return Ok(top);
        }
        Err(format!(
            "{} has no {marker} (at its root or in its one top folder){}",
            self.path.display(),
            listing(&paths)
        ))
    }

    /// The files of the folder that holds `marker` ([`Package::root_of`]), with paths relative to it.
    pub fn entries_around(&self, marker: &str) -> Result<Vec<Entry>, String> {
        let root = self.root_of(marker)?;
        Ok(self.entries()?.into_iter().map(|e| Entry { path: e.path[root.len()..].to_owned(), ..e }).collect())
    }

    /// A Lambda deployment package: a zip as it is; a file or folder zipped with its files at the zip's root.
    pub fn lambda_zip(&self) -> Result<Vec<u8>, String> {
        if self.kind == Kind::Zip {
            return read(&self.path);
        }
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for entry in self.entries()? {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .unix_permissions(if entry.executable { 0o755 } else { 0o644 });
            writer
                .start_file(entry.path.as_str(), options)
                .and_then(|()| writer.write_all(&entry.data).map_err(Into::into))
                .map_err(|e| format!("zipping {}: {e}", self.path.display()))?;
        }
        writer.finish().map(std::io::Cursor::into_inner).map_err(|e| format!("zipping {}: {e}", self.path.display()))
    }

    fn zip_entries(&self) -> Result<Vec<Entry>, String> {
        let mut archive = self.open_zip()?;
        let mut entries = Vec::with_capacity(archive.len());
        for index in 0..archive.len() {
            let mut file = archive.by_index(index).map_err(|e| self.not_a_zip(e))?;
            if file.is_dir() {
                continue;
            }
            let path = self.enclosed(&file)?;
            if is_clutter(&path) {
                continue;
            }
            let mut data = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
            file.read_to_end(&mut data).map_err(|e| format!("{}: {path}: {e}", self.path.display()))?;
            let executable = file.unix_mode().is_some_and(|m| m & 0o111 != 0);
            entries.push(Entry { path, data, executable });
        }
        Ok(entries)
    }

    fn open_zip(&self) -> Result<zip::ZipArchive<std::fs::File>, String> {
        let file = std::fs::File::open(&self.path).map_err(|e| format!("cannot read {}: {e}", self.path.display()))?;
        zip::ZipArchive::new(file).map_err(|e| self.not_a_zip(e))
    }

    fn not_a_zip(&self, error: zip::result::ZipError) -> String {
        format!("{} is not a readable zip: {error}", self.path.display())
    }

    /// The entry's path, `/`-separated. Names that would leave the folder they are unpacked in (`../x`, `/etc/x`)
    /// are refused, not skipped.
    fn enclosed<R: std::io::Read>(&self, file: &zip::read::ZipFile<'_, R>) -> Result<String, String> {
        let path = file.enclosed_name().ok_or_else(|| {
            format!(
                "{}: the entry {:?} points outside the zip's folder",
                self.path.display(),
                file.name().unwrap_or_default()
            )
        })?;
        Ok(path.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
    }

    fn file_name(&self) -> String {
        self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }
}

/// Compiles every `.py` file of `package` with Python, changing nothing, so that code that cannot even be imported
/// is refused before it is deployed: `lambda_function.py, line 12: SyntaxError: invalid syntax`. The interpreter
/// is the one the emulator would pick for `runtime`: `CRTS_PYTHON`, else `runtime` itself (`python3.8`), else
/// `python3` (whose grammar may be newer than the runtime's). Where no Python answers, nothing is checked.
pub async fn check_python_syntax(package: &Package, runtime: &str) -> Result<(), String> {
    let sources: Vec<(String, String)> = package
        .entries()?
        .into_iter()
        .filter(|e| e.path.ends_with(".py"))
        .map(|e| (e.path, String::from_utf8_lossy(&e.data).into_owned()))
        .collect();
    if sources.is_empty() {
        return Ok(());
    }
    let Some(python) = python_for(runtime).await else {
        tracing::debug!("no Python to compile the Lambda code with: not checked");
        return Ok(());
    };
    let input = serde_json::to_vec(&sources).map_err(|e| e.to_string())?;
    let output = match compile_with(python.as_os_str(), &input).await {
        Some(Ok(output)) => output,
        Some(Err(e)) => return Err(format!("{}: {e}", python.display())),
        None => return Ok(()),
    };
    if output.status.success() {
        return Ok(());
    }
    let Ok((entry, line, what)) = serde_json::from_slice::<(String, Option<u64>, String)>(&output.stdout) else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("{} could not compile {}: {}", python.display(), package.path().display(), stderr.trim()));
    };
    // The file as the developer knows it: the file itself, a file in the folder, or an entry of the zip.
    let file = match package.kind {
        Kind::File => package.path().display().to_string(),
        Kind::Folder => package.path().join(&entry).display().to_string(),
        Kind::Zip => format!("{} (entry {entry})", package.path().display()),
    };
    Err(match line {
        Some(line) => format!("{file}, line {line}: {what}"),
        None => format!("{file}: {what}"),
    })
}

/// The interpreter that compiles code for `runtime`, as a real path: `CRTS_PYTHON`, else `runtime` itself
/// (`python3.8`), else `python3`, the first that starts (a pyenv shim with nothing behind it answers 127, so the
/// next is tried). Asked once per runtime: a shim costs a tenth of a second at every start.
async fn python_for(runtime: &str) -> Option<PathBuf> {
    static FOUND: std::sync::Mutex<Vec<(String, Option<PathBuf>)>> = std::sync::Mutex::new(Vec::new());
    let known = FOUND.lock().ok().and_then(|found| found.iter().find(|(r, _)| r == runtime).map(|(_, p)| p.clone()));
    if let Some(known) = known {
        return known;
    }
    let candidates: Vec<std::ffi::OsString> = match std::env::var_os("CRTS_PYTHON").filter(|p| !p.is_empty()) {
        Some(python) => vec![python],
        None => vec![runtime.into(), "python3".into()],
    };
    let mut found = None;
    for candidate in candidates {
        let asked = tokio::process::Command::new(&candidate)
            .args(["-c", "import sys; print(sys.executable)"])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        if let Ok(Ok(output)) = tokio::time::timeout(std::time::Duration::from_secs(30), asked).await
            && output.status.success()
        {
            let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            if !path.is_empty() {
                found = Some(PathBuf::from(path));
                break;
            }
        }
    }
    if let Ok(mut known) = FOUND.lock() {
        known.push((runtime.to_owned(), found.clone()));
    }
    found
}

/// Runs [`check_python_syntax`]'s script with `python` on `input`: `None` when `python` cannot be started.
async fn compile_with(python: &std::ffi::OsStr, input: &[u8]) -> Option<Result<std::process::Output, String>> {
    const COMPILE: &str = r#"
import json, sys
for path, source in json.load(sys.stdin):
    try:
        compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        what = "%s: %s" % (type(error).__name__, getattr(error, "msg", None) or error)
        print(json.dumps([path, getattr(error, "lineno", None), what]))
        sys.exit(1)
"#;
    use tokio::io::AsyncWriteExt as _;
    let mut child = tokio::process::Command::new(python)
        .args(["-c", COMPILE])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    if let Some(mut stdin) = child.stdin.take()
        && let Err(e) = stdin.write_all(input).await
    {
        return Some(Err(format!("cannot give it the code: {e}")));
    }
    Some(match tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output()).await {
        Ok(output) => output.map_err(|e| e.to_string()),
        Err(_) => Err("took over 60 s to compile the code".to_owned()),
    })
}

/// `path` not found, saying where relative paths are looked for.
pub fn not_found(base_dir: &Path, path: &Path) -> String {
    if path.is_absolute() {
        format!("`{}` not found", path.display())
    } else {
        format!(
            "`{}` not found (relative paths are from the repository root {}; in variables, start a path with ./ for \
             the folder of the file that sets it, or the working directory for --var)",
            path.display(),
            base_dir.display()
        )
    }
}

/// What archivers add that is not the developer's: macOS's resource forks (`__MACOSX/`) and Finder's `.DS_Store`.
fn is_clutter(path: &str) -> bool {
    path.starts_with("__MACOSX/") || path.rsplit('/').next() == Some(".DS_Store")
}

/// Writes entries under `dir`, creating folders, keeping the executable bit.
pub fn write_entries(entries: &[Entry], dir: &Path) -> Result<(), String> {
    for entry in entries {
        let path = dir.join(&entry.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, &entry.data).map_err(|e| format!("{}: {e}", path.display()))?;
        if entry.executable {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// `" (it holds: a, b, ...)"` for messages, at most ten names.
pub fn listing(paths: &[String]) -> String {
    if paths.is_empty() {
        return " (it is empty)".to_owned();
    }
    let mut names: Vec<&str> = paths.iter().take(10).map(String::as_str).collect();
    if paths.len() > 10 {
        names.push("...");
    }
    format!(" (it holds: {})", names.join(", "))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Every file under `dir` as `(path relative to root, /-separated; full path)`.
fn walk(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) -> Result<(), String> {
    for item in std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))? {
        let path = item.map_err(|e| format!("cannot list {}: {e}", dir.display()))?.path();
        if path.is_dir() {
            walk(root, &path, files)?;
        } else {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let relative = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            if !is_clutter(&relative) {
                files.push((relative, path));
            }
        }
    }
    Ok(())
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, text) in files {
            writer.start_file(*name, zip::write::SimpleFileOptions::default()).expect("start");
            writer.write_all(text.as_bytes()).expect("write");
        }
        writer.finish().expect("finish").into_inner()
    }

    #[test]
    fn a_file_a_folder_and_a_zip_give_the_same_entries() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("code/lib")).expect("mkdir");
        std::fs::write(dir.path().join("code/lambda_function.py"), "x").expect("write");
        std::fs::write(dir.path().join("code/lib/util.py"), "y").expect("write");
        std::fs::write(dir.path().join("code.zip"), zip_of(&[("lambda_function.py", "x"), ("lib/util.py", "y")]))
            .expect("write");

        let folder = Package::open(dir.path(), Path::new("code")).expect("folder");
        let zip = Package::open(dir.path(), Path::new("code.zip")).expect("zip");
        let names = |p: &Package| {
            let names = p.entries().expect("entries").into_iter().map(|e| e.path).collect::<Vec<_>>();
            assert_eq!(p.paths().expect("paths"), names, "listing without reading gives the same paths");
            names
        };
        assert_eq!(names(&folder), ["lambda_function.py", "lib/util.py"]);
        assert_eq!(names(&zip), names(&folder));
        let file = Package::open(dir.path(), Path::new("code/lib/util.py")).expect("file");
        assert_eq!(names(&file), ["util.py"]);

        // A folder becomes a zip with its files at the root; a zip is uploaded as it is.
        let zipped = folder.lambda_zip().expect("zip the folder");
        std::fs::write(dir.path().join("again.zip"), &zipped).expect("write");
        assert_eq!(names(&Package::open(dir.path(), Path::new("again.zip")).expect("zip")), names(&folder));
        assert_eq!(zip.lambda_zip().expect("as is"), std::fs::read(dir.path().join("code.zip")).expect("read"));
    }

    #[test]
    fn one_top_folder_is_looked_into_for_the_marker() {
        let dir = tempfile::tempdir().expect("temp dir");
        // As macOS's "Compress" makes it: resource forks beside the folder, Finder's files inside.
        let files = [
            ("__MACOSX/crts/._Dockerfile", "fork"),
            ("crts/.DS_Store", "finder"),
            ("crts/Dockerfile", "FROM scratch"),
            ("crts/a", "a"),
        ];
        std::fs::write(dir.path().join("pkg.zip"), zip_of(&files)).expect("write");
        let package = Package::open(dir.path(), Path::new("pkg.zip")).expect("zip");
        assert_eq!(package.root_of("Dockerfile").as_deref(), Ok("crts/"));
        let names: Vec<String> =
            package.entries_around("Dockerfile").expect("found").into_iter().map(|e| e.path).collect();
        assert_eq!(names, ["Dockerfile", "a"]);
        let missing = package.entries_around("index.html").expect_err("no index.html");
        assert!(
            missing.ends_with(
                "has no index.html (at its root or in its one top folder) (it holds: crts/Dockerfile, crts/a)"
            ),
            "{missing}"
        );
    }

    #[test]
    fn bad_packages_are_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = Package::open(dir.path(), Path::new("nope.zip")).expect_err("missing");
        assert!(missing.starts_with("`nope.zip` not found (relative paths are from the repository root"), "{missing}");
        std::fs::write(dir.path().join("broken.zip"), "not a zip").expect("write");
        let broken = Package::open(dir.path(), Path::new("broken.zip")).expect("exists").paths().expect_err("broken");
        assert!(broken.contains("broken.zip is not a readable zip"), "{broken}");
        std::fs::write(dir.path().join("evil.zip"), zip_of(&[("../evil.py", "x")])).expect("write");
        let evil = Package::open(dir.path(), Path::new("evil.zip")).expect("exists").paths().expect_err("evil");
        assert!(evil.contains("\"../evil.py\" points outside the zip's folder"), "{evil}");
    }
}
