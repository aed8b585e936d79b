"""SEC Form 13F: the real filings against their own summary pages, hostile variants of every
input format, amendments, point in time, and docs/sec13f.md run as written."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from docs_examples import run_page
from typer.testing import CliRunner

import smartmoney as sm
from smartmoney import Store
from smartmoney.cli import app
from smartmoney.engine import connect
from smartmoney.metrics import Inputs
from smartmoney.metrics.holdings import filer_positions
from smartmoney.sources import FileError
from smartmoney.sources.sec13f import TABLE_NS, cover_page, filing_checks
from smartmoney.store import StoreError

ROOT = Path(__file__).parents[1]
DATA = Path(__file__).parent / "data" / "sec13f"
LTS = DATA / "edgartools_LTSOne_13F-HR_2023Q3_0001894188-23-000007.txt"
ACORN = DATA / "edgartools_AcornCreek_13F-HR_2024Q4_0001951757-25-000093.nc.txt"
ARTAL = DATA / "artal_group_13F-HR_2023Q2_0001053906-23-000008_TRIMMED.txt"
BARD_TABLE = DATA / "bard_financial_2021Q3_infotable.xml"
BARD_COVER = DATA / "bard_financial_2021Q3_primary_doc.xml"
EDGAR_TABLE = DATA / "edgartools_13F-HR.infotable.xml"
METLIFE = DATA / "edgartools_metlife.13F-HR.primary_doc.xml"
ABACUS = DATA / "edgartools_abacus.13F-HR.primary_doc.xml"
DATASET = DATA / "form13f_dataset"
SECURITIES = DATA / "securities_cusip.csv"  # S&P 500 members with their CUSIP (see PROVENANCE.md)
LTS_CIK, ARTAL_CIK = "0001894188", "0001053906"


# ------------------------------------------------------------------ reading the files directly


def table_rows(path: Path) -> list[dict[str, str]]:
    """Every infoTable of a file, read with regular expressions (a twin of the parser)."""
    text = re.sub(r"<(/?)\w+:", r"<\1", path.read_text())
    rows = []
    for block in re.findall(r"<infoTable>(.*?)</infoTable>", text, re.DOTALL):
        rows.append({tag: (re.search(rf"<{tag}>(.*?)</{tag}>", block, re.DOTALL) or [None, None])[1]
                     for tag in ("cusip", "value", "sshPrnamt", "sshPrnamtType", "putCall")})
    return rows


def exact_text(path: Path) -> str:
    """A file's text with its line endings as they are (the .nc file separates lines with CR)."""
    return path.read_bytes().decode()


def stated(path: Path) -> tuple[int, int]:
    """tableEntryTotal and tableValueTotal as the cover page writes them."""
    text = path.read_text()
    return (int(re.search(r"<tableEntryTotal>(\d+)<", text)[1]),
            int(re.search(r"<tableValueTotal>(\d+)<", text)[1]))


