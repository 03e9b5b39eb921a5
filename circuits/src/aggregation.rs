//! The aggregation nodes above the batches: three circuits that, together,
//! take a tree of any size.
//!
//! - A node **over batches** verifies up to `K` batch proofs, each against
//!   the pinned verifier data of the tier it names.
//! - A node **over nodes** verifies up to `K` proofs of nodes: each against
//!   the pinned verifier data of the node over batches, or against its own
//!   (cyclic recursion). The two node circuits share one set of common data
//!   (rows, gates, public inputs), so a proof of either can stand in a slot.
//! - The **top** node verifies up to `K` proofs of either node circuit and is
//!   what the statement circuit verifies.
//!
//! A node's slots are left-packed: slot 0 always holds a child, and a slot
//! holds one only if the slot before it does. A slot without a child still
//! verifies a proof (the prover repeats the first child's), but counts for
//! nothing: its root is the empty root, its users and totals are masked to
//! zero. The slots' roots are hashed as a binary tree over `K` rounded up to
//! a power of two, the hash slots past `K` holding the empty root. Every
//! present child must carry the first child's prices commitment; each total
//! is the masked sum of the children's, range-checked below 2^60
//! ([`crate::gadgets::totals`]); user counts are masked sums (each is at most
//! its subtree's users, so the sum cannot wrap).
//!
//! **Cyclic soundness.** A proof of the node over nodes carries, after its
//! [`NodeInputs`], the verifier data it checked its own kind of children
//! against. It verifies a child named a node over nodes against that verifier
//! data and requires the child to carry the same; the top node (and, for a
//! child, every node over nodes) requires it to be the real circuit's. So
//! every node over nodes below the top was checked against the real
//! circuit, by induction from the top.

use anyhow::{Context, Result, bail, ensure};
use plonky2::field::types::Field;
use plonky2::gates::noop::NoopGate;
use plonky2::hash::hash_types::HashOutTarget;
use plonky2::iop::target::{BoolTarget, Target};
use plonky2::iop::witness::{PartialWitness, WitnessWrite};
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::{CircuitData, CommonCircuitData, VerifierCircuitTarget, VerifierOnlyCircuitData};
use plonky2::plonk::proof::ProofWithPublicInputsTarget;
use plonky2::plonk::prover::prove;
use plonky2::util::serialization::{Buffer, IoError, IoResult, Read, Write};
use plonky2::util::timing::TimingTree;
use tracing::info_span;

use crate::gadgets::merkle::padded_merkle_root;
use crate::gadgets::totals::{MAX_TERMS, masked_total};
use crate::hash::empty_root;
use crate::node::{NodeInputs, NodeProof};
use crate::stored::{self, StoredCircuit};
use crate::{C, D, F, Hash, config};

/// Most children of one node: the masked totals of more would wrap.
pub const MAX_CHILDREN: usize = MAX_TERMS;

/// Public inputs a proof of a node below the top carries after its
/// [`NodeInputs`]: a circuit digest and a Merkle cap of 16 hashes.
pub const VERIFIER_DATA_INPUTS: usize = 4 + 4 * 16;

/// Which of the three node circuits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// Verifies batch proofs of any tier.
    OverBatches,
    /// Verifies proofs of either node circuit below the top.
    OverNodes,
    /// Verifies proofs of either node circuit; the statement verifies it.
    Top,
}

impl NodeKind {
    /// The public inputs an honest proof of the node circuit of this kind,
    /// whose verifier data is `own`, carries after its [`NodeInputs`]: zeros
    /// for a node over batches, its own verifier data for a node over
    /// nodes, nothing for the top.
    pub fn honest_tail(self, own: &VerifierOnlyCircuitData<C, D>) -> Vec<F> {
        match self {
            NodeKind::OverBatches => vec![F::ZERO; VERIFIER_DATA_INPUTS],
            NodeKind::OverNodes => {
                let mut out = own.circuit_digest.elements.to_vec();
                out.extend(own.constants_sigmas_cap.0.iter().flat_map(|hash| hash.elements));
                out
            }
            NodeKind::Top => Vec::new(),
        }
    }
}

