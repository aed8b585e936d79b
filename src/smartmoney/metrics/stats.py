"""Trailing statistics over a period series per group: sd units, z-scores, percentile ranks.

The current period is excluded from the sd and mean (DESIGN.md) and included in percentile
ranks (the share of the window's values at or below the current one, in percent).
"""

from __future__ import annotations

import ibis

# Trailing window for sd units and z-scores: 52 weeks, 12 months (DESIGN.md).
TRAILING = {"D": 252, "W": 52, "M": 12, "Q": 12}
# Fewest earlier periods before an sd or a rank is stated at all.
MIN_PERIODS = {"D": 20, "W": 8, "M": 6, "Q": 4}
# Percentile-rank windows: 1 year and 5 years of periods.
RANK_WINDOWS = {"D": (252, 1260), "W": (52, 260), "M": (12, 60), "Q": (4, 20)}


def with_sd_units(table: ibis.Table, group: str, column: str, freq: str) -> ibis.Table:
    """Add `{column}_sd` = value / trailing stdev and `{column}_z` = (value - mean) / stdev.

    The series must have one row per period and group (zero-filled), so that a row window
    is a period window.
    """
    window = ibis.window(group_by=group, order_by="period_end", rows=(-TRAILING[freq], -1))
    value = table[column]
    stdev = value.std().over(window)
    mean = value.mean().over(window)
    enough = value.count().over(window) >= MIN_PERIODS[freq]
    usable = enough & (stdev > 0)
    return table.mutate(**{
        f"{column}_sd": ibis.ifelse(usable, value / stdev, ibis.null("float64")),
        f"{column}_z": ibis.ifelse(usable, (value - mean) / stdev, ibis.null("float64")),
    })


def with_pct_ranks(table: ibis.Table, group: str, columns: list[str], freq: str) -> ibis.Table:
    """Add `{column}_pct_rank_1y` and `_5y`: percent of the trailing window at or below now."""
    indexed = table.mutate(
        _period_index=ibis.row_number().over(group_by=group, order_by="period_end"))
    short, long = RANK_WINDOWS[freq]
    left = indexed.select(group, "period_end", "_period_index", *columns)
    right = indexed.select(**{f"_{group}": indexed[group], "_other_index": indexed._period_index},
                           **{f"_other_{c}": indexed[c] for c in columns})
    joined = left.join(right, [left[group] == right[f"_{group}"],
                               right._other_index <= left._period_index,
                               right._other_index > left._period_index - long])
    recent = joined._other_index > joined._period_index - short
    aggregates = {}
    for c in columns:
        at_or_below = (joined[f"_other_{c}"] <= joined[c]).cast("int64")
        aggregates[f"{c}_pct_rank_1y"] = 100.0 * ibis.ifelse(recent, at_or_below, 0).sum() / ibis.ifelse(
            recent & joined[f"_other_{c}"].notnull(), 1, 0).sum()
        aggregates[f"{c}_pct_rank_5y"] = 100.0 * at_or_below.sum() / joined[f"_other_{c}"].count()
        aggregates[f"_n_{c}"] = joined[f"_other_{c}"].count()
    ranks = joined.group_by([group, "period_end"]).aggregate(**aggregates)
    minimum = MIN_PERIODS[freq]
    ranks = ranks.mutate(**{
        name: ibis.ifelse(ranks[f"_n_{c}"] > minimum, ranks[name], ibis.null("float64"))
        for c in columns for name in (f"{c}_pct_rank_1y", f"{c}_pct_rank_5y")
    }).drop(*[f"_n_{c}" for c in columns])
    return table.left_join(ranks, [group, "period_end"]).drop(
        *[f"{group}_right", "period_end_right"])


def with_change(table: ibis.Table, group: str, columns: list[str]) -> ibis.Table:
    """Add `{column}_change`: the difference from the group's previous period."""
    window = ibis.window(group_by=group, order_by="period_end")
    return table.mutate(**{f"{c}_change": table[c] - table[c].lag().over(window) for c in columns})



def with_range(table: ibis.Table, group: str, columns: list[str], freq: str) -> ibis.Table:
    """Add `{column}_low_1y` and `{column}_high_1y`: the trailing year's range, current included."""
    window = ibis.window(group_by=group, order_by="period_end", rows=(-(RANK_WINDOWS[freq][0] - 1), 0))
    return table.mutate(**{name: expr for c in columns for name, expr in (
        (f"{c}_low_1y", table[c].min().over(window)), (f"{c}_high_1y", table[c].max().over(window)))})