def tree_digest(root: Path) -> dict[str, str]:
    """Every file of a store with its content hash (the lock file aside)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "_lock"}


def new_store(folder: Path, securities: Path = SECURITIES) -> Store:
    store = Store.open(folder / "store", create=True)
    assert store.ingest("securities", [securities])[0].rejected == 0
    return store


def mapping_store(folder: Path, cusips) -> Store:
    """A store whose securities hold every CUSIP given (security_id S<cusip>)."""
    cusips = sorted({c for c in cusips if c})
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"security_id": [f"S{c}" for c in cusips], "ticker": cusips, "cusip": cusips,
                  "name": cusips, "asset_type": "stock"}).to_csv(folder / "securities.csv", index=False)
    return new_store(folder, folder / "securities.csv")


def positions(store: Store, account: str | None = None) -> dict[str, tuple[float, str]]:
    """security_id -> (quantity, available_from) of the stored positions."""
    frame = store.read("positions")
    if account is not None:
        frame = frame[frame["account_id"] == account]
    return {row.security_id: (row.quantity, f"{row.available_from:%Y-%m-%d}") for row in frame.itertuples()}


def ingest(store: Store, *paths: Path):
    """The accounts and positions reports of one sec13f ingest."""
    reports = store.ingest("sec13f", list(paths))
    return [r for r in reports if r.table == "accounts"], [r for r in reports if r.table == "positions"]


def counted(report) -> None:
    assert report.read == report.accepted + report.rejected == len(report.rejects) + report.accepted


# --------------------------------------------------------------------------- the real filings


REAL = [  # file, entries and value total its summary page states, VALUE unit, the rule that decided
    (LTS, 14, 454_926_000, "dollars", "filing date"),
    (ACORN, 77, 194_611_845, "dollars", "filing date"),
    (BARD_TABLE, 278, 1_129_298, "thousands", "filing date"),
    (ARTAL, 119, 3_226_843, "thousands", "price check"),
]


@pytest.mark.parametrize("path, entries, total, unit, rule", REAL, ids=lambda v: getattr(v, "stem", None))
def test_every_real_filing_is_read_as_its_summary_page_states(path, entries, total, unit, rule):
    cover = BARD_COVER if path == BARD_TABLE else path
    assert stated(cover) == (entries, total)
    rows = table_rows(path)
    [check] = filing_checks(path).to_dict("records")
    assert (check["entries_stated"], check["value_stated"]) == (entries, total)
    assert check["entries_read"] == len(rows)
    assert check["value_read"] == sum(int(r["value"]) for r in rows)
    assert (check["value_unit"], check["unit_rule"]) == (unit, rule)
    assert check["value_usd"] == check["value_read"] * (1000 if unit == "thousands" else 1)
    # Every untrimmed file adds up to its summary page exactly; the trimmed Artal file cannot.
    assert check["consistent"] == (path != ARTAL)
    assert (len(rows), check["value_read"] == total) == ((19, False) if path == ARTAL else (entries, True))


def test_the_trimmed_artal_file_is_reported_against_its_summary_page(tmp_path):
    store = new_store(tmp_path)
    _, [report] = ingest(store, ARTAL)
    counted(report)
    assert (report.read, report.accepted, report.rejected) == (19, 3, 16)
    mismatch = [n for n in report.notes if "does not match its summary page" in n]
    assert mismatch == [("0001053906-23-000008 (Artal Group S.A.): does not match its summary page: "
                         "it states 119 entries worth 3226843 (thousands); the information table holds 19 rows "
                         "worth 286746 (difference -100 rows, -2,940,097)")]
    unit = next(n for n in report.notes if "VALUE read in" in n)
    assert "VALUE read in thousands (rule: price check" in unit and "value $286,746,000" in unit
    # After 2023-01-03 dollars were due; Artal's AMD row says 6,000 shares are worth 683: $113.83 a
    # share only in thousands.
    assert store.read("accounts").set_index("account_id").loc[ARTAL_CIK, "name"] == "Artal Group S.A."
    assert positions(store) == {"AMD": (6000.0, "2023-08-11"), "GOOGL": (4000.0, "2023-08-11"),
                                "AMZN": (10000.0, "2023-08-11")}
    # ... so the stored value of the AMD position is $683,000, in dollars.
    assert store.read("positions").set_index("security_id").loc["AMD", "reported_value"] == 683_000.0
    assert set(store.read("positions")["date"].dt.strftime("%Y-%m-%d")) == {"2023-06-30"}
    reasons = report.rejects.set_index("row")["reason"]
    assert reasons[16].startswith("option row (putCall Call): 500000 shares of 03152W109 under Call options")
    assert reasons[15].startswith("unmapped CUSIP 03152W109")  # the AMICUS share row: no security holds it
    assert sum(reason.startswith("unmapped CUSIP") for reason in reasons) == 15


def test_lts_one_becomes_an_account_and_positions_on_the_last_trading_day_of_its_period(tmp_path):
    store = new_store(tmp_path)
    [accounts], [report] = ingest(store, LTS)
    counted(report)
    assert (accounts.read, accounts.accepted) == (1, 1)
    assert store.read("accounts").to_dict("records") == [
        {"account_id": LTS_CIK, "name": "LTS One Management LP", "strategy": "13f_filer", "region": None}]
    # The period ends Saturday 2023-09-30: positions are dated Friday 2023-09-29, knowable from
    # the filing date 2023-11-14.
    assert set(store.read("positions")["date"].dt.strftime("%Y-%m-%d")) == {"2023-09-29"}
    assert positions(store) == {"AMZN": (137500.0, "2023-11-14"), "CSX": (600000.0, "2023-11-14"),
                                "HUM": (47500.0, "2023-11-14"), "IFF": (2265000.0, "2023-11-14"),
                                "MSFT": (65000.0, "2023-11-14"), "V": (90000.0, "2023-11-14")}
    # <value>20524000</value> for 65,000 MSFT shares, a filing in dollars: stored as it stands.
    values = store.read("positions").set_index("security_id")["reported_value"]
    assert values["MSFT"] == 20_524_000.0
    assert (report.read, report.accepted, report.rejected) == (14, 6, 8)
    assert all(reason.startswith("unmapped CUSIP") for reason in report.rejects["reason"])
    assert report.notes == [(
        "0001894188-23-000007 (LTS One Management LP), period 2023-09-30: VALUE read in dollars (rule: "
        "filing date; filed 2023-11-14, on or after 2023-01-03; median value per share 174.505: $174.50 a "
        "share in dollars, $174,504.83 in thousands); value $454,926,000")]
    before = tree_digest(store.path)
    _, [again] = ingest(store, LTS)
    assert (again.counts.inserted, again.counts.updated, again.counts.unchanged) == (0, 0, 6)
    assert tree_digest(store.path) == before


def test_the_nc_layout_reads_like_the_sgml_one(tmp_path):
    store = new_store(tmp_path)
    [accounts], [report] = ingest(store, ACORN)
    counted(report)
    assert (accounts.read, accounts.accepted) == (1, 1)
    rows = table_rows(ACORN)
    known = pd.read_csv(SECURITIES, dtype=str).set_index("cusip")["security_id"].to_dict()
    expected = {known[r["cusip"]]: (float(r["sshPrnamt"]), "2025-01-22") for r in rows if r["cusip"] in known}
    assert len(expected) == 11 and positions(store, "0001994827") == expected
    assert (report.read, report.accepted, report.rejected) == (77, 11, 66)
    assert store.read("accounts")["name"].tolist() == ["ACORN CREEK CAPITAL LLC"]
    assert set(store.read("positions")["date"].dt.strftime("%Y-%m-%d")) == {"2024-12-31"}


@pytest.mark.parametrize("given", [BARD_TABLE, BARD_COVER], ids=["information table", "cover page"])
def test_an_xml_pair_is_read_from_either_file(tmp_path, given):
    store = mapping_store(tmp_path, [r["cusip"] for r in table_rows(BARD_TABLE)])
    [accounts], [report] = ingest(store, given)
    counted(report)
    assert (accounts.read, accounts.accepted) == (1, 1)
    assert (report.read, report.accepted, report.rejected) == (278, 278, 0)
    assert report.file == str(BARD_TABLE)
    shares = sum(int(r["sshPrnamt"]) for r in table_rows(BARD_TABLE))
    assert sum(q for q, _ in positions(store).values()) == shares
    assert positions(store)["S88579Y101"] == (3326.0, "2021-10-15")  # 3M, the first row
    assert any("the signature date 2021-10-15 stands in as available_from" in n for n in report.notes)
    assert store.read("accounts")["account_id"].tolist() == ["0001850858"]


def test_cover_pages_alone_state_their_totals_but_hold_no_rows(tmp_path):
    metlife, abacus = cover_page(METLIFE), cover_page(ABACUS)
    assert (metlife.cik, metlife.name, metlife.report_type, str(metlife.period)) == (
        "0001099219", "METLIFE INC", "13F COMBINATION REPORT", "2021-12-31")
    assert (metlife.entries_stated, metlife.value_stated) == stated(METLIFE) == (6, 11_019_796)
    assert (abacus.cik, abacus.entries_stated, abacus.value_stated) == ("0001978011", 92, 114_663_960)
    assert (metlife.amended, abacus.amended) == (False, False)
    store = new_store(tmp_path)
    before = tree_digest(store.path)
    with pytest.raises(FileError, match="no information table: none is embedded"):
        store.ingest("sec13f", [METLIFE])
    with pytest.raises(FileError, match="no cover page .primary_doc.xml. beside it"):
        store.ingest("sec13f", [EDGAR_TABLE])
    assert tree_digest(store.path) == before


def cover_xml(entries: int, total: int, *, namespace: bool = True, signed: str = "05-15-2023") -> str:
    xmlns = ' xmlns="http://www.sec.gov/edgar/thirteenffiler"' if namespace else ""
    return (f'<?xml version="1.0"?><edgarSubmission{xmlns}><headerData><submissionType>13F-HR'
            "</submissionType><filerInfo><filer><credentials><cik>42</cik></credentials></filer>"
            "<periodOfReport>03-31-2023</periodOfReport></filerInfo></headerData><formData><coverPage>"
            "<reportCalendarOrQuarter>03-31-2023</reportCalendarOrQuarter><filingManager><name>Test Fund"
            "</name></filingManager><reportType>13F HOLDINGS REPORT</reportType></coverPage><signatureBlock>"
            f"<signatureDate>{signed}</signatureDate></signatureBlock><summaryPage><tableEntryTotal>{entries}"
            f"</tableEntryTotal><tableValueTotal>{total}</tableValueTotal></summaryPage></formData>"
            "</edgarSubmission>")


def test_a_default_namespace_table_with_principal_amount_rows(tmp_path):
    """The edgartools table (default namespace, dollars) under a cover page with no namespace."""
    rows = table_rows(EDGAR_TABLE)
    assert (len(rows), sum(r["sshPrnamtType"] == "PRN" for r in rows)) == (255, 3)
    folder = tmp_path / "filing"
    folder.mkdir()
    (folder / "infotable.xml").write_bytes(EDGAR_TABLE.read_bytes())
    total = sum(int(r["value"]) for r in rows)
    assert total == 350_153_407
    (folder / "primary_doc.xml").write_text(cover_xml(255, total, namespace=False))
    [check] = filing_checks(folder / "infotable.xml").to_dict("records")
    assert (check["cik"], check["entries_read"], check["value_read"], check["consistent"]) == (
        "0000000042", 255, total, True)
    store = mapping_store(tmp_path, [r["cusip"] for r in rows])
    _, [report] = ingest(store, folder / "infotable.xml")
    counted(report)
    assert (report.read, report.accepted, report.rejected) == (255, 252, 3)
    assert all(r.startswith("principal amount row (PRN): ") and "kept out of equity positions" in r
               for r in report.rejects["reason"])


NAMESPACES = {  # the same information table spelled three ways
    "ns1 prefix": lambda t: t,
    "default namespace": lambda t: re.sub(r"<(/?)ns1:", r"<\1", t).replace("xmlns:ns1=", "xmlns="),
    "no namespace": lambda t: re.sub(r'\s+xmlns:ns1="[^"]*"', "", re.sub(r"<(/?)ns1:", r"<\1", t)),
}


@pytest.mark.parametrize("spelling", NAMESPACES)
def test_an_information_table_reads_the_same_in_any_namespace_spelling(tmp_path, spelling):
    table = NAMESPACES[spelling](exact_text(BARD_TABLE))
    assert ("<ns1:infoTable>" in table) == (spelling == "ns1 prefix") and ("xmlns=" in table) == (
        spelling == "default namespace")
    (tmp_path / BARD_TABLE.name).write_text(table)
    (tmp_path / BARD_COVER.name).write_bytes(BARD_COVER.read_bytes())
    [check] = filing_checks(tmp_path / BARD_TABLE.name).to_dict("records")
    assert (check["entries_read"], check["value_read"], check["consistent"]) == (278, 1_129_298, True)


def test_a_cover_page_says_which_amendment_it_is(tmp_path):
    cover = re.search(r"<XML>\s*(.*?)\s*</XML>", lts_restatement(), re.DOTALL)[1]
    (tmp_path / "primary_doc.xml").write_text(cover)
    filing = cover_page(tmp_path / "primary_doc.xml")
    assert (filing.amended, filing.amendment, filing.amendment_no) == (True, "RESTATEMENT", 1)
    assert (filing.cik, filing.name, str(filing.period), filing.entries_stated, filing.value_stated) == (
        LTS_CIK, "LTS One Management LP", "2023-09-30", 13, 302_110_000)
    assert (filing.report_type, filing.form) == ("13F HOLDINGS REPORT", "13F-HR/A")


# ---------------------------------------------------------------------------------- VALUE units


def test_rows_in_thousands_under_a_total_in_dollars_are_told_by_the_summary_page(tmp_path):
    text = LTS.read_text()
    thousands = re.sub(r"<ns1:value>(\d+)</ns1:value>",
                       lambda m: f"<ns1:value>{round(int(m[1]) / 1000)}</ns1:value>", text)
    (tmp_path / "lts.txt").write_text(thousands)
    [check] = filing_checks(tmp_path / "lts.txt").to_dict("records")
    assert (check["value_unit"], check["unit_rule"], check["value_read"], check["value_stated"]) == (
        "thousands", "summary total", 454_926, 454_926_000)
    assert check["consistent"] and check["value_usd"] == 454_926_000
    assert "the rows sum to 454,926, a thousandth of the stated 454,926,000" in check["unit_evidence"]


def test_dollars_before_2023_are_told_by_the_price_check(tmp_path):
    folder = tmp_path / "bard"
    folder.mkdir()
    table = re.sub(r"<ns1:value>(\d+)</ns1:value>", lambda m: f"<ns1:value>{int(m[1]) * 1000}</ns1:value>",
                   BARD_TABLE.read_text())
    (folder / BARD_TABLE.name).write_text(table)
    (folder / BARD_COVER.name).write_text(BARD_COVER.read_text().replace("1129298", "1129298000"))
    [check] = filing_checks(folder / BARD_TABLE.name).to_dict("records")
    assert (check["value_unit"], check["unit_rule"], check["consistent"]) == ("dollars", "price check", True)
    assert check["value_usd"] == 1_129_298_000
    assert "$81,846.15 a share in thousands, $81.85 in dollars" in check["unit_evidence"]


# ------------------------------------------------------------------------------ the data sets


def dataset_zip(folder: Path, tables: dict[str, bytes] | None = None, name: str = "2023q4_form13f.zip") -> Path:
    tables = tables if tables is not None else {p.name: p.read_bytes() for p in DATASET.glob("*.tsv")}
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in tables.items():
            archive.writestr(member, data)
    return path


def test_a_data_set_zip_and_its_infotable_read_the_same(tmp_path):
    by_zip = filing_checks(dataset_zip(tmp_path))
    by_folder = filing_checks(DATASET / "INFOTABLE.tsv")
    assert by_zip.equals(by_folder)
    assert by_zip[["accession", "entries_stated", "entries_read", "value_stated", "value_read", "consistent"]
                  ].values.tolist() == [
        ["0001053906-23-000008", 119, 19, 3_226_843, 286_746, False],
        ["0001894188-23-000007", 14, 14, 454_926_000, 454_926_000, True],
        ["0001894188-23-000009", 13, 13, 302_110_000, 302_110_000, True],
        ["0001894188-23-000010", 2, 2, 1_870_616, 1_870_616, True]]
    # SUBMISSION.tsv writes the CIKs without leading zeros
    assert by_zip["cik"].tolist() == [ARTAL_CIK, LTS_CIK, LTS_CIK, LTS_CIK]
    assert by_zip["unit_rule"].tolist() == ["price check", "filing date", "filing date", "filing date"]


def test_amendments_in_one_data_set_restatement_replaces_and_new_holdings_add(tmp_path):
    store = new_store(tmp_path)
    [accounts], [report] = ingest(store, dataset_zip(tmp_path))
    counted(report)
    assert accounts.read == 2 and sorted(store.read("accounts")["account_id"]) == [ARTAL_CIK, LTS_CIK]
    # Original: 14 rows, IFF 2,265,000 and AMZN 137,500. The restatement (filed 2023-12-01) drops
    # IFF and restates AMZN at 150,000; NEW HOLDINGS (2023-12-15) adds 2,500 HUM and 5,000 GOOGL.
    assert positions(store, LTS_CIK) == {
        "AMZN": (150000.0, "2023-12-01"), "CSX": (600000.0, "2023-12-01"), "MSFT": (65000.0, "2023-12-01"),
        "V": (90000.0, "2023-12-01"), "HUM": (50000.0, "2023-12-15"), "GOOGL": (5000.0, "2023-12-15")}
    reasons = report.rejects["reason"]
    restated = "superseded: 13F-HR/A 0001894188-23-000009 filed 2023-12-01 restates this filer's holdings"
    assert sum(r.startswith(restated) for r in reasons) == 14
    assert sorted(report.rejects[reasons.str.startswith("superseded")]["row"]) == list(range(20, 34))
    # 48 rows: Artal 3 positions, 15 unmapped, 1 call; LTS 14 superseded, the restatement's 5 mapped
    # rows and 8 unmapped, the 2 new holdings (HUM summed with the restatement's HUM row).
    assert (report.read, report.accepted, report.rejected) == (48, 10, 38)
    assert report.counts.inserted == 9
    assert sum(r.startswith("unmapped CUSIP") for r in reasons) == 23
    assert report.notes[0].startswith("3 filing(s) match their summary page")


def lts_restatement(filed: str = "20231201") -> str:
    """The LTS One filing as a RESTATEMENT: IFF dropped, AMZN restated at 150,000 shares."""
    text = LTS.read_text().replace("CONFORMED SUBMISSION TYPE:\t13F-HR", "CONFORMED SUBMISSION TYPE:\t13F-HR/A")
    text = text.replace("<submissionType>13F-HR<", "<submissionType>13F-HR/A<")
    text = re.sub(r"FILED AS OF DATE:\t\t\d+", f"FILED AS OF DATE:\t\t{filed}", text)
    text = text.replace("<reportCalendarOrQuarter>09-30-2023</reportCalendarOrQuarter>",
                        "<reportCalendarOrQuarter>09-30-2023</reportCalendarOrQuarter><isAmendment>true"
                        "</isAmendment><amendmentNo>1</amendmentNo><amendmentInfo><amendmentType>RESTATEMENT"
                        "</amendmentType></amendmentInfo>")
    text = re.sub(r"\s*<ns1:infoTable>\s*<ns1:nameOfIssuer>INTERNATIONAL FLAVORS.*?</ns1:infoTable>", "", text,
                  flags=re.DOTALL)
    text = text.replace("<ns1:value>17479000</ns1:value>", "<ns1:value>19068000</ns1:value>").replace(
        "<ns1:sshPrnamt>137500</ns1:sshPrnamt>", "<ns1:sshPrnamt>150000</ns1:sshPrnamt>")
    return text.replace("<tableEntryTotal>14<", "<tableEntryTotal>13<").replace(
        "<tableValueTotal>454926000<", "<tableValueTotal>302110000<")


def _held_as_of(store: Store, day: str) -> dict[str, float]:
    frame = filer_positions(Inputs(connect(store), dt.date.fromisoformat(day))).to_pandas()
    return dict(zip(frame["security_id"], frame["shares"]))


def test_a_restatement_ingested_later_replaces_the_holdings_and_keeps_the_past(tmp_path):
    restatement = tmp_path / "0001894188-23-000009.txt"
    restatement.write_text(lts_restatement())
    [check] = filing_checks(restatement).to_dict("records")
    assert (check["amendment"], check["entries_read"], check["value_read"], check["consistent"]) == (
        "RESTATEMENT", 13, 302_110_000, True)
    store = new_store(tmp_path)
    ingest(store, LTS)
    _, [report] = ingest(store, restatement)
    counted(report)
    # AMZN restated, IFF left out (closed), the other 4 as the original filed them.
    assert (report.counts.updated, report.counts.deleted, report.counts.unchanged) == (1, 1, 4)
    assert positions(store, LTS_CIK) == {
        "AMZN": (150000.0, "2023-12-01"), "CSX": (600000.0, "2023-11-14"), "HUM": (47500.0, "2023-11-14"),
        "MSFT": (65000.0, "2023-11-14"), "V": (90000.0, "2023-11-14")}
    versions = store.read("position_versions")
    assert versions[["security_id", "quantity"]].values.tolist() == [["AMZN", 137500.0], ["IFF", 2265000.0]]
    assert set(versions["superseded_from"].dt.strftime("%Y-%m-%d")) == {"2023-12-01"}
    # Point in time: before the restatement was filed, the original holds.
    original = {"AMZN": 137500.0, "CSX": 600000.0, "HUM": 47500.0, "IFF": 2265000.0, "MSFT": 65000.0, "V": 90000.0}
    assert _held_as_of(store, "2023-11-30") == original
    restated = {k: v for k, v in original.items() if k != "IFF"} | {"AMZN": 150000.0}
    assert _held_as_of(store, "2023-12-01") == restated
    # The original again, then the restatement again: nothing changes.
    before = tree_digest(store.path)
    _, [again] = ingest(store, LTS)
    _, [twice] = ingest(store, restatement)
    assert tree_digest(store.path) == before
    assert (again.counts.inserted, again.counts.updated, again.counts.deleted) == (0, 0, 0)
    assert (twice.counts.inserted, twice.counts.updated, twice.counts.deleted) == (0, 0, 0)


def test_the_manifest_knows_the_last_filing_date(tmp_path):
    restatement = tmp_path / "0001894188-23-000009.txt"
    restatement.write_text(lts_restatement())
    store = new_store(tmp_path)
    ingest(store, LTS)
    assert store.last_available("positions") == dt.date(2023, 11, 14)
    ingest(store, restatement)
    assert store.last_available("positions") == dt.date(2023, 12, 1)
    assert store.last_available("position_versions") == dt.date(2023, 11, 14)
    book = sm.open(store)
    queried = book.backend.table("positions").available_from.max().execute()
    assert book.last_known == pd.Timestamp(queried).date() == dt.date(2023, 12, 1)


def test_new_holdings_ingested_later_add_to_the_holdings(tmp_path):
    text = lts_restatement("20231215").replace("RESTATEMENT", "NEW HOLDINGS")
    # Only MSFT is in the "new holdings" file: it adds to (replaces) MSFT, closes nothing.
    text = re.sub(r"\s*<ns1:infoTable>\s*<ns1:nameOfIssuer>(?!MICROSOFT).*?</ns1:infoTable>", "", text, flags=re.DOTALL)
    (tmp_path / "new.txt").write_text(text)
    store = new_store(tmp_path)
    ingest(store, LTS)
    _, [report] = ingest(store, tmp_path / "new.txt")
    assert any("NEW HOLDINGS amendment read without the filing it amends" in n for n in report.notes)
    held = positions(store, LTS_CIK)
    assert len(held) == 6 and held["IFF"] == (2265000.0, "2023-11-14") and held["MSFT"] == (65000.0, "2023-11-14")


def test_a_filing_older_than_the_stored_one_is_refused(tmp_path):
    restatement = tmp_path / "0001894188-23-000009.txt"
    restatement.write_text(lts_restatement())
    store = new_store(tmp_path)
    ingest(store, restatement)
    before = tree_digest(store.path)
    with pytest.raises(StoreError, match=r"the holdings of 0001894188 for 2023-09-29 filed 2023-11-14 are older "
                                         r"than the ones stored \(filed 2023-12-01\): ingest the filings in filing "
                                         r"order, or together"):
        ingest(store, LTS)
    assert tree_digest(store.path) == before


def test_a_notice_makes_an_account_and_no_positions(tmp_path):
    text = LTS.read_text().replace("13F-HR", "13F-NT").replace("13F HOLDINGS REPORT", "13F NOTICE")
    text = re.sub(r"<DOCUMENT>\s*<TYPE>INFORMATION TABLE.*?</DOCUMENT>", "", text, flags=re.DOTALL)
    text = re.sub(r"<summaryPage>.*?</summaryPage>", "", text, flags=re.DOTALL)
    (tmp_path / "notice.txt").write_text(text)
    store = new_store(tmp_path)
    [accounts], [report] = ingest(store, tmp_path / "notice.txt")
    assert (accounts.accepted, report.read, report.accepted, report.rejected) == (1, 0, 0, 0)
    assert report.notes == [("0001894188-23-000007 (LTS One Management LP): a 13F notice (13F-NT): its "
                             "holdings are reported by another manager")]
    assert store.read("accounts")["account_id"].tolist() == [LTS_CIK] and store.read("positions").empty


def test_positions_are_not_visible_before_their_filing_date(tmp_path):
    store = new_store(tmp_path)
    ingest(store, LTS, ARTAL)
    backend = connect(store)

    def held(as_of: str) -> dict[str, list[str]]:
        frame = filer_positions(Inputs(backend, dt.date.fromisoformat(as_of))).to_pandas()
        return {account: sorted(frame[frame["account_id"] == account]["security_id"])
                for account in (LTS_CIK, ARTAL_CIK)}

    assert held("2023-08-10") == {LTS_CIK: [], ARTAL_CIK: []}          # Artal files on 2023-08-11
    assert held("2023-08-11") == {LTS_CIK: [], ARTAL_CIK: ["AMD", "AMZN", "GOOGL"]}
    assert held("2023-11-13") == {LTS_CIK: [], ARTAL_CIK: ["AMD", "AMZN", "GOOGL"]}  # LTS holds at 2023-09-29
    assert held("2023-11-14") == {LTS_CIK: ["AMZN", "CSX", "HUM", "IFF", "MSFT", "V"],
                                  ARTAL_CIK: ["AMD", "AMZN", "GOOGL"]}


def test_amended_positions_are_visible_from_the_amendment(tmp_path):
    store = new_store(tmp_path)
    ingest(store, dataset_zip(tmp_path))
    backend = connect(store)
    visible = {day: sorted(filer_positions(Inputs(backend, dt.date.fromisoformat(day))).to_pandas().query(
        "account_id == @LTS_CIK")["security_id"]) for day in ("2023-11-30", "2023-12-01", "2023-12-15")}
    assert visible == {"2023-11-30": [], "2023-12-01": ["AMZN", "CSX", "MSFT", "V"],
                       "2023-12-15": ["AMZN", "CSX", "GOOGL", "HUM", "MSFT", "V"]}


# -------------------------------------------------------------------------- hostile variants


@dataclass(frozen=True)
class Layout:
    """One input format built around a real filing: how to take it apart and put it back."""

    name: str
    cover_path: Path
    table_path: Path

    def parts(self) -> tuple[str, str]:
        if self.cover_path == self.table_path:
            cover, table = re.findall(r"<XML>\s*(.*?)\s*</XML>", exact_text(self.cover_path), re.DOTALL)
            return cover, table
        return exact_text(self.cover_path), exact_text(self.table_path)

    def write(self, folder: Path, cover: str, table: str, header: Callable[[str], str] | None) -> Path:
        """The file to ingest (for a pair, the information table, with its cover beside it)."""
        folder.mkdir(parents=True, exist_ok=True)
        header = header or (lambda text: text)
        if self.cover_path == self.table_path:
            original_cover, original_table = self.parts()
            whole = exact_text(self.cover_path).replace(original_cover, cover).replace(original_table, table)
            (folder / self.cover_path.name).write_bytes(header(whole).encode())
            return folder / self.cover_path.name
        (folder / self.cover_path.name).write_bytes(header(cover).encode())
        (folder / self.table_path.name).write_bytes(table.encode())
        return folder / self.table_path.name


LAYOUTS = {"txt": Layout("txt", LTS, LTS), "nc": Layout("nc", ACORN, ACORN),
           "xml": Layout("xml", BARD_COVER, BARD_TABLE)}


def block(table: str, row: int) -> re.Match:
    return list(re.finditer(r"<(?:\w+:)?infoTable>.*?</(?:\w+:)?infoTable>", table, re.DOTALL))[row - 1]


def set_field(table: str, row: int, tag: str, text: str | None) -> str:
    """The row-th infoTable with <tag>'s content replaced (None: the element removed)."""
    match = block(table, row)
    changed = re.sub(rf"<((?:\w+:)?){tag}>[^<]*</(?:\w+:)?{tag}>",
                     lambda m: "" if text is None else f"<{m[1]}{tag}>{text}</{m[1]}{tag}>", match[0], count=1)
    return table[:match.start()] + changed + table[match.end():]


