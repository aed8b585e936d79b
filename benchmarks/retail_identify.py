"""Benchmark: retail trade identification on a one-day tape, ours (Ibis on DuckDB) vs hand-written SQL.

    .venv/bin/python benchmarks/retail_identify.py --ticks 2000000          # quick check (+ equality)
    nice -n 10 .venv/bin/python benchmarks/retail_identify.py --runs 3      # 100M ticks

Generates (once, cached under benchmarks/out/) a synthetic trade tape for one trading day and an
NBBO quote tape for the same symbols, written in the store's layout (one Parquet file per table
and day, listed in `_manifest.json`), then measures, each in a fresh child process (median of
--runs, peak RSS of the child):

- ours (bjzz / quote_midpoint): `identify(connect(store), method).to_pyarrow()`;
- sql  (bjzz / quote_midpoint): one hand-written DuckDB statement over the same Parquet files,
  with the settings `engine.connect` uses (memory limit, spill folder, insertion order off);
- scan: the scan floor, DuckDB reading the columns the methods need once.

It checks that the SQL's rows and numbers equal ours, and writes the "Retail identification
(issue 5)" section of benchmarks/RESULTS.md. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from _results import OUT, RESULTS, ROOT, machine, write_section

SECTION = "## Retail identification (issue 5)"

DEFAULT_TICKS = 100_000_000
TAPE = {
    "day": "2024-06-03",
    "symbols": 4_000,
    "zipf": 0.95,                 # activity of the k-th most active symbol ~ 1 / k^zipf
    "quotes_per_tick": 0.5,       # NBBO updates: half as many as prints (a real SIP has more)
    "offexchange": 0.40,          # share of prints on exchange D
    "subpenny_of_offexchange": 0.5,
    "seed": 20240603,
    "generator": 1,               # bump when the generator changes, to rebuild cached tapes
}
CHUNK_ROWS = 4_000_000            # rows generated and written at a time (memory stays bounded)
ROW_GROUP = 1 << 20
OPEN_US = (9 * 3600 + 30 * 60) * 1_000_000
SESSION_US = 390 * 60 * 1_000_000
VENUES = list("NQPKZBVXYJAHMU")   # exchanges other than D, with their shares of on-exchange prints
VENUE_WEIGHTS = [8, 22, 14, 10, 10, 4, 3, 3, 3, 4, 2, 3, 6, 8]
CONDITIONS = ["@", "@F", "@4", "@ 6"]
CONDITION_WEIGHTS = [0.86, 0.08, 0.05, 0.01]

METHODS = ("bjzz", "quote_midpoint")
TARGET_RATIO = 1.2
CHECK_TOLERANCE = 1e-9


# --------------------------------------------------------------------------------------------
# The tape
# --------------------------------------------------------------------------------------------

def store_dir(ticks: int) -> Path:
    return OUT / f"store-retail-{ticks}"


def tape_params(ticks: int) -> dict:
    return {**TAPE, "ticks": ticks, "quotes": int(ticks * TAPE["quotes_per_tick"])}


def ensure_tape(ticks: int, progress) -> dict:
    """Generate the store for `ticks` prints unless a complete one is cached; returns its info."""
    params = tape_params(ticks)
    store = store_dir(ticks)
    marker = OUT / f"store-retail-{ticks}.json"
    if marker.is_file() and (store / "_manifest.json").is_file():
        info = json.loads(marker.read_text())
        if info.get("params") == params:
            return info
    if store.exists():
        shutil.rmtree(store)
    store.mkdir(parents=True)
    started = time.perf_counter()
    universe = Universe(params)
    tables = {}
    for table, rows in (("ticks", params["ticks"]), ("quotes", params["quotes"])):
        tables[table] = {f"date={params['day']}": write_table(store, table, universe, rows, progress)}
    manifest = {"format": 1, "version": 1, "tables": tables, "rejects": {}, "ingests": []}
    (store / "_manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    seconds = time.perf_counter() - started
    files = [store / entry["file"] for parts in tables.values() for entry in parts.values()]
    info = {"params": params, "build_seconds": seconds,
            "built": dt.datetime.now().isoformat(timespec="seconds"),
            "rows": {t: sum(e["rows"] for e in parts.values()) for t, parts in tables.items()},
            "bytes": {t: sum((store / e["file"]).stat().st_size for e in parts.values())
                      for t, parts in tables.items()},
            "files": len(files), "universe": universe.summary()}
    marker.write_text(json.dumps(info, indent=1))
    return info


class Universe:
    """The symbols of the synthetic day: names, activity, prices and spreads.

    Each symbol's mid price follows a random walk sampled once a minute (2% daily volatility)
    and interpolated in between; trades and quotes are both drawn from it, so prints sit near
    the quotes in effect. Spreads are a few basis points for active names, wider for thin ones,
    and never under one cent.
    """

    def __init__(self, params: dict):
        import numpy as np

        rng = np.random.default_rng(params["seed"])
        n = params["symbols"]
        self.names = _tickers(rng, n)                      # sorted: the store's key order
        rank = rng.permutation(n) + 1                       # activity rank, unrelated to the name
        weight = 1.0 / rank ** params["zipf"]
        self.tick_share = weight / weight.sum()
        quote_weight = weight ** 0.8                        # quotes are spread more evenly
        self.quote_share = quote_weight / quote_weight.sum()
        self.base_price = np.clip(rng.lognormal(np.log(40.0), 1.0, n), 1.0, 2_000.0)
        self.spread_bps = np.clip(rng.lognormal(np.log(1.0 + 40.0 * rank / n), 0.5, n), 0.5, 300.0)
        minutes = 390
        steps = rng.normal(0.0, 0.02 / np.sqrt(minutes), (n, minutes))
        self.log_path = np.log(self.base_price)[:, None] + np.concatenate(
            [np.zeros((n, 1)), np.cumsum(steps, axis=1)], axis=1)
        self.rng = rng

    def summary(self) -> dict:
        import numpy as np

        top = np.sort(self.tick_share)[::-1]
        return {"symbols": len(self.names), "top1_share": float(top[0]),
                "top10_share": float(top[:10].sum()), "top100_share": float(top[:100].sum()),
                "median_price": float(np.median(self.base_price))}

    def chunks(self, rows: int, share):
        """(symbol ids, row counts) in symbol order, ~CHUNK_ROWS rows at a time."""
        import numpy as np

        counts = self.rng.multinomial(rows, share)
        start = 0
        while start < len(counts):
            end, total = start, 0
            while end < len(counts) and (total < CHUNK_ROWS or end == start):
                total += counts[end]
                end += 1
            yield np.arange(start, end), counts[start:end]
            start = end

    def times(self, symbols, counts):
        """Symbol ids, microseconds after the open (sorted per symbol) and seq for one chunk."""
        import numpy as np

        ids = np.repeat(symbols, counts)
        # a U-shaped day: more prints near the open and the close
        offsets = (self.rng.beta(0.75, 0.75, len(ids)) * SESSION_US).astype(np.int64)
        order = np.sort(ids.astype(np.int64) << 36 | offsets)
        ids, offsets = (order >> 36).astype(np.int64), order & ((1 << 36) - 1)
        start = np.r_[True, order[1:] != order[:-1]]
        position = np.arange(len(order))
        seq = position - np.maximum.accumulate(np.where(start, position, 0))
        return ids, offsets, seq

    def mid_cents(self, ids, offsets):
        import numpy as np

        minute = offsets / 60e6
        i = np.minimum(minute.astype(np.int64), self.log_path.shape[1] - 2)
        f = minute - i
        log_mid = self.log_path[ids, i] * (1.0 - f) + self.log_path[ids, i + 1] * f
        return np.exp(log_mid) * 100.0

    def spread_cents(self, ids, mid):
        import numpy as np

        return np.maximum(1, np.rint(mid * self.spread_bps[ids] / 1e4)).astype(np.int64)


def _tickers(rng, n: int) -> list[str]:
    import numpy as np

    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    names: set[str] = set()
    while len(names) < n:
        length = rng.choice([1, 2, 3, 4, 5], p=[0.01, 0.09, 0.35, 0.45, 0.10])
        names.add("".join(rng.choice(letters, length)))
    return sorted(names)


def write_table(store: Path, table: str, universe: Universe, rows: int, progress) -> dict:
    """Write `rows` rows of `table` ("ticks" or "quotes") to one file; returns its manifest entry."""
    import pyarrow.parquet as pq

    from smartmoney.schema import TABLES
    from smartmoney.store import arrow_schema

    schema = arrow_schema(TABLES[table])
    day = TAPE["day"]
    relative = f"{table}/date={day}/part-{uuid.uuid4().hex}.parquet"
    path = store / relative
    path.parent.mkdir(parents=True)
    share = universe.tick_share if table == "ticks" else universe.quote_share
    task = progress.add_task(f"writing {table}", total=rows)
    written = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:   # as store._write_parquet
        for symbols, counts in universe.chunks(rows, share):
            make = _tick_chunk if table == "ticks" else _quote_chunk
            chunk = make(universe, symbols, counts, schema)
            writer.write_table(chunk, row_group_size=ROW_GROUP)
            written += chunk.num_rows
            progress.update(task, completed=written)
    assert pq.read_schema(path).remove_metadata().equals(schema), f"{path}: schema differs"
    return {"file": relative, "rows": written}


def _key_columns(universe: Universe, symbols, counts):
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    ids, offsets, seq = universe.times(symbols, counts)
    start = np.datetime64(TAPE["day"], "us").astype(np.int64) + OPEN_US
    n = len(ids)
    columns = {
        "date": pa.array(np.full(n, np.datetime64(TAPE["day"], "D"))),
        "symbol": pc.take(pa.array(universe.names, pa.string()), pa.array(ids)),
        "ts": pa.array((start + offsets).view("datetime64[us]"), pa.timestamp("us")),
        "seq": pa.array(seq, pa.int64()),
    }
    return ids, offsets, columns


def _tick_chunk(universe: Universe, symbols, counts, schema):
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = universe.rng
    ids, offsets, columns = _key_columns(universe, symbols, counts)
    n = len(ids)
    mid = universe.mid_cents(ids, offsets)
    spread = universe.spread_cents(ids, mid)
    bid = np.maximum(1, np.rint(mid - spread / 2.0)).astype(np.int64)
    off = rng.random(n) < TAPE["offexchange"]
    subpenny = off & (rng.random(n) < TAPE["subpenny_of_offexchange"])
    # on exchange: at the bid or the ask; off exchange: a cent in [bid, ask]; sub-penny: a cent
    # in [bid, ask) plus a random sub-penny part 1..99 (in ten-thousandths of a dollar)
    at_ask = rng.random(n) < 0.5
    cents = np.where(at_ask, bid + spread, bid)
    cents = np.where(off, bid + (rng.random(n) * (spread + 1)).astype(np.int64), cents)
    inside = bid + (rng.random(n) * spread).astype(np.int64)
    units = np.where(subpenny, inside * 100 + rng.integers(1, 100, n), cents * 100)
    lots = np.minimum(np.ceil(rng.lognormal(0.0, 1.0, n)), 1_000)
    venue = rng.choice(len(VENUES), n, p=np.array(VENUE_WEIGHTS) / sum(VENUE_WEIGHTS))
    exchanges = pa.array(["D", *VENUES], pa.string())
    condition = rng.choice(len(CONDITIONS), n, p=CONDITION_WEIGHTS)
    columns |= {
        "price": pa.array(units / 10_000.0, pa.float64()),
        "size": pa.array(lots * 100.0, pa.float64()),
        "exchange": pc.take(exchanges, pa.array(np.where(off, 0, venue + 1))),
        "conditions": pc.take(pa.array(CONDITIONS, pa.string()), pa.array(condition)),
    }
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def _quote_chunk(universe: Universe, symbols, counts, schema):
    import numpy as np
    import pyarrow as pa

    rng = universe.rng
    ids, offsets, columns = _key_columns(universe, symbols, counts)
    n = len(ids)
    mid = universe.mid_cents(ids, offsets)
    # the inside widens by a cent or two now and then
    spread = universe.spread_cents(ids, mid) + rng.choice(3, n, p=[0.8, 0.15, 0.05])
    bid = np.maximum(1, np.rint(mid - spread / 2.0)).astype(np.int64)
    columns |= {"bid": pa.array(bid / 100.0, pa.float64()),
                "ask": pa.array((bid + spread) / 100.0, pa.float64())}
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def manifest_files(store: Path, table: str) -> list[str]:
    manifest = json.loads((store / "_manifest.json").read_text())
    partitions = manifest["tables"].get(table, {})
    return [str(store / partitions[key]["file"]) for key in sorted(partitions)]


# --------------------------------------------------------------------------------------------
# The ways (each run in a fresh child process: `retail_identify.py --child KIND --store DIR`)
# --------------------------------------------------------------------------------------------

def run_ours(store: Path, method: str, memory_limit: str):
    """Ours, as a user calls it (the engine's default settings)."""
    from smartmoney.engine import connect
    from smartmoney.identify import identify
    from smartmoney.store import Store

    return identify(connect(Store.open(store)), method).to_pyarrow()


# The per-(date, symbol) figures from the signed candidates (`side`: +1 buy, -1 sell, 0 none)
# and the counts of all prints. Shared by both hand-written statements.
SIDES = """
    count(*) FILTER (WHERE side = 1) AS retail_buy_trades,
    count(*) FILTER (WHERE side = -1) AS retail_sell_trades,
    coalesce(sum(size) FILTER (WHERE side = 1), 0.0) AS retail_buy_shares,
    coalesce(sum(size) FILTER (WHERE side = -1), 0.0) AS retail_sell_shares,
    coalesce(sum(price * size) FILTER (WHERE side = 1), 0.0) AS retail_buy_usd,
    coalesce(sum(price * size) FILTER (WHERE side = -1), 0.0) AS retail_sell_usd"""
COUNTS = """
    count(*) AS trades,
    count(*) FILTER (WHERE off) AS offexchange_trades,
    count(*) FILTER (WHERE off AND z <> 0) AS subpenny_trades"""
FINAL = """
SELECT date, symbol, trades, offexchange_trades, subpenny_trades,
       retail_buy_trades, retail_sell_trades, retail_buy_shares, retail_sell_shares,
       retail_buy_usd, retail_sell_usd,
       CASE WHEN retail_buy_trades + retail_sell_trades > 0
            THEN (retail_buy_trades - retail_sell_trades) / (retail_buy_trades + retail_sell_trades) END
           AS imbalance_trades,
       CASE WHEN retail_buy_shares + retail_sell_shares > 0
            THEN (retail_buy_shares - retail_sell_shares) / (retail_buy_shares + retail_sell_shares) END
           AS imbalance_shares,
       CASE WHEN retail_buy_usd + retail_sell_usd > 0
            THEN (retail_buy_usd - retail_sell_usd) / (retail_buy_usd + retail_sell_usd) END
           AS imbalance_usd,
       CASE WHEN offexchange_trades > 0
            THEN (retail_buy_trades + retail_sell_trades) / offexchange_trades END AS classified_share
FROM per_day
ORDER BY date, symbol
"""
# NOT MATERIALIZED: the quote-midpoint statement reads `prints` twice, and DuckDB would otherwise
# materialize all 100M rows once (and spill them) instead of scanning the file twice: 2x slower.
PRINTS = """
prints AS NOT MATERIALIZED (
    SELECT date, symbol, ts, price, size, exchange = 'D' AS off,
           CAST(round(price * 10000) AS BIGINT) % 100 AS z      -- sub-penny part, 0..99
    FROM read_parquet($ticks))"""
BJZZ_SIDE = "CASE WHEN z BETWEEN 61 AND 99 THEN 1 WHEN z BETWEEN 1 AND 39 THEN -1 ELSE 0 END"

# BJZZ: one pass over the prints; only off-exchange sub-penny prints get a side.
SQL_BJZZ = f"""
WITH {PRINTS},
signed AS (SELECT *, CASE WHEN off THEN {BJZZ_SIDE} ELSE 0 END AS side FROM prints),
per_day AS (SELECT date, symbol, {COUNTS}, {SIDES} FROM signed GROUP BY date, symbol)
{FINAL}"""

# Quote midpoint: off-exchange sub-penny prints, each with the last NBBO at or before it (an
# ASOF join on one order key per tape event: microseconds x 1000 + seq, a print after every
# quote of its microsecond), signed by where the price sits in the spread.
SQL_QUOTE_MIDPOINT = f"""
WITH {PRINTS},
counts AS (SELECT date, symbol, {COUNTS} FROM prints GROUP BY date, symbol),
quotes AS (
    SELECT date, symbol, epoch_us(ts) * 1000 + least(seq, 998) AS quote_key,
           CAST(round(bid * 10000) AS BIGINT) AS bid_units,
           CAST(round(ask * 10000) AS BIGINT) AS ask_units
    FROM read_parquet($quotes)),
candidates AS (
    SELECT date, symbol, price, size, z, CAST(round(price * 10000) AS BIGINT) AS price_units,
           epoch_us(ts) * 1000 + 999 AS trade_key
    FROM prints WHERE off AND z <> 0),
matched AS (
    SELECT c.*, q.bid_units, q.ask_units, q.ask_units - q.bid_units AS spread
    FROM candidates c ASOF LEFT JOIN quotes q
      ON c.date = q.date AND c.symbol = q.symbol AND c.trade_key >= q.quote_key),
signed AS (
    SELECT date, symbol, price, size,
           CASE WHEN bid_units IS NULL THEN 0
                WHEN spread = 100 AND (price_units < bid_units OR price_units > ask_units) THEN {BJZZ_SIDE}
                WHEN 10 * price_units > 10 * bid_units + 6 * spread THEN 1
                WHEN 10 * price_units < 10 * bid_units + 4 * spread THEN -1
                ELSE 0 END AS side
    FROM matched),
sides AS (SELECT date, symbol, {SIDES} FROM signed GROUP BY date, symbol),
per_day AS (
    SELECT c.*, coalesce(s.retail_buy_trades, 0) AS retail_buy_trades,
           coalesce(s.retail_sell_trades, 0) AS retail_sell_trades,
           coalesce(s.retail_buy_shares, 0.0) AS retail_buy_shares,
           coalesce(s.retail_sell_shares, 0.0) AS retail_sell_shares,
           coalesce(s.retail_buy_usd, 0.0) AS retail_buy_usd,
           coalesce(s.retail_sell_usd, 0.0) AS retail_sell_usd
    FROM counts c LEFT JOIN sides s USING (date, symbol))
{FINAL}"""

SQL = {"bjzz": SQL_BJZZ, "quote_midpoint": SQL_QUOTE_MIDPOINT}


def duckdb_connection(memory_limit: str):
    """A DuckDB connection set up as `smartmoney.engine.connect` sets up its own."""
    import tempfile

    import duckdb

    con = duckdb.connect()
    spill = tempfile.mkdtemp(prefix="bench-spill-")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET temp_directory = '{spill}'")
    con.execute("SET preserve_insertion_order = false")
    return con, spill


def run_sql(store: Path, method: str, memory_limit: str):
    con, spill = duckdb_connection(memory_limit)
    try:
        parameters = {"ticks": manifest_files(store, "ticks")}
        if method == "quote_midpoint":
            parameters["quotes"] = manifest_files(store, "quotes")
        return con.execute(SQL[method], parameters).to_arrow_table()
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def run_scan(store: Path, method: str, memory_limit: str):
    """The scan floor: read the columns the method needs once, with the cheapest aggregates."""
    con, spill = duckdb_connection(memory_limit)
    try:
        ticks = con.execute("SELECT count(DISTINCT symbol), max(ts), sum(price), sum(size), "
                            "count(*) FILTER (WHERE exchange = 'D') FROM read_parquet($ticks)",
                            {"ticks": manifest_files(store, "ticks")}).fetchone()
        quotes = None
        if method == "quote_midpoint":
            quotes = con.execute("SELECT count(DISTINCT symbol), max(ts), sum(seq), sum(bid), sum(ask) "
                                 "FROM read_parquet($quotes)",
                                 {"quotes": manifest_files(store, "quotes")}).fetchone()
        return ticks, quotes
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


WAYS = {"ours": run_ours, "sql": run_sql, "scan": run_scan}
KINDS = [f"{way}_{method}" for method in METHODS for way in ("scan", "ours", "sql")]


def peak_rss_kib() -> int:
    """This process's peak RSS in KiB: VmHWM (not ru_maxrss, which survives fork + exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(kind: str, store: Path, save: Path | None, memory_limit: str) -> None:
    """Run one measurement in this (fresh) process; print one JSON line with the figures."""
    import duckdb  # noqa: F401  imports are not part of the timed work
    import pyarrow as pa
    import pyarrow.parquet as pq

    way, method = kind.split("_", 1)
    if way == "ours":
        import smartmoney.engine
        import smartmoney.identify  # noqa: F401
    baseline = peak_rss_kib()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = WAYS[way](store, method, memory_limit)
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    peak = peak_rss_kib()
    if save is not None and isinstance(result, pa.Table):
        save.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(result, save)
    rows = result.num_rows if isinstance(result, pa.Table) else None
    print(json.dumps({"kind": kind, "seconds": seconds, "cpu_seconds": cpu, "peak_rss_kib": peak,
                      "baseline_rss_kib": baseline, "rows": rows}), flush=True)


# --------------------------------------------------------------------------------------------
# The parent: measure, check, report
# --------------------------------------------------------------------------------------------

def measure_all(kinds: list[str], store: Path, runs: int, saved: Path, memory_limit: str,
                progress) -> dict:
    """Median seconds and max peak RSS of `runs` fresh children per kind.

    The runs are interleaved (run 1 of every kind, then run 2, ...), so that a slow spell of a
    shared machine does not fall on one kind only. A kind whose child fails is recorded with
    its error and not run again; the others go on.
    """
    results: dict[str, list[dict]] = {kind: [] for kind in kinds}
    failed: dict[str, str] = {}
    task = progress.add_task("measuring", total=runs * len(kinds))
    for run in range(runs):
        for kind in kinds:
            progress.update(task, description=f"run {run + 1}/{runs}: {kind}")
            if kind in failed:
                progress.advance(task)
                continue
            command = [sys.executable, str(Path(__file__).resolve()), "--child", kind,
                       "--store", str(store), "--memory-limit", memory_limit]
            if run == 0 and not kind.startswith("scan"):
                command += ["--save", str(saved / f"{kind}.parquet")]
            done = subprocess.run(command, check=False, capture_output=True, text=True, cwd=ROOT)
            if done.returncode != 0:
                lines = done.stderr.strip().splitlines() or [f"exit {done.returncode}"]
                failed[kind] = lines[-1]
                progress.console.print(f"  {kind:22s} run {run + 1}/{runs} FAILED: {lines[-1]}")
                progress.advance(task)
                continue
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            results[kind].append(figures)
            progress.console.print(
                f"  {kind:22s} run {run + 1}/{runs} {figures['seconds']:8.2f} s "
                f"(CPU {figures['cpu_seconds']:7.1f} s), peak RSS {figures['peak_rss_kib'] / 2**20:5.2f} GiB")
            progress.advance(task)
    return {kind: {"runs": [r["seconds"] for r in rs],
                   "seconds": statistics.median(r["seconds"] for r in rs),
                   "cpu_seconds": statistics.median(r["cpu_seconds"] for r in rs),
                   "peak_rss_gib": max(r["peak_rss_kib"] for r in rs) / 2**20,
                   "baseline_rss_gib": max(r["baseline_rss_kib"] for r in rs) / 2**20,
                   "rows": rs[0]["rows"]} if kind not in failed else {"error": failed[kind]}
            for kind, rs in results.items()}


def compare(saved: Path, method: str) -> dict:
    """Ours against the SQL: the same (date, symbol) rows, integers equal, floats to 1e-9."""
    import numpy as np
    import pandas as pd

    from smartmoney.identify import OUTPUT_COLUMNS

    ours = pd.read_parquet(saved / f"ours_{method}.parquet")
    sql = pd.read_parquet(saved / f"sql_{method}.parquet")
    keys = ["date", "symbol"]
    for frame in (ours, sql):
        frame["date"] = pd.to_datetime(frame["date"])
    joined = ours.merge(sql, on=keys, how="outer", suffixes=("_ours", "_sql"), indicator=True)
    unmatched = int((joined["_merge"] != "both").sum())
    differences, mismatched = {}, {}
    for column in OUTPUT_COLUMNS[2:]:
        left = joined[f"{column}_ours"].to_numpy(dtype=float, na_value=np.nan)
        right = joined[f"{column}_sql"].to_numpy(dtype=float, na_value=np.nan)
        both_nan = np.isnan(left) & np.isnan(right)
        scale = np.maximum(np.abs(left), np.abs(right))
        diff = np.where(both_nan, 0.0, np.abs(left - right) / np.where(scale > 0, scale, 1.0))
        diff = np.where(np.isnan(diff), np.inf, diff)          # null on one side only
        differences[column] = float(diff.max()) if len(diff) else 0.0
        mismatched[column] = int((diff >= CHECK_TOLERANCE).sum())
    passed = unmatched == 0 and len(ours) == len(sql) and max(differences.values()) < CHECK_TOLERANCE
    return {"rows_ours": len(ours), "rows_sql": len(sql), "unmatched": unmatched,
            "max_rel_diff": differences, "rows_differing": mismatched, "passed": passed,
            "ours_totals": {c: float(ours[c].sum()) for c in OUTPUT_COLUMNS[2:11]}}


def code_version() -> dict:
    """Which `identify.py` was measured: git HEAD, whether the tree is dirty, the file's hash."""
    import hashlib

    def git(*arguments):
        done = subprocess.run(["git", *arguments], check=False, capture_output=True, text=True,
                              cwd=ROOT)
        return done.stdout.strip() if done.returncode == 0 else None

    source = ROOT / "src" / "smartmoney" / "identify.py"
    return {"head": git("rev-parse", "--short", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--", "src")),
            "identify_sha256": hashlib.sha256(source.read_bytes()).hexdigest()[:12],
            "identify_mtime": dt.datetime.fromtimestamp(source.stat().st_mtime).isoformat(timespec="seconds")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=DEFAULT_TICKS, help="prints on the tape")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median kept)")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"what to measure (comma-separated; default all: {','.join(KINDS)})")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--save", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--memory-limit", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.store, args.save, args.memory_limit)
        return

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from smartmoney.engine import default_memory_limit

    kinds = [k for k in args.kinds.split(",") if k]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns) as progress:
        tape = ensure_tape(args.ticks, progress)
        progress.console.print(
            f"tape: {tape['rows']['ticks']:,} ticks, {tape['rows']['quotes']:,} quotes, "
            f"{sum(tape['bytes'].values()) / 2**30:.2f} GiB on disk (generated in "
            f"{tape['build_seconds']:,.0f} s)")
        store = store_dir(args.ticks)
        saved = OUT / f"results-retail-{args.ticks}"
        if saved.exists():
            shutil.rmtree(saved)
        memory_limit = default_memory_limit()
        report = {"ticks": args.ticks, "runs": args.runs, "tape": tape, "machine": machine(),
                  "code": code_version(),
                  "memory_limit": memory_limit, "measured": dt.datetime.now().isoformat(timespec="seconds"),
                  "measurements": measure_all(kinds, store, args.runs, saved, memory_limit, progress),
                  "checks": {}}
    if code_version()["identify_sha256"] != report["code"]["identify_sha256"]:
        print("warning: src/smartmoney/identify.py changed while measuring", flush=True)
        report["code"]["changed_while_measuring"] = True
    m = {kind: x for kind, x in report["measurements"].items() if "error" not in x}
    for method in METHODS:
        if f"ours_{method}" in m and f"sql_{method}" in m:
            result = report["checks"][method] = compare(saved, method)
            worst = max(result["max_rel_diff"].values())
            print(f"check {method}: ours {result['rows_ours']} rows, sql {result['rows_sql']} rows, "
                  f"unmatched {result['unmatched']}, max relative difference {worst:.1e} -> "
                  f"{'identical' if result['passed'] else 'DIFFERENT'}", flush=True)
            if not result["passed"]:
                print("  differing rows per column:", {c: n for c, n in result["rows_differing"].items() if n})
            ratio = m[f"ours_{method}"]["seconds"] / m[f"sql_{method}"]["seconds"]
            print(f"{method}: ours {m[f'ours_{method}']['seconds']:.2f} s, sql "
                  f"{m[f'sql_{method}']['seconds']:.2f} s -> ours/sql {ratio:.2f}x "
                  f"(target <= {TARGET_RATIO}); peak RSS ours {m[f'ours_{method}']['peak_rss_gib']:.2f} "
                  f"GiB, sql {m[f'sql_{method}']['peak_rss_gib']:.2f} GiB", flush=True)
    report["wall_seconds"] = time.perf_counter() - started
    (OUT / f"report-retail-{args.ticks}.json").write_text(json.dumps(report, indent=1, default=str))
    target = write_results(report)
    print(f"done in {report['wall_seconds']:,.0f} s; wrote {target}", flush=True)


