"""The Python API: open a store and ask for metrics and facts.

    import smartmoney as sm
    book = sm.open("demo-store")
    book.flows(by="sector", freq="W").to_pandas()

Every method returns an Ibis table (`.to_pandas()`, `.to_polars()`, `.to_pyarrow()`), with
disclosure control applied, as of a date when one is given. A result is computed once per book,
grouping, frequency and as-of date, and kept by the engine for the next question.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import ibis
import pandas as pd

from smartmoney import metrics
from smartmoney.engine import connect
from smartmoney.metrics import Disclosure, Inputs, groups, holdings, retail
from smartmoney.metrics.event_study import event_study
from smartmoney.store import Store
from smartmoney.taxonomy import is_trading_day


class BookError(ValueError):
    """The question cannot be asked of this book (empty book, as-of outside the data...)."""


class Book:
    """A store seen through one engine, with one disclosure rule."""

    def __init__(self, store: Store, *, engine: str = "duckdb", disclosure: Disclosure | None = None,
                 memory_limit: str | None = None):
        self.store = store
        self.engine = engine
        self.disclosure = disclosure or Disclosure()
        self.backend = connect(store, engine, memory_limit=memory_limit)
        self._inputs: dict[dt.date | None, Inputs] = {}

    @cached_property
    def date_range(self) -> tuple[dt.date, dt.date]:
        """First and last date with positions."""
        tables = self.store.info()["tables"]["positions"]
        if not tables["rows"]:
            raise BookError(f"{self.store.path}: the book is empty (no positions ingested)")
        return (dt.date.fromisoformat(tables["first_date"]), dt.date.fromisoformat(tables["last_date"]))

    @cached_property
    def last_known(self) -> dt.date:
        """The last day the store knows of: its last position date, or a later filing date (13F)."""
        last = self.date_range[1]
        filed = self.store.last_available("positions")
        if filed is None:   # a store written before the manifest kept it
            filed = self.backend.table("positions").available_from.max().execute()
        if filed is not None and pd.Timestamp(filed).date() > last:
            last = pd.Timestamp(filed).date()
            while not is_trading_day(last):  # knowable on a day the market is shut: report the next open
                last += dt.timedelta(days=1)
        return last

    @cached_property
    def uses_trades(self) -> bool:
        """True when the store has trades: flows then come from them, not from position changes."""
        return self.store.info()["tables"]["trades"]["rows"] > 0

    def inputs(self, as_of: str | dt.date | None = None, *, need_positions: bool = True) -> Inputs:
        """The canonical tables cut to what was knowable on `as_of` (checked; kept for reuse)."""
        day = self._check_as_of(as_of, need_positions=need_positions)
        if day not in self._inputs:
            kept_periods, kept_values = self.store.kept_periods(day)
            # The days from the manifest save a scan of equity; Spark is left to find them (Ibis'
            # pyspark backend does not register an in-memory table inside a cached one).
            days = self.store.days() if self.engine == "duckdb" else None
            self._inputs[day] = Inputs(self.backend, day, kept_flows=self.store.kept_flows_hold(day),
                                       kept_periods=kept_periods, kept_values=kept_values, days=days)
        return self._inputs[day]

    def release(self, as_of: str | dt.date | None = None) -> None:
        """Forget the results kept for `as_of` (the engine drops their temp tables), e.g. in a
        long-running server that bounds how many days it keeps."""
        self._inputs.pop(self._check_as_of(as_of, need_positions=False), None)

    def exposure(self, by: str = "book", freq: str = "W", as_of: str | dt.date | None = None) -> ibis.Table:
        """Exposure and leverage per period_end and group (see `smartmoney.metrics.exposure`)."""
        self._check(by, freq)
        inputs = self.inputs(as_of)
        return inputs.cached(("exposure", by, freq), lambda: metrics.exposure(
            inputs, by=by, freq=freq, rule=self.disclosure))

    def flows(self, by: str = "book", freq: str = "W", as_of: str | dt.date | None = None, *,
              pct_gross: bool = True, ranks: bool = True) -> ibis.Table:
        """Flows per period_end and group (see `smartmoney.metrics.flows`). `pct_gross=False`
        leaves out net_flow_pct_gross, which needs the groups' exposure as well, and
        `ranks=False` the 1y and 5y percentile ranks (each is faster without)."""
        self._check(by, freq)
        inputs = self.inputs(as_of)
        own = inputs.cached(("flows", by, freq, ranks), lambda: metrics.flows(
            inputs, by=by, freq=freq, use_trades=self.uses_trades, rule=self.disclosure, ranks=ranks))
        if not pct_gross:
            return own
        gross = self.exposure(by=by, freq=freq, as_of=as_of).select("period_end", by, "gross")
        return inputs.cached(("flows", by, freq, ranks, "pct_gross"), lambda: metrics.with_pct_gross(own, gross, by))

    def retail(self, by: str = "book", freq: str = "W", as_of: str | dt.date | None = None, *,
               ranks: bool = True) -> ibis.Table:
        """Retail flows per period_end and group (see `smartmoney.metrics.retail`); `ranks=False`
        leaves out the 1y and 5y percentile ranks (faster)."""
        retail.check(by)
        if freq not in metrics.FREQS:
            raise BookError(f"unknown frequency {freq!r}; choose one of {', '.join(metrics.FREQS)}")
        inputs = self.inputs(as_of, need_positions=False)
        return inputs.cached(("retail", by, freq, ranks),
                             lambda: retail.retail_flows(inputs, by=by, freq=freq, ranks=ranks))

    def divergence(self, by: str = "ticker", as_of: str | dt.date | None = None) -> ibis.Table:
        """Hedge funds vs retail per week, group and window of 1, 4 and 13 weeks."""
        retail.check(by)
        self._check(by, "W")
        inputs = self.inputs(as_of)
        return inputs.cached(("divergence", by), lambda: retail.divergence(
            self.flows(by, "W", as_of, pct_gross=False, ranks=False),
            self.retail(by=by, freq="W", as_of=as_of, ranks=False), by=by))

    def swap_share(self, as_of: str | dt.date | None = None) -> ibis.Table:
        """Hedge-fund selling absorbed by retail, in % of hedge-fund gross selling, per week."""
        return retail.swap_share(self.divergence(by="ticker", as_of=as_of),
                                 self.flows(by="book", freq="W", as_of=as_of, pct_gross=False, ranks=False))

    def watch_list(self, as_of: str | dt.date | None = None, *, window: int = 4, top: int = 10) -> ibis.Table:
        """The stocks hedge funds sold most while retail bought most, with crowding."""
        if window not in retail.WINDOWS:
            raise BookError(f"window must be one of {', '.join(map(str, retail.WINDOWS))} weeks")
        inputs = self.inputs(as_of)
        divergence = self.divergence(by="ticker", as_of=as_of)

        def build() -> ibis.Table:
            last = divergence.period_end.max().execute()
            return retail.watch_list(divergence, self.retail(by="ticker", freq="W", as_of=as_of, ranks=False),
                                     retail.crowding(inputs, ibis.date(last)), inputs.securities,
                                     window=window, top=top, min_holders=self.disclosure.k)
        return inputs.cached(("watch_list", window, top), build)

    def event_study(self, as_of: str | dt.date | None = None) -> ibis.Table:
        """Forward returns and volatility by divergence decile (see `metrics.event_study`)."""
        inputs = self.inputs(as_of)
        return inputs.cached("event_study", lambda: event_study(
            self.divergence(by="ticker", as_of=as_of), inputs.prices, inputs.securities))

    def cot(self, as_of: str | dt.date | None = None, *, report: str = "tff_futures_only") -> ibis.Table:
        """CFTC positioning per contract, category and report date (see `metrics.cot`)."""
        from smartmoney.metrics.cot import cot_positioning

        day = self._check_as_of(as_of, need_positions=False)
        return cot_positioning(self.backend, report=report, as_of=day)

    def short_volume(self, freq: str = "D", as_of: str | dt.date | None = None) -> ibis.Table:
        """FINRA short volume per symbol, daily or weekly (see `metrics.short`)."""
        from smartmoney.metrics import short

        if freq not in ("D", "W"):
            raise BookError(f"short volume comes daily (D) or weekly (W), not {freq!r}")
        day = self._check_as_of(as_of, need_positions=False)
        return (short.short_volume if freq == "D" else short.short_volume_weekly)(self.backend, as_of=day)

    def short_interest(self, as_of: str | dt.date | None = None) -> ibis.Table:
        """FINRA short interest per symbol and settlement date, as published by `as_of`."""
        from smartmoney.metrics import short

        return short.short_interest(self.backend, as_of=self._check_as_of(as_of, need_positions=False))

    def most_shorted(self, as_of: str | dt.date | None = None, *, by: str = "days_to_cover",
                     top: int = 10) -> ibis.Table:
        """The most shorted symbols at the latest settlement date (capped days to cover left out)."""
        from smartmoney.metrics import short

        return short.most_shorted(self.backend, by=by, top=top,
                                  as_of=self._check_as_of(as_of, need_positions=False))

    def filer_flows(self, by: str = "sector", as_of: str | dt.date | None = None) -> ibis.Table:
        """13F quarter-on-quarter flows, holders and value per quarter and group
        (see `smartmoney.metrics.holdings`)."""
        holdings.check(by)
        return holdings.quarterly_flows(self.inputs(as_of, need_positions=False), by=by)

    def holders(self, as_of: str | dt.date | None = None) -> ibis.Table:
        """13F holders per ticker and quarter, with their change and the positions opened and closed."""
        table = self.filer_flows(by="ticker", as_of=as_of)
        return table.select("period_end", "ticker", "holders", "holders_change", "new_positions",
                            "closed_positions", "net_flow", "value")

    def concentration(self, as_of: str | dt.date | None = None) -> ibis.Table:
        """The share of each 13F filer's long book in its 10 largest holdings, per quarter."""
        return holdings.concentration(self.inputs(as_of, need_positions=False))

    def vip(self, as_of: str | dt.date | None = None, *, top: int = 20) -> ibis.Table:
        """The stocks most often among the 13F filers' 10 largest holdings, per quarter."""
        if top < 1:
            raise BookError(f"top must be at least 1, not {top}")
        return holdings.vip(self.inputs(as_of, need_positions=False), top=top)

    @cached_property
    def strategies(self) -> set[str]:
        """The strategies of the book's accounts (13f_filer for 13F filers)."""
        return set(self.store.read("accounts")["strategy"].dropna())

    def facts(self, as_of: str | dt.date | None = None) -> list:
        """Every fact about the last week up to `as_of`: hedge-fund positioning, 13F filers (their
        last quarter), retail and hedge funds vs retail, CFTC futures positioning and FINRA short
        selling, for the data the store holds."""
        from smartmoney.cot import cot_facts
        from smartmoney.holdings import filer_facts
        from smartmoney.positioning import positioning_facts
        from smartmoney.retail import retail_facts
        from smartmoney.shorts import short_facts

        rows = {name: table["rows"] for name, table in self.store.info()["tables"].items()}
        day = self._check_as_of(as_of, need_positions=bool(rows["positions"]))
        funds = self.strategies - {holdings.FILER}
        if rows["positions"]:
            self.inputs(as_of).reuse_expected = True   # every grouping reads the same weekly sums
        found = positioning_facts(self, as_of) if rows["positions"] and funds else []
        if holdings.FILER in self.strategies:
            found += filer_facts(self, as_of)
        found += retail_facts(self, as_of)
        if rows["futures_positions"]:
            found += cot_facts(self.backend, day)
        if rows["short_volume"] or rows["short_interest"]:
            found += short_facts(self.backend, day)
        return sorted(found, key=lambda f: f.id)

    def disclosure_audit(self, family: str = "flows", freq: str = "W", as_of: str | dt.date | None = None, *,
                         last: int = 12) -> pd.DataFrame:
        """The suppressed cells of the last `last` periods of every security grouping, and
        whether everything published together exposes them (see `smartmoney.metrics.audit`;
        pandas, no values)."""
        from smartmoney.metrics.audit import audit

        self._check("book", freq)
        return audit(self, family, freq=freq, as_of=as_of, last=last)

    def securities(self) -> pd.DataFrame:
        """The securities table (reference data, small) as pandas."""
        return self.store.read("securities")

    def diagnostics(self, as_of: str | dt.date | None = None) -> ibis.Table:
        """Positions left out for want of a close, per date."""
        return self.inputs(as_of).unpriced()

    def _check(self, by: str, freq: str) -> None:
        groups.check(by)
        if freq not in metrics.FREQS:
            raise BookError(f"unknown frequency {freq!r}; choose one of {', '.join(metrics.FREQS)}")

    def _check_as_of(self, as_of: str | dt.date | None, *, need_positions: bool = True) -> dt.date | None:
        first = self.date_range[0] if need_positions else None
        if as_of is None:
            return None
        try:
            day = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
        except ValueError:
            raise BookError(f"as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
        if not is_trading_day(day):
            raise BookError(f"as-of {day} ({day:%A}) is not an NYSE trading day")
        if first is not None and day < first:
            raise BookError(f"as-of {day} is before the book's data, which starts on {first}")
        return day


def open(store: str | Store, *, engine: str = "duckdb", k: int = 5, p: float = 50.0,
         memory_limit: str | None = None) -> Book:  # noqa: A001 - sm.open is the documented name
    """Open the book in a store directory.

    Parameters
    ----------
    store
        A store directory (or a `Store`).
    engine
        "duckdb" (default) or "spark".
    k, p
        Disclosure control: publish a cell only when at least k accounts contribute and none
        holds more than p percent of it.
    """
    if not isinstance(store, Store):
        store = Store.open(store)
    return Book(store, engine=engine, disclosure=Disclosure(k=k, p=p), memory_limit=memory_limit)


__all__ = ["Book", "BookError", "open"]
