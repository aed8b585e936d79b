"""Retail flows, hedge funds vs retail (divergence, swap, watch list) and the event study."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

import reference
import smartmoney as sm
from books import make_store, positions_frame
from smartmoney.metrics import retail as R
from smartmoney.taxonomy import basket_members, trading_days

ACCOUNTS = tuple(f"F{i}" for i in range(1, 7))
TICKERS = ("AAA", "BBB", "CCC", "DDD")


@pytest.fixture(scope="module")
def retail_book(tmp_path_factory):
    """26 weeks of 6 funds in 4 stocks, retail flows in 5 securities; retail buys AAA hard in
    the last 4 weeks while the funds' AAA positions shrink."""
    days = trading_days("2024-01-02", "2024-06-28")
    positions = positions_frame(days, accounts=ACCOUNTS, securities=TICKERS[1:])
    # AAA: every fund long, trading a little each day, then selling 3% of it a day in June.
    june = [d for d in days if str(d) >= "2024-06-03"]
    aaa = [(str(d), account, "AAA", float(round((5000 + 1000 * a + 100 * ((j * 7 + a * 3) % 5))
                                         * (1 - 0.03 * (june.index(d) + 1) if d in june else 1))))
           for j, d in enumerate(days) for a, account in enumerate(ACCOUNTS)]
    positions = pd.concat([positions, pd.DataFrame(aaa, columns=positions.columns)], ignore_index=True)
    rng = np.random.default_rng(5)
    prices = pd.DataFrame([(str(d), s, float(50 + 10 * i + np.sin(j / 9 + i) * 5 + rng.normal(0, 0.5)))
                           for j, d in enumerate(days) for i, s in enumerate(TICKERS)],
                          columns=["date", "security_id", "close"])
    equity = pd.DataFrame([(str(d), a, 1e7) for d in days for a in ACCOUNTS],
                          columns=["date", "account_id", "equity"])
    flows = pd.DataFrame([(str(d), s, float(np.round(rng.lognormal(13, 0.3), 2)),
                           float(np.round(rng.lognormal(13, 0.3), 2)))
                          for d in days for s in (*TICKERS, "ETF1")],
                         columns=["date", "security_id", "retail_buy_usd", "retail_sell_usd"])
    planted = (pd.to_datetime(flows.date) >= pd.Timestamp("2024-06-03")) & (flows.security_id == "AAA")
    flows.loc[planted, "retail_buy_usd"] += 3e6
    store = make_store(tmp_path_factory.mktemp("retail") / "store", positions=positions, prices=prices,
                       equity=equity, retail_flows=flows)
    return store


