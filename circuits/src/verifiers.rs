//! What checking a family's proofs takes, without what proving them takes:
//! the verifier data of every circuit a task is proven on (the tiers' batch
//! circuits, the three node circuits, the final circuit) and the family's
//! digest. An agent holds these; prover workers hold the whole
//! [`FamilyCircuits`], whose prover data (every circuit's committed
//! constants, its generators) is most of the family's memory.

use anyhow::{Context, Result, anyhow, ensure};
use plonky2::plonk::circuit_data::VerifierCircuitData;
use plonky2::util::serialization::{Buffer, DefaultGateSerializer, IoError, IoResult, Read, Remaining, Write};
use tracing::warn;

use crate::aggregation::NodeKind;
use crate::circuits::{BuildStep, FamilyCircuits, FamilyDigest, Provenance};
use crate::family::Family;
use crate::final_wrap::FinalProof;
use crate::stored::{self, FamilyFiles, Manifest, file_name};
use crate::{C, D, F, FinalConfig};

/// The verifier data of one node circuit, with the public inputs an honest
/// proof of it ends with ([`NodeKind::honest_tail`]).
pub struct NodeVerifier {
    /// The node's verifier data.
    pub data: VerifierCircuitData<F, C, D>,
    /// The last public inputs of every honest proof of this node.
    pub honest_tail: Vec<F>,
}

impl NodeVerifier {
    fn new(kind: NodeKind, data: VerifierCircuitData<F, C, D>) -> Self {
        NodeVerifier { honest_tail: kind.honest_tail(&data.verifier_only), data }
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
        let [a, b, c] =
            NODE_KINDS.map(|kind| circuits.node(kind).map(|node| NodeVerifier::new(kind, node.data().verifier_data())));
        Ok(FamilyVerifiers {
            family: family.clone(),
            tiers,
            nodes: [a?, b?, c?],
            final_wrap: circuits.final_wrap()?.verifier_data(),
            digest: circuits.digest()?,
        })
    }

    /// The verifier data of `family`'s circuits: read from the verifier data
    /// file of `files` where a complete earlier build of this source wrote
    /// it (its SHA-256 and every circuit's digest in it checked against the
    /// manifest), else taken from [`FamilyCircuits::load_or_build`], which
    /// reads or builds the circuits and writes them and the verifier data
    /// file there. `on_step` is called before each circuit is read or built.
    pub fn load_or_build(
        family: &Family,
        files: Option<&FamilyFiles>,
        on_step: impl FnMut(BuildStep),
    ) -> Result<(Self, Provenance)> {
        if let Some(files) = files {
            if let Some(verifiers) = Self::read_logged(family, files) {
                return Ok(verifiers);
            }
            // No complete build yet: another process may be building one.
            let waited = files.lock_for_build();
            if let Some(verifiers) = waited.is_ok().then(|| Self::read_logged(family, files)).flatten() {
                return Ok(verifiers);
            }
        }
        let (circuits, provenance) = FamilyCircuits::load_or_build(family, files, on_step)?;
        Ok((Self::of(&circuits)?, provenance))
    }

    /// [`Self::read`], what it read, and a warning where it failed.
    fn read_logged(family: &Family, files: &FamilyFiles) -> Option<(Self, Provenance)> {
        match Self::read(family, files) {
            Ok(Some(verifiers)) => {
                let read = verifiers.circuit_digests().into_iter().map(|(step, _)| step).collect();
                Some((verifiers, Provenance { read, built: Vec::new() }))
            }
            Ok(None) => None,
            Err(err) => {
                warn!(error = %format!("{err:#}"), "reading the verifier data; reading or building the circuits");
                None
            }
        }
    }

    /// The verifier data in `files`, or `None` where they hold no complete
    /// build of `family`.
    fn read(family: &Family, files: &FamilyFiles) -> Result<Option<Self>> {
        let Some(manifest) = files.manifest()? else { return Ok(None) };
        let bytes = files.load_verifiers(&manifest)?;
        let verifiers = Self::from_bytes(family, &bytes)
            .map_err(|_| anyhow!("the verifier data in {} is not readable", files.dir().display()))?;
        verifiers.check_against(&manifest)?;
        Ok(Some(verifiers))
    }

    /// What the verifier data file holds: the tier count, then the verifier
    /// data of each tier's circuit, of the three nodes and of the final
    /// circuit.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let written = (|| {
            out.write_usize(self.tiers.len())?;
            for data in self.tiers.iter().chain(self.nodes.iter().map(|node| &node.data)) {
                out.write_verifier_circuit_data(data, &DefaultGateSerializer)?;
            }
            out.write_verifier_circuit_data(&self.final_wrap, &DefaultGateSerializer)
        })();
        written.expect("writing to memory");
        out
    }

    /// Reads what [`Self::to_bytes`] wrote, for `family`.
    fn from_bytes(family: &Family, bytes: &[u8]) -> IoResult<Self> {
        let mut src = Buffer::new(bytes);
        let count = src.read_usize()?;
        if count != family.tiers().tiers().len() {
            return Err(IoError);
        }
        let tiers =
            (0..count).map(|_| src.read_verifier_circuit_data(&DefaultGateSerializer)).collect::<IoResult<_>>()?;
        let mut nodes = Vec::new();
        for kind in NODE_KINDS {
            nodes.push(NodeVerifier::new(kind, src.read_verifier_circuit_data(&DefaultGateSerializer)?));
        }
        let final_wrap: VerifierCircuitData<F, FinalConfig, D> =
            src.read_verifier_circuit_data(&DefaultGateSerializer)?;
        if src.remaining() != 0 {
            return Err(IoError);
        }
        Ok(FamilyVerifiers {
            family: family.clone(),
            tiers,
            nodes: nodes.try_into().unwrap_or_else(|_| unreachable!("one per node kind")),
            digest: FamilyDigest::of(&final_wrap.verifier_only),
            final_wrap,
        })
    }

    /// The digest of each circuit whose verifier data this holds.
    fn circuit_digests(&self) -> Vec<(BuildStep, String)> {
        let tiers = self.tiers.iter().enumerate().map(|(index, data)| (BuildStep::Tier(index), &data.verifier_only));
        let nodes =
            NODE_KINDS.iter().zip(&self.nodes).map(|(kind, node)| (BuildStep::Node(*kind), &node.data.verifier_only));
        let mut digests: Vec<_> = tiers.chain(nodes).map(|(step, data)| (step, stored::digest_of(data))).collect();
        digests.push((BuildStep::Final, stored::digest_of(&self.final_wrap.verifier_only)));
        digests
    }

    /// Fails unless every circuit's digest, and the family's, are the ones
    /// `manifest` records.
    fn check_against(&self, manifest: &Manifest) -> Result<()> {
        for (step, digest) in self.circuit_digests() {
            let recorded = manifest.circuits.get(&file_name(step));
            ensure!(
                recorded == Some(&digest),
                "the verifier data holds a {step} of digest {digest}, the manifest records {}",
                recorded.map_or("none", String::as_str)
            );
        }
        ensure!(
            self.digest.to_string() == manifest.digest,
            "the verifier data is of family digest {}, the manifest records {}",
            self.digest,
            manifest.digest
        );
        Ok(())
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
