"""Both engines read the store's tables, empty ones included, and agree with the store."""

from __future__ import annotations

import pandas as pd
import pytest
from books import june_days, positions_frame

from smartmoney.engine import connect
from smartmoney.schema import TABLES


@pytest.fixture
def filled(store, tmp_path):
    path = tmp_path / "positions.csv"
    positions_frame(june_days(5)).to_csv(path, index=False)
    store.ingest("positions", [path])
    return store


def test_every_table_is_registered_with_its_columns(filled, engine):
    backend = connect(filled, engine)
    for name, table in TABLES.items():
        assert backend.table(name).columns == tuple(table.column_names), name
    assert backend.table("prices").count().execute() == 0


def test_engine_reads_what_the_store_holds(filled, engine):
    positions = connect(filled, engine).table("positions")
    by_day = (positions.group_by("date").aggregate(quantity=positions.quantity.sum(), rows=positions.count())
              .order_by("date").to_pandas())
    expected = (filled.read("positions").groupby("date")
                .agg(quantity=("quantity", "sum"), rows=("quantity", "size")).reset_index())
    assert by_day["rows"].tolist() == [12] * 5
    assert by_day["quantity"].tolist() == pytest.approx(expected["quantity"].tolist())
    assert pd.to_datetime(by_day["date"]).dt.strftime("%Y-%m-%d").tolist() == [
        "2024-06-03", "2024-06-04", "2024-06-05", "2024-06-06", "2024-06-07"]


def test_duckdb_memory_limit_is_checked(filled):
    connect(filled, memory_limit="512MB")
    with pytest.raises(ValueError, match="not a size"):
        connect(filled, memory_limit="1GB'; DROP TABLE x; --")
