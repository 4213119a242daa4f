//! Faults and quirks injected into returns, as real ones have them. Faults must be rejected by
//! ingest; quirks must be repaired to the clean value. Each is recorded for the tests of ingest.

use crate::table::{Date, Value};
use unionstat_datasets::codes;
use unionstat_datasets::rng::Rng;
use unionstat_tables::{Kind, TableSpec};

use super::style::{Cell, canonical};

/// Whether an injected change must be rejected or repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Ingest must quarantine the row.
    Fault,
    /// Ingest must load the row with the clean value.
    Quirk,
}

/// What was injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A town name that is not in the reference list.
    UnknownTown,
    /// A USCC whose check character is wrong.
    BadUscc,
    /// Text where a number belongs.
    TextInNumber,
    /// A date that does not exist.
    ImpossibleDate,
    /// The same row twice (the second is the fault).
    DuplicateRow,
    /// More members than employees.
    MembersExceedEmployees,
    /// A required cell left blank.
    MissingRequired,
    /// A number written in 万 (ten thousands).
    WanUnit,
    /// Full-width digits.
    FullWidthDigits,
    /// A date written the Chinese way (2017年3月5日, 2017.3.5).
    ChineseDate,
    /// Yes/no written as 有/无, √/×, Y/N or 1/0.
    YesNoVariant,
    /// Thousands separators in a number.
    ThousandsSeparator,
}

impl Rule {
    /// Fault or quirk.
    pub fn severity(self) -> Severity {
        match self {
            Rule::WanUnit
            | Rule::FullWidthDigits
            | Rule::ChineseDate
            | Rule::YesNoVariant
            | Rule::ThousandsSeparator => Severity::Quirk,
            _ => Severity::Fault,
        }
    }
}

/// One injected change: which data row (0-based, among the rows as written) and column.
#[derive(Debug, Clone)]
pub struct Injection {
    /// Index of the written data row.
    pub row: usize,
    /// Column index (none for a duplicated row).
    pub column: Option<usize>,
    /// What was done.
    pub rule: Rule,
    /// The cell as written.
    pub written: String,
    /// For quirks, the value ingest must arrive at.
    pub expected: String,
}

const FAULTS: [Rule; 7] = [
    Rule::UnknownTown,
    Rule::BadUscc,
    Rule::TextInNumber,
    Rule::ImpossibleDate,
    Rule::DuplicateRow,
    Rule::MembersExceedEmployees,
    Rule::MissingRequired,
];
const QUIRKS: [Rule; 5] = [
    Rule::WanUnit,
    Rule::FullWidthDigits,
    Rule::ChineseDate,
    Rule::YesNoVariant,
    Rule::ThousandsSeparator,
];

/// Town names no reference list has.
const UNKNOWN_TOWNS: [&str; 6] = ["红星镇", "向阳乡", "新区街道", "东风镇", "前进乡", "城南"];

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap_or(c),
            '.' => '．',
            _ => c,
        })
        .collect()
}

fn with_separators(v: f64, decimals: usize) -> String {
    let text = format!("{v:.decimals$}");
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    frac.map_or(out.clone(), |f| format!("{out}.{f}"))
}

fn wan(v: f64) -> String {
    let text = format!("{:.6}", v / 10_000.0);
    format!("{}万", text.trim_end_matches('0').trim_end_matches('.'))
}

/// Picks columns of `spec` that `rule` can apply to in a row with these clean values.
fn candidates(spec: &TableSpec, values: &[Value], rule: Rule) -> Vec<usize> {
    spec.columns
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            let v = &values[*i];
            match rule {
                Rule::UnknownTown => c.kind == Kind::Town && c.required,
                Rule::BadUscc => c.kind == Kind::Uscc && !matches!(v, Value::Null),
                Rule::TextInNumber => c.kind.is_numeric() && c.required && c.name != "year",
                Rule::ImpossibleDate | Rule::ChineseDate => c.kind == Kind::Date,
                Rule::MissingRequired => c.required && c.name != "year",
                Rule::WanUnit => match v {
                    Value::Money(_) => v.number() >= 1_000.0,
                    _ => c.kind.is_numeric() && v.number() >= 10_000.0 && c.name != "year",
                },
                Rule::ThousandsSeparator => {
                    c.kind.is_numeric() && v.number() >= 1_000.0 && c.name != "year"
                }
                Rule::FullWidthDigits => c.kind.is_numeric() && !matches!(v, Value::Null),
                Rule::YesNoVariant => c.kind == Kind::Bool,
                Rule::MembersExceedEmployees => c.name == "members",
                Rule::DuplicateRow => false,
            }
        })
        .map(|(i, _)| i)
        .collect()
}

