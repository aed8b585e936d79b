"""smartmoney: what hedge funds and retail investors are doing in US stocks, side by side."""

from smartmoney.book import Book, BookError, open
from smartmoney.metrics import Disclosure
from smartmoney.store import IngestReport, Store, StoreError

__all__ = ["Book", "BookError", "Disclosure", "IngestReport", "Store", "StoreError", "open"]
__version__ = "0.1.0"
