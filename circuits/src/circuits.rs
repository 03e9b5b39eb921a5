//! Every circuit of a family: one batch circuit per tier, the three node
//! circuits, the statement circuit and the final circuit, each pinning the
//! verifier data of those below it.
//!
//! The circuits can be built on one thread while another already proves
//! with those that are ready ([`FamilyCircuits::pending`] and
//! [`FamilyCircuits::build_all`]): building a circuit is mostly
//! single-threaded, so on a machine of few cores the builds of the upper
//! circuits fit beside the batch proofs, which need only the tier circuits.
//! Each accessor waits until its circuit is built, or fails if the build
//! failed or was stopped.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result, anyhow, bail};
use plonky2::plonk::circuit_data::{CircuitData, VerifierOnlyCircuitData};
use tracing::{debug, warn};

use crate::aggregation::{NodeCircuit, NodeKind};
use crate::batch::TierBatchCircuit;
use crate::family::Family;
use crate::final_wrap::FinalCircuit;
use crate::statement::StatementCircuit;
use crate::stored::{self, BuildLock, FamilyFiles, Manifest, StoredCircuit};
use crate::verifiers::FamilyVerifiers;
use crate::{C, D, F, FinalConfig};

/// One step of building a family's circuits, for progress reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildStep {
    /// The batch circuit of tier `n`.
    Tier(usize),
    /// A node circuit.
    Node(NodeKind),
    /// The statement circuit.
    Statement,
    /// The final circuit.
    Final,
}

impl std::fmt::Display for BuildStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildStep::Tier(tier) => write!(f, "batch circuit of tier {tier}"),
            BuildStep::Node(kind) => write!(f, "{kind} circuit"),
            BuildStep::Statement => write!(f, "statement circuit"),
            BuildStep::Final => write!(f, "final circuit"),
        }
    }
}

/// Which circuits [`FamilyCircuits::build_all`] read from disk and which it
/// built.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// Read from the family's files.
    pub read: Vec<BuildStep>,
    /// Built.
    pub built: Vec<BuildStep>,
}

/// A circuit that is built, or why it will not be.
type Built<T> = OnceLock<Result<T, String>>;

/// The circuits of one family, built or being built.
pub struct FamilyCircuits {
    family: Family,
    tiers: Vec<Built<TierBatchCircuit>>,
    over_batches: Built<NodeCircuit>,
    over_nodes: Built<NodeCircuit>,
    top: Built<NodeCircuit>,
    statement: Built<StatementCircuit>,
    final_wrap: Built<FinalCircuit>,
    stopped: AtomicBool,
}

impl FamilyCircuits {
    /// Builds every circuit of `family`, calling `on_step` before each.
    pub fn build(family: &Family, on_step: impl FnMut(BuildStep)) -> Result<Self> {
        Self::load_or_build(family, None, on_step).map(|(circuits, _)| circuits)
    }

    /// Every circuit of `family`, read from `files` where this build wrote
    /// them before, built (and written there) where not; without `files`,
    /// all built.
    pub fn load_or_build(
        family: &Family,
        files: Option<&FamilyFiles>,
        on_step: impl FnMut(BuildStep),
    ) -> Result<(Self, Provenance)> {
        let circuits = Self::pending(family);
        let provenance = circuits.build_all(files, on_step)?;
        Ok((circuits, provenance))
    }

    /// The circuits of `family`, none built yet: [`Self::build_all`] builds
    /// them, on any thread.
    pub fn pending(family: &Family) -> Self {
        FamilyCircuits {
            family: family.clone(),
            tiers: (0..family.tiers().tiers().len()).map(|_| OnceLock::new()).collect(),
            over_batches: OnceLock::new(),
            over_nodes: OnceLock::new(),
            top: OnceLock::new(),
            statement: OnceLock::new(),
            final_wrap: OnceLock::new(),
            stopped: AtomicBool::new(false),
        }
    }