def add_put_call(table: str, row: int, text: str) -> str:
    match = block(table, row)
    changed = re.sub(r"<((?:\w+:)?)investmentDiscretion>", lambda m: f"<{m[1]}putCall>{text}</{m[1]}putCall>"
                     f"<{m[1]}investmentDiscretion>", match[0], count=1)
    return table[:match.start()] + changed + table[match.end():]


def duplicate(table: str, row: int) -> str:
    match = block(table, row)
    return table[:match.end()] + match[0] + table[match.end():]


def without_rows(table: str) -> str:
    return re.sub(r"\s*<(?:\w+:)?infoTable>.*?</(?:\w+:)?infoTable>", "", table, flags=re.DOTALL)


@dataclass(frozen=True)
class Variant:
    """A change to a real filing and what must come of it: ("file", text) a FileError naming the
    file; ("rows", {row: text}, extra) those rows rejected with that text, extra rows read."""

    name: str
    expect: tuple
    cover: Callable[[str], str] | None = None
    table: Callable[[str], str] | None = None
    header: Callable[[str], str] | None = None  # the submission text, or the cover page of a pair
    raw: bytes | None = None
    keep: float | None = None


COMMON = [
    Variant("empty file", ("file", "the file is empty"), raw=b""),
    Variant("garbage text", ("file", "not a 13F file: it starts with"), raw=b"hello, not a filing\n" * 20),
    Variant("binary", ("file", "NUL bytes (binary data?)"), raw=bytes(range(256)) * 40),
    Variant("truncated", ("file", "is not well-formed XML"), keep=0.6),
    Variant("wrong namespace", ("file", "is in the namespace 'http://example.com/not-13f'"),
            table=lambda t: t.replace(TABLE_NS, "http://example.com/not-13f")),
    Variant("wrong root element", ("file", "the root element is <holdingsTable>, not"),
            table=lambda t: t.replace("informationTable", "holdingsTable")),
    Variant("entity declaration", ("file", "declares a DOCTYPE or ENTITY"),
            table=lambda t: re.sub(r"^(<\?xml[^>]*\?>)", r'\1<!DOCTYPE x [<!ENTITY a "aaaa">]>', t)),
    Variant("no summary page", ("file", "no summary page"),
            cover=lambda c: re.sub(r"<summaryPage>.*?</summaryPage>", "", c, flags=re.DOTALL)),
    Variant("bad period", ("file", "<periodOfReport> '13-45-2023' is not a date (MM-DD-YYYY)"),
            cover=lambda c: re.sub(r"<periodOfReport>[^<]*<", "<periodOfReport>13-45-2023<", c)),
    Variant("amendment without a type", ("file", "does not say whether it is a RESTATEMENT or NEW HOLDINGS"),
            cover=lambda c: c.replace("</reportCalendarOrQuarter>",
                                      "</reportCalendarOrQuarter><isAmendment>true</isAmendment>")),
    Variant("header only", ("file", "holds no <infoTable> rows"), table=without_rows),
    Variant("negative value", ("rows", {2: "value '-5' is negative"}, 0),
            table=lambda t: set_field(t, 2, "value", "-5")),
    Variant("negative shares", ("rows", {3: "sshPrnamt '-100' is negative"}, 0),
            table=lambda t: set_field(t, 3, "sshPrnamt", "-100")),
    Variant("text for a number", ("rows", {1: "value '12a' is not a number"}, 0),
            table=lambda t: set_field(t, 1, "value", "12a")),
    Variant("element for a value", ("rows", {1: "<value> holds elements (<amount>), not a value"}, 0),
            table=lambda t: set_field(t, 1, "value", "<amount>5</amount>")),
    Variant("huge number", ("rows", {2: "has more than 16 digits"}, 0),
            table=lambda t: set_field(t, 2, "sshPrnamt", "123456789012345678901")),
    Variant("beyond 2**53", ("rows", {2: "sshPrnamt 9007199254740993 is too large to hold exactly"}, 0),
            table=lambda t: set_field(t, 2, "sshPrnamt", "9007199254740993")),
    Variant("missing CUSIP", ("rows", {4: "cusip is missing"}, 0),
            table=lambda t: set_field(t, 4, "cusip", None)),
    Variant("bad share type", ("rows", {2: "sshPrnamtType 'XX' is not SH or PRN"}, 0),
            table=lambda t: set_field(t, 2, "sshPrnamtType", "XX")),
    Variant("bad putCall", ("rows", {2: "putCall 'Maybe' is not Put or Call"}, 0),
            table=lambda t: add_put_call(t, 2, "Maybe")),
    Variant("a put row", ("rows", {2: "option row (putCall Put): "}, 0),
            table=lambda t: add_put_call(t, 2, "Put")),
    Variant("a principal amount row", ("rows", {3: "principal amount row (PRN): "}, 0),
            table=lambda t: set_field(t, 3, "sshPrnamtType", "PRN")),
    Variant("duplicate row", ("rows", {}, 1), table=lambda t: duplicate(t, 1)),
    Variant("one bad row spoils its CUSIP", ("rows", {1: "another row of CUSIP", 2: "sshPrnamt 'x' is not"}, 1),
            table=lambda t: set_field(duplicate(t, 1), 2, "sshPrnamt", "x")),
]
SPECIFIC = {
    "txt": [
        Variant("bad filing date", ("file", "FILED AS OF DATE '2023-11-14' is not a date (YYYYMMDD)"),
                header=lambda s: s.replace("FILED AS OF DATE:\t\t20231114", "FILED AS OF DATE:\t\t2023-11-14")),
        Variant("filed before the period ends",
                ("file", "the filing date 2023-09-01 is before the end of the period"),
                header=lambda s: s.replace("FILED AS OF DATE:\t\t20231114", "FILED AS OF DATE:\t\t20230901")),
        Variant("header and cover disagree on the CIK",
                ("file", "gives CIK 0001894188, the cover page 0000000042"),
                cover=lambda c: c.replace("<cik>0001894188</cik>", "<cik>0000000042</cik>")),
        Variant("no cover page document", ("file", "no 13F cover page"),
                header=lambda s: s.replace("<TYPE>13F-HR\n", "<TYPE>EX-99\n")),
    ],
    "nc": [
        Variant("bad filing date", ("file", "FILED AS OF DATE '2025-01-22' is not a date"),
                header=lambda s: s.replace("<FILING-DATE>20250122", "<FILING-DATE>2025-01-22")),
        Variant("no cover page document", ("file", "no 13F cover page"),
                header=lambda s: s.replace("<TYPE>13F-HR\r<SEQUENCE>", "<TYPE>EX-99\r<SEQUENCE>")),
    ],
    "xml": [
        Variant("signed before the period ends", ("file", "the signature date 2021-09-01 is before the end"),
                cover=lambda c: c.replace("<signatureDate>10-15-2021<", "<signatureDate>09-01-2021<")),
        Variant("no CIK", ("file", "no filer CIK"), cover=lambda c: c.replace("<cik>0001850858</cik>", "")),
        Variant("cover page unreadable", ("file", "no cover page (primary_doc.xml) beside it"),
                cover=lambda c: "<"),
    ],
}
CASES = [pytest.param(name, variant, id=f"{name}: {variant.name}")
         for name in LAYOUTS for variant in [*COMMON, *SPECIFIC[name]]]


