//! Every circuit of one shape, built bottom-up: each circuit pins the
//! verifier data of the one below it.

use std::time::Instant;

use plonky2::plonk::circuit_data::CircuitData;
use tracing::info;

use crate::aggregation::AggregationCircuit;
use crate::batch::BatchCircuit;
use crate::final_wrap::FinalCircuit;
use crate::statement::StatementCircuit;
use crate::{C, D, F, Shape};

/// One step of building a circuit set, for progress reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildStep {
    /// The batch circuit.
    Batch,
    /// Aggregation level `n`.
    Aggregation(usize),
    /// The statement circuit.
    Statement,
    /// The final circuit.
    Final,
}

impl std::fmt::Display for BuildStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildStep::Batch => write!(f, "batch circuit"),
            BuildStep::Aggregation(level) => write!(f, "aggregation circuit, level {level}"),
            BuildStep::Statement => write!(f, "statement circuit"),
            BuildStep::Final => write!(f, "final circuit"),
        }
    }
}

/// The circuits of one shape.
pub struct CircuitSet {
    tree: TreeCircuits,
    wrap: WrapCircuits,
}

/// The circuits that prove the account tree: batch and aggregation.
pub struct TreeCircuits {
    shape: Shape,
    batch: BatchCircuit,
    aggregations: Vec<AggregationCircuit>,
}

/// The circuits that turn the top proof into the final proof.
pub struct WrapCircuits {
    statement: StatementCircuit,
    final_wrap: FinalCircuit,
}

impl CircuitSet {
    /// Builds every circuit of `shape`.
    pub fn build(shape: &Shape) -> Self {
        Self::build_reporting(shape, |_| {})
    }

    /// Builds every circuit of `shape`, calling `on_step` before each one.
    pub fn build_reporting(shape: &Shape, mut on_step: impl FnMut(BuildStep)) -> Self {
        let started = Instant::now();
        on_step(BuildStep::Batch);
        let batch = BatchCircuit::build(shape);
        let mut aggregations: Vec<AggregationCircuit> = Vec::with_capacity(shape.levels());
        for level in 0..shape.levels() {
            on_step(BuildStep::Aggregation(level));
            let child = aggregations.last().map_or(batch.data(), AggregationCircuit::data);
            aggregations.push(AggregationCircuit::build(shape, level, child));
        }
        let top = aggregations.last().expect("at least one level").data();
        let wrap = WrapCircuits::over(shape.assets(), top, on_step);
        info!(%shape, elapsed = ?started.elapsed(), "circuits built");
        CircuitSet { tree: TreeCircuits { shape: *shape, batch, aggregations }, wrap }
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        self.tree.shape()
    }

    /// The tree circuits.
    pub fn tree(&self) -> &TreeCircuits {
        &self.tree
    }

    /// The batch circuit.
    pub fn batch(&self) -> &BatchCircuit {
        self.tree.batch()
    }

    /// The aggregation circuit of `level` (0 aggregates batches).
    pub fn aggregation(&self, level: usize) -> &AggregationCircuit {
        self.tree.aggregation(level)
    }

    /// The statement circuit.
    pub fn statement(&self) -> &StatementCircuit {
        &self.wrap.statement
    }

    /// The final circuit.
    pub fn final_wrap(&self) -> &FinalCircuit {
        &self.wrap.final_wrap
    }

    /// Splits the set, so that the tree circuits (most of its memory) can be
    /// dropped once the top proof exists.
    pub fn into_parts(self) -> (TreeCircuits, WrapCircuits) {
        (self.tree, self.wrap)
    }
}

impl TreeCircuits {
    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The batch circuit.
    pub fn batch(&self) -> &BatchCircuit {
        &self.batch
    }

    /// The aggregation circuit of `level` (0 aggregates batches).
    pub fn aggregation(&self, level: usize) -> &AggregationCircuit {
        &self.aggregations[level]
    }
}

impl WrapCircuits {
    /// Builds the statement circuit over the top aggregation circuit `top`
    /// of a tree of `assets` assets, and the final circuit over it, calling
    /// `on_step` before each.
    pub fn over(assets: usize, top: &CircuitData<F, C, D>, mut on_step: impl FnMut(BuildStep)) -> Self {
        on_step(BuildStep::Statement);
        let statement = StatementCircuit::build(assets, top);
        on_step(BuildStep::Final);
        let final_wrap = FinalCircuit::build(statement.data());
        WrapCircuits { statement, final_wrap }
    }

    /// The statement circuit.
    pub fn statement(&self) -> &StatementCircuit {
        &self.statement
    }

    /// The final circuit.
    pub fn final_wrap(&self) -> &FinalCircuit {
        &self.final_wrap
    }
}
