"""unionstat benchmarks: each measures our command and a peer doing comparable work in the same
run, and prints the ratio. Results go to bench/RESULTS.md. Run through bench/run."""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"


# Linux hands a parent's peak memory on to its child through fork and exec, and this script holds
# whole CSV files in memory at times; so each measured command is started by a small Python process
# of its own, which times it and reports its peak.
STARTER = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(os.waitstatus_to_exitcode(status), time.perf_counter() - start, usage.ru_maxrss)
"""


def measure(cmd, ok=(0,), **kwargs):
    """Runs cmd; returns (seconds, peak resident memory in MiB) of that process alone."""
    out = subprocess.run([sys.executable, "-c", STARTER, *map(str, cmd)],
                         capture_output=True, text=True, check=True, **kwargs).stdout.split()
    code, seconds, max_rss_kib = int(out[0]), float(out[1]), int(out[2])
    if code not in ok:
        sys.exit(f"benchmark command failed: {' '.join(map(str, cmd))}")
    return seconds, max_rss_kib / 1024


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


PEER_INGEST = """
import sys, duckdb
out = sys.argv[1]
con = duckdb.connect()
con.execute("SET threads TO 2")
for i, path in enumerate(sys.argv[2:]):
    con.execute(f"COPY (SELECT * FROM read_csv('{path}', header=true)) TO '{out}/{i}.parquet' (FORMAT parquet, COMPRESSION zstd)")
