//! Returns in JSON, NDJSON and Parquet; points from GeoJSON; boundaries from GeoJSON and zipped
//! Shapefiles into `regions`; reference tables.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use deltalake::arrow::array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use shapefile::dbase::{self, FieldValue};
use unionstat_datasets::reference;
use unionstat_ingest::report::Outcome;

use crate::helpers::{LakeSql, options, returns_and_lake, run};

fn first_town(county: &str) -> String {
    reference::towns_of(county)
        .next()
        .expect("a town")
        .code
        .clone()
}

#[test]
fn one_return_in_json_ndjson_and_parquet_loads_like_csv() {
    let (dir, lake) = returns_and_lake();
    let header = [
        "统计年度",
        "发放批次",
        "发放日期",
        "所属镇街",
        "项目",
        "金额（元）",
        "受助人次",
    ];
    let rows = |county: &str| -> Vec<[String; 7]> {
        (1..=3)
            .map(|i| {
                [
                    "2017".into(),
                    format!("B{i}"),
                    format!("2017-0{i}-05"),
                    first_town(county),
                    "送温暖".into(),
                    format!("{}", 1000 * i),
                    format!("{i}"),
                ]
            })
            .collect()
    };
    let csv = dir.path().join("350802新罗区_帮扶资金发放_2017.csv");
    let mut text = header.join(",") + "\n";
    for r in rows("350802") {
        text += &(r.join(",") + "\n");
    }
    std::fs::write(&csv, text).expect("csv");

    let record = |r: &[String; 7]| {
        serde_json::Value::Object(
            header
                .iter()
                .zip(r)
                .map(|(h, v)| {
                    let value = match v.parse::<i64>() {
                        Ok(n) if *h != "统计年度" => serde_json::json!(n),
                        _ => serde_json::json!(v),
                    };
                    (h.to_string(), value)
                })
                .collect(),
        )
    };
    let json = dir.path().join("350803永定区_帮扶资金发放_2017.json");
    let array: Vec<_> = rows("350803").iter().map(record).collect();
    std::fs::write(&json, serde_json::to_string_pretty(&array).expect("json")).expect("json");

    let ndjson = dir.path().join("350821长汀县_帮扶资金发放_2017.ndjson");
    let lines: Vec<String> = rows("350821")
        .iter()
        .map(|r| record(r).to_string())
        .collect();
    std::fs::write(&ndjson, lines.join("\n") + "\n").expect("ndjson");

    // Parquet with typed columns: dates and integers are read as what they say.
    let parquet = dir.path().join("350823上杭县_帮扶资金发放_2017.parquet");
    let r = rows("350823");
    let text_col = |i: usize| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(
            r.iter().map(|row| row[i].clone()),
        ))
    };
    let days = |d: &str| {
        let month: i32 = d[5..7].parse().expect("month");
        // 2017-01-05 is day 17171 of the Unix epoch; the months here are Jan-Mar.
        17_171 + [0, 31, 59][month as usize - 1]
    };
    let batch = RecordBatch::try_from_iter(vec![
        (
            "统计年度",
            Arc::new(Int64Array::from(vec![2017; 3])) as ArrayRef,
        ),
        ("发放批次", text_col(1)),
        (
            "发放日期",
            Arc::new(Date32Array::from_iter_values(
                r.iter().map(|row| days(&row[2])),
            )),
        ),
        ("所属镇街", text_col(3)),
        ("项目", text_col(4)),
        (
            "金额（元）",
            Arc::new(Int64Array::from_iter_values(
                r.iter().map(|row| row[5].parse::<i64>().expect("n")),
            )),
        ),
        ("受助人次", text_col(6)),
    ])
    .expect("batch");
    let file = std::fs::File::create(&parquet).expect("parquet");
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");

    let report = run(&[csv, json, ndjson, parquet], &options(lake.path()));
    assert!(
        report
            .files
            .iter()
            .all(|f| f.outcome == Outcome::Loaded && f.rows_loaded == 3),
        "{}",
        report.summary()
    );
    let sql = LakeSql::open(lake.path());
    let per_county = sql.rows(
        "SELECT county_code, COUNT(*), SUM(CAST(amount AS DOUBLE)), MIN(paid_date), MAX(recipients) \
         FROM aid_disbursements GROUP BY county_code ORDER BY county_code",
    );
    assert_eq!(per_county.len(), 4);
    for row in &per_county {
        assert_eq!(row[1..], ["3", "6000.0", "2017-01-05", "3"], "{row:?}");
    }
}