    /// Builds every circuit not yet built, tier circuits first (two at a
    /// time), then the nodes, the statement and the final circuit, calling
    /// `on_step` before each. With `files`, a circuit this build wrote there
    /// before is read instead of built, and one that is built is written
    /// there ([`crate::stored`]); a file that cannot be written is logged and
    /// skipped. If a build fails, or [`Self::stop`] was called, every
    /// circuit left unbuilt fails for whoever waits on it.
    pub fn build_all(&self, files: Option<&FamilyFiles>, mut on_step: impl FnMut(BuildStep)) -> Result<Provenance> {
        let mut unbuilt = FailUnbuilt { circuits: self, reason: "building the circuits stopped".to_string() };
        let _building = files.and_then(lock_unless_complete);
        let sources = Sources::new(self.family.name(), files);
        let result = self.build_in_order(&sources, &mut on_step).and_then(|()| sources.finish(self));
        if let Err(err) = &result {
            unbuilt.reason = format!("{err:#}");
        }
        result
    }

    fn build_in_order(&self, sources: &Sources<'_>, on_step: &mut impl FnMut(BuildStep)) -> Result<()> {
        let family = &self.family;
        let tiers = family.tiers();
        let assets = family.assets();
        // Two tiers at a time: much of building a circuit is single-threaded.
        let indices: Vec<usize> = (0..tiers.tiers().len()).collect();
        for pair in indices.chunks(2) {
            self.check_not_stopped()?;
            pair.iter().for_each(|&index| on_step(BuildStep::Tier(index)));
            let built: Vec<Result<TierBatchCircuit>> = std::thread::scope(|scope| {
                let handles: Vec<_> = pair
                    .iter()
                    .map(|&index| {
                        scope.spawn(move || {
                            sources.obtain(BuildStep::Tier(index), || TierBatchCircuit::build(tiers, index))
                        })
                    })
                    .collect();
                handles.into_iter().map(|handle| handle.join().expect("a tier circuit build panicked")).collect()
            });
            for (&index, circuit) in pair.iter().zip(built) {
                let circuit = circuit.with_context(|| format!("building the batch circuit of tier {index}"))?;
                let _ = self.tiers[index].set(Ok(circuit));
            }
        }
        self.check_not_stopped()?;
        on_step(BuildStep::Node(NodeKind::OverBatches));
        let tier_data: Vec<&CircuitData<F, C, D>> =
            (0..self.tiers.len()).map(|tier| self.tier(tier).map(TierBatchCircuit::data)).collect::<Result<_>>()?;
        let over_batches = sources
            .obtain(BuildStep::Node(NodeKind::OverBatches), || {
                NodeCircuit::over_batches(family.batch_children(), assets, &tier_data, family.node_degree_bits())
            })
            .context("building the node over batches")?;
        let _ = self.over_batches.set(Ok(over_batches));

        self.check_not_stopped()?;
        on_step(BuildStep::Node(NodeKind::OverNodes));
        let over_nodes = sources
            .obtain(BuildStep::Node(NodeKind::OverNodes), || {
                NodeCircuit::over_nodes(family.node_children(), assets, self.over_batches()?, tier_data.len())
            })
            .context("building the node over nodes")?;
        let _ = self.over_nodes.set(Ok(over_nodes));

        self.check_not_stopped()?;
        on_step(BuildStep::Node(NodeKind::Top));
        let top = sources
            .obtain(BuildStep::Node(NodeKind::Top), || {
                NodeCircuit::top(family.top_children(), assets, self.over_batches()?, self.over_nodes()?)
            })
            .context("building the top node")?;
        let _ = self.top.set(Ok(top));

        self.check_not_stopped()?;
        on_step(BuildStep::Statement);
        let statement = sources.obtain(BuildStep::Statement, || {
            Ok(StatementCircuit::build(assets, family.user_bits(), self.top()?.data()))
        })?;
        let _ = self.statement.set(Ok(statement));

        self.check_not_stopped()?;
        on_step(BuildStep::Final);
        let final_wrap = sources.obtain(BuildStep::Final, || Ok(FinalCircuit::build(self.statement()?.data())))?;
        let _ = self.final_wrap.set(Ok(final_wrap));
        Ok(())
    }

