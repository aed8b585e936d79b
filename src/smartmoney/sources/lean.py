"""QuantConnect LEAN tick files: trades and quotes, one symbol and day per file.

LEAN files have no header; the symbol and day come from the file name, as LEAN writes it
(`20131007_ibm_Trade_Tick.csv`, also inside LEAN's `20131007_trade.zip`). Prices are in
ten-thousandths of a dollar, times in milliseconds since midnight, exchange local time (ET).

- trades: ms, price x 10,000, size, exchange code, sale condition, suspicious (0/1).
  Prints LEAN flags as suspicious are rejected with that reason.
- quotes: ms, bid x 10,000, bid size, ask x 10,000, ask size, exchange, condition, suspicious.
  The rows are the national best bid and offer, one side per row (0 = that side unchanged;
  the exchange is the venue at the best price). Each row becomes the NBBO in effect after it:
  the latest bid and the latest ask. A row before both sides exist is rejected ("no NBBO
  yet"); a crossed NBBO (ask below bid) is rejected by validation.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from smartmoney.schema import QUOTES, TICKS
from smartmoney.sources.base import FileError
from smartmoney.sources.tables import parse_csv
from smartmoney.validate import REJECT_COLUMNS, Batch, numbers_from_text

_NAME = re.compile(r"(?:(?P<day>\d{8})_(?P<symbol>[A-Za-z0-9.\-]+)|(?P<symbol2>[A-Za-z0-9.\-]+)_(?P<day2>\d{8}))"
                   r"_(?P<kind>trade|quote)", re.IGNORECASE)
_TRADE_FIELDS = ["ms", "price", "size", "exchange", "conditions", "suspicious"]
_QUOTE_FIELDS = ["ms", "bid", "bid_size", "ask", "ask_size", "exchange", "condition", "suspicious"]
_SCALE = 10_000


def symbol_and_day(name: str) -> tuple[str, str, str] | None:
    """(SYMBOL, YYYY-MM-DD, trade|quote) from a LEAN tick file name, or None."""
    match = _NAME.search(Path(name).name)
    if match is None:
        return None
    day = match["day"] or match["day2"]
    symbol = (match["symbol"] or match["symbol2"]).upper()
    return symbol, f"{day[:4]}-{day[4:6]}-{day[6:]}", match["kind"].lower()


class LeanTicks:
    """LEAN trade or quote tick files (.csv, or LEAN's .zip holding them)."""

    def __init__(self, kind: str):
        self.kind = kind  # "trade" or "quote"
        self.table = TICKS if kind == "trade" else QUOTES
        self.name = f"lean_{kind}s"
        self.description = (f"QuantConnect LEAN {kind} tick files (.csv or .zip), named "
                            f"YYYYMMDD_symbol_{kind.title()}_Tick.csv")

    def read(self, path: Path) -> Iterator[Batch]:
        path = Path(path)
        if not path.is_file():
            raise FileError(path, "no such file")
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if not m.endswith("/")]
                if not members:
                    raise FileError(path, "the zip archive is empty")
                for member in members:
                    yield self._batch(f"{path}:{member}", member, archive.read(member))
        else:
            data = path.read_bytes()
            if data.startswith(b"PK\x03\x04"):
                raise FileError(path, "a damaged zip archive (truncated?): its table of contents cannot be read")
            yield self._batch(str(path), path.name, data)

    def _batch(self, file: str, name: str, data: bytes) -> Batch:
        parsed = symbol_and_day(name)
        if parsed is None or parsed[2] != self.kind:
            raise FileError(file, f"cannot tell the symbol and day of this LEAN {self.kind} file from "
                            f"its name; LEAN names them YYYYMMDD_symbol_{self.kind.title()}_Tick.csv")
        symbol, day = parsed[0], parsed[1]
        if not data.strip():
            raise FileError(file, "the file is empty")
        if b"\x00" in data[:65536]:
            raise FileError(file, "not a CSV text file (it contains NUL bytes; binary data?)")
        fields = _TRADE_FIELDS if self.kind == "trade" else _QUOTE_FIELDS
        arrow, bad_rows = parse_csv(Path(file), fields, use_threads=False, skip_rows=0, data=data)
        text = arrow.to_pandas().astype(object)
        numbers = np.setdiff1d(np.arange(1, len(text) + len(bad_rows) + 1),
                               np.asarray([n for n, _, _ in bad_rows], dtype=np.int64))[:len(text)]
        first = text["ms"].iloc[0] if len(text) else ""
        if len(text) and not str(first).strip().isdigit() and not any(c.isdigit() for c in str(first)):
            raise FileError(file, f"not a LEAN {self.kind} file: the first row starts with {str(first)[:40]!r}, "
                            "not milliseconds since midnight", row=1)
        ts = _timestamps(day, text["ms"])
        rejects = [(file, n, self.table.name, reason, line) for n, reason, line in bad_rows]
        suspicious = text["suspicious"].str.strip() == "1"
        for row in np.flatnonzero(suspicious.to_numpy()):
            rejects.append((file, int(numbers[row]), self.table.name,
                            "flagged suspicious by the tape (LEAN suspicious = 1)",
                            ",".join(str(v) for v in text.iloc[row])))
        if self.kind == "trade":
            raw = pd.DataFrame({"ts": ts, "symbol": symbol, "price": _dollars(text["price"]),
                                "size": text["size"], "exchange": text["exchange"],
                                "conditions": text["conditions"]})
            keep = ~suspicious.to_numpy()
        else:
            raw, missing = _nbbo(ts, symbol, text, ~suspicious.to_numpy())
            for row in np.flatnonzero(missing & ~suspicious.to_numpy()):
                rejects.append((file, int(numbers[row]), self.table.name,
                                "no NBBO yet: no exchange has quoted both a bid and an ask",
                                ",".join(str(v) for v in text.iloc[row])))
            keep = ~suspicious.to_numpy() & ~missing
        raw = raw[keep].reset_index(drop=True)
        raw = raw.assign(date=day, seq=raw.groupby("ts", sort=False).cumcount().astype(str))
        return Batch(self.table, file, raw, numbers[keep],
                     pd.DataFrame(rejects, columns=REJECT_COLUMNS), [])


