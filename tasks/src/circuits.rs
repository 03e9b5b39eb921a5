//! Circuit sets, built once per shape and shared by everything that proves
//! or checks proofs in a process. Building a realistic shape takes tens of
//! seconds and a few GiB, so it happens on first use only.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use tracing::info;
use zkpor_circuits::{CircuitSet, Shape};

/// The circuit sets of the shapes used so far.
#[derive(Default)]
pub struct CircuitCache {
    sets: Mutex<HashMap<Shape, Arc<OnceLock<Arc<CircuitSet>>>>>,
}

impl CircuitCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The circuits of `shape`, built by the first caller (others wait for
    /// it). Blocking: call it from a blocking context.
    pub fn get(&self, shape: &Shape) -> Arc<CircuitSet> {
        let slot = self.sets.lock().entry(*shape).or_default().clone();
        slot.get_or_init(|| {
            info!(%shape, "building circuits");
            Arc::new(CircuitSet::build(shape))
        })
        .clone()
    }
}