impl std::fmt::Display for NodeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NodeKind::OverBatches => "node over batches",
            NodeKind::OverNodes => "node over nodes",
            NodeKind::Top => "top node",
        })
    }
}

/// Which circuit a child of a node over nodes or of the top is a proof of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeChild {
    /// The node over batches.
    OverBatches,
    /// The node over nodes.
    OverNodes,
}

impl NodeChild {
    /// The child's index in a slot's list of circuits.
    pub fn index(self) -> usize {
        match self {
            NodeChild::OverBatches => 0,
            NodeChild::OverNodes => 1,
        }
    }
}

/// One child of a node: the index of the circuit it is a proof of (its tier
/// under a node over batches, [`NodeChild::index`] above), and the proof.
pub type Child<'a> = (usize, &'a NodeProof);

/// What a node's slot holds: the index of its child's circuit, whether it
/// counts, and the child proof.
#[derive(Clone, Copy, Debug)]
pub struct SlotWitness<'a> {
    /// Index of the child's circuit among the slot's.
    pub circuit: usize,
    /// Whether the child counts.
    pub present: bool,
    /// The child proof.
    pub proof: &'a NodeProof,
}

/// Everything a node proof is made from.
#[derive(Clone, Debug)]
pub struct NodeWitness<'a> {
    /// Every slot.
    pub slots: Vec<SlotWitness<'a>>,
    /// For a node over nodes: the verifier data it carries and checks its
    /// own kind of children against (honestly, its own).
    pub carried: Option<&'a VerifierOnlyCircuitData<C, D>>,
}

/// The targets of one slot.
struct SlotTargets {
    proof: ProofWithPublicInputsTarget<D>,
    /// Index of the child's circuit among the slot's.
    which: Target,
    present: BoolTarget,
}

/// One node circuit, built.
pub struct NodeCircuit {
    kind: NodeKind,
    data: CircuitData<F, C, D>,
    slots: Vec<SlotTargets>,
    /// Circuits a slot may verify against (tiers, or the two node circuits).
    child_circuits: usize,
    /// The verifier data a node over nodes carries in its public inputs.
    own: Option<VerifierCircuitTarget>,
}

impl StoredCircuit for NodeCircuit {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        out.write_u32(match self.kind {
            NodeKind::OverBatches => 0,
            NodeKind::OverNodes => 1,
            NodeKind::Top => 2,
        })?;
        stored::write_data(out, &self.data)?;
        out.write_usize(self.slots.len())?;
        for slot in &self.slots {
            out.write_target_proof_with_public_inputs(&slot.proof)?;
            out.write_target(slot.which)?;
            out.write_target_bool(slot.present)?;
        }
        out.write_usize(self.child_circuits)?;
        out.write_bool(self.own.is_some())?;
        if let Some(own) = &self.own {
            out.write_target_verifier_circuit(own)?;
        }
        Ok(())
    }

    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        let kind = match src.read_u32()? {
            0 => NodeKind::OverBatches,
            1 => NodeKind::OverNodes,
            2 => NodeKind::Top,
            _ => return Err(IoError),
        };
        let data = stored::read_data(src)?;
        let slots = (0..src.read_usize()?)
            .map(|_| {
                Ok(SlotTargets {
                    proof: src.read_target_proof_with_public_inputs()?,
                    which: src.read_target()?,
                    present: src.read_target_bool()?,
                })
            })
            .collect::<IoResult<_>>()?;
        let child_circuits = src.read_usize()?;
        let own = if src.read_bool()? { Some(src.read_target_verifier_circuit()?) } else { None };
        Ok(NodeCircuit { kind, data, slots, child_circuits, own })
    }

    fn digest(&self) -> String {
        stored::digest_of(&self.data.verifier_only)
    }
}

