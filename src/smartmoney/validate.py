"""Row validation: raw text rows of a canonical table -> typed rows plus rejected rows.

Every check is vectorized over the whole batch. A row that fails any check is rejected with
every reason that applies; it is never coerced or silently dropped. Checks: required fields,
types, signs, enum values, NYSE trading days, known security and account ids, GICS names,
cross-field rules, and duplicate keys inside the batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa

from smartmoney.schema import Table
from smartmoney.taxonomy import GICS_LEVELS, gics_hierarchy
from smartmoney.taxonomy.calendar import trading_day_index

REJECT_COLUMNS = ["file", "row", "table", "reason", "record"]
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$"
_ARROW_STRING = pd.ArrowDtype(pa.string())
_SIDE_SIGN = {"long_buy": 1, "short_cover": 1, "long_sell": -1, "short_sale": -1}
_BLANK = r"[ \t\n\r\f\v]*"  # ASCII blanks only
_PLAIN_NUMBER = _BLANK + r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?" + _BLANK


@dataclass
class Batch:
    """Raw rows of one canonical table read from one input.

    `raw` holds the input's values as text (None for empty cells), one column per input
    column; `rows` gives each row's 1-based data row number in the input. A raw row that sums
    several input rows lists the others in `merged_rows` (a tuple of row numbers per raw row;
    None when each raw row is one input row): they are accepted or rejected with it, so
    read = accepted + rejected still counts input rows. `notes` are what the source wants the
    user to know about the input as a whole (checks against totals the file states, ...).
    """

    table: Table
    file: str
    raw: pd.DataFrame
    rows: np.ndarray
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))
    ignored_columns: list[str] = field(default_factory=list)
    by_ticker: bool = False  # security_id holds tickers, to match against securities.ticker
    by_cusip: bool = False  # security_id holds CUSIPs, to match against securities.cusip
    merged_rows: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    # positions: the (account_id, ISO date) whose holdings the batch states in full (a 13F
    # original or restatement): stored positions of them the batch leaves out are closed.
    complete: frozenset[tuple[str, str]] = frozenset()

    @property
    def input_rows(self) -> int:
        """Input rows behind this batch: raw rows, the rows merged into them, and rejects."""
        merged = 0 if self.merged_rows is None else sum(len(more) for more in self.merged_rows)
        return len(self.raw) + merged + len(self.rejects)


def set_aside(batch: Batch, mask: np.ndarray, reasons: pd.Series) -> Batch:
    """`batch` without the raw rows in `mask`, which join its rejects with their `reasons`
    (one reject per input row, merged rows included)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return batch
    raw = batch.raw.reset_index(drop=True)
    moved = pd.DataFrame({"file": batch.file, "row": np.asarray(batch.rows)[mask], "table": batch.table.name,
                          "reason": np.asarray(reasons, dtype=object)[mask], "record": _records(raw[mask])})
    if batch.merged_rows is not None:
        moved = _with_merged_rows(moved, batch.merged_rows[mask])
    rejects = pd.concat([batch.rejects, moved], ignore_index=True) if len(batch.rejects) else moved
    merged = None if batch.merged_rows is None else batch.merged_rows[~mask]
    return replace(batch, raw=raw[~mask].reset_index(drop=True), rows=np.asarray(batch.rows)[~mask],
                   rejects=rejects, merged_rows=merged)


def _with_merged_rows(rejects: pd.DataFrame, merged: np.ndarray) -> pd.DataFrame:
    """One reject per input row: each rejected raw row repeated for the rows merged into it."""
    extra = [(index, number) for index, more in enumerate(merged) for number in more]
    if not extra:
        return rejects
    positions, numbers = zip(*extra)
    copies = rejects.iloc[list(positions)].assign(row=list(numbers))
    return pd.concat([rejects, copies], ignore_index=True)


@dataclass
class Validated:
    """The typed rows that passed and the rows that did not, with their reasons."""

    accepted: pd.DataFrame
    rejects: pd.DataFrame
    accepted_rows: int  # input rows behind `accepted` (more than its length when rows were merged)


class _Reasons:
    """Collects per-row failure reasons; messages are formatted for failing rows only."""

    def __init__(self, index: pd.Index):
        self._index = index
        self._parts: list[pd.Series] = []

    def add(self, failed: pd.Series, template: str, *values: pd.Series) -> None:
        """Record `template` for each failed row, formatted with that row's `values`."""
        mask = np.asarray(failed.fillna(False) if isinstance(failed, pd.Series) else failed, dtype=bool)
        if not mask.any():
            return
        rows = [v.to_numpy(dtype=object)[mask] for v in values]
        texts = [template.format(*(_short(item) for item in items)) for items in zip(*rows)] \
            if rows else [template] * int(mask.sum())
        self._parts.append(pd.Series(texts, index=self._index[mask], dtype=object))

    def combined(self) -> pd.Series:
        if not self._parts:
            return pd.Series(dtype=object)
        stacked = pd.concat(self._parts)
        return stacked.groupby(level=0, sort=True).agg("; ".join)


