"""Facts over period series, rows and cross-sections: hand-computed cases and properties."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmoney.facts import (
    Context,
    Fact,
    breadth,
    change,
    driven_by,
    k_of_n,
    leaders,
    level,
    months_between,
    outpaced,
    pct_rank,
    series_facts,
    since,
    streak,
    ytd_extreme,
)

NAN = math.nan
FLOWS = Context("hedge_funds", "net_flow", "sector", "Materials", "W")
LEVERAGE = Context("hedge_funds", "gross_leverage", "book", "all", "W")


def weekly(values, end="2024-06-28") -> pd.Series:
    """A weekly (Friday) series ending on `end`."""
    index = pd.date_range(end=end, periods=len(values), freq="W-FRI", name="period_end")
    return pd.Series(values, index=index, dtype=float)


def flow_row(long_buy, long_sell, short_sale, short_cover, **extra) -> dict:
    return {"period_end": pd.Timestamp("2024-06-28"), "long_buy": long_buy,
            "long_sell": long_sell, "short_sale": short_sale, "short_cover": short_cover,
            "net_flow": long_buy - long_sell - short_sale + short_cover,
            "risk_on": long_buy + short_sale, "risk_off": long_sell + short_cover, **extra}


# ------------------------------------------------------------------------------------ streak


def test_three_week_selling_streak_broken_by_a_buying_week():
    fact = streak(weekly([-4.0, 5.0, -1.0, -2.0, -3.0]), FLOWS)
    assert (fact.kind, fact.n, fact.direction, fact.value) == ("streak", 3, "sold", -3.0)
    assert fact.id == "streak:hedge_funds:net_flow:sector=Materials:W:2024-06-28"
    assert fact.period_end == dt.date(2024, 6, 28)


def test_streak_broken_by_a_suppressed_period():
    assert streak(weekly([-1.0, -2.0, NAN, -3.0, -4.0]), FLOWS).n == 2


def test_streak_broken_by_zero_and_none_when_last_is_zero_or_unknown():
    assert streak(weekly([-1.0, 0.0, -2.0, -3.0]), FLOWS).n == 2
    assert streak(weekly([-1.0, -2.0, 0.0]), FLOWS) is None
    assert streak(weekly([-1.0, -2.0, NAN]), FLOWS) is None


def test_streak_of_one_is_stated_only_on_request():
    series = weekly([5.0, -1.0])
    assert streak(series, FLOWS) is None
    assert streak(series, FLOWS, min_length=1).n == 1


def test_leverage_fell_for_the_6th_straight_week():
    levels = weekly([200.0, 210.0, 205.0, 200.0, 195.0, 190.0, 185.0, 180.0])
    fact = streak(levels, LEVERAGE, change=True)
    assert (fact.n, fact.direction, fact.value) == (6, "down", -5.0)
    assert fact.id.endswith(":change") and fact.sd is None


def test_streak_states_the_sd_value_beside_it():
    series = weekly([-1.0, -2.0])
    fact = streak(series, FLOWS, sd=weekly([-0.5, -1.5]))
    assert fact.sd == -1.5


# ------------------------------------------------------------------------------------ k_of_n


def test_net_sold_in_6_of_the_last_7_weeks():
    fact = k_of_n(weekly([9.0, 9.0, -1.0, -2.0, 3.0, -1.0, -1.0, -1.0, -2.0]), FLOWS, 7)
    assert (fact.kind, fact.n, fact.of, fact.direction) == ("k_of_n", 6, 7, "sold")
    assert fact.id.endswith(":of=7")


def test_k_of_n_needs_a_full_known_window():
    assert k_of_n(weekly([-1.0] * 6), FLOWS, 7) is None
    assert k_of_n(weekly([-1.0, NAN, -1.0, -1.0, -1.0, -1.0, -1.0]), FLOWS, 7) is None
    assert k_of_n(weekly([-1.0] * 6 + [0.0]), FLOWS, 7) is None


# ------------------------------------------------------------------------------------- since

# Fridays 2023-12-29 .. 2024-06-28 (27 weeks); 2024-01-26 is position 4.
SINCE_DATES = pd.date_range("2023-12-29", "2024-06-28", freq="W-FRI", name="period_end")


def since_series(overrides: dict[str, float], last: float) -> pd.Series:
    series = pd.Series(-100.0, index=SINCE_DATES)
    for day, value in overrides.items():
        series[pd.Timestamp(day)] = value
    series.iloc[-1] = last
    return series


def test_fastest_net_selling_in_5_months():
    series = since_series({"2024-01-26": -500.0, "2024-03-29": 900.0}, last=-400.0)
    fact = since(series, FLOWS)
    assert fact.kind == "since"
    assert fact.since_date == dt.date(2024, 1, 26)
    assert (fact.periods_since, fact.months, fact.value) == (22, 5, -400.0)
    assert fact.components == {"previous": -500.0}
    assert fact.direction == "sold"


def test_record_when_nothing_earlier_is_as_large():
    series = since_series({"2024-01-26": -500.0}, last=-600.0)
    fact = since(series, FLOWS)
    assert (fact.kind, fact.since_date, fact.periods_since) == ("record", None, None)
    assert fact.n == len(SINCE_DATES) and fact.value == -600.0


def test_since_counts_only_values_of_the_same_sign():
    # A big selling week after the +350 does not count against +300 net buying.
    series = since_series({"2024-02-23": 350.0, "2024-05-31": -1000.0}, last=300.0)
    fact = since(series, FLOWS)
    assert fact.since_date == dt.date(2024, 2, 23) and fact.direction == "bought"


def test_a_tie_is_as_extreme():
    series = since_series({"2024-02-23": 300.0}, last=300.0)
    assert since(series, FLOWS).since_date == dt.date(2024, 2, 23)


def test_largest_in_2_weeks_is_not_news():
    series = since_series({"2024-06-14": -500.0}, last=-400.0)
    assert since(series, FLOWS) is None
    assert since(series, FLOWS, min_gap=1).periods_since == 2


def test_since_needs_earlier_points():
    assert since(weekly([-1.0, -5.0]), FLOWS, min_gap=1) is None
    assert since(weekly([NAN, NAN, -1.0, -5.0]), FLOWS, min_gap=1) is None
    # A record in a three-period series would be "the largest in 2 weeks".
    assert since(weekly([-1.0, -2.0, -5.0]), FLOWS) is None
    assert since(weekly([-1.0, -2.0, -5.0]), FLOWS, min_gap=1).kind == "record"


def test_since_of_a_change_in_percentage_points():
    levels = weekly([200.0, 190.0] + [190.0 + i for i in range(8)] + [188.0])
    fact = since(levels, LEVERAGE, change=True)
    # -9 points now; -10 points nine weeks earlier.
    assert (fact.value, fact.periods_since, fact.components["previous"]) == (-9.0, 9, -10.0)


@pytest.mark.parametrize(("start", "end", "months"), [
    ("2024-01-26", "2024-06-28", 5),
    ("2024-01-31", "2024-06-28", 5),   # 4 months 28 days
    ("2024-01-31", "2024-04-30", 3),   # the day clipped to the month's end
    ("2024-06-03", "2024-06-28", 1),   # 25 days round up
    ("2024-06-14", "2024-06-28", 0),
    ("2023-09-29", "2024-06-28", 9),
    ("2023-06-30", "2024-06-28", 12),
])
def test_months_between(start, end, months):
    assert months_between(dt.date.fromisoformat(start), dt.date.fromisoformat(end)) == months


# ------------------------------------------------------------------------------- ytd_extreme


def leverage_with_drops(drops: list[float]) -> pd.Series:
    """Weekly levels from 2023-12-01; drops[i] is the change into week i+1."""
    levels = np.concatenate([[250.0], 250.0 + np.cumsum(drops)])
    index = pd.date_range("2023-12-01", periods=len(levels), freq="W-FRI", name="period_end")
    return pd.Series(levels, index=index)


def test_largest_weekly_drop_this_year_ignores_last_year():
    # Dec 2023: a 10-point drop; 2024 (from 2024-01-05): 1, -2, 1, then -3.
    series = leverage_with_drops([-10.0, 1.0, 0.5, 0.5, 1.0, -2.0, 1.0, -3.0])
    assert series.index[-1] == pd.Timestamp("2024-01-26")
    fact = ytd_extreme(series, LEVERAGE, change=True, largest="min")
    assert (fact.kind, fact.value, fact.n, fact.direction) == ("ytd_extreme", -3.0, 4, "down")
    assert fact.id.endswith(":change:min")
    assert ytd_extreme(series, LEVERAGE, change=True, largest="max") is None


def test_no_ytd_extreme_when_an_earlier_week_this_year_was_larger():
    series = leverage_with_drops([-10.0, 1.0, 0.5, 0.5, -4.0, 1.0, 1.0, -3.0])
    assert ytd_extreme(series, LEVERAGE, change=True, largest="min") is None


def test_ytd_largest_net_buying():
    # 900 on 2023-12-29 is last year's.
    series = weekly([900.0, 10.0, 20.0, 30.0], end="2024-01-19")
    fact = ytd_extreme(series, FLOWS, largest="max")
    assert (fact.value, fact.n, fact.direction) == (30.0, 3, "bought")
    assert ytd_extreme(weekly([10.0, 20.0], end="2024-01-12"), FLOWS) is None


# -------------------------------------------------------------------------- pct_rank, levels


def test_percentile_rank_hand_computed():
    # Others in the window: 1, 5, 3, 2 -> three of four below 4.
    fact = pct_rank(weekly([99.0, 1.0, 5.0, 3.0, 2.0, 4.0]), FLOWS, 5)
    assert (fact.kind, fact.rank, fact.n, fact.of, fact.value) == ("level", 75.0, 5, 5, 4.0)
    assert fact.id.endswith(":window=5")
    # Ties count half: others 2, 4, 4, 1 -> (2 + 0.5 * 2) / 4.
    assert pct_rank(weekly([2.0, 4.0, 4.0, 1.0, 4.0]), FLOWS, 5).rank == 75.0
    assert pct_rank(weekly([3.0, 2.0, 1.0]), FLOWS, 3).rank == 0.0


def test_percentile_rank_needs_the_window():
    assert pct_rank(weekly([1.0, 2.0, 3.0]), FLOWS, 5) is None
    assert pct_rank(weekly([1.0, NAN, 3.0, 2.0, 4.0]), FLOWS, 5) is None
    # Unknown weeks skipped: others 1, 3, 2 -> two of three below 2.5.
    relaxed = pct_rank(weekly([1.0, NAN, 3.0, 2.0, 2.5]), FLOWS, 5, min_periods=4)
    assert relaxed.rank == pytest.approx(200 / 3) and relaxed.n == 4


def test_level_and_change():
    series = weekly([231.8, 229.5])
    assert level(series, LEVERAGE).value == 229.5
    assert level(series, LEVERAGE).components["change"] == pytest.approx(-2.3)
    fact = change(series, LEVERAGE)
    assert (fact.kind, fact.direction, fact.periods_since) == ("change", "down", 1)
    assert fact.value == pytest.approx(-2.3)
    assert change(weekly([NAN, 229.5]), LEVERAGE) is None
    assert level(weekly([1.0, NAN]), LEVERAGE) is None


def test_unsorted_series_is_refused():
    series = weekly([1.0, 2.0]).iloc[::-1]
    with pytest.raises(ValueError, match="ascending"):
        streak(series, FLOWS)


def test_context_checks_who_and_period():
    with pytest.raises(ValueError, match="who"):
        Context("pension_funds", "net_flow", "book", "all", "W")
    with pytest.raises(ValueError, match="period"):
        Context("retail", "net_flow", "book", "all", "Y")


# --------------------------------------------------------------------------------------- rows


def test_net_selling_driven_by_long_sales():
    fact = driven_by(flow_row(50.0, 300.0, 200.0, 10.0), FLOWS)
    assert (fact.kind, fact.label, fact.value, fact.direction) == ("driven_by", "long_sell",
                                                                   300.0, "sold")
    assert fact.components == {"long_sell": 300.0, "short_sale": 200.0}


def test_net_selling_driven_by_short_sales_when_larger():
    assert driven_by(flow_row(50.0, 100.0, 200.0, 10.0), FLOWS).label == "short_sale"


def test_net_buying_driven_by_short_covers_when_larger():
    fact = driven_by(flow_row(100.0, 50.0, 20.0, 300.0), FLOWS)
    assert (fact.label, fact.value, fact.direction) == ("short_cover", 300.0, "bought")


def test_driven_by_tie_goes_to_the_long_side_and_suppressed_says_nothing():
    assert driven_by(flow_row(100.0, 0.0, 0.0, 100.0), FLOWS).label == "long_buy"
    assert driven_by(flow_row(50.0, 300.0, 200.0, 10.0, suppressed=True), FLOWS) is None
    assert driven_by(flow_row(100.0, 100.0, 0.0, 0.0), FLOWS) is None


def test_long_buys_outpaced_short_sales_5_to_1():
    fact = outpaced(flow_row(500.0, 50.0, 100.0, 20.0), FLOWS)
    assert (fact.kind, fact.value, fact.label, fact.direction) == ("ratio", 5.0,
                                                                   "long_buy/short_sale",
                                                                   "risk_on")
    assert fact.components == {"long_buy": 500.0, "short_sale": 100.0}


def test_long_sales_and_to_a_lesser_extent_short_covers():
    fact = outpaced(flow_row(10.0, 140.0, 5.0, 100.0), FLOWS)
    assert fact.value == pytest.approx(1.4)
    assert (fact.label, fact.direction) == ("long_sell/short_cover", "risk_off")


def test_outpaced_larger_side_first_and_none_against_zero():
    assert outpaced(flow_row(100.0, 10.0, 300.0, 0.0), FLOWS).label == "short_sale/long_buy"
    assert outpaced(flow_row(500.0, 10.0, 0.0, 20.0), FLOWS) is None


# ------------------------------------------------------------------------------ cross-section

SECTORS = ["Communication Services", "Consumer Discretionary", "Consumer Staples", "Energy",
           "Financials", "Health Care", "Industrials", "Information Technology", "Materials",
           "Real Estate", "Utilities"]


def sector_frame() -> pd.DataFrame:
    """One week: 8 sectors sold, 2 bought, Utilities suppressed."""
    flows = [-5.0, -4.0, -3.0, -2.0, -1.0, -6.0, -7.0, -8.0, 9.0, 2.0, NAN]
    return pd.DataFrame({"period_end": pd.Timestamp("2024-06-28"), "sector": SECTORS,
                         "net_flow": flows, "net_flow_sd": [f / 2 for f in flows],
                         "suppressed": [False] * 10 + [True]})


def test_8_of_10_sectors_sold_with_one_suppressed():
    bought, sold = breadth(sector_frame(), Context("hedge_funds", "net_flow", "sector", "all",
                                                   "W"))
    assert (sold.kind, sold.direction, sold.n, sold.of, sold.value) == ("breadth", "sold", 8,
                                                                        10, 8.0)
    assert (bought.direction, bought.n, bought.of) == ("bought", 2, 10)
    assert sold.components["suppressed"] == 1.0 and sold.components["groups"] == 11.0
    assert sold.id == "breadth:hedge_funds:net_flow:sector=all:W:2024-06-28:sold"


def test_breadth_uses_the_last_period():
    earlier = sector_frame().assign(period_end=pd.Timestamp("2024-06-21"), net_flow=1.0,
                                    suppressed=False)
    _, sold = breadth(pd.concat([earlier, sector_frame()]), FLOWS)
    assert sold.n == 8 and sold.period_end == dt.date(2024, 6, 28)


def test_leaders_most_bought_and_most_sold():
    facts = leaders(sector_frame(), Context("hedge_funds", "net_flow", "sector", "all", "W"))
    bought = [(f.group, f.n) for f in facts if f.direction == "bought"]
    sold = [(f.group, f.n, f.value, f.sd) for f in facts if f.direction == "sold"]
    assert bought == [("Materials", 1), ("Real Estate", 2)]
    assert sold == [("Information Technology", 1, -8.0, -4.0), ("Industrials", 2, -7.0, -3.5),
                    ("Health Care", 3, -6.0, -3.0)]
    assert all(f.kind == "flow" and f.of == 10 for f in facts)


# ------------------------------------------------------------------------------ series_facts


def flow_table(weeks: int = 70) -> pd.DataFrame:
    """Three sectors of random weekly flows; Materials sold (long sales) for the last 3 weeks,
    Utilities suppressed in the last week."""
    rng = np.random.default_rng(7)
    index = pd.date_range(end="2024-06-28", periods=weeks, freq="W-FRI")
    sides = ["long_buy", "long_sell", "short_sale", "short_cover"]
    table = pd.DataFrame(rng.uniform(0, 100, size=(3 * weeks, 4)), columns=sides)
    table["period_end"] = np.tile(index, 3)
    table["sector"] = np.repeat(["Energy", "Materials", "Utilities"], weeks)
    table.loc[(table.sector == "Materials") & (table.period_end >= index[-3]), "long_sell"] = 500.0
    table["net_flow"] = table.long_buy - table.long_sell - table.short_sale + table.short_cover
    table["risk_on"] = table.long_buy + table.short_sale
    table["risk_off"] = table.long_sell + table.short_cover
    table["net_flow_sd"] = table.net_flow / 40
    hidden = (table.sector == "Utilities") & (table.period_end == index[-1])
    table["suppressed"] = hidden
    table.loc[hidden, [*sides, "net_flow", "risk_on", "risk_off", "net_flow_sd"]] = NAN
    return table


def run_flows(table, **kwargs):
    return series_facts(table, who="hedge_funds", metric="net_flow", group_by="sector",
                        period="W", **kwargs)


def test_series_facts_on_a_flow_table():
    facts = run_flows(flow_table())
    ids = [f.id for f in facts]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    by_id = {f.id: f for f in facts}
    materials = by_id["streak:hedge_funds:net_flow:sector=Materials:W:2024-06-28"]
    assert (materials.n, materials.direction) == (3, "sold")
    assert by_id["driven_by:hedge_funds:net_flow:sector=Materials:W:2024-06-28"].label \
        == "long_sell"
    assert not [f for f in facts if f.group == "Utilities"]
    sold = by_id["breadth:hedge_funds:net_flow:sector=all:W:2024-06-28:sold"]
    assert sold.of == 2 and sold.components["suppressed"] == 1.0
    assert {f.period_end for f in facts} == {dt.date(2024, 6, 28)}
    assert {f.kind for f in facts} >= {"level", "streak", "driven_by", "ratio", "breadth",
                                       "flow"}


def test_series_facts_ids_are_stable_across_runs():
    first = [f.to_dict() for f in run_flows(flow_table())]
    assert first == [f.to_dict() for f in run_flows(flow_table())]


def test_series_facts_as_of_is_point_in_time():
    table = flow_table()
    as_of = dt.date(2024, 5, 31)
    facts = run_flows(table, as_of=as_of)
    assert {f.period_end for f in facts} == {as_of}
    assert facts == run_flows(table[table.period_end <= pd.Timestamp(as_of)])
    assert facts != run_flows(table)


def test_series_facts_on_leverage():
    levels = [200.0 + (i % 3) for i in range(60)] + [210.0, 205.0, 200.0, 195.0, 190.0,
                                                      185.0, 180.0]
    index = pd.date_range(end="2024-06-28", periods=len(levels), freq="W-FRI")
    table = pd.DataFrame({"period_end": index, "book": "all", "gross_leverage": levels,
                          "suppressed": False})
    facts = series_facts(table, who="hedge_funds", metric="gross_leverage", group_by="book",
                         period="W")
    by_id = {f.id: f for f in facts}
    prefix = "hedge_funds:gross_leverage:book=all:W:2024-06-28"
    assert (by_id[f"streak:{prefix}:change"].n, by_id[f"streak:{prefix}:change"].direction) \
        == (6, "down")
    assert by_id[f"change:{prefix}"].value == -5.0
    assert by_id[f"level:{prefix}:window=52"].rank == 0.0
    assert not any(f.kind in ("breadth", "driven_by", "ratio") for f in facts)


def book_flows(values, **columns) -> pd.DataFrame:
    index = pd.date_range(end="2024-06-28", periods=len(values), freq="W-FRI")
    return pd.DataFrame({"period_end": index, "book": "all", "net_flow": values, **columns})


def run_book(table):
    return series_facts(table, who="hedge_funds", metric="net_flow", group_by="book",
                        period="W")


def test_series_facts_keeps_k_of_n_only_when_it_says_more_than_the_streak():
    more = run_book(book_flows([1.0] * 10 + [-1.0, -1.0, 1.0, -1.0, -1.0, -1.0, -1.0]))
    assert [(f.n, f.of) for f in more if f.kind == "k_of_n"] == [(6, 7)]
    same = run_book(book_flows([1.0] * 10 + [1.0] + [-1.0] * 6))
    assert not [f for f in same if f.kind == "k_of_n"]


def test_a_suppressed_cell_with_values_left_in_yields_no_fact():
    values = [-1.0] * 10 + [-50.0]
    suppressed = np.array([False] * 10 + [True], dtype=object)
    assert run_book(book_flows(values, suppressed=suppressed)) == []
    # An object column with None (unknown = not suppressed) is read without a warning.
    suppressed[-1] = None
    assert run_book(book_flows(values, suppressed=suppressed))


def test_series_facts_refuses_duplicate_rows():
    table = flow_table(5)
    with pytest.raises(ValueError, match="more than one row"):
        run_flows(pd.concat([table, table.tail(1)]))


def test_to_dict_is_json():
    facts = run_flows(flow_table())
    facts += breadth(sector_frame(), FLOWS)
    text = json.dumps([f.to_dict() for f in facts], allow_nan=False)
    record = json.loads(text)[0]
    assert record["period_end"] == "2024-06-28" and set(record) == set(Fact.__annotations__)
    since_fact = since(since_series({"2024-01-26": -500.0}, last=-400.0), FLOWS)
    assert since_fact.to_dict()["since_date"] == "2024-01-26"
    json.dumps(since_fact.to_dict(), allow_nan=False)


# -------------------------------------------------------------------------------- properties

values_with_gaps = st.lists(st.one_of(st.just(NAN), st.integers(-3, 3).map(float)),
                            min_size=1, max_size=30)


def slow_streak(values: list[float]) -> int:
    last = values[-1]
    if math.isnan(last) or last == 0:
        return 0
    length = 0
    for value in reversed(values):
        if math.isnan(value) or value == 0 or (value > 0) != (last > 0):
            break
        length += 1
    return length


@settings(max_examples=200, deadline=None)
@given(values_with_gaps)
def test_streak_agrees_with_a_slow_loop(values):
    fact = streak(weekly(values), FLOWS, min_length=1)
    assert (fact.n if fact else 0) == slow_streak(values)
    changes = [NAN] + [b - a for a, b in zip(values, values[1:])]
    fact = streak(weekly(values), LEVERAGE, change=True, min_length=1)
    assert (fact.n if fact else 0) == slow_streak(changes)


@settings(max_examples=200, deadline=None)
@given(values_with_gaps)
def test_since_points_at_the_most_recent_as_extreme_same_sign_period(values):
    series = weekly(values)
    fact = since(series, FLOWS, min_gap=1, min_periods=0)
    if fact is None:
        return
    last = values[-1]

    def as_extreme(value):
        return not math.isnan(value) and value * last > 0 and abs(value) >= abs(last)

    if fact.kind == "record":
        assert not any(as_extreme(v) for v in values[:-1])
        return
    position = series.index.get_loc(pd.Timestamp(fact.since_date))
    assert as_extreme(values[position])
    assert not any(as_extreme(v) for v in values[position + 1:-1])
    assert fact.periods_since == len(values) - 1 - position


@settings(max_examples=200, deadline=None)
@given(values_with_gaps, st.integers(1, 10))
def test_k_of_n_is_a_count_within_the_window(values, window):
    fact = k_of_n(weekly(values), FLOWS, window)
    if fact is None:
        return
    assert 1 <= fact.n <= fact.of == window
    last = values[-1]
    assert fact.n == sum(1 for v in values[-window:] if v * last > 0)


def test_facts_state_their_numbers_to_the_cent_or_12_digits():
    from smartmoney.facts import Fact, stated

    # The same sum added in two orders: one number once stated.
    assert stated(-78232668.79999995) == stated(-78232668.80000007) == -78232668.8
    assert stated(-0.344071714115004) == stated(-0.3440717141150045) == -0.344071714115
    assert stated(1234567890123.4567) == 1234567890123.46          # cents kept on a trillion
    assert stated(234.234567890123) == 234.23456789                 # 12 significant digits
    assert str(stated(-1e-17 * 0)) == "0.0" and stated(None) is None
    fact = Fact("x", "level", "hedge_funds", "net_flow", "book", "all", "W", dt.date(2024, 6, 28),
                  -78232668.79999995, sd=-0.3440717141150045, components={"previous": -177838448.68000007})
    assert fact.to_dict()["value"] == -78232668.8 and fact.to_dict()["sd"] == -0.344071714115
    assert fact.to_dict()["components"] == {"previous": -177838448.68}
