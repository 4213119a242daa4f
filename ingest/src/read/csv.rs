//! Delimited text, read in chunks of whole records so that memory does not grow with the file:
//! the encoding (UTF-8, UTF-8 with a byte-order mark, GBK/GB18030) and the delimiter are found
//! from the first block, each chunk is parsed by polars (every column as text) and handed to
//! arrow-rs through the Arrow C Data Interface. The file's bytes and their decoded text go
//! through two buffers kept for the whole file.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, StringViewArray};

use super::{RawTable, decode_gbk_into};
use crate::{Error, Result};

/// Bytes of text per chunk (a chunk is extended to the end of its last record). The chunks in
/// flight hold the peak: with 4 MiB chunks the member registry peaked at about 310 MiB at scale 1
/// and 430 MiB at scale 10, with 1 MiB chunks at about 240 and 310 MiB (before the allocator gave
/// large blocks back, `src/allocator.rs`), for about 5% more time.
pub const CHUNK_BYTES: usize = 1 << 20;

/// A CSV file being read chunk by chunk.
pub struct CsvChunks {
    path: PathBuf,
    file: std::fs::File,
    /// The header names, as polars read them.
    headers: Vec<String>,
    /// How polars parses a chunk: no header line, every column as text under its header name.
    options: polars::prelude::CsvReadOptions,
    /// Bytes read: `pending[consumed..]` is not yet parsed and starts at a record boundary.
    pending: Vec<u8>,
    consumed: usize,
    /// The decoded text of the chunk being parsed (GBK files only).
    decoded: String,
    at_end: bool,
    encoding: &'static str,
    delimiter: u8,
    /// The line number of the next data row.
    next_line: u64,
    /// Whether a chunk has been returned (the first is returned even when empty).
    started: bool,
}

impl CsvChunks {
    /// Opens `path`, reading its first block to learn the encoding, delimiter and header.
    pub fn open(path: &Path) -> Result<Self> {
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut first = Vec::with_capacity(CHUNK_BYTES);
        (&mut file)
            .take(CHUNK_BYTES as u64)
            .read_to_end(&mut first)
            .map_err(|e| Error::io(path, e))?;
        let at_end = first.len() < CHUNK_BYTES;
        let bom = first.starts_with("\u{feff}".as_bytes());
        let start = if bom { 3 } else { 0 };
        // Judge the encoding on whole lines, so a character cut by the block's end does not count.
        let whole = if at_end {
            first.len()
        } else {
            first
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(start, |p| p + 1)
        };
        let encoding = if bom {
            "UTF-8-BOM"
        } else if simdutf8::basic::from_utf8(&first[start..whole]).is_ok() {
            "UTF-8"
        } else {
            "GBK"
        };
        let header_end = first_record_end(&first[start..]).map_or(first.len(), |end| start + end);
        let mut chunks = CsvChunks {
            path: path.to_path_buf(),
            file,
            headers: Vec::new(),
            options: polars::prelude::CsvReadOptions::default(),
            pending: first,
            consumed: header_end,
            decoded: String::new(),
            at_end,
            encoding,
            delimiter: b',',
            next_line: 2,
            started: false,
        };
        let header = chunks.text(start..header_end)?.to_string();
        chunks.delimiter = detect_delimiter(header.lines().next().unwrap_or(""));
        chunks.headers = header_names(path, header, chunks.delimiter)?;
        chunks.options = chunk_options(&chunks.headers, chunks.delimiter);
        Ok(chunks)
    }

    /// `pending[range]` as text.
    fn text(&mut self, range: std::ops::Range<usize>) -> Result<&str> {
        let bytes = &self.pending[range];
        if self.encoding == "GBK" {
            decode_gbk_into(&self.path, bytes, &mut self.decoded)?;
            return Ok(&self.decoded);
        }
        simdutf8::basic::from_utf8(bytes).map_err(|_| Error::Encoding {
            path: self.path.clone(),
        })
    }

