"""The simulated funds: who they are, how big, how levered, how many names, when they live.

Each fund gets a strategy, a region, a starting equity (lognormal, $50M..$20B), a number of
names (systematic more, fundamental fewer), gross and net leverage targets (150-300% and
30-80%) it starts at and mean-reverts to, and a life: ~10% launch after the first day and
~5% close before the last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

STRATEGY_MIX = {"fundamental_ls": 0.40, "systematic": 0.25, "multi_strategy": 0.25, "other": 0.10}
# Where in [names_min, names_max] each strategy's number of names falls (fractions).
STRATEGY_NAMES = {"fundamental_ls": (0.0, 0.25), "systematic": (0.45, 1.0),
                  "multi_strategy": (0.2, 0.6), "other": (0.0, 0.5)}
REGION_MIX = {"North America": 0.80, "Europe": 0.13, "Asia": 0.07}
EQUITY_MEDIAN = 1.0e9
EQUITY_DISPERSION = 1.1  # sigma of log equity
EQUITY_RANGE = (5.0e7, 2.0e10)
GROSS_TARGET = (1.55, 2.95)
NET_TARGET = (0.32, 0.78)
LAUNCH_SHARE = 0.10
CLOSE_SHARE = 0.05


@dataclass(frozen=True)
class Funds:
    """Per-fund parameters as arrays indexed by fund number (0..n-1).

    `first_day` and `last_day` are indexes into the scenario's trading days (inclusive):
    a fund has equity and position rows exactly on the days between them.
    """

    accounts: pd.DataFrame
    equity: np.ndarray
    gross_target: np.ndarray
    net_target: np.ndarray
    names: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray

    def __len__(self) -> int:
        return len(self.equity)


def make_funds(count: int, days: int, rng: np.random.Generator, *, names_min: int,
               names_max: int, universe_size: int) -> Funds:
    """Draw `count` funds living over `days` trading days."""
    strategies = rng.choice(list(STRATEGY_MIX), size=count, p=list(STRATEGY_MIX.values()))
    regions = rng.choice(list(REGION_MIX), size=count, p=list(REGION_MIX.values()))
    account_ids = [f"F{number:04d}" for number in range(1, count + 1)]
    accounts = pd.DataFrame({
        "account_id": account_ids,
        "name": [f"Fund {number:04d}" for number in range(1, count + 1)],
        "strategy": strategies,
        "region": regions,
    })
    equity = np.clip(np.exp(rng.normal(np.log(EQUITY_MEDIAN), EQUITY_DISPERSION, size=count)),
                     *EQUITY_RANGE)
    gross_target = rng.uniform(*GROSS_TARGET, size=count)
    net_target = rng.uniform(*NET_TARGET, size=count)
    low = np.array([STRATEGY_NAMES[s][0] for s in strategies])
    high = np.array([STRATEGY_NAMES[s][1] for s in strategies])
    span = names_max - names_min
    names = np.round(names_min + rng.uniform(low, high) * span).astype(int)
    names = np.clip(names, min(2, universe_size), universe_size)

    first_day = np.zeros(count, dtype=int)
    last_day = np.full(count, days - 1, dtype=int)
    if days >= 10:
        launches = rng.random(count) < LAUNCH_SHARE
        first_day[launches] = rng.integers(1, max(2, int(days * 0.8)), size=launches.sum())
        closes = rng.random(count) < CLOSE_SHARE
        earliest = np.maximum(first_day + days // 5, int(days * 0.2))
        close_day = earliest + (rng.random(count) * (days - 1 - earliest)).astype(int)
        closes &= close_day < days - 1
        last_day[closes] = close_day[closes]
    return Funds(accounts=accounts, equity=equity, gross_target=gross_target,
                 net_target=net_target, names=names, first_day=first_day, last_day=last_day)
