//! Region outlines as GeoJSON for the map, built from the `regions` rows the engine returns (WKB
//! in WGS-84, the lake's storage form).

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use geo_traits::to_geo::ToGeoGeometry;
use serde_json::{Map, Value};
use unionstat_query::{Answer, ErrorCode, QueryError};

fn failed(message: String) -> QueryError {
    QueryError::new(ErrorCode::Internal, message)
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
        // Every other column once per batch: numbers as Float64, the rest as text.
        let mut properties = Vec::new();
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            if field.name() == "geometry" {
                continue;
            }
            let numeric = column.data_type().is_numeric();
            let as_type = if numeric {
                DataType::Float64
            } else {
                DataType::Utf8
            };
            let cast = arrow::compute::cast(column, &as_type).map_err(|e| failed(e.to_string()))?;
            properties.push((field.name().clone(), numeric, cast));
        }
        for row in 0..batch.num_rows() {
            if geometry.is_null(row) {
                continue;
            }
            let wkb = wkb::reader::read_wkb(geometry.value(row))
                .map_err(|e| failed(format!("a region's geometry is not valid WKB: {e}")))?;
            let shape = geojson::Geometry::from(&wkb.to_geometry());
            let mut values = Map::new();
            for (name, numeric, column) in &properties {
                let value = if column.is_null(row) {
                    Value::Null
                } else if *numeric {
                    let v = column.as_primitive::<Float64Type>().value(row);
                    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
                } else {
                    Value::String(column.as_string::<i32>().value(row).to_string())
                };
                values.insert(name.clone(), value);
            }
            features.push(serde_json::json!({
                "type": "Feature",
                "properties": values,
                "geometry": shape,
            }));
        }
    }
    Ok(serde_json::json!({"type": "FeatureCollection", "features": features}))
}
