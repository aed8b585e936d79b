"""The CFTC positioning facts: who is net long or short the US equity index futures, and how much.

Which metric columns the facts draw on and which facts each gives; nothing here computes a
metric (`smartmoney.metrics.cot` does). Per TFF trader category (leveraged funds, asset
managers, dealers: `CATEGORY_WHO` gives each its `facts.WHO` name) and per contract still
reported in the latest week:

- net (contracts): level, streak of the same side ("net short for the 5th week"), since /
  record ("the most net short since March 2021"), the year's largest net long or short, the
  week's change and the streak of changes ("net short grew for the 3rd week");
- net_pct_oi (% of open interest) and the 26, 52 and 156-week COT indexes: levels.

Facts about the side of a position say direction "long" or "short" (not "bought"/"sold"). The
series facts look only at the unbroken run of weekly reports ending at the latest week (a week
not loaded ends the history they compare with), and a streak or record that reaches back to the
start of that run says so: `of` = the weeks in the run, so a streak with n == of lasted at least
n weeks. Ids follow `facts.fact_id`, with group_by "contract" and the CFTC contract code as
group (stable across renames); `label` holds the contract's name for sentences.

`cot_sentences` renders the facts as plain sentences, each with the ids of the facts it states
(leveraged funds first, then asset managers and dealers); `cot_highlights` picks the few of them
per category that the weekly note shows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from smartmoney import facts as F
from smartmoney.metrics.cot import COT_INDEX_WINDOWS, WEEK_ZERO, cot_positioning
from smartmoney.narrative import ordinal, percent

#: The US equity index futures whose positioning the facts describe, by CFTC contract code.
US_EQUITY_INDEX_FUTURES = {"13874A": "E-mini S&P 500", "209742": "E-mini Nasdaq-100",
                           "239742": "E-mini Russell 2000", "124603": "E-mini Dow ($5)"}
#: The facts.WHO name of each TFF trader category; a category whose name WHO lacks gets no facts.
CATEGORY_WHO = {"leveraged_funds": "leveraged_funds", "asset_manager": "asset_managers",
                "dealer": "dealers"}
#: How sentences name each category, in the order they are told (leveraged funds first).
WHO_NAMES = {"leveraged_funds": "Leveraged funds", "asset_managers": "Asset managers",
             "dealers": "Dealers"}
GROUP_BY = "contract"
_POSITION_KINDS = ("level", "streak", "since", "record", "ytd_extreme")


def fact_categories() -> dict[str, str]:
    """The categories that get facts, with their WHO name (those `facts.WHO` knows)."""
    return {category: who for category, who in CATEGORY_WHO.items() if who in F.WHO}


def cot_facts(backend, as_of: dt.date | str | None = None, *,
              contracts: Mapping[str, str] | Iterable[str] | None = None,
              report: str = "tff_futures_only") -> list[F.Fact]:
    """Every positioning fact about the latest report week up to `as_of`, sorted by id.

    Parameters
    ----------
    backend
        An Ibis connection over a store (`smartmoney.engine.connect`).
    as_of
        Point in time: only reports released on or before it (available_from <= as_of).
    contracts
        Contract codes, or codes with the names sentences use; default
        `US_EQUITY_INDEX_FUTURES`. Other contracts are named after their market as reported.
    report
        Which report the positions come from (TFF futures only by default).
    """
    contracts = US_EQUITY_INDEX_FUTURES if contracts is None else contracts
    names = dict(contracts) if isinstance(contracts, Mapping) else {}
    whos = fact_categories()
    table = cot_positioning(backend, report=report, categories=list(whos), contracts=list(contracts),
                            as_of=as_of).to_pandas()
    if table.empty:
        return []
    table["report_date"] = pd.to_datetime(table["report_date"])
    latest = table["report_date"].max()
    found: list[F.Fact | None] = []
    for (code, category), rows in table.groupby(["contract_code", "category"], sort=True):
        if rows["report_date"].max() != latest:
            continue                    # no longer reported: its last week is not this week's news
        run = _unbroken_run(rows)
        label = names.get(code) or _short_market(run["market"].iloc[-1])
        who = whos[category]
        series = run.set_index("report_date")
        found += [_labelled(fact, label, len(run)) for fact in _net_facts(series["net"], who, code)]
        for metric in ("net_pct_oi", *(f"cot_index_{weeks}w" for weeks in COT_INDEX_WINDOWS)):
            fact = F.level(series[metric], F.Context(who, metric, GROUP_BY, code, "W"))
            found.append(_labelled(fact, label, len(run)))
    return sorted((fact for fact in found if fact is not None), key=lambda fact: fact.id)


def _unbroken_run(rows: pd.DataFrame) -> pd.DataFrame:
    """The reports of the last run of consecutive calendar weeks, oldest first."""
    rows = rows.sort_values("report_date")
    weeks = (rows["report_date"] - pd.Timestamp(WEEK_ZERO)).dt.days.to_numpy() // 7
    breaks = np.flatnonzero(np.diff(weeks) != 1)
    start = int(breaks[-1]) + 1 if breaks.size else 0
    return rows.iloc[start:]


def _short_market(market: str) -> str:
    """'E-MINI S&P 500 - CHICAGO MERCANTILE EXCHANGE' -> 'E-MINI S&P 500'."""
    return market.split(" - ")[0].strip()


def _net_facts(net: pd.Series, who: str, code: str) -> list[F.Fact | None]:
    ctx = F.Context(who, "net", GROUP_BY, code, "W")
    return [F.level(net, ctx), F.streak(net, ctx), F.since(net, ctx),
            F.ytd_extreme(net, ctx, largest="max"), F.ytd_extreme(net, ctx, largest="min"),
            F.change(net, ctx), F.streak(net, ctx, change=True)]


def _labelled(fact: F.Fact | None, label: str, weeks: int) -> F.Fact | None:
    """The contract's name in `label`; long/short for the side of a net position; `of` = the
    weeks of unbroken history behind a streak or record."""
    if fact is None:
        return None
    changes = {"label": label}
    if fact.metric == "net" and fact.kind in _POSITION_KINDS and ":change" not in fact.id:
        changes["direction"] = "short" if fact.value < 0 else "long" if fact.value > 0 else ""
    if fact.kind in ("streak", "record"):
        changes["of"] = weeks
    return dataclasses.replace(fact, **changes)


# ------------------------------------------------------------------------------ sentences


@dataclasses.dataclass(frozen=True)
class _Line:
    """One sentence about a category and contract: its part (position, change or index), the
    facts it states and how unusual they are (0: nothing news-worthy beyond the numbers)."""

    who: str
    contract: str
    part: str
    text: str
    facts: tuple[F.Fact, ...]
    salience: float = 0.0


def contracts(value: float) -> str:
    """A number of contracts as a person writes it: 9,482; 340,507; 1.05m (for 1,051,430)."""
    amount = abs(value)
    return f"{amount / 1e6:.2f}m" if round(amount) >= 1_000_000 else f"{amount:,.0f}"


def _contracts(value: float) -> str:
    return f"{contracts(value)} contract{'s' if abs(value) != 1 else ''}"


def _day(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _since(fact: F.Fact) -> str:
    if fact.kind == "record":
        return f"in the {fact.of} weeks on file"
    if fact.months is not None and 1 <= fact.months < 12:
        return "in a month" if fact.months == 1 else f"in {fact.months} months"
    return f"since {fact.since_date:%B %Y}"


def _contract_order(code: str) -> tuple[int, str]:
    """The contracts of `US_EQUITY_INDEX_FUTURES` in its order (the S&P 500 first), then others."""
    known = list(US_EQUITY_INDEX_FUTURES)
    return (known.index(code) if code in known else len(known), code)


def _lines(facts: Iterable[F.Fact]) -> list[_Line]:
    """Every sentence the facts support: leveraged funds, asset managers, dealers; per category
    the contracts in `_contract_order`; per contract its position, week's change and COT index."""
    by_series: dict[tuple[str, str], dict[str, F.Fact]] = {}
    for fact in facts:
        key = fact.kind + (":change" if ":change" in fact.id else "")
        if fact.kind == "ytd_extreme":
            key += ":" + fact.id.rsplit(":", 1)[1]
        by_series.setdefault((fact.who, fact.group), {})[f"{fact.metric}:{key}"] = fact
    order = list(WHO_NAMES)
    lines = []
    for who, code in sorted(by_series, key=lambda key: (order.index(key[0]), _contract_order(key[1]))):
        found = by_series[(who, code)]
        lines += [line for line in (_position(who, code, found), _week_change(who, code, found),
                                    _index(who, code, found)) if line is not None]
    return lines


