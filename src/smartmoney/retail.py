"""The retail and hedge-funds-vs-retail facts of the weekly note, from a book's metric tables.

Which tables the note draws on and which facts it asks of each; nothing here computes a metric.

- retail net flow of the whole market, of each basket and sector (streaks, "since", sd, ranks,
  breadth, leaders), and the stocks retail bought and sold most, overall and in each basket;
- divergence per sector and basket over 1, 4 and 13 weeks (signs opposed, both beyond 1 sd);
- the market-level swap share, the fragility watch list, and the event study's answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from smartmoney import facts as F

WHO = "retail"
LEADERS = 3


def retail_facts(book, as_of: dt.date | str | None = None) -> list[F.Fact]:
    """Every retail and divergence fact about the last week up to `as_of`, sorted by id.

    Empty when the store has no retail flows.
    """
    if not book.store.info()["tables"]["retail_flows"]["rows"]:
        return []
    found: list[F.Fact] = []

    def table(by: str) -> pd.DataFrame:
        return book.retail(by=by, freq="W", as_of=as_of, ranks=False).to_pandas()

    for by in ("book", "basket", "sector"):
        found += F.series_facts(table(by), who=WHO, metric="retail_net", group_by=by, period="W")
    tickers = table("ticker")
    latest = _last_week(tickers)
    found += F.leaders(latest, F.Context(WHO, "retail_net", "ticker", "all", "W"), "retail_net", LEADERS)
    found += basket_leaders(latest, book)
    if book.store.info()["tables"]["positions"]["rows"]:
        for by in ("sector", "basket"):
            found += divergence_facts(book.divergence(by=by, as_of=as_of).to_pandas(), by)
        found += swap_share_facts(book.swap_share(as_of=as_of).to_pandas())
        found += watch_list_facts(book.watch_list(as_of=as_of).to_pandas())
        found += event_study_facts(book.event_study(as_of=as_of).to_pandas(), _last_day(latest))
    unique = {fact.id: fact for fact in found}
    return [unique[key] for key in sorted(unique)]


def _last_week(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(period_end=pd.to_datetime(frame["period_end"]))
    return frame[frame["period_end"] == frame["period_end"].max()]


def _last_day(frame: pd.DataFrame) -> dt.date:
    return pd.Timestamp(frame["period_end"].max()).date()


def basket_leaders(latest_tickers: pd.DataFrame, book) -> list[F.Fact]:
    """The stocks retail bought and sold most within each basket (ids name the basket)."""
    from smartmoney.taxonomy import basket_members, baskets

    securities = book.securities()
    facts = []
    for name in sorted(baskets()):
        members = set(securities.loc[securities["security_id"].isin(basket_members(name, securities)), "ticker"])
        rows = latest_tickers[latest_tickers["ticker"].isin(members)]
        for fact in F.leaders(rows, F.Context(WHO, "retail_net", "ticker", name, "W"), "retail_net", LEADERS):
            facts.append(dataclasses.replace(fact, id=f"{fact.id}:basket={name}", label=name))
    return facts


def divergence_facts(frame: pd.DataFrame, by: str) -> list[F.Fact]:
    """One `divergence` fact per group and window where the signs oppose beyond 1 sd this week.

    value = swap_usd (hedge-fund selling retail absorbed) or mirror_usd; n = window in weeks.
    """
    latest = _last_week(frame)
    facts = []
    for row in latest[latest["divergence"].astype(bool)].to_dict("records"):
        ctx = F.Context(WHO, "hf_vs_retail", by, str(row[by]), "W")
        sold = row["direction"] == "hf_sold_retail_bought"
        value = row["swap_usd"] if sold else row["mirror_usd"]
        facts.append(F.Fact(
            F.fact_id("divergence", ctx, row["period_end"].date(), f"{row['window']}w"), "divergence",
            ctx.who, ctx.metric, by, ctx.group, "W", row["period_end"].date(), float(value),
            n=int(row["window"]), direction=row["direction"],
            components={name: float(row[name]) for name in
                        ("hf_net", "retail_net", "hf_net_sd", "retail_net_sd", "swap_usd", "mirror_usd")}))
    return facts


def swap_share_facts(frame: pd.DataFrame) -> list[F.Fact]:
    """The swap share of the last week for each window: a level fact, n = window in weeks."""
    latest = _last_week(frame)
    facts = []
    for row in latest.dropna(subset=["swap_share"]).to_dict("records"):
        ctx = F.Context(WHO, "swap_share", "book", "all", "W")
        day = row["period_end"].date()
        facts.append(F.Fact(F.fact_id("level", ctx, day, f"{row['window']}w"), "level", WHO, "swap_share",
                            "book", "all", "W", day, float(row["swap_share"]), n=int(row["window"]),
                            components={"swap_usd": float(row["swap_usd"]),
                                        "hf_gross_selling": float(row["hf_gross_selling"])}))
    return facts


def watch_list_facts(frame: pd.DataFrame) -> list[F.Fact]:
    """The fragility watch list, one `divergence` fact per stock: value swap_usd, n its rank."""
    facts = []
    for rank, row in enumerate(frame.to_dict("records"), start=1):
        ctx = F.Context(WHO, "watch_list", "ticker", str(row["ticker"]), "W")
        day = pd.Timestamp(row["period_end"]).date()
        components = {name: float(row[name]) for name in
                      ("hf_net", "retail_net", "retail_concentration", "hf_crowding") if pd.notna(row[name])}
        facts.append(F.Fact(F.fact_id("divergence", ctx, day, f"{row['window']}w"), "divergence", WHO,
                            "watch_list", "ticker", ctx.group, "W", day, float(row["swap_usd"]), n=rank,
                            of=int(row["window"]), direction="hf_sold_retail_bought",
                            components=components, label=str(row["sector"])))
    return facts


def event_study_facts(frame: pd.DataFrame, day: dt.date) -> list[F.Fact]:
    """Mean forward return of the top and bottom divergence deciles, per horizon."""
    facts = []
    for row in frame[frame["decile"].isin([1, frame["decile"].max()])].to_dict("records"):
        ctx = F.Context(WHO, f"forward_return_{row['horizon']}w", "divergence_decile", str(row["decile"]), "W")
        facts.append(F.Fact(F.fact_id("level", ctx, day), "level", WHO, ctx.metric, ctx.group_by, ctx.group,
                            "W", day, float(row["mean_return"]), n=int(row["observations"]),
                            components={name: float(row[name]) for name in ("t_stat", "hit_rate", "mean_volatility")
                                        if pd.notna(row[name])}))
    return facts
