"""What each dashboard page shows: sentences of the note, charts and tables, as of one day.

Assembly only: every number comes from the Book API or from report/ (the weekly note and its
chart builders), with disclosure control already applied; here they are selected and laid out.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import pandas as pd

from smartmoney.book import BookError
from smartmoney.metrics import holdings
from smartmoney.report.build import (
    SERIES_NAMES,
    SIGN,
    WEEKS_SHOWN,
    build,
    event_study_chart,
    filer_sectors_chart,
    leverage_chart,
    vip_chart,
    watch_list_chart,
)
from smartmoney.report.model import Chart, Report, Sentence
from smartmoney.taxonomy.gics import gics_hierarchy
from smartmoney.web.service import Dashboard, redact_rejects

HIERARCHY = gics_hierarchy()
SECTORS = tuple(sorted(HIERARCHY.sector.unique()))
INDUSTRIES = tuple(sorted(HIERARCHY.industry.unique()))
SUB_INDUSTRIES = tuple(sorted(HIERARCHY.sub_industry.unique()))
# The drill-down: each level's rows are the groups of the next one within it.
LEVELS = ("sector", "industry", "sub_industry", "ticker")
FLOW_COLUMNS = ["long_buy", "long_sell", "short_sale", "short_cover", "net_flow", "net_flow_sd",
                "accounts", "suppressed"]
REJECTS_SHOWN = 50


@dataclass
class Table:
    title: str
    frame: pd.DataFrame
    links: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> value -> query
    note: str = ""


@dataclass
class Block:
    """One titled part of a page: sentences, then charts, then tables."""

    title: str
    sentences: tuple[Sentence, ...] = ()
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    note: str = ""


@dataclass
class View:
    title: str
    blocks: list[Block]
    crumbs: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (label, query)
    weeks: list[str] = field(default_factory=list)       # the flows page's week picker
    week: str = ""
    keep: dict[str, str] = field(default_factory=dict)   # query kept when the as-of changes


# ------------------------------------------------------------------------------- helpers

def report(dash: Dashboard, day: dt.date) -> Report:
    return dash.result(day, "report", lambda: build(dash.book, dash.as_of(day)))


def frame(dash: Dashboard, day: dt.date, family: str, **args) -> pd.DataFrame:
    """A Book metric table as pandas (kept per day), dates as ISO strings."""
    def compute() -> pd.DataFrame:
        result = getattr(dash.book, family)(as_of=dash.as_of(day), **args).to_pandas()
        for column in result.select_dtypes("datetime").columns:
            result[column] = result[column].dt.strftime("%Y-%m-%d")
        for column in ("period_end", "date", "report_date", "settlement_date"):
            if column in result and result[column].dtype == object:
                result[column] = result[column].map(lambda v: v.isoformat() if isinstance(v, dt.date) else v)
        return result
    return dash.result(day, (family, tuple(sorted(args.items()))), compute)


def chart(dash: Dashboard, day: dt.date, builder) -> Chart | None:
    """One of report/'s chart builders for `day` (kept per day)."""
    return dash.result(day, ("chart", builder.__name__), lambda: builder(dash.book, day))


def section(rep: Report, key: str) -> tuple[Sentence, ...]:
    return next((s.sentences for s in rep.sections if s.key == key), ())


def report_chart(rep: Report, key: str) -> list[Chart]:
    return [c for c in rep.charts if c.key == key]


def latest(table: pd.DataFrame, column: str = "period_end") -> pd.DataFrame:
    return table[table[column] == table[column].max()] if len(table) else table


def has_funds(dash: Dashboard) -> bool:
    return bool(dash.tables["positions"]["rows"]) and bool(dash.book.strategies - {holdings.FILER})


# --------------------------------------------------------------------------------- pages

