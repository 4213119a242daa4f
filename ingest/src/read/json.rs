//! JSON returns: an array of records (`[{...}, ...]`), or one record per line (NDJSON, `.ndjson`,
//! `.jsonl`, or a `.json` file whose text does not start with `[`). Record keys are the headers;
//! numbers and booleans are read as written, nested values as their JSON text. One-record-per-line
//! files are read in chunks; an array is read whole.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{CHUNK_ROWS, Chunks, RawTable, decode, text_columns};
use crate::{Error, Result};

/// Opens a JSON or NDJSON file.
pub fn open(path: &Path) -> Result<Chunks> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let starts_with_array = loop {
        let buf = reader.fill_buf().map_err(|e| Error::io(path, e))?;
        match buf
            .iter()
            .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF)
        {
            Some(p) => break buf[p] == b'[',
            None if buf.is_empty() => break false,
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    };
    if starts_with_array {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut bytes).map_err(|e| Error::io(path, e))?;
        let (text, encoding) = decode(path, bytes)?;
        let records: Vec<Value> = serde_json::from_str(&text).map_err(|e| parse_err(path, &e))?;
        let mut headers = Vec::new();
        let mut rows = Vec::with_capacity(records.len());
        for (i, record) in records.iter().enumerate() {
            rows.push(cells(path, i as u64 + 1, record, &mut headers, true)?);
        }
        let mut raw = table(headers, &rows, 1);
        raw.encoding = Some(encoding);
        return Ok(Box::new(std::iter::once(Ok(raw))));
    }
    Ok(Box::new(LineChunks {
        path: path.to_path_buf(),
        reader,
        headers: Vec::new(),
        line: 0,
        started: false,
    }))
}

fn parse_err(path: &Path, e: &serde_json::Error) -> Error {
    Error::Parse {
        path: path.to_path_buf(),
        message: format!(
            "invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ),
    }
}

/// One record's cells in the order of `headers`; keys not seen before are added to `headers`
/// while `may_add`, and are an error after (they would have no column in earlier chunks).
fn cells(
    path: &Path,
    record_no: u64,
    record: &Value,
    headers: &mut Vec<String>,
    may_add: bool,
) -> Result<Vec<Option<String>>> {
    let Value::Object(map) = record else {
        return Err(Error::Parse {
            path: path.to_path_buf(),
            message: format!("record {record_no} is not a JSON object"),
        });
    };
    let mut row = vec![None; headers.len()];
    for (key, value) in map {
        let i = match headers.iter().position(|h| h == key) {
            Some(i) => i,
            None if may_add => {
                headers.push(key.clone());
                row.push(None);
                headers.len() - 1
            }
            None => {
                return Err(Error::Parse {
                    path: path.to_path_buf(),
                    message: format!(
                        "record {record_no} has the field 「{key}」 that the first {CHUNK_ROWS} records do not; \
                         give every record the same fields (null where empty)"
                    ),
                });
            }
        };
        row[i] = text(value);
    }
    Ok(row)
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(_) | Value::Object(_) => Some(value.to_string()),
    }
}

fn table(headers: Vec<String>, rows: &[Vec<Option<String>>], first_record: u64) -> RawTable {
    let width = headers.len();
    let numbers = (first_record..first_record + rows.len() as u64).collect();
    RawTable::new(headers, text_columns(rows, width), numbers)
}

/// An NDJSON file read `CHUNK_ROWS` records at a time.
struct LineChunks {
    path: PathBuf,
    reader: BufReader<std::fs::File>,
    headers: Vec<String>,
    line: u64,
    started: bool,
}

impl LineChunks {
    fn next_chunk(&mut self) -> Result<Option<RawTable>> {
        let mut rows = Vec::new();
        let mut numbers = Vec::new();
        let mut buf = Vec::new();
        while rows.len() < CHUNK_ROWS {
            buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| Error::io(&self.path, e))?;
            if n == 0 {
                break;
            }
            self.line += 1;
            let (text, _) = decode(&self.path, std::mem::take(&mut buf))?;
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let record: Value = serde_json::from_str(text).map_err(|e| Error::Parse {
                path: self.path.clone(),
                message: format!("line {}: invalid JSON: {e}", self.line),
            })?;
            let may_add = !self.started;
            rows.push(cells(
                &self.path,
                self.line,
                &record,
                &mut self.headers,
                may_add,
            )?);
            numbers.push(self.line);
        }
        if rows.is_empty() && self.started {
            return Ok(None);
        }
        self.started = true;
        let width = self.headers.len();
        Ok(Some(RawTable::new(
            self.headers.clone(),
            text_columns(&rows, width),
            numbers,
        )))
    }
}

impl Iterator for LineChunks {
    type Item = Result<RawTable>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk().transpose()
    }
}
