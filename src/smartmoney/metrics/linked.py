"""Disclosure control linked across tables: one suppression pattern for every security grouping.

The security groupings (book, asset type, TMT, sector ... ticker, basket) are all sums over the
same securities, and a reader may hold every table published. So their cells to hide are decided
once for all of them, per period (the pattern):

1. the rule's own cells (too few accounts, or one above p percent: `disclosure.Disclosure`);
2. until nothing changes: a cell hidden in one table is hidden in every table that has the same
   cell (the same securities: a one-ticker sub-industry and its ticker); every cell set with
   exactly one hidden cell gets a complement, its smallest published cell some account
   contributes to (each grouping's groups; a grouping's groups inside each group of a coarser
   one; the two sides of a basket that cuts across the nesting); and a hidden cell whose parts
   in a finer grouping are all published gets one of them hidden (they would add up to it);
3. while a cell of step 1 can still be worked out from the published cells together (its sum a
   linear combination of theirs), the smallest cell of that combination sharing securities with
   it is hidden too, and step 2 runs again.

The book's own cell is never a complement, so a table by book needs no pattern. Every grouping's
cells come from one query (`grouped`), kept by the engine; the pattern is computed from them in
numpy (a few hundred cells a period) and registered with the engine, and each grouping's table
joins its part (`publish`). `metrics.audit` checks the outcome from the published tables alone.
"""

from __future__ import annotations

import itertools
import weakref

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from smartmoney.metrics import groups
from smartmoney.metrics.disclosure import Disclosure
from smartmoney.metrics.inputs import EXCLUDED_ASSET_TYPES, Inputs

# The groupings whose cells are sums over securities, coarsest first.
LINKED = ("book", "asset_type", "tmt", "sector", "industry_group", "industry", "sub_industry", "ticker", "basket")
# A hidden cell whose sum lies this close to the span of the published ones is worked out (sums of
# 0/1 vectors: anything not in the span is far from it).
TOLERANCE = 1e-6
_names = itertools.count()


def decides(by: str) -> bool:
    """True when grouping `by`'s cells are hidden by the linked pattern. The book's one cell
    per period is hidden only by the rule itself (never as a complement, in any table), so it
    needs no pattern: it is published unless too few accounts hold the book or one dominates it."""
    return by in LINKED and by != "book"


def grouped(per_security: ibis.Table, inputs: Inputs, *, measures: list[str], size: str) -> ibis.Table:
    """Every linked grouping's cells in one table, computed in one query: grouping, group,
    period_end, the `measures` summed, accounts (contributors: `size` above zero) and top (the
    largest account's `size`), from `per_security` (period_end, account_id, security_id and the
    measures). Each grouping's table reads its part (`part`); the pattern reads them all."""
    tables = []
    for by in LINKED:
        cells = groups.cells(per_security, by, inputs.securities, inputs.accounts, measures=measures, size=size)
        tables.append(cells.select(grouping=ibis.literal(by), group=cells[by].cast("string"), period_end="period_end",
                                   **{name: name for name in measures}, accounts="accounts", top="top"))
    return ibis.union(*tables)


def part(cells: ibis.Table, by: str) -> ibis.Table:
    """Grouping `by`'s rows of `grouped` cells, with the group under the column `by`."""
    mine = cells.filter(cells.grouping == by)
    return mine.select("period_end", mine.group.name(by), *[c for c in mine.columns
                                                              if c not in ("grouping", "group", "period_end")])


def pattern(inputs: Inputs, key: tuple, cells: ibis.Table, size: str, rule: Disclosure) -> ibis.Table:
    """The linked pattern as an engine table (period_end, grouping, group, suppressed), computed
    once per `key` from every grouping's `cells` (see `grouped`; `size` is what the rule reads)."""
    def build():
        frame = cells.select("grouping", "group", "period_end", "accounts", "top", size=cells[size]).to_pandas()
        frame = hide(frame, members(inputs), rule)
        days = pd.to_datetime(frame["period_end"]).dt.date
        table = pa.table({"period_end": pa.array(days, pa.date32()),
                          "grouping": pa.array(frame["grouping"], pa.string()),
                          "group": pa.array(frame["group"], pa.string()),
                          "suppressed": pa.array(frame["suppressed"], pa.bool_())})
        return register(inputs.backend, f"_smartmoney_pattern_{next(_names)}", table)
    return inputs.kept(key, build)


