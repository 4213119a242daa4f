"""unionstat benchmarks: each measures our command and a peer doing comparable work in the same
run, and prints the ratio. Results go to bench/RESULTS.md. Run through bench/run."""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"


def measure(cmd, **kwargs):
    """Runs cmd; returns (seconds, peak resident memory in MiB) of that process alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, **kwargs)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"benchmark command failed: {' '.join(map(str, cmd))}")
    return seconds, usage.ru_maxrss / 1024


def folder_size_mib(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 2**20


def rows_written(out):
    manifest = json.loads((out / "manifest.json").read_text())
    return sum(f["rows"] for f in manifest["files"])


PEER_SCRIPT = """
import sys, duckdb
n, path = int(sys.argv[1]), sys.argv[2]
con = duckdb.connect()
con.execute("SET threads TO 2")
con.execute(f'''COPY (
  SELECT 2017 AS year, 'HY' || lpad(i::VARCHAR, 10, '0') AS id, md5(i::VARCHAR)[1:18] AS code,
         '东城街道' AS town, CASE WHEN i % 2 = 0 THEN '男' ELSE '女' END AS gender,
         DATE '1960-01-01' + (i % 15000)::INTEGER AS born, i % 997 AS members,
         round((i % 100000) / 7.0, 2) AS amount, CASE WHEN i % 3 = 0 THEN '是' ELSE '否' END AS migrant
  FROM range({n}) t(i)) TO '{path}' (HEADER)''')
"""


def bench_generate(binary, scales, seed):
    """`unionstat generate --members` at each scale; peer: DuckDB writing as many CSV rows."""
    lines = ["## generate (with the member registry)", "",
             "Peer: DuckDB writing the same number of rows as one CSV file (9 columns of codes, names, dates,",
             "numbers). Our rows include workbooks with two-row merged headers, GBK encoding and the dirty",
             "manifest, so the peer is a yardstick of raw output speed, not a like-for-like generator.", "",
             "| scale | rows | output MiB | time s | peak MiB | rows/s | DuckDB time s | DuckDB peak MiB | time ratio (ours/DuckDB) | memory ratio |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    results = {}
    for scale in scales:
        out = OUT / f"gen-{scale}"
        shutil.rmtree(out, ignore_errors=True)
        seconds, peak = measure([binary, "generate", "--scale", str(scale), "--seed", str(seed), "--members", "--out", str(out)])
        manifest = json.loads((out / "manifest.json").read_text())
        members = sum(1 for p in (out / "members").glob("*.csv") for _ in p.open("rb")) - len(list((out / "members").glob("*.csv")))
        rows = rows_written(out) + members
        size = folder_size_mib(out)
        peer_csv = OUT / f"peer-{scale}.csv"
        peer_s, peer_peak = measure([sys.executable, "-c", PEER_SCRIPT, str(rows), str(peer_csv)])
        peer_csv.unlink(missing_ok=True)
        results[scale] = (seconds, peak)
        lines.append(f"| {scale} | {rows:,} | {size:,.0f} | {seconds:.1f} | {peak:,.0f} | {rows / seconds:,.0f} | "
                     f"{peer_s:.1f} | {peer_peak:,.0f} | {seconds / peer_s:.2f} | {peak / peer_peak:.2f} |")
        print(lines[-1], flush=True)
        assert manifest["scale"] == float(scale)
    if len(scales) > 1:
        lo, hi = scales[0], scales[-1]
        growth = float(hi) / float(lo)
        lines += ["", f"From scale {lo} to {hi} ({growth:g}x the rows): time x{results[hi][0] / results[lo][0]:.1f}, "
                      f"peak memory x{results[hi][1] / results[lo][1]:.1f}."]
    return lines


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    mem = next((int(l.split()[1]) / 2**20 for l in Path("/proc/meminfo").read_text().splitlines()
                if l.startswith("MemTotal")), 0)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return [f"- machine: {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, {platform.system()} {platform.release()}",
            f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
            f"- commit: {commit}",
            f"- peers: DuckDB {__import__('duckdb').__version__} (Python {platform.python_version()})"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--scales", nargs="+", default=["1", "10"])
    parser.add_argument("--seed", default="42")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    report = ["# Benchmark results", "", "Written by `bench/run`; do not edit by hand.", ""] + machine() + [""]
    report += bench_generate(args.binary, args.scales, args.seed)
    (BENCH / "RESULTS.md").write_text("\n".join(report) + "\n")
    print(f"wrote {BENCH / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