def overview(dash: Dashboard, day: dt.date) -> View:
    """The weekly note: headline, every section, each chart after its section."""
    from smartmoney.report.html import CHART_SECTION
    from smartmoney.report.text import title

    rep = report(dash, day)
    keys = {s.key for s in rep.sections}
    blocks = [Block("Key points", rep.headline)] if rep.headline else []
    for part in rep.sections:
        blocks.append(Block(part.title, part.sentences,
                            [c for c in rep.charts if CHART_SECTION.get(c.key) == part.key]))
    unplaced = [c for c in rep.charts if CHART_SECTION.get(c.key) not in keys]
    if unplaced:
        blocks.append(Block("More charts", charts=unplaced))
    return View(title(rep), blocks)


def leverage(dash: Dashboard, day: dt.date) -> View:
    if not has_funds(dash):
        return View("Leverage", [Block("Leverage", note="This store holds no hedge-fund book.")])
    rep = report(dash, day)
    book = frame(dash, day, "exposure", by="book", freq="W")
    weeks = book.tail(13).iloc[::-1][["period_end", "gross_leverage", "net_leverage",
                                      "gross_leverage_change", "net_leverage_change",
                                      "long_short_ratio", "net_to_gross", "lmv", "smv", "suppressed"]]
    strategies = frame(dash, day, "exposure", by="strategy", freq="W")
    recent = strategies[strategies.period_end.isin(sorted(strategies.period_end.unique())[-WEEKS_SHOWN:])]
    by_strategy = Chart("strategy_leverage", "Gross leverage by strategy", recent,
                        x="period_end", y="gross_leverage", kind="line", series="strategy",
                        x_label="Week ending", y_label="Percent of equity")
    return View("Leverage", [
        Block("Leverage", section(rep, "leverage"), report_chart(rep, "leverage") or
              [chart(dash, day, leverage_chart)], [Table("The last 13 weeks", weeks)]),
        Block("By strategy", (), [by_strategy],
              [Table("This week", latest(strategies)[["strategy", "gross_leverage", "net_leverage",
                                                       "long_short_ratio", "suppressed"]])]),
    ])


def flows(dash: Dashboard, day: dt.date, *, week: str | None = None, sector: str | None = None,
          industry: str | None = None, sub_industry: str | None = None) -> View:
    """Flows of one week by sector, or within a sector by industry, an industry by
    sub-industry, a sub-industry by security."""
    path = {"sector": sector, "industry": industry, "sub_industry": sub_industry}
    chosen = [level for level in LEVELS[:3] if path[level] is not None]
    if chosen != list(LEVELS[:len(chosen)]):
        raise BookError("choose a sector before an industry, and an industry before a sub-industry")
    for parent, child in itertools.pairwise(chosen):
        if not ((HIERARCHY[parent] == path[parent]) & (HIERARCHY[child] == path[child])).any():
            raise BookError(f"{path[child]!r} is not in {path[parent]!r}")
    if not has_funds(dash):
        return View("Flows", [Block("Flows", note="This store holds no hedge-fund book.")])
    level = LEVELS[len(chosen)]
    table = frame(dash, day, "flows", by=level, freq="W")
    weeks = sorted(table.period_end.unique())
    week = week or weeks[-1]
    if week not in weeks:
        raise BookError(f"no week ends on {week} up to {day}; weeks end on {weeks[0]} ... {weeks[-1]}")
    rows = table[table.period_end == week]
    if chosen:
        parent = chosen[-1]
        if level == "ticker":
            members = dash.result(day, "securities", dash.book.securities)
            members = members[members[parent] == path[parent]]["ticker"]
        else:
            members = HIERARCHY[HIERARCHY[parent] == path[parent]][level]
        rows = rows[rows[level].isin(set(members))]
    rows = rows[[level, *FLOW_COLUMNS]].sort_values("net_flow", ascending=False, na_position="last")
    name = path[chosen[-1]] if chosen else "All sectors"
    where = {key: value for key, value in path.items() if value is not None}
    links = {} if level == "ticker" else {
        level: {value: {**where, level: value, "week": week} for value in rows[level]}}
    bars = Chart(f"flows_by_{level}", f"{name}: net flows by {level.replace('_', '-')}, week ending {week} (USD)",
                 rows[[level, "net_flow"]], x="net_flow", y=level, kind="bar", x_label="Net flow, USD",
                 y_label=level.replace("_", "-").capitalize(), note="blank = not published")
    crumbs = [("All sectors", {"week": week})]
    crumbs += [(path[lv], {**{k: path[k] for k in chosen[:i + 1]}, "week": week}) for i, lv in enumerate(chosen)]
    blocks = [Block(name, (), [bars, *history(dash, day, chosen, path)],
                    [Table(f"By {level.replace('_', '-')}, week ending {week}", rows, links,
                           "Suppressed: fewer than k accounts, or one above p% (disclosure control).")])]
    return View("Flows", blocks, crumbs, weeks[::-1], week, keep=where)


