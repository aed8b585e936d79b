"""Benchmark: the weekly report on a book larger than memory, under a DuckDB memory limit (issue 8).

    nice -n 19 .venv/bin/python benchmarks/large.py                 # build (once) + 1 report run
    nice -n 19 .venv/bin/python benchmarks/large.py --runs 2 --memory-limit 6GB
    .venv/bin/python benchmarks/large.py --write-only                # section again from the JSON

Builds (once, cached in benchmarks/out/store-large/) a plain-background book of 1,000 funds x
~300 names (names_min 200, names_max 480: mean ~300) over 5 years (2019-07-01..2024-06-28)
with `smartmoney simulate`, then runs the weekly report on it in a fresh child process with
DuckDB's memory_limit set (default 6GB), spilling to a temp folder of its own. For the build
and for each report run it records wall time, CPU seconds, the peak RSS of the process and of
any descendant (VmHWM, sampled from /proc every half second while it runs), and the peak size
of the spill folder (the child's TMPDIR is a folder of ours, where `engine.connect` makes its
`smartmoney-spill-*` folder). Writes benchmarks/out/large.json and the "Larger than memory"
section of benchmarks/RESULTS.md.

The report child runs what `smartmoney report --store DIR --format json` runs (`sm.open` then
`report.build` and `render_json`), through the Python API, because the `report` command has no
`--memory-limit` option (`metrics` has); `sm.open(..., memory_limit=...)` is the same setting.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import positioning
from _results import OUT, RESULTS, ROOT, machine, write_section

SECTION = "## Larger than memory"
STORE = OUT / "store-large"
MARKER = OUT / "store-large.json"
FIGURES = OUT / "large.json"
TMP = OUT / "large-tmp"
GIB = 2**30
WHERE_ROWS = 15

PARAMS = {"funds": 1000, "names_min": 200, "names_max": 480, "start": "2019-07-01", "end": "2024-06-28"}



# --------------------------------------------------------------------------------------------
# Watching a child process: peak RSS of it and its descendants, spill folder size
# --------------------------------------------------------------------------------------------

def _status(pid: int) -> dict:
    """VmHWM and VmRSS (KiB) of a live process, {} once it is gone."""
    figures = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    figures[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return figures


def _descendants(root: int) -> list[int]:
    """The pids of every live descendant of `root` (children, grandchildren ...)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        ppid = int(text[text.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _folder_bytes(folder: Path) -> int:
    """Bytes allocated on disk under `folder` (st_blocks, so sparse files count what they use)."""
    total = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(base, name)).st_blocks * 512
            except OSError:
                pass
    return total


def run_watched(command: list[str], *, log: Path, tmp: Path, label: str,
                max_rss_gib: float | None = None, min_free_gib: float = 10.0,
                env: dict | None = None) -> dict:
    """Run `command` with TMPDIR=`tmp`, sampling its process tree and `tmp` until it ends.

    Stops it (SIGTERM, then SIGKILL, to its own process group) when the tree's RSS passes
    `max_rss_gib` or the disk has less than `min_free_gib` free. Returns the figures.
    """
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    environment = {**os.environ, **(env or {}), "TMPDIR": str(tmp)}
    peaks: dict[int, dict] = {}          # pid -> {"cmd": ..., "hwm_kib": ...}
    tree_rss_peak = spill_peak = 0
    stopped = None
    started = time.monotonic()
    last_print = started
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                env=environment, start_new_session=True)
        status = usage = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            tree_rss = 0
            for member in [proc.pid, *_descendants(proc.pid)]:
                figures = _status(member)
                if not figures:
                    continue
                if member not in peaks:
                    try:
                        cmd = Path(f"/proc/{member}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
                    except OSError:
                        cmd = "?"
                    peaks[member] = {"cmd": cmd.strip(), "hwm_kib": 0}
                peaks[member]["hwm_kib"] = max(peaks[member]["hwm_kib"], figures.get("VmHWM", 0))
                tree_rss += figures.get("VmRSS", 0)
            tree_rss_peak = max(tree_rss_peak, tree_rss)
            spill = _folder_bytes(tmp)
            spill_peak = max(spill_peak, spill)
            free = shutil.disk_usage(tmp).free / GIB
            now = time.monotonic()
            if stopped is None and max_rss_gib is not None and tree_rss / 2**20 > max_rss_gib:
                stopped = f"RSS {tree_rss / 2**20:.2f} GiB > {max_rss_gib} GiB"
            if stopped is None and free < min_free_gib:
                stopped = f"disk free {free:.1f} GiB < {min_free_gib} GiB"
            if stopped is not None:
                print(f"[{label}] stopping pid {proc.pid}: {stopped}", flush=True)
                os.killpg(proc.pid, signal.SIGTERM)
                time.sleep(10)
                if os.wait4(proc.pid, os.WNOHANG)[0] == 0:
                    os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            if now - last_print >= 60:
                last_print = now
                print(f"[{label}] {now - started:,.0f} s: tree RSS {tree_rss / 2**20:.2f} GiB "
                      f"(peak HWM {max((p['hwm_kib'] for p in peaks.values()), default=0) / 2**20:.2f}), "
                      f"spill {spill / GIB:.2f} GiB, disk free {free:.0f} GiB", flush=True)
            time.sleep(0.5)
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    spill_left = _folder_bytes(tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    top = peaks.get(proc.pid, {"hwm_kib": 0})["hwm_kib"]
    return {
        "command": " ".join(command), "returncode": proc.returncode, "stopped": stopped,
        "seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_gib": top / 2**20,
        "descendants": [{"pid": pid, "cmd": p["cmd"], "peak_rss_gib": p["hwm_kib"] / 2**20}
                        for pid, p in peaks.items() if pid != proc.pid],
        "tree_rss_peak_gib": tree_rss_peak / 2**20,
        "spill_peak_gib": spill_peak / GIB, "spill_left_gib": spill_left / GIB,
        "log": os.path.relpath(log, ROOT),
        "log_tail": log.read_text(errors="replace")[-3000:] if proc.returncode else "",
    }


# --------------------------------------------------------------------------------------------
# The book
# --------------------------------------------------------------------------------------------

def table_rows(store: Path) -> dict:
    manifest = json.loads((store / "_manifest.json").read_text())
    return {name: sum(entry["rows"] for entry in parts.values())
            for name, parts in sorted(manifest["tables"].items())}


def table_bytes(store: Path) -> dict:
    manifest = json.loads((store / "_manifest.json").read_text())
    return {name: sum((store / entry["file"]).stat().st_size for entry in parts.values())
            for name, parts in sorted(manifest["tables"].items())}


def ensure_book(max_rss_gib: float) -> dict:
    """Build the store unless a complete one with these parameters is cached; returns its info."""
    if MARKER.is_file() and (STORE / "_manifest.json").is_file():
        info = json.loads(MARKER.read_text())
        if info.get("params") == PARAMS:
            return info
    if STORE.exists():
        shutil.rmtree(STORE)
    OUT.mkdir(parents=True, exist_ok=True)
    scenario = OUT / "scenario-large.toml"
    scenario.write_text(positioning.SCENARIO.format(scale="large", **PARAMS))
    command = [str(ROOT / ".venv/bin/smartmoney"), "simulate", "--scenario", str(scenario),
               "--store", str(STORE), "--funds", str(PARAMS["funds"]),
               "--names-min", str(PARAMS["names_min"]), "--names-max", str(PARAMS["names_max"]),
               "--quiet"]
    print("building the book:", " ".join(command), flush=True)
    run = run_watched(command, log=OUT / "build-large.log", tmp=TMP / "build", label="build",
                      max_rss_gib=max_rss_gib)
    if run["returncode"] != 0:
        FIGURES.write_text(json.dumps({"build_failed": run}, indent=1))
        raise SystemExit(f"the build failed ({run['stopped'] or 'exit ' + str(run['returncode'])}); "
                         f"see {run['log']}:\n{run['log_tail']}")
    info = {"params": PARAMS, "built": dt.datetime.now().isoformat(timespec="seconds"), "build": run,
            "rows": table_rows(STORE), "table_bytes": table_bytes(STORE),
            "store_bytes": _folder_bytes(STORE)}
    MARKER.write_text(json.dumps(info, indent=1))
    print(f"built in {run['seconds']:,.0f} s, peak RSS {run['peak_rss_gib']:.2f} GiB: {info['rows']}",
          flush=True)
    return info


# --------------------------------------------------------------------------------------------
# The report (child process)
# --------------------------------------------------------------------------------------------

def _own_hwm_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Tracer:
    """Samples, every `interval` s in a thread, this process's RSS, DuckDB's own memory and
    temporary storage (`duckdb_memory()` on a cursor of the same database) and where the main
    thread is: the chain of smartmoney functions on its stack (with the `by` of a metric call).
    Says which step of the report holds the peak and takes the time."""

    def __init__(self, backend, interval: float = 0.5):
        import threading

        self.interval = interval
        self.samples: list[dict] = []
        self.started = time.perf_counter()
        self.main = threading.main_thread().ident
        self.done = threading.Event()
        try:
            self.cursor = backend.con.cursor()
        except Exception:  # noqa: BLE001 - DuckDB's figures are a bonus
            self.cursor = None
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def where(self) -> str:
        frame = sys._current_frames().get(self.main)
        chain = []
        while frame is not None:
            code = frame.f_code
            if "/smartmoney/" in code.co_filename:
                name = code.co_name
                by = frame.f_locals.get("by") if name in ("flows", "exposure", "retail", "divergence") else None
                chain.append(f"{name}({by})" if isinstance(by, str) else name)
            frame = frame.f_back
        return " > ".join(reversed(chain))

    def loop(self) -> None:
        while not self.done.wait(self.interval):
            sample = {"t": round(time.perf_counter() - self.started, 2), "rss_kib": _own_kib("VmRSS"),
                      "where": self.where()}
            if self.cursor is not None:
                try:
                    used, spilled = self.cursor.execute(
                        "SELECT sum(memory_usage_bytes), sum(temporary_storage_bytes) FROM duckdb_memory()").fetchone()
                    sample["duckdb_mem"], sample["duckdb_tmp"] = int(used or 0), int(spilled or 0)
                except Exception:  # noqa: BLE001
                    self.cursor = None
            self.samples.append(sample)

    def start(self) -> None:
        self.thread.start()

    def stop(self, save: Path) -> dict:
        self.done.set()
        self.thread.join()
        with save.open("w") as out:
            for sample in self.samples:
                out.write(json.dumps(sample) + "\n")
        steps: dict[str, dict] = {}
        for sample in self.samples:
            chain = sample["where"].split(" > ")
            call = next((i for i, name in enumerate(chain) if name.endswith(")")), 3)  # the first metric call
            key = " > ".join(chain[:call + 1]) or "(outside smartmoney)"
            step = steps.setdefault(key, {"seconds": 0.0, "peak_rss_gib": 0.0, "peak_duckdb_gib": 0.0,
                                          "peak_duckdb_tmp_gib": 0.0})
            step["seconds"] += self.interval
            step["peak_rss_gib"] = max(step["peak_rss_gib"], sample["rss_kib"] / 2**20)
            step["peak_duckdb_gib"] = max(step["peak_duckdb_gib"], sample.get("duckdb_mem", 0) / GIB)
            step["peak_duckdb_tmp_gib"] = max(step["peak_duckdb_tmp_gib"], sample.get("duckdb_tmp", 0) / GIB)
        peak = max(self.samples, key=lambda s: s["rss_kib"], default={})
        return {"samples": len(self.samples), "interval": self.interval, "file": os.path.relpath(save, ROOT),
                "peak": peak, "steps": dict(sorted(steps.items(), key=lambda kv: -kv[1]["seconds"]))}


def _own_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def child_report(store: Path, memory_limit: str, save: Path) -> None:
    """One weekly report (JSON) as `smartmoney report` builds it, under `memory_limit`."""
    import smartmoney as sm
    from smartmoney import report as reports

    baseline = _own_hwm_kib()
    cpu_before = os.times()
    started = time.perf_counter()
    book = sm.open(store, memory_limit=memory_limit)
    settings = dict(book.backend.raw_sql(
        "SELECT name, value FROM duckdb_settings() WHERE name IN "
        "('memory_limit', 'temp_directory', 'threads', 'max_temp_directory_size', "
        "'preserve_insertion_order')").fetchall())
    tracer = Tracer(book.backend)
    tracer.start()
    built = reports.build(book, None)
    text = reports.render_json(built)
    seconds = time.perf_counter() - started
    cpu_after = os.times()
    trace = tracer.stop(save.with_suffix(".trace.jsonl"))
    save.with_suffix(".report.json").write_text(text)
    save.write_text(json.dumps({
        "seconds": seconds, "baseline_rss_gib": baseline / 2**20, "peak_rss_gib": _own_hwm_kib() / 2**20,
        "cpu_seconds": (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system),
        "duckdb": settings, "report_chars": len(text), "trace": trace}, indent=1))


def run_report(memory_limit: str, number: int) -> dict:
    save = OUT / f"large-report-{number}.json"
    save.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--child-report", "--store", str(STORE),
               "--memory-limit", memory_limit, "--save", str(save)]
    run = run_watched(command, log=OUT / f"large-report-{number}.log", tmp=TMP / f"report-{number}",
                      label=f"report {number}")
    if run["returncode"] == 0 and save.is_file():
        run["child"] = json.loads(save.read_text())
    return run


# --------------------------------------------------------------------------------------------
# RESULTS.md
# --------------------------------------------------------------------------------------------

def machine_line() -> str:
    """The machine in one line, for the section."""
    about = machine()
    return (f"{about['cpu']}, {about['cores']} cores, {about['ram_gib']:.0f} GiB RAM (shared with other jobs); "
            f"Python {about['python']}, DuckDB {about['duckdb']}")


def section(figures: dict) -> str:
    book, runs, limit = figures["book"], figures["reports"], figures["memory_limit"]
    build = book["build"]
    rows = book["rows"]
    # the simulator draws a fund's names at a strategy-dependent fraction of the span: ~0.356 on average
    mean_names = PARAMS["names_min"] + 0.356 * (PARAMS["names_max"] - PARAMS["names_min"])
    lines = [
        SECTION, "",
        (f"Generated by `benchmarks/large.py --memory-limit {limit} --runs {len(runs)}` on "
         f"{figures['date']} (git {figures['git']}), under `nice -n 19`."),
        f"Machine: {figures['machine']}.", "",
        (f"Book: `smartmoney simulate`, plain background, {PARAMS['funds']:,} funds x "
         f"{PARAMS['names_min']}..{PARAMS['names_max']} names (mean ~{mean_names:.0f}) over "
         f"{PARAMS['start']}..{PARAMS['end']}; funds launch and close, so not every fund is present "
         f"every day."), "",
        "| table | rows | on disk MB |", "|---|---:|---:|",
        *[f"| {name} | {count:,} | {book['table_bytes'].get(name, 0) / 1e6:,.0f} |"
          for name, count in rows.items()],
        f"| **all** (store folder) | {sum(rows.values()):,} | {book['store_bytes'] / 1e6:,.0f} |", "",
        "| step | wall s | CPU s | peak RSS GiB | peak spill GiB | DuckDB memory_limit |",
        "|---|---:|---:|---:|---:|---|",
        (f"| build (`smartmoney simulate`, with the kept `position_flows`) | {build['seconds']:,.0f} | "
         f"{build['cpu_seconds']:,.0f} | {build['peak_rss_gib']:.2f} | {build['spill_peak_gib']:.2f} | "
         f"default (a fifth of RAM) |"),
    ]
    for number, run in enumerate(runs, 1):
        child = run.get("child", {})
        status = "" if run["returncode"] == 0 else f" **failed** ({run['stopped'] or 'exit ' + str(run['returncode'])})"
        setting = child.get("duckdb", {}).get("memory_limit", limit)
        lines.append(f"| weekly report, run {number}{status} | {run['seconds']:,.0f} | {run['cpu_seconds']:,.0f} | "
                     f"{run['peak_rss_gib']:.2f} | {run['spill_peak_gib']:.2f} | {limit} (DuckDB: {setting}) |")
    lines += [
        "",
        ("Wall s and peak RSS cover the whole process (interpreter start and imports included; the "
         "report child's own clock, which starts after its imports, is in `benchmarks/out/large.json`). "
         "Peak RSS is the process's VmHWM, sampled from `/proc` every 0.5 s while it runs (no "
         "descendant processes were seen unless listed below); peak spill is the largest size of the "
         "DuckDB spill folder (the child's TMPDIR) sampled at the same times. The memory limit bounds "
         "DuckDB's buffer manager only: Python, pandas and Arrow results come on top of it."),
    ]
    traced = [(number, run["child"]["trace"]) for number, run in enumerate(runs, 1)
              if run.get("child", {}).get("trace")]
    if traced:
        number, trace = traced[-1]
        peak = trace["peak"]
        lines += [
            "",
            (f"Where the report's time and memory go (run {number}: a thread of the child samples, every "
             f"{trace['interval']} s, its RSS, DuckDB's `duckdb_memory()` and the smartmoney functions on "
             f"the main thread's stack, grouped down to the first metric call; the steps of 1 s or more). "
             f"Peak RSS {peak['rss_kib'] / 2**20:.2f} GiB at {peak['t']:.0f} s in "
             f"`{peak['where']}`."),
            "",
            "| step | sampled s | peak RSS GiB | peak DuckDB memory GiB | peak DuckDB temp GiB |",
            "|---|---:|---:|---:|---:|",
            *[f"| `{step}` | {row['seconds']:.0f} | {row['peak_rss_gib']:.2f} | {row['peak_duckdb_gib']:.2f} | "
              f"{row['peak_duckdb_tmp_gib']:.2f} |" for step, row in list(trace["steps"].items())[:WHERE_ROWS]
              if row["seconds"] >= 1],
        ]
    descendants = [d for run in [build, *runs] for d in run.get("descendants", [])]
    for d in descendants:
        lines.append(f"- descendant `{d['cmd'][:80]}`: peak RSS {d['peak_rss_gib']:.2f} GiB")
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-limit", default="6GB", help="DuckDB memory_limit of the report (6GB)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--add-runs", action="store_true",
                        help="keep the report runs already in large.json (same book and limit) and add these")
    parser.add_argument("--write-only", action="store_true", help="rewrite the section from large.json")
    parser.add_argument("--max-build-rss-gib", type=float, default=8.0,
                        help="stop the build when its RSS passes this (GiB)")
    parser.add_argument("--child-report", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, default=STORE, help=argparse.SUPPRESS)
    parser.add_argument("--save", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_report:
        child_report(args.store, args.memory_limit, args.save)
        return
    if args.write_only:
        write_section(RESULTS, SECTION, section(json.loads(FIGURES.read_text())))
        print(f"wrote the section of {RESULTS}")
        return
    book = ensure_book(args.max_build_rss_gib)
    if args.build_only:
        return
    runs = []
    if args.add_runs and FIGURES.is_file():
        before = json.loads(FIGURES.read_text())
        if before.get("memory_limit") == args.memory_limit and before.get("book", {}).get("built") == book["built"]:
            runs = before["reports"]
    first = len(runs) + 1
    for number in range(first, first + args.runs):
        print(f"report run {number}/{first + args.runs - 1} (memory_limit {args.memory_limit})", flush=True)
        runs.append(run_report(args.memory_limit, number))
        run = runs[-1]
        print(f"report run {number}: exit {run['returncode']}, {run['seconds']:,.0f} s, peak RSS "
              f"{run['peak_rss_gib']:.2f} GiB, spill peak {run['spill_peak_gib']:.2f} GiB", flush=True)
        if run["returncode"] != 0:
            print(run["log_tail"], flush=True)
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         cwd=ROOT, check=False).stdout.strip()
    figures = {"date": time.strftime("%Y-%m-%d"), "git": git, "machine": machine_line(),
               "memory_limit": args.memory_limit, "book": book, "reports": runs}
    FIGURES.write_text(json.dumps(figures, indent=1))
    write_section(RESULTS, SECTION, section(figures))
    print(f"wrote {FIGURES} and the section of {RESULTS}")


if __name__ == "__main__":
    main()
