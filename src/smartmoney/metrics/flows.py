"""Flows: long_buy, long_sell, short_sale, short_cover per period and group (DESIGN.md).

From position changes: per account and security from day t-1 to t, dq = q_t - q_{t-1} valued at
the close of t (so mark-to-market is excluded). The long and short legs are compared apart,
which splits a sign flip into closing the old side and opening the new one:

    long_buy  = max(max(q_t,0) - max(q_t-1,0), 0) * p_t      short_sale  = max(max(-q_t,0) - max(-q_t-1,0), 0) * p_t
    long_sell = max(max(q_t-1,0) - max(q_t,0), 0) * p_t      short_cover = max(max(-q_t-1,0) - max(-q_t,0), 0) * p_t

Edges: flows exist only while the account is present on both days (a missing position row is
quantity 0); an account's first day and the data's first day are baselines; an account that
leaves makes no flows; a position with no close on t is left out and counted in diagnostics.
From trades (when the store has any): |quantity| * price summed by side.
"""

from __future__ import annotations

import ibis
from ibis import _

from smartmoney.metrics import groups, linked
from smartmoney.metrics.disclosure import Disclosure, suppress
from smartmoney.metrics.inputs import EXCLUDED_ASSET_TYPES, Inputs, periods
from smartmoney.metrics.stats import with_pct_ranks, with_sd_units

COMPONENTS = ("long_buy", "long_sell", "short_sale", "short_cover")
KEYS = ["date", "account_id", "security_id"]
MEASURES = [*COMPONENTS, "gross_traded"]   # summed per cell
OUTPUT = [*COMPONENTS, "net_flow", "gross_traded", "risk_on", "risk_off", "net_flow_sd", "net_flow_z",
          "net_flow_pct_rank_1y", "net_flow_pct_rank_5y", "net_flow_pct_gross"]


def position_flows(inputs: Inputs, dates: list | None = None) -> ibis.Table:
    """Daily flows per account and security derived from position changes (rows with a flow);
    only on `dates` when given (the store refreshes the days an ingest changed)."""
    presence = inputs.presence()
    steps = presence.join(inputs.dates(), "date").filter(_.prev_date.notnull())
    positions = inputs.positions
    if dates is not None:
        calendar = inputs.dates()
        before = calendar.filter(calendar.date.isin(list(dates))).prev_date.to_pyarrow().to_pylist()
        steps = steps.filter(steps.date.isin(list(dates)))
        # The days' positions and the days' before, read apart from the rest of the book.
        positions = positions.filter(positions.date.isin([*dates, *(d for d in before if d is not None)]))
    steps = steps.semi_join(presence.rename(prev_date="date"), ["prev_date", "account_id"])
    new = positions.join(steps, ["date", "account_id"]).select(*KEYS, q_new=_.quantity)
    old = (positions.rename(prev_date="date").join(steps, ["prev_date", "account_id"])
           .select(*KEYS, q_old=_.quantity))
    both = new.outer_join(old, KEYS)
    both = both.select(**{key: ibis.coalesce(both[key], both[f"{key}_right"]) for key in KEYS},
                       q_new=both.q_new.fill_null(0.0), q_old=both.q_old.fill_null(0.0))
    priced = both.filter(both.q_new != both.q_old).join(
        inputs.prices.select("date", "security_id", "close"), ["date", "security_id"])
    long_new, long_old = ibis.greatest(priced.q_new, 0.0), ibis.greatest(priced.q_old, 0.0)
    short_new, short_old = ibis.greatest(-priced.q_new, 0.0), ibis.greatest(-priced.q_old, 0.0)
    return priced.select(
        *KEYS,
        long_buy=ibis.greatest(long_new - long_old, 0.0) * priced.close,
        long_sell=ibis.greatest(long_old - long_new, 0.0) * priced.close,
        short_sale=ibis.greatest(short_new - short_old, 0.0) * priced.close,
        short_cover=ibis.greatest(short_old - short_new, 0.0) * priced.close,
    )


def trade_flows(inputs: Inputs) -> ibis.Table:
    """Daily flows per account and security from executed trades."""
    kept = inputs.securities.filter(~_.asset_type.isin(EXCLUDED_ASSET_TYPES)).select("security_id")
    trades = inputs.trades.semi_join(kept, "security_id")
    notional = trades.quantity.abs() * trades.price
    return trades.group_by(KEYS).aggregate(**{
        side: ibis.ifelse(trades.side == side, notional, 0.0).sum() for side in COMPONENTS})


def daily_flows(inputs: Inputs, use_trades: bool) -> ibis.Table:
    """Daily flows per account and security: from trades, else the store's kept position flows
    when they hold for `inputs` (see `Inputs.stored_flows`), else derived now (and kept)."""
    if use_trades:
        return inputs.cached(("flows", True), lambda: trade_flows(inputs))
    stored = inputs.stored_flows()
    if stored is not None:
        return stored
    return inputs.cached(("flows", False), lambda: position_flows(inputs))


def period_sums(daily: ibis.Table, calendar: ibis.Table) -> ibis.Table:
    """Daily flows per account and security summed per period_end of `calendar` (date, period_end)."""
    dated = daily.join(calendar, "date")
    return dated.group_by(["period_end", "account_id", "security_id"]).aggregate(
        **{c: dated[c].sum() for c in COMPONENTS})


