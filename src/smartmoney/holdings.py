"""The 13F facts: what the filers bought and sold last quarter, who holds what, how concentrated
their books are and which stocks they hold most often among their largest.

Which metric tables (`smartmoney.metrics.holdings`) the facts draw on and which facts each gives;
nothing here computes a metric. Every fact says who = "13f_filers" and period "Q"; period_end is
the quarter's last trading day.

- net_flow by book: level (components: long_buy, long_sell, filers in both quarters, filers of
  the quarter), streak, since / record, ranks (`facts.series_facts`);
- net_flow by sector: breadth, the top-3 leaders each side and each sector's series facts;
- holders_change by ticker: the 3 largest rises and falls in the number of holders (kind "flow",
  direction "bought" for a rise, "sold" for a fall; components: holders, new and closed positions);
- top10_share (median over the filers): level and change;
- vip: the 5 stocks most often among the filers' 10 largest holdings (kind "level", `n` the
  rank, value the number of filers, `of` the filers with a valued book, label "new" when it was
  not on the list a quarter before).

A quarter whose filing window is still open on `as_of` holds only the filers that have filed:
`components["filed"]` of the book's level fact says how many.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from smartmoney import facts as F

WHO = "13f_filers"
PERIOD = "Q"
VIP_SHOWN = 5
LEADERS = 3


def filer_facts(book, as_of=None) -> list[F.Fact]:
    """Every 13F fact about the latest quarter known on `as_of` (see the module docstring)."""
    flows = book.filer_flows(by="book", as_of=as_of).to_pandas()
    flows = flows[flows["net_flow"].notna()]
    if flows.empty:
        return []
    found = _book_facts(flows)
    last = pd.Timestamp(flows["period_end"].max())
    sectors = book.filer_flows(by="sector", as_of=as_of).to_pandas()
    found += F.series_facts(sectors, who=WHO, metric="net_flow", group_by="sector", period=PERIOD)
    tickers = book.filer_flows(by="ticker", as_of=as_of).to_pandas()
    found += _holder_facts(tickers[pd.to_datetime(tickers["period_end"]) == last])
    found += _concentration_facts(book.concentration(as_of=as_of).to_pandas(), last)
    found += _vip_facts(book.vip(as_of=as_of, top=VIP_SHOWN).to_pandas(), last)
    return sorted(found, key=lambda fact: fact.id)


def _book_facts(flows: pd.DataFrame) -> list[F.Fact]:
    facts = F.series_facts(flows, who=WHO, metric="net_flow", group_by="book", period=PERIOD)
    row = flows.sort_values("period_end").iloc[-1]
    numbers = {"long_buy": float(row["long_buy"]), "long_sell": float(row["long_sell"]),
               "filers": float(row["filers"]), "filed": float(row["holders"])}
    return [dataclasses.replace(f, components={**f.components, **numbers})
            if f.kind == "level" and f.rank is None else f for f in facts]


def _holder_facts(latest: pd.DataFrame) -> list[F.Fact]:
    known = latest[latest["holders_change"].notna()]
    facts = []
    for side, chosen in (("bought", known[known["holders_change"] > 0]), ("sold", known[known["holders_change"] < 0])):
        ordered = chosen.sort_values(["holders_change", "ticker"], ascending=[side == "sold", True]).head(LEADERS)
        for rank, row in enumerate(ordered.to_dict("records"), start=1):
            ctx = F.Context(WHO, "holders_change", "ticker", str(row["ticker"]), PERIOD)
            day = pd.Timestamp(row["period_end"]).date()
            facts.append(F.Fact(
                F.fact_id("flow", ctx, day, side, rank), "flow", WHO, ctx.metric, ctx.group_by, ctx.group, PERIOD,
                day, float(row["holders_change"]), n=rank, of=len(known), direction=side,
                components={"holders": float(row["holders"]), "new_positions": float(row["new_positions"]),
                            "closed_positions": float(row["closed_positions"])}))
    return facts


def _concentration_facts(concentration: pd.DataFrame, last: pd.Timestamp) -> list[F.Fact]:
    frame = concentration.assign(period_end=pd.to_datetime(concentration["period_end"]))
    medians = frame[frame["period_end"] <= last].groupby("period_end")["top10_share"].median()
    if medians.empty:
        return []
    ctx = F.Context(WHO, "top10_share", "book", "all", PERIOD)
    filers = frame[frame["period_end"] == last]
    found = [F.level(medians, ctx), F.change(medians, ctx)]
    return [dataclasses.replace(f, components={**f.components, "filers": float(filers["top10_share"].count())})
            for f in found if f is not None]


def _vip_facts(vip: pd.DataFrame, last: pd.Timestamp) -> list[F.Fact]:
    latest = vip[pd.to_datetime(vip["period_end"]) == last].sort_values(["rank", "ticker"]).head(VIP_SHOWN)
    facts = []
    for row in latest.to_dict("records"):
        ctx = F.Context(WHO, "vip", "ticker", str(row["ticker"]), PERIOD)
        day = last.date()
        before = row["funds_before"]
        facts.append(F.Fact(
            F.fact_id("level", ctx, day), "level", WHO, "vip", "ticker", ctx.group, PERIOD, day,
            float(row["funds"]), n=int(row["rank"]), of=int(row["of"]), label="new" if row["new"] is True else "",
            components={} if pd.isna(before) else {"funds_before": float(before)}))
    return facts


def quarter_name(day) -> str:
    """'Q2 2023' for a day in the second quarter of 2023."""
    day = pd.Timestamp(day)
    return f"Q{(day.month - 1) // 3 + 1} {day.year}"
