//! `--target embedded` (the default): the crts-emulator started in this process on a random loopback port, gone
//! when the run ends.

use super::capabilities::Capabilities;
use super::{BoxFuture, Hosts, Kind, Running, Target, TargetError, TargetSpec, Up};

pub const KIND: Kind = Kind { usage: "embedded", parse: |s| (s == "embedded").then(|| Ok(TargetSpec::embedded())) };

#[derive(Debug, Default)]
pub struct Embedded {
    /// Lambda runtimes to get ready as the emulator starts ([`crts_emulator::LambdaConfig::prestart`]).
    pub lambda_runtimes: Vec<String>,
}

impl Target for Embedded {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    fn start<'a>(&'a self, region: Option<&'a str>) -> BoxFuture<'a, Result<Up, TargetError>> {
        Box::pin(async move {
            let containers = crts_emulator::JobRunner::from_env()
                .map_err(|e| TargetError::EmbeddedStart(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
            let config = crts_emulator::Config {
                default_region: region.unwrap_or("us-east-1").to_owned(),
                // A run creates its functions once: the spare started for them is not replaced once used.
                lambda: crts_emulator::LambdaConfig {
                    prestart: self.lambda_runtimes.clone(),
                    replace_spares: false,
                    ..crts_emulator::LambdaConfig::from_env()
                },
                batch: crts_emulator::BatchConfig { containers, ..Default::default() },
                ..Default::default()
            };
            let emulator = crts_emulator::Emulator::start(config).await.map_err(TargetError::EmbeddedStart)?;
            Ok(Up {
                endpoint: Some(emulator.endpoint().to_owned()),
                running: Some(Box::new(emulator)),
                known: Some((Capabilities::all(), Hosts::Localhost)),
            })
        })
    }

    fn ephemeral(&self) -> bool {
        true
    }

    fn with_lambda_runtimes(&self, runtimes: &[String]) -> Option<TargetSpec> {
        Some(TargetSpec::new(Embedded { lambda_runtimes: runtimes.to_vec() }))
    }
}

impl Running for crts_emulator::Emulator {
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move { self.shutdown().await })
    }
}

/// An emulator this process started itself and keeps after the run (`crts-harness up`, on the port the developer
/// chose): reached and reported as `embedded`, and not stopped when the run ends.
#[derive(Debug)]
pub struct Started {
    pub endpoint: String,
}

impl Target for Started {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    fn start<'a>(&'a self, _region: Option<&'a str>) -> BoxFuture<'a, Result<Up, TargetError>> {
        Box::pin(async move {
            Ok(Up {
                endpoint: Some(self.endpoint.clone()),
                running: None,
                known: Some((Capabilities::all(), Hosts::Localhost)),
            })
        })
    }

    fn ephemeral(&self) -> bool {
        true
    }
}
