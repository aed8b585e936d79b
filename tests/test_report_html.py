"""The HTML weekly note: self-contained, escaped, traceable; and drawn by a real browser."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.offline
import pytest

from smartmoney.report.html import chart_figure, render_html
from smartmoney.report.model import Chart, Report, Section, Sentence

from browser import CHROMIUM, chromium_available, open_page

ARTIFACTS = Path(__file__).parent / "artifacts"
AS_OF = dt.date(2024, 6, 28)
SECTORS = ["Information Technology", "Financials", "Health Care", "Consumer Discretionary",
           "Industrials", "Communication Services", "Consumer Staples", "Energy", "Materials",
           "Real Estate", "Utilities"]


def _fact(fact_id: str, **fields) -> dict:
    return {"id": fact_id, "who": "hedge_funds", "period": "W", "period_end": AS_OF, **fields}


def _sample_report() -> Report:
    """Two sections, three sentences, one chart of each kind (and one of an unknown key)."""
    rng = np.random.default_rng(7)
    weeks = pd.date_range(end=pd.Timestamp(AS_OF), periods=12, freq="W-FRI")
    gross = 215 + np.cumsum(rng.normal(0, 1.5, len(weeks)))
    net = 58 - np.cumsum(np.abs(rng.normal(0.4, 0.6, len(weeks))))
    leverage = pd.concat([
        pd.DataFrame({"period_end": weeks, "metric": "gross_leverage", "value": gross,
                      "low": gross.min() - 4, "high": gross.max() + 4}),
        pd.DataFrame({"period_end": weeks, "metric": "net_leverage", "value": net,
                      "low": net.min() - 3, "high": net.max() + 3}),
    ], ignore_index=True)
    components = {"long_buy": 1, "short_cover": 1, "long_sell": -1, "short_sale": -1}
    flows = pd.DataFrame([{"period_end": week, "component": name,
                           "usd_bn": sign * abs(rng.normal(6 if sign < 0 else 5, 1.5))}
                          for week in weeks for name, sign in components.items()])
    net_flow = flows.groupby("period_end", as_index=False)["usd_bn"].sum()
    net_flow["component"] = "net_flow"
    flows = pd.concat([flows, net_flow], ignore_index=True)
    heat = pd.DataFrame([{"period_end": week, "sector": sector, "net_flow_sd": rng.normal(0, 1.2)}
                         for sector in SECTORS for week in weeks[-8:]])
    turning = pd.DataFrame({"sector": SECTORS, "net_flow_sd": rng.normal(0, 1.3, len(SECTORS))})
    retail = pd.DataFrame({"period_end": weeks, "who": "retail",
                           "net_usd_bn": rng.normal(0.8, 0.5, len(weeks))})
    charts = (
        Chart("leverage", "Gross and net leverage", leverage, x="period_end", y="value",
              kind="line", series="metric", x_label="Week ending", y_label="Leverage (% of equity)",
              note="Shaded: 1-year range."),
        Chart("flows_by_component", "Net flow & its components <USD bn>", flows, x="period_end",
              y="usd_bn", kind="stacked_bar", series="component", x_label="Week ending",
              y_label="USD bn"),
        Chart("sector_heatmap", "Net flow by sector", heat, x="period_end", y="net_flow_sd",
              kind="heatmap", series="sector", x_label="Week ending", y_label="sd units"),
        Chart("turning_sector", "This week's net flow by sector", turning, x="sector",
              y="net_flow_sd", kind="bar", x_label="Sector", y_label="Net flow (sd units)"),
        Chart("retail_odd_lots", "Retail net buying", retail, x="period_end", y="net_usd_bn",
              kind="line", series="who", x_label="Week ending", y_label="USD bn"),
    )
    return Report(
        store="/data/books/pb-store",
        as_of=AS_OF,
        headline=(Sentence("Hedge funds net sold US stocks for the 3rd week in a row, driven by "
                           "long sales & short sales (S&P <500> names).",
                           (_fact("f-streak-1", kind="streak", n=3), _fact("f-flow-2", kind="flow",
                                                                          value=-4.2e9))),),
        sections=(
            Section("leverage", "Leverage", (
                Sentence("Gross leverage fell for the 6th straight week, to 212%.",
                         (_fact("f-lev-3", kind="streak", metric="gross_leverage", n=6),)),
                Sentence("Net leverage fell to 53%, the largest weekly drop this year.",
                         (_fact("f-lev-4", kind="ytd_extreme", metric="net_leverage",
                                value=np.float64(53.0)),)),
            )),
            Section("flows", "Flows", ()),
            Section("sectors", "Sectors", ()),
        ),
        charts=charts,
    )


def _without_plotly_js(page: str) -> str:
    bundle = plotly.offline.get_plotlyjs()
    assert page.count(bundle) == 1, "plotly.js must be embedded exactly once"
    return page.replace(bundle, "")


def test_html_is_self_contained_escaped_and_traceable():
    report = _sample_report()
    page = render_html(report)
    rest = _without_plotly_js(page)

    assert page.startswith("<!DOCTYPE html>")
    assert "Hedge fund positioning — week ending June 28, 2024" in page
    # No external resource of any kind (plotly.js itself mentions CDNs for map tiles).
    assert 'src="http' not in page and "<link" not in page
    assert "https://cdn" not in rest and "http://" not in rest and "https://" not in rest
    assert "<script src" not in page
    # Every sentence escaped, in an element that cites its facts.
    sentences = [*report.headline, *(s for section in report.sections for s in section.sentences)]
    for sentence in sentences:
        cited = f'data-facts="{" ".join(sentence.fact_ids)}">{html.escape(sentence.text)}</'
        assert cited in rest
    assert "S&amp;P &lt;500&gt;" in rest and "<500>" not in rest
    assert 'data-facts="f-streak-1 f-flow-2"' in rest
    facts = json.loads(re.search(r'<script type="application/json" id="facts">(.*?)</script>',
                                 rest, re.S).group(1))
    assert set(facts) == {"f-streak-1", "f-flow-2", "f-lev-3", "f-lev-4"}
    assert facts["f-lev-4"]["value"] == 53.0 and facts["f-lev-3"]["period_end"] == "2024-06-28"
    # Every chart: drawn once, titled (escaped for plotly's pseudo-HTML), dated, axes labelled.
    specs = re.findall(r'^draw\("chart-\d+", (.*)\),?$', rest, re.M)
    figures = [json.loads(spec) for spec in specs]
    assert len(figures) == len(report.charts) and rest.count("Plotly.newPlot") == 1
    for chart, figure in zip(report.charts, figures):
        title = figure["layout"]["title"]["text"]
        assert html.escape(chart.title) in title and "as of 2024-06-28" in title
        assert figure["layout"]["xaxis"]["title"]["text"]
        assert figure["layout"]["yaxis"]["title"]["text"]
    assert 'aria-label="Net flow &amp; its components &lt;USD bn&gt;"' in rest
    assert [figure["data"][0]["type"] for figure in figures] == [
        "scatter", "bar", "heatmap", "bar", "scatter"]
    assert figures[1]["layout"]["barmode"] == "relative" and figures[2]["data"][0]["zmid"] == 0
    assert figures[3]["data"][0]["orientation"] == "h"


def test_charts_follow_their_sections_and_unknown_keys_go_last():
    page = _without_plotly_js(render_html(_sample_report()))
    order = [page.index(marker) for marker in (
        'data-section="leverage"', 'data-chart="leverage"', 'data-section="flows"',
        'data-chart="flows_by_component"', 'data-section="sectors"', 'data-chart="sector_heatmap"',
        'data-chart="turning_sector"',    # its section ("turn") is not in this report
        'data-chart="retail_odd_lots"', "<footer")]
    assert order == sorted(order)
    assert "/data/books/pb-store" in page and "generated by smartmoney" in page


def test_bar_is_horizontal_whichever_column_holds_the_values():
    frame = pd.DataFrame({"industry": ["Chemicals", "Containers & Packaging", "Metals & Mining"],
                          "net_flow": [3.7e9, -2.8e8, 9.4e8]})
    chart = Chart("turning_sector", "Materials: net flows by industry", frame, x="net_flow",
                  y="industry", kind="bar", x_label="Net flow, USD", y_label="Industry")
    layout_and_data = json.loads(chart_figure(chart, AS_OF).to_json())
    bars = layout_and_data["data"][0]
    assert bars["orientation"] == "h"
    assert bars["y"] == ["Containers &amp; Packaging", "Metals &amp; Mining", "Chemicals"]
    assert layout_and_data["layout"]["xaxis"]["title"]["text"] == "Net flow, USD"
    assert layout_and_data["layout"]["yaxis"]["title"]["text"] == "Industry"


def test_iso_date_strings_are_ticked_on_the_period_ends():
    weeks = [f"2024-06-{day:02d}" for day in (7, 14, 21, 28)]
    frame = pd.DataFrame({"period_end": weeks, "value": [1.0, 2.0, 3.0, 4.0]})
    chart = Chart("leverage", "Net leverage", frame, x="period_end", y="value", kind="line")
    xaxis = json.loads(chart_figure(chart, AS_OF).to_json())["layout"]["xaxis"]
    assert xaxis["tickvals"] == weeks and xaxis["ticktext"][-1] == "Jun 28"


def test_unknown_chart_kind_is_an_error():
    report = _sample_report()
    bad = Chart("x", "Pie", pd.DataFrame({"a": [1]}), x="a", y="a", kind="pie")
    with pytest.raises(ValueError, match="unknown kind 'pie'"):
        render_html(Report(report.store, AS_OF, (), (), (bad,)))


# Per chart div: the SVG marks that show each kind was really drawn.
_MARKS_JS = """
(div) => {
  const count = (selector) => div.querySelectorAll(selector).length;
  const drawnLines = [...div.querySelectorAll('.scatterlayer .trace path.js-line')]
      .filter((path) => (path.getAttribute('d') || '').length > 10).length;
  const drawnBands = [...div.querySelectorAll('.scatterlayer .trace path.js-fill')]
      .filter((path) => (path.getAttribute('d') || '').length > 10).length;
  return {traces: div.data.length, svg: count('.main-svg'), lines: drawnLines, bands: drawnBands,
          bars: count('.barlayer .trace .point path'), heatmaps: count('.heatmaplayer image'),
          cellText: count('.heatmaplayer text'), xtitle: count('.g-xtitle text'),
          ytitle: count('.g-ytitle text'),
          title: (div.querySelector('.g-gtitle') || {textContent: ''}).textContent};
}
"""


@pytest.mark.browser
def test_report_draws_in_headless_chromium(tmp_path):
    if not chromium_available():
        pytest.skip(f"{CHROMIUM} is missing (`make env` installs Debian's chromium)")
    from PIL import Image

    report = _sample_report()
    page_file = tmp_path / "report.html"
    page_file.write_text(render_html(report), encoding="utf-8")

    with open_page(page_file.as_uri(), tmp_path / "profile") as (page, log):
        page.wait_for_selector(f'body[data-plots-ready="{len(report.charts)}"]')
        marks = {chart.key: page.eval_on_selector(f'[data-chart="{chart.key}"] .js-plotly-plot',
                                                  _MARKS_JS) for chart in report.charts}
        boxes = page.eval_on_selector_all("main, figure.chart .plot", """(elements) =>
            elements.map((el) => { const r = el.getBoundingClientRect();
              return [r.left + window.scrollX, r.top + window.scrollY,
                      r.right + window.scrollX, r.bottom + window.scrollY]; })""")
        ARTIFACTS.mkdir(exist_ok=True)
        screenshot = ARTIFACTS / "report_html.png"
        page.screenshot(path=str(screenshot), full_page=True)

    assert log.errors == []
    assert log.blocked_requests == []
    for chart in report.charts:
        drawn = marks[chart.key]
        assert drawn["svg"] >= 1, chart.key
        assert "as of 2024-06-28" in drawn["title"], chart.key
        assert drawn["xtitle"] == 1 and drawn["ytitle"] == 1, chart.key
    assert marks["leverage"]["lines"] == 6 and marks["leverage"]["bands"] == 2
    assert marks["flows_by_component"]["bars"] == 4 * 12      # four components, twelve weeks
    assert marks["flows_by_component"]["lines"] == 1          # the net flow over the bars
    assert marks["sector_heatmap"]["heatmaps"] == 1
    assert marks["sector_heatmap"]["cellText"] >= len(SECTORS) * 8
    assert marks["turning_sector"]["bars"] == len(SECTORS)
    assert marks["retail_odd_lots"]["lines"] == 1

    with Image.open(screenshot) as image:
        pixels = image.convert("RGB")
    assert pixels.width >= 960 and pixels.height > 2000
    note, *plots = [_ink(pixels.crop(tuple(round(v) for v in box))) for box in boxes]
    assert note[0] > 500 and note[1] > 0.05, f"the note looks blank: {note}"
    assert len(plots) == len(report.charts)
    for chart, (colors, inked) in zip(report.charts, plots):
        assert colors > 50 and inked > 0.03, f"{chart.key} blank? {colors} colors, {inked:.1%} ink"


def _ink(image) -> tuple[int, float]:
    """(distinct colors, share of pixels that are not white) of an RGB image."""
    colors = image.getcolors(maxcolors=image.width * image.height)
    white = sum(count for count, rgb in colors if min(rgb) >= 250)
    return len(colors), 1 - white / (image.width * image.height)


@pytest.mark.browser
@pytest.mark.slow
def test_the_demo_report_draws_every_chart_in_chromium(tmp_path, demo_store):
    """The real note of the default book, end to end: built, rendered, opened, drawn."""
    if not chromium_available():
        pytest.skip(f"{CHROMIUM} is missing (`make env` installs Debian's chromium)")
    import smartmoney as sm
    from smartmoney.report import build

    report = build(sm.open(demo_store), "2024-06-28")
    page_file = tmp_path / "demo-report.html"
    page_file.write_text(render_html(report), encoding="utf-8")
    with open_page(page_file.as_uri(), tmp_path / "profile") as (page, log):
        page.wait_for_selector(f'body[data-plots-ready="{len(report.charts)}"]')
        marks = {chart.key: page.eval_on_selector(f'[data-chart="{chart.key}"] .js-plotly-plot', _MARKS_JS)
                 for chart in report.charts}
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "demo_report_html.png"), full_page=True)
        headline = page.inner_text("body")
    assert log.errors == [] and log.blocked_requests == []
    assert [c.key for c in report.charts] == ["leverage", "flows_by_component", "sector_heatmap", "turning_sector",
                                              "retail_vs_hf_baskets", "watch_list", "event_study"]
    assert marks["leverage"]["bands"] == 2 and marks["leverage"]["lines"] >= 2
    assert marks["flows_by_component"]["bars"] == 4 * 26
    assert marks["sector_heatmap"]["cellText"] >= 11 * 12 - 12       # a cell may be blank (suppressed)
    assert marks["turning_sector"]["bars"] == 4                       # the four Materials industries
    assert marks["retail_vs_hf_baskets"]["bars"] == 3 * 2              # 3 baskets x hedge funds, retail
    assert marks["watch_list"]["bars"] == 10 * 2
    assert marks["event_study"]["bars"] == 10 * 3                      # 10 deciles x 3 horizons
    assert "3rd week in a row" in headline and "Materials" in headline
