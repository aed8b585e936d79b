"""Assemble the weekly report of a book: the narrative of its facts and the data of its charts.

Everything here is read from the book's published metric tables and facts (disclosure control
already applied); nothing is computed but selections and the sign convention of the bars.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from smartmoney import narrative
from smartmoney.report.model import Chart, Report

WEEKS_SHOWN = 26
HEATMAP_WEEKS = 12
# Bars above zero add to net buying, below zero to net selling.
SIGN = {"long_buy": 1.0, "short_cover": 1.0, "long_sell": -1.0, "short_sale": -1.0}


def build(book, as_of: str | dt.date | None = None) -> Report:
    """The report of `book` for the week ending on (or last before) `as_of`."""
    day = book.inputs(as_of).as_of or book.last_known
    facts = book.facts(as_of=day)
    headline, sections = narrative.write(facts, day)
    keys = {s.key for s in sections}
    turn = next((s.title.split(": ", 1)[1] for s in sections if s.key == "turn" and ": " in s.title), None)
    funds = bool(keys & {"leverage", "flows"})
    charts = [leverage_chart(book, day), components_chart(book, day), sector_heatmap(book, day)] if funds else []
    if turn:
        charts.append(turn_chart(book, day, turn))
    if keys & {"retail", "hf_vs_retail"}:
        charts += [retail_baskets_chart(book, day), watch_list_chart(book, day), event_study_chart(book, day)]
    if "filers" in keys:
        charts += [filer_sectors_chart(book, day), vip_chart(book, day)]
    subject = ("Hedge fund positioning", "week ending") if funds else ("Positioning in public data", "as of")
    return Report(str(book.store.path), day, headline, sections, tuple(c for c in charts if c is not None),
                  *subject)


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(period_end=pd.to_datetime(frame["period_end"]).dt.strftime("%Y-%m-%d"))


def leverage_chart(book, day: dt.date) -> Chart:
    frame = _dated(book.exposure(by="book", freq="W", as_of=day).to_pandas())
    rows = []
    for metric, name in (("gross_leverage", "Gross leverage"), ("net_leverage", "Net leverage")):
        part = frame[["period_end", metric, f"{metric}_low_1y", f"{metric}_high_1y"]]
        part.columns = ["period_end", "value", "low", "high"]
        rows.append(part.assign(series=name))
    return Chart("leverage", "Gross and net leverage, with their 1-year range", pd.concat(rows, ignore_index=True),
                 x="period_end", y="value", kind="line", series="series", x_label="Week ending",
                 y_label="Percent of equity", note=f"as of {day}")


def components_chart(book, day: dt.date) -> Chart:
    frame = _dated(book.flows(by="book", freq="W", as_of=day, pct_gross=False, ranks=False).to_pandas()).tail(WEEKS_SHOWN)
    rows = [pd.DataFrame({"period_end": frame.period_end, "series": name, "value": SIGN[name] * frame[name]})
            for name in SIGN]
    rows.append(pd.DataFrame({"period_end": frame.period_end, "series": "net_flow", "value": frame.net_flow}))
    return Chart("flows_by_component", "Weekly flows by component (USD)", pd.concat(rows, ignore_index=True),
                 x="period_end", y="value", kind="stacked_bar", series="series", x_label="Week ending",
                 y_label="USD (sales and short sales below zero)", note=f"as of {day}")


def sector_heatmap(book, day: dt.date) -> Chart:
    frame = _dated(book.flows(by="sector", freq="W", as_of=day, pct_gross=False, ranks=False).to_pandas())
    weeks = sorted(frame.period_end.unique())[-HEATMAP_WEEKS:]
    frame = frame[frame.period_end.isin(weeks)][["period_end", "sector", "net_flow_sd"]]
    return Chart("sector_heatmap", f"Sector net flows in sd units, last {HEATMAP_WEEKS} weeks", frame,
                 x="period_end", y="net_flow_sd", kind="heatmap", series="sector", x_label="Week ending",
                 y_label="Sector", note=f"as of {day}; blank = not published")


def turn_chart(book, day: dt.date, sector: str) -> Chart | None:
    frame = _dated(book.flows(by="industry", freq="W", as_of=day, pct_gross=False, ranks=False).to_pandas())
    industries = book.securities().query("sector == @sector")["industry"].unique()
    frame = frame[(frame.period_end == frame.period_end.max()) & frame.industry.isin(industries)]
    if frame.empty:
        return None
    return Chart("turning_sector", f"{sector}: net flows by industry this week (USD)",
                 frame[["industry", "net_flow"]], x="net_flow", y="industry", kind="bar",
                 x_label="Net flow, USD", y_label="Industry", note=f"week ending {day}")


BASKET_WINDOW = 4
SERIES_NAMES = {"hf_net": "Hedge funds", "retail_net": "Retail"}


def retail_baskets_chart(book, day: dt.date) -> Chart | None:
    frame = _dated(book.divergence(by="basket", as_of=day).to_pandas())
    frame = frame[(frame.period_end == frame.period_end.max()) & (frame.window == BASKET_WINDOW)]
    if frame.empty:
        return None
    rows = frame.melt(id_vars=["basket"], value_vars=list(SERIES_NAMES), var_name="series", value_name="usd")
    rows["series"] = rows["series"].map(SERIES_NAMES)
    return Chart("retail_vs_hf_baskets", f"Hedge funds vs retail: net flows by basket, last {BASKET_WINDOW} weeks (USD)",
                 rows, x="usd", y="basket", kind="bar", series="series", x_label="Net flow, USD",
                 y_label="Basket", note=f"{BASKET_WINDOW} weeks to {day}; hedge-fund cells not published are blank")


def watch_list_chart(book, day: dt.date) -> Chart | None:
    frame = book.watch_list(as_of=day).to_pandas()
    if frame.empty:
        return None
    rows = frame.melt(id_vars=["ticker"], value_vars=list(SERIES_NAMES), var_name="series", value_name="usd")
    rows["series"] = rows["series"].map(SERIES_NAMES)
    window = int(frame["window"].iloc[0])
    return Chart("watch_list", f"Fragility watch list: sold by hedge funds, bought by retail, last {window} weeks",
                 rows, x="usd", y="ticker", kind="bar", series="series", x_label="Net flow, USD",
                 y_label="Stock", note=f"{window} weeks to {day}; ranked by hedge-fund selling retail absorbed")


def event_study_chart(book, day: dt.date) -> Chart | None:
    frame = book.event_study(as_of=day).to_pandas()
    if frame.empty:
        return None
    rows = frame.assign(decile="D" + frame["decile"].astype(str),
                        series=frame["horizon"].astype(str) + "-week return")[["decile", "series", "mean_return"]]
    return Chart("event_study", "Mean forward return by divergence decile (D10: hedge funds sold most to retail)",
                 rows, x="mean_return", y="decile", kind="bar", series="series", x_label="Mean forward return, %",
                 y_label="Divergence decile", note=f"weeks up to {day}", sorted=False)


def filer_sectors_chart(book, day: dt.date) -> Chart | None:
    frame = _dated(book.filer_flows(by="sector", as_of=day).to_pandas()).dropna(subset=["net_flow"])
    frame = frame[frame.period_end == frame.period_end.max()]
    if frame.empty:
        return None
    quarter_end = frame.period_end.iloc[0]
    return Chart("filer_sectors", "13F filers: net flows by sector, last quarter (USD)",
                 frame[["sector", "net_flow"]], x="net_flow", y="sector", kind="bar", x_label="Net flow, USD",
                 y_label="Sector", note=f"quarter ending {quarter_end}; filers with filings in both quarters, "
                 f"as filed by {day}")


def vip_chart(book, day: dt.date) -> Chart | None:
    frame = _dated(book.vip(as_of=day, top=10).to_pandas())
    frame = frame[frame.period_end == frame.period_end.max()]
    if frame.empty:
        return None
    return Chart("vip", "13F VIP list: how many filers hold each stock among their 10 largest",
                 frame[["ticker", "funds"]], x="funds", y="ticker", kind="bar", x_label="Filers",
                 y_label="Stock", note=f"quarter ending {frame.period_end.iloc[0]}, as filed by {day}")
