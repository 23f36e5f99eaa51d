//! The `crts-harness` binary: parses the command line and hands over to the library.

fn main() -> std::process::ExitCode {
    crts_harness::cli::main()
}
