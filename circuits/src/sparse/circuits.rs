//! Every tree circuit of a tier set: one batch circuit per tier and the
//! aggregation levels above them. Level 0 takes batch proofs of any tier.

use anyhow::{Context, Result};
use plonky2::plonk::circuit_data::CircuitData;

use super::batch::TierBatchCircuit;
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

/// The tree circuits of one tier set, arity and level count.
pub struct TieredCircuits {
    tiers: TierSet,
    arity: usize,
    batches: Vec<TierBatchCircuit>,
    aggregations: Vec<AggregationCircuit>,
}

/// Aggregation levels a tree of `batches` batch proofs needs at `arity`
/// children per node (at least one).
pub fn levels_for(batches: usize, arity: usize) -> usize {
    let mut levels = 1;
    let mut capacity = arity;
    while capacity < batches {
        capacity = capacity.saturating_mul(arity);
        levels += 1;
    }
    levels
}

impl TieredCircuits {
    /// Builds every tier's batch circuit and `levels` aggregation levels of
    /// `arity` children, calling `on_step` before each circuit.
    pub fn build(
        tiers: &TierSet,
        arity: usize,
        levels: usize,
        mut on_step: impl FnMut(TieredBuildStep),
    ) -> Result<Self> {
        // Two tiers at a time: much of building a circuit is single-threaded.
        let indices: Vec<usize> = (0..tiers.tiers().len()).collect();
        let mut batches = Vec::with_capacity(indices.len());
        for pair in indices.chunks(2) {
            pair.iter().for_each(|&index| on_step(TieredBuildStep::Tier(index)));
            let built: Vec<Result<TierBatchCircuit>> = std::thread::scope(|scope| {
                let handles: Vec<_> =
                    pair.iter().map(|&index| scope.spawn(move || TierBatchCircuit::build(tiers, index))).collect();
                handles.into_iter().map(|handle| handle.join().expect("a tier circuit build panicked")).collect()
            });
            for circuit in built {
                batches.push(circuit?);
            }
        }
        let mut aggregations: Vec<AggregationCircuit> = Vec::with_capacity(levels);
        for level in 0..levels {
            on_step(TieredBuildStep::Aggregation(level));
            let below: Vec<&CircuitData<F, C, D>> = match aggregations.last() {
                Some(lower) => vec![lower.data()],
                None => batches.iter().map(TierBatchCircuit::data).collect(),
            };
            let circuit = AggregationCircuit::build_over(tiers.assets(), arity, level, &below)
                .with_context(|| format!("building aggregation level {level}"))?;
            aggregations.push(circuit);
        }
        Ok(TieredCircuits { tiers: tiers.clone(), arity, batches, aggregations })
    }

    /// The tier set.
    pub fn tiers(&self) -> &TierSet {
        &self.tiers
    }

    /// Children per aggregation node.
    pub fn arity(&self) -> usize {
        self.arity
    }

    /// Aggregation levels.
    pub fn levels(&self) -> usize {
        self.aggregations.len()
    }

    /// The batch circuit of tier `index`.
    pub fn batch(&self, index: usize) -> &TierBatchCircuit {
        &self.batches[index]
    }

    /// Aggregation level `level` (0 aggregates batch proofs).
    pub fn aggregation(&self, level: usize) -> &AggregationCircuit {
        &self.aggregations[level]
    }

    /// The top aggregation circuit: what the statement circuit verifies.
    pub fn top(&self) -> &CircuitData<F, C, D> {
        self.aggregations.last().expect("at least one level").data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_cover_the_batches() {
        assert_eq!(levels_for(1, 8), 1);
        assert_eq!(levels_for(8, 8), 1);
        assert_eq!(levels_for(9, 8), 2);
        assert_eq!(levels_for(64, 8), 2);
        assert_eq!(levels_for(65, 8), 3);
    }
}
