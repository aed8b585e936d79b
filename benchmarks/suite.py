"""The whole benchmark suite in one command: every script, then the top of RESULTS.md.

    make bench                                   # = benchmarks/suite.py --scale full --runs 3
    make bench BENCH_SCALE=small BENCH_RUNS=1    # minutes: checks the harness end to end
    .venv/bin/python benchmarks/suite.py --summary-only   # redo the top sections from the JSON

Runs each benchmark script as it is (positioning, incremental, report, retail_identify, web,
large (full scale only) and spark when they exist, scaling), one after the other, each in its own process
with its output in benchmarks/out/suite-<scale>-<script>.log, passing `--runs N` (and the
scale, in each script's own terms) to the scripts that take them. Each script writes its own
section of benchmarks/RESULTS.md and its figures as JSON in benchmarks/out/. Then the suite
writes, at the top of RESULTS.md, a "Machine and run" section (CPU, cores, RAM, OS, Python and
engine versions, date, commit, command, each script's time and the load average) and a
"Summary" of the headline ratios, read from the scripts' JSON files.

`--scale full` gives the real figures (hours; the hand-written SQL of positioning.py needs ~20
GiB on the full book). `--scale small` checks the harness: the scripts run on small inputs and
nothing in benchmarks/RESULTS.md is changed: the sections the scripts wrote there (their own
section only: a section another job writes meanwhile is left alone) are moved to
benchmarks/out/RESULTS-suite-small.md (with the small sections the scripts write to out/
themselves, and the suite's own two), and the JSON files the scripts write whatever the scale
(incremental.json, report-weekly.json, web.json) are moved to benchmarks/out/suite-small/ and
the full-scale ones put back.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _results import (
    HERE,
    OUT,
    RESULTS,
    ROOT,
    headings,
    load_average,
    machine,
    read_section,
    remove_section,
    write_section,
)

SMALL_DIR = OUT / "suite-small"
SMALL_RESULTS = OUT / "RESULTS-suite-small.md"
MACHINE = "## Machine and run"
SUMMARY = "## Summary"
SMALL_TICKS = 2_000_000


@dataclasses.dataclass
class Step:
    name: str                       # the script is benchmarks/<name>.py
    args: dict                      # scale -> extra arguments
    heading: str | None             # the section the script writes (None: any heading with `name` in it)
    small_results: Path | None = None   # where the script itself writes its small-scale section
    shared_json: tuple = ()         # JSON files (in out/) written whatever the scale
    optional: bool = False          # skipped with a note when the script is missing
    scales: tuple = ("small", "full")  # the scales it runs at (skipped with a note at the others)
    minutes: dict = dataclasses.field(default_factory=dict)  # rough minutes per scale (for the bar)


STEPS = [
    Step("positioning", {"small": ["--scale", "small"], "full": ["--scale", "full"]},
         "## Positioning metrics", OUT / "RESULTS-small.md", minutes={"small": 2, "full": 35}),
    Step("incremental", {"small": [], "full": []}, "## Incremental updates (issue 8)",
         shared_json=("incremental.json",), minutes={"small": 2, "full": 5}),
    Step("report", {"small": [], "full": []}, "## Weekly report", shared_json=("report-weekly.json",),
         minutes={"small": 1, "full": 2}),
    Step("retail_identify", {"small": ["--ticks", str(SMALL_TICKS)], "full": []},
         "## Retail identification (issue 5)", OUT / f"RESULTS-retail-{SMALL_TICKS}.md",
         minutes={"small": 1, "full": 8}),
    Step("web", {"small": ["--seconds", "5"], "full": []}, "## Web dashboard (issue 7)",
         shared_json=("web.json",), minutes={"small": 2, "full": 2}),
    Step("large", {"full": []}, "## Larger than memory", optional=True, scales=("full",),
         minutes={"full": 60}),
    Step("spark", {"small": ["--scale", "small"], "full": ["--scale", "full"]}, "## Spark local vs DuckDB",
         OUT / "RESULTS-spark-small.md", optional=True, minutes={"small": 5, "full": 30}),
    Step("scaling", {"small": ["--scale", "small"], "full": ["--scale", "full"]}, "## Scaling with rows",
         OUT / "RESULTS-scaling-small.md", minutes={"small": 3, "full": 45}),
]


# --------------------------------------------------------------------------------------------
# Running the scripts
# --------------------------------------------------------------------------------------------

def accepted_options(script: Path) -> set[str]:
    """The `--options` a script's --help lists (so the suite passes only those it takes)."""
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)
    return {word.strip("[],=") for word in done.stdout.split() if word.startswith("--")}


