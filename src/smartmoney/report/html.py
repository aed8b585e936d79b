"""The weekly note as one self-contained HTML file: sentences that cite their facts, and charts.

`render_html` only lays out what the report already holds: the sentences (numbers already
formatted), and the tidy data of each chart turned into plotly traces. Nothing is computed.
plotly.js is embedded inline, so the file opens offline and fetches nothing.

Example
-------
>>> from smartmoney.report.html import render_html
>>> html = render_html(report)                             # doctest: +SKIP
>>> Path("weekly.html").write_text(html, encoding="utf-8")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterable
from html import escape

import pandas as pd
import plotly.graph_objects as go
import plotly.offline

from smartmoney.report.model import Chart, Report, Section, Sentence

__all__ = ["render_html", "chart_figure", "CHART_SECTION"]

# Which section each chart follows; a chart whose key is not here (or whose section is not in
# the report) goes after the last section.
CHART_SECTION = {
    "leverage": "leverage",
    "flows_by_component": "flows",
    "sector_heatmap": "sectors",
    "turning_sector": "turn",
    "retail_vs_hf_baskets": "hf_vs_retail",
    "watch_list": "hf_vs_retail",
    "event_study": "hf_vs_retail",
    "filer_sectors": "filers",
    "vip": "filers",
}

FONT = ('-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
        '"Liberation Sans", sans-serif')
INK, MUTED, GRID = "#1d2733", "#6b7785", "#e6e9ed"
BUY, SELL = "#1f7a4d", "#b83227"
PALETTE = ("#1f3b73", "#2a9d8f", "#d0782a", "#7b5ea7", "#8d99ae", "#c9a227", "#3d7dca")
# The four flow components and the net, in the colors a positioning note uses for them.
SERIES_COLOR = {"long_buy": BUY, "short_cover": "#7fc4a0", "long_sell": SELL,
                "short_sale": "#ee9b8f", "net_flow": INK}
SERIES_LABEL = {"long_buy": "Long buys", "long_sell": "Long sales", "short_sale": "Short sales",
                "short_cover": "Short covers", "net_flow": "Net flow",
                "hedge_funds": "Hedge funds", "retail": "Retail",
                "net_flow_sd": "Net flow (sd units)", "net_flow_z": "Net flow (z-score)"}
DIVERGING = [[0.0, SELL], [0.5, "#f6f6f4"], [1.0, BUY]]
PLOT_CONFIG = {"displayModeBar": False, "responsive": True, "typesetMath": False,
               "displaylogo": False}


def render_html(report: Report) -> str:
    """The report as one HTML document (UTF-8 text) that opens offline.

    Layout: title, headline sentences, then each section's title and sentences, each chart
    after the section it belongs to (`CHART_SECTION`), charts of no known section at the end,
    and a footnote with the store path. Every sentence is an ``<li>`` whose ``data-facts``
    attribute lists the ids of the facts it states; the facts themselves are embedded as JSON
    (``<script type="application/json" id="facts">``) so a reader can trace each number.
    All report text is HTML-escaped.
    """
    as_of = report.as_of
    section_keys = {section.key for section in report.sections}
    placed: dict[str, list[Chart]] = {key: [] for key in section_keys}
    unplaced: list[Chart] = []
    for chart in report.charts:
        section_key = CHART_SECTION.get(chart.key)
        (placed[section_key] if section_key in section_keys else unplaced).append(chart)

    figures: list[tuple[str, str]] = []          # (div id, figure JSON), in page order

    def chart_block(charts: Iterable[Chart]) -> str:
        blocks = []
        for chart in charts:
            div_id = f"chart-{len(figures) + 1}"
            figures.append((div_id, _script_safe(chart_figure(chart, as_of).to_json())))
            note = "" if chart.note.strip() == f"as of {as_of.isoformat()}" else chart.note
            blocks.append(_figure_html(chart, note, div_id, len(figures)))
        return "".join(blocks)

    body = [_header_html(report)]
    if report.headline:
        body.append('<section class="headline" aria-label="Key points">'
                    '<h2>Key points</h2>' + _sentences_html(report.headline) + "</section>")
    for section in report.sections:
        body.append(_section_html(section, chart_block(placed[section.key])))
    if unplaced:
        body.append('<section class="more-charts"><h2>More charts</h2>'
                    + chart_block(unplaced) + "</section>")
    body.append(_footer_html(report))

    title = escape(f"{report.subject} — {report.dating} {_long_date(as_of)}")
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="smartmoney"><title>{title}</title>',
        f"<style>{_CSS}</style>",
        f"<script>{plotly.offline.get_plotlyjs()}</script>",
        "</head><body>\n<main>", "\n".join(body), "</main>\n",
        '<script type="application/json" id="facts">', _facts_json(report), "</script>\n",
        "<script>", _plots_script(figures), "</script>\n</body></html>\n",
    ])


# ---------------------------------------------------------------------------------- the page

def _header_html(report: Report) -> str:
    return ('<header><div class="kicker">smartmoney · weekly positioning note</div>'
            f"<h1>{escape(report.subject)} — {escape(report.dating)} {escape(_long_date(report.as_of))}</h1>"
            f'<div class="dateline">Data as of {report.as_of.isoformat()} · US equities · '
            "hedge funds and retail</div></header>")


def _section_html(section: Section, charts_html: str) -> str:
    return (f'<section id="section-{escape(section.key)}" data-section="{escape(section.key)}">'
            f"<h2>{escape(section.title)}</h2>{_sentences_html(section.sentences)}{charts_html}"
            "</section>")


def _sentences_html(sentences: Iterable[Sentence]) -> str:
    items = [f'<li data-facts="{escape(" ".join(sentence.fact_ids))}">'
             f"{escape(sentence.text)}</li>" for sentence in sentences]
    return f'<ul class="sentences">{"".join(items)}</ul>' if items else ""


def _figure_html(chart: Chart, note: str, div_id: str, number: int) -> str:
    note = f"<figcaption>{escape(note)}</figcaption>" if note else ""
    return (f'<figure class="chart" data-chart="{escape(chart.key)}" '
            f'data-kind="{escape(chart.kind)}">'
            f'<div class="figno">Figure {number}</div>'
            f'<div class="plot" id="{div_id}" role="img" aria-label="{escape(chart.title)}"></div>'
            f"{note}</figure>")


def _footer_html(report: Report) -> str:
    return (f'<footer><p>Source: store <code>{escape(str(report.store))}</code> · data as of '
            f"{report.as_of.isoformat()} · generated by smartmoney</p>"
            "<p>Each sentence lists the ids of the facts it states (<code>data-facts</code>); the "
            'facts are embedded in this file (<code>script#facts</code>).</p></footer>')


def _plots_script(figures: list[tuple[str, str]]) -> str:
    """Draw every chart, then mark the body `data-plots-ready` (browsers and tests wait on it)."""
    calls = ",\n".join(f'draw("{div_id}", {spec})' for div_id, spec in figures)
    return ("(function(){\nvar config = " + json.dumps(PLOT_CONFIG) + ";\n"
            "function draw(id, fig){ return Plotly.newPlot(document.getElementById(id), "
            "fig.data, fig.layout, config); }\n"
            f"Promise.all([\n{calls}\n]).then(function(){{ document.body.dataset.plotsReady = "
            f'"{len(figures)}"; }});\n}})();')


def _facts_json(report: Report) -> str:
    facts = {}
    sentences = [*report.headline, *(s for section in report.sections for s in section.sentences)]
    for sentence in sentences:
        for fact in sentence.facts:
            facts[str(fact["id"])] = fact
    return _script_safe(json.dumps(_jsonable(facts), ensure_ascii=False, sort_keys=True))


def _jsonable(value):
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):   # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _script_safe(text: str) -> str:
    """JSON that cannot end its <script> element: '<' only ever occurs inside JSON strings."""
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _long_date(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


# -------------------------------------------------------------------------------- the charts

def chart_figure(chart: Chart, as_of: dt.date) -> go.Figure:
    """The plotly figure of one chart: its traces by `chart.kind`, title, as-of date, axes."""
    try:
        traces = _TRACES[chart.kind]
    except KeyError:
        raise ValueError(f"chart {chart.key!r}: unknown kind {chart.kind!r} "
                         f"(expected one of {', '.join(_TRACES)})") from None
    fig = go.Figure()
    traces(fig, chart)
    # Title and as-of date in one block (plotly's subtitle sits too far below its title).
    title = (f"<b>{escape(chart.title)}</b><br><span style=\"font-size:12px;color:{MUTED}\">"
             f"as of {as_of.isoformat()}</span>")
    fig.update_layout(
        title={"text": title, "x": 0, "xref": "container", "xanchor": "left",
               "y": 1, "yref": "container", "yanchor": "top", "pad": {"l": 0, "t": 14},
               "font": {"size": 15, "color": INK}},
        font={"family": FONT, "size": 12, "color": INK},
        paper_bgcolor="white", plot_bgcolor="white",
        margin={"l": 64, "r": 24, "t": 84, "b": 56},
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom",
                "font": {"size": 11}, "bgcolor": "rgba(0,0,0,0)"},
        hoverlabel={"font": {"family": FONT}},
        showlegend=True,
    )
    axis = {"showline": True, "linecolor": "#9aa4af", "ticks": "outside", "tickcolor": "#9aa4af",
            "gridcolor": GRID, "zerolinecolor": "#9aa4af",
            "title": {"font": {"size": 12, "color": MUTED}}}
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis)
    if chart.kind != "bar" and _is_dates(chart.data[chart.x]):
        _date_ticks(fig, chart.data[chart.x])
    return fig


def _line(fig: go.Figure, chart: Chart) -> None:
    """One line per series; `low`/`high` columns, when present, drawn as a shaded band."""
    data = chart.data
    band = {"low", "high"} <= set(data.columns)
    for index, (name, rows) in enumerate(_by_series(chart)):
        color = _color(name, index)
        label = _label(name)
        if band and rows[["low", "high"]].notna().any().all():
            fig.add_scatter(x=_values(rows[chart.x]), y=rows["high"], mode="lines",
                            line={"width": 0, "color": color}, legendgroup=label,
                            showlegend=False, hoverinfo="skip")
            fig.add_scatter(x=_values(rows[chart.x]), y=rows["low"], mode="lines",
                            line={"width": 0, "color": color}, fill="tonexty",
                            fillcolor=_translucent(color, 0.14), legendgroup=label,
                            name=f"{label} range", showlegend=False, hoverinfo="skip")
        fig.add_scatter(x=_values(rows[chart.x]), y=rows[chart.y], mode="lines", name=label,
                        legendgroup=label, line={"width": 2.2, "color": color})
    fig.update_layout(hovermode="x unified", height=380)
    _axis_titles(fig, chart.x_label or _label(chart.x), chart.y_label or _label(chart.y))


def _stacked_bar(fig: go.Figure, chart: Chart) -> None:
    """Relative stacked bars, one trace per series; a `net_flow` series as a line over them."""
    net = None
    for index, (name, rows) in enumerate(_by_series(chart)):
        if name == "net_flow":
            net = rows
            continue
        fig.add_bar(x=_values(rows[chart.x]), y=rows[chart.y], name=_label(name),
                    marker={"color": _color(name, index), "line": {"width": 0}})
    if net is not None:
        fig.add_scatter(x=_values(net[chart.x]), y=net[chart.y], name=_label("net_flow"),
                        mode="lines+markers", line={"color": INK, "width": 2},
                        marker={"size": 5, "color": INK})
    fig.update_layout(barmode="relative", bargap=0.25, hovermode="x unified", height=400)
    _axis_titles(fig, chart.x_label or _label(chart.x), chart.y_label or _label(chart.y))


def _heatmap(fig: go.Figure, chart: Chart) -> None:
    """x = `x`, rows = `series`, color = `y`, diverging around zero, each cell labelled."""
    if chart.series is None:
        raise ValueError(f"chart {chart.key!r}: a heatmap needs `series` (its rows)")
    rows_key = chart.series
    data = chart.data
    columns = list(pd.unique(data[chart.x]))
    rows = list(pd.unique(data[rows_key]))
    grid = data.pivot(index=rows_key, columns=chart.x, values=chart.y).reindex(index=rows,
                                                                               columns=columns)
    fig.add_heatmap(x=_values(pd.Series(columns)), y=[_label(row) for row in rows],
                    z=grid.to_numpy(dtype=float), zmid=0, colorscale=DIVERGING,
                    texttemplate="%{z:.1f}", textfont={"size": 11}, xgap=1, ygap=1,
                    colorbar={"title": {"text": _label(chart.y),
                                        "side": "top", "font": {"size": 11, "color": MUTED}},
                              "thickness": 12, "outlinewidth": 0, "len": 0.9},
                    hovertemplate="%{y}<br>%{x}: %{z:.2f}<extra></extra>", showscale=True)
    fig.update_layout(height=max(320, 130 + 30 * len(rows)), showlegend=False,
                      margin={"l": 200, "t": 70})
    fig.update_yaxes(autorange="reversed", showgrid=False, ticks="", showline=False,
                     automargin=True)
    fig.update_xaxes(showgrid=False, showline=False)
    if not _is_dates(data[chart.x]) and not pd.api.types.is_numeric_dtype(data[chart.x]):
        fig.update_xaxes(type="category")
    _axis_titles(fig, chart.x_label or _label(chart.x),
                 chart.y_label or _label(rows_key))


def _bar(fig: go.Figure, chart: Chart) -> None:
    """Horizontal bars sorted by value, largest at the top; buying green, selling red.

    The bars are horizontal whichever way the chart names its columns: the numeric one of
    `x` and `y` is the bar length (and its label titles the horizontal axis), the other one
    the category. With a `series` column the series are grouped side by side in their own
    colors, sorted by the first series.
    """
    data = chart.data
    if pd.api.types.is_numeric_dtype(data[chart.x]) and not pd.api.types.is_numeric_dtype(
            data[chart.y]):
        value, category = chart.x, chart.y
        value_title, category_title = chart.x_label, chart.y_label
    else:
        value, category = chart.y, chart.x
        value_title, category_title = chart.y_label, chart.x_label
    if chart.series is None:
        rows = data.sort_values(value, kind="stable") if chart.sorted else data
        fig.add_bar(y=[_label(v) for v in rows[category]], x=rows[value], orientation="h",
                    name=_label(value), showlegend=False,
                    marker={"color": [BUY if v >= 0 else SELL for v in rows[value].fillna(0)]},
                    hovertemplate="%{y}: %{x}<extra></extra>")
        count = len(rows)
    else:
        groups = list(_by_series(chart))
        first = groups[0][1] if groups else data.iloc[:0]
        order = list((first.sort_values(value, kind="stable") if chart.sorted else first.iloc[::-1])[category])
        for index, (name, rows) in enumerate(groups):
            rows = rows.set_index(category).reindex(order).reset_index()
            fig.add_bar(y=[_label(v) for v in rows[category]], x=rows[value], orientation="h",
                        name=_label(name), marker={"color": _color(name, index)})
        fig.update_layout(barmode="group")
        count = len(order) * max(1, len(groups))
    fig.update_layout(height=max(300, 130 + 22 * count), bargap=0.3,
                      margin={"l": 200, "t": 84 if chart.series else 70})
    fig.update_yaxes(showgrid=False, ticks="", type="category", automargin=True)
    fig.update_xaxes(zeroline=True, zerolinewidth=1.2)
    _axis_titles(fig, value_title or _label(value), category_title or _label(category))


_TRACES: dict[str, Callable[[go.Figure, Chart], None]] = {
    "line": _line, "stacked_bar": _stacked_bar, "heatmap": _heatmap, "bar": _bar}


def _by_series(chart: Chart):
    """(series value, rows) in order of first appearance; the whole table when no series."""
    if chart.series is None:
        yield chart.y, chart.data
        return
    for name in pd.unique(chart.data[chart.series]):
        yield name, chart.data[chart.data[chart.series] == name]


def _axis_titles(fig: go.Figure, x_title: str, y_title: str) -> None:
    fig.update_xaxes(title_text=escape(x_title))
    fig.update_yaxes(title_text=escape(y_title))


def _values(column: pd.Series) -> list:
    """Axis values for plotly: dates as ISO dates, strings escaped for plotly's pseudo-HTML."""
    if _is_dates(column):
        return [None if pd.isna(v) else pd.Timestamp(v).date().isoformat() for v in column]
    return [_label(v) if isinstance(v, str) else v for v in column]


