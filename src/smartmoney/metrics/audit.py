"""Disclosure audit: can a suppressed cell be worked out from everything published?

Disclosure control (`disclosure.suppress`) decides each table on its own: a cell is hidden when
too few accounts hold it or one dominates it, and complements are hidden so that no cell set
(a period's groups, a sector's industries, a basket's tickers...) holds a lone hidden cell. A
reader of all the tables at once can still combine cell sets, or find in one table a cell that
another hid as a complement. The audit checks that, exactly: per period, every published cell
of every security grouping is an equation over the securities (the sum of its members), and a
hidden cell is *exposed* when its own sum is a linear combination of those equations, so its
value follows from published values alone, whatever they are.

The audit reads only the published tables (their suppressed flags and groups, never a value),
so it reports what a reader could do, and it never prints a value itself. Account groupings
(strategy, region) sum over accounts, not securities, and are left out.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from smartmoney.metrics import groups
from smartmoney.metrics.inputs import EXCLUDED_ASSET_TYPES

# The groupings whose cells are sums over securities, coarsest first.
LINKED = ("book", "asset_type", "tmt", "sector", "industry_group", "industry", "sub_industry", "ticker", "basket")
FAMILIES = ("exposure", "flows")
# A hidden cell whose sum lies this close to the span of the published ones is exposed (the sums
# are of 0/1 vectors, so anything not exposed is far from it).
TOLERANCE = 1e-6


def members(book, as_of: str | dt.date | None = None) -> dict[tuple[str, str], list[str]]:
    """(grouping, group) -> the security_ids the group sums over, for every linked grouping,
    labelled by the same code the metrics use."""
    inputs = book.inputs(as_of)
    securities = inputs.securities.filter(~inputs.securities.asset_type.isin(EXCLUDED_ASSET_TYPES))
    found: dict[tuple[str, str], list[str]] = {}
    for by in LINKED:
        labelled = groups.with_group(securities.select("security_id"), by, securities, inputs.accounts).to_pandas()
        for group, part in labelled.groupby(by)["security_id"]:
            found[(by, str(group))] = sorted(part)
    return found


def audit(book, family: str = "flows", *, freq: str = "W", as_of: str | dt.date | None = None,
          last: int = 12) -> pd.DataFrame:
    """Every suppressed cell of the last `last` periods (0 = all) in the tables of every linked
    grouping, and whether the published cells expose it.

    Returns columns period_end, grouping, group, exposed; no value of any cell.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    if last < 0:
        raise ValueError(f"last must be 0 (all periods) or more, not {last}")
    sets = members(book, as_of)
    tables = []
    for by in LINKED:
        if family == "flows":
            table = book.flows(by=by, freq=freq, as_of=as_of, pct_gross=False, ranks=False)
        else:
            table = book.exposure(by=by, freq=freq, as_of=as_of)
        frame = table.select("period_end", by, "suppressed").to_pandas()
        tables.append(frame.rename(columns={by: "group"}).assign(grouping=by, group=lambda f: f.group.astype(str)))
    cells = pd.concat(tables, ignore_index=True)
    ends = sorted(cells["period_end"].unique())
    cells = cells[cells["period_end"].isin(ends[-last:] if last else ends)]
    # Securities no table shows are in no cell's sum; only the others are unknowns.
    universe = sorted({s for key in zip(cells.grouping, cells.group) for s in sets.get(key, [])})
    column = {security: number for number, security in enumerate(universe)}
    rows = []
    for period_end, period in cells.groupby("period_end", sort=True):
        keys = list(zip(period.grouping, period.group))
        vectors = np.zeros((len(keys), len(universe)))
        for number, key in enumerate(keys):
            vectors[number, [column[s] for s in sets.get(key, [])]] = 1.0
        hidden = period["suppressed"].to_numpy(bool)
        if not hidden.any():
            continue
        exposed = _exposed(vectors[~hidden], vectors[hidden])
        rows += [(period_end, by, group, bool(flag))
                 for (by, group), flag in zip([k for k, h in zip(keys, hidden) if h], exposed)]
    return pd.DataFrame(rows, columns=["period_end", "grouping", "group", "exposed"])


def _exposed(published: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """For each row of `hidden`, True when it lies in the row space of `published`.

    A published cell of one security makes that security known: its column is taken out of
    every equation first, which leaves a small system (the securities of hidden cells)."""
    known = published[published.sum(axis=1) == 1].any(axis=0)
    published, hidden = published[:, ~known], hidden[:, ~known]
    published = published[published.any(axis=1)]
    residual = hidden
    if len(published):
        _, singular, basis = np.linalg.svd(published, full_matrices=False)
        basis = basis[singular > TOLERANCE * singular[0]]
        residual = hidden - (hidden @ basis.T) @ basis
    return np.linalg.norm(residual, axis=1) < TOLERANCE
