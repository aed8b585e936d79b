"""Latency of the web dashboard under load: the overview and a flows drill-down, warm.

    .venv/bin/python benchmarks/web.py [--store benchmarks/out/web-store] [--clients 50] [--seconds 20]

Builds the default book (`june-2024-rotation`) into the store when it is missing, starts
`smartmoney serve` on 127.0.0.1 in a child process, waits until the latest week is computed
(/health says warm), requests each URL once more to be sure it is cached, then drives
`--clients` concurrent keep-alive clients (asyncio, raw HTTP/1.1, in this process) for
`--seconds` against each URL in turn and reports p50/p95/p99 latency, requests/s and errors.
The figures replace the "## Web dashboard (issue 7)" section of benchmarks/RESULTS.md; the raw
figures go to benchmarks/out/web.json.

Target (issue 7): p95 <= 100 ms at 50 concurrent clients on loopback, warm, on the default book.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from _results import OUT, RESULTS, ROOT, machine, write_section

BIN = Path(sys.executable).parent
HEADING = "## Web dashboard (issue 7)"
TARGET_MS = 100.0


def ensure_store(store: Path) -> None:
    if store.is_dir() and any(store.iterdir()):
        return
    print(f"building the default book into {store} (a few minutes)...", flush=True)
    subprocess.run([str(BIN / "smartmoney"), "simulate", "--scenario", "june-2024-rotation", "--store", str(store),
                    "--quiet"], check=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, timeout: float = 600) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as reply:
        return reply.read()


def start_server(store: Path, port: int) -> tuple[subprocess.Popen, float]:
    """`smartmoney serve` in a child process; returns it and the seconds until warm."""
    log = open(OUT / "web-server.log", "w")  # noqa: SIM115 - lives with the child
    child = subprocess.Popen([str(BIN / "smartmoney"), "serve", "--store", str(store), "--port", str(port)],
                             stdout=log, stderr=subprocess.STDOUT)
    started = time.monotonic()
    base = f"http://127.0.0.1:{port}"
    while True:
        if child.poll() is not None:
            raise SystemExit(f"the server stopped (code {child.returncode}); see benchmarks/out/web-server.log")
        try:
            if json.loads(get(base + "/health", timeout=2))["warm"]:
                return child, time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.5)


async def client(host: str, port: int, path: str, until: float, latencies: list[float], errors: list[str]) -> None:
    """One keep-alive connection sending GET `path` back to back until `until`."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/html\r\n\r\n".encode()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < until:
            sent = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - sent)
            if status != 200:
                errors.append(str(status))
    except (OSError, asyncio.IncompleteReadError, AttributeError) as error:
        errors.append(type(error).__name__)
    finally:
        writer.close()


async def load(port: int, path: str, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    started = time.monotonic()
    await asyncio.gather(*(client("127.0.0.1", port, path, started + seconds, latencies, errors)
                           for _ in range(clients)))
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(q: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")

    return {"path": path, "requests": len(latencies), "errors": len(errors), "seconds": elapsed,
            "rps": len(latencies) / elapsed, "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99),
            "max": 1000 * latencies[-1] if latencies else float("nan")}


def machine_line() -> str:
    """The machine in one line, with the load average now, for the section."""
    about = machine()
    return (f"{about['cpu']}, {about['cores']} cores, {about['ram_gib']:.1f} GiB RAM; Python {about['python']}; "
            f"load average when measuring started: {', '.join(f'{x:.1f}' for x in about['load_average'])}")


def write_results(lines: list[str]) -> None:
    write_section(RESULTS, HEADING, "\n".join([HEADING, "", *lines]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=OUT / "web-store")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--no-write", action="store_true", help="Print only; leave RESULTS.md alone.")
    args = parser.parse_args()
    ensure_store(args.store)
    port = free_port()
    child, warm = start_server(args.store, port)
    base = f"http://127.0.0.1:{port}"
    try:
        overview = "/"
        sectors = get(base + "/flows").decode()
        drill = re.search(r'href="(/flows\?[^"]*sector=[^"]+)"', sectors).group(1).replace("&amp;", "&")
        first = {}
        for path in (overview, drill):
            started = time.monotonic()
            get(base + path)                      # the drill-down's first visit renders it
            first[path] = time.monotonic() - started
            print(f"first request {path}: {first[path]:.2f} s", flush=True)
        measured_at, load_start = machine_line(), os.getloadavg()
        rows = [asyncio.run(load(port, path, args.clients, args.seconds)) for path in (overview, drill)]
        load_end = os.getloadavg()
    finally:
        child.terminate()
        child.wait(30)
    for row in rows:
        print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    worst = max(row["p95"] for row in rows)
    (OUT / "web.json").write_text(json.dumps({
        "command": f"benchmarks/web.py --clients {args.clients} --seconds {args.seconds:g}",
        "measured": dt.datetime.now().isoformat(timespec="seconds"), "clients": args.clients,
        "warm_seconds": warm, "first_visit_seconds": first, "pages": rows, "worst_p95_ms": worst,
        "target_p95_ms": TARGET_MS, "load_start": load_start, "load_end": load_end}, indent=1))
    verdict = ("**met**" if worst <= TARGET_MS else
               f"**not met** (worst p95 {worst:.0f} ms, {worst / TARGET_MS:.1f}x the target)")
    shown_store = args.store.relative_to(ROOT) if args.store.is_relative_to(ROOT) else args.store
    lines = [
        f"Generated by `benchmarks/web.py --clients {args.clients} --seconds {args.seconds:g}` on {dt.date.today()}.",
        f"Machine: {measured_at}.",
        (f"Work: `smartmoney serve --store {shown_store}` (the default book, june-2024-rotation) in its own "
         f"process, warm (the latest week computed at startup in {warm:.0f} s, each URL requested once before "
         f"measuring); {args.clients} concurrent keep-alive clients (asyncio, raw HTTP/1.1, one process) for "
         "each URL in turn."),
        "",
        "| page | URL | requests | errors | requests/s | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        *[f"| {'overview' if row['path'] == '/' else 'drill-down'} | `{row['path']}` | {row['requests']:,} | "
          f"{row['errors']} | {row['rps']:,.0f} | {row['p50']:.1f} | {row['p95']:.1f} | {row['p99']:.1f} | "
          f"{row['max']:.1f} |" for row in rows],
        "",
        (f"First visits, before measuring: the overview {first[overview]:.2f} s (computed at startup), the "
         f"drill-down {first[drill]:.2f} s (its data computed at startup; the page rendered on this visit). "
         "The figures above are for pages already rendered and kept in memory; an as-of date not yet "
         "visited costs about as much as the startup warm-up."),
        "",
        f"Target (p95 <= {TARGET_MS:.0f} ms at {args.clients} concurrent clients, warm): {verdict}.",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_results(lines)
        print(f"wrote the section to {RESULTS}")


if __name__ == "__main__":
    main()
