//! Re-encodes a final proof into the calldata layout of [`crate::layout`],
//! and decodes such calldata back into a plonky2 proof.
//!
//! The encoding is strict: every field element is canonical and every
//! digest's padding is zero, so a byte string decodes to at most one proof
//! and the contract rejects any byte string that does not decode.

use anyhow::{Result, bail, ensure};
use plonky2::field::extension::{Extendable, FieldExtension};
use plonky2::field::polynomial::PolynomialCoeffs;
use plonky2::field::types::{Field, Field64, PrimeField64};
use plonky2::fri::proof::{FriInitialTreeProof, FriProof, FriQueryRound, FriQueryStep};
use plonky2::hash::hash_types::BytesHash;
use plonky2::hash::merkle_proofs::MerkleProof;
use plonky2::hash::merkle_tree::MerkleCap;
use plonky2::plonk::config::{GenericConfig, Hasher};
use plonky2::plonk::proof::{OpeningSet, Proof, ProofWithPublicInputs};
use zkpor_circuits::final_wrap::FinalProof;
use zkpor_circuits::{D, F, FinalConfig};

use crate::generate::HASH_BYTES;
use crate::layout::{DIGEST_WORD, FIELD_BYTES, ProofLayout};

type Ext = <F as Extendable<D>>::Extension;
type KeccakHasher = <FinalConfig as GenericConfig<D>>::Hasher;
type Digest = <KeccakHasher as Hasher<F>>::Hash;
type Cap = MerkleCap<F, KeccakHasher>;
type Path = MerkleProof<F, KeccakHasher>;

/// The calldata of `proof` for the contract generated for its circuit.
pub fn encode(proof: &FinalProof, layout: &ProofLayout) -> Result<Vec<u8>> {
    let proof = &proof.proof;
    let mut out = Writer(Vec::with_capacity(layout.total));
    out.cap(&proof.wires_cap, layout)?;
    out.cap(&proof.plonk_zs_partial_products_cap, layout)?;
    out.cap(&proof.quotient_polys_cap, layout)?;

    let openings = &proof.openings;
    ensure!(openings.lookup_zs.is_empty() && openings.lookup_zs_next.is_empty(), "proof with lookups");
    for (values, &count) in opening_groups(openings).into_iter().zip(&layout.opening_groups) {
        ensure!(values.len() == count, "{} openings in a group of {count}", values.len());
        out.exts(values);
    }
    ensure!(out.0.len() == layout.commit_caps, "openings do not match the circuit");

    let fri = &proof.opening_proof;
    ensure!(fri.commit_phase_merkle_caps.len() == layout.arity_bits.len(), "wrong number of FRI layers");
    for cap in &fri.commit_phase_merkle_caps {
        out.cap(cap, layout)?;
    }
    ensure!(fri.query_round_proofs.len() == layout.queries, "wrong number of query rounds");
    for round in &fri.query_round_proofs {
        let start = out.0.len();
        ensure!(round.initial_trees_proof.evals_proofs.len() == 4, "wrong number of initial oracles");
        for ((values, path), size) in round.initial_trees_proof.evals_proofs.iter().zip(layout.oracle_sizes) {
            ensure!(values.len() == size, "initial leaf of {} values, expected {size}", values.len());
            for value in values {
                out.field(*value);
            }
            out.path(path, layout.initial_path_len)?;
        }
        ensure!(round.steps.len() == layout.arity_bits.len(), "wrong number of query steps");
        for ((step, bits), path_len) in round.steps.iter().zip(&layout.arity_bits).zip(&layout.layer_path_lens) {
            ensure!(step.evals.len() == 1 << bits, "step of {} evaluations", step.evals.len());
            out.exts(&step.evals);
            out.path(&step.merkle_proof, *path_len)?;
        }
        ensure!(out.0.len() - start == layout.query_size, "query round size");
    }
    ensure!(fri.final_poly.coeffs.len() == layout.final_poly_len, "final polynomial length");
    out.exts(&fri.final_poly.coeffs);
    out.field(fri.pow_witness);
    ensure!(out.0.len() == layout.total, "encoded {} bytes, layout says {}", out.0.len(), layout.total);
    Ok(out.0)
}

