//! Helpers shared by the circuit tests.

/// What plonky2 reports when a witness generator cannot complete its part of
/// the witness, e.g. a limb outside a lookup table or a negative carry chain:
/// the instance has no witness, so no proof can be made.
pub const WITNESS_FAILURE: &str = "generators weren't run";

/// What plonky2 reports when two copy-constrained wires get different
/// values, e.g. a sum whose bit decomposition does not recompose to it.
pub const COPY_CONFLICT: &str = "set twice with different values";
