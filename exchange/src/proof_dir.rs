//! Finished proofs kept as files, so that an interrupted proving run
//! resumes from them.
//!
//! Each proof is `<key>.proof` in one directory (`batch-12.proof`,
//! `node-0-3.proof`). It is written to a temporary file,
//! flushed to disk and renamed into place, so a run killed at any point
//! leaves every proof whole or absent. The prover checks each stored proof
//! before reusing it (see `zkpor_circuits::tree_prover`).

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use zkpor_circuits::proof_store::{ProofKey, ProofStore};

/// File of a run's nonce seed, beside its proofs.
const NONCE_SEED_FILE: &str = "nonce-seed";

/// A directory of finished proofs.
#[derive(Debug)]
pub struct ProofDirectory {
    dir: PathBuf,
}

impl ProofDirectory {
    /// Opens `dir`, creating it if needed.
    pub fn open(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(ProofDirectory { dir: dir.to_path_buf() })
    }

    /// The seed of the users' nonces for this run: the one an earlier run
    /// kept here (the stored proofs hold nonces drawn from it), else
    /// `requested`, else a fresh one; kept in the directory before any proof.
    /// A `requested` seed that differs from the kept one is an error.
    pub fn nonce_seed(&self, requested: Option<u64>) -> Result<u64> {
        let path = self.dir.join(NONCE_SEED_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => {
                let kept: u64 = text.trim().parse().with_context(|| format!("{} is not a seed", path.display()))?;
                if let Some(requested) = requested.filter(|&r| r != kept) {
                    bail!(
                        "{} holds the proofs of a run with nonce seed {kept}, not {requested}; remove the directory or drop --seed",
                        self.dir.display()
                    );
                }
                Ok(kept)
            }
            Err(err) if err.kind() == ErrorKind::NotFound => {
                let seed = requested.unwrap_or_else(rand::random);
                self.write_atomically(NONCE_SEED_FILE, seed.to_string().as_bytes())?;
                Ok(seed)
            }
            Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes `name` through a flushed temporary file renamed into place.
    fn write_atomically(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.dir.join(name);
        let partial = self.dir.join(format!(".{name}.partial"));
        let mut file = fs::File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("writing {}", partial.display()))?;
        fs::rename(&partial, &path).with_context(|| format!("renaming {} into place", partial.display()))
    }

    fn path(&self, key: ProofKey) -> PathBuf {
        self.dir.join(format!("{key}.proof"))
    }
}

impl ProofStore for ProofDirectory {
    fn load(&mut self, key: ProofKey) -> Result<Option<Vec<u8>>> {
        let path = self.path(key);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
        }
    }

    fn save(&mut self, key: ProofKey, proof: &[u8]) -> Result<()> {
        self.write_atomically(&format!("{key}.proof"), proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_proofs_across_openings_and_ignores_partial_files() {
        let dir = tempfile::tempdir().unwrap();
        let key = ProofKey::Node { level: 1, index: 3 };
        {
            let mut store = ProofDirectory::open(&dir.path().join("proofs")).unwrap();
            assert_eq!(store.load(key).unwrap(), None);
            store.save(key, b"proof bytes").unwrap();
            store.save(ProofKey::Batch(0), b"old").unwrap();
            store.save(ProofKey::Batch(0), b"new").unwrap();
        }
        // A run killed while writing leaves only a partial file behind.
        std::fs::write(dir.path().join("proofs/.batch-1.proof.partial"), b"half").unwrap();
        let mut store = ProofDirectory::open(&dir.path().join("proofs")).unwrap();
        assert_eq!(store.load(key).unwrap().as_deref(), Some(&b"proof bytes"[..]));
        assert_eq!(store.load(ProofKey::Batch(0)).unwrap().as_deref(), Some(&b"new"[..]));
        assert_eq!(store.load(ProofKey::Batch(1)).unwrap(), None);
        assert!(dir.path().join("proofs/node-1-3.proof").exists());
    }

    #[test]
    fn keeps_the_first_runs_nonce_seed() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProofDirectory::open(dir.path()).unwrap();
        let seed = store.nonce_seed(None).unwrap();
        assert_eq!(ProofDirectory::open(dir.path()).unwrap().nonce_seed(None).unwrap(), seed);
        assert_eq!(store.nonce_seed(Some(seed)).unwrap(), seed);
        let other = store.nonce_seed(Some(seed ^ 1)).unwrap_err().to_string();
        assert!(other.contains(&format!("nonce seed {seed}")), "{other}");
        let chosen = tempfile::tempdir().unwrap();
        assert_eq!(ProofDirectory::open(chosen.path()).unwrap().nonce_seed(Some(7)).unwrap(), 7);
    }
}