/// The proof encoded in `calldata`, with `public_inputs`; fails on a wrong
/// length, a non-canonical field element or a digest with non-zero padding,
/// naming the byte offset.
pub fn decode(calldata: &[u8], public_inputs: &[u64], layout: &ProofLayout) -> Result<FinalProof> {
    ensure!(calldata.len() == layout.total, "a proof is {} bytes, found {}", layout.total, calldata.len());
    let mut input = Reader { bytes: calldata, at: 0 };
    let wires_cap = input.cap(layout)?;
    let plonk_zs_partial_products_cap = input.cap(layout)?;
    let quotient_polys_cap = input.cap(layout)?;
    let mut groups = Vec::with_capacity(layout.opening_groups.len());
    for &count in &layout.opening_groups {
        groups.push(input.exts(count)?);
    }
    let [constants, plonk_sigmas, wires, plonk_zs, partial_products, quotient_polys, plonk_zs_next]: [Vec<Ext>; 7] =
        groups.try_into().expect("seven groups");
    let openings = OpeningSet {
        constants,
        plonk_sigmas,
        wires,
        plonk_zs,
        plonk_zs_next,
        partial_products,
        quotient_polys,
        lookup_zs: Vec::new(),
        lookup_zs_next: Vec::new(),
    };
    let commit_phase_merkle_caps = (0..layout.arity_bits.len()).map(|_| input.cap(layout)).collect::<Result<_>>()?;
    let mut query_round_proofs = Vec::with_capacity(layout.queries);
    for _ in 0..layout.queries {
        let mut evals_proofs = Vec::with_capacity(4);
        for size in layout.oracle_sizes {
            let values = (0..size).map(|_| input.field()).collect::<Result<Vec<F>>>()?;
            evals_proofs.push((values, input.path(layout.initial_path_len)?));
        }
        let mut steps = Vec::with_capacity(layout.arity_bits.len());
        for (bits, &path_len) in layout.arity_bits.iter().zip(&layout.layer_path_lens) {
            let evals = input.exts(1 << bits)?;
            steps.push(FriQueryStep { evals, merkle_proof: input.path(path_len)? });
        }
        query_round_proofs.push(FriQueryRound { initial_trees_proof: FriInitialTreeProof { evals_proofs }, steps });
    }
    let final_poly = PolynomialCoeffs::new(input.exts(layout.final_poly_len)?);
    let pow_witness = input.field()?;
    let public_inputs = public_inputs
        .iter()
        .map(|&v| {
            ensure!(v < F::ORDER, "public input {v} is not a canonical field element");
            Ok(F::from_canonical_u64(v))
        })
        .collect::<Result<_>>()?;
    Ok(ProofWithPublicInputs {
        proof: Proof {
            wires_cap,
            plonk_zs_partial_products_cap,
            quotient_polys_cap,
            openings,
            opening_proof: FriProof { commit_phase_merkle_caps, query_round_proofs, final_poly, pow_witness },
        },
        public_inputs,
    })
}

/// The opening groups of a proof, in calldata order.
fn opening_groups(openings: &OpeningSet<F, D>) -> [&Vec<Ext>; 7] {
    [
        &openings.constants,
        &openings.plonk_sigmas,
        &openings.wires,
        &openings.plonk_zs,
        &openings.partial_products,
        &openings.quotient_polys,
        &openings.plonk_zs_next,
    ]
}

struct Writer(Vec<u8>);

impl Writer {
    fn field(&mut self, value: F) {
        self.0.extend_from_slice(&value.to_canonical_u64().to_be_bytes());
    }

    fn exts(&mut self, values: &[Ext]) {
        for value in values {
            for part in FieldExtension::<D>::to_basefield_array(value) {
                self.field(part);
            }
        }
    }

    fn digest(&mut self, digest: &Digest) {
        let BytesHash(bytes) = digest;
        self.0.extend_from_slice(&bytes[..]);
        self.0.extend(std::iter::repeat_n(0u8, DIGEST_WORD - HASH_BYTES));
    }

    fn cap(&mut self, cap: &Cap, layout: &ProofLayout) -> Result<()> {
        ensure!(cap.0.len() == layout.cap_len, "cap of {} digests, expected {}", cap.0.len(), layout.cap_len);
        cap.0.iter().for_each(|digest| self.digest(digest));
        Ok(())
    }

    fn path(&mut self, path: &Path, len: usize) -> Result<()> {
        ensure!(path.siblings.len() == len, "Merkle path of {} siblings, expected {len}", path.siblings.len());
        path.siblings.iter().for_each(|digest| self.digest(digest));
        Ok(())
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, len: usize) -> &[u8] {
        let out = &self.bytes[self.at..self.at + len];
        self.at += len;
        out
    }

