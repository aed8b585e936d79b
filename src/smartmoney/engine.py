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
import ibis.backends.duckdb  # noqa: F401 - the default engine's backend, imported with the package

from smartmoney.schema import TABLES
from smartmoney.store import Store, arrow_schema

ENGINES = ("duckdb", "spark")


def connect(store: Store, engine: str = "duckdb", *, memory_limit: str | None = None,
            threads: int | None = None, manifest: dict | None = None,
            tables: tuple[str, ...] | None = None, spark_master: str | None = None) -> ibis.BaseBackend:
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
    spark_master
        Where Spark runs (a master URL or sc:// for Spark Connect); default
        $SMARTMONEY_SPARK_MASTER, else local[*] (see `spark_master`; docs/spark.md).
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
        session = spark_session(spark_master)
        backend = ibis.pyspark.connect(session)
    else:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    manifest = manifest or store.manifest()
    for name, table in TABLES.items():
        if tables is not None and name not in tables:
            continue
        files = store.files(name, manifest)
        if engine == "spark":
            _register_spark(session, name, files, table)
        elif files:
            _register_duckdb(backend, name, files)
        else:
            backend.con.register(name, arrow_schema(table).empty_table())
    return backend


DEFAULT_MEMORY_SHARE = 0.2


def default_memory_limit() -> str:
    """A fifth of the machine's physical memory, in MB (e.g. '4820MB' on 24 GiB)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(512, int(total * DEFAULT_MEMORY_SHARE / 2**20))}MB"


_SPARK_TYPES = {"string": "STRING", "enum": "STRING", "date": "DATE", "timestamp": "TIMESTAMP_NTZ",
                "float": "DOUBLE", "integer": "BIGINT"}


def _register_duckdb(backend, name: str, files: list[str]) -> None:
    """A temporary view over the listed files, in one statement (Ibis' read_parquet builds the
    file list as an expression and describes the view: 0.1 s for a table of 1,258 daily files,
    a quarter of that this way)."""
    listed = ", ".join("'" + path.replace("'", "''") + "'" for path in files)
    backend.raw_sql(f'CREATE OR REPLACE TEMPORARY VIEW "{name}" AS SELECT * FROM read_parquet([{listed}])')


def _register_spark(session, name: str, files: list[str], table) -> None:
    """A temporary view over the listed files (Ibis' read_parquet takes one path only)."""
    ddl = ", ".join(f"`{c.name}` {_SPARK_TYPES[c.kind]}" for c in table.columns)
    frame = session.read.schema(ddl).parquet(*files) if files else session.createDataFrame([], ddl)
    frame.createOrReplaceTempView(name)


def _checked_size(size: str) -> str:
    text = size.strip()
    number = text.rstrip("KMGTiBb ")
    if not number.replace(".", "", 1).isdigit() or len(text) > 12:
        raise ValueError(f"memory limit {size!r} is not a size such as 6GB or 512MiB")
    return text


SPARK_MASTER_ENV = "SMARTMONEY_SPARK_MASTER"
DEFAULT_SPARK_MASTER = "local[*]"
# Ibis nests every step of a metric into one plan, and Spark writes each plan out as text when it
# runs it (cached tables inline their own plan): unbounded, that text outgrew a 1 GiB driver heap.
MAX_PLAN_STRING = 200_000
IN_FILTER_DATES = 2_000


def spark_master(master: str | None = None) -> str | None:
    """Where Spark runs: `master` (a flag), else $SMARTMONEY_SPARK_MASTER, else local[*].

    A value is a Spark master URL (local[4], spark://host:7077, yarn, k8s://...) or a Spark
    Connect URL (sc://host:15002). None means "leave it to Spark": under spark-submit (which
    has set --master) or when $SPARK_REMOTE names a Spark Connect server, and no flag or
    $SMARTMONEY_SPARK_MASTER says otherwise.
    """
    chosen = master or os.environ.get(SPARK_MASTER_ENV) or None
    if chosen:
        return chosen
    if os.environ.get("PYSPARK_GATEWAY_PORT") or os.environ.get("SPARK_REMOTE"):
        return None                 # spark-submit's --master, or Spark Connect's $SPARK_REMOTE
    return DEFAULT_SPARK_MASTER


def spark_builder(master: str | None = None):
    """The SparkSession builder `spark_session` uses (apart, so tests can read its settings).

    Every session: UTC, Arrow transfers, bounded plan strings, date lists pushed to Parquet.
    Local masters also get a driver heap of `default_memory_limit()` (the DuckDB default: a
    fifth of the machine's memory), 8 shuffle partitions, no web UI and errors-only logging; on
    a cluster those come from spark-submit or spark-defaults.conf (docs/spark.md).
    """
    from pyspark.sql import SparkSession

    where = spark_master(master)
    builder = SparkSession.builder.appName("smartmoney")
    if where is not None and where.startswith("sc://"):
        builder = builder.remote(where)
    elif where is not None:
        builder = builder.master(where)
    if where is not None and where.startswith("local"):
        # One machine: no web UI, errors only (not a warning per unpartitioned window over a
        # small table), few shuffle partitions; a cluster keeps its own settings for these.
        builder = (builder.config("spark.driver.memory", default_memory_limit().replace("MB", "m"))
                   .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                   .config("spark.log.level", "ERROR").config("spark.sql.shuffle.partitions", "8")
                   # The store's file lists (one file per day) checked here, not by a Spark job
                   # per table: opening the default book took 40.8 s that way, 6.9 s this way.
                   .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "100000"))
    return (builder.config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.maxPlanStringLength", str(MAX_PLAN_STRING))
            # A date list (period ends, refreshed days) is pushed to Parquet as single dates, so
            # the one-day files outside it are skipped; past 10 values Spark would push only
            # [min, max] and read every day in between.
            .config("spark.sql.parquet.pushdown.inFilterThreshold", str(IN_FILTER_DATES)))


@cache
def spark_session(master: str | None = None):
    """One Spark session per process: local[*] unless told otherwise (see `spark_master`),
    UTC, Arrow transfers on."""
    return spark_builder(master).getOrCreate()
