"""The simulated book: funds trading an S&P 500 universe day by day, streamed month by month.

`simulate(scenario)` yields canonical-table chunks: ("securities", ...), ("accounts", ...), then
for each calendar month ("prices", ...), ("equity", ...), ("positions", ...) and, when the
scenario asks for it, ("retail_flows", ...). Only the current month is ever held in memory.

How a day works (all funds at once, vectorized over position slots):
1. prices move (factor model, `prices.py`); each fund's equity moves by sum(q * dp);
2. funds whose first day it is open their book at their leverage targets (a baseline);
3. every other live fund trades: background long buys, long sales, short sales and short
   covers (about 0.4% of gross each per day, plus a pull of leverage toward the fund's targets
   with a half-life of about three months), spread over a random subset of positions in
   proportion to their value; then the planted hedge-fund episodes of the day, each a share of
   the group's gross exposure; then rare turnover (a name closed, a new one opened) and rarer
   sign flips. Quantities are whole shares and never 0 (a closed position has no row).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from smartmoney.simulate.funds import Funds, make_funds
from smartmoney.simulate.prices import PriceModel
from smartmoney.simulate.retail import RetailModel, group_mask
from smartmoney.simulate.scenario import Plant, Scenario, load_scenario
from smartmoney.taxonomy import sp500_universe, trading_days

BACKGROUND_RATE = 0.004  # each flow component, share of the fund's gross per day
BACKGROUND_NOISE = 0.5  # sigma of the lognormal noise on a fund's daily rates
TRADED_SHARE = 0.2  # share of positions traded on a given day
LEVERAGE_HALF_LIFE = 63  # trading days
TURNOVER = 0.0015  # chance per position and day that it is closed and a new name opened
FLIP = 0.0001  # chance per position and day that it flips from long to short or back
KEEP_AT_LEAST = 0.05  # a trade never takes a position below 5% of its size (no accidental close)
POSITION_DISPERSION = 0.7  # sigma of log position weights within a side
POPULARITY_DISPERSION = 0.6  # sigma of log popularity of a security among funds
BLOW_UP = 0.1  # a fund whose equity falls below 10% of its start closes
# long_buy, long_sell, short_sale, short_cover: the sign of the quantity change of each.
COMPONENT_SIGN = np.array([1.0, -1.0, -1.0, 1.0])


def simulate(scenario: Scenario | str | Path, *, funds: int | None = None,
             names_min: int | None = None, names_max: int | None = None,
             progress: bool = True) -> Iterator[tuple[str, pd.DataFrame]]:
    """Simulate the scenario's book, yielding (table_name, frame) chunks of canonical tables.

    Parameters
    ----------
    scenario
        A `Scenario`, or a path or packaged name for `load_scenario`.
    funds, names_min, names_max
        Override the scenario's number of funds and names per fund (for benchmarks).
    progress
        Show a progress bar over trading days (on stderr).

    The same scenario and seed give identical frames. Dates are datetime64[ns] days.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    securities = sp500_universe()
    days = trading_days(scenario.start, scenario.end)
    price_rng, fund_rng, trade_rng, retail_rng = (
        np.random.Generator(np.random.PCG64(seed))
        for seed in np.random.SeedSequence(scenario.seed).spawn(4))
    fund_set = make_funds(funds or scenario.funds, len(days), fund_rng,
                          names_min=names_min or scenario.names_min,
                          names_max=names_max or scenario.names_max,
                          universe_size=len(securities))
    prices = PriceModel(securities, price_rng)
    book = _Book(securities, fund_set, scenario.plants, trade_rng)
    retail = RetailModel(securities, scenario.plants, retail_rng) if scenario.retail else None
    yield "securities", securities
    yield "accounts", fund_set.accounts

    with _progress_bar(progress) as bar:
        task = bar.add_task(f"simulating {scenario.name}", total=len(days))
        month = _MonthBuffer(securities, fund_set, with_retail=retail is not None)
        previous_close = None
        for index, day in enumerate(days):
            if month.days and (day.year, day.month) != (month.days[0].year, month.days[0].month):
                yield from month.frames()
                month = _MonthBuffer(securities, fund_set, with_retail=retail is not None)
            close = prices.step()
            book.step(index, day, close, previous_close)
            month.add(day, close, book, retail.step(day) if retail else None)
            previous_close = close
            bar.advance(task)
        if month.days:
            yield from month.frames()


