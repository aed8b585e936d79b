"""Benchmark: how the cost of the weekly sector flows + exposure grows with the number of rows.

    .venv/bin/python benchmarks/scaling.py --scale small --runs 1          # ~2 min: harness check
    nice -n 10 .venv/bin/python benchmarks/scaling.py --scale medium --runs 3   # ~20 min
    nice -n 10 .venv/bin/python benchmarks/scaling.py --scale full --runs 3     # hours, ~20 GiB

Builds (once, cached under benchmarks/out/scaling/, git-ignored) plain background books of the
same calendar and names per fund with more and more funds (each size about twice the previous
one), with the scenario `positioning.py` uses, then measures on each, every run in a fresh child
process (`positioning.py --child KIND`): the scan floor (DuckDB reading the four needed columns
of the positions once), ours (`sm.open(...).flows(by="sector", freq="W")` + `exposure(...)`)
and the hand-written DuckDB statement: the same work as `positioning.py`, whose functions it
imports. Runs are interleaved (run 1 of every size and way, then run 2, ...), so that a busy
spell of a shared machine does not fall on one size only; the load average is recorded before
and after every run.

Fits log(seconds) = a + b log(rows) by least squares for each way (the exponent b and its R^2,
on the wall and the CPU seconds), and seconds = c + d rows (fixed cost and cost per million
rows). Writes benchmarks/out/scaling-<scale>.json, a log-log chart (benchmarks/scaling.svg, and
an interactive benchmarks/scaling.html with plotly), and the "Scaling with rows" section of
benchmarks/RESULTS.md (a hand-written "### Analysis" part of it is kept). `--scale small` is a
harness check: its section, chart and JSON go to benchmarks/out/ only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import positioning
from _results import HERE, OUT, RESULTS, ROOT, load_average, machine, write_section

STORES = OUT / "scaling"
SECTION = "## Scaling with rows"

# Each scale: one calendar and one names-per-fund range, and the fund counts of the sizes.
SCALES = {
    "small": {"start": "2023-07-03", "end": "2024-06-28", "names_min": 25, "names_max": 235,
              "funds": [5, 10, 20]},
    "medium": {"start": "2022-07-01", "end": "2024-06-28", "names_min": 50, "names_max": 470,
               "funds": [12, 25, 50, 100, 200]},
    "full": {"start": "2019-07-01", "end": "2024-06-28", "names_min": 50, "names_max": 470,
             "funds": [63, 125, 250, 500]},
}
KINDS = {"scan4": "scan floor (4 needed columns)", "ours": "ours (Ibis/DuckDB)",
         "ours_derived": "ours, flows derived (kept flows not used)",
         "sql": "hand-written DuckDB SQL", "pandas": "pandas", "scan": "scan floor (sum(quantity))"}
SHORT = {"scan4": "scan floor", "ours": "ours", "ours_derived": "ours, flows derived", "sql": "hand-written SQL", "pandas": "pandas",
         "scan": "scan sum(quantity)"}
COLORS = {"scan4": "#7f7f7f", "ours": "#1f77b4", "ours_derived": "#9467bd", "sql": "#d62728", "pandas": "#2ca02c", "scan": "#bcbd22"}


# --------------------------------------------------------------------------------------------
# The books
# --------------------------------------------------------------------------------------------

def ensure_store(params: dict, funds: int) -> tuple[Path, dict]:
    """Build (once) the book of `funds` funds on the calendar and names of `params`."""
    label = f"{params['start']}-{params['end']}-n{params['names_min']}-{params['names_max']}-f{funds}"
    store = STORES / f"store-{label}"
    marker = STORES / f"store-{label}.json"
    wanted = {"funds": funds, **{k: params[k] for k in ("start", "end", "names_min", "names_max")}}
    if marker.is_file() and (store / "_manifest.json").is_file():
        info = json.loads(marker.read_text())
        if info.get("params") == wanted:
            return store, info
    if store.exists():
        shutil.rmtree(store)
    STORES.mkdir(parents=True, exist_ok=True)
    scenario = STORES / f"scenario-{label}.toml"
    scenario.write_text(positioning.SCENARIO.format(scale=f"scaling-{funds}", **wanted))
    command = [str(ROOT / ".venv/bin/smartmoney"), "simulate", "--scenario", str(scenario),
               "--store", str(store), "--funds", str(funds), "--names-min", str(params["names_min"]),
               "--names-max", str(params["names_max"]), "--quiet"]
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    info = {"params": wanted, "build_seconds": time.perf_counter() - started,
            "built": dt.datetime.now().isoformat(timespec="seconds"),
            "command": " ".join(command).replace(str(ROOT) + "/", ""),
            "rows": positioning.table_rows(store)}
    marker.write_text(json.dumps(info, indent=1))
    return store, info


# --------------------------------------------------------------------------------------------
# Ours without the store's kept flows (measured here; the other ways are positioning.py's)
# --------------------------------------------------------------------------------------------

def run_ours_derived(store: Path):
    """Ours as `positioning.run_ours`, but deriving the daily position flows from the positions
    as a store without kept flows does (`Store.kept_flows_hold` answers False)."""
    import smartmoney as sm

    book = sm.open(store, k=1, p=100)
    book.store.kept_flows_hold = lambda *args, **kwargs: False
    flows = book.flows(by="sector", freq="W").to_pyarrow()
    exposure = book.exposure(by="sector", freq="W").to_pyarrow()
    return {"flows": flows, "exposure": exposure}


def measure(kind: str, store: Path, save: Path | None) -> dict:
    """One run in a fresh child process: positioning.py's for its kinds, this script's else."""
    if kind in positioning.KINDS:
        return positioning.measure(kind, store, 1, save)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--store", str(store)]
    if save is not None:
        command += ["--save", str(save)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {kind:7s} {store.name}: {figures['seconds']:8.2f} s (CPU {figures['cpu_seconds']:7.1f} s), "
          f"peak RSS {figures['peak_rss_kib'] / 2**20:6.2f} GiB", flush=True)
    return {"seconds": figures["seconds"], "cpu_seconds": figures["cpu_seconds"],
            "peak_rss_gib": figures["peak_rss_kib"] / 2**20}


def child(kind: str, store: Path, save: Path | None) -> None:
    import smartmoney  # noqa: F401 - imports are not part of the timed work

    positioning.KINDS[kind] = {"ours_derived": run_ours_derived}[kind]
    positioning.child(kind, store, save)


def check(saved: Path) -> dict:
    """positioning.py's equality check of saved/ours against saved/sql, failures recorded."""
    try:
        return positioning.check(saved, "sql", [*positioning.FLOW_COLUMNS, "gross"])
    except AssertionError as error:
        return {"passed": False, "error": str(error)}


