//! The statements behind the dashboard's panels, beside the views they read: each function takes
//! checked parameters (codes already validated, free text as it was typed) and returns the SQL the
//! panel runs through the engine. Free text is always quoted here, never by the caller.

use crate::error::{ErrorCode, QueryError};
use crate::indicators::{INDICATORS, Indicator};

/// Where a figure is read: the whole city, a county or a town.
#[derive(Debug, Clone, Copy)]
pub enum Level {
    /// The whole city.
    City,
    /// One county.
    County,
    /// One town.
    Town,
}

impl Level {
    /// The level a county and a town filter select.
    pub fn of(county: Option<&str>, town: Option<&str>) -> Self {
        match (county, town) {
            (_, Some(_)) => Level::Town,
            (Some(_), None) => Level::County,
            (None, None) => Level::City,
        }
    }

    /// The views' `grain` of the place level, alone or cut by industry.
    pub fn grain(self, by_industry: bool) -> &'static str {
        match (self, by_industry) {
            (Level::City, false) => "city",
            (Level::County, false) => "county",
            (Level::Town, false) => "town",
            (Level::City, true) => "industry",
            (Level::County, true) => "county_industry",
            (Level::Town, true) => "town_industry",
        }
    }
}

/// `text` as a SQL string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The place filter of `county` and `town`, for a source aliased `alias`.
fn place_filter(alias: &str, county: Option<&str>, town: Option<&str>) -> String {
    let mut filter = String::new();
    if let Some(c) = county {
        filter.push_str(&format!(" AND {alias}.county_code = {}", literal(c)));
    }
    if let Some(t) = town {
        filter.push_str(&format!(" AND {alias}.town_code = {}", literal(t)));
    }
    filter
}

/// A figure's values at one place level (and industry), as rows of
/// (year, county_code, town_code, value).
fn values(
    indicator: &Indicator,
    level: Level,
    industry: Option<char>,
) -> Result<String, QueryError> {
    let Some(industry) = industry else {
        return Ok(format!(
            "SELECT year, county_code, town_code, value FROM kpi \
             WHERE metric = '{}' AND grain = '{}'",
            indicator.key,
            level.grain(false)
        ));
    };
    let (view, aggregate) = by_industry(indicator)?;
    let grain = level.grain(true);
    Ok(format!(
        "SELECT year, county_code, town_code, CAST({aggregate} AS DOUBLE) AS value FROM {view} \
         WHERE grain = '{grain}' AND industry_code = '{industry}' \
         GROUP BY year, county_code, town_code"
    ))
}

/// The view and aggregate of a figure recorded by industry, or a `bad_request` naming those that are.
fn by_industry(indicator: &Indicator) -> Result<(&'static str, &'static str), QueryError> {
    indicator.by_industry.ok_or_else(|| {
        let with: Vec<&str> = INDICATORS
            .iter()
            .filter(|i| i.by_industry.is_some())
            .map(|i| i.key)
            .collect();
        QueryError::new(
            ErrorCode::BadRequest,
            format!(
                "`{}` ({}) is not recorded by industry; figures by industry are {}",
                indicator.key,
                indicator.zh,
                with.join(", ")
            ),
        )
    })
}

/// The industry sections (GB/T 4754-2017), for the industry filters.
pub fn industries() -> String {
    "SELECT code, name_zh, name_en FROM industries ORDER BY code".into()
}

/// The headline figures of every year at one place, with 同比.
pub fn overview(county: Option<&str>, town: Option<&str>) -> String {
    let grain = Level::of(county, town).grain(false);
    format!(
        "SELECT k.metric, k.year, k.value, k.previous_value, k.yoy FROM kpi_yoy k \
         WHERE k.grain = '{grain}'{} ORDER BY k.metric, k.year",
        place_filter("k", county, town)
    )
}