/// Bits of the index that picks a slot's circuit: every node circuit pads its
/// list of circuits to the same power of two, so that they use the same
/// random-access gate and the two node circuits below the top can share
/// their common data.
fn select_bits(tiers: usize) -> usize {
    tiers.max(2).next_power_of_two().trailing_zeros() as usize
}

/// The flat form of verifier data, in the order a proof carries it.
fn flat(data: &VerifierCircuitTarget) -> Vec<Target> {
    let mut out = data.circuit_digest.elements.to_vec();
    out.extend(data.constants_sigmas_cap.0.iter().flat_map(|hash| hash.elements));
    out
}

/// What a slot may verify its child against.
enum SlotCircuit<'a> {
    /// A circuit already built.
    Built(&'a VerifierOnlyCircuitData<C, D>),
    /// The circuit being built (cyclic recursion).
    Own,
}

/// What to build: the kind, its slots and what they verify.
struct NodeSpec<'a> {
    kind: NodeKind,
    children: usize,
    assets: usize,
    /// Common data of every child proof.
    child: &'a CommonCircuitData<F, D>,
    /// What a slot verifies its child against, by index.
    circuits: Vec<SlotCircuit<'a>>,
    /// Whether `circuits` are the two node circuits below the top, by
    /// [`NodeChild::index`]: a proof of the node over nodes carries the
    /// verifier data it checked its children against.
    over_nodes: bool,
    /// Bits of a slot's circuit index.
    select_bits: usize,
    /// Rows (log2) to build to, if fixed.
    degree_bits: Option<usize>,
}

impl NodeSpec<'_> {
    fn build(self) -> Result<NodeCircuit> {
        let NodeSpec { kind, children, assets, child, circuits, over_nodes, select_bits, degree_bits } = self;
        ensure!((1..=MAX_CHILDREN).contains(&children), "a {kind} takes 1..={MAX_CHILDREN} children, not {children}");
        let _span = info_span!("build_node", %kind, children).entered();
        let mut builder = CircuitBuilder::<F, D>::new(config::recursion());
        let cap_height = builder.config.fri_config.cap_height;
        let own = circuits
            .iter()
            .any(|circuit| matches!(circuit, SlotCircuit::Own))
            .then(|| builder.add_virtual_verifier_data(cap_height));
        let mut choices: Vec<VerifierCircuitTarget> = circuits
            .iter()
            .map(|circuit| match circuit {
                SlotCircuit::Built(data) => builder.constant_verifier_data(data),
                SlotCircuit::Own => own.clone().expect("own verifier data"),
            })
            .collect();
        let carried = over_nodes.then(|| flat(&choices[NodeChild::OverNodes.index()]));
        let last = choices.last().expect("a circuit to verify against").clone();
        choices.resize(1 << select_bits, last);

        let mut slots = Vec::with_capacity(children);
        let mut inputs = Vec::with_capacity(children);
        for _ in 0..children {
            let proof = builder.add_virtual_proof_with_pis(child);
            let which = builder.add_virtual_target();
            let present = builder.add_virtual_bool_target_safe();
            if let Some(carried) = &carried {
                // Index 0 or 1 only, so that the check below is not skipped
                // for a padded copy of the node over nodes.
                let is_over_nodes = BoolTarget::new_unsafe(which);
                builder.assert_bool(is_over_nodes);
                // A proof of the node over nodes carries the verifier data
                // its own children were checked against: that circuit's.
                let tail = &proof.public_inputs[proof.public_inputs.len() - VERIFIER_DATA_INPUTS..];
                for (&theirs, &expected) in tail.iter().zip(carried) {
                    let difference = builder.sub(theirs, expected);
                    let mismatch = builder.mul(is_over_nodes.target, difference);
                    builder.assert_zero(mismatch);
                }
            }
            let verifier = builder.random_access_verifier_data(which, choices.clone());
            builder.verify_proof::<C>(&proof, &verifier, child);
            inputs.push(NodeInputs::from_slice(&proof.public_inputs, assets));
            slots.push(SlotTargets { proof, which, present });
        }
        register_aggregate(&mut builder, &slots, &inputs, assets);
        match kind {
            NodeKind::OverBatches => {
                let zero = builder.zero();
                builder.register_public_inputs(&[zero; VERIFIER_DATA_INPUTS]);
            }
            NodeKind::OverNodes => builder.register_public_inputs(&flat(own.as_ref().expect("own verifier data"))),
            NodeKind::Top => {}
        }
        if kind == NodeKind::OverNodes {
            // Its own proofs must have the child's common data: every gate
            // of the node over batches, whether used here or not.
            for gate in &child.gates {
                builder.add_gate_to_gate_set(gate.clone());
            }
        }
        if let Some(bits) = degree_bits {
            ensure!(
                builder.num_gates() < 1 << bits,
                "a {kind} of {children} children takes {} gates, more than 2^{bits} rows hold",
                builder.num_gates()
            );
            while builder.num_gates() <= 1 << (bits - 1) {
                builder.add_gate(NoopGate, vec![]);
            }
        }
        tracing::debug!(gates = builder.num_gates(), "node circuit laid out");
        let data = builder.build::<C>();
        if let Some(bits) = degree_bits {
            ensure!(
                data.common.degree_bits() == bits,
                "a {kind} of {children} children needs 2^{} rows, the family gives it 2^{bits}",
                data.common.degree_bits()
            );
        }
        Ok(NodeCircuit { kind, data, slots, child_circuits: circuits.len(), own })
    }
}