def _short(value):
    return value[:60] if isinstance(value, str) else value


def _text(values: pd.Series) -> pd.Series:
    """Input text as Arrow strings, trimmed, with empty cells as nulls."""
    if not isinstance(values.dtype, pd.ArrowDtype):
        values = pd.Series(pa.array(values.astype(object).where(values.notna(), None), type=pa.string(),
                                    from_pandas=True), index=values.index, dtype=_ARROW_STRING)
    trimmed = values.str.strip()
    return trimmed.where(trimmed != "", None)


def numbers_from_text(values: pd.Series) -> pd.Series:
    """Plain decimal text as float64; NaN where a value is not one or is beyond the float range.

    Plain decimal text is ASCII digits with an optional sign, point and exponent, blanks around
    it allowed ('12', ' -1.5 ', '.5', '2E+06'). Anything else is NaN: None, '', 'nan', 'inf',
    '1,000', '0x10', full-width digits. `values` holds text (object or Arrow strings).

    Not pd.to_numeric: in pandas 2.3.3 it crashes the interpreter (a segmentation fault) on an
    exponent from 2**31 to 2**32 - 1, e.g. '1e2147483648' (text after it too), and misreads
    larger ones ('1e4294967295' as 0.1). A fuzzed LEAN tick file found it. A regular expression
    picks the plain numbers and Python's float reads them (correctly rounded).
    """
    text = values if isinstance(values.dtype, pd.ArrowDtype) else values.astype(str)
    plain = text.str.fullmatch(_PLAIN_NUMBER).fillna(False).to_numpy(dtype=bool)
    read = np.where(plain, text.to_numpy(dtype=object), "nan").astype(float)
    read[~np.isfinite(read)] = np.nan
    return pd.Series(read, index=values.index)


def _parse_column(reasons: _Reasons, table: Table, name: str, text: pd.Series,
                  known: dict[str, set[str]]) -> pd.Series:
    column = table.column(name)
    present = text.notna()
    if column.kind == "date":
        if pd.api.types.is_datetime64_any_dtype(text):
            parsed = text.astype("datetime64[ns]")
            reasons.add(present & (parsed != parsed.dt.normalize()),
                        name + ": '{}' has a time of day; a date is expected", text)
        else:
            well_formed = text.str.match(_ISO_DATE).fillna(False).astype(bool)
            parsed = pd.to_datetime(text.where(well_formed).astype(object), format="%Y-%m-%d",
                                    errors="coerce")
            reasons.add(text.notna() & parsed.isna(), name + ": '{}' is not a date (YYYY-MM-DD)", text)
        if name == "date":
            off_calendar = parsed.notna() & ~parsed.isin(trading_day_index())
            reasons.add(off_calendar, name + ": {:%Y-%m-%d (%A)} is not an NYSE trading day", parsed)
        return parsed
    if column.kind == "timestamp":
        if pd.api.types.is_datetime64_any_dtype(text):
            return text.astype("datetime64[us]")
        well_formed = text.str.match(_ISO_TIMESTAMP).fillna(False).astype(bool)
        parsed = pd.to_datetime(text.where(well_formed).astype(object), format="ISO8601",
                                errors="coerce").astype("datetime64[us]")
        reasons.add(text.notna() & parsed.isna(),
                    name + ": '{}' is not a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff])", text)
        return parsed
    if column.kind == "integer":
        if pd.api.types.is_integer_dtype(text):
            parsed = text.astype("Int64")
        else:
            number = text.astype("float64") if pd.api.types.is_numeric_dtype(text) else numbers_from_text(text)
            whole = number.notna() & (number == np.floor(number)) & (number.abs() < 2**53)
            reasons.add(text.notna() & ~whole, name + ": '{}' is not a whole number", text)
            parsed = number.where(whole).astype("Int64")
        if column.sign == "non_negative":
            reasons.add(parsed.notna() & (parsed < 0), name + ": '{}' must be >= 0", text)
        return parsed
    if column.kind == "float":
        if pd.api.types.is_numeric_dtype(text):
            parsed = text.astype("float64")
        else:
            parsed = numbers_from_text(text)
        finite = pd.Series(np.isfinite(parsed.to_numpy()), index=text.index)
        reasons.add(text.notna() & ~finite, name + ": '{}' is not a finite number", text)
        checks = {
            "positive": (parsed <= 0, "must be > 0"),
            "non_negative": (parsed < 0, "must be >= 0"),
            "non_zero": (parsed == 0, "must not be 0"),
        }
        if column.sign in checks:
            failed, rule = checks[column.sign]
            reasons.add(finite & failed, name + ": '{}' " + rule, text)
        return parsed.where(finite)
    if column.kind == "enum":
        allowed = text.isin(column.values).fillna(False).astype(bool)
        reasons.add(text.notna() & ~allowed,
                    name + ": '{}' is not one of " + ", ".join(column.values), text)
        return text
    referenced = table.references.get(name)
    if referenced is not None:
        unknown = text.notna() & ~text.isin(known.get(referenced, set())).fillna(False).astype(bool)
        reasons.add(unknown, name + ": unknown '{}' (not in the " + referenced + " table)", text)
    return text


