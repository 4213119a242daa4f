//! Boundaries into the `regions` table: the city, its counties and town-level bodies, with WKB
//! geometry in WGS-84, area and centroid. A file of boundaries (GeoJSON or zipped Shapefile)
//! replaces the rows of the regions it holds, so a user's own town boundaries replace the
//! schematic ones region by region. Each feature is matched to a region by its code, or by its
//! name within its county.

use std::sync::Arc;

use arrow::array::{
    BinaryBuilder, Float64Builder, RecordBatch, StringBuilder, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use geo::{Centroid, Geometry, MultiPolygon};
use unionstat_datasets::geography::{self, Level};
use unionstat_datasets::reference;

use crate::headers::header_key;
use crate::identify;
use crate::places::Towns;
use crate::read::features::Features;
use crate::rules::Rule;
use crate::validate::Finding;
use crate::{Error, Result};

/// Name of the table of boundaries.
pub const REGIONS: &str = "regions";

/// Property names that carry a region's code, compared without case or spaces.
const CODE_FIELDS: &[&str] = &[
    "code",
    "adcode",
    "区划代码",
    "行政区划代码",
    "统计用区划代码",
    "代码",
    "xzqdm",
    "town_code",
];
/// Property names that carry a region's Chinese name.
const NAME_FIELDS: &[&str] = &[
    "name_zh",
    "name",
    "名称",
    "乡镇名称",
    "乡镇",
    "镇街",
    "xzqmc",
    "town",
];

/// The schema of the `regions` table.
pub fn schema() -> SchemaRef {
    let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    let number = |name: &str| Field::new(name, DataType::Float64, true);
    let geometry = Field::new("geometry", DataType::Binary, true).with_metadata(
        [
            (
                "ARROW:extension:name".to_string(),
                "geoarrow.wkb".to_string(),
            ),
            (
                "ARROW:extension:metadata".to_string(),
                r#"{"crs":"OGC:CRS84"}"#.to_string(),
            ),
            (
                "comment".to_string(),
                "边界(WKB, WGS-84) / boundary (WKB, WGS-84)".to_string(),
            ),
        ]
        .into(),
    );
    Arc::new(Schema::new(vec![
        text("code", false),
        text("name_zh", false),
        text("name_en", true),
        text("level", false),
        text("parent_code", true),
        text("county_code", true),
        text("geometry_source", false),
        number("area_km2"),
        number("centroid_lon"),
        number("centroid_lat"),
        geometry,
        text("submission_id", false),
        text("source_file", false),
        Field::new(
            "ingested_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]))
}

/// Boundaries ready to commit.
#[derive(Debug)]
pub struct Boundaries {
    /// Rows of the `regions` table.
    pub batch: RecordBatch,
    /// The codes they replace.
    pub codes: Vec<String>,
    /// Features that could not be matched to a region, with their properties as JSON.
    pub rejected: Vec<(Finding, String)>,
    /// The county all features lie in, if they share one.
    pub county_code: Option<String>,
}

/// Lineage of one file of boundaries.
#[derive(Debug)]
pub struct Lineage<'a> {
    /// The submission.
    pub submission_id: &'a str,
    /// The file as the user named it.
    pub source_file: &'a str,
    /// Microseconds since the epoch.
    pub ingested_at: i64,
}

fn field_index(features: &Features, names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| {
        features
            .fields
            .iter()
            .position(|f| header_key(f) == header_key(n))
    })
}

/// Matches each feature to a region: by code, else by name within `county` (or within the
/// county named in a `county` property), else across Longyan when the name is unique.
pub fn from_features(
    features: &Features,
    county: Option<&str>,
    lineage: &Lineage,
) -> Result<Boundaries> {
    let code_field = field_index(features, CODE_FIELDS);
    let name_field = field_index(features, NAME_FIELDS);
    if code_field.is_none() && name_field.is_none() {
        return Err(Error::Usage(format!(
            "the boundaries have no property naming the region: add a 「code」 (区划代码) or 「name」 (名称) property; \
             the properties are {}",
            features.fields.join(", ")
        )));
    }
    let source_field = field_index(features, &["geometry_source"]);
    let mut rows: Vec<Row> = Vec::new();
    let mut rejected = Vec::new();
    for (i, (record, geometry)) in features
        .records
        .iter()
        .zip(&features.geometries)
        .enumerate()
    {
        let cell = |j: Option<usize>| j.and_then(|j| record.get(j).cloned().flatten());
        let written_code = cell(code_field);
        let name = cell(name_field);
        let code = written_code
            .as_deref()
            .and_then(|c| geography::region(c.trim()).map(|r| r.code.clone()))
            .or_else(|| name.as_deref().and_then(|n| code_of_name(n, county)));
        let polygons = match geometry {
            Some(Geometry::Polygon(p)) => Some(MultiPolygon(vec![p.clone()])),
            Some(Geometry::MultiPolygon(mp)) => Some(mp.clone()),
            _ => None,
        };
        let row = i as u64 + 1;
        let properties = serde_json::Value::Object(
            features
                .fields
                .iter()
                .zip(record)
                .map(|(f, v)| {
                    (
                        f.clone(),
                        v.clone().map_or(serde_json::Value::Null, Into::into),
                    )
                })
                .collect(),
        )
        .to_string();
        let unusable = geometry.is_some() && polygons.is_none();
        match code {
            Some(code) if !unusable => rows.push((code, polygons, cell(source_field))),
            None => rejected.push((
                Finding {
                    row,
                    column: "code".into(),
                    header: code_field
                        .or(name_field)
                        .map_or_else(String::new, |j| features.fields[j].clone()),
                    rule: Rule::UnknownTown,
                    value: written_code.or(name).unwrap_or_default(),
                },
                properties,
            )),
            Some(_) => rejected.push((
                Finding {
                    row,
                    column: "geometry".into(),
                    header: "geometry".into(),
                    rule: Rule::NotAllowed,
                    value: "not a polygon".into(),
                },
                properties,
            )),
        }
    }
    let mut codes: Vec<String> = rows.iter().map(|(c, _, _)| c.clone()).collect();
    codes.sort();
    codes.dedup();
    let counties: Vec<Option<String>> = rows.iter().map(|(c, _, _)| county_of(c)).collect();
    let county_code = match counties.first() {
        Some(Some(first)) if counties.iter().all(|c| c.as_ref() == Some(first)) => {
            Some(first.clone())
        }
        _ => None,
    };
    Ok(Boundaries {
        batch: batch(&rows, lineage)?,
        codes,
        rejected,
        county_code,
    })
}

/// The county (6 digits) a region lies in; `None` for the city (4 digits).
fn county_of(code: &str) -> Option<String> {
    code.get(..6).map(str::to_string)
}

/// The code of a region named `name`: a county, or a town of `county`, or the one town of
/// Longyan with that name.
fn code_of_name(name: &str, county: Option<&str>) -> Option<String> {
    if let Some(c) = identify::county_code(name) {
        return Some(c.to_string());
    }
    if let Some(county) = county {
        return Towns::of_county(county).code(name).map(str::to_string);
    }
    let matches: Vec<&str> = reference::counties()
        .iter()
        .filter_map(|c| Towns::of_county(c.code).code(name))
        .collect();
    match matches.as_slice() {
        [one] => Some(one.to_string()),
        _ => None,
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::City => "city",
        Level::County => "county",
        Level::Town => "town",
        Level::Park => "park",
    }
}

/// A region's code, boundary (none for bodies without one, such as industrial parks) and the
/// source of the boundary.
type Row = (String, Option<MultiPolygon<f64>>, Option<String>);

fn batch(rows: &[Row], lineage: &Lineage) -> Result<RecordBatch> {
    let n = rows.len();
    let mut text: Vec<StringBuilder> = (0..7).map(|_| StringBuilder::new()).collect();
    let mut numbers: Vec<Float64Builder> = (0..3).map(|_| Float64Builder::new()).collect();
    let mut geometry = BinaryBuilder::new();
    for (code, polygons, source) in rows {
        let reference = geography::region(code);
        let name = reference.map_or(code.as_str(), |r| r.name_zh.as_str());
        let level = reference.map_or("town", |r| level_name(r.level));
        text[0].append_value(code);
        text[1].append_value(name);
        text[2].append_option(reference.map(|r| r.name_en.as_str()));
        text[3].append_value(level);
        text[4].append_option(reference.and_then(|r| r.parent_code.as_deref()));
        text[5].append_option(county_of(code));
        text[6].append_value(source.as_deref().unwrap_or("submitted"));
        let Some(polygons) = polygons else {
            numbers.iter_mut().for_each(Float64Builder::append_null);
            geometry.append_null();
            continue;
        };
        numbers[0].append_value((geography::area_km2(polygons) * 100.0).round() / 100.0);
        let centroid = polygons.centroid();
        numbers[1].append_option(centroid.map(|c| c.x()));
        numbers[2].append_option(centroid.map(|c| c.y()));
        let mut wkb = Vec::new();
        wkb::writer::write_geometry(
            &mut wkb,
            &Geometry::MultiPolygon(polygons.clone()),
            &Default::default(),
        )
        .map_err(|e| Error::Usage(format!("region {code}: geometry cannot be written: {e}")))?;
        geometry.append_value(wkb);
    }
    let mut columns: Vec<arrow::array::ArrayRef> = Vec::new();
    for b in &mut text {
        columns.push(Arc::new(b.finish()));
    }
    for b in &mut numbers {
        columns.push(Arc::new(b.finish()));
    }
    columns.push(Arc::new(geometry.finish()));
    let repeat =
        |s: &str| Arc::new(arrow::array::StringArray::from(vec![s; n])) as arrow::array::ArrayRef;
    columns.push(repeat(lineage.submission_id));
    columns.push(repeat(lineage.source_file));
    columns.push(Arc::new(
        TimestampMicrosecondArray::from(vec![lineage.ingested_at; n]).with_timezone("UTC"),
    ));
    Ok(RecordBatch::try_new(schema(), columns)?)
}

/// The predicate selecting the rows of `codes`.
pub fn replace_predicate(codes: &[String]) -> String {
    let list: Vec<String> = codes
        .iter()
        .map(|c| format!("'{}'", c.replace('\'', "")))
        .collect();
    format!("code IN ({})", list.join(", "))
}
