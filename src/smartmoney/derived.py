"""Keeping the store's derived tables in step with every write.

`position_flows` (the daily flows of each position) and the period tables of
`smartmoney.periods` are derived from the positions, equity and prices. A transaction notes
which days its write changed (`Transaction.changed_days`), or that every day changed
(securities or accounts did: `Transaction.all_days_changed`); on commit, `refresh` derives
again what those changes reach, and everything when the kept tables are missing or of another
version. Metrics compute on the fly what is not kept, so a kept table can only save time.
"""

from __future__ import annotations

import bisect
import datetime as dt

import pandas as pd

from smartmoney import periods
from smartmoney.schema import TABLES, Table

# The version of the kept position flows (`position_flows`): a store whose manifest names
# another (or none) derives them again on its next write, and computes them on the fly till then.
FLOWS_VERSION = 1
FLOW_DAYS_PER_QUERY = 64
FLOW_INPUTS = ("securities", "accounts", "positions", "equity", "prices")  # what position flows read


def refresh(tx) -> None:
    """Derive again what the write of the transaction `tx` changed, before it commits."""
    refresh_periods(tx, refresh_flows(tx))


def _days(manifest: dict, *names: str) -> list[str]:
    """The days with rows in the tables `names` (by default positions or equity: the days of
    the data)."""
    tables = manifest["tables"]
    return sorted({key.split("=", 1)[1] for name in names or ("positions", "equity")
                   for key in tables.get(name, {})})


def refresh_flows(tx) -> set[str]:
    """Derive the kept `position_flows` again for the days `tx` changed and the day after each
    (whose day before may have changed), or for every day when securities or accounts changed
    or the kept flows are missing or of another version. Returns the days whose kept flows it
    derived again or removed."""
    fresh = tx.manifest.get("derived", {}).get("position_flows") == FLOWS_VERSION
    if fresh and not tx.changed_days and not tx.all_days_changed:
        return set()
    from smartmoney.engine import connect
    from smartmoney.metrics.flows import position_flows
    from smartmoney.metrics.inputs import Inputs

    tables = tx.manifest["tables"]
    days = _days(tx.manifest)
    if fresh and not tx.all_days_changed:
        todo = sorted((tx.changed_days | _days_after(tx, days)) & set(days))
    else:
        todo = days
    kept = {key.split("=", 1)[1] for key in tables.get("position_flows", {})}
    gone = kept - set(days) if fresh and not tx.all_days_changed else kept - set(todo)
    table = TABLES["position_flows"]
    for day in sorted(gone):
        tx.drop_partition(table, f"date={day}")
    if todo and tables.get("positions"):
        view = None if todo == days else _flow_view(tx, todo)
        inputs = Inputs(connect(tx.store, manifest=view or tx.manifest, tables=FLOW_INPUTS),
                        all_accounts_have_equity=view is not None)
        for start in range(0, len(todo), FLOW_DAYS_PER_QUERY):
            chunk = [dt.date.fromisoformat(day) for day in todo[start:start + FLOW_DAYS_PER_QUERY]]
            flows = position_flows(inputs, dates=chunk).to_pandas()
            flows["date"] = pd.to_datetime(flows["date"])
            by_day = dict(iter(flows.groupby(flows["date"].dt.strftime("%Y-%m-%d"))))
            for day in chunk:
                key = day.isoformat()
                if key in by_day:
                    tx.replace_partition(table, f"date={key}", by_day[key])
                elif key in kept:
                    tx.drop_partition(table, f"date={key}")
        inputs.close()
    tx.note_derived("position_flows", FLOWS_VERSION)
    return set(todo) | gone


def _flow_view(tx, todo: list[str]) -> dict | None:
    """The manifest cut to what the flows of `todo` read: positions and equity of those days
    and of the days before them, prices of those days. Exact when every account has equity
    rows (the calendar of present days is then the equity's); else None (read everything)."""
    tables = tx.manifest["tables"]
    if not set(tx.read("accounts", ["account_id"])["account_id"]) <= tx.equity_accounts():
        return None
    equity_days = _days(tx.manifest, "equity")
    todo_days = set(todo)
    wanted = todo_days | {equity_days[i - 1] for i, day in enumerate(equity_days) if i and day in todo_days}

    def cut(name: str, days: set[str]) -> dict:
        return {key: entry for key, entry in tables.get(name, {}).items() if key.split("=", 1)[1] in days}

    # flows value the changes at the day's close: prices of the days themselves only
    return {**tx.manifest, "tables": {**tables, "positions": cut("positions", wanted),
                                      "equity": cut("equity", wanted), "prices": cut("prices", todo_days)}}


def _days_after(tx, days: list[str]) -> set[str]:
    """The days whose day before may have changed with the changed days: the next day of the
    data, and every day up to the next day with equity (the calendar of present days is made
    of equity days, and of position days for accounts without equity)."""
    equity_days = _days(tx.manifest, "equity")
    after = set()
    for day in tx.changed_days:
        later = days[bisect.bisect_right(days, day):]
        following = equity_days[bisect.bisect_right(equity_days, day):]
        after |= set(later[:1]) | {d for d in later if following and d <= following[0]}
    return after


def refresh_periods(tx, flow_days: set[str]) -> None:
    """Derive the kept period tables (smartmoney.periods) again where `tx` changed them: the
    periods of `flow_days`, the period-end days whose positions or prices changed, the periods
    and days that now end a period; everything when they are missing, of another version, or
    securities or accounts changed."""
    fresh = tx.manifest.get("derived", {}).get("periods") == periods.VERSION and not tx.all_days_changed
    if fresh and not flow_days and not tx.changed_days:
        return
    wanted = periods.calendar(_days(tx.manifest)) if tx.manifest["tables"].get("positions") else {}
    stale = {key for key, (_, _, members) in wanted.items() if flow_days.intersection(members)}
    _keep(tx, TABLES["period_flows"], set(wanted), stale if fresh else set(wanted),
          lambda keys: periods.flow_rows(tx.store, tx.manifest, [wanted[key] for key in keys]))
    ends = {end for _, end, _ in wanted.values()}
    wanted = {periods.values_key(day): day for day in ends}
    stale = {periods.values_key(day) for day in ends & tx.changed_days}
    _keep(tx, TABLES["period_values"], set(wanted), stale if fresh else set(wanted),
          lambda keys: periods.value_rows(tx.store, tx.manifest, [wanted[key] for key in keys]))
    tx.note_derived("periods", periods.VERSION)


def _keep(tx, table: Table, wanted: set[str], stale: set[str], rows) -> None:
    """Make the partitions of the derived `table` the `wanted` keys: drop the others, and
    derive again (`rows(keys)` yields key, frame) the missing and the `stale` ones."""
    stored = set(tx.manifest["tables"].get(table.name, {}))
    for key in sorted(stored - wanted):
        tx.drop_partition(table, key)
    for key, frame in rows(sorted((wanted - stored) | (stale & wanted))):
        tx.replace_partition(table, key, frame)
