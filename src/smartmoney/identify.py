"""Retail trade identification on a trade tape: `ticks` (and `quotes`) -> retail flows per symbol-day.

Two methods (DESIGN.md, Retail):

- `bjzz` (Boehmer, Jones, Zhang and Zhang 2021): an off-exchange print (exchange D) whose price
  has a sub-penny part Z = frac(100 * price), price rounded to 4 decimals, is a retail sell when
  0 < Z < 0.4 and a retail buy when 0.6 < Z < 1; other prints are not classified.
- `quote_midpoint` (Barber, Huang, Jorion, Odean and Schwarz 2024): off-exchange sub-penny
  prints are signed against the NBBO in effect (the last quote at or before the print): above
  bid + 0.6 x spread a buy, below bid + 0.4 x spread a sell, in between dropped. A print outside
  a one-cent NBBO is signed by BJZZ instead. A print with no NBBO yet is not classified.

Prices are compared in whole ten-thousandths of a dollar, so no floating-point rounding decides
a side. The result is one row per (date, symbol) with retail buy and sell trades, shares and
USD, order imbalances, and the counts behind them (all prints, off-exchange, sub-penny), so that
the share of off-exchange prints classified is visible. Both engines run the same expressions,
except the prevailing-quote lookup: an ASOF join on DuckDB, a window plus join on Spark.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

METHODS = ("bjzz", "quote_midpoint")
OFF_EXCHANGE = "D"
_TEN_THOUSANDTHS = 10_000
# A print's order key sorts after every quote with the same timestamp (quotes beyond the
# 999th sharing one microsecond share the last key: their order among themselves is lost).
_TRADE_LAST = 999

COUNT_COLUMNS = ["trades", "offexchange_trades", "subpenny_trades"]
OUTPUT_COLUMNS = ["date", "symbol", *COUNT_COLUMNS, "retail_buy_trades", "retail_sell_trades",
                  "retail_buy_shares", "retail_sell_shares", "retail_buy_usd", "retail_sell_usd",
                  "imbalance_trades", "imbalance_shares", "imbalance_usd", "classified_share"]


def classify(con: ibis.BaseBackend, method: str = "bjzz", *, date=None) -> ir.Table:
    """The candidate prints (off-exchange, sub-penny) with their side: +1 buy, -1 sell, 0 none.

    Columns: date, symbol, ts, seq, price, size, side. See `identify` for the parameters.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    ticks = _ticks(con, date)
    candidates = ticks.filter(ticks.off & (ticks.cents_part != 0))
    if method == "bjzz":
        return candidates.select("date", "symbol", "ts", "seq", "price", "size",
                                 side=_bjzz_side(candidates.cents_part))
    return _quote_midpoint(con, candidates, date)


def identify(con: ibis.BaseBackend, method: str = "bjzz", *, date=None) -> ir.Table:
    """Retail buying and selling per (date, symbol) from the `ticks` (and `quotes`) tables.

    Parameters
    ----------
    con
        A backend from `smartmoney.engine.connect` (DuckDB or Spark).
    method
        "bjzz" or "quote_midpoint" (needs `quotes`).
    date
        Only this trading day (a date or ISO text); all days when None.
    """
    ticks = _ticks(con, date)
    ticks = ticks.mutate(candidate=ticks.off & (ticks.cents_part != 0))
    if method == "bjzz":
        # One pass over the tape: the side is a function of each print alone.
        signed = ticks.mutate(side=ibis.ifelse(ticks.candidate, _bjzz_side(ticks.cents_part), 0))
        result = signed.group_by(["date", "symbol"]).aggregate(**_counts(signed), **_side_sums(signed))
    else:
        signed = classify(con, method, date=date)
        signed = signed.filter(signed.side != 0)
        totals = ticks.group_by(["date", "symbol"]).aggregate(**_counts(ticks))
        sides = signed.group_by(["date", "symbol"]).aggregate(**_side_sums(signed))
        result = totals.left_join(sides, ["date", "symbol"]).select(
            totals.date, totals.symbol, *[totals[c] for c in COUNT_COLUMNS],
            *[sides[c].fill_null(0).name(c) for c in _SIDE_COLUMNS])
    return result.mutate(
        imbalance_trades=_imbalance(result.retail_buy_trades, result.retail_sell_trades),
        imbalance_shares=_imbalance(result.retail_buy_shares, result.retail_sell_shares),
        imbalance_usd=_imbalance(result.retail_buy_usd, result.retail_sell_usd),
        classified_share=ibis.ifelse(
            result.offexchange_trades > 0,
            (result.retail_buy_trades + result.retail_sell_trades) / result.offexchange_trades,
            ibis.null("float64")),
    ).select(OUTPUT_COLUMNS).order_by(["date", "symbol"])


