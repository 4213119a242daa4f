//! Validation and normalisation of a return against its table's contract, column by column:
//! every cell is repaired to its canonical value or its row goes to quarantine with the rule it
//! broke.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryBuilder, BooleanArray, BooleanBuilder, Date32Builder,
    Decimal128Builder, Float64Array, Float64Builder, Int64Array, Int64Builder, RecordBatch,
    StringArray, StringBuilder, TimestampMicrosecondArray,
};
use arrow::datatypes::{Field, Float64Type, Int64Type};
use unionstat_datasets::codes;
use unionstat_datasets::crs::Crs;
use unionstat_tables::{Contract, Kind, PART_WHOLE, TableSpec};

use crate::keys::SeenKeys;
use crate::normalise::{self, DateError};
use crate::pii::{self, HashKey};
use crate::places::{TownIndex, Towns, industry_code};
use crate::read::{RawTable, TextColumn};
use crate::rules::Rule;

/// A rejected row or a warning, with where and why.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// 1-based row number in the file.
    pub row: u64,
    /// Canonical column name ("" for a whole-row rule).
    pub column: String,
    /// The header as written.
    pub header: String,
    /// The rule broken.
    pub rule: Rule,
    /// The cell as written (ID numbers hashed, phones masked).
    pub value: String,
}

/// Everything the validator needs to know about the return and its surroundings.
#[derive(Debug, Clone)]
pub struct Context {
    /// The reporting county.
    pub county_code: &'static str,
    /// The reporting period (year).
    pub period: i32,
    /// Keys ID-number hashes.
    pub key: HashKey,
    /// The CRS of coordinates when a row does not say.
    pub default_crs: Crs,
    /// Lineage.
    pub submission_id: String,
    /// Lineage: the file as the user named it.
    pub source_file: String,
    /// Lineage: microseconds since the epoch.
    pub ingested_at: i64,
}

/// What validation carries from one chunk of a return to the next.
#[derive(Debug, Default)]
pub struct AcrossChunks {
    /// The keys of the rows so far.
    seen: SeenKeys,
    /// The lineage columns that hold one value for the whole return, built once and sliced.
    constants: Vec<ArrayRef>,
    /// The sheet they were built for.
    sheet: Option<String>,
}

impl AcrossChunks {
    /// The constant lineage columns (county, submission, file, sheet), `n` rows long.
    fn constants(&mut self, ctx: &Context, sheet: Option<&str>, n: usize) -> Vec<ArrayRef> {
        let stale =
            self.constants.first().is_none_or(|c| c.len() < n) || self.sheet.as_deref() != sheet;
        if stale {
            let len = n.next_power_of_two();
            let repeat = |v: Option<&str>| {
                Arc::new(StringArray::from_iter(std::iter::repeat_n(v, len))) as ArrayRef
            };
            self.constants = vec![
                repeat(Some(ctx.county_code)),
                repeat(Some(&ctx.submission_id)),
                repeat(Some(&ctx.source_file)),
                repeat(sheet),
            ];
            self.sheet = sheet.map(str::to_string);
        }
        self.constants.iter().map(|c| c.slice(0, n)).collect()
    }
}

/// The outcome of validating one return.
#[derive(Debug)]
pub struct Validated {
    /// Rows that passed, in the lake's schema.
    pub batch: RecordBatch,
    /// Rows that failed (one finding per broken rule), with their raw values.
    pub rejected: Vec<(Finding, String)>,
    /// Rows loaded with a warning.
    pub warnings: Vec<Finding>,
    /// Number of data rows read.
    pub rows_read: usize,
}

/// The findings of one chunk so far, and which of its rows broke a rule.
struct Checks<'a> {
    spec: &'static TableSpec,
    raw: &'a RawTable,
    text: Vec<TextColumn<'a>>,
    /// For each raw column, the contract column it carries.
    columns: &'a [usize],
    /// For each contract column, the raw column that carries it.
    source: Vec<Option<usize>>,
    key: &'a HashKey,
    /// Findings with the index of their row in the chunk, in the order they were found.
    findings: Vec<(usize, Finding)>,
    bad: Vec<bool>,
}

