"""Kept position flows: refreshed for the days an ingest changes, equal to a full recompute."""

from __future__ import annotations

import numpy as np
import pandas as pd
from books import SMALL_SECURITIES, make_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_metrics import DAYS, books

import smartmoney as sm
from smartmoney import Store, metrics
from smartmoney.engine import connect
from smartmoney.metrics import Disclosure
from smartmoney.metrics.flows import position_flows
from smartmoney.metrics.inputs import Inputs
from smartmoney.schema import TABLES
from smartmoney.validate import Batch

KEY = ["date", "account_id", "security_id"]


def _ingest(store: Store, name: str, frame: pd.DataFrame, *more: tuple[str, pd.DataFrame]) -> None:
    """Ingest the frames in one transaction (one refresh of the kept flows)."""
    with store.transaction() as tx:
        for name, frame in ((name, frame), *more):
            if frame.empty:
                continue
            frame = frame.assign(date=pd.to_datetime(frame["date"])).reset_index(drop=True)
            report = tx.ingest_batch(Batch(TABLES[name], f"test:{name}", frame, np.arange(1, len(frame) + 1)))
            assert report.rejected == 0, report.rejects["reason"].tolist()


def _kept(store: Store) -> pd.DataFrame:
    return store.read("position_flows").sort_values(KEY, ignore_index=True)


def _recomputed(store: Store) -> pd.DataFrame:
    fresh = position_flows(Inputs(connect(store))).to_pandas()   # derived now, the kept ones unread
    fresh["date"] = pd.to_datetime(fresh["date"])
    return fresh.sort_values(KEY, ignore_index=True)


def _assert_same(store: Store) -> None:
    kept, fresh = _kept(store), _recomputed(store)
    _assert_frames_equal(kept, fresh, KEY)
    _assert_periods_same(store)


def _assert_frames_equal(left: pd.DataFrame, right: pd.DataFrame, key: list[str]) -> None:
    left, right = (frame.sort_values(key, ignore_index=True) for frame in (left, right))
    assert left[key].astype(str).values.tolist() == right[key].astype(str).values.tolist()
    values = [c for c in right.columns if c not in key]
    np.testing.assert_allclose(left[values].to_numpy(float), right[values].to_numpy(float), rtol=1e-12, atol=1e-9)


def _assert_periods_same(store: Store) -> None:
    """Weekly and monthly flows and exposure read through the kept period tables equal the
    same metrics computed from the positions alone, today and as of every day of the data."""
    days = sorted(pd.to_datetime(store.read("positions")["date"]).dt.date.unique())
    everyone = Disclosure(k=1, p=100)
    for as_of in [None, *days[-3:]]:
        kept_periods, kept_values = store.kept_periods(as_of)
        with_kept = Inputs(connect(store), as_of, kept_flows=store.kept_flows_hold(as_of),
                           kept_periods=kept_periods, kept_values=kept_values)
        alone = Inputs(connect(store), as_of)
        for freq in ("W", "M"):
            for family in ("flows", "exposure"):
                options = {"use_trades": False} if family == "flows" else {}
                kept, fresh = (getattr(metrics, family)(inputs, by="sector", freq=freq, rule=everyone,
                                                        **options).to_pandas() for inputs in (with_kept, alone))
                _assert_frames_equal(kept.drop(columns="suppressed"), fresh.drop(columns="suppressed"),
                                     ["period_end", "sector"])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(book=books(), order=st.randoms(use_true_random=False), repeated=st.integers(0, 3),
       corrected=st.booleans())
def test_days_ingested_one_by_one_in_any_order_keep_the_flows_of_a_full_recompute(
        tmp_path_factory, book, order, repeated, corrected):
    positions, prices, equity = book
    ids = sorted(set(positions["account_id"]) | set(equity["account_id"]))
    accounts = pd.DataFrame({"account_id": ids, "name": ids, "strategy": "other"})
    store = make_store(tmp_path_factory.mktemp("incremental") / "s", positions=positions.iloc[:1],
                       prices=prices.iloc[:1], accounts=accounts)
    days = sorted(set(positions["date"]) | set(equity["date"]) | set(prices["date"]))
    shuffled = list(days)
    order.shuffle(shuffled)
    shuffled += shuffled[:repeated]                     # some days come twice
    if corrected:                                       # a day first comes wrong, then right
        wrong = shuffled[0]
        first = positions[positions["date"] == wrong].assign(quantity=lambda f: f["quantity"] * 2)
        _ingest(store, "positions", first)
    for day in shuffled:
        _ingest(store, "equity", equity[equity["date"] == day], ("prices", prices[prices["date"] == day]),
                ("positions", positions[positions["date"] == day]))
    _assert_same(store)


