//! crts-emulator: the slice of AWS that the CRTS runbook uses, emulated in-process on AWS's wire protocols.
//!
//! Start one with [`Emulator::start`]; point any AWS client (SDK for Rust, boto3, AWS CLI) at
//! [`Emulator::endpoint`]. See the crate README section in the workspace README for the codemap.

pub mod config;
pub mod faults;
#[doc(hidden)]
pub mod fuzzing;
pub mod identity;
pub mod journal;
pub mod protocol;
pub mod server;
pub mod services;
pub mod state;
pub mod store;

pub use config::{BatchConfig, Config, LambdaConfig};
pub use server::Emulator;
pub use services::batch::JobRunner;
pub use state::AppState;
