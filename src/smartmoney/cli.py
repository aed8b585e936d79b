"""The `smartmoney` command: a thin layer that parses, calls the library and prints.

User errors (bad input, a missing store, an unknown name) print one clear line to stderr and
exit with code 2; they never show a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table as RichTable

from smartmoney.schema import TABLES
from smartmoney.sources import SOURCES, FileError, source
from smartmoney.store import IngestReport, Store, StoreError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Hedge funds and retail in US stocks, side by side.")
# Piped output is not cut to 80 columns: tables stay whole in logs and CI.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

StoreOption = Annotated[Path, typer.Option("--store", help="The store directory.")]
USER_ERRORS = (StoreError, FileError, KeyError, ValueError)


def _fail(error: Exception) -> None:
    message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def ingest(
    kind: Annotated[str, typer.Argument(help=f"What the files hold: {', '.join(SOURCES)}.")],
    files: Annotated[list[Path], typer.Argument(help="CSV or Parquet files.")],
    store: StoreOption,
) -> None:
    """Validate and add files to the store (all or nothing; bad rows are kept as rejects)."""
    try:
        source(kind)
        reports = Store.open(store, create=True).ingest(kind, files)
    except USER_ERRORS as error:
        _fail(error)
    _print_reports(reports)
    rejected = sum(r.rejected for r in reports)
    if rejected:
        shown = pd.concat([r.rejects for r in reports]).head(10)
        for row in shown.itertuples():
            err.print(f"  rejected {row.file}, row {row.row}: {row.reason}", highlight=False)
        err.print(f"{rejected} row(s) rejected; see them all with "
                  f"`smartmoney rejects --store {store}`", highlight=False)


def _print_reports(reports: list[IngestReport]) -> None:
    table = RichTable(title="ingest")
    for name in ("file", "table", "read", "accepted", "rejected", "inserted", "updated",
                 "unchanged", "deleted"):
        table.add_column(name, justify="left" if name in ("file", "table") else "right")
    for r in reports:
        c = r.counts
        table.add_row(r.file, r.table, *(f"{n:,}" for n in (r.read, r.accepted, r.rejected, c.inserted,
                                                            c.updated, c.unchanged, c.deleted)))
    out.print(table)
    for r in reports:
        if r.ignored_columns:
            err.print(f"note: {r.file}: ignored columns not in {r.table}: "
                      f"{', '.join(r.ignored_columns)}", highlight=False)


@app.command()
def rejects(
    store: StoreOption,
    table: Annotated[str | None, typer.Option(help="Only rejects of this table.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show in the table format (0 = all).")] = 50,
    format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """List rejected input rows with their reasons."""
    try:
        frame = Store.open(store).rejects(table)
    except USER_ERRORS as error:
        _fail(error)
    if format == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif format == "json":
        print(frame.to_json(orient="records", indent=1))
    elif format == "table":
        shown = frame if limit == 0 else frame.head(limit)
        grid = RichTable(title=f"{len(frame):,} rejected row(s)")
        for name in ("file", "row", "table", "reason", "record"):
            grid.add_column(name, overflow="fold")
        for row in shown.itertuples(index=False):
            grid.add_row(row.file, str(row.row), row.table, row.reason, row.record)
        out.print(grid)
        if len(shown) < len(frame):
            out.print(f"... {len(frame) - len(shown):,} more; use --limit 0 or --format csv")
    else:
        _fail(ValueError(f"unknown format {format!r}; choose table, csv or json"))


@app.command()
def export(
    table: Annotated[str, typer.Argument(help=f"One of {', '.join([*TABLES, 'rejects'])}.")],
    store: StoreOption,
    out_file: Annotated[Path, typer.Option("--out", help="FILE.parquet or FILE.csv")],
) -> None:
    """Write a table of the store to a Parquet or CSV file."""
    try:
        rows = Store.open(store).export(table, out_file)
    except USER_ERRORS as error:
        _fail(error)
    out.print(f"wrote {rows:,} rows of {table} to {out_file}")


@app.command()
def info(
    store: StoreOption,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Tables, row counts, date ranges, accounts, securities and rejects of a store."""
    try:
        facts = Store.open(store).info()
    except USER_ERRORS as error:
        _fail(error)
    if format == "json":
        print(json.dumps(facts, indent=1))
        return
    _print_info(facts)


def _print_info(facts: dict) -> None:
    grid = RichTable(title=f"store {facts['store']} (version {facts['version']})")
    for name in ("table", "rows", "files", "first date", "last date"):
        grid.add_column(name, justify="right" if name in ("rows", "files") else "left")
    for name, entry in facts["tables"].items():
        grid.add_row(name, f"{entry['rows']:,}", f"{entry['files']:,}",
                     entry["first_date"] or "", entry["last_date"] or "")
    out.print(grid)
    out.print(f"{facts['accounts']:,} accounts, {facts['securities']:,} securities, "
              f"{facts['rejected_rows']:,} rejected rows, {facts['ingests']:,} ingests")


@app.command()
def simulate(
    store: StoreOption,
    scenario: Annotated[str, typer.Option(help="A scenario .toml file, or a packaged scenario name.")] = "june-2024-rotation",
    funds: Annotated[int | None, typer.Option(help="Override the scenario's number of funds.")] = None,
    names_min: Annotated[int | None, typer.Option(help="Fewest names per fund.")] = None,
    names_max: Annotated[int | None, typer.Option(help="Most names per fund.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Build a simulated book from a scenario into a store."""
    from smartmoney.simulate import ScenarioError, load_scenario
    from smartmoney.simulate.build import build

    try:
        loaded = load_scenario(scenario)
        reports = build(loaded, Store.open(store, create=True), funds=funds, names_min=names_min,
                        names_max=names_max, progress=not quiet)
    except (*USER_ERRORS, ScenarioError) as error:
        _fail(error)
    rows = sum(r.accepted for r in reports)
    out.print(f"built scenario {loaded.name!r} into {store}: {rows:,} rows")
    _print_info(Store(store).info())


def main() -> None:
    """Entry point of the `smartmoney` console script."""
    pd.set_option("display.width", 160)
    app()


if __name__ == "__main__":
    main()
