//! `--circuit-dir` / `--no-circuit-dir`: where the commands that prove keep
//! the circuits they build ([`zkpor_circuits::stored`]).

use std::path::PathBuf;

use zkpor_circuits::stored::CircuitDirectory;
use zkpor_tasks::FamilyCache;
use zkpor_tasks::circuits::FamilyData;

/// Where a command reads and writes a family's circuits.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct CircuitDirArgs {
    /// Keep the circuits this build makes in this directory and read them
    /// back on the next run (default: $ZKPOR_CIRCUIT_DIR, else
    /// $XDG_CACHE_HOME/zkpor/circuits, else ~/.cache/zkpor/circuits). The
    /// standard family takes 3.4 GB, tiny 1.3 GB.
    #[arg(long, global = true)]
    pub circuit_dir: Option<PathBuf>,
    /// Build the circuits in memory only, reading and writing no files.
    #[arg(long, global = true, conflicts_with = "circuit_dir")]
    pub no_circuit_dir: bool,
}

impl CircuitDirArgs {
    /// The directory to use, if any.
    pub fn directory(&self) -> Option<CircuitDirectory> {
        if self.no_circuit_dir {
            return None;
        }
        self.circuit_dir.clone().map(CircuitDirectory::new).or_else(CircuitDirectory::at_default_location)
    }

    /// A cache of circuits (or of their verifier data) over
    /// [`Self::directory`].
    pub fn cache<T: FamilyData>(&self) -> FamilyCache<T> {
        FamilyCache::on(self.directory())
    }
}
