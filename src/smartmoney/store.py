"""The Parquet store: a directory of canonical tables, written atomically and idempotently.

Layout::

    DIR/_manifest.json                       which files make up each table (the one truth)
    DIR/positions/date=2024-06-28/part-<id>.parquet   large tables: one file per trading day
    DIR/securities/part-<id>.parquet                  small tables: one file
    DIR/_rejects/part-<id>.parquet                    rejected input rows with their reasons

Readers read only the files the manifest lists. A write goes to new files first; the commit
is one atomic rename of the manifest, so a crash at any point leaves either the old or the new
state readable, never a mix. Files nobody lists (left by a crash) are removed by the next write.

Rows are upserted by the table's key: a row whose key is stored already replaces it, an
identical row changes nothing, so ingesting the same input twice leaves the store byte for
byte unchanged. A position row with quantity 0 deletes the stored position (a missing row
means a zero position). A new day adds one partition and rewrites nothing else.
"""

from __future__ import annotations

import copy
import datetime as dt
import fcntl
import hashlib
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from smartmoney import derived, periods
from smartmoney.schema import FILER_STRATEGY, TABLES, Table
from smartmoney.sources import FileError, source
from smartmoney.validate import REJECT_COLUMNS, Batch, set_aside, validate

MANIFEST = "_manifest.json"
LOCK = "_lock"
WRITING = "_writing"  # present while a write may have left files the manifest does not list
REJECTS_DIR = "_rejects"
FORMAT_VERSION = 1
_ARROW_TYPES = {"string": pa.string(), "enum": pa.string(), "date": pa.date32(),
                "timestamp": pa.timestamp("us"), "float": pa.float64(), "integer": pa.int64()}
REJECTS_SCHEMA = pa.schema([("file", pa.string()), ("row", pa.int64()), ("table", pa.string()),
                            ("reason", pa.string()), ("record", pa.string())])


class StoreError(Exception):
    """The store cannot be used as asked (missing, locked, not a store)."""


def arrow_schema(table: Table) -> pa.Schema:
    """The Parquet schema of a canonical table."""
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.kind], nullable=not c.required)
                      for c in table.columns])