# --------------------------------------------------------------------------------------------
# Fits
# --------------------------------------------------------------------------------------------

def loglog_fit(rows: list[float], seconds: list[float]) -> dict:
    """Least squares of log(seconds) = a + b log(rows): b, a and R^2."""
    import numpy as np

    x, y = np.log(np.asarray(rows, float)), np.log(np.asarray(seconds, float))
    b, a = np.polyfit(x, y, 1)
    residual = y - (a + b * x)
    total = ((y - y.mean()) ** 2).sum()
    r2 = 1.0 - (residual ** 2).sum() / total if total > 0 else float("nan")
    return {"b": float(b), "a": float(a), "r2": float(r2)}


def linear_fit(rows: list[float], seconds: list[float]) -> dict:
    """Least squares of seconds = c + d rows: the fixed cost c (s) and d in s per million rows."""
    import numpy as np

    d, c = np.polyfit(np.asarray(rows, float) / 1e6, np.asarray(seconds, float), 1)
    return {"fixed_seconds": float(c), "seconds_per_million": float(d)}


def summarize(report: dict) -> dict:
    """Medians per (size, kind) and the fits per kind."""
    sizes, kinds = report["sizes"], report["kinds"]
    medians: dict[str, dict] = {}
    for kind in kinds:
        points = []
        for size in sizes:
            runs = [r for r in report["runs"] if r["kind"] == kind and r["funds"] == size["funds"]]
            if not runs:
                continue
            points.append({"funds": size["funds"], "rows": size["positions"],
                           "runs": [r["seconds"] for r in runs],
                           "seconds": statistics.median(r["seconds"] for r in runs),
                           "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
                           "peak_rss_gib": max(r["peak_rss_kib"] for r in runs) / 2**20})
        fit = {}
        if len(points) >= 2:
            rows = [p["rows"] for p in points]
            fit = {"wall": loglog_fit(rows, [p["seconds"] for p in points]),
                   "cpu": loglog_fit(rows, [max(p["cpu_seconds"], 1e-3) for p in points]),
                   "linear": linear_fit(rows, [p["seconds"] for p in points]),
                   "last_step_b": math.log(points[-1]["seconds"] / points[-2]["seconds"])
                   / math.log(points[-1]["rows"] / points[-2]["rows"])}
        medians[kind] = {"points": points, "fit": fit}
    return medians


