"""FINRA short sale volume and short interest files.

Short sale volume (`finra_short_volume`): FINRA's daily Reg SHO files, one per reporting
facility and day, named `<FACILITY>shvol<YYYYMMDD>.txt` (anything may follow the date, e.g.
`CNMSshvol20200102_sample.txt`). CNMS is the consolidated file for NMS stocks (the sum of the
FNRA, FNSQ, FNQC and FNYX files); FORF (the OTC reporting facility) covers OTC equities, which
CNMS does not. Layout: pipe-delimited, the header
`Date|Symbol|ShortVolume|ShortExemptVolume|TotalVolume|Market`, one row per symbol, then a
trailer line holding the number of data rows. Volumes may be fractional; symbols are kept as
FINRA writes them (class shares as BRK/B). CRLF or LF line endings, a UTF-8 BOM is allowed.

Trailer rule: the last non-blank line must be a bare integer equal to the number of lines
between the header and it. A missing trailer, or a count that differs, means the file was
truncated or edited: a FileError naming the file and line, and nothing from it is ingested.
Every line between header and trailer is a data row (row N is on line N + 1); a row that
cannot be used is rejected with every reason that applies, never dropped: not UTF-8, wrong
field count, a date other than the file name's, short exempt volume above short volume, short
volume above total volume, a volume beyond 2**53 (not exactly storable), plus the checks of
`smartmoney.validate` (empty, non-numeric, negative, not a trading day, duplicate symbol).

Short interest (`finra_short_interest`), twice a month per symbol, in three shapes:

- the FINRA API (`consolidatedShortInterest`) as JSON, an array of records, or as CSV with a
  header: settlementDate, symbolCode, issueName, marketClassCode, currentShortPositionQuantity,
  previousShortPositionQuantity, averageDailyVolumeQuantity, daysToCoverQuantity,
  changePreviousNumber, changePercent, revisionFlag, stockSplitFlag;
- FINRA's pipe-delimited file (`shrtYYYYMMDD.csv` on FINRA's site, pipe-delimited despite the
  name) with the header accountingYearMonthNumber|symbolCode|issueName|
  issuerServicesGroupExchangeCode|marketClassCode|currentShortPositionQuantity|
  previousShortPositionQuantity|stockSplitFlag|averageDailyVolumeQuantity|daysToCoverQuantity|
  revisionFlag|changePercent|changePreviousNumber|settlementDate. No real file of this kind was
  at hand: the parser follows that documented header, and reads columns by name, so their order
  does not matter. It has no trailer.

Columns are matched by name, case-insensitively. Settlement dates may be YYYY-MM-DD or
YYYYMMDD. Stored: short_interest (current), prev_short_interest, avg_daily_volume and
days_to_cover as FINRA states them; the other fields are reported as ignored columns.
Rejected besides the validation checks: a days to cover above FINRA's cap of 999.99 (999.99
itself is kept: it means "at the cap", and metrics flag it), and a changePreviousNumber that is
not current - previous.

Point in time: the files do not say when FINRA published them. FINRA's schedule publishes short
interest 7 business days after the settlement date (settlement 2026-07-15, published
2026-07-24), so available_from is the 7th NYSE trading day after the settlement date.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from smartmoney.schema import SHORT_INTEREST, SHORT_VOLUME
from smartmoney.sources.base import FileError
from smartmoney.taxonomy.calendar import trading_day_index
from smartmoney.validate import REJECT_COLUMNS, Batch, numbers_from_text, validate

FACILITIES = {
    "CNMS": "consolidated NMS: the sum of FNRA, FNSQ, FNQC and FNYX",
    "FNRA": "FINRA/Nasdaq alternative display facility (ADF)",
    "FNSQ": "FINRA/Nasdaq TRF Carteret",
    "FNQC": "FINRA/Nasdaq TRF Chicago",
    "FNYX": "FINRA/NYSE TRF",
    "FORF": "OTC reporting facility (OTC equities; not part of CNMS)",
}
VOLUME_HEADER = ["Date", "Symbol", "ShortVolume", "ShortExemptVolume", "TotalVolume", "Market"]
VOLUME_COLUMNS = {"date": "date", "symbol": "symbol", "shortvolume": "short_volume",
                  "shortexemptvolume": "short_exempt_volume", "totalvolume": "total_volume",
                  "market": "market"}
INTEREST_COLUMNS = {"settlementdate": "settlement_date", "symbolcode": "symbol",
                    "currentshortpositionquantity": "short_interest",
                    "previousshortpositionquantity": "prev_short_interest",
                    "averagedailyvolumequantity": "avg_daily_volume",
                    "daystocoverquantity": "days_to_cover"}
INTEREST_REQUIRED = ("settlementDate", "symbolCode", "currentShortPositionQuantity")
DAYS_TO_COVER_CAP = 999.99
PUBLICATION_LAG = 7          # NYSE trading days from settlement to FINRA's publication
LARGEST_EXACT = 2.0 ** 53    # floats hold whole numbers exactly up to here
_SNIFF_BYTES = 1 << 16
_NAME = re.compile(r"^(?P<facility>[A-Za-z]{4})shvol(?P<day>\d{8})", re.IGNORECASE)


def facility_and_day(name: str) -> tuple[str, str] | None:
    """(FACILITY, YYYY-MM-DD) from a FINRA short volume file name, or None."""
    match = _NAME.match(Path(name).name)
    if match is None or match["facility"].upper() not in FACILITIES:
        return None
    day = match["day"]
    return match["facility"].upper(), f"{day[:4]}-{day[4:6]}-{day[6:]}"


class ShortVolumeFile:
    """FINRA daily short sale volume files (CNMS or one facility), pipe-delimited with a trailer."""

    name = "finra_short_volume"
    description = ("FINRA daily short sale volume files <FACILITY>shvolYYYYMMDD.txt "
                   f"(facility {', '.join(FACILITIES)}; pipe-delimited, record-count trailer)")

    def read(self, path: Path) -> Iterator[Batch]:
        path = Path(path)
        parsed = facility_and_day(path.name)
        if parsed is None:
            raise FileError(path, "cannot tell the facility and day of this FINRA short volume file "
                            "from its name; FINRA names them <FACILITY>shvolYYYYMMDD.txt with "
                            f"FACILITY one of {', '.join(FACILITIES)}")
        facility, day = parsed
        lines = _text_lines(path, _content(path))
        fields = _header(path, lines[0], "|")
        if [f.lower() for f in fields] != [h.lower() for h in VOLUME_HEADER]:
            raise FileError(path, f"not a FINRA short sale volume file: the header reads "
                            f"{_show(lines[0])}, not {'|'.join(VOLUME_HEADER)!r}", row=1)
        body = _checked_trailer(path, lines)
        raw, rows, rejects = _split(path, body, "|", len(VOLUME_HEADER), SHORT_VOLUME.name)
        raw.columns = [VOLUME_COLUMNS[f.lower()] for f in fields]
        raw["date"] = _iso_dates(raw["date"])
        raw["facility"] = facility
        reasons = _Reasons(len(raw))
        reasons.add(_is_iso_date(raw["date"]) & (raw["date"] != day),
                    lambda i: f"date {raw['date'].iat[i]} is not the file's date {day} (from its name)")
        volumes = {c: numbers_from_text(raw[c])
                   for c in ("short_volume", "short_exempt_volume", "total_volume")}
        for column, number in volumes.items():
            reasons.add(np.isfinite(number) & (number.abs() > LARGEST_EXACT),
                        lambda i, c=column: f"{c}: {raw[c].iat[i].strip()[:40]} is beyond 2**53 "
                                            "shares (not storable exactly; a corrupt value?)")
        usable = {c: np.isfinite(n) & (n >= 0) for c, n in volumes.items()}
        exempt_ok = usable["short_exempt_volume"] & usable["short_volume"]
        reasons.add(exempt_ok & (volumes["short_exempt_volume"] > volumes["short_volume"]),
                    lambda i: f"short_exempt_volume {raw['short_exempt_volume'].iat[i].strip()} is above "
                              f"short_volume {raw['short_volume'].iat[i].strip()} (exempt short sales "
                              "are part of short volume)")
        reasons.add(usable["short_volume"] & usable["total_volume"]
                    & (volumes["short_volume"] > volumes["total_volume"]),
                    lambda i: f"short_volume {raw['short_volume'].iat[i].strip()} is above "
                              f"total_volume {raw['total_volume'].iat[i].strip()}")
        yield _batch(SHORT_VOLUME, path, raw, rows, rejects, reasons, body, [])


class ShortInterestFile:
    """FINRA short interest: API JSON or CSV, or FINRA's pipe-delimited file."""

    name = "finra_short_interest"
    description = ("FINRA short interest: API JSON or CSV (settlementDate, symbolCode, "
                   "currentShortPositionQuantity, ...) or FINRA's pipe-delimited file")

    def read(self, path: Path) -> Iterator[Batch]:
        path = Path(path)
        data = _content(path)
        start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if start in (b"[", b"{"):
            raw, rows, rejects, fields, body = _json_records(path, data)
        else:
            lines = _text_lines(path, data)
            delimiter = "|" if b"|" in lines[0] else ","
            fields = _header(path, lines[0], delimiter)
            body = lines[1:]
            raw, rows, rejects = _split(path, body, delimiter, len(fields), SHORT_INTEREST.name)
            raw.columns = fields
        lowered = [f.lower() for f in fields]
        twice = sorted({f for f in fields if lowered.count(f.lower()) > 1}, key=str.lower)
        if twice:
            raise FileError(path, f"column {', '.join(twice)} appears twice in the header", row=1)
        known = {f.lower(): f for f in fields}
        missing = [name for name in INTEREST_REQUIRED if name.lower() not in known]
        if missing:
            raise FileError(path, f"not a FINRA short interest file: no {', '.join(missing)} "
                            f"(the fields are: {_show(', '.join(fields))})", row=1)
        canonical = pd.DataFrame({target: raw[known[source]] if source in known else None
                                  for source, target in INTEREST_COLUMNS.items()}, index=raw.index)
        canonical["settlement_date"] = _iso_dates(canonical["settlement_date"])
        canonical["available_from"] = publication_dates(canonical["settlement_date"])
        reasons = _Reasons(len(raw))
        settled = _is_iso_date(canonical["settlement_date"])
        unknowable = settled & canonical["available_from"].isna() & pd.to_datetime(
            canonical["settlement_date"].where(settled), format="%Y-%m-%d", errors="coerce").notna()
        reasons.add(unknowable, lambda i: f"settlement_date {canonical['settlement_date'].iat[i]} is beyond "
                                          "the NYSE calendar: its publication date (available_from) cannot "
                                          "be known")
        days = numbers_from_text(canonical["days_to_cover"])
        reasons.add(days > DAYS_TO_COVER_CAP,
                    lambda i: f"days_to_cover: {canonical['days_to_cover'].iat[i]} is above FINRA's cap "
                              f"of {DAYS_TO_COVER_CAP}")
        if "changepreviousnumber" in known:
            stated = numbers_from_text(raw[known["changepreviousnumber"]])
            current = numbers_from_text(canonical["short_interest"])
            previous = numbers_from_text(canonical["prev_short_interest"])
            usable = np.isfinite(stated) & np.isfinite(current) & np.isfinite(previous)
            reasons.add(usable & ((stated - (current - previous)).abs() > 1e-6),
                        lambda i: f"changePreviousNumber {stated.iat[i]:.15g} is not current - previous "
                                  f"({current.iat[i]:.15g} - {previous.iat[i]:.15g})")
        used = {known[source] for source in INTEREST_COLUMNS if source in known}
        ignored = [f for f in fields if f not in used]
        yield _batch(SHORT_INTEREST, path, canonical, rows, rejects, reasons, body, ignored)