/// Outlines of the counties, or of the towns of `county`, with their WKB geometry.
pub fn regions(county: Option<&str>) -> String {
    let filter = match county {
        Some(c) => format!("parent_code = {} AND level IN ('town', 'park')", literal(c)),
        None => "level = 'county'".to_string(),
    };
    format!(
        "SELECT code, name_zh, name_en, level, geometry_source, area_km2, centroid_lon, \
         centroid_lat, geometry FROM regions WHERE {filter} AND geometry IS NOT NULL ORDER BY code"
    )
}

/// A figure for each county (or each town of `county`) in a year, ranked.
pub fn map(
    indicator: &Indicator,
    year: i32,
    county: Option<&str>,
    industry: Option<char>,
) -> Result<String, QueryError> {
    let (level, code) = match county {
        Some(_) => (Level::Town, "town_code"),
        None => (Level::County, "county_code"),
    };
    let source = values(indicator, level, industry)?;
    Ok(format!(
        "SELECT v.{code} AS code, r.name_zh, r.name_en, v.value, \
           CAST(rank() OVER (ORDER BY v.value DESC NULLS LAST) AS BIGINT) AS rank, \
           count(*) OVER () AS places \
         FROM ({source}) v LEFT JOIN regions r ON r.code = v.{code} \
         WHERE v.year = {year}{} ORDER BY rank, code",
        place_filter("v", county, None)
    ))
}

/// The `limit` towns with the highest and the lowest values of a figure.
pub fn rankings(
    indicator: &Indicator,
    year: i32,
    county: Option<&str>,
    industry: Option<char>,
    limit: u32,
) -> Result<String, QueryError> {
    let source = values(indicator, Level::Town, industry)?;
    Ok(format!(
        "SELECT * FROM ( \
           SELECT v.town_code AS code, rt.name_zh, rt.name_en, v.county_code, \
             rc.name_zh AS county_name_zh, rc.name_en AS county_name_en, v.value, \
             CAST(rank() OVER (ORDER BY v.value DESC) AS BIGINT) AS rank, \
             CAST(rank() OVER (ORDER BY v.value ASC) AS BIGINT) AS rank_from_bottom, \
             count(*) OVER () AS places \
           FROM ({source}) v LEFT JOIN regions rt ON rt.code = v.town_code \
             LEFT JOIN regions rc ON rc.code = v.county_code \
           WHERE v.year = {year} AND v.value IS NOT NULL{}) \
         WHERE rank <= {limit} OR rank_from_bottom <= {limit} ORDER BY rank, code",
        place_filter("v", county, None)
    ))
}

/// A figure by industry in a year, for the city or one county.
pub fn breakdown(
    indicator: &Indicator,
    year: i32,
    county: Option<&str>,
) -> Result<String, QueryError> {
    let (view, aggregate) = by_industry(indicator)?;
    let grain = Level::of(county, None).grain(true);
    Ok(format!(
        "SELECT v.industry_code, i.name_zh, i.name_en, CAST({aggregate} AS DOUBLE) AS value \
         FROM {view} v LEFT JOIN industries i ON i.code = v.industry_code \
         WHERE v.grain = '{grain}' AND v.year = {year}{} \
         GROUP BY v.industry_code, i.name_zh, i.name_en \
         ORDER BY value DESC NULLS LAST, v.industry_code",
        place_filter("v", county, None)
    ))
}

/// A figure over the years at one place (and industry), with 同比.
pub fn trend(
    indicator: &Indicator,
    county: Option<&str>,
    town: Option<&str>,
    industry: Option<char>,
) -> Result<String, QueryError> {
    let source = values(indicator, Level::of(county, town), industry)?;
    Ok(format!(
        "SELECT v.year, v.value, \
           v.value / NULLIF(lag(v.value) OVER (ORDER BY v.year), 0) - 1 AS yoy \
         FROM ({source}) v WHERE true{} ORDER BY v.year",
        place_filter("v", county, town)
    ))
}

/// Service sites (妈妈小屋, mediation and legal-supervision bodies, service centres) as points.
pub fn sites(year: i32, county: Option<&str>, kind: Option<&str>) -> String {
    let kind = kind
        .map(|k| format!(" AND s.kind = {}", literal(k)))
        .unwrap_or_default();
    format!(
        "SELECT s.site_id, s.kind, s.name, s.county_code, s.town_code, s.lon, s.lat, s.visits \
         FROM service_sites s WHERE s.year = {year}{}{kind} ORDER BY s.site_id",
        place_filter("s", county, None)
    )
}

