//! Following the network until both agents are paid: every milestone of
//! each agent (witness checked, proven, committed, revealed, paid) and of
//! the sequence (verified) is printed once, as it is seen in the agents'
//! databases and on chain.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use alloy::providers::DynProvider;
use anyhow::{Result, bail};
use zkpor_chain::registry::{CommitState, LiabilityRegistry, RegistryStatus};
use zkpor_store::{ProvingState as Proving, Store};

/// When things happened, printed as they do.
pub struct Timeline {
    started: Instant,
}

impl Timeline {
    /// A timeline starting now.
    pub fn new() -> Self {
        Timeline { started: Instant::now() }
    }

    /// Prints `what` with the time since the start.
    pub fn step(&self, what: String) {
        println!("[{:>6.1}s] {what}", self.started.elapsed().as_secs_f64());
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// One agent of the network.
pub struct Agent {
    /// Its name.
    pub name: String,
    /// Its on-chain address.
    pub address: Address,
    /// Its database.
    pub store: Store,
}

impl Agent {
    /// The agent `name` at `address` with its database.
    pub fn new(name: &str, address: Address, store: Store) -> Self {
        Agent { name: name.to_string(), address, store }
    }
}

/// A milestone of one agent, in the order they come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Milestone {
    TookIn,
    Proven,
    Committed,
    Revealed,
    Paid,
}

impl Milestone {
    fn describe(self, sequence: u64) -> String {
        match self {
            Milestone::TookIn => {
                format!("fetched sequence {sequence}'s witness and checked it against the posted root")
            }
            Milestone::Proven => format!("proved sequence {sequence}: every batch, aggregation and the final proof"),
            Milestone::Committed => "committed its proof hash on chain (T1)".into(),
            Milestone::Revealed => "revealed its proof: valid (T2)".into(),
            Milestone::Paid => "claimed its share of the reward".into(),
        }
    }
}

/// Waits until every agent is paid for `sequence`, calling `check` (which
/// fails on a dead process or a timeout) at every look; the time of each
/// phase.
pub async fn until_paid(
    timeline: &Timeline,
    provider: &DynProvider,
    registry: Address,
    sequence: u64,
    agents: &[Agent],
    mut check: impl FnMut() -> Result<()>,
) -> Result<Vec<(String, Duration)>> {
    let contract = LiabilityRegistry::new(registry, provider);
    let number = U256::from(sequence);
    let mut seen: Vec<BTreeSet<Milestone>> = vec![BTreeSet::new(); agents.len()];
    let mut tasks_done = vec![(0, 0); agents.len()];
    let mut reached: Vec<(Milestone, Instant)> = Vec::new();
    let mut verified_at = None;
    let started = Instant::now();
    loop {
        check()?;
        for ((agent, seen), tasks_done) in agents.iter().zip(&mut seen).zip(&mut tasks_done) {
            let mut now = BTreeSet::new();
            let depths = agent.store.queue_depths().await?;
            let done = depths.iter().filter(|d| d.status == zkpor_store::TaskState::Done).map(|d| d.count).sum::<u64>();
            let all = depths.iter().map(|d| d.count).sum::<u64>();
            if (done, all) != *tasks_done && done > 0 && done < all {
                timeline.step(format!("{} has {done} of its {all} proving tasks done", agent.name));
            }
            *tasks_done = (done, all);
            if let Some(refused) = agent.store.refused_sequences().await?.into_iter().find(|r| r.sequence == sequence) {
                bail!("{} refused the witness of sequence {sequence}: {}", agent.name, refused.reason);
            }
            if let Some(row) = agent.store.sequence(sequence).await? {
                now.insert(Milestone::TookIn);
                match row.status {
                    Proving::Proven => {
                        now.insert(Milestone::Proven);
                    }
                    Proving::Failed => {
                        bail!("{} failed sequence {sequence}: {}", agent.name, row.error.unwrap_or_default())
                    }
                    Proving::Proving => {}
                }
            }
            let commit = contract.commitOf(number, agent.address).call().await?;
            match CommitState::try_from(commit.state)? {
                CommitState::Committed => {
                    now.insert(Milestone::Committed);
                }
                CommitState::Valid => {
                    now.extend([Milestone::Committed, Milestone::Revealed]);
                }
                CommitState::Rewarded => {
                    now.extend([Milestone::Committed, Milestone::Revealed, Milestone::Paid]);
                }
                CommitState::Invalid | CommitState::Slashed => {
                    bail!("{}'s commit of sequence {sequence} was slashed", agent.name)
                }
                CommitState::None | CommitState::Released => {}
            }
            for milestone in now.difference(seen).copied().collect::<Vec<_>>() {
                timeline.step(format!("{} {}", agent.name, milestone.describe(sequence)));
                reached.push((milestone, Instant::now()));
                seen.insert(milestone);
            }
        }
        if verified_at.is_none()
            && RegistryStatus::try_from(contract.status(number).call().await?)? == RegistryStatus::Verified
        {
            let info = contract.sequenceInfo(number).call().await?;
            timeline.step(format!(
                "sequence {sequence} verified on chain in block {}, first proof by {}",
                info.verifiedBlock, info.prover
            ));
            verified_at = Some(Instant::now());
        }
        if seen.iter().all(|s| s.contains(&Milestone::Paid)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let last = |milestone: Milestone| {
        reached.iter().filter(|(m, _)| *m == milestone).map(|(_, at)| *at).max().unwrap_or(started)
    };
    let verified = verified_at.unwrap_or(started);
    Ok(vec![
        ("witnesses fetched and checked (both agents)".into(), last(Milestone::TookIn) - started),
        ("proving (both agents)".into(), last(Milestone::Proven).saturating_duration_since(last(Milestone::TookIn))),
        ("commit and reveal, to verified".into(), verified.saturating_duration_since(last(Milestone::Proven))),
        ("rewards claimed".into(), last(Milestone::Paid).saturating_duration_since(verified)),
    ])
}
