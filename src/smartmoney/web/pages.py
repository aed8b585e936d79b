"""The dashboard's HTML: one layout (navigation, the as-of picker), blocks of sentences, charts
and tables. Charts are report/html.py's plotly figures (`chart_figure`), drawn by the plotly.js
the app serves itself; nothing is fetched from elsewhere. All text is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from html import escape
from urllib.parse import urlencode

import pandas as pd

from smartmoney.report.html import PLOT_CONFIG, chart_figure
from smartmoney.report.model import Sentence
from smartmoney.web.views import Block, Table, View

PAGES = (("/", "Overview"), ("/leverage", "Leverage"), ("/flows", "Flows"), ("/retail", "Retail"),
         ("/hf-vs-retail", "Hedge funds vs retail"), ("/public", "Public data"), ("/data", "Data"))
PLOTLY_URL = "/static/plotly.js"


def render(view: View, *, path: str, day: dt.date, first: dt.date, last: dt.date) -> str:
    """A whole page: navigation, the as-of picker, the view's blocks and the charts' script."""
    figures: list[dict] = []
    body = [f"<h1>{escape(view.title)}</h1>", _crumbs(view, path, day), _week_picker(view, path, day)]
    body += [_block(block, figures, path, day) for block in view.blocks]
    script = (f'<script type="application/json" id="figures">{_script_safe(json.dumps(figures))}</script>'
              f"<script>{_DRAW % json.dumps(PLOT_CONFIG)}</script>")
    return _layout(view.title, path, day, first, last, view.keep, "".join(body), script)


def error(message: str, *, path: str, day: dt.date | None, first: dt.date, last: dt.date,
          keep: dict[str, str] | None = None) -> str:
    """The page for a question the book cannot answer (a bad date, an unknown group...)."""
    body = f'<h1>Cannot show this page</h1><p class="error" role="alert">{escape(message)}</p>'
    return _layout("Error", path, day or last, first, last, keep or {}, body, "")


def _layout(title: str, path: str, day: dt.date, first: dt.date, last: dt.date,
            keep: dict[str, str], body: str, script: str) -> str:
    nav = "".join(f'<a href="{escape(href)}?{urlencode({"as_of": day.isoformat()})}"'
                  + (' aria-current="page"' if href == path else "") + f">{escape(label)}</a>"
                  for href, label in PAGES)
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in keep.items())
    picker = (f'<form class="asof" method="get" action="{escape(path)}">{hidden}'
              f'<label for="as-of">As of</label> <input type="date" id="as-of" name="as_of" '
              f'value="{day.isoformat()}" min="{first.isoformat()}" max="{last.isoformat()}" required '
              'onchange="this.form.submit()"> <button type="submit">Show</button></form>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} · smartmoney</title><style>{_CSS}</style>"
            f'<script src="{PLOTLY_URL}"></script></head><body>'
            f'<header class="top"><a class="brand" href="/">smartmoney</a><nav>{nav}</nav>{picker}</header>'
            f"<main>{body}</main>{script}</body></html>\n")


def _crumbs(view: View, path: str, day: dt.date) -> str:
    if not view.crumbs:
        return ""
    links = [f'<a href="{escape(_url(path, day, query))}">{escape(label)}</a>' for label, query in view.crumbs]
    return f'<nav class="crumbs" aria-label="Drill-down">{" › ".join(links)}</nav>'


def _week_picker(view: View, path: str, day: dt.date) -> str:
    if not view.weeks:
        return ""
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                     for k, v in {**view.keep, "as_of": day.isoformat()}.items())
    options = "".join(f'<option value="{w}"' + (" selected" if w == view.week else "") + f">{w}</option>"
                      for w in view.weeks)
    return (f'<form class="week" method="get" action="{escape(path)}">{hidden}<label for="week">'
            f'Week ending</label> <select id="week" name="week" onchange="this.form.submit()">{options}'
            "</select> <button type=\"submit\">Show</button></form>")


def _block(block: Block, figures: list[dict], path: str, day: dt.date) -> str:
    parts = [f"<section><h2>{escape(block.title)}</h2>", _sentences(block.sentences)]
    if block.note:
        parts.append(f'<p class="note">{escape(block.note)}</p>')
    for chart in block.charts:
        div = f"chart-{len(figures) + 1}"
        figures.append({"id": div, "figure": json.loads(chart_figure(chart, day).to_json())})
        shown = chart.note if chart.note.strip() != f"as of {day.isoformat()}" else ""  # the title says it
        caption = f"<figcaption>{escape(shown)}</figcaption>" if shown else ""
        parts.append(f'<figure class="chart" data-chart="{escape(chart.key)}"><div class="plot" id="{div}" '
                     f'role="img" aria-label="{escape(chart.title)}"></div>{caption}</figure>')
    parts += [_table(table, path, day) for table in block.tables]
    return "".join(parts) + "</section>"


def _sentences(sentences: tuple[Sentence, ...]) -> str:
    items = "".join(f'<li data-facts="{escape(" ".join(s.fact_ids))}">{escape(s.text)}</li>' for s in sentences)
    return f'<ul class="sentences">{items}</ul>' if items else ""


def _table(table: Table, path: str, day: dt.date) -> str:
    frame = table.frame
    numeric = {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and frame[c].dtype != bool}
    head = "".join(f'<th{" class=num" if c in numeric else ""} scope="col">{escape(str(c).replace("_", " "))}</th>'
                   for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record):
            text = escape(_cell(value, column))
            query = table.links.get(column, {}).get(value)
            if query is not None:
                text = f'<a href="{escape(_url(path, day, query))}">{text}</a>'
            cells.append(f'<td{" class=num" if column in numeric else ""}>{text}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    note = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    empty = "" if rows else '<p class="note">No rows.</p>'
    return (f'<div class="table"><h3>{escape(table.title)}</h3><div class="scroll"><table>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{empty}{note}</div>")


def _url(path: str, day: dt.date, query: dict[str, str]) -> str:
    return f"{path}?{urlencode({'as_of': day.isoformat(), **query})}"


def _cell(value, column: str) -> str:
    """A value as a person reads it: 1.58bn, 425.8m, 53.21; blank when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return ("suppressed" if value else "") if column == "suppressed" else ("yes" if value else "no")
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        number = float(value)
        if number.is_integer() and column in ("accounts", "rows", "files", "holders", "funds", "observations"):
            return f"{int(number):,}"
        for scale, suffix in ((1e9, "bn"), (1e6, "m")):
            if abs(number) >= scale:
                return f"{number / scale:,.2f}{suffix}"
        return f"{number:,.2f}"
    if isinstance(value, int) or type(value).__name__.startswith("int"):
        return f"{int(value):,}"
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()[:10]
    return str(value)


