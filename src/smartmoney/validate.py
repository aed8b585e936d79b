"""Row validation: raw text rows of a canonical table -> typed rows plus rejected rows.

Every check is vectorized over the whole batch. A row that fails any check is rejected with
every reason that applies; it is never coerced or silently dropped. Checks: required fields,
types, signs, enum values, NYSE trading days, known security and account ids, GICS names,
cross-field rules, and duplicate keys inside the batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from smartmoney.schema import Table
from smartmoney.taxonomy import GICS_LEVELS, gics_hierarchy
from smartmoney.taxonomy.calendar import trading_day_index

REJECT_COLUMNS = ["file", "row", "table", "reason", "record"]
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_SIDE_SIGN = {"long_buy": 1, "short_cover": 1, "long_sell": -1, "short_sale": -1}


@dataclass
class Batch:
    """Raw rows of one canonical table read from one input.

    `raw` holds the input's values as text (None for empty cells), one column per input
    column; `rows` gives each row's 1-based data row number in the input.
    """

    table: Table
    file: str
    raw: pd.DataFrame
    rows: np.ndarray
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))


@dataclass
class Validated:
    """The typed rows that passed and the rows that did not, with their reasons."""

    accepted: pd.DataFrame
    rejects: pd.DataFrame


class _Reasons:
    """Collects per-row failure reasons without looping over rows that pass."""

    def __init__(self, index: pd.Index):
        self._index = index
        self._parts: list[pd.Series] = []

    def add(self, failed: pd.Series, message: str | pd.Series) -> None:
        failed = failed.fillna(False).astype(bool)
        if not failed.any():
            return
        if isinstance(message, str):
            text = pd.Series(message, index=self._index[failed.to_numpy()])
        else:
            text = message[failed].astype(str)
        self._parts.append(text)

    def combined(self) -> pd.Series:
        if not self._parts:
            return pd.Series(dtype=object)
        stacked = pd.concat(self._parts)
        return stacked.groupby(level=0, sort=True).agg("; ".join)


def _quoted(values: pd.Series) -> pd.Series:
    return "'" + values.astype(str).str.slice(0, 60) + "'"


def _parse_column(reasons: _Reasons, table: Table, name: str, text: pd.Series,
                  known: dict[str, set[str]]) -> pd.Series:
    column = table.column(name)
    present = text.notna()
    if column.kind == "date":
        if pd.api.types.is_datetime64_any_dtype(text):
            parsed = text.astype("datetime64[ns]")
            reasons.add(present & (parsed != parsed.dt.normalize()),
                        f"{name}: " + _quoted(text) + " has a time of day; a date is expected")
        else:
            well_formed = text.str.match(_ISO_DATE, na=False)
            parsed = pd.to_datetime(text.where(well_formed), format="%Y-%m-%d", errors="coerce")
            reasons.add(present & parsed.isna(),
                        f"{name}: " + _quoted(text) + " is not a date (YYYY-MM-DD)")
        if name == "date":
            off_calendar = parsed.notna() & ~parsed.isin(trading_day_index())
            reasons.add(off_calendar, f"{name}: " + parsed.dt.strftime("%Y-%m-%d (%A)")
                        + " is not an NYSE trading day")
        return parsed
    if column.kind == "float":
        if pd.api.types.is_numeric_dtype(text):
            parsed = text.astype("float64")
        else:
            parsed = pd.to_numeric(text, errors="coerce").astype("float64")
        finite = np.isfinite(parsed)
        reasons.add(present & ~finite, f"{name}: " + _quoted(text) + " is not a finite number")
        checks = {
            "positive": (parsed <= 0, "must be > 0"),
            "non_negative": (parsed < 0, "must be >= 0"),
            "non_zero": (parsed == 0, "must not be 0"),
        }
        if column.sign in checks:
            failed, rule = checks[column.sign]
            reasons.add(finite & failed, f"{name}: " + _quoted(text) + f" {rule}")
        return parsed.where(finite)
    if column.kind == "enum":
        allowed = pd.Series(text.isin(column.values), index=text.index)
        reasons.add(present & ~allowed, f"{name}: " + _quoted(text)
                    + f" is not one of {', '.join(column.values)}")
        return text
    referenced = table.references.get(name)
    if referenced is not None:
        unknown = present & ~text.isin(known.get(referenced, set()))
        reasons.add(unknown, f"{name}: unknown " + _quoted(text)
                    + f" (not in the {referenced} table)")
    return text


def _check_gics(reasons: _Reasons, typed: pd.DataFrame) -> pd.DataFrame:
    """GICS names must exist; missing parent levels are filled from the lowest level given."""
    hierarchy = gics_hierarchy()
    for level in GICS_LEVELS:
        unknown = typed[level].notna() & ~typed[level].isin(hierarchy[level])
        reasons.add(unknown, f"{level}: " + _quoted(typed[level]) + " is not a GICS 2023 name")
    for depth in range(len(GICS_LEVELS) - 1, 0, -1):
        level = GICS_LEVELS[depth]
        parents = hierarchy.drop_duplicates(level).set_index(level)
        given = typed[level].notna() & typed[level].isin(hierarchy[level])
        for parent in GICS_LEVELS[:depth]:
            expected = typed[level].map(parents[parent])
            clash = given & typed[parent].notna() & (typed[parent] != expected)
            reasons.add(clash, f"{parent}: " + _quoted(typed[parent]) + f" does not contain "
                        f"{level} " + _quoted(typed[level]) + " (GICS says " + _quoted(expected) + ")")
            typed[parent] = typed[parent].where(typed[parent].notna() | ~given, expected)
    return typed


def _check_duplicates(reasons: _Reasons, table: Table, typed: pd.DataFrame,
                      rows: pd.Series) -> None:
    key = list(table.key)
    keyed = typed[key].notna().all(axis=1)
    duplicated = keyed & typed.duplicated(key, keep=False)
    if not duplicated.any():
        return
    groups = typed[duplicated].groupby(key, sort=False, dropna=False).groups
    message = pd.Series(index=typed.index, dtype=object)
    for members in groups.values():
        numbers = rows.loc[members].tolist()
        for member, number in zip(members, numbers):
            others = ", ".join(str(n) for n in numbers if n != number)
            message[member] = f"duplicate key ({', '.join(key)}) also on row {others}"
    reasons.add(duplicated, message)


def validate(batch: Batch, known: dict[str, set[str]]) -> Validated:
    """Type and check every row of `batch`.

    Parameters
    ----------
    batch
        Raw rows of one table, as read by a source.
    known
        The ids each referenced table holds, e.g. {"securities": {"AAPL", ...}}.

    Returns
    -------
    Validated
        `accepted` has exactly the table's columns and types (dates as datetime64);
        `rejects` has file, row, table, reason and the raw record, one row per rejected row,
        including the rows the source could not split into fields.
    """
    table, raw = batch.table, batch.raw.reset_index(drop=True)
    rows = pd.Series(batch.rows, index=raw.index)
    reasons = _Reasons(raw.index)
    typed = pd.DataFrame(index=raw.index)
    for column in table.columns:
        if column.name in raw.columns:
            text = raw[column.name]
            if text.dtype == object:
                text = text.where(text.notna(), None).str.strip()
                text = text.where(text.notna() & (text != ""), None)
        elif column.default_from is not None or not column.required:
            text = pd.Series(None, index=raw.index, dtype=object)
        else:
            raise AssertionError(f"source passed {table.name} rows without {column.name}")
        missing = text.isna() & column.required
        reasons.add(missing, f"{column.name} is empty")
        typed[column.name] = _parse_column(reasons, table, column.name, text, known)
    for column in table.columns:
        if column.default_from is not None:
            typed[column.name] = typed[column.name].fillna(typed[column.default_from])
    if "available_from" in typed and "date" in typed:
        early = typed["available_from"] < typed["date"]
        reasons.add(early, "available_from is before date (a row cannot be known before it exists)")
    if "side" in typed and "quantity" in typed:
        expected_sign = typed["side"].map(_SIDE_SIGN)
        wrong = expected_sign.notna() & (np.sign(typed["quantity"]) == -expected_sign)
        reasons.add(wrong, "quantity sign does not match side " + _quoted(typed["side"])
                    + " (buys and covers are > 0, sells and short sales < 0)")
    if "trade_id" in typed:
        typed["trade_id"] = typed["trade_id"].fillna(_derived_trade_ids(raw, typed))
    if table.name == "securities":
        typed = _check_gics(reasons, typed)
    _check_duplicates(reasons, table, typed, rows)

    failed = reasons.combined()
    bad = typed.index.isin(failed.index)
    rejects = pd.DataFrame({
        "file": batch.file,
        "row": rows[bad].to_numpy(),
        "table": table.name,
        "reason": failed.reindex(typed.index[bad]).to_numpy(),
        "record": _records(raw[bad]),
    })
    accepted = typed[~bad].reset_index(drop=True)
    for column in table.columns:
        if column.kind in ("string", "enum"):
            accepted[column.name] = accepted[column.name].astype(object)
    all_rejects = pd.concat([batch.rejects, rejects], ignore_index=True) if len(batch.rejects) else rejects
    all_rejects = all_rejects.astype({"row": "int64"}).sort_values("row", ignore_index=True)
    return Validated(accepted=accepted, rejects=all_rejects)


def _derived_trade_ids(raw: pd.DataFrame, typed: pd.DataFrame) -> pd.Series:
    """A trade id from the row's content and its occurrence among identical rows.

    Re-ingesting the same file yields the same ids, so the ingest stays idempotent.
    """
    content = ["date", "account_id", "security_id", "quantity", "price", "side"]
    frame = typed[content].astype(str)
    hashed = pd.util.hash_pandas_object(frame, index=False).astype("uint64")
    occurrence = frame.groupby(content, sort=False).cumcount()
    return hashed.map("{:016x}".format) + "-" + occurrence.astype(str)


def _records(raw: pd.DataFrame) -> list[str]:
    """Each raw row as `column=value` text, as it came in (kept with its reject)."""
    columns = list(raw.columns)
    return ["|".join(f"{name}={'' if value is None else value}" for name, value in zip(columns, values))
            for values in raw.itertuples(index=False, name=None)]
