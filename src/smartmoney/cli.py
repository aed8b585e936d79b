"""The `smartmoney` command: a thin layer that parses, calls the library and prints.

User errors (bad input, a missing store, an unknown name) print one clear line to stderr and
exit with code 2; they never show a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from smartmoney.schema import TABLES
from smartmoney.sources import SOURCES, FileError, source
from smartmoney.store import IngestReport, Store, StoreError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Hedge funds and retail in US stocks, side by side.")
# Piped output is not cut to 80 columns: tables stay whole in logs and CI.
# Markup off: file names, reasons and values are printed as they are ("[scale]" stays).
out = Console(width=None if sys.stdout.isatty() else 240, markup=False)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 240, markup=False)

StoreOption = Annotated[Path, typer.Option("--store", help="The store directory.")]
USER_ERRORS = (StoreError, FileError, KeyError, ValueError)


def _fail(error: Exception) -> None:
    message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def ingest(
    kind: Annotated[str, typer.Argument(help=f"What the files hold: {', '.join(SOURCES)}. Or KIND=FILE "
                                        "pairs, to ingest files of several kinds in one write.")],
    store: StoreOption,
    files: Annotated[list[str] | None, typer.Argument(
        help="Input files: CSV or Parquet tables, or the format KIND names (LEAN ticks, CFTC "
             "text/zip, ...).", show_default=False)] = None,
) -> None:
    """Validate and add files to the store (all or nothing; bad rows are kept as rejects)."""
    try:
        parts = _ingest_parts(kind, files or [])
        reports = Store.open(store, create=True).ingest_many(parts)
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


def _ingest_parts(kind: str, files: list[str]) -> list[tuple[str, list[str]]]:
    """`KIND FILE...` or `KIND=FILE...` (several kinds, in order) as (kind, files) parts."""
    if "=" not in kind:
        source(kind)
        if not files:
            raise ValueError(f"no input files given for {kind}")
        return [(kind, files)]
    parts: list[tuple[str, list[str]]] = []
    for pair in [kind, *files]:
        name, _, path = pair.partition("=")
        if not path:
            raise ValueError(f"{pair!r}: expected KIND=FILE once the first input is KIND=FILE")
        source(name)
        if parts and parts[-1][0] == name:
            parts[-1][1].append(path)
        else:
            parts.append((name, [path]))
    return parts


def _write_atomically(out_file: Path, write) -> None:
    """`write(path)` to a temporary file beside `out_file`, then renamed over it: a killed
    command leaves the previous file or the new one, never half of it."""
    temporary = out_file.with_name(f".{out_file.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        os.replace(temporary, out_file)
    finally:
        temporary.unlink(missing_ok=True)


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
        for note in r.notes:
            err.print(f"note: {r.file}: {note}", highlight=False, soft_wrap=True)


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


EngineOption = Annotated[str, typer.Option(help="duckdb (default) or spark.")]
MemoryOption = Annotated[str | None, typer.Option(
    help="DuckDB memory limit, e.g. 6GB (DuckDB spills to disk beyond it; leave ~0.7 GB for the rest of the "
         "process). Default: a fifth of the machine's memory.")]
KOption = Annotated[int, typer.Option(help="Disclosure: fewest accounts in a published cell.")]
POption = Annotated[float, typer.Option(help="Disclosure: largest share of one account, percent.")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Use only data knowable on this date.")]


FAMILIES = {
    "exposure": lambda book, by, freq, as_of: book.exposure(by=by, freq=freq, as_of=as_of),
    "flows": lambda book, by, freq, as_of: book.flows(by=by, freq=freq, as_of=as_of),
    "retail": lambda book, by, freq, as_of: book.retail(by=by, freq=freq, as_of=as_of),
    "divergence": lambda book, by, freq, as_of: book.divergence(by=by, as_of=as_of),
    "swap_share": lambda book, by, freq, as_of: book.swap_share(as_of=as_of),
    "watch_list": lambda book, by, freq, as_of: book.watch_list(as_of=as_of),
    "event_study": lambda book, by, freq, as_of: book.event_study(as_of=as_of),
    "cot": lambda book, by, freq, as_of: book.cot(as_of=as_of),
    "short_volume": lambda book, by, freq, as_of: book.short_volume(freq="D" if freq == "D" else "W", as_of=as_of),
    "short_interest": lambda book, by, freq, as_of: book.short_interest(as_of=as_of),
    "most_shorted": lambda book, by, freq, as_of: book.most_shorted(as_of=as_of),
    "13f_flows": lambda book, by, freq, as_of: book.filer_flows(by=by, as_of=as_of),
    "13f_holders": lambda book, by, freq, as_of: book.holders(as_of=as_of),
    "13f_concentration": lambda book, by, freq, as_of: book.concentration(as_of=as_of),
    "13f_vip": lambda book, by, freq, as_of: book.vip(as_of=as_of),
}


@app.command()
def metrics(
    family: Annotated[str, typer.Argument(help=f"One of: {', '.join(FAMILIES)}.")],
    store: StoreOption,
    by: Annotated[str, typer.Option(help="book, strategy, sector, industry_group, industry, "
                                    "sub_industry, ticker, tmt, region, asset_type or basket.")] = "book",
    freq: Annotated[str, typer.Option(help="D, W or M (Q also works).")] = "W",
    as_of: AsOfOption = None,
    engine: EngineOption = "duckdb",
    format: Annotated[str, typer.Option("--format", help="table, csv, json or parquet.")] = "table",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    k: KOption = 5,
    p: POption = 50.0,
    last: Annotated[int, typer.Option(help="Rows shown in the table format (0 = all).")] = 20,
    memory_limit: MemoryOption = None,
) -> None:
    """Metric tables: exposure, flows, retail, hedge funds vs retail (disclosure control applied).

    divergence takes --by (weekly, windows of 1, 4 and 13 weeks); swap_share, watch_list and
    event_study take neither --by nor --freq. The 13F families are quarterly: 13f_flows takes
    --by (book, sector ... ticker, tmt, asset_type, basket), the others neither.
    """
    import smartmoney as sm

    try:
        if family not in FAMILIES:
            raise ValueError(f"unknown metric family {family!r}; choose one of {', '.join(FAMILIES)}")
        if format not in ("table", "csv", "json", "parquet"):
            raise ValueError(f"unknown format {format!r}; choose table, csv, json or parquet")
        if format == "parquet" and out_file is None:
            raise ValueError("--format parquet needs --out FILE.parquet")
        book = sm.open(store, engine=engine, k=k, p=p, memory_limit=memory_limit)
        with err.status(f"Computing {family} by {by}..."):
            frame = FAMILIES[family](book, by, freq, as_of).to_pandas()
    except USER_ERRORS as error:
        _fail(error)
    _emit(frame, format, out_file, last)


retail_app = typer.Typer(no_args_is_help=True, help="Retail trades identified on a tape.")
app.add_typer(retail_app, name="retail")


@retail_app.command("identify")
def retail_identify(
    store: StoreOption,
    method: Annotated[str, typer.Option(help="bjzz or quote_midpoint (needs quotes).")] = "bjzz",
    date: Annotated[str | None, typer.Option(help="Only this trading day (YYYY-MM-DD).")] = None,
    write: Annotated[bool, typer.Option("--write", help="Also upsert the result into retail_flows.")] = False,
    engine: EngineOption = "duckdb",
    format: Annotated[str, typer.Option("--format", help="table, csv, json or parquet.")] = "table",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
) -> None:
    """Retail buys and sells per symbol and day from the store's `ticks` (and `quotes`)."""
    from smartmoney.engine import connect
    from smartmoney.identify import identify, tape_warnings, write_retail_flows

    try:
        if format not in ("table", "csv", "json", "parquet"):
            raise ValueError(f"unknown format {format!r}; choose table, csv, json or parquet")
        opened = Store.open(store)
        with err.status(f"Classifying prints ({method})..."):
            frame = identify(connect(opened, engine), method, date=date).to_pandas()
        for warning in tape_warnings(frame):
            err.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False, markup=True, soft_wrap=True)
        report = write_retail_flows(opened, frame, method) if write else None
    except USER_ERRORS as error:
        _fail(error)
    _emit(frame, format, out_file, last=20)
    if report is not None:
        _print_reports([report])


