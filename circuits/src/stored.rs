//! A family's circuits kept on disk, so that a process proves on them
//! seconds after it starts instead of building them again.
//!
//! A [`CircuitDirectory`] holds one folder per family and build: the folder's
//! name carries the family's name and a key hashed from the family's
//! parameters and this crate's circuit code ([`SOURCE_HASH`], computed by
//! `build.rs` from the crate's sources and the workspace's `Cargo.lock`), so
//! a build whose circuits differ never reads another build's files. Each
//! circuit is one file: plonky2's circuit data (gates through
//! [`DefaultGateSerializer`], witness generators through
//! [`CircuitGenerators`]) followed by the targets the prover fills. Files
//! are written to a temporary name and renamed, so a reader never sees half
//! a file; `manifest.json` is written last, once every circuit of the
//! family is on disk, and records each circuit's digest and the family's.
//! Beside the circuits, `verifiers.bin` holds the verifier data of every
//! circuit a task is proven on ([`crate::FamilyVerifiers`]), 33 KB for the
//! standard family, which an agent reads instead of the circuits; the
//! manifest records its SHA-256. A process that finds no complete build
//! builds under the folder's lock ([`FamilyFiles::lock_for_build`]).
//!
//! [`crate::FamilyCircuits::build_all`] reads a circuit only when
//! the manifest lists it, and only keeps it if the digest it reads is the
//! one the manifest records (test: `a_circuit_file_from_another_build_is_rebuilt`);
//! whatever is missing or refused is built and written again.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use plonky2::gadgets::arithmetic::EqualityGenerator;
use plonky2::gadgets::arithmetic_extension::QuotientGeneratorExtension;
use plonky2::gadgets::range_check::LowHighGenerator;
use plonky2::gadgets::split_base::BaseSumGenerator;
use plonky2::gadgets::split_join::{SplitGenerator, WireSplitGenerator};
use plonky2::gates::arithmetic_base::ArithmeticBaseGenerator;
use plonky2::gates::arithmetic_extension::ArithmeticExtensionGenerator;
use plonky2::gates::base_sum::BaseSplitGenerator;
use plonky2::gates::coset_interpolation::InterpolationGenerator;
use plonky2::gates::exponentiation::ExponentiationGenerator;
use plonky2::gates::lookup::LookupGenerator;
use plonky2::gates::lookup_table::LookupTableGenerator;
use plonky2::gates::multiplication_extension::MulExtensionGenerator;
use plonky2::gates::poseidon::PoseidonGenerator;
use plonky2::gates::poseidon_mds::PoseidonMdsGenerator;
use plonky2::gates::random_access::RandomAccessGenerator;
use plonky2::gates::reducing::ReducingGenerator;
use plonky2::gates::reducing_extension::ReducingGenerator as ReducingExtensionGenerator;
use plonky2::iop::generator::{ConstantGenerator, CopyGenerator, NonzeroTestGenerator, RandomValueGenerator};
use plonky2::plonk::circuit_data::{CircuitData, VerifierOnlyCircuitData};
use plonky2::plonk::config::{GenericConfig, GenericHashOut};
use plonky2::recursion::dummy_circuit::DummyProofGenerator;
use plonky2::util::serialization::{
    Buffer, DefaultGateSerializer, IoResult, Read, Remaining, WitnessGeneratorSerializer, Write,
};
use plonky2::{get_generator_tag_impl, impl_generator_serializer, read_generator_impl};
use serde::{Deserialize, Serialize};
use tracing::info;

use crate::aggregation::NodeKind;
use crate::circuits::BuildStep;
use crate::family::Family;
use crate::gadgets::prefix::PrefixMaskGenerator;
use crate::gadgets::range::ByteSplitGenerator;
use crate::gadgets::solvency::CarryGenerator;
use crate::{C, D, F};

/// Hash of this crate's circuit code and the workspace's locked
/// dependencies, set by `build.rs`.
pub const SOURCE_HASH: &str = env!("ZKPOR_CIRCUITS_SOURCE_HASH");

/// Version of the layout of a family's folder and of its circuit files
/// (what follows plonky2's data).
const FORMAT: u32 = 2;

/// The witness generators of every zkpor circuit: plonky2's own and the
/// project's gadgets'.
#[derive(Debug, Default)]
pub struct CircuitGenerators;

