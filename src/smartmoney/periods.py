"""The period tables the store keeps so that metrics need not sum or value every day again.

- `period_flows`: per week (W) and month (M), the kept daily `position_flows` summed per
  account and security, under the period's end (the last day of the data in it);
- `period_values`: on each day that ends a week or a month, the positions valued at the close.

A write refreshes the periods whose days' flows it changed and the period-end days whose
positions or prices it changed; a new day moves its period's end, so that period is summed
again under its new end and the old one goes. Metrics read a kept period only when its end is
also the end the as-of date's own calendar gives (see `metrics.inputs.Inputs`): the as-of
date's unfinished period is summed on the fly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import ibis
import numpy as np
import pyarrow as pa

FREQS = ("W", "M")
VERSION = 1
DAYS_PER_QUERY = 256          # days of kept flows or positions read by one query


def start(day: dt.date, freq: str) -> dt.date:
    """The first calendar day of `day`'s period: its week's Monday or its month's first day
    (as `metrics.inputs.periods` truncates)."""
    return day - dt.timedelta(days=day.weekday()) if freq == "W" else day.replace(day=1)


def calendar(days: list[str]) -> dict[str, tuple[str, str, list[str]]]:
    """Every kept period of the data's days (ISO dates): partition key -> (freq, end, days)."""
    found: dict[tuple[str, dt.date], list[str]] = {}
    for day in sorted(days):
        for freq in FREQS:
            found.setdefault((freq, start(dt.date.fromisoformat(day), freq)), []).append(day)
    return {flows_key(freq, members[-1]): (freq, members[-1], members) for (freq, _), members in found.items()}


def flows_key(freq: str, end: str) -> str:
    return f"period_end={end}/freq={freq}"


def values_key(day: str) -> str:
    return f"date={day}"


def _chunks(items: list, size_of) -> Iterator[list]:
    """`items` in runs whose sizes add up to at most DAYS_PER_QUERY (one item at least)."""
    run, total = [], 0
    for item in items:
        if run and total + size_of(item) > DAYS_PER_QUERY:
            yield run
            run, total = [], 0
        run.append(item)
        total += size_of(item)
    if run:
        yield run


def _cut(manifest: dict, days: set[str], tables: tuple[str, ...]) -> dict:
    """The manifest with `tables` cut to the partitions of `days`."""
    listed = manifest["tables"]
    return {**manifest, "tables": {**listed, **{
        name: {key: entry for key, entry in listed.get(name, {}).items() if key.split("=", 1)[1][:10] in days}
        for name in tables}}}


def _split(found: pa.Table, column: str, keys: list) -> Iterator[pa.Table]:
    """The rows of `found` (ordered by `column`) for each of `keys` (sorted), as slices."""
    values = found.column(column).to_numpy(zero_copy_only=False)
    for key in keys:
        first, last = np.searchsorted(values, key, "left"), np.searchsorted(values, key, "right")
        yield found.slice(first, last - first)


def flow_rows(store, manifest: dict, periods: list[tuple[str, str, list[str]]]) -> Iterator[tuple[str, pa.Table]]:
    """(key, rows) of `period_flows` for each of `periods` (freq, end, days), from the kept
    position flows that `manifest` lists."""
    from smartmoney.engine import connect
    from smartmoney.metrics.flows import COMPONENTS, period_sums

    for run in _chunks(periods, lambda period: len(period[2])):
        days = {day for _, _, members in run for day in members}
        backend = connect(store, manifest=_cut(manifest, days, ("position_flows",)), tables=("position_flows",))
        for freq in FREQS:
            chosen = sorted((end, members) for kind, end, members in run if kind == freq)
            if not chosen:
                continue
            dates = pa.table({"date": [dt.date.fromisoformat(day) for _, members in chosen for day in members],
                              "period_end": [dt.date.fromisoformat(end) for end, members in chosen for _ in members]})
            sums = period_sums(backend.table("position_flows"), ibis.memtable(dates))
            found = (sums.mutate(freq=ibis.literal(freq)).order_by("period_end")
                     .select("freq", "period_end", "account_id", "security_id", *COMPONENTS).to_pyarrow())
            ends = [np.datetime64(end, "D") for end, _ in chosen]
            for (end, _), rows in zip(chosen, _split(found, "period_end", ends)):
                yield flows_key(freq, end), rows
        backend.disconnect()


def value_rows(store, manifest: dict, days: list[str]) -> Iterator[tuple[str, pa.Table]]:
    """(key, rows) of `period_values` for each of `days` (sorted), valued from the positions
    and prices that `manifest` lists."""
    from smartmoney.engine import connect
    from smartmoney.metrics.inputs import Inputs, value_rows as valued_rows

    for run in _chunks(sorted(days), lambda _: 1):
        view = _cut(manifest, set(run), ("positions", "prices"))
        inputs = Inputs(connect(store, manifest=view, tables=("securities", "accounts", "positions", "prices")))
        found = valued_rows(inputs.valued([dt.date.fromisoformat(day) for day in run])).order_by("date").to_pyarrow()
        for day, rows in zip(run, _split(found, "date", [np.datetime64(day, "D") for day in run])):
            yield values_key(day), rows
        inputs.close()
