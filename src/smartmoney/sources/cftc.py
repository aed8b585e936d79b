"""CFTC Commitments of Traders files: Traders in Financial Futures (TFF) and legacy COT.

The CFTC publishes each report as comma-separated text, one row per contract market and report
date (the Tuesday the positions are as of):

- annual and history files (``FinFutYY.txt`` in ``fut_fin_txt_YYYY.zip``, ``FinComYY.txt`` in
  ``com_fin_txt_YYYY.zip``, ``annual.txt`` in ``deacotYYYY.zip``, ``annualof.txt`` in
  ``deahistfoYYYY.zip``) start with a quoted header row; columns are found by name;
- weekly files (``FinFutWk.txt``, ``FinComWk.txt``, ``deafut.txt``, ``deacom.txt``) have no
  header and the same columns in the same order (TFF 87 fields, legacy 129); they are read by
  position. Either kind may come as the CFTC's zip holding one text file.

One input row becomes one `futures_positions` row per trader category: TFF dealer,
asset_manager, leveraged_funds, other_reportables, nonreportables; legacy noncommercial,
commercial, nonreportables. Only the "All" position columns are read (open interest, long,
short, spreading); the derived columns (changes, % of open interest, trader counts,
concentration, old/other crop splits) are not stored. Nonreportables have no spread figure,
nor do legacy commercials: their `spread` is null. Contracts are keyed on the CFTC contract
market code, which survives renames; `market` keeps the name the report used that week.

Futures only or combined: TFF rows say it (FutOnly_or_Combined = FutOnly | Combined). Legacy
files do not, and the CFTC gives both the same columns, so the report comes from the file name
(``annual.txt``, ``deacot*``, ``deafut*`` or a name with ``futures_only``: futures only;
``annualof.txt``, ``deahistfo*``, ``deacom*`` or a name with ``combined``: combined), or from the
kind it is ingested as: ``cftc_legacy_futures_only`` or ``cftc_legacy_combined``.

Release date (`release_date`): the CFTC publishes on the Friday after the Tuesday report date
(Monday data, when Tuesday is a federal holiday, the same Friday). A federal holiday on the
Wednesday, Thursday or Friday of that week moves the release to the next business day (the
Monday), as in the CFTC's published schedules. The catch-up schedules after the 2018-19 and
2025 government shutdowns are built in (`CATCH_UP_RELEASES`). available_from = release_date.

Row checks. An input row is used whole or not at all: it is rejected, with every reason that
applies, when it has the wrong number of fields or is not UTF-8 text; when its report date is
not a YYYY-MM-DD date, falls on a weekend, or disagrees with As_of_Date_In_Form_YYMMDD; when
the contract code is not six letters, digits or '+'; when the market name is empty; when a
position or the open interest is empty, not a number, negative, not whole, or too large to hold
exactly (2**53); or when the figures do not add up as the CFTC's always do: open interest =
the longs of every category + the spreads = the shorts + the spreads. Consolidated markets
(codes ending in '+') add contracts of several sizes, each rounded, so there the sums may
differ from open interest by half a contract per figure added. The store then rejects a key
seen twice in one file (same report date, report and contract code): both rows.

Row accounting: `read` counts category rows, so a TFF file of N data rows reads 5 x N rows (a
legacy file 3 x N). A rejected input row is rejected as all of its category rows, each reject
naming the file, the data row (data row N is on line N + 1 below a header, line N without
one) and the category, so read = accepted + rejected holds exactly in category rows. Blank
lines are not rows. A file that cannot be used at all (missing, empty, binary, a header and no
rows, missing columns, the other report's layout, a legacy file whose report cannot be told)
raises FileError naming the file, and nothing is ingested.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from smartmoney.schema import FUTURES_POSITIONS
from smartmoney.sources.base import FileError
from smartmoney.validate import REJECT_COLUMNS, Batch


@dataclass(frozen=True)
class Layout:
    """Where one report family keeps what `futures_positions` needs.

    `categories` maps each trader category to its long, short and spread columns (None: the
    report has no spread figure for it). `positions` gives each column read its place in the
    CFTC's column order, for weekly files without a header. `width` is the number of fields.
    """

    family: str
    title: str
    width: int
    market: str
    yymmdd: str
    date: str
    code: str
    open_interest: str
    categories: dict[str, tuple[str, str, str | None]]
    positions: dict[str, int] = field(hash=False)
    report_column: str | None = None

    @property
    def numbers(self) -> list[str]:
        """The columns holding contracts: open interest and every long, short and spread."""
        return [self.open_interest, *(c for columns in self.categories.values() for c in columns if c)]


def _tff() -> Layout:
    categories = {
        "dealer": ("Dealer_Positions_Long_All", "Dealer_Positions_Short_All", "Dealer_Positions_Spread_All"),
        "asset_manager": ("Asset_Mgr_Positions_Long_All", "Asset_Mgr_Positions_Short_All",
                          "Asset_Mgr_Positions_Spread_All"),
        "leveraged_funds": ("Lev_Money_Positions_Long_All", "Lev_Money_Positions_Short_All",
                            "Lev_Money_Positions_Spread_All"),
        "other_reportables": ("Other_Rept_Positions_Long_All", "Other_Rept_Positions_Short_All",
                              "Other_Rept_Positions_Spread_All"),
        "nonreportables": ("NonRept_Positions_Long_All", "NonRept_Positions_Short_All", None),
    }
    positions = {"Market_and_Exchange_Names": 0, "As_of_Date_In_Form_YYMMDD": 1,
                 "Report_Date_as_YYYY-MM-DD": 2, "CFTC_Contract_Market_Code": 3, "Open_Interest_All": 7,
                 **{name: 8 + i for i, name in enumerate(c for cols in list(categories.values())[:4]
                                                          for c in cols)},
                 "NonRept_Positions_Long_All": 22, "NonRept_Positions_Short_All": 23,
                 "FutOnly_or_Combined": 86}
    return Layout("tff", "Traders in Financial Futures", 87, "Market_and_Exchange_Names",
                  "As_of_Date_In_Form_YYMMDD", "Report_Date_as_YYYY-MM-DD", "CFTC_Contract_Market_Code",
                  "Open_Interest_All", categories, positions, report_column="FutOnly_or_Combined")


def _legacy() -> Layout:
    categories = {
        "noncommercial": ("Noncommercial Positions-Long (All)", "Noncommercial Positions-Short (All)",
                          "Noncommercial Positions-Spreading (All)"),
        "commercial": ("Commercial Positions-Long (All)", "Commercial Positions-Short (All)", None),
        "nonreportables": ("Nonreportable Positions-Long (All)", "Nonreportable Positions-Short (All)", None),
    }
    positions = {"Market and Exchange Names": 0, "As of Date in Form YYMMDD": 1,
                 "As of Date in Form YYYY-MM-DD": 2, "CFTC Contract Market Code": 3,
                 "Open Interest (All)": 7, "Noncommercial Positions-Long (All)": 8,
                 "Noncommercial Positions-Short (All)": 9, "Noncommercial Positions-Spreading (All)": 10,
                 "Commercial Positions-Long (All)": 11, "Commercial Positions-Short (All)": 12,
                 "Nonreportable Positions-Long (All)": 15, "Nonreportable Positions-Short (All)": 16}
    return Layout("legacy", "legacy Commitments of Traders", 129, "Market and Exchange Names",
                  "As of Date in Form YYMMDD", "As of Date in Form YYYY-MM-DD", "CFTC Contract Market Code",
                  "Open Interest (All)", categories, positions)


TFF = _tff()
LEGACY = _legacy()
_KIND_OF = {"tff": "cftc_tff", "legacy": "cftc_legacy"}

# ------------------------------------------------------------------------------ release dates

#: Reports the CFTC published late after a lapse in appropriations: report date -> release.
#: 2018-19: the CFTC's announcement of 2019-01-29 (the report of 2018-12-24 on 2019-02-01, then
#: one report each Tuesday and Friday until current on 2019-03-08). 2025: the CFTC's schedule of
#: 2025-11-18 (current again with the report of 2026-01-20, released 2026-01-23 as usual).
CATCH_UP_RELEASES: dict[dt.date, dt.date] = {
    dt.date.fromisoformat(report): dt.date.fromisoformat(release) for report, release in (
        ("2018-12-24", "2019-02-01"), ("2018-12-31", "2019-02-05"), ("2019-01-08", "2019-02-08"),
        ("2019-01-15", "2019-02-12"), ("2019-01-22", "2019-02-15"), ("2019-01-29", "2019-02-19"),
        ("2019-02-05", "2019-02-22"), ("2019-02-12", "2019-02-26"), ("2019-02-19", "2019-03-01"),
        ("2019-02-26", "2019-03-05"),
        ("2025-09-30", "2025-11-19"), ("2025-10-07", "2025-11-21"), ("2025-10-14", "2025-11-25"),
        ("2025-10-21", "2025-12-02"), ("2025-10-28", "2025-12-05"), ("2025-11-04", "2025-12-09"),
        ("2025-11-10", "2025-12-12"), ("2025-11-18", "2025-12-16"), ("2025-11-25", "2025-12-19"),
        ("2025-12-02", "2025-12-23"), ("2025-12-09", "2025-12-30"), ("2025-12-16", "2026-01-06"),
        ("2025-12-23", "2026-01-09"), ("2025-12-30", "2026-01-13"), ("2026-01-06", "2026-01-16"),
        ("2026-01-13", "2026-01-20"),
    )
}


@cache
def _federal_holidays() -> frozenset[dt.date]:
    from pandas.tseries.holiday import USFederalHolidayCalendar

    days = USFederalHolidayCalendar().holidays("1980-01-01", "2100-12-31")
    return frozenset(day.date() for day in days)


def scheduled_release(report_date: dt.date) -> dt.date:
    """The CFTC's usual release day for a report date, before any catch-up schedule.

    The first Friday at least three days after the report date (Tuesday data: that Friday;
    Monday data, when Tuesday is a holiday: the same Friday), moved to the next business day
    when a federal holiday falls on that Wednesday, Thursday or Friday.
    """
    earliest = report_date + dt.timedelta(days=3)
    friday = earliest + dt.timedelta(days=(4 - earliest.weekday()) % 7)
    holidays = _federal_holidays()
    if not any(friday - dt.timedelta(days=back) in holidays for back in range(3)):
        return friday
    day = friday + dt.timedelta(days=1)
    while day.weekday() >= 5 or day in holidays:
        day += dt.timedelta(days=1)
    return day


def release_date(report_date: dt.date) -> dt.date:
    """When the CFTC published (or will publish) the report of `report_date`.

    >>> release_date(dt.date(2024, 6, 18))      # Juneteenth on the Wednesday
    datetime.date(2024, 6, 24)
    """
    return CATCH_UP_RELEASES.get(report_date) or scheduled_release(report_date)


# ------------------------------------------------------------------------------ the source

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = r"^[+-]?\d+(?:\.\d+)?$"
_CODE = r"^[0-9A-Z+]{6}$"
_EXACT = 2.0 ** 53
_SNIFF = 1 << 16


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def _split(text: str) -> list[str]:
    """The fields of one CSV line; ValueError when it is not one (a carriage return inside an
    unquoted field, say)."""
    try:
        return next(csv.reader([text]), [])
    except csv.Error as error:
        raise ValueError(f"not a CSV line ({error})") from None


class CftcFile:
    """A CFTC Commitments of Traders text file, or the CFTC's zip holding one.

    `report` fixes the report ("legacy_combined", ...) instead of reading it from the rows
    (TFF) or the file name (legacy).
    """

    def __init__(self, name: str, layout: Layout, description: str, report: str | None = None):
        self.name = name
        self.layout = layout
        self.description = description
        self.report = report
        self.table = FUTURES_POSITIONS

    def read(self, path: Path) -> Iterator[Batch]:
        path = Path(path)
        if not path.is_file():
            raise FileError(path, "no such file")
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if not m.endswith("/")]
                if len(members) != 1:
                    raise FileError(path, f"a CFTC zip holds one text file; this one holds "
                                    f"{len(members)}")
                yield self._batch(f"{path}:{members[0]}", f"{path.name}/{members[0]}",
                                  archive.read(members[0]))
        else:
            yield self._batch(str(path), path.name, path.read_bytes())

    # ---------------------------------------------------------------------------- reading

    def _batch(self, file: str, name: str, data: bytes) -> Batch:
        layout = self.layout
        if not data.strip():
            raise FileError(file, "the file is empty")
        if b"\x00" in data[:_SNIFF]:
            raise FileError(file, "not a CFTC text file (it contains NUL bytes; binary data?)")
        lines = [(number, line.rstrip(b"\r")) for number, line in enumerate(data.split(b"\n"), start=1)
                 if line.strip()]
        first_number, first_bytes = lines[0]
        try:
            first_text = first_bytes.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise FileError(file, f"not UTF-8 text (invalid byte at offset {error.start} of the first "
                            "line)", row=1) from None
        try:
            first = _split(first_text)
        except ValueError as error:
            raise FileError(file, f"the first line is {error}", row=1) from None
        has_header = bool(first) and _norm(first[0]) == _norm(layout.market)
        if not has_header:
            self._check_headerless(file, first, first_text)
        columns = self._columns(file, first) if has_header else dict(layout.positions)
        width = len(first) if has_header else layout.width
        body = lines[1:] if has_header else lines
        if not body:
            raise FileError(file, "the file has a header but no data rows")
        offset = first_number if has_header else 0
        fixed = self.report or self._report_from_name(file, name, columns)
        return self._rows(file, body, offset, columns, width, fixed)

    def _check_headerless(self, file: str, first: list[str], text: str) -> None:
        layout = self.layout
        other = LEGACY if layout is TFF else TFF
        looks_like = {lay.family: len(first) == lay.width and bool(_ISO_DATE.match(first[2].strip()))
                      for lay in (TFF, LEGACY)} if len(first) > 2 else {}
        if (first and _norm(first[0]) == _norm(other.market)) or looks_like.get(other.family):
            raise FileError(file, f"this is a {other.title} file, not {layout.title}: ingest it as "
                            f"{_KIND_OF[other.family]}", row=1)
        if not looks_like.get(layout.family):
            raise FileError(file, f"not a CFTC {layout.title} file: the first line {text[:120]!r} is "
                            f"neither its header (starting {layout.market!r}) nor a data row of "
                            f"{layout.width} fields (a weekly file)", row=1)

    def _columns(self, file: str, header: list[str]) -> dict[str, int]:
        """Where each column read sits in this file's header."""
        layout = self.layout
        found: dict[str, list[int]] = {}
        for position, name in enumerate(header):
            found.setdefault(_norm(name), []).append(position)
        required = [layout.market, layout.date, layout.code, *layout.numbers]
        missing = [name for name in required if _norm(name) not in found]
        if missing:
            raise FileError(file, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                            f"of the CFTC {layout.title} layout", row=1)
        optional = [layout.yymmdd, *([layout.report_column] if layout.report_column else [])]
        twice = [name for name in required + optional if len(found.get(_norm(name), [])) > 1]
        if twice:
            raise FileError(file, f"column {', '.join(twice)} appears twice in the header", row=1)
        return {name: found[_norm(name)][0] for name in required + optional if _norm(name) in found}

    def _report_from_name(self, file: str, name: str, columns: dict[str, int]) -> str | None:
        """The report a file's name says it is; None when its rows say it (TFF)."""
        layout = self.layout
        if layout.report_column is not None and layout.report_column in columns:
            return None
        lowered = name.lower()
        tokens = ({"tff_futures_only": ("finfut", "fut_fin", "futures_only", "futures-only", "futonly"),
                   "tff_combined": ("fincom", "com_fin", "combined")} if layout.family == "tff" else
                  {"legacy_futures_only": ("deacot", "deafut", "futures_only", "futures-only", "futonly"),
                   "legacy_combined": ("annualof", "deahistfo", "deacom", "combined")})
        said = {report for report, words in tokens.items() if any(word in lowered for word in words)}
        if layout.family == "legacy" and any(PurePosixPath(part).name == "annual.txt"
                                             for part in lowered.split("/")):
            said.add("legacy_futures_only")
        if len(said) == 1:
            return said.pop()
        names, kinds = (("annual.txt/deafut.txt or annualof.txt/deacom.txt",
                         "cftc_legacy_futures_only or cftc_legacy_combined") if layout.family == "legacy" else
                        ("FinFutWk.txt or FinComWk.txt", "a file with the FutOnly_or_Combined column"))
        why = "says both" if said else "does not say"
        raise FileError(file, f"cannot tell whether this is the futures-only or the combined report: "
                        f"the file name {why} (CFTC names such as {names} tell); ingest it as {kinds}")

    def _rows(self, file: str, body: list[tuple[int, bytes]], offset: int, columns: dict[str, int],
              width: int, fixed: str | None) -> Batch:
        """Split and check every data line; good input rows become category rows, bad ones rejects."""
        layout = self.layout
        rows, texts, fields, problems = [], [], [], []
        for number, line in body:
            row = number - offset
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as error:
                rows.append(row)
                texts.append(line.decode("utf-8", errors="replace"))
                fields.append(None)
                problems.append([(f"not UTF-8 text (invalid byte 0x{line[error.start]:02x} at "
                                  f"offset {error.start} of the line)")])
                continue
            rows.append(row)
            texts.append(text)
            try:
                values = _split(text)
            except ValueError as error:
                fields.append(None)
                problems.append([str(error)])
                continue
            if len(values) != width:
                fields.append(None)
                problems.append([f"expected {width} fields, found {len(values)}"])
            else:
                fields.append([values[position].strip() for position in columns.values()])
                problems.append([])
        parsed = np.array([f is not None for f in fields], dtype=bool)
        frame = pd.DataFrame([f for f in fields if f is not None], columns=list(columns), dtype=object)
        checks = _Checks(frame, layout, fixed)
        for index, found in zip(np.flatnonzero(parsed), checks.problems):
            problems[index] += found
        bad = np.array([bool(p) for p in problems])
        good_frame = checks.frame[~bad[parsed]] if len(frame) else frame
        raw = _category_rows(good_frame, layout)
        row_numbers = np.repeat(np.asarray(rows, dtype=np.int64)[~bad], len(layout.categories))
        whole = f"all {len(layout.categories)} category rows of this input row are rejected"
        rejects = [(file, rows[i], self.table.name, f"{'; '.join(problems[i])} [{category}: {whole}]", texts[i])
                   for i in np.flatnonzero(bad) for category in layout.categories]
        return Batch(self.table, file, raw, row_numbers, pd.DataFrame(rejects, columns=REJECT_COLUMNS), [])