@dataclass
class WriteCounts:
    """What a write did to the stored rows."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def add(self, other: WriteCounts) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass
class IngestReport:
    """The account of one input file: read = accepted + rejected, always."""

    file: str
    table: str
    read: int
    accepted: int
    rejected: int
    counts: WriteCounts = field(default_factory=WriteCounts)
    ignored_columns: list[str] = field(default_factory=list)
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS),
                                  repr=False)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.read != self.accepted + self.rejected:
            raise AssertionError(f"{self.file}: read {self.read} != accepted {self.accepted} "
                                 f"+ rejected {self.rejected}")


class Store:
    """A smartmoney store directory.

    Examples
    --------
    >>> store = Store.open("demo-store")                # doctest: +SKIP
    >>> store.read("accounts").head()                    # doctest: +SKIP
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._manifest: tuple[tuple, dict] | None = None

    @classmethod
    def open(cls, path: str | Path, *, create: bool = False) -> Store:
        """Open the store at `path`; with create=True, make an empty one if none is there."""
        store = cls(path)
        manifest = store.path / MANIFEST
        if manifest.is_file():
            return store
        if not create:
            if not store.path.exists():
                raise StoreError(f"{store.path}: no such store (create it with `smartmoney ingest` "
                                 f"or `smartmoney simulate`)")
            raise StoreError(f"{store.path}: not a smartmoney store (no {MANIFEST})")
        if store.path.exists() and any(store.path.iterdir()):
            raise StoreError(f"{store.path}: the directory is not empty and is not a store")
        store.path.mkdir(parents=True, exist_ok=True)
        _write_json_atomically(manifest, _empty_manifest())
        return store

    def manifest(self) -> dict:
        """The committed manifest, read again whenever the file changed (a commit renames a new
        file over it, so its inode changes). Shared by the callers: do not modify it."""
        path = self.path / MANIFEST
        stat = path.stat()
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size)
        if self._manifest is None or self._manifest[0] != stamp:
            with path.open() as handle:
                self._manifest = (stamp, json.load(handle))
        return self._manifest[1]

    def files(self, table: str, manifest: dict | None = None) -> list[str]:
        """The paths of the Parquet files of `table`, in partition order."""
        partitions = (manifest or self.manifest())["tables"].get(table, {})
        root = str(self.path)   # joined as text: pathlib takes 0.1 s for a table of 1,258 files
        return [os.path.join(root, partitions[key]["file"]) for key in sorted(partitions)]

    def read(self, table: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A whole table as pandas (dates as datetime64). For big tables use the engine."""
        return _read_files(self.files(table), arrow_schema(TABLES[table]), columns)

    def refresh_flows(self) -> None:
        """Derive the kept position flows again for every day. Every ingest keeps them up to
        date for the days it changes; this is for a store written before they were kept (its
        computations derive flows on the fly until then), and measures the full cost."""
        with self.transaction() as tx:
            tx.refresh_every_day()

    def kept_flows_hold(self, as_of: dt.date | None = None) -> bool:
        """True when the kept `position_flows` are exact for a computation as of `as_of`: they
        are up to date, and (for a past as-of) no fund position became knowable after its date."""
        manifest = self.manifest()
        if manifest.get("derived", {}).get("position_flows") != derived.FLOWS_VERSION:
            return False
        return as_of is None or not manifest.get("late_positions", False)

    def kept_periods(self, as_of: dt.date | None = None) -> tuple[dict[str, frozenset[dt.date]], frozenset[dt.date]]:
        """What the kept period tables hold, when they are exact for a computation as of
        `as_of` (as `kept_flows_hold`): the period ends of `period_flows` per frequency, and
        the days of `period_values`; else nothing."""
        manifest = self.manifest()
        if manifest.get("derived", {}).get("periods") != periods.VERSION or not self.kept_flows_hold(as_of):
            return {}, frozenset()
        ends: dict[str, set[dt.date]] = {}
        for key in manifest["tables"].get("period_flows", {}):
            ends.setdefault(key.rsplit("=", 1)[1], set()).add(_key_day(key))
        days = frozenset(_key_day(key) for key in manifest["tables"].get("period_values", {}))
        return {freq: frozenset(found) for freq, found in ends.items()}, days

    def last_available(self, table: str) -> dt.date | None:
        """The last day a row of `table` became knowable (its latest available_from), from the
        manifest; None when it has no rows, or a partition written before this was recorded."""
        partitions = self.manifest()["tables"].get(table, {})
        if not partitions or any("available_to" not in entry for entry in partitions.values()):
            return None
        return dt.date.fromisoformat(max(entry["available_to"] for entry in partitions.values()))

    def days(self) -> list[dt.date] | None:
        """The days of the data, read from the manifest, when every account has equity rows (an
        account is then present exactly on its equity days: the equity partitions' days); else
        None (the engine finds them from the positions of the accounts without equity)."""
        manifest = self.manifest()
        known = manifest.get("equity_accounts")
        if known is None or not set(self.read("accounts", ["account_id"])["account_id"]) <= set(known):
            return None
        return [_key_day(key) for key in sorted(manifest["tables"].get("equity", {}))]

    def rejects(self, table: str | None = None) -> pd.DataFrame:
        """Every rejected input row kept so far: file, row, table, reason, record."""
        entries = self.manifest()["rejects"].values()
        frame = _read_files([self.path / e["file"] for e in entries], REJECTS_SCHEMA, None)
        if table is not None:
            frame = frame[frame["table"] == table]
        return frame.sort_values(["file", "row"], ignore_index=True)

    def info(self) -> dict:
        """Tables with row counts and date ranges, plus accounts, securities and rejects."""
        manifest = self.manifest()
        tables = {}
        for name, table in TABLES.items():
            partitions = manifest["tables"].get(name, {})
            rows = sum(entry["rows"] for entry in partitions.values())
            dates = sorted(_key_day(key).isoformat() for key in partitions) if table.partition else []
            tables[name] = {"rows": rows, "files": len(partitions),
                            "first_date": dates[0] if dates else None,
                            "last_date": dates[-1] if dates else None}
        return {
            "store": str(self.path),
            "version": manifest["version"],
            "tables": tables,
            "accounts": tables["accounts"]["rows"],
            "securities": tables["securities"]["rows"],
            "rejected_rows": sum(e["rows"] for e in manifest["rejects"].values()),
            "ingests": len(manifest["ingests"]),
        }

    def transaction(self) -> Transaction:
        """An exclusive write: use as `with store.transaction() as tx:`; commits on success."""
        return Transaction(self)

    def ingest(self, kind: str, paths: Iterable[str | Path]) -> list[IngestReport]:
        """Ingest input files of one kind, all or nothing.

        Rows that fail validation are rejected and kept with their reason; a file that cannot
        be read at all raises FileError and nothing from this call is kept.
        """
        return self.ingest_many([(kind, paths)])

    def ingest_many(self, parts: Iterable[tuple[str, Iterable[str | Path]]]) -> list[IngestReport]:
        """Ingest files of several kinds, in the order given, as one all-or-nothing write:
        e.g. a new day's [("equity", [...]), ("prices", [...]), ("positions", [...])], whose
        kept flows are then derived once instead of once per kind."""
        steps = [(source(kind), {Path(path): _sha256(Path(path)) for path in paths}) for kind, paths in parts]
        reports = []
        with self.transaction() as tx:
            for reader, digests in steps:
                for path, digest in digests.items():
                    reports += [tx.ingest_batch(batch, digest=digest) for batch in reader.read(path)]
        return reports

    def export(self, table: str, out: str | Path) -> int:
        """Write `table` to a .parquet or .csv file; returns the row count."""
        if table == "rejects":
            frame = self.rejects()
        elif table in TABLES:
            frame = self.read(table)
        else:
            raise KeyError(f"unknown table {table!r}; known tables: {', '.join([*TABLES, 'rejects'])}")
        out = Path(out)
        if out.suffix not in (".parquet", ".csv"):
            raise ValueError(f"{out}: the output must end in .parquet or .csv")
        temporary = out.with_name(f".{out.name}.{os.getpid()}.tmp")    # renamed over `out` when whole
        try:
            if out.suffix == ".parquet":
                frame.to_parquet(temporary, index=False)
            else:
                dates = frame.select_dtypes("datetime").columns
                frame.assign(**{c: frame[c].dt.strftime("%Y-%m-%d") for c in dates}).to_csv(temporary, index=False)
            os.replace(temporary, out)
        finally:
            temporary.unlink(missing_ok=True)
        return len(frame)


class Transaction:
    """One exclusive, all-or-nothing change to a store."""

    def __init__(self, store: Store):
        self.store = store
        self._lock_handle = None
        self._written: list[Path] = []
        self._superseded: list[Path] = []
        self._changed = False
        self.changed_days: set[str] = set()   # days whose positions, equity or prices changed
        self.all_days_changed = False          # securities or accounts changed: every day
        self.manifest: dict = {}

    def __enter__(self) -> Transaction:
        self._lock_handle = (self.store.path / LOCK).open("a+")
        try:
            fcntl.flock(self._lock_handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_handle.close()
            raise StoreError(f"{self.store.path}: another process is writing to this store; "
                             f"try again when it has finished") from None
        self.manifest = copy.deepcopy(self.store.manifest())   # this write's own, changed in place
        if (self.store.path / WRITING).exists():   # a write was cut short: clear what it left
            self._remove_orphans()
        return self

    def __exit__(self, kind, error, trace) -> None:
        try:
            if kind is None and self._changed:
                self._commit()
            elif kind is not None:
                for path in self._written:
                    path.unlink(missing_ok=True)
            (self.store.path / WRITING).unlink(missing_ok=True)
        finally:
            fcntl.flock(self._lock_handle, fcntl.LOCK_UN)
            self._lock_handle.close()

    def read(self, table: str, columns: list[str]) -> pd.DataFrame:
        """`columns` of `table` in this transaction's view (committed + written so far)."""
        return _read_files(self.store.files(table, self.manifest), arrow_schema(TABLES[table]), columns)

    def known_ids(self, table: str) -> set[str]:
        """The keys `table` holds in this transaction's view."""
        key = TABLES[table].key[0]
        return set(self.read(table, [key])[key])

    def ingest_batch(self, batch: Batch, *, digest: str | None = None) -> IngestReport:
        """Validate `batch`, upsert its good rows and keep its rejects."""
        known = {name: self.known_ids(name) for name in set(batch.table.references.values())}
        if batch.by_ticker:
            batch = self._resolve_tickers(batch)
        if batch.by_cusip:
            batch = self._resolve_cusips(batch)
        result = validate(batch, known)
        counts = self.write(batch.table.name, result.accepted, complete=batch.complete, file=batch.file)
        read = batch.input_rows
        report = IngestReport(batch.file, batch.table.name, read, result.accepted_rows,
                              len(result.rejects), counts, batch.ignored_columns, result.rejects,
                              batch.notes)
        rejects_changed = self._keep_rejects(result.rejects,
                                             f"{digest or batch.file}:{batch.table.name}:{batch.file}")
        if rejects_changed or counts.inserted or counts.updated or counts.deleted:
            self.manifest["ingests"].append({
                "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "file": batch.file, "sha256": digest, "table": batch.table.name, "read": read,
                "accepted": report.accepted, "rejected": report.rejected, **asdict(counts)})
            self._changed = True
        return report

    def _resolve_tickers(self, batch: Batch) -> Batch:
        """security_id read from a ticker column: matched to securities.ticker; unknown
        tickers stay as they are, for validation to reject as unknown securities."""
        securities = self.read("securities", ["security_id", "ticker"])
        by_ticker = dict(zip(securities["ticker"], securities["security_id"]))
        tickers = batch.raw["security_id"]
        raw = batch.raw.assign(security_id=tickers.map(
            lambda t: by_ticker.get(t.strip(), t) if isinstance(t, str) else t))
        return replace(batch, raw=raw, by_ticker=False)

    def _resolve_cusips(self, batch: Batch) -> Batch:
        """security_id read from a CUSIP column: matched to securities.cusip (trimmed, upper
        case). A CUSIP no security holds, or several do, is rejected with that reason."""
        securities = self.read("securities", ["security_id", "cusip"])
        holders: dict[str, list[str]] = {}
        for cusip, security_id in zip(securities["cusip"], securities["security_id"]):
            if isinstance(cusip, str) and cusip.strip():
                holders.setdefault(cusip.strip().upper(), []).append(security_id)
        raw = batch.raw.reset_index(drop=True)
        cusips = [c.strip().upper() if isinstance(c, str) else c for c in raw["security_id"]]
        found = [holders.get(c, []) if isinstance(c, str) else None for c in cusips]
        unresolved = np.array([ids is not None and len(ids) != 1 for ids in found], dtype=bool)

        def reason(cusip: str, ids: list[str]) -> str:
            if not ids:
                return (f"unmapped CUSIP {cusip}: no security has this cusip (ingest securities with "
                        f"their cusip to map it)")
            return f"ambiguous CUSIP {cusip}: securities {', '.join(sorted(ids))} all hold it"

        reasons = pd.Series([reason(cusip, ids) if failed else None
                             for cusip, ids, failed in zip(cusips, found, unresolved)], dtype=object)
        resolved = [ids[0] if ids is not None and len(ids) == 1 else cusip for cusip, ids in zip(cusips, found)]
        batch = replace(batch, raw=raw.assign(security_id=resolved), by_cusip=False)
        return set_aside(batch, unresolved, reasons)

    def write(self, table_name: str, frame: pd.DataFrame, *, complete: frozenset = frozenset(),
              file: str = "") -> WriteCounts:
        """Upsert already validated rows of a table, one partition at a time (positions keep
        the versions a later filing replaces, see `merge_positions`)."""
        table = TABLES[table_name]
        counts = WriteCounts()
        if frame.empty:        # nothing to write (a filing whose every row was rejected closes nothing)
            return counts
        if table.partition is None:
            counts.add(self._merge(table, "all", frame))
            if table_name in ("securities", "accounts") and (counts.inserted or counts.updated or counts.deleted):
                self.all_days_changed = True
            return counts
        if table_name == "positions":
            self._note_late_positions(frame)
        if table_name == "equity":
            # An account's first equity rows make its presence come from equity on every day.
            known = self.equity_accounts()
            if not frame["account_id"].isin(known).all():
                self.all_days_changed = True
                self.manifest["equity_accounts"] = sorted(known | set(frame["account_id"]))
        days = frame[table.partition].to_numpy().astype("datetime64[D]")
        order = np.argsort(days, kind="stable")
        days, frame = days[order], frame.iloc[order]
        starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
        for start, end in zip(starts, [*starts[1:], len(days)]):
            key = f"{table.partition}={days[start]}"
            day = str(days[start])
            if table.name == "positions":
                done = self._merge_positions(key, frame.iloc[start:end], file,
                                             {account for account, date in complete if date == day})
            else:
                done = self._merge(table, key, frame.iloc[start:end])
            if table.name in ("positions", "equity", "prices") and (done.inserted or done.updated or done.deleted):
                self.changed_days.add(day)
            counts.add(done)
        return counts

    def refresh_every_day(self) -> None:
        """Derive every day's kept position flows again when this transaction commits."""
        self.all_days_changed = self._changed = True

    def _note_late_positions(self, frame: pd.DataFrame) -> None:
        """Mark the store when a fund's position became knowable after its date (13F filers'
        always do, and are not funds): kept flows then hold only for the latest as-of."""
        late = frame[frame["available_from"] > frame["date"]]
        if late.empty or self.manifest.get("late_positions"):
            return
        accounts = self.read("accounts", ["account_id", "strategy"])
        filers = set(accounts.loc[accounts["strategy"] == FILER_STRATEGY, "account_id"])
        if not late["account_id"].isin(filers).all():
            self.manifest["late_positions"] = True

    def equity_accounts(self) -> set[str]:
        """The accounts with equity rows (kept in the manifest; read once from older stores)."""
        if "equity_accounts" not in self.manifest:
            equity = self.read("equity", ["account_id"])
            self.manifest["equity_accounts"] = sorted(set(equity["account_id"]))
        return set(self.manifest["equity_accounts"])

    def _partition(self, table: Table, partition: str) -> pd.DataFrame:
        entry = self.manifest["tables"].get(table.name, {}).get(partition)
        paths = [self.store.path / entry["file"]] if entry is not None else []
        return _read_files(paths, arrow_schema(table), None)

    def _merge_positions(self, partition: str, new: pd.DataFrame, file: str, complete: set[str]) -> WriteCounts:
        positions, versions = TABLES["positions"], TABLES["position_versions"]
        old, old_versions = self._partition(positions, partition), self._partition(versions, partition)
        current, kept, counts = merge_positions(old, old_versions, new[positions.column_names], complete, file)
        if counts.inserted or counts.updated or counts.deleted:
            self.replace_partition(positions, partition, current)
        if len(kept) != len(old_versions):
            self.replace_partition(versions, partition, kept)
        return counts

    def note_derived(self, name: str, version: int) -> None:
        """Record in the manifest that the derived tables `name` are of `version` and whole."""
        self.manifest.setdefault("derived", {})[name] = version
        self._changed = True

    def replace_partition(self, table: Table, partition: str, frame: pd.DataFrame | pa.Table) -> None:
        """Make `frame` the rows of `table`'s `partition` (no rows: remove the partition)."""
        self.drop_partition(table, partition)
        if len(frame):
            frame = (frame.sort_by([(key, "ascending") for key in table.key]) if isinstance(frame, pa.Table)
                     else frame.sort_values(list(table.key), ignore_index=True))
            entry = {"file": self._write_file(table, partition, frame), "rows": len(frame)}
            latest = _latest(frame, "available_from") if "available_from" in table.column_names else None
            if latest is not None:   # the last day a row of the partition became knowable
                entry["available_to"] = latest.isoformat()
            self.manifest["tables"][table.name][partition] = entry

    def drop_partition(self, table: Table, partition: str) -> None:
        partitions = self.manifest["tables"].setdefault(table.name, {})
        entry = partitions.pop(partition, None)
        if entry is not None:
            self._superseded.append(self.store.path / entry["file"])
        self._changed = True

    def _merge(self, table: Table, partition: str, new: pd.DataFrame) -> WriteCounts:
        partitions = self.manifest["tables"].setdefault(table.name, {})
        entry = partitions.get(partition)
        new = new[table.column_names]
        deleting = (new["quantity"] == 0) if table.name == "positions" else pd.Series(False, index=new.index)
        if entry is None and not deleting.any():
            merged, counts = new, WriteCounts(inserted=len(new))
        else:
            old = (_read_files([self.store.path / entry["file"]], arrow_schema(table), None)
                   if entry is not None else new.iloc[:0])
            merged, counts = _upsert(old, new, list(table.key), deleting.to_numpy())
            if not (counts.inserted or counts.updated or counts.deleted):
                return counts
        self.replace_partition(table, partition, merged)
        return counts

    def _mark_writing(self) -> None:
        """Before the first file of this write: mark the store, so that a crash is cleaned up."""
        if not self._written:
            (self.store.path / WRITING).touch()
            _fsync_dirs({self.store.path})

    def _write_file(self, table: Table, partition: str, frame: pd.DataFrame) -> str:
        folder = table.name if partition == "all" else f"{table.name}/{partition}"
        relative = f"{folder}/part-{uuid.uuid4().hex}.parquet"
        path = self.store.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self._mark_writing()
        self._written.append(path)
        _write_parquet(_to_arrow(frame, arrow_schema(table)), path)
        return relative

    def _keep_rejects(self, rejects: pd.DataFrame, key: str) -> bool:
        """Keep the rejects of one batch (an input file's rows of one table) under `key`.

        The same input again keeps what is kept; the same input with other rejects (e.g. after
        the securities it names were ingested) replaces them; no rejects removes them.
        """
        entry = self.manifest["rejects"].get(key)
        frame = rejects[REJECT_COLUMNS].astype({"row": "int64"}).reset_index(drop=True)
        fingerprint = f"{int(pd.util.hash_pandas_object(frame.astype(str), index=False).sum()) % 2**64:016x}"
        if entry is not None and entry.get("fingerprint") == fingerprint:
            return False
        if entry is None and rejects.empty:
            return False
        if entry is not None:
            self._superseded.append(self.store.path / entry["file"])
            del self.manifest["rejects"][key]
        if rejects.empty:
            return True
        relative = f"{REJECTS_DIR}/part-{uuid.uuid4().hex}.parquet"
        path = self.store.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self._mark_writing()
        self._written.append(path)
        _write_parquet(pa.Table.from_pandas(frame, schema=REJECTS_SCHEMA, preserve_index=False), path)
        self.manifest["rejects"][key] = {"file": relative, "rows": len(frame), "fingerprint": fingerprint,
                                         "source": str(frame["file"].iloc[0])}
        return True

    def _commit(self) -> None:
        self.equity_accounts()   # a store written before the manifest kept them learns them
        derived.refresh(self)
        self.manifest["version"] += 1
        _fsync_dirs({path.parent for path in self._written})
        _write_json_atomically(self.store.path / MANIFEST, self.manifest)
        for path in self._superseded:
            path.unlink(missing_ok=True)

    def _remove_orphans(self) -> None:
        """Delete Parquet files no manifest lists (left behind by a crashed write)."""
        listed = {entry["file"] for partitions in self.manifest["tables"].values()
                  for entry in partitions.values()}
        listed |= {entry["file"] for entry in self.manifest["rejects"].values()}
        for path in self.store.path.rglob("*.parquet"):
            if path.relative_to(self.store.path).as_posix() not in listed:
                path.unlink(missing_ok=True)


def _upsert(old: pd.DataFrame, new: pd.DataFrame, key: list[str],
            deleting: np.ndarray) -> tuple[pd.DataFrame, WriteCounts]:
    """Replace rows of `old` whose key is in `new`, add the others, drop the `deleting` ones.

    Returns the merged rows and what changed: identical rows count as unchanged, and a
    deletion of a row that is not stored changes nothing.
    """
    old_keyed = old.set_index(key)
    new_keyed = new.set_index(key)
    stored = new_keyed.index.isin(old_keyed.index)
    counts = WriteCounts(inserted=int((~stored & ~deleting).sum()),
                         deleted=int((stored & deleting).sum()),
                         unchanged=int((~stored & deleting).sum()))
    replacing = stored & ~deleting
    if replacing.any():
        after = new_keyed[replacing]
        before = old_keyed.loc[after.index, after.columns]
        same = ((before == after) | (before.isna() & after.isna())).all(axis=1)
        counts.updated = int((~same).sum())
        counts.unchanged += int(same.sum())
    kept = old_keyed[~old_keyed.index.isin(new_keyed.index[stored])]
    merged = pd.concat([kept, new_keyed[~deleting]]).reset_index()
    return merged[old.columns], counts


_POSITION_KEY = ["date", "account_id", "security_id"]
_POSITION_VALUES = ["quantity", "reported_value"]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """Row by row: the position values are equal (missing equals missing)."""
    equal = [(a[c].to_numpy() == b[c].to_numpy()) | (a[c].isna().to_numpy() & b[c].isna().to_numpy())
             for c in _POSITION_VALUES]
    return np.logical_and.reduce(equal)


def merge_positions(old: pd.DataFrame, old_versions: pd.DataFrame, new: pd.DataFrame, complete: set[str],
                    file: str = "") -> tuple[pd.DataFrame, pd.DataFrame, WriteCounts]:
    """One date's positions after `new`, without rewriting what was knowable before.

    A row that changes (or, with quantity 0, closes) a stored row filed earlier keeps the stored
    one as a version valid until the new row's available_from; one filed on the same day replaces
    it (a correction); one filed earlier than the stored row becomes a version valid until the
    stored row's available_from. For each account in `complete` (its holdings stated in full),
    stored rows the batch leaves out close as of the batch's filing date, unless filed after it.
    A row that is a known version again changes nothing, so re-ingesting an original filing after
    its amendment is idempotent. A complete batch older than everything stored for its account
    (not seen before) is refused: its left-out rows cannot be told apart from later additions.

    Returns the current rows, the versions and what changed in the current rows.
    """
    counts = WriteCounts()
    af = "available_from"
    new = new.reset_index(drop=True)
    if old.empty and old_versions.empty:             # a new day: nothing to compare with
        opened = (new["quantity"] != 0).to_numpy()
        return new[opened].reset_index(drop=True), old_versions, WriteCounts(
            inserted=int(opened.sum()), unchanged=int((~opened).sum()))
    new_versions: list[pd.DataFrame] = []
    known = pd.MultiIndex.from_frame(old_versions[[*_POSITION_KEY, af]])
    again = pd.MultiIndex.from_frame(new[[*_POSITION_KEY, af]]).isin(known)
    counts.unchanged += int(again.sum())
    new = new[~again].reset_index(drop=True)
    o = old.set_index(_POSITION_KEY)
    keys = pd.MultiIndex.from_frame(new[_POSITION_KEY])
    stored_mask = keys.isin(o.index)
    stored = o.reindex(keys).reset_index()
    deleting = (new["quantity"] == 0).to_numpy()
    same = stored_mask & _same(new, stored) & ~deleting
    later = stored_mask & (new[af] > stored[af]).to_numpy()
    earlier = stored_mask & (new[af] < stored[af]).to_numpy()
    changing = stored_mask & ~same
    # earlier knowledge of the same values: knowable from the earlier day
    counts.updated += int((same & earlier).sum())
    counts.unchanged += int((same & ~earlier).sum())
    if (changing & earlier & ~deleting).any():   # an older filing: a version until the stored one
        rows = new[changing & earlier & ~deleting]
        new_versions.append(rows.assign(superseded_from=stored.loc[rows.index, af].to_numpy()))
    counts.unchanged += int((changing & earlier).sum())
    replacing = changing & ~earlier
    if (replacing & later).any():                # the stored row becomes a version
        rows = stored[replacing & later]
        new_versions.append(rows.assign(superseded_from=new.loc[rows.index, af].to_numpy()))
    counts.updated += int((replacing & ~deleting).sum())
    counts.deleted += int((replacing & deleting).sum())
    counts.unchanged += int((~stored_mask & deleting).sum())
    counts.inserted += int((~stored_mask & ~deleting).sum())
    take = (replacing & ~deleting) | (~stored_mask & ~deleting) | (same & earlier)
    drop_keys = keys[replacing | (same & earlier)]
    current = pd.concat([o[~o.index.isin(drop_keys)].reset_index(), new[take]], ignore_index=True)
    if complete:
        filed = new[new["account_id"].isin(complete)].groupby("account_id")[af].max()
        for account in sorted(complete):
            mine = current["account_id"] == account
            if account not in filed.index:
                continue
            day = filed[account]
            stored_here = old[old["account_id"] == account]
            seen = (old_versions["account_id"] == account) & (old_versions[af] == day)
            if len(stored_here) and (stored_here[af] > day).all() and not seen.any():
                raise StoreError(f"{file}: the holdings of {account} for {stored_here['date'].iloc[0]:%Y-%m-%d} "
                                 f"filed {day:%Y-%m-%d} are older than the ones stored (filed "
                                 f"{stored_here[af].min():%Y-%m-%d}): ingest the filings in filing order, "
                                 "or together")
            listed = pd.MultiIndex.from_frame(new.loc[new["account_id"] == account, _POSITION_KEY])
            left_out = (mine & ~pd.MultiIndex.from_frame(current[_POSITION_KEY]).isin(listed)
                        & (current[af] <= day)).to_numpy()
            if left_out.any():
                closed = current[left_out & (current[af] < day).to_numpy()]
                new_versions.append(closed.assign(superseded_from=day))
                counts.deleted += int(left_out.sum())
                current = current[~left_out]
    versions = pd.concat([old_versions, *new_versions], ignore_index=True) if new_versions else old_versions
    return current[old.columns].reset_index(drop=True), versions[old_versions.columns], counts


def _latest(frame: pd.DataFrame | pa.Table, column: str) -> dt.date | None:
    """The latest date in `column` of `frame`, or None when it holds none."""
    latest = (pc.max(frame[column]).as_py() if isinstance(frame, pa.Table) else frame[column].max())
    return None if latest is None or pd.isna(latest) else pd.Timestamp(latest).date()


def _to_arrow(frame: pd.DataFrame | pa.Table, schema: pa.Schema) -> pa.Table:
    if isinstance(frame, pa.Table):
        return frame.select(schema.names).cast(schema)
    arrays = []
    for column in schema:
        values = frame[column.name]
        if pa.types.is_date32(column.type):
            arrays.append(pa.array(values.to_numpy().astype("datetime64[D]"), type=pa.date32()))
        elif pa.types.is_timestamp(column.type):
            arrays.append(pa.array(values.to_numpy().astype("datetime64[us]"), type=column.type))
        elif pa.types.is_int64(column.type):
            arrays.append(pa.array(pd.array(values, dtype="Int64"), type=pa.int64()))
        elif pa.types.is_float64(column.type):
            arrays.append(pa.array(values.to_numpy(dtype="float64", na_value=np.nan),
                                   type=pa.float64(), from_pandas=True))
        else:
            arrays.append(pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def _key_day(key: str) -> dt.date:
    """The day of a partition key: "date=2024-06-28", or "period_end=2024-06-28/freq=W"."""
    return dt.date.fromisoformat(key.split("=", 1)[1][:10])


def _read_files(paths: list[str] | list[Path], schema: pa.Schema, columns: list[str] | None) -> pd.DataFrame:
    if not paths:
        empty = schema.empty_table()
        frame = empty.to_pandas(date_as_object=False)
    else:
        frame = pa.concat_tables([pq.read_table(p, columns=columns) for p in paths]).to_pandas(
            date_as_object=False)
    if columns is not None:
        frame = frame[columns]
    for name in frame.columns:
        if pa.types.is_date32(schema.field(name).type):
            frame[name] = frame[name].astype("datetime64[ns]")
    return frame


def _write_parquet(table: pa.Table, path: Path) -> None:
    with path.open("wb") as handle:
        pq.write_table(table, handle, compression="zstd")
        handle.flush()
        os.fsync(handle.fileno())


def _write_json_atomically(path: Path, payload: dict) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with temporary.open("w") as handle:
        handle.write(json.dumps(payload, sort_keys=True))   # one line: json's C encoder, ~10x faster
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_dirs({path.parent})


def _fsync_dirs(folders: Iterable[Path]) -> None:
    for folder in folders:
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _empty_manifest() -> dict:
    return {"format": FORMAT_VERSION, "version": 0, "tables": {}, "rejects": {}, "ingests": []}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    if not path.is_file():
        raise FileError(path, "no such file")
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise FileError(path, f"cannot be read: {error.strerror}") from None
    return digest.hexdigest()
