"""Disclosure control: no output reveals one account's positions, including by differencing."""

from __future__ import annotations

import json

import ibis
import numpy as np
import pandas as pd
import pytest
from books import make_store
from typer.testing import CliRunner

import smartmoney as sm
from smartmoney.cli import app
from smartmoney.metrics import Disclosure, groups
from smartmoney.taxonomy import sp500_universe, trading_days

DAYS = trading_days("2024-05-01", "2024-06-28")
ACCOUNTS = [f"F{i}" for i in range(8)]
# NVDA: IT, JPM: Financials, XOM: Energy, LIN: Materials, JNJ: Health Care
WIDE = ["NVDA", "JPM", "XOM"]


def _book(tmp_path, *, health_care_holders: int):
    """Eight accounts hold IT, Financials and Energy alike. Materials is dominated by F0;
    Health Care is held by `health_care_holders` accounts."""
    rng = np.random.default_rng(3)
    positions, prices, equity = [], [], []
    for i, day in enumerate(DAYS):
        for a, account in enumerate(ACCOUNTS):
            equity.append((day, account, 1e8))
            for s in WIDE:
                positions.append((day, account, s, float(1000 + 10 * a + rng.integers(0, 200))))
            lin = 2_000 + 10 * i if a == 0 else 100 + rng.integers(0, 20)
            positions.append((day, account, "LIN", float(lin)))
            if a < health_care_holders:
                positions.append((day, account, "JNJ", float(500 + rng.integers(0, 100))))
        for s in [*WIDE, "LIN", "JNJ"]:
            prices.append((day, s, 100.0 + i))
    securities = sp500_universe()
    securities = securities[securities.security_id.isin([*WIDE, "LIN", "JNJ"])]
    return make_store(tmp_path / "store", securities=securities,
                      positions=pd.DataFrame(positions, columns=["date", "account_id", "security_id", "quantity"]),
                      prices=pd.DataFrame(prices, columns=["date", "security_id", "close"]),
                      equity=pd.DataFrame(equity, columns=["date", "account_id", "equity"]))


@pytest.fixture(scope="module")
def two_primaries(tmp_path_factory):
    return _book(tmp_path_factory.mktemp("two"), health_care_holders=2)


@pytest.fixture(scope="module")
def one_primary(tmp_path_factory):
    return _book(tmp_path_factory.mktemp("one"), health_care_holders=8)


def _last_week(frame):
    return frame[frame.period_end == frame.period_end.max()].set_index("sector")


@pytest.mark.parametrize("family", ["exposure", "flows"])
def test_dominated_and_thin_cells_are_suppressed(two_primaries, family):
    frame = _last_week(getattr(sm.open(two_primaries), family)(by="sector").to_pandas())
    assert frame.suppressed.to_dict() == {"Energy": False, "Financials": False, "Health Care": True,
                                          "Information Technology": False, "Materials": True}
    value = "gross" if family == "exposure" else "net_flow"
    assert frame.loc[["Health Care", "Materials"], [value, "accounts"]].isna().all().all()
    assert frame.loc["Energy", "accounts"] == 8


def test_the_rule_is_configurable(two_primaries):
    frame = _last_week(sm.open(two_primaries, k=2, p=100).exposure(by="sector").to_pandas())
    assert not frame.suppressed.any()
    frame = _last_week(sm.open(two_primaries, k=9).exposure(by="sector").to_pandas())
    assert frame.suppressed.all()