def _ticks(con: ibis.BaseBackend, date) -> ir.Table:
    ticks = con.table("ticks")
    if date is not None:
        ticks = ticks.filter(ticks.date == ibis.date(str(date)[:10]))
    return ticks.mutate(cents_part=_sub_penny(ticks.price), off=ticks.exchange == OFF_EXCHANGE)


_SIDE_COLUMNS = ["retail_buy_trades", "retail_sell_trades", "retail_buy_shares",
                 "retail_sell_shares", "retail_buy_usd", "retail_sell_usd"]


def _sub_penny(price: ir.FloatingColumn) -> ir.IntegerColumn:
    """The sub-penny part of a price in hundredths of a cent, 0..99 (Z = this / 100)."""
    return (price * _TEN_THOUSANDTHS).round().cast("int64") % 100


def _bjzz_side(cents_part: ir.IntegerColumn) -> ir.IntegerColumn:
    """+1 retail buy (0.6 < Z < 1), -1 retail sell (0 < Z < 0.4), 0 otherwise."""
    return ibis.cases((cents_part.between(1, 39), -1), (cents_part.between(61, 99), 1), else_=0)


def _counts(ticks: ir.Table) -> dict[str, ir.Scalar]:
    """All prints, off-exchange prints and sub-penny off-exchange prints (the candidates)."""
    return dict(trades=ticks.count(), offexchange_trades=ticks.off.sum().cast("int64"),
                subpenny_trades=ticks.candidate.sum().cast("int64"))


def _side_sums(signed: ir.Table) -> dict[str, ir.Scalar]:
    """Retail buy and sell trades, shares and USD of signed prints (side +1 / -1 / 0)."""
    buy, sell = signed.side == 1, signed.side == -1
    usd = signed.price * signed.size
    return dict(
        retail_buy_trades=buy.sum().cast("int64"),
        retail_sell_trades=sell.sum().cast("int64"),
        retail_buy_shares=signed.size.sum(where=buy).fill_null(0.0),
        retail_sell_shares=signed.size.sum(where=sell).fill_null(0.0),
        retail_buy_usd=usd.sum(where=buy).fill_null(0.0),
        retail_sell_usd=usd.sum(where=sell).fill_null(0.0),
    )


def _imbalance(buy: ir.NumericColumn, sell: ir.NumericColumn) -> ir.FloatingColumn:
    total = buy + sell
    return ibis.ifelse(total > 0, (buy - sell) / total, ibis.null("float64"))


@ibis.udf.scalar.builtin
def epoch_us(ts: dt.timestamp) -> dt.int64:  # DuckDB's name
    """Microseconds since the epoch."""


@ibis.udf.scalar.builtin
def unix_micros(ts: dt.timestamp) -> dt.int64:  # Spark's name
    """Microseconds since the epoch."""


def _order_key(con: ibis.BaseBackend, table: ir.Table, seq) -> ir.IntegerColumn:
    """Microseconds since the epoch x 1000 + seq: one sortable number per tape event.

    Ibis has no exact microsecond clock on both engines (epoch seconds come back rounded on
    DuckDB, and Spark cannot extract microseconds), so each engine's own function is called.
    """
    micros = (epoch_us(table.ts) if con.name == "duckdb"
              else unix_micros(table.ts.cast(dt.Timestamp(timezone="UTC"))))  # Spark session is UTC
    return micros * 1000 + seq