    /// The range of `pending` holding the next chunk's whole records: at least `CHUNK_BYTES`
    /// unless the file ends first.
    fn next_range(&mut self) -> Result<std::ops::Range<usize>> {
        // Keep only what is not parsed yet, at the front of the buffer.
        self.pending.drain(..self.consumed);
        self.consumed = 0;
        loop {
            if !self.at_end && self.pending.len() < CHUNK_BYTES {
                let want = (CHUNK_BYTES - self.pending.len()) as u64;
                let read = (&mut self.file)
                    .take(want)
                    .read_to_end(&mut self.pending)
                    .map_err(|e| Error::io(&self.path, e))?;
                self.at_end = read == 0;
                continue;
            }
            if self.at_end {
                self.consumed = self.pending.len();
                return Ok(0..self.pending.len());
            }
            // A record longer than a chunk: read on until it ends.
            let Some(end) = last_record_end(&self.pending) else {
                let read = (&mut self.file)
                    .take(CHUNK_BYTES as u64)
                    .read_to_end(&mut self.pending)
                    .map_err(|e| Error::io(&self.path, e))?;
                self.at_end = read == 0;
                continue;
            };
            self.consumed = end;
            return Ok(0..end);
        }
    }

    fn next_chunk(&mut self) -> Result<Option<RawTable>> {
        let range = self.next_range()?;
        let blank = self.pending[range.clone()]
            .iter()
            .all(u8::is_ascii_whitespace);
        if self.started && blank {
            return Ok(None);
        }
        self.started = true;
        let columns = if blank {
            self.headers.iter().map(|_| no_text()).collect()
        } else {
            let (path, options, width) =
                (self.path.clone(), self.options.clone(), self.headers.len());
            parse(&path, self.text(range)?, options, width)?
        };
        let n = columns.first().map_or(0, |c| c.len()) as u64;
        let mut raw = RawTable::new(
            self.headers.clone(),
            columns,
            (self.next_line..self.next_line + n).collect(),
        );
        raw.encoding = Some(self.encoding);
        self.next_line += n;
        Ok(Some(raw))
    }
}

impl Iterator for CsvChunks {
    type Item = Result<RawTable>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk().transpose()
    }
}

/// The whole of a small CSV file (a reference table) as one table of plain text columns.
pub fn read_whole(path: &Path) -> Result<RawTable> {
    let chunks: Vec<RawTable> = CsvChunks::open(path)?.collect::<Result<_>>()?;
    let Some(first) = chunks.first() else {
        return Err(Error::Usage(format!("{} is empty", path.display())));
    };
    let columns = (0..first.headers.len())
        .map(|i| {
            let parts: Vec<&dyn arrow::array::Array> =
                chunks.iter().map(|c| c.columns[i].as_ref()).collect();
            let joined = arrow::compute::concat(&parts)?;
            arrow::compute::cast(&joined, &arrow::datatypes::DataType::Utf8)
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut whole = RawTable::new(
        first.headers.clone(),
        columns,
        chunks.iter().flat_map(|c| c.rows.iter().copied()).collect(),
    );
    whole.encoding = first.encoding;
    Ok(whole)
}

/// The end (just past the newline) of the first record of `bytes`; `None` when no record ends
/// in `bytes`. Quotes are tracked so that a newline inside a quoted field does not end a record.
/// GBK's second bytes never take the values of `"` or a newline, so this is safe on undecoded
/// GBK too.
fn first_record_end(bytes: &[u8]) -> Option<usize> {
    let mut quoted = false;
    for i in memchr::memchr2_iter(b'"', b'\n', bytes) {
        if bytes[i] == b'"' {
            quoted = !quoted;
        } else if !quoted {
            return Some(i + 1);
        }
    }
    None
}

/// The end (just past the newline) of the last record of `bytes`; `None` when no record ends in
/// `bytes`. A newline is outside quotes when an even number of quotes comes before it, so the
/// quotes are counted once and the newlines are tried from the end.
fn last_record_end(bytes: &[u8]) -> Option<usize> {
    let mut quotes_before = memchr::memchr_iter(b'"', bytes).count();
    let mut end = bytes.len();
    loop {
        let newline = memchr::memrchr(b'\n', &bytes[..end])?;
        quotes_before -= memchr::memchr_iter(b'"', &bytes[newline..end]).count();
        if quotes_before.is_multiple_of(2) {
            return Some(newline + 1);
        }
        end = newline;
    }
}

/// The delimiter of a header line: the most frequent of `,` tab `;` `|` outside quotes.
pub fn detect_delimiter(header: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b'\t', 0), (b';', 0), (b'|', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
            c.1 += 1;
        }
    }
    counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(d, _)| *d)
}

/// The header names of a header line, as polars reads them.
fn header_names(path: &Path, header: String, delimiter: u8) -> Result<Vec<String>> {
    use polars::prelude::{CsvParseOptions, CsvReadOptions, SerReader};
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .with_parse_options(CsvParseOptions::default().with_separator(delimiter))
        .into_reader_with_file_handle(std::io::Cursor::new(header.into_bytes()))
        .finish()
        .map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect())
}