def publication_dates(settlement: pd.Series) -> pd.Series:
    """The 7th NYSE trading day after each ISO settlement date (FINRA's publication day);
    None where the date is unreadable or beyond the calendar."""
    sessions = trading_day_index()
    days = pd.to_datetime(settlement.where(_is_iso_date(settlement)), format="%Y-%m-%d", errors="coerce")
    position = sessions.searchsorted(days.fillna(sessions[-1]), side="right") + PUBLICATION_LAG - 1
    usable = days.notna().to_numpy() & (position < len(sessions))
    published = sessions[np.minimum(position, len(sessions) - 1)].strftime("%Y-%m-%d")
    return pd.Series(np.where(usable, published, None), index=settlement.index, dtype=object)


# ------------------------------------------------------------------------------ reading


def _content(path: Path) -> bytes:
    """The file's bytes; FileError when missing, empty or binary."""
    if not path.is_file():
        raise FileError(path, "no such file")
    data = path.read_bytes()
    if not data.strip():
        raise FileError(path, "the file is empty")
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise FileError(path, "not a text file (it contains NUL bytes; binary data?)")
    return data


def _text_lines(path: Path, data: bytes) -> list[bytes]:
    """The file's lines as bytes (CR, LF or CRLF endings; BOM and trailing blank lines removed)."""
    lines = [line[:-1] if line.endswith(b"\r") else line for line in data.split(b"\n")]
    if lines[0].startswith(b"\xef\xbb\xbf"):
        lines[0] = lines[0][3:]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise FileError(path, "the file is empty")
    return lines


