"""Facts about short sellers, from FINRA short sale volume and short interest.

Which metric tables (smartmoney.metrics.short) the facts draw on and which generic facts
(smartmoney.facts) each gives; nothing here computes a metric.

- the market's weekly short volume ratio (NMS symbols): level, change, streak of changes,
  "highest since" (or record: n = the weeks compared), year-to-date high, 1y/5y percentile
  ranks (period "W"), over the unbroken run of calendar weeks ending at the latest one (a week
  not in the data ends the history they compare with);
- short interest at the last settlement date published by `as_of` (period "SM", semi-monthly
  settlement dates): the most shorted symbols by days to cover (FINRA's 999.99 cap left out),
  the largest rises and falls in shares short, how many symbols sit at the cap, and for each of
  those symbols (the capped ones with the most shares short too, and any asked for) its level,
  streak of rises or falls, "highest since", and days to cover (labelled "capped" at the cap).

The facts say who = "short_sellers" and group symbols by FINRA's symbol (BRKB, BRK/B; the
metric tables map it to a ticker). Short interest facts have period "SM" (FINRA's
settlement dates, twice a month).

`short_sentences` renders the facts as plain sentences, each with the ids of the facts it states.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd

from smartmoney import facts as F
from smartmoney.metrics import short as S
from smartmoney.metrics.cot import WEEK_ZERO
from smartmoney.narrative import join, month_year, ordinal, rank_phrase

WHO = "short_sellers"
LEADERS = 5
SEMI_MONTHLY = "SM"


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
    for symbol in dict.fromkeys([*leaders, *capped_symbols(interest, top), *(symbols or [])]):
        found += symbol_facts(interest, symbol)
    unique = {fact.id: fact for fact in found}
    return [unique[key] for key in sorted(unique)]


def market_volume_facts(market: pd.DataFrame) -> list[F.Fact]:
    """Facts about the market's weekly short volume ratio (a level, in percent)."""
    if market.empty:
        return []
    series = _unbroken_run(market.set_index(pd.to_datetime(market["period_end"]))["short_volume_ratio"])
    ctx = F.Context(WHO, "short_volume_ratio", "market", "all", "W")
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
        ctx = F.Context(WHO, by, "symbol", str(row["symbol"]), SEMI_MONTHLY)
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
    ctx = F.Context(WHO, "days_to_cover_capped", "symbol", "all", SEMI_MONTHLY)
    day = pd.Timestamp(last["settlement_date"].iloc[0]).date()
    return [F.Fact(F.fact_id("level", ctx, day), "level", WHO, ctx.metric, "symbol", "all",
                   SEMI_MONTHLY, day, float(capped), n=capped, of=len(last), label="capped",
                   components={"cap": S.DAYS_TO_COVER_CAP})]


def capped_symbols(interest: pd.DataFrame, top: int) -> list[str]:
    """The `top` symbols with the most shares short among those at the 999.99 cap on the last
    settlement date (ties by symbol)."""
    if interest.empty:
        return []
    last = interest[interest["settlement_date"] == interest["settlement_date"].max()]
    capped = last[last["days_to_cover_capped"].eq(True)]
    return capped.sort_values(["short_interest", "symbol"], ascending=[False, True])["symbol"].head(top).tolist()


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
    ctx = F.Context(WHO, "short_interest", "symbol", symbol, SEMI_MONTHLY)
    series = rows["short_interest"].astype(float)
    facts = [F.level(series, ctx), F.streak(series, ctx, change=True), F.since(series, ctx)]
    capped = rows["days_to_cover_capped"].eq(True)
    cover = F.Context(WHO, "days_to_cover", "symbol", symbol, SEMI_MONTHLY)
    if capped.iloc[-1]:
        day = dates[-1].date()
        facts.append(F.Fact(F.fact_id("level", cover, day, "capped"), "level", WHO, cover.metric,
                            "symbol", symbol, SEMI_MONTHLY, day, S.DAYS_TO_COVER_CAP, label="capped"))
    else:
        facts.append(F.level(rows["days_to_cover"].astype(float).where(~capped), cover))
    return [_as_level(fact) for fact in facts if fact is not None]


def _unbroken_run(series: pd.Series) -> pd.Series:
    """The weeks of the last run of consecutive calendar weeks, oldest first: a week not in the
    data ends the history that changes, streaks and "since" compare with."""
    series = series.sort_index()
    weeks = (series.index - pd.Timestamp(WEEK_ZERO)).days.to_numpy() // 7
    breaks = np.flatnonzero(np.diff(weeks) != 1)
    return series.iloc[int(breaks[-1]) + 1:] if breaks.size else series


def _as_level(fact: F.Fact) -> F.Fact:
    """facts.since and ytd_extreme read a series as a flow ("bought"/"sold"); these series are
    levels, so the direction says "high" (the highest since, this year) or "low"."""
    names = {"bought": "high", "sold": "low"}
    return replace(fact, direction=names[fact.direction]) if fact.direction in names else fact


def _numbers(row: dict, names: tuple[str, ...]) -> dict[str, float]:
    return {name: float(row[name]) for name in names
            if row.get(name) is not None and np.isfinite(float(row[name]))}


# ------------------------------------------------------------------------------ sentences

#: Symbols a sentence lists at most.
LISTED = 3


def shares(value: float) -> str:
    """A number of shares as a person writes it: 700; 450,000; 1.3m; 139.7m; 2.1bn."""
    amount = abs(value)
    for scale, suffix in ((1e9, "bn"), (1e6, "m")):
        if round(amount / scale, 1) >= 1:
            return f"{amount / scale:.1f}{suffix}"
    return f"{amount:,.0f}"


