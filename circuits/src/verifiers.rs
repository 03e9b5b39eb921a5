//! What checking a family's proofs takes, without what proving them takes:
//! the verifier data of every circuit a task is proven on (the tiers' batch
//! circuits, the three node circuits, the final circuit) and the family's
//! digest. An agent holds these; prover workers hold the whole
//! [`FamilyCircuits`], whose prover data (every circuit's committed
//! constants, its generators) is most of the family's memory.

use anyhow::{Context, Result, anyhow};
use plonky2::plonk::circuit_data::VerifierCircuitData;
use tracing::warn;

use crate::aggregation::{NodeCircuit, NodeKind};
use crate::batch::TierBatchCircuit;
use crate::circuits::{BuildStep, FamilyCircuits, FamilyDigest, Provenance};
use crate::family::Family;
use crate::final_wrap::{FinalCircuit, FinalProof};
use crate::stored::{FamilyFiles, Manifest, StoredCircuit, file_name};
use crate::{C, D, F, FinalConfig};

/// The verifier data of one node circuit, with the public inputs an honest
/// proof of it ends with ([`NodeCircuit::honest_tail`]).
pub struct NodeVerifier {
    /// The node's verifier data.
    pub data: VerifierCircuitData<F, C, D>,
    /// The last public inputs of every honest proof of this node.
    pub honest_tail: Vec<F>,
}

impl NodeVerifier {
    fn of(node: &NodeCircuit) -> Self {
        NodeVerifier { data: node.data().verifier_data(), honest_tail: node.honest_tail() }
    }
}

/// The verifier data of a family's circuits.
pub struct FamilyVerifiers {
    family: Family,
    tiers: Vec<VerifierCircuitData<F, C, D>>,
    /// By [`NodeKind`]: over batches, over nodes, top.
    nodes: [NodeVerifier; 3],
    final_wrap: VerifierCircuitData<F, FinalConfig, D>,
    digest: FamilyDigest,
}

const NODE_KINDS: [NodeKind; 3] = [NodeKind::OverBatches, NodeKind::OverNodes, NodeKind::Top];

impl FamilyVerifiers {
    /// The verifier data of `circuits`, once they are all built.
    pub fn of(circuits: &FamilyCircuits) -> Result<Self> {
        let family = circuits.family();
        let tiers = (0..family.tiers().tiers().len())
            .map(|index| circuits.tier(index).map(|tier| tier.data().verifier_data()))
            .collect::<Result<_>>()?;
        let [a, b, c] = NODE_KINDS.map(|kind| circuits.node(kind).map(NodeVerifier::of));
        Ok(FamilyVerifiers {
            family: family.clone(),
            tiers,
            nodes: [a?, b?, c?],
            final_wrap: circuits.final_wrap()?.verifier_data(),
            digest: circuits.digest()?,
        })
    }

    /// The verifier data of `family`'s circuits: read one circuit at a time
    /// from `files` where a complete earlier build of this source wrote
    /// them (each checked against the manifest's digest, its prover data
    /// dropped once read), else taken from [`FamilyCircuits::load_or_build`],
    /// which builds what is missing and writes it there. `on_step` is
    /// called before each circuit is read or built.
    pub fn load_or_build(
        family: &Family,
        files: Option<&FamilyFiles>,
        mut on_step: impl FnMut(BuildStep),
    ) -> Result<(Self, Provenance)> {
        if let Some(files) = files {
            match Self::read(family, files, &mut on_step) {
                Ok(Some(read)) => return Ok(read),
                Ok(None) => {}
                Err(err) => warn!(error = %format!("{err:#}"), "reading the verifier data; building the circuits"),
            }
        }
        let (circuits, provenance) = FamilyCircuits::load_or_build(family, files, on_step)?;
        Ok((Self::of(&circuits)?, provenance))
    }

    /// The verifier data in `files`, or `None` where they hold no complete
    /// build of `family`.
    fn read(
        family: &Family,
        files: &FamilyFiles,
        on_step: &mut impl FnMut(BuildStep),
    ) -> Result<Option<(Self, Provenance)>> {
        let Some(manifest) = files.manifest()? else { return Ok(None) };
        let mut read = Vec::new();
        let mut tiers = Vec::new();
        for index in 0..family.tiers().tiers().len() {
            let Some(tier) = load::<TierBatchCircuit>(files, &manifest, BuildStep::Tier(index), &mut read, on_step)?
            else {
                return Ok(None);
            };
            tiers.push(tier.data().verifier_data());
        }
        let mut nodes = Vec::new();
        for kind in NODE_KINDS {
            let Some(node) = load::<NodeCircuit>(files, &manifest, BuildStep::Node(kind), &mut read, on_step)? else {
                return Ok(None);
            };
            nodes.push(NodeVerifier::of(&node));
        }
        let Some(final_wrap) = load::<FinalCircuit>(files, &manifest, BuildStep::Final, &mut read, on_step)? else {
            return Ok(None);
        };
        let digest = FamilyDigest::of(&final_wrap);
        if digest.to_string() != manifest.digest {
            return Err(anyhow!("the final circuit's digest {digest} is not the manifest's {}", manifest.digest));
        }
        let nodes = nodes.try_into().unwrap_or_else(|_| unreachable!("one per node kind"));
        let verifiers =
            FamilyVerifiers { family: family.clone(), tiers, nodes, final_wrap: final_wrap.verifier_data(), digest };
        Ok(Some((verifiers, Provenance { read, built: Vec::new() })))
    }

    /// The family.
    pub fn family(&self) -> &Family {
        &self.family
    }

    /// The verifier data of tier `index`'s batch circuit.
    pub fn tier(&self, index: usize) -> Result<&VerifierCircuitData<F, C, D>> {
        self.tiers.get(index).with_context(|| format!("tier {index} is past the family's tiers"))
    }

    /// The node circuit of `kind`.
    pub fn node(&self, kind: NodeKind) -> &NodeVerifier {
        &self.nodes[NODE_KINDS.iter().position(|k| *k == kind).expect("every node kind is listed")]
    }

    /// The final circuit's verifier data: what the on-chain verifier is
    /// generated from.
    pub fn final_wrap(&self) -> &VerifierCircuitData<F, FinalConfig, D> {
        &self.final_wrap
    }

    /// Parses a serialized final proof.
    pub fn final_proof(&self, bytes: Vec<u8>) -> Result<FinalProof> {
        FinalProof::from_bytes(bytes, &self.final_wrap.common).context("the final proof is malformed")
    }

    /// The family's digest.
    pub fn digest(&self) -> FamilyDigest {
        self.digest
    }
}

/// The circuit of `step` read from `files`, checked against the digest
/// `manifest` records for it (`None` where it records none), and noted in
/// `read`; `on_step` is called first.
fn load<T: StoredCircuit>(
    files: &FamilyFiles,
    manifest: &Manifest,
    step: BuildStep,
    read: &mut Vec<BuildStep>,
    on_step: &mut impl FnMut(BuildStep),
) -> Result<Option<T>> {
    let Some(expected) = manifest.circuits.get(&file_name(step)) else { return Ok(None) };
    on_step(step);
    let circuit = files.load::<T>(step, expected)?;
    read.push(step);
    Ok(Some(circuit))
}