impl<'a> Checks<'a> {
    /// The checks of `raw`, whose column `i` is contract column `columns[i]`, with what was found
    /// so far.
    fn new(
        spec: &'static TableSpec,
        raw: &'a RawTable,
        columns: &'a [usize],
        key: &'a HashKey,
        findings: Vec<(usize, Finding)>,
        bad: Vec<bool>,
    ) -> std::result::Result<Self, arrow::error::ArrowError> {
        let mut source: Vec<Option<usize>> = vec![None; spec.columns.len()];
        for (raw_i, &c) in columns.iter().enumerate() {
            source[c] = Some(raw_i);
        }
        Ok(Checks {
            spec,
            raw,
            text: raw
                .columns
                .iter()
                .map(|a| TextColumn::of(a.as_ref()))
                .collect::<std::result::Result<_, _>>()?,
            columns,
            source,
            key,
            findings,
            bad,
        })
    }

    /// The raw text of contract column `c`; `None` when the return lacks it.
    fn column(&self, c: usize) -> Option<TextColumn<'a>> {
        self.source[c].map(|i| self.text[i])
    }

    /// Contract column `c` of `row`, trimmed; `None` when blank or absent.
    fn cell(&self, c: usize, row: usize) -> Option<&'a str> {
        trimmed(self.column(c)?.get(row)?)
    }

    fn reject(&mut self, row: usize, column: &str, header: String, rule: Rule, value: String) {
        self.bad[row] = true;
        self.findings.push((
            row,
            Finding {
                row: self.raw.rows[row],
                column: column.to_string(),
                header,
                rule,
                value,
            },
        ));
    }

    /// Reads every cell of contract column `c` with `parse`, handing each value (`None` when
    /// blank or broken) to `out` and recording the broken and the missing.
    fn each_cell<T>(
        &mut self,
        c: usize,
        mut parse: impl FnMut(&'a str) -> Result<T, Rule>,
        mut out: impl FnMut(Option<T>),
    ) {
        let col = &self.spec.columns[c];
        let text = self.column(c);
        for row in 0..self.raw.rows.len() {
            let Some(s) = text.and_then(|t| trimmed(t.get(row)?)) else {
                if col.required {
                    self.reject_cell(row, c, Rule::MissingRequired, String::new());
                }
                out(None);
                continue;
            };
            match parse(s) {
                Ok(v) => out(Some(v)),
                Err(rule) => {
                    let value = shown(col.kind, s, self.key);
                    self.reject_cell(row, c, rule, value);
                    out(None);
                }
            }
        }
    }

    fn reject_cell(&mut self, row: usize, c: usize, rule: Rule, value: String) {
        let header = self.source[c].map_or_else(String::new, |r| self.raw.headers[r].clone());
        self.reject(row, self.spec.columns[c].name, header, rule, value);
    }
}

/// A cell without surrounding white space, `None` when nothing is left. Most cells start and end
/// with a visible ASCII character and are returned as they are.
fn trimmed(cell: &str) -> Option<&str> {
    let visible = |b: &u8| b.is_ascii_graphic();
    let bytes = cell.as_bytes();
    if bytes.first().is_some_and(visible) && bytes.last().is_some_and(visible) {
        return Some(cell);
    }
    let s = cell.trim();
    (!s.is_empty()).then_some(s)
}

/// A chunk whose cells have been read into their lake types and checked by every rule that needs
/// only the chunk itself. Chunks are checked in parallel; [`finish`] then takes them in order.
#[derive(Debug)]
pub struct Checked {
    raw: RawTable,
    /// The lake's columns for every row of the chunk, the bad ones included.
    arrays: Vec<ArrayRef>,
    findings: Vec<(usize, Finding)>,
    bad: Vec<bool>,
    warnings: Vec<Finding>,
}

