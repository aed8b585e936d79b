import datetime as dt

import pandas as pd
import pytest
from books import DATA

from smartmoney.taxonomy import (
    basket_members,
    baskets,
    gics_hierarchy,
    is_trading_day,
    sectors,
    sp500_universe,
    trading_days,
)


def test_gics_hierarchy_is_complete_2023_structure():
    h = gics_hierarchy()
    assert len(h) == 163
    assert h[["sector", "industry_group", "industry", "sub_industry"]].nunique().tolist() == [11, 25, 74, 163]
    assert sectors()[0] == "Energy" and sectors()[-1] == "Real Estate" and len(sectors()) == 11


def test_every_level_has_exactly_one_parent():
    h = gics_hierarchy()
    for child, parent in [("sub_industry", "industry"), ("industry", "industry_group"),
                          ("industry_group", "sector")]:
        assert (h.groupby(child)[parent].nunique() == 1).all(), child
    # codes are prefix-consistent: 2 / 4 / 6 / 8 digits
    assert (h.sub_industry_code.str[:6] == h.industry_code).all()
    assert (h.industry_code.str[:4] == h.industry_group_code).all()
    assert (h.industry_group_code.str[:2] == h.sector_code).all()


def test_gics_2023_changes_are_present():
    h = gics_hierarchy()
    chain = h.set_index("sub_industry").loc["Data Processing & Outsourced Services"]
    assert chain.sector == "Industrials"
    assert "Broadline Retail" in set(h.industry)
    assert "Internet & Direct Marketing Retail" not in set(h.sub_industry)


def test_sp500_universe_maps_every_stock_to_one_chain():
    u = sp500_universe()
    assert len(u) == 503
    assert u.security_id.is_unique
    assert u[["sector", "industry_group", "industry", "sub_industry"]].notna().all().all()
    # The per-sector counts the source repository publishes beside the list.
    published = pd.read_csv(DATA / "sp500" / "sector-counts.csv").set_index("sector")["count"]
    assert u.sector.value_counts().sort_index().to_dict() == published.sort_index().to_dict()
    assert u.set_index("ticker").loc["NVDA", "sub_industry"] == "Semiconductors"


def test_baskets_are_data():
    u = sp500_universe()
    assert basket_members("magnificent_7", u) == sorted(["AAPL", "MSFT", "NVDA", "GOOGL", "AMZN", "META", "TSLA"])
    semis = basket_members("semiconductors", u)
    assert {"NVDA", "AMD", "AVGO", "AMAT"} <= set(semis) and "AAPL" not in semis
    tmt = basket_members("tmt", u)
    assert len(tmt) == 73 + 23
    assert set(baskets()) == {"magnificent_7", "semiconductors", "tmt"}
    with pytest.raises(KeyError, match="known baskets"):
        basket_members("nope", u)


def test_nyse_calendar_covers_old_and_recent_years():
    assert is_trading_day(dt.date(2024, 6, 28))
    assert not is_trading_day(dt.date(2024, 6, 29))      # Saturday
    assert not is_trading_day(dt.date(2024, 7, 4))       # Independence Day
    assert not is_trading_day(dt.date(2024, 6, 19))      # Juneteenth
    assert is_trading_day(dt.date(1995, 3, 15))          # before the library's default window
    assert len(trading_days("2024-01-01", "2024-12-31")) == 252
    assert trading_days("2024-06-24", "2024-06-28")[0] == dt.date(2024, 6, 24)


def test_the_shipped_closed_weekdays_are_exchange_calendars_xnys():
    """The calendar reads NYSE's closed weekdays from a file (fast); it must be XNYS's."""
    from smartmoney.taxonomy.calendar import CLOSED_WEEKDAYS, closed_weekdays_from_exchange_calendars

    shipped = [line for line in CLOSED_WEEKDAYS.read_text().splitlines() if line and not line.startswith("#")]
    assert shipped == closed_weekdays_from_exchange_calendars()
    assert {"2001-09-11", "2012-10-29", "2025-01-09", "2030-12-25"} <= set(shipped)
    assert not is_trading_day(dt.date(2001, 9, 11)) and is_trading_day(dt.date(2001, 9, 17))
