//! The agent's proof manager.
//!
//! Once a tick (the chain's poll interval) it:
//!
//! 1. follows every pending transaction ([`zkpor_sender::Transactor`]):
//!    final ones are recorded, lost ones re-broadcast, stuck ones replaced;
//! 2. takes in newly proven sequences: the final proof re-encoded for the
//!    verifier and its commit hash become the sequence's submission
//!    ([`intake`]);
//! 3. keeps the stake at the configured level ([`stake`]);
//! 4. routes every submission the sender does not hold, lowest sequence
//!    first, from the chain's view of it and our pending transactions
//!    ([`rounds`]): to commit, to watch, to reveal; settles an expired
//!    round, claims a reward, records what is final.
//!
//! Nothing is kept in memory that the database and the chain do not hold, so
//! a restart is a tick like any other: a commit sent before the crash is
//! found pending and watched, never sent again; a commit mined whose reveal
//! is due goes straight to the reveal cache.

pub mod intake;
pub mod rounds;
pub mod stake;

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use anyhow::{Context, Result, ensure};
use tokio::sync::watch;
use tracing::{info, warn};
use zkpor_chain::config::ChainConfig;
use zkpor_sender::{RegistryView, Sender, Transactor, TxPolicy};
use zkpor_store::Store;
use zkpor_tasks::VerifierCache;

/// The manager's settings.
#[derive(Clone, Copy, Debug)]
pub struct ManagerSettings {
    /// Blocks of T1 a commit needs left.
    pub commit_margin: u64,
    /// Stake to keep (the registry's minimum if higher).
    pub stake: U256,
    /// How often to look at the chain.
    pub poll_interval: Duration,
}

/// The manager with the sender it feeds.
pub struct Manager {
    store: Store,
    sender: Arc<Sender>,
    transactor: Arc<Transactor>,
    registry: RegistryView,
    verifiers: Arc<VerifierCache>,
    settings: ManagerSettings,
}

impl Manager {
    /// Connects to the chain of `config`; the agent's proofs must be bound
    /// to `submitter`, the account of the configured key.
    pub async fn connect(
        config: &ChainConfig,
        store: Store,
        verifiers: Arc<VerifierCache>,
        submitter: Address,
    ) -> Result<Arc<Manager>> {
        let signer = config.signer()?;
        ensure!(
            signer.address() == submitter,
            "the chain key's account {} is not the submitter {submitter} the proofs are bound to (source.submitter)",
            signer.address()
        );
        let provider = config.provider()?;
        let transactor = Arc::new(
            Transactor::new(provider.clone(), signer, store.clone(), TxPolicy::of(config))
                .await
                .with_context(|| format!("connecting to {}", config.rpc_url))?,
        );
        let registry = RegistryView::new(provider, config.registry, submitter);
        let code = registry.contract().provider().get_code_at(config.registry).await.context("reading the registry")?;
        ensure!(!code.is_empty(), "there is no contract at the registry address {}", config.registry);
        let sender =
            Arc::new(Sender::new(transactor.clone(), registry.clone(), store.clone(), config.commit_margin_blocks));
        let settings = ManagerSettings {
            commit_margin: config.commit_margin_blocks,
            stake: config.stake_wei,
            poll_interval: config.poll_interval(),
        };
        Ok(Arc::new(Manager { store, sender, transactor, registry, verifiers, settings }))
    }

    /// Runs the manager and the sender until `shutdown` turns true: the tick
    /// in progress finishes, then both stop; everything is in the database.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let (head, heads) = watch::channel(0u64);
        let sender = tokio::spawn(self.sender.clone().run(heads, shutdown.clone()));
        info!(account = %self.transactor.account(), registry = %self.registry.contract().address(), "manager started");
        loop {
            if let Err(error) = self.tick(&head).await {
                warn!(error = format!("{error:#}"), "manager tick failed; trying again next tick");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = shutdown.changed() => break,
            }
        }
        sender.await.context("the sender")?;
        info!("manager stopped");
        Ok(())
    }

    /// One look at the chain and the database.
    pub async fn tick(&self, head: &watch::Sender<u64>) -> Result<()> {
        let block = self.registry.head().await?;
        let pending = self.transactor.follow_pending(block).await?;
        head.send_if_modified(|seen| std::mem::replace(seen, block) != block);
        self.take_in(block).await?;
        self.keep_stake(&pending).await?;
        self.route(&pending).await
    }
}
