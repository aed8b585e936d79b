"""Benchmark: the weekly report's heavy metrics on Spark local mode vs DuckDB, per core.

    nice -n 10 .venv/bin/python benchmarks/spark.py --runs 3                 # default book (+ store-small)
    .venv/bin/python benchmarks/spark.py --scale small --runs 1               # harness check
    nice -n 10 .venv/bin/python benchmarks/spark.py --runs 3 --with-report    # + the whole report

Each measurement runs in a fresh child process (`spark.py --child KIND --store DIR`), median of
--runs: `book.flows(by="sector", freq="W")` and `book.exposure(by="sector", freq="W")` to Arrow
(what positioning.py times as "ours", disclosure control on with k=1, p=100), on Spark
local[1] and local[2] and on DuckDB with threads=1 and 2; with --with-report, the whole weekly
report (`report.build`: every fact, the narrative and the chart data) too. The Spark session is
started before the clock (its start is reported apart: on a cluster it is paid once per
application); opening the store and registering its tables are inside it, as for DuckDB.
CPU seconds count the child and, for Spark, its JVM (/proc/<pid>/stat before the JVM exits).

Stores: `--scale full` (default) the default book (`demo-store`, built with `smartmoney
simulate --scenario june-2024-rotation` when missing) and benchmarks/out/store-small when it
exists; `--scale small` only store-small (built by positioning.py's helper when missing).
Writes benchmarks/out/spark.json (or spark-small.json) and the "Spark local vs DuckDB" section
of benchmarks/RESULTS.md (full scale; small goes to benchmarks/out/RESULTS-spark-small.md).
The figures feed the sizing table of docs/spark.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _results import OUT, RESULTS, ROOT, load_average, machine, write_section
from positioning import ensure_book, peak_rss_kib, store_dir, table_rows

SECTION = "## Spark local vs DuckDB"
DEFAULT_BOOK = ROOT / "demo-store"
KINDS = {  # kind: (engine, cores)
    "duckdb1": ("duckdb", 1), "duckdb2": ("duckdb", 2),
    "spark1": ("spark", 1), "spark2": ("spark", 2),
}
WORKS = ("metrics", "report")


def ensure_default_book(store: Path) -> None:
    if not (store / "_manifest.json").is_file():
        command = [str(ROOT / ".venv/bin/smartmoney"), "simulate", "--scenario", "june-2024-rotation",
                   "--store", str(store), "--quiet"]
        print("building the default book:", " ".join(command), flush=True)
        subprocess.run(command, check=True, cwd=ROOT)


def jvm_cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a live process (the Spark JVM), 0 when there is none."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(kind: str, work: str, store: Path) -> None:
    """One measurement in this fresh process; prints one JSON line."""
    import smartmoney as sm
    from smartmoney.report import build, render_json

    engine, cores = KINDS[kind]
    session_seconds, jvm = 0.0, None
    if engine == "spark":
        from smartmoney.engine import SPARK_MASTER_ENV, spark_session

        os.environ[SPARK_MASTER_ENV] = f"local[{cores}]"   # the documented setting, as a user sets it
        started = time.perf_counter()
        session = spark_session()
        session.range(1).count()                      # the JVM and its executor are up
        session_seconds = time.perf_counter() - started
        jvm = session.sparkContext._gateway.proc.pid
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    jvm_before = jvm_cpu_seconds(jvm)
    started = time.perf_counter()
    book = sm.open(store, engine=engine, k=1, p=100) if work == "metrics" else sm.open(store, engine=engine)
    if engine == "duckdb":
        book.backend.raw_sql(f"SET threads = {cores}")
    if work == "metrics":
        rows = (book.flows(by="sector", freq="W").to_pyarrow().num_rows
                + book.exposure(by="sector", freq="W").to_pyarrow().num_rows)
    else:
        rows = len(render_json(build(book)))
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
           + jvm_cpu_seconds(jvm) - jvm_before)
    print(json.dumps({"kind": kind, "work": work, "seconds": seconds, "cpu_seconds": cpu,
                      "session_seconds": session_seconds, "output": rows,
                      "peak_rss_kib": peak_rss_kib()}), flush=True)


def measure(kind: str, work: str, store: Path, runs: int) -> dict:
    """Median wall and CPU seconds of `runs` fresh child processes."""
    results = []
    for run in range(runs):
        command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--work", work,
                   "--store", str(store)]
        done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(figures)
        print(f"  {work} {kind:8s} {store.name}: run {run + 1}/{runs} {figures['seconds']:8.1f} s "
              f"(CPU {figures['cpu_seconds']:7.1f} s, session start {figures['session_seconds']:4.1f} s)",
              flush=True)
    return {"kind": kind, "work": work, "store": store.name, "runs": [r["seconds"] for r in results],
            "seconds": statistics.median(r["seconds"] for r in results),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in results),
            "session_seconds": statistics.median(r["session_seconds"] for r in results),
            "load": load_average()}


def per_store(store: Path, runs: int, works: tuple[str, ...]) -> dict:
    rows = table_rows(store)
    figures = {"store": str(store.relative_to(ROOT)) if store.is_relative_to(ROOT) else str(store),
               "positions": rows.get("positions", 0), "days": _days(store), "measurements": {}}
    for work in works:
        for kind in KINDS:        # interleaved runs would mix JVMs; one kind at a time, in order
            figures["measurements"][f"{work}:{kind}"] = measure(kind, work, store, runs)
    return figures


def _days(store: Path) -> int:
    manifest = json.loads((store / "_manifest.json").read_text())
    return len(manifest["tables"].get("positions", {}))


def derived(figures: dict) -> dict:
    """Ratios and rows per second per core from the medians of one store."""
    m, rows = figures["measurements"], figures["positions"]
    out = {}
    for work in WORKS:
        if f"{work}:spark1" not in m:
            continue
        s1, s2 = m[f"{work}:spark1"]["seconds"], m[f"{work}:spark2"]["seconds"]
        d1, d2 = m[f"{work}:duckdb1"]["seconds"], m[f"{work}:duckdb2"]["seconds"]
        out[work] = {"spark_over_duckdb_1core": s1 / d1, "spark_over_duckdb_2cores": s2 / d2,
                     "spark_speedup_1_to_2": s1 / s2, "duckdb_speedup_1_to_2": d1 / d2,
                     "spark_rows_per_s_per_core": rows / s1, "duckdb_rows_per_s_per_core": rows / d1,
                     "spark_rows_per_cpu_s": rows / m[f"{work}:spark1"]["cpu_seconds"]}
    return out


SIZING_ROWS_PER_DAY = (40_000, 400_000, 4_000_000, 40_000_000)
SIZING_CORES = (8, 32, 128, 512)
SIZING_DAYS = 1_260          # 5 years of trading days: the 5-year percentile ranks need them


def sizing(report: dict) -> dict:
    """Seconds = max(floor, rows / (rows per second per core x cores)).

    The per-core rate is the largest store's Spark local[1] median (its fixed costs, planning
    and scheduling, counted as if they grew with rows: pessimistic for large books); the floor
    is the smallest Spark time measured (those fixed costs do not shrink with cores)."""
    largest = max(report["stores"], key=lambda f: f["positions"])
    rate = largest["positions"] / largest["measurements"]["metrics:spark1"]["seconds"]
    floor = min(m["seconds"] for f in report["stores"] for key, m in f["measurements"].items()
                if key.startswith("metrics:spark"))
    table = {f"{rows_per_day}": {f"{cores}": max(floor, rows_per_day * SIZING_DAYS / (rate * cores))
                                 for cores in SIZING_CORES} for rows_per_day in SIZING_ROWS_PER_DAY}
    return {"floor_seconds": floor, "rows_per_s_per_core": rate, "days": SIZING_DAYS,
            "rate_from": Path(largest["store"]).name, "seconds": table}


def sizing_lines(size: dict) -> list[str]:
    def human(seconds: float) -> str:
        return (f"{seconds:,.0f} s" if seconds < 600 else f"{seconds / 60:,.0f} min" if seconds < 3 * 3600
                else f"{seconds / 3600:,.1f} h")
    lines = [f"Sizing (weekly sector flows + exposure over {size['days']:,} trading days of history): "
             f"time = rows / ({size['rows_per_s_per_core']:,.0f} rows/s per core, Spark local[1] on "
             f"{size['rate_from']}) / cores, and never under {size['floor_seconds']:.0f} s (the least "
             "Spark took here: planning and scheduling do not shrink with cores). Assumes linear "
             "scaling in cores, which local mode checks only from 1 to 2.",
             "", "| position rows per day | total rows | " + " | ".join(f"{c} cores" for c in SIZING_CORES) + " |",
             "|---:|---:|" + "---:|" * len(SIZING_CORES)]
    for rows_per_day, by_cores in size["seconds"].items():
        lines.append(f"| {int(rows_per_day):,} | {int(rows_per_day) * size['days'] / 1e6:,.0f}M | "
                     + " | ".join(human(by_cores[f"{c}"]) for c in SIZING_CORES) + " |")
    return lines


def write_results(report: dict, path: Path) -> None:
    mach = report["machine"]
    lines = [
        SECTION, "",
        f"Generated by `benchmarks/spark.py {report['arguments']}` on {report['measured'][:10]}. "
        f"Machine: {mach['cpu']}, {mach['cores']} cores, {mach['ram_gib']:.0f} GiB RAM, {mach['os']}; "
        f"Python {mach['python']}, pyspark {mach['pyspark']}, DuckDB {mach['duckdb']}, Ibis {mach['ibis']}; "
        f"load average at the start {report['load_start']} (the machine is shared: read CPU s beside wall s).",
        "",
        "Work: `metrics` = `book.flows(by=\"sector\", freq=\"W\")` + `book.exposure(by=\"sector\", freq=\"W\")` "
        "to Arrow (k=1, p=100); `report` = the whole weekly report (`report.build`, every fact and chart). "
        "Each run a fresh process, median of the runs; Spark's session start (JVM) is outside the clock "
        "and shown apart. CPU s includes the Spark JVM.",
        "",
        "| store | position rows | work | engine | cores | runs (s) | median s | CPU s | session start s "
        "| rows/s per core |",
        "|---|---:|---|---|---:|---|---:|---:|---:|---:|",
    ]
    for figures in report["stores"]:
        for m in figures["measurements"].values():
            engine, cores = KINDS[m["kind"]]
            lines.append(
                f"| {Path(figures['store']).name} | {figures['positions']:,} | {m['work']} | {engine} | {cores} "
                f"| {', '.join(f'{r:.1f}' for r in m['runs'])} | {m['seconds']:.1f} | {m['cpu_seconds']:.1f} "
                f"| {m['session_seconds']:.1f} | {figures['positions'] / (m['seconds'] * cores):,.0f} |")
    lines += ["", "| store | work | Spark / DuckDB, 1 core | Spark / DuckDB, 2 cores | Spark 1->2 cores "
              "| DuckDB 1->2 cores | Spark rows/s per core |", "|---|---|---:|---:|---:|---:|---:|"]
    for figures in report["stores"]:
        for work, r in figures["derived"].items():
            lines.append(f"| {Path(figures['store']).name} | {work} | {r['spark_over_duckdb_1core']:.1f}x "
                         f"| {r['spark_over_duckdb_2cores']:.1f}x | {r['spark_speedup_1_to_2']:.2f}x "
                         f"| {r['duckdb_speedup_1_to_2']:.2f}x | {r['spark_rows_per_s_per_core']:,.0f} |")
    lines += ["", "Rows/s per core = position rows of the store / (median wall s x cores). The sizing table "
              "in [docs/spark.md](../docs/spark.md#sizing) is derived from the Spark local[1] figure of the "
              "largest store, assuming linear scaling in cores (local mode checks only 1 -> 2 cores)."]
    lines += ["", *sizing_lines(report["sizing"])]
    write_section(path, SECTION, "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("full", "small"), default="full")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", type=Path, default=DEFAULT_BOOK, help="the default book's store")
    parser.add_argument("--with-report", action="store_true", help="time the whole report as well")
    parser.add_argument("--only", type=Path, nargs="+", help="measure these stores only (full scale: "
                        "still writes RESULTS.md), e.g. benchmarks/out/store-small on a busy machine")
    parser.add_argument("--child", choices=sorted(KINDS), help=argparse.SUPPRESS)
    parser.add_argument("--work", choices=WORKS, default="metrics", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.work, args.store)
        return
    started = time.perf_counter()
    stores = []
    if args.only:
        stores = [store.resolve() for store in args.only]
    elif args.scale == "full":
        ensure_default_book(args.store.resolve())
        stores.append(args.store.resolve())
        if (store_dir("small") / "_manifest.json").is_file():
            stores.append(store_dir("small"))
    else:
        ensure_book("small")
        stores.append(store_dir("small"))
    works = ("metrics", "report") if args.with_report else ("metrics",)
    report = {"measured": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
              "load_start": load_average(), "runs": args.runs,
              "arguments": " ".join(a for a in sys.argv[1:]) or "(defaults)", "stores": []}
    for store in stores:
        print(f"store {store}", flush=True)
        figures = per_store(store, args.runs, works)
        figures["derived"] = derived(figures)
        report["stores"].append(figures)
    largest = max(report["stores"], key=lambda f: f["positions"])
    report["summary"] = {"spark_over_duckdb_1core": largest["derived"]["metrics"]["spark_over_duckdb_1core"],
                         "spark_speedup_1_to_2_cores": largest["derived"]["metrics"]["spark_speedup_1_to_2"],
                         "spark_rows_per_s_per_core": largest["derived"]["metrics"]["spark_rows_per_s_per_core"]}
    report["sizing"] = sizing(report)
    report["wall_seconds"] = time.perf_counter() - started
    name = "spark.json" if args.scale == "full" else "spark-small.json"
    OUT.mkdir(exist_ok=True)
    (OUT / name).write_text(json.dumps(report, indent=1, default=str))
    path = RESULTS if args.scale == "full" else OUT / "RESULTS-spark-small.md"
    write_results(report, path)
    print(f"done in {report['wall_seconds']:,.0f} s; wrote {path} and {OUT / name}", flush=True)


if __name__ == "__main__":
    main()