/// Constrains the slots and registers the node's own [`NodeInputs`]: masked
/// sums of the present children's, their roots hashed with the empty root
/// for the absent slots.
fn register_aggregate(
    builder: &mut CircuitBuilder<F, D>,
    slots: &[SlotTargets],
    inputs: &[NodeInputs<Target>],
    assets: usize,
) {
    builder.assert_one(slots[0].present.target);
    for pair in slots.windows(2) {
        // present_(i+1) · (1 − present_i) = 0.
        let (next, this) = (pair[1].present.target, pair[0].present.target);
        let gap = builder.arithmetic(F::NEG_ONE, F::ONE, next, this, next);
        builder.assert_zero(gap);
    }
    let prices = inputs[0].prices_commitment;
    for (slot, child) in slots.iter().zip(inputs).skip(1) {
        for (&mine, &theirs) in prices.iter().zip(&child.prices_commitment) {
            let difference = builder.sub(theirs, mine);
            let counted = builder.mul(slot.present.target, difference);
            builder.assert_zero(counted);
        }
    }
    let zero = builder.zero();
    let account_count = slots
        .iter()
        .zip(inputs)
        .fold(zero, |sum, (slot, child)| builder.mul_add(slot.present.target, child.account_count, sum));
    let mut total = |pick: fn(&NodeInputs<Target>) -> &Vec<Target>, asset: usize| {
        let terms: Vec<(BoolTarget, Target)> =
            slots.iter().zip(inputs).map(|(slot, child)| (slot.present, pick(child)[asset])).collect();
        masked_total(builder, &terms)
    };
    let equity = (0..assets).map(|a| total(|i| &i.equity, a)).collect();
    let debt = (0..assets).map(|a| total(|i| &i.debt, a)).collect();
    let empty = builder.constant_hash(empty_root());
    let roots: Vec<HashOutTarget> = slots
        .iter()
        .zip(inputs)
        .map(|(slot, child)| HashOutTarget {
            elements: std::array::from_fn(|i| builder.select(slot.present, child.root[i], empty.elements[i])),
        })
        .collect();
    let root = padded_merkle_root(builder, roots, empty_root());
    let node = NodeInputs { root: root.elements, prices_commitment: prices, account_count, equity, debt };
    builder.register_public_inputs(&node.to_vec());
}

