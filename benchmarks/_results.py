"""Shared helpers of the benchmark scripts: their paths, the sections of benchmarks/RESULTS.md, the machine.

Each script owns one `## ...` section of RESULTS.md and rewrites only that one
(`write_section`); a hand-written `### Analysis` part inside the section is kept when the
figures above it are redone.
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent   # benchmarks/
ROOT = HERE.parent                       # the repository
OUT = HERE / "out"                       # raw figures, logs, books and small-scale results
RESULTS = HERE / "RESULTS.md"
TITLE = "# Benchmark results\n"
ANALYSIS = "### Analysis"


def _bounds(text: str, heading: str) -> tuple[int, int] | None:
    """Start and end offsets of the section under `heading` (a `## ` line) in `text`."""
    match = re.search(r"(?m)^" + re.escape(heading) + r"[ \t]*$", text)
    if match is None:
        return None
    start = match.start()
    following = re.search(r"(?m)^## ", text[match.end():])
    end = match.end() + following.start() if following else len(text)
    return start, end


def read_section(path: Path, heading: str) -> str | None:
    """The section under `heading` in `path` (heading line included), or None."""
    text = path.read_text() if path.is_file() else ""
    bounds = _bounds(text, heading)
    return text[bounds[0]:bounds[1]] if bounds else None


def write_section(path: Path, heading: str, body: str, *, keep_analysis: bool = True,
                  at_top: bool = False, after: str | None = None) -> Path:
    """Create or replace the section under `heading` in `path`.

    `body` is the new section's text, heading line included (the heading is added when it
    does not start with it). A hand-written `### Analysis` part of the old section is kept at
    its end when `keep_analysis`. A new section goes at the end of the file, or, with
    `at_top`, before the first `## ` section, or right after the section `after` when that one
    is there. Returns `path`.
    """
    text = body if body.startswith(heading) else heading + "\n\n" + body
    text = text.rstrip("\n") + "\n"
    old = path.read_text() if path.is_file() else TITLE
    bounds = _bounds(old, heading)
    anchor = _bounds(old, after) if after else None
    if bounds is None and anchor is not None:
        rest = old[anchor[1]:]
        new = old[:anchor[1]].rstrip("\n") + "\n\n" + text + ("\n" + rest if rest else "")
    elif bounds is None:
        if at_top:
            first = re.search(r"(?m)^## ", old)
            cut = first.start() if first else len(old)
            head = old[:cut].rstrip("\n") + "\n\n"
            rest = old[cut:]
            new = head + text + ("\n" + rest if rest else "")
        else:
            new = old.rstrip("\n") + "\n\n" + text
    else:
        start, end = bounds
        section = old[start:end]
        analysis = section.find(ANALYSIS)
        if keep_analysis and analysis >= 0 and ANALYSIS not in text:
            text = text + "\n" + section[analysis:].rstrip("\n") + "\n"
        rest = old[end:]
        new = old[:start] + text + ("\n" + rest if rest else "")
    path.write_text(new)
    return path


def remove_section(path: Path, heading: str) -> None:
    """Drop the section under `heading` from `path`, if there."""
    if not path.is_file():
        return
    old = path.read_text()
    bounds = _bounds(old, heading)
    if bounds is not None:
        new = old[:bounds[0]].rstrip("\n") + "\n\n" + old[bounds[1]:]
        path.write_text(new.rstrip("\n") + "\n")


def headings(path: Path) -> list[str]:
    """The `## ` headings of `path`, in order."""
    text = path.read_text() if path.is_file() else ""
    return [line.rstrip() for line in text.splitlines() if line.startswith("## ")]


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict:
    """CPU model, cores, RAM, OS and the versions of the engines, as a dict."""
    def lines(path: str) -> list[str]:
        return Path(path).read_text().splitlines()

    cpu = next((line.split(":", 1)[1].strip() for line in lines("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    memory = next(int(line.split()[1]) for line in lines("/proc/meminfo") if line.startswith("MemTotal"))
    os_name = platform.platform()
    try:
        os_name = next(line.split("=", 1)[1].strip().strip('"') for line in lines("/etc/os-release")
                       if line.startswith("PRETTY_NAME")) + f" (kernel {platform.release()})"
    except (OSError, StopIteration):
        pass
    versions = {}
    for module in ("duckdb", "ibis", "pyspark", "pandas", "pyarrow", "numpy"):
        try:
            versions[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001 - a missing engine is reported as such
            versions[module] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gib": memory / 2**20, "os": os_name,
            "python": platform.python_version(), **versions, "load_average": load_average()}