impl WitnessGeneratorSerializer<F, D> for CircuitGenerators {
    impl_generator_serializer! {
        CircuitGenerators,
        ArithmeticBaseGenerator<F, D>,
        ArithmeticExtensionGenerator<F, D>,
        BaseSplitGenerator<2>,
        BaseSumGenerator<2>,
        ConstantGenerator<F>,
        CopyGenerator,
        DummyProofGenerator<F, C, D>,
        EqualityGenerator,
        ExponentiationGenerator<F, D>,
        InterpolationGenerator<F, D>,
        LookupGenerator,
        LookupTableGenerator,
        LowHighGenerator,
        MulExtensionGenerator<F, D>,
        NonzeroTestGenerator,
        PoseidonGenerator<F, D>,
        PoseidonMdsGenerator<D>,
        QuotientGeneratorExtension<D>,
        RandomAccessGenerator<F, D>,
        RandomValueGenerator,
        ReducingGenerator<D>,
        ReducingExtensionGenerator<D>,
        SplitGenerator,
        WireSplitGenerator,
        ByteSplitGenerator,
        PrefixMaskGenerator,
        CarryGenerator
    }
}

/// Writes `data` with the project's serializers.
pub(crate) fn write_data<G: GenericConfig<D, F = F>>(out: &mut Vec<u8>, data: &CircuitData<F, G, D>) -> IoResult<()> {
    out.write_circuit_data(data, &DefaultGateSerializer, &CircuitGenerators)
}

/// Reads what [`write_data`] wrote.
pub(crate) fn read_data<G: GenericConfig<D, F = F>>(src: &mut Buffer<'_>) -> IoResult<CircuitData<F, G, D>> {
    src.read_circuit_data(&DefaultGateSerializer, &CircuitGenerators)
}

/// The digest of a circuit, from its verifier data, as `0x`-prefixed hex.
pub(crate) fn digest_of<G: GenericConfig<D, F = F>>(verifier: &VerifierOnlyCircuitData<G, D>) -> String {
    format!("0x{}", hex::encode(GenericHashOut::<F>::to_bytes(&verifier.circuit_digest)))
}

/// A circuit that can be written to a file and read back.
pub trait StoredCircuit: Sized {
    /// Appends the circuit: its data, then its targets.
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()>;
    /// Reads what [`Self::write_to`] wrote.
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self>;
    /// The circuit's digest (of its verifier data), `0x`-prefixed hex.
    fn digest(&self) -> String;
}

/// Where families' circuits are kept on disk.
#[derive(Clone, Debug)]
pub struct CircuitDirectory {
    root: PathBuf,
}

impl CircuitDirectory {
    /// Circuits kept under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        CircuitDirectory { root: root.into() }
    }

    /// The default place: `$ZKPOR_CIRCUIT_DIR`, else
    /// `$XDG_CACHE_HOME/zkpor/circuits`, else `$HOME/.cache/zkpor/circuits`;
    /// `None` when none of them is set.
    pub fn default_location() -> Option<PathBuf> {
        let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from);
        set("ZKPOR_CIRCUIT_DIR")
            .or_else(|| set("XDG_CACHE_HOME").map(|cache| cache.join("zkpor/circuits")))
            .or_else(|| set("HOME").map(|home| home.join(".cache/zkpor/circuits")))
    }

    /// The directory at [`Self::default_location`], if one is set.
    pub fn at_default_location() -> Option<Self> {
        Self::default_location().map(Self::new)
    }

    /// The directory's root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of `family`'s circuits as this build makes them.
    pub fn family(&self, family: &Family) -> FamilyFiles {
        let parameters = serde_json::to_vec(family).expect("a family serializes");
        let key = {
            use sha2::Digest as _;
            let mut hasher = sha2::Sha256::new();
            hasher.update(SOURCE_HASH.as_bytes());
            hasher.update(FORMAT.to_le_bytes());
            hasher.update(&parameters);
            hex::encode(&hasher.finalize()[..8])
        };
        FamilyFiles { dir: self.root.join(format!("{}-{key}", family.name())), family: family.name().to_string() }
    }
}

/// One family's circuit files, as one build makes them.
#[derive(Clone, Debug)]
pub struct FamilyFiles {
    dir: PathBuf,
    /// The family's name.
    family: String,
}

/// What `manifest.json` records once every circuit of a family is written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The family's name.
    pub family: String,
    /// The family's digest.
    pub digest: String,
    /// Each circuit's digest, by file name.
    pub circuits: BTreeMap<String, String>,
    /// The SHA-256 of `verifiers.bin`, `0x`-prefixed hex.
    pub verifiers: String,
}

const MANIFEST: &str = "manifest.json";

/// The file a process building a family's circuits holds locked.
const BUILD_LOCK: &str = ".build.lock";

/// Held while a process builds a family's circuits into its folder
/// ([`FamilyFiles::lock_for_build`]); dropping it lets the next one in.
#[derive(Debug)]
pub struct BuildLock {
    _file: fs::File,
}

/// The file of the family's verifier data.
const VERIFIERS: &str = "verifiers.bin";

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("0x{}", hex::encode(sha2::Sha256::digest(bytes)))
}

