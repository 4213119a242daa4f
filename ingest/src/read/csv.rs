//! Delimited text, read in chunks of whole records so that memory does not grow with the file:
//! the encoding (UTF-8, UTF-8 with a byte-order mark, GBK/GB18030) and the delimiter are found
//! from the first block, and each chunk is decoded (GBK only) and split into text columns that
//! share its text ([`super::records`]).

use std::io::Read;
use std::path::{Path, PathBuf};

use arrow::array::AsArray;
use arrow::buffer::Buffer;

use super::records::{self, SplitError};
use super::{RawTable, decode_gbk_lossy};
use crate::{Error, Result};

/// Bytes of text per chunk (a chunk is extended to the end of its last record). The chunks in
/// flight hold the peak, which is why chunks are small: with 4 MiB chunks the member registry
/// peaked at about 310 MiB at scale 1 and 430 MiB at scale 10.
///
/// Half a MiB keeps each column of a chunk (one 16-byte view per cell, about 5,000 cells) under
/// mimalloc's 84 KiB medium-block limit. With 1 MiB chunks each column was a "large" block, which
/// mimalloc serves from a fresh 4 MiB mapping that it unmaps when freed (`src/allocator.rs`): at
/// scale 10, about 350,000 page faults and 400 `munmap`s with their TLB shootdowns. At 512 KiB,
/// 120,000 faults, and 5% less time and CPU (medians of 6 alternating runs: 3.63 s against
/// 3.83 s) for the same peak memory.
pub const CHUNK_BYTES: usize = 1 << 19;

/// The longest record (line, or lines within quotes) a return may hold: a row of a county
/// return is a few hundred bytes, so a longer one is a damaged file or an unclosed quote, and
/// reading on would hold all of it in memory.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// A CSV file being read chunk by chunk.
pub struct CsvChunks {
    path: PathBuf,
    file: std::fs::File,
    /// The header names.
    headers: Vec<String>,
    /// Bytes read and not yet split; they start at a record boundary.
    pending: Vec<u8>,
    at_end: bool,
    encoding: &'static str,
    delimiter: u8,
    /// The line number of the next data row.
    next_line: u64,
    /// Whether a chunk has been returned (the first is returned even when empty).
    started: bool,
}

/// The rows of `columns` with a U+FFFD in some cell.
fn rows_with_replacements(columns: &[arrow::array::ArrayRef]) -> Vec<usize> {
    let mut rows = std::collections::BTreeSet::new();
    for column in columns {
        if let Some(cells) = column.as_string_view_opt() {
            for (row, cell) in cells.iter().enumerate() {
                if cell.is_some_and(|c| c.contains('\u{FFFD}')) {
                    rows.insert(row);
                }
            }
        }
    }
    rows.into_iter().collect()
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
        let header_end =
            records::first_record_end(&first[start..]).map_or(first.len(), |end| start + end);
        let mut chunks = CsvChunks {
            path: path.to_path_buf(),
            file,
            headers: Vec::new(),
            pending: first,
            at_end,
            encoding,
            delimiter: b',',
            next_line: 2,
            started: false,
        };
        let (header, replaced) = chunks.text(header_end);
        if replaced {
            // Not GBK at all (or its header is damaged): nothing in it can be trusted.
            return Err(Error::Encoding {
                path: path.to_path_buf(),
            });
        }
        let header = std::str::from_utf8(&header[start.min(header.len())..]).map_err(|_| {
            Error::Encoding {
                path: path.to_path_buf(),
            }
        })?;
        chunks.delimiter = records::detect_delimiter(header.lines().next().unwrap_or(""));
        chunks.headers = records::header_names(header, chunks.delimiter);
        Ok(chunks)
    }

    /// The first `end` bytes of `pending`, taken out of it and decoded to UTF-8 (checked by
    /// [`records::split`] for UTF-8 files), and whether they held bytes that are not GBK (read
    /// as U+FFFD).
    fn text(&mut self, end: usize) -> (Buffer, bool) {
        let mut rest = Vec::with_capacity(CHUNK_BYTES.max(self.pending.len() - end));
        rest.extend_from_slice(&self.pending[end..]);
        self.pending.truncate(end);
        let bytes = std::mem::replace(&mut self.pending, rest);
        if self.encoding == "GBK" {
            // A few bad bytes cost the rows that hold them (quarantined), not the return.
            let (text, replaced) = decode_gbk_lossy(&bytes);
            return (Buffer::from_vec(text.into_bytes()), replaced);
        }
        (Buffer::from_vec(bytes), false)
    }

    /// The length of the next chunk's whole records at the front of `pending`: at least
    /// `CHUNK_BYTES` unless the file ends first.
    fn next_end(&mut self) -> Result<usize> {
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
                return Ok(self.pending.len());
            }
            // A record longer than a chunk: read on until it ends, up to a bound.
            let Some(end) = records::last_record_end(&self.pending) else {
                if self.pending.len() > MAX_RECORD_BYTES {
                    return Err(Error::Parse {
                        path: self.path.clone(),
                        message: format!(
                            "a record from line {} on is longer than {} MiB; a row of a return \
                             is far shorter: check that its quotes are closed, or that this is \
                             the return meant",
                            self.next_line,
                            MAX_RECORD_BYTES >> 20
                        ),
                    });
                }
                let read = (&mut self.file)
                    .take(CHUNK_BYTES as u64)
                    .read_to_end(&mut self.pending)
                    .map_err(|e| Error::io(&self.path, e))?;
                self.at_end = read == 0;
                continue;
            };
            return Ok(end);
        }
    }

    fn next_chunk(&mut self) -> Result<Option<RawTable>> {
        let end = self.next_end()?;
        let blank = self.pending[..end].iter().all(u8::is_ascii_whitespace);
        if self.started && self.at_end && blank {
            return Ok(None);
        }
        self.started = true;
        let (text, replaced) = self.text(end);
        let split = records::split(text, self.delimiter, self.headers.len(), self.next_line)
            .map_err(|e| match e {
                SplitError::NotUtf8 => Error::Encoding {
                    path: self.path.clone(),
                },
                SplitError::TooLong => Error::Parse {
                    path: self.path.clone(),
                    message: format!(
                        "a record from line {} on is 4 GiB or longer; check that its quotes are closed",
                        self.next_line
                    ),
                },
            })?;
        self.next_line = split.next_line;
        let mut raw = RawTable::new(self.headers.clone(), split.columns, split.lines);
        raw.overlong = split.overlong;
        if replaced {
            raw.undecodable = rows_with_replacements(&raw.columns);
        }
        raw.encoding = Some(self.encoding);
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

#[cfg(test)]
mod tests {
    use super::*;

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
