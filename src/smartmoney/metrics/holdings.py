"""13F analytics, per quarter: what the filers bought and sold, who holds what, how concentrated
their books are, and the stocks most often among their largest holdings (DESIGN.md, "Public-data
metrics").

They read the accounts whose strategy is ``13f_filer`` (the accounts `smartmoney ingest sec13f`
makes) and their long positions, point in time: a filing counts from its filing date, so as of a
day in the 45 days after a quarter end only the filers that have filed by then are in that quarter.

A filer's quarter q is its positions dated in q (the period of report, a quarter end, stored as
the quarter's last trading day). A holding's quarter-end value is its shares x the quarter-end
price of the security, which is, by `price_source`:

- ``close``: the close in `prices` on the quarter's last date, when the store has it;
- ``reported``: else the price the filings imply, the sum of the values the filers report for the
  security that quarter over the sum of their shares;
- for a security every filer sold out of (flows only): its close, else its price the quarter before.

Tables (Ibis, the same expressions on DuckDB and Spark):

- `holdings`: period_end, quarter, account_id, security_id, shares, price, price_source, value.
- `quarterly_flows`: per period_end and group, for the filers with a filing in both the quarter
  and the one before (`filers`, those of them that held or traded in the group), the change in
  shares valued at the quarter-end price: long_buy, long_sell, net_flow, gross_traded (USD);
  new_positions and closed_positions (a filer's holding of a security opened or closed);
  holders_change (filers holding in the group now minus a quarter before, among those filers);
  net_flow_pct_value (net flow in % of their value in the group a quarter before); net_flow_sd
  and net_flow_z over the 12 quarters before; unvalued (changes without any price). Over all
  filers of the quarter: holders (filers holding in the group) and value (USD). The flow columns
  are empty for a quarter no filer filed in before.
- `concentration`: per period_end and filer: name, positions, unvalued, long_value, top10_value,
  top10_share (% of the long book in its 10 largest holdings).
- `vip`: per period_end, the securities most often among the filers' 10 largest holdings: funds
  (filers with it in their top 10), of (filers with a valued book), share (%), rank (1 = most;
  ties share a rank), funds_before and rank_before a quarter earlier, new (not ranked within
  `top` a quarter earlier).

13F filings are public: the tables are not suppressed (disclosure control is for confidential
books); keep prime-brokerage accounts out of the ``13f_filer`` strategy.
"""

from __future__ import annotations

import ibis
from ibis import _

from smartmoney.metrics import groups
from smartmoney.metrics.inputs import EXCLUDED_ASSET_TYPES, Inputs
from smartmoney.metrics.stats import with_sd_units
from smartmoney.schema import FILER_STRATEGY

FILER = FILER_STRATEGY
GROUPS = ("book", "sector", "industry_group", "industry", "sub_industry", "ticker", "tmt", "asset_type",
          "basket")
TOP = 10  # a filer's largest holdings, for concentration and the VIP list
# The columns of `quarterly_flows` after period_end and the group, in order.
COLUMNS = ["long_buy", "long_sell", "net_flow", "gross_traded", "new_positions", "closed_positions",
           "holders_change", "net_flow_pct_value", "net_flow_sd", "net_flow_z", "holders", "value", "filers",
           "unvalued"]


def check(by: str) -> str:
    """`by` itself, or a ValueError that lists the groupings 13F analytics accept."""
    if by not in GROUPS:
        raise ValueError(f"unknown group {by!r} for 13F analytics; choose one of {', '.join(GROUPS)}")
    return by