    /// Asks [`Self::build_all`] to stop before its next circuit.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    fn check_not_stopped(&self) -> Result<()> {
        if self.stopped.load(Ordering::Relaxed) {
            bail!("building the circuits was stopped");
        }
        Ok(())
    }

    /// The family.
    pub fn family(&self) -> &Family {
        &self.family
    }

    /// The batch circuit of tier `index`, once built.
    pub fn tier(&self, index: usize) -> Result<&TierBatchCircuit> {
        let slot = self.tiers.get(index).with_context(|| format!("tier {index} is past the family's tiers"))?;
        wait(slot, || format!("the batch circuit of tier {index}"))
    }

    /// The node circuit of `kind`, once built.
    pub fn node(&self, kind: NodeKind) -> Result<&NodeCircuit> {
        let slot = match kind {
            NodeKind::OverBatches => &self.over_batches,
            NodeKind::OverNodes => &self.over_nodes,
            NodeKind::Top => &self.top,
        };
        wait(slot, || format!("the {kind} circuit"))
    }

    /// The node over batches, once built.
    pub fn over_batches(&self) -> Result<&NodeCircuit> {
        self.node(NodeKind::OverBatches)
    }

    /// The node over nodes, once built.
    pub fn over_nodes(&self) -> Result<&NodeCircuit> {
        self.node(NodeKind::OverNodes)
    }

    /// The top node, once built.
    pub fn top(&self) -> Result<&NodeCircuit> {
        self.node(NodeKind::Top)
    }

    /// The statement circuit, once built.
    pub fn statement(&self) -> Result<&StatementCircuit> {
        wait(&self.statement, || "the statement circuit".to_string())
    }

    /// The final circuit, once built.
    pub fn final_wrap(&self) -> Result<&FinalCircuit> {
        wait(&self.final_wrap, || "the final circuit".to_string())
    }

    /// The family's digest: the final circuit's, once built.
    pub fn digest(&self) -> Result<FamilyDigest> {
        Ok(FamilyDigest::of(&self.final_wrap()?.data().verifier_only))
    }
}

/// The digest of a family: the circuit digest of its final circuit (which
/// pins the statement circuit, which pins the top, and so on down to every
/// tier), as the on-chain verifier exposes it (`CIRCUIT_DIGEST`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FamilyDigest(pub [u8; 32]);

impl FamilyDigest {
    /// The digest of the family whose final circuit's verifier data is
    /// `final_wrap`.
    pub fn of(final_wrap: &VerifierOnlyCircuitData<FinalConfig, D>) -> Self {
        let bytes = plonky2::plonk::config::GenericHashOut::<F>::to_bytes(&final_wrap.circuit_digest);
        let mut out = [0u8; 32];
        out[..bytes.len()].copy_from_slice(&bytes);
        FamilyDigest(out)
    }
}

impl std::fmt::Display for FamilyDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl std::str::FromStr for FamilyDigest {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Self> {
        let digits = text.strip_prefix("0x").unwrap_or(text);
        let mut out = [0u8; 32];
        hex::decode_to_slice(digits, &mut out).with_context(|| format!("'{text}' is not a 32-byte family digest"))?;
        Ok(FamilyDigest(out))
    }
}

/// Where [`FamilyCircuits::build_all`] takes each circuit from: the files
/// of an earlier build where the manifest vouches for them, else a build.
struct Sources<'a> {
    family: &'a str,
    files: Option<&'a FamilyFiles>,
    /// The manifest the files had when the build began.
    manifest: Option<Manifest>,
    /// Whether files may still be read: no longer once a circuit was built
    /// to a digest other than the manifest's, as the circuits above it pin
    /// its verifier data.
    trusted: AtomicBool,
    /// The digest of each circuit read from the files or written to them.
    digests: Mutex<BTreeMap<String, String>>,
    provenance: Mutex<Provenance>,
}

impl<'a> Sources<'a> {
    fn new(family: &'a str, files: Option<&'a FamilyFiles>) -> Self {
        let manifest = files.and_then(|files| match files.manifest() {
            Ok(manifest) => manifest,
            Err(err) => {
                warn!(error = %format!("{err:#}"), "ignoring the circuit files' manifest");
                None
            }
        });
        Sources {
            family,
            files,
            manifest,
            trusted: AtomicBool::new(true),
            digests: Mutex::default(),
            provenance: Mutex::default(),
        }
    }