/// Which grassroots unions a list shows, and which page of it.
#[derive(Debug, Clone, Default)]
pub struct UnionFilter<'a> {
    /// The year of the snapshot.
    pub year: i32,
    /// One county's code.
    pub county: Option<&'a str>,
    /// One town's code.
    pub town: Option<&'a str>,
    /// One industry section.
    pub industry: Option<char>,
    /// Text to find in the name or the credit code, as typed.
    pub search: Option<&'a str>,
    /// Rows a page.
    pub page_size: u32,
    /// The page, from 1.
    pub page: u32,
}

/// Grassroots unions of a year, filtered and searched, a page at a time, largest first.
pub fn unions(f: &UnionFilter) -> String {
    let mut filter = place_filter("u", f.county, f.town);
    if let Some(i) = f.industry {
        filter.push_str(&format!(" AND u.industry_code = '{i}'"));
    }
    if let Some(q) = f.search {
        let q = literal(q);
        filter.push_str(&format!(
            " AND (strpos(u.union_name, {q}) > 0 OR strpos(u.union_uscc, {q}) > 0)"
        ));
    }
    format!(
        "SELECT u.union_uscc, u.union_name, u.county_code, rc.name_zh AS county_name, \
           u.town_code, rt.name_zh AS town_name, u.industry_code, i.name_zh AS industry_name, \
           u.org_type, u.founded_date, u.employees, u.members, u.migrant_members, \
           u.collective_contract, u.model_home, count(*) OVER () AS total \
         FROM grassroots_unions u LEFT JOIN regions rc ON rc.code = u.county_code \
           LEFT JOIN regions rt ON rt.code = u.town_code \
           LEFT JOIN industries i ON i.code = u.industry_code \
         WHERE u.year = {}{filter} \
         ORDER BY u.members DESC, u.union_uscc LIMIT {} OFFSET {}",
        f.year,
        f.page_size,
        u64::from(f.page.max(1) - 1) * u64::from(f.page_size)
    )
}

/// Every return received, newest first, with what became of its rows.
pub fn submissions() -> String {
    "SELECT s.ingested_at, s.table_name, s.county_code, r.name_zh AS county_name, \
       s.period, s.source_file, s.outcome, s.rows_read, s.rows_loaded, \
       s.rows_quarantined, s.table_version \
     FROM submissions s LEFT JOIN regions r ON r.code = s.county_code \
     ORDER BY s.ingested_at DESC, s.source_file"
        .into()
}

/// Quarantined rows by table, column and rule, with an example of each; `exists` says whether
/// the lake has a quarantine table yet (none until a row was first quarantined).
pub fn quarantine(exists: bool) -> String {
    let columns = "table_name, column_name, rule";
    let source = if exists {
        "quarantine"
    } else {
        "(SELECT '' AS table_name, '' AS column_name, '' AS rule, '' AS message_zh, \
          '' AS message_en, '' AS source_file, 0 AS source_row WHERE false)"
    };
    format!(
        "SELECT {columns}, count(*) AS rows, min(message_zh) AS example_zh, \
           min(message_en) AS example_en, min(source_file) AS example_file, \
           min(source_row) AS example_row \
         FROM {source} GROUP BY {columns} ORDER BY rows DESC, {columns}"
    )
}

/// The published figures against the detail data.
pub fn reconciliation() -> String {
    "SELECT * FROM reconciliation ORDER BY verdict, key".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_cannot_break_out_of_its_literal() {
        let sql = unions(&UnionFilter {
            year: 2017,
            search: Some("x' OR '1'='1"),
            page_size: 20,
            page: 1,
            ..UnionFilter::default()
        });
        assert!(
            sql.contains("strpos(u.union_name, 'x'' OR ''1''=''1') > 0"),
            "{sql}"
        );
    }
}
