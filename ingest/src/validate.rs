//! Row-by-row validation and normalisation of a return against its table's contract: every cell
//! is repaired to its canonical value or the row goes to quarantine with the rule it broke.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder,
    Int64Array, Int64Builder, RecordBatch, StringArray, StringBuilder, TimestampMicrosecondArray,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, FieldRef};
use unionstat_datasets::codes;
use unionstat_datasets::crs::Crs;
use unionstat_datasets::schema::Kind;

use crate::contract::Contract;
use crate::normalise::{self, DateError};
use crate::pii::{self, HashKey};
use crate::places::{TownIndex, Towns, industry_code};
use crate::read::RawTable;
use crate::rules::Rule;

/// A rejected row or a warning, with where and why.
#[derive(Debug, Clone, serde::Serialize)]
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
    /// Town boundaries for points.
    pub town_index: Arc<TownIndex>,
    /// The CRS of coordinates when a row does not say.
    pub default_crs: Crs,
    /// Lineage.
    pub submission_id: String,
    /// Lineage: the file as the user named it.
    pub source_file: String,
    /// Lineage: microseconds since the epoch.
    pub ingested_at: i64,
}

/// The keys of the rows of a return seen so far, as 128-bit hashes (so that a return of millions
/// of rows needs little memory to find its duplicates).
#[derive(Debug, Default)]
pub struct SeenKeys(HashSet<u128>);

