"""What the access policies cost: the dashboard's queries answered for a county account and for a
city account, against the same server without accounts (no policy at all), measured in the same
run. Every request is computed afresh (the result cache and the dashboard's kept bodies are off),
so the times are the engine's, not a cache's. The peer is the server without policies; the ratio
is county (or city) over it, per endpoint and as the median over the endpoints. Results go to
bench/POLICY.md. Run through `bench/run policy`."""

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
sys.path.insert(0, str(BENCH))
from bench import machine  # noqa: E402
from dashboard import lake_at_scale_1, start_server  # noqa: E402

COUNTY = "350802"
# What a county steward's dashboard asks for (their county everywhere), and two city-level
# requests that a county account answers from its own rows only.
ENDPOINTS = [
    "/api/overview?county=350802",
    "/api/map?metric=membership_rate&year=2017&county=350802",
    "/api/rankings?metric=formation_rate&year=2017&county=350802&limit=10",
    "/api/breakdown?metric=formation_rate&year=2017&county=350802",
    "/api/trend?metric=formation_rate&county=350802",
    "/api/unions?year=2017&county=350802&page_size=20",
    "/api/map?metric=formation_rate&year=2017",
    "/api/map?metric=hardship_households&year=2017",
]


def start(binary, lake, accounts):
    """A server of `lake` with the accounts file `accounts`, computing every request afresh."""
    return start_server(binary, lake, {"UNIONSTAT_SERVE_ACCOUNTS": str(accounts),
                                       "UNIONSTAT_QUERY_RESULT_CACHE": "false",
                                       "UNIONSTAT_SERVE_RESPONSE_CACHE_MB": "0"})


def add_account(binary, lake, accounts, name, *args):
    env = dict(os.environ, UNIONSTAT_SERVE_ACCOUNTS=str(accounts))
    out = subprocess.run([binary, "users", "add", name, "--lake", str(lake), *args], env=env, check=True,
                         capture_output=True, text=True).stdout
    return out.split("password (shown once): ")[1].strip()


def timed(port, path, login):
    headers = {}
    if login:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{login[0]}:{login[1]}".encode()).decode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read()
    return (time.perf_counter() - started) * 1000, len(body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    lake = lake_at_scale_1(args.binary)
    work = Path(tempfile.mkdtemp(prefix="policy-", dir=OUT))
    none, accounts = work / "none.json", work / "accounts.json"
    city = ("analyst", add_account(args.binary, lake, accounts, "analyst", "--role", "city"))
    county = ("xinluo", add_account(args.binary, lake, accounts, "xinluo", "--role", "county", "--county", COUNTY))

    open_server, open_port = start(args.binary, lake, none)
    policy_server, policy_port = start(args.binary, lake, accounts)
    modes = {"no policy (peer)": (open_port, None), "city": (policy_port, city), "county": (policy_port, county)}
    times = {(e, m): [] for e in ENDPOINTS for m in modes}
    sizes = {}
    try:
        for endpoint in ENDPOINTS:
            for mode, (port, login) in modes.items():
                for _ in range(3):  # plans are made and kept by the first requests
                    timed(port, endpoint, login)
            # Interleaved, so that drift in the machine's speed falls on every mode alike.
            for _ in range(args.rounds):
                for mode, (port, login) in modes.items():
                    ms, size = timed(port, endpoint, login)
                    times[(endpoint, mode)].append(ms)
                    sizes[(endpoint, mode)] = size
    finally:
        open_server.kill()
        policy_server.kill()

    report = ["# What the access policies cost", "", "Written by `bench/run policy`; do not edit by hand.", ""]
    report += machine()[:3] + [
        f"- lake: scale 1 (`bench/out/lake-1`); {args.rounds} timed requests per endpoint and account, interleaved, "
        "after 3 untimed; result cache and kept bodies off, so every request runs its SQL",
        "- peer: the same binary serving the same lake without accounts, so no policy applies",
        f"- county account: {COUNTY} (新罗区); city account: every county, personal columns blank", "",
        "| endpoint | no policy, median ms | city, median ms | county, median ms | city / peer | county / peer | bytes (peer / county) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    ratios = {"city": [], "county": []}
    for endpoint in ENDPOINTS:
        med = {m: statistics.median(times[(endpoint, m)]) for m in modes}
        peer = med["no policy (peer)"]
        for m in ratios:
            ratios[m].append(med[m] / peer)
        report.append(f"| `{endpoint}` | {peer:.2f} | {med['city']:.2f} | {med['county']:.2f} | "
                      f"{med['city'] / peer:.2f} | {med['county'] / peer:.2f} | "
                      f"{sizes[(endpoint, 'no policy (peer)')]} / {sizes[(endpoint, 'county')]} |")
    report += ["", f"Median over the endpoints: city / peer **{statistics.median(ratios['city']):.3f}**, "
               f"county / peer **{statistics.median(ratios['county']):.3f}** (target: county within 1.05).",
               "", "The first six are what a county steward's dashboard asks for; on them the county's filter "
               "repeats the request's own, so the answer is the same and the ratio is the policy's cost. "
               "On the last two the county account answers from its own rows only (smaller answers), and "
               "the city account reads hardship households with their personal columns blanked."]
    (BENCH / "POLICY.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))


if __name__ == "__main__":
    main()