@pytest.mark.parametrize("layout_name, variant", CASES)
def test_hostile_variants_of_each_format(tmp_path, layout_name, variant):
    layout = LAYOUTS[layout_name]
    cover, table = layout.parts()
    cusips = [r["cusip"] for r in table_rows(layout.table_path)]
    store = mapping_store(tmp_path, cusips)
    good = layout.write(tmp_path / "good", cover, table, None)
    bad = layout.write(tmp_path / "bad", (variant.cover or str)(cover), (variant.table or str)(table),
                       variant.header)
    if variant.raw is not None:
        bad.write_bytes(variant.raw)
    if variant.keep is not None:
        bad.write_bytes(bad.read_bytes()[: int(len(bad.read_bytes()) * variant.keep)])
    if variant.expect[0] == "file":
        before = tree_digest(store.path)
        with pytest.raises(FileError) as error:
            store.ingest("sec13f", [good, bad])
        assert str(bad.parent) in str(error.value) and variant.expect[1] in str(error.value), str(error.value)
        assert tree_digest(store.path) == before  # nothing half-ingested, not even the good file
        return
    _, expected, extra = variant.expect
    _, [report] = ingest(store, bad)
    counted(report)
    assert report.read == len(cusips) + extra
    rejects = report.rejects.set_index("row")["reason"]
    assert sorted(rejects.index) == sorted(expected)
    for row, text in expected.items():
        assert text in rejects[row], rejects[row]
    assert report.accepted == len(cusips) + extra - len(expected)
    if variant.name == "duplicate row":  # summed: the first CUSIP holds twice its shares
        first = table_rows(layout.table_path)[0]
        assert positions(store)[f"S{first['cusip']}"][0] == 2 * int(first["sshPrnamt"])
        assert any("(difference +1 rows" in note for note in report.notes)


