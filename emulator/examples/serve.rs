//! A minimal foreground emulator for working on the emulator alone (no AWS SDK to build):
//! `cargo run -p crts-emulator --example serve -- 4566`. Users run `crts-harness serve` instead.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(4566);
    let config =
        crts_emulator::Config { bind: std::net::SocketAddr::from(([127, 0, 0, 1], port)), ..Default::default() };
    let emulator = crts_emulator::Emulator::start(config).await?;
    println!("listening on {}", emulator.endpoint());
    tokio::signal::ctrl_c().await?;
    emulator.shutdown().await;
    Ok(())
}
