"""The default book: every planted episode of june-2024-rotation is found, from the data alone.

The checks go through the facts and their values (not through text), and the code under test
never reads the scenario file: it sees only the store.
"""

from __future__ import annotations

import pytest

import smartmoney as sm

pytestmark = pytest.mark.slow

WEEK = "W:2024-06-28"


@pytest.fixture(scope="module")
def facts(demo_store):
    return {fact.id: fact for fact in sm.open(demo_store).facts(as_of="2024-06-28")}


def _get(facts, fact_id):
    assert fact_id in facts, f"missing fact {fact_id}"
    return facts[fact_id]


def test_third_straight_week_of_net_selling_driven_by_long_sales(facts):
    streak = _get(facts, f"streak:hedge_funds:net_flow:book=all:{WEEK}")
    assert (streak.n, streak.direction) == (3, "sold") and streak.value < 0
    driven = _get(facts, f"driven_by:hedge_funds:net_flow:book=all:{WEEK}")
    assert driven.label == "long_sell"
    assert driven.value == max(driven.components.values())


def test_gross_leverage_down_six_weeks_in_a_row(facts):
    streak = _get(facts, f"streak:hedge_funds:gross_leverage:book=all:{WEEK}:change")
    assert (streak.n, streak.direction) == (6, "down")


def test_largest_weekly_drop_in_net_leverage_this_year(facts):
    drop = _get(facts, f"ytd_extreme:hedge_funds:net_leverage:book=all:{WEEK}:change:min")
    assert drop.direction == "down" and drop.value < -5       # percentage points
    assert drop.n == 26                                        # weeks of 2024 so far


def test_eight_of_eleven_sectors_net_sold(facts):
    sold = _get(facts, f"breadth:hedge_funds:net_flow:sector=all:{WEEK}:sold")
    bought = _get(facts, f"breadth:hedge_funds:net_flow:sector=all:{WEEK}:bought")
    assert (sold.n, sold.of, bought.n) == (8, 11, 3)
    levels = {f.group: f.value for f in facts.values()
              if f.kind == "level" and f.metric == "net_flow" and f.group_by == "sector"
              and f.period_end.isoformat() == "2024-06-28"
              and f.rank is None}
    assert {g for g, v in levels.items() if v > 0} == {"Industrials", "Materials", "Energy"}
    most_sold = sorted(levels, key=levels.get)[:4]
    assert set(most_sold) == {"Information Technology", "Consumer Discretionary", "Real Estate", "Financials"}


def test_materials_turns_to_the_fastest_buying_in_five_months_five_to_one(facts):
    before = _get(facts, "k_of_n:hedge_funds:net_flow:sector=Materials:W:2024-06-21:of=7")
    assert (before.n, before.of, before.direction) == (6, 7, "sold")
    since = _get(facts, f"since:hedge_funds:net_flow:sector=Materials:{WEEK}")
    assert (since.direction, since.months, since.since_date.isoformat()) == ("bought", 5, "2024-01-26")
    ratio = _get(facts, f"ratio:hedge_funds:net_flow:sector=Materials:{WEEK}")
    assert ratio.label == "long_buy/short_sale" and ratio.direction == "risk_on"
    assert 4.5 <= ratio.value <= 5.5


def test_every_materials_industry_bought_but_containers_chemicals_and_metals_lead(facts):
    sold = _get(facts, f"breadth:hedge_funds:net_flow:industry=Materials:{WEEK}:sold")
    bought = _get(facts, f"breadth:hedge_funds:net_flow:industry=Materials:{WEEK}:bought")
    assert (bought.n, sold.n, bought.of) == (3, 1, 4)
    assert _get(facts, f"flow:hedge_funds:net_flow:industry=Containers & Packaging:{WEEK}:sold:1").value < 0
    assert _get(facts, f"flow:hedge_funds:net_flow:industry=Chemicals:{WEEK}:bought:1").value > 0
    assert _get(facts, f"flow:hedge_funds:net_flow:industry=Metals & Mining:{WEEK}:bought:2").value > 0


def test_record_monthly_tmt_net_selling(facts):
    record = _get(facts, "record:hedge_funds:net_flow:tmt=TMT:M:2024-06-28")
    assert record.direction == "sold" and record.value < 0
    assert record.n == 30                                      # every month of the book compared


def test_it_sold_through_june_led_by_semiconductors(facts):
    streak = _get(facts, f"streak:hedge_funds:net_flow:sector=Information Technology:{WEEK}")
    assert streak.direction == "sold" and streak.n >= 4
    leader = _get(facts, f"flow:hedge_funds:net_flow:industry=Semiconductors & Semiconductor Equipment:{WEEK}:sold:1")
    assert leader.value < 0
