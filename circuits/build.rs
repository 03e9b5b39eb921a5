//! Sets `ZKPOR_CIRCUITS_SOURCE_HASH`: a hash of this crate's sources, its
//! manifest and the workspace's `Cargo.lock`, which keys the circuit files a
//! build keeps on disk (`src/stored.rs`) to the code that made them.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn main() {
    let crate_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect(&crate_dir.join("src"), &mut files);
    files.sort();
    files.push(crate_dir.join("Cargo.toml"));
    files.push(crate_dir.join("../Cargo.lock"));

    let mut hasher = Sha256::new();
    for file in &files {
        let relative = file.strip_prefix(&crate_dir).unwrap_or(file);
        hasher.update(relative.to_string_lossy().as_bytes());
        // A missing Cargo.lock (the crate built outside its workspace) hashes
        // as empty.
        hasher.update(fs::read(file).unwrap_or_default());
    }
    let hash = hasher.finalize();
    let hex: String = hash[..16].iter().map(|byte| format!("{byte:02x}")).collect();
    println!("cargo:rustc-env=ZKPOR_CIRCUITS_SOURCE_HASH={hex}");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
    println!("cargo:rerun-if-changed=../Cargo.lock");
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|err| panic!("reading {}: {err}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}