/// A zipped Shapefile of one polygon with a GBK attribute table.
fn zipped_shapefile(dir: &Path, name: &str, ring: &[(f64, f64)], prj: &str) -> std::path::PathBuf {
    let shp = dir.join("towns.shp");
    let field = dbase::FieldName::try_from("XZQMC").expect("field name");
    let table = dbase::TableWriterBuilder::with_encoding(dbase::encoding::EncodingRs::from(
        encoding_rs::GBK,
    ))
    .add_character_field(field, 40);
    let mut writer = shapefile::Writer::from_path(&shp, table).expect("shapefile");
    let points = ring
        .iter()
        .map(|&(x, y)| shapefile::Point::new(x, y))
        .collect();
    let polygon = shapefile::Polygon::new(shapefile::PolygonRing::Outer(points));
    let mut record = dbase::Record::default();
    record.insert("XZQMC".into(), FieldValue::Character(Some(name.into())));
    writer
        .write_shape_and_record(&polygon, &record)
        .expect("write shape");
    drop(writer);
    std::fs::write(dir.join("towns.cpg"), "GBK").expect("cpg");
    std::fs::write(dir.join("towns.prj"), prj).expect("prj");
    let zip_path = dir.join("新罗区镇街边界.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).expect("zip"));
    for ext in ["shp", "shx", "dbf", "cpg", "prj"] {
        zip.start_file(
            format!("towns.{ext}"),
            zip::write::SimpleFileOptions::default(),
        )
        .expect("entry");
        zip.write_all(&std::fs::read(dir.join(format!("towns.{ext}"))).expect("part"))
            .expect("write");
    }
    zip.finish().expect("finish");
    zip_path
}

#[test]
fn boundaries_load_into_regions_and_a_users_own_replace_the_schematic_ones() {
    let (dir, lake) = returns_and_lake();
    unionstat_generator::returns::reference_files::write(dir.path()).expect("reference files");
    let report = run(&[dir.path().to_path_buf()], &options(lake.path()));
    assert!(
        report
            .files
            .iter()
            .all(|f| matches!(f.outcome, Outcome::Loaded)),
        "{}",
        report.summary()
    );
    let regions = unionstat_datasets::geography::regions();
    let sql = LakeSql::open(lake.path());
    assert_eq!(
        sql.number("SELECT COUNT(*) FROM regions"),
        regions.len() as f64
    );
    assert_eq!(
        sql.number("SELECT COUNT(*) FROM regions WHERE geometry IS NULL"),
        regions.iter().filter(|r| r.geometry.is_none()).count() as f64,
        "bodies without a boundary (industrial parks) are kept without one"
    );
    assert_eq!(sql.number("SELECT COUNT(*) FROM industries"), 20.0);
    assert_eq!(
        sql.number("SELECT COUNT(*) FROM published_indicators"),
        unionstat_datasets::published::published_indicators().len() as f64
    );
    let xinluo = sql.number("SELECT area_km2 FROM regions WHERE code = '350802'");
    assert!((xinluo - 2_678.0).abs() < 150.0, "新罗区 {xinluo} km²");

    // A surveyed boundary for 东城街道, named (not coded) in a GBK Shapefile in CGCS2000.
    let square = [
        (117.02, 25.09),
        (117.02, 25.11),
        (117.04, 25.11),
        (117.04, 25.09),
        (117.02, 25.09),
    ];
    let cgcs = r#"GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
    let zipped = zipped_shapefile(dir.path(), "东城街道", &square, cgcs);
    let report = run(&[zipped], &options(lake.path()));
    assert_eq!(
        report.files[0].outcome,
        Outcome::Loaded,
        "{}",
        report.summary()
    );
    let sql = LakeSql::open(lake.path());
    assert_eq!(
        sql.number("SELECT COUNT(*) FROM regions"),
        regions.len() as f64,
        "replaced, not added"
    );
    let row = sql.rows(
        "SELECT name_zh, geometry_source, level, parent_code, ROUND(area_km2, 1) FROM regions WHERE code = '350802001'",
    );
    assert_eq!(row, [["东城街道", "submitted", "town", "350802", "4.5"]]);

    // Projected coordinates are refused with what to do.
    let metres = [
        (500_000.0, 2_780_000.0),
        (500_000.0, 2_790_000.0),
        (510_000.0, 2_790_000.0),
        (500_000.0, 2_780_000.0),
    ];
    let projected = zipped_shapefile(
        dir.path(),
        "东城街道",
        &metres,
        r#"PROJCS["CGCS2000_3_Degree_GK_CM_117E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000"]]"#,
    );
    let report = run(&[projected], &options(lake.path()));
    let message = report.files[0].message.clone().unwrap_or_default();
    assert_eq!(report.files[0].outcome, Outcome::Rejected);
    assert!(message.contains("reproject"), "{message}");
}

#[test]
fn points_from_geojson_in_gcj02_load_as_service_sites_placed_in_their_towns() {
    let (dir, lake) = returns_and_lake();
    let town = unionstat_datasets::geography::region("350802001").expect("东城街道");
    let (x, y) =
        unionstat_datasets::crs::Crs::Gcj02.from_wgs84(town.centroid.x(), town.centroid.y());
    let collection = serde_json::json!({
        "type": "FeatureCollection",
        "crs": { "type": "name", "properties": { "name": "GCJ-02" } },
        "features": [{
            "type": "Feature",
            "properties": {
                "统计年度": 2017, "阵地编号": "S1", "阵地类型": "妈妈小屋", "名称": "东城妈妈小屋",
                "建成日期": "2016-05-01", "本年服务人次": 120
            },
            "geometry": { "type": "Point", "coordinates": [x, y] }
        }]
    });
    let file = dir.path().join("350802新罗区_服务阵地_2017.geojson");
    std::fs::write(&file, collection.to_string()).expect("geojson");
    let report = run(&[file], &options(lake.path()));
    assert_eq!(
        report.files[0].outcome,
        Outcome::Loaded,
        "{}",
        report.summary()
    );
    let sql = LakeSql::open(lake.path());
    let row = sql.rows("SELECT town_code, crs, lon, lat FROM service_sites");
    assert_eq!(row[0][..2], ["350802001", "WGS-84"]);
    let lon: f64 = row[0][2].parse().expect("lon");
    let lat: f64 = row[0][3].parse().expect("lat");
    assert!(
        (lon - town.centroid.x()).abs() < 1e-4 && (lat - town.centroid.y()).abs() < 1e-4,
        "GCJ-02 converted back to WGS-84: {lon},{lat}"
    );
}