impl NodeCircuit {
    /// The node over batches: `children` slots, each verifying a batch proof
    /// of any of `tiers` (which share their common data), over `assets`
    /// assets, at `2^degree_bits` rows. It carries zeros where a node over
    /// nodes carries verifier data, so that both have the same public inputs.
    pub fn over_batches(
        children: usize,
        assets: usize,
        tiers: &[&CircuitData<F, C, D>],
        degree_bits: usize,
    ) -> Result<Self> {
        let (first, others) = tiers.split_first().context("a node over batches needs a tier circuit")?;
        ensure!(
            others.iter().all(|other| other.common == first.common),
            "the tier circuits differ in rows, gates or public inputs"
        );
        NodeSpec {
            kind: NodeKind::OverBatches,
            children,
            assets,
            child: &first.common,
            circuits: tiers.iter().map(|tier| SlotCircuit::Built(&tier.verifier_only)).collect(),
            over_nodes: false,
            select_bits: select_bits(tiers.len()),
            degree_bits: Some(degree_bits),
        }
        .build()
    }

    /// The node over nodes: `children` slots, each verifying a proof of
    /// `over_batches` or of itself, with the same common data as
    /// `over_batches` (`tiers` is the tier count, which fixes the slots'
    /// random-access gate).
    pub fn over_nodes(children: usize, assets: usize, over_batches: &NodeCircuit, tiers: usize) -> Result<Self> {
        ensure!(over_batches.kind == NodeKind::OverBatches, "a node over nodes takes the node over batches");
        let common = &over_batches.data.common;
        let circuit = NodeSpec {
            kind: NodeKind::OverNodes,
            children,
            assets,
            child: common,
            circuits: vec![SlotCircuit::Built(&over_batches.data.verifier_only), SlotCircuit::Own],
            over_nodes: true,
            select_bits: select_bits(tiers),
            degree_bits: Some(common.degree_bits()),
        }
        .build()?;
        if circuit.data.common != *common {
            let missing: Vec<String> = circuit
                .data
                .common
                .gates
                .iter()
                .filter(|gate| !common.gates.contains(gate))
                .map(|gate| gate.0.id())
                .collect();
            let (ours, theirs) = (&circuit.data.common, common);
            let differences: Vec<&str> = [
                ("rows", ours.degree_bits() != theirs.degree_bits()),
                ("gates", ours.gates != theirs.gates),
                ("selectors", ours.selectors_info != theirs.selectors_info),
                ("constants", ours.num_constants != theirs.num_constants),
                ("public inputs", ours.num_public_inputs != theirs.num_public_inputs),
                ("partial products", ours.num_partial_products != theirs.num_partial_products),
            ]
            .into_iter()
            .filter_map(|(what, differs)| differs.then_some(what))
            .collect();
            bail!(
                "the node over nodes does not share the common data of the node over batches \
                 (they differ in {differences:?}; gates only it uses: {missing:?}), so it cannot verify its own proofs"
            );
        }
        Ok(circuit)
    }

    /// The top node: `children` slots, each verifying a proof of either node
    /// circuit below the top.
    pub fn top(children: usize, assets: usize, over_batches: &NodeCircuit, over_nodes: &NodeCircuit) -> Result<Self> {
        ensure!(
            over_batches.kind == NodeKind::OverBatches && over_nodes.kind == NodeKind::OverNodes,
            "the top node takes the two node circuits below it"
        );
        NodeSpec {
            kind: NodeKind::Top,
            children,
            assets,
            child: &over_batches.data.common,
            circuits: vec![
                SlotCircuit::Built(&over_batches.data.verifier_only),
                SlotCircuit::Built(&over_nodes.data.verifier_only),
            ],
            over_nodes: true,
            select_bits: 1,
            degree_bits: None,
        }
        .build()
    }

