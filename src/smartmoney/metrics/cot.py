"""CFTC positioning per contract, trader category and report week (DESIGN.md, Public-data metrics).

`cot_positioning` reads `futures_positions` and returns, per report, contract_code, category and
report_date (one row per stored row):

- report_date, release_date, report, contract_code, market (as the report named it that week),
  category, long, short, spread, open_interest: as stored;
- net = long - short, in contracts;
- net_pct_oi = 100 x net / open_interest (null when open interest is 0);
- net_change = net - net of the previous week's report: week over week, so null when the
  contract has no report the calendar week before (its first week, or a week not loaded);
- cot_index_26w, cot_index_52w, cot_index_156w = 100 x (net - min) / (max - min) of net over
  the reports of the trailing 26, 52 and 156 calendar weeks, the current week included: 0 when
  net is the lowest (most short) of the window, 100 the highest. Null until the window holds
  at least `COT_INDEX_MIN_REPORTS` reports (80% of its weeks: 21 of 26, 42 of 52, 125 of 156),
  so that a newly listed contract or a span of weeks not loaded gives no index rather than an
  index over a few weeks; null too when every net in the window is the same (max = min).

Weeks are calendar weeks (Monday to Sunday) numbered from a fixed Monday, so a report dated
Monday (when Tuesday is a holiday) is still that week's report, and windows are ranges of week
numbers, not of rows: a missing week shortens the window, it never pulls in an older report.

Point in time: ``as_of`` keeps only rows with available_from <= as_of (the Friday release, not
the Tuesday the positions are as of), before anything is computed.

Only window functions and joins on equality are used (no asof join, no ordered first/last), so
the same expression runs on DuckDB and Spark.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import ibis
import pandas as pd

CATEGORIES = ("leveraged_funds", "asset_manager", "dealer")
COT_INDEX_WINDOWS = (26, 52, 156)
#: Fewest reports in a COT index window before the index is stated (80% of its weeks).
COT_INDEX_MIN_REPORTS = {26: 21, 52: 42, 156: 125}
#: A Monday before any CFTC report: week numbers count whole weeks from it.
WEEK_ZERO = dt.date(1900, 1, 1)
OUTPUT = ["report_date", "release_date", "report", "contract_code", "market", "category", "long",
          "short", "spread", "open_interest", "net", "net_pct_oi", "net_change",
          *(f"cot_index_{weeks}w" for weeks in COT_INDEX_WINDOWS)]


def week_number(date: ibis.DateValue) -> ibis.IntegerValue:
    """The calendar week (Monday to Sunday) of a date, counted from `WEEK_ZERO`."""
    return date.delta(ibis.date(WEEK_ZERO.isoformat()), unit="day") // 7


def cot_positioning(backend: ibis.BaseBackend, *, report: str = "tff_futures_only",
                    categories: Iterable[str] = CATEGORIES, contracts: Iterable[str] | None = None,
                    as_of: dt.date | str | None = None) -> ibis.Table:
    """Net positions, net as % of open interest, weekly change and COT indexes.

    Parameters
    ----------
    backend
        An Ibis connection over a store (`smartmoney.engine.connect`).
    report
        One of `smartmoney.schema.FUTURES_REPORTS`; TFF futures only by default.
    categories
        Trader categories to keep (leveraged funds, asset managers and dealers by default; any of
        the report's categories may be asked for, e.g. "noncommercial" of a legacy report).
    contracts
        CFTC contract market codes to keep (e.g. "13874A", the E-mini S&P 500); None keeps all.
    as_of
        Point in time: only rows released on or before this date are used.

    Returns
    -------
    ibis.Table
        The columns of `OUTPUT` (see the module docstring), ordered by contract_code, category
        and report_date.

    Examples
    --------
    >>> from smartmoney.engine import connect                    # doctest: +SKIP
    >>> cot_positioning(connect(store), contracts=["13874A"]).to_pandas()   # doctest: +SKIP
    """
    rows = backend.table("futures_positions")
    if as_of is not None:
        rows = rows.filter(rows.available_from <= ibis.date(pd.Timestamp(as_of).date().isoformat()))
    rows = rows.filter(rows.report == report, rows.category.isin(list(categories)))
    if contracts is not None:
        rows = rows.filter(rows.contract_code.isin(list(contracts)))
    rows = rows.mutate(net=rows.long - rows.short, _week=week_number(rows.report_date))
    series = ["report", "contract_code", "category"]
    in_order = ibis.window(group_by=series, order_by="report_date")
    previous_week = rows._week.lag().over(in_order)
    indexes = {}
    for weeks in COT_INDEX_WINDOWS:
        window = ibis.window(group_by=series, order_by="_week", range=(-(weeks - 1), 0))
        low, high = rows.net.min().over(window), rows.net.max().over(window)
        stated = (rows.net.count().over(window) >= COT_INDEX_MIN_REPORTS[weeks]) & (high > low)
        indexes[f"cot_index_{weeks}w"] = ibis.ifelse(
            stated, 100.0 * (rows.net - low) / (high - low), ibis.null("float64"))
    rows = rows.mutate(
        net_pct_oi=100.0 * rows.net / rows.open_interest.nullif(0.0),
        net_change=ibis.ifelse(previous_week == rows._week - 1, rows.net - rows.net.lag().over(in_order),
                               ibis.null("float64")),
        **indexes,
    )
    return rows.select(*OUTPUT).order_by(["contract_code", "category", "report_date"])