def command_for(step: Step, scale: str, runs: int) -> tuple[list[str], list[str]]:
    """The command line for a step, and the arguments it was not given (not accepted)."""
    script = HERE / f"{step.name}.py"
    accepted = accepted_options(script)
    wanted = ["--runs", str(runs), *step.args[scale]]
    arguments, dropped, i = [], [], 0
    while i < len(wanted):
        option = wanted[i]
        value = wanted[i + 1] if i + 1 < len(wanted) and not wanted[i + 1].startswith("--") else None
        (arguments if option in accepted else dropped).extend([option] + ([value] if value else []))
        i += 2 if value else 1
    return [sys.executable, str(script), *arguments], dropped


def sections(path: Path) -> dict[str, str]:
    return {h: read_section(path, h) for h in headings(path)}


def run_step(step: Step, scale: str, runs: int, progress, task) -> dict:
    """Run one script, with its output in a log whose last line the progress bar shows."""
    script = HERE / f"{step.name}.py"
    record = {"name": step.name, "script": f"benchmarks/{step.name}.py"}
    if not script.is_file():
        record.update(status="skipped", note=f"benchmarks/{step.name}.py does not exist (yet)")
        return record
    if scale not in step.scales:
        record.update(status="skipped", note=f"no {scale} input for it: runs at {', '.join(step.scales)} scale only")
        return record
    command, dropped = command_for(step, scale, runs)
    log = OUT / f"suite-{scale}-{step.name}.log"
    record.update(command=" ".join(["benchmarks/" + script.name, *command[2:]]), log=str(log.relative_to(ROOT)),
                  dropped=dropped, load_start=load_average())
    before = sections(RESULTS)
    backups = {}
    if scale == "small":  # keep the full-scale JSON files that the script overwrites whatever the scale
        SMALL_DIR.mkdir(parents=True, exist_ok=True)
        for name in step.shared_json:
            if (OUT / name).is_file():
                backups[name] = (OUT / name).read_bytes()
    started = time.perf_counter()
    with log.open("w") as sink:
        child = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "120"})
        while child.poll() is None:
            time.sleep(1)
            progress.update(task, description=f"{step.name}: {last_line(log)[:90]}")
    record.update(seconds=time.perf_counter() - started, returncode=child.returncode, load_end=load_average(),
                  status="ok" if child.returncode == 0 else "failed")
    if child.returncode != 0:
        record["tail"] = log.read_text(errors="replace").splitlines()[-15:]
    after = sections(RESULTS)
    # only the script's own section: others may be written meanwhile by other jobs, and are left alone
    changed = [h for h, text in after.items() if before.get(h) != text
               and (h == step.heading if step.heading else step.name.lower() in h.lower())]
    record["sections"] = changed
    if scale == "small":
        for heading in changed:  # a small run never changes RESULTS.md: move the section out
            write_section(SMALL_RESULTS, heading, after[heading], keep_analysis=False)
            if heading in before:
                write_section(RESULTS, heading, before[heading], keep_analysis=False)
            else:
                remove_section(RESULTS, heading)
        if step.small_results and step.heading:
            text = read_section(step.small_results, step.heading)
            if text and heading_newer(step.small_results, started):
                write_section(SMALL_RESULTS, step.heading, text, keep_analysis=False)
                record["sections"] = sorted({*changed, step.heading})
        for name in step.shared_json:
            if (OUT / name).is_file() and (OUT / name).stat().st_mtime >= time.time() - record["seconds"] - 1:
                shutil.move(OUT / name, SMALL_DIR / name)
            if name in backups:
                (OUT / name).write_bytes(backups[name])
    return record