/// Checks `raw` (a return, or a chunk of one), whose column `i` is contract column `columns[i]`.
/// Each column is read in one pass into its lake type, then the rules across columns follow.
pub fn check(
    contract: &Contract,
    raw: RawTable,
    columns: &[usize],
    ctx: &Context,
) -> std::result::Result<Checked, arrow::error::ArrowError> {
    let spec = contract.spec;
    let n = raw.rows.len();
    let mut checks = Checks::new(spec, &raw, columns, &ctx.key, Vec::new(), vec![false; n])?;
    let schema = contract.lake_schema();
    let year_inserted = spec.index("year").is_none();
    // The lake's columns: the year when the return has none, then the return's columns.
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    if year_inserted {
        arrays.push(Arc::new(Int64Array::from(vec![i64::from(ctx.period); n])));
    }
    let towns = Towns::of_county(ctx.county_code);
    for (c, col) in spec.columns.iter().enumerate() {
        let field = schema.field(arrays.len());
        arrays.push(parse_column(
            &mut checks,
            c,
            col.kind,
            contract.allowed(col.name),
            field,
            &towns,
        )?);
    }
    let offset = usize::from(year_inserted);
    let ints = |c: usize| arrays[offset + c].as_primitive::<Int64Type>();

    // Counts that cannot exceed another.
    for (part, whole) in PART_WHOLE {
        let (Some(p), Some(w)) = (spec.index(part), spec.index(whole)) else {
            continue;
        };
        // Members above employees has a rule of its own: it is the figure clerks most often swap.
        let rule = if (part, whole) == ("members", "employees") {
            Rule::MembersExceedEmployees
        } else {
            Rule::PartExceedsWhole
        };
        let (p, w) = (ints(p), ints(w));
        for row in 0..n {
            if p.is_valid(row) && w.is_valid(row) && p.value(row) > w.value(row) {
                let value = format!("{} > {}", p.value(row), w.value(row));
                checks.reject(row, part, String::new(), rule, value);
            }
        }
    }
    for &(row, cells) in &raw.overlong {
        let value = format!("{cells} cells, {} headers", raw.headers.len());
        checks.reject(row, "", String::new(), Rule::ExtraCells, value);
    }
    for &row in &raw.undecodable {
        checks.reject(
            row,
            "",
            String::new(),
            Rule::BadBytes,
            "\u{FFFD}".to_string(),
        );
    }
    if let Some(year) = spec.index("year") {
        let years = ints(year);
        for row in 0..n {
            if years.is_valid(row) && years.value(row) != i64::from(ctx.period) {
                let value = years.value(row).to_string();
                checks.reject(row, "year", String::new(), Rule::WrongPeriod, value);
            }
        }
    }
    let mut warnings = Vec::new();
    if let Some((lon, lat)) = spec.index("lon").zip(spec.index("lat")) {
        place_points(
            &mut checks,
            &mut arrays,
            offset,
            (lon, lat),
            ctx,
            &mut warnings,
        )?;
    }
    let (findings, bad) = (checks.findings, checks.bad);
    Ok(Checked {
        raw,
        arrays,
        findings,
        bad,
        warnings,
    })
}

