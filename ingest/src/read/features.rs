//! Geographic features: a GeoJSON FeatureCollection or a zipped Shapefile (`.shp`, `.dbf`, and
//! optionally `.prj`, `.cpg`). Properties become text columns and geometries are brought to
//! WGS-84. Points read as a return with `lon` and `lat` columns; polygons are boundaries for the
//! `regions` table.

use std::io::{Cursor, Read};
use std::path::Path;

use geo::{Coord, Geometry, MapCoords};
use shapefile::dbase::{self, FieldValue};
use unionstat_datasets::crs::Crs;

use super::{RawTable, decode, text_columns};
use crate::{Error, Result};

/// The features of one file, in WGS-84.
#[derive(Debug)]
pub struct Features {
    /// Property names, in file order.
    pub fields: Vec<String>,
    /// One row of property values per feature.
    pub records: Vec<Vec<Option<String>>>,
    /// One geometry per feature (none when the feature has none).
    pub geometries: Vec<Option<Geometry<f64>>>,
    /// The system the file's coordinates were in.
    pub source_crs: Crs,
}

impl Features {
    /// Whether the features are areas (polygons), not points.
    pub fn are_boundaries(&self) -> bool {
        self.geometries
            .iter()
            .flatten()
            .any(|g| matches!(g, Geometry::Polygon(_) | Geometry::MultiPolygon(_)))
    }

    /// The features as a return: their properties plus `lon`, `lat` and `crs` (WGS-84, which
    /// the coordinates were converted to; a `crs` or 坐标系 property is replaced).
    pub fn points_table(self, path: &Path) -> Result<RawTable> {
        let keep: Vec<usize> = (0..self.fields.len())
            .filter(|&j| {
                !matches!(
                    self.fields[j].trim().to_lowercase().as_str(),
                    "crs" | "坐标系"
                )
            })
            .collect();
        let mut rows = Vec::with_capacity(self.records.len());
        for (i, (record, geometry)) in self.records.iter().zip(&self.geometries).enumerate() {
            let (lon, lat) = match geometry {
                Some(Geometry::Point(p)) => (Some(p.x().to_string()), Some(p.y().to_string())),
                None => (None, None),
                Some(_) => {
                    return Err(Error::Parse {
                        path: path.to_path_buf(),
                        message: format!(
                            "feature {} is neither a point nor an area; a file holds either points or boundaries",
                            i + 1
                        ),
                    });
                }
            };
            let mut row: Vec<Option<String>> = keep
                .iter()
                .map(|&j| record.get(j).cloned().flatten())
                .collect();
            row.extend([lon, lat, Some(Crs::Wgs84.name().to_string())]);
            rows.push(row);
        }
        let mut headers: Vec<String> = keep.iter().map(|&j| self.fields[j].clone()).collect();
        headers.extend(["lon", "lat", "crs"].map(String::from));
        let width = headers.len();
        let numbers = (1..=rows.len() as u64).collect();
        let mut raw = RawTable::new(headers, text_columns(&rows, width), numbers);
        raw.crs = Some(Crs::Wgs84);
        Ok(raw)
    }
}

/// Reads a `.geojson` file or a `.zip` holding one Shapefile, converting coordinates to WGS-84
/// from the system the file names (GeoJSON's `crs` member, a Shapefile's `.prj`), or from
/// `default_crs` when it names none.
pub fn read(path: &Path, default_crs: Crs) -> Result<Features> {
    let is_zip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    let mut features = if is_zip {
        read_shapefile_zip(path, default_crs)?
    } else {
        read_geojson(path, default_crs)?
    };
    let crs = features.source_crs;
    for (i, g) in features.geometries.iter_mut().enumerate() {
        let Some(geometry) = g.take() else { continue };
        use geo::CoordsIter;
        let outside = geometry
            .coords_iter()
            .any(|c| !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y));
        if outside {
            return Err(Error::Parse {
                path: path.to_path_buf(),
                message: format!(
                    "feature {} has coordinates that are not longitude/latitude (a projected system, in metres?); \
                     reproject the file to WGS-84 (EPSG:4326) or CGCS2000 (EPSG:4490), for example in QGIS with \
                     Export → Save Features As…, and send it again",
                    i + 1
                ),
            });
        }
        *g = Some(geometry.map_coords(|c| {
            let (x, y) = crs.to_wgs84(c.x, c.y);
            Coord { x, y }
        }));
    }
    Ok(features)
}

