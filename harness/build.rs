//! Builds the CRTS job binary (`job/src/main.rs`, crate crts-job) statically linked, for the fixture image: the
//! image is `FROM scratch`, so the job must need nothing from the machine it was built on (no busybox, no libc).
//! The bytes are embedded in the harness (`image::job_binary`), which adds them to a build context whose
//! Dockerfile copies `crts-job`.
//!
//! The file is compiled alone with the same `rustc` cargo uses, for the target being built, with
//! `-C target-feature=+crt-static` (glibc's static libraries come with the C toolchain Rust links with). Where
//! that cannot work (a target other than Linux), the harness is still built, and the image step says why the
//! job binary is missing.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let source = manifest_dir.join("../job/src/main.rs");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let output = out_dir.join("crts-job");
    println!("cargo::rerun-if-changed={}", source.display());
    println!("cargo::rustc-check-cfg=cfg(crts_job_built)");

    let target = std::env::var("TARGET").unwrap_or_default();
    let error = if !target.contains("-linux-") {
        Some(format!("the job image runs Linux binaries and this harness is built for {target}"))
    } else {
        compile(&source, &output, &target).err()
    };
    match error {
        None => {
            println!("cargo::rustc-cfg=crts_job_built");
            println!("cargo::rustc-env=CRTS_JOB_BINARY={}", output.display());
        }
        Some(error) => {
            println!("cargo::warning=the CRTS job binary for the fixture image was not built: {error}");
            println!("cargo::rustc-env=CRTS_JOB_BUILD_ERROR={}", error.replace('\n', " "));
        }
    }
}

fn compile(source: &PathBuf, output: &PathBuf, target: &str) -> Result<(), String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut command = Command::new(rustc);
    command
        .args(["--edition", "2024", "--crate-name", "crts_job", "--crate-type", "bin", "--target", target])
        .args(["-C", "opt-level=s", "-C", "panic=abort", "-C", "strip=symbols", "-C", "target-feature=+crt-static"])
        .arg("-o")
        .arg(output)
        .arg(source);
    if let Some(linker) = std::env::var_os("RUSTC_LINKER") {
        command.arg("-C").arg(format!("linker={}", linker.to_string_lossy()));
    }
    let result = command.output().map_err(|e| format!("cannot run rustc: {e}"))?;
    if result.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&result.stderr);
        Err(format!(
            "rustc failed (static linking needs glibc's static libraries: Debian's libc6-dev, Fedora's \
             glibc-static): {}",
            stderr.lines().take(20).collect::<Vec<_>>().join("\n")
        ))
    }
}
