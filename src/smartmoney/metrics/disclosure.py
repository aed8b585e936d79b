"""Disclosure control: never publish a cell that would reveal one account's positions.

A cell (period x group) is published only when at least `k` distinct accounts contribute and no
single account holds more than `p` percent of it (an empty cell, to which no account contributes,
is published as zero: it reveals no account's position) (the dominance rule statistical agencies use).

The security groupings (sector ... ticker, TMT, asset type, baskets) are summed over the same
securities, and a reader may combine all their tables: their cells are hidden by one pattern
linked across them (`metrics.linked`). Here: the groupings of accounts (strategy, region) and the
book itself, which nest in nothing but the book. Complementary suppression: when a period has
exactly one suppressed group cell, the smallest published cell of that period some account
contributes to (every one of them, on a tie) is suppressed too, so that the book total minus the
published cells does not give the suppressed one away.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis


@dataclass(frozen=True)
class Disclosure:
    """The rule's parameters: at least `k` accounts, none above `p` percent."""

    k: int = 5
    p: float = 50.0

    def __post_init__(self) -> None:
        if self.k < 1 or not 0 < self.p <= 100:
            raise ValueError(f"disclosure needs k >= 1 and 0 < p <= 100 (got k={self.k}, p={self.p})")

    @property
    def hides_nothing(self) -> bool:
        """True for k = 1 and p = 100 (disclosure control off): a cell of one account is
        published, and no account's part of a cell can exceed the whole of it."""
        return self.k <= 1 and self.p >= 100

    def sensitive(self, accounts, top, magnitude):
        """Which cells the rule hides itself: fewer than k contributing accounts, or the largest
        one above p percent of the cell's `magnitude` (its size, made positive). Works alike on
        Ibis columns, numpy arrays and pandas Series."""
        return ((accounts > 0) & (accounts < self.k)) | (top > magnitude * (self.p / 100.0))


def suppress(cells: ibis.Table, group: str, *, size: str, values: list[str], rule: Disclosure) -> ibis.Table:
    """Mark and blank the cells the rule forbids.

    Parameters
    ----------
    cells
        One row per period_end and group, with `accounts` (contributors) and `top` (the largest
        single account's share of `size`, in the same units as `size`).
    group
        The group column.
    size
        The column the dominance rule measures (gross exposure, or gross traded for flows).
    values
        Columns set to null in a suppressed cell.
    """
    if rule.hides_nothing:   # the same result, without the pass: nothing is hidden
        return cells.mutate(suppressed=ibis.literal(False)).drop("top")
    magnitude = cells[size].abs()
    hidden = rule.sensitive(cells.accounts, cells.top, magnitude)
    candidate = ~hidden & (cells.accounts > 0)
    period = ibis.window(group_by="period_end")
    smallest = ibis.ifelse(candidate, magnitude, ibis.null("float64")).min().over(period)
    lone = (hidden.cast("int64").sum().over(period) == 1) & candidate & (magnitude == smallest)
    suppressed = hidden | lone
    blanked = {name: ibis.ifelse(suppressed, ibis.null(cells[name].type()), cells[name])
               for name in [*values, "accounts"]}
    return cells.mutate(suppressed=suppressed, **blanked).drop("top")
