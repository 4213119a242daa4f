//! The syntax of delimited text: where records end, which delimiter a header uses, and how whole
//! records split into text columns.
//!
//! A quote starts or ends quoted text wherever it stands, so a delimiter or newline between
//! quotes belongs to the cell, and two quotes inside quoted text stand for one. A record ends at a
//! newline outside quotes (a carriage return before it is dropped); empty lines hold no record.

use std::sync::Arc;

use arrow::array::builder::NullBufferBuilder;
use arrow::array::{ArrayRef, StringViewArray};
use arrow::buffer::{Buffer, ScalarBuffer};

/// The end (just past the newline) of the first record of `bytes`; `None` when no record ends
/// in `bytes`. GBK's second bytes never take the values of `"` or a newline, so this is safe on
/// undecoded GBK too.
pub fn first_record_end(bytes: &[u8]) -> Option<usize> {
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
pub fn last_record_end(bytes: &[u8]) -> Option<usize> {
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

/// The column names of a header record: a blank name becomes `column_N` (N counted from 1) and
/// the K-th repeat of a name becomes `NAME_duplicated_K` (K counted from 0).
pub fn header_names(header: &str, delimiter: u8) -> Vec<String> {
    let cells = cells(header.trim_end_matches(['\r', '\n']), delimiter);
    cells
        .iter()
        .enumerate()
        .map(|(i, cell)| {
            let repeats = cells[..i].iter().filter(|c| *c == cell).count();
            if cell.is_empty() {
                format!("column_{}", i + 1)
            } else if repeats > 0 {
                format!("{cell}_duplicated_{}", repeats - 1)
            } else {
                cell.clone()
            }
        })
        .collect()
}

/// The cells of one record, unquoted.
fn cells(record: &str, delimiter: u8) -> Vec<String> {
    let mut cells = Vec::new();
    let (mut start, mut quoted) = (0, false);
    let bytes = record.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == delimiter && !quoted {
            cells.push(unquote(&record[start..i]));
            start = i + 1;
        }
    }
    cells.push(unquote(&record[start..]));
    cells
}

/// A cell without its quotes: each quote is dropped, except that two quotes inside quoted text
/// stand for one.
fn unquote(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len());
    let mut quoted = false;
    let mut chars = cell.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '"' {
            out.push(c);
        } else if quoted && chars.peek() == Some(&'"') {
            out.push('"');
            chars.next();
        } else {
            quoted = !quoted;
        }
    }
    out
}

/// Whole records split into text columns.
#[derive(Debug)]
pub struct Records {
    /// One text column per name; blank cells, and cells that a short record lacks, are null.
    pub columns: Vec<ArrayRef>,
    /// The records with cells past the last column that are not blank: the record's index, and
    /// its number of cells. Their cells past the last column are not kept.
    pub overlong: Vec<(usize, usize)>,
    /// The line each record starts on.
    pub lines: Vec<u64>,
    /// The line after the text.
    pub next_line: u64,
}

/// Why text could not be split.
#[derive(Debug, PartialEq, Eq)]
pub enum SplitError {
    /// The text is not UTF-8.
    NotUtf8,
    /// The text is 4 GiB or longer (one record that long, since a chunk ends after a record).
    TooLong,
}

/// Splits `text`, whole records whose first starts on line `first_line`, into `width` text
/// columns. The columns share `text` rather than copying it: a cell is a view of it, unless
/// quotes had to be taken out.
pub fn split(
    text: Buffer,
    delimiter: u8,
    width: usize,
    first_line: u64,
) -> Result<Records, SplitError> {
    let bytes = text.as_slice();
    simdutf8::basic::from_utf8(bytes).map_err(|_| SplitError::NotUtf8)?;
    if u32::try_from(bytes.len()).is_err() {
        return Err(SplitError::TooLong);
    }
    let mut out = Splitter::new(bytes, width);
    let (mut start, mut quotes, mut quoted) = (0, 0, false);
    let mut line = first_line;
    let mut record_line = first_line;
    for i in memchr::memchr3_iter(delimiter, b'"', b'\n', bytes) {
        match bytes[i] {
            b'"' => {
                quoted = !quoted;
                quotes += 1;
                continue;
            }
            b'\n' if quoted => line += 1,
            _ if quoted => {}
            b'\n' => {
                let end = if bytes[..i].ends_with(b"\r") {
                    i - 1
                } else {
                    i
                };
                out.end_record(start..end, quotes, record_line);
                line += 1;
                record_line = line;
            }
            _ => out.cell(start..i, quotes),
        }
        if !quoted {
            (start, quotes) = (i + 1, 0);
        }
    }
    // The last record when no newline ends it.
    if start < bytes.len() || out.column > 0 {
        let end = if !quoted && bytes[start..].ends_with(b"\r") {
            bytes.len() - 1
        } else {
            bytes.len()
        };
        out.end_record(start..end, quotes, record_line);
    }
    // The columns hold `text` (a shared buffer) while `out` reads it.
    Ok(out.finish(text.clone(), line))
}

