//! Transactions done properly: simulated before they are paid for, gas
//! estimated with a margin, nonces handed out by us and recorded in the
//! database before anything is broadcast, stuck transactions re-broadcast or
//! replaced with higher fees (never above the cap), and outcomes taken only
//! at the configured confirmation depth.

use std::time::Duration;

use alloy::consensus::TxEnvelope;
use alloy::eips::BlockId;
use alloy::eips::eip2718::Decodable2718;
use alloy::eips::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolInterface;
use alloy::transports::{RpcError, TransportErrorKind};
use anyhow::{Context, anyhow};
use thiserror::Error;
use tokio::sync::Mutex;
use tracing::{info, warn};
use zkpor_chain::config::ChainConfig;
use zkpor_chain::registry::LiabilityRegistryErrors;
use zkpor_store::{NewTx, Store, TxAttempt, TxOutcome, TxPurpose, TxRecord, TxStatus, now_ms};

/// A contract call to send as a transaction.
#[derive(Clone, Debug)]
pub struct Call {
    /// The contract.
    pub to: Address,
    /// The calldata.
    pub input: Bytes,
    /// Wei sent along.
    pub value: U256,
    /// What it is for.
    pub purpose: TxPurpose,
    /// The sequence it is about.
    pub sequence: Option<u64>,
    /// The round it is for.
    pub round: Option<u32>,
}

impl Call {
    /// A call to the contract `to` about `sequence`, sending no value.
    pub fn about(to: Address, purpose: TxPurpose, sequence: u64, round: u32, input: Vec<u8>) -> Self {
        Call { to, input: Bytes::from(input), value: U256::ZERO, purpose, sequence: Some(sequence), round: Some(round) }
    }
}

/// Why a transaction was not sent.
#[derive(Debug, Error)]
pub enum SendError {
    /// The simulation reverted: sending it would pay for a revert.
    #[error("{purpose} would revert: {reason}")]
    WouldRevert {
        /// What it was for.
        purpose: TxPurpose,
        /// The decoded revert.
        reason: String,
    },
    /// The node could not be reached or answered with an error: try again.
    #[error(transparent)]
    Chain(#[from] anyhow::Error),
}

/// Where a recorded transaction stands after a look at the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxProgress {
    /// Not mined yet, or not deep enough.
    Pending,
    /// Final: mined (successfully or reverted) or dropped.
    Done(TxOutcome),
}

/// Fee and gas rules.
#[derive(Clone, Copy, Debug)]
pub struct TxPolicy {
    /// Blocks on top of the transaction's (itself included) before it is final.
    pub confirmations: u64,
    /// Gas limit margin over the estimate, in percent.
    pub gas_margin_percent: u64,
    /// Fee cap, wei per gas.
    pub max_fee_per_gas: u128,
    /// Replace a transaction not mined after this long.
    pub replace_after: Duration,
    /// Raise both fees by this percentage per replacement.
    pub fee_bump_percent: u64,
}

impl TxPolicy {
    /// Fees `(max fee, tip)` for a transaction, from the node's `estimate`:
    /// for a replacement of one signed with `previous` fees, at least
    /// `fee_bump_percent` above them (nodes refuse a smaller raise); never
    /// above the cap.
    pub fn fees(&self, estimate: (u128, u128), previous: Option<(u128, u128)>) -> (u128, u128) {
        let (mut max_fee, mut tip) = estimate;
        if let Some((old_fee, old_tip)) = previous {
            let bump = |value: u128| value + value * u128::from(self.fee_bump_percent) / 100 + 1;
            max_fee = max_fee.max(bump(old_fee));
            tip = tip.max(bump(old_tip));
        }
        let cap = self.max_fee_per_gas;
        (max_fee.min(cap), tip.min(max_fee).min(cap))
    }

    /// The rules of a `[chain]` section.
    pub fn of(config: &ChainConfig) -> Self {
        TxPolicy {
            confirmations: config.confirmations,
            gas_margin_percent: config.gas_margin_percent,
            max_fee_per_gas: config.max_fee_per_gas(),
            replace_after: Duration::from_secs(config.replace_after_secs),
            fee_bump_percent: config.fee_bump_percent,
        }
    }
}

/// Sends and follows one account's transactions.
pub struct Transactor {
    provider: DynProvider,
    wallet: EthereumWallet,
    account: Address,
    chain_id: u64,
    store: Store,
    policy: TxPolicy,
    sending: Mutex<()>,
}

