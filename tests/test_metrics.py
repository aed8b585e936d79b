"""Positioning metrics: hand-computed cases, the pandas twin on random books, both engines."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import reference
from books import make_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import smartmoney as sm
from smartmoney.metrics import Inputs
from smartmoney.taxonomy import trading_days

DAYS = trading_days("2024-06-10", "2024-07-12")          # Juneteenth and July 4 fall inside


def _frame(rows, columns):
    return pd.DataFrame(rows, columns=columns)


def _one_position_book(tmp_path, quantities, *, prices=None, equity_days=None):
    """Account A holds AAA with the given quantity per day (None = no row)."""
    days = DAYS[:len(quantities)]
    positions = _frame([(d, "A", "AAA", q) for d, q in zip(days, quantities) if q is not None],
                       ["date", "account_id", "security_id", "quantity"])
    closes = prices or [10.0] * len(days)
    price_rows = _frame([(d, "AAA", p) for d, p in zip(days, closes) if p is not None],
                        ["date", "security_id", "close"])
    equity_days = days if equity_days is None else equity_days
    equity = _frame([(d, "A", 1000.0) for d in equity_days], ["date", "account_id", "equity"])
    return make_store(tmp_path / "store", positions=positions, prices=price_rows, equity=equity)


def _daily(store, **kwargs):
    book = sm.open(store, k=1, p=100)
    frame = book.flows(by="book", freq="D", **kwargs).to_pandas()
    return frame.set_index(frame.period_end.dt.date)


TRANSITIONS = [
    # (old, new): long_buy, long_sell, short_sale, short_cover at a close of 10
    ((100, 150), (500, 0, 0, 0)),
    ((150, 80), (0, 700, 0, 0)),
    ((80, -50), (0, 800, 500, 0)),        # flip: close the long, open a short
    ((-50, -120), (0, 0, 700, 0)),
    ((-120, -20), (0, 0, 0, 1000)),
    ((-20, 30), (300, 0, 0, 200)),        # flip: cover the short, open a long
    ((30, None), (0, 300, 0, 0)),         # a missing row is a closed position
    ((None, -40), (0, 0, 400, 0)),        # a new short
]


@pytest.mark.parametrize(("step", "expected"), TRANSITIONS)
def test_each_flow_transition_by_hand(tmp_path, step, expected):
    store = _one_position_book(tmp_path, [step[0], step[1]])
    day = _daily(store).loc[DAYS[1]]
    assert [day.long_buy, day.long_sell, day.short_sale, day.short_cover] == list(map(float, expected))
    assert day.net_flow == expected[0] - expected[1] - expected[2] + expected[3]
    assert day.gross_traded == sum(expected)
    assert (day.risk_on, day.risk_off) == (expected[0] + expected[2], expected[1] + expected[3])


def test_flows_are_valued_at_the_close_of_the_day_so_price_moves_are_not_flows(tmp_path):
    store = _one_position_book(tmp_path, [100, 100, 130], prices=[10.0, 12.0, 11.0])
    daily = _daily(store)
    assert daily.loc[DAYS[1]].gross_traded == 0.0
    assert daily.loc[DAYS[2]].long_buy == 30 * 11.0


def test_first_day_entry_exit_and_gaps_are_not_trades(tmp_path):
    # A is present on days 0-2, absent on day 3, back on day 4 with another holding, then day 5;
    # B is present every day (so day 3 is in the data) and joins the book on day 0.
    a_days = {0: 100, 1: 120, 2: 120, 4: 500, 5: 400}
    positions = _frame([(DAYS[i], "A", "AAA", float(q)) for i, q in a_days.items()]
                       + [(DAYS[i], "B", "BBB", 10.0) for i in range(6)],
                       ["date", "account_id", "security_id", "quantity"])
    prices = _frame([(DAYS[i], s, 10.0) for i in range(6) for s in ("AAA", "BBB")], ["date", "security_id", "close"])
    equity = _frame([(DAYS[i], "A", 1e3) for i in a_days] + [(DAYS[i], "B", 1e3) for i in range(6)],
                    ["date", "account_id", "equity"])
    store = make_store(tmp_path / "s", positions=positions, prices=prices, equity=equity)
    daily = _daily(store)
    assert daily.loc[DAYS[0]].gross_traded == 0.0               # the data's first day: a baseline
    assert daily.loc[DAYS[1]].long_buy == 200.0                 # 100 -> 120
    assert daily.loc[DAYS[3]].gross_traded == 0.0               # A leaves: not a sale
    assert daily.loc[DAYS[4]].gross_traded == 0.0               # A is back: a baseline, not a buy
    assert daily.loc[DAYS[5]].long_sell == 1000.0               # 500 -> 400


def test_missing_price_excludes_the_position_and_is_counted(tmp_path):
    store = _one_position_book(tmp_path, [100, 150, 200], prices=[10.0, None, 10.0])
    book = sm.open(store, k=1, p=100)
    daily = _daily(store)
    assert daily.loc[DAYS[1]].gross_traded == 0.0               # not valued at 0, left out
    assert daily.loc[DAYS[2]].long_buy == 500.0
    diagnostics = book.diagnostics().to_pandas()
    assert diagnostics.unpriced_positions.tolist() == [1]
    assert pd.Timestamp(diagnostics.date.iloc[0]).date() == DAYS[1]
    exposure = book.exposure(freq="D").to_pandas().set_index("period_end")
    assert pd.Timestamp(DAYS[1]) not in exposure.index


def test_trades_replace_position_changes_when_present(tmp_path):
    positions = _frame([(DAYS[0], "A", "AAA", 100.0), (DAYS[1], "A", "AAA", 50.0)],
                       ["date", "account_id", "security_id", "quantity"])
    prices = _frame([(d, "AAA", 10.0) for d in DAYS[:2]], ["date", "security_id", "close"])
    trades = _frame([(DAYS[1], "A", "AAA", -80.0, 10.5, "long_sell"),
                     (DAYS[1], "A", "AAA", 30.0, 9.5, "long_buy")],
                    ["date", "account_id", "security_id", "quantity", "price", "side"])
    store = make_store(tmp_path / "s", positions=positions, prices=prices, trades=trades)
    day = _daily(store).loc[DAYS[1]]
    assert (day.long_sell, day.long_buy) == (840.0, 285.0)


@st.composite
def books(draw):
    """Small random books: sign flips, closes, missing prices, accounts entering and leaving."""
    n_days = draw(st.integers(4, 14))
    days = DAYS[:n_days]
    accounts = [f"A{i}" for i in range(draw(st.integers(1, 4)))]
    securities = ["AAA", "BBB", "CCC", "DDD", "ETF1", "OPT1"]
    quantity = st.one_of(st.none(), st.integers(-500, 500).map(float))
    positions, equity = [], []
    for account in accounts:
        first = draw(st.integers(0, n_days - 2))
        last = draw(st.integers(first + 1, n_days - 1))
        for day in days[first:last + 1]:
            if draw(st.booleans()) or day == days[first]:
                equity.append((day, account, float(draw(st.integers(100, 10_000)))))
            for security in securities:
                q = draw(quantity)
                if q:
                    positions.append((day, account, security, q))
    assume_rows = positions or [(days[0], accounts[0], "AAA", 1.0)]
    prices = [(day, security, draw(st.floats(1, 500).map(lambda x: round(x, 2))))
              for day in days for security in securities if draw(st.integers(0, 9)) > 0]
    return (_frame(assume_rows, ["date", "account_id", "security_id", "quantity"]),
            _frame(prices, ["date", "security_id", "close"]),
            _frame(equity, ["date", "account_id", "equity"]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(book=books(), by=st.sampled_from(["book", "sector", "strategy", "asset_type"]),
       freq=st.sampled_from(["D", "W"]))
def test_engine_agrees_with_the_pandas_twin_on_random_books(tmp_path_factory, book, by, freq):
    positions, prices, equity = book
    store = make_store(tmp_path_factory.mktemp("random") / "s", positions=positions, prices=prices,
                       equity=equity)
    securities, accounts = store.read("securities"), store.read("accounts")
    positions, prices, equity = (store.read(name) for name in ("positions", "prices", "equity"))
    opened = sm.open(store, k=1, p=100)
    ours = opened.flows(by=by, freq=freq).to_pandas().sort_values(["period_end", by], ignore_index=True)
    twin = reference.flows(positions, prices, equity, securities, accounts, by=by, freq=freq)
    columns = [*reference.COMPONENTS, "net_flow", "gross_traded"]
    assert ours[["period_end", by]].astype(str).values.tolist() == twin[["period_end", by]].astype(str).values.tolist()
    np.testing.assert_allclose(ours[columns].to_numpy(float), twin[columns].to_numpy(float), rtol=1e-9, atol=1e-9)
    ours_exposure = opened.exposure(by=by, freq=freq).to_pandas().sort_values(["period_end", by], ignore_index=True)
    twin_exposure = reference.exposure(positions, prices, equity, securities, accounts, by=by, freq=freq)
    twin_exposure = twin_exposure.sort_values(["period_end", by], ignore_index=True)
    assert len(ours_exposure) == len(twin_exposure)
    measured = ["lmv", "smv", "gross", "net", "equity", "gross_leverage", "net_leverage"]
    np.testing.assert_allclose(ours_exposure[measured].to_numpy(float), twin_exposure[measured].to_numpy(float),
                               rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module")
def weekly_book(tmp_path_factory):
    """Six accounts over 40 weeks, all sectors of the small universe, deterministic."""
    rng = np.random.default_rng(5)
    days = trading_days("2023-09-04", "2024-06-28")
    securities = ["AAA", "BBB", "CCC", "DDD", "ETF1"]
    accounts = [f"F{i}" for i in range(6)]
    base = {(a, s): rng.integers(-2000, 4000) for a in accounts for s in securities}
    positions, prices, equity = [], [], []
    for i, day in enumerate(days):
        for a in accounts:
            equity.append((day, a, 1e6 * (1 + accounts.index(a))))
            for s in securities:
                base[(a, s)] += rng.integers(-300, 300)
                if base[(a, s)]:
                    positions.append((day, a, s, float(base[(a, s)])))
        for s in securities:
            prices.append((day, s, round(50 + 10 * np.sin(i / 9 + len(s)), 2)))
    store = make_store(tmp_path_factory.mktemp("weekly") / "s",
                       positions=_frame(positions, ["date", "account_id", "security_id", "quantity"]),
                       prices=_frame(prices, ["date", "security_id", "close"]),
                       equity=_frame(equity, ["date", "account_id", "equity"]))
    return store


def test_weekly_sd_units_match_the_twin_and_exclude_the_current_week(weekly_book, engine):
    book = sm.open(weekly_book, engine=engine, k=1, p=100)
    ours = book.flows(by="sector", freq="W").to_pandas().sort_values(["period_end", "sector"], ignore_index=True)
    store = weekly_book
    twin = reference.flows(store.read("positions"), store.read("prices"), store.read("equity"),
                           store.read("securities"), store.read("accounts"), by="sector", freq="W")
    assert ours.period_end.dt.dayofweek.isin([3, 4]).all()          # Fridays (Thursday before a holiday)
    np.testing.assert_allclose(ours.net_flow, twin.net_flow, rtol=1e-9)
    np.testing.assert_allclose(ours.net_flow_sd.to_numpy(float), twin.net_flow_sd.to_numpy(float), rtol=1e-9)
    assert ours.net_flow_sd.notna().sum() > 0
    assert ours.groupby("sector").net_flow_sd.apply(lambda s: s.head(8).isna().all()).all()


def test_monthly_periods_end_on_the_last_trading_day(weekly_book):
    monthly = sm.open(weekly_book, k=1, p=100).exposure(freq="M").to_pandas()
    ends = monthly.period_end.dt.strftime("%Y-%m-%d").tolist()
    assert ends[:4] == ["2023-09-29", "2023-10-31", "2023-11-30", "2023-12-29"]
    assert ends[-1] == "2024-06-28"


def test_percentile_ranks_and_changes(weekly_book):
    frame = sm.open(weekly_book, k=1, p=100).exposure(freq="W").to_pandas()
    lev = frame.gross_leverage.to_numpy()
    i = len(lev) - 1
    window = lev[max(0, i - 51):i + 1]
    assert frame.gross_leverage_pct_rank_1y.iloc[-1] == pytest.approx(100 * (window <= lev[i]).mean())
    assert frame.gross_leverage_change.iloc[-1] == pytest.approx(lev[i] - lev[i - 1])
    both = frame.long_short_ratio.iloc[-1], (frame.lmv / -frame.smv).iloc[-1]
    assert both[0] == pytest.approx(both[1])


def test_without_ranks_or_pct_gross_the_other_columns_are_the_same(weekly_book):
    book = sm.open(weekly_book, k=2, p=22)           # some cells suppressed: blanked alike
    full = book.flows(by="sector", freq="W").to_pandas().sort_values(["period_end", "sector"], ignore_index=True)
    lean = book.flows(by="sector", freq="W", pct_gross=False, ranks=False).to_pandas().sort_values(
        ["period_end", "sector"], ignore_index=True)
    assert set(full.columns) - set(lean.columns) == {"net_flow_pct_rank_1y", "net_flow_pct_rank_5y",
                                                     "net_flow_pct_gross"}
    assert full.suppressed.any() and full.net_flow_pct_rank_1y.notna().any()
    pd.testing.assert_frame_equal(full[lean.columns], lean)


def test_as_of_uses_only_what_was_knowable(tmp_path):
    positions = _frame([(DAYS[0], "A", "AAA", 100.0, DAYS[0]), (DAYS[1], "A", "AAA", 300.0, DAYS[4])],
                       ["date", "account_id", "security_id", "quantity", "available_from"])
    prices = _frame([(d, "AAA", 10.0) for d in DAYS[:5]], ["date", "security_id", "close"])
    equity = _frame([(d, "A", 1e4) for d in DAYS[:2]], ["date", "account_id", "equity"])
    store = make_store(tmp_path / "s", positions=positions, prices=prices, equity=equity)
    book = sm.open(store, k=1, p=100)
    early = book.flows(freq="D", as_of=DAYS[3]).to_pandas()
    late = book.flows(freq="D", as_of=DAYS[4]).to_pandas()
    assert early.long_sell.sum() == 1000.0        # the day-1 row is not yet known: a close-out
    assert late.long_buy.sum() == 2000.0          # once it is filed, 100 -> 300


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"by": "desk"}, "unknown group 'desk'"),
    ({"freq": "Y"}, "unknown frequency 'Y'"),
    ({"as_of": "2001-01-02"}, "before the book's data"),
    ({"as_of": "2024-06-15"}, "not an NYSE trading day"),
    ({"as_of": "yesterday"}, "not a date"),
])
def test_bad_questions_get_clear_errors(weekly_book, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sm.open(weekly_book).flows(**kwargs)


def test_empty_book_is_a_clear_error(store):
    with pytest.raises(sm.BookError, match="the book is empty"):
        sm.open(store).flows()


def test_results_convert_to_pandas_polars_and_arrow(weekly_book):
    table = sm.open(weekly_book).exposure(by="sector", freq="M")
    assert table.to_polars().shape == table.to_pandas().shape == (table.to_pyarrow().num_rows, len(table.columns))
    assert "gross_leverage" in table.columns and "suppressed" in table.columns
    assert dt.date(2024, 6, 28) in set(table.to_pandas().period_end.dt.date)


@pytest.mark.spark
def test_spark_gives_the_same_tables_and_facts_as_duckdb(weekly_book):
    pytest.importorskip("pyspark")
    duck, spark = sm.open(weekly_book, k=3, p=60), sm.open(weekly_book, engine="spark", k=3, p=60)
    for family, by, freq in [("flows", "sector", "W"), ("exposure", "sector", "W"), ("flows", "book", "M"),
                             ("exposure", "strategy", "W")]:
        left = getattr(duck, family)(by=by, freq=freq).to_pandas().sort_values(["period_end", by], ignore_index=True)
        right = getattr(spark, family)(by=by, freq=freq).to_pandas().sort_values(["period_end", by], ignore_index=True)
        assert list(left.columns) == list(right.columns)
        assert left.suppressed.tolist() == right.suppressed.tolist()
        numeric = [c for c in left.columns if c not in ("period_end", by, "suppressed")]
        np.testing.assert_allclose(left[numeric].to_numpy(float), right[numeric].to_numpy(float), rtol=1e-9)
    duck_facts, spark_facts = duck.facts(), spark.facts()
    assert duck_facts and [f.id for f in duck_facts] == [f.id for f in spark_facts]
    assert [f.value for f in duck_facts] == pytest.approx([f.value for f in spark_facts], rel=1e-9)


def test_the_days_come_from_the_manifest_when_every_account_has_equity(weekly_book, tmp_path):
    book = sm.open(weekly_book)
    engine_days = Inputs(book.backend, all_accounts_have_equity=True).dates().to_pandas()
    listed = book.inputs().dates().to_pandas()
    assert len(listed) == 206 and weekly_book.days() == list(listed.date.dt.date)
    pd.testing.assert_frame_equal(listed, engine_days.sort_values("date", ignore_index=True))
    # An account without equity rows is present on its position days: the engine finds them.
    positions = _frame([(day, account, "AAA", 5.0) for day in DAYS[:3] for account in ("A", "B")],
                       ["date", "account_id", "security_id", "quantity"])
    mixed = make_store(tmp_path / "mixed", positions=positions,
                       prices=_frame([(day, "AAA", 10.0) for day in DAYS[:3]], ["date", "security_id", "close"]),
                       equity=_frame([(DAYS[0], "A", 1000.0)], ["date", "account_id", "equity"]))
    assert mixed.days() is None and len(sm.open(mixed).inputs().dates().to_pandas()) == 3