/// The columns of [`split`] as they fill.
struct Splitter<'a> {
    bytes: &'a [u8],
    /// For each column, a view of each cell (into `bytes`, or into `unquoted`) and which are blank.
    views: Vec<Vec<u128>>,
    nulls: Vec<NullBufferBuilder>,
    /// Cells with their quotes taken out.
    unquoted: Vec<u8>,
    /// The column of the next cell.
    column: usize,
    /// Whether the record has a cell past the last column that is not blank.
    spills: bool,
    overlong: Vec<(usize, usize)>,
    lines: Vec<u64>,
}

impl<'a> Splitter<'a> {
    fn new(bytes: &'a [u8], width: usize) -> Self {
        let rows = memchr::memchr_iter(b'\n', bytes).count() + 1;
        Splitter {
            bytes,
            views: (0..width).map(|_| Vec::with_capacity(rows)).collect(),
            nulls: (0..width).map(|_| NullBufferBuilder::new(rows)).collect(),
            unquoted: Vec::new(),
            column: 0,
            spills: false,
            overlong: Vec::new(),
            lines: Vec::with_capacity(rows),
        }
    }

    /// The cell at `range` of the text, which holds `quotes` quotes.
    fn cell(&mut self, range: std::ops::Range<usize>, quotes: usize) {
        let column = self.column;
        self.column += 1;
        if column >= self.views.len() {
            let blank = |b: &u8| b.is_ascii_whitespace() || *b == b'"';
            self.spills |= !self.bytes[range].iter().all(blank);
            return;
        }
        let mut cell = &self.bytes[range.clone()];
        let mut offset = range.start;
        if quotes == 2 && cell.len() >= 2 && cell[0] == b'"' && cell[cell.len() - 1] == b'"' {
            cell = &cell[1..cell.len() - 1];
            offset += 1;
        }
        let view = if cell.is_empty() {
            None
        } else if quotes == 0 || offset > range.start {
            Some(view(cell, 0, offset as u32))
        } else {
            // Every cell starts and ends at an ASCII byte or at an end of the text, so it is
            // UTF-8 whenever the text is.
            let text = unquote(std::str::from_utf8(cell).unwrap_or_default());
            let view = view(text.as_bytes(), 1, self.unquoted.len() as u32);
            self.unquoted.extend_from_slice(text.as_bytes());
            (!text.is_empty()).then_some(view)
        };
        self.views[column].push(view.unwrap_or(0));
        self.nulls[column].append(view.is_some());
    }

    /// The last cell of a record that starts on `line`; a record of one empty cell is an empty
    /// line, and no record.
    fn end_record(&mut self, last: std::ops::Range<usize>, quotes: usize, line: u64) {
        if self.column == 0 && last.is_empty() {
            return;
        }
        self.cell(last, quotes);
        for column in self.column..self.views.len() {
            self.views[column].push(0);
            self.nulls[column].append_null();
        }
        if self.spills {
            self.overlong.push((self.lines.len(), self.column));
        }
        (self.column, self.spills) = (0, false);
        self.lines.push(line);
    }

    fn finish(self, text: Buffer, next_line: u64) -> Records {
        let buffers = vec![text, Buffer::from_vec(self.unquoted)];
        let columns = self
            .views
            .into_iter()
            .zip(self.nulls)
            .map(|(views, mut nulls)| {
                let views = ScalarBuffer::from(views);
                // SAFETY: `split` checked that the text is UTF-8, and every cell starts and ends at
                // an ASCII byte (a delimiter, quote, carriage return or newline) or at an end of
                // the text, so every cell is UTF-8, and so is a cell with its quotes taken out.
                // Each view was made by `view` from a cell lying at its offset in its buffer.
                #[allow(unsafe_code)]
                let array = unsafe {
                    StringViewArray::new_unchecked(views, buffers.clone(), nulls.finish())
                };
                Arc::new(array) as ArrayRef
            })
            .collect();
        Records {
            columns,
            overlong: self.overlong,
            lines: self.lines,
            next_line,
        }
    }
}

