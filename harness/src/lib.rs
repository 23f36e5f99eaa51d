//! crts-harness: the CRTS runbook as scenario files, applied to a target and checked.
//!
//! Codemap: [`scenario`] reads and validates files; [`steps`] applies and observes each runbook step;
//! [`checks`] asks the deployed stack what users would; [`targets`] starts or reaches the AWS to run on;
//! [`report`] renders results; [`package`] reads the developer's files, folders and zips;
//! [`swagger_ui`] fetches Swagger UI; [`swagger_definition`] points crts-swagger.json at the API; [`browser`] drives Chromium; [`run`] ties them together; [`up`] keeps a stack up to click through and updates it as files change; [`verify`] reads a stack that exists and reports drift; [`cli`] is the command line.

pub mod bench;
pub mod browser;
pub mod checks;
pub mod cleanup;
pub mod cli;
pub mod context;
pub mod image;
pub mod load;
pub mod package;
mod poll;
pub mod progress;
pub mod provision;
pub mod report;
pub mod run;
pub mod scenario;
pub mod steps;
pub mod swagger_definition;
pub mod swagger_ui;
pub mod targets;
pub mod up;
pub mod verify;
