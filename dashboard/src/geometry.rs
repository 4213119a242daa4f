//! Region outlines as GeoJSON for the map, built from the `regions` rows the engine returns (WKB
//! in WGS-84, the lake's storage form).

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use geo_traits::to_geo::ToGeoGeometry;
use serde_json::{Map, Value};
use unionstat_query::{Answer, QueryError};

fn failed(message: String) -> QueryError {
    QueryError::new("internal", message)
}

/// A FeatureCollection: each row's `geometry` column (WKB) is the feature's geometry and every
/// other column a property.
pub fn feature_collection(answer: &Answer) -> Result<Value, QueryError> {
    let mut features = Vec::new();
    for batch in answer.batches.iter() {
        let schema = batch.schema();
        let geometry = batch
            .column_by_name("geometry")
            .ok_or_else(|| failed("the regions answer has no geometry column".into()))?;
        let geometry =
            arrow::compute::cast(geometry, &DataType::Binary).map_err(|e| failed(e.to_string()))?;
        let geometry = geometry.as_binary::<i32>();
        for row in 0..batch.num_rows() {
            if geometry.is_null(row) {
                continue;
            }
            let wkb = wkb::reader::read_wkb(geometry.value(row))
                .map_err(|e| failed(format!("a region's geometry is not valid WKB: {e}")))?;
            let shape = geojson::Geometry::from(&wkb.to_geometry());
            let mut properties = Map::new();
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                if field.name() == "geometry" {
                    continue;
                }
                properties.insert(field.name().clone(), cell(column.as_ref(), row)?);
            }
            features.push(serde_json::json!({
                "type": "Feature",
                "properties": properties,
                "geometry": shape,
            }));
        }
    }
    Ok(serde_json::json!({"type": "FeatureCollection", "features": features}))
}

/// One property value: numbers as numbers, everything else as text.
fn cell(column: &dyn Array, row: usize) -> Result<Value, QueryError> {
    if column.is_null(row) {
        return Ok(Value::Null);
    }
    let slice = column.slice(row, 1);
    if column.data_type().is_numeric() {
        let number =
            arrow::compute::cast(&slice, &DataType::Float64).map_err(|e| failed(e.to_string()))?;
        let v = number.as_primitive::<Float64Type>().value(0);
        return Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number));
    }
    let text = arrow::compute::cast(&slice, &DataType::Utf8).map_err(|e| failed(e.to_string()))?;
    Ok(Value::String(text.as_string::<i32>().value(0).to_string()))
}