def test_a_closed_position_a_new_price_and_a_late_account_refresh_the_right_days(tmp_path):
    positions = pd.DataFrame({"date": [DAYS[0], DAYS[1], DAYS[2], DAYS[0], DAYS[2], *DAYS[:3]],
                              "account_id": ["A", "A", "A", "B", "B", "A", "A", "A"],
                              "security_id": ["AAA"] * 5 + ["BBB"] * 3,  # BBB keeps A present
                              "quantity": [100.0, 150.0, 120.0, 10.0, 30.0, 1.0, 1.0, 1.0]})
    prices = pd.DataFrame({"date": DAYS[:3], "security_id": "AAA", "close": [10.0, 11.0, 12.0]})
    store = make_store(tmp_path / "s", positions=positions, prices=prices)
    kept = _kept(store).set_index(["date", "account_id"])
    assert kept.loc[(pd.Timestamp(DAYS[1]), "A"), "long_buy"] == 50 * 11.0   # BBB has no close: no flow
    # B is present on days 0 and 2 only (it has no equity rows: present on its position days), so
    # it has no flows: flows need the account on the day and the data's day before.
    assert "B" not in set(kept.reset_index()["account_id"])
    _ingest(store, "prices", pd.DataFrame({"date": [DAYS[1]], "security_id": ["AAA"], "close": [20.0]}))
    _ingest(store, "positions", pd.DataFrame({"date": [DAYS[2]], "account_id": ["A"], "security_id": ["AAA"],
                                              "quantity": [0.0]}))
    kept = _kept(store).set_index(["date", "account_id"])
    assert kept.loc[(pd.Timestamp(DAYS[1]), "A"), "long_buy"] == 50 * 20.0
    assert kept.loc[(pd.Timestamp(DAYS[2]), "A"), "long_sell"] == 150 * 12.0
    # A day inserted between two others changes the flows of the day after it.
    _ingest(store, "positions", pd.DataFrame({"date": [DAYS[1]], "account_id": ["B"], "security_id": ["AAA"],
                                              "quantity": [25.0]}))
    kept = _kept(store).set_index(["date", "account_id"])
    assert kept.loc[(pd.Timestamp(DAYS[1]), "B"), "long_buy"] == 15 * 20.0
    assert kept.loc[(pd.Timestamp(DAYS[2]), "B"), "long_buy"] == 5 * 12.0
    _assert_same(store)


def test_new_securities_data_derives_every_day_again(tmp_path):
    positions = pd.DataFrame({"date": DAYS[:3], "account_id": "A", "security_id": "ETF1",
                              "quantity": [100.0, 150.0, 120.0]})
    prices = pd.DataFrame({"date": DAYS[:3], "security_id": "ETF1", "close": [10.0, 11.0, 12.0]})
    store = make_store(tmp_path / "s", positions=positions, prices=prices)
    assert len(_kept(store)) == 2
    # ETF1 reclassified as an option: its positions leave equity exposure and flows.
    _ingest_securities = SMALL_SECURITIES.assign(asset_type=["stock"] * 4 + ["option", "option"])
    with store.transaction() as tx:
        tx.ingest_batch(Batch(TABLES["securities"], "test", _ingest_securities, np.arange(1, 7)))
    assert _kept(store).empty
    _assert_same(store)


def test_the_book_reads_kept_flows_only_where_they_hold(tmp_path):
    positions = pd.DataFrame({"date": DAYS[:3], "account_id": "A", "security_id": "AAA",
                              "quantity": [100.0, 150.0, 120.0]})
    prices = pd.DataFrame({"date": DAYS[:3], "security_id": "AAA", "close": [10.0, 11.0, 12.0]})
    store = make_store(tmp_path / "s", positions=positions, prices=prices)
    assert store.kept_flows_hold() and store.kept_flows_hold(DAYS[1])
    assert sm.open(store).inputs(DAYS[1]).stored_flows() is not None
    # A fund's position knowable only after its date: past as-ofs derive their flows again.
    _ingest(store, "positions", pd.DataFrame({"date": [DAYS[3]], "account_id": ["A"], "security_id": ["AAA"],
                                              "quantity": [90.0], "available_from": [pd.Timestamp(DAYS[5])]}))
    assert store.kept_flows_hold() and not store.kept_flows_hold(DAYS[4])
    book = sm.open(store)
    assert book.inputs(DAYS[4]).stored_flows() is None
    daily = book.flows(by="book", freq="D", as_of=DAYS[4]).to_pandas()
    assert pd.Timestamp(DAYS[3]) not in set(pd.to_datetime(daily["period_end"]))   # not yet known on DAYS[4]


def test_a_present_day_without_positions_sells_the_day_befores(tmp_path):
    """Regression: an ingest of equity alone for a day after positions must refresh that day."""
    positions = pd.DataFrame({"date": [DAYS[0]], "account_id": ["A"], "security_id": ["AAA"], "quantity": [100.0]})
    prices = pd.DataFrame({"date": DAYS[:2], "security_id": "AAA", "close": [10.0, 12.0]})
    equity = pd.DataFrame({"date": [DAYS[0]], "account_id": ["A"], "equity": [1000.0]})
    store = make_store(tmp_path / "s", positions=positions, prices=prices, equity=equity)
    assert _kept(store).empty
    _ingest(store, "equity", pd.DataFrame({"date": [DAYS[1]], "account_id": ["A"], "equity": [900.0]}))
    assert _kept(store)[["long_sell"]].values.tolist() == [[1200.0]]
    _assert_same(store)
