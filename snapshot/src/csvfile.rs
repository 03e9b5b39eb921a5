//! Reading one CSV file of a snapshot record by record: opening (with the
//! "file not found" error), UTF-8 byte-order mark, physical line numbers and
//! trimmed UTF-8 fields.
//!
//! The `csv` crate positions a record where the previous one ended, so blank
//! lines it skips before a record are not counted in the record's line. To
//! report physical line numbers, the bytes handed to the parser since the
//! start of the current record are kept (a few kilobytes: the parser's
//! read-ahead plus one record) and the skipped blank lines counted in them.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use csv::ByteRecord;

use crate::error::{ErrorSink, Location};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Passes bytes through, keeping those not yet known to be behind the
/// current record.
struct Tracked<R> {
    inner: R,
    /// Bytes from offset `kept_from` on (offsets count from the first byte
    /// after the byte-order mark, like the parser's positions).
    kept: VecDeque<u8>,
    kept_from: u64,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.kept.extend(&buf[..n]);
        Ok(n)
    }
}

impl<R> Tracked<R> {
    /// Forgets the bytes before offset `byte`.
    fn discard_before(&mut self, byte: u64) {
        let n = usize::try_from(byte.saturating_sub(self.kept_from)).unwrap_or(usize::MAX);
        let n = n.min(self.kept.len());
        self.kept.drain(..n);
        self.kept_from += n as u64;
    }

    /// Line feeds among the blank-line bytes (`\r`, `\n`) at offset `byte`.
    fn blank_lines_at(&self, byte: u64) -> usize {
        let start = usize::try_from(byte.saturating_sub(self.kept_from)).unwrap_or(usize::MAX);
        self.kept
            .range(start.min(self.kept.len())..)
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .filter(|&&b| b == b'\n')
            .count()
    }
}

/// A CSV file being read; records are read into one reused buffer.
pub(crate) struct CsvFile {
    path: PathBuf,
    reader: csv::Reader<Tracked<BufReader<File>>>,
    record: ByteRecord,
    /// Physical line where the record last read starts.
    line: usize,
}

impl CsvFile {
    /// Opens `path`, reporting a missing or unreadable file as a file-level
    /// error.
    pub(crate) fn open(path: &Path, errors: &mut ErrorSink) -> Option<CsvFile> {
        match Self::try_open(path) {
            Ok(file) => Some(file),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                errors.in_file(path, "file not found".to_owned());
                None
            }
            Err(error) => {
                errors.in_file(path, format!("cannot read file: {error}"));
                None
            }
        }
    }

    fn try_open(path: &Path) -> io::Result<CsvFile> {
        let mut input = BufReader::new(File::open(path)?);
        if input.fill_buf()?.starts_with(UTF8_BOM) {
            input.consume(UTF8_BOM.len());
        }
        let tracked = Tracked { inner: input, kept: VecDeque::new(), kept_from: 0 };
        let reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(tracked);
        Ok(CsvFile { path: path.to_path_buf(), reader, record: ByteRecord::new(), line: 0 })
    }

    /// Reads the next record (completely empty lines are skipped). Returns
    /// false at the end of the file or after reporting a read error (which
    /// ends the file).
    pub(crate) fn next(&mut self, errors: &mut ErrorSink) -> bool {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => {
                // The reader always sets the position of what it reads.
                let (byte, line) = self.record.position().map_or((0, 1), |start| (start.byte(), start.line()));
                let blank = self.reader.get_ref().blank_lines_at(byte);
                self.line = usize::try_from(line).unwrap_or(usize::MAX) + blank;
                // The next record starts where this one ended.
                let end = self.reader.position().byte();
                self.reader.get_mut().discard_before(end);
                true
            }
            Ok(false) => false,
            Err(error) => {
                let message = format!("cannot read file: {error}");
                match error.position() {
                    Some(position) => {
                        let line = usize::try_from(position.line()).unwrap_or(usize::MAX);
                        errors.at(&self.location_of(line), message);
                    }
                    None => errors.in_file(&self.path, message),
                }
                false
            }
        }
    }

    /// Reads the header record; an empty file is reported as such, with
    /// `expected` describing the header it should have had.
    pub(crate) fn header(&mut self, expected: &str, errors: &mut ErrorSink) -> bool {
        let before = errors.total();
        let found = self.next(errors);
        // Unless the read failed (and was reported), the file is empty.
        if !found && errors.total() == before {
            errors.in_file(&self.path, format!("file is empty (expected the header '{expected}')"));
        }
        found
    }

    /// The record last read by [`CsvFile::next`].
    pub(crate) fn record(&self) -> &ByteRecord {
        &self.record
    }

    /// The physical line where the record last read starts.
    pub(crate) fn location(&self) -> Location {
        self.location_of(self.line)
    }

    fn location_of(&self, line: usize) -> Location {
        Location { file: self.path.clone(), line }
    }
}

