"""Exposure per period_end and group: LMV, SMV, gross, net, leverage, ratios, weights (DESIGN.md).

Exposure for a period is its value on period_end. q is the signed quantity, p the close:
LMV = sum(max(q,0)*p), SMV = sum(min(q,0)*p) <= 0, gross = LMV - SMV, net = LMV + SMV,
gross_leverage = 100 * gross / equity, net_leverage = 100 * net / equity (percent), with equity
summed over the book's accounts (over the group's own accounts for strategy and region),
long_short_ratio = LMV / |SMV|, net_to_gross = net / gross, and weights in the book
(weight_net = group net / book net, weight_gross = group gross / book gross).
"""

from __future__ import annotations

import ibis

from smartmoney.metrics import groups, linked
from smartmoney.metrics.disclosure import Disclosure, suppress
from smartmoney.metrics.inputs import Inputs, periods
from smartmoney.metrics.stats import with_change, with_pct_ranks, with_range

LEVELS = ["gross_leverage", "net_leverage"]
MEASURES = ["lmv", "smv", "gross"]   # summed per cell


def exposure(inputs: Inputs, *, by: str, freq: str, rule: Disclosure) -> ibis.Table:
    """Exposure per period_end and group.

    Columns: period_end, <by>, lmv, smv, gross, net, equity, gross_leverage, net_leverage,
    long_short_ratio, net_to_gross, weight_net, weight_gross, accounts, the changes of
    gross_leverage and net_leverage from the previous period (percentage points), their 1- and
    5-year percentile ranks, their trailing-year range (`_low_1y`, `_high_1y`), and suppressed.
    """
    linked_pattern = linked.decides(by) and not rule.hides_nothing
    cells = exposure_cells(inputs, by=by, freq=freq, every_grouping=linked_pattern)
    cells = with_change(cells, by, LEVELS)
    cells = with_pct_ranks(cells, by, LEVELS, freq)
    cells = with_range(cells, by, LEVELS, freq)
    columns = ["period_end", by, "lmv", "smv", "gross", "net", "equity", "gross_leverage",
               "net_leverage", "long_short_ratio", "net_to_gross", "weight_net", "weight_gross",
               "accounts", "top", "gross_leverage_change", "net_leverage_change",
               "gross_leverage_pct_rank_1y", "gross_leverage_pct_rank_5y",
               "net_leverage_pct_rank_1y", "net_leverage_pct_rank_5y", "gross_leverage_low_1y",
               "gross_leverage_high_1y", "net_leverage_low_1y", "net_leverage_high_1y"]
    values = [c for c in columns if c not in ("period_end", by, "accounts", "top")]
    if linked_pattern:
        flags = linked.pattern(inputs, ("exposure pattern", freq, rule), _linked_cells(inputs, freq), "gross", rule)
        published = linked.publish(cells.select(columns), by, values=values, flags=flags)
    else:
        published = suppress(cells.select(columns), by, size="gross", values=values, rule=rule)
    return published.order_by(["period_end", by])


def _valued(inputs: Inputs, freq: str) -> ibis.Table:
    """Each position's value (date, account_id, security_id, value) on the period ends."""
    calendar = periods(inputs.dates(), freq)
    ends = calendar.select(date=calendar.period_end).distinct()
    return inputs.shared(("valued", freq), lambda: inputs.values(ends.date.to_pyarrow().to_pylist()))


def _linked_cells(inputs: Inputs, freq: str) -> ibis.Table:
    """Every linked grouping's exposure cells (lmv, smv, gross, accounts, top), in one query,
    kept (see `linked.grouped`)."""
    return inputs.cached(("linked exposure cells", freq), lambda: linked.grouped(
        _sides(inputs, freq), inputs, measures=MEASURES, size="gross"))


def _sides(inputs: Inputs, freq: str) -> ibis.Table:
    """Each position's long and short value and gross (period_end, account_id, security_id,
    lmv, smv, gross) on the period ends."""
    valued = _valued(inputs, freq)
    sides = valued.select(period_end="date", account_id="account_id", security_id="security_id",
                          lmv=ibis.ifelse(valued.value > 0, valued.value, 0.0),
                          smv=ibis.ifelse(valued.value < 0, valued.value, 0.0))
    return sides.mutate(gross=sides.lmv - sides.smv)


def exposure_cells(inputs: Inputs, *, by: str, freq: str, every_grouping: bool = False) -> ibis.Table:
    """Exposure per period_end and group before disclosure control, with accounts and top (the
    largest account's gross); kept by the engine (the statistics read it several times). With
    `every_grouping` (`by` linked, and its pattern needed), read from every linked grouping's
    cells, computed at once."""
    return inputs.cached(("exposure cells", by, freq), lambda: _exposure_cells(inputs, by, freq, every_grouping))


def _exposure_cells(inputs: Inputs, by: str, freq: str, every_grouping: bool) -> ibis.Table:
    ends = periods(inputs.dates(), freq).select(date="period_end").distinct()
    if every_grouping:
        cells = linked.part(_linked_cells(inputs, freq), by)
    else:
        cells = groups.cells(_sides(inputs, freq), by, inputs.securities, inputs.accounts,
                             measures=MEASURES, size="gross")
    cells = cells.rename(date="period_end")
    keys = ["date", by] if by in groups.ACCOUNT_GROUPS else ["date"]
    cells = cells.left_join(_equity(inputs, by, ends), keys).drop(*[f"{k}_right" for k in keys])
    cells = cells.rename(period_end="date")
    net = cells.lmv + cells.smv
    day = ibis.window(group_by="period_end")
    return cells.mutate(
        net=net,
        gross_leverage=100.0 * cells.gross / cells.equity,
        net_leverage=100.0 * net / cells.equity,
        long_short_ratio=cells.lmv / cells.smv.abs().nullif(0.0),
        net_to_gross=net / cells.gross.nullif(0.0),
        weight_net=net / net.sum().over(day).nullif(0.0),
        weight_gross=cells.gross / cells.gross.sum().over(day).nullif(0.0),
    )


def _equity(inputs: Inputs, by: str, ends: ibis.Table) -> ibis.Table:
    """Equity per date (and per group for account groupings) on the period ends."""
    equity = inputs.equity.semi_join(ends, "date")
    if by in groups.ACCOUNT_GROUPS:
        labels = inputs.accounts.select("account_id", label=inputs.accounts[by].fill_null(groups.UNCLASSIFIED))
        equity = equity.join(labels, "account_id").rename({by: "label"})
        return equity.group_by(["date", by]).aggregate(equity=equity.equity.sum())
    return equity.group_by("date").aggregate(equity=equity.equity.sum())