"""


# Runs of each side of the ingest benchmark.
INGEST_RUNS = 3


def bench_ingest(binary, scales):
    """`unionstat ingest` of the member registry (GBK and UTF-8 CSV, ID numbers hashed, phones
    masked, every row validated) into the lake; peer: DuckDB converting the same CSV to Parquet."""
    lines = ["## ingest of the member registry", "",
             "Ours: `unionstat ingest members/ --lake ...` (release build): encoding and delimiter detection, every",
             "row validated against the contract, ID numbers hashed (HMAC-SHA-256-128), phones masked, towns and",
             "industries resolved, one Delta commit per county file. Peer: DuckDB (2 threads) converting the same",
             "files to zstd Parquet with type inference and no validation; GBK files are given to it already",
             "converted to UTF-8 (DuckDB cannot read GBK offline), and that conversion is not timed.",
             f"Each side runs {INGEST_RUNS} times, in turn; times and peaks are medians.", "",
             "| scale | rows | CSV MiB | largest file MiB | time s | rows/s | peak MiB | DuckDB time s | DuckDB rows/s | DuckDB peak MiB | throughput ratio (ours/DuckDB) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    results = {}
    env = dict(os.environ, UNIONSTAT_ID_HASH_KEY="benchmark key, not a secret of anyone")
    for scale in scales:
        members = OUT / f"gen-{scale}" / "members"
        files = sorted(members.glob("*.csv"))
        rows = sum(sum(1 for _ in p.open("rb")) - 1 for p in files)
        size = sum(p.stat().st_size for p in files) / 2**20
        largest = max(p.stat().st_size for p in files) / 2**20
        lake = OUT / f"lake-{scale}"
        utf8 = OUT / f"members-utf8-{scale}"
        shutil.rmtree(utf8, ignore_errors=True)
        utf8.mkdir()
        peer_files = []
        for p in files:
            raw = p.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("gb18030")
            target = utf8 / p.name
            target.write_text(text, encoding="utf-8")
            peer_files.append(str(target))
        peer_out = OUT / f"peer-parquet-{scale}"
        ours, peer = [], []
        # Turn about, INGEST_RUNS times each; medians are reported, as single runs vary by about 10%.
        for _ in range(INGEST_RUNS):
            shutil.rmtree(lake, ignore_errors=True)
            ours.append(measure([binary, "ingest", str(members), "--lake", str(lake)], ok=(0, 1), env=env))
            shutil.rmtree(peer_out, ignore_errors=True)
            peer_out.mkdir()
            peer.append(measure([sys.executable, "-c", PEER_INGEST, str(peer_out)] + peer_files))
        seconds, peak = (statistics.median(m[i] for m in ours) for i in (0, 1))
        peer_s, peer_peak = (statistics.median(m[i] for m in peer) for i in (0, 1))
        shutil.rmtree(utf8)
        shutil.rmtree(peer_out)
        results[scale] = (seconds, peak)
        lines.append(f"| {scale} | {rows:,} | {size:,.0f} | {largest:,.0f} | {seconds:.1f} | {rows / seconds:,.0f} | {peak:,.0f} | "
                     f"{peer_s:.1f} | {rows / peer_s:,.0f} | {peer_peak:,.0f} | {peer_s / seconds:.2f} |")
        print(lines[-1], flush=True)
    if len(scales) > 1:
        lo, hi = scales[0], scales[-1]
        lines += ["", f"From scale {lo} to {hi} ({float(hi) / float(lo):g}x the rows): time x{results[hi][0] / results[lo][0]:.1f}, "
                      f"peak memory x{results[hi][1] / results[lo][1]:.2f}."]
    return lines


# The dashboard's query set: the same SQL runs in both engines (the views are created in DuckDB
# from the definitions our server publishes at /api/tables).
QUERIES = [
    ("towns: coverage 2017", "SELECT town_code, town_name, unions, members, formation_rate, membership_rate FROM union_coverage WHERE grain = 'town' AND year = 2017 ORDER BY town_code"),
    ("industries: coverage 2017", "SELECT industry_code, industry_name, unions, members, migrant_share FROM union_coverage WHERE grain = 'industry' AND year = 2017 ORDER BY members DESC"),
    ("trend 2013-2017", "SELECT year, unions, members, migrant_members, formation_rate FROM union_coverage WHERE grain = 'city' ORDER BY year"),
    ("ranking: top 10 towns", "SELECT town_name, membership_rate FROM union_coverage WHERE grain = 'town' AND year = 2017 ORDER BY membership_rate DESC, town_code LIMIT 10"),
    ("aid by county and programme", "SELECT county_code, programme, amount, amount_per_recipient, amount_per_household FROM aid_summary WHERE grain = 'county' AND year = 2017 ORDER BY county_code, programme"),
    ("contracts by industry", "SELECT industry_code, contracts, enterprise_coverage, employee_coverage FROM contract_coverage WHERE grain = 'industry' AND year = 2017 AND kind = '综合集体合同' ORDER BY industry_code"),
    ("rights by county", "SELECT county_code, kind, cases, workers, amount_recovered FROM rights_summary WHERE grain = 'county' AND year = 2017 ORDER BY county_code, kind"),
    ("KPI cards with 同比", "SELECT metric, value, previous_value, yoy FROM kpi_yoy WHERE grain = 'city' AND year = 2017 ORDER BY metric"),
    ("map: one metric by town", "SELECT town_code, value FROM kpi WHERE grain = 'town' AND year = 2017 AND metric = 'membership_rate' ORDER BY town_code"),
    ("reconciliation", "SELECT key, published, computed, verdict FROM reconciliation ORDER BY key"),
    ("union list of a town", "SELECT union_name, members, employees FROM grassroots_unions WHERE year = 2017 AND town_code = '350802001' AND union_name LIKE '%公司%' ORDER BY members DESC, union_name LIMIT 20"),
    ("member registry by town", "SELECT town_code, count(*) AS members, sum(CASE WHEN migrant THEN 1 ELSE 0 END) AS migrants FROM members GROUP BY town_code ORDER BY town_code"),
    ("spatial: county areas", "SELECT code, name_zh, ST_Area(ST_GeomFromWKB(geometry)) AS area FROM regions WHERE level = 'county' ORDER BY code"),
]

PEER_QUERY = r"""
import json, statistics, sys, time, duckdb
from deltalake import DeltaTable
spec = json.load(open(sys.argv[1]))
con = duckdb.connect()
con.execute("SET threads TO 2")
# Delta's partition types, as DuckDB is to read them from the folder names.
types = {"long": "BIGINT", "integer": "INTEGER", "string": "VARCHAR"}
for t in spec["tables"]:
    dt = DeltaTable(t["path"])
    files = dt.file_uris()
    parts = dt.metadata().partition_columns
    if not files:
        continue
    hive = {f.name: types[f.type.type] for f in dt.schema().fields if f.name in parts}
    opts = f", hive_partitioning = true, hive_types = {hive}" if parts else ""
    file_list = "[" + ", ".join("'" + f.replace("file://", "") + "'" for f in files) + "]"
    con.execute(f"CREATE VIEW {t['name']} AS SELECT * FROM read_parquet({file_list}{opts})")
for v in spec["views"]:
    con.execute(f"CREATE VIEW {v['name']} AS {v['sql']}")
out = {}
for name, sql in spec["queries"]:
    try:
        con.execute(sql).fetchall()
    except Exception as e:
        out[name] = {"error": str(e).splitlines()[0][:120]}
        continue
    times = []
    for _ in range(spec["runs"]):
        start = time.perf_counter()
        con.execute(sql).fetchall()
        times.append(time.perf_counter() - start)
    out[name] = {"times": times}
