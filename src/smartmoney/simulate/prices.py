"""Daily closes from a factor model: return = beta * market + sector factor + idiosyncratic.

Annualized vols: market 16%, sector factors 10-15%, idiosyncratic 20-35%, so single stocks
come out around 20-45%. Closes are rounded to cents and are always > 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TRADING_DAYS_PER_YEAR = 252
MARKET_VOL = 0.16
MARKET_DRIFT = 0.07
SECTOR_VOL = (0.10, 0.15)
IDIOSYNCRATIC_VOL = (0.20, 0.35)
BETA = (0.6, 1.4)
START_PRICE_MEDIAN = 80.0
START_PRICE_DISPERSION = 0.8  # sigma of log price


class PriceModel:
    """The price path of `securities`, one trading day per `step()`.

    The first `step()` returns the starting prices; each later one moves them by a day.
    """

    def __init__(self, securities: pd.DataFrame, rng: np.random.Generator) -> None:
        self.rng = rng
        count = len(securities)
        sector_codes, sector_names = pd.factorize(securities["sector"])
        self.sector_of = sector_codes
        daily = np.sqrt(TRADING_DAYS_PER_YEAR)
        self.market_vol = MARKET_VOL / daily
        self.market_drift = MARKET_DRIFT / TRADING_DAYS_PER_YEAR
        self.sector_vol = rng.uniform(*SECTOR_VOL, size=len(sector_names)) / daily
        self.idiosyncratic_vol = rng.uniform(*IDIOSYNCRATIC_VOL, size=count) / daily
        self.beta = rng.uniform(*BETA, size=count)
        total_vol = np.sqrt((self.beta * self.market_vol) ** 2
                            + self.sector_vol[self.sector_of] ** 2
                            + self.idiosyncratic_vol ** 2)
        self.convexity = -0.5 * total_vol ** 2  # keeps the median path flat (log returns)
        self.level = np.exp(rng.normal(np.log(START_PRICE_MEDIAN), START_PRICE_DISPERSION,
                                       size=count))
        self.started = False

    def step(self) -> np.ndarray:
        """The next day's closes (float64, rounded to cents, >= 0.01)."""
        if self.started:
            market = self.rng.normal(self.market_drift, self.market_vol)
            sector = self.rng.normal(0.0, self.sector_vol)
            idiosyncratic = self.rng.normal(0.0, self.idiosyncratic_vol)
            log_return = (self.beta * market + sector[self.sector_of] + idiosyncratic
                          + self.convexity)
            self.level = self.level * np.exp(log_return)
        self.started = True
        return np.maximum(np.round(self.level, 2), 0.01)
