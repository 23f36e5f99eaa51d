//! crts-harness: the CRTS runbook as scenario files, applied to a target and checked.
//!
//! Codemap: [`scenario`] reads and validates files; [`steps`] applies and observes each runbook step;
//! [`checks`] asks the deployed stack what users would; [`targets`] starts or reaches the AWS to run on;
//! [`report`] renders results; [`swagger_ui`] fetches Swagger UI; [`browser`] drives Chromium; [`run`] ties them together; [`cli`] is the command line.

pub mod bench;
mod browser;
pub mod checks;
pub mod cli;
pub mod image;
mod poll;
pub mod report;
pub mod run;
pub mod scenario;
pub mod steps;
pub mod swagger_ui;
pub mod targets;