impl Transactor {
    /// A transactor for `signer`'s account on `provider`'s chain.
    pub async fn new(
        provider: DynProvider,
        signer: PrivateKeySigner,
        store: Store,
        policy: TxPolicy,
    ) -> anyhow::Result<Self> {
        let chain_id = provider.get_chain_id().await.context("reading the chain id")?;
        let account = signer.address();
        Ok(Transactor {
            provider,
            wallet: EthereumWallet::from(signer),
            account,
            chain_id,
            store,
            policy,
            sending: Mutex::new(()),
        })
    }

    /// The sending account.
    pub fn account(&self) -> Address {
        self.account
    }

    /// The account as the store keys it.
    pub fn account_key(&self) -> String {
        self.account.to_string()
    }

    /// A request from our account to `to` with `input` and `value`.
    fn request_to(&self, to: Address, input: Bytes, value: U256) -> TransactionRequest {
        TransactionRequest::default().with_from(self.account).with_to(to).with_input(input).with_value(value)
    }

    fn request(&self, call: &Call) -> TransactionRequest {
        self.request_to(call.to, call.input.clone(), call.value)
    }

    /// Runs `call` as an `eth_call` from our account: what it returns, or
    /// why it would revert.
    pub async fn simulate(&self, call: &Call) -> Result<Bytes, SendError> {
        self.provider.call(self.request(call)).await.map_err(|error| predicted(call.purpose, error))
    }

    /// Simulates `call`, then signs it under the next nonce, records it and
    /// broadcasts it. A predicted revert is returned, never paid for.
    pub async fn send(&self, call: &Call) -> Result<TxRecord, SendError> {
        self.simulate(call).await?;
        self.send_simulated(call).await
    }

    /// [`send`](Self::send) for a call the caller has just simulated
    /// itself (to read what it returns): the gas estimate still reverts
    /// for a call that would.
    pub async fn send_simulated(&self, call: &Call) -> Result<TxRecord, SendError> {
        let estimate =
            self.provider.estimate_gas(self.request(call)).await.map_err(|error| predicted(call.purpose, error))?;
        let gas_limit = estimate + estimate * self.policy.gas_margin_percent / 100;
        let (max_fee, tip) = self.fees(None).await?;
        let _one_at_a_time = self.sending.lock().await;
        let account = self.account_key();
        let on_chain =
            self.provider.get_transaction_count(self.account).pending().await.context("reading the account's nonce")?;
        let recorded = self.store.next_recorded_nonce(&account).await.map_err(anyhow::Error::from)?;
        let nonce = on_chain.max(recorded.unwrap_or(0));
        let attempt = self.sign(self.request(call), nonce, gas_limit, (max_fee, tip), 1).await?;
        let tx = NewTx { account, nonce, purpose: call.purpose, sequence: call.sequence, round: call.round };
        if !self.store.record_transaction(&tx, &attempt).await.map_err(anyhow::Error::from)? {
            return Err(anyhow!("nonce {nonce} is already recorded for {}", tx.account).into());
        }
        info!(purpose = %call.purpose, sequence = ?call.sequence, nonce, hash = %attempt.hash, gas_limit, "sending");
        self.broadcast(&attempt).await;
        let record = self.store.transaction(&tx.account, nonce).await.map_err(anyhow::Error::from)?;
        Ok(record.context("a transaction just recorded is missing")?)
    }

    /// Fees for a new transaction, or for a replacement of one signed with
    /// `previous` fees: the node's estimate, at least `fee_bump_percent`
    /// over the previous, capped.
    async fn fees(&self, previous: Option<(u128, u128)>) -> anyhow::Result<(u128, u128)> {
        let estimate = self.provider.estimate_eip1559_fees().await.context("estimating fees")?;
        Ok(self.policy.fees((estimate.max_fee_per_gas, estimate.max_priority_fee_per_gas), previous))
    }

    /// Signs `request` as attempt `attempt` of nonce `nonce`, with `fees`
    /// (max fee, tip).
    async fn sign(
        &self,
        request: TransactionRequest,
        nonce: u64,
        gas_limit: u64,
        (max_fee, tip): (u128, u128),
        attempt: u32,
    ) -> anyhow::Result<TxAttempt> {
        let request = request
            .with_nonce(nonce)
            .with_chain_id(self.chain_id)
            .with_gas_limit(gas_limit)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(tip);
        let envelope: TxEnvelope = request.build(&self.wallet).await.context("signing a transaction")?;
        Ok(TxAttempt {
            attempt,
            hash: envelope.tx_hash().to_string(),
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: tip,
            gas_limit,
            raw: envelope.encoded_2718(),
            sent_ms: now_ms(),
        })
    }