def _emit(frame: pd.DataFrame, format: str, out_file: Path | None, last: int) -> None:
    dates = frame.select_dtypes("datetime").columns
    frame = frame.assign(**{c: frame[c].dt.strftime("%Y-%m-%d") for c in dates})
    if format == "parquet":
        _write_atomically(out_file, lambda path: frame.to_parquet(path, index=False))
    elif format == "csv" and out_file:
        _write_atomically(out_file, lambda path: frame.to_csv(path, index=False))
    elif format == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif format == "json":
        text = frame.to_json(orient="records", indent=1, double_precision=15)
        if out_file:
            _write_atomically(out_file, lambda path: path.write_text(text))
        else:
            print(text)
    else:
        shown = frame if last == 0 else frame.tail(last)
        grid = RichTable(title=f"{len(frame):,} rows" + (f", last {len(shown)}" if len(shown) < len(frame) else ""))
        for name in shown.columns:
            grid.add_column(name, justify="right" if pd.api.types.is_numeric_dtype(shown[name]) else "left")
        for row in shown.itertuples(index=False):
            grid.add_row(*(_cell(value) for value in row))
        out.print(grid)
    if out_file is not None:
        err.print(f"wrote {len(frame):,} rows to {out_file}", highlight=False)


def _cell(value) -> str:
    """A number as a person reads it in a table: 1.58bn, 425.8m, 53.21."""
    if isinstance(value, float):
        if value != value:
            return ""
        for scale, suffix in ((1e9, "bn"), (1e6, "m")):
            if abs(value) >= scale:
                return f"{value / scale:,.2f}{suffix}"
        return f"{value:,.2f}"
    return "" if value is None else str(value)


