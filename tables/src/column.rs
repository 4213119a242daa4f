//! What a column and a table of a return are: each column's canonical name, its Chinese header and
//! the other headers counties use for it, its type and whether a return must fill it.

/// The type of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A whole number.
    Int,
    /// Money in yuan with two decimals.
    Money,
    /// A coordinate in degrees.
    Degrees,
    /// A calendar date.
    Date,
    /// Yes or no (是/否).
    Bool,
    /// Free text or a code.
    Text,
    /// A unified social credit code (checked).
    Uscc,
    /// A town-level body, by name.
    Town,
    /// An industry section, by name or letter.
    Industry,
    /// A resident ID number (personal data).
    IdNumber,
    /// A phone number (personal data).
    Phone,
}

impl Kind {
    /// Whether values are numbers (and so can carry 万, thousands separators, full-width digits).
    pub fn is_numeric(self) -> bool {
        matches!(self, Kind::Int | Kind::Money)
    }
}

/// One column of a return.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Canonical snake_case name, as the lake stores it.
    pub name: &'static str,
    /// The header of the city's standard form.
    pub header_zh: &'static str,
    /// Other headers counties write for it.
    pub aliases: &'static [&'static str],
    /// The upper header cell of the form's two-row header, for grouped columns.
    pub group: Option<&'static str>,
    /// Value type.
    pub kind: Kind,
    /// Whether a return must fill it.
    pub required: bool,
    /// What it means, in English.
    pub description: &'static str,
}

/// A fact table as county unions report it.
#[derive(Debug)]
pub struct TableSpec {
    /// The lake's table name.
    pub name: &'static str,
    /// The form's title, after the county name: `基层工会组织情况统计表`.
    pub title_zh: &'static str,
    /// The file name stem counties use.
    pub file_stem: &'static str,
    /// Columns in form order.
    pub columns: &'static [Column],
}

impl TableSpec {
    /// The position of the column with this canonical name.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The header county number `variant` writes for column `i`: counties differ in wording.
    pub fn header(&self, i: usize, variant: usize) -> &'static str {
        let c = &self.columns[i];
        match (variant + i) % (c.aliases.len() + 2) {
            k if k >= 1 && k <= c.aliases.len() => c.aliases[k - 1],
            _ => c.header_zh,
        }
    }
}

pub(crate) const fn col(
    name: &'static str,
    header_zh: &'static str,
    kind: Kind,
    required: bool,
    description: &'static str,
) -> Column {
    Column {
        name,
        header_zh,
        aliases: &[],
        group: None,
        kind,
        required,
        description,
    }
}

pub(crate) const fn alias(c: Column, aliases: &'static [&'static str]) -> Column {
    Column { aliases, ..c }
}

pub(crate) const fn grouped(c: Column, group: &'static str) -> Column {
    Column {
        group: Some(group),
        ..c
    }
}