impl SeenKeys {
    /// Records the key made of `parts`; false when it was seen before.
    fn insert<'a>(&mut self, parts: impl Iterator<Item = &'a str> + Clone) -> bool {
        use std::hash::{Hash, Hasher};
        let half = |salt: u8| {
            let mut h = std::hash::DefaultHasher::new();
            salt.hash(&mut h);
            for part in parts.clone() {
                part.hash(&mut h);
            }
            h.finish()
        };
        self.0
            .insert((u128::from(half(0)) << 64) | u128::from(half(1)))
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

enum Parsed {
    Null,
    Int(i64),
    Fen(i64),
    Float(f64),
    Date(i32),
    Bool(bool),
    Text(String),
    /// A code from the reference data (town, industry, coordinate system).
    Code(&'static str),
}

/// Validates `raw` (a return, or a chunk of one), whose column `i` is contract column
/// `columns[i]`; `seen` holds the keys of the return's rows before this chunk.
pub fn validate(
    contract: &Contract,
    raw: &RawTable,
    columns: &[usize],
    ctx: &Context,
    seen: &mut SeenKeys,
) -> std::result::Result<Validated, arrow::error::ArrowError> {
    let spec = contract.spec;
    let towns = Towns::of_county(ctx.county_code);
    let n = raw.rows.len();
    let text: Vec<_> = raw.columns.iter().map(|a| a.as_string::<i32>()).collect();
    // For each contract column, the raw column that carries it.
    let mut source: Vec<Option<usize>> = vec![None; spec.columns.len()];
    for (raw_i, &c) in columns.iter().enumerate() {
        source[c] = Some(raw_i);
    }
    let schema = contract.lake_schema();
    // Builders for the year and the return's columns; the lineage columns are built at the end.
    let lineage = crate::contract::lineage_fields().len();
    let data_fields = &schema.fields()[..schema.fields().len() - lineage];
    let mut builders: Vec<Box<dyn arrow::array::ArrayBuilder>> = data_fields
        .iter()
        .map(|f| make_builder(f.data_type(), n))
        .collect();
    // The file row of each good row.
    let mut good_rows: Vec<i64> = Vec::with_capacity(n);
    let mut rejected = Vec::new();
    let mut warnings = Vec::new();
    let key_cols: Vec<usize> = contract.key.iter().filter_map(|k| spec.index(k)).collect();
    let year_col = spec.index("year");
    // Counts that cannot exceed another: (part, its column, the whole's column, the rule).
    let bounded: Vec<(&str, usize, usize, Rule)> = [
        ("members", "employees", Rule::MembersExceedEmployees),
        ("female_members", "members", Rule::PartExceedsWhole),
        ("migrant_members", "members", Rule::PartExceedsWhole),
        ("new_migrant_members", "new_members", Rule::PartExceedsWhole),
        ("offers_replied", "offers_sent", Rule::PartExceedsWhole),
        ("recommended", "results", Rule::PartExceedsWhole),
        ("converted", "recommended", Rule::PartExceedsWhole),
    ]
    .into_iter()
    .filter_map(|(part, whole, rule)| Some((part, spec.index(part)?, spec.index(whole)?, rule)))
    .collect();
    let point_cols = spec.index("lon").zip(spec.index("lat"));
    let crs_col = spec.index("crs");
    let town_col = spec.index("town");
    let allowed: Vec<_> = spec
        .columns
        .iter()
        .map(|c| contract.allowed(c.name))
        .collect();
    let mut values: Vec<Parsed> = Vec::with_capacity(spec.columns.len());

    for row in 0..n {
        let row_no = raw.rows[row];
        let cell = |c: usize| {
            source[c]
                .and_then(|r| (!text[r].is_null(row)).then(|| text[r].value(row).trim()))
                .filter(|s| !s.is_empty())
        };
        let mut findings: Vec<Finding> = Vec::new();
        let finding = |c: usize, rule: Rule, value: &str| Finding {
            row: row_no,
            column: spec.columns[c].name.to_string(),
            header: source[c].map_or_else(String::new, |r| raw.headers[r].clone()),
            rule,
            value: value.to_string(),
        };
        values.clear();
        for (c, col) in spec.columns.iter().enumerate() {
            let Some(s) = cell(c) else {
                if col.required {
                    findings.push(finding(c, Rule::MissingRequired, ""));
                }
                values.push(Parsed::Null);
                continue;
            };
            let parsed = match col.kind {
                Kind::Int => match normalise::integer(s) {
                    Some(v) if v < 0 => Err(Rule::NegativeNumber),
                    Some(v) => Ok(Parsed::Int(v)),
                    None => Err(Rule::TextInNumber),
                },
                Kind::Money => match normalise::money_fen(s) {
                    Some(v) if v < 0 => Err(Rule::NegativeNumber),
                    Some(v) => Ok(Parsed::Fen(v)),
                    None => Err(Rule::TextInNumber),
                },
                Kind::Degrees => normalise::number(s)
                    .and_then(|v| v.parse().ok())
                    .map(Parsed::Float)
                    .ok_or(Rule::TextInNumber),
                Kind::Date => match normalise::date(s) {
                    Ok(d) => Ok(Parsed::Date(d)),
                    Err(DateError::Impossible) => Err(Rule::ImpossibleDate),
                    Err(DateError::NotADate) => Err(Rule::NotADate),
                },
                Kind::Bool => normalise::boolean(s)
                    .map(Parsed::Bool)
                    .ok_or(Rule::BadYesNo),
                Kind::Town => towns.code(s).map(Parsed::Code).ok_or(Rule::UnknownTown),
                Kind::Industry => industry_code(s)
                    .map(Parsed::Code)
                    .ok_or(Rule::UnknownIndustry),
                Kind::Uscc => {
                    let code = normalise::half_width(s).to_uppercase();
                    if codes::uscc_is_valid(&code) {
                        Ok(Parsed::Text(code))
                    } else {
                        Err(Rule::BadUscc)
                    }
                }
                Kind::IdNumber => {
                    let id = normalise::half_width(s).to_uppercase();
                    if codes::id_is_valid(&id) {
                        Ok(Parsed::Text(ctx.key.hash_id(&id)))
                    } else {
                        Err(Rule::BadIdNumber)
                    }
                }
                Kind::Phone => Ok(Parsed::Text(pii::mask_phone(s))),
                Kind::Text => {
                    let v = normalise::half_width(s).trim().to_string();
                    match allowed[c] {
                        Some(allowed) if !allowed.contains(&v.as_str()) => Err(Rule::NotAllowed),
                        _ => Ok(Parsed::Text(v)),
                    }
                }
            };
            match parsed {
                Ok(v) => values.push(v),
                Err(rule) => {
                    findings.push(finding(c, rule, &shown(col.kind, s, &ctx.key)));
                    values.push(Parsed::Null);
                }
            }
        }
        let int = |c: usize| match values[c] {
            Parsed::Int(v) => Some(v),
            _ => None,
        };
        // Rules across columns.
        for &(part, p, w, rule) in &bounded {
            if let (Some(p), Some(w)) = (int(p), int(w))
                && p > w
            {
                findings.push(Finding {
                    column: part.into(),
                    header: String::new(),
                    rule,
                    value: format!("{p} > {w}"),
                    row: row_no,
                });
            }
        }
        if let Some(y) = year_col.and_then(int)
            && y != i64::from(ctx.period)
        {
            findings.push(Finding {
                column: "year".into(),
                header: String::new(),
                rule: Rule::WrongPeriod,
                value: y.to_string(),
                row: row_no,
            });
        }
        // Points: to WGS-84, and placed in a town when the return leaves it blank.
        if let Some((lon_c, lat_c)) = point_cols
            && let (Parsed::Float(lon), Parsed::Float(lat)) = (&values[lon_c], &values[lat_c])
        {
            let crs = crs_col
                .and_then(&cell)
                .map_or(Some(raw.crs.unwrap_or(ctx.default_crs)), Crs::parse);
            match crs {
                Some(crs) if (73.0..136.0).contains(lon) && (3.0..54.0).contains(lat) => {
                    let (x, y) = crs.to_wgs84(*lon, *lat);
                    let (x, y) = ((x * 1e6).round() / 1e6, (y * 1e6).round() / 1e6);
                    values[lon_c] = Parsed::Float(x);
                    values[lat_c] = Parsed::Float(y);
                    if let Some(c) = crs_col {
                        values[c] = Parsed::Code(Crs::Wgs84.name());
                    }
                    if let Some(tc) = town_col {
                        let found = ctx.town_index.town_at(x, y);
                        match (&values[tc], found) {
                            (Parsed::Null, Some(code)) => values[tc] = Parsed::Code(code),
                            (Parsed::Code(declared), Some(code)) if *declared != code => warnings
                                .push(Finding {
                                    row: row_no,
                                    column: "town".into(),
                                    header: String::new(),
                                    rule: Rule::TownDisagreesWithPoint,
                                    value: format!("{declared} vs {code}"),
                                }),
                            _ => {}
                        }
                    }
                }
                _ => findings.push(Finding {
                    row: row_no,
                    column: "lon".into(),
                    header: String::new(),
                    rule: Rule::BadCoordinates,
                    value: format!("{lon},{lat}"),
                }),
            }
        }
        if findings.is_empty() && !key_cols.is_empty() {
            let key = key_cols.iter().map(|&c| cell(c).unwrap_or(""));
            if !seen.insert(key.clone()) {
                findings.push(Finding {
                    row: row_no,
                    column: String::new(),
                    header: String::new(),
                    rule: Rule::DuplicateRow,
                    value: key.collect::<Vec<_>>().join("|"),
                });
            }
        }
        if findings.is_empty() {
            append(
                &mut builders,
                data_fields,
                spec.index("year").is_none(),
                values.drain(..),
                ctx,
            )?;
            good_rows.push(row_no as i64);
        } else {
            let raw_json = raw_row(raw, row, &ctx.key, contract, columns);
            rejected.extend(findings.into_iter().map(|f| (f, raw_json.clone())));
        }
    }
    let good = good_rows.len();
    let mut arrays: Vec<ArrayRef> = builders.iter_mut().map(|b| b.finish()).collect();
    // The lineage columns, in the order of `lineage_fields`.
    arrays.extend([
        Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
            ctx.county_code,
            good,
        ))) as ArrayRef,
        Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
            &ctx.submission_id,
            good,
        ))),
        Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
            &ctx.source_file,
            good,
        ))),
        Arc::new(StringArray::from_iter(std::iter::repeat_n(
            raw.sheet.as_deref(),
            good,
        ))),
        Arc::new(Int64Array::from(good_rows)),
        Arc::new(TimestampMicrosecondArray::from(vec![ctx.ingested_at; good]).with_timezone("UTC")),
    ]);
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    Ok(Validated {
        batch,
        rejected,
        warnings,
        rows_read: n,
    })
}