def test_a_lone_suppressed_cell_gets_a_complement(one_primary):
    book = sm.open(one_primary)
    for family, value in (("exposure", "gross"), ("flows", "gross_traded")):
        sectors = getattr(book, family)(by="sector").to_pandas()
        total = getattr(book, family)(by="book").to_pandas().set_index("period_end")[value]
        for period_end, cells in sectors.groupby("period_end"):
            hidden = cells[cells.suppressed]
            if hidden.empty:
                continue
            assert "Materials" in set(hidden.sector) and len(hidden) >= 2, (family, period_end)
            # Differencing the book total gives only the sum of two or more hidden cells.
            remainder = total[period_end] - cells.loc[~cells.suppressed, value].sum()
            unsuppressed = getattr(sm.open(one_primary, k=1, p=100), family)(by="sector").to_pandas()
            truth = unsuppressed[(unsuppressed.period_end == period_end)].set_index("sector")[value]
            assert remainder == pytest.approx(truth[hidden.sector].sum())
            assert all(remainder != pytest.approx(truth[s]) for s in hidden.sector)


def test_no_fact_states_a_suppressed_cell(two_primaries):
    found = sm.open(two_primaries).facts()
    assert found, "the book has publishable facts"
    named = {fact.group for fact in found}
    assert not named & {"Materials", "Health Care"}
    breadth = [f for f in found if f.kind == "breadth" and f.group_by == "sector"]
    assert {f.of for f in breadth} == {3} and breadth[0].components["suppressed"] == 2.0


