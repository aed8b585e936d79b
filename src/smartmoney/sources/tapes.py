"""Trade and quote tapes in the generic layout, and vendor retail-flow files.

Generic tapes are CSV or Parquet with a header:

- trades: ts, symbol, price, size, exchange, conditions (optional)
- quotes (NBBO): ts, symbol, bid, ask

`ts` is exchange local time (ET), `YYYY-MM-DD HH:MM:SS[.ffffff]`. The trading day and the
order of prints sharing a timestamp (`seq`) are derived, so re-ingesting a tape changes nothing.

Vendor retail files hold one row per symbol and day: date, symbol, retail_buy_turnover,
retail_sell_turnover (USD). Symbols are matched to `securities.ticker`.
"""

from __future__ import annotations

import pandas as pd

from smartmoney.schema import QUOTES, RETAIL_FLOWS, TICKS, Table
from smartmoney.sources.tables import TableFile


def tape_keys(raw: pd.DataFrame) -> pd.DataFrame:
    """date from ts, and seq: each row's order among rows with the same symbol and ts."""
    ts = raw["ts"].astype(object)
    day = ts.where(ts.notna(), None).map(lambda text: text.strip()[:10] if isinstance(text, str) else None)
    symbols = raw["symbol"].astype(object).where(raw["symbol"].notna(), "")
    seq = pd.DataFrame({"symbol": symbols, "ts": ts.where(ts.notna(), "")}).groupby(
        ["symbol", "ts"], sort=False).cumcount()
    return raw.assign(date=day, seq=seq.astype(str))


class TapeFile(TableFile):
    """A generic trade or NBBO quote tape (CSV or Parquet)."""

    derived = ("date", "seq")

    def __init__(self, table: Table):
        super().__init__(table)
        given = [c.name for c in table.columns if c.name not in self.derived]
        self.description = f"{table.name} tape as CSV or Parquet: {', '.join(given)} (ts in ET)"

    def _derive(self, raw: pd.DataFrame) -> pd.DataFrame:
        return tape_keys(raw)


class RetailVendorFile(TableFile):
    """A retail-flow vendor's daily file: date, symbol, retail buy and sell turnover in USD."""

    aliases = {"symbol": "security_id", "ticker": "security_id", "trade_date": "date",
               "retail_buy_turnover": "retail_buy_usd", "retail_sell_turnover": "retail_sell_usd",
               "buy_turnover": "retail_buy_usd", "sell_turnover": "retail_sell_usd"}
    by_ticker = True

    def __init__(self):
        super().__init__(RETAIL_FLOWS)
        self.name = "retail_vendor"
        self.description = ("vendor retail flows as CSV or Parquet: date, symbol, "
                            "retail_buy_turnover, retail_sell_turnover (USD)")

    def _derive(self, raw: pd.DataFrame) -> pd.DataFrame:
        compact = raw["date"].astype(object).str.strip().str.fullmatch(r"\d{8}").fillna(False).astype(bool)
        dates = raw["date"].astype(object).where(~compact, raw["date"].astype(object).str.strip().map(
            lambda text: f"{text[:4]}-{text[4:6]}-{text[6:]}" if isinstance(text, str) else text))
        return raw.assign(date=dates)


GENERIC_TAPES = {"ticks": TapeFile(TICKS), "quotes": TapeFile(QUOTES)}
