"""Retail trade identification: tape sources, BJZZ, the quote-midpoint rule, the real LEAN tape."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference
from smartmoney.engine import connect
from smartmoney.identify import OUTPUT_COLUMNS, classify, identify, tape_warnings, write_retail_flows
from smartmoney.store import Store

DATA = Path(__file__).parent / "data"
DAY = "2024-06-03"


def tape_store(tmp_path: Path, prints: list[tuple], quotes: list[tuple] = ()) -> Store:
    """A store holding a generic tape: prints (time, symbol, price, size, exchange) and
    quotes (time, symbol, bid, ask), ingested through the generic tape sources."""
    store = Store.open(tmp_path / "store", create=True)
    trades = pd.DataFrame(prints, columns=["ts", "symbol", "price", "size", "exchange"])
    trades["ts"] = DAY + " " + trades["ts"]
    trades.to_csv(tmp_path / "trades.csv", index=False)
    reports = store.ingest("ticks", [tmp_path / "trades.csv"])
    assert reports[0].rejected == 0
    if quotes:
        book = pd.DataFrame(quotes, columns=["ts", "symbol", "bid", "ask"])
        book["ts"] = DAY + " " + book["ts"]
        book.to_csv(tmp_path / "quotes.csv", index=False)
        assert store.ingest("quotes", [tmp_path / "quotes.csv"])[0].rejected == 0
    return store


def sides(store: Store, method: str, engine: str = "duckdb") -> dict[float, int]:
    frame = classify(connect(store, engine), method).to_pandas()
    return dict(zip(frame["price"], frame["side"]))


def test_bjzz_signs_sub_penny_prints_off_exchange_only(tmp_path):
    store = tape_store(tmp_path, [
        ("09:30:00", "AAA", 10.002, 100, "D"),     # Z = 0.2: sell
        ("09:30:01", "AAA", 10.008, 200, "D"),     # Z = 0.8: buy
        ("09:30:02", "AAA", 10.005, 300, "D"),     # Z = 0.5: not classified
        ("09:30:03", "AAA", 10.00, 400, "D"),      # a round penny: not a candidate
        ("09:30:04", "AAA", 10.002, 500, "N"),     # on an exchange: not a candidate
        ("09:30:05", "AAA", 10.004, 600, "D"),     # Z = 0.4 exactly: not classified
        ("09:30:06", "AAA", 10.006, 700, "D"),     # Z = 0.6 exactly: not classified
        ("09:30:07", "AAA", 10.0039, 800, "D"),    # Z = 0.39: sell
        ("09:30:08", "AAA", 10.0061, 900, "D"),    # Z = 0.61: buy
        ("09:30:09", "AAA", 10.00001, 50, "D"),    # rounds to 10.0000: not a candidate
    ])
    assert sides(store, "bjzz") == {10.002: -1, 10.008: 1, 10.005: 0, 10.004: 0, 10.006: 0,
                                    10.0039: -1, 10.0061: 1}
    row = identify(connect(store), "bjzz").to_pandas().iloc[0]
    assert (row.trades, row.offexchange_trades, row.subpenny_trades) == (10, 9, 7)
    assert (row.retail_buy_trades, row.retail_sell_trades) == (2, 2)
    assert (row.retail_buy_shares, row.retail_sell_shares) == (1100, 900)
    assert row.retail_buy_usd == pytest.approx(10.008 * 200 + 10.0061 * 900, rel=1e-12)
    assert row.retail_sell_usd == pytest.approx(10.002 * 100 + 10.0039 * 800, rel=1e-12)
    assert row.imbalance_shares == pytest.approx(200 / 2000)
    assert row.imbalance_trades == 0
    assert row.classified_share == pytest.approx(4 / 9)


QUOTE_CASES = [
    # NBBO 10.00 x 10.10 (spread 10 cents): the band [10.04, 10.06] is dropped.
    ("09:30:01", "AAA", 10.0720, "buy", 1),        # BJZZ would say sell (Z = 0.2)
    ("09:30:02", "AAA", 10.0280, "sell", -1),      # BJZZ would say buy (Z = 0.8)
    ("09:30:03", "AAA", 10.0502, "mid band", 0),
    ("09:30:04", "AAA", 10.0601, "just above the band", 1),
    ("09:30:05", "AAA", 10.0399, "just below the band", -1),
    # One-cent NBBO 20.00 x 20.01: inside, the band rule; outside, BJZZ.
    ("09:31:01", "BBB", 20.0188, "outside above, Z = 0.88", 1),
    ("09:31:02", "BBB", 20.0152, "outside above, Z = 0.52", 0),
    ("09:31:03", "BBB", 19.9912, "outside below, Z = 0.12", -1),
    ("09:31:04", "BBB", 20.0042, "inside, in the band", 0),
    ("09:31:05", "BBB", 20.0068, "inside, above the band", 1),
    # No NBBO yet for CCC: not classified.
    ("09:29:00", "CCC", 30.0080, "before any quote", 0),
    # A quote at the same timestamp prevails; a later one does not.
    ("09:32:00", "CCC", 30.0330, "same-time quote 30.00 x 30.20", -1),
    ("09:32:59", "CCC", 30.1880, "before the 09:33 quote", 1),
]


def test_quote_midpoint_cases(tmp_path):
    store = tape_store(
        tmp_path,
        [(ts, symbol, price, 100, "D") for ts, symbol, price, _, _ in QUOTE_CASES],
        [("09:30:00", "AAA", 10.00, 10.10), ("09:31:00", "BBB", 20.00, 20.01),
         ("09:32:00", "CCC", 30.00, 30.20), ("09:33:00", "CCC", 30.30, 30.40)])
    found = sides(store, "quote_midpoint")
    for _, _, price, what, expected in QUOTE_CASES:
        assert found[price] == expected, what


def test_both_engines_agree(tmp_path, engine):
    store = tape_store(
        tmp_path,
        [(ts, symbol, price, 100, "D") for ts, symbol, price, _, _ in QUOTE_CASES],
        [("09:30:00", "AAA", 10.00, 10.10), ("09:31:00", "BBB", 20.00, 20.01),
         ("09:32:00", "CCC", 30.00, 30.20), ("09:33:00", "CCC", 30.30, 30.40)])
    for method in ("bjzz", "quote_midpoint"):
        ours = identify(connect(store, engine), method).to_pandas()
        duck = identify(connect(store), method).to_pandas()
        pd.testing.assert_frame_equal(ours[OUTPUT_COLUMNS], duck[OUTPUT_COLUMNS], check_dtype=False)
        if method == "quote_midpoint":
            assert sides(store, method, engine) == {price: side for _, _, price, _, side in QUOTE_CASES}


@st.composite
def tapes(draw):
    """Small random tapes: two symbols, prints with random sub-penny parts, random NBBOs."""
    count = draw(st.integers(1, 40))
    prints, quotes = [], []
    for i in range(count):
        symbol = draw(st.sampled_from(["AAA", "BBB"]))
        second = draw(st.integers(0, 59))
        cents = draw(st.integers(990, 1010))
        part = draw(st.sampled_from([0, 1, 20, 39, 40, 50, 60, 61, 80, 99]))
        prints.append((f"09:30:{second:02d}", symbol, (cents * 100 + part) / 10_000,
                       draw(st.sampled_from([1, 100, 250])), draw(st.sampled_from(["D", "D", "N"]))))
    for i in range(draw(st.integers(0, 20))):
        bid = draw(st.integers(985, 1010))
        quotes.append((f"09:30:{draw(st.integers(0, 59)):02d}", draw(st.sampled_from(["AAA", "BBB"])),
                       bid / 100, (bid + draw(st.integers(0, 6))) / 100))
    return prints, quotes


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tapes())
def test_identify_matches_the_pandas_reference(tmp_path_factory, tape):
    prints, quotes = tape
    folder = tmp_path_factory.mktemp("tape")
    store = tape_store(folder, prints, quotes)
    ticks, book = store.read("ticks"), store.read("quotes")
    for method in ("bjzz", "quote_midpoint"):
        ours = identify(connect(store), method).to_pandas()[OUTPUT_COLUMNS]
        expected = reference.identify(ticks, book, method)[OUTPUT_COLUMNS]
        pd.testing.assert_frame_equal(ours, expected, check_dtype=False, rtol=1e-9)


def lean_rows(member: str) -> list[list[str]]:
    """The rows of a LEAN file read with the csv module (independent of our reader)."""
    kind = "trade" if "Trade" in member else "quote"
    with zipfile.ZipFile(DATA / "ticks" / "ibm" / f"20131007_{kind}.zip") as archive:
        return list(csv.reader(io.TextIOWrapper(archive.open(member), "utf-8")))


@pytest.fixture(scope="module")
def ibm(tmp_path_factory) -> tuple[Store, list, list]:
    store = Store.open(tmp_path_factory.mktemp("ibm") / "store", create=True)
    trades = store.ingest("lean_trades", [DATA / "ticks" / "ibm" / "20131007_trade.zip"])
    quotes = store.ingest("lean_quotes", [DATA / "ticks" / "ibm" / "20131007_quote.zip"])
    return store, trades, quotes


def test_real_lean_ibm_tape_venues(ibm):
    store, trades, _ = ibm
    rows = lean_rows("20131007_ibm_Trade_Tick.csv")
    assert (trades[0].read, trades[0].accepted, trades[0].rejected) == (len(rows), len(rows), 0)
    venues = store.read("ticks")["exchange"].value_counts().to_dict()
    assert venues == dict(Counter(row[3] for row in rows))
    assert venues["D"] == 7458
    ticks = store.read("ticks")
    assert ticks["symbol"].unique().tolist() == ["IBM"]
    first = ticks.sort_values(["ts", "seq"]).iloc[0]
    assert (str(first.ts), first.price, first["size"]) == ("2013-10-07 04:00:30.270000", 181.52, 283)


def test_real_lean_ibm_quotes_become_the_nbbo(ibm):
    store, _, quotes = ibm
    report = quotes[0]
    rows = lean_rows("20131007_ibm_Quote_Tick.csv")
    assert report.read == len(rows) == report.accepted + report.rejected
    reasons = Counter(reason.split(":")[0] if "NBBO" in reason else "crossed" if "crossed" in reason
                      else reason for reason in report.rejects["reason"])
    assert reasons["flagged suspicious by the tape (LEAN suspicious = 1)"] == sum(r[7] == "1" for r in rows)
    assert set(reasons) <= {"no NBBO yet", "crossed", "flagged suspicious by the tape (LEAN suspicious = 1)"}
    book = store.read("quotes").sort_values(["ts", "seq"])
    # 09:30:00.072: best bid 181.69 (Q), then best offer 181.90 (P), as the file's rows say.
    at_open = book[book["ts"] == pd.Timestamp("2013-10-07 09:30:00.072")]
    assert (at_open["bid"].iloc[-1], at_open["ask"].iloc[-1]) == (181.69, 181.90)
    assert (book["ask"] >= book["bid"]).all()


def test_real_lean_tape_rounded_to_the_cent_warns(ibm):
    store = ibm[0]
    for method in ("bjzz", "quote_midpoint"):
        result = identify(connect(store), method).to_pandas()
        assert (result.offexchange_trades.iloc[0], result.subpenny_trades.iloc[0]) == (7458, 0)
        assert result.retail_buy_trades.iloc[0] == result.retail_sell_trades.iloc[0] == 0
        assert tape_warnings(result) == [
            "none of the 7,458 off-exchange prints has a sub-penny price: retail trades cannot be "
            "identified on this tape (are its prices rounded to the cent?)"]


def test_real_ibm_nbbo_with_sub_penny_prints_matches_the_reference(ibm, tmp_path):
    """The real IBM NBBO, with the real off-exchange prints moved to sub-penny prices."""
    store, _, _ = ibm
    ticks = store.read("ticks")
    offsets = np.array([0.0012, 0.0023, 0.0051, 0.0077, 0.0088, 0.0049])
    moved = ticks["exchange"] == "D"
    ticks.loc[moved, "price"] = (ticks.loc[moved, "price"]
                                 + offsets[np.arange(moved.sum()) % len(offsets)]).round(4)
    tape = ticks.assign(ts=ticks["ts"].dt.strftime("%Y-%m-%d %H:%M:%S.%f"))[
        ["ts", "symbol", "price", "size", "exchange", "conditions"]]
    tape.to_csv(tmp_path / "ibm.csv", index=False)
    copy = Store.open(tmp_path / "copy", create=True)
    copy.ingest("ticks", [tmp_path / "ibm.csv"])
    store.export("quotes", tmp_path / "quotes.parquet")
    copy.ingest("quotes", [tmp_path / "quotes.parquet"])
    expected = reference.identify(copy.read("ticks"), copy.read("quotes"), "quote_midpoint")
    ours = identify(connect(copy), "quote_midpoint").to_pandas()
    pd.testing.assert_frame_equal(ours[OUTPUT_COLUMNS], expected[OUTPUT_COLUMNS], check_dtype=False,
                                  rtol=1e-9)
    row = ours.iloc[0]
    assert row.subpenny_trades == 7458
    assert 0 < row.retail_buy_trades + row.retail_sell_trades < 7458


def test_identified_flows_are_written_to_retail_flows(tmp_path, reference_files):
    store = tape_store(tmp_path, [("09:30:00", "AAPL", 190.002, 100, "D"),
                                  ("09:30:01", "AAPL", 190.008, 300, "D"),
                                  ("09:30:02", "ZZZZ", 5.008, 10, "D")])
    store.ingest("securities", [reference_files["securities"]])
    result = identify(connect(store), "bjzz").to_pandas()
    report = write_retail_flows(store, result, "bjzz")
    assert (report.read, report.accepted, report.rejected) == (2, 1, 1)
    assert "unknown 'ZZZZ'" in report.rejects["reason"].iloc[0]
    flows = store.read("retail_flows")
    row = flows.iloc[0]
    assert (row.security_id, row.retail_buy_shares, row.retail_sell_trades) == ("AAPL", 300, 1)
    assert row.retail_buy_usd == pytest.approx(190.008 * 300)
    again = write_retail_flows(store, result, "bjzz")
    assert again.counts.unchanged == 1 and store.read("retail_flows").equals(flows)


def test_vendor_retail_file(tmp_path, reference_files):
    store = Store.open(tmp_path / "store", create=True)
    store.ingest("securities", [reference_files["securities"]])
    (tmp_path / "vendor.csv").write_text(
        "trade_date,Symbol,retail_buy_turnover,retail_sell_turnover\n"
        "20240603,AAPL,1500000.5,900000\n"
        "2024-06-03,MSFT,200,300\n"
        "2024-06-03,NOPE,1,1\n"
        "2024-06-03,AAPL,-5,1\n"
        "2024-06-01,MSFT,1,1\n")
    report = store.ingest("retail_vendor", [tmp_path / "vendor.csv"])[0]
    assert (report.read, report.accepted, report.rejected) == (5, 1, 4)
    reasons = dict(zip(report.rejects["row"], report.rejects["reason"]))
    assert "duplicate key" in reasons[1] and "duplicate key" in reasons[4]
    assert "unknown 'NOPE'" in reasons[3]
    assert "not an NYSE trading day" in reasons[5]
    flows = store.read("retail_flows")
    assert flows[["security_id", "retail_buy_usd", "retail_sell_usd"]].values.tolist() == [["MSFT", 200, 300]]


def test_generic_tape_rejects_bad_rows_with_reasons(tmp_path):
    (tmp_path / "tape.csv").write_text(
        "ts,symbol,price,size,exchange\n"
        "2024-06-03 09:30:00.5,AAA,10.002,100,D\n"
        "2024-06-03T09:30:01,AAA,-1,100,D\n"
        "2024-06-03 09:30:02-04:00,AAA,10,100,D\n"
        "yesterday,AAA,10,100,D\n"
        "2024-06-01 10:00:00,AAA,10,100,D\n"
        "2024-06-03 09:30:00.5,AAA,10.002,100,D\n")
    store = Store.open(tmp_path / "store", create=True)
    report = store.ingest("ticks", [tmp_path / "tape.csv"])[0]
    assert (report.read, report.accepted, report.rejected) == (6, 2, 4)
    reasons = dict(zip(report.rejects["row"], report.rejects["reason"]))
    assert reasons[2] == "price: '-1' must be > 0"
    assert "is not a timestamp" in reasons[3] and "is not a timestamp" in reasons[4]
    assert "2024-06-01 (Saturday) is not an NYSE trading day" in reasons[5]
    assert sorted(store.read("ticks")["seq"]) == [0, 1]   # two identical prints at one time