def _header(path: Path, line: bytes, delimiter: str) -> list[str]:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileError(path, f"not UTF-8 text (invalid byte at offset {error.start} of the "
                        "header)", row=1) from None
    try:
        names = next(csv.reader([text], delimiter=delimiter), [])
    except csv.Error as error:
        raise FileError(path, f"the header cannot be read: {error}", row=1) from None
    return [name.strip().strip('"') for name in names]


def _checked_trailer(path: Path, lines: list[bytes]) -> list[bytes]:
    """The data lines between the header and the record-count trailer, checked against it."""
    last = lines[-1].strip()
    if len(lines) == 1 or not last.isdigit():
        shown = "the header" if len(lines) == 1 else _show(lines[-1])
        raise FileError(path, f"no record-count trailer: the last line (line {len(lines)}) is "
                        f"{shown}, not the number of data rows; the file looks truncated",
                        row=len(lines) - 1 or None)
    body = lines[1:-1]
    if int(last) != len(body):
        raise FileError(path, f"the trailer (line {len(lines)}) says {int(last):,} data rows but "
                        f"the file has {len(body):,}; the file is truncated or was edited",
                        row=len(lines) - 1)
    return body


def _split(path: Path, body: list[bytes], delimiter: str, width: int, table: str
           ) -> tuple[pd.DataFrame, np.ndarray, list[tuple]]:
    """Data lines split into `width` text fields; lines that cannot be are set aside."""
    fields, rows, rejects = [], [], []
    quoted = delimiter == ","
    for number, line in enumerate(body, start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            reason = f"not UTF-8 text (invalid byte at offset {error.start})"
            rejects.append((str(path), number, table, reason, line.decode("utf-8", "backslashreplace")))
            continue
        if not text.strip():
            rejects.append((str(path), number, table, f"empty line (expected {width} fields)", text))
            continue
        try:
            values = next(csv.reader([text], delimiter=delimiter)) if quoted else text.split(delimiter)
        except csv.Error as error:      # e.g. a bare carriage return inside an unquoted field
            rejects.append((str(path), number, table, f"not a CSV line ({error})", text))
            continue
        if len(values) != width:
            rejects.append((str(path), number, table,
                            f"expected {width} fields, found {len(values)}", text))
            continue
        fields.append(values)
        rows.append(number)
    raw = pd.DataFrame(fields or None, columns=range(width), dtype=object)
    return raw, np.asarray(rows, dtype=np.int64), rejects


def _json_records(path: Path, data: bytes):
    """An API JSON answer (an array of records) as text fields, like a CSV's."""
    try:
        records = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise FileError(path, f"not UTF-8 text (invalid byte at offset {error.start})") from None
    except json.JSONDecodeError as error:
        raise FileError(path, f"not valid JSON (line {error.lineno}, column {error.colno}: "
                        f"{error.msg}); a truncated download?") from None
    except RecursionError:
        raise FileError(path, "not valid JSON for a FINRA API answer: its values are nested too deeply "
                        "to read (records are flat objects)") from None
    if not isinstance(records, list):
        raise FileError(path, "not a FINRA API answer: expected a JSON array of records, found "
                        f"a JSON {type(records).__name__}")
    fields = list(dict.fromkeys(key for record in records if isinstance(record, dict) for key in record))
    if not fields:
        fields = list(INTEREST_REQUIRED)
    rows, kept, rejects = [], [], []
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            rejects.append((str(path), number, SHORT_INTEREST.name,
                            f"not a JSON object (a {type(record).__name__})", json.dumps(record)[:200]))
            continue
        rows.append([_json_text(record.get(field)) for field in fields])
        kept.append(number)
    raw = pd.DataFrame(rows or None, columns=fields, dtype=object)
    body = [json.dumps(record).encode() for record in records]
    return raw, np.asarray(kept, dtype=np.int64), rejects, fields, body


def _json_text(value) -> str | None:
    """A JSON value as the text a CSV cell would hold (nested values stay visible as JSON)."""
    if value is None:
        return None
    if isinstance(value, (bool, dict, list)):
        return json.dumps(value)
    return str(value)


def _iso_dates(text: pd.Series) -> pd.Series:
    """YYYYMMDD as YYYY-MM-DD; anything else is left as it is, for validation to judge."""
    stripped = text.astype(object).map(lambda value: value.strip() if isinstance(value, str) else value)
    compact = stripped.map(lambda value: isinstance(value, str) and len(value) == 8 and value.isdigit())
    return stripped.where(~compact, stripped.map(
        lambda value: f"{value[:4]}-{value[4:6]}-{value[6:]}" if isinstance(value, str) else value))


def _is_iso_date(text: pd.Series) -> pd.Series:
    return text.map(lambda value: isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
                    is not None).astype(bool)


def _show(text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "backslashreplace")
    return repr(text[:120])


class _Reasons:
    """Source-level reasons per row (positions in the split rows)."""

    def __init__(self, count: int):
        self.by_row: list[list[str]] = [[] for _ in range(count)]

    def add(self, failed: pd.Series, message) -> None:
        for position in np.flatnonzero(failed.fillna(False).to_numpy(dtype=bool)):
            self.by_row[position].append(message(int(position)))

    def failed(self) -> np.ndarray:
        return np.array([bool(reasons) for reasons in self.by_row], dtype=bool)


def _batch(table, path: Path, raw: pd.DataFrame, rows: np.ndarray, rejects: list[tuple],
           reasons: _Reasons, body: list[bytes], ignored: list[str]) -> Batch:
    """The rows that passed the source's checks, and every row set aside with its reasons.

    A row the source sets aside is also validated here, so that its reject states every
    reason that applies (a wrong date and a negative volume), as validation would.
    """
    failed = reasons.failed()
    columns = [c for c in table.column_names if c in raw]
    checked = validate(Batch(table, str(path), raw.loc[failed, columns].reset_index(drop=True),
                             rows[failed]), {}).rejects
    more = dict(zip(checked["row"], checked["reason"]))
    for position in np.flatnonzero(failed):
        number = int(rows[position])
        record = body[number - 1].decode("utf-8", "backslashreplace")
        found = reasons.by_row[position] + ([more[number]] if number in more else [])
        rejects.append((str(path), number, table.name, "; ".join(found), record))
    kept = raw[~failed].reset_index(drop=True)
    frame = pd.DataFrame(rejects, columns=REJECT_COLUMNS).sort_values("row", ignore_index=True)
    return Batch(table, str(path), kept[columns], rows[~failed], frame, ignored)


FINRA_SOURCES = {source.name: source for source in (ShortVolumeFile(), ShortInterestFile())}
