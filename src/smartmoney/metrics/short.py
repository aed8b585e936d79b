"""FINRA short sale volume and short interest (DESIGN.md, Public-data metrics).

Every function takes an Ibis backend from `smartmoney.engine.connect` and returns an Ibis table,
so the same expressions run on DuckDB and Spark (window functions and joins only).

Short sale volume, per symbol and trading day (`short_volume`):

- the consolidated CNMS row when the store has one for that symbol and day; otherwise the sum
  of the facility rows (FNRA, FNSQ, FNQC, FNYX, FORF) stored for it. `basis` says which
  ("CNMS" or "facilities") and `facility_rows` how many facility rows were summed (null for
  CNMS). OTC symbols appear only in FORF files, never in CNMS, so they always come from there;
  `otc` is true for a symbol-day that only FORF reported.
- short_volume_ratio = 100 x short_volume / total_volume, in percent (null when total is 0).

Per week (`short_volume_weekly`, Monday-Friday weeks, period_end the last trading day the data
holds in the week): days, the week's volumes, short_volume_ratio (the week's short volume over
its total volume), short_volume_ratio_avg (the mean of the daily ratios: "the weekly average"),
its change from the symbol's previous week in percentage points (null when the symbol has no
row in the calendar week before), and its percentile rank among the symbol's last 52 and 260
weekly values (null until more than 8 earlier weeks are known; see `metrics.stats.with_pct_ranks`).
`market_short_volume` is the same ratio over every NMS symbol of the data together (OTC
symbol-days are left out unless asked for, so the series does not jump on the days FORF files
were ingested).

Short interest, per symbol and settlement date (`short_interest`): short_interest,
prev_short_interest (FINRA's figure; else the symbol's previous stored settlement),
short_interest_change, short_interest_change_pct (percent of the previous; null when it is 0),
avg_daily_volume, days_to_cover (FINRA's; computed as short_interest / avg_daily_volume,
rounded to 2 decimals and capped at 999.99, only when FINRA gives none), days_to_cover_capped
(true at FINRA's 999.99 cap, where the real value is unknown), available_from.
`most_shorted` ranks symbols per settlement date; capped days to cover never take part.

Tickers: FINRA writes class shares its own way (BRK/B in the short sale volume files, BRKB in
short interest) while `securities.ticker` says BRK.B. Every per-symbol table keeps the symbol as
FINRA wrote it and adds `ticker`: the securities ticker it maps to (`with_ticker`), null when
none does, so short data can be set beside holdings. `TICKER_ALIASES` (or `aliases=`) maps the
symbols no rule finds.

Point in time: with `as_of`, short volume rows dated after it and short interest rows not yet
published (available_from > as_of) are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis

from smartmoney.metrics.cot import week_number
from smartmoney.metrics.stats import with_pct_ranks

DAYS_TO_COVER_CAP = 999.99
RANKINGS = ("days_to_cover", "short_interest", "short_interest_change", "short_interest_change_pct")
VOLUMES = ("short_volume", "short_exempt_volume", "total_volume")
#: FINRA symbol -> securities ticker, for symbols the rules of `ticker_keys` do not map (a
#: renamed company, a symbol written another way). Extend it, or pass `aliases=` to a function.
TICKER_ALIASES: dict[str, str] = {}


def ticker_keys(securities: ibis.Table) -> ibis.Table:
    """Every way FINRA writes a securities ticker: columns key (a FINRA symbol) and ticker.

    A key is, by rank: 1 the ticker itself (NVDA, BRK.B); 2 the ticker with "/" for "." (BRK/B,
    as the short sale volume files write class shares); 3 the ticker with its "." dropped (BRKB,
    as short interest writes them; dotted tickers only). A key takes the ticker of its lowest
    rank, so a FINRA symbol that is itself a ticker (BRKB, if securities has one) is never read
    as the compact form of another; a key two tickers claim at the same rank maps to neither.
    """
    tickers = securities.filter(securities.ticker.notnull()).select("ticker").distinct()
    dotted = tickers.filter(tickers.ticker.contains("."))
    forms = (tickers.select(key=tickers.ticker, ticker=tickers.ticker, rank=ibis.literal(1)),
             dotted.select(key=dotted.ticker.replace(".", "/"), ticker=dotted.ticker, rank=ibis.literal(2)),
             dotted.select(key=dotted.ticker.replace(".", ""), ticker=dotted.ticker, rank=ibis.literal(3)))
    keys = forms[0].union(forms[1]).union(forms[2])
    keys = keys.mutate(best=keys["rank"].min().over(group_by=keys.key))
    keys = keys.filter(keys["rank"] == keys.best)
    unique = keys.group_by("key").aggregate(ticker=keys.ticker.min(), tickers=keys.ticker.nunique())
    return unique.filter(unique.tickers == 1).select("key", "ticker")


def with_ticker(rows: ibis.Table, securities: ibis.Table, *,
                aliases: Mapping[str, str] | None = None) -> ibis.Table:
    """`rows` (with a FINRA `symbol`) plus `ticker`, right after symbol: the securities ticker
    the symbol maps to, null when none does.

    A symbol in `TICKER_ALIASES` or `aliases` (which wins) is first replaced by its entry; the
    result is then looked up among the `ticker_keys` of `securities`, so an alias to a ticker
    the securities table lacks gives null. Every row is kept, once.
    """
    table = {**TICKER_ALIASES, **(aliases or {})}
    lookup = rows.symbol
    if table:
        lookup = ibis.cases(*((rows.symbol == symbol, ticker) for symbol, ticker in sorted(table.items())),
                            else_=rows.symbol)
    keyed = rows.mutate(_ticker_key=lookup)
    keys = ticker_keys(securities)
    joined = keyed.left_join(keys, keyed._ticker_key == keys.key)
    columns = list(rows.columns)
    at = columns.index("symbol") + 1
    return joined.select(*columns[:at], "ticker", *columns[at:])


def short_volume(backend, *, as_of: dt.date | str | None = None, symbols: list[str] | None = None,
                 aliases: Mapping[str, str] | None = None) -> ibis.Table:
    """Daily short volume per symbol, CNMS preferred (see the module docstring).

    Columns: date, symbol, ticker, short_volume, short_exempt_volume, total_volume,
    short_volume_ratio, basis, facility_rows, otc. `symbols` are FINRA's (BRK/B); `aliases`
    see `with_ticker`.
    """
    return with_ticker(_daily(backend, as_of=as_of, symbols=symbols), backend.table("securities"),
                       aliases=aliases)


def _daily(backend, *, as_of: dt.date | str | None, symbols: list[str] | None = None) -> ibis.Table:
    """`short_volume` without the ticker."""
    rows = backend.table("short_volume")
    if as_of is not None:
        rows = rows.filter(rows.date <= ibis.date(as_of))
    if symbols is not None:
        rows = rows.filter(rows.symbol.isin(list(symbols)))
    consolidated = rows.filter(rows.facility == "CNMS")
    facilities = rows.filter(rows.facility != "CNMS")
    summed = facilities.group_by(["date", "symbol"]).aggregate(
        facility_rows=facilities.count(),
        _nms_rows=(facilities.facility != "FORF").cast("int64").sum(),
        **{v: facilities[v].sum() for v in VOLUMES})
    summed = summed.anti_join(consolidated, ["date", "symbol"])
    daily = consolidated.select("date", "symbol", *VOLUMES, basis=ibis.literal("CNMS"),
                                facility_rows=ibis.null("int64"), otc=ibis.literal(False)).union(
        summed.select("date", "symbol", *VOLUMES, basis=ibis.literal("facilities"),
                      facility_rows=summed.facility_rows.cast("int64"), otc=summed._nms_rows == 0))
    daily = daily.mutate(short_volume_ratio=_percent(daily.short_volume, daily.total_volume))
    return daily.select("date", "symbol", *VOLUMES, "short_volume_ratio", "basis", "facility_rows", "otc")


def short_volume_weekly(backend, *, as_of: dt.date | str | None = None, symbols: list[str] | None = None,
                        aliases: Mapping[str, str] | None = None) -> ibis.Table:
    """Weekly short volume per symbol with the average ratio, its change and percentile ranks.

    Columns: period_end, symbol, ticker, days, short_volume, short_exempt_volume, total_volume,
    short_volume_ratio, short_volume_ratio_avg, short_volume_ratio_avg_change,
    short_volume_ratio_avg_pct_rank_1y, short_volume_ratio_avg_pct_rank_5y.
    """
    dated = _with_week_end(_daily(backend, as_of=as_of, symbols=symbols))
    weekly = dated.group_by(["period_end", "symbol", "_week"]).aggregate(
        days=dated.count(), short_volume_ratio_avg=dated.short_volume_ratio.mean(),
        **{v: dated[v].sum() for v in VOLUMES})
    weekly = weekly.mutate(short_volume_ratio=_percent(weekly.short_volume, weekly.total_volume))
    before = ibis.window(group_by=weekly.symbol, order_by=weekly._week)
    follows = weekly._week.lag().over(before) == weekly._week - 1
    change = weekly.short_volume_ratio_avg - weekly.short_volume_ratio_avg.lag().over(before)
    weekly = weekly.mutate(short_volume_ratio_avg_change=ibis.ifelse(follows, change, ibis.null("float64")))
    weekly = with_pct_ranks(weekly.drop("_week"), "symbol", ["short_volume_ratio_avg"], "W")
    weekly = weekly.select(
        "period_end", "symbol", "days", *VOLUMES, "short_volume_ratio", "short_volume_ratio_avg",
        "short_volume_ratio_avg_change", "short_volume_ratio_avg_pct_rank_1y",
        "short_volume_ratio_avg_pct_rank_5y")
    return with_ticker(weekly, backend.table("securities"), aliases=aliases)


def market_short_volume(backend, *, freq: str = "W", as_of: dt.date | str | None = None,
                        otc: bool = False) -> ibis.Table:
    """Short volume of every NMS symbol together per period ("D" or "W"); OTC symbol-days
    (FORF only) too when `otc` is true.

    Columns: period_end, symbols (distinct symbols with volume), short_volume, total_volume,
    short_volume_ratio (percent), short_volume_ratio_change (percentage points from the
    previous period: the calendar week before, null when that week is not in the data; daily,
    the previous date the data holds).
    """
    if freq not in ("D", "W"):
        raise ValueError(f"market short volume is daily or weekly, not {freq!r}")
    daily = _daily(backend, as_of=as_of)
    if not otc:
        daily = daily.filter(~daily.otc)
    dated = (_with_week_end(daily) if freq == "W" else
             daily.mutate(period_end=daily.date, _week=ibis.literal(0)))
    market = dated.group_by(["period_end", "_week"]).aggregate(
        symbols=dated.symbol.nunique(), short_volume=dated.short_volume.sum(),
        total_volume=dated.total_volume.sum())
    market = market.mutate(short_volume_ratio=_percent(market.short_volume, market.total_volume))
    in_order = ibis.window(order_by=market.period_end)
    change = market.short_volume_ratio - market.short_volume_ratio.lag().over(in_order)
    if freq == "W":       # null after a week not loaded: the change is from the week before
        change = ibis.ifelse(market._week.lag().over(in_order) == market._week - 1, change,
                             ibis.null("float64"))
    return market.mutate(short_volume_ratio_change=change).select(
        "period_end", "symbols", "short_volume", "total_volume", "short_volume_ratio",
        "short_volume_ratio_change")


def short_interest(backend, *, as_of: dt.date | str | None = None, symbols: list[str] | None = None,
                   aliases: Mapping[str, str] | None = None) -> ibis.Table:
    """Short interest per symbol and settlement date, published by `as_of` (module docstring).

    Columns: settlement_date, symbol, ticker, short_interest, prev_short_interest,
    short_interest_change, short_interest_change_pct, avg_daily_volume, days_to_cover,
    days_to_cover_capped, available_from.
    """
    rows = backend.table("short_interest")
    if as_of is not None:
        rows = rows.filter(rows.available_from <= ibis.date(as_of))
    if symbols is not None:
        rows = rows.filter(rows.symbol.isin(list(symbols)))
    stored_before = rows.short_interest.lag().over(group_by=rows.symbol, order_by=rows.settlement_date)
    previous = rows.prev_short_interest.coalesce(stored_before)
    ratio = (rows.short_interest / rows.avg_daily_volume).round(2).clip(upper=DAYS_TO_COVER_CAP)
    computed = ibis.ifelse(rows.avg_daily_volume > 0, ratio, ibis.null("float64"))
    rows = rows.mutate(prev_short_interest=previous, days_to_cover=rows.days_to_cover.coalesce(computed))
    rows = rows.mutate(
        short_interest_change=rows.short_interest - rows.prev_short_interest,
        short_interest_change_pct=_percent(rows.short_interest - rows.prev_short_interest,
                                           rows.prev_short_interest),
        days_to_cover_capped=(rows.days_to_cover >= DAYS_TO_COVER_CAP - 0.005).fill_null(False))
    rows = rows.select("settlement_date", "symbol", "short_interest", "prev_short_interest",
                       "short_interest_change", "short_interest_change_pct", "avg_daily_volume",
                       "days_to_cover", "days_to_cover_capped", "available_from")
    return with_ticker(rows, backend.table("securities"), aliases=aliases)


def most_shorted(backend, *, by: str = "days_to_cover", top: int = 10, largest: bool = True,
                 latest: bool = True, as_of: dt.date | str | None = None,
                 aliases: Mapping[str, str] | None = None) -> ibis.Table:
    """The `top` symbols per settlement date by `by` (largest first, or smallest with
    largest=False: e.g. the biggest drops in short interest).

    `by` is one of days_to_cover (capped values left out: their real value is unknown),
    short_interest, short_interest_change, short_interest_change_pct. Rows without a value are
    left out; ties go to the symbol first in alphabetical order. With `latest`, only the last
    settlement date published by `as_of`. Columns: the `short_interest` columns (ticker
    included) plus `rank` (1 = first) and `ranked` (how many symbols took part that settlement
    date).
    """
    if by not in RANKINGS:
        raise ValueError(f"cannot rank by {by!r}; choose one of {', '.join(RANKINGS)}")
    rows = short_interest(backend, as_of=as_of, aliases=aliases)
    if latest:
        rows = rows.mutate(_latest=rows.settlement_date.max().over(ibis.window()))
        rows = rows.filter(rows.settlement_date == rows._latest).drop("_latest")
    rows = rows.filter(rows[by].notnull())
    if by == "days_to_cover":
        rows = rows.filter(~rows.days_to_cover_capped)
    value = rows[by].desc() if largest else rows[by].asc()
    ranked = rows.mutate(
        rank=ibis.row_number().over(group_by=rows.settlement_date, order_by=[value, rows.symbol]) + 1,
        ranked=rows.symbol.count().over(ibis.window(group_by=rows.settlement_date)))
    return ranked.filter(ranked["rank"] <= top).order_by(["settlement_date", "rank"])


def _with_week_end(daily: ibis.Table) -> ibis.Table:
    """period_end (the week's last date in the data; Monday-Friday weeks) and _week (the
    calendar week's number, so that a week not loaded leaves a gap), by window functions rather
    than a join with a calendar, so that Spark computes the daily table once."""
    daily = daily.mutate(_week=week_number(daily.date))
    return daily.mutate(period_end=daily.date.max().over(ibis.window(group_by=daily._week)))


def _percent(part: ibis.Value, whole: ibis.Value) -> ibis.Value:
    """100 x part / whole, null when whole is 0 or null."""
    return 100.0 * part / whole.nullif(0.0)
