"""The dashboard's view of one book: checked dates, results kept per as-of date, one engine lock.

Everything here asks the Book API and report/ for results and keeps them; nothing is computed
but selections. DuckDB connections are not thread-safe, so every call into the Book holds one
lock; results are kept in memory, per as-of date (the `days` most recently asked for), and
rendered pages in a separate LRU of `pages` entries, so a warm request never touches the engine.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import pandas as pd

import smartmoney as sm
from smartmoney.book import BookError
from smartmoney.taxonomy import is_trading_day

log = logging.getLogger("smartmoney.web")

# Tables whose rejected rows describe one account (positions, trades, equity, the accounts
# themselves): the dashboard shows why they were rejected, never the raw records or the values
# their reasons quote.
ACCOUNT_TABLES = ("accounts", "positions", "trades", "equity")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def redact_rejects(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejected rows as the dashboard shows them: for account-level tables, no record (None)
    and the quoted values of each reason masked ('…')."""
    private = rejects["table"].isin(ACCOUNT_TABLES)
    return rejects.assign(
        record=rejects["record"].where(~private, None),
        reason=[_QUOTED.sub("'…'", reason) if hidden else reason
                for reason, hidden in zip(rejects["reason"], private)])


class LRU:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Hashable, value: Any) -> list[tuple[Hashable, Any]]:
        """Keep `value`; return what was evicted to make room."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            evicted = []
            while len(self._items) > self.size:
                evicted.append(self._items.popitem(last=False))
            return evicted

    def __len__(self) -> int:
        return len(self._items)


class Dashboard:
    """A book opened once, with the disclosure rule of the command line, and its results kept.

    Parameters
    ----------
    store
        The store directory.
    engine, k, p
        As for `sm.open`: the engine, and disclosure control (k accounts, p percent).
    days
        How many as-of dates keep their results (metric tables, the report) in memory.
    pages
        How many rendered pages (and API answers) are kept.
    """

    def __init__(self, store, *, engine: str = "duckdb", k: int = 5, p: float = 50.0,
                 days: int = 4, pages: int = 512):
        self.book = sm.open(store, engine=engine, k=k, p=p)
        self.store = self.book.store
        self.lock = threading.RLock()
        self.ready = threading.Event()
        self._days = LRU(days)
        self.pages = LRU(pages)
        self._range: tuple[dt.date, dt.date] | None = None
        self._defer_cache_drops()

    def _defer_cache_drops(self) -> None:
        """Ibis drops a cached temp table when the garbage collector frees it, in whatever thread
        the collector happens to run, which may be mid-query on another thread's connection use.
        Here such drops are queued and done under the lock, before the next computation."""
        backend = self.book.backend
        drop = getattr(backend, "_finalize_cached_table", None)
        if drop is None:
            return
        self._drops: list[str] = []
        self._drop = drop
        backend._finalize_cached_table = self._drops.append  # see the docstring

    def _drop_released(self) -> None:
        drops = getattr(self, "_drops", [])
        while drops:
            self._drop(drops.pop())

    # ------------------------------------------------------------------------------ dates

    @property
    def tables(self) -> dict[str, dict]:
        return self.store.info()["tables"]

    @property
    def date_range(self) -> tuple[dt.date, dt.date]:
        """First and last day a page can be asked about: the book's data, up to its last filing."""
        if self._range is None:
            with self.lock:
                tables = self.tables
                if tables["positions"]["rows"]:
                    self._range = (self.book.date_range[0], self.book.last_known)
                else:  # public data only: the span of whatever dated tables the store holds
                    dates = [dt.date.fromisoformat(d) for t in tables.values()
                             for d in (t["first_date"], t["last_date"]) if d]
                    if not dates:
                        raise BookError(f"{self.store.path}: the store holds no dated data yet")
                    self._range = (min(dates), max(dates))
        return self._range

    @property
    def range_known(self) -> bool:
        """True once the date range is found (finding it may query the engine)."""
        return self._range is not None

    def bounds(self) -> tuple[dt.date, dt.date]:
        """The date range when it is known (else today twice): for error pages, never raises."""
        try:
            return self.date_range
        except BookError:
            return (dt.date.today(), dt.date.today())

    def day(self, as_of: str | None) -> dt.date:
        """`as_of` (YYYY-MM-DD) checked: an NYSE trading day within the book; None = the latest."""
        first, last = self.date_range
        if as_of is None:
            return last
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            raise BookError(f"as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
        if not is_trading_day(day):
            raise BookError(f"as-of {day} ({day:%A}) is not an NYSE trading day")
        if not first <= day <= last:
            raise BookError(f"as-of {day} is outside the book's data, {first} to {last}")
        return day

    def as_of(self, day: dt.date) -> dt.date | None:
        """What the Book is asked for: the day, or None (everything) on a store without positions."""
        return day if self.tables["positions"]["rows"] else None

    # ----------------------------------------------------------------------------- results

    def result(self, day: dt.date, key: Hashable, compute: Callable[[], Any]) -> Any:
        """`compute()` for `day`, once: kept with the day's other results until the day is evicted."""
        kept = self._days.get(day)
        if kept is not None and key in kept:
            return kept[key]
        with self.lock:
            self._drop_released()
            kept = self._days.get(day)
            if kept is None:
                kept = {}
                for old_day, _ in self._days.put(day, kept):
                    self._forget(old_day)
            if key not in kept:
                kept[key] = compute()
            return kept[key]

    def _forget(self, day: dt.date) -> None:
        """Let the Book drop the engine's temp tables of an evicted day (the Book keeps its
        point-in-time inputs per day without bound; the dashboard bounds them)."""
        self.book.release(day)
        log.info("released the results of %s", day)

    def page(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """A rendered page (or API answer), kept in the page LRU."""
        body = self.pages.get(key)
        if body is None:
            body = render()
            self.pages.put(key, body)
        return body

    def warm(self, renderers: list[Callable[[], Any]]) -> None:
        """Compute the latest week's pages (run in a background thread at startup)."""
        try:
            for render in renderers:
                render()
        except Exception:  # a failed warm-up must not stop the server
            log.exception("warming the dashboard failed; pages will compute on first request")
        finally:
            self.ready.set()
