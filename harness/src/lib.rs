//! crts-harness: the CRTS runbook as scenario files, applied to a target and checked.

pub mod cli;