def _check_gics(reasons: _Reasons, typed: pd.DataFrame) -> pd.DataFrame:
    """GICS names must exist; missing parent levels are filled from the lowest level given."""
    hierarchy = gics_hierarchy()
    for level in GICS_LEVELS:
        typed[level] = typed[level].astype(object)
        unknown = typed[level].notna() & ~typed[level].isin(hierarchy[level])
        reasons.add(unknown, level + ": '{}' is not a GICS 2023 name", typed[level])
    for depth in range(len(GICS_LEVELS) - 1, 0, -1):
        level = GICS_LEVELS[depth]
        parents = hierarchy.drop_duplicates(level).set_index(level)
        given = typed[level].notna() & typed[level].isin(hierarchy[level])
        for parent in GICS_LEVELS[:depth]:
            expected = typed[level].map(parents[parent])
            clash = given & typed[parent].notna() & (typed[parent] != expected)
            reasons.add(clash, parent + ": '{}' does not contain " + level + " '{}' (GICS says '{}')",
                        typed[parent], typed[level], expected)
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
    others = pd.Series(index=typed.index, dtype=object)
    for members in groups.values():
        numbers = rows.loc[members].tolist()
        for member, number in zip(members, numbers):
            others[member] = ", ".join(str(n) for n in numbers if n != number)
    reasons.add(duplicated, f"duplicate key ({', '.join(key)}) also on row " + "{}", others)


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
            if not (pd.api.types.is_numeric_dtype(text) or pd.api.types.is_datetime64_any_dtype(text)):
                text = _text(text)
        elif column.default_from is not None or not column.required:
            text = pd.Series(None, index=raw.index, dtype=_ARROW_STRING)
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
    if "ts" in typed and "date" in typed:
        elsewhere = typed["ts"].notna() & (typed["ts"].dt.normalize() != typed["date"])
        reasons.add(elsewhere, "ts {} is not on date {:%Y-%m-%d}", typed["ts"], typed["date"])
    if "bid" in typed and "ask" in typed:
        reasons.add(typed["ask"] < typed["bid"], "ask {} is below bid {} (a crossed quote)",
                    typed["ask"], typed["bid"])
    if "side" in typed and "quantity" in typed:
        expected_sign = typed["side"].map(_SIDE_SIGN)
        wrong = expected_sign.notna() & (np.sign(typed["quantity"]) == -expected_sign)
        reasons.add(wrong, "quantity sign does not match side '{}' (buys and covers are > 0, "
                    "sells and short sales < 0)", typed["side"])
    if "trade_id" in typed:
        typed["trade_id"] = typed["trade_id"].fillna(_derived_trade_ids(typed))
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
    accepted_rows = int((~bad).sum())
    if batch.merged_rows is not None:
        rejects = _with_merged_rows(rejects, batch.merged_rows[bad])
        accepted_rows += sum(len(more) for more in batch.merged_rows[~bad])
    accepted = typed[~bad].reset_index(drop=True)
    for column in table.columns:
        if column.kind in ("string", "enum"):
            accepted[column.name] = accepted[column.name].astype(object)
    all_rejects = pd.concat([batch.rejects, rejects], ignore_index=True) if len(batch.rejects) else rejects
    all_rejects = all_rejects.astype({"row": "int64"}).sort_values("row", ignore_index=True)
    return Validated(accepted=accepted, rejects=all_rejects, accepted_rows=accepted_rows)


def _derived_trade_ids(typed: pd.DataFrame) -> pd.Series:
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
