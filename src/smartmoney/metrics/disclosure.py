"""Disclosure control: never publish a cell that would reveal one account's positions.

A cell (period x group) is published only when at least `k` distinct accounts contribute and no
single account holds more than `p` percent of it (an empty cell, to which no account contributes,
is published as zero: it reveals no account's position) (the dominance rule statistical agencies use).
Complementary suppression: when a period has exactly one suppressed group cell, the smallest
published cell of that period is suppressed too, so that the book total minus the published
cells does not give the suppressed value away.
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


def suppress(cells: ibis.Table, group: str, *, size: str, values: list[str],
             rule: Disclosure) -> ibis.Table:
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
    primary = (((cells.accounts > 0) & (cells.accounts < rule.k))
               | (cells.top > cells[size].abs() * (rule.p / 100.0)))
    marked = cells.mutate(_primary=primary)
    by_period = ibis.window(group_by="period_end")
    ranked = marked.mutate(
        _suppressed_in_period=marked._primary.cast("int64").sum().over(by_period),
        _groups_in_period=marked[group].count().over(by_period),
        _size_rank=ibis.row_number().over(
            group_by=["period_end", marked._primary], order_by=[marked[size].abs(), marked[group]]),
    )
    complement = (~ranked._primary & (ranked._suppressed_in_period == 1)
                  & (ranked._size_rank == 0) & (ranked._groups_in_period > 1))
    suppressed = ranked._primary | complement
    blanked = {name: ibis.ifelse(suppressed, ibis.null(ranked[name].type()), ranked[name])
               for name in [*values, "accounts"]}
    return ranked.mutate(suppressed=suppressed, **blanked).drop(
        "_primary", "_suppressed_in_period", "_groups_in_period", "_size_rank", "top")