def test_cli_outputs_keep_suppressed_cells_blank(two_primaries):
    runner = CliRunner()
    result = runner.invoke(app, ["metrics", "exposure", "--store", str(two_primaries.path),
                                 "--by", "sector", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = [r for r in json.loads(result.output) if r["sector"] == "Materials"]
    assert rows and all(r["suppressed"] and r["gross"] is None and r["lmv"] is None for r in rows)
    csv_text = runner.invoke(app, ["metrics", "flows", "--store", str(two_primaries.path), "--by", "sector",
                                   "--format", "csv"]).output
    materials = [line for line in csv_text.splitlines() if ",Materials," in line]
    assert materials and all(line.endswith(",True") and ",," in line for line in materials)


@pytest.mark.parametrize(("family", "by"), [("exposure", "sector"), ("flows", "sector"), ("flows", "ticker")])
def test_a_rule_that_hides_nothing_skips_the_passes_and_publishes_the_same(one_primary, monkeypatch, family, by):
    shortcut = getattr(sm.open(one_primary, k=1, p=100), family)(by=by).to_pandas()
    assert not shortcut.suppressed.any()
    monkeypatch.setattr(Disclosure, "hides_nothing", property(lambda rule: False))
    passes = getattr(sm.open(one_primary, k=1, p=100), family)(by=by).to_pandas()
    pd.testing.assert_frame_equal(shortcut, passes)


MAG7 = ["AAPL", "MSFT", "NVDA", "AMZN", "TSLA", "GOOGL", "META"]


@pytest.fixture(scope="module")
def dominated_tesla(tmp_path_factory):
    """Eight accounts hold the Magnificent 7 and Ford alike, except TSLA, which F0 dominates.
    TSLA's only sibling in its sub-industry, industry and sector is F, outside the basket."""
    rng = np.random.default_rng(7)
    names = [*MAG7, "F"]
    positions, prices, equity = [], [], []
    for i, day in enumerate(DAYS):
        for a, account in enumerate(ACCOUNTS):
            equity.append((day, account, 1e8))
            for name in names:
                quantity = 1000 + 10 * a + rng.integers(0, 200)
                if name == "TSLA":
                    quantity = 20_000 + 1_000 * (i % 2) if a == 0 else 50 + rng.integers(0, 20)
                positions.append((day, account, name, float(quantity)))
        prices += [(day, name, 100.0 + i) for name in names]
    securities = sp500_universe()
    return make_store(tmp_path_factory.mktemp("tesla") / "store",
                      securities=securities[securities.security_id.isin(names)],
                      positions=pd.DataFrame(positions, columns=["date", "account_id", "security_id", "quantity"]),
                      prices=pd.DataFrame(prices, columns=["date", "security_id", "close"]),
                      equity=pd.DataFrame(equity, columns=["date", "account_id", "equity"]))


@pytest.mark.parametrize(("family", "value"), [("exposure", "gross"), ("flows", "gross_traded")])
def test_a_basket_minus_its_published_stocks_never_gives_one_stock_away(dominated_tesla, family, value):
    """A basket cuts across sectors: the Magnificent 7's published total minus its published
    stocks must not be one hidden stock (TSLA, dominated by one account), so a second member
    is hidden with it, though its sub-industry, industry and sector already have a complement."""
    book, truth_book = sm.open(dominated_tesla), sm.open(dominated_tesla, k=1, p=100)
    tickers = getattr(book, family)(by="ticker").to_pandas()
    baskets = getattr(book, family)(by="basket").to_pandas().set_index(["period_end", "basket"])
    truth = getattr(truth_book, family)(by="ticker").to_pandas().set_index(["period_end", "ticker"])[value]
    checked = 0
    for period_end, cells in tickers.groupby("period_end"):
        members, basket = cells[cells.ticker.isin(MAG7)], baskets.loc[(period_end, "magnificent_7")]
        hidden = members[members.suppressed]
        if basket.suppressed or hidden.empty:
            continue
        assert "TSLA" in set(hidden.ticker) and len(hidden) >= 2, (family, period_end, list(hidden.ticker))
        remainder = basket[value] - members.loc[~members.suppressed, value].sum()
        assert remainder == pytest.approx(sum(truth[(period_end, t)] for t in hidden.ticker))
        assert all(remainder != pytest.approx(truth[(period_end, t)]) for t in hidden.ticker)
        checked += 1
    assert checked >= 8


def test_only_baskets_that_cut_across_the_nesting_make_cell_sets(dominated_tesla):
    """Among tickers, the Magnificent 7 (seven tickers in three sectors) is a cell set summing
    to its basket cell; TMT (two whole sectors) and semiconductors (one ticker here) are not,
    and no basket makes a set among coarser groupings (the Magnificent 7 splits them)."""
    from smartmoney.metrics import linked

    sets = linked.members(sm.open(dominated_tesla).inputs())
    keys = sorted(sets)
    parts, parents = linked.cell_sets(keys, sets)
    named = [({keys[i] for i in part}, keys[parent] if parent >= 0 else None) for part, parent in zip(parts, parents)]
    by_basket = [(cells, parent) for cells, parent in named if parent and parent[0] == "basket"]
    assert by_basket == [({("ticker", t) for t in MAG7}, ("basket", "magnificent_7"))]
    assert ({("sector", "Communication Services"), ("sector", "Information Technology")}, ("tmt", "TMT")) in named


def _primaries(store, family: str) -> set:
    """(period_end, grouping, group) of the cells the rule itself hides (no complements),
    computed here from the cells before disclosure control."""
    from smartmoney.metrics.exposure import exposure_cells
    from smartmoney.metrics.flows import flow_cells
    from smartmoney.metrics.linked import LINKED

    inputs, found = sm.open(store).inputs(), set()
    for by in LINKED:
        if family == "flows":
            cells, size = flow_cells(inputs, by=by, freq="W", use_trades=False).to_pandas(), "gross_traded"
        else:
            cells, size = exposure_cells(inputs, by=by, freq="W").to_pandas(), "gross"
        rule = ((cells.accounts > 0) & (cells.accounts < 5)) | (cells.top > 0.5 * cells[size].abs())
        found |= {(end, by, str(group)) for end, group in cells.loc[rule, ["period_end", by]].itertuples(index=False)}
    return found


@pytest.mark.parametrize("family", ["exposure", "flows"])
def test_the_audit_finds_what_suppression_table_by_table_gives_away(dominated_tesla, monkeypatch, family):
    """Without the linked pattern (each table on its own, complements within its periods), the
    tables together give away TSLA, which one account dominates."""
    from smartmoney.metrics import linked

    monkeypatch.setattr(linked, "decides", lambda by: False)
    found = sm.open(dominated_tesla).disclosure_audit(family, last=0)
    assert list(found.columns) == ["period_end", "grouping", "group", "sensitive", "exposed"]   # never a value
    assert found.period_end.nunique() == 9
    exposed = found[found.exposed & found.sensitive]
    assert ("ticker", "TSLA") in set(zip(exposed.grouping, exposed.group))


@pytest.mark.parametrize("family", ["exposure", "flows"])
def test_the_audit_finds_nothing_where_every_grouping_has_the_same_cells(two_primaries, family):
    """One security per sector: every grouping's cells are the same sums, hidden alike."""
    found = sm.open(two_primaries).disclosure_audit(family, last=0)
    assert len(found) == 90 and not found.exposed.any()
    assert set(found.group[found.grouping == "ticker"]) == {"JNJ", "LIN"}


@pytest.mark.parametrize("family", ["exposure", "flows"])
def test_no_cell_the_rule_hides_is_exposed_by_all_the_tables_together(dominated_tesla, family):
    found = sm.open(dominated_tesla).disclosure_audit(family, last=0)
    primaries = _primaries(dominated_tesla, family)
    assert primaries
    assert set(found.loc[found.sensitive, ["period_end", "grouping", "group"]].itertuples(index=False, name=None)) \
        == primaries   # the audit tells the rule's own cells from the complements, as computed here
    exposed = {(end, by, group) for end, by, group in found.loc[found.exposed, ["period_end", "grouping", "group"]]
               .itertuples(index=False)}
    assert not exposed & primaries, sorted(exposed & primaries)[:5]


def test_the_audit_command_exits_1_when_a_cell_the_rule_hides_is_exposed(dominated_tesla, monkeypatch):
    from smartmoney.metrics import linked

    runner = CliRunner()
    command = ["audit", "--store", str(dominated_tesla.path), "--last", "0", "--format", "json"]
    safe = runner.invoke(app, command)
    assert safe.exit_code == 0 and "0 of them hidden by the rule itself" in safe.stderr
    monkeypatch.setattr(linked, "decides", lambda by: False)   # each table on its own
    leaky = runner.invoke(app, command)
    assert leaky.exit_code == 1
    rows = json.loads(leaky.stdout)
    assert {"grouping": "ticker", "group": "TSLA", "sensitive": True, "exposed": True} in [
        {k: row[k] for k in ("grouping", "group", "sensitive", "exposed")} for row in rows]


def test_a_released_as_of_lets_its_patterns_go(dominated_tesla):
    import gc

    book = sm.open(dominated_tesla)
    book.flows(by="sector", as_of="2024-06-21").to_pandas()   # with the sectors' exposure: two patterns
    patterns = "SELECT count(*) FROM duckdb_views() WHERE view_name LIKE '_smartmoney_pattern%'"
    assert book.backend.con.execute(patterns).fetchone()[0] == 2
    book.release("2024-06-21")
    gc.collect()
    assert book.backend.con.execute(patterns).fetchone()[0] == 0


def test_a_book_without_prices_has_empty_linked_tables(tmp_path):
    """No price, so no flow and no value: every grouping's table is empty, not an error."""
    positions = pd.DataFrame({"date": ["2024-05-01", "2024-05-02"], "account_id": ["F0", "F0"],
                              "security_id": ["NVDA", "NVDA"], "quantity": [10.0, 20.0]})
    securities = sp500_universe()
    store = make_store(tmp_path / "store", securities=securities[securities.security_id == "NVDA"],
                       positions=positions, prices=pd.DataFrame(columns=["date", "security_id", "close"]))
    book = sm.open(store)
    for by in ("sector", "ticker", "basket"):
        assert book.flows(by=by).to_pandas().empty and book.exposure(by=by).to_pandas().empty
    assert book.disclosure_audit(last=0).empty