def _compare(ours: pd.DataFrame, expected: pd.DataFrame, keys: list[str], columns: list[str]) -> None:
    ours = ours.assign(period_end=pd.to_datetime(ours.period_end)).sort_values(keys, ignore_index=True)
    expected = expected.assign(period_end=pd.to_datetime(expected.period_end)).sort_values(keys, ignore_index=True)
    assert len(ours) == len(expected)
    pd.testing.assert_frame_equal(ours[keys + columns], expected[keys + columns], check_dtype=False,
                                  rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("by,freq", [("ticker", "W"), ("sector", "W"), ("basket", "W"), ("book", "W"),
                                     ("ticker", "M")])
def test_retail_flows_match_the_twin(retail_book, engine, by, freq):
    book = sm.open(retail_book, engine=engine)
    ours = book.retail(by=by, freq=freq).to_pandas()
    securities = retail_book.read("securities")
    baskets = {name: basket_members(name, securities) for name in ("magnificent_7", "semiconductors", "tmt")}
    expected = reference.retail_flows(retail_book.read("retail_flows"), securities, by=by, freq=freq,
                                      baskets={k: v for k, v in baskets.items() if v})
    _compare(ours, expected, ["period_end", by],
             ["retail_buy_usd", "retail_sell_usd", "retail_net", "retail_imbalance", "share_of_flow",
              "retail_net_sd"])


def test_basket_members_come_from_the_data(retail_book):
    book = sm.open(retail_book)
    latest = book.retail(by="basket").to_pandas().groupby("basket").size()
    assert sorted(latest.index) == ["semiconductors", "tmt"]     # no Magnificent 7 stock in this book
    assert book.flows(by="basket").to_pandas()["basket"].unique().tolist() == ["semiconductors", "tmt"]


@pytest.mark.parametrize("by", ["ticker", "sector"])
def test_divergence_matches_the_twin(retail_book, engine, by):
    book = sm.open(retail_book, engine=engine)
    ours = book.divergence(by=by).to_pandas()
    expected = reference.divergence(book.flows(by=by, freq="W").to_pandas(),
                                    book.retail(by=by, freq="W").to_pandas(), by=by)
    _compare(ours, expected, ["period_end", by, "window"],
             ["hf_net", "retail_net", "hf_net_sd", "retail_net_sd", "swap_usd", "mirror_usd", "divergence"])
    last = ours[(ours.period_end == ours.period_end.max()) & (ours.window == 4)]
    if by == "ticker":
        aaa = last.set_index("ticker").loc["AAA"]
        assert aaa.hf_net < 0 < aaa.retail_net and aaa.swap_usd == pytest.approx(min(-aaa.hf_net, aaa.retail_net))
        assert aaa.divergence and aaa.direction == "hf_sold_retail_bought"


def test_divergence_by_hand():
    """Twelve weeks: hedge funds +100/-100 then -300; retail -50/+50 then +200; week 11
    suppressed in a second group."""
    weeks = pd.date_range("2024-03-22", periods=12, freq="7D")
    hf_values = [100.0, -100.0] * 5 + [100.0, -300.0]
    retail_values = [-50.0, 50.0] * 5 + [-50.0, 200.0]
    hf = pd.DataFrame({"period_end": list(weeks) * 2, "sector": ["A"] * 12 + ["B"] * 12,
                       "net_flow": hf_values * 2, "long_sell": 400.0, "short_sale": 0.0,
                       "suppressed": [False] * 12 + [False] * 10 + [True, False]})
    retail = pd.DataFrame({"period_end": list(weeks) * 2, "sector": ["A"] * 12 + ["B"] * 12,
                           "retail_net": retail_values * 2})
    result = ibis.duckdb.connect().execute(R.divergence(ibis.memtable(hf), ibis.memtable(retail), by="sector"))
    last = result[result.period_end == weeks[-1]].set_index(["sector", "window"])
    hf_sd, retail_sd = np.std(hf_values[:11], ddof=1), np.std(retail_values[:11], ddof=1)
    one = last.loc[("A", 1)]
    assert (one.hf_net, one.retail_net, one.swap_usd, one.mirror_usd) == (-300.0, 200.0, 200.0, 0.0)
    assert one.hf_net_sd == pytest.approx(-300 / hf_sd) and one.retail_net_sd == pytest.approx(200 / retail_sd)
    assert one.divergence and one.direction == "hf_sold_retail_bought"
    four = last.loc[("A", 4)]            # weeks 9-12: 100 - 100 + 100 - 300 and -50 + 50 - 50 + 200
    assert (four.hf_net, four.retail_net, four.swap_usd) == (-200.0, 150.0, 150.0)
    assert four.hf_net_sd == pytest.approx(-200 / (hf_sd * 2))
    assert four.hf_gross_selling == 1600.0
    assert last.loc[("B", 1)].hf_net == -300.0               # the suppressed week is not in it
    assert np.isnan(last.loc[("B", 4)].hf_net) and np.isnan(last.loc[("B", 4)].swap_usd)
    assert not last.loc[("B", 4)].divergence
    assert len(result[result.window == 13]) == 0              # fewer than 13 weeks of data


def test_swap_share_is_absorbed_selling_over_gross_selling(retail_book):
    book = sm.open(retail_book)
    share = book.swap_share().to_pandas()
    divergence = book.divergence(by="ticker").to_pandas()
    flows = book.flows(by="book").to_pandas()
    last = share[(share.period_end == share.period_end.max()) & (share.window == 4)].iloc[0]
    swaps = divergence[(divergence.period_end == last.period_end) & (divergence.window == 4)].swap_usd.sum()
    selling = flows.tail(4)[["long_sell", "short_sale"]].to_numpy().sum()
    assert last.swap_usd == pytest.approx(swaps) and last.hf_gross_selling == pytest.approx(selling)
    assert last.swap_share == pytest.approx(100 * swaps / selling)


def test_watch_list(retail_book):
    book = sm.open(retail_book, k=5)
    watch = book.watch_list(window=4).to_pandas()
    assert watch.ticker.iloc[0] == "AAA"
    assert (watch.hf_net < 0).all() and (watch.retail_net > 0).all()
    assert list(watch.swap_usd) == sorted(watch.swap_usd, reverse=True)
    positions = retail_book.read("positions")
    last = positions[positions.date == positions.date.max()]
    holders = last[(last.security_id == "AAA") & (last.quantity > 0)].account_id.nunique()
    expected = 100 * holders / len(ACCOUNTS) if holders >= 5 else np.nan
    assert watch.hf_crowding.iloc[0] == pytest.approx(expected, nan_ok=True)
    flows = retail_book.read("retail_flows")
    recent = flows[flows.date >= pd.Timestamp("2024-06-03")]
    gross = recent.assign(g=recent.retail_buy_usd + recent.retail_sell_usd).groupby("security_id").g.sum()
    assert watch.retail_concentration.iloc[0] == pytest.approx(100 * gross["AAA"] / gross.sum())


def test_event_study_matches_the_twin(retail_book):
    book = sm.open(retail_book)
    ours = book.event_study().to_pandas()
    expected = reference.event_study(book.divergence(by="ticker").to_pandas(), retail_book.read("prices"),
                                     retail_book.read("securities"))
    _compare(ours.assign(period_end=pd.Timestamp("2024-01-01")),
             expected.assign(period_end=pd.Timestamp("2024-01-01")), ["horizon", "decile"],
             ["observations", "mean_return", "t_stat", "hit_rate"])
    assert set(ours.horizon) == {1, 4, 13} and ours.mean_volatility.notna().all()


def test_retail_facts_state_the_planted_buying(retail_book):
    facts = {f.id: f for f in sm.open(retail_book).facts()}
    week = "W:2024-06-28"
    leader = facts[f"flow:retail:retail_net:ticker=AAA:{week}:bought:1"]
    assert leader.value > 1e7
    semis = facts[f"streak:retail:retail_net:basket=semiconductors:{week}"]
    assert semis.n >= 4 and semis.direction == "bought"
    divergence = facts[f"divergence:retail:hf_vs_retail:basket=semiconductors:{week}:4w"]
    assert divergence.direction == "hf_sold_retail_bought" and divergence.n == 4


def test_retail_only_store(tmp_path, reference_files):
    store = sm.Store.open(tmp_path / "store", create=True)
    store.ingest("securities", [reference_files["securities"]])
    (tmp_path / "vendor.csv").write_text("date,symbol,retail_buy_turnover,retail_sell_turnover\n" + "".join(
        f"{d},NVDA,{2e6 + i},{1e6}\n" for i, d in enumerate(trading_days("2024-06-03", "2024-06-14"))))
    store.ingest("retail_vendor", [tmp_path / "vendor.csv"])
    weekly = sm.open(store).retail(by="basket").to_pandas()
    assert sorted(weekly.basket.unique()) == ["magnificent_7", "semiconductors", "tmt"]
    assert weekly.groupby("period_end").retail_net.first().tolist() == [5e6 + 10, 5e6 + 35]
    with pytest.raises(ValueError, match="unknown retail group 'strategy'"):
        sm.open(store).retail(by="strategy")


def test_cli_metrics_and_identify(retail_book, tmp_path):
    import json

    from typer.testing import CliRunner

    from smartmoney.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["metrics", "watch_list", "--store", str(retail_book.path), "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed[0]["ticker"] == "AAA" and listed[0]["swap_usd"] > 0
    result = runner.invoke(app, ["metrics", "retail", "--store", str(retail_book.path), "--by", "strategy"])
    assert result.exit_code == 2 and "unknown retail group 'strategy'" in result.output
    (tmp_path / "tape.csv").write_text("ts,symbol,price,size,exchange\n"
                                       "2024-06-03 09:30:00,AAA,10.002,100,D\n"
                                       "2024-06-03 09:30:01,AAA,10.008,300,D\n")
    store = str(tmp_path / "tape-store")
    assert runner.invoke(app, ["ingest", "ticks", str(tmp_path / "tape.csv"), "--store", store]).exit_code == 0
    result = runner.invoke(app, ["retail", "identify", "--store", store, "--format", "json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert (row["retail_buy_trades"], row["retail_sell_trades"], row["imbalance_shares"]) == (1, 1, 0.5)
    result = runner.invoke(app, ["retail", "identify", "--store", store, "--method", "nope"])
    assert result.exit_code == 2 and "unknown method 'nope'" in result.output
