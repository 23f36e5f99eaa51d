//! Integration tests live in `tests/it`; this crate exists so they build as one binary.