def quarter_index(date: ibis.DateValue) -> ibis.IntegerValue:
    """Quarters counted from year 0 (2024Q1 = 8096), so that the one before is index - 1."""
    return (date.year().cast("int64") * 4 + (date.month().cast("int64") - 1) // 3).name("quarter")


def filer_positions(inputs: Inputs) -> ibis.Table:
    """The filers' long equity positions knowable on the as-of date, with their quarter."""
    filers = inputs.accounts.filter(_.strategy == FILER).select("account_id")
    equity = inputs.securities.filter(~_.asset_type.isin(EXCLUDED_ASSET_TYPES)).select("security_id")
    rows = (inputs.visible("positions").semi_join(filers, "account_id").semi_join(equity, "security_id")
            .filter(_.quantity > 0))
    return rows.select("date", "account_id", "security_id", shares=_.quantity,
                       reported_value=_.reported_value, quarter=quarter_index(rows.date))


def quarter_ends(inputs: Inputs) -> ibis.Table:
    """(quarter, period_end): the last date of the filers' positions in each quarter."""
    return filer_positions(inputs).group_by("quarter").aggregate(period_end=_.date.max())


def _closes(inputs: Inputs) -> ibis.Table:
    """(quarter, security_id, close) on each quarter's last date."""
    closes = inputs.prices.select(period_end=_.date, security_id=_.security_id, close=_.close)
    return quarter_ends(inputs).join(closes, "period_end").select("quarter", "security_id", "close")


def holdings(inputs: Inputs) -> ibis.Table:
    """Every filer's holdings per quarter, valued at the quarter-end price (computed once)."""
    return inputs.cached("13f_holdings", lambda: _holdings(inputs))


def _holdings(inputs: Inputs) -> ibis.Table:
    rows = filer_positions(inputs)
    implied = rows.filter(_.reported_value.notnull()).group_by(["quarter", "security_id"]).aggregate(
        implied=_.reported_value.sum() / _.shares.sum())
    closes = _closes(inputs)
    keys = rows.select("quarter", "security_id").distinct()
    priced = (keys.left_join(closes, ["quarter", "security_id"]).select(keys, "close")
              .left_join(implied, ["quarter", "security_id"]).select(keys, "close", "implied"))
    prices = priced.select(
        "quarter", "security_id", price=ibis.coalesce(priced.close, priced.implied),
        price_source=ibis.cases((priced.close.notnull(), "close"), (priced.implied.notnull(), "reported"),
                                else_=ibis.null("string")))
    valued = rows.join(prices, ["quarter", "security_id"]).join(quarter_ends(inputs), "quarter")
    return valued.select("period_end", "quarter", "account_id", "security_id", "shares", "price",
                         "price_source", value=valued.shares * valued.price)


def quarter_prices(inputs: Inputs) -> ibis.Table:
    """(quarter, security_id, price) for every security held in a quarter or sold out of in it:
    a security every filer sold out of is priced at its close, else at the quarter before's."""
    held = holdings(inputs).select("quarter", "security_id", "price").distinct()
    sold_out = (held.select(quarter=_.quarter + 1, security_id=_.security_id, previous=_.price)
                .semi_join(quarter_ends(inputs), "quarter").anti_join(held, ["quarter", "security_id"]))
    closes = _closes(inputs)
    sold_out = sold_out.left_join(closes, ["quarter", "security_id"]).select(
        sold_out.quarter, sold_out.security_id, price=ibis.coalesce(closes.close, sold_out.previous))
    return held.union(sold_out)


def changes(inputs: Inputs) -> ibis.Table:
    """Per quarter, filer (with a filing in it and in the quarter before) and security: shares
    before and now, the quarter-end price, the value a quarter before."""
    return inputs.cached("13f_changes", lambda: _changes(inputs))


def _changes(inputs: Inputs) -> ibis.Table:
    h = holdings(inputs)
    present = h.select("account_id", "quarter").distinct()
    both = present.semi_join(present.select(account_id=_.account_id, quarter=_.quarter + 1).view(),
                             ["account_id", "quarter"])
    keys = ["quarter", "account_id", "security_id"]
    now = h.select(*keys, shares_now=_.shares).semi_join(both, ["account_id", "quarter"])
    before = (h.select(quarter=_.quarter + 1, account_id=_.account_id, security_id=_.security_id,
                       shares_before=_.shares, value_before=_.value)
              .semi_join(both, ["account_id", "quarter"]))
    joined = now.outer_join(before, keys)
    merged = joined.select(**{key: ibis.coalesce(joined[key], joined[f"{key}_right"]) for key in keys},
                           shares_now=joined.shares_now.fill_null(0.0),
                           shares_before=joined.shares_before.fill_null(0.0),
                           value_before=joined.value_before.fill_null(0.0)).view()
    prices = inputs.cached("13f_prices", lambda: quarter_prices(inputs))
    return merged.left_join(prices, ["quarter", "security_id"]).select(merged, prices.price)


def quarterly_flows(inputs: Inputs, *, by: str) -> ibis.Table:
    """13F flows, holders and value per period_end and group (see the module docstring)."""
    check(by)
    h, moved = holdings(inputs), changes(inputs)
    moved = groups.with_group(moved, by, inputs.securities, inputs.accounts)
    delta = moved.shares_now - moved.shares_before
    account = moved.account_id
    cells = moved.group_by(["quarter", by]).aggregate(
        long_buy=(ibis.greatest(delta, 0.0) * moved.price).sum(),
        long_sell=(ibis.greatest(-delta, 0.0) * moved.price).sum(),
        new_positions=((moved.shares_before == 0) & (moved.shares_now > 0)).cast("int64").sum(),
        closed_positions=((moved.shares_before > 0) & (moved.shares_now == 0)).cast("int64").sum(),
        _holders_now=ibis.ifelse(moved.shares_now > 0, account, ibis.null("string")).nunique(),
        _holders_before=ibis.ifelse(moved.shares_before > 0, account, ibis.null("string")).nunique(),
        _value_before=moved.value_before.sum(),
        filers=account.nunique(),
        unvalued=((delta != 0) & moved.price.isnull()).cast("int64").sum(),
    )
    cells = cells.mutate(long_buy=cells.long_buy.fill_null(0.0), long_sell=cells.long_sell.fill_null(0.0))
    cells = cells.mutate(net_flow=cells.long_buy - cells.long_sell, gross_traded=cells.long_buy + cells.long_sell,
                         holders_change=cells._holders_now - cells._holders_before,
                         net_flow_pct_value=100.0 * (cells.long_buy - cells.long_sell)
                         / cells._value_before.nullif(0.0))
    held = groups.with_group(h, by, inputs.securities, inputs.accounts)
    levels = held.group_by(["period_end", "quarter", by]).aggregate(
        holders=held.account_id.nunique(), value=held.value.sum())
    flowing = moved.select("quarter").distinct()
    grid = (levels.select("period_end", "quarter").distinct()
            .cross_join(levels.select(by).distinct()))
    table = grid.left_join(levels, ["quarter", by]).select(grid, "holders", "value")
    table = table.left_join(cells, ["quarter", by]).select(
        table, *[c for c in cells.columns if c not in ("quarter", by) and not c.startswith("_")])
    # A quarter some filer filed in before has a flow in every group (zero when none moved).
    in_flow = table.quarter.isin(flowing.quarter)
    zero_filled = {c: ibis.ifelse(in_flow, table[c].fill_null(0), table[c])
                   for c in ("long_buy", "long_sell", "net_flow", "gross_traded", "new_positions",
                             "closed_positions", "holders_change", "filers", "unvalued")}
    table = table.mutate(holders=table.holders.fill_null(0), value=table.value.fill_null(0.0), **zero_filled)
    table = with_sd_units(table, by, "net_flow", "Q")
    return table.select("period_end", by, *COLUMNS).order_by(["period_end", by])


def _ranked(inputs: Inputs) -> ibis.Table:
    """Valued holdings with their rank in the filer's book that quarter (0 = largest)."""
    valued = holdings(inputs).filter(_.value.notnull())
    return valued.mutate(book_rank=ibis.row_number().over(
        group_by=["quarter", "account_id"], order_by=[ibis.desc(valued.value), valued.security_id]))


def concentration(inputs: Inputs) -> ibis.Table:
    """The share of each filer's long book in its 10 largest holdings, per quarter."""
    h = holdings(inputs)
    counted = h.group_by(["period_end", "account_id"]).aggregate(
        positions=_.count(), unvalued=_.value.isnull().cast("int64").sum())
    ranked = _ranked(inputs)
    books = ranked.group_by(["period_end", "account_id"]).aggregate(
        long_value=ranked.value.sum(),
        top10_value=ibis.ifelse(ranked.book_rank < TOP, ranked.value, 0.0).sum())
    table = counted.left_join(books, ["period_end", "account_id"]).select(counted, "long_value", "top10_value")
    names = inputs.accounts.select("account_id", "name")
    table = table.left_join(names, "account_id").select(table, names.name)
    return table.select("period_end", "account_id", "name", "positions", "unvalued", "long_value",
                        "top10_value", top10_share=100.0 * table.top10_value / table.long_value.nullif(0.0)
                        ).order_by(["period_end", "account_id"])


def vip(inputs: Inputs, *, top: int = 20) -> ibis.Table:
    """The securities most often among the filers' 10 largest holdings, per quarter."""
    ranked = _ranked(inputs)
    books = ranked.group_by("quarter").aggregate(of=ranked.account_id.nunique())
    leaders = ranked.filter(ranked.book_rank < TOP)
    counts = leaders.group_by(["period_end", "quarter", "security_id"]).aggregate(funds=_.account_id.nunique())
    counts = counts.mutate(rank=ibis.rank().over(group_by="quarter", order_by=ibis.desc(counts.funds)) + 1)
    counts = counts.join(books, "quarter")
    before = counts.select(quarter=_.quarter + 1, security_id=_.security_id, funds_before=_.funds,
                           rank_before=_.rank).view()
    table = counts.left_join(before, ["quarter", "security_id"]).select(counts, "funds_before", "rank_before")
    tickers = inputs.securities.select("security_id", "ticker", "name")
    table = table.join(tickers, "security_id")
    listed_before = table.quarter.isin(books.quarter + 1)  # some filer had a valued book then
    return table.filter(table.rank <= top).select(
        "period_end", "ticker", "name", "funds", "of", share=100.0 * table.funds / table.of,
        rank=table.rank.cast("int64"),
        funds_before=ibis.ifelse(listed_before, table.funds_before.fill_null(0), ibis.null("int64")),
        rank_before=table.rank_before.cast("int64"),
        new=ibis.ifelse(listed_before, table.rank_before.isnull() | (table.rank_before > top),
                        ibis.null("boolean")),
    ).order_by(["period_end", "rank", "ticker"])