/// A text column without rows.
fn no_text() -> ArrayRef {
    Arc::new(StringViewArray::from(Vec::<&str>::new()))
}

/// Options that parse CSV records (no header line) into text columns named `headers`.
fn chunk_options(headers: &[String], delimiter: u8) -> polars::prelude::CsvReadOptions {
    use polars::prelude::{CsvParseOptions, CsvReadOptions, DataType, Field, Schema};
    // Every column as text: types are the contract's business, and raw values go to quarantine as written.
    let schema: Schema = headers
        .iter()
        .map(|h| Field::new(h.as_str().into(), DataType::String))
        .collect();
    CsvReadOptions::default()
        .with_has_header(false)
        .with_schema(Some(Arc::new(schema)))
        .with_rechunk(false)
        // One thread per chunk: the chunks before it are being checked on the other cores. With
        // this and uncompressed dates, scale 10 took 3% less time (medians of 6 runs).
        .with_n_threads(Some(1))
        .with_raise_if_empty(false)
        .with_parse_options(
            CsvParseOptions::default()
                .with_separator(delimiter)
                .with_truncate_ragged_lines(true),
        )
}

/// Parses CSV records with polars (`options` from [`chunk_options`]) into `width` text columns.
/// Polars parses in parts, in parallel; each column's parts are joined by their views, sharing
/// the text.
fn parse(
    path: &Path,
    text: &str,
    options: polars::prelude::CsvReadOptions,
    width: usize,
) -> Result<Vec<ArrayRef>> {
    use polars::prelude::{CompatLevel, PolarsError, SerReader};
    let parse_err = |message: String| Error::Parse {
        path: path.to_path_buf(),
        message,
    };
    let mut df = options
        .into_reader_with_file_handle(std::io::Cursor::new(text.as_bytes()))
        .finish()
        .map_err(|e: PolarsError| parse_err(e.to_string()))?;
    df.align_chunks();
    let mut parts: Vec<Vec<ArrayRef>> = vec![Vec::new(); width];
    for batch in df.iter_chunks(CompatLevel::newest(), false) {
        for (i, (field, array)) in batch.schema().iter_values().zip(batch.arrays()).enumerate() {
            parts[i].push(crate::bridge::to_arrow_rs(field, array.clone()).map_err(parse_err)?);
        }
    }
    parts
        .into_iter()
        .map(|part| {
            let part: Vec<&dyn arrow::array::Array> = part.iter().map(AsRef::as_ref).collect();
            if part.is_empty() {
                Ok(no_text())
            } else {
                arrow::compute::concat(&part).map_err(|e| parse_err(e.to_string()))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_end_outside_quotes() {
        let text = b"a,b\n1,\"x\ny\"\n2,z\n";
        assert_eq!(first_record_end(text), Some(4));
        assert_eq!(first_record_end(&text[4..]), Some(8));
        assert_eq!(last_record_end(text), Some(text.len()));
        assert_eq!(
            last_record_end(&text[..text.len() - 1]),
            Some(text.len() - 4)
        );
        assert_eq!(last_record_end(b"1,\"open\n"), None);
        assert_eq!(last_record_end(b"1,\"a\"\"\nb\"\n2,\"c\n"), Some(10));
    }

    #[test]
    fn a_file_larger_than_a_chunk_reads_in_chunks_with_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        let rows = 400_000;
        let mut text = String::from("编号,名称\n");
        for i in 0..rows {
            text.push_str(&format!("{i},\"名称 {i}\"\n"));
        }
        std::fs::write(&path, text).unwrap();
        let chunks: Vec<RawTable> = CsvChunks::open(&path)
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert!(chunks.len() > 1, "{} chunks", chunks.len());
        let lines: Vec<u64> = chunks.iter().flat_map(|c| c.rows.clone()).collect();
        assert_eq!(lines.len(), rows);
        assert_eq!(lines[0], 2);
        assert_eq!(*lines.last().unwrap(), rows as u64 + 1);
        let last = chunks.last().unwrap();
        let names = super::super::TextColumn::of(last.columns[1].as_ref()).unwrap();
        assert_eq!(
            names.get(last.rows.len() - 1),
            Some(format!("名称 {}", rows - 1).as_str())
        );
        assert!(chunks.iter().all(|c| c.headers == ["编号", "名称"]));
    }
}