def results_file(ticks: int) -> Path:
    """benchmarks/RESULTS.md for the full tape; smaller tapes (harness checks) go to out/."""
    return RESULTS if ticks >= DEFAULT_TICKS else OUT / f"RESULTS-retail-{ticks}.md"


def write_results(report: dict) -> Path:
    """Create or update the "Retail identification (issue 5)" section; returns the file."""
    mach, tape, code = report["machine"], report["tape"], report["code"]
    failed = {kind: x["error"] for kind, x in report["measurements"].items() if "error" in x}
    m = {kind: x for kind, x in report["measurements"].items() if "error" not in x}
    params, universe = tape["params"], tape["universe"]
    lines = [SECTION, "",
             f"Generated by `benchmarks/retail_identify.py --ticks {report['ticks']} --runs {report['runs']}` "
             f"on {report['measured'][:10]} (see benchmarks/README.md for what each number means).", "",
             f"**Machine**: {mach['cpu']}, {mach['cores']} cores, {mach['ram_gib']:.1f} GiB RAM, "
             f"{mach['os']}; Python {mach['python']}, DuckDB {mach['duckdb']}, Ibis {mach['ibis']}, "
             f"pyarrow {mach['pyarrow']}. DuckDB settings as `engine.connect` sets them for both ways: "
             f"memory limit {report['memory_limit']} (a fifth of RAM), spill folder, "
             f"`preserve_insertion_order = false`, default threads ({mach['cores']}). Load average "
             f"when measuring started: {', '.join(f'{x:.1f}' for x in mach['load_average'])}.", "",
             f"**Code**: git {code['head']}{' + uncommitted changes under src/' if code['dirty'] else ''}; "
             f"`src/smartmoney/identify.py` sha256 {code['identify_sha256']}... (modified "
             f"{code['identify_mtime']})"
             + (" **(changed while measuring)**" if code.get("changed_while_measuring") else "") + ".", "",
             f"**Workload**: one synthetic trading day ({params['day']}, 09:30-16:00 ET), "
             f"{tape['rows']['ticks']:,} trade prints and {tape['rows']['quotes']:,} NBBO quotes over "
             f"{universe['symbols']:,} symbols (Zipf-like activity: the most active symbol has "
             f"{universe['top1_share']:.1%} of the prints, the top 10 {universe['top10_share']:.0%}, the "
             f"top 100 {universe['top100_share']:.0%}); {params['offexchange']:.0%} of prints off-exchange "
             f"(D), {params['subpenny_of_offexchange']:.0%} of those at a sub-penny price (random "
             f"sub-penny part). One Parquet file per table (zstd, 1Mi-row row groups, "
             f"{tape['bytes']['ticks'] / 2**30:.2f} + {tape['bytes']['quotes'] / 2**30:.2f} GiB), listed "
             f"in the store's manifest; generated in {tape['build_seconds'] / 60:.1f} min.", "",
             f"Median of {report['runs']} runs, each in a fresh process, runs interleaved across the "
             "ways; the clock covers opening the store/connection, the query and the result as Arrow. "
             "Peak RSS is the child's VmHWM (about 0.1-0.2 GiB of it is the interpreter and imports).",
             "",
             "| method | what | result rows | median s | runs (s) | CPU s | x hand-written SQL | peak RSS GiB |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    labels = {"scan": "scan floor (DuckDB reads the needed columns once)",
              "ours": "**ours**: `identify(connect(store), ...).to_pyarrow()`",
              "sql": "hand-written DuckDB SQL (one statement)"}
    verdicts = []
    for method in METHODS:
        sql = m.get(f"sql_{method}", {}).get("seconds")
        for way in ("scan", "ours", "sql"):
            x = m.get(f"{way}_{method}")
            if f"{way}_{method}" in failed:
                error = failed[f"{way}_{method}"].replace("|", "\\|")
                lines.append(f"| {method} | {labels[way]} | | failed: `{error[:160]}` | | | | |")
            if x is None:
                continue
            ratio = f"{x['seconds'] / sql:.2f}" if sql else ""
            lines.append(f"| {method} | {labels[way]} | {x['rows'] if x['rows'] is not None else ''} | "
                         f"{x['seconds']:.2f} | {', '.join(f'{r:.1f}' for r in x['runs'])} | "
                         f"{x['cpu_seconds']:.1f} | {ratio} | {x['peak_rss_gib']:.2f} |")
        if f"ours_{method}" in failed:
            verdicts.append(f"- {method}: ours failed on this version of `identify.py` -> **not measured**.")
        elif sql and f"ours_{method}" in m:
            ratio = m[f"ours_{method}"]["seconds"] / sql
            verdicts.append(f"- {method}: ours {ratio:.2f}x the hand-written SQL -> "
                            f"{'**met**' if ratio <= TARGET_RATIO else '**not met**'}.")
    lines += ["", f"Target: ours <= {TARGET_RATIO}x the hand-written SQL.", "", *verdicts, ""]
    if report["checks"]:
        lines += [f"Equality checks (ours against the SQL: the same (date, symbol) rows, every column "
                  f"equal to a relative {CHECK_TOLERANCE:g}):", ""]
        for method, check in report["checks"].items():
            worst = max(check["max_rel_diff"].items(), key=lambda item: item[1])
            totals = check["ours_totals"]
            lines.append(f"- {method}: {check['rows_ours']:,} rows (SQL {check['rows_sql']:,}), "
                         f"{'identical' if check['passed'] else '**DIFFERENT**'} (largest relative "
                         f"difference {worst[1]:.1e}, {worst[0]}); {totals['retail_buy_trades']:,.0f} "
                         f"retail buys and {totals['retail_sell_trades']:,.0f} retail sells of "
                         f"{totals['subpenny_trades']:,.0f} sub-penny off-exchange prints.")
        lines.append("")
    target = results_file(report["ticks"])
    write_section(target, SECTION, "\n".join(lines))  # keeps a hand-written "### Analysis" part
    return target


if __name__ == "__main__":
    main()
