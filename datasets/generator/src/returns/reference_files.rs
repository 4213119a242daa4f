//! The reference tables as files beside the returns, in the formats ingest reads: regions as
//! GeoJSON (WGS-84), industries and the published figures as CSV.

use std::path::Path;

use unionstat_datasets::geography::regions;
use unionstat_datasets::published;
use unionstat_datasets::reference::INDUSTRIES;

use super::{Error, Result, io_err};

/// Writes `regions.geojson`, `industries.csv` and `published_indicators.csv` into `dir`.
pub fn write(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let features: Vec<serde_json::Value> = regions()
        .iter()
        .map(|r| {
            let geometry = r
                .geometry
                .as_ref()
                .map(|g| serde_json::to_value(geojson::Geometry::from(g)).unwrap_or_default());
            serde_json::json!({
                "type": "Feature",
                "properties": {
                    "code": r.code,
                    "name_zh": r.name_zh,
                    "name_en": r.name_en,
                    "parent_code": r.parent_code,
                    "level": r.level,
                    "geometry_source": r.geometry_source,
                    "area_km2": (r.area_km2 * 100.0).round() / 100.0,
                    "centroid_lon": (r.centroid.x() * 1e6).round() / 1e6,
                    "centroid_lat": (r.centroid.y() * 1e6).round() / 1e6,
                    "illustrative": r.illustrative,
                },
                "geometry": geometry,
            })
        })
        .collect();
    let collection = serde_json::json!({
        "type": "FeatureCollection",
        "name": "longyan_regions",
        "crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:OGC:1.3:CRS84" } },
        "features": features,
    });
    let path = dir.join("regions.geojson");
    std::fs::write(
        &path,
        serde_json::to_string(&collection).unwrap_or_default(),
    )
    .map_err(io_err(&path))?;

    let path = dir.join("industries.csv");
    let mut w = csv::Writer::from_path(&path).map_err(|e| Error::Io {
        path: path.clone(),
        source: e.into(),
    })?;
    let csv_err = |e: csv::Error| Error::Io {
        path: path.clone(),
        source: e.into(),
    };
    w.write_record(["code", "name_zh", "name_en"])
        .map_err(csv_err)?;
    for i in &INDUSTRIES {
        w.write_record([i.code, i.name_zh, i.name_en])
            .map_err(csv_err)?;
    }
    w.flush().map_err(io_err(&path))?;

    let path = dir.join("published_indicators.csv");
    std::fs::write(&path, published::csv_text()).map_err(io_err(&path))
}