/// A cell as it may be shown in a message or kept in quarantine.
fn shown(kind: Kind, s: &str, key: &HashKey) -> String {
    match kind {
        Kind::IdNumber => format!("id:{}", &key.hash_id(s)[..16]),
        Kind::Phone => pii::mask_phone(s),
        _ => pii::redact(s, key),
    }
}

/// The raw row as JSON (header -> value), personal data hashed or masked.
fn raw_row(
    raw: &RawTable,
    row: usize,
    key: &HashKey,
    contract: &Contract,
    columns: &[usize],
) -> String {
    let mut map = serde_json::Map::new();
    for (i, col) in raw.columns.iter().enumerate() {
        let a = col.as_string::<i32>();
        if a.is_null(row) {
            continue;
        }
        let kind = columns
            .get(i)
            .map_or(Kind::Text, |&c| contract.spec.columns[c].kind);
        map.insert(
            raw.headers[i].clone(),
            serde_json::Value::String(shown(kind, a.value(row), key)),
        );
    }
    serde_json::Value::Object(map).to_string()
}

fn make_builder(t: &DataType, n: usize) -> Box<dyn arrow::array::ArrayBuilder> {
    match t {
        DataType::Decimal128(p, s) => {
            match Decimal128Builder::with_capacity(n).with_precision_and_scale(*p, *s) {
                Ok(b) => Box::new(b),
                Err(_) => Box::new(Decimal128Builder::with_capacity(n)),
            }
        }
        DataType::Int64 => Box::new(Int64Builder::with_capacity(n)),
        DataType::Float64 => Box::new(Float64Builder::with_capacity(n)),
        DataType::Date32 => Box::new(Date32Builder::with_capacity(n)),
        DataType::Boolean => Box::new(BooleanBuilder::with_capacity(n)),
        DataType::Timestamp(_, _) => {
            Box::new(TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC"))
        }
        _ => Box::new(StringBuilder::with_capacity(n, n * 16)),
    }
}

/// Appends a good row's year and values to the builders of `fields`.
fn append(
    builders: &mut [Box<dyn arrow::array::ArrayBuilder>],
    fields: &[FieldRef],
    year_inserted: bool,
    values: impl Iterator<Item = Parsed>,
    ctx: &Context,
) -> std::result::Result<(), arrow::error::ArrowError> {
    let mut i = 0;
    let mut next = || {
        i += 1;
        i - 1
    };
    let downcast_err = || arrow::error::ArrowError::SchemaError("builder type mismatch".into());
    macro_rules! push {
        ($ty:ty, $v:expr) => {{
            let at = next();
            builders[at]
                .as_any_mut()
                .downcast_mut::<$ty>()
                .ok_or_else(downcast_err)?
                .append_option($v);
        }};
    }
    if year_inserted {
        push!(Int64Builder, Some(i64::from(ctx.period)));
    }
    for (v, field) in values.zip(fields.iter().skip(usize::from(year_inserted))) {
        match (field.data_type(), v) {
            (DataType::Int64, Parsed::Int(x)) => push!(Int64Builder, Some(x)),
            (DataType::Int64, _) => push!(Int64Builder, None::<i64>),
            (DataType::Decimal128(_, _), Parsed::Fen(x)) => {
                push!(Decimal128Builder, Some(i128::from(x)))
            }
            (DataType::Decimal128(_, _), _) => push!(Decimal128Builder, None::<i128>),
            (DataType::Float64, Parsed::Float(x)) => push!(Float64Builder, Some(x)),
            (DataType::Float64, _) => push!(Float64Builder, None::<f64>),
            (DataType::Date32, Parsed::Date(x)) => push!(Date32Builder, Some(x)),
            (DataType::Date32, _) => push!(Date32Builder, None::<i32>),
            (DataType::Boolean, Parsed::Bool(x)) => push!(BooleanBuilder, Some(x)),
            (DataType::Boolean, _) => push!(BooleanBuilder, None::<bool>),
            (_, Parsed::Text(s)) => push!(StringBuilder, Some(s)),
            (_, Parsed::Code(s)) => push!(StringBuilder, Some(s)),
            (_, _) => push!(StringBuilder, None::<String>),
        }
    }
    Ok(())
}
