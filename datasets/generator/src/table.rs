//! Rows of generated data, typed, before they are written out as a county's return.

use unionstat_tables::TableSpec;

/// The five years the seed article reviews.
pub const YEARS: std::ops::RangeInclusive<i32> = 2013..=2017;

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub y: i32,
    /// Month, 1-12.
    pub m: u32,
    /// Day of month.
    pub d: u32,
}

impl Date {
    /// Days in a month of a year.
    pub fn days_in_month(y: i32, m: u32) -> u32 {
        match m {
            4 | 6 | 9 | 11 => 30,
            2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
            2 => 28,
            _ => 31,
        }
    }

    /// A uniformly random day of year `y`, months `from..=to`.
    pub fn random_in(rng: &mut unionstat_datasets::rng::Rng, y: i32, from: u32, to: u32) -> Date {
        let m = rng.range(i64::from(from), i64::from(to)) as u32;
        let d = rng.range(1, i64::from(Date::days_in_month(y, m))) as u32;
        Date { y, m, d }
    }

    /// ISO form, `2017-03-05`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.y, self.m, self.d)
    }

    /// The same day `years` later (28 Feb for 29 Feb in a common year).
    pub fn plus_years(self, years: i32) -> Date {
        let y = self.y + years;
        Date {
            y,
            m: self.m,
            d: self.d.min(Date::days_in_month(y, self.m)),
        }
    }
}

/// One cell of generated data.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Blank.
    Null,
    /// A whole number.
    Int(i64),
    /// Money in fen (hundredths of a yuan), so that sums are exact.
    Money(i64),
    /// A coordinate.
    Degrees(f64),
    /// A date.
    Date(Date),
    /// Yes or no.
    Bool(bool),
    /// Text; for town and industry columns, the code (rendered as a name in returns).
    Text(String),
}

impl Value {
    /// The number in a numeric cell (money in yuan), 0 otherwise.
    pub fn number(&self) -> f64 {
        match self {
            Value::Int(v) => *v as f64,
            Value::Money(fen) => *fen as f64 / 100.0,
            Value::Degrees(v) => *v,
            _ => 0.0,
        }
    }

    /// The text of a text cell, "" otherwise.
    pub fn text(&self) -> &str {
        match self {
            Value::Text(s) => s,
            _ => "",
        }
    }
}

/// A row, with the county (index into [`unionstat_datasets::reference::counties`]) whose return carries it.
#[derive(Debug, Clone)]
pub struct Row {
    /// Index of the reporting county.
    pub county: usize,
    /// Values in the order of the table's columns.
    pub values: Vec<Value>,
}

/// All clean rows of one fact table.
#[derive(Debug)]
pub struct Table {
    /// Which table.
    pub spec: &'static TableSpec,
    /// Rows in generation order.
    pub rows: Vec<Row>,
}

impl Table {
    /// An empty table.
    pub fn new(spec: &'static TableSpec) -> Self {
        Table {
            spec,
            rows: Vec::new(),
        }
    }

    /// Appends a row given as (column, value) pairs; unnamed columns are blank. Panics on a name the
    /// table does not have, which is a bug in the generator.
    pub fn push(&mut self, county: usize, cells: &[(&str, Value)]) {
        let mut values = vec![Value::Null; self.spec.columns.len()];
        for (name, value) in cells {
            match self.spec.index(name) {
                Some(i) => values[i] = value.clone(),
                None => unreachable!("table {} has no column {name}", self.spec.name),
            }
        }
        self.rows.push(Row { county, values });
    }

    /// The value of column `name` in `row` (Null if the table has no such column).
    pub fn get<'a>(&self, row: &'a Row, name: &str) -> &'a Value {
        self.spec
            .index(name)
            .map_or(&Value::Null, |i| &row.values[i])
    }

    /// Sum of column `name` over the rows that `keep` accepts.
    pub fn sum(&self, name: &str, keep: impl Fn(&Row) -> bool) -> f64 {
        self.rows
            .iter()
            .filter(|r| keep(r))
            .map(|r| self.get(r, name).number())
            .sum()
    }

    /// Count of rows that `keep` accepts.
    pub fn count(&self, keep: impl Fn(&Row) -> bool) -> usize {
        self.rows.iter().filter(|r| keep(r)).count()
    }

    /// The year of a row of a yearly table.
    pub fn year(&self, row: &Row) -> i32 {
        self.get(row, "year").number() as i32
    }
}
