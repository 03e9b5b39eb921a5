//! Keeping the stake: the registry refuses commits from a prover below its
//! minimum stake, and slashes take from it. When ours is below the level to
//! keep (the configured one, or the registry's minimum if higher, and never
//! zero) a deposit tops it up; one deposit at a time.

use alloy::primitives::{Bytes, U256};
use alloy::sol_types::SolCall;
use anyhow::{Context, Result};
use tracing::{info, warn};
use zkpor_chain::registry::LiabilityRegistry;
use zkpor_sender::{Call, SendError, TxProgress};
use zkpor_store::{TxPurpose, TxRecord};

use crate::Manager;

/// The stake to keep: the configured level, at least the registry's minimum
/// and at least one wei (the registry wants a stake above zero).
pub fn stake_to_keep(configured: U256, minimum: U256) -> U256 {
    configured.max(minimum).max(U256::from(1))
}

impl Manager {
    pub(crate) async fn keep_stake(&self, pending: &[(TxRecord, TxProgress)]) -> Result<()> {
        let depositing = pending
            .iter()
            .any(|(record, progress)| record.tx.purpose == TxPurpose::Deposit && *progress == TxProgress::Pending);
        if depositing {
            return Ok(());
        }
        let contract = self.registry.contract();
        let account = self.transactor.account();
        let stake = contract.stakeOf(account).call().await.context("reading our stake")?;
        let minimum = contract.minStake().call().await.context("reading the minimum stake")?;
        let target = stake_to_keep(self.settings.stake, minimum);
        if stake >= target {
            return Ok(());
        }
        let call = Call {
            to: *contract.address(),
            input: Bytes::from(LiabilityRegistry::depositCall {}.abi_encode()),
            value: target - stake,
            purpose: TxPurpose::Deposit,
            sequence: None,
            round: None,
        };
        match self.transactor.send(&call).await {
            Ok(record) => info!(%stake, %target, nonce = record.tx.nonce, "depositing stake"),
            Err(SendError::WouldRevert { reason, .. }) => warn!(%stake, %target, %reason, "cannot deposit stake"),
            Err(SendError::Chain(error)) => return Err(error),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stake_kept_is_the_highest_of_configured_minimum_and_one_wei() {
        assert_eq!(stake_to_keep(U256::from(5), U256::from(3)), U256::from(5));
        assert_eq!(stake_to_keep(U256::from(2), U256::from(3)), U256::from(3));
        assert_eq!(stake_to_keep(U256::ZERO, U256::ZERO), U256::from(1));
    }
}
