"""Ibis connections over a store: DuckDB (embedded, the default) or Spark (local or a cluster).

Both engines read the same Parquet files, the ones the store's manifest lists, so neither keeps
state the other cannot see. Every canonical table is registered under its own name, empty
tables included (with their schema), so metric expressions never special-case a missing table.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from functools import cache

import ibis

from smartmoney.schema import TABLES
from smartmoney.store import Store, arrow_schema

ENGINES = ("duckdb", "spark")


def connect(store: Store, engine: str = "duckdb", *, memory_limit: str | None = None,
            threads: int | None = None, manifest: dict | None = None,
            tables: tuple[str, ...] | None = None) -> ibis.BaseBackend:
    """An Ibis backend with the store's tables registered.

    Parameters
    ----------
    store
        The store to read.
    engine
        "duckdb" (default) or "spark" (the Ibis pyspark backend; needs the `spark` extra).
    memory_limit, threads
        DuckDB settings, e.g. memory_limit="6GB"; DuckDB spills to disk beyond the limit. The
        default limit is a fifth of the machine's memory (`DEFAULT_MEMORY_SHARE`), so that a
        book larger than memory spills instead of exhausting the machine.
    manifest
        Read this manifest's files instead of the committed ones (a transaction's own view).
    tables
        Register only these tables (default: all).
    """
    if engine == "duckdb":
        backend = ibis.duckdb.connect()
        backend.raw_sql("SET enable_progress_bar = false")
        # Past the limit DuckDB spills to disk; an in-memory database needs a folder for it.
        spill = tempfile.mkdtemp(prefix="smartmoney-spill-")
        weakref.finalize(backend, shutil.rmtree, spill, True)    # removed with the connection
        backend.raw_sql(f"SET memory_limit = '{_checked_size(memory_limit or default_memory_limit())}'")
        backend.raw_sql(f"SET temp_directory = '{spill}'")
        backend.raw_sql("SET preserve_insertion_order = false")
        if threads:
            backend.raw_sql(f"SET threads = {int(threads)}")
    elif engine == "spark":
        backend = ibis.pyspark.connect(spark_session())
    else:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    manifest = manifest or store.manifest()
    for name, table in TABLES.items():
        if tables is not None and name not in tables:
            continue
        files = [str(path) for path in store.files(name, manifest)]
        if engine == "spark":
            _register_spark(name, files, table)
        elif files:
            backend.read_parquet(files, table_name=name)
        else:
            backend.create_view(name, ibis.memtable(arrow_schema(table).empty_table()))
    return backend


DEFAULT_MEMORY_SHARE = 0.2


def default_memory_limit() -> str:
    """A fifth of the machine's physical memory, in MB (e.g. '4820MB' on 24 GiB)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(512, int(total * DEFAULT_MEMORY_SHARE / 2**20))}MB"


_SPARK_TYPES = {"string": "STRING", "enum": "STRING", "date": "DATE", "timestamp": "TIMESTAMP_NTZ",
                "float": "DOUBLE", "integer": "BIGINT"}


def _register_spark(name: str, files: list[str], table) -> None:
    """A temporary view over the listed files (Ibis' read_parquet takes one path only)."""
    session = spark_session()
    ddl = ", ".join(f"`{c.name}` {_SPARK_TYPES[c.kind]}" for c in table.columns)
    frame = session.read.schema(ddl).parquet(*files) if files else session.createDataFrame([], ddl)
    frame.createOrReplaceTempView(name)


def _checked_size(size: str) -> str:
    text = size.strip()
    number = text.rstrip("KMGTiBb ")
    if not number.replace(".", "", 1).isdigit() or len(text) > 12:
        raise ValueError(f"memory limit {size!r} is not a size such as 6GB or 512MiB")
    return text


@cache
def spark_session():
    """One local Spark session per process (local[*], UTC, Arrow transfers on)."""
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master("local[*]").appName("smartmoney")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .getOrCreate())
