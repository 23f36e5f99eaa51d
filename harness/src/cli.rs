//! Command-line interface: flags become plain data first, then the work is done by the library.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "crts-harness", version, about = "Run the CRTS runbook against a target and check it")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the embedded AWS emulator in the foreground until Ctrl-C or SIGTERM.
    Serve {
        /// Port to listen on.
        #[arg(long, default_value_t = 4566)]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
        bind: IpAddr,
    },
}

pub fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the Tokio runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Serve { port, bind } => serve(SocketAddr::new(bind, port)).await,
        }
    })
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CRTS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,crts_emulator=info,crts_harness=info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

async fn serve(bind: SocketAddr) -> ExitCode {
    let config = crts_emulator::Config { bind, ..Default::default() };
    let emulator = match crts_emulator::Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!(
                "error: failed to listen on {bind}: {e} (is another emulator or LocalStack using the port? try --port)"
            );
            return ExitCode::from(2);
        }
    };
    println!("crts-emulator listening on {}", emulator.endpoint());
    println!(
        "  export AWS_ENDPOINT_URL={} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1",
        emulator.endpoint()
    );
    wait_for_stop_signal().await;
    println!("stopping");
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
