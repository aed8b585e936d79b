"""The NYSE trading calendar (exchange_calendars XNYS)."""

from __future__ import annotations

import datetime as dt
from functools import cache

import exchange_calendars
import pandas as pd

# exchange_calendars' default window is about 20 years; start earlier so that old
# 13F and CFTC history is covered, and end a few years ahead for scenarios.
CALENDAR_START = "1990-01-02"
CALENDAR_END = "2030-12-31"


@cache
def _sessions() -> pd.DatetimeIndex:
    calendar = exchange_calendars.get_calendar("XNYS", start=CALENDAR_START, end=CALENDAR_END)
    return calendar.sessions


@cache
def _session_set() -> frozenset[dt.date]:
    return frozenset(_sessions().date)


def trading_days(start: str | dt.date, end: str | dt.date) -> list[dt.date]:
    """NYSE trading days in [start, end], as `datetime.date` values."""
    sessions = _sessions()
    window = sessions[(sessions >= pd.Timestamp(start)) & (sessions <= pd.Timestamp(end))]
    return list(window.date)


def is_trading_day(day: dt.date) -> bool:
    """True when `day` is an NYSE trading day inside the calendar's window (1990-2030)."""
    return day in _session_set()


def trading_day_index() -> pd.DatetimeIndex:
    """All NYSE sessions in the calendar's window, as a tz-naive DatetimeIndex."""
    return _sessions()