    /// Broadcasts a signed attempt; a failure is logged, and the next look at
    /// the transaction broadcasts it again.
    async fn broadcast(&self, attempt: &TxAttempt) {
        if let Err(error) = self.provider.send_raw_transaction(&attempt.raw).await {
            let text = error.to_string();
            if !text.contains("already known") && !text.contains("AlreadyKnown") {
                warn!(hash = %attempt.hash, error = %text, "broadcast failed; will retry");
            }
        }
    }

    /// Looks at every pending transaction, the chain's head being `head`:
    /// records those final, re-broadcasts those the node lost, replaces those
    /// stuck too long. Lowest nonce first.
    pub async fn follow_pending(&self, head: u64) -> anyhow::Result<Vec<(TxRecord, TxProgress)>> {
        let pending = self.store.pending_transactions(&self.account_key()).await?;
        let mut seen = Vec::with_capacity(pending.len());
        for record in pending {
            let progress = self.follow(&record, head).await?;
            seen.push((record, progress));
        }
        Ok(seen)
    }

    async fn follow(&self, record: &TxRecord, head: u64) -> anyhow::Result<TxProgress> {
        if let Some(progress) = self.mined(record, head).await? {
            return Ok(progress);
        }
        let used = self.provider.get_transaction_count(self.account).await.context("reading the account's nonce")?;
        if used > record.tx.nonce {
            // Mined since we looked, or the nonce went to a transaction sent
            // from elsewhere: look once more before calling it dropped, and
            // only once the nonce was used a block before `head` (a node may
            // show a new block's nonces before its receipts).
            if let Some(progress) = self.mined(record, head).await? {
                return Ok(progress);
            }
            let before = BlockId::number(head.saturating_sub(1));
            let used_before = self
                .provider
                .get_transaction_count(self.account)
                .block_id(before)
                .await
                .context("reading the account's nonce")?;
            if used_before <= record.tx.nonce {
                return Ok(TxProgress::Pending);
            }
            let outcome = TxOutcome { status: TxStatus::Dropped, mined_hash: None, block: None, gas_used: None };
            warn!(nonce = record.tx.nonce, purpose = %record.tx.purpose, "nonce used by another transaction");
            self.store.finish_transaction(&record.tx.account, record.tx.nonce, &outcome).await?;
            return Ok(TxProgress::Done(outcome));
        }
        let latest = record.latest();
        let hash: B256 = latest.hash.parse().context("a recorded transaction hash")?;
        let age = Duration::from_millis((now_ms() - latest.sent_ms).max(0) as u64);
        if age >= self.policy.replace_after {
            self.replace(record).await?;
        } else if self.provider.get_transaction_by_hash(hash).await.context("looking up a transaction")?.is_none() {
            info!(nonce = record.tx.nonce, %hash, "transaction not in the node's pool: broadcasting it again");
            self.broadcast(latest).await;
        }
        Ok(TxProgress::Pending)
    }

    /// The outcome if an attempt is mined deep enough below `head`; `None`
    /// while none is mined.
    async fn mined(&self, record: &TxRecord, head: u64) -> anyhow::Result<Option<TxProgress>> {
        for attempt in record.attempts.iter().rev() {
            let hash: B256 = attempt.hash.parse().context("a recorded transaction hash")?;
            let Some(receipt) =
                self.provider.get_transaction_receipt(hash).await.context("reading a transaction receipt")?
            else {
                continue;
            };
            let Some(block) = receipt.block_number else { continue };
            if head + 1 < block + self.policy.confirmations {
                return Ok(Some(TxProgress::Pending));
            }
            let status = if receipt.status() { TxStatus::Mined } else { TxStatus::Reverted };
            let outcome = TxOutcome {
                status,
                mined_hash: Some(attempt.hash.clone()),
                block: Some(block),
                gas_used: Some(receipt.gas_used),
            };
            info!(nonce = record.tx.nonce, purpose = %record.tx.purpose, %status, block, gas = receipt.gas_used, "transaction final");
            self.store.finish_transaction(&record.tx.account, record.tx.nonce, &outcome).await?;
            return Ok(Some(TxProgress::Done(outcome)));
        }
        Ok(None)
    }

