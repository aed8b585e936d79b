"""The simulated book: scenarios, determinism, realism and planted episodes.

Flows are derived here with a slow, obvious pandas reference of the DESIGN.md rules (dq valued
at today's close, an account's first day is a baseline, sign flips split), independent of the
simulator's own code.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from smartmoney.schema import TABLES
from smartmoney.simulate import (
    DEFAULT_SCENARIO,
    Scenario,
    ScenarioError,
    load_scenario,
    scenario_path,
    simulate,
)
from smartmoney.taxonomy import sectors, sp500_universe

BASE = """\
name = "test"
seed = {seed}
start = "2024-01-02"
end = "2024-03-28"
funds = 20
retail = true
[scale]
names_min = 20
names_max = 80
"""

PLANT = """\
[[plant]]
who = "hedge_funds"
sector = "Health Care"
from = "2024-02-05"
to = "2024-03-01"
long_buy = 0.0
long_sell = 3.0
short_sale = 0.0
short_cover = 0.0
"""


def write(tmp_path, text: str, name: str = "scenario.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(scenario: Scenario) -> dict[str, pd.DataFrame]:
    chunks: dict[str, list[pd.DataFrame]] = {}
    for table, frame in simulate(scenario, progress=False):
        chunks.setdefault(table, []).append(frame)
    return {table: pd.concat(frames, ignore_index=True) for table, frames in chunks.items()}


def derive_flows(book: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per date, account and security: the four flow components in USD (reference rules)."""
    positions = book["positions"][["date", "account_id", "security_id", "quantity"]]
    days = sorted(book["equity"]["date"].unique())
    present = book["equity"].groupby("date")["account_id"].apply(set)
    by_day = dict(tuple(positions.groupby("date")))
    closes = book["prices"].set_index(["date", "security_id"])["close"]
    rows = []
    for before, today in zip(days, days[1:]):
        both = present[before] & present[today]
        old = by_day[before][by_day[before]["account_id"].isin(both)]
        new = by_day[today][by_day[today]["account_id"].isin(both)]
        merged = old.merge(new, on=["account_id", "security_id"], how="outer",
                           suffixes=("_old", "_new"))
        q_old = merged["quantity_old"].fillna(0.0)
        q_new = merged["quantity_new"].fillna(0.0)
        price = closes.loc[today].reindex(merged["security_id"]).to_numpy()
        long_old, long_new = q_old.clip(lower=0), q_new.clip(lower=0)
        short_old, short_new = (-q_old).clip(lower=0), (-q_new).clip(lower=0)
        rows.append(pd.DataFrame({
            "date": today,
            "account_id": merged["account_id"],
            "security_id": merged["security_id"],
            "long_buy": (long_new - long_old).clip(lower=0) * price,
            "long_sell": (long_old - long_new).clip(lower=0) * price,
            "short_sale": (short_new - short_old).clip(lower=0) * price,
            "short_cover": (short_old - short_new).clip(lower=0) * price,
        }))
    flows = pd.concat(rows, ignore_index=True)
    flows["net_flow"] = (flows["long_buy"] - flows["long_sell"] - flows["short_sale"]
                         + flows["short_cover"])
    return flows


