//! Offline proving, for provers that cannot hold a connection: a task file
//! exported by the agent (`zkpor agent export-task`) becomes a proof file it
//! imports (`zkpor agent import-proof`), where the proof meets the same
//! checks as one returned over HTTP.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use zkpor_tasks::protocol::{ProofFile, ProofResult, TaskFile};
use zkpor_tasks::{CircuitCache, ProofBytes, prove_task, wait_for_circuits};

/// Reads a task file.
pub fn read_task_file(path: &Path) -> Result<TaskFile> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a task file", path.display()))
}

/// Proves a task file's task.
pub fn prove_task_file(circuits: &CircuitCache, task: &TaskFile) -> Result<ProofFile> {
    let circuits = circuits.get(&task.spec.family)?;
    wait_for_circuits(&circuits, &task.spec)?;
    let started = Instant::now();
    let proof = prove_task(&circuits, &task.spec)?;
    Ok(ProofFile {
        task: task.spec.key,
        result: ProofResult {
            lease_id: task.lease_id.clone(),
            proof: ProofBytes(proof),
            proving_ms: started.elapsed().as_millis() as i64,
        },
    })
}
