"""Groupings of a book: the names `by=` accepts and the column each one adds.

Security groupings (sector ... ticker, tmt, asset_type, basket) use the book's equity for leverage;
account groupings (strategy, region) use the equity of the group's own accounts.
"""

from __future__ import annotations

import ibis

from smartmoney.taxonomy import GICS_LEVELS, baskets

TMT_SECTORS = ("Information Technology", "Communication Services")
MACRO_TYPES = ("etf", "index_future")
UNCLASSIFIED = "Unclassified"

SECURITY_GROUPS = ("sector", "industry_group", "industry", "sub_industry", "ticker", "tmt", "asset_type",
                   "basket")
ACCOUNT_GROUPS = ("strategy", "region")
GROUPS = ("book", *SECURITY_GROUPS, *ACCOUNT_GROUPS)


def check(by: str) -> str:
    """`by` itself, or a ValueError that lists the groupings."""
    if by not in GROUPS:
        raise ValueError(f"unknown group {by!r}; choose one of {', '.join(GROUPS)}")
    return by


def with_group(rows: ibis.Table, by: str, securities: ibis.Table, accounts: ibis.Table) -> ibis.Table:
    """`rows` (with account_id and security_id) plus a column named `by` holding the group."""
    check(by)
    if by == "book":
        return rows.mutate(book=ibis.literal("all"))
    if by in ACCOUNT_GROUPS:
        labels = accounts.select("account_id", label=accounts[by].fill_null(UNCLASSIFIED))
        return rows.join(labels, "account_id").rename({by: "label"})
    if by == "basket":
        # A view, so that later joins start a new chain instead of extending this one.
        return rows.join(basket_members(securities), "security_id").select(*rows.columns, "basket").view()
    s = securities
    if by == "tmt":
        label = ibis.cases((s.sector.isin(TMT_SECTORS), "TMT"), else_="Non-TMT")
    elif by == "asset_type":
        label = ibis.cases((s.asset_type.isin(MACRO_TYPES), "macro products"), else_="single stocks")
    else:
        label = s[by].fill_null(UNCLASSIFIED)
    labels = s.select("security_id", label=label)
    return rows.join(labels, "security_id").rename({by: "label"})


def one_security_each(by: str, securities: ibis.Table) -> bool:
    """True when every group of `by` is one security (tickers, when no two securities share
    one): rows per account and security are then already rows per account and group."""
    if by != "ticker":
        return False
    counts = securities.aggregate(rows=securities.count(), tickers=securities.ticker.nunique()).execute()
    return int(counts["rows"].iloc[0]) == int(counts["tickers"].iloc[0])


def cells(per_security: ibis.Table, by: str, securities: ibis.Table, accounts: ibis.Table, *,
          measures: list[str], size: str) -> ibis.Table:
    """Grouping `by`'s cells: period_end, <by>, the `measures` summed, accounts (how many
    accounts' `size` is above zero) and top (the largest account's `size`), from
    `per_security` (period_end, account_id, security_id and the measures)."""
    labelled = with_group(per_security, by, securities, accounts)
    if one_security_each(by, securities):
        per_account = labelled   # already one row per account and group
    else:
        per_account = labelled.group_by(["period_end", by, "account_id"]).aggregate(
            **{name: labelled[name].sum() for name in measures})
    return per_account.group_by(["period_end", by]).aggregate(
        **{name: per_account[name].sum() for name in measures},
        accounts=(per_account[size] > 0).cast("int64").sum(), top=per_account[size].max())


# The groupings each grouping nests in: a cell hidden in `by` must not be the published total of
# one of these minus its published siblings (`metrics.linked` keeps such cell sets).
NESTED_IN = {"sector": ("tmt",), "industry_group": ("sector", "tmt"),
             "industry": ("industry_group", "sector", "tmt"),
             "sub_industry": ("industry", "industry_group", "sector", "tmt"),
             "ticker": ("sub_industry", "industry", "industry_group", "sector", "tmt")}


def basket_members(securities: ibis.Table) -> ibis.Table:
    """(security_id, basket) for every member of every basket; a security may be in several.

    Baskets are data (taxonomy/data/baskets.toml): a basket's members are the securities whose
    ticker it lists or whose GICS sector, industry group, industry or sub-industry it names.
    """
    parts = []
    for name, spec in sorted(baskets().items()):
        member = securities.ticker.isin(spec.get("tickers", [""]))
        for level in GICS_LEVELS:
            if spec.get(level):
                member |= securities[level].isin(spec[level])
        parts.append(securities.filter(member).select("security_id", basket=ibis.literal(name, "string")))
    table = parts[0]
    for part in parts[1:]:
        table = table.union(part)
    return table
