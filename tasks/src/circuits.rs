//! Family circuits, built once per family and shared by everything that
//! proves or checks proofs in a process. Building the standard family takes
//! tens of seconds and a few GiB, so it happens on first use only, and with
//! a [`CircuitDirectory`] the circuits are read from disk where an earlier
//! process of this build wrote them ([`zkpor_circuits::stored`]).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use anyhow::{Result, anyhow};
use parking_lot::Mutex;
use tracing::info;
use zkpor_circuits::FamilyCircuits;
use zkpor_circuits::family::Family;
use zkpor_circuits::stored::CircuitDirectory;

/// A family's circuits, or why they could not be built.
type Slot = Arc<OnceLock<Result<Arc<FamilyCircuits>, String>>>;

/// The circuits of the families used so far.
#[derive(Default)]
pub struct CircuitCache {
    families: Mutex<HashMap<String, Slot>>,
    directory: Option<CircuitDirectory>,
}

impl CircuitCache {
    /// An empty cache that builds circuits in memory only.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty cache that reads circuits from `directory` and writes those
    /// it builds there.
    pub fn with_directory(directory: CircuitDirectory) -> Self {
        CircuitCache { families: Mutex::default(), directory: Some(directory) }
    }

    /// Where circuits are kept on disk, if anywhere.
    pub fn directory(&self) -> Option<&CircuitDirectory> {
        self.directory.as_ref()
    }

    /// The circuits of `family`, built by the first caller (others wait for
    /// it). Blocking: call it from a blocking context.
    pub fn get(&self, family: &Family) -> Result<Arc<FamilyCircuits>> {
        let slot = self.families.lock().entry(family.name().to_string()).or_default().clone();
        slot.get_or_init(|| {
            let started = std::time::Instant::now();
            let files = self.directory.as_ref().map(|directory| directory.family(family));
            info!(family = family.name(), dir = ?files.as_ref().map(|files| files.dir()), "reading or building circuits");
            let (circuits, provenance) =
                FamilyCircuits::load_or_build(family, files.as_ref(), |step| tracing::debug!(%step, "building"))
            .map_err(|e| format!("{e:#}"))?;
            info!(
                family = family.name(),
                read = provenance.read.len(),
                built = provenance.built.len(),
                ms = started.elapsed().as_millis() as u64,
                "circuits ready"
            );
            Ok(Arc::new(circuits))
        })
        .clone()
        .map_err(|e| anyhow!("building the circuits of family {}: {e}", family.name()))
    }
}
