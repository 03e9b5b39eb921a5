//! The documented bounds every snapshot must respect.
//!
//! They come from the circuits: balances are range-checked below 2^48,
//! every node range-checks its per-asset totals below 2^60
//! (`zkpor_circuits::gadgets::totals::TOTAL_BITS`, checked equal in the
//! exchange's tests), and per-unit prices stay below 2^62 so that sums of
//! two of them never wrap the Goldilocks field (p ≈ 2^64 − 2^32).

/// Most fractional digits an asset may declare in `assets.csv`.
pub const MAX_DECIMALS: u32 = 18;

/// Largest absolute balance of one account in one asset, in the asset's
/// smallest units (2^48 − 1).
pub const MAX_BALANCE_UNITS: u64 = (1 << 48) - 1;

/// Largest per-asset equity total and debt total, in smallest units (2^60 − 1).
pub const MAX_TOTAL_UNITS: u64 = (1 << 60) - 1;

/// Largest price of one smallest unit at the snapshot's common price scale
/// (2^62 − 1). See [`crate::Snapshot::price_scale`].
pub const MAX_UNIT_PRICE: u64 = (1 << 62) - 1;

/// Most fractional digits a `price_usd` may carry (after trailing zeros are
/// dropped).
pub const MAX_PRICE_FRACTION_DIGITS: u32 = 18;

/// Longest user id, in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// Most errors a failed validation reports; the rest are only counted.
pub const MAX_REPORTED_ERRORS: usize = 100;

/// Longest asset symbol in `assets.csv`, in bytes.
pub const MAX_SYMBOL_BYTES: usize = 32;
