"""Facts about short sellers, from FINRA short sale volume and short interest.

Which metric tables (smartmoney.metrics.short) the facts draw on and which generic facts
(smartmoney.facts) each gives; nothing here computes a metric.

- the market's weekly short volume ratio (NMS symbols): level, change, streak of changes,
  "highest since", year-to-date high, 1y/5y percentile ranks (period "W");
- short interest at the last settlement date published by `as_of` (period "SM", semi-monthly
  settlement dates): the most shorted symbols by days to cover (FINRA's 999.99 cap left out),
  the largest rises and falls in shares short, how many symbols sit at the cap, and for each of
  those symbols (and any asked for) its level, streak of rises or falls and "highest since".

The facts say who = "short_sellers". `facts.WHO` does not list it yet, and `facts.Context`
refuses who values outside it, so this module passes the generic helpers its own context
(`ShortContext`, the same fields); the facts themselves are ordinary `facts.Fact` records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from smartmoney import facts as F
from smartmoney.metrics import short as S

WHO = "short_sellers"
LEADERS = 5
SEMI_MONTHLY = "SM"


@dataclass(frozen=True)
class ShortContext:
    """facts.Context for who = "short_sellers" (see the module docstring)."""

    who: str
    metric: str
    group_by: str
    group: str
    period: str


def short_facts(backend, as_of: dt.date | str | None = None, *, top: int = LEADERS,
                symbols: list[str] | None = None) -> list[F.Fact]:
    """Every short-seller fact up to `as_of`, sorted by id (empty without FINRA data).

    `backend` comes from `smartmoney.engine.connect`; `symbols` adds per-symbol short
    interest facts for symbols outside the leaders.
    """
    found = market_volume_facts(S.market_short_volume(backend, freq="W", as_of=as_of).to_pandas())
    leaders: list[str] = []
    rankings = [("days_to_cover", True), ("short_interest_change", True),
                ("short_interest_change", False)]
    for by, largest in rankings:
        ranked = S.most_shorted(backend, by=by, top=top, largest=largest, as_of=as_of).to_pandas()
        facts = ranking_facts(ranked, by, largest)
        found += facts
        leaders += [fact.group for fact in facts]
    interest = S.short_interest(backend, as_of=as_of).to_pandas()
    found += capped_facts(interest)
    for symbol in dict.fromkeys([*leaders, *(symbols or [])]):
        found += symbol_facts(interest, symbol)
    unique = {fact.id: fact for fact in found}
    return [unique[key] for key in sorted(unique)]


def market_volume_facts(market: pd.DataFrame) -> list[F.Fact]:
    """Facts about the market's weekly short volume ratio (a level, in percent)."""
    if market.empty:
        return []
    series = market.set_index(pd.to_datetime(market["period_end"]))["short_volume_ratio"].sort_index()
    ctx = ShortContext(WHO, "short_volume_ratio", "market", "all", "W")
    facts = [F.level(series, ctx), F.change(series, ctx), F.streak(series, ctx, change=True),
             F.since(series, ctx), F.ytd_extreme(series, ctx, largest="max")]
    facts += [F.pct_rank(series, ctx, window) for window in F.RANK_WINDOWS["W"]]
    return [_as_level(fact) for fact in facts if fact is not None]


def ranking_facts(ranked: pd.DataFrame, by: str, largest: bool) -> list[F.Fact]:
    """One fact per ranked symbol: n = rank, of = symbols ranked that settlement date.

    days_to_cover: kind "level", label "most_shorted". Changes in short interest: kind
    "change", direction "up" for the largest rises, "down" for the largest falls (a fall never
    counts among the rises, nor a rise among the falls).
    """
    facts = []
    for row in ranked.to_dict("records"):
        value = float(row[by])
        if by == "days_to_cover":
            kind, direction, label = "level", "", "most_shorted"
        else:
            kind, direction, label = "change", "up" if largest else "down", "largest_" + (
                "rise" if largest else "fall")
            if (value > 0) != largest or value == 0:
                continue
        ctx = ShortContext(WHO, by, "symbol", str(row["symbol"]), SEMI_MONTHLY)
        day = pd.Timestamp(row["settlement_date"]).date()
        facts.append(F.Fact(
            F.fact_id(kind, ctx, day, label, f"rank={int(row['rank'])}"), kind, WHO, by, "symbol",
            ctx.group, SEMI_MONTHLY, day, value, n=int(row["rank"]), of=int(row["ranked"]),
            direction=direction, label=label, components=_numbers(row, (
                "short_interest", "prev_short_interest", "short_interest_change",
                "short_interest_change_pct", "avg_daily_volume", "days_to_cover"))))
    return facts


def capped_facts(interest: pd.DataFrame) -> list[F.Fact]:
    """How many symbols sit at FINRA's 999.99 days-to-cover cap on the last settlement date."""
    if interest.empty:
        return []
    last = interest[interest["settlement_date"] == interest["settlement_date"].max()]
    capped = int(last["days_to_cover_capped"].sum())
    ctx = ShortContext(WHO, "days_to_cover_capped", "symbol", "all", SEMI_MONTHLY)
    day = pd.Timestamp(last["settlement_date"].iloc[0]).date()
    return [F.Fact(F.fact_id("level", ctx, day), "level", WHO, ctx.metric, "symbol", "all",
                   SEMI_MONTHLY, day, float(capped), n=capped, of=len(last), label="capped",
                   components={"cap": S.DAYS_TO_COVER_CAP})]


def symbol_facts(interest: pd.DataFrame, symbol: str) -> list[F.Fact]:
    """A symbol's short interest at the last settlement date: level (with the previous and
    the change), streak of rises or falls, "highest since"; its days to cover as a level, or
    labelled "capped" at FINRA's cap. Settlement dates the symbol misses break streaks."""
    dates = pd.DatetimeIndex(sorted(pd.to_datetime(interest["settlement_date"].unique())))
    rows = interest[interest["symbol"] == symbol].set_index(
        pd.to_datetime(interest.loc[interest["symbol"] == symbol, "settlement_date"]))
    if rows.empty or rows.index.max() != dates.max():
        return []
    rows = rows.reindex(dates)
    ctx = ShortContext(WHO, "short_interest", "symbol", symbol, SEMI_MONTHLY)
    series = rows["short_interest"].astype(float)
    facts = [F.level(series, ctx), F.streak(series, ctx, change=True), F.since(series, ctx)]
    capped = rows["days_to_cover_capped"].eq(True)
    cover = ShortContext(WHO, "days_to_cover", "symbol", symbol, SEMI_MONTHLY)
    if capped.iloc[-1]:
        day = dates[-1].date()
        facts.append(F.Fact(F.fact_id("level", cover, day, "capped"), "level", WHO, cover.metric,
                            "symbol", symbol, SEMI_MONTHLY, day, S.DAYS_TO_COVER_CAP, label="capped"))
    else:
        facts.append(F.level(rows["days_to_cover"].astype(float).where(~capped), cover))
    return [_as_level(fact) for fact in facts if fact is not None]


def _as_level(fact: F.Fact) -> F.Fact:
    """facts.since and ytd_extreme read a series as a flow ("bought"/"sold"); these series are
    levels, so the direction says "high" (the highest since, this year) or "low"."""
    names = {"bought": "high", "sold": "low"}
    return replace(fact, direction=names[fact.direction]) if fact.direction in names else fact


def _numbers(row: dict, names: tuple[str, ...]) -> dict[str, float]:
    return {name: float(row[name]) for name in names
            if row.get(name) is not None and np.isfinite(float(row[name]))}