def cot_sentences(facts: Iterable[F.Fact]) -> list[tuple[str, list[str]]]:
    """The facts of `cot_facts` as sentences, each with the ids of the facts it states.

    Leveraged funds first, then asset managers and dealers; per category and contract (the
    E-mini S&P 500 first): where the net position stands (with its streak and how rare it is),
    how it changed over the week, and where it sits in its COT index ranges. Numbers of
    contracts are written as a person writes them (340,507; 1.05m).

    >>> cot_sentences(cot_facts(connect(store), as_of="2022-01-10"))[0][0]   # doctest: +SKIP
    'Leveraged funds were net short 97,267 E-mini S&P 500 contracts on December 28, 2021 ...'
    """
    return [(line.text, [fact.id for fact in line.facts]) for line in _lines(facts)]


def cot_highlights(facts: Iterable[F.Fact], *, per_category: int = 3) -> list[tuple[str, list[str]]]:
    """The sentences of `cot_sentences` worth a weekly note: at most `per_category` a category.

    Per category: the position and the week's change in its first contract (the E-mini S&P
    500 when reported), then the most unusual of its other sentences, if any is: a record net
    position (3), a flip from long to short or back (3), the most net long or short in a year or
    more (2.5) or in 3 months or more (2), the year's extreme (1.5), a COT index at the top or
    bottom of its range (2) or within 10 of it (1.5), a net position rising or falling for 4
    weeks or more (1). Ties go to the order of `cot_sentences`, which the result keeps.
    """
    lines = _lines(facts)
    chosen: list[_Line] = []
    for who in WHO_NAMES:
        own = [line for line in lines if line.who == who]
        if not own:
            continue
        first = own[0].contract
        kept = [line for line in own if line.contract == first and line.part in ("position", "change")]
        others = sorted((line for line in own if line not in kept and line.salience > 0),
                        key=lambda line: -line.salience)
        kept += others[:max(per_category - len(kept), 0)]
        chosen += [line for line in own if line in kept]
    return [(line.text, [fact.id for fact in line.facts]) for line in chosen]


