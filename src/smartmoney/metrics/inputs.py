"""Point-in-time inputs shared by every metric: who is present when, and priced holdings.

All functions take and return Ibis tables, so the same expressions run on DuckDB and Spark
(no asof joins, no ordered first/last: joins and window functions only).
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import ibis
from ibis import _

from smartmoney.schema import FILER_STRATEGY

FREQS = ("D", "W", "M", "Q")
_TRUNCATE = {"W": "W", "M": "M", "Q": "Q"}
# Products whose exposure is not equity exposure (DESIGN: options are kept apart).
EXCLUDED_ASSET_TYPES = ("option",)
# Tables of one row per security or account and day at most, read by many metrics: kept in the
# engine's memory on first use, so that their many small files are read once.
SMALL_TABLES = ("securities", "accounts", "prices", "equity", "retail_flows")


class Inputs:
    """The canonical tables of one backend, cut to what was knowable on `as_of`.

    A row is visible when its date <= as_of and, for positions, available_from <= as_of.
    `all_accounts_have_equity` says so when the caller knows (the store does), for a backend
    that holds only some days' equity rows. What the store keeps derived and exact for this
    as-of: `kept_flows` (daily position flows), `kept_periods` (per frequency, the period ends
    whose `period_flows` it holds) and `kept_values` (the days whose `period_values` it holds).
    `days`: the days of the data (where accounts are present), when the caller knows them.
    """

    def __init__(self, backend, as_of: dt.date | None = None, *, kept_flows: bool = False,
                 kept_periods: dict[str, frozenset[dt.date]] | None = None,
                 kept_values: frozenset[dt.date] = frozenset(), all_accounts_have_equity: bool = False,
                 days: list[dt.date] | None = None):
        self.backend = backend
        self.as_of = as_of
        self.kept_flows = kept_flows
        self.kept_periods = kept_periods or {}
        self.kept_values = kept_values
        self.all_accounts_have_equity = all_accounts_have_equity
        self.days = days
        self._cached: dict[object, ibis.Table] = {}
        self._once: dict[object, ibis.Table] = {}
        self._kept: dict[object, object] = {}
        self.reuse_expected = False
        self._tables: dict[str, ibis.Table] = {}

    def table(self, name: str) -> ibis.Table:
        """The backend's table `name`, as stored (looked up once: each lookup asks for its
        schema; the SMALL_TABLES are kept in the engine's memory)."""
        if name not in self._tables:
            table = self.backend.table(name)
            self._tables[name] = table.cache() if name in SMALL_TABLES else table
        return self._tables[name]

    def close(self) -> None:
        """Drop the temp tables kept so far and disconnect the backend (inputs with a backend
        of their own, e.g. the store's refresh: a temp table must go before its connection)."""
        kept = [*self._cached.values(), *(self._tables[name] for name in SMALL_TABLES if name in self._tables)]
        for table in kept:
            table.release()
        self._cached.clear()
        self._once.clear()
        self._kept.clear()
        self._tables.clear()
        self.backend.disconnect()

    def stored_flows(self) -> ibis.Table | None:
        """The daily position flows the store keeps, cut to as_of, when they hold for these
        inputs (`kept_flows`: the store keeps them up to date, and no fund position became
        knowable only after its date); else None, and flows are derived from positions."""
        if not self.kept_flows:
            return None
        table = self.table("position_flows")
        return table if self.as_of is None else table.filter(table.date <= ibis.date(self.as_of))

    def cached(self, key: object, build) -> ibis.Table:
        """`build()` computed once and kept by the engine (a temp table), for reuse by key."""
        if key not in self._cached:
            self._cached[key] = build().cache()
        return self._cached[key]

    def kept(self, key: object, build):
        """`build()` computed once per key and kept as it is (no temp table of its own)."""
        if key not in self._kept:
            self._kept[key] = build()
        return self._kept[key]

    def shared(self, key: object, build) -> ibis.Table:
        """`build()` as an expression the first time it is asked for (its one user computes it
        in its own query), kept by the engine from the second time on (see `cached`): an
        intermediate read by one metric only is not written out first. With `reuse_expected`
        (a caller about to ask for many groupings, such as the weekly report) it is kept from
        the first time on."""
        if key in self._cached:
            return self._cached[key]
        if key in self._once or self.reuse_expected:
            built = self._once.pop(key, None)
            return self.cached(key, build if built is None else lambda: built)
        self._once[key] = build()
        return self._once[key]

    def visible(self, name: str) -> ibis.Table:
        """Table `name` with the point-in-time cut (date and available_from <= as_of); for
        positions, with the versions a later filing replaced that were current on as_of."""
        table = self.table(name)
        if self.as_of is None:
            return table
        as_of = ibis.date(self.as_of)
        table = table.filter(table.date <= as_of)
        if "available_from" in table.columns:
            table = table.filter(table.available_from <= as_of)
        if name == "positions" and self.has_versions:
            # What a later filing replaced was still the position until that filing was made.
            versions = self.table("position_versions")
            earlier = versions.filter(versions.date <= as_of, versions.available_from <= as_of,
                                      versions.superseded_from > as_of)
            table = table.union(earlier.select(*table.columns))
        return table

    @property
    def securities(self) -> ibis.Table:
        return self.table("securities")

    @property
    def accounts(self) -> ibis.Table:
        return self.table("accounts")

    @property
    def prices(self) -> ibis.Table:
        return self.visible("prices")

    @property
    def equity(self) -> ibis.Table:
        return self.visible("equity")

    @property
    def retail_flows(self) -> ibis.Table:
        return self.visible("retail_flows")

    @property
    def trades(self) -> ibis.Table:
        return self.visible("trades")

    @cached_property
    def has_versions(self) -> bool:
        """True when the store keeps earlier versions of positions (13F amendments)."""
        return bool(self.table("position_versions").count().execute())

    @cached_property
    def filers(self) -> ibis.Table | None:
        """The accounts that are 13F filers, or None when the book has none."""
        filers = self.accounts.filter(_.strategy == FILER_STRATEGY).select("account_id")
        return filers if filers.count().execute() else None

    @property
    def positions(self) -> ibis.Table:
        """The funds' equity positions (options and 13F filers left out: their quarterly holdings
        have their own analytics, `metrics.holdings`), with the point-in-time cut."""
        positions = self.visible("positions")
        kept = self.securities.filter(~_.asset_type.isin(EXCLUDED_ASSET_TYPES)).select("security_id")
        positions = positions.semi_join(kept, "security_id")
        if self.filers is not None:
            positions = positions.anti_join(self.filers, "account_id")
        return positions.select("date", "account_id", "security_id", "quantity")

    def presence(self) -> ibis.Table:
        """(date, account_id) where the account is present (see `shared`)."""
        return self.shared("presence", self._presence)

    def _presence(self) -> ibis.Table:
        """(date, account_id) where the account is present.

        An account is present on a day when it has an equity row that day; an account with no
        equity rows at all (in the whole table) is present on the days it has position rows.
        """
        equity = self.equity.select("date", "account_id").distinct()
        if self.all_accounts_have_equity:
            return equity
        without_equity = self.accounts.select("account_id").anti_join(
            self.table("equity").select("account_id").distinct(), "account_id")
        if without_equity.count().execute() == 0:
            return equity          # every account has equity data: no positions scan needed
        from_positions = (self.positions.select("date", "account_id")
                          .semi_join(without_equity, "account_id").distinct())
        return equity.union(from_positions, distinct=True)

    def dates(self) -> ibis.Table:
        """Every date of the data with the one before it (null for the first): the `days` the
        caller knows, cut to as_of, else the present days."""
        if self.days is not None:   # a small table the engine is given with each query
            days = [day for day in self.days if self.as_of is None or day <= self.as_of]
            return ibis.memtable({"date": days, "prev_date": [None, *days[:-1]]},
                                 schema={"date": "date", "prev_date": "date"})

        def build():
            dates = self.presence().select("date").distinct()
            return dates.mutate(prev_date=dates.date.lag().over(order_by=dates.date))
        return self.cached("dates", build)

    def valued(self, dates: list | None = None) -> ibis.Table:
        """Positions with the day's close: date, account_id, security_id, quantity, close; on
        `dates` only when given (read apart from the other days).

        Positions without a close that day are left out (see `unpriced`), never valued at 0.
        """
        positions, prices = self.positions, self.prices.select("date", "security_id", "close")
        if dates is not None:
            positions, prices = positions.filter(positions.date.isin(dates)), prices.filter(prices.date.isin(dates))
        return positions.join(prices, ["date", "security_id"])

    def values(self, dates: list) -> ibis.Table:
        """(date, account_id, security_id, value = quantity x close) on `dates`: read from the
        store's kept `period_values` for the days it holds, valued now for the others."""
        kept = [day for day in dates if day in self.kept_values]
        rest = [day for day in dates if day not in self.kept_values]
        if not kept:
            return value_rows(self.valued(dates))
        stored = self.table("period_values")
        parts = [stored.filter(stored.date.isin(kept)).select(*VALUE_COLUMNS)]
        if rest:
            parts.append(value_rows(self.valued(rest)))
        return ibis.union(*parts)

    def unpriced(self) -> ibis.Table:
        """Positions left out of exposure and flows for want of a close, per date."""
        prices = self.prices.select("date", "security_id")
        missing = self.positions.anti_join(prices, ["date", "security_id"])
        return (missing.group_by("date")
                .aggregate(unpriced_positions=_.count(), accounts=_.account_id.nunique(),
                           securities=_.security_id.nunique()))


VALUE_COLUMNS = ("date", "account_id", "security_id", "value")


def value_rows(valued: ibis.Table) -> ibis.Table:
    """`Inputs.valued` rows as (date, account_id, security_id, value = quantity x close)."""
    return valued.select("date", "account_id", "security_id", value=valued.quantity * valued.close)


def periods(dates: ibis.Table, freq: str) -> ibis.Table:
    """(date, period_end) for every data date: period_end is the last date of its period.

    Weeks run Monday to Friday, months and quarters are calendar ones; the period's end is the
    last trading day the data holds in it.
    """
    if freq not in FREQS:
        raise ValueError(f"unknown frequency {freq!r}; choose one of {', '.join(FREQS)}")
    if freq == "D":
        return dates.select("date", period_end=dates.date)
    start = dates.date.truncate(_TRUNCATE[freq])
    keyed = dates.select("date", period_start=start)
    ends = keyed.group_by("period_start").aggregate(period_end=_.date.max())
    return keyed.join(ends, "period_start").select("date", "period_end")
