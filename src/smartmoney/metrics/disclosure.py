"""Disclosure control: never publish a cell that would reveal one account's positions.

A cell (period x group) is published only when at least `k` distinct accounts contribute and no
single account holds more than `p` percent of it (an empty cell, to which no account contributes,
is published as zero: it reveals no account's position) (the dominance rule statistical agencies use).
Complementary suppression: when a period has exactly one suppressed group cell, the smallest
published cell of that period (every one of them, on a tie) is suppressed too, so that the book total minus the published
cells does not give the suppressed value away. The same holds inside every grouping the cells
nest in (an industry's sector and industry group, a sector's TMT side): a sector's published
total minus its published industries must not give a hidden industry away. Complements are
taken among cells some account contributes to (an empty cell is known to be zero), and the
passes (each over every grouping at once) repeat up to `PASSES` times.
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


PASSES = 3


def suppress(cells: ibis.Table, group: str, *, size: str, values: list[str],
             rule: Disclosure, enclosing: ibis.Table | None = None) -> ibis.Table:
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
    enclosing
        Per group, the group of each grouping it nests in (`groups.enclosing`), or None.
    """
    if rule.hides_nothing:   # the same result, without the passes: nothing is hidden, so none apply
        return cells.mutate(suppressed=ibis.literal(False)).drop("top")
    primary = (((cells.accounts > 0) & (cells.accounts < rule.k))
               | (cells.top > cells[size].abs() * (rule.p / 100.0)))
    marked = cells.mutate(_hidden=primary)
    parents = []
    if enclosing is not None:
        parents = [name for name in enclosing.columns if name != group]
        marked = marked.left_join(enclosing.rename(**{f"_in_{name}": name for name in parents}), group)
        marked = marked.drop(*[c for c in marked.columns if c.endswith("_right")])
    key_sets = [*(["period_end", f"_in_{name}"] for name in parents), ["period_end"]]
    for _ in range(PASSES if parents else 1):
        marked = _complement(marked, group, size, key_sets)
    suppressed = marked._hidden
    blanked = {name: ibis.ifelse(suppressed, ibis.null(marked[name].type()), marked[name])
               for name in [*values, "accounts"]}
    return marked.mutate(suppressed=suppressed, **blanked).drop(
        "_hidden", "top", *[f"_in_{name}" for name in parents])


def _complement(marked: ibis.Table, group: str, size: str, key_sets: list[list[str]]) -> ibis.Table:
    """Within each cell set (one per key set) holding exactly one hidden cell, hide the smallest
    published cell some account contributes to as well (all of them on a tie); every key set in
    one pass.

    On DuckDB each cell set's count of hidden cells and smallest candidate come from a grouped
    aggregate joined back on its keys (hash joins; a window per key set would sort the cells
    each time), which reads the pass's input once per key set: DuckDB materialises such a shared
    input once. Spark inlines it instead, so that over the passes the plan would grow as
    (key sets + 1) ** passes; there one window per key set (a sum and a minimum over the same
    partition) reads the input once. The two give the same cells (tests/test_spark.py)."""
    if ibis.get_backend(marked).name == "duckdb":
        return _complement_by_joins(marked, size, key_sets)
    candidate = ~marked._hidden & (marked.accounts > 0)
    magnitude = marked[size].abs()
    lone = ibis.literal(False)
    for keys in key_sets:
        window = ibis.window(group_by=keys)
        hidden_within = marked._hidden.cast("int64").sum().over(window)
        smallest = ibis.ifelse(candidate, magnitude, ibis.null("float64")).min().over(window)
        lone |= (hidden_within == 1) & candidate & (magnitude == smallest)
    return marked.mutate(_hidden=marked._hidden | lone)


def _complement_by_joins(marked: ibis.Table, size: str, key_sets: list[list[str]]) -> ibis.Table:
    """`_complement` from grouped aggregates joined back on their keys (null keys match null
    keys, as in a window's partition)."""
    candidate = ~marked._hidden & (marked.accounts > 0)
    marked = marked.mutate(_candidate=candidate,
                           _magnitude=ibis.ifelse(candidate, marked[size].abs(), ibis.null("float64")))
    joined = marked
    for number, keys in enumerate(key_sets):
        sets = marked.group_by(keys).aggregate(**{f"_hidden_{number}": marked._hidden.cast("int64").sum(),
                                                  f"_smallest_{number}": marked._magnitude.min()})
        sets = sets.rename(**{f"_key_{number}_{key}": key for key in keys})
        joined = joined.left_join(sets, [joined[key].identical_to(sets[f"_key_{number}_{key}"]) for key in keys])
    lone = ibis.literal(False)
    for number in range(len(key_sets)):
        lone |= ((joined[f"_hidden_{number}"] == 1) & joined._candidate
                 & (joined._magnitude == joined[f"_smallest_{number}"]))
    return joined.mutate(_hidden=joined._hidden | lone).select(*[c for c in marked.columns
                                                                 if c not in ("_candidate", "_magnitude")])
