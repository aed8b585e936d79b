"""The weekly report: golden text and JSON, sentences backed by facts, stories from data alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from json_close import assert_json_close

import smartmoney as sm
from smartmoney.report import build, render_json, render_markdown, render_text
from smartmoney.simulate import load_scenario
from smartmoney.simulate.build import build as build_book

pytestmark = pytest.mark.slow
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def demo_report(demo_store):
    return build(sm.open(demo_store), "2024-06-28")


@pytest.fixture(scope="module")
def demo_facts(demo_store):
    """The book's facts, by id, computed afresh from the store (not taken from the report)."""
    return {fact.id: fact for fact in sm.open(demo_store).facts(as_of="2024-06-28")}


def test_demo_report_matches_the_golden_text_and_json(demo_report, update_golden):
    text, payload = render_text(demo_report), json.loads(render_json(demo_report))
    payload.pop("store")
    if update_golden:
        (GOLDEN / "demo-report.txt").write_text(text)
        (GOLDEN / "demo-report.json").write_text(json.dumps(payload, indent=1) + "\n")
    assert text == (GOLDEN / "demo-report.txt").read_text(), "run pytest --update-golden after checking the diff"
    assert_json_close(payload, json.loads((GOLDEN / "demo-report.json").read_text()), rel=1e-9, abs=1e-9)


def test_every_sentence_is_backed_by_facts_of_the_book(demo_report, demo_facts):
    sentences = [*demo_report.headline, *(s for section in demo_report.sections for s in section.sentences)]
    assert len(sentences) >= 15
    for sentence in sentences:
        assert sentence.facts, sentence.text
        for fact in sentence.facts:
            assert demo_facts[fact["id"]].value == pytest.approx(fact["value"]), fact["id"]


def test_headline_states_the_planted_story_through_its_facts(demo_report):
    cited = {fact["id"]: fact for sentence in demo_report.headline for fact in sentence.facts}
    week = "W:2024-06-28"
    assert cited[f"streak:hedge_funds:net_flow:book=all:{week}"]["n"] == 3
    assert cited[f"driven_by:hedge_funds:net_flow:book=all:{week}"]["label"] == "long_sell"
    assert cited[f"streak:hedge_funds:gross_leverage:book=all:{week}:change"]["n"] == 6
    assert cited[f"breadth:hedge_funds:net_flow:sector=all:{week}:sold"]["n"] == 8
    assert cited[f"since:hedge_funds:net_flow:sector=Materials:{week}"]["months"] == 5
    assert 4.5 < cited[f"ratio:hedge_funds:net_flow:sector=Materials:{week}"]["value"] < 5.5
    turn = next(s for s in demo_report.sections if s.key == "turn")
    assert turn.title == "The turn: Materials"
    assert "only Containers & Packaging was net sold" in turn.sentences[-1].text
    assert [c.key for c in demo_report.charts] == ["leverage", "flows_by_component", "sector_heatmap",
                                                   "turning_sector", "retail_vs_hf_baskets", "watch_list",
                                                   "event_study"]


