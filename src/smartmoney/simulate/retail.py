"""Retail flows per security and day: a noisy background plus planted net buying.

Each security has a notional daily retail turnover proportional to a market-cap proxy (a
lognormal size, larger for the magnificent 7). Buy and sell turnover are that notional times
independent lognormal noise and a market-wide activity factor, so net flow is zero on average.
A retail plant's `net_buy_usd` per day is split over the group's members in proportion to their
background turnover and added to buys (> 0) or to sells (< 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smartmoney.simulate.scenario import Plant
from smartmoney.taxonomy import basket_members

RETAIL_DAILY_USD = 4.0e9  # each side, whole universe
SIZE_DISPERSION = 1.0
MEGA_CAP_BOOST = 12.0
NOISE = 0.25
ACTIVITY_NOISE = 0.15


class RetailModel:
    """Retail buy and sell turnover of `securities`, one trading day per `step()`."""

    def __init__(self, securities: pd.DataFrame, plants: tuple[Plant, ...],
                 rng: np.random.Generator) -> None:
        self.rng = rng
        size = np.exp(rng.normal(0.0, SIZE_DISPERSION, size=len(securities)))
        mega = securities["security_id"].isin(basket_members("magnificent_7", securities))
        size[mega.to_numpy()] *= MEGA_CAP_BOOST
        self.notional = RETAIL_DAILY_USD * size / size.sum()
        self.plants = [plant for plant in plants if plant.who == "retail"]
        self.members = [group_mask(securities, plant) for plant in self.plants]

    def step(self, day) -> tuple[np.ndarray, np.ndarray]:
        """(retail_buy_usd, retail_sell_usd) for `day`, one value per security."""
        count = len(self.notional)
        activity = np.exp(self.rng.normal(0.0, ACTIVITY_NOISE))
        buy = self.notional * activity * np.exp(self.rng.normal(-NOISE**2 / 2, NOISE, count))
        sell = self.notional * activity * np.exp(self.rng.normal(-NOISE**2 / 2, NOISE, count))
        turnover = buy + sell
        planted_buy = np.zeros(count)
        planted_sell = np.zeros(count)
        for plant, members in zip(self.plants, self.members):
            if not plant.active(day) or not members.any():
                continue
            share = np.where(members, turnover, 0.0)
            amount = plant.net_buy_usd * share / share.sum()
            if plant.net_buy_usd > 0:
                planted_buy += amount
            else:
                planted_sell -= amount
        return np.round(buy + planted_buy, 2), np.round(sell + planted_sell, 2)


def group_mask(securities: pd.DataFrame, plant: Plant) -> np.ndarray:
    """Boolean mask over `securities` of the plant's group (all True without a selector)."""
    if plant.level is None:
        return np.ones(len(securities), dtype=bool)
    return (securities[plant.level] == plant.group).to_numpy()