def publish(cells: ibis.Table, by: str, *, values: list[str], flags: ibis.Table) -> ibis.Table:
    """`cells` with the pattern's suppressed flag for grouping `by`, values and accounts blanked
    where it is set (a cell missing from the pattern is hidden: none is, the pattern holds every
    grouping's every cell)."""
    mine = flags.filter(flags.grouping == by).select("period_end", "suppressed", _group=flags.group)
    marked = cells.left_join(mine, [cells.period_end == mine.period_end, cells[by].cast("string") == mine._group])
    marked = marked.drop(*[c for c in marked.columns if c.endswith("_right")], "_group")
    suppressed = marked.suppressed.fill_null(True)
    blanked = {name: ibis.ifelse(suppressed, ibis.null(marked[name].type()), marked[name])
               for name in [*values, "accounts"]}
    return marked.mutate(suppressed=suppressed, **blanked).drop("top")


def members(inputs: Inputs) -> dict[tuple[str, str], frozenset[str]]:
    """(grouping, group) -> the security_ids its cell sums over, labelled by the metrics' own code."""
    return inputs.kept("linked members", lambda: _members(inputs))


def _members(inputs: Inputs) -> dict[tuple[str, str], frozenset[str]]:
    securities = inputs.securities.filter(~inputs.securities.asset_type.isin(EXCLUDED_ASSET_TYPES))
    found = {}
    for by in LINKED:
        labelled = groups.with_group(securities.select("security_id"), by, securities, inputs.accounts).to_pandas()
        for group, ids in labelled.groupby(by)["security_id"]:
            found[(by, str(group))] = frozenset(ids)
    return found


def hide(frame: pd.DataFrame, sets: dict[tuple[str, str], frozenset[str]], rule: Disclosure) -> pd.DataFrame:
    """Which cells to hide. `frame` has grouping, group, period_end, accounts, top and size (the
    measure the rule reads); returns every cell of every period (a group without a row in a
    period is empty, known to be zero) with period_end, grouping, group and suppressed."""
    keys = sorted(set(zip(frame["grouping"], frame["group"])))
    structure = _Structure(keys, sets)
    index = pd.MultiIndex.from_tuples(keys, names=["grouping", "group"])
    found = []
    for period_end, period in frame.groupby("period_end", sort=True):
        period = period.set_index(["grouping", "group"])[["accounts", "top", "size"]].reindex(index, fill_value=0)
        found.append(pd.DataFrame({"period_end": period_end, "grouping": index.get_level_values(0),
                                   "group": index.get_level_values(1),
                                   "suppressed": _hide_period(period, structure, rule)}))
    columns = ["period_end", "grouping", "group", "suppressed"]
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=columns)


def exposed(keys: list[tuple[str, str]], hidden: np.ndarray, sets: dict[tuple[str, str], frozenset[str]]) -> np.ndarray:
    """Per cell (`keys`, one period): hidden, and worked out from the published cells together."""
    return _exposed(_vectors(keys, sets), np.asarray(hidden, dtype=bool))