/// Applies `rule` to column `i` of a rendered row; returns what was written and what ingest should
/// arrive at.
fn apply(
    rng: &mut Rng,
    spec: &TableSpec,
    cells: &mut [Cell],
    values: &[Value],
    i: usize,
    rule: Rule,
) -> (String, String) {
    let expected = canonical(&values[i]);
    let written = match rule {
        Rule::UnknownTown => rng.pick(&UNKNOWN_TOWNS).to_string(),
        Rule::BadUscc => {
            let code = values[i].text();
            let good = code.chars().last().unwrap_or('0');
            let bad = if good == '1' { '2' } else { '1' };
            let wrong = format!("{}{bad}", &code[..code.len() - 1]);
            debug_assert!(!codes::uscc_is_valid(&wrong));
            wrong
        }
        Rule::TextInNumber => rng
            .pick(&["不详", "待统计", "约120", "—", "见附表"])
            .to_string(),
        Rule::ImpossibleDate => {
            let y = match &values[i] {
                Value::Date(d) => d.y,
                _ => 2017,
            };
            match rng.range(0, 2) {
                0 => format!("{y}-02-30"),
                1 => format!("{y}-13-05"),
                _ => format!("{y}年4月31日"),
            }
        }
        Rule::MissingRequired => String::new(),
        Rule::MembersExceedEmployees => {
            let employees = spec.index("employees").map_or(0.0, |e| values[e].number());
            let members = employees + rng.range(1, 40) as f64;
            cells[i] = Cell::Number(members, 0);
            return (format!("{members}"), expected);
        }
        Rule::WanUnit => wan(values[i].number()),
        Rule::ThousandsSeparator => {
            let decimals = if matches!(values[i], Value::Money(_)) {
                2
            } else {
                0
            };
            with_separators(values[i].number(), decimals)
        }
        Rule::FullWidthDigits => full_width(&cells[i].text()),
        Rule::ChineseDate => match &values[i] {
            Value::Date(Date { y, m, d }) if rng.chance(0.6) => format!("{y}年{m}月{d}日"),
            Value::Date(Date { y, m, d }) => format!("{y}.{m}.{d}"),
            _ => cells[i].text(),
        },
        Rule::YesNoVariant => {
            let yes = values[i] == Value::Bool(true);
            let (y, n) = *rng.pick(&[("有", "无"), ("√", "×"), ("Y", "N"), ("1", "0")]);
            (if yes { y } else { n }).to_string()
        }
        Rule::DuplicateRow => String::new(),
    };
    cells[i] = if written.is_empty() {
        Cell::Blank
    } else {
        Cell::Text(written.clone())
    };
    (written, expected)
}

/// Renders-and-dirties a return: each row is, with probability `rate`, given one fault or quirk
/// that fits it. Returns the rows as written and what was injected where.
pub fn inject(
    rng: &mut Rng,
    spec: &TableSpec,
    rows: Vec<(Vec<Cell>, &[Value])>,
    rate: f64,
) -> (Vec<Vec<Cell>>, Vec<Injection>) {
    let mut out = Vec::with_capacity(rows.len());
    let mut injections = Vec::new();
    for (mut cells, values) in rows {
        if !rng.chance(rate) {
            out.push(cells);
            continue;
        }
        let pool: &[Rule] = if rng.chance(0.5) { &FAULTS } else { &QUIRKS };
        let rule = *rng.pick(pool);
        if rule == Rule::DuplicateRow {
            out.push(cells.clone());
            injections.push(Injection {
                row: out.len(),
                column: None,
                rule,
                written: String::new(),
                expected: String::new(),
            });
            out.push(cells);
            continue;
        }
        let columns = candidates(spec, values, rule);
        if columns.is_empty() {
            out.push(cells);
            continue;
        }
        let i = *rng.pick(&columns);
        let (written, expected) = apply(rng, spec, &mut cells, values, i, rule);
        let expected = if rule.severity() == Severity::Quirk {
            expected
        } else {
            String::new()
        };
        injections.push(Injection {
            row: out.len(),
            column: Some(i),
            rule,
            written,
            expected,
        });
        out.push(cells);
    }
    (out, injections)
}

#[cfg(test)]
mod tests {
    use super::*;
    use unionstat_datasets::reference;

    #[test]
    fn quirks_write_what_clerks_write() {
        assert_eq!(wan(32_500.0), "3.25万");
        assert_eq!(wan(80_700_000.0), "8070万");
        assert_eq!(with_separators(1_234_567.5, 2), "1,234,567.50");
        assert_eq!(with_separators(999.0, 0), "999");
        assert_eq!(full_width("2017.5"), "２０１７．５");
        assert!(UNKNOWN_TOWNS.iter().all(|n| {
            reference::towns()
                .iter()
                .all(|t| t.name_zh != *n && reference::short_name(&t.name_zh) != *n)
        }));
    }
}