/// Field `index` of `record`, trimmed of ASCII whitespace, or `None` when it
/// is not UTF-8 (or absent).
pub(crate) fn field(record: &ByteRecord, index: usize) -> Option<&str> {
    std::str::from_utf8(record.get(index)?).ok().map(str::trim_ascii)
}

/// All fields of a header record, trimmed, for messages: `a,b,c`.
pub(crate) fn joined(record: &ByteRecord) -> String {
    record.iter().map(|f| String::from_utf8_lossy(f).trim_ascii().to_owned()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Physical lines of every record of `content`.
    fn lines(content: &[u8]) -> Vec<usize> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        std::fs::write(&path, content).unwrap();
        let mut errors = ErrorSink::default();
        let mut file = CsvFile::open(&path, &mut errors).unwrap();
        let mut lines = Vec::new();
        while file.next(&mut errors) {
            lines.push(file.location().line);
        }
        assert_eq!(errors.total(), 0);
        lines
    }

    #[test]
    fn counts_physical_lines() {
        assert_eq!(lines(b"a\nb\nc"), [1, 2, 3]);
        assert_eq!(lines(b"\n\na\n\nb\n\n\n"), [3, 5]);
        assert_eq!(lines(b"a\r\n\r\nb\r\n\r\n\r\nc\r\n"), [1, 3, 6]);
        assert_eq!(lines(b"\xEF\xBB\xBF\na,\"x\ny\"\n\nb\n"), [2, 5]);
        assert_eq!(lines(b"a,\"\n\n\"\n\n\"\nq\"\n"), [1, 5]);
    }

    #[test]
    fn counts_lines_far_into_a_large_file() {
        let mut content = Vec::new();
        for i in 0..20_000 {
            content.extend_from_slice(format!("row{i},1\n\n").as_bytes());
        }
        let lines = lines(&content);
        assert_eq!(lines.len(), 20_000);
        assert_eq!(lines[19_999], 39_999);
    }

    #[test]
    fn strips_bom_and_trims_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        std::fs::write(&path, b"\xEF\xBB\xBF id , x\n").unwrap();
        let mut errors = ErrorSink::default();
        let mut file = CsvFile::open(&path, &mut errors).unwrap();
        assert!(file.header("id", &mut errors));
        assert_eq!(field(file.record(), 0), Some("id"));
        assert_eq!(joined(file.record()), "id,x");
    }

    #[test]
    fn reports_missing_and_empty_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut errors = ErrorSink::default();
        assert!(CsvFile::open(&dir.path().join("none.csv"), &mut errors).is_none());
        let path = dir.path().join("empty.csv");
        std::fs::write(&path, b"\n\n").unwrap();
        let mut file = CsvFile::open(&path, &mut errors).unwrap();
        assert!(!file.header("id", &mut errors));
        let errors = errors.finish(|| ()).unwrap_err();
        let messages: Vec<&str> = errors.errors().iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["file is empty (expected the header 'id')", "file not found"]);
    }
}