DATASET_ROWS = 48  # INFOTABLE.tsv: Artal rows 1-19, LTS One 20-33, its restatement 34-46, new holdings 47-48


def tsv(name: str) -> str:
    return (DATASET / name).read_text()


def lines(name: str) -> list[str]:
    return tsv(name).splitlines(keepends=True)


def replace_line(name: str, row: int, change: Callable[[list[str]], list[str]]) -> tuple[str, str]:
    lines = tsv(name).splitlines(keepends=True)
    lines[row] = "\t".join(change(lines[row].rstrip("\n").split("\t"))) + "\n"
    return name, "".join(lines)


def info_field(row: int, column: str, value: str) -> tuple[str, str]:
    index = tsv("INFOTABLE.tsv").splitlines()[0].split("\t").index(column)
    return replace_line("INFOTABLE.tsv", row, lambda fields: [*fields[:index], value, *fields[index + 1:]])


ARTAL_ROWS = [r for r in range(1, 20) if r != 16]  # row 16, the call, is rejected anyway
TSV_VARIANTS = [
    ("empty INFOTABLE", [("INFOTABLE.tsv", "")], ("file", "INFOTABLE.tsv: the file is empty")),
    ("binary INFOTABLE", [("INFOTABLE.tsv", "\x00\x01\x02" * 50)], ("file", "contains NUL bytes")),
    ("header only", [("INFOTABLE.tsv", lines("INFOTABLE.tsv")[0])],
     ("file", "a header and no rows")),
    ("missing column", [("INFOTABLE.tsv", tsv("INFOTABLE.tsv").replace("\tCUSIP\t", "\tCUSIP_NUMBER\t", 1))],
     ("file", "row 1: missing column CUSIP")),
    ("garbage bytes", [("INFOTABLE.tsv", tsv("INFOTABLE.tsv").replace("ACELYRIN", "\udcff\udcfe"))],
     ("file", "cannot be read as tab-separated text")),
    ("truncated", [("INFOTABLE.tsv", tsv("INFOTABLE.tsv")[:-40])],
     ("rows", {48: "expected 15 fields, found 5"}, 0)),
    ("negative value", [info_field(2, "VALUE", "-38063")], ("rows", {2: "value '-38063' is negative"}, 0)),
    ("commas in a number", [info_field(3, "SSHPRNAMT", "2,255,375")], ("rows", {3: "is not a number"}, 0)),
    ("huge number", [info_field(4, "VALUE", "1" * 20)], ("rows", {4: "more than 16 digits"}, 0)),
    ("missing CUSIP", [info_field(5, "CUSIP", "")], ("rows", {5: "cusip is missing"}, 0)),
    ("bad share type", [info_field(6, "SSHPRNAMTTYPE", "SHS")], ("rows", {6: "'SHS' is not SH or PRN"}, 0)),
    ("bad putCall", [info_field(7, "PUTCALL", "Maybe")],
     ("rows", {7: "putCall 'Maybe' is not Put or Call"}, 0)),
    ("duplicate row", [("INFOTABLE.tsv", tsv("INFOTABLE.tsv") + lines("INFOTABLE.tsv")[1])], ("rows", {}, 1)),
    ("bad filing date", [replace_line("SUBMISSION.tsv", 1, lambda f: [f[0], "31-FOO-2023", *f[2:]])],
     ("rows", dict.fromkeys(ARTAL_ROWS, "SUBMISSION.tsv row 1: FILING_DATE '31-FOO-2023' is not a date"), 0)),
    ("filed before the period ends",
     [replace_line("SUBMISSION.tsv", 1, lambda f: [f[0], "01-JUN-2023", *f[2:]])],
     ("rows", dict.fromkeys(ARTAL_ROWS, "the filing date 2023-06-01 is before the end of the period"), 0)),
    ("no summary page row",
     [("SUMMARYPAGE.tsv", "".join(lines("SUMMARYPAGE.tsv")[:1] + lines("SUMMARYPAGE.tsv")[2:]))],
     ("rows", {r: "no summary page" for r in ARTAL_ROWS}, 0)),
    ("accession without a submission", [info_field(3, "ACCESSION_NUMBER", "0000000000-23-000001")],
     ("rows", {3: "accession 0000000000-23-000001 has no SUBMISSION.tsv row"}, 0)),
    ("unknown amendment type", [replace_line("COVERPAGE.tsv", 3, lambda f: [*f[:4], "MAYBE", *f[5:]])],
     ("rows", {r: "amendment type 'MAYBE' is not RESTATEMENT or NEW HOLDINGS" for r in range(34, 47)}, 0)),
    ("no SUMMARYPAGE.tsv", [("SUMMARYPAGE.tsv", None)], ("file", "the zip holds no SUMMARYPAGE.tsv")),
    ("damaged zip", "damaged", ("file", "a damaged zip archive")),
    ("the wrong table", "SUBMISSION.tsv", ("file", "ingested as its zip or its INFOTABLE.tsv")),
]