def history(dash: Dashboard, day: dt.date, chosen: list[str], path: dict) -> list[Chart]:
    """The weekly flows by component of the group drilled into (the book at the top)."""
    by = chosen[-1] if chosen else "book"
    table = frame(dash, day, "flows", by=by, freq="W")
    table = table[table[by] == (path[by] if chosen else "all")].tail(WEEKS_SHOWN)
    if table.empty:
        return []
    rows = [pd.DataFrame({"period_end": table.period_end, "series": name, "value": sign * table[name]})
            for name, sign in SIGN.items()]
    rows.append(pd.DataFrame({"period_end": table.period_end, "series": "net_flow", "value": table.net_flow}))
    label = path[by] if chosen else "The book"
    return [Chart(f"history_{by}", f"{label}: weekly flows by component (USD)", pd.concat(rows, ignore_index=True),
                  x="period_end", y="value", kind="stacked_bar", series="series", x_label="Week ending",
                  y_label="USD (sales and short sales below zero)")]


def retail(dash: Dashboard, day: dt.date) -> View:
    if not dash.tables["retail_flows"]["rows"]:
        return View("Retail", [Block("Retail", note="This store holds no retail flows.")])
    rep = report(dash, day)
    sectors = latest(frame(dash, day, "retail", by="sector", freq="W"))
    bars = Chart("retail_sectors", f"Retail net flows by sector, week ending {sectors.period_end.max()} (USD)",
                 sectors[["sector", "retail_net"]], x="retail_net", y="sector", kind="bar",
                 x_label="Retail net flow, USD", y_label="Sector")
    baskets = latest(frame(dash, day, "retail", by="basket", freq="W"))
    columns = ["basket", "retail_buy_usd", "retail_sell_usd", "retail_net", "retail_net_sd", "retail_imbalance"]
    return View("Retail", [Block("Retail", section(rep, "retail"),
                                 [bars, *report_chart(rep, "retail_vs_hf_baskets")],
                                 [Table("Baskets this week", baskets[columns]),
                                  Table("Sectors this week", sectors[["sector", *columns[1:]]])])])