class _Checks:
    """Every check on the parsed input rows, vectorized; `problems` lists each row's failures."""

    def __init__(self, frame: pd.DataFrame, layout: Layout, fixed: str | None):
        self.frame = frame.copy()
        self.problems: list[list[str]] = [[] for _ in range(len(frame))]
        if frame.empty:
            return
        self._dates(layout)
        self._code_and_market(layout)
        numbers_ok = self._numbers(layout)
        self._sums(layout, numbers_ok)
        self._report(layout, fixed)

    def add(self, failed, template: str, *values: pd.Series) -> None:
        mask = np.asarray(failed, dtype=bool)
        for index in np.flatnonzero(mask):
            self.problems[index].append(template.format(*(v.iloc[index] for v in values)))

    def _dates(self, layout: Layout) -> None:
        text = self.frame[layout.date]
        well_formed = text.str.match(_ISO_DATE.pattern)
        parsed = pd.to_datetime(text.where(well_formed), format="%Y-%m-%d", errors="coerce")
        self.add(parsed.isna(), layout.date + ": '{}' is not a date (YYYY-MM-DD)", text)
        weekend = parsed.notna() & (parsed.dt.weekday >= 5)
        self.add(weekend, layout.date + ": {} is a {}; CFTC positions are as of a weekday (Tuesday, "
                 "or Monday when Tuesday is a holiday)", text, parsed.dt.day_name())
        if layout.yymmdd in self.frame:
            short = self.frame[layout.yymmdd]
            agrees = short == parsed.dt.strftime("%y%m%d")
            self.add(parsed.notna() & ~agrees, layout.yymmdd + ": '{}' disagrees with " + layout.date
                     + " '{}'", short, text)
        usable = parsed.notna() & ~weekend
        releases = {day: release_date(day.date()) for day in parsed[usable].unique()}
        self.frame["report_date"] = parsed.dt.strftime("%Y-%m-%d")
        self.frame["release_date"] = parsed.map(
            lambda day: releases[day].isoformat() if day in releases else None)

    def _code_and_market(self, layout: Layout) -> None:
        code, market = self.frame[layout.code], self.frame[layout.market]
        self.add(code == "", layout.code + " is empty")
        self.add((code != "") & ~code.str.match(_CODE), layout.code + ": '{}' is not a CFTC contract "
                 "market code (six letters, digits or +)", code)
        self.add(market == "", layout.market + " is empty")

    def _numbers(self, layout: Layout) -> pd.Series:
        ok = pd.Series(True, index=self.frame.index)
        for name in layout.numbers:
            text = self.frame[name]
            empty = text.isin(["", "."])
            number = text.str.match(_NUMBER)
            value = pd.to_numeric(text.where(number), errors="coerce")
            checks = ((empty, name + " is empty"),
                      (~empty & ~number, name + ": '{}' is not a number"),
                      (value < 0, name + ": '{}' is negative"),
                      (value.notna() & (value != np.floor(value)), name + ": '{}' is not a whole number "
                       "of contracts"),
                      (value.abs() >= _EXACT, name + ": '{}' is too large to hold exactly (2**53 or more)"))
            for failed, template in checks:
                self.add(failed, template, text)
                ok &= ~failed
            self.frame[name] = value
        return ok

    def _sums(self, layout: Layout, ok: pd.Series) -> None:
        frame = self.frame
        spreads = sum(frame[s] for _, _, s in layout.categories.values() if s)
        oi = frame[layout.open_interest]
        terms = len(layout.categories) + sum(1 for _, _, s in layout.categories.values() if s)
        tolerance = np.where(frame[layout.code].str.endswith("+"), (terms + 1) / 2, 0.0)
        for side, position in (("long", 0), ("short", 1)):
            total = sum(frame[columns[position]] for columns in layout.categories.values()) + spreads
            off = ok & ((total - oi).abs() > tolerance)
            self.add(off, f"the {side}s do not add up: {side}s + spreads of all categories = {{:,.0f}} but "
                     f"{layout.open_interest} = {{:,.0f}}", total, oi)

    def _report(self, layout: Layout, fixed: str | None) -> None:
        if fixed is not None:
            self.frame["report"] = fixed
            return
        text = self.frame[layout.report_column]
        report = text.str.casefold().map({"futonly": "tff_futures_only", "combined": "tff_combined"})
        self.add(report.isna(), layout.report_column + ": '{}' is neither FutOnly nor Combined", text)
        self.frame["report"] = report


