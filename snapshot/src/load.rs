//! Loading a snapshot directory: reads `assets.csv`, then streams every
//! `balances*.csv` through the validator.

use std::path::Path;

use crate::error::{ErrorSink, SnapshotErrors};
use crate::model::{LoadOptions, Snapshot};
use crate::validate::{Validator, no_accounts_message};
use crate::{assets, balances};

/// See [`Snapshot::load`].
pub(crate) fn load(dir: &Path, options: &LoadOptions) -> Result<Snapshot, SnapshotErrors> {
    let mut errors = ErrorSink::default();
    let mut assets_file = assets::read(&dir.join(assets::FILE_NAME), &mut errors);
    let files = balances::find_files(dir, &mut errors);
    let mut validator = Validator::new(std::mem::take(&mut assets_file.assets), options, &mut errors);
    let pattern = dir.join(balances::FILE_PATTERN);
    match files {
        None => {}
        Some(files) if files.is_empty() => errors.in_file(
            &pattern,
            format!("no balances file found (expected at least one file named {})", balances::FILE_PATTERN),
        ),
        Some(files) => {
            let mut rows = 0;
            for file in &files {
                rows += balances::read(file, &assets_file, &mut validator, &mut errors);
            }
            if rows == 0 {
                errors.in_file(&pattern, no_accounts_message());
            }
        }
    }
    validator.finish(errors)
}