@app.command()
def facts(
    store: StoreOption,
    as_of: AsOfOption = None,
    engine: EngineOption = "duckdb",
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    k: KOption = 5,
    p: POption = 50.0,
) -> None:
    """The positioning facts about the last week up to --as-of, each with its id."""
    import smartmoney as sm

    try:
        if format not in ("table", "json"):
            raise ValueError(f"unknown format {format!r}; choose table or json")
        with err.status("Computing the facts..."):
            found = sm.open(store, engine=engine, k=k, p=p).facts(as_of=as_of)
    except USER_ERRORS as error:
        _fail(error)
    if format == "json":
        print(json.dumps([fact.to_dict() for fact in found], indent=1))
        return
    grid = RichTable(title=f"{len(found)} facts")
    for name in ("id", "value", "n", "of", "direction", "since", "label"):
        grid.add_column(name, overflow="fold")
    for fact in found:
        grid.add_row(fact.id, _cell(float(fact.value)), _cell(fact.n), _cell(fact.of), fact.direction,
                     str(fact.since_date or ""), fact.label)
    out.print(grid)


@app.command()
def audit(
    store: StoreOption,
    family: Annotated[str, typer.Option(help="flows or exposure.")] = "flows",
    freq: Annotated[str, typer.Option(help="D, W or M (Q also works).")] = "W",
    as_of: AsOfOption = None,
    last: Annotated[int, typer.Option(help="Periods audited, the latest (0 = all).")] = 12,
    format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    engine: EngineOption = "duckdb",
    k: KOption = 5,
    p: POption = 50.0,
) -> None:
    """Check disclosure control across tables: can a suppressed cell be worked out from the
    published cells of every security grouping together? Exits 1 when a cell the rule hides
    itself (a sensitive one, not a complement) can."""
    import smartmoney as sm

    try:
        if format not in ("table", "csv", "json"):
            raise ValueError(f"unknown format {format!r}; choose table, csv or json")
        with err.status(f"Auditing {family} across every security grouping..."):
            found = sm.open(store, engine=engine, k=k, p=p).disclosure_audit(family, freq, as_of, last=last)
    except USER_ERRORS as error:
        _fail(error)
    exposed = found[found["exposed"]]
    _emit(exposed.reset_index(drop=True), format, None, last=0)
    sensitive = int(exposed["sensitive"].sum())
    err.print(f"{len(found):,} suppressed cells in {found['period_end'].nunique()} periods "
              f"({int(found['sensitive'].sum()):,} hidden by the rule itself, the others complements); "
              f"{len(exposed):,} exposed by the published cells together, {sensitive:,} of them "
              f"hidden by the rule itself", highlight=False)
    if sensitive:
        raise typer.Exit(1)


@app.command()
def report(
    store: StoreOption,
    as_of: AsOfOption = None,
    engine: EngineOption = "duckdb",
    format: Annotated[str, typer.Option("--format", help="text, md, json or html.")] = "text",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    html_out: Annotated[Path | None, typer.Option("--html-out", help="Also write the HTML here.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json-out", help="Also write the JSON here.")] = None,
    k: KOption = 5,
    p: POption = 50.0,
    memory_limit: MemoryOption = None,
) -> None:
    """The weekly positioning note: headline, leverage, flows, sectors, the turn, macro."""
    import smartmoney as sm
    from smartmoney import report as reports
    from smartmoney.report.html import render_html

    renderers = {"text": reports.render_text, "md": reports.render_markdown, "json": reports.render_json,
                 "html": render_html}
    try:
        if format not in renderers:
            raise ValueError(f"unknown format {format!r}; choose text, md, json or html")
        with err.status("Computing flows, exposure and facts for the weekly note..."):
            built = reports.build(sm.open(store, engine=engine, k=k, p=p, memory_limit=memory_limit), as_of)
    except USER_ERRORS as error:
        _fail(error)
    text = renderers[format](built)
    if out_file is None:
        print(text, end="")
    else:
        _write_atomically(out_file, lambda path: path.write_text(text))
        err.print(f"wrote the {format} report to {out_file.resolve()}", highlight=False)
    for extra, kind in ((html_out, "html"), (json_out, "json")):
        if extra is not None:
            _write_atomically(extra, lambda path, kind=kind: path.write_text(renderers[kind](built)))
            err.print(f"wrote the {kind.upper()} report to {extra.resolve()}", highlight=False)