def _timestamps(day: str, ms: pd.Series) -> pd.Series:
    """`day` plus milliseconds as ISO text; unreadable values stay visible in the text."""
    number = numbers_from_text(ms)
    ok = number.notna() & (number >= 0) & (number < 86_400_000) & (number == np.floor(number))
    stamps = (pd.Timestamp(day) + pd.to_timedelta(number.where(ok, 0), unit="ms")).dt.strftime(
        "%Y-%m-%d %H:%M:%S.%f")
    return stamps.where(ok, day + " +" + ms.astype(str) + " ms")


def _dollars(scaled: pd.Series) -> pd.Series:
    """Ten-thousandths of a dollar as dollar text; unreadable values are kept as they were."""
    number = numbers_from_text(scaled)
    return (number / _SCALE).map(repr).where(number.notna(), scaled)


def _nbbo(ts: pd.Series, symbol: str, text: pd.DataFrame, usable: np.ndarray
          ) -> tuple[pd.DataFrame, np.ndarray]:
    """The NBBO after each quote row, and which rows have no NBBO yet."""
    bids = numbers_from_text(text["bid"]) / _SCALE
    asks = numbers_from_text(text["ask"]) / _SCALE
    best_bid = bids.where(usable & (bids > 0)).ffill()
    best_ask = asks.where(usable & (asks > 0)).ffill()
    unreadable = bids.isna() | asks.isna()
    missing = (best_bid.isna() | best_ask.isna()) & ~unreadable
    frame = pd.DataFrame({"ts": ts, "symbol": symbol,
                          "bid": best_bid.map(repr).where(~unreadable, text["bid"]),
                          "ask": best_ask.map(repr).where(~unreadable, text["ask"])})
    return frame, missing.to_numpy()
