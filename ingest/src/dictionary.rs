//! The data dictionary: every table's columns as the lake stores them, with the headers returns
//! may use, printed by `unionstat schema [TABLE]`.

use unionstat_tables::{CONTRACTS, Contract, Kind};

fn type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "BIGINT",
        Kind::Money => "DECIMAL(18,2) 元",
        Kind::Degrees => "DOUBLE (WGS-84)",
        Kind::Date => "DATE",
        Kind::Bool => "BOOLEAN",
        Kind::Text => "VARCHAR",
        Kind::Uscc => "VARCHAR (USCC, checked)",
        Kind::Town => "VARCHAR (9-digit town code)",
        Kind::Industry => "VARCHAR (GB/T 4754 section)",
        Kind::IdNumber => "BYTEA (16-byte keyed hash of the ID number)",
        Kind::Phone => "VARCHAR (masked)",
    }
}

fn table_text(c: &Contract) -> String {
    let spec = c.spec;
    let mut out = format!("{} — {}\n", spec.name, spec.title_zh);
    out.push_str(&format!(
        "  files named …{}…; one return per county and year; key: {}\n",
        spec.file_stem,
        c.key.join(", ")
    ));
    for col in spec.columns {
        let required = if col.required { "required" } else { "optional" };
        out.push_str(&format!(
            "  {:<24} {:<38} {required}\n",
            Contract::lake_name(col),
            type_name(col.kind)
        ));
        let mut headers = vec![col.header_zh];
        headers.extend(col.aliases);
        out.push_str(&format!(
            "      {} — headers: {}\n",
            col.description,
            headers.join(" / ")
        ));
        if let Some(allowed) = c.allowed(col.name) {
            out.push_str(&format!("      values: {}\n", allowed.join(" / ")));
        }
    }
    out.push_str("  + county_code, submission_id, source_file, source_sheet, source_row, ingested_at (lineage); partitioned by year, county_code\n");
    out
}

/// The dictionary of one table, or of all when `table` is `None`; `None` for an unknown table.
pub fn dictionary(table: Option<&str>) -> Option<String> {
    match table {
        Some(name) => CONTRACTS
            .iter()
            .find(|c| c.spec.name == name)
            .map(table_text),
        None => Some(
            CONTRACTS
                .iter()
                .map(table_text)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    }
}

/// Names of all tables, for messages.
pub fn table_names() -> Vec<&'static str> {
    CONTRACTS.iter().map(|c| c.spec.name).collect()
}
