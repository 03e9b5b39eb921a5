//! Family circuits, read or built once per family and shared by everything
//! that proves or checks proofs in a process. Building the standard family
//! takes tens of seconds and a few GiB, so it happens on first use only, and
//! with a [`CircuitDirectory`] the circuits are read from disk where an
//! earlier process of this build wrote them ([`zkpor_circuits::stored`]).
//!
//! What is kept per family is chosen by the process: prover workers keep
//! the whole [`FamilyCircuits`] ([`CircuitCache`]); an agent, which only
//! checks proofs, keeps their verifier data ([`VerifierCache`]).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use parking_lot::Mutex;
use tracing::{debug, info, warn};
use zkpor_circuits::circuits::Provenance;
use zkpor_circuits::family::Family;
use zkpor_circuits::stored::{CircuitDirectory, FamilyFiles};
use zkpor_circuits::{FamilyCircuits, FamilyVerifiers};

/// What a cache keeps of a family, and how it gets it.
pub trait FamilyData: Send + Sync + Sized + 'static {
    /// What it is, in logs and errors.
    const WHAT: &'static str;
    /// Reads it from `files` where an earlier build wrote them and builds
    /// the rest (writing it there). It may return before all of it is
    /// ready, with the thread that finishes it; its accessors wait for what
    /// they give.
    fn open(family: &Family, files: Option<FamilyFiles>) -> Result<(Arc<Self>, Option<JoinHandle<()>>)>;
}

impl FamilyData for FamilyCircuits {
    const WHAT: &'static str = "circuits";

    /// Returns at once: the circuits are read or built on a thread of their
    /// own, tier circuits first, and each accessor waits for its circuit, so
    /// a worker's first batch starts as soon as its tier is ready.
    fn open(family: &Family, files: Option<FamilyFiles>) -> Result<(Arc<Self>, Option<JoinHandle<()>>)> {
        let circuits = Arc::new(FamilyCircuits::pending(family));
        let building = circuits.clone();
        let thread = std::thread::Builder::new()
            .name(format!("circuits-{}", family.name()))
            .spawn(move || {
                let started = Instant::now();
                let family = building.family();
                match building.build_all(files.as_ref(), |step| debug!(%step, "reading or building")) {
                    Ok(provenance) => log_ready::<FamilyCircuits>(family, &provenance, started),
                    Err(error) => warn!(family = family.name(), error = format!("{error:#}"), "building the circuits"),
                }
            })
            .context("starting the thread that reads or builds the circuits")?;
        Ok((circuits, Some(thread)))
    }
}

impl FamilyData for FamilyVerifiers {
    const WHAT: &'static str = "verifier data";

    fn open(family: &Family, files: Option<FamilyFiles>) -> Result<(Arc<Self>, Option<JoinHandle<()>>)> {
        let started = Instant::now();
        let (verifiers, provenance) =
            FamilyVerifiers::load_or_build(family, files.as_ref(), |step| debug!(%step, "reading or building"))?;
        log_ready::<FamilyVerifiers>(family, &provenance, started);
        Ok((Arc::new(verifiers), None))
    }
}

/// Logs that `family`'s `T` is ready, opened since `started`.
fn log_ready<T: FamilyData>(family: &Family, provenance: &Provenance, started: Instant) {
    info!(
        family = family.name(),
        read = provenance.read.len(),
        built = provenance.built.len(),
        ms = started.elapsed().as_millis() as u64,
        "{} ready",
        T::WHAT
    );
}

/// A family's data, or why it could not be had.
type Slot<T> = Arc<OnceLock<Result<Arc<T>, String>>>;

/// What is kept of the families used so far.
pub struct FamilyCache<T: FamilyData> {
    families: Mutex<HashMap<String, Slot<T>>>,
    directory: Option<CircuitDirectory>,
    /// Threads still reading or building.
    builders: Mutex<Vec<JoinHandle<()>>>,
}

/// The circuits of the families used so far: what prover workers keep.
pub type CircuitCache = FamilyCache<FamilyCircuits>;

/// The verifier data of the families used so far: what an agent keeps.
pub type VerifierCache = FamilyCache<FamilyVerifiers>;

impl<T: FamilyData> Default for FamilyCache<T> {
    fn default() -> Self {
        FamilyCache { families: Mutex::default(), directory: None, builders: Mutex::default() }
    }
}

impl<T: FamilyData> FamilyCache<T> {
    /// An empty cache that builds circuits in memory only.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty cache on `directory`, or in memory only without one.
    pub fn on(directory: Option<CircuitDirectory>) -> Self {
        FamilyCache { families: Mutex::default(), directory, builders: Mutex::default() }
    }

    /// Where circuits are kept on disk, if anywhere.
    pub fn directory(&self) -> Option<&CircuitDirectory> {
        self.directory.as_ref()
    }

    /// Keeps `data` for its family, unless the family's data is already
    /// kept or being read.
    pub fn insert(&self, family: &Family, data: T) {
        let slot = self.families.lock().entry(family.name().to_string()).or_default().clone();
        let _ = slot.set(Ok(Arc::new(data)));
    }

    /// What is kept of `family`, opened by the first caller (others wait
    /// for it). Blocking: call it from a blocking context.
    pub fn get(&self, family: &Family) -> Result<Arc<T>> {
        let slot = self.families.lock().entry(family.name().to_string()).or_default().clone();
        slot.get_or_init(|| {
            let files = self.directory.as_ref().map(|directory| directory.family(family));
            info!(family = family.name(), dir = ?files.as_ref().map(|files| files.dir()), "reading or building {}", T::WHAT);
            let (data, builder) = T::open(family, files).map_err(|e| format!("{e:#}"))?;
            self.builders.lock().extend(builder);
            Ok(data)
        })
        .clone()
        .map_err(|e| anyhow!("building the {} of family {}: {e}", T::WHAT, family.name()))
    }

    /// Waits until every family opened so far is read or built whole (and,
    /// with a directory, kept there), for a process about to exit.
    pub fn wait_until_built(&self) {
        let builders = std::mem::take(&mut *self.builders.lock());
        for builder in builders {
            let _ = builder.join();
        }
    }
}