/// Finishes a checked chunk, in the order of the return: rejects the rows that repeat the key
/// of an earlier good row (`across` holds the keys of the chunks before), keeps the rows that
/// broke no rule, and adds their lineage.
pub fn finish(
    contract: &Contract,
    checked: Checked,
    columns: &[usize],
    ctx: &Context,
    across: &mut AcrossChunks,
) -> std::result::Result<Validated, arrow::error::ArrowError> {
    let spec = contract.spec;
    let Checked {
        raw,
        mut arrays,
        findings,
        bad,
        warnings,
    } = checked;
    let n = raw.rows.len();
    let mut checks = Checks::new(spec, &raw, columns, &ctx.key, findings, bad)?;
    // Duplicates among the rows that broke no other rule.
    let key_cols: Vec<usize> = contract.key.iter().filter_map(|k| spec.index(k)).collect();
    if !key_cols.is_empty() {
        for row in 0..n {
            if checks.bad[row] {
                continue;
            }
            let key = key_cols.iter().map(|&c| checks.cell(c, row).unwrap_or(""));
            if !across.seen.insert(key.clone()) {
                let value = key.collect::<Vec<_>>().join("|");
                checks.reject(row, "", String::new(), Rule::DuplicateRow, value);
            }
        }
    }

    // A row's findings together, in the order the rules were checked.
    let mut findings = std::mem::take(&mut checks.findings);
    findings.sort_by_key(|(row, _)| *row);
    let mut rejected = Vec::with_capacity(findings.len());
    let mut last: Option<(usize, String)> = None;
    for (row, finding) in findings {
        if last.as_ref().is_none_or(|(r, _)| *r != row) {
            last = Some((row, raw_row(&checks, row)));
        }
        if let Some((_, raw_json)) = &last {
            rejected.push((finding, raw_json.clone()));
        }
    }
    let mut source_row: ArrayRef = Arc::new(Int64Array::from_iter_values(
        raw.rows.iter().map(|&r| r as i64),
    ));
    if checks.bad.contains(&true) {
        let keep = BooleanArray::from(checks.bad.iter().map(|b| !b).collect::<Vec<_>>());
        let filter = |a: &ArrayRef| arrow::compute::filter(a, &keep);
        arrays = arrays
            .iter()
            .map(filter)
            .collect::<std::result::Result<_, _>>()?;
        source_row = filter(&source_row)?;
    }
    let good = source_row.len();
    // The lineage columns, in the order of `lineage_fields`.
    arrays.extend(across.constants(ctx, raw.sheet.as_deref(), good));
    arrays.push(source_row);
    arrays.push(Arc::new(
        TimestampMicrosecondArray::from(vec![ctx.ingested_at; good]).with_timezone("UTC"),
    ));
    let batch = RecordBatch::try_new(contract.lake_schema(), arrays)?;
    Ok(Validated {
        batch,
        rejected,
        warnings,
        rows_read: n,
    })
}

/// Contract column `c` of every row, read into the lake type of `field`.
fn parse_column<'a>(
    checks: &mut Checks<'a>,
    c: usize,
    kind: Kind,
    allowed: Option<&'static [&'static str]>,
    field: &Field,
    towns: &Towns,
) -> std::result::Result<ArrayRef, arrow::error::ArrowError> {
    let n = checks.raw.rows.len();
    Ok(match kind {
        Kind::Int => {
            let mut b = Int64Builder::with_capacity(n);
            checks.each_cell(c, whole_number, |v| b.append_option(v));
            Arc::new(b.finish())
        }
        Kind::Money => {
            let mut b =
                Decimal128Builder::with_capacity(n).with_data_type(field.data_type().clone());
            checks.each_cell(c, money, |v| b.append_option(v.map(i128::from)));
            Arc::new(b.finish())
        }
        Kind::Degrees => {
            let mut b = Float64Builder::with_capacity(n);
            let degrees = |s: &str| {
                normalise::number(s)
                    .and_then(|v| v.parse().ok())
                    .ok_or(Rule::TextInNumber)
            };
            checks.each_cell(c, degrees, |v| b.append_option(v));
            Arc::new(b.finish())
        }
        Kind::Date => {
            let mut b = Date32Builder::with_capacity(n);
            checks.each_cell(c, date, |v| b.append_option(v));
            Arc::new(b.finish())
        }
        Kind::Bool => {
            let mut b = BooleanBuilder::with_capacity(n);
            let yes_no = |s: &str| match s {
                "是" => Ok(true),
                "否" => Ok(false),
                _ => normalise::boolean(s).ok_or(Rule::BadYesNo),
            };
            checks.each_cell(c, yes_no, |v| b.append_option(v));
            Arc::new(b.finish())
        }
        Kind::Town => {
            let mut b = StringBuilder::with_capacity(n, n * 9);
            let code = remember_last(|s| towns.code(s).ok_or(Rule::UnknownTown));
            checks.each_cell(c, code, |v| b.append_option(v));
            Arc::new(b.finish())
        }
        Kind::Industry => {
            let mut b = StringBuilder::with_capacity(n, n);
            let code = remember_last(|s| industry_code(s).ok_or(Rule::UnknownIndustry));
            checks.each_cell(c, code, |v| b.append_option(v));
            Arc::new(b.finish())
        }
        Kind::Uscc => {
            let mut b = StringBuilder::with_capacity(n, n * 18);
            let uscc = remember_last(|s: &str| {
                let code = normalise::half_width(s).to_uppercase();
                if codes::uscc_is_valid(&code) {
                    Ok(Arc::<str>::from(code))
                } else {
                    Err(Rule::BadUscc)
                }
            });
            checks.each_cell(c, uscc, |v| b.append_option(v));
            Arc::new(b.finish())
        }
        Kind::IdNumber => {
            let key = checks.key.clone();
            let mut b = BinaryBuilder::with_capacity(n, n * pii::ID_HASH_BYTES);
            let hashed = |s: &str| {
                let id = normalise::half_width(s);
                let valid = if id.bytes().any(|b| b.is_ascii_lowercase()) {
                    codes::id_is_valid(&id.to_uppercase())
                } else {
                    codes::id_is_valid(&id)
                };
                valid.then(|| key.hash_id(&id)).ok_or(Rule::BadIdNumber)
            };
            checks.each_cell(c, hashed, |v| b.append_option(v));
            Arc::new(b.finish())
        }
        Kind::Phone => {
            let mut b = StringBuilder::with_capacity(n, n * 11);
            checks.each_cell(c, |s| Ok(pii::mask_phone(s)), |v| b.append_option(v));
            Arc::new(b.finish())
        }
        Kind::Text => {
            let mut b = StringBuilder::with_capacity(n, n * 8);
            let text = |s: &'a str| {
                let v = match normalise::half_width(s) {
                    Cow::Borrowed(v) => Cow::Borrowed(v.trim()),
                    Cow::Owned(v) => Cow::Owned(v.trim().to_string()),
                };
                match allowed {
                    Some(allowed) if !allowed.contains(&v.as_ref()) => Err(Rule::NotAllowed),
                    _ => Ok(v),
                }
            };
            checks.each_cell(c, text, |v| b.append_option(v));
            Arc::new(b.finish())
        }
    })
}