def _category_rows(frame: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    """One futures_positions row (as text) per input row and category, row by row."""
    columns = ["report_date", "release_date", "available_from", "report", "contract_code", "market",
               "category", "long", "short", "spread", "open_interest"]
    if frame.empty:
        return pd.DataFrame(columns=columns, dtype=object)
    parts = []
    for order, (category, (long, short, spread)) in enumerate(layout.categories.items()):
        parts.append(pd.DataFrame({
            "_row": np.arange(len(frame)), "_order": order,
            "report_date": frame["report_date"].to_numpy(), "release_date": frame["release_date"].to_numpy(),
            "available_from": frame["release_date"].to_numpy(), "report": frame["report"].to_numpy(),
            "contract_code": frame[layout.code].to_numpy(), "market": frame[layout.market].to_numpy(),
            "category": category, "long": _text(frame[long]), "short": _text(frame[short]),
            "spread": _text(frame[spread]) if spread else None,
            "open_interest": _text(frame[layout.open_interest]),
        }))
    stacked = pd.concat(parts, ignore_index=True).sort_values(["_row", "_order"], kind="stable")
    return stacked[columns].reset_index(drop=True).astype(object)


def _text(values: pd.Series) -> np.ndarray:
    """Whole numbers of contracts as the text a CSV would hold."""
    return values.map(lambda value: f"{value:.0f}").to_numpy(dtype=object)


CFTC_SOURCES: dict[str, CftcFile] = {
    "cftc_tff": CftcFile("cftc_tff", TFF, "CFTC Traders in Financial Futures text files (annual with a "
                         "header or weekly without; futures only or combined, read per row), or "
                         "the CFTC's zip"),
    "cftc_legacy": CftcFile("cftc_legacy", LEGACY, "CFTC legacy Commitments of Traders text files "
                            "(annual or weekly); futures only or combined told by the CFTC's file "
                            "name (annual.txt, deafut.txt / annualof.txt, deacom.txt)"),
    "cftc_legacy_futures_only": CftcFile("cftc_legacy_futures_only", LEGACY,
                                         "CFTC legacy COT text files, futures-only report",
                                         report="legacy_futures_only"),
    "cftc_legacy_combined": CftcFile("cftc_legacy_combined", LEGACY,
                                     "CFTC legacy COT text files, futures-and-options combined report",
                                     report="legacy_combined"),
}