def heading_newer(path: Path, started_perf: float) -> bool:
    """Whether `path` was written after the step started."""
    started_wall = time.time() - (time.perf_counter() - started_perf)
    return path.is_file() and path.stat().st_mtime >= started_wall - 1


def last_line(log: Path) -> str:
    try:
        with log.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, 2) - 2000))
            tail = handle.read().decode(errors="replace").replace("\r", "\n")
    except OSError:
        return ""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return lines[-1] if lines else "starting"


# --------------------------------------------------------------------------------------------
# The summary, from the scripts' JSON files
# --------------------------------------------------------------------------------------------

def json_file(name: str, scale: str) -> Path | None:
    """A script's JSON for `scale` (the small run's shared files live in out/suite-small/)."""
    shared = {"incremental.json", "report-weekly.json", "web.json"}
    if scale == "small" and name in shared:
        path = SMALL_DIR / name
    else:
        path = OUT / name
    return path if path.is_file() else None


def load(path: Path | None) -> dict | None:
    try:
        return json.loads(path.read_text()) if path else None
    except (OSError, ValueError):
        return None


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "**not met**")


def day(path: Path, data: dict, *keys: str) -> str:
    for key in keys:
        value = data
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and len(value) >= 10:
            return value[:10]
    return dt.date.fromtimestamp(path.stat().st_mtime).isoformat()