/// `parse` answering a cell equal to the one before from memory: registers list a union's
/// members together, so towns and credit codes come in runs.
fn remember_last<'a, T: Clone>(
    mut parse: impl FnMut(&'a str) -> Result<T, Rule>,
) -> impl FnMut(&'a str) -> Result<T, Rule> {
    let mut last: Option<(&'a str, Result<T, Rule>)> = None;
    move |s| {
        if let Some((prev, answer)) = &last
            && *prev == s
        {
            return answer.clone();
        }
        let answer = parse(s);
        last = Some((s, answer.clone()));
        answer
    }
}

/// A count: plain digits directly, anything else through [`normalise::integer`].
fn whole_number(s: &str) -> Result<i64, Rule> {
    let v = if (1..=18).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        s.bytes().fold(0, |v, b| v * 10 + i64::from(b - b'0'))
    } else {
        normalise::integer(s).ok_or(Rule::TextInNumber)?
    };
    if v < 0 {
        Err(Rule::NegativeNumber)
    } else {
        Ok(v)
    }
}

/// An amount in fen (see [`normalise::money_fen`]).
fn money(s: &str) -> Result<i64, Rule> {
    match normalise::money_fen(s) {
        Some(v) if v < 0 => Err(Rule::NegativeNumber),
        Some(v) => Ok(v),
        None => Err(Rule::TextInNumber),
    }
}

/// A date: `2017-03-05` directly, any other form through [`normalise::date`].
fn date(s: &str) -> Result<i32, Rule> {
    let b = s.as_bytes();
    let iso = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    let day = if iso {
        let num =
            |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |v, d| v * 10 + u32::from(d - b'0'));
        normalise::days_from_epoch(num(0..4) as i32, num(5..7), num(8..10))
            .ok_or(DateError::Impossible)
    } else {
        normalise::date(s)
    };
    day.map_err(|e| match e {
        DateError::Impossible => Rule::ImpossibleDate,
        DateError::NotADate => Rule::NotADate,
    })
}