WEEK = "W:2024-06-28"
# Each episode planted in june-2024-rotation (the comments at the top of its file), and the facts
# the report must cite for it, with their values: (fact id, {field: value, or a test of it}).
EPISODES = {
    "IT net sold through June, led by semiconductors: a record month of TMT net selling": [
        ("record:hedge_funds:net_flow:tmt=TMT:M:2024-06-28", {"direction": "sold", "value": lambda v: v < -1e10}),
        (f"flow:hedge_funds:net_flow:sector=Information Technology:{WEEK}:sold:3", {"value": lambda v: v < 0}),
    ],
    "six weeks of de-grossing, long sales and to a lesser extent short covers": [
        (f"streak:hedge_funds:gross_leverage:book=all:{WEEK}:change", {"n": 6, "direction": "down"}),
        (f"ratio:hedge_funds:net_flow:book=all:{WEEK}", {"direction": "risk_off", "label": "long_sell/short_cover",
                                                          "value": lambda v: 1 < v < 5}),
    ],
    "net selling in each of the last 3 weeks, the week of 2024-06-03 net bought": [
        (f"streak:hedge_funds:net_flow:book=all:{WEEK}", {"n": 3, "direction": "sold"}),
        (f"k_of_n:hedge_funds:net_flow:book=all:{WEEK}:of=7", {"n": 6, "direction": "sold"}),
        (f"driven_by:hedge_funds:net_flow:book=all:{WEEK}", {"label": "long_sell"}),
    ],
    "the last week has the largest net leverage drop of 2024": [
        (f"record:hedge_funds:net_leverage:book=all:{WEEK}:change", {"direction": "down", "value": lambda v: v < -5}),
    ],
    "8 of 11 sectors net sold, Financials, Real Estate and IT among the most": [
        (f"breadth:hedge_funds:net_flow:sector=all:{WEEK}:sold", {"n": 8, "of": 11}),
        (f"flow:hedge_funds:net_flow:sector=Financials:{WEEK}:sold:1", {"value": lambda v: v < 0}),
        (f"flow:hedge_funds:net_flow:sector=Real Estate:{WEEK}:sold:2", {"value": lambda v: v < 0}),
    ],
    "Industrials, Materials and Energy net bought": [
        (f"flow:hedge_funds:net_flow:sector=Materials:{WEEK}:bought:1", {"value": lambda v: v > 0}),
        (f"flow:hedge_funds:net_flow:sector=Industrials:{WEEK}:bought:2", {"value": lambda v: v > 0}),
        (f"flow:hedge_funds:net_flow:sector=Energy:{WEEK}:bought:3", {"value": lambda v: v > 0}),
    ],
    "Materials sold in 6 of 7 weeks, then bought at the fastest pace since January, 5 to 1": [
        ("k_of_n:hedge_funds:net_flow:sector=Materials:W:2024-06-21:of=7", {"n": 6, "direction": "sold"}),
        (f"since:hedge_funds:net_flow:sector=Materials:{WEEK}", {"since_date": "2024-01-26", "months": 5}),
        (f"ratio:hedge_funds:net_flow:sector=Materials:{WEEK}", {"value": lambda v: 4.5 < v < 5.5}),
    ],
    "every Materials industry bought but Containers & Packaging, led by Chemicals and Metals & Mining": [
        (f"breadth:hedge_funds:net_flow:industry=Materials:{WEEK}:bought", {"n": 3, "of": 4}),
        (f"flow:hedge_funds:net_flow:industry=Chemicals:{WEEK}:bought:1", {"value": lambda v: v > 0}),
        (f"flow:hedge_funds:net_flow:industry=Metals & Mining:{WEEK}:bought:2", {"value": lambda v: v > 0}),
        (f"flow:hedge_funds:net_flow:industry=Containers & Packaging:{WEEK}:sold:1", {"value": lambda v: v < 0}),
    ],
    "retail net buys the Magnificent 7 and semiconductors in June, above all NVDA": [
        (f"streak:retail:retail_net:basket=magnificent_7:{WEEK}", {"direction": "bought", "n": lambda n: n >= 4}),
        (f"streak:retail:retail_net:basket=semiconductors:{WEEK}", {"direction": "bought", "n": lambda n: n >= 4}),
        (f"flow:retail:retail_net:ticker=NVDA:{WEEK}:bought:1", {"value": lambda v: v > 1e9}),
    ],
}


@pytest.mark.parametrize("episode", sorted(EPISODES))
def test_every_planted_episode_is_stated_through_its_facts(demo_report, demo_facts, episode):
    """The report cites a fact for each planted episode, with the values that tell it, and each
    cited fact is the book's own (recomputed from the store, value for value)."""
    cited = {fact["id"]: fact for sentence in [*demo_report.headline,
                                               *(s for section in demo_report.sections for s in section.sentences)]
             for fact in sentence.facts}
    for fact_id, fields in EPISODES[episode]:
        assert fact_id in cited, f"{episode}: the report does not state {fact_id}"
        assert demo_facts[fact_id].value == pytest.approx(cited[fact_id]["value"])
        for field, expected in fields.items():
            value = cited[fact_id][field]
            assert expected(value) if callable(expected) else value == expected, (fact_id, field, value)