def _per_period(inputs: Inputs, calendar: ibis.Table, freq: str, use_trades: bool) -> ibis.Table:
    """Flows per period_end, account and security: the store's kept `period_flows` for the
    periods it holds (every period ended by the as-of date, when they hold), summed now for the
    others (the as-of date's own period, when it has not ended)."""
    daily = daily_flows(inputs, use_trades)
    kept = frozenset() if use_trades else inputs.kept_periods.get(freq, frozenset())
    if not kept:
        return period_sums(daily, calendar)
    ends = calendar.select("period_end").distinct().to_pyarrow().column(0).to_pylist()
    held, rest = [end for end in ends if end in kept], [end for end in ends if end not in kept]
    if not held:
        return period_sums(daily, calendar)
    stored = inputs.table("period_flows")
    parts = [stored.filter(stored.freq == freq, stored.period_end.isin(held))
             .select("period_end", "account_id", "security_id", *COMPONENTS)]
    if rest:
        parts.append(period_sums(daily, calendar.filter(calendar.period_end.isin(rest))))
    return ibis.union(*parts)


def flows(inputs: Inputs, *, by: str, freq: str, use_trades: bool, rule: Disclosure,
          ranks: bool = True) -> ibis.Table:
    """Flows per period_end and group, with sd units, z-scores, ranks and disclosure control.

    Columns: period_end, <by>, long_buy, long_sell, short_sale, short_cover, net_flow,
    gross_traded, risk_on, risk_off, net_flow_sd, net_flow_z, net_flow_pct_rank_1y,
    net_flow_pct_rank_5y (not with ranks=False), accounts, suppressed (see `with_pct_gross`
    for net_flow_pct_gross). Every period has a row for every group seen (zero when nothing traded).
    """
    linked_pattern = linked.decides(by) and not rule.hides_nothing
    cells = flow_cells(inputs, by=by, freq=freq, use_trades=use_trades, every_grouping=linked_pattern)
    cells = with_sd_units(cells, by, "net_flow", freq)
    if ranks:
        cells = with_pct_ranks(cells, by, ["net_flow"], freq)
    values = [c for c in OUTPUT if c in cells.columns]
    if linked_pattern:
        flags = linked.pattern(inputs, ("flows pattern", use_trades, freq, rule),
                               _linked_cells(inputs, freq, use_trades), "gross_traded", rule)
        published = linked.publish(cells, by, values=values, flags=flags)
    else:
        published = suppress(cells, by, size="gross_traded", values=values, rule=rule)
    return published.select("period_end", by, *values, "accounts", "suppressed").order_by(["period_end", by])


def _linked_cells(inputs: Inputs, freq: str, use_trades: bool) -> ibis.Table:
    """Every linked grouping's flow cells, in one query, kept (see `linked.grouped`)."""
    return inputs.cached(("linked flow cells", use_trades, freq), lambda: linked.grouped(
        _traded(inputs, freq, use_trades), inputs, measures=MEASURES, size="gross_traded"))


def _traded(inputs: Inputs, freq: str, use_trades: bool) -> ibis.Table:
    """Flows per period_end, account and security, with their gross traded."""
    per_period = _summed(inputs, freq, use_trades)
    return per_period.mutate(gross_traded=sum(per_period[c] for c in COMPONENTS))


def _summed(inputs: Inputs, freq: str, use_trades: bool) -> ibis.Table:
    """Flows per period_end, account and security, kept once a second reader asks (a fifth of
    the daily rows for W)."""
    return inputs.shared(("flows_per_period", use_trades, freq),
                         lambda: _per_period(inputs, periods(inputs.dates(), freq), freq, use_trades))


def flow_cells(inputs: Inputs, *, by: str, freq: str, use_trades: bool, every_grouping: bool = False) -> ibis.Table:
    """Flows per period_end and group before disclosure control, with accounts (contributors)
    and top (the largest account's gross traded); kept by the engine, since the statistics read
    the series several times (ranks join it to itself). With `every_grouping` (`by` linked, and
    its pattern needed), read from every linked grouping's cells, computed at once."""
    return inputs.cached(("flow cells", use_trades, by, freq),
                         lambda: _flow_cells(inputs, by, freq, use_trades, every_grouping))


def _flow_cells(inputs: Inputs, by: str, freq: str, use_trades: bool, every_grouping: bool) -> ibis.Table:
    calendar = periods(inputs.dates(), freq)
    if every_grouping:
        cells = linked.part(_linked_cells(inputs, freq, use_trades), by)
    else:
        cells = groups.cells(_traded(inputs, freq, use_trades), by, inputs.securities, inputs.accounts,
                             measures=MEASURES, size="gross_traded")
    grid = calendar.select("period_end").distinct().cross_join(cells.select(by).distinct())
    cells = grid.left_join(cells, ["period_end", by]).drop("period_end_right", f"{by}_right")
    cells = cells.mutate(**{c: cells[c].fill_null(0.0) for c in (*COMPONENTS, "gross_traded", "top")},
                         accounts=cells.accounts.fill_null(0))
    return cells.mutate(
        net_flow=cells.long_buy - cells.long_sell - cells.short_sale + cells.short_cover,
        risk_on=cells.long_buy + cells.short_sale,
        risk_off=cells.long_sell + cells.short_cover,
    )


def with_pct_gross(flows: ibis.Table, gross: ibis.Table, by: str) -> ibis.Table:
    """`flows` plus net_flow_pct_gross: the net flow in percent of the group's published gross
    exposure (`gross`: period_end, <by>, gross) at the previous period end. Null where either
    is suppressed, so neither gives the other away."""
    previous = gross.mutate(
        _gross_before=gross.gross.lag().over(group_by=by, order_by="period_end")
    ).select("period_end", by, "_gross_before")
    joined = flows.left_join(previous, ["period_end", by]).drop("period_end_right", f"{by}_right")
    joined = joined.mutate(net_flow_pct_gross=100.0 * joined.net_flow / joined._gross_before.nullif(0.0))
    columns = [c for c in flows.columns if c not in ("accounts", "suppressed")]
    return joined.select(*columns, "net_flow_pct_gross", "accounts", "suppressed").order_by(["period_end", by])
