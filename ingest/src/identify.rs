//! Which table, county and period a file is a return for: from the command line, the file's
//! name and folders, its title rows, or its year column.

use std::path::Path;

use unionstat_datasets::reference;

use unionstat_tables::{CONTRACTS, Contract};

/// What the user said on the command line, overriding what files say.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--table`.
    pub table: Option<String>,
    /// `--county`: a 6-digit code or a name.
    pub county: Option<String>,
    /// `--period`: a year.
    pub period: Option<i32>,
}

/// The table whose form name or table name the file name carries.
pub fn table_from_name(path: &Path) -> Option<&'static Contract> {
    let name = path.file_name()?.to_string_lossy().to_string();
    CONTRACTS.iter().find(|c| {
        name.contains(c.spec.file_stem)
            || name.contains(c.spec.name)
            || name.contains(c.spec.title_zh)
    })
}

/// A county code from a code or name.
pub fn county_code(s: &str) -> Option<&'static str> {
    let s = s.trim();
    reference::counties()
        .iter()
        .find(|c| {
            c.code == s
                || c.name_zh == s
                || s.trim_end_matches(['区', '县', '市'])
                    == c.name_zh.trim_end_matches(['区', '县', '市'])
        })
        .map(|c| c.code)
}

/// The county that a path or a title names (by code or by name).
pub fn county_in_text(text: &str) -> Option<&'static str> {
    reference::counties()
        .iter()
        .find(|c| text.contains(c.code) || text.contains(c.name_zh))
        .map(|c| c.code)
}

/// A plausible reporting year (2000-2099) in a file name.
pub fn year_in_name(path: &Path) -> Option<i32> {
    let name = path.file_stem()?.to_string_lossy().to_string();
    let digits: Vec<char> = name.chars().collect();
    (0..digits.len().saturating_sub(3)).find_map(|i| {
        let window: String = digits[i..i + 4].iter().collect();
        let before = i
            .checked_sub(1)
            .and_then(|j| digits.get(j))
            .is_some_and(char::is_ascii_digit);
        let after = digits.get(i + 4).is_some_and(char::is_ascii_digit);
        (!before && !after && window.starts_with("20"))
            .then(|| window.parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_name_their_table_county_and_year() {
        let p = Path::new("returns/2017/350802新罗区/基层工会组织情况_2017_更正.xlsx");
        assert_eq!(
            table_from_name(p).map(|c| c.spec.name),
            Some("grassroots_unions")
        );
        assert_eq!(county_in_text(&p.to_string_lossy()), Some("350802"));
        assert_eq!(year_in_name(p), Some(2017));
        assert_eq!(year_in_name(Path::new("members_350802.csv")), None);
        assert_eq!(county_code("上杭"), Some("350823"));
        assert_eq!(county_code("350881"), Some("350881"));
    }
}
