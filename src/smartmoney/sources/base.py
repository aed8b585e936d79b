"""The interface every source implements, and the error for a file that cannot be read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from smartmoney.validate import Batch


class FileError(ValueError):
    """A whole input file is unusable (empty, not the right format, missing columns).

    The message names the file and, where one is to blame, the row. Nothing is ingested
    from a file that raises it.
    """

    def __init__(self, file: str | Path, problem: str, row: int | None = None):
        where = f"{file}" if row is None else f"{file}, row {row}"
        super().__init__(f"{where}: {problem}")
        self.file, self.row, self.problem = str(file), row, problem


class Source(Protocol):
    """Reads one input format into raw rows of canonical tables."""

    name: str
    description: str

    def read(self, path: Path) -> Iterator[Batch]:
        """Yield the raw rows of `path`; raise FileError when the file cannot be used at all."""
        ...