def summary_rows(scale: str) -> list[tuple]:
    """(area, measure, value, target, verdict, source) rows of the headline figures."""
    rows = []

    def missing(path: Path | None, area: str, script: str, name: str) -> None:
        if load(path) is None:
            rows.append((area, f"no `{name}` yet: run `benchmarks/{script}` (or the suite)", "", "", "", ""))

    def source(path: Path, data: dict, *keys: str) -> str:
        return f"`{path.relative_to(ROOT)}` ({day(path, data, *keys)})"

    path = json_file(f"report-{scale}.json", scale)
    missing(path, 'positioning', 'positioning.py', f"report-{scale}.json")
    if (data := load(path)) is not None:
        m, src = data["measurements"], source(path, data, "whole_book_measured", "book.built")
        rows_n = data["book"]["rows"]["positions"]
        ours, sql, scan4 = m["ours"]["seconds"], m["sql"]["seconds"], m["scan4"]["seconds"]
        rows += [("positioning", f"scan floor: the 4 needed columns of {rows_n / 1e6:.1f}M position rows, once",
                  f"{scan4:.1f} s; ours is {ours / scan4:.0f}x it", "", "", src),
                 ("positioning", "ours / hand-written DuckDB SQL (weekly sector flows + exposure)",
                  f"{ours / sql:.2f}x ({ours:.1f} s vs {sql:.1f} s)", "<= 1.2x", verdict(ours / sql <= 1.2), src)]
        pandas_key, ours_key = ("pandas_subset", "ours_subset") if "pandas_subset" in m else ("pandas", "ours")
        if pandas_key in m:
            speed = m[pandas_key]["seconds"] / m[ours_key]["seconds"]
            where = (f" (on the {data['subset']['positions'] / 1e6:.0f}M-row subset)"
                     if pandas_key == "pandas_subset" else "")
            rows.append(("positioning", "pandas / ours" + where,
                         f"{speed:.1f}x (pandas {m[pandas_key]['seconds']:.1f} s)", ">= 20x", verdict(speed >= 20), src))
            kept_key = ours_key.replace("ours", "ours_kept")
            if kept_key in m:
                speed = m[pandas_key]["seconds"] / m[kept_key]["seconds"]
                rows.append(("positioning", "pandas / ours on the store with its kept tables" + where,
                             f"{speed:.1f}x ({m[kept_key]['seconds']:.1f} s; deriving the tables once: "
                             f"{m[pandas_key.replace('pandas', 'derive')]['seconds']:.0f} s)", ">= 20x",
                             verdict(speed >= 20), src))
        peak = max(x["peak_rss_gib"] for k, x in m.items() if k.startswith("ours"))
        rows.append(("positioning", "ours, peak RSS (both ways)", f"{peak:.2f} GiB", "<= 6 GiB", verdict(peak <= 6), src))
    ticks = SMALL_TICKS if scale == "small" else 100_000_000
    path = json_file(f"report-retail-{ticks}.json", scale)
    missing(path, 'retail identification', 'retail_identify.py', f"report-retail-{ticks}.json")
    if (data := load(path)) is not None:
        m, src = data["measurements"], source(path, data, "measured")
        for method in ("bjzz", "quote_midpoint"):
            ours, sql, scan = (m.get(f"{w}_{method}", {}).get("seconds") for w in ("ours", "sql", "scan"))
            if ours and sql:
                rows.append(("retail identification", f"{method}: ours / hand-written SQL ({ticks / 1e6:g}M prints)",
                             f"{ours / sql:.2f}x ({ours:.1f} s vs {sql:.1f} s)"
                             + (f"; scan floor {scan:.1f} s, ours {ours / scan:.1f}x it" if scan else ""),
                             "<= 1.2x", verdict(ours / sql <= 1.2), src))
    path = json_file("incremental.json", scale)
    missing(path, 'incremental', 'incremental.py', "incremental.json")
    if (data := load(path)) is not None:
        import statistics

        src = source(path, data)
        years = sorted(data, key=int)
        med = {y: {k: statistics.median(data[y][k]) for k in ("full", "new_day")} for y in years}
        last, first = years[-1], years[0]
        share = 100 * med[last]["new_day"] / med[last]["full"]
        rows.append(("incremental", f"one new day / full derivation, {last}-year book "
                     f"({data[last]['rows'] / 1e6:.1f}M position rows)",
                     f"{share:.1f}% ({med[last]['new_day']:.2f} s vs {med[last]['full']:.1f} s)", "<= 3%",
                     verdict(share <= 3), src))
        if first != last:
            growth = med[last]["new_day"] / med[first]["new_day"]
            rows.append(("incremental", f"one new day, {last} years of history / {first} year",
                         f"{growth:.2f}x", "<= 1.2x", verdict(growth <= 1.2), src))
    path = json_file("report-weekly.json", scale)
    missing(path, 'weekly report', 'report.py', "report-weekly.json")
    if (data := load(path)) is not None:
        sql = data.get("references", {}).get("sql")
        versus = f"; {data['seconds'] / sql['seconds']:.2f}x the SQL of the sector table" if sql else ""
        rows.append(("weekly report", "`smartmoney report` on the default book", f"{data['seconds']:.1f} s "
                     f"(peak {data['peak_rss_gib']:.2f} GiB{versus})", f"<= {data['target_seconds']:g} s",
                     verdict(data["seconds"] <= data["target_seconds"]), source(path, data, "measured")))
    path = json_file("web.json", scale)
    missing(path, 'web dashboard', 'web.py', "web.json")
    if (data := load(path)) is not None:
        rows.append(("web dashboard", f"worst p95 latency, {data['clients']} concurrent clients, warm",
                     f"{data['worst_p95_ms']:.0f} ms", f"<= {data['target_p95_ms']:g} ms",
                     verdict(data["worst_p95_ms"] <= data["target_p95_ms"]), source(path, data, "measured")))
    path = json_file("large.json", scale) if scale == "full" else None
    if (data := load(path)) is not None and data.get("reports"):
        import statistics

        done = [r for r in data["reports"] if r.get("returncode") == 0]
        positions = data["book"]["rows"].get("positions", 0)
        if done:
            peak = max(r["peak_rss_gib"] for r in done)
            rows.append(("larger than memory", f"weekly report on {positions / 1e6:.0f}M position rows, DuckDB "
                         f"memory_limit {data['memory_limit']}",
                         f"{statistics.median(r['seconds'] for r in done):,.0f} s, peak RSS {peak:.2f} GiB",
                         "within the limit", "", f"`{path.relative_to(ROOT)}` ({data.get('date', '')})"))
        else:
            rows.append(("larger than memory", f"weekly report on {positions / 1e6:.0f}M position rows",
                         "failed", "", "**not met**", f"`{path.relative_to(ROOT)}` ({data.get('date', '')})"))
    rows += spark_rows(scale)
    candidates = [p for p in ([json_file("scaling-small.json", scale)] if scale == "small" else
                              [json_file("scaling-full.json", scale), json_file("scaling-medium.json", scale)]) if p]
    candidates = [p for p in candidates if (load(p) or {}).get("summary")]
    if candidates:
        path = max(candidates, key=lambda p: load(p).get("measured", ""))
        data = load(path)
        sizes = data["sizes"]
        span = f"{sizes[0]['positions'] / 1e6:.1f}M..{sizes[-1]['positions'] / 1e6:.1f}M rows, {len(sizes)} sizes"
        for kind, label in (("ours", "ours"), ("ours_derived", "ours, flows derived (no kept flows)"),
                            ("sql", "hand-written SQL"), ("scan4", "scan floor")):
            fit = data["summary"].get(kind, {}).get("fit")
            if fit:
                rows.append(("scaling", f"{label}: exponent b of seconds ~ rows^b ({span})",
                             f"b = {fit['wall']['b']:.2f} (R² {fit['wall']['r2']:.2f}); CPU b = {fit['cpu']['b']:.2f}; "
                             f"last doubling {fit['last_step_b']:.2f}", "", "", source(path, data, "measured")))
    return rows


