"""Export benchmark: `unionstat export` of every table at scale 10 (tables only, the views left
out) against DuckDB's `COPY ... TO` of the same tables in the same run: each table read from the
same live Parquet files (listed from its Delta log by the `deltalake` package), sorted by the same
keys, written as zstd Parquet, partitioned by year where ours is. Time and output size.
Results go to bench/EXPORT.md. Run through `bench/run export`."""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
sys.path.insert(0, str(BENCH))
from bench import folder_size_mib, machine  # noqa: E402

PEER = r"""
import json, sys, time, duckdb
from deltalake import DeltaTable
spec = json.load(open(sys.argv[1]))
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute("SET enable_progress_bar = false")
started = time.perf_counter()
for t in spec["tables"]:
    files = DeltaTable(t["path"]).file_uris()
    target = f"{spec['out']}/{t['name']}"
    order = f"ORDER BY {', '.join(t['sort'])}" if t["sort"] else ""
    if t["partition"]:
        con.execute(f"COPY (SELECT * FROM read_parquet({files!r}) {order}) TO '{target}' "
                    "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year))")
    else:
        con.execute(f"COPY (SELECT * FROM read_parquet({files!r}) {order}) TO '{target}.parquet' "
                    "(FORMAT parquet, COMPRESSION zstd)")
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--scale", default="10")
    args = parser.parse_args()
    gen, lake = OUT / f"gen-{args.scale}", OUT / f"lake-{args.scale}"
    if not (gen / "manifest.json").is_file():
        subprocess.run([args.binary, "generate", "--scale", args.scale, "--out", str(gen)], check=True,
                       stdout=subprocess.DEVNULL)
    env = dict(os.environ, UNIONSTAT_ID_HASH_KEY="benchmark key, not a secret of anyone")
    subprocess.run([args.binary, "ingest", str(gen / "reference"), str(gen / "returns"), "--lake", str(lake)],
                   check=False, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    ours_out, peer_out = OUT / f"export-{args.scale}", OUT / f"export-duckdb-{args.scale}"
    for folder in (ours_out, peer_out):
        shutil.rmtree(folder, ignore_errors=True)
    peer_out.mkdir(parents=True)
    started = time.perf_counter()
    subprocess.run([args.binary, "export", "--lake", str(lake), "--to", str(ours_out), "--no-views"], check=True,
                   stdout=subprocess.DEVNULL)
    ours_seconds = time.perf_counter() - started
    snapshot = ours_out / "snapshots" / (ours_out / "LATEST").read_text().strip()
    manifest = json.loads((snapshot / "manifest.json").read_text())

    spec = {"out": str(peer_out), "tables": [
        {"name": d["name"], "path": str(lake / d["name"]), "sort": d["sorted_by"], "partition": bool(d["partitioned_by"])}
        for d in manifest["datasets"]]}
    spec_file = OUT / f"export-spec-{args.scale}.json"
    spec_file.write_text(json.dumps(spec))
    printed = subprocess.run([sys.executable, "-c", PEER, str(spec_file)], check=True, capture_output=True,
                             text=True).stdout
    peer = json.loads(printed.strip().splitlines()[-1])
    rows = sum(d["rows"] for d in manifest["datasets"])
    ours_mib, peer_mib = folder_size_mib(snapshot), folder_size_mib(peer_out)
    report = ["# Export benchmark", "", "Written by `bench/run export`; do not edit by hand.", ""] + machine() + [
        "", f"## Every table at scale {args.scale}", "",
        f"{len(manifest['datasets'])} tables, {rows:,} rows. Ours: `unionstat export --no-views` (release build), the whole",
        "run: opening the lake, sorting, writing zstd Parquet partitioned by year (GeoParquet with bbox columns for",
        "regions and service sites), checksums and manifest, publishing. Peer: DuckDB (2 threads) `COPY (SELECT *",
        "... ORDER BY the same keys) TO ... (FORMAT parquet, COMPRESSION zstd[, PARTITION_BY (year)])` over the same",
        "Parquet files, in process (no start-up, no manifest, no GeoParquet). Ratio: our time over DuckDB's.", "",
        "| | seconds | output MiB |", "| --- | --- | --- |",
        f"| unionstat export | {ours_seconds:.1f} | {ours_mib:.1f} |",
        f"| DuckDB COPY | {peer['seconds']:.1f} | {peer_mib:.1f} |",
        f"| ratio | {ours_seconds / peer['seconds']:.2f} | {ours_mib / peer_mib:.2f} |"]
    print("\n".join(report[-5:]))
    (BENCH / "EXPORT.md").write_text("\n".join(report) + "\n")
    print(f"wrote {BENCH / 'EXPORT.md'}")


if __name__ == "__main__":
    main()