impl FamilyFiles {
    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest, if the family's circuits were all written: `Ok(None)`
    /// when there is none yet, or one of another family.
    pub fn manifest(&self) -> Result<Option<Manifest>> {
        let path = self.dir.join(MANIFEST);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
        };
        let manifest: Manifest =
            serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))?;
        Ok((manifest.family == self.family).then_some(manifest))
    }

    /// Blocks until no other process builds into these files, then holds
    /// them until the lock is dropped, so that processes started at once on
    /// a cold directory build a family once (the others read what it wrote)
    /// instead of each building it on the same cores.
    pub fn lock_for_build(&self) -> Result<BuildLock> {
        fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))?;
        let path = self.dir.join(BUILD_LOCK);
        let file = fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                info!(family = self.family, dir = %self.dir.display(), "another process is building these circuits; waiting for it");
                file.lock().with_context(|| format!("locking {}", path.display()))?;
            }
            Err(fs::TryLockError::Error(err)) => {
                return Err(err).with_context(|| format!("locking {}", path.display()));
            }
        }
        Ok(BuildLock { _file: file })
    }

    /// Writes the manifest, marking the family's files complete.
    pub fn write_manifest(&self, manifest: &Manifest) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(manifest).expect("a manifest serializes");
        self.write_file(MANIFEST, &bytes)
    }

    /// Reads the circuit of `step`, refusing it unless its digest is
    /// `expected`.
    pub fn load<T: StoredCircuit>(&self, step: BuildStep, expected: &str) -> Result<T> {
        let path = self.dir.join(file_name(step));
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let mut src = Buffer::new(&bytes);
        let format = src.read_u32().map_err(|_| anyhow!("{} is empty", path.display()))?;
        if format != FORMAT {
            bail!("{} is of format {format}, this build reads format {FORMAT}", path.display());
        }
        let circuit = T::read_from(&mut src).map_err(|_| anyhow!("{} is not a readable {step}", path.display()))?;
        if src.remaining() != 0 {
            bail!("{} has {} bytes past the {step}", path.display(), src.remaining());
        }
        let digest = circuit.digest();
        if digest != expected {
            bail!("{} holds a {step} of digest {digest}, the manifest records {expected}", path.display());
        }
        Ok(circuit)
    }

    /// Writes the circuit of `step`.
    pub fn save<T: StoredCircuit>(&self, step: BuildStep, circuit: &T) -> Result<()> {
        let mut bytes = Vec::new();
        bytes.write_u32(FORMAT).expect("writing to memory");
        circuit.write_to(&mut bytes).map_err(|_| anyhow!("the {step} cannot be serialized"))?;
        self.write_file(&file_name(step), &bytes)
    }

    /// Writes the verifier data file, unless it already holds `bytes`, and
    /// returns the SHA-256 the manifest records for it.
    pub(crate) fn save_verifiers(&self, bytes: &[u8]) -> Result<String> {
        let hash = sha256_hex(bytes);
        let kept = fs::read(self.dir.join(VERIFIERS)).is_ok_and(|kept| sha256_hex(&kept) == hash);
        if !kept {
            self.write_file(VERIFIERS, bytes)?;
        }
        Ok(hash)
    }

    /// Reads the verifier data file, refusing it unless its SHA-256 is the
    /// one `manifest` records.
    pub(crate) fn load_verifiers(&self, manifest: &Manifest) -> Result<Vec<u8>> {
        let path = self.dir.join(VERIFIERS);
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let hash = sha256_hex(&bytes);
        if hash != manifest.verifiers {
            bail!("{} has SHA-256 {hash}, the manifest records {}", path.display(), manifest.verifiers);
        }
        Ok(bytes)
    }

    /// Writes `name` whole or not at all: to a temporary file, then renamed.
    fn write_file(&self, name: &str, bytes: &[u8]) -> Result<()> {
        fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))?;
        let path = self.dir.join(name);
        let partial = self.dir.join(format!(".{name}.{}.partial", std::process::id()));
        let written = (|| {
            let mut file = fs::File::create(&partial)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&partial, &path)
        })();
        if let Err(err) = written {
            let _ = fs::remove_file(&partial);
            return Err(err).with_context(|| format!("writing {}", path.display()));
        }
        Ok(())
    }
}

/// The file of a circuit.
pub fn file_name(step: BuildStep) -> String {
    match step {
        BuildStep::Tier(index) => format!("tier-{index}.bin"),
        BuildStep::Node(NodeKind::OverBatches) => "node-over-batches.bin".to_string(),
        BuildStep::Node(NodeKind::OverNodes) => "node-over-nodes.bin".to_string(),
        BuildStep::Node(NodeKind::Top) => "node-top.bin".to_string(),
        BuildStep::Statement => "statement.bin".to_string(),
        BuildStep::Final => "final.bin".to_string(),
    }
}