def _script_safe(text: str) -> str:
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


# Draw every chart, then mark the body `data-plots-ready` (the browser tests wait on it).
_DRAW = """(function(){
var config = %s;
var figures = JSON.parse(document.getElementById("figures").textContent);
Promise.all(figures.map(function(f){
  return Plotly.newPlot(document.getElementById(f.id), f.figure.data, f.figure.layout, config);
})).then(function(){ document.body.dataset.plotsReady = String(figures.length); });
})();"""

_CSS = """
:root { --ink: #1d2733; --muted: #6b7785; --rule: #d9dee3; --accent: #1f3b73; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #f4f5f7;
  font: 14.5px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial,
        "Liberation Sans", sans-serif; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 18px; padding: 10px 24px;
  background: #fff; border-bottom: 1px solid var(--rule); border-top: 4px solid var(--accent); }
.brand { font-weight: 700; color: var(--accent); text-decoration: none; }
header nav a { color: var(--ink); text-decoration: none; margin-right: 12px; padding: 2px 0; }
header nav a[aria-current="page"] { border-bottom: 2px solid var(--accent); font-weight: 600; }
form.asof { margin-left: auto; font-size: 13px; }
form.week { margin: 4px 0 12px; font-size: 13px; }
main { max-width: 1040px; margin: 20px auto; background: #fff; padding: 24px 40px 32px;
  border: 1px solid var(--rule); }
h1 { font-size: 24px; margin: 0 0 8px; }
h2 { font-size: 17px; margin: 26px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--rule); }
h3 { font-size: 14px; margin: 18px 0 6px; color: var(--accent); }
.crumbs { font-size: 13px; margin-bottom: 6px; color: var(--muted); }
a { color: var(--accent); }
ul.sentences { padding-left: 20px; } ul.sentences li { margin-bottom: 5px; }
.note, figcaption { color: var(--muted); font-size: 12.5px; }
.error { background: #fbeceb; border-left: 3px solid #b83227; padding: 8px 14px; }
figure.chart { margin: 14px 0 20px; } .plot { width: 100%; min-height: 300px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 12.5px; width: 100%; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eef0f2; text-align: left; white-space: nowrap; }
th { color: var(--muted); font-weight: 600; } .num { text-align: right; font-variant-numeric: tabular-nums; }
@media (max-width: 700px) { main { padding: 16px; } }
"""