    /// The circuit of `step`: read from the files when they hold it as the
    /// manifest records it, else built by `build` and written to the files.
    fn obtain<T: StoredCircuit>(&self, step: BuildStep, build: impl FnOnce() -> Result<T>) -> Result<T> {
        let name = stored::file_name(step);
        let recorded = self.manifest.as_ref().and_then(|manifest| manifest.circuits.get(&name));
        if let (Some(files), Some(expected)) = (self.files, recorded)
            && self.trusted.load(Ordering::Relaxed)
        {
            match files.load::<T>(step, expected) {
                Ok(circuit) => {
                    debug!(%step, "read from {}", files.dir().display());
                    self.record(name, circuit.digest());
                    lock(&self.provenance).read.push(step);
                    return Ok(circuit);
                }
                Err(err) => warn!(%step, error = %format!("{err:#}"), "building it again"),
            }
        }
        let circuit = build()?;
        lock(&self.provenance).built.push(step);
        let digest = circuit.digest();
        if recorded.is_some_and(|recorded| *recorded != digest) {
            self.trusted.store(false, Ordering::Relaxed);
        }
        if let Some(files) = self.files {
            match files.save(step, &circuit) {
                Ok(()) => self.record(name, digest),
                Err(err) => warn!(%step, error = %format!("{err:#}"), "the circuit is not kept on disk"),
            }
        }
        Ok(circuit)
    }

    fn record(&self, name: String, digest: String) {
        lock(&self.digests).insert(name, digest);
    }

    /// Writes the manifest when every circuit is on disk and it records
    /// anything new.
    fn finish(&self, circuits: &FamilyCircuits) -> Result<Provenance> {
        let provenance = std::mem::take(&mut *lock(&self.provenance));
        let Some(files) = self.files else {
            return Ok(provenance);
        };
        let verifiers = FamilyVerifiers::of(circuits)?;
        let digest = verifiers.digest().to_string();
        let verifiers = verifiers.to_bytes();
        let circuits = std::mem::take(&mut *lock(&self.digests));
        let written = files.save_verifiers(&verifiers).and_then(|verifiers| {
            let manifest = Manifest { family: self.family.to_string(), digest, circuits, verifiers };
            if self.manifest.as_ref() == Some(&manifest) { Ok(()) } else { files.write_manifest(&manifest) }
        });
        if let Err(err) = written {
            warn!(error = %format!("{err:#}"), "the circuits' manifest is not written");
        }
        Ok(provenance)
    }
}

/// Where `files` hold no complete build, waits for any other process
/// building into them and holds them ([`FamilyFiles::lock_for_build`]); a
/// lock that cannot be had is logged and done without.
fn lock_unless_complete(files: &FamilyFiles) -> Option<BuildLock> {
    if matches!(files.manifest(), Ok(Some(_))) {
        return None;
    }
    files.lock_for_build().map_err(|err| warn!(error = %format!("{err:#}"), "building without the lock")).ok()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn wait<T>(slot: &Built<T>, what: impl FnOnce() -> String) -> Result<&T> {
    slot.wait().as_ref().map_err(|reason| anyhow!("{} was not built: {reason}", what()))
}

/// On drop, fails every circuit of `circuits` that is not built, so that
/// nobody waits for it forever (also when a build panics).
struct FailUnbuilt<'a> {
    circuits: &'a FamilyCircuits,
    reason: String,
}

impl Drop for FailUnbuilt<'_> {
    fn drop(&mut self) {
        let circuits = self.circuits;
        for slot in &circuits.tiers {
            let _ = slot.set(Err(self.reason.clone()));
        }
        for slot in [&circuits.over_batches, &circuits.over_nodes, &circuits.top] {
            let _ = slot.set(Err(self.reason.clone()));
        }
        let _ = circuits.statement.set(Err(self.reason.clone()));
        let _ = circuits.final_wrap.set(Err(self.reason.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_build_fails_every_circuit_it_did_not_build() {
        let circuits = FamilyCircuits::pending(&Family::tiny());
        circuits.stop();
        let err = circuits.build_all(None, |_| {}).unwrap_err();
        assert!(err.to_string().contains("stopped"), "{err:#}");
        let waited = circuits.tier(0).err().expect("the tier circuit was never built");
        assert!(format!("{waited:#}").contains("was not built: building the circuits was stopped"), "{waited:#}");
        assert!(circuits.final_wrap().is_err());
        assert!(circuits.tier(5).err().expect("no tier 5").to_string().contains("past the family's tiers"));
    }
}
