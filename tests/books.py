"""Small hand-made books for tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smartmoney.taxonomy import trading_days

DATA = Path(__file__).parent / "data"


def positions_frame(days: list, accounts=("F1", "F2", "F3"),
                    securities=("AAPL", "MSFT", "NVDA", "XOM"), seed: int = 7) -> pd.DataFrame:
    """Deterministic position rows for every day x account x security (shorts included)."""
    rows = []
    for d, day in enumerate(days):
        for a, account in enumerate(accounts):
            for s, security in enumerate(securities):
                quantity = (1 + (seed + d * 7 + a * 13 + s * 31) % 97) * 100
                sign = -1 if (a + s) % 3 == 0 else 1
                rows.append((str(day), account, security, float(sign * quantity)))
    return pd.DataFrame(rows, columns=["date", "account_id", "security_id", "quantity"])


def june_days(count: int) -> list:
    return trading_days("2024-06-03", "2024-06-28")[:count]


SMALL_SECURITIES = pd.DataFrame({
    "security_id": ["AAA", "BBB", "CCC", "DDD", "ETF1", "OPT1"],
    "ticker": ["AAA", "BBB", "CCC", "DDD", "ETF1", "OPT1"],
    "name": ["A Corp", "B Corp", "C Corp", "D Corp", "An ETF", "An option"],
    "sub_industry": ["Semiconductors", "Application Software", "Gold", "Diversified Banks", None, None],
    "asset_type": ["stock", "stock", "stock", "stock", "etf", "option"],
})


def make_store(path, *, positions, prices, equity=None, accounts=None, securities=SMALL_SECURITIES,
               trades=None, retail_flows=None):
    """A store from pandas frames, through the same validation as any input (no rejects allowed)."""
    import numpy as np

    from smartmoney import Store
    from smartmoney.schema import TABLES
    from smartmoney.validate import Batch

    if accounts is None:
        ids = sorted(set(positions["account_id"]) | set([] if equity is None else equity["account_id"]))
        accounts = pd.DataFrame({"account_id": ids, "name": ids,
                                 "strategy": ["fundamental_ls", "systematic"] * (len(ids) // 2) + ["other"] * (len(ids) % 2)})
    store = Store.open(path, create=True)
    with store.transaction() as tx:
        for name, frame in [("securities", securities), ("accounts", accounts), ("prices", prices),
                            ("equity", equity), ("positions", positions), ("trades", trades),
                            ("retail_flows", retail_flows)]:
            if frame is None or frame.empty:
                continue
            frame = frame.copy()
            for column in ("date", "available_from"):
                if column in frame:
                    frame[column] = pd.to_datetime(frame[column])
            report = tx.ingest_batch(Batch(TABLES[name], f"test:{name}", frame.reset_index(drop=True),
                                           np.arange(1, len(frame) + 1)))
            assert report.rejected == 0, report.rejects["reason"].tolist()
    return store