def _progress_bar(enabled: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("trading days"), TimeRemainingColumn(),
                    console=Console(stderr=True), disable=not enabled)


class _Book:
    """The positions of every fund as flat slot arrays: fund, security and signed quantity.

    Fund f owns the slots offsets[f]..offsets[f+1]; a slot's security changes on turnover.
    """

    def __init__(self, securities: pd.DataFrame, funds: Funds, plants: tuple[Plant, ...],
                 rng: np.random.Generator) -> None:
        self.funds = funds
        self.rng = rng
        self.securities = len(securities)
        popularity = np.exp(rng.normal(0.0, POPULARITY_DISPERSION, size=self.securities))
        self.popularity = popularity / popularity.sum()
        self.offsets = np.concatenate([[0], np.cumsum(funds.names)])
        self.slot_fund = np.repeat(np.arange(len(funds)), funds.names)
        self.slot_security = np.zeros(len(self.slot_fund), dtype=np.int64)
        self.quantity = np.zeros(len(self.slot_fund))
        self.held = np.zeros((len(funds), self.securities), dtype=bool)
        self.equity = funds.equity.copy()
        self.alive = np.ones(len(funds), dtype=bool)
        self.present = np.zeros(len(funds), dtype=bool)
        self.plants = [(plant, group_mask(securities, plant))
                       for plant in plants if plant.who == "hedge_funds"]
        self.mean_reversion = np.log(2) / LEVERAGE_HALF_LIFE

    def step(self, index: int, day, close: np.ndarray, previous_close: np.ndarray | None) -> None:
        """Move the book to trading day number `index` with today's `close`."""
        funds = self.funds
        if previous_close is not None:
            move = self.quantity * (close - previous_close)[self.slot_security]
            self.equity += np.bincount(self.slot_fund, move, minlength=len(funds))
        self.alive &= self.equity > BLOW_UP * funds.equity
        self.present = self.alive & (funds.first_day <= index) & (funds.last_day >= index)
        trading = self.present & (funds.first_day < index)
        for fund in np.flatnonzero(self.present & (funds.first_day == index)):
            self._open(fund, close)
        if trading.any():
            self._trade(trading, day, close)

    def _open(self, fund: int, close: np.ndarray) -> None:
        funds, rng = self.funds, self.rng
        names = funds.names[fund]
        slots = slice(self.offsets[fund], self.offsets[fund + 1])
        chosen = rng.choice(self.securities, size=names, replace=False, p=self.popularity)
        gross, net = funds.gross_target[fund], funds.net_target[fund]
        long_share = np.clip((gross + net) / (2 * gross) + rng.normal(0, 0.05), 0.3, 0.9)
        longs = int(np.clip(round(names * long_share), 1, max(1, names - 1)))
        weight = np.exp(rng.normal(0.0, POSITION_DISPERSION, size=names))
        side = np.where(np.arange(names) < longs, 1.0, -1.0)
        long_weight = weight[:longs] / weight[:longs].sum()
        short_weight = weight[longs:] / max(weight[longs:].sum(), 1e-12)
        equity = funds.equity[fund]
        value = np.concatenate([long_weight * equity * (gross + net) / 2,
                                short_weight * equity * (gross - net) / 2])
        quantity = side * np.maximum(np.round(value / close[chosen]), 1.0)
        if names == 1:
            quantity = np.maximum(quantity, 1.0)
        self.slot_security[slots] = chosen
        self.quantity[slots] = quantity
        self.held[fund, chosen] = True

    def _trade(self, trading: np.ndarray, day, close: np.ndarray) -> None:
        funds, rng = self.funds, self.rng
        fund_count = len(funds)
        slot_fund = self.slot_fund
        quantity = self.quantity
        price = close[self.slot_security]
        value = quantity * price
        live = trading[slot_fund] & (quantity != 0)
        is_long = live & (quantity > 0)
        is_short = live & (quantity < 0)
        long_value = np.bincount(slot_fund, np.where(is_long, value, 0.0), minlength=fund_count)
        short_value = np.bincount(slot_fund, np.where(is_short, -value, 0.0),
                                  minlength=fund_count)
        gross = long_value + short_value

        # Background: four noisy rates of gross, plus the pull toward the leverage targets.
        noise = np.exp(rng.normal(-BACKGROUND_NOISE**2 / 2, BACKGROUND_NOISE, (4, fund_count)))
        amounts = BACKGROUND_RATE * noise * gross
        equity = self.equity
        long_gap = self.mean_reversion * (
            equity * (funds.gross_target + funds.net_target) / 2 - long_value)
        short_gap = self.mean_reversion * (
            equity * (funds.gross_target - funds.net_target) / 2 - short_value)
        amounts += np.stack([np.maximum(long_gap, 0), np.maximum(-long_gap, 0),
                             np.maximum(short_gap, 0), np.maximum(-short_gap, 0)])
        amounts *= trading
        selected = live & (rng.random(len(quantity)) < TRADED_SHARE)
        up = rng.random(len(quantity)) < 0.5
        component = np.where(is_long, np.where(up, 0, 1), np.where(up, 2, 3))
        weight = np.where(selected, np.abs(value) * rng.uniform(0.5, 1.5, len(quantity)), 0.0)
        key = component * fund_count + slot_fund
        totals = np.bincount(key, weight, minlength=4 * fund_count)
        usd = amounts.ravel()[key] * np.divide(weight, totals[key], out=np.zeros_like(weight),
                                               where=totals[key] > 0)
        change = COMPONENT_SIGN[component] * usd / price

        for plant, members in self.plants:
            if plant.active(day):
                change += self._planted(plant, members[self.slot_security] & live, value, price,
                                        is_long, is_short)

        self.quantity = self._apply(quantity, change)
        self._turnover(live, close)

    def _planted(self, plant: Plant, in_group: np.ndarray, value: np.ndarray, price: np.ndarray,
                 is_long: np.ndarray, is_short: np.ndarray) -> np.ndarray:
        """Quantity changes of one hedge-fund plant for one day (rates in % of group gross)."""
        fund_count = len(self.funds)
        slot_fund = self.slot_fund
        group_long = in_group & is_long
        group_short = in_group & is_short
        group_gross = (np.bincount(slot_fund, np.where(group_long, value, 0.0),
                                   minlength=fund_count)
                       - np.bincount(slot_fund, np.where(group_short, value, 0.0),
                                     minlength=fund_count))
        change = np.zeros(len(value))
        for side, (increase, decrease) in ((group_long, (plant.long_buy, plant.long_sell)),
                                           (group_short, (plant.short_sale, plant.short_cover))):
            # With both rates on one side, half the positions take each (both flows show).
            if increase and decrease:
                takes_increase = self.rng.random(len(value)) < 0.5
            else:
                takes_increase = np.full(len(value), bool(increase))
            for rate, chosen, grows in ((increase, side & takes_increase, 1.0),
                                        (decrease, side & ~takes_increase, -1.0)):
                if not rate or not chosen.any():
                    continue
                size = np.where(chosen, np.abs(value), 0.0)
                total = np.bincount(slot_fund, size, minlength=fund_count)[slot_fund]
                usd = rate / 100 * group_gross[slot_fund] * np.divide(
                    size, total, out=np.zeros_like(size), where=total > 0)
                change += grows * np.sign(value) * usd / price
        return change

    @staticmethod
    def _apply(quantity: np.ndarray, change: np.ndarray) -> np.ndarray:
        """Whole-share quantities that keep their sign and at least 5% of their size."""
        target = np.round(quantity + change)
        floor = np.maximum(1.0, np.round(KEEP_AT_LEAST * np.abs(quantity)))
        kept = np.sign(quantity) * np.maximum(np.abs(target) * (np.sign(target) == np.sign(
            quantity)), floor)
        return np.where(quantity != 0, kept, 0.0)

    def _turnover(self, live: np.ndarray, close: np.ndarray) -> None:
        rng = self.rng
        draw = rng.random(len(self.quantity))
        for slot in np.flatnonzero(live & (draw < TURNOVER)):
            fund = self.slot_fund[slot]
            old = self.slot_security[slot]
            candidates = rng.choice(self.securities, size=8, p=self.popularity)
            free = candidates[~self.held[fund, candidates]]
            if not len(free):
                continue
            new = free[0]
            value = abs(self.quantity[slot]) * close[old] * np.exp(rng.normal(0.0, 0.4))
            self.quantity[slot] = np.sign(self.quantity[slot]) * max(1.0, round(value / close[new]))
            self.held[fund, old] = False
            self.held[fund, new] = True
            self.slot_security[slot] = new
        flips = live & (draw >= TURNOVER) & (draw < TURNOVER + FLIP)
        if flips.any():
            size = np.maximum(1.0, np.round(np.abs(self.quantity[flips])
                                            * rng.uniform(0.3, 1.0, flips.sum())))
            self.quantity[flips] = -np.sign(self.quantity[flips]) * size


