"""Random 13F books: filers, their quarterly holdings with reported values, and some closes.

`filings_book(seed)` gives the canonical tables as pandas frames; `write_filings_book` ingests
them into a store through the generic CSV sources, as a user with pre-built tables would.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from smartmoney import Store

DATA = Path(__file__).parent / "data"
QUARTER_ENDS = [dt.date(2022, 12, 30), dt.date(2023, 3, 31), dt.date(2023, 6, 30), dt.date(2023, 9, 29),
                dt.date(2023, 12, 29), dt.date(2024, 3, 28)]


def filings_book(seed: int, *, filers: int = 8, names: int = 40) -> dict[str, pd.DataFrame]:
    """securities, accounts, positions (with reported_value and available_from) and prices.

    Each filer files in most quarters (some skip one), 45 days at most after the quarter end;
    holdings persist, grow, shrink, close and open from quarter to quarter. Closes exist for
    half of the securities; the others are valued at the filers' reported values.
    """
    rng = np.random.default_rng(seed)
    securities = pd.read_csv(DATA / "sec13f" / "securities_cusip.csv").head(names)
    ids = securities["security_id"].tolist()
    price = {(q, s): float(rng.uniform(10, 400)) for q in range(len(QUARTER_ENDS)) for s in ids}
    accounts = pd.DataFrame({"account_id": [f"{1000 + i:010d}" for i in range(filers)],
                             "name": [f"Filer {i}" for i in range(filers)], "strategy": "13f_filer"})
    # One account that is not a 13F filer: the 13F analytics must leave it out.
    accounts.loc[len(accounts)] = ["PB-1", "Prime fund", "fundamental_ls"]
    rows = []
    for account in accounts["account_id"]:
        held: dict[str, float] = {}
        for q, end in enumerate(QUARTER_ENDS):
            nxt = {}
            for security in ids:
                if security in held:
                    roll = rng.random()
                    if roll < 0.15:
                        continue                      # closed
                    nxt[security] = held[security] if roll < 0.5 else float(rng.integers(100, 50_000))
                elif rng.random() < 0.25:
                    nxt[security] = float(rng.integers(100, 50_000))
            held = nxt
            if rng.random() < 0.15 and account != "PB-1":
                continue                               # no filing this quarter
            filed = end + dt.timedelta(days=int(rng.integers(20, 46)))
            for security, shares in held.items():
                value = round(shares * price[q, security] * (1 + rng.normal(0, 0.001)))
                rows.append({"date": end, "account_id": account, "security_id": security, "quantity": shares,
                             "available_from": filed, "reported_value": float(value)})
    positions = pd.DataFrame(rows)
    closes = [{"date": end, "security_id": s, "close": round(price[q, s], 2)}
              for q, end in enumerate(QUARTER_ENDS) for s in ids[::2]]
    return {"securities": securities, "accounts": accounts, "positions": positions,
            "prices": pd.DataFrame(closes)}


def write_filings_book(book: dict[str, pd.DataFrame], directory: Path) -> Store:
    """A store holding `book`, ingested table by table from CSV files."""
    store = Store.open(directory / "store", create=True)
    for table in ("securities", "accounts", "prices", "positions"):
        path = directory / f"{table}.csv"
        book[table].to_csv(path, index=False)
        [report] = store.ingest(table, [path])
        assert report.rejected == 0, report.rejects.head().to_dict("records")
    return store