def _date_ticks(fig: go.Figure, column: pd.Series, most: int = 10) -> None:
    """Ticks on the data's own dates (period ends, not plotly's Sundays), at most `most`."""
    days = sorted({pd.Timestamp(v).date() for v in column.dropna()})
    if not days:
        return
    shown = days[::-1][::-(-len(days) // most)][::-1]     # always label the latest period
    text = [f"{day:%b} {day.day}" + (f"<br>{day.year}" if i == 0 or day.year != shown[i - 1].year
                                       else "") for i, day in enumerate(shown)]
    fig.update_xaxes(tickmode="array", tickvals=[day.isoformat() for day in shown], ticktext=text)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _is_dates(column: pd.Series) -> bool:
    """Datetimes, dates, or ISO date strings ('2024-06-28')."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    values = column.dropna()
    return (not pd.api.types.is_numeric_dtype(column) and len(values) > 0
            and all(isinstance(v, dt.date) or (isinstance(v, str) and _ISO_DATE.match(v))
                    for v in values))


_IDENTIFIER = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def _label(value) -> str:
    """How a column or series value reads on a chart: known names spelled out, escaped."""
    text = str(value)
    if text in SERIES_LABEL:
        text = SERIES_LABEL[text]
    elif _IDENTIFIER.match(text):
        text = text.replace("_", " ").capitalize()
    return escape(text, quote=False)


def _color(name, index: int) -> str:
    return SERIES_COLOR.get(str(name), PALETTE[index % len(PALETTE)])


def _translucent(color: str, alpha: float) -> str:
    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


_CSS = """
:root { --ink: #1d2733; --muted: #6b7785; --rule: #d9dee3; --accent: #1f3b73; }
* { box-sizing: border-box; }
html { background: #f4f5f7; }
body { margin: 0; padding: 32px 16px 48px; color: var(--ink);
  font: 15px/1.55 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue",
        Arial, "Liberation Sans", sans-serif; -webkit-font-smoothing: antialiased; }
main { max-width: 960px; margin: 0 auto; background: #fff; padding: 40px 56px 32px;
  border: 1px solid var(--rule); border-top: 4px solid var(--accent); }
header { border-bottom: 1px solid var(--rule); padding-bottom: 18px; margin-bottom: 8px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 11.5px; font-weight: 600;
  color: var(--accent); }
h1 { font-size: 27px; line-height: 1.25; margin: 6px 0 6px; font-weight: 650;
  letter-spacing: -.01em; }
.dateline { color: var(--muted); font-size: 13px; }
h2 { font-size: 17px; margin: 30px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--rule);
  font-weight: 650; }
.headline { background: #f3f6fa; border-left: 3px solid var(--accent); padding: 4px 20px 10px;
  margin: 22px 0 8px; }
.headline h2 { border: 0; margin: 12px 0 2px; font-size: 13px; text-transform: uppercase;
  letter-spacing: .07em; color: var(--accent); }
.headline .sentences li { font-weight: 500; }
ul.sentences { margin: 8px 0 4px; padding-left: 20px; }
ul.sentences li { margin: 0 0 6px; padding-left: 2px; }
ul.sentences li::marker { color: var(--accent); }
figure.chart { margin: 18px 0 22px; padding: 12px 0 0; border-top: 1px solid #eef0f2; }
section > h2 + figure.chart { border-top: 0; padding-top: 0; }
.figno { font-size: 11.5px; color: var(--muted); text-transform: uppercase; letter-spacing: .07em;
  margin-bottom: 2px; }
.plot { width: 100%; min-height: 300px; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
footer { margin-top: 36px; padding-top: 12px; border-top: 1px solid var(--rule);
  color: var(--muted);
  font-size: 12px; line-height: 1.5; }
footer p { margin: 0 0 4px; }
footer code { font-size: 11.5px; background: #f3f4f6; padding: 1px 4px; border-radius: 3px; }
@media (max-width: 700px) { main { padding: 24px 18px; } h1 { font-size: 22px; } }
@media print { html { background: #fff; } body { padding: 0; } main { border: 0; padding: 0; } }
"""
