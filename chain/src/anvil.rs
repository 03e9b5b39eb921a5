//! A local chain from the npm `@foundry-rs/anvil` package installed under
//! `contracts/node_modules`, on a free port.

use std::path::{Path, PathBuf};

use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::U256;
use alloy::providers::Provider;
use anyhow::{Context, Result};

/// The anvil binary: `$ZKPOR_ANVIL`, else the platform package's binary under
/// `contracts/node_modules` of this repository.
pub fn anvil_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("ZKPOR_ANVIL") {
        return Ok(PathBuf::from(path));
    }
    let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/node_modules/@foundry-rs");
    let entries = std::fs::read_dir(&modules)
        .with_context(|| format!("{} is missing: run 'npm install --prefix contracts'", modules.display()))?;
    entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("anvil-"))
        .map(|entry| entry.path().join("bin/anvil"))
        .find(|path| path.is_file())
        .with_context(|| format!("no anvil binary under {}: run 'npm install --prefix contracts'", modules.display()))
}

/// Starts anvil on a free port (it stops when the instance is dropped).
pub fn spawn_anvil() -> Result<AnvilInstance> {
    let binary = anvil_binary()?;
    Anvil::at(&binary).try_spawn().with_context(|| format!("starting {}", binary.display()))
}

/// Starts anvil on a free port mining a block every `seconds`, with or
/// without transactions.
pub fn spawn_anvil_with_block_time(seconds: u64) -> Result<AnvilInstance> {
    let binary = anvil_binary()?;
    Anvil::at(&binary).block_time(seconds).try_spawn().with_context(|| format!("starting {}", binary.display()))
}

/// Mines `blocks` empty blocks (anvil's `anvil_mine`).
pub async fn mine<P: Provider>(provider: &P, blocks: u64) -> Result<()> {
    let _: serde_json::Value =
        provider.raw_request("anvil_mine".into(), (U256::from(blocks),)).await.context("mining blocks on anvil")?;
    Ok(())
}
