"""Point in time: a report as of a past day says the same before and after later data arrives.

Later data here is every kind a store receives after the day: the days after it, fund positions
corrected for days before it (knowable only later), and a 13F restatement filed after it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from test_sec13f import ARTAL, LTS, SECURITIES, lts_restatement

import smartmoney as sm
from smartmoney import Store
from smartmoney.report import build, render_json, render_markdown, render_text
from smartmoney.simulate import parse_scenario
from smartmoney.simulate.build import build as build_book

pytestmark = pytest.mark.slow
DAY = dt.date(2023, 11, 24)                 # the past as-of: after LTS's 13F (2023-11-14), before its restatement
CORRECTED_DAY, KNOWN_FROM = "2023-11-20", "2023-12-05"
DAILY = ("prices", "equity", "retail_flows", "positions")


def _rendered(store: Store) -> tuple[str, str, str]:
    report = build(sm.open(store), DAY)
    return render_text(report), render_markdown(report), render_json(report)


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("pit")
    scenario = parse_scenario('name = "pit"\nseed = 3\nstart = "2023-07-03"\nend = "2024-01-31"\nfunds = 6\n'
                              'retail = true\n[scale]\nnames_min = 50\nnames_max = 60\n')
    whole = Store.open(root / "whole", create=True)
    build_book(scenario, whole, progress=False)
    files: dict[str, Path] = {}
    for name in ("securities", "accounts"):
        files[name] = root / f"{name}.parquet"
        whole.read(name).to_parquet(files[name], index=False)
    for name in DAILY:
        frame = whole.read(name)
        early = frame["date"] <= pd.Timestamp(DAY)
        files[f"{name}-early"], files[f"{name}-late"] = root / f"{name}-early.parquet", root / f"{name}-late.parquet"
        frame[early].to_parquet(files[f"{name}-early"], index=False)
        frame[~early].to_parquet(files[f"{name}-late"], index=False)
    # A tenth of one day's positions restated after the as-of: known from KNOWN_FROM only.
    positions = whole.read("positions")
    corrected = positions[positions["date"] == pd.Timestamp(CORRECTED_DAY)].iloc[::10]
    corrected = corrected.assign(quantity=corrected["quantity"] * 2 + 100,
                                 available_from=pd.Timestamp(KNOWN_FROM))
    files["corrections"] = root / "corrections.parquet"
    corrected.to_parquet(files["corrections"], index=False)
    restatement = root / "0001894188-23-000009.txt"
    restatement.write_text(lts_restatement("20231201"))

    store = Store.open(root / "store", create=True)
    store.ingest_many([("securities", [files["securities"], SECURITIES]), ("accounts", [files["accounts"]]),
                       *((name, [files[f"{name}-early"]]) for name in DAILY), ("sec13f", [ARTAL, LTS])])
    before = _rendered(store)
    store.ingest_many([*((name, [files[f"{name}-late"]]) for name in DAILY), ("positions", [files["corrections"]]),
                       ("sec13f", [restatement])])
    return {"store": store, "before": before, "corrected": len(corrected)}


def test_the_later_data_changes_the_past_when_it_becomes_known(stores):
    store = stores["store"]
    versions = store.read("position_versions")
    assert len(versions) == stores["corrected"] + 2        # the fund corrections, and LTS's AMZN and IFF
    book = sm.open(store)

    def flow_on_corrected_day(as_of: str) -> float:
        daily = book.flows(by="book", freq="D", as_of=as_of).to_pandas()
        return float(daily.loc[pd.to_datetime(daily["period_end"]) == pd.Timestamp(CORRECTED_DAY), "net_flow"].iloc[0])

    assert flow_on_corrected_day(DAY.isoformat()) != pytest.approx(flow_on_corrected_day(KNOWN_FROM), rel=1e-6)
    holders = {as_of: book.holders(as_of=as_of).to_pandas() for as_of in (DAY.isoformat(), "2023-12-01")}
    iff = {as_of: frame[frame["ticker"] == "IFF"]["holders"].sum() for as_of, frame in holders.items()}
    assert iff == {DAY.isoformat(): 1, "2023-12-01": 0}    # the restatement closed LTS's IFF


def test_a_past_report_is_the_same_after_later_data(stores):
    text, markdown, payload = _rendered(stores["store"])
    before_text, before_markdown, before_payload = stores["before"]
    assert before_text.startswith("Hedge fund positioning: week ending November 24, 2023")
    assert text == before_text
    assert markdown == before_markdown
    assert payload == before_payload

