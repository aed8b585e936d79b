"""Put a simulated book into a store, through the same validation as any other input."""

from __future__ import annotations

import numpy as np

from smartmoney.schema import TABLES
from smartmoney.store import IngestReport, Store
from smartmoney.validate import Batch


def build(scenario, store: Store, *, funds: int | None = None, names_min: int | None = None,
          names_max: int | None = None, progress: bool = True) -> list[IngestReport]:
    """Simulate `scenario` into `store` in one transaction; returns one report per chunk.

    The simulator's rows are validated like a user's file; a rejected row is a simulator bug
    and aborts the build, leaving the store as it was.
    """
    from smartmoney.simulate.book import simulate
    from smartmoney.simulate.scenario import MAX_FUNDS

    if funds is not None and not 1 <= funds <= MAX_FUNDS:
        raise ValueError(f"--funds must be between 1 and {MAX_FUNDS:,}, got {funds}")
    reports = []
    source = f"simulate:{scenario.name}"
    with store.transaction() as tx:
        for table, frame in simulate(scenario, funds=funds, names_min=names_min,
                                     names_max=names_max, progress=progress):
            batch = Batch(TABLES[table], source, frame, np.arange(1, len(frame) + 1))
            report = tx.ingest_batch(batch)
            if report.rejected:
                reasons = "; ".join(report.rejects["reason"].head(3))
                raise AssertionError(f"the simulator wrote {report.rejected} invalid {table} "
                                     f"rows: {reasons}")
            reports.append(report)
    return reports

