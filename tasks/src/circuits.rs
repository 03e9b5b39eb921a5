//! Family circuits, built once per family and shared by everything that
//! proves or checks proofs in a process. Building the standard family takes
//! tens of seconds and a few GiB, so it happens on first use only.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use anyhow::{Result, anyhow};
use parking_lot::Mutex;
use tracing::info;
use zkpor_circuits::FamilyCircuits;
use zkpor_circuits::family::Family;

/// A family's circuits, or why they could not be built.
type Slot = Arc<OnceLock<Result<Arc<FamilyCircuits>, String>>>;

/// The circuits of the families used so far.
#[derive(Default)]
pub struct CircuitCache {
    families: Mutex<HashMap<String, Slot>>,
}

impl CircuitCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The circuits of `family`, built by the first caller (others wait for
    /// it). Blocking: call it from a blocking context.
    pub fn get(&self, family: &Family) -> Result<Arc<FamilyCircuits>> {
        let slot = self.families.lock().entry(family.name().to_string()).or_default().clone();
        slot.get_or_init(|| {
            info!(family = family.name(), "building circuits");
            FamilyCircuits::build(family, |step| tracing::debug!(%step, "building"))
                .map(Arc::new)
                .map_err(|e| format!("{e:#}"))
        })
        .clone()
        .map_err(|e| anyhow!("building the circuits of family {}: {e}", family.name()))
    }
}