def spark_rows(scale: str) -> list[tuple]:
    """Spark local vs DuckDB, from benchmarks/out/spark.json (spark-small.json at small scale)."""
    path = json_file("spark-small.json" if scale == "small" else "spark.json", scale)
    data = load(path)
    if data is None or not isinstance(data.get("summary"), dict):
        state = "exists" if (HERE / "spark.py").is_file() else "does not exist yet"
        return [("spark", f"Spark local vs DuckDB: no `{'spark-small' if scale == 'small' else 'spark'}.json` "
                 f"yet (`benchmarks/spark.py` {state})", "", "", "", "")]
    src = f"`{path.relative_to(ROOT)}` ({day(path, data, 'measured')})"
    largest = max(data.get("stores", [{}]), key=lambda f: f.get("positions", 0))
    where = (f" on {Path(largest['store']).name} ({largest['positions'] / 1e6:.1f}M position rows; weekly "
             "sector flows + exposure)" if largest.get("store") else "")
    labels = {"spark_over_duckdb_1core": ("Spark local[1] / DuckDB, 1 thread each" + where, "{:.1f}x"),
              "spark_speedup_1_to_2_cores": ("Spark local[1] -> local[2] speed-up", "{:.2f}x"),
              "spark_rows_per_s_per_core": ("Spark position rows per second per core", "{:,.0f}")}
    rows = []
    for key, value in data["summary"].items():
        label, form = labels.get(key, (key.replace("_", " "), "{}"))
        rows.append(("spark", label, form.format(value) if isinstance(value, (int, float)) else str(value),
                     "", "", src))
    return rows


def git(*arguments: str) -> str:
    done = subprocess.run(["git", *arguments], capture_output=True, text=True, cwd=ROOT, check=False)
    return done.stdout.strip()


