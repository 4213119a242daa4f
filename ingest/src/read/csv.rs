//! Delimited text, read in chunks of whole records so that memory does not grow with the file:
//! the encoding (UTF-8, UTF-8 with a byte-order mark, GBK/GB18030) and the delimiter are found
//! from the first block, each chunk is parsed by polars (every column as text) and handed to
//! arrow-rs through the Arrow C Data Interface.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};

use super::{RawTable, decode_gbk};
use crate::{Error, Result};

/// Bytes of text per chunk (a chunk is extended to the end of its last record).
pub const CHUNK_BYTES: usize = 8 << 20;

/// A CSV file being read chunk by chunk.
pub struct CsvChunks {
    path: PathBuf,
    file: std::fs::File,
    /// The header record, as bytes, ending in its newline.
    header: Vec<u8>,
    /// Bytes read but not yet parsed; always starts at a record boundary.
    pending: Vec<u8>,
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
        let mut first = Vec::new();
        (&mut file)
            .take(CHUNK_BYTES as u64)
            .read_to_end(&mut first)
            .map_err(|e| Error::io(path, e))?;
        let at_end = first.len() < CHUNK_BYTES;
        let bom = first.starts_with("\u{feff}".as_bytes());
        if bom {
            first.drain(..3);
        }
        // Judge the encoding on whole lines, so a character cut by the block's end does not count.
        let whole = if at_end {
            first.len()
        } else {
            first.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1)
        };
        let encoding = if bom {
            "UTF-8-BOM"
        } else if std::str::from_utf8(&first[..whole]).is_ok() {
            "UTF-8"
        } else {
            "GBK"
        };
        let header_end = record_boundary(&first, false).map_or(first.len(), |end| end);
        let header = first[..header_end].to_vec();
        let pending = first[header_end..].to_vec();
        let mut chunks = CsvChunks {
            path: path.to_path_buf(),
            file,
            header,
            pending,
            at_end,
            encoding,
            delimiter: b',',
            next_line: 2,
            started: false,
        };
        let header_text = chunks.decode(chunks.header.clone())?;
        chunks.delimiter = detect_delimiter(header_text.lines().next().unwrap_or(""));
        Ok(chunks)
    }

    fn decode(&self, bytes: Vec<u8>) -> Result<String> {
        match self.encoding {
            "GBK" => decode_gbk(&self.path, &bytes),
            _ => String::from_utf8(bytes).map_err(|_| Error::Encoding {
                path: self.path.clone(),
            }),
        }
    }

    /// The next chunk's bytes: whole records, at least `CHUNK_BYTES` unless the file ends first.
    fn next_bytes(&mut self) -> Result<Vec<u8>> {
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
                return Ok(std::mem::take(&mut self.pending));
            }
            // A record longer than a chunk: read on until it ends.
            let Some(end) = record_boundary(&self.pending, true) else {
                let read = (&mut self.file)
                    .take(CHUNK_BYTES as u64)
                    .read_to_end(&mut self.pending)
                    .map_err(|e| Error::io(&self.path, e))?;
                self.at_end = read == 0;
                continue;
            };
            let rest = self.pending.split_off(end);
            return Ok(std::mem::replace(&mut self.pending, rest));
        }
    }

    fn next_chunk(&mut self) -> Result<Option<RawTable>> {
        let body = self.next_bytes()?;
        if self.started && body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        self.started = true;
        let mut bytes = self.header.clone();
        if !bytes.ends_with(b"\n") && !bytes.is_empty() {
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(&body);
        let text = self.decode(bytes)?;
        let (headers, columns) = parse(&self.path, text, self.delimiter)?;
        let n = columns.first().map_or(0, |c| c.len()) as u64;
        let mut raw = RawTable::new(
            headers,
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

/// The end (just past the newline) of the first record of `bytes`, or of the last one when
/// `last`; `None` when no record ends in `bytes`. Quotes are tracked so that a newline inside a
/// quoted field does not end a record. GBK's second bytes never take the values of `"` or a
/// newline, so this is safe on undecoded GBK too.
fn record_boundary(bytes: &[u8], last: bool) -> Option<usize> {
    let mut quoted = false;
    let mut found = None;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                found = Some(i + 1);
                if !last {
                    break;
                }
            }
            _ => {}
        }
    }
    found
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

/// Parses CSV text (header line first) with polars into headers and text columns.
fn parse(path: &Path, text: String, delimiter: u8) -> Result<(Vec<String>, Vec<ArrayRef>)> {
    use polars::prelude::{CompatLevel, CsvParseOptions, CsvReadOptions, PolarsError, SerReader};
    let polars_err = |e: PolarsError| Error::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    // Every column as text: types are the contract's business, and raw values go to quarantine as written.
    let mut df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .with_parse_options(
            CsvParseOptions::default()
                .with_separator(delimiter)
                .with_truncate_ragged_lines(true),
        )
        .into_reader_with_file_handle(std::io::Cursor::new(text.into_bytes()))
        .finish()
        .map_err(polars_err)?;
    df.align_chunks();
    let headers: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut columns: Vec<Vec<ArrayRef>> = vec![Vec::new(); headers.len()];
    for batch in df.iter_chunks(CompatLevel::oldest(), false) {
        for (i, (field, array)) in batch.schema().iter_values().zip(batch.arrays()).enumerate() {
            columns[i].push(crate::bridge::to_arrow_rs(field, array.clone()).map_err(
                |message| Error::Parse {
                    path: path.to_path_buf(),
                    message,
                },
            )?);
        }
    }
    let columns = columns
        .into_iter()
        .map(|chunks| {
            let refs: Vec<&dyn arrow::array::Array> = chunks.iter().map(AsRef::as_ref).collect();
            let joined = if refs.is_empty() {
                Arc::new(StringArray::from(Vec::<Option<&str>>::new())) as ArrayRef
            } else {
                arrow::compute::concat(&refs)?
            };
            arrow::compute::cast(&joined, &arrow::datatypes::DataType::Utf8)
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok((headers, columns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Array;

    #[test]
    fn records_end_outside_quotes() {
        let text = b"a,b\n1,\"x\ny\"\n2,z\n";
        assert_eq!(record_boundary(text, false), Some(4));
        assert_eq!(record_boundary(text, true), Some(text.len()));
        assert_eq!(record_boundary(b"1,\"open\n", true), None);
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
        let names = arrow::array::AsArray::as_string::<i32>(last.columns[1].as_ref());
        assert_eq!(names.value(names.len() - 1), format!("名称 {}", rows - 1));
        assert!(chunks.iter().all(|c| c.headers == ["编号", "名称"]));
    }
}