@pytest.mark.parametrize("changes, expect", [pytest.param(c, e, id=n) for n, c, e in TSV_VARIANTS])
def test_hostile_variants_of_the_data_set(tmp_path, changes, expect):
    store = mapping_store(tmp_path, pd.read_csv(DATASET / "INFOTABLE.tsv", sep="\t", dtype=str)["CUSIP"])
    (tmp_path / "base").mkdir()
    _, [base] = ingest(store, dataset_zip(tmp_path / "base"))
    base_rejects = set(base.rejects["row"])
    assert (base.read, base.rejected, sorted(base_rejects)) == (DATASET_ROWS, 15, [16, *range(20, 34)])
    tables = {p.name: p.read_text() for p in DATASET.glob("*.tsv")}
    if isinstance(changes, list):
        for name, text in changes:
            if text is None:
                tables.pop(name)
            else:
                tables[name] = text
    (tmp_path / "bad").mkdir()
    encoded = {name: text.encode("utf-8", errors="surrogateescape") for name, text in tables.items()}
    bad = dataset_zip(tmp_path / "bad", encoded)
    if changes == "damaged":
        bad.write_bytes(bad.read_bytes()[:300])
    elif changes == "SUBMISSION.tsv":
        for name, data in encoded.items():
            (tmp_path / "bad" / name).write_bytes(data)
        bad = tmp_path / "bad" / "SUBMISSION.tsv"
    if expect[0] == "file":
        before = tree_digest(store.path)
        with pytest.raises(FileError) as error:
            store.ingest("sec13f", [DATASET / "INFOTABLE.tsv", bad])
        assert str(bad) in str(error.value) and expect[1] in str(error.value), str(error.value)
        assert tree_digest(store.path) == before
        return
    _, expected, extra = expect
    _, [report] = ingest(store, bad)
    counted(report)
    assert report.read == DATASET_ROWS + extra
    rejects = report.rejects.set_index("row")["reason"]
    assert sorted(set(rejects.index) - base_rejects) == sorted(expected)
    for row, text in expected.items():
        assert text in rejects[row], rejects[row]
    if extra:  # the duplicated first row (23andMe, 661,009 shares) is summed with it
        assert store.read("positions").set_index("security_id").loc["S90138Q108", "quantity"] == 2 * 661009


