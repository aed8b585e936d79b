"""Disclosure audit: can a suppressed cell be worked out from everything published?

It reads the published tables of every security grouping as a reader would (their suppressed
flags and groups, never a value): per period, every published cell is an equation over the
securities (the sum of its members), and a hidden cell is *exposed* when its own sum is a linear
combination of those equations, so its value follows from published values alone, whatever
they are. Linked suppression (`metrics.linked`) hides cells until no cell the rule hides is
exposed; the audit checks the result independently, from the outputs, and is what a desk can run
before it sends anything out. A complement may be exposed: it was hidden only to protect others.
Account groupings (strategy, region) sum over accounts, not securities, and are left out.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from smartmoney.metrics import linked

FAMILIES = ("exposure", "flows")


def audit(book, family: str = "flows", *, freq: str = "W", as_of: str | dt.date | None = None,
          last: int = 12) -> pd.DataFrame:
    """Every suppressed cell of the last `last` periods (0 = all) in the tables of every linked
    grouping: whether the rule hides it itself (`sensitive`; else it is a complement) and whether
    the published cells together expose it.

    Returns columns period_end, grouping, group, sensitive, exposed; no value of any cell.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    if last < 0:
        raise ValueError(f"last must be 0 (all periods) or more, not {last}")
    from smartmoney.metrics.exposure import exposure_cells
    from smartmoney.metrics.flows import flow_cells

    inputs, rule = book.inputs(as_of), book.disclosure
    sets = linked.members(inputs)
    tables = []
    for by in linked.LINKED:
        if family == "flows":
            table = book.flows(by=by, freq=freq, as_of=as_of, pct_gross=False, ranks=False)
            cells, size = flow_cells(inputs, by=by, freq=freq, use_trades=book.uses_trades), "gross_traded"
        else:
            table = book.exposure(by=by, freq=freq, as_of=as_of)
            cells, size = exposure_cells(inputs, by=by, freq=freq), "gross"
        frame = table.select("period_end", by, "suppressed").to_pandas()
        # Which cells the rule hides itself (the sensitive ones), from the cells before control.
        found = cells.select("period_end", by, "accounts", "top", size=cells[size]).to_pandas()
        found["sensitive"] = rule.sensitive(found.accounts, found.top, found["size"].abs())
        frame = frame.merge(found[["period_end", by, "sensitive"]], on=["period_end", by], how="left")
        tables.append(frame.rename(columns={by: "group"}).assign(grouping=by, group=lambda f: f.group.astype(str)))
    cells = pd.concat(tables, ignore_index=True)
    ends = sorted(cells["period_end"].unique())
    cells = cells[cells["period_end"].isin(ends[-last:] if last else ends)]
    rows = []
    for period_end, period in cells.groupby("period_end", sort=True):
        hidden = period["suppressed"].to_numpy(bool)
        if not hidden.any():
            continue
        keys = list(zip(period["grouping"], period["group"]))
        found = linked.exposed(keys, hidden, sets)
        sensitive = period["sensitive"].fillna(False).to_numpy(bool)
        rows += [(period_end, by, group, bool(sensitive[n]), bool(found[n]))
                 for n, (by, group) in enumerate(keys) if hidden[n]]
    return pd.DataFrame(rows, columns=["period_end", "grouping", "group", "sensitive", "exposed"])
