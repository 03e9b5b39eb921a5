//! Newly proven sequences become submissions: the final proof, as the
//! workers returned and the generator checked it, is re-encoded into the
//! verifier's calldata and its commit hash computed, once; the submission
//! then holds everything the sender needs, even after a restart.

use anyhow::{Context, Result};
use tracing::{info, warn};
use zkpor_chain::registry::{proof_hash, to_evm_address};
use zkpor_evm_verifier::calldata::encode;
use zkpor_evm_verifier::layout::ProofLayout;
use zkpor_store::SubmissionState;

use crate::Manager;

impl Manager {
    /// Makes a submission of every proven sequence that has none; `block`
    /// is the chain's head.
    pub(crate) async fn take_in(&self, block: u64) -> Result<()> {
        for sequence in self.store.proven_without_submission().await? {
            let row = self.store.sequence(sequence).await?.context("a proven sequence is missing")?;
            let proof = self.store.final_proof(sequence).await?.context("a proven sequence has no final proof")?;
            let account = self.transactor.account();
            if to_evm_address(row.info.submitter) != account {
                let reason = format!("proven for submitter {}, not for our account {account}", row.info.submitter);
                warn!(sequence, %reason, "not submitting");
                self.store.insert_submission(sequence, &[], "", SubmissionState::Failed, Some(&reason), block).await?;
                continue;
            }
            let verifiers = self.verifiers.clone();
            let family = row.info.family.clone();
            let calldata = tokio::task::spawn_blocking(move || -> Result<Vec<u8>> {
                let verifiers = verifiers.get(&family)?;
                let proof = verifiers.final_proof(proof)?;
                encode(&proof, &ProofLayout::new(&verifiers.final_wrap().common)?)
            })
            .await
            .context("encoding a final proof")?
            .with_context(|| format!("encoding sequence {sequence}'s final proof for the verifier"))?;
            let hash = proof_hash(&calldata, account);
            let ready = SubmissionState::ProofReady;
            if self.store.insert_submission(sequence, &calldata, &hash.to_string(), ready, None, block).await? {
                info!(sequence, proof_hash = %hash, calldata_bytes = calldata.len(), block, "final proof ready to submit");
            }
        }
        Ok(())
    }
}