# ---------------------------------------------------------------------------- CLI and the docs


def test_the_cli_ingests_13f_filings(tmp_path):
    runner = CliRunner()
    store = str(tmp_path / "store")
    assert runner.invoke(app, ["ingest", "securities", str(SECURITIES), "--store", store]).exit_code == 0
    result = runner.invoke(app, ["ingest", "sec13f", str(LTS), "--store", store])
    assert result.exit_code == 0, result.output
    assert "positions" in result.output and "unmapped CUSIP 22160N109" in result.output
    bad = tmp_path / "bad.txt"
    bad.write_bytes(LTS.read_bytes()[:5000])
    result = runner.invoke(app, ["ingest", "sec13f", str(bad), "--store", store])
    assert result.exit_code == 2 and "is not well-formed XML" in result.output


def test_docs_examples_run_as_written(tmp_path, monkeypatch, capsys):
    page = run_page("sec13f.md", tmp_path, monkeypatch, capsys)
    assert len(page.commands) >= 3 and page.blocks
    printed = page.printed
    assert "price check" in printed and "3226843" in printed and "2023-12-15" in printed
    assert "13F filers net sold $7.5k of US stocks in Q2 2023 (bought $13.0k, sold $20.5k)" in printed
    assert "13000.0    20500.0   -7500.0" in printed


def test_a_filing_into_a_store_without_securities_rejects_every_holding(tmp_path):
    """Regression: every row rejected (no CUSIP maps) used to fail with an IndexError."""
    store = Store.open(tmp_path / "store", create=True)
    accounts, holdings = ingest(store, LTS)
    assert holdings and all(r.accepted == 0 and r.rejected == r.read > 0 for r in holdings)
    assert store.read("positions").empty
    assert store.rejects("positions")["reason"].str.startswith("unmapped CUSIP").all()
