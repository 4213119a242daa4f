//! Which column a header names: headers are compared after folding what clerks vary (full-width
//! characters, spaces and line breaks, a leading 其中：, brackets, case), and an unknown header is
//! answered with the nearest one the table accepts.

use std::collections::HashMap;

use unionstat_tables::Contract;

use crate::normalise::half_width;

/// A header as compared: half-width, no spaces or line breaks, no leading 其中：.
pub fn header_key(header: &str) -> String {
    let s: String = half_width(header)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let s = s.strip_prefix("其中:").unwrap_or(&s).to_string();
    s.replace(['(', ')'], "").to_lowercase()
}

/// Which column of `contract` a header names: the canonical name, the form's header or any alias,
/// after [`header_key`]; user `mapping` (header -> column name) first.
pub fn resolve(
    contract: &Contract,
    header: &str,
    mapping: &HashMap<String, String>,
) -> Option<usize> {
    if let Some(name) = mapping.get(header.trim()) {
        return contract.spec.index(name);
    }
    let key = header_key(header);
    contract.spec.columns.iter().position(|c| {
        header_key(c.name) == key
            || header_key(c.header_zh) == key
            || c.aliases.iter().any(|a| header_key(a) == key)
    })
}

/// Every header `contract` accepts, for suggestions.
pub fn all_headers(contract: &Contract) -> impl Iterator<Item = &'static str> {
    contract
        .spec
        .columns
        .iter()
        .flat_map(|c| std::iter::once(c.header_zh).chain(c.aliases.iter().copied()))
}

/// Edit distance between two strings, by characters, for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            row[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(row[j] + 1);
        }
        prev = row;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_resolve_through_aliases_and_mapping() {
        let unions = unionstat_tables::contract("grassroots_unions").expect("a contract");
        let resolve =
            |header: &str, mapping: &HashMap<String, String>| resolve(unions, header, mapping);
        let none = HashMap::new();
        assert_eq!(resolve("会员数", &none), unions.spec.index("members"));
        assert_eq!(
            resolve(" 其中：女会员 ", &none),
            unions.spec.index("female_members")
        );
        assert_eq!(resolve("会员 人数", &none), unions.spec.index("members"));
        assert_eq!(resolve("会员总数", &none), None);
        let mapping = HashMap::from([("会员总数".to_string(), "members".to_string())]);
        assert_eq!(resolve("会员总数", &mapping), unions.spec.index("members"));
        assert_eq!(edit_distance("会员总数", "会员数"), 1);
    }
}