def cell_sets(keys: list[tuple[str, str]], sets: dict[tuple[str, str], frozenset[str]]
              ) -> tuple[list[np.ndarray], np.ndarray]:
    """The cell sets (arrays of indices into `keys`) that may hold no lone hidden cell, and for
    each the index of the cell that is their sum (-1 for none): each grouping's groups (the
    book; baskets overlap, so not theirs), each grouping's groups inside each group of a coarser
    one (that group), and the two sides of each basket that cuts across the nesting (the basket;
    the rest of the book is no cell)."""
    position = {key: number for number, key in enumerate(keys)}
    by_grouping: dict[str, list[tuple[str, str]]] = {}
    for key in keys:
        by_grouping.setdefault(key[0], []).append(key)
    book = position.get(("book", "all"), -1)
    found = [(np.array([position[k] for k in cells]), book) for name, cells in by_grouping.items()
             if name not in ("basket", "book")]
    baskets = by_grouping.get("basket", [])
    for name, cells in by_grouping.items():
        coarser = groups.NESTED_IN.get(name, ())
        for parent in coarser:
            home_of = {security: p for p in by_grouping.get(parent, []) for security in sets[p]}
            inside: dict[tuple[str, str], list[int]] = {}
            for key in cells:
                home = home_of.get(next(iter(sets[key]), None))
                if home is not None and sets[key] <= sets[home]:
                    inside.setdefault(home, []).append(position[key])
            found += [(np.array(part), position[home]) for home, part in inside.items() if len(part) > 1]
        if name not in groups.NESTED_IN:
            continue
        for basket in baskets:
            members = sets[basket]
            parts = [sets[k] <= members for k in cells]
            split = any(sets[k] & members and not sets[k] <= members for k in cells)
            whole_parents = any(all(sets[p] <= members or not sets[p] & members for p in by_grouping.get(parent, []))
                                for parent in coarser)
            if split or sum(parts) < 2 or all(parts) or whole_parents:
                continue
            found.append((np.array([position[k] for k, inside in zip(cells, parts) if inside]), position[basket]))
            found.append((np.array([position[k] for k, inside in zip(cells, parts) if not inside]), -1))
    found = [(part, parent) for part, parent in found if len(part) > 1]
    return [part for part, _ in found], np.array([parent for _, parent in found], dtype=int)


class _Structure:
    """What the cells of a period are, whatever their values: each cell's securities (a 0/1
    matrix), the cells that are the same sum, and the cell sets with the cell each one sums to."""

    def __init__(self, keys: list[tuple[str, str]], sets: dict[tuple[str, str], frozenset[str]]):
        self.vectors = _vectors(keys, sets)
        same: dict[frozenset, list[int]] = {}
        for number, key in enumerate(keys):
            same.setdefault(sets.get(key, frozenset({key})), []).append(number)
        self.alike = np.zeros((0, len(keys)))
        alike = [part for part in same.values() if len(part) > 1]
        if alike:
            self.alike = np.zeros((len(alike), len(keys)))
            for number, part in enumerate(alike):
                self.alike[number, part] = 1.0
        self.book = np.array([grouping == "book" for grouping, _ in keys])
        self.cell_sets, self.parents = cell_sets(keys, sets)
        self.incidence = np.zeros((len(self.cell_sets), len(keys)))
        for number, part in enumerate(self.cell_sets):
            self.incidence[number, part] = 1.0


def _vectors(keys: list[tuple[str, str]], sets: dict[tuple[str, str], frozenset[str]]) -> np.ndarray:
    """Each cell's securities, one 0/1 row per key over the securities of them all."""
    universe = sorted(set().union(*(sets.get(k, frozenset()) for k in keys)))
    column = {security: number for number, security in enumerate(universe)}
    vectors = np.zeros((len(keys), len(universe)))
    for number, key in enumerate(keys):
        vectors[number, [column[s] for s in sets.get(key, ())]] = 1.0
    return vectors


def _hide_period(period: pd.DataFrame, structure: _Structure, rule: Disclosure) -> np.ndarray:
    accounts = period["accounts"].to_numpy()
    magnitude = period["size"].abs().to_numpy(float)
    primary = rule.sensitive(accounts, period["top"].to_numpy(float), magnitude)
    if not primary.any():
        return primary
    candidate = (accounts > 0) & ~structure.book
    hidden = primary.copy()
    while True:
        _complete(hidden, candidate, magnitude, structure)
        exposed = np.flatnonzero(primary & _exposed(structure.vectors, hidden))
        if not len(exposed):
            return hidden
        cell = exposed[0]
        support = _support(structure.vectors, hidden, cell) & candidate & ~hidden
        if not support.any():   # worked out from cells known to be empty: nothing left to hide
            return hidden
        # The smallest cell of the combination that shares securities with the exposed one.
        near = support & (structure.vectors @ structure.vectors[cell] > 0)
        choice = near if near.any() else support
        hidden[np.flatnonzero(choice)[np.argmin(magnitude[choice])]] = True


