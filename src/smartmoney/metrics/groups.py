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


# The groupings each grouping nests in: a cell hidden in `by` must not be the published total of
# one of these minus its published siblings (disclosure control suppresses within them too).
NESTED_IN = {"sector": ("tmt",), "industry_group": ("sector", "tmt"),
             "industry": ("industry_group", "sector", "tmt"),
             "sub_industry": ("industry", "industry_group", "sector", "tmt"),
             "ticker": ("sub_industry", "industry", "industry_group", "sector", "tmt")}


def enclosing(by: str, securities: ibis.Table) -> ibis.Table | None:
    """(by, and the group of each grouping `by` nests in) per group of `by`, or None when `by`
    nests in nothing but the book. A group found under several parents keeps the first.

    Baskets that cut across those groupings but are made of whole groups of `by` (the
    Magnificent 7 among tickers) enclose them too: a column `basket_<name>` holds the basket's
    name for its members and null for the rest (see `crossing_baskets`)."""
    if by not in NESTED_IN:
        return None
    labelled = securities.select("security_id")
    for name in (by, *NESTED_IN[by]):
        labelled = with_group(labelled, name, securities, securities)   # security groupings only
    inside = {f"basket_{name}": ibis.ifelse(labelled.security_id.isin(members), name, ibis.null("string"))
              for name, members in crossing_baskets(by, labelled, securities).items()}
    labelled = labelled.mutate(**inside)
    return labelled.group_by(by).aggregate(**{name: labelled[name].min() for name in [*NESTED_IN[by], *inside]})


def crossing_baskets(by: str, labelled: ibis.Table, securities: ibis.Table) -> dict[str, list[str]]:
    """The baskets (name -> member security_ids) made of two or more whole groups of `by`, but
    not of whole groups of any grouping `by` nests in (`labelled`: security_id, by and those).

    A published basket total minus its published groups of `by` is the sum of its hidden ones,
    as is the book total minus the basket and the published groups outside it; so each such
    basket, and the rest of the book, is a cell set of its own for complementary suppression.
    A basket made of whole sectors, say, needs none: each sector already holds no lone hidden
    cell, so neither does their union nor the rest of the book. A basket that splits a group
    of `by` is not a sum of its cells (its differences are those of a finer grouping)."""
    frame = labelled.execute()
    members = basket_members(securities).execute()
    found = {}
    for name, ids in members.groupby("basket")["security_id"]:
        inside = frame["security_id"].isin(set(ids))
        groups_inside = set(frame.loc[inside, by])
        if len(groups_inside) < 2 or inside.all() or (frame[by].isin(groups_inside) != inside).any():
            continue
        if any((frame[parent].isin(set(frame.loc[inside, parent])) == inside).all() for parent in NESTED_IN[by]):
            continue
        found[name] = sorted(frame.loc[inside, "security_id"])
    return found


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