class _MonthBuffer:
    """One calendar month of output rows, kept as arrays until the month is complete."""

    def __init__(self, securities: pd.DataFrame, funds: Funds, *, with_retail: bool) -> None:
        self.security_ids = securities["security_id"].to_numpy(dtype=object)
        self.account_ids = funds.accounts["account_id"].to_numpy(dtype=object)
        self.with_retail = with_retail
        self.days: list = []
        self.closes: list[np.ndarray] = []
        self.equity: list[tuple[np.ndarray, np.ndarray]] = []
        self.positions: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.retail: list[tuple[np.ndarray, np.ndarray]] = []

    def add(self, day, close: np.ndarray, book: _Book,
            retail: tuple[np.ndarray, np.ndarray] | None) -> None:
        self.days.append(day)
        self.closes.append(close)
        present = np.flatnonzero(book.present)
        self.equity.append((present, np.round(book.equity[present], 2)))
        rows = book.present[book.slot_fund] & (book.quantity != 0)
        self.positions.append((book.slot_fund[rows].astype(np.int32),
                               book.slot_security[rows].astype(np.int16),
                               book.quantity[rows]))
        if retail is not None:
            self.retail.append(retail)

    def frames(self) -> Iterator[tuple[str, pd.DataFrame]]:
        dates = pd.to_datetime(pd.Index(self.days)).normalize().to_numpy()
        securities = len(self.security_ids)
        per_day = np.repeat(dates, securities)
        all_securities = np.tile(self.security_ids, len(self.days))
        yield "prices", pd.DataFrame({"date": per_day, "security_id": all_securities,
                                      "close": np.concatenate(self.closes)})
        counts = [len(present) for present, _ in self.equity]
        yield "equity", pd.DataFrame({
            "date": np.repeat(dates, counts),
            "account_id": self.account_ids[np.concatenate([p for p, _ in self.equity])],
            "equity": np.concatenate([e for _, e in self.equity]),
        })
        counts = [len(fund) for fund, _, _ in self.positions]
        position_dates = np.repeat(dates, counts)
        yield "positions", pd.DataFrame({
            "date": position_dates,
            "account_id": self.account_ids[np.concatenate([f for f, _, _ in self.positions])],
            "security_id": self.security_ids[np.concatenate([s for _, s, _ in self.positions])],
            "quantity": np.concatenate([q for _, _, q in self.positions]),
            "available_from": position_dates,
        })
        if self.with_retail:
            yield "retail_flows", pd.DataFrame({
                "date": per_day, "security_id": all_securities,
                "retail_buy_usd": np.concatenate([b for b, _ in self.retail]),
                "retail_sell_usd": np.concatenate([s for _, s in self.retail]),
            })