/// The CRS a GeoJSON `crs` name or a `.prj` text declares, if unionstat knows it.
fn crs_named(text: &str) -> Option<Crs> {
    let upper = text.to_ascii_uppercase();
    if upper.contains("CRS84")
        || upper.contains("4326")
        || upper.contains("WGS_1984")
        || upper.contains("WGS 84")
    {
        Some(Crs::Wgs84)
    } else if upper.contains("4490")
        || upper.contains("CGCS2000")
        || upper.contains("CHINA_GEODETIC_COORDINATE_SYSTEM_2000")
    {
        Some(Crs::Cgcs2000)
    } else {
        Crs::parse(text.rsplit([':', '/']).next().unwrap_or(text))
    }
}

fn parse_err(path: &Path, message: String) -> Error {
    Error::Parse {
        path: path.to_path_buf(),
        message,
    }
}

fn read_geojson(path: &Path, default_crs: Crs) -> Result<Features> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let (text, _) = decode(path, bytes)?;
    let collection = match text.parse::<geojson::GeoJson>() {
        Ok(geojson::GeoJson::FeatureCollection(fc)) => fc,
        Ok(geojson::GeoJson::Feature(f)) => geojson::FeatureCollection {
            bbox: None,
            features: vec![f],
            foreign_members: None,
        },
        Ok(geojson::GeoJson::Geometry(_)) => {
            return Err(parse_err(
                path,
                "a bare geometry has no properties to say what it is; send a FeatureCollection"
                    .into(),
            ));
        }
        Err(e) => return Err(parse_err(path, format!("not valid GeoJSON: {e}"))),
    };
    let declared = collection
        .foreign_members
        .as_ref()
        .and_then(|m| m.get("crs"))
        .and_then(|c| c.pointer("/properties/name"))
        .and_then(|n| n.as_str());
    let source_crs = match declared {
        Some(name) => crs_named(name).ok_or_else(|| {
            parse_err(
                path,
                format!("the file's coordinate system 「{name}」 is not one unionstat converts (WGS-84, CGCS2000, GCJ-02, BD-09)"),
            )
        })?,
        None => default_crs,
    };
    let mut fields: Vec<String> = Vec::new();
    let mut records = Vec::new();
    let mut geometries = Vec::new();
    for (i, feature) in collection.features.into_iter().enumerate() {
        let mut row = vec![None; fields.len()];
        for (key, value) in feature.properties.unwrap_or_default() {
            let j = match fields.iter().position(|f| *f == key) {
                Some(j) => j,
                None => {
                    fields.push(key);
                    row.push(None);
                    fields.len() - 1
                }
            };
            row[j] = match value {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s),
                other => Some(other.to_string()),
            };
        }
        records.push(row);
        let geometry = match feature.geometry {
            Some(g) => Some(Geometry::<f64>::try_from(g).map_err(|e| {
                parse_err(path, format!("feature {}: unusable geometry: {e}", i + 1))
            })?),
            None => None,
        };
        geometries.push(geometry);
    }
    Ok(Features {
        fields,
        records,
        geometries,
        source_crs,
    })
}