def _complete(hidden: np.ndarray, candidate: np.ndarray, magnitude: np.ndarray, structure: _Structure) -> None:
    """Step 2, in place: the same cell hidden everywhere; no cell set with one hidden cell; and
    no hidden cell whose parts in a finer grouping are all published (they would sum to it)."""
    parents, has_parent = structure.parents, structure.parents >= 0
    while True:
        if len(structure.alike):
            hidden |= structure.alike.T @ (structure.alike @ hidden > 0) > 0
        counts = structure.incidence @ hidden
        bare = np.zeros_like(has_parent)
        bare[has_parent] = hidden[parents[has_parent]]
        wanting = ((counts == 1) | ((counts == 0) & bare)) & (structure.incidence @ (candidate & ~hidden) > 0)
        if not wanting.any():
            return
        for number in np.flatnonzero(wanting):
            part = structure.cell_sets[number]
            count = hidden[part].sum()   # again: an earlier set of this pass may have changed it
            if count == 1 or (count == 0 and bare[number]):
                open_ = part[candidate[part] & ~hidden[part]]
                if len(open_):
                    hidden[open_[magnitude[open_] == magnitude[open_].min()]] = True


def _reduced(vectors: np.ndarray, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The published cells' equations without the securities a one-security published cell
    gives away (their columns dropped), and which published rows remain."""
    published = vectors[~hidden]
    known = published[published.sum(axis=1) == 1].any(axis=0)
    return known, published[:, ~known].any(axis=1)


def _exposed(vectors: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Per cell: hidden, and its sum a linear combination of the published cells' sums."""
    known, rows = _reduced(vectors, hidden)
    published = vectors[~hidden][rows][:, ~known]
    wanted = vectors[hidden][:, ~known]
    residual = wanted
    if len(published):
        _, singular, basis = np.linalg.svd(published, full_matrices=False)
        basis = basis[singular > TOLERANCE * singular[0]]
        residual = wanted - (wanted @ basis.T) @ basis
    found = np.zeros(len(hidden), dtype=bool)
    found[np.flatnonzero(hidden)] = np.linalg.norm(residual, axis=1) < TOLERANCE
    return found


def _support(vectors: np.ndarray, hidden: np.ndarray, cell: int) -> np.ndarray:
    """Per cell: published, and part of a combination that gives `cell` away."""
    known, rows = _reduced(vectors, hidden)
    published = np.flatnonzero(~hidden)
    weights, *_ = np.linalg.lstsq(vectors[published][rows][:, ~known].T, vectors[cell, ~known], rcond=None)
    found = np.zeros(len(hidden), dtype=bool)
    found[published[rows][np.abs(weights) > TOLERANCE]] = True
    # The one-security cells that took their columns out are part of it too.
    singles = published[vectors[published].sum(axis=1) == 1]
    found[singles[(vectors[singles] * vectors[cell]).any(axis=1)]] = True
    return found


def register(backend, name: str, table: pa.Table) -> ibis.Table:
    """`table` as a temporary table of `backend` (DuckDB or Spark), returned as an Ibis table;
    the engine lets it go when that table is no longer referenced (`Book.release`)."""
    if backend.name == "duckdb":
        backend.con.register(name, table)
        forget = backend.con.unregister
    else:
        session = backend._session
        session.createDataFrame(table.to_pandas()).createOrReplaceTempView(name)
        forget = session.catalog.dropTempView
    found = backend.table(name)
    weakref.finalize(found, _quietly, forget, name)
    return found


def _quietly(forget, name: str) -> None:
    try:
        forget(name)
    except Exception:   # the connection went first: nothing is left to let go
        pass


__all__ = ["LINKED", "cell_sets", "decides", "exposed", "grouped", "hide", "members", "part", "pattern", "publish"]