/// The view of `cell`, which lies at `offset` in buffer `buffer`: Arrow's string-view layout, in
/// which a cell of up to 12 bytes is held in the view itself.
#[inline]
fn view(cell: &[u8], buffer: u32, offset: u32) -> u128 {
    let len = cell.len() as u128;
    if cell.len() <= 12 {
        let mut inline = [0u8; 16];
        inline[4..4 + cell.len()].copy_from_slice(cell);
        return u128::from_le_bytes(inline) | len;
    }
    let prefix = u32::from_le_bytes([cell[0], cell[1], cell[2], cell[3]]);
    len | u128::from(prefix) << 32 | u128::from(buffer) << 64 | u128::from(offset) << 96
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::TextColumn;

    /// The cells of `text` split `width` wide, row by row, checked as arrow checks any array.
    fn split_rows(text: &str, delimiter: u8, width: usize) -> (Vec<Vec<Option<String>>>, Vec<u64>) {
        let split = split(Buffer::from(text.as_bytes()), delimiter, width, 2).unwrap();
        for column in &split.columns {
            column.to_data().validate_full().unwrap();
        }
        let n = split.lines.len();
        let rows = (0..n)
            .map(|r| {
                split
                    .columns
                    .iter()
                    .map(|c| TextColumn::of(c.as_ref()).unwrap().get(r).map(String::from))
                    .collect()
            })
            .collect();
        (rows, split.lines)
    }

    fn cells(cells: &[Option<&str>]) -> Vec<Option<String>> {
        cells.iter().map(|c| c.map(String::from)).collect()
    }

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
    fn cells_are_split_unquoted_and_blank_ones_are_null() {
        let text = "张三,\"福建省龙岩市, 新罗区\",,\"\"\r\n\"他说\"\"好\"\"\",13800000000,是,x\r\n";
        let (rows, lines) = split_rows(text, b',', 4);
        assert_eq!(
            rows,
            [
                cells(&[Some("张三"), Some("福建省龙岩市, 新罗区"), None, None]),
                cells(&[
                    Some("他说\"好\""),
                    Some("13800000000"),
                    Some("是"),
                    Some("x")
                ]),
            ]
        );
        assert_eq!(lines, [2, 3]);
    }

    #[test]
    fn short_records_are_padded_long_ones_flagged_and_empty_lines_skipped_but_counted() {
        let text = "a\n\n\r\nb,c,d,e\n\"多\n行\",f\ng\th";
        let (rows, lines) = split_rows(text, b',', 3);
        assert_eq!(
            rows,
            [
                cells(&[Some("a"), None, None]),
                cells(&[Some("b"), Some("c"), Some("d")]),
                cells(&[Some("多\n行"), Some("f"), None]),
                cells(&[Some("g\th"), None, None]),
            ]
        );
        // The record with a newline in quotes starts on line 6 and the next on line 8.
        assert_eq!(lines, [2, 5, 6, 8]);
        let long = split(Buffer::from(text.as_bytes()), b',', 3, 2).unwrap();
        assert_eq!(long.overlong, [(1, 4)]);
        // Empty cells past the last column, as spreadsheets write them, are no loss.
        let trailing = split(Buffer::from(&b"a,b,c,, \r\n"[..]), b',', 3, 2).unwrap();
        assert_eq!(trailing.overlong, []);
        let (rows, _) = split_rows("a,b\r", b',', 2);
        assert_eq!(rows, [cells(&[Some("a"), Some("b")])]);
        let (rows, _) = split_rows("g\th\tlonger than twelve bytes\n", b'\t', 3);
        assert_eq!(
            rows,
            [cells(&[
                Some("g"),
                Some("h"),
                Some("longer than twelve bytes")
            ])]
        );
    }

    #[test]
    fn any_text_splits_into_valid_columns() {
        // Random text from the characters that matter, each split checked by `rows`.
        let pieces = [
            "a",
            "中",
            ",",
            "\"",
            "\"\"",
            "\n",
            "\r\n",
            " ",
            "0123456789abc",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..(state % 40) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            let (rows, lines) = split_rows(&text, b',', 3);
            assert_eq!(rows.len(), lines.len(), "{text:?}");
            assert!(lines.windows(2).all(|w| w[0] < w[1]), "{text:?}");
        }
    }

    #[test]
    fn text_that_is_not_utf8_is_refused() {
        let gbk = Buffer::from(&b"\xd5\xc5\xc8\xfd,1\n"[..]);
        assert_eq!(split(gbk, b',', 2, 2).unwrap_err(), SplitError::NotUtf8);
    }

    #[test]
    fn header_names_are_unquoted_and_made_distinct() {
        assert_eq!(
            header_names("姓名,\"身份证号\",,姓名,姓名\r\n", b','),
            [
                "姓名",
                "身份证号",
                "column_3",
                "姓名_duplicated_0",
                "姓名_duplicated_1"
            ]
        );
        assert_eq!(detect_delimiter("a\tb\t\"c,d\""), b'\t');
    }
}