def table_rows(section: str) -> list[tuple]:
    """The (area, measure, value, target, verdict, source) rows of a summary section's table."""
    cells = [[cell.strip() for cell in line.strip().strip("|").split("|")]
             for line in section.splitlines() if line.startswith("| ")]
    return [tuple(row) for row in cells[1:] if len(row) == 6]   # the header row left out


def carried_over(rows: list[tuple], old_rows: list[tuple]) -> list[tuple]:
    """`rows`, with the old table's rows kept for every area whose JSON this checkout lacks
    (benchmarks/out/ is not in git: a fresh clone redoing the summary keeps the figures it
    cannot read, each still dated by its source), in the old table's order of areas."""
    measured = {row[0] for row in rows if not row[1].startswith("no `") and " no `" not in row[1]}
    areas = list(dict.fromkeys([row[0] for row in old_rows] + [row[0] for row in rows]))
    merged = []
    for area in areas:
        kept = [row for row in old_rows if row[0] == area]
        merged += kept if area not in measured and kept else [row for row in rows if row[0] == area]
    return merged


def write_top(scale: str, record: dict, target: Path) -> None:
    mach = record["machine"]
    engines = ", ".join(f"{name} {mach.get(key) or 'not installed'}" for name, key in
                        (("DuckDB", "duckdb"), ("Ibis", "ibis"), ("pyspark", "pyspark"), ("pandas", "pandas"),
                         ("pyarrow", "pyarrow")))
    lines = [MACHINE, "",
             f"- **Machine**: {mach['cpu']}, {mach['cores']} cores, {mach['ram_gib']:.1f} GiB RAM; {mach['os']}.",
             f"- **Software**: Python {mach['python']}; {engines}.",
             f"- **Run**: `{record['command']}` on {record['started'][:16].replace('T', ' ')} UTC, commit "
             f"{record['commit']}{' (with uncommitted changes)' if record['dirty'] else ''}"
             + (f"; {record['seconds'] / 60:.0f} min in all." if record.get("seconds") else ".")
             + (f" Summary redone from the JSON files on {record['summary_redone'][:16].replace('T', ' ')} UTC "
                "(`--summary-only`)." if record.get("summary_redone") else ""),
             f"- **Load**: 1/5/15-minute load average {', '.join(f'{x:.1f}' for x in record['load_start'])} "
             f"at the start and {', '.join(f'{x:.1f}' for x in record['load_end'])} at the end. The machine "
             "may be shared with other jobs (the runs use `nice -n 10`); each script records the load "
             "average in its JSON, and wall times vary run to run when others run: read the ratios "
             "and the CPU seconds rather than single wall times.", ""]
    if record["steps"]:
        lines += ["| script | status | minutes | load average start -> end | section written |",
                  "|---|---|---:|---|---|"]
        for step in record["steps"]:
            minutes = f"{step['seconds'] / 60:.1f}" if "seconds" in step else ""
            loads = (f"{step['load_start'][0]:.1f} -> {step['load_end'][0]:.1f}" if "load_end" in step else "")
            status = step["status"] + (f": {step['note']}" if step.get("note") else "")
            if step.get("dropped"):
                status += f" (not given {' '.join(step['dropped'])}: the script does not take it)"
            lines.append(f"| `{step.get('command', step['script'])}` | {status} | {minutes} | {loads} | "
                         f"{', '.join(s.removeprefix('## ') for s in step.get('sections', []))} |")
        lines.append("")
    else:
        lines += ["Only the summary was redone (`--summary-only`): the figures come from the scripts' "
                  "last runs, each dated in the table below.", ""]
    old_rows = table_rows(read_section(target, SUMMARY) or "")
    write_section(target, MACHINE, "\n".join(lines), keep_analysis=False, at_top=True)
    rows = carried_over(summary_rows(scale), old_rows)
    body = [SUMMARY, "",
            "The headline figures, read from each script's JSON in `benchmarks/out/` (the date is the "
            "day it was measured); the sections below have the details, the runs and the conditions, "
            "and their hand-written analyses what changed since a figure was measured.", "",
            "| area | measure | value | target | | from |", "|---|---|---|---|---|---|"]
    body += [f"| {area} | {what} | {value} | {goal} | {ok} | {src} |" for area, what, value, goal, ok, src in rows]
    if not rows:
        body.append("| | no JSON found in benchmarks/out/ | | | | |")
    body.append("")
    write_section(target, SUMMARY, "\n".join(body), keep_analysis=False, after=MACHINE)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "full"), default="full")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median kept)")
    parser.add_argument("--only", help="comma-separated scripts to run (default: all)")
    parser.add_argument("--summary-only", action="store_true",
                        help="run nothing: write the two top sections from the JSON files there are")
    args = parser.parse_args()
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    OUT.mkdir(exist_ok=True)
    chosen = [s for s in STEPS if not args.only or s.name in args.only.split(",")]
    if args.summary_only:
        chosen = []
    command = "benchmarks/suite.py " + " ".join(sys.argv[1:])
    if os.environ.get("MAKE_BENCH"):
        command = f"make bench ({command})"
    record = {"command": command, "scale": args.scale, "runs": args.runs,
              "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain", "--", "src")),
              "machine": machine(), "load_start": load_average(), "steps": []}
    if args.scale == "small" and chosen:
        SMALL_DIR.mkdir(parents=True, exist_ok=True)
        if not args.only or not SMALL_RESULTS.is_file():  # --only adds to the last small run's file
            SMALL_RESULTS.write_text("# Benchmark results (suite, small scale: a harness check)\n")
    started = time.perf_counter()
    total = sum(s.minutes.get(args.scale, 1) for s in chosen) or 1
    columns = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[steps]}"),
               TimeElapsedColumn()]
    with Progress(*columns, transient=False) as progress:
        overall = progress.add_task("suite", total=total, steps="")
        for number, step in enumerate(chosen, 1):
            progress.update(overall, steps=f"script {number}/{len(chosen)}: {step.name}")
            result = run_step(step, args.scale, args.runs, progress, overall)
            record["steps"].append(result)
            progress.advance(overall, step.minutes.get(args.scale, 1))
            shown = {"ok": "[green]ok[/]", "failed": "[red]FAILED[/]", "skipped": "[yellow]skipped[/]"}
            progress.console.print(f"{step.name}: {shown[result['status']]}"
                                   + (f" in {result['seconds'] / 60:.1f} min" if "seconds" in result else "")
                                   + (f" ({result['note']})" if result.get("note") else "")
                                   + (f"; log {result['log']}" if result.get("log") else ""))
            if result["status"] == "failed":
                for line in result.get("tail", [])[-5:]:
                    progress.console.print("    " + line, markup=False)
        progress.update(overall, description="summary", steps="")
    record["seconds"] = time.perf_counter() - started if chosen else None
    record["load_end"] = load_average()
    last = OUT / f"suite-{args.scale}.json"
    if chosen and args.only and last.is_file():  # --only: these steps replace theirs in the last record
        earlier = json.loads(last.read_text())
        ran = {step["name"]: step for step in record["steps"]}
        record["steps"] = [ran.pop(step["name"], step) for step in earlier["steps"]] + list(ran.values())
        record["command"] = f"{earlier['command']}`, then `{record['command']}"
        record["started"] = earlier["started"]
        record["seconds"] = sum(step.get("seconds", 0) for step in record["steps"])
    if chosen:
        last.write_text(json.dumps(record, indent=1, default=str))
    if not chosen and last.is_file():  # --summary-only: the last suite run's record, summary redone
        record = {**json.loads(last.read_text()), "summary_redone": record["started"]}
    target = SMALL_RESULTS if args.scale == "small" else RESULTS
    write_top(args.scale, record, target)
    failed = [s["name"] for s in record["steps"] if s["status"] == "failed"]
    print(f"wrote {target.relative_to(ROOT)}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
