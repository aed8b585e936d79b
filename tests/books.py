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
