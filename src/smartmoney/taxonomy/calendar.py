"""The NYSE trading calendar: every weekday from 1990 to 2030 except the days NYSE is closed.

The closed weekdays (holidays and unscheduled closures such as 2001-09-11 or 2012-10-29) are
read from data/xnys_closed_weekdays.txt, written from exchange_calendars' XNYS calendar by
`write_closed_weekdays()` (a test checks the file against exchange_calendars).
Building the calendar from the file takes milliseconds; exchange_calendars takes most of a
second, which every command paid.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

CALENDAR_START = "1990-01-02"      # old 13F and CFTC history
CALENDAR_END = "2030-12-31"        # a few years ahead for scenarios
CLOSED_WEEKDAYS = Path(__file__).parent / "data" / "xnys_closed_weekdays.txt"


@cache
def _sessions() -> pd.DatetimeIndex:
    closed = np.array([line for line in CLOSED_WEEKDAYS.read_text().splitlines()
                       if line and not line.startswith("#")], dtype="datetime64[D]")
    days = np.arange(np.datetime64(CALENDAR_START), np.datetime64(CALENDAR_END) + 1)
    weekdays = days[np.is_busday(days)]        # numpy, not pd.bdate_range: 2 ms instead of 200
    return pd.DatetimeIndex(weekdays[~np.isin(weekdays, closed)].astype("datetime64[ns]"))


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


def closed_weekdays_from_exchange_calendars() -> list[str]:
    """The weekdays of the window on which exchange_calendars' XNYS has no session."""
    import exchange_calendars

    sessions = exchange_calendars.get_calendar("XNYS", start=CALENDAR_START, end=CALENDAR_END).sessions
    weekdays = pd.bdate_range(CALENDAR_START, CALENDAR_END)
    return [day.strftime("%Y-%m-%d") for day in weekdays[~weekdays.isin(sessions.tz_localize(None))]]


def write_closed_weekdays() -> None:
    """Write data/xnys_closed_weekdays.txt afresh from exchange_calendars."""
    import exchange_calendars

    CLOSED_WEEKDAYS.write_text(
        f"# NYSE (XNYS) weekdays without a session, {CALENDAR_START} to {CALENDAR_END}.\n"
        f"# Written by smartmoney.taxonomy.calendar.write_closed_weekdays() from exchange_calendars "
        f"{exchange_calendars.__version__}.\n" + "\n".join(closed_weekdays_from_exchange_calendars()) + "\n")