def test_retail_sections_state_the_planted_retail_story(demo_report):
    """june-2024-rotation plants retail net buying of the Magnificent 7 and semiconductors in
    June 2024, above all NVDA, while hedge funds sell technology."""
    sections = {s.key: s for s in demo_report.sections}
    cited = {f["id"]: f for s in sections["retail"].sentences for f in s.facts}
    week = "W:2024-06-28"
    for basket in ("semiconductors", "magnificent_7"):
        assert cited[f"streak:retail:retail_net:basket={basket}:{week}"]["n"] >= 4
        assert cited[f"level:retail:retail_net:basket={basket}:{week}"]["sd"] > 3
        assert cited[f"flow:retail:retail_net:ticker=NVDA:{week}:bought:1:basket={basket}"]["value"] > 1e9
    assert cited[f"flow:retail:retail_net:ticker=NVDA:{week}:bought:1"]["n"] == 1
    versus = {f["id"]: f for s in sections["hf_vs_retail"].sentences for f in s.facts}
    it = versus[f"divergence:retail:hf_vs_retail:sector=Information Technology:{week}:1w"]
    assert it["direction"] == "hf_sold_retail_bought"
    assert it["components"]["hf_net_sd"] <= -1 and it["components"]["retail_net_sd"] >= 1
    assert it["value"] == pytest.approx(min(-it["components"]["hf_net"], it["components"]["retail_net"]))
    assert sections["hf_vs_retail"].sentences[0].text.startswith("Hedge funds may be selling to retail")


def test_markdown_has_every_section(demo_report):
    text = render_markdown(demo_report)
    for title in ("## Leverage", "## Global flows", "## Sectors", "## The turn: Materials",
                  "## Single stocks vs macro products", "## Retail", "## Hedge funds vs retail"):
        assert title in text


SCENARIOS = {
    "energy-rally-2023": {
        "streak:hedge_funds:net_flow:book=all:W:2023-11-17": {"n": 4, "direction": "bought"},
        "streak:hedge_funds:gross_leverage:book=all:W:2023-11-17:change": {"n": 4, "direction": "up"},
        "flow:hedge_funds:net_flow:sector=Energy:W:2023-11-17:bought:1": {"n": 1},
        "record:hedge_funds:net_flow:sector=Health Care:W:2023-11-17": {"direction": "sold"},
        "turn": "Health Care",
    },
    "financials-derisking-2023": {
        "streak:hedge_funds:net_flow:book=all:W:2023-03-17": {"n": 2, "direction": "sold"},
        "flow:hedge_funds:net_flow:sector=Financials:W:2023-03-17:sold:1": {"n": 1},
        "record:hedge_funds:net_flow:sector=Consumer Staples:W:2023-03-17": {"direction": "bought"},
        "turn": "Consumer Staples",
    },
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_other_scenarios_tell_their_own_story(name, tmp_path, demo_report):
    store = sm.Store.open(tmp_path / "store", create=True)
    build_book(load_scenario(name), store, progress=False)
    report = build(sm.open(store))
    expected = dict(SCENARIOS[name])
    turn = expected.pop("turn")
    cited = {fact["id"]: fact for s in [*report.headline, *(x for sec in report.sections for x in sec.sentences)]
             for fact in s.facts}
    for fact_id, fields in expected.items():
        assert fact_id in cited, f"{name}: the report does not state {fact_id}"
        for field, value in fields.items():
            assert cited[fact_id][field] == value, (fact_id, field)
    assert next(s for s in report.sections if s.key == "turn").title == f"The turn: {turn}"
    assert render_text(report).splitlines()[3:] != render_text(demo_report).splitlines()[3:]


def test_the_report_code_never_touches_the_scenario(demo_store):
    script = (f"import sys, smartmoney as sm; from smartmoney.report import build, render_text; "
              f"render_text(build(sm.open({str(demo_store.path)!r}))); "
              f"bad = [m for m in sys.modules if m.startswith('smartmoney.simulate')]; "
              f"sys.exit(f'report imported {{bad}}' if bad else 0)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