    /// The kind.
    pub fn kind(&self) -> NodeKind {
        self.kind
    }

    /// Children slots.
    pub fn children(&self) -> usize {
        self.slots.len()
    }

    /// Proves one node from its children, left to right (at least one, at
    /// most [`Self::children`]); the slots past them repeat the first child
    /// and count for nothing.
    pub fn prove(&self, children: &[Child<'_>]) -> Result<NodeProof> {
        let witness = self.inputs(children)?;
        self.data.prove(witness).with_context(|| format!("proving a {}", self.kind))
    }

    /// Proves one node like [`Self::prove`], recording how long each of
    /// plonky2's proving steps took in `timing`.
    pub fn prove_timed(&self, children: &[Child<'_>], timing: &mut TimingTree) -> Result<NodeProof> {
        let witness = self.inputs(children)?;
        prove::<F, C, D>(&self.data.prover_only, &self.data.common, witness, timing)
            .with_context(|| format!("proving a {}", self.kind))
    }

    /// Proves one node from a witness of every slot, honest or not: what
    /// the circuit refuses is tested with it.
    pub fn prove_witness(&self, witness: &NodeWitness<'_>) -> Result<NodeProof> {
        let witness = self.witness(witness)?;
        self.data.prove(witness).with_context(|| format!("proving a {}", self.kind))
    }

    /// The honest witness of a node over `children`.
    pub fn honest<'a>(&'a self, children: &[Child<'a>]) -> Result<NodeWitness<'a>> {
        ensure!(
            (1..=self.slots.len()).contains(&children.len()),
            "a {} takes 1 to {} children, got {}",
            self.kind,
            self.slots.len(),
            children.len()
        );
        let slots = (0..self.slots.len())
            .map(|index| {
                let (circuit, proof) = children.get(index).copied().unwrap_or(children[0]);
                SlotWitness { circuit, present: index < children.len(), proof }
            })
            .collect();
        Ok(NodeWitness { slots, carried: self.own.as_ref().map(|_| &self.data.verifier_only) })
    }

    /// The partial witness of one node.
    fn inputs(&self, children: &[Child<'_>]) -> Result<PartialWitness<F>> {
        self.witness(&self.honest(children)?)
    }

    fn witness(&self, node: &NodeWitness<'_>) -> Result<PartialWitness<F>> {
        ensure!(node.slots.len() == self.slots.len(), "a {} has {} slots", self.kind, self.slots.len());
        let mut witness = PartialWitness::new();
        for (targets, slot) in self.slots.iter().zip(&node.slots) {
            ensure!(
                slot.circuit < self.child_circuits,
                "a child of circuit {}, where a {} takes {}",
                slot.circuit,
                self.kind,
                self.child_circuits
            );
            witness.set_target(targets.which, F::from_canonical_usize(slot.circuit))?;
            witness.set_bool_target(targets.present, slot.present)?;
            witness.set_proof_with_pis_target(&targets.proof, slot.proof)?;
        }
        if let (Some(own), Some(carried)) = (&self.own, node.carried) {
            witness.set_verifier_data_target(own, carried)?;
        }
        Ok(witness)
    }

    /// The circuit data: what the node above verifies against.
    pub fn data(&self) -> &CircuitData<F, C, D> {
        &self.data
    }

    /// The public inputs an honest proof of this circuit carries after its
    /// [`NodeInputs`] ([`NodeKind::honest_tail`]).
    pub fn honest_tail(&self) -> Vec<F> {
        self.kind.honest_tail(&self.data.verifier_only)
    }
}

/// The root a node of `children` (left-packed) hashes: a binary tree over
/// `slots` rounded up to a power of two, the empty root past the children.
pub fn node_root(children: &[Hash], slots: usize) -> Hash {
    let mut roots = children.to_vec();
    roots.resize(slots, empty_root());
    crate::merkle::padded_root(roots, empty_root())
}
