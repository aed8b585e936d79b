"""The SEC Form 13F input formats, read into filings and information table rows as text.

`parse(path)` tells the input apart by its content (a full EDGAR submission in the SGML ``.txt``
or the newer ``.nc`` layout, the two XML documents of a filing, the quarterly Form 13F data
set) and returns `Parsed`: the filings (`Filing`: who, which period, when filed, what the
summary page states, the first problem that makes it unusable) and the information table rows,
untouched. `smartmoney.sources.sec13f` turns them into accounts and positions.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path, PurePosixPath

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from smartmoney.sources.base import FileError
from smartmoney.sources.tables import _not_utf8
from smartmoney.taxonomy.calendar import trading_day_index

TABLE_NS = "http://www.sec.gov/edgar/document/thirteenf/informationtable"
COVER_NS = "http://www.sec.gov/edgar/thirteenffiler"
COMMON_NS = "http://www.sec.gov/edgar/common"
RESTATEMENT, NEW_HOLDINGS = "RESTATEMENT", "NEW HOLDINGS"
_NUMBER = r"\d{1,16}(?:\.\d+)?"  # a plain non-negative number of at most 16 digits
_FIELDS = {"issuer": "nameOfIssuer", "title": "titleOfClass", "cusip": "cusip", "value": "value",
           "shares": "shrsOrPrnAmt/sshPrnamt", "kind": "shrsOrPrnAmt/sshPrnamtType", "put_call": "putCall"}
_TSV_FIELDS = {"issuer": "NAMEOFISSUER", "title": "TITLEOFCLASS", "cusip": "CUSIP", "value": "VALUE",
               "shares": "SSHPRNAMT", "kind": "SSHPRNAMTTYPE", "put_call": "PUTCALL"}
_DATASET = {"SUBMISSION.tsv": ["ACCESSION_NUMBER", "FILING_DATE", "SUBMISSIONTYPE", "CIK", "PERIODOFREPORT"],
            "COVERPAGE.tsv": ["ACCESSION_NUMBER", "FILINGMANAGER_NAME", "REPORTTYPE"],
            "SUMMARYPAGE.tsv": ["ACCESSION_NUMBER", "TABLEENTRYTOTAL", "TABLEVALUETOTAL"],
            "INFOTABLE.tsv": ["ACCESSION_NUMBER", *_TSV_FIELDS.values()]}



@dataclass
class Filing:
    """One 13F submission: who filed it, for which period, when, and what its summary page states.

    `problem` says why none of its rows can be used (a data set rejects them with it; a file
    holding one filing raises FileError). `filed_from` names where the filing date came from.
    """

    accession: str | None = None
    cik: str | None = None
    name: str | None = None
    form: str | None = None  # submission type: 13F-HR, 13F-HR/A, 13F-NT, 13F-NT/A
    report_type: str | None = None  # 13F HOLDINGS REPORT | 13F NOTICE | 13F COMBINATION REPORT
    amended: bool = False  # the cover page or the form says it is an amendment
    amendment: str | None = None  # RESTATEMENT | NEW HOLDINGS (None for an original)
    amendment_no: int = 0
    period: dt.date | None = None
    filed: dt.date | None = None
    filed_from: str = "filing date"
    entries_stated: int | None = None
    value_stated: Decimal | None = None
    problem: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def holds_holdings(self) -> bool:
        """False for a 13F NOTICE (another manager reports its holdings)."""
        return not ((self.form or "").upper().startswith("13F-NT")
                    or "NOTICE" in (self.report_type or "").upper())

    @property
    def date(self) -> dt.date | None:
        """The period of report, or the last NYSE trading day before it."""
        return None if self.period is None else last_trading_day(self.period)

    def fail(self, problem: str) -> None:
        """Record the first problem that makes the filing unusable."""
        self.problem = self.problem or problem


@dataclass
class Parsed:
    """What one input holds: its filings, and the information table rows as text (one per
    row, with the key of its filing in `filing`, its row number in `row`, and `problem`)."""

    file: str  # where the information table rows are (named in rejects)
    filings: dict[str, Filing]
    holdings: pd.DataFrame
    single: bool  # one filing: a filing problem is a FileError


@cache
def last_trading_day(day: dt.date) -> dt.date | None:
    """`day` when NYSE traded that day, else the last trading day before it (None off the calendar)."""
    sessions = trading_day_index()
    position = sessions.searchsorted(pd.Timestamp(day), side="right")
    if position == 0 or pd.Timestamp(day) > sessions[-1] + pd.Timedelta(days=7):
        return None
    return sessions[position - 1].date()


# ----------------------------------------------------------------------- telling inputs apart


def parse(path: str | Path) -> Parsed:
    """Read every filing and information table row of `path` (FileError when it cannot be used)."""
    path = Path(path)
    if not path.is_file():
        raise FileError(path, "no such file")
    data = path.read_bytes()
    if not data.strip():
        raise FileError(path, "the file is empty")
    if zipfile.is_zipfile(path):
        return _parse_dataset_zip(path)
    if data.startswith(b"PK\x03\x04"):
        raise FileError(path, "a damaged zip archive (truncated?): its table of contents cannot be read")
    if b"\x00" in data[:65536]:
        raise FileError(path, "not a 13F file: it contains NUL bytes (binary data?)")
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"<SEC-DOCUMENT>", b"<SEC-HEADER>", b"<SUBMISSION>")) or b"<SEC-HEADER>" in head:
        parsed = _parse_submission(str(path), data)
    elif head.startswith(b"<"):
        parsed = _parse_xml_documents(path, data)
    elif b"ACCESSION_NUMBER" in head.split(b"\n", 1)[0] and b"\t" in head:
        parsed = _parse_dataset_folder(path)
    else:
        raise FileError(path, f"not a 13F file: it starts with {head[:60]!r}; expected an EDGAR submission "
                        "(.txt, .nc), a 13F XML document, or the SEC's Form 13F data set (zip, INFOTABLE.tsv)")
    if parsed.single:
        [filing] = parsed.filings.values()
        if filing.problem:
            raise FileError(path, filing.problem)
    return parsed


def _parse_submission(file: str, data: bytes) -> Parsed:
    """A full EDGAR submission, SGML (.txt) or .nc layout: header fields plus two XML documents."""
    start = data.find(b"<DOCUMENT>")
    header = data[: start if start >= 0 else len(data)].decode("utf-8", errors="replace")
    sgml = "<SEC-HEADER>" in header
    patterns = {  # field: (SGML header, .nc layout)
        "accession": (r"ACCESSION NUMBER:", r"<ACCESSION-NUMBER>"),
        "form": (r"CONFORMED SUBMISSION TYPE:", r"<TYPE>"),
        "period": (r"CONFORMED PERIOD OF REPORT:", r"<PERIOD>"),
        "filed": (r"FILED AS OF DATE:", r"<FILING-DATE>"),
        "cik": (r"CENTRAL INDEX KEY:", r"<CIK>"),
        "name": (r"COMPANY CONFORMED NAME:", r"<CONFORMED-NAME>"),
    }
    found = {}
    for name, (sgml_pattern, nc_pattern) in patterns.items():
        match = re.search((sgml_pattern if sgml else nc_pattern) + r"[ \t]*([^\r\n<]*)", header)
        found[name] = (match.group(1).strip() or None) if match else None
    label = "the SGML header" if sgml else "the submission header"
    documents = {}
    for document in re.findall(rb"<DOCUMENT>(.*?)(?:</DOCUMENT>|\Z)", data, re.DOTALL):
        kind = re.search(rb"<TYPE>\s*([^\r\n<]+)", document)
        xml = re.search(rb"<XML>\s*(.*?)\s*(?:</XML>|\Z)", document, re.DOTALL)
        name = kind.group(1).strip().decode("ascii", errors="replace").upper() if kind else "?"
        documents.setdefault("cover" if name.startswith("13F") else name, (name, xml.group(1) if xml else None))
    if "cover" not in documents:
        raise FileError(file, f"no 13F cover page: the submission holds no <DOCUMENT> of <TYPE> 13F-HR "
                        f"(documents: {', '.join(n for n, _ in documents.values()) or 'none'})")
    cover_type, cover_xml = documents["cover"]
    if cover_xml is None:
        raise FileError(file, f"the {cover_type} document has no <XML> cover page (13F filings are XML "
                        "since 2013-Q2; older text filings are not read)")
    filing, embedded = _cover(file, "the cover page (primary_doc.xml)", cover_xml)
    filing.accession = found["accession"]
    _check_header(filing, found, label)
    table_xml = documents.get("INFORMATION TABLE", (None, None))[1] or embedded
    if "INFORMATION TABLE" in documents and documents["INFORMATION TABLE"][1] is None:
        raise FileError(file, "the INFORMATION TABLE document has no <XML> (text tables from before "
                        "2013-Q2 are not read)")
    return _single(file, filing, table_xml, "the INFORMATION TABLE document")


def _check_header(filing: Filing, found: dict, label: str) -> None:
    """Fill the filing from its submission header; the header and cover page must agree."""
    form = found["form"]
    if form and filing.form and form.upper() != filing.form.upper():
        filing.notes.append(f"{label} says {form}, the cover page {filing.form}; {form} is used")
    filing.form = form or filing.form
    filed = _date(found["filed"], "%Y%m%d")
    if filed is None:
        filing.fail(f"{label}: FILED AS OF DATE {found['filed']!r} is not a date (YYYYMMDD)")
    else:
        filing.filed, filing.filed_from = filed, "filing date"
    period = _date(found["period"], "%Y%m%d")
    if found["period"] and period is None:
        filing.fail(f"{label}: CONFORMED PERIOD OF REPORT {found['period']!r} is not a date (YYYYMMDD)")
    elif period is not None and filing.period is not None and period != filing.period:
        filing.fail(f"{label} gives the period {period}, the cover page {filing.period}")
    filing.period = filing.period or period
    cik = _cik(found["cik"])
    if found["cik"] and cik is None:
        filing.fail(f"{label}: CENTRAL INDEX KEY {found['cik']!r} is not a CIK (up to 10 digits)")
    elif cik and filing.cik and cik != filing.cik:
        filing.fail(f"{label} gives CIK {cik}, the cover page {filing.cik}")
    filing.cik = filing.cik or cik
    filing.name = filing.name or (found["name"] or None)
    _check_filing(filing)


def _parse_xml_documents(path: Path, data: bytes) -> Parsed:
    """A cover page or an information table XML file, with its partner beside it."""
    root = _root_name(data)
    if root == "edgarSubmission":
        filing, embedded = _cover(str(path), "the cover page", data)
        table_file, table_xml = path, embedded
        if embedded is None and filing.holds_holdings:
            partner = _partner(path, "informationTable")
            if partner is None:
                raise FileError(path, "no information table: none is embedded in <documents> and no single "
                                "informationTable XML file lies beside it (name it like the cover page, "
                                "with infotable for primary_doc)")
            table_file, table_xml = partner, partner.read_bytes()
    elif root == "informationTable":
        partner = _partner(path, "edgarSubmission")
        if partner is None:
            raise FileError(path, "no cover page (primary_doc.xml) beside it: an information table alone does "
                            "not say who filed it, for which period or when")
        filing, _ = _cover(str(partner), "the cover page", partner.read_bytes())
        table_file, table_xml = path, data
    else:
        shown = f"<{root}>" if root else "unreadable"
        raise FileError(path, f"not a 13F XML document: the root element is {shown}, not <edgarSubmission> "
                        "(cover page) or <informationTable>")
    if filing.filed is not None:
        filing.notes.append(f"the filing date is not in these XML documents: the signature date {filing.filed} "
                            "stands in as available_from (a full submission .txt gives the real one)")
    _check_filing(filing)
    return _single(str(table_file), filing, table_xml, "the information table")


def _single(file: str, filing: Filing, table_xml: bytes | None, label: str) -> Parsed:
    key = filing.accession or "filing"
    if table_xml is None:
        if filing.holds_holdings:
            filing.fail("no INFORMATION TABLE document: a 13F holdings report lists its holdings there")
        return Parsed(file, {key: filing}, _holdings_frame([], key), single=True)
    rows = _information_table(file, label, table_xml)
    if not rows and filing.entries_stated != 0:
        raise FileError(file, f"{label} holds no <infoTable> rows (the summary page states "
                        f"{filing.entries_stated} entries)")
    return Parsed(file, {key: filing}, _holdings_frame(rows, key), single=True)


def _root_name(data: bytes) -> str | None:
    match = re.search(rb"<(?![?!])(?:[\w.-]+:)?([\w.-]+)", data[:8192])
    return match.group(1).decode("ascii", errors="replace") if match else None


def _partner(path: Path, root: str) -> Path | None:
    """The one XML file of the other kind beside `path`, or the one named like it."""
    def kindless(name: str) -> str:
        return re.sub(r"primary_?doc|info_?table|information_?table", "", name.lower())

    candidates = []
    for other in sorted(path.parent.glob("*")):
        if other != path and other.is_file() and other.suffix.lower() == ".xml":
            with other.open("rb") as handle:
                if _root_name(handle.read(8192)) == root:
                    candidates.append(other)
    if len(candidates) == 1:
        return candidates[0]
    named = [other for other in candidates if kindless(other.name) == kindless(path.name)]
    return named[0] if len(named) == 1 else None


# ------------------------------------------------------------------------------ XML documents


def _xml(file: str, label: str, data: bytes, root_name: str, namespace: str,
         others: tuple[str, ...]) -> ET.Element:
    """Parse one 13F XML document; tags in its namespaces (or none) lose their prefix."""
    if re.search(rb"<!(DOCTYPE|ENTITY)", data):
        raise FileError(file, f"{label} declares a DOCTYPE or ENTITY; 13F XML has none (refused)")
    try:  # whitespace before the XML declaration (seen in real files) is not held against it
        root = ET.fromstring(data.lstrip(b"\xef\xbb\xbf \t\r\n"))
    except ET.ParseError as error:
        raise FileError(file, f"{label} is not well-formed XML ({error}); truncated?") from None
    except LookupError as error:        # <?xml ... encoding="..."?> naming no known encoding
        raise FileError(file, f"{label} declares an encoding Python does not know ({error})") from None
    space, local = _split(root.tag)
    if local != root_name:
        raise FileError(file, f"{label}: the root element is <{local}>, not <{root_name}>")
    if space not in ("", namespace):
        raise FileError(file, f"{label}: <{root_name}> is in the namespace {space!r}, not the SEC's "
                        f"{namespace!r} (or none)")
    allowed = {"", namespace, *others}
    for element in root.iter():
        space, local = _split(element.tag)
        if space in allowed:
            element.tag = local
    return root


def _split(tag: str) -> tuple[str, str]:
    return (tag[1:].split("}", 1)[0], tag.split("}", 1)[1]) if tag.startswith("{") else ("", tag)


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    text = (found.text or "").strip() if found is not None and not len(found) else ""
    return text or None


def _cover(file: str, label: str, data: bytes) -> tuple[Filing, bytes | None]:
    """The filing a cover page (edgarSubmission) describes, and the information table it embeds."""
    root = _xml(file, label, data, "edgarSubmission", COVER_NS, (COMMON_NS,))
    cover = root.find("formData/coverPage")
    if cover is None:
        raise FileError(file, f"{label}: no <formData>/<coverPage>")
    filing = Filing(form=_text(root, "headerData/submissionType"),
                    name=_text(cover, "filingManager/name"), report_type=_text(cover, "reportType"))
    cik_text = _text(root, "headerData/filerInfo/filer/credentials/cik")
    filing.cik = _cik(cik_text)
    if cik_text and filing.cik is None:
        filing.fail(f"{label}: <cik> {cik_text!r} is not a CIK (up to 10 digits)")
    period_text = _text(root, "headerData/filerInfo/periodOfReport") or _text(cover, "reportCalendarOrQuarter")
    filing.period = _date(period_text, "%m-%d-%Y")
    if filing.period is None:
        filing.fail(f"{label}: <periodOfReport> {period_text!r} is not a date (MM-DD-YYYY)")
    signed = _text(root, "formData/signatureBlock/signatureDate")
    filing.filed, filing.filed_from = _date(signed, "%m-%d-%Y"), "signature date"
    amended = (_text(cover, "isAmendment") or "").lower() in ("true", "y", "yes", "1")
    amendment = next((e.text.strip().upper() for e in cover.iter("amendmentType") if e.text), None)
    if amended or amendment or (filing.form or "").upper().endswith("/A"):
        filing.amended, filing.amendment = True, amendment
        filing.amendment_no = _whole(next((e.text for e in cover.iter("amendmentNo") if e.text), None)) or 0
    summary = root.find("formData/summaryPage")
    if summary is not None:
        entries, value = _text(summary, "tableEntryTotal"), _text(summary, "tableValueTotal")
        filing.entries_stated = _whole(entries)
        filing.value_stated = _decimal(value)
        if filing.entries_stated is None or filing.value_stated is None:
            filing.fail(f"{label}: <summaryPage> <tableEntryTotal> {entries!r} and <tableValueTotal> "
                        f"{value!r} must be non-negative numbers")
    embedded = None
    for document in root.findall("documents/document"):
        if (_text(document, "conformedDocumentType") or "").upper() == "INFORMATION TABLE":
            try:
                embedded = base64.b64decode(_text(document, "contents") or "", validate=False)
            except ValueError:
                raise FileError(file, f"{label}: the embedded INFORMATION TABLE <contents> is not "
                                "base64") from None
    return filing, embedded


def _check_filing(filing: Filing) -> None:
    """The problems that make every row of a filing unusable."""
    if filing.cik is None:
        filing.fail("no filer CIK (<cik> or CENTRAL INDEX KEY)")
    if not filing.name:
        filing.fail("no filer name (<filingManager><name>)")
    if filing.period is not None and filing.date is None:
        filing.fail(f"the period {filing.period} is outside the NYSE calendar (1990-2030)")
    if filing.filed is None:
        filing.fail(f"no {filing.filed_from} (FILED AS OF DATE, or <signatureDate> in the XML documents)")
    elif filing.period is not None and filing.filed < filing.period:
        filing.fail(f"the {filing.filed_from} {filing.filed} is before the end of the period {filing.period}")
    if filing.amendment is not None and filing.amendment not in (RESTATEMENT, NEW_HOLDINGS):
        filing.fail(f"amendment type {filing.amendment!r} is not RESTATEMENT or NEW HOLDINGS")
    elif (filing.amended or (filing.form or "").upper().endswith("/A")) and filing.amendment is None \
            and filing.holds_holdings:
        filing.fail(f"an amendment ({filing.form}) that does not say whether it is a RESTATEMENT or NEW "
                    "HOLDINGS (<amendmentType>)")
    if filing.holds_holdings and filing.entries_stated is None and filing.value_stated is None:
        filing.fail("no summary page (<summaryPage> tableEntryTotal, tableValueTotal): a 13F holdings "
                    "report states its entry count and value total there")


def _information_table(file: str, label: str, data: bytes) -> list[dict]:
    """Each <infoTable> as text, with what is wrong with its elements."""
    root = _xml(file, label, data, "informationTable", TABLE_NS, ())
    rows = []
    for number, entry in enumerate(root.findall("infoTable"), 1):
        row, problems = {"row": number}, []
        for name, path in _FIELDS.items():
            found = entry.findall(path)
            if len(found) > 1:
                problems.append(f"<{path}> appears {len(found)} times")
            if found and len(found[0]):
                problems.append(f"<{path}> holds elements (<{_split(found[0][0].tag)[1]}>), not a value")
            row[name] = _text(entry, path)
        row["problem"] = "; ".join(problems) or None
        rows.append(row)
    return rows


def _holdings_frame(rows: list[dict], key: str) -> pd.DataFrame:
    columns = ["row", *_FIELDS, "problem"]
    frame = pd.DataFrame(rows, columns=columns).astype(object)
    frame.insert(0, "filing", key)
    return frame.where(frame.notna(), None).assign(broken=False)


# ------------------------------------------------------------------------------- data sets


def _parse_dataset_zip(path: Path) -> Parsed:
    tables = {}
    try:
        with zipfile.ZipFile(path) as archive:
            members = {PurePosixPath(name).name.upper(): name for name in archive.namelist()}
            for wanted in _DATASET:
                if wanted.upper() not in members:
                    raise FileError(path, f"not a Form 13F data set: the zip holds no {wanted} "
                                    f"(it holds {', '.join(sorted(members)) or 'nothing'})")
                tables[wanted] = (f"{path}:{members[wanted.upper()]}", archive.read(members[wanted.upper()]))
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise FileError(path, f"a damaged zip archive: {error}") from None
    return _parse_dataset(tables)


def _parse_dataset_folder(path: Path) -> Parsed:
    if path.name.upper() != "INFOTABLE.TSV":
        raise FileError(path, "a Form 13F data set is ingested as its zip or its INFOTABLE.tsv (with "
                        "SUBMISSION.tsv, COVERPAGE.tsv and SUMMARYPAGE.tsv beside it)")
    beside = {other.name.upper(): other for other in path.parent.iterdir()}
    tables = {}
    for wanted in _DATASET:
        other = beside.get(wanted.upper())
        if other is None:
            raise FileError(path, f"no {wanted} beside it (a Form 13F data set needs "
                            f"{', '.join(_DATASET)})")
        tables[wanted] = (str(other), other.read_bytes())
    return _parse_dataset(tables)


def _read_tsv(file: str, data: bytes, required: list[str]) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    """A data set table, every field as text; rows with the wrong field count are set aside."""
    if not data.strip():
        raise FileError(file, "the file is empty")
    if b"\x00" in data[:65536]:
        raise FileError(file, "not a TSV text file: it contains NUL bytes (binary data?)")
    first = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip("\r").lstrip("\ufeff")
    header = [name.strip() for name in first.split("\t")]
    missing = [name for name in required if name not in header]
    if missing:
        raise FileError(file, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                        f"(the header reads {first[:160]!r})", row=1)
    bad: list[tuple[int, str, str]] = []

    def set_aside(row: pacsv.InvalidRow) -> str:
        bad.append((row.number - 1, f"expected {row.expected_columns} fields, found {row.actual_columns}",
                    row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(use_threads=False, column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False, invalid_row_handler=set_aside),
            convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in header},
                                                 strings_can_be_null=False))
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        found = _not_utf8(data, skip_rows=1)
        if found is not None:
            raise FileError(file, f"cannot be read as tab-separated text: {found[0]}", row=found[1]) from None
        raise FileError(file, f"cannot be read as tab-separated text: {str(error).splitlines()[0]}") from None
    trimmed = [pc.utf8_trim_whitespace(column) for column in table.columns]
    frame = pa.table([pc.if_else(pc.equal(column, ""), None, column) for column in trimmed],
                     names=table.column_names).to_pandas().astype(object)
    frame = frame.where(frame.notna(), None)
    skipped = {number for number, _, _ in bad}
    frame.insert(0, "_row", [n for n in range(1, len(frame) + len(bad) + 1) if n not in skipped][: len(frame)])
    return frame, bad


def _parse_dataset(tables: dict[str, tuple[str, bytes]]) -> Parsed:
    read = {name: _read_tsv(file, data, _DATASET[name]) for name, (file, data) in tables.items()}
    submissions, covers, summaries = (read[name][0] for name in ("SUBMISSION.tsv", "COVERPAGE.tsv",
                                                                 "SUMMARYPAGE.tsv"))
    filings: dict[str, Filing] = {}
    seen = submissions["ACCESSION_NUMBER"].value_counts()
    for row in submissions.to_dict("records"):
        accession = row["ACCESSION_NUMBER"]
        filing = filings.setdefault(accession, Filing(accession=accession, form=row["SUBMISSIONTYPE"]))
        if seen.get(accession, 0) > 1:
            filing.fail(f"accession {accession} appears {seen[accession]} times in SUBMISSION.tsv")
        filing.cik = _cik(row["CIK"])
        where = f"SUBMISSION.tsv row {row['_row']}"
        if filing.cik is None:
            filing.fail(f"{where}: CIK {row['CIK']!r} is not a CIK (up to 10 digits)")
        for attribute, column in (("period", "PERIODOFREPORT"), ("filed", "FILING_DATE")):
            value = _date(row[column], "%d-%b-%Y")
            setattr(filing, attribute, value)
            if value is None:
                filing.fail(f"{where}: {column} {row[column]!r} is not a date (DD-MON-YYYY)")
    for row in covers.to_dict("records"):
        filing = filings.get(row["ACCESSION_NUMBER"])
        if filing is None:
            continue
        filing.name, filing.report_type = row["FILINGMANAGER_NAME"], row["REPORTTYPE"]
        amendment = (row.get("AMENDMENTTYPE") or "").upper() or None
        if (row.get("ISAMENDMENT") or "").upper() == "Y" or amendment:
            filing.amended, filing.amendment = True, amendment
            filing.amendment_no = _whole(row.get("AMENDMENTNO")) or 0
    covered = set(covers["ACCESSION_NUMBER"])
    for row in summaries.to_dict("records"):
        filing = filings.get(row["ACCESSION_NUMBER"])
        if filing is not None:
            filing.entries_stated = _whole(row["TABLEENTRYTOTAL"])
            filing.value_stated = _decimal(row["TABLEVALUETOTAL"])
    for accession, filing in filings.items():
        if accession not in covered:
            filing.fail(f"accession {accession} has no COVERPAGE.tsv row")
        _check_filing(filing)
    infotable, bad = read["INFOTABLE.tsv"]
    file = tables["INFOTABLE.tsv"][0]
    if infotable.empty and not bad:
        raise FileError(file, "a header and no rows: the data set lists no holdings", row=1)
    for accession in set(infotable["ACCESSION_NUMBER"].dropna()) - set(filings):
        filings[accession] = Filing(accession=accession,
                                    problem=f"accession {accession} has no SUBMISSION.tsv row")
    holdings = infotable.rename(columns={"_row": "row", "ACCESSION_NUMBER": "filing",
                                         **{v: k for k, v in _TSV_FIELDS.items()}})
    holdings = holdings[["filing", "row", *_FIELDS]].assign(problem=None, broken=False)
    holdings.loc[holdings["filing"].isna(), "problem"] = "ACCESSION_NUMBER is empty"
    broken = pd.DataFrame({"filing": None, "row": [n for n, _, _ in bad], "broken": True,
                           "problem": [f"{reason}: {text[:80]!r}" for _, reason, text in bad]})
    holdings = pd.concat([holdings, broken], ignore_index=True) if bad else holdings
    return Parsed(file, filings, holdings.sort_values("row", ignore_index=True), single=False)


# ----------------------------------------------------------------------------- numbers, dates


def _date(text: str | None, layout: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text.strip(), layout).date() if text else None
    except ValueError:
        return None


def _cik(text: str | None) -> str | None:
    text = (text or "").strip()
    return text.zfill(10) if re.fullmatch(r"\d{1,10}", text) and int(text) > 0 else None


def _whole(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if re.fullmatch(r"\d{1,16}", text) else None


def _decimal(text: str | None) -> Decimal | None:
    text = (text or "").strip()
    return Decimal(text) if re.fullmatch(_NUMBER, text) else None