fn read_shapefile_zip(path: &Path, default_crs: Crs) -> Result<Features> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| parse_err(path, format!("not a readable zip archive: {e}")))?;
    let names: Vec<String> = (0..archive.len())
        .filter_map(|i| archive.name_for_index(i)?.ok().map(|n| n.to_string()))
        .collect();
    let with_ext = |ext: &str| -> Vec<&String> {
        names
            .iter()
            .filter(|n| n.to_ascii_lowercase().ends_with(ext) && !n.contains("__MACOSX"))
            .collect()
    };
    let shp = match with_ext(".shp").as_slice() {
        [one] => (*one).clone(),
        [] => return Err(parse_err(path, "the archive holds no .shp file".into())),
        many => {
            return Err(parse_err(
                path,
                format!(
                    "the archive holds {} shapefiles ({}); send one per archive",
                    many.len(),
                    many.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    };
    let stem = &shp[..shp.len() - 4];
    let mut member = |ext: &str| -> Result<Option<Vec<u8>>> {
        let Some(name) = names
            .iter()
            .find(|n| {
                n.len() == stem.len() + ext.len()
                    && n.starts_with(stem)
                    && n[stem.len()..].eq_ignore_ascii_case(ext)
            })
            .cloned()
        else {
            return Ok(None);
        };
        let mut entry = archive
            .by_name(&name)
            .map_err(|e| parse_err(path, format!("{name}: {e}")))?;
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
        Ok(Some(bytes))
    };
    let shp_bytes = member(".shp")?.unwrap_or_default();
    let dbf_bytes = member(".dbf")?.ok_or_else(|| {
        parse_err(
            path,
            format!("{stem}.dbf is missing: a Shapefile's attributes are in its .dbf"),
        )
    })?;
    let prj = member(".prj")?.map(|b| String::from_utf8_lossy(&b).to_string());
    let cpg = member(".cpg")?.map(|b| String::from_utf8_lossy(&b).trim().to_ascii_uppercase());

    let source_crs = match &prj {
        Some(text) if text.trim_start().to_ascii_uppercase().starts_with("PROJCS") => {
            return Err(parse_err(
                path,
                "the Shapefile is in a projected system (its .prj says PROJCS); reproject it to WGS-84 (EPSG:4326) \
                 or CGCS2000 (EPSG:4490) longitude/latitude, for example in QGIS with Export → Save Features As…, \
                 and send it again"
                    .into(),
            ));
        }
        Some(text) => crs_named(text).unwrap_or(default_crs),
        None => default_crs,
    };
    // Chinese shapefiles are mostly GBK; a .cpg file says otherwise.
    let encoding: &'static encoding_rs::Encoding = match cpg.as_deref() {
        Some(c) if c.contains("UTF") || c == "65001" => encoding_rs::UTF_8,
        _ => encoding_rs::GB18030,
    };
    let shp_err = |e: shapefile::Error| parse_err(path, format!("{shp}: {e}"));
    let dbf = dbase::ReaderBuilder::new()
        .with_encoding(dbase::encoding::EncodingRs::from(encoding))
        .build(Cursor::new(dbf_bytes))
        .map_err(|e| parse_err(path, format!("{stem}.dbf: {e}")))?;
    let fields: Vec<String> = dbf.fields().iter().map(|f| f.name().to_string()).collect();
    let shapes = shapefile::ShapeReader::new(Cursor::new(shp_bytes)).map_err(shp_err)?;
    let mut reader = shapefile::Reader::new(shapes, dbf);
    let mut records = Vec::new();
    let mut geometries = Vec::new();
    for (i, item) in reader.iter_shapes_and_records().enumerate() {
        let (shape, mut record) = item.map_err(shp_err)?;
        records.push(
            fields
                .iter()
                .map(|f| record.remove(f).and_then(field_text))
                .collect(),
        );
        geometries.push(match shape {
            shapefile::Shape::NullShape => None,
            shape => Some(Geometry::<f64>::try_from(shape).map_err(|e| {
                parse_err(path, format!("feature {}: unusable geometry: {e:?}", i + 1))
            })?),
        });
    }
    Ok(Features {
        fields,
        records,
        geometries,
        source_crs,
    })
}

fn field_text(value: FieldValue) -> Option<String> {
    match value {
        FieldValue::Character(s) => s.map(|s| s.trim().to_string()),
        FieldValue::Memo(s) => Some(s),
        FieldValue::Numeric(n) => n.map(format_number),
        FieldValue::Float(n) => n.map(|n| format_number(f64::from(n))),
        FieldValue::Integer(n) => Some(n.to_string()),
        FieldValue::Double(n) | FieldValue::Currency(n) => Some(format_number(n)),
        FieldValue::Logical(b) => b.map(|b| b.to_string()),
        FieldValue::Date(d) => {
            d.map(|d| format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
        }
        FieldValue::DateTime(dt) => {
            let d = dt.date();
            Some(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
        }
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}