/// Points to WGS-84, and placed in a town when the return leaves the town blank; a declared town
/// that does not contain its point is a warning. Tables with points are small (unions, sites), so
/// this goes row by row.
fn place_points(
    checks: &mut Checks<'_>,
    arrays: &mut [ArrayRef],
    offset: usize,
    (lon_c, lat_c): (usize, usize),
    ctx: &Context,
    warnings: &mut Vec<Finding>,
) -> std::result::Result<(), arrow::error::ArrowError> {
    let spec = checks.spec;
    let n = checks.raw.rows.len();
    let floats = |c: usize| -> Vec<Option<f64>> {
        arrays[offset + c]
            .as_primitive::<Float64Type>()
            .iter()
            .collect()
    };
    let texts = |c: usize| -> Vec<Option<String>> {
        arrays[offset + c]
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    };
    let (mut lon, mut lat) = (floats(lon_c), floats(lat_c));
    let crs_col = spec.index("crs");
    let town_col = spec.index("town");
    let mut crs_out = crs_col.map(texts);
    let mut town_out = town_col.map(texts);
    for row in 0..n {
        let (Some(x), Some(y)) = (lon[row], lat[row]) else {
            continue;
        };
        let crs = crs_col
            .and_then(|c| checks.cell(c, row))
            .map_or(Some(checks.raw.crs.unwrap_or(ctx.default_crs)), Crs::parse);
        match crs {
            Some(crs) if (73.0..136.0).contains(&x) && (3.0..54.0).contains(&y) => {
                let (x, y) = crs.to_wgs84(x, y);
                let (x, y) = ((x * 1e6).round() / 1e6, (y * 1e6).round() / 1e6);
                lon[row] = Some(x);
                lat[row] = Some(y);
                if let Some(crs_out) = &mut crs_out {
                    crs_out[row] = Some(Crs::Wgs84.name().to_string());
                }
                if let Some(town_out) = &mut town_out {
                    match (&town_out[row], TownIndex::reference().town_at(x, y)) {
                        (None, Some(code)) => town_out[row] = Some(code.to_string()),
                        (Some(declared), Some(code)) if declared != code => {
                            warnings.push(Finding {
                                row: checks.raw.rows[row],
                                column: "town".into(),
                                header: String::new(),
                                rule: Rule::TownDisagreesWithPoint,
                                value: format!("{declared} vs {code}"),
                            })
                        }
                        _ => {}
                    }
                }
            }
            _ => checks.reject(
                row,
                "lon",
                String::new(),
                Rule::BadCoordinates,
                format!("{x},{y}"),
            ),
        }
    }
    arrays[offset + lon_c] = Arc::new(Float64Array::from(lon));
    arrays[offset + lat_c] = Arc::new(Float64Array::from(lat));
    for (c, values) in [(crs_col, crs_out), (town_col, town_out)] {
        if let (Some(c), Some(values)) = (c, values) {
            arrays[offset + c] = Arc::new(StringArray::from(values));
        }
    }
    Ok(())
}

/// A cell as it may be shown in a message or kept in quarantine.
fn shown(kind: Kind, s: &str, key: &HashKey) -> String {
    match kind {
        Kind::IdNumber => key.id_label(s),
        Kind::Phone => pii::mask_phone(s),
        _ => pii::redact(s, key),
    }
}

/// The raw row as JSON (header -> value), personal data hashed or masked.
fn raw_row(checks: &Checks<'_>, row: usize) -> String {
    let mut map = serde_json::Map::new();
    for (i, text) in checks.text.iter().enumerate() {
        let Some(value) = text.get(row) else {
            continue;
        };
        let kind = checks
            .columns
            .get(i)
            .map_or(Kind::Text, |&c| checks.spec.columns[c].kind);
        map.insert(
            checks.raw.headers[i].clone(),
            serde_json::Value::String(shown(kind, value, checks.key)),
        );
    }
    serde_json::Value::Object(map).to_string()
}
