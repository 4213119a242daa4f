"""Reads one unionstat export snapshot with pyarrow, DuckDB, polars and GeoPandas, as the systems
that receive it would, and prints what each reader found as JSON for the end-to-end test to compare
with the SQL answers. Usage: check_export.py SNAPSHOT_FOLDER"""

import json
import sys
from pathlib import Path

import duckdb
import geopandas
import polars
import pyarrow.dataset
import pyarrow.parquet

snapshot = Path(sys.argv[1])
manifest = json.loads((snapshot / "manifest.json").read_text())
found = {}
for dataset in manifest["datasets"]:
    name = dataset["name"]
    folder = snapshot / name
    hive = bool(dataset["partitioned_by"])
    glob = f"{folder}/**/*.parquet"
    arrow = pyarrow.dataset.dataset(folder, format="parquet", partitioning="hive" if hive else None)
    entry = {
        "pyarrow": arrow.count_rows(),
        "duckdb": duckdb.sql(f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = {str(hive).lower()})").fetchall()[0][0],
        "polars": polars.scan_parquet(glob, hive_partitioning=hive).select(polars.len()).collect().item(),
    }
    if name == "grassroots_unions":
        by_year = duckdb.sql(f"SELECT year, sum(members) FROM read_parquet('{glob}', hive_partitioning = true) GROUP BY year ORDER BY year").fetchall()
        entry["members_by_year"] = {str(y): int(m) for y, m in by_year}
        entry["polars_members_2017"] = int(polars.scan_parquet(glob, hive_partitioning=True).filter(polars.col("year") == 2017).select(polars.col("members").sum()).collect().item())
    if name == "aid_disbursements":
        entry["amount"] = float(arrow.to_table(columns=["amount"]).column("amount").to_pandas().astype(float).sum())
    if dataset["geoparquet"]:
        file = next(folder.glob("*.parquet"))
        geo = json.loads(pyarrow.parquet.read_metadata(file).metadata[b"geo"])
        frame = geopandas.read_parquet(file)
        column = geo["columns"][geo["primary_column"]]
        entry["geopandas"] = {
            "rows": len(frame),
            "with_geometry": int(frame.geometry.notna().sum()),
            "crs_is_wgs84_lon_lat": frame.crs is not None and frame.crs.equals("OGC:CRS84"),
            "types": sorted(frame.geometry.dropna().geom_type.unique().tolist()),
            "inside_bbox": bool(((frame.geometry.dropna().bounds.minx >= column["bbox"][0] - 1e-9)
                                 & (frame.geometry.dropna().bounds.maxx <= column["bbox"][2] + 1e-9)).all()),
        }
        entry["geo"] = {"version": geo["version"], "encoding": column["encoding"],
                        "covering": column.get("covering"), "geometry_types": column["geometry_types"]}
    found[name] = entry
print(json.dumps(found, ensure_ascii=False))