def days(value: float) -> str:
    """Days to cover as FINRA states them, trailing zeros dropped: 3.53 days, 3 days, 1 day."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text} day{'' if text == '1' else 's'}"


def _day(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def short_sentences(facts: Iterable[F.Fact]) -> list[tuple[str, list[str]]]:
    """The facts of `short_facts` as sentences, each with the ids of the facts it states.

    The market's short volume ratio this week (its change, streak and how rare it is), the most
    shorted symbols by days to cover at the last settlement date (a symbol at FINRA's 999.99
    cap is said to be at the cap, never given as a number), the largest rises in shares short.
    Symbols are FINRA's (BRKB for BRK.B).

    >>> short_sentences(short_facts(connect(store)))[0][0]                    # doctest: +SKIP
    'Short sales were 47.2% of the NMS share volume FINRA reported in the week ending January 9, ...'
    """
    facts = [fact for fact in facts if fact.who == WHO]
    sentences = [_market(facts), _most_shorted(facts), _rises(facts)]
    return [(text, [fact.id for fact in stated]) for text, stated in sentences if text]


def _market(facts: list[F.Fact]) -> tuple[str, list[F.Fact]]:
    market = {(fact.kind, fact.of): fact for fact in facts
              if fact.metric == "short_volume_ratio" and fact.group_by == "market"}
    level = market.get(("level", None))
    if level is None:
        return "", []
    stated = [level]
    text = (f"Short sales were {level.value:.1f}% of the NMS share volume FINRA reported in the week "
            f"ending {_day(level.period_end)}")
    change = market.get(("change", None))
    if change is not None and change.value:
        text += f", {'up' if change.value > 0 else 'down'} {abs(change.value):.1f} points from the week before"
        stated.append(change)
        run = market.get(("streak", None))
        if run is not None:
            text += f", the {ordinal(run.n)} weekly {'rise' if run.value > 0 else 'fall'} in a row"
            stated.append(run)
    rare = market.get(("since", None)) or market.get(("record", None))
    ytd = market.get(("ytd_extreme", None))
    if rare is not None and rare.kind == "since":
        text += f", the highest since {month_year(rare.since_date)}"
        stated.append(rare)
    elif rare is not None:
        text += f", the highest in the {rare.n} weeks on file"
        stated.append(rare)
    elif ytd is not None:
        text += ", the highest this year"
        stated.append(ytd)
    rank = market.get(("level", F.RANK_WINDOWS["W"][0]))
    if rank is not None and rank.rank is not None:
        text += f" ({rank_phrase(rank.rank)})"
        stated.append(rank)
    return text + ".", stated


def _ranked(facts: list[F.Fact], metric: str, label: str) -> list[F.Fact]:
    return sorted((fact for fact in facts if fact.metric == metric and fact.label == label
                   and fact.group_by == "symbol"), key=lambda fact: fact.n)


def _most_shorted(facts: list[F.Fact]) -> tuple[str, list[F.Fact]]:
    leaders = _ranked(facts, "days_to_cover", "most_shorted")[:LISTED]
    count = next((fact for fact in facts if fact.metric == "days_to_cover_capped"), None)
    levels = {fact.group: fact.value for fact in facts
              if fact.metric == "short_interest" and fact.kind == "level"}
    capped = sorted((fact for fact in facts if fact.metric == "days_to_cover" and fact.label == "capped"),
                    key=lambda fact: (-levels.get(fact.group, 0), fact.group))[:LISTED]
    stated: list[F.Fact] = []
    parts = []
    if leaders:
        listed = join([f"{fact.group} ({days(fact.value)})" for fact in leaders])
        parts.append(f"By days to cover, the most shorted at the {_day(leaders[0].period_end)} settlement "
                     f"{'was' if len(leaders) == 1 else 'were'} {listed}")
        stated += leaders
    if count is not None and count.n:
        at_cap = "at FINRA's 999.99 cap"
        if capped and len(capped) == count.n:
            clause = f"{join([fact.group for fact in capped])} {'was' if count.n == 1 else 'were'} {at_cap}"
        else:
            clause = f"{count.n} symbol{'' if count.n == 1 else 's'} {'was' if count.n == 1 else 'were'} {at_cap}"
            if capped:
                clause += f", among them {join([fact.group for fact in capped])}"
        if not parts:
            clause = clause[0].upper() + clause[1:] + f" at the {_day(count.period_end)} settlement"
        parts.append(clause)
        stated += [count, *capped]
    return ("; ".join(parts) + "." if parts else ""), stated


def _rises(facts: list[F.Fact]) -> tuple[str, list[F.Fact]]:
    rises = _ranked(facts, "short_interest_change", "largest_rise")[:LISTED]
    if not rises:
        return "", []
    since = {fact.group: fact for fact in facts if fact.metric == "short_interest" and fact.kind == "since"
             and (fact.months or 0) >= 3}
    stated: list[F.Fact] = []
    described = []
    for fact in rises:
        c = fact.components
        detail = f"up {shares(fact.value)}"
        if "short_interest" in c:
            detail += f" to {shares(c['short_interest'])}"
        if "short_interest_change_pct" in c:
            detail += f", +{c['short_interest_change_pct']:.1f}%"
        stated.append(fact)
        if fact.group in since:
            detail += f", the most since {month_year(since[fact.group].since_date)}"
            stated.append(since[fact.group])
        described.append(f"{fact.group} ({detail})")
    return (f"Shares short rose the most at the {_day(rises[0].period_end)} settlement in "
            f"{join(described)}."), stated