@app.command()
def serve(
    store: StoreOption,
    host: Annotated[str, typer.Option(help="Address to bind; beyond loopback a token is required.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    token: Annotated[str | None, typer.Option(envvar="SMARTMONEY_TOKEN", show_envvar=True,
                                              help="Token every request must carry (16+ characters).")] = None,
    engine: EngineOption = "duckdb",
    k: KOption = 5,
    p: POption = 50.0,
) -> None:
    """The web dashboard over a store (read-only): pages, charts and a JSON API (docs/web.md)."""
    from smartmoney.web.server import check_bind, run

    try:
        check_bind(host, token)
        Store.open(store)
    except USER_ERRORS as error:
        _fail(error)
    err.print(f"serving {store} on http://{host}:{port}/ (Ctrl-C stops)", highlight=False)
    run(store, host=host, port=port, token=token, engine=engine, k=k, p=p)


@app.command()
def fetch(
    source: Annotated[str, typer.Argument(help="sec13f, cftc or finra.")],
    what: Annotated[str, typer.Argument(help="sec13f: filing, dataset; cftc: tff, tff_combined, legacy, "
                                        "legacy_combined, tff_weekly, ..._weekly; finra: short_volume, "
                                        "short_interest (docs/fetch.md).")],
    year: Annotated[list[str] | None, typer.Option(help="cftc: a year (repeatable).")] = None,
    date: Annotated[list[str] | None, typer.Option(help="finra: a date, YYYY-MM-DD (repeatable).")] = None,
    start: Annotated[str | None, typer.Option(help="finra short_volume: first day of a range.")] = None,
    end: Annotated[str | None, typer.Option(help="finra short_volume: last day of a range.")] = None,
    facility: Annotated[list[str] | None, typer.Option(help="finra short_volume: CNMS (default), "
                                                       "FNRA, FNSQ, FNQC, FNYX, FORF (repeatable).")] = None,
    cik: Annotated[str | None, typer.Option(help="sec13f filing: the filer's CIK.")] = None,
    accession: Annotated[list[str] | None, typer.Option(help="sec13f filing: accession number (repeatable).")] = None,
    dataset: Annotated[list[str] | None, typer.Option(help="sec13f dataset: e.g. 2023q4 or "
                                                      "01jun2024-31aug2024 (repeatable).")] = None,
    cache: Annotated[Path | None, typer.Option(help="Cache directory (default: $SMARTMONEY_CACHE or "
                                               "~/.cache/smartmoney).")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Download again even when cached.")] = False,
    user_agent: Annotated[str | None, typer.Option(help="'Name email@domain', required by the SEC "
                                                   "(default: $SMARTMONEY_USER_AGENT).")] = None,
    base_url: Annotated[str | None, typer.Option(help="Another server (a mirror) "
                                                 "(default: $SMARTMONEY_<SOURCE>_BASE_URL or the official one).")] = None,
    ingest: Annotated[bool, typer.Option("--ingest", help="Also ingest the files into --store.")] = False,
    store: Annotated[Path | None, typer.Option("--store", help="The store directory (with --ingest).")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Download raw files from the SEC, the CFTC or FINRA into a cache (and optionally ingest them)."""
    from smartmoney import fetch as fetching

    values = {"year": year, "date": date, "facility": facility, "cik": [cik] if cik else None,
              "accession": accession, "dataset": dataset}
    try:
        if ingest and store is None:
            raise ValueError("--ingest needs --store DIR")
        fetched = fetching.fetch(source, what, values, start=start, end=end, cache=cache, refresh=refresh,
                                 user_agent=user_agent, base_url=base_url, progress=not quiet and err.is_terminal)
        reports = (Store.open(store, create=True).ingest(fetching.ingest_kind(source, what),
                                                          [item.path for item in fetched]) if ingest else [])
    except (*USER_ERRORS, fetching.FetchError) as error:
        _fail(error)
    for item in fetched:
        out.print(f"{'downloaded' if item.downloaded else 'cached'} {item.url} -> {item.path} "
                  f"({item.size:,} bytes)", highlight=False, soft_wrap=True)
    if reports:
        _print_reports(reports)


def main() -> None:
    """Entry point of the `smartmoney` console script."""
    pd.set_option("display.width", 160)
    app()


if __name__ == "__main__":
    main()