def _quote_midpoint(con: ibis.BaseBackend, candidates: ir.Table, date) -> ir.Table:
    """Off-exchange sub-penny prints signed against the NBBO in effect."""
    quotes = con.table("quotes")
    if date is not None:
        quotes = quotes.filter(quotes.date == ibis.date(str(date)[:10]))
    quotes = quotes.select("date", "symbol", quote_key=_order_key(con, quotes, quotes.seq.clip(upper=_TRADE_LAST - 1)),
                           bid_units=(quotes.bid * _TEN_THOUSANDTHS).round().cast("int64"),
                           ask_units=(quotes.ask * _TEN_THOUSANDTHS).round().cast("int64"))
    prints = candidates.mutate(trade_key=_order_key(con, candidates, _TRADE_LAST),
                               price_units=(candidates.price * _TEN_THOUSANDTHS).round().cast("int64"))
    if con.name == "duckdb":
        joined = prints.asof_join(quotes, on=prints.trade_key >= quotes.quote_key,
                                  predicates=["date", "symbol"])
    else:
        joined = _prevailing_by_window(prints, quotes)
    price, bid, ask = joined.price_units, joined.bid_units, joined.ask_units
    spread = ask - bid
    one_cent_outside = (spread == 100) & ((price < bid) | (price > ask))
    side = ibis.cases(
        (bid.isnull(), 0),
        (one_cent_outside, _bjzz_side(joined.cents_part)),
        (price * 10 > bid * 10 + spread * 6, 1),
        (price * 10 < bid * 10 + spread * 4, -1),
        else_=0,
    )
    return joined.select("date", "symbol", "ts", "seq", "price", "size", side=side)


def _prevailing_by_window(prints: ir.Table, quotes: ir.Table) -> ir.Table:
    """Each print with the last quote at or before it, without an ASOF join (Spark).

    Prints and quotes are merged in tape order; a running maximum of the quote key over that
    order is the prevailing quote of each print.
    """
    keyed = prints.mutate(print_id=ibis.row_number())
    events = keyed.select("date", "symbol", "print_id", key=keyed.trade_key,
                          quote_key=ibis.null("int64")).union(
        quotes.select("date", "symbol", print_id=ibis.null("int64"), key=quotes.quote_key,
                      quote_key=quotes.quote_key))
    window = ibis.window(group_by=["date", "symbol"], order_by=["key", "print_id"], rows=(None, 0))
    latest = events.mutate(prevailing=events.quote_key.max().over(window))
    latest = latest.filter(latest.print_id.notnull()).select("print_id", "prevailing")
    with_key = keyed.join(latest, "print_id")
    return with_key.left_join(
        quotes, [with_key.date == quotes.date, with_key.symbol == quotes.symbol,
                 with_key.prevailing == quotes.quote_key]).select(with_key, quotes.bid_units, quotes.ask_units)


def tape_warnings(result) -> list[str]:
    """Plain warnings about an identification result (a pandas frame of `identify`)."""
    offexchange = int(result["offexchange_trades"].sum()) if len(result) else 0
    subpenny = int(result["subpenny_trades"].sum()) if len(result) else 0
    if len(result) == 0:
        return ["the tape holds no prints for the days asked"]
    if offexchange == 0:
        return ["the tape has no off-exchange prints (exchange D): no retail trade can be identified"]
    if subpenny == 0:
        return [f"none of the {offexchange:,} off-exchange prints has a sub-penny price: retail trades "
                "cannot be identified on this tape (are its prices rounded to the cent?)"]
    return []


def write_retail_flows(store, result, method: str):
    """Upsert an identification result into `retail_flows` (symbols matched to tickers).

    Only symbol-days with sub-penny off-exchange prints are written: elsewhere the tape says
    nothing about retail. Returns the ingest report (symbols with no security are rejected).
    """
    import numpy as np

    from smartmoney.schema import RETAIL_FLOWS
    from smartmoney.validate import Batch

    usable = result[result["subpenny_trades"] > 0]
    raw = usable.rename(columns={"symbol": "security_id"})[
        [c for c in RETAIL_FLOWS.column_names if c != "security_id"] + ["security_id"]]
    batch = Batch(RETAIL_FLOWS, f"retail identify --method {method}", raw.reset_index(drop=True),
                  np.arange(1, len(raw) + 1), by_ticker=True)
    with store.transaction() as tx:
        return tx.ingest_batch(batch)
