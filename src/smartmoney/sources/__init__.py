"""Input formats. Each source is a small class with one interface:

    read(path) -> Iterator[Batch]   raw rows of a canonical table, plus the rows it could not split

`smartmoney.validate` then types and checks the rows, and the store writes them. Sources are
registered by the name `smartmoney ingest KIND` uses; there is no if/elif over formats.
"""

from __future__ import annotations

from smartmoney.schema import INGEST_ORDER, TABLES
from smartmoney.sources.base import FileError, Source
from smartmoney.sources.cftc import CFTC_SOURCES
from smartmoney.sources.finra import FINRA_SOURCES
from smartmoney.sources.lean import LeanTicks
from smartmoney.sources.sec13f import SEC13F_SOURCES
from smartmoney.sources.tables import TableFile
from smartmoney.sources.tapes import GENERIC_TAPES, RetailVendorFile

SOURCES: dict[str, Source] = {
    **{name: TableFile(table) for name, table in TABLES.items() if name in INGEST_ORDER},
    **GENERIC_TAPES,
    "retail_vendor": RetailVendorFile(),
    "lean_trades": LeanTicks("trade"),
    "lean_quotes": LeanTicks("quote"),
    **FINRA_SOURCES,
    **CFTC_SOURCES,
    **SEC13F_SOURCES,
}


def source(kind: str) -> Source:
    """The source registered under `kind` (hyphens read as underscores: cftc-tff is cftc_tff);
    a KeyError lists the known kinds."""
    try:
        return SOURCES[kind.replace("-", "_")]
    except KeyError:
        raise KeyError(f"unknown ingest kind {kind!r}; known kinds: {', '.join(SOURCES)}") from None


__all__ = ["SOURCES", "FileError", "Source", "TableFile", "source"]