# --------------------------------------------------------------------------------------------
# Charts: a static SVG (shown in RESULTS.md) and an interactive plotly HTML
# --------------------------------------------------------------------------------------------

def svg_chart(summary: dict, path: Path, title: str) -> None:
    """A log-log chart of median seconds against rows, with the fitted lines, as plain SVG."""
    width, height, left, right, top, bottom = 720, 440, 70, 190, 40, 55
    points = [p for s in summary.values() for p in s["points"]]
    if not points:
        return
    xs = [p["rows"] for p in points]
    ys = [r for p in points for r in p["runs"]] + [p["seconds"] for p in points]
    x0, x1 = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
    y0, y1 = math.floor(math.log10(min(ys)) * 4) / 4, math.ceil(math.log10(max(ys)) * 4) / 4
    x1, y1 = max(x1, x0 + 0.5), max(y1, y0 + 0.5)

    def px(rows):
        return left + (math.log10(rows) - x0) / (x1 - x0) * (width - left - right)

    def py(seconds):
        return top + (y1 - math.log10(seconds)) / (y1 - y0) * (height - top - bottom)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{left}" y="22" font-size="14" font-weight="bold">{title}</text>']
    for decade in range(math.floor(x0), math.ceil(x1) + 1):
        for m in (1, 2, 5):
            value = m * 10 ** decade
            if x0 <= math.log10(value) <= x1:
                x = px(value)
                out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - bottom}" '
                           f'stroke="#ddd"/>')
                label = f"{value / 1e6:g}M" if value >= 1e6 else f"{value / 1e3:g}k"
                out.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">{label}</text>')
    for decade in range(math.floor(y0), math.ceil(y1) + 1):
        for m in (1, 2, 5):
            value = m * 10.0 ** decade
            if y0 <= math.log10(value) <= y1:
                y = py(value)
                out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>')
                out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>')
    out += [f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" '
            'fill="none" stroke="#333"/>',
            f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">'
            'position rows (log scale)</text>',
            f'<text transform="translate(16 {(top + height - bottom) / 2}) rotate(-90)" '
            'text-anchor="middle">seconds, median of runs (log scale)</text>']
    legend_y = top + 10
    for kind, s in summary.items():
        if not s["points"]:
            continue
        color = COLORS.get(kind, "#000")
        fit = s["fit"].get("wall")
        if fit:
            lo, hi = min(p["rows"] for p in s["points"]), max(p["rows"] for p in s["points"])
            ends = [(r, math.exp(fit["a"]) * r ** fit["b"]) for r in (lo, hi)]
            out.append(f'<line x1="{px(ends[0][0]):.1f}" y1="{py(ends[0][1]):.1f}" x2="{px(ends[1][0]):.1f}" '
                       f'y2="{py(ends[1][1]):.1f}" stroke="{color}" stroke-dasharray="5,4"/>')
        for p in s["points"]:
            for r in p["runs"]:
                out.append(f'<circle cx="{px(p["rows"]):.1f}" cy="{py(r):.1f}" r="2" fill="{color}" '
                           'fill-opacity="0.35"/>')
            out.append(f'<circle cx="{px(p["rows"]):.1f}" cy="{py(p["seconds"]):.1f}" r="4.5" fill="{color}"/>')
        label = SHORT.get(kind, kind) + (f": b = {fit['b']:.2f}" if fit else "")
        out.append(f'<circle cx="{width - right + 14}" cy="{legend_y - 4}" r="4.5" fill="{color}"/>')
        out.append(f'<text x="{width - right + 24}" y="{legend_y}">{label}</text>')
        legend_y += 20
    out.append(f'<text x="{width - right + 10}" y="{legend_y + 8}" fill="#555" font-size="11">'
               'dots: medians; faint: runs;</text>')
    out.append(f'<text x="{width - right + 10}" y="{legend_y + 22}" fill="#555" font-size="11">'
               'dashed: log-log fit</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def plotly_chart(summary: dict, path: Path, title: str) -> bool:
    """The same chart, interactive, with plotly (HTML loading plotly.js from its CDN)."""
    try:
        import plotly.graph_objects as go
    except ImportError:
        return False
    figure = go.Figure()
    for kind, s in summary.items():
        if not s["points"]:
            continue
        color, fit = COLORS.get(kind, "#000"), s["fit"].get("wall")
        name = KINDS.get(kind, kind) + (f" (b = {fit['b']:.2f}, R² = {fit['r2']:.3f})" if fit else "")
        figure.add_scatter(x=[p["rows"] for p in s["points"]], y=[p["seconds"] for p in s["points"]],
                           mode="markers", name=name, marker={"color": color, "size": 9},
                           customdata=[p["runs"] for p in s["points"]],
                           hovertemplate="%{x:,} rows: %{y:.2f} s<br>runs %{customdata}<extra></extra>")
        if fit:
            rows = [p["rows"] for p in s["points"]]
            figure.add_scatter(x=rows, y=[math.exp(fit["a"]) * r ** fit["b"] for r in rows], mode="lines",
                               line={"color": color, "dash": "dash"}, showlegend=False, hoverinfo="skip")
    figure.update_layout(title=title, xaxis={"type": "log", "title": "position rows"},
                         yaxis={"type": "log", "title": "seconds (median of runs)"}, template="plotly_white",
                         width=900, height=550)
    figure.write_html(path, include_plotlyjs="cdn", full_html=True)
    return True


# --------------------------------------------------------------------------------------------
# RESULTS.md
# --------------------------------------------------------------------------------------------

def write_results(report: dict, target: Path, svg: Path, html: Path | None) -> None:
    summary, mach, params = report["summary"], report["machine"], report["params"]
    kinds = [k for k in report["kinds"] if summary.get(k, {}).get("points")]
    loads = [x for r in report["runs"] for x in (r["load_start"][0], r["load_end"][0])]
    relative = (lambda p: p.relative_to(target.parent)) if svg.is_relative_to(target.parent) else (lambda p: p)
    lines = [SECTION, "",
             f"Generated by `{report['command']}` on {report['measured'][:10]} "
             f"({report['wall_seconds'] / 60:.0f} min including building the books; see "
             "benchmarks/README.md).", "",
             f"**Machine**: {mach['cpu']}, {mach['cores']} cores, {mach['ram_gib']:.1f} GiB RAM; Python "
             f"{mach['python']}, DuckDB {mach['duckdb']}, Ibis {mach['ibis']}. **Shared machine**: other "
             "jobs ran beside this one (all runs under `nice -n 10`); the 1-minute load average, "
             f"recorded before and after every run (in `benchmarks/out/scaling-{report['scale']}.json`), "
             f"ranged {min(loads):.1f}-{max(loads):.1f} on {mach['cores']} cores, so wall times are "
             "noisy; the CPU seconds are steadier.", "",
             f"**Workload**: the work of `positioning.py` (weekly flows and exposure by sector, to "
             f"Arrow), on plain background books of {params['start']}..{params['end']} with "
             f"[{params['names_min']}, {params['names_max']}] names per fund and "
             f"{', '.join(str(s['funds']) for s in report['sizes'])} funds (built with `smartmoney "
             "simulate`, cached in `benchmarks/out/scaling/`). Each figure is the median of "
             f"{report['runs_per_point']} run{'s' if report['runs_per_point'] > 1 else ''}, each in a "
             "fresh process, runs interleaved across sizes and ways.", "",
             "| funds | position rows | " + " | ".join(f"{KINDS[k]} s (runs)" for k in kinds)
             + " | ours / SQL | ours / scan floor |" + (" derived / SQL |" if "ours_derived" in kinds else ""),
             "|---:|---:|" + "---:|" * len(kinds) + "---:|---:|" + ("---:|" if "ours_derived" in kinds else "")]
    by_funds = {k: {p["funds"]: p for p in summary[k]["points"]} for k in kinds}
    for size in report["sizes"]:
        cells = []
        for k in kinds:
            p = by_funds[k].get(size["funds"])
            cells.append(f"{p['seconds']:.2f} ({', '.join(f'{r:.1f}' for r in p['runs'])})" if p else "")
        ours, sql, scan = (by_funds.get(k, {}).get(size["funds"]) for k in ("ours", "sql", "scan4"))
        ratio = f"{ours['seconds'] / sql['seconds']:.2f}" if ours and sql else ""
        floor = f"{ours['seconds'] / scan['seconds']:.0f}" if ours and scan else ""
        derived = by_funds.get("ours_derived", {}).get(size["funds"])
        extra = ""
        if "ours_derived" in kinds:
            extra = f" {derived['seconds'] / sql['seconds']:.2f} |" if derived and sql else " |"
        lines.append(f"| {size['funds']} | {size['positions']:,} | " + " | ".join(cells) + f" | {ratio} | {floor} |"
                     + extra)
    lines += ["", "Fits over the sizes (least squares; b = 1 is linear in rows):", "",
              "| way | b (wall) | R² | b (CPU) | R² | b, last doubling | fixed s | s per 1M rows | peak RSS GiB (largest) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for k in kinds:
        f = summary[k]["fit"]
        if not f:
            continue
        lines.append(f"| {KINDS[k]} | {f['wall']['b']:.2f} | {f['wall']['r2']:.3f} | {f['cpu']['b']:.2f} | "
                     f"{f['cpu']['r2']:.3f} | {f['last_step_b']:.2f} | {f['linear']['fixed_seconds']:.1f} | "
                     f"{f['linear']['seconds_per_million']:.2f} | {summary[k]['points'][-1]['peak_rss_gib']:.2f} |")
    lines += ["", "b: the exponent of log(seconds) = a + b log(rows) over all sizes (wall, and CPU "
              "seconds of the child); \"last doubling\": the slope between the two largest sizes; "
              "fixed s and s per 1M rows: seconds = c + d rows.", ""]
    checks = report.get("checks", {})
    if checks:
        failed = [f for f, c in checks.items() if not c.get("passed")]
        lines += [f"Equality check (ours against the SQL on every size, first run: same rows, flow "
                  f"components and gross within {positioning.CHECK_TOLERANCE:g}): "
                  + ("**passed** on all sizes." if not failed else f"**FAILED** for {failed} funds."), ""]
    link = f"[interactive]({relative(html)})" if html else ""
    lines += [f"![log-log chart of seconds against rows]({relative(svg)})", "",
              f"Chart: `{relative(svg)}` {('and ' + link) if link else ''} (plotly).", ""]
    write_section(target, SECTION, "\n".join(lines))


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="medium")
    parser.add_argument("--runs", type=int, default=3, help="runs per size and way (median kept)")
    parser.add_argument("--funds", help="comma-separated fund counts (overrides the scale's)")
    parser.add_argument("--kinds", default="scan4,ours,sql",
                        help=f"ways to measure, comma-separated, of {','.join(KINDS)}")
    parser.add_argument("--replot", action="store_true",
                        help="no measuring: redo the chart and the section from the last JSON")
    parser.add_argument("--add", action="store_true",
                        help="measure --kinds and add them to the last JSON of this scale (same sizes)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--save", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.store, args.save)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    params = dict(SCALES[args.scale])
    if args.funds:
        params["funds"] = [int(x) for x in args.funds.split(",")]
    kinds = [k for k in args.kinds.split(",") if k]
    if set(kinds) - set(KINDS):
        parser.error(f"unknown kinds: {set(kinds) - set(KINDS)}")
    small = args.scale == "small"
    json_path = OUT / f"scaling-{args.scale}.json"
    svg = (OUT if small else HERE) / ("scaling-small.svg" if small else "scaling.svg")
    html = (OUT if small else HERE) / ("scaling-small.html" if small else "scaling.html")
    target = OUT / "RESULTS-scaling-small.md" if small else RESULTS
    previous = json.loads(json_path.read_text()) if (args.replot or args.add) else None
    if args.replot:
        report = previous
    else:
        command = "benchmarks/scaling.py " + " ".join(sys.argv[1:])
        report = {"scale": args.scale, "command": command, "runs_per_point": args.runs, "kinds": kinds,
                  "params": params, "machine": machine(), "sizes": [], "runs": [], "checks": {},
                  "measured": dt.datetime.now().isoformat(timespec="seconds")}
        if previous is not None:  # --add: the same sizes, more ways
            params = report["params"] = previous["params"]
            report["previous"] = {k: previous[k] for k in ("command", "measured", "wall_seconds", "machine")}
        started = time.perf_counter()
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns) as progress:
            build = progress.add_task("building the books", total=len(params["funds"]))
            stores = {}
            for funds in params["funds"]:
                progress.update(build, description=f"building the book of {funds} funds")
                store, info = ensure_store(params, funds)
                stores[funds] = store
                report["sizes"].append({"funds": funds, "store": str(store.relative_to(ROOT)),
                                        "positions": info["rows"]["positions"], "rows": info["rows"],
                                        "build_seconds": info["build_seconds"]})
                progress.advance(build)
            progress.update(build, description="books ready")
            for size in report["sizes"]:
                progress.console.print(f"{size['funds']:4d} funds: {size['positions']:>12,} position rows "
                                       f"(built in {size['build_seconds']:.0f} s)")
            measuring = progress.add_task("measuring", total=args.runs * len(stores) * len(kinds))
            for run in range(args.runs):
                for funds, store in stores.items():
                    saved = OUT / "scaling" / f"results-{args.scale}-{funds}" if run == 0 else None
                    if saved is not None and previous is not None:  # keep the first pass's results
                        saved = OUT / "scaling" / f"results-{args.scale}-{funds}-added"
                    if saved is not None and saved.exists():
                        shutil.rmtree(saved)
                    for kind in kinds:
                        progress.update(measuring, description=f"run {run + 1}/{args.runs}: {kind} on {funds} funds")
                        load_start = load_average()
                        keep = (saved / kind if saved is not None and kind in ("ours", "sql", "pandas", "ours_derived")
                                else None)
                        figures = measure(kind, store, keep)
                        report["runs"].append({"funds": funds, "kind": kind, "run": run + 1,
                                               "seconds": figures["seconds"], "cpu_seconds": figures["cpu_seconds"],
                                               "peak_rss_kib": figures["peak_rss_gib"] * 2**20,
                                               "load_start": load_start, "load_end": load_average()})
                        progress.advance(measuring)
                    if saved is not None and {"ours", "sql"} <= set(kinds):
                        report["checks"][str(funds)] = check(saved)
                    if saved is not None and "ours_derived" in kinds and previous is not None:
                        # against the SQL result the first pass saved
                        sql = OUT / "scaling" / f"results-{args.scale}-{funds}" / "sql"
                        derived = OUT / "scaling" / f"results-{args.scale}-{funds}-derived"
                        if derived.exists():
                            shutil.rmtree(derived)
                        derived.mkdir()
                        (saved / "ours_derived").rename(derived / "ours")
                        (derived / "sql").symlink_to(sql.resolve())
                        report["checks"][f"{funds} derived"] = check(derived)
                json_path.write_text(json.dumps(report, indent=1, default=str))  # after each round
        report["wall_seconds"] = time.perf_counter() - started
        report["machine"]["load_average_end"] = load_average()
        if previous is not None:  # --add: merge with the earlier ways
            report["runs"] = previous["runs"] + report["runs"]
            report["kinds"] = previous["kinds"] + [k for k in kinds if k not in previous["kinds"]]
            report["checks"] = {**previous.get("checks", {}), **report["checks"]}
            report["runs_per_point"] = min(previous["runs_per_point"], args.runs)
            report["command"] = f"{previous['command']}` then `{report['command']}"
            report["wall_seconds"] += previous.get("wall_seconds", 0)
            report["measured"] = previous["measured"]
    report["summary"] = summarize(report)
    title = (f"Weekly sector flows + exposure: seconds vs position rows "
             f"({params['start'][:4]}-{params['end'][:4]}, {len(report['sizes'])} book sizes)")
    svg_chart(report["summary"], svg, title)
    made_html = plotly_chart(report["summary"], html, title)
    json_path.write_text(json.dumps(report, indent=1, default=str))
    write_results(report, target, svg, html if made_html else None)
    for kind, s in report["summary"].items():
        if s["fit"]:
            f = s["fit"]
            print(f"{kind:6s}: b = {f['wall']['b']:.2f} (R^2 {f['wall']['r2']:.3f}), CPU b = "
                  f"{f['cpu']['b']:.2f} (R^2 {f['cpu']['r2']:.3f}); fixed {f['linear']['fixed_seconds']:.1f} s "
                  f"+ {f['linear']['seconds_per_million']:.2f} s per 1M rows", flush=True)
    print(f"wrote {json_path}, {svg}, {target}", flush=True)


if __name__ == "__main__":
    main()
