"""Canonical tables as CSV or Parquet files: one file holds rows of one table.

CSV: comma-separated, a header row naming the columns, UTF-8. Row numbers in messages count
data rows from 1 (the header is line 1, so data row N is on line N + 1). Columns may come in any
order; columns that are not part of the table are ignored and reported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from smartmoney.schema import Table
from smartmoney.sources.base import FileError
from smartmoney.validate import REJECT_COLUMNS, Batch

_SNIFF_BYTES = 1 << 16
_PARQUET_MAGIC = b"PAR1"


class TableFile:
    """A CSV or Parquet file holding rows of one canonical table.

    Subclasses adapt near-canonical layouts: `aliases` renames input columns, `derived` names
    table columns that `_derive` computes from the others instead of reading them.
    """

    aliases: dict[str, str] = {}
    derived: tuple[str, ...] = ()
    by_ticker = False

    def __init__(self, table: Table):
        self.table = table
        self.name = table.name
        self.description = f"{table.name} rows as CSV or Parquet: {', '.join(table.column_names)}"

    def read(self, path: Path) -> Iterator[Batch]:
        path = Path(path)
        if not path.is_file():
            raise FileError(path, "no such file")
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
        if not head.strip():
            raise FileError(path, "the file is empty")
        if head.startswith(_PARQUET_MAGIC):
            raw, rows, rejects = self._read_parquet(path)
        else:
            raw, rows, rejects = self._read_csv(path, head)
        raw = raw.rename(columns=lambda name: self.aliases.get(name.lower(), name))
        self._check_columns(path, list(raw.columns))
        ignored = [c for c in raw.columns if c not in self.table.column_names]
        yield Batch(self.table, str(path), self._derive(raw), rows, rejects, ignored,
                    by_ticker=self.by_ticker)

    def _derive(self, raw: pd.DataFrame) -> pd.DataFrame:
        """The `derived` columns, computed from the others (none for a canonical file)."""
        return raw

    def _check_columns(self, path: Path, columns: list[str]) -> None:
        missing = [c.name for c in self.table.columns
                   if c.required and c.default_from is None and c.name not in columns
                   and c.name not in self.derived]
        if missing:
            shown = ",".join(columns)[:200]
            raise FileError(path, f"missing required column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)} for table {self.table.name} "
                            f"(the header reads: {shown!r})", row=1)
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        if duplicated:
            raise FileError(path, f"column {', '.join(duplicated)} appears twice in the header", row=1)

    def _read_csv(self, path: Path, head: bytes) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
        if b"\x00" in head:
            raise FileError(path, "not a CSV text file (it contains NUL bytes; binary data?)")
        try:
            text = head.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            if error.start < len(head) - 4:
                problem, row = _not_utf8(head, skip_rows=1)
                raise FileError(path, problem, row=row) from None
            text = head.decode("utf-8-sig", errors="ignore")   # a character cut by the sniffed length
        first_line = text.splitlines()[0] if text.splitlines() else ""
        header = [name.strip() for name in next(csv.reader(io.StringIO(first_line)), [])]
        if not any(self.aliases.get(name.lower(), name) in self.table.column_names for name in header):
            raise FileError(path, f"not a {self.table.name} CSV file: the first line "
                            f"{first_line[:120]!r} names none of its columns "
                            f"({', '.join(self.table.column_names)})", row=1)
        arrow, bad_rows = parse_csv(path, header, use_threads=True)
        if any(number is None for number, _, _ in bad_rows):
            # Multithreaded parsing does not number bad rows; read again on one thread.
            arrow, bad_rows = parse_csv(path, header, use_threads=False)
        raw = arrow.to_pandas(types_mapper=None).astype(object)
        raw = raw.where(raw.notna(), None)
        # pyarrow numbers an invalid row by its line in the file, the header included.
        skipped = sorted(number - 1 for number, _, _ in bad_rows)
        rows = _surviving_rows(len(raw), skipped)
        rejects = pd.DataFrame(
            [(str(path), number - 1, self.table.name, reason, text)
             for number, reason, text in bad_rows], columns=REJECT_COLUMNS)
        return raw, rows, rejects

    def _read_parquet(self, path: Path) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
        try:
            names = pq.read_schema(path).names
            duplicated = sorted({name for name in names if names.count(name) > 1})
            if duplicated:
                raise FileError(path, f"column {', '.join(duplicated)} appears twice in the Parquet schema",
                                row=1)
            arrow = pq.read_table(path)
        except (pa.ArrowException, OSError, UnicodeDecodeError) as error:
            raise FileError(path, f"not a readable Parquet file: {str(error).splitlines()[0]}") from None
        texts = {}
        for name, column in zip(arrow.column_names, arrow.columns):
            try:
                texts[name] = _as_text(column)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
                raise FileError(path, f"column {name}: its Parquet type {column.type} cannot be read as "
                                f"text ({str(error).splitlines()[0]})") from None
        raw = pd.DataFrame(texts)
        rows = np.arange(1, len(raw) + 1)
        return raw, rows, pd.DataFrame(columns=REJECT_COLUMNS)


def parse_csv(path: Path, header: list[str], *, use_threads: bool, skip_rows: int = 1,
               data: bytes | None = None) -> tuple[pa.Table, list[tuple[int | None, str, str]]]:
    """Every field as text; rows with the wrong field count are set aside with their line.

    `data` is the file's content when it does not come from `path` itself (a zip member).
    """
    bad_rows: list[tuple[int | None, str, str]] = []

    def set_aside(row: pacsv.InvalidRow) -> str:
        bad_rows.append((row.number, f"expected {row.expected_columns} fields, "
                                     f"found {row.actual_columns}", row.text))
        return "skip"

    # Checked first: pyarrow cannot hand a row that is not UTF-8 to the handler above.
    found = _not_utf8(data, skip_rows) if data is not None else _file_not_utf8(path, skip_rows)
    if found is not None:
        raise FileError(path, f"cannot be read as CSV: {found[0]}", row=found[1])
    try:
        arrow = pacsv.read_csv(
            path if data is None else pa.BufferReader(data),
            read_options=pacsv.ReadOptions(use_threads=use_threads, column_names=header,
                                           skip_rows=skip_rows),
            parse_options=pacsv.ParseOptions(invalid_row_handler=set_aside),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        found = _not_utf8(Path(path).read_bytes() if data is None else data, skip_rows)
        if found is not None:
            raise FileError(path, f"cannot be read as CSV: {found[0]}", row=found[1]) from None
        raise FileError(path, f"cannot be read as CSV: {str(error).splitlines()[0]}") from None
    return arrow, bad_rows


def _not_utf8(content: bytes, skip_rows: int) -> tuple[str, int] | None:
    """Where `content` first stops being UTF-8: the problem and its row (data rows counted
    from 1 below `skip_rows` header lines; a header line counts as row 1); None if it is UTF-8."""
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        byte, where = content[error.start], f"offset {error.start}, line {line}"
        return f"not UTF-8 text (invalid byte 0x{byte:02x} at {where})", max(line - skip_rows, 1)
    return None


def _file_not_utf8(path: Path, skip_rows: int, block_size: int = 1 << 20) -> tuple[str, int] | None:
    """`_not_utf8` for a file read in blocks (a character may straddle two blocks)."""
    carry, offset, newlines = b"", 0, 0
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(block_size), b""):
            chunk, carry = carry + block, b""
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError as error:
                if not (error.reason == "unexpected end of data" and error.end == len(chunk)):
                    line = newlines + chunk[: error.start].count(b"\n") + 1
                    problem = (f"not UTF-8 text (invalid byte 0x{chunk[error.start]:02x} at offset "
                               f"{offset + error.start}, line {line})")
                    return problem, max(line - skip_rows, 1)
                chunk, carry = chunk[: error.start], chunk[error.start:]     # finished by the next block
            newlines += chunk.count(b"\n")
            offset += len(chunk)
    if carry:
        line = newlines + 1
        return (f"not UTF-8 text (a character cut short at offset {offset}, line {line}: a truncated file?)",
                max(line - skip_rows, 1))
    return None


def _surviving_rows(count: int, skipped: list[int]) -> np.ndarray:
    """Data row numbers (1-based) of the rows kept when `skipped` rows were dropped."""
    numbers = np.arange(1, count + len(skipped) + 1)
    return np.setdiff1d(numbers, np.asarray(skipped, dtype=np.int64))[:count]


def _check_utf8(column: pa.ChunkedArray) -> None:
    """ArrowInvalid naming the first row whose text is not UTF-8 (Parquet readers do not check)."""
    try:
        column.validate(full=True)
    except pa.ArrowInvalid:
        values = column.cast(pa.binary()).to_pylist()
        row = next(i for i, value in enumerate(values, start=1) if value is not None and not _is_utf8(value))
        raise pa.ArrowInvalid(f"row {row} is not UTF-8 text") from None


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _as_text(column: pa.ChunkedArray) -> pd.Series:
    """A Parquet column as the text a CSV would hold, None for nulls."""
    kind = column.type
    if pa.types.is_timestamp(kind):
        values = column.to_pandas()
        has_time = values.notna() & (values != values.dt.normalize())
        text = values.dt.strftime("%Y-%m-%d").where(~has_time, values.astype(str))
    elif pa.types.is_date(kind):
        text = column.to_pandas().astype(str)
    elif pa.types.is_floating(kind):
        text = pd.Series([repr(v) if v is not None else None for v in column.to_pylist()], dtype=object)
    else:
        text = column.cast(pa.string())
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            _check_utf8(column)
        text = text.to_pandas()
    text = text.astype(object)
    return text.where(column.is_null().to_numpy(zero_copy_only=False) == False, None)  # noqa: E712