    /// Signs the transaction again under its nonce with higher fees, records
    /// it, broadcasts it. At the fee cap, broadcasts the latest again.
    async fn replace(&self, record: &TxRecord) -> anyhow::Result<()> {
        let latest = record.latest();
        let (max_fee, tip) = self.fees(Some((latest.max_fee_per_gas, latest.max_priority_fee_per_gas))).await?;
        if max_fee <= latest.max_fee_per_gas || tip <= latest.max_priority_fee_per_gas {
            warn!(nonce = record.tx.nonce, max_fee, "stuck at the fee cap: not replacing");
            self.broadcast(latest).await;
            return Ok(());
        }
        let envelope = alloy::consensus::TxEnvelope::decode_2718(&mut latest.raw.as_slice())
            .map_err(|e| anyhow!("a recorded transaction does not decode: {e}"))?;
        let alloy::consensus::TxEnvelope::Eip1559(signed) = envelope else {
            anyhow::bail!("a recorded transaction is not EIP-1559");
        };
        let tx = signed.tx();
        let to = tx.to.to().copied().context("a recorded transaction without a recipient")?;
        let request = self.request_to(to, tx.input.clone(), tx.value);
        let attempt = self.sign(request, tx.nonce, tx.gas_limit, (max_fee, tip), latest.attempt + 1).await?;
        self.store.record_attempt(&record.tx.account, record.tx.nonce, &attempt).await?;
        info!(nonce = record.tx.nonce, purpose = %record.tx.purpose, attempt = attempt.attempt, max_fee, tip, hash = %attempt.hash, "replacing a stuck transaction");
        self.broadcast(&attempt).await;
        Ok(())
    }
}

/// A failed simulation: a revert (decoded if it is the registry's) is
/// predicted; anything else is the chain's trouble.
fn predicted(purpose: TxPurpose, error: RpcError<TransportErrorKind>) -> SendError {
    match error.as_error_resp() {
        Some(payload) => {
            let reason = match payload.as_revert_data() {
                Some(data) => match LiabilityRegistryErrors::abi_decode(&data) {
                    Ok(decoded) => format!("{decoded:?}"),
                    Err(_) => format!("revert data {data}"),
                },
                None => payload.message.to_string(),
            };
            SendError::WouldRevert { purpose, reason }
        }
        None => SendError::Chain(anyhow::Error::new(error).context(format!("simulating {purpose}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GWEI: u128 = 1_000_000_000;

    fn policy() -> TxPolicy {
        TxPolicy {
            confirmations: 1,
            gas_margin_percent: 20,
            max_fee_per_gas: 100 * GWEI,
            replace_after: Duration::from_secs(60),
            fee_bump_percent: 15,
        }
    }

    #[test]
    fn a_new_transaction_pays_the_estimate_under_the_cap() {
        assert_eq!(policy().fees((30 * GWEI, 2 * GWEI), None), (30 * GWEI, 2 * GWEI));
        assert_eq!(policy().fees((300 * GWEI, 2 * GWEI), None), (100 * GWEI, 2 * GWEI), "capped");
    }

    #[test]
    fn a_replacement_raises_both_fees_by_the_bump_or_to_the_estimate() {
        // The estimate fell: the bump decides (nodes want both fees raised).
        let (fee, tip) = policy().fees((10 * GWEI, GWEI), Some((20 * GWEI, 2 * GWEI)));
        assert!(fee >= 23 * GWEI && tip >= 2 * GWEI + 3 * GWEI / 10, "{fee} {tip}");
        // The base fee spiked: the estimate decides.
        assert_eq!(policy().fees((80 * GWEI, 3 * GWEI), Some((20 * GWEI, 2 * GWEI))), (80 * GWEI, 3 * GWEI));
        // At the cap nothing rises any more: the caller keeps the old one.
        assert_eq!(policy().fees((10 * GWEI, GWEI), Some((100 * GWEI, 2 * GWEI))).0, 100 * GWEI);
    }

    #[test]
    fn the_tip_never_exceeds_the_fee_cap_of_the_transaction() {
        let (fee, tip) = policy().fees((5 * GWEI, 50 * GWEI), None);
        assert!(tip <= fee, "{fee} {tip}");
    }
}
