"""Dashboard benchmark: loopback load with wrk on the endpoints a big screen polls (the choropleth
and the overview's KPI cards), and the time from navigation to the map drawn in headless Chromium.
Peer, measured in the same run under the same load: the same server's /healthz, which answers
without the engine, so the ratio shows what the dashboard path costs over bare HTTP.
Results go to bench/DASHBOARD.md. Run through `bench/run dashboard`."""

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
sys.path.insert(0, str(BENCH))
from bench import machine  # noqa: E402

ENDPOINTS = [
    ("choropleth, counties", "/api/map?metric=formation_rate&year=2017"),
    ("choropleth, towns of 新罗区", "/api/map?metric=membership_rate&year=2017&county=350802"),
    ("overview (KPI cards)", "/api/overview"),
    ("peer: /healthz", "/healthz"),
]
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--window-size=1920,1080", "--disable-dev-shm-usage"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lake_at_scale_1(binary):
    gen, lake = OUT / "gen-1", OUT / "lake-1"
    if not (gen / "manifest.json").is_file():
        subprocess.run([binary, "generate", "--scale", "1", "--out", str(gen)], check=True, stdout=subprocess.DEVNULL)
    env = dict(os.environ, UNIONSTAT_ID_HASH_KEY="benchmark key, not a secret of anyone")
    subprocess.run([binary, "ingest", str(gen / "reference"), str(gen / "returns"), "--lake", str(lake)],
                   check=False, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return lake


def start_server(binary, lake, env=None):
    """`unionstat serve` of `lake` on free ports, with `env` added to the environment."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("UNIONSTAT_PG_")}
    environment.update(env or {})
    proc = subprocess.Popen([binary, "serve", "--lake", str(lake), "--http", f"127.0.0.1:{port}", "--pg",
                             f"127.0.0.1:{free_port()}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=environment)
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("unionstat serve did not start")


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url, seconds, connections, script=None):
    """wrk's figures for `url` (requests from the Lua `script`, when given)."""
    command = ["wrk", "--latency", "-t", "1", "-c", str(connections), "-d", f"{seconds}s"]
    command += ["-s", str(script)] if script else []
    out = subprocess.run(command + [url], check=True, capture_output=True, text=True).stdout
    latency = {m.group(1): float(m.group(2)) * UNITS[m.group(3)]
               for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return {"rps": rps, "p50": latency["50"], "p99": latency["99"], "errors": errors, "requests": requests}


class WebDriver:
    """Just enough of the WebDriver protocol to time a page load in Chromium."""

    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(["chromedriver", f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())["value"]

    def map_drawn_ms(self, url):
        """A fresh browser profile (nothing cached) navigates to the dashboard; the page records
        when its first map reached the screen, counted from navigation start."""
        session = self.call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": {"args": CHROME_ARGS}}}})["sessionId"]
        try:
            self.call("POST", f"/session/{session}/url", {"url": url})
            for _ in range(600):
                drawn = self.call("POST", f"/session/{session}/execute/sync",
                                  {"script": "return document.body.dataset.mapDrawnMs || null;", "args": []})
                if drawn:
                    return float(drawn)
                time.sleep(0.05)
            sys.exit("the map was not drawn within 30 s")
        finally:
            self.call("DELETE", f"/session/{session}")

    def close(self):
        self.proc.kill()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    lake = lake_at_scale_1(args.binary)
    report = ["# Dashboard benchmark", "", "Written by `bench/run dashboard`; do not edit by hand.", ""]
    report += machine() + [f"- load generator: {subprocess.run(['wrk', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}", ""]

    server, port = start_server(args.binary, lake)
    try:
        browser = WebDriver()
        try:
            base = f"http://127.0.0.1:{port}/"
            first = browser.map_drawn_ms(base)
            later = [browser.map_drawn_ms(base) for _ in range(args.loads)]
        finally:
            browser.close()
        for _, path in ENDPOINTS:  # every answer computed once before the load
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120).read()
        loads = {name: wrk(f"http://127.0.0.1:{port}{path}", args.seconds, args.connections)
                 for name, path in ENDPOINTS}
    finally:
        server.kill()

    floor = loads["peer: /healthz"]
    report += ["## HTTP load on loopback, scale 1", "",
               f"wrk, 1 thread, {args.connections} connections, {args.seconds} s per endpoint, on the same 2 cores as the",
               "server (release build); each answer computed once before its run, as a big screen's repeated polls",
               "find it. Ratio: requests/s over the peer's (the same server's `/healthz`, no engine, same load).",
               "Targets: at least 2,000 requests/s, p99 under 50 ms, no errors.", "",
               "| endpoint | requests/s | p50 ms | p99 ms | errors | ratio to /healthz | target met |",
               "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, _ in ENDPOINTS:
        r = loads[name]
        met = "—" if name.startswith("peer") else ("yes" if r["rps"] >= 2000 and r["p99"] < 50 and r["errors"] == 0 else "no")
        report.append(f"| {name} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} | "
                      f"{r['rps'] / floor['rps']:.2f} | {met} |")
        print(report[-1], flush=True)
    report += ["", "## Navigation to the map drawn, headless Chromium, scale 1", "",
               "A fresh browser profile each time (nothing cached in the browser), 1920x1080; the page records",
               "`performance.now()` when its first map reaches the screen. The first load comes as soon as the",
               "server answers /healthz, while it is still computing the landing page's answers. Target: within 1.5 s.", "",
               "| load | ms | target met |", "| --- | --- | --- |",
               f"| first, server cold | {first:.0f} | {'yes' if first <= 1500 else 'no'} |",
               f"| later (median of {args.loads}) | {statistics.median(later):.0f} | {'yes' if statistics.median(later) <= 1500 else 'no'} |"]
    print("\n".join(report[-2:]), flush=True)
    (BENCH / "DASHBOARD.md").write_text("\n".join(report) + "\n")
    print(f"wrote {BENCH / 'DASHBOARD.md'}")


if __name__ == "__main__":
    main()