json.dump(out, sys.stdout)
"""


def percentile(times, q):
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def post_sql(port, sql):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/sql", data=sql.encode(), method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read()


def timed_runs(port, sql, runs):
    post_sql(port, sql)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        post_sql(port, sql)
        times.append(time.perf_counter() - start)
    return times


def start_server(binary, lake, port, cache):
    config = OUT / f"query-{port}.toml"
    config.write_text(f"[query]\nresult_cache = {'true' if cache else 'false'}\nmax_rows = 1000000\n")
    log = OUT / f"serve-{port}.log"
    proc = subprocess.Popen([binary, "serve", "--lake", str(lake), "--http", f"127.0.0.1:{port}",
                             "--config", str(config)], stdout=subprocess.DEVNULL, stderr=log.open("w"),
                            env={k: v for k, v in os.environ.items() if not k.startswith("UNIONSTAT_PG_")})
    # Timing starts once the server has computed the dashboard's landing page, which it does
    # on its own at start, so that work does not run alongside the measured queries.
    for _ in range(1200):
        if "landing page is computed" in log.read_text(errors="replace"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/tables", timeout=5) as r:
                return proc, json.loads(r.read())
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    sys.exit(f"unionstat serve did not start on port {port}: see {log}")


def bench_query(binary, scales, runs=15):
    """The dashboard's queries through `unionstat serve` (HTTP, JSON answers), with the result cache
    off (the engine) and on (the service); peer: DuckDB in-process on the same Parquet files."""
    lines = ["## SQL: the dashboard's query set", "",
             f"Ours: `POST /api/sql` to `unionstat serve` on loopback (release build), JSON answers; median and p95 of {runs}",
             "runs after one warm-up, with the result cache off (engine) and on (service). Peer: DuckDB (2 threads) in",
             "process over the same Parquet files (each table's live files from its Delta log, via the `deltalake`",
             "package), with the same views created from the definitions at `/api/tables`; its times carry no HTTP",
             "or JSON. Ratio: our engine's median over DuckDB's (below 1 is faster).", ""]
    env = dict(os.environ, UNIONSTAT_ID_HASH_KEY="benchmark key, not a secret of anyone")
    for scale in scales:
        gen, lake = OUT / f"gen-{scale}", OUT / f"lake-{scale}"
        subprocess.run([binary, "ingest", str(gen / "reference"), str(gen / "returns"), "--lake", str(lake)],
                       check=False, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        engine, tables = start_server(binary, lake, 18090, cache=False)
        service, _ = start_server(binary, lake, 18091, cache=True)
        try:
            ours, cached = {}, {}
            for name, sql in QUERIES:
                ours[name] = timed_runs(18090, sql, runs)
                cached[name] = timed_runs(18091, sql, runs)
        finally:
            engine.kill()
            service.kill()
        spec = {"runs": runs, "queries": QUERIES,
                "tables": [{"name": t["name"], "path": str(lake / t["name"])} for t in tables if t["kind"] == "table"],
                "views": [{"name": t["name"], "sql": t["definition"]} for t in tables if t["kind"] == "view"]}
        spec_file = OUT / f"query-spec-{scale}.json"
        spec_file.write_text(json.dumps(spec, ensure_ascii=False))
        peer = json.loads(subprocess.run([sys.executable, "-c", PEER_QUERY, str(spec_file)], check=True,
                                         capture_output=True, text=True).stdout)
        lines += [f"### scale {scale}", "",
                  "| query | engine median ms | engine p95 ms | DuckDB median ms | DuckDB p95 ms | ratio | service (cached) median ms | service p95 ms |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for name, _ in QUERIES:
            o, c, d = ours[name], cached[name], peer[name]
            om, cm = statistics.median(o) * 1000, statistics.median(c) * 1000
            if "times" in d:
                dm = statistics.median(d["times"]) * 1000
                duck = f"{dm:.1f} | {percentile(d['times'], 0.95) * 1000:.1f} | {om / dm:.2f}"
            else:
                duck = f"n/a | n/a | n/a ({d['error']})"
            lines.append(f"| {name} | {om:.1f} | {percentile(o, 0.95) * 1000:.1f} | {duck} | {cm:.1f} | {percentile(c, 0.95) * 1000:.1f} |")
            print(lines[-1], flush=True)
        lines.append("")
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
    report += [""] + bench_ingest(args.binary, args.scales)
    report += [""] + bench_query(args.binary, args.scales)
    (BENCH / "RESULTS.md").write_text("\n".join(report) + "\n")
    print(f"wrote {BENCH / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