def hf_vs_retail(dash: Dashboard, day: dt.date, *, window: int = 4) -> View:
    if not dash.tables["retail_flows"]["rows"] or not has_funds(dash):
        return View("Hedge funds vs retail", [Block("Hedge funds vs retail",
                    note="This needs both a hedge-fund book and retail flows.")])
    rep = report(dash, day)
    divergence = latest(frame(dash, day, "divergence", by="sector"))
    divergence = divergence[divergence.window == window]
    rows = divergence.melt(id_vars=["sector"], value_vars=list(SERIES_NAMES), var_name="series", value_name="usd")
    rows["series"] = rows["series"].map(SERIES_NAMES)
    bars = Chart("divergence_sectors", f"Hedge funds vs retail by sector, last {window} weeks (USD)", rows,
                 x="usd", y="sector", kind="bar", series="series", x_label="Net flow, USD", y_label="Sector",
                 note="hedge-fund cells not published are blank")
    swap = frame(dash, day, "swap_share")
    swap = swap[swap.window == window].tail(WEEKS_SHOWN)
    watch = frame(dash, day, "watch_list", window=window)
    study = frame(dash, day, "event_study")
    charts = [bars, *[c for c in (chart(dash, day, watch_list_chart), chart(dash, day, event_study_chart))
                      if c is not None]]
    return View("Hedge funds vs retail", [
        Block("Hedge funds vs retail", section(rep, "hf_vs_retail"), charts, [
            Table(f"Divergence by sector, last {window} weeks", divergence.drop(columns=["window"])),
            Table(f"Watch list, last {window} weeks", watch,
                  note="Stocks hedge funds sold while retail bought; crowding = holders among the funds."),
            Table(f"Swap share, {window}-week window (% of hedge-fund gross selling absorbed by retail)",
                  swap.iloc[::-1]),
            Table("Event study: forward returns by divergence decile", study)]),
    ], keep={"window": str(window)})


def public(dash: Dashboard, day: dt.date) -> View:
    rows = {name: entry["rows"] for name, entry in dash.tables.items()}
    rep = report(dash, day) if rows["positions"] else None
    blocks = []
    if holdings.FILER in dash.book.strategies:
        charts = [c for c in (chart(dash, day, filer_sectors_chart), chart(dash, day, vip_chart)) if c]
        concentration = latest(frame(dash, day, "concentration"))
        blocks.append(Block("13F filers", section(rep, "filers") if rep else (), charts,
                            [Table("Concentration: share of each filer's long book in its 10 largest holdings "
                                   "(public filings)", concentration.head(50))]))
    else:
        blocks.append(Block("13F filers", note="This store holds no 13F filings."))
    if rows["futures_positions"]:
        cot = latest(frame(dash, day, "cot"), "report_date")
        blocks.append(Block("Equity index futures (CFTC)", section(rep, "futures") if rep else (), [],
                            [Table("Positioning at the latest report date", cot)]))
    else:
        blocks.append(Block("Equity index futures (CFTC)", note="This store holds no CFTC reports."))
    if rows["short_volume"] or rows["short_interest"]:
        tables = [Table("Most shorted (days to cover)", frame(dash, day, "most_shorted"))] if rows["short_interest"] else []
        blocks.append(Block("Short sellers (FINRA)", section(rep, "shorts") if rep else (), [], tables))
    else:
        blocks.append(Block("Short sellers (FINRA)", note="This store holds no FINRA short data."))
    return View("Public data", blocks)


def data(dash: Dashboard) -> View:
    """The store's tables and rejected rows (raw records of account-level tables withheld)."""
    info = dash.store.info()
    tables = pd.DataFrame([{"table": name, **entry} for name, entry in info["tables"].items()])
    rejects = dash.store.rejects()
    counts = rejects.groupby(["table", "file"], as_index=False).size().rename(columns={"size": "rejected"})
    shown = redact_rejects(rejects.head(REJECTS_SHOWN))
    shown["record"] = shown["record"].fillna("(withheld: account-level data)")
    summary = (f"{info['accounts']:,} accounts, {info['securities']:,} securities, "
               f"{info['rejected_rows']:,} rejected rows, {info['ingests']:,} ingests")
    return View("Data", [
        Block("Tables", note=summary, tables=[Table("Tables, rows and dates", tables)]),
        Block("Rejected rows", note="" if len(rejects) else "No rejected rows.", tables=[
            Table("Rejected rows per table and file", counts),
            Table(f"The first {min(len(rejects), REJECTS_SHOWN)} of {len(rejects):,} rejected rows", shown,
                  note="For account-level tables (accounts, positions, trades, equity) the raw records "
                       "and the values the reasons quote are withheld here; `smartmoney rejects` shows "
                       "them to whoever can read the store.")]),
    ])