def _rarity(fact: F.Fact) -> float:
    """How unusual a "since" / "record" / year's extreme of a net position is (see cot_highlights)."""
    if fact.kind == "record":
        return 3.0
    if fact.kind == "ytd_extreme":
        return 1.5
    months = fact.months if fact.months is not None else 12
    return 2.5 if months >= 12 else 2.0 if months >= 3 else 0.0


def _position(who: str, code: str, found: dict[str, F.Fact]) -> _Line | None:
    level = found.get("net:level")
    if level is None:
        return None
    stated = [level]
    side = level.direction or "flat"
    text = (f"{WHO_NAMES[who]} were net {side} {contracts(level.value)} {level.label} contracts on "
            f"{_day(level.period_end)}" if level.value else
            f"{WHO_NAMES[who]} were flat in {level.label} on {_day(level.period_end)}")
    share = found.get("net_pct_oi:level")
    if share is not None and level.value:
        text += f" ({percent(abs(share.value))} of open interest)"
        stated.append(share)
    streak = found.get("net:streak")
    if streak is not None:
        at_least = "at least " if streak.n == streak.of else ""
        text += f", {at_least}the {ordinal(streak.n)} week in a row"
        stated.append(streak)
    rare = found.get("net:since") or found.get("net:record")
    ytd = found.get(f"net:ytd_extreme:{'min' if level.value < 0 else 'max'}")
    salience = 0.0
    if rare is not None:
        text += f", the most net {side} {_since(rare)}"
        stated.append(rare)
        salience = _rarity(rare)
    elif ytd is not None:
        text += f", the most net {side} this year"
        stated.append(ytd)
        salience = _rarity(ytd)
    return _Line(who, code, "position", text + ".", tuple(stated), salience)


def _week_change(who: str, code: str, found: dict[str, F.Fact]) -> _Line | None:
    change = found.get("net:change")
    if change is None or change.value == 0:
        return None
    before, now = change.components["previous"], change.components["current"]
    flipped = bool(np.sign(before) != np.sign(now) and before and now)
    if flipped:
        text = (f"{WHO_NAMES[who]} turned net {'short' if now < 0 else 'long'} {change.label}, from "
                f"net {'long' if before > 0 else 'short'} {_contracts(before)} the week before")
    else:
        side = "short" if (now or before) < 0 else "long"
        verb = "added" if abs(now) > abs(before) else "cut"
        text = (f"{WHO_NAMES[who]} {verb} {_contracts(change.value)} "
                f"{'to' if verb == 'added' else 'from'} their net {side} {change.label} position")
    stated = [change]
    run = found.get("net:streak:change")
    if run is not None:
        text += (f"; their net position has {'risen' if run.value > 0 else 'fallen'} "
                 f"{'at least ' if run.n == run.of else ''}{run.n} weeks in a row")
        stated.append(run)
    salience = 3.0 if flipped else 1.0 if run is not None and run.n >= 4 else 0.0
    return _Line(who, code, "change", text + ".", tuple(stated), salience)


def _index(who: str, code: str, found: dict[str, F.Fact]) -> _Line | None:
    indexes = {weeks: found.get(f"cot_index_{weeks}w:level") for weeks in COT_INDEX_WINDOWS}
    main = indexes[52] or indexes[26] or indexes[156]
    if main is None:
        return None
    weeks = next(w for w, fact in indexes.items() if fact is main)
    where = ("at the bottom of" if main.value <= 0 else "at the top of" if main.value >= 100 else
             "near the bottom of" if main.value <= 10 else "near the top of" if main.value >= 90 else
             "within")
    text = (f"{WHO_NAMES[who]}' {main.label} COT index is {main.value:.0f} ({weeks}-week): their net "
            f"position is {where} its {weeks}-week range")
    others = [f"{w}-week {fact.value:.0f}" for w, fact in indexes.items() if fact is not None and fact is not main]
    if others:
        text += f" ({', '.join(others)})"
    salience = 2.0 if where.startswith("at") else 1.5 if where.startswith("near") else 0.0
    return _Line(who, code, "index", text + ".", tuple(f for f in indexes.values() if f is not None),
                 salience)
