//! plonky2 configurations of each proof layer, and the security they give.
//!
//! Conjectured FRI security is `rate_bits · queries + proof_of_work_bits`; every
//! layer targets at least 100 bits.

use plonky2::fri::FriConfig;
use plonky2::fri::reduction_strategies::FriReductionStrategy;
use plonky2::plonk::circuit_data::CircuitConfig;

/// Aggregation proofs: plonky2's standard recursion configuration (rate 1/8,
/// 28 queries, 16 bits of grinding).
pub fn recursion() -> CircuitConfig {
    CircuitConfig::standard_recursion_config()
}

/// Batch proofs: the recursion configuration with every wire routed, so an
/// arithmetic row holds 33 operations and a lookup row 67 lookups instead of
/// 20 and 40. The batch circuit is mostly such rows.
pub fn batch() -> CircuitConfig {
    let standard = CircuitConfig::standard_recursion_config();
    CircuitConfig { num_routed_wires: standard.num_wires, ..standard }
}

/// The statement proof, which the final circuit verifies: rate 1/16 with 21
/// queries makes it cheaper to verify, so the final circuit stays at 2^12
/// rows and its proof small.
pub fn statement() -> CircuitConfig {
    with_fri(FriConfig {
        rate_bits: 4,
        cap_height: 4,
        proof_of_work_bits: 16,
        reduction_strategy: FriReductionStrategy::ConstantArityBits(4, 5),
        num_query_rounds: 21,
    })
}

/// The final proof, checked on the EVM: rate 1/256 and 10 queries plus 20 bits
/// of grinding (100 bits). Each query is about 5.9 KB of calldata and 77k gas
/// of verification; 20 bits of grinding cost the prover about a second.
pub fn final_wrap() -> CircuitConfig {
    with_fri(FriConfig {
        rate_bits: 8,
        cap_height: 4,
        proof_of_work_bits: 20,
        reduction_strategy: FriReductionStrategy::ConstantArityBits(4, 5),
        num_query_rounds: 10,
    })
}

fn with_fri(fri_config: FriConfig) -> CircuitConfig {
    CircuitConfig { fri_config, ..CircuitConfig::standard_recursion_config() }
}

/// `rate_bits · queries + proof_of_work_bits`.
pub fn conjectured_security_bits(config: &CircuitConfig) -> usize {
    let fri = &config.fri_config;
    fri.rate_bits * fri.num_query_rounds + fri.proof_of_work_bits as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_has_at_least_100_bits() {
        for config in [batch(), recursion(), statement(), final_wrap()] {
            assert!(conjectured_security_bits(&config) >= 100, "{:?}", config.fri_config);
        }
    }
}
