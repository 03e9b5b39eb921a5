//! Located validation errors and the collector that caps how many are kept.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::bounds::MAX_REPORTED_ERRORS;

/// A line of a snapshot file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file: the snapshot directory as given, joined with the file name.
    pub file: PathBuf,
    /// 1-based physical line number (the header is line 1).
    pub line: usize,
}

impl Location {
    /// The location written with only the file's name, e.g. `balances_1.csv:3`
    /// (for messages that point at another line of the same snapshot).
    pub(crate) fn short(&self) -> String {
        let name = self.file.file_name().map_or(self.file.as_os_str(), |n| n);
        format!("{}:{}", Path::new(name).display(), self.line)
    }
}

impl fmt::Display for Location {
    /// `file:line`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One problem found in a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct SnapshotError {
    /// The file: the snapshot directory as given, joined with the file name.
    pub file: PathBuf,
    /// 1-based line of the problem, or `None` for a problem with the whole
    /// file (missing file, no accounts, ...).
    pub line: Option<usize>,
    /// What is wrong, e.g. `BTC: '1.2.3' is not a decimal number`.
    pub message: String,
}

impl SnapshotError {
    /// An error on one line.
    pub(crate) fn at(location: &Location, message: String) -> SnapshotError {
        SnapshotError { file: location.file.clone(), line: Some(location.line), message }
    }

    /// An error on a whole file.
    pub(crate) fn in_file(file: &Path, message: String) -> SnapshotError {
        SnapshotError { file: file.to_path_buf(), line: None, message }
    }
}

impl fmt::Display for SnapshotError {
    /// `file:line: message`, or `file: message` without a line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Every problem found in a snapshot: the first
/// [`MAX_REPORTED_ERRORS`] in full, and how many there were in total.
#[derive(Debug, thiserror::Error)]
pub struct SnapshotErrors {
    reported: Vec<SnapshotError>,
    total: usize,
}

impl SnapshotErrors {
    /// The reported errors (at most [`MAX_REPORTED_ERRORS`]), sorted by file
    /// and line.
    pub fn errors(&self) -> &[SnapshotError] {
        &self.reported
    }

    /// How many errors were found, reported or not.
    pub fn total(&self) -> usize {
        self.total
    }
}

impl fmt::Display for SnapshotErrors {
    /// One error per line, then `... and N more errors` when some were not
    /// reported, then a summary line `N errors in snapshot`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for error in &self.reported {
            writeln!(f, "{error}")?;
        }
        let more = self.total - self.reported.len();
        if more > 0 {
            writeln!(f, "... and {more} more {}", plural(more, "error"))?;
        }
        write!(f, "{} {} in snapshot", self.total, plural(self.total, "error"))
    }
}

fn plural(count: usize, word: &str) -> String {
    if count == 1 { word.to_owned() } else { format!("{word}s") }
}

/// Collects errors, keeping the first [`MAX_REPORTED_ERRORS`] and counting
/// all of them.
#[derive(Debug, Default)]
pub(crate) struct ErrorSink {
    reported: Vec<SnapshotError>,
    total: usize,
}

impl ErrorSink {
    /// Records one error.
    pub(crate) fn push(&mut self, error: SnapshotError) {
        self.total += 1;
        if self.reported.len() < MAX_REPORTED_ERRORS {
            self.reported.push(error);
        }
    }

    /// Records an error on one line.
    pub(crate) fn at(&mut self, location: &Location, message: String) {
        self.push(SnapshotError::at(location, message));
    }

    /// Records an error on a whole file.
    pub(crate) fn in_file(&mut self, file: &Path, message: String) {
        self.push(SnapshotError::in_file(file, message));
    }

    /// How many errors were recorded so far.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    /// `Ok(value())` when nothing was recorded, else the errors sorted by
    /// file and line (file-level errors first within a file).
    pub(crate) fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, SnapshotErrors> {
        if self.total == 0 {
            return Ok(value());
        }
        let mut reported = self.reported;
        reported.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Err(SnapshotErrors { reported, total: self.total })
    }
}

/// `text` in single quotes for a message: control characters and quotes
/// escaped, and cut short when very long.
pub(crate) fn quote(text: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut out = String::from("'");
    for (i, c) in text.chars().enumerate() {
        if i == MAX_CHARS {
            out.push_str("...");
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(file: &str, line: Option<usize>, message: &str) -> SnapshotError {
        SnapshotError { file: PathBuf::from(file), line, message: message.to_owned() }
    }

    #[test]
    fn displays_locations_and_errors() {
        let location = Location { file: PathBuf::from("snap/balances.csv"), line: 7 };
        assert_eq!(location.to_string(), "snap/balances.csv:7");
        assert_eq!(location.short(), "balances.csv:7");
        assert_eq!(error("snap/assets.csv", Some(3), "bad").to_string(), "snap/assets.csv:3: bad");
        assert_eq!(error("snap/assets.csv", None, "file not found").to_string(), "snap/assets.csv: file not found");
    }

    #[test]
    fn caps_and_sorts_reported_errors() {
        let mut sink = ErrorSink::default();
        for line in (1..=MAX_REPORTED_ERRORS + 5).rev() {
            sink.push(error("b.csv", Some(line), "x"));
        }
        let errors = sink.finish(|| ()).unwrap_err();
        assert_eq!(errors.total(), MAX_REPORTED_ERRORS + 5);
        assert_eq!(errors.errors().len(), MAX_REPORTED_ERRORS);
        assert!(errors.errors().windows(2).all(|w| w[0].line < w[1].line));
        let text = errors.to_string();
        assert!(text.contains("\n... and 5 more errors\n"), "{text}");
        assert!(text.ends_with(&format!("{} errors in snapshot", MAX_REPORTED_ERRORS + 5)));
    }

    #[test]
    fn single_error_summary_is_singular() {
        let mut sink = ErrorSink::default();
        sink.in_file(Path::new("d/assets.csv"), "file not found".to_owned());
        let errors = sink.finish(|| ()).unwrap_err();
        assert_eq!(errors.to_string(), "d/assets.csv: file not found\n1 error in snapshot");
    }

    #[test]
    fn empty_sink_is_ok() {
        assert_eq!(ErrorSink::default().finish(|| 5).unwrap(), 5);
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(quote("alice"), "'alice'");
        assert_eq!(quote("a\u{1}b"), "'a\\u{1}b'");
        assert_eq!(quote(&"x".repeat(100)), format!("'{}...'", "x".repeat(64)));
    }
}
