"""smartmoney: what hedge funds and retail investors are doing in US stocks, side by side."""

from smartmoney.store import IngestReport, Store, StoreError

__all__ = ["IngestReport", "Store", "StoreError"]
__version__ = "0.1.0"
