"""Soak: ten minutes of the dashboard's polls mixed with analysts' SQL at 80% of the mix's
measured peak, on one `unionstat serve` over the scale-1 lake. Reports errors (target 0), p99
latency and the server's RSS for each 30 s segment (target: flat). The peak is measured first
with the same mix and no pauses; each segment then adjusts wrk's connections, each pausing 1 ms
between requests, towards 80% of it. Results go to bench/SOAK.md. Run through `bench/run soak`."""

import argparse
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
sys.path.insert(0, str(BENCH))
from bench import machine  # noqa: E402
from dashboard import lake_at_scale_1, start_server, wrk  # noqa: E402

# What a big screen polls, and what analysts ask in between.
GETS = [
    "/api/overview",
    "/api/map?metric=formation_rate&year=2017",
    "/api/map?metric=membership_rate&year=2017&county=350802",
    "/api/trend?metric=members",
]
SQL = [
    "SELECT county_name, members, membership_rate FROM union_coverage "
    "WHERE grain = 'county' AND year = 2017 ORDER BY members DESC",
    "SELECT programme, SUM(amount) AS amount FROM aid_summary WHERE grain = 'city' GROUP BY programme",
    "SELECT year, value FROM kpi WHERE grain = 'city' AND metric = 'members' ORDER BY year",
]


def lua_script(pause_ms):
    def quoted(text):
        return "[==[" + text + "]==]"

    requests = [f'wrk.format("GET", {quoted(p)})' for p in GETS]
    requests += [f'wrk.format("POST", "/api/sql", {{["Content-Type"] = "text/plain"}}, {quoted(s)})' for s in SQL]
    path = OUT / f"soak-{pause_ms}.lua"
    path.write_text(
        "local requests = {" + ", ".join(requests) + "}\n"
        "local i = 0\n"
        "request = function() i = i % #requests + 1; return requests[i] end\n"
        f"delay = function() return {pause_ms} end\n"
    )
    return path


def run_wrk(port, seconds, connections, script):
    return wrk(f"http://127.0.0.1:{port}/", seconds, connections, script)


def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--segment", type=int, default=30)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    lake = lake_at_scale_1(args.binary)
    server, port = start_server(args.binary, lake)
    try:
        # Every answer computed once, as a big screen's first poll does.
        run_wrk(port, 2, 1, lua_script(0))
        peak = run_wrk(port, 15, 32, lua_script(0))
        if peak["errors"]:
            sys.exit(f"the peak run had {peak['errors']} errors")
        target = 0.8 * peak["rps"]
        script = lua_script(1)
        connections = 32
        segments = []
        for _ in range(max(1, round(args.minutes * 60 / args.segment))):
            r = run_wrk(port, args.segment, connections, script)
            r["connections"] = connections
            r["rss"] = rss_mb(server.pid)
            segments.append(r)
            print(f"{len(segments) * args.segment:>4} s: {r['rps']:,.0f} req/s with {connections} connections, "
                  f"p99 {r['p99']:.2f} ms, {r['errors']} errors, RSS {r['rss']} MiB", flush=True)
            connections = max(1, min(512, round(connections * target / max(r["rps"], 1.0))))
    finally:
        server.kill()

    total = sum(s["requests"] for s in segments)
    errors = sum(s["errors"] for s in segments)
    rss = [s["rss"] for s in segments]
    report = ["# Soak", "", "Written by `bench/run soak`; do not edit by hand.", ""]
    report += machine()
    report += [
        "",
        f"The dashboard's polls ({len(GETS)} endpoints) and analysts' SQL ({len(SQL)} statements over "
        "`POST /api/sql`) in turn, from wrk on the same 2 cores as the server (release build, scale 1, "
        "default configuration). Peer: the same mix with no pauses, measured first in the same run, "
        f"at {peak['rps']:,.0f} requests/s (p99 {peak['p99']:.2f} ms); the soak aims at 80% of it, "
        f"{target:,.0f} requests/s. Targets: no errors, RSS flat.",
        "",
        f"- {total:,} requests in {len(segments) * args.segment} s, {errors} errors",
        f"- rate over the soak: {total / (len(segments) * args.segment):,.0f} requests/s, "
        f"{total / (len(segments) * args.segment) / peak['rps']:.2f} of the peak",
        f"- RSS: first segment {rss[0]} MiB, last {rss[-1]} MiB, highest {max(rss)} MiB",
        "",
        "| after s | requests/s | connections | p50 ms | p99 ms | errors | RSS MiB |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, s in enumerate(segments, 1):
        report.append(f"| {i * args.segment} | {s['rps']:,.0f} | {s['connections']} | {s['p50']:.2f} | "
                      f"{s['p99']:.2f} | {s['errors']} | {s['rss']} |")
    (BENCH / "SOAK.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))


if __name__ == "__main__":
    main()
