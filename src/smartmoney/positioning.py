"""The hedge-fund positioning facts of a weekly prime-brokerage note, from a book's metrics.

Which metric tables the note draws on and which generic facts (smartmoney.facts) it asks of
each. Nothing here computes a metric; it reads the published (disclosure-controlled) tables.

- the book's weekly net flow, its components, leverage levels and changes;
- sector flows: streaks, "since", breadth (k of 11), leaders, and turns ("net sold in 6 of the
  7 weeks before, then bought");
- industries within each sector: breadth and leaders (k of a sector's industries);
- monthly TMT flows ("record monthly TMT net selling");
- single stocks vs macro products.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from smartmoney import facts as F

WHO = "hedge_funds"
TURN_WINDOW = 7


def positioning_facts(book, as_of: dt.date | str | None = None) -> list[F.Fact]:
    """Every positioning fact about the last week up to `as_of`, sorted by id."""
    found: list[F.Fact] = []

    def table(kind: str, by: str, freq: str) -> pd.DataFrame:
        if kind == "flows":
            return book.flows(by=by, freq=freq, as_of=as_of, pct_gross=False, ranks=False).to_pandas()
        return book.exposure(by=by, freq=freq, as_of=as_of).to_pandas()

    book_flows = table("flows", "book", "W")
    found += F.series_facts(book_flows, who=WHO, metric="net_flow", group_by="book", period="W")
    found += component_levels(book_flows)
    book_exposure = table("exposure", "book", "W")
    for metric in ("gross_leverage", "net_leverage"):
        found += F.series_facts(book_exposure, who=WHO, metric=metric, group_by="book", period="W")
    sectors = table("flows", "sector", "W")
    found += F.series_facts(sectors, who=WHO, metric="net_flow", group_by="sector", period="W")
    found += turns(sectors, "sector")
    industries = table("flows", "industry", "W")
    found += within_parents(industries, book.securities(), child="industry", parent="sector")
    found += F.series_facts(table("flows", "tmt", "M"), who=WHO, metric="net_flow", group_by="tmt",
                            period="M")
    found += F.series_facts(table("flows", "asset_type", "W"), who=WHO, metric="net_flow",
                            group_by="asset_type", period="W")
    unique = {fact.id: fact for fact in found}
    return [unique[key] for key in sorted(unique)]


def turns(frame: pd.DataFrame, group_by: str, window: int = TURN_WINDOW) -> list[F.Fact]:
    """Groups whose last period reverses the majority of the `window` periods before it.

    The fact is a k_of_n over the periods before the last one ("net sold in 6 of the 7 weeks
    before"), dated at the period before the last; the last period's own facts say the rest.
    """
    facts = []
    frame = frame.assign(period_end=pd.to_datetime(frame["period_end"]))
    wide = frame.pivot(index="period_end", columns=group_by, values="net_flow").sort_index()
    if "suppressed" in frame:
        hidden = frame.pivot(index="period_end", columns=group_by, values="suppressed").sort_index()
        wide = wide.mask(hidden.fillna(False).astype(bool))
    for group in wide.columns:
        series = wide[group]
        if len(series) < window + 1 or not series.iloc[-1] or pd.isna(series.iloc[-1]):
            continue
        before = F.k_of_n(series.iloc[:-1], F.Context(WHO, "net_flow", group_by, str(group), "W"), window)
        if before is not None and (before.value < 0) != (series.iloc[-1] < 0) and before.n * 2 > window:
            facts.append(before)
    return facts


def within_parents(frame: pd.DataFrame, securities: pd.DataFrame, *, child: str, parent: str) -> list[F.Fact]:
    """Breadth and leaders of each parent's children in the last period (k of its industries)."""
    frame = frame.assign(period_end=pd.to_datetime(frame["period_end"]))
    latest = frame[frame["period_end"] == frame["period_end"].max()]
    parents = securities[[child, parent]].drop_duplicates(child)
    latest = latest.merge(parents, on=child, how="left")
    facts = []
    for name, members in latest.groupby(parent):
        ctx = F.Context(WHO, "net_flow", child, str(name), "W")
        facts += F.breadth(members, ctx) + F.leaders(members, ctx)
    return facts


def component_levels(book_flows: pd.DataFrame) -> list[F.Fact]:
    """The book's four flow components in its last week, each a level fact."""
    frame = book_flows.assign(period_end=pd.to_datetime(book_flows["period_end"])).set_index("period_end")
    if "suppressed" in frame:
        frame = frame.mask(frame["suppressed"].fillna(False).astype(bool))
    facts = []
    for component in ("long_buy", "long_sell", "short_sale", "short_cover"):
        fact = F.level(frame[component].astype(float), F.Context(WHO, component, "book", "all", "W"))
        if fact is not None:
            facts.append(fact)
    return facts