def exposure(book: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per date and account: gross and net exposure, equity, leverage (fractions)."""
    valued = book["positions"].merge(book["prices"], on=["date", "security_id"])
    valued["value"] = valued["quantity"] * valued["close"]
    valued["gross"] = valued["value"].abs()
    per_account = valued.groupby(["date", "account_id"])[["gross", "value"]].sum()
    per_account = per_account.rename(columns={"value": "net"}).reset_index()
    per_account = per_account.merge(book["equity"], on=["date", "account_id"])
    per_account["gross_leverage"] = per_account["gross"] / per_account["equity"]
    per_account["net_leverage"] = per_account["net"] / per_account["equity"]
    return per_account


@pytest.fixture(scope="module")
def base_book(tmp_path_factory) -> dict[str, pd.DataFrame]:
    path = write(tmp_path_factory.mktemp("base"), BASE.format(seed=7))
    return run(load_scenario(path))


@pytest.fixture(scope="module")
def planted_book(tmp_path_factory) -> dict[str, pd.DataFrame]:
    # More funds than the base book, so that single large positions opening and closing
    # (background turnover) do not drown a sector's weekly flow.
    text = BASE.format(seed=7).replace("funds = 20", "funds = 60") + PLANT
    return run(load_scenario(write(tmp_path_factory.mktemp("planted"), text)))


# --- streaming and schema -------------------------------------------------------------------

def test_chunks_come_in_order_one_month_each(tmp_path):
    scenario = load_scenario(write(tmp_path, BASE.format(seed=1)))
    seen = []
    for table, frame in simulate(scenario, progress=False):
        names = TABLES[table].column_names      # in the table's order; optional tape columns may be left out
        assert list(frame.columns) == [n for n in names if n in frame.columns or TABLES[table].column(n).required]
        if "date" in frame:
            months = frame["date"].dt.to_period("M").unique()
            assert len(months) == 1
            seen.append((table, str(months[0])))
        else:
            seen.append((table, None))
    assert seen[:2] == [("securities", None), ("accounts", None)]
    tables = ["prices", "equity", "positions", "retail_flows"]
    assert seen[2:] == [(t, m) for m in ("2024-01", "2024-02", "2024-03") for t in tables]


def test_positions_are_whole_nonzero_shares_and_prices_positive(base_book):
    quantity = base_book["positions"]["quantity"]
    assert (quantity != 0).all()
    assert (quantity == quantity.round()).all()
    assert not base_book["positions"].duplicated(["date", "account_id", "security_id"]).any()
    assert (base_book["prices"]["close"] > 0).all()
    assert (base_book["equity"]["equity"] > 0).all()
    flows = base_book["retail_flows"]
    assert (flows[["retail_buy_usd", "retail_sell_usd"]] >= 0).all().all()
    assert (base_book["positions"]["available_from"] == base_book["positions"]["date"]).all()


# --- determinism ----------------------------------------------------------------------------

def test_same_seed_gives_identical_frames(tmp_path, base_book):
    again = run(load_scenario(write(tmp_path, BASE.format(seed=7))))
    assert base_book.keys() == again.keys()
    for table in base_book:
        pd.testing.assert_frame_equal(base_book[table], again[table])


def test_different_seed_gives_different_frames(tmp_path, base_book):
    other = run(load_scenario(write(tmp_path, BASE.format(seed=8))))
    assert not base_book["prices"].equals(other["prices"])
    assert not base_book["positions"].equals(other["positions"])


# --- realism --------------------------------------------------------------------------------

def test_leverage_starts_in_band_and_stays_realistic(base_book):
    levels = exposure(base_book)
    first = levels.sort_values("date").groupby("account_id").head(1)
    assert first["gross_leverage"].between(1.5, 3.0).all()
    assert first["net_leverage"].between(0.3, 0.8).all()
    assert levels["gross_leverage"].between(1.0, 4.0).mean() > 0.95
    assert levels["net_leverage"].between(0.0, 1.2).mean() > 0.95


def test_stock_vols_are_realistic(base_book):
    closes = base_book["prices"].pivot(index="date", columns="security_id", values="close")
    vols = np.log(closes).diff().std() * np.sqrt(252)
    assert 0.15 < vols.median() < 0.60


def test_background_flows_are_a_fraction_of_a_percent_of_gross(base_book):
    flows = derive_flows(base_book).groupby("date")[
        ["long_buy", "long_sell", "short_sale", "short_cover"]].sum()
    gross = exposure(base_book).groupby("date")["gross"].sum()
    daily_rates = flows.div(gross.reindex(flows.index), axis=0)
    for component, rate in daily_rates.mean().items():
        assert 0.002 < rate < 0.008, component


def test_funds_hold_names_within_the_scale(base_book):
    names = base_book["positions"].groupby(["date", "account_id"]).size()
    assert names.between(10, 90).all()
    accounts = base_book["accounts"]
    assert accounts["account_id"].str.fullmatch(r"F\d{4}").all()
    assert set(accounts["strategy"]) <= {"fundamental_ls", "systematic", "multi_strategy",
                                         "other"}


# --- planted episodes -----------------------------------------------------------------------

def test_planted_long_sales_make_the_most_sold_sector_sold_every_week(planted_book):
    flows = derive_flows(planted_book)
    securities = planted_book["securities"][["security_id", "sector"]]
    flows = flows.merge(securities, on="security_id")
    window = flows[flows["date"].between("2024-02-05", "2024-03-01")]
    weekly = window.groupby([window["date"].dt.to_period("W-FRI"), "sector"])["net_flow"].sum()
    weekly = weekly.unstack("sector")
    assert len(weekly) == 4
    assert (weekly["Health Care"] < 0).all()
    assert weekly.sum().idxmin() == "Health Care"


def test_retail_plant_adds_net_buying(tmp_path):
    plant = ('[[plant]]\nwho = "retail"\nticker = "NVDA"\nfrom = "2024-03-01"\n'
             'to = "2024-03-28"\nnet_buy_usd = 5.0e8\n')
    book = run(load_scenario(write(tmp_path, BASE.format(seed=3) + plant)))
    flows = book["retail_flows"]
    march = flows[flows["date"] >= "2024-03-01"]
    net = (march["retail_buy_usd"] - march["retail_sell_usd"]).groupby(
        march["security_id"]).sum()
    assert net.idxmax() == "NVDA"
    assert net["NVDA"] > 0.8 * 5.0e8 * march["date"].nunique()


# --- scenario files -------------------------------------------------------------------------

def test_default_scenario_loads():
    scenario = load_scenario(DEFAULT_SCENARIO)
    assert scenario == load_scenario(scenario_path(DEFAULT_SCENARIO))
    assert scenario.name == "june-2024-rotation"
    assert scenario.seed == 20240628
    assert (scenario.start, scenario.end) == (dt.date(2022, 1, 3), dt.date(2024, 6, 28))
    assert scenario.funds == 200 and scenario.retail
    assert {plant.who for plant in scenario.plants} == {"hedge_funds", "retail"}


def test_scenario_parses_plants(tmp_path):
    scenario = load_scenario(write(tmp_path, BASE.format(seed=1) + PLANT))
    (plant,) = scenario.plants
    assert (plant.who, plant.level, plant.group) == ("hedge_funds", "sector", "Health Care")
    assert (plant.start, plant.end) == (dt.date(2024, 2, 5), dt.date(2024, 3, 1))
    assert plant.long_sell == 3.0 and plant.long_buy == 0.0
    assert (scenario.names_min, scenario.names_max) == (20, 80)


def test_unknown_packaged_scenario_lists_known_ones():
    with pytest.raises(ScenarioError, match="june-2024-rotation"):
        load_scenario("no-such-scenario")


@pytest.mark.parametrize(("text", "problem"), [
    (BASE + "colour = 'red'\n", "unknown key 'colour'"),
    (BASE.replace('funds = 20\n', ''), "missing key 'funds'"),
    (BASE.replace('"2024-01-02"', '"2024-13-02"'), "'start' must be an ISO date"),
    (BASE.replace('"2024-01-02"', '"2024-01-06"'), "not an NYSE trading day"),
    (BASE.replace("funds = 20", "funds = 0"), "'funds' must be between 1 and 100,000"),
    (BASE.replace("funds = 20", 'funds = "20"'), "'funds' must be int"),
    (BASE.replace("retail = true", "retail = tru"), "invalid TOML"),
    (BASE + PLANT.replace("Health Care", "Tech"),
     "plant 1: unknown sector 'Tech'; known sectors: Energy, Materials"),
    (BASE + PLANT.replace('sector = "Health Care"', 'industry = "Widgets"'),
     "plant 1: unknown industry 'Widgets'"),
    (BASE + PLANT.replace('sector = "Health Care"', 'ticker = "ZZZZ"'),
     "plant 1: unknown ticker 'ZZZZ'"),
    (BASE + PLANT.replace('"2024-02-05"', '"2024-03-05"'), "plant 1: 'from' .* is after 'to'"),
    (BASE + PLANT.replace('"2024-03-01"', '"2024-04-30"'), "plant 1: window .* outside"),
    (BASE + PLANT.replace("long_sell = 3.0", "long_sell = -3.0"),
     "plant 1: 'long_sell' must be >= 0"),
    (BASE + PLANT.replace("short_cover = 0.0\n", ""), "plant 1: missing key 'short_cover'"),
    (BASE + PLANT + PLANT.replace("long_buy", "long_bye"), "plant 2: unknown key 'long_bye'"),
    (BASE + PLANT.replace('who = "hedge_funds"', 'who = "pensions"'),
     "plant 1: unknown who 'pensions'"),
    (BASE + PLANT.replace('sector = "Health Care"', 'sector = "Energy"\nticker = "XOM"'),
     "plant 1: give at most one group selector"),
])
def test_scenario_errors_name_the_file_and_the_problem(tmp_path, text, problem):
    path = write(tmp_path, text.format(seed=1), name="broken.toml")
    with pytest.raises(ScenarioError, match=f"^broken.toml: .*{problem}"):
        load_scenario(path)


def test_invalid_toml_error_gives_the_line(tmp_path):
    path = write(tmp_path, BASE.format(seed=1).replace("retail = true", "retail = tru"),
                 name="broken.toml")
    with pytest.raises(ScenarioError, match=r"broken.toml: invalid TOML: .*line 6"):
        load_scenario(path)


def test_every_sector_is_a_valid_selector(tmp_path):
    text = BASE.format(seed=1) + "".join(
        PLANT.replace("Health Care", sector) for sector in sectors())
    assert len(load_scenario(write(tmp_path, text)).plants) == 11
    assert len(sp500_universe()) == 503
