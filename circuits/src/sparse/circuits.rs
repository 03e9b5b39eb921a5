//! Every tree circuit of a tiered shape: one batch circuit per tier and the
//! aggregation levels above them. Level 0 takes batch proofs of any tier.
//!
//! The circuits can be built on one thread while another already proves
//! with those that are ready ([`TieredCircuits::pending`] and
//! [`TieredCircuits::build_all`]): building a circuit is mostly
//! single-threaded, so on a machine of few cores the builds of the upper
//! levels fit beside the batch proofs, which need only the tier circuits.
//! Each accessor waits until its circuit is built, or fails if the build
//! failed or was stopped.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, anyhow, bail};
use plonky2::plonk::circuit_data::CircuitData;

use super::batch::TierBatchCircuit;
use super::shape::TieredShape;
use super::tier::TierSet;
use crate::aggregation::AggregationCircuit;
use crate::{C, D, F};

/// One step of building the tiered circuits, for progress reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TieredBuildStep {
    /// The batch circuit of tier `n`.
    Tier(usize),
    /// Aggregation level `n`.
    Aggregation(usize),
}

/// A circuit that is built, or why it will not be.
type Built<T> = OnceLock<Result<T, String>>;

/// The tree circuits of one tiered shape, built or being built.
pub struct TieredCircuits {
    shape: TieredShape,
    batches: Vec<Built<TierBatchCircuit>>,
    aggregations: Vec<Built<AggregationCircuit>>,
    stopped: AtomicBool,
}

impl TieredCircuits {
    /// Builds every tier's batch circuit and every aggregation level of
    /// `shape`, calling `on_step` before each circuit.
    pub fn build(shape: &TieredShape, on_step: impl FnMut(TieredBuildStep)) -> Result<Self> {
        let circuits = Self::pending(shape);
        circuits.build_all(on_step)?;
        Ok(circuits)
    }

    /// The circuits of `shape`, none built yet: [`Self::build_all`] builds
    /// them, on any thread.
    pub fn pending(shape: &TieredShape) -> Self {
        TieredCircuits {
            shape: shape.clone(),
            batches: (0..shape.tiers().tiers().len()).map(|_| OnceLock::new()).collect(),
            aggregations: (0..shape.levels()).map(|_| OnceLock::new()).collect(),
            stopped: AtomicBool::new(false),
        }
    }

    /// Builds every circuit not yet built, tier circuits first (two at a
    /// time), then the aggregation levels from the bottom, calling
    /// `on_step` before each. If a build fails, or [`Self::stop`] was
    /// called, every circuit left unbuilt fails for whoever waits on it.
    pub fn build_all(&self, mut on_step: impl FnMut(TieredBuildStep)) -> Result<()> {
        let mut unbuilt = FailUnbuilt { circuits: self, reason: "building the circuits stopped".to_string() };
        let result = self.build_in_order(&mut on_step);
        if let Err(err) = &result {
            unbuilt.reason = format!("{err:#}");
        }
        result
    }

    fn build_in_order(&self, on_step: &mut impl FnMut(TieredBuildStep)) -> Result<()> {
        let tiers = self.shape.tiers();
        // Two tiers at a time: much of building a circuit is single-threaded.
        let indices: Vec<usize> = (0..tiers.tiers().len()).collect();
        for pair in indices.chunks(2) {
            self.check_not_stopped()?;
            pair.iter().for_each(|&index| on_step(TieredBuildStep::Tier(index)));
            let built: Vec<Result<TierBatchCircuit>> = std::thread::scope(|scope| {
                let handles: Vec<_> =
                    pair.iter().map(|&index| scope.spawn(move || TierBatchCircuit::build(tiers, index))).collect();
                handles.into_iter().map(|handle| handle.join().expect("a tier circuit build panicked")).collect()
            });
            for (&index, circuit) in pair.iter().zip(built) {
                let circuit = circuit.with_context(|| format!("building the batch circuit of tier {index}"))?;
                let _ = self.batches[index].set(Ok(circuit));
            }
        }
        for level in 0..self.shape.levels() {
            self.check_not_stopped()?;
            on_step(TieredBuildStep::Aggregation(level));
            let below: Vec<&CircuitData<F, C, D>> = if level == 0 {
                (0..self.batches.len())
                    .map(|tier| self.batch(tier).map(TierBatchCircuit::data))
                    .collect::<Result<_>>()?
            } else {
                vec![self.aggregation(level - 1)?.data()]
            };
            let circuit = AggregationCircuit::build_over(
                tiers.assets(),
                self.shape.children(level),
                self.shape.empty_root(level),
                level,
                &below,
            )
            .with_context(|| format!("building aggregation level {level}"))?;
            let _ = self.aggregations[level].set(Ok(circuit));
        }
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

    /// The shape the circuits are of.
    pub fn shape(&self) -> &TieredShape {
        &self.shape
    }

    /// The tier set.
    pub fn tiers(&self) -> &TierSet {
        self.shape.tiers()
    }

    /// Aggregation levels.
    pub fn levels(&self) -> usize {
        self.aggregations.len()
    }

    /// The batch circuit of tier `index`, once built.
    pub fn batch(&self, index: usize) -> Result<&TierBatchCircuit> {
        let slot = self.batches.get(index).with_context(|| format!("tier {index} is past the tier set"))?;
        slot.wait().as_ref().map_err(|reason| anyhow!("the batch circuit of tier {index} was not built: {reason}"))
    }

    /// Aggregation level `level` (0 aggregates batch proofs), once built.
    pub fn aggregation(&self, level: usize) -> Result<&AggregationCircuit> {
        let slot =
            self.aggregations.get(level).with_context(|| format!("aggregation level {level} is past the top"))?;
        slot.wait().as_ref().map_err(|reason| anyhow!("aggregation level {level} was not built: {reason}"))
    }

    /// The top aggregation circuit, once built: what the statement circuit
    /// verifies.
    pub fn top(&self) -> Result<&CircuitData<F, C, D>> {
        Ok(self.aggregation(self.levels() - 1)?.data())
    }
}

/// On drop, fails every circuit of `circuits` that is not built, so that
/// nobody waits for it forever (also when a build panics).
struct FailUnbuilt<'a> {
    circuits: &'a TieredCircuits,
    reason: String,
}

impl Drop for FailUnbuilt<'_> {
    fn drop(&mut self) {
        for slot in &self.circuits.batches {
            let _ = slot.set(Err(self.reason.clone()));
        }
        for slot in &self.circuits.aggregations {
            let _ = slot.set(Err(self.reason.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sparse::tier::Tier;

    #[test]
    fn a_stopped_build_fails_every_circuit_it_did_not_build() {
        let tiers = TierSet::new(4, 11, vec![Tier { slots: 4, batch_size: 2 }]).unwrap();
        let shape = TieredShape::new(tiers, vec![2]).unwrap();
        let circuits = TieredCircuits::pending(&shape);
        circuits.stop();
        let err = circuits.build_all(|_| {}).unwrap_err();
        assert!(err.to_string().contains("stopped"), "{err:#}");
        let waited = circuits.batch(0).err().expect("the tier circuit was never built");
        assert!(format!("{waited:#}").contains("was not built: building the circuits was stopped"), "{waited:#}");
        assert!(circuits.top().is_err());
        assert!(circuits.batch(1).err().expect("no tier 1").to_string().contains("past the tier set"));
    }
}
