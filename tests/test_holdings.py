"""13F analytics: quarter-on-quarter flows, holders, concentration and the VIP list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import reference
from filings import filings_book, write_filings_book
from smartmoney import Store
from smartmoney.engine import connect
from smartmoney.metrics import holdings as H
from smartmoney.metrics.inputs import Inputs

DATA = Path(__file__).parent / "data" / "sec13f"
SUBMISSION = ["ACCESSION_NUMBER", "FILING_DATE", "SUBMISSIONTYPE", "CIK", "PERIODOFREPORT"]
INFOTABLE = ["ACCESSION_NUMBER", "NAMEOFISSUER", "TITLEOFCLASS", "CUSIP", "VALUE", "SSHPRNAMT",
             "SSHPRNAMTTYPE", "PUTCALL"]
CUSIP = {"A": "00846U101", "ABNB": "009066101", "ABT": "002824100", "ADP": "053015103"}
# Three filers, two quarters, no closes: every price is implied by the reported values.
#   filer, period, filed, {ticker: (shares, value in dollars)}
FILINGS = [
    ("111", "31-MAR-2023", "15-MAY-2023", {"A": (100, 12000), "ABNB": (50, 6000)}),
    ("222", "31-MAR-2023", "12-MAY-2023", {"A": (200, 24000)}),
    ("111", "30-JUN-2023", "14-AUG-2023", {"A": (150, 21000), "ADP": (10, 2000)}),
    ("222", "30-JUN-2023", "15-AUG-2023", {"A": (100, 14000), "ABT": (40, 4000)}),
    ("333", "30-JUN-2023", "10-AUG-2023", {"ABNB": (30, 3900)}),
]


def write_dataset(folder: Path, filings=FILINGS) -> Path:
    """A Form 13F data set (the four tables the reader needs), one submission per filing; it
    wrote tests/data/sec13f/two_quarters from FILINGS."""
    folder.mkdir(parents=True, exist_ok=True)
    submissions, covers, summaries, rows = [], [], [], []
    for n, (cik, period, filed, held) in enumerate(filings, start=1):
        accession = f"0000000{cik}-23-{n:06d}"
        submissions.append([accession, filed, "13F-HR", cik, period])
        covers.append([accession, f"Filer {cik}", "13F HOLDINGS REPORT"])
        summaries.append([accession, len(held), sum(value for _, value in held.values())])
        rows += [[accession, ticker, "COM", CUSIP[ticker], value, shares, "SH", ""]
                 for ticker, (shares, value) in held.items()]
    for name, columns, table in (
            ("SUBMISSION", SUBMISSION, submissions),
            ("COVERPAGE", ["ACCESSION_NUMBER", "FILINGMANAGER_NAME", "REPORTTYPE"], covers),
            ("SUMMARYPAGE", ["ACCESSION_NUMBER", "TABLEENTRYTOTAL", "TABLEVALUETOTAL"], summaries),
            ("INFOTABLE", INFOTABLE, rows)):
        pd.DataFrame(table, columns=columns).to_csv(folder / f"{name}.tsv", sep="\t", index=False)
    return folder / "INFOTABLE.tsv"


def test_the_two_quarters_data_set_is_the_one_the_hand_figures_are_for(tmp_path):
    written = write_dataset(tmp_path / "dataset").parent
    for name in ("SUBMISSION", "COVERPAGE", "SUMMARYPAGE", "INFOTABLE"):
        assert (written / f"{name}.tsv").read_text() == (DATA / "two_quarters" / f"{name}.tsv").read_text()


@pytest.fixture
def hand_store(tmp_path) -> Store:
    store = Store.open(tmp_path / "store", create=True)
    store.ingest("securities", [DATA / "securities_cusip.csv"])
    [_, report] = store.ingest("sec13f", [DATA / "two_quarters" / "INFOTABLE.tsv"])
    assert (report.read, report.accepted, report.rejected) == (8, 8, 0)
    return store


def _inputs(store: Store, engine: str = "duckdb", as_of=None) -> Inputs:
    return Inputs(connect(store, engine), None if as_of is None else pd.Timestamp(as_of).date())


def test_hand_computed_quarter_of_three_filers(hand_store, engine):
    inputs = _inputs(hand_store, engine)
    book = H.quarterly_flows(inputs, by="book").to_pandas().set_index("period_end")
    assert list(book.index.astype(str)) == ["2023-03-31", "2023-06-30"]
    q1, q2 = book.iloc[0], book.iloc[1]
    # 2023Q1 has no quarter before it: holders and value only.
    assert (q1.holders, q1.value) == (2, 42000.0) and np.isnan(q1.net_flow)
    # Filers 111 and 222 filed both quarters; 333 only the second. Prices implied by the reported
    # values of 2023Q2: A (21000 + 14000) / (150 + 100) = 140, ADP 200, ABT 100, ABNB 3900 / 30 = 130.
    #   111: A +50 x 140 = 7000 bought, ABNB -50 x 130 = 6500 sold (closed), ADP +10 x 200 = 2000 (new)
    #   222: A -100 x 140 = 14000 sold, ABT +40 x 100 = 4000 (new)
    assert (q2.long_buy, q2.long_sell, q2.net_flow, q2.gross_traded) == (13000.0, 20500.0, -7500.0, 33500.0)
    assert (q2.new_positions, q2.closed_positions, q2.filers, q2.holders, q2.unvalued) == (2, 1, 2, 3, 0)
    assert q2.value == 21000 + 2000 + 14000 + 4000 + 3900
    assert q2.net_flow_pct_value == pytest.approx(100 * -7500 / 42000, rel=1e-12)  # of 111's and 222's Q1 value
    sectors = H.quarterly_flows(inputs, by="sector").to_pandas()
    q2_sectors = sectors[sectors.period_end.astype(str) == "2023-06-30"].set_index("sector")
    assert q2_sectors.net_flow.to_dict() == {"Consumer Discretionary": -6500.0, "Health Care": -3000.0,
                                             "Industrials": 2000.0}
    tickers = H.quarterly_flows(inputs, by="ticker").to_pandas()
    a = tickers[(tickers.ticker == "A") & (tickers.period_end.astype(str) == "2023-06-30")].iloc[0]
    assert (a.holders, a.holders_change, a.net_flow) == (2, 0, 7000.0 - 14000.0)
    abnb = tickers[(tickers.ticker == "ABNB") & (tickers.period_end.astype(str) == "2023-06-30")].iloc[0]
    assert (abnb.holders, abnb.holders_change, abnb.closed_positions) == (1, -1, 1)  # 333 is new, not counted


def test_hand_computed_concentration_and_vip(hand_store, engine):
    inputs = _inputs(hand_store, engine)
    top = H.concentration(inputs).to_pandas()
    q1 = top[top.period_end.astype(str) == "2023-03-31"].set_index("account_id")
    assert q1.loc["0000000111", ["positions", "long_value", "top10_share"]].tolist() == [2, 18000.0, 100.0]
    assert q1.loc["0000000111", "name"] == "Filer 111"
    vip = H.vip(inputs, top=20).to_pandas()
    q2 = vip[vip.period_end.astype(str) == "2023-06-30"]
    assert q2[["ticker", "funds", "of", "rank", "funds_before"]].values.tolist() == [
        ["A", 2, 3, 1, 2], ["ABNB", 1, 3, 2, 1], ["ABT", 1, 3, 2, 0], ["ADP", 1, 3, 2, 0]]
    assert q2.rank_before.tolist()[:2] == [1, 2] and q2.rank_before.isna().tolist() == [False, False, True, True]
    assert q2.new.tolist() == [False, False, True, True]
    assert vip[vip.period_end.astype(str) == "2023-03-31"].new.isna().all()  # no quarter before to compare


def test_a_filing_counts_from_its_filing_date(hand_store, engine):
    # On 2023-08-14, 111 (filed that day) and 333 have filed for 2023Q2; 222 files on the 15th.
    book = H.quarterly_flows(_inputs(hand_store, engine, "2023-08-14"), by="book").to_pandas()
    q2 = book.iloc[-1]
    # Only 111 is in both quarters; A is priced by 111 alone (140), ABNB by 333 (130).
    assert (q2.long_buy, q2.long_sell, q2.filers, q2.holders) == (9000.0, 6500.0, 1, 2)
    before = H.quarterly_flows(_inputs(hand_store, engine, "2023-08-09"), by="book").to_pandas()
    assert before.period_end.astype(str).tolist() == ["2023-03-31"]


def test_closes_value_holdings_before_reported_values(tmp_path, hand_store):
    prices = tmp_path / "prices.csv"
    pd.DataFrame({"date": ["2023-06-30"], "security_id": ["A"], "close": [141.5]}).to_csv(prices, index=False)
    hand_store.ingest("prices", [prices])
    h = H.holdings(_inputs(hand_store)).to_pandas()
    q2 = h[h.period_end.astype(str) == "2023-06-30"].set_index(["account_id", "security_id"])
    assert q2.loc[("0000000111", "A"), ["price", "price_source", "value"]].tolist() == [141.5, "close", 150 * 141.5]
    assert q2.loc[("0000000333", "ABNB"), ["price", "price_source"]].tolist() == [130.0, "reported"]


def _compare(got: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    got = got.assign(period_end=pd.to_datetime(got.period_end)).sort_values(keys, ignore_index=True)
    expected = expected.assign(period_end=pd.to_datetime(expected.period_end)).sort_values(keys, ignore_index=True)
    columns = [c for c in expected.columns if c in got.columns]
    pd.testing.assert_frame_equal(got[columns].astype({c: float for c in columns if c not in keys + ["new"]}),
                                  expected[columns].astype({c: float for c in columns if c not in keys + ["new"]}),
                                  check_dtype=False, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("as_of", [None, "2023-08-01"])
def test_random_books_match_the_pandas_reference(tmp_path, seed, as_of):
    _matches_the_reference(tmp_path, seed, as_of, "duckdb")


@pytest.mark.spark
def test_a_random_book_matches_the_pandas_reference_on_spark(tmp_path):
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    _matches_the_reference(tmp_path, 1, "2023-08-01", "spark")


def _matches_the_reference(tmp_path, seed: int, as_of: str | None, engine: str) -> None:
    book = filings_book(seed)
    inputs = _inputs(write_filings_book(book, tmp_path), engine, as_of)
    tables = (book["positions"], book["accounts"], book["securities"], book["prices"])
    for by in ("book", "sector", "ticker"):
        expected = reference.filer_flows(*tables, by=by, as_of=as_of)
        _compare(H.quarterly_flows(inputs, by=by).to_pandas(), expected, ["period_end", by])
    _compare(H.concentration(inputs).to_pandas(), reference.concentration(*tables, as_of=as_of),
             ["period_end", "account_id"])
    _compare(H.vip(inputs, top=5).to_pandas(), reference.vip(*tables, as_of=as_of, top=5),
             ["period_end", "ticker"])


def test_the_prime_brokerage_account_is_not_a_filer(tmp_path):
    book = filings_book(4)
    h = H.holdings(_inputs(write_filings_book(book, tmp_path))).to_pandas()
    assert "PB-1" in set(book["positions"].account_id) and "PB-1" not in set(h.account_id)


def test_an_unknown_grouping_is_refused():
    with pytest.raises(ValueError, match="unknown group 'strategy' for 13F analytics; choose one of book"):
        H.check("strategy")


# ------------------------------------------------------------------------ facts and the note


GOLDEN = Path(__file__).parent / "golden"


def _by_id(facts) -> dict:
    return {fact.id: fact for fact in facts}


def test_the_facts_of_the_hand_computed_quarter(hand_store):
    import smartmoney as sm

    facts = _by_id(sm.open(hand_store).facts())
    assert all(f.who == "13f_filers" and f.period == "Q" for f in facts.values())
    level = facts["level:13f_filers:net_flow:book=all:Q:2023-06-30"]
    assert level.value == -7500.0
    assert level.components["long_buy"] == 13000.0 and level.components["long_sell"] == 20500.0
    assert (level.components["filers"], level.components["filed"]) == (2, 3)
    # Consumer Discretionary -6,500 and Health Care -3,000 net sold, Industrials +2,000 bought.
    sold = facts["breadth:13f_filers:net_flow:sector=all:Q:2023-06-30:sold"]
    assert (sold.n, sold.of) == (2, 3)
    assert facts["flow:13f_filers:net_flow:sector=Consumer Discretionary:Q:2023-06-30:sold:1"].value == -6500.0
    # Holders among the filers of both quarters: ABT and ADP gained one each, ABNB lost one.
    gained = [f for f in facts.values() if f.metric == "holders_change" and f.direction == "bought"]
    assert [(f.group, f.value, f.n) for f in sorted(gained, key=lambda f: f.n)] == [("ABT", 1.0, 1), ("ADP", 1.0, 2)]
    lost = [f for f in facts.values() if f.metric == "holders_change" and f.direction == "sold"]
    assert [(f.group, f.value, f.components["closed_positions"]) for f in lost] == [("ABNB", -1.0, 1.0)]
    # Both quarters, every filer holds fewer than 10 stocks: the whole book is its top 10.
    share = facts["level:13f_filers:top10_share:book=all:Q:2023-06-30"]
    assert (share.value, share.components["filers"]) == (100.0, 3)
    assert facts["change:13f_filers:top10_share:book=all:Q:2023-06-30"].value == 0.0
    vip = sorted((f for f in facts.values() if f.metric == "vip"), key=lambda f: (f.n, f.group))
    assert [(f.group, f.value, f.of, f.n, f.label) for f in vip] == [
        ("A", 2.0, 3, 1, ""), ("ABNB", 1.0, 3, 2, ""), ("ABT", 1.0, 3, 2, "new"), ("ADP", 1.0, 3, 2, "new")]


def test_the_facts_wait_for_the_filings(hand_store):
    import smartmoney as sm

    book = sm.open(hand_store)
    # 2023-08-11: 333 (Aug 10) has filed for Q2, 111 (Aug 14) and 222 (Aug 15) have not: no filer is
    # in both quarters yet, so the last quarter with flows is none at all.
    assert book.facts(as_of="2023-08-11") == []
    facts = _by_id(book.facts(as_of="2023-08-14"))
    level = facts["level:13f_filers:net_flow:book=all:Q:2023-06-30"]
    assert (level.value, level.components["filers"], level.components["filed"]) == (2500.0, 1, 2)


def test_the_13f_note_matches_its_golden_text(hand_store, update_golden):
    from smartmoney.report.build import build
    from smartmoney.report.text import render_text

    import smartmoney as sm

    report = build(sm.open(hand_store))
    assert report.as_of.isoformat() == "2023-08-15"  # the last filing date: the day the quarter is known
    assert [s.key for s in report.sections] == ["filers"]
    assert [c.key for c in report.charts] == ["filer_sectors", "vip"]
    text = render_text(report)
    if update_golden:
        (GOLDEN / "13f-report.txt").write_text(text)
    assert text == (GOLDEN / "13f-report.txt").read_text(), "run pytest --update-golden after checking the diff"
    for sentence in report.sections[0].sentences:
        assert sentence.fact_ids, sentence.text


def test_the_cli_shows_13f_metrics(hand_store):
    from typer.testing import CliRunner

    from smartmoney.cli import app

    result = CliRunner().invoke(app, ["metrics", "13f_flows", "--store", str(hand_store.path), "--by", "sector",
                                      "--format", "csv"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(__import__("io").StringIO(result.stdout))
    assert frame.loc[frame.period_end == "2023-06-30", "net_flow"].sum() == -7500.0
    result = CliRunner().invoke(app, ["metrics", "13f_flows", "--store", str(hand_store.path), "--by", "strategy"])
    assert result.exit_code == 2 and "unknown group 'strategy' for 13F analytics" in result.output
    for family, column in (("13f_holders", "holders_change"), ("13f_concentration", "top10_share"),
                           ("13f_vip", "funds")):
        result = CliRunner().invoke(app, ["metrics", family, "--store", str(hand_store.path), "--format", "json"])
        assert result.exit_code == 0 and column in result.stdout, (family, result.output)
