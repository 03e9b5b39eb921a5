//! One agent process: the generator on its store, the worker API, the
//! sequence source's loop and, with a `[chain]`, the proof manager, run
//! until a shutdown future resolves.

use std::future::Future;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::watch;
use tracing::{info, warn};
use zkpor_generator::Generator;
use zkpor_manager::Manager;
use zkpor_store::Store;
use zkpor_tasks::VerifierCache;

use crate::config::AgentConfig;

/// An agent opened from its configuration: the store and the generator on
/// it, ready to serve or to answer offline commands.
pub struct Agent {
    config: AgentConfig,
    generator: Arc<Generator>,
    verifiers: Arc<VerifierCache>,
}

impl Agent {
    /// Opens the store of `config` (creating a SQLite file on first start)
    /// and the generator on it, checking proofs with the verifier data in
    /// `verifiers`.
    pub async fn open(config: AgentConfig, verifiers: VerifierCache) -> Result<Agent> {
        let store = Store::open(&config.database_url)
            .await
            .with_context(|| format!("opening the agent's database {}", config.database_url))?;
        let verifiers = Arc::new(verifiers);
        let generator =
            Arc::new(Generator::new(store, config.generator(), verifiers.clone(), Arc::new(zkpor_store::now_ms)));
        Ok(Agent { config, generator, verifiers })
    }

    /// The generator, for offline export and import.
    pub fn generator(&self) -> &Arc<Generator> {
        &self.generator
    }

    /// Runs the worker API, the sequence source's loop and the proof
    /// manager until `shutdown` resolves; then stops leasing and sending,
    /// waits for each part to end and returns. All state is in the store,
    /// so a restarted agent goes on where this one stopped.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let Agent { config, generator, verifiers } = self;
        // Sequences first, so that workers find tasks as soon as the API is
        // up; the verifier data of the stored ones' families is read
        // meanwhile, so that the first proof returned does not wait for it.
        let stored = generator.store().sequences().await?;
        let families: std::collections::BTreeMap<_, _> =
            stored.iter().map(|s| (s.info.family.name().to_string(), s.info.family.clone())).collect();
        families.values().for_each(|family| generator.warm(family));
        let known = stored.into_iter().map(|s| s.info.sequence);
        let (mut source, poll_every) = zkpor_generator::source::open(&config.source, config.chain.as_ref(), known)?;
        if let Err(error) = generator.ingest(source.as_mut()).await {
            warn!(error = format!("{error:#}"), "taking in sequences; trying again at the next poll");
        }
        let listener = tokio::net::TcpListener::bind(config.api.listen)
            .await
            .with_context(|| format!("listening on {}", config.api.listen))?;
        info!(
            address = %listener.local_addr()?,
            workers = config.workers.len(),
            "worker API listening on http://{}, metrics at /metrics",
            listener.local_addr()?
        );
        let (stop, stopped) = watch::channel(false);
        let manager = match &config.chain {
            Some(chain) => {
                let submitter = zkpor_chain::registry::to_evm_address(config.source.submitter);
                let manager = Manager::connect(chain, generator.store().clone(), verifiers, submitter)
                    .await
                    .context("starting the proof manager")?;
                info!(registry = %chain.registry, %submitter, "submitting proofs to the registry");
                Some(tokio::spawn(manager.run(stopped.clone())))
            }
            None => {
                info!("no [chain] configured: final proofs are stored, not submitted");
                None
            }
        };
        let background = tokio::spawn(generator.clone().run(source, poll_every, stopped.clone()));
        let api = tokio::spawn(zkpor_generator::api::serve(generator, listener, stopped));
        shutdown.await;
        info!("shutting down: no new leases, no new transactions; state is in the database");
        stop.send(true).ok();
        api.await.context("the worker API")??;
        background.await.context("the generator's loop")??;
        if let Some(manager) = manager {
            manager.await.context("the proof manager")??;
        }
        Ok(())
    }
}