    fn field(&mut self) -> Result<F> {
        let at = self.at;
        let value = u64::from_be_bytes(self.take(FIELD_BYTES).try_into().expect("8 bytes"));
        if value >= F::ORDER {
            bail!("the field element at byte {at} is not canonical");
        }
        Ok(F::from_canonical_u64(value))
    }

    fn exts(&mut self, count: usize) -> Result<Vec<Ext>> {
        (0..count).map(|_| Ok(Ext::from_basefield_array([self.field()?, self.field()?]))).collect()
    }

    fn digest(&mut self) -> Result<Digest> {
        let at = self.at;
        let word = self.take(DIGEST_WORD);
        if word[HASH_BYTES..].iter().any(|&b| b != 0) {
            bail!("the digest at byte {at} has non-zero padding");
        }
        Ok(BytesHash(word[..HASH_BYTES].try_into().expect("digest bytes")))
    }

    fn cap(&mut self, layout: &ProofLayout) -> Result<Cap> {
        Ok(MerkleCap((0..layout.cap_len).map(|_| self.digest()).collect::<Result<_>>()?))
    }

    fn path(&mut self, len: usize) -> Result<Path> {
        Ok(MerkleProof { siblings: (0..len).map(|_| self.digest()).collect::<Result<_>>()? })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use plonky2::field::types::Sample;
    use zkpor_circuits::encoding::Address;
    use zkpor_circuits::stored::CircuitDirectory;
    use zkpor_circuits::{Family, FamilyCircuits};

    use super::*;
    use crate::fixtures::{prove_accounts, sample_accounts};

    /// A real proof of the tiny family.
    fn tiny() -> &'static (FinalProof, ProofLayout) {
        static TINY: OnceLock<(FinalProof, ProofLayout)> = OnceLock::new();
        TINY.get_or_init(|| {
            let files = CircuitDirectory::at_default_location().map(|directory| directory.family(&Family::tiny()));
            let (circuits, _) = FamilyCircuits::load_or_build(&Family::tiny(), files.as_ref(), |_| {}).unwrap();
            let sample =
                prove_accounts(&circuits, &[3, 20], &sample_accounts(2, 3, 1), 7, Address([9; 20]), 1).unwrap();
            let layout = ProofLayout::new(&circuits.final_wrap().unwrap().data().common).unwrap();
            (sample.proof, layout)
        })
    }

    fn inputs(proof: &FinalProof) -> Vec<u64> {
        proof.public_inputs.iter().map(|f| f.to_canonical_u64()).collect()
    }

    #[test]
    fn decode_inverts_encode() {
        let (proof, layout) = tiny();
        let calldata = encode(proof, layout).unwrap();
        assert_eq!(calldata.len(), layout.total);
        let decoded = decode(&calldata, &inputs(proof), layout).unwrap();
        assert_eq!(&decoded, proof);
    }

    #[test]
    fn decode_names_bad_bytes() {
        let (proof, layout) = tiny();
        let calldata = encode(proof, layout).unwrap();

        let err = decode(&calldata[1..], &inputs(proof), layout).unwrap_err();
        assert!(err.to_string().contains(&format!("a proof is {} bytes, found {}", layout.total, layout.total - 1)));

        let mut padded = calldata.clone();
        padded[layout.zs_cap + HASH_BYTES] = 1;
        let err = decode(&padded, &inputs(proof), layout).unwrap_err();
        assert_eq!(err.to_string(), format!("the digest at byte {} has non-zero padding", layout.zs_cap));

        let mut big = calldata.clone();
        big[layout.pow_witness..].copy_from_slice(&u64::MAX.to_be_bytes());
        let err = decode(&big, &inputs(proof), layout).unwrap_err();
        assert_eq!(err.to_string(), format!("the field element at byte {} is not canonical", layout.pow_witness));

        let mut pis = inputs(proof);
        pis[3] = F::ORDER;
        assert!(decode(&calldata, &pis, layout).unwrap_err().to_string().contains("not a canonical field element"));
    }

    #[test]
    fn encode_refuses_a_proof_of_another_shape() {
        let (proof, layout) = tiny();
        let mut other = proof.clone();
        other.proof.opening_proof.final_poly.coeffs.push(Ext::rand());
        assert!(encode(&other, layout).unwrap_err().to_string().contains("final polynomial length"));
    }
}
