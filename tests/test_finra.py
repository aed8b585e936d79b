"""FINRA short sale volume and short interest: the real files, hostile variants, the metrics on
both engines against a pandas reference, the facts, and docs/finra.md run as written."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from docs_examples import run_page
from typer.testing import CliRunner

from smartmoney import Store
from smartmoney.cli import app
from smartmoney.engine import connect
from smartmoney.metrics import short as S
from smartmoney.shorts import WHO, market_volume_facts, short_facts, short_sentences
from smartmoney.sources import FileError
from smartmoney.taxonomy import sp500_universe
from smartmoney.taxonomy.calendar import trading_days

ROOT = Path(__file__).parents[1]
DATA = Path(__file__).parent / "data" / "finra"
VOLUME = DATA / "short_volume"
INTEREST = DATA / "short_interest"
INTEREST_CSV = INTEREST / "finra_consolidated_short_interest_AAPL_BRKB_2025-11-14_to_2026-08-31.csv"
NMS_FACILITIES = ("FNRA", "FNSQ", "FNQC", "FNYX")
VOLUMES = ["short_volume", "short_exempt_volume", "total_volume"]

# The record count each real file states in its trailer (read off the files).
TRAILERS = {
    "CNMSshvol20200102.txt": 8172, "FNRAshvol20200102.txt": 0, "FNSQshvol20200102.txt": 7972,
    "FNQCshvol20200102.txt": 2678, "FNYXshvol20200102.txt": 7355, "FORFshvol20200102.txt": 3149,
    "CNMSshvol20200103_trimmed.txt": 18, "CNMSshvol20200106_trimmed.txt": 18,
    "CNMSshvol20200107_trimmed.txt": 18, "CNMSshvol20200108_trimmed.txt": 18,
    "CNMSshvol20200109_trimmed.txt": 18, "CNMSshvol20210802_sample5rows.txt": 10,
    "CNMSshvol20260730_equibles_sample_fractional.txt": 3, "FORFshvol20260730_equibles_sample.txt": 2,
}


def new_store(folder: Path) -> Store:
    return Store.open(folder / "store", create=True)


def tree_digest(root: Path) -> dict[str, str]:
    """Every file of a store with its content hash (the lock file aside)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "_lock"}


def finra_rows(path: Path) -> tuple[list[list[str]], int]:
    """A short volume file's data rows and its trailer, read with the csv module."""
    lines = path.read_text().splitlines()
    return [row for row in csv.reader(lines[1:-1], delimiter="|")], int(lines[-1])


def ingest_one(store: Store, kind: str, path: Path):
    [report] = store.ingest(kind, [path])
    assert report.read == report.accepted + report.rejected
    return report


# ------------------------------------------------------------------- real short volume files


@pytest.mark.parametrize("name", sorted(TRAILERS))
def test_real_short_volume_file_holds_what_its_trailer_says(tmp_path, name):
    path = VOLUME / name
    rows, trailer = finra_rows(path)
    assert trailer == TRAILERS[name] == len(rows)
    store = new_store(tmp_path)
    report = ingest_one(store, "finra_short_volume", path)
    assert (report.read, report.accepted, report.rejected) == (trailer, trailer, 0)
    stored = store.read("short_volume").sort_values(["symbol"], ignore_index=True)
    assert len(stored) == trailer
    if not rows:
        return
    expected = pd.DataFrame(rows, columns=["date", "symbol", *VOLUMES, "market"]).sort_values(
        "symbol", ignore_index=True)
    assert stored["facility"].unique().tolist() == [name[:4]]
    assert stored["symbol"].tolist() == expected["symbol"].tolist()
    assert (stored["date"].dt.strftime("%Y%m%d") == expected["date"]).all()
    for column in VOLUMES:
        assert stored[column].tolist() == expected[column].astype(float).tolist()
    assert stored["market"].tolist() == expected["market"].tolist()


@pytest.fixture(scope="module")
def day_2020_01_02(tmp_path_factory) -> Store:
    """CNMS and the five facility files of 2020-01-02, and the trimmed CNMS files of the week after."""
    store = Store.open(tmp_path_factory.mktemp("finra") / "store", create=True)
    store.ingest("finra_short_volume", sorted(VOLUME.glob("*shvol2020010*.txt")))
    return store


def test_cnms_is_the_sum_of_the_nms_facilities_not_of_forf(day_2020_01_02):
    rows = day_2020_01_02.read("short_volume")
    rows = rows[rows["date"] == "2020-01-02"]
    cnms = rows[rows["facility"] == "CNMS"].set_index("symbol")
    by_facility = {f: rows[rows["facility"] == f] for f in (*NMS_FACILITIES, "FORF")}
    assert {f: len(frame) for f, frame in by_facility.items()} == {
        "FNRA": 0, "FNSQ": 7972, "FNQC": 2678, "FNYX": 7355, "FORF": 3149}
    nms = pd.concat([by_facility[f] for f in NMS_FACILITIES]).groupby("symbol")[VOLUMES].sum()
    # Exactly: every CNMS symbol is an NMS facility symbol and every volume is their sum.
    assert len(cnms) == len(nms) == 8172 and set(cnms.index) == set(nms.index)
    pd.testing.assert_frame_equal(cnms[VOLUMES].sort_index(), nms.sort_index(), check_exact=True)
    # FORF (OTC equities) is not part of CNMS: its 3,149 symbols are none of CNMS's, so the sum
    # of all five files equals CNMS only after leaving FORF out.
    assert not set(by_facility["FORF"]["symbol"]) & set(cnms.index)
    assert rows[rows["facility"] != "CNMS"]["symbol"].nunique() == 8172 + 3149
    # One symbol by hand: A = FNQC 46 + FNSQ 89,887 + FNYX 4,065 short; 62 + 260,637 + 16,808 total.
    assert cnms.loc["A", "short_volume"] == 46 + 89887 + 4065 == 93998
    assert cnms.loc["A", "total_volume"] == 62 + 260637 + 16808 == 277507
    # CNMS's Market lists the facilities that reported the symbol: B (FNQC), Q (FNSQ), N (FNYX).
    letters = pd.concat([by_facility[f] for f in NMS_FACILITIES]).groupby("symbol")["market"].agg(
        lambda markets: set(",".join(markets).split(",")))
    assert all(set(cnms.loc[s, "market"].split(",")) == letters[s] for s in cnms.index)
    assert cnms["market"].value_counts().to_dict() == {"Q,N": 4517, "B,Q,N": 2638, "Q": 779, "N": 198,
                                                        "B,Q": 38, "B,N": 2}


def test_fractional_volumes_and_class_symbols_are_kept(tmp_path):
    store = new_store(tmp_path)
    ingest_one(store, "finra_short_volume", VOLUME / "CNMSshvol20260730_equibles_sample_fractional.txt")
    stored = store.read("short_volume").set_index("symbol")
    assert stored.loc["BRK/B", VOLUMES].tolist() == [691476.764953, 1191.0, 1280099.715143]
    assert stored.loc["AAPL", "short_volume"] == 9699860.835956
    daily = S.short_volume(connect(store)).to_pandas().set_index("symbol")
    assert daily.loc["BRK/B", "short_volume_ratio"] == pytest.approx(100 * 691476.764953 / 1280099.715143,
                                                                     rel=1e-12)
    # MSFT: 18,514,725.56 short of 45,001,226.06 shares.
    assert daily.loc["MSFT", "short_volume_ratio"] == pytest.approx(41.1427, abs=5e-5)


def test_the_same_file_twice_changes_nothing(tmp_path):
    store = new_store(tmp_path)
    path = VOLUME / "CNMSshvol20210802_sample5rows.txt"
    ingest_one(store, "finra_short_volume", path)
    before = tree_digest(store.path)
    report = ingest_one(store, "finra_short_volume", path)
    assert (report.counts.inserted, report.counts.unchanged) == (0, 10)
    assert tree_digest(store.path) == before
    assert "RDS/A" in set(store.read("short_volume")["symbol"])


# -------------------------------------------------------------- hostile short volume files

HEADER = "Date|Symbol|ShortVolume|ShortExemptVolume|TotalVolume|Market"
GOOD = ["20200102|AAA|100|10|400|B,Q,N", "20200102|BBB|50|0|200|Q,N", "20200102|BRK/B|7.5|0|30|N"]
NAME = "CNMSshvol20200102.txt"


def volume_file(rows: list, *, header: str = HEADER, trailer: object = "count",
                newline: str = "\r\n") -> bytes:
    """A short volume file: header, rows (text or bytes), and a trailer (the row count by default)."""
    lines = [header.encode(), *(r if isinstance(r, bytes) else r.encode() for r in rows)]
    if trailer is not None:
        lines.append(str(len(rows) if trailer == "count" else trailer).encode())
    return newline.encode().join(lines) + newline.encode()


VOLUME_FILE_ERRORS = [
    # (case, file name, content, message, row in the message or None)
    ("empty file", NAME, b"", "the file is empty", None),
    ("blank lines only", NAME, b"  \r\n\r\n", "the file is empty", None),
    ("header only", NAME, volume_file([], trailer=None),
     r"no record-count trailer: the last line \(line 1\) is the header", None),
    ("missing trailer", NAME, volume_file(GOOD, trailer=None),
     r"no record-count trailer: the last line \(line 4\) is '20200102\|BRK/B\|7.5\|0\|30\|N'", 3),
    ("truncated in a row", NAME, volume_file(GOOD, trailer=None)[:-12],
     r"no record-count trailer: the last line \(line 4\) is '20200102\|BRK/B\|'", 3),
    ("trailer count too small", NAME, volume_file(GOOD, trailer=2),
     r"the trailer \(line 5\) says 2 data rows but the file has 3", 4),
    ("trailer count too large (rows cut off)", NAME, volume_file(GOOD[:1], trailer=8172),
     r"the trailer \(line 3\) says 8,172 data rows but the file has 1", 2),
    ("trailer not a number", NAME, volume_file(GOOD, trailer="3 rows"),
     r"no record-count trailer: the last line \(line 5\) is '3 rows'", 4),
    ("binary", NAME, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "contains NUL bytes", None),
    ("gzip-compressed", NAME, b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "contains NUL bytes", None),
    ("UTF-16", NAME, volume_file(GOOD).decode().encode("utf-16"), "contains NUL bytes", None),
    ("another header", NAME, volume_file(GOOD, header="date,symbol,short,total"),
     "not a FINRA short sale volume file: the header reads 'date,symbol,short,total'", 1),
    ("header missing Market", NAME, volume_file(GOOD, header=HEADER.rsplit("|", 1)[0]),
     "not a FINRA short sale volume file", 1),
    ("garbage bytes in the header", NAME, b"Date|Sym\xffbol" + volume_file(GOOD)[11:],
     r"not UTF-8 text \(invalid byte at offset 8 of the header\)", 1),
    ("no facility in the name", "shortvolume.txt", volume_file(GOOD),
     "cannot tell the facility and day", None),
    ("unknown facility", "FXYZshvol20200102.txt", volume_file(GOOD), "cannot tell the facility", None),
]


@pytest.mark.parametrize(("case", "name", "content", "message", "row"), VOLUME_FILE_ERRORS,
                         ids=[case[0] for case in VOLUME_FILE_ERRORS])
def test_an_unusable_short_volume_file_changes_nothing(tmp_path, case, name, content, message, row):
    store = new_store(tmp_path)
    ingest_one(store, "finra_short_volume", VOLUME / "CNMSshvol20210802_sample5rows.txt")
    good = tmp_path / "CNMSshvol20200103.txt"
    good.write_bytes(volume_file([r.replace("20200102", "20200103") for r in GOOD]))
    bad = tmp_path / name
    bad.write_bytes(content)
    before = tree_digest(store.path)
    with pytest.raises(FileError, match=message) as caught:
        store.ingest("finra_short_volume", [good, bad])
    assert str(caught.value).startswith(f"{bad}{'' if row is None else f', row {row}'}: ")
    assert caught.value.row == row
    assert tree_digest(store.path) == before
    assert len(store.read("short_volume")) == 10


VOLUME_ROW_CASES = [
    # (case, file name, content, accepted, {row: reason pattern})
    ("too few fields", NAME, volume_file([*GOOD, "20200102|CCC|1|0|2"]), 3,
     {4: r"^expected 6 fields, found 5$"}),
    ("too many fields", NAME, volume_file([*GOOD, "20200102|CCC|1|0|2|N|X"]), 3,
     {4: r"^expected 6 fields, found 7$"}),
    ("negative volume", NAME, volume_file(["20200102|CCC|-5|0|10|N", *GOOD]), 3,
     {1: r"^short_volume: '-5' must be >= 0$"}),
    ("not a number", NAME, volume_file([*GOOD, "20200102|CCC|abc|0|10|N"]), 3,
     {4: r"^short_volume: 'abc' is not a finite number$"}),
    ("thousands separator", NAME, volume_file([*GOOD, "20200102|CCC|1|0|1,000|N"]), 3,
     {4: r"^total_volume: '1,000' is not a finite number$"}),
    ("overflowing number", NAME, volume_file([*GOOD, "20200102|CCC|1|0|1e400|N"]), 3,
     {4: r"^total_volume: '1e400' is not a finite number$"}),
    ("number beyond 2**53", NAME, volume_file([*GOOD, "20200102|CCC|1|0|99999999999999999999|N"]), 3,
     {4: r"^total_volume: 99999999999999999999 is beyond 2\*\*53 shares"}),
    ("short above total", NAME, volume_file([*GOOD, "20200102|CCC|500|0|100|N"]), 3,
     {4: r"^short_volume 500 is above total_volume 100$"}),
    ("exempt above short", NAME, volume_file([*GOOD, "20200102|CCC|5|9|100|N"]), 3,
     {4: r"^short_exempt_volume 9 is above short_volume 5 \(exempt short sales are part"}),
    ("duplicate row", NAME, volume_file([*GOOD, GOOD[0]]), 2,
     {1: r"duplicate key \(date, symbol, facility\) also on row 4",
      4: r"duplicate key \(date, symbol, facility\) also on row 1"}),
    ("date of another day", NAME, volume_file([*GOOD, "20200103|CCC|1|0|2|N"]), 3,
     {4: r"^date 2020-01-03 is not the file's date 2020-01-02 \(from its name\)$"}),
    ("malformed date", NAME, volume_file([*GOOD, "2020-1-2|CCC|1|0|2|N"]), 3,
     {4: r"^date: '2020-1-2' is not a date \(YYYY-MM-DD\)$"}),
    ("every reason at once", NAME, volume_file([*GOOD, "20200103|CCC|500|600|100|N"]), 3,
     {4: r"^date 2020-01-03 is not the file's date .*; short_exempt_volume 600 is above short_volume "
         r"500 .*; short_volume 500 is above total_volume 100$"}),
    ("a wrong date and a negative volume", NAME, volume_file([*GOOD, "20200103|CCC|-1|0|100|N"]), 3,
     {4: r"^date 2020-01-03 is not the file's date 2020-01-02 \(from its name\); "
         r"short_volume: '-1' must be >= 0$"}),
    ("empty symbol", NAME, volume_file([*GOOD, "20200102||1|0|2|N"]), 3, {4: r"^symbol is empty$"}),
    ("empty volume", NAME, volume_file([*GOOD, "20200102|CCC||0|2|N"]), 3, {4: r"^short_volume is empty$"}),
    ("garbage bytes in a row", NAME, volume_file([GOOD[0], b"20200102|C\xff\xfeC|1|0|2|N", *GOOD[1:]]), 3,
     {2: r"^not UTF-8 text \(invalid byte at offset 10\)$"}),
    ("blank line inside", NAME, volume_file([GOOD[0], "", *GOOD[1:]]), 3,
     {2: r"^empty line \(expected 6 fields\)$"}),
    ("a weekend file", "CNMSshvol20200104.txt", volume_file([r.replace("0102", "0104") for r in GOOD]), 0,
     {n: r"^date: 2020-01-04 \(Saturday\) is not an NYSE trading day$" for n in (1, 2, 3)}),
    ("CRLF and LF mixed", NAME, volume_file(GOOD).replace(b"\r\n", b"\n", 2), 3, {}),
    ("LF only", NAME, volume_file(GOOD, newline="\n"), 3, {}),
    ("byte order mark", NAME, b"\xef\xbb\xbf" + volume_file(GOOD), 3, {}),
    ("blank lines and spaces after the trailer", NAME, volume_file(GOOD)[:-2] + b"  \r\n\r\n\n", 3, {}),
    ("symbols NA and NULL are symbols", NAME, volume_file(["20200102|NA|1|0|2|Q", "20200102|NULL|1|0|2|Q"]),
     2, {}),
    ("name with a suffix", "CNMSshvol20200102_part.txt", volume_file(GOOD), 3, {}),
]


@pytest.mark.parametrize(("case", "name", "content", "accepted", "reasons"), VOLUME_ROW_CASES,
                         ids=[case[0] for case in VOLUME_ROW_CASES])
def test_short_volume_rows_are_accepted_or_rejected_with_reasons(tmp_path, case, name, content,
                                                                 accepted, reasons):
    store = new_store(tmp_path)
    path = tmp_path / name
    path.write_bytes(content)
    report = ingest_one(store, "finra_short_volume", path)
    data_rows = len(content.decode("utf-8", "replace").replace("\r\n", "\n").strip().split("\n")) - 2
    assert (report.read, report.accepted, report.rejected) == (data_rows, accepted, len(reasons))
    assert len(store.read("short_volume")) == accepted
    found = dict(zip(report.rejects["row"], report.rejects["reason"]))
    assert sorted(found) == sorted(reasons)
    for row, pattern in reasons.items():
        assert re.search(pattern, found[row]), (row, found[row])
    assert (report.rejects["file"] == str(path)).all()
    assert len(store.rejects("short_volume")) == len(reasons)
    if case == "symbols NA and NULL are symbols":
        assert sorted(store.read("short_volume")["symbol"]) == ["NA", "NULL"]
    if case == "garbage bytes in a row":
        assert report.rejects["record"].iloc[0] == "20200102|C\\xff\\xfeC|1|0|2|N"


# ------------------------------------------------------------------ real short interest files


@pytest.fixture(scope="module")
def interest_file() -> pd.DataFrame:
    return pd.read_csv(INTEREST_CSV, dtype={"revisionFlag": str, "stockSplitFlag": str})


def test_real_short_interest_file_and_the_figures_it_states(tmp_path, interest_file):
    store = new_store(tmp_path)
    report = ingest_one(store, "finra_short_interest", INTEREST_CSV)
    assert (report.read, report.accepted, report.rejected) == (39, 39, 0)
    assert report.ignored_columns == ["issueName", "marketClassCode", "changePreviousNumber",
                                      "changePercent", "revisionFlag", "stockSplitFlag"]
    file = interest_file.assign(settlement_date=pd.to_datetime(interest_file["settlementDate"]))
    measured = S.short_interest(connect(store)).to_pandas()
    measured["settlement_date"] = pd.to_datetime(measured["settlement_date"])
    both = file.merge(measured, left_on=["settlement_date", "symbolCode"],
                      right_on=["settlement_date", "symbol"], validate="1:1")
    assert len(both) == 39 and both["symbolCode"].value_counts().to_dict() == {"AAPL": 20, "BRKB": 19}
    # The file's own figures: change = current - previous, changePercent and days to cover to 2
    # decimals, and each previous position is the symbol's position at the settlement before.
    assert (both["short_interest_change"] == both["changePreviousNumber"]).all()
    assert (both["short_interest_change_pct"].round(2) == both["changePercent"]).all()
    assert ((both["currentShortPositionQuantity"] / both["averageDailyVolumeQuantity"]).round(2)
            == both["daysToCoverQuantity"]).all()
    assert (both["days_to_cover"] == both["daysToCoverQuantity"]).all()
    for _, rows in file.sort_values("settlement_date").groupby("symbolCode"):
        assert (rows["previousShortPositionQuantity"].iloc[1:].to_numpy()
                == rows["currentShortPositionQuantity"].iloc[:-1].to_numpy()).all()
    latest = both[both["settlement_date"] == "2026-08-31"].set_index("symbol")
    assert latest.loc["AAPL", ["short_interest", "prev_short_interest", "short_interest_change"]].tolist() == [
        139749097, 116327753, 23421344]
    assert not both["days_to_cover_capped"].any()
    # Published 7 NYSE trading days after settlement (2026-09-07 and 2026-01-01 are holidays).
    published = dict(zip(both["settlement_date"].dt.strftime("%Y-%m-%d"),
                         pd.to_datetime(both["available_from"]).dt.strftime("%Y-%m-%d")))
    assert {day: published[day] for day in ("2026-07-15", "2026-08-31", "2025-12-31", "2026-03-13")} == {
        "2026-07-15": "2026-07-24", "2026-08-31": "2026-09-10", "2025-12-31": "2026-01-12",
        "2026-03-13": "2026-03-24"}


def test_api_json_and_the_pipe_file_store_the_same_rows_as_the_csv(tmp_path):
    stored = {}
    for name, files in {"csv": [INTEREST_CSV], "json": [INTEREST / "consolidatedShortInterest_AAPL_BRKB.json"],
                        "pipe": sorted(INTEREST.glob("shrt*.csv"))}.items():
        store = new_store(tmp_path / name)
        reports = store.ingest("finra_short_interest", files)
        assert all(r.rejected == 0 for r in reports)
        stored[name] = store.read("short_interest").sort_values(["settlement_date", "symbol"],
                                                                ignore_index=True)
    assert len(stored["json"]) == 39 and len(stored["pipe"]) == 4
    pd.testing.assert_frame_equal(stored["json"], stored["csv"])
    recent = stored["csv"][stored["csv"]["settlement_date"] >= "2026-08-14"].reset_index(drop=True)
    pd.testing.assert_frame_equal(stored["pipe"], recent)


def test_a_revised_record_replaces_the_stored_one(tmp_path):
    store = new_store(tmp_path)
    ingest_one(store, "finra_short_interest", INTEREST_CSV)
    before = tree_digest(store.path)
    assert ingest_one(store, "finra_short_interest", INTEREST_CSV).counts.unchanged == 39
    assert tree_digest(store.path) == before
    revised = {**record("AAPL", 140_000_000, 116_327_753, 39_537_335, 3.54), "revisionFlag": "Y"}
    path = tmp_path / "revision.json"
    path.write_text(json.dumps([revised]))
    report = ingest_one(store, "finra_short_interest", path)
    assert (report.counts.updated, report.counts.inserted) == (1, 0)
    stored = store.read("short_interest").set_index(["symbol", "settlement_date"])
    assert stored.loc[("AAPL", pd.Timestamp("2026-08-31")), ["short_interest", "days_to_cover"]].tolist() == [
        140_000_000, 3.54]
    assert len(stored) == 39


# -------------------------------------------------------------- hostile short interest files

API_FIELDS = ["settlementDate", "symbolCode", "issueName", "marketClassCode", "currentShortPositionQuantity",
              "previousShortPositionQuantity", "averageDailyVolumeQuantity", "daysToCoverQuantity",
              "changePreviousNumber", "changePercent", "revisionFlag", "stockSplitFlag"]
PIPE_FIELDS = ["accountingYearMonthNumber", "symbolCode", "issueName", "issuerServicesGroupExchangeCode",
               "marketClassCode", "currentShortPositionQuantity", "previousShortPositionQuantity",
               "stockSplitFlag", "averageDailyVolumeQuantity", "daysToCoverQuantity", "revisionFlag",
               "changePercent", "changePreviousNumber", "settlementDate"]


def record(symbol: str = "AAA", current: object = 1000, previous: object = 800, adv: object = 100,
           days: object = 10, change: object = "auto", day: str = "2026-08-31") -> dict:
    """One short interest record with the API's field names (change = current - previous)."""
    if change == "auto":
        change = current - previous
    return {"settlementDate": day, "symbolCode": symbol, "issueName": f"{symbol}, Inc.",
            "marketClassCode": "NNM", "currentShortPositionQuantity": current,
            "previousShortPositionQuantity": previous, "averageDailyVolumeQuantity": adv,
            "daysToCoverQuantity": days, "changePreviousNumber": change, "changePercent": None,
            "revisionFlag": None, "stockSplitFlag": None}


RECORDS = [record("AAA"), record("BBB", 500, 600, 50, 10), record("CCC", 10, 0, 1000, 0.01)]


def interest_file_text(layout: str, records: list[dict], *, fields: list[str] | None = None,
                       newline: str = "\n") -> bytes:
    """Records as the API's CSV (layout "csv") or FINRA's pipe-delimited file ("pipe")."""
    fields = fields or (API_FIELDS if layout == "csv" else PIPE_FIELDS)
    text = io.StringIO()
    writer = csv.writer(text, delimiter="," if layout == "csv" else "|", lineterminator=newline,
                        quoting=csv.QUOTE_MINIMAL if layout == "csv" else csv.QUOTE_NONE, escapechar="\\")
    writer.writerow(fields)
    for r in records:
        r = {**r, "accountingYearMonthNumber": str(r["settlementDate"]).replace("-", "")}
        writer.writerow(["" if r.get(f) is None else r.get(f) for f in fields])
    return text.getvalue().encode()


def with_line(content: bytes, line: bytes, at: int) -> bytes:
    lines = content.split(b"\n")
    return b"\n".join([*lines[:at], line, *lines[at:]])


def interest_cases(layout: str) -> list[tuple]:
    """(case, content, FileError message or None, accepted, {row: reason pattern})."""
    text = lambda records, **kw: interest_file_text(layout, records, **kw)
    fields = API_FIELDS if layout == "csv" else PIPE_FIELDS
    delimiter = b"," if layout == "csv" else b"|"
    good = text(RECORDS)
    return [
        ("empty file", b"", "the file is empty", 0, {}),
        ("binary", b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "contains NUL bytes", 0, {}),
        ("no current position column",
         text(RECORDS, fields=[f for f in fields if f != "currentShortPositionQuantity"]),
         "row 1: not a FINRA short interest file: no currentShortPositionQuantity", 0, {}),
        ("some other file", b"a,b,c\n1,2,3\n",
         ("row 1: not a FINRA short interest file: no settlementDate, symbolCode, "
          "currentShortPositionQuantity"), 0, {}),
        ("garbage bytes in the header", b"settle\xffmentDate" + good[14:],
         r"row 1: not UTF-8 text \(invalid byte at offset 6 of the header\)", 0, {}),
        ("header only", good.split(b"\n")[0] + b"\n", None, 0, {}),
        ("a row cut short", good + delimiter.join([b"2026-08-31", b"DDD", b"x"]) + b"\n", None, 3,
         {4: rf"^expected {len(fields)} fields, found 3$"}),
        ("truncated in the last row", good[:-20], None, 2, {3: rf"^expected {len(fields)} fields, found"}),
        ("negative position", text([*RECORDS, record("DDD", -5, 0, 10, 0)]), None, 3,
         {4: r"^short_interest: '-5' must be >= 0$"}),
        ("not a number", text([*RECORDS, record("DDD", 5, 0, "n/a", 1, change=5)]), None, 3,
         {4: r"^avg_daily_volume: 'n/a' is not a finite number$"}),
        ("overflowing number", text([*RECORDS, record("DDD", "1e400", 0, 10, 1, change=5)]), None, 3,
         {4: r"short_interest: '1e400' is not a finite number"}),
        ("days to cover above the cap", text([*RECORDS, record("DDD", 5, 0, 0, 1000.5)]), None, 3,
         {4: r"^days_to_cover: 1000.5 is above FINRA's cap of 999.99$"}),
        ("days to cover at the cap is kept", text([*RECORDS, record("DDD", 5, 0, 0, 999.99)]), None, 4, {}),
        ("change that is not current - previous", text([*RECORDS, record("DDD", 50, 20, 10, 5, change=31)]),
         None, 3, {4: r"^changePreviousNumber 31 is not current - previous \(50 - 20\)$"}),
        ("duplicate symbol and date", text([*RECORDS, RECORDS[0]]), None, 2,
         {1: r"duplicate key \(settlement_date, symbol\) also on row 4", 4: r"also on row 1"}),
        ("impossible date", text([*RECORDS, record("DDD", day="2026-02-30")]), None, 3,
         {4: r"^settlement_date: '2026-02-30' is not a date \(YYYY-MM-DD\)$"}),
        ("empty symbol", text([*RECORDS, record("")]), None, 3, {4: r"^symbol is empty$"}),
        ("garbage bytes in a row", with_line(good, b"2026-08-31" + delimiter + b"\xff\xfe", 2), None, 3,
         {2: r"^not UTF-8 text \(invalid byte at offset 11\)$"}),
        ("blank line inside", with_line(good, b"", 2), None, 3,
         {2: rf"^empty line \(expected {len(fields)} fields\)$"}),
        ("compact settlement date", text([record("AAA", day="20260831")]), None, 1, {}),
        ("byte order mark and CRLF", b"\xef\xbb\xbf" + text(RECORDS, newline="\r\n"), None, 3, {}),
        ("optional fields left out", text(RECORDS, fields=[f for f in fields if f not in (
            "averageDailyVolumeQuantity", "daysToCoverQuantity", "changePreviousNumber")]), None, 3, {}),
    ]


INTEREST_CASES = [(layout, *case) for layout in ("csv", "pipe") for case in interest_cases(layout)]


@pytest.mark.parametrize(("layout", "case", "content", "error", "accepted", "reasons"), INTEREST_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in INTEREST_CASES])
def test_hostile_short_interest_text_files(tmp_path, layout, case, content, error, accepted, reasons):
    check_interest_case(tmp_path, "shrt20260831.csv", content, error, accepted, reasons)


def check_interest_case(tmp_path: Path, name: str, content: bytes, error: str | None, accepted: int,
                        reasons: dict) -> None:
    store = new_store(tmp_path)
    ingest_one(store, "finra_short_interest", INTEREST_CSV)
    path = tmp_path / name
    path.write_bytes(content)
    before = tree_digest(store.path)
    if error is not None:
        with pytest.raises(FileError, match=error) as caught:
            store.ingest("finra_short_interest", [path])
        assert str(caught.value).startswith(f"{path}")
        assert tree_digest(store.path) == before
        return
    report = ingest_one(store, "finra_short_interest", path)
    assert (report.accepted, report.rejected) == (accepted, len(reasons))
    found = dict(zip(report.rejects["row"], report.rejects["reason"]))
    assert sorted(found) == sorted(reasons)
    for row, pattern in reasons.items():
        assert re.search(pattern, found[row]), (row, found[row])
    stored = store.read("short_interest")
    assert len(stored) == 39 + accepted
    new = stored[stored["settlement_date"] == "2026-08-31"].set_index("symbol")
    if accepted and "AAA" in new.index and not reasons.get(1):
        assert new.loc["AAA", ["short_interest", "prev_short_interest"]].tolist() == [1000, 800]
        assert str(new.loc["AAA", "available_from"].date()) == "2026-09-10"


JSON_CASES = [
    ("empty file", b"", "the file is empty", 0, {}),
    ("truncated download", json.dumps(RECORDS).encode()[:-40],
     r"not valid JSON \(line 1, column \d+: .*\); a truncated download\?", 0, {}),
    ("an object, not an array", json.dumps({"records": RECORDS}).encode(),
     "expected a JSON array of records, found a JSON dict", 0, {}),
    ("binary", b"[\x00\x01\x02", "contains NUL bytes", 0, {}),
    ("not UTF-8", b'[{"symbolCode": "\xff"}]', r"not UTF-8 text \(invalid byte at offset 17\)", 0, {}),
    ("no position field at all", json.dumps([{"symbolCode": "AAA", "settlementDate": "2026-08-31"}]).encode(),
     "row 1: not a FINRA short interest file: no currentShortPositionQuantity", 0, {}),
    ("a record that is not an object", json.dumps([*RECORDS, [1, 2]]).encode(), None, 3,
     {4: r"^not a JSON object \(a list\)$"}),
    ("null symbol", json.dumps([*RECORDS, {**record("DDD"), "symbolCode": None}]).encode(), None, 3,
     {4: r"^symbol is empty$"}),
    ("null settlement date", json.dumps([*RECORDS, {**record("DDD"), "settlementDate": None}]).encode(),
     None, 3, {4: r"^settlement_date is empty$"}),
    ("negative position", json.dumps([*RECORDS, record("DDD", -5, 0, 10, 0)]).encode(), None, 3,
     {4: r"^short_interest: '-5' must be >= 0$"}),
    ("a number as text", json.dumps([*RECORDS, record("DDD", 5, 0, "n/a", 1, change=5)]).encode(), None, 3,
     {4: r"^avg_daily_volume: 'n/a' is not a finite number$"}),
    ("overflowing number", json.dumps([*RECORDS, record("DDD", 5, 0, 10, 1)]).replace(
        '"averageDailyVolumeQuantity": 10,', '"averageDailyVolumeQuantity": 1e400,').encode(), None, 3,
     {4: r"^avg_daily_volume: 'inf' is not a finite number$"}),
    ("nested value", json.dumps([*RECORDS, record("DDD", 5, 0, {"value": 10}, 1)]).encode(), None, 3,
     {4: r"""^avg_daily_volume: '{"value": 10}' is not a finite number$"""}),
    ("days to cover above the cap", json.dumps([*RECORDS, record("DDD", 5, 0, 0, 1000.5)]).encode(), None, 3,
     {4: r"^days_to_cover: 1000.5 is above FINRA's cap of 999.99$"}),
    ("change that is not current - previous", json.dumps([*RECORDS, record("DDD", 50, 20, 10, 5, 31)]).encode(),
     None, 3, {4: r"^changePreviousNumber 31 is not current - previous \(50 - 20\)$"}),
    ("duplicate records", json.dumps([*RECORDS, RECORDS[1]]).encode(), None, 2,
     {2: r"duplicate key \(settlement_date, symbol\) also on row 4", 4: r"also on row 2"}),
    ("impossible date", json.dumps([*RECORDS, record("DDD", day="2026-13-01")]).encode(), None, 3,
     {4: r"^settlement_date: '2026-13-01' is not a date"}),
    ("byte order mark and a pretty layout", b"\xef\xbb\xbf" + json.dumps(RECORDS, indent=2).encode(),
     None, 3, {}),
    ("an empty answer", b"[]", None, 0, {}),
    ("days to cover at the cap is kept", json.dumps([*RECORDS, record("DDD", 5, 0, 0, 999.99)]).encode(),
     None, 4, {}),
]


@pytest.mark.parametrize(("case", "content", "error", "accepted", "reasons"), JSON_CASES,
                         ids=[c[0] for c in JSON_CASES])
def test_hostile_short_interest_api_json(tmp_path, case, content, error, accepted, reasons):
    check_interest_case(tmp_path, "answer.json", content, error, accepted, reasons)


# ------------------------------------------------------------------ the pandas reference


def ref_daily(rows: pd.DataFrame) -> pd.DataFrame:
    """CNMS where a symbol-day has it, else the sum of its facility rows (DESIGN: FINRA)."""
    cnms = rows[rows.facility == "CNMS"].assign(basis="CNMS", facility_rows=np.nan, otc=False)
    parts = rows[rows.facility != "CNMS"]
    summed = parts.groupby(["date", "symbol"]).agg(
        short_volume=("short_volume", "sum"), short_exempt_volume=("short_exempt_volume", "sum"),
        total_volume=("total_volume", "sum"), facility_rows=("facility", "size"),
        otc=("facility", lambda f: bool((f == "FORF").all()))).reset_index()
    taken = set(zip(cnms.date, cnms.symbol))
    summed = summed[[key not in taken for key in zip(summed.date, summed.symbol)]].assign(basis="facilities")
    daily = pd.concat([cnms, summed], ignore_index=True)
    daily["short_volume_ratio"] = [100 * s / t if t else np.nan
                                   for s, t in zip(daily.short_volume, daily.total_volume)]
    return daily[["date", "symbol", *VOLUMES, "short_volume_ratio", "basis", "facility_rows", "otc"]]


def week_ends(dates) -> dict:
    """date -> the last data date of its Monday-Friday week."""
    frame = pd.DataFrame({"date": pd.to_datetime(sorted(set(dates)))})
    monday = frame.date - pd.to_timedelta(frame.date.dt.weekday, unit="D")
    return dict(zip(frame.date, frame.groupby(monday)["date"].transform("max")))


def calendar_week(day) -> int:
    """Monday-Sunday weeks counted from Monday 1900-01-01."""
    return (pd.Timestamp(day) - pd.Timestamp("1900-01-01")).days // 7


def ref_weekly(daily: pd.DataFrame) -> pd.DataFrame:
    ends = week_ends(daily.date)
    weeks = {end: calendar_week(end) for end in set(ends.values())}
    rows = []
    for (end, symbol), cell in daily.assign(period_end=daily.date.map(ends)).groupby(["period_end", "symbol"]):
        sums = cell[VOLUMES].sum()
        rows.append({"period_end": end, "symbol": symbol, "days": len(cell), **sums.to_dict(),
                     "short_volume_ratio": 100 * sums.short_volume / sums.total_volume,
                     "short_volume_ratio_avg": cell.short_volume_ratio.mean()})
    weekly = pd.DataFrame(rows)
    by_key = {(weeks[e], s): v
              for e, s, v in zip(weekly.period_end, weekly.symbol, weekly.short_volume_ratio_avg)}
    weekly["short_volume_ratio_avg_change"] = [
        v - by_key[(weeks[e] - 1, s)] if (weeks[e] - 1, s) in by_key else np.nan
        for e, s, v in zip(weekly.period_end, weekly.symbol, weekly.short_volume_ratio_avg)]
    for years, window in (("1y", 52), ("5y", 260)):
        weekly[f"short_volume_ratio_avg_pct_rank_{years}"] = np.nan
    for _, rows_of_symbol in weekly.sort_values("period_end").groupby("symbol"):
        values = rows_of_symbol.short_volume_ratio_avg.to_numpy()
        for i, index in enumerate(rows_of_symbol.index):
            five = values[max(0, i - 259):i + 1]
            if len(five) <= 8:          # ranks need more than 8 weeks known (stats.MIN_PERIODS)
                continue
            one = values[max(0, i - 51):i + 1]
            weekly.loc[index, "short_volume_ratio_avg_pct_rank_1y"] = 100 * (one <= values[i]).mean()
            weekly.loc[index, "short_volume_ratio_avg_pct_rank_5y"] = 100 * (five <= values[i]).mean()
    return weekly


def ref_market(daily: pd.DataFrame, freq: str) -> pd.DataFrame:
    nms = daily[~daily.otc]
    ends = week_ends(nms.date) if freq == "W" else {d: d for d in nms.date}
    market = nms.assign(period_end=nms.date.map(ends)).groupby("period_end").agg(
        symbols=("symbol", "nunique"), short_volume=("short_volume", "sum"),
        total_volume=("total_volume", "sum")).reset_index()
    market["short_volume_ratio"] = 100 * market.short_volume / market.total_volume
    market["short_volume_ratio_change"] = market.short_volume_ratio.diff()
    if freq == "W":         # from the calendar week before only
        weeks = market.period_end.map(calendar_week)
        market.loc[weeks.diff() != 1, "short_volume_ratio_change"] = np.nan
    return market


def ref_interest(rows: pd.DataFrame, as_of=None) -> pd.DataFrame:
    if as_of is not None:
        rows = rows[rows.available_from <= pd.Timestamp(as_of)]
    rows = rows.sort_values(["symbol", "settlement_date"]).copy()
    rows["prev_short_interest"] = rows.prev_short_interest.fillna(rows.groupby("symbol").short_interest.shift())
    rows["short_interest_change"] = rows.short_interest - rows.prev_short_interest
    rows["short_interest_change_pct"] = [100 * c / p if p else np.nan
                                         for c, p in zip(rows.short_interest_change, rows.prev_short_interest)]
    computed = [min(round(s / v, 2), 999.99) if v > 0 else np.nan
                for s, v in zip(rows.short_interest, rows.avg_daily_volume)]
    rows["days_to_cover"] = rows.days_to_cover.fillna(pd.Series(computed, index=rows.index))
    rows["days_to_cover_capped"] = rows.days_to_cover >= 999.985
    return rows[["settlement_date", "symbol", "short_interest", "prev_short_interest", "short_interest_change",
                 "short_interest_change_pct", "avg_daily_volume", "days_to_cover", "days_to_cover_capped",
                 "available_from"]]


def ref_most_shorted(interest: pd.DataFrame, by: str, top: int, largest: bool) -> pd.DataFrame:
    rows = interest[interest.settlement_date == interest.settlement_date.max()]
    rows = rows[rows[by].notna()]
    if by == "days_to_cover":
        rows = rows[~rows.days_to_cover_capped]
    rows = rows.sort_values([by, "symbol"], ascending=[not largest, True])
    return rows.assign(rank=range(1, len(rows) + 1), ranked=len(rows)).head(top)


def same(ours: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    """Equal after sorting, with dates as timestamps and numbers as floats."""
    def normal(frame):
        frame = frame[list(expected.columns)].copy()
        for column in frame.columns:
            if column in ("date", "period_end", "settlement_date", "available_from"):
                frame[column] = pd.to_datetime(frame[column])
            elif column in ("facility_rows", "days", "symbols", "rank", "ranked"):
                frame[column] = frame[column].astype(float)
            elif column in ("otc", "days_to_cover_capped"):
                frame[column] = frame[column].astype(bool)
        return frame.sort_values(keys, ignore_index=True)
    assert len(ours) == len(expected)
    pd.testing.assert_frame_equal(normal(ours), normal(expected), check_dtype=False, rtol=1e-9)


# ------------------------------------------------------------------ metrics on both engines


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Store:
    """13 weeks of FINRA files for three NMS symbols and an OTC one, written in FINRA's layout:
    CNMS on most days, only FNSQ + FNYX (no CNMS) every 7th day, FORF on Mondays; CCC/A is
    missing in the 6th week (so its change the week after has nothing to compare with)."""
    folder = tmp_path_factory.mktemp("history")
    random = np.random.default_rng(20240628)
    days = trading_days("2024-01-02", "2024-03-28")
    files = []
    for i, day in enumerate(days):
        compact = day.strftime("%Y%m%d")
        symbols = [s for s in ("AAA", "BBB", "CCC/A") if not (s == "CCC/A" and 23 <= i < 28)]
        rows = {}
        for symbol in symbols:
            total = round(float(random.uniform(1e4, 1e6)), 2)
            short = round(total * float(random.uniform(0.2, 0.7)), 2)
            rows[symbol] = (short, round(short * float(random.uniform(0, 0.05)), 2), total)
        if i % 7 == 3:
            split = {"FNSQ": 0.6, "FNYX": 0.4}
            for facility, share in split.items():
                lines = [f"{compact}|{s}|{v[0] * share:.4f}|{v[1] * share:.4f}|{v[2] * share:.4f}|Q"
                         for s, v in rows.items()]
                files.append(write_volume(folder / f"{facility}shvol{compact}.txt", lines))
        else:
            files.append(write_volume(folder / f"CNMSshvol{compact}.txt",
                                      [f"{compact}|{s}|{v[0]}|{v[1]}|{v[2]}|B,Q,N" for s, v in rows.items()]))
        if day.weekday() == 0:
            files.append(write_volume(folder / f"FORFshvol{compact}.txt",
                                      [f"{compact}|OTCX|{100 + i}|0|{1000 + 10 * i}|O"]))
    store = Store.open(folder / "store", create=True)
    reports = store.ingest("finra_short_volume", files)
    assert sum(r.rejected for r in reports) == 0
    return store


def write_volume(path: Path, lines: list[str]) -> Path:
    path.write_bytes(volume_file(lines))
    return path


# The trimmed days' 18 symbols, OTC names (FORF only) and symbols that traded on 2020-01-02 only.
SAMPLE = ["A", "AA", "AAL", "AAPL", "AMD", "AMZN", "BAC", "BRK/B", "F", "GE", "GME", "MSFT", "NVDA", "QQQ",
          "SPY", "T", "TSLA", "XOM", "AABB", "AACAF", "ZURVY", "ACEL/WS", "ZYXI"]


def test_short_volume_metrics_match_the_reference(engine, history, day_2020_01_02):
    weeks = {}
    for store, symbols in ((history, None), (day_2020_01_02, SAMPLE)):
        backend = connect(store, engine)
        everything = ref_daily(store.read("short_volume"))
        expected = everything if symbols is None else everything[everything.symbol.isin(symbols)]
        assert expected.symbol.nunique() == (4 if symbols is None else len(SAMPLE))
        same(S.short_volume(backend, symbols=symbols).to_pandas(), expected, ["date", "symbol"])
        weeks[store] = S.short_volume_weekly(backend, symbols=symbols).to_pandas()
        same(weeks[store], ref_weekly(expected), ["period_end", "symbol"])
        for freq in ("D", "W"):
            same(S.market_short_volume(backend, freq=freq).to_pandas(), ref_market(everything, freq),
                 ["period_end"])
    weekly = weeks[history]
    # Ranks from a symbol's 9th week on: 13 weeks for AAA and BBB, 12 for CCC/A (none in the
    # 6th), 10 for OTCX (Mondays only; three weeks have no Monday session).
    ranked = weekly[weekly["short_volume_ratio_avg_pct_rank_1y"].notna()]
    assert ranked["symbol"].value_counts().to_dict() == {"AAA": 5, "BBB": 5, "CCC/A": 4, "OTCX": 2}
    cca = weekly[weekly.symbol == "CCC/A"].sort_values("period_end")
    assert len(cca) == 12 and cca["short_volume_ratio_avg_change"].isna().tolist() == [
        True, False, False, False, False, True, *[False] * 6]


def test_every_symbol_of_the_real_days_matches_the_reference(day_2020_01_02):
    backend = connect(day_2020_01_02)
    expected = ref_daily(day_2020_01_02.read("short_volume"))
    assert (len(expected), expected.basis.value_counts().to_dict()) == (8172 + 3149 + 5 * 18, {
        "CNMS": 8172 + 5 * 18, "facilities": 3149})
    same(S.short_volume(backend).to_pandas(), expected, ["date", "symbol"])
    same(S.short_volume_weekly(backend).to_pandas(), ref_weekly(expected), ["period_end", "symbol"])


def test_short_volume_known_numbers(day_2020_01_02, history):
    backend = connect(day_2020_01_02)
    daily = S.short_volume(backend, symbols=["A", "AABB"]).to_pandas().set_index(["symbol", "date"])
    assert daily.loc[("A", pd.Timestamp("2020-01-02")), "short_volume_ratio"] == pytest.approx(
        100 * 93998 / 277507, rel=1e-12)
    assert daily.loc[("AABB", pd.Timestamp("2020-01-02")), ["basis", "facility_rows", "otc"]].tolist() == [
        "facilities", 1, True]
    weekly = S.short_volume_weekly(backend, symbols=["A"]).to_pandas().set_index("period_end")
    first, second = weekly.loc["2020-01-03"], weekly.loc["2020-01-09"]
    assert first["short_volume_ratio_avg"] == pytest.approx((100 * 93998 / 277507 + 100 * 88944 / 266653) / 2)
    assert first["short_volume_ratio"] == pytest.approx(100 * (93998 + 88944) / (277507 + 266653))
    assert (first["days"], second["days"]) == (2, 4)
    assert second["short_volume_ratio_avg_change"] == pytest.approx(
        second["short_volume_ratio_avg"] - first["short_volume_ratio_avg"])
    # Days with only FNSQ and FNYX files: the facility sum, in full (60% + 40% of the volumes).
    fallback = S.short_volume(connect(history)).to_pandas()
    fallback = fallback[fallback.basis == "facilities"]
    assert set(fallback.loc[~fallback.otc, "facility_rows"]) == {2}
    assert fallback.loc[~fallback.otc, "date"].nunique() == 9
    market = S.market_short_volume(backend, freq="D").to_pandas().set_index("period_end")
    assert market.loc["2020-01-02", "symbols"] == 8172          # FORF's OTC names left out
    with_otc = S.market_short_volume(backend, freq="D", otc=True).to_pandas().set_index("period_end")
    assert with_otc.loc["2020-01-02", "symbols"] == 8172 + 3149


def interest_store(folder: Path) -> Store:
    """The real AAPL and BRKB records, plus synthetic ones: a symbol at the 999.99 cap, one
    without days to cover (computed from the volume), one without a previous position (taken
    from the settlement before), one whose previous position is 0."""
    store = Store.open(folder / "store", create=True)
    store.ingest("finra_short_interest", [INTEREST_CSV])
    extra = [record("CAPD", 5_000_000, 4_000_000, 0, 999.99, day="2026-08-14"),
             record("CAPD", 5_500_000, 5_000_000, 1, 999.99, day="2026-08-31"),
             {**record("NODTC", 9_000, 8_000, 1_000, None, day="2026-08-31"), "daysToCoverQuantity": None},
             {**record("NOPREV", 300, None, 100, 3, change=None, day="2026-08-14")},
             {**record("NOPREV", 450, None, 100, 4.5, change=None, day="2026-08-31")},
             record("ZERO", 700, 0, 10, 70, day="2026-08-31"),
             record("BIGDTC", 9_000_000, 1_000_000, 1_000, 9.99, day="2026-08-31")]
    path = folder / "extra.json"
    path.write_text(json.dumps(extra))
    [report] = store.ingest("finra_short_interest", [path])
    assert report.rejected == 0
    return store


def test_short_interest_metrics_match_the_reference(engine, tmp_path):
    store = interest_store(tmp_path)
    backend = connect(store, engine)
    stored = store.read("short_interest")
    for as_of in (None, "2026-09-09", "2026-07-23"):
        ours = S.short_interest(backend, as_of=as_of).to_pandas()
        same(ours, ref_interest(stored, as_of), ["settlement_date", "symbol"])
    expected = ref_interest(stored)
    for by in S.RANKINGS:
        for largest in (True, False):
            ranked = S.most_shorted(backend, by=by, top=3, largest=largest).to_pandas()
            same(ranked, ref_most_shorted(expected, by, 3, largest), ["rank"])
    table = S.short_interest(backend).to_pandas().set_index(["symbol", "settlement_date"])
    latest = lambda symbol: table.loc[(symbol, pd.Timestamp("2026-08-31"))]
    assert latest("CAPD")["days_to_cover_capped"] and not latest("AAPL")["days_to_cover_capped"]
    assert latest("NODTC")["days_to_cover"] == 9.0
    assert (latest("NOPREV")["prev_short_interest"], latest("NOPREV")["short_interest_change_pct"]) == (300, 50)
    assert np.isnan(latest("ZERO")["short_interest_change_pct"])
    assert latest("ZERO")["short_interest_change"] == 700
    top = S.most_shorted(backend, by="days_to_cover").to_pandas()
    # CAPD's 999.99 is FINRA's cap, not a number: it never ranks.
    assert top["symbol"].tolist() == ["ZERO", "BIGDTC", "NODTC", "NOPREV", "AAPL", "BRKB"]
    assert top["ranked"].unique().tolist() == [6]
    rises = S.most_shorted(backend, by="short_interest_change", top=2).to_pandas()
    assert list(zip(rises.symbol, rises.short_interest_change)) == [("AAPL", 23421344), ("BIGDTC", 8_000_000)]
    # Point in time: on 2026-07-23 the 2026-07-15 settlement is not published yet (2026-07-24).
    seen = S.short_interest(backend, as_of="2026-07-23").to_pandas()
    assert pd.to_datetime(seen["settlement_date"]).max() == pd.Timestamp("2026-06-30")
    published = S.short_interest(backend, as_of="2026-07-24").to_pandas()
    assert pd.to_datetime(published["settlement_date"]).max() == pd.Timestamp("2026-07-15")
    with pytest.raises(ValueError, match="cannot rank by 'short_volume'"):
        S.most_shorted(backend, by="short_volume")
    with pytest.raises(ValueError, match="daily or weekly, not 'M'"):
        S.market_short_volume(backend, freq="M")


# ------------------------------------------------------------------ FINRA symbols to tickers


def ref_tickers(symbols, tickers, aliases=None) -> dict:
    """FINRA symbol -> securities ticker the slow, obvious way (docs/finra.md, "Tickers"): the
    alias first, then the ticker itself, BRK/B for BRK.B, BRKB for BRK.B; a form two tickers
    share at the same step matches neither."""
    forms = [{t: [t] for t in tickers}, {}, {}]
    for t in tickers:
        if "." in t:
            forms[1].setdefault(t.replace(".", "/"), []).append(t)
            forms[2].setdefault(t.replace(".", ""), []).append(t)
    found = {}
    for symbol in symbols:
        key = {**(aliases or {})}.get(symbol, symbol)
        matches = next((sorted(set(form[key])) for form in forms if key in form), [])
        found[symbol] = matches[0] if len(matches) == 1 else None
    return found


def securities_file(folder: Path, extra: list[dict] = ()) -> Path:
    """The S&P 500 as securities rows (BRK.B and BF.B its class shares), plus `extra` rows."""
    frame = pd.concat([sp500_universe(), pd.DataFrame(list(extra))], ignore_index=True)
    path = folder / "securities.csv"
    frame.to_csv(path, index=False)
    return path


SHELL = {"security_id": "SHEL", "ticker": "SHEL", "name": "Shell", "sector": "Energy", "asset_type": "stock"}


@pytest.fixture(scope="module")
def with_securities(tmp_path_factory) -> Store:
    """The S&P 500 (and Shell, once RDS/A) beside real FINRA files: the CNMS and FORF days of
    2020-01-02, the 2021 and 2026 samples (RDS/A, BRK/B), the AAPL and BRKB short interest."""
    folder = tmp_path_factory.mktemp("tickers")
    store = Store.open(folder / "store", create=True)
    [report] = store.ingest("securities", [securities_file(folder, [SHELL])])
    assert report.rejected == 0
    store.ingest("finra_short_volume", [VOLUME / name for name in (
        "CNMSshvol20200102.txt", "FORFshvol20200102.txt", "CNMSshvol20210802_sample5rows.txt",
        "CNMSshvol20260730_equibles_sample_fractional.txt")])
    store.ingest("finra_short_interest", [INTEREST_CSV])
    return store


def test_finra_symbols_map_to_securities_tickers(engine, with_securities):
    backend = connect(with_securities, engine)
    tickers = set(with_securities.read("securities")["ticker"])
    aliases = {"RDS/A": "SHEL"}           # Royal Dutch Shell class A, SHEL since January 2022
    daily = S.short_volume(backend, aliases=aliases).to_pandas()
    assert list(daily.columns[:3]) == ["date", "symbol", "ticker"]
    expected = ref_tickers(set(daily.symbol), tickers, aliases)
    got = daily.groupby("symbol")["ticker"].agg(lambda t: set(t.replace({np.nan: None})))
    assert got.to_dict() == {symbol: {ticker} for symbol, ticker in expected.items()}
    assert len(daily) == 8172 + 3149 + 10 + 3                            # every row kept, once
    # FINRA's class shares (CNMSshvol20200102.txt: BRK/B, BF/B, BRK/A) and the stored symbols.
    on_day = daily[daily.date == pd.Timestamp("2020-01-02")].set_index("symbol")["ticker"]
    assert on_day[["BRK/B", "BF/B", "AAPL", "MSFT"]].tolist() == ["BRK.B", "BF.B", "AAPL", "MSFT"]
    assert on_day[["BRK/A", "AABB", "ACEL/WS"]].isna().all()        # not in the S&P 500; OTC; a warrant
    assert set(with_securities.read("short_volume").symbol) >= {"BRK/B", "BF/B", "RDS/A"}
    mapped = daily[daily.ticker.notna() & (daily.date == pd.Timestamp("2020-01-02"))]
    # 464 of the S&P 500's 503 tickers (as of today) traded on 2020-01-02: 461 in CNMS under their
    # own symbol, BRK.B and BF.B as BRK/B and BF/B, SMCI over the counter (FORF: it was delisted
    # then); and RDS/A is Shell by the alias.
    assert (mapped.symbol.nunique(), sorted(mapped.symbol[mapped.symbol != mapped.ticker])) == (
        465, ["BF/B", "BRK/B", "RDS/A"])
    assert mapped.set_index("symbol").loc["SMCI", ["ticker", "otc"]].tolist() == ["SMCI", True]
    sample = daily[daily.date == pd.Timestamp("2021-08-02")].set_index("symbol")["ticker"]
    assert sample["RDS/A"] == "SHEL"
    weekly = S.short_volume_weekly(backend, symbols=["BRK/B", "RDS/A"]).to_pandas()
    assert sorted(zip(weekly.symbol, weekly.ticker.fillna("-"))) == [
        ("BRK/B", "BRK.B"), ("BRK/B", "BRK.B"), ("RDS/A", "-"), ("RDS/A", "-")]     # no alias here
    # Short interest writes Berkshire's class B as BRKB.
    interest = S.short_interest(backend).to_pandas()
    assert interest.groupby("symbol")["ticker"].unique().map(list).to_dict() == {
        "AAPL": ["AAPL"], "BRKB": ["BRK.B"]}
    ranked = S.most_shorted(backend, by="short_interest", top=2).to_pandas()
    assert list(zip(ranked.symbol, ranked.ticker)) == [("AAPL", "AAPL"), ("BRKB", "BRK.B")]


def test_ticker_forms_prefer_the_exact_ticker_and_refuse_ambiguity(engine, tmp_path):
    rows = [{"security_id": t, "ticker": t, "name": t, "asset_type": "stock"}
            for t in ("BRK.B", "BF.B", "BFB", "XY.Z", "X.YZ", "ZZ")]
    store = Store.open(tmp_path / "store", create=True)
    path = tmp_path / "securities.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    store.ingest("securities", [path])
    lines = [f"20200102|{symbol}|10|0|40|Q" for symbol in
             ("BRK/B", "BRKB", "BRK.B", "BFB", "BF/B", "XYZ", "XY/Z", "X/YZ", "ZZ", "QQ", "BRK/A")]
    store.ingest("finra_short_volume", [write_volume(tmp_path / NAME, lines)])
    aliases = {"QQ": "ZZ", "ZZ": "NONE"}
    found = S.short_volume(connect(store, engine), aliases=aliases).to_pandas()
    found = dict(zip(found.symbol, found.ticker.replace({np.nan: None})))
    assert found == ref_tickers(found, [r["ticker"] for r in rows], aliases) == {
        "BRK/B": "BRK.B", "BRKB": "BRK.B", "BRK.B": "BRK.B", "BFB": "BFB", "BF/B": "BF.B",
        "XYZ": None, "XY/Z": "XY.Z", "X/YZ": "X.YZ", "ZZ": None, "QQ": "ZZ", "BRK/A": None}
    empty = Store.open(tmp_path / "finra-only", create=True)
    empty.ingest("finra_short_volume", [tmp_path / NAME])
    assert S.short_volume(connect(empty, engine)).to_pandas()["ticker"].isna().all()


# ------------------------------------------------------------------------------------ facts


def test_short_facts_state_the_real_numbers(tmp_path, day_2020_01_02):
    store = interest_store(tmp_path)
    store.ingest("finra_short_volume", sorted(VOLUME.glob("CNMSshvol2020010*.txt")))
    facts = {fact.id: fact for fact in short_facts(connect(store), top=3)}
    assert {fact.who for fact in facts.values()} == {WHO}
    rise = facts["change:short_sellers:short_interest_change:symbol=AAPL:SM:2026-08-31:largest_rise:rank=1"]
    assert (rise.value, rise.n, rise.of, rise.direction) == (23421344, 1, 7, "up")
    assert rise.components["prev_short_interest"] == 116327753
    cover = facts["level:short_sellers:days_to_cover:symbol=ZERO:SM:2026-08-31:most_shorted:rank=1"]
    assert (cover.value, cover.of) == (70, 6)
    assert not any("symbol=CAPD" in key and "most_shorted" in key for key in facts)
    capped = facts["level:short_sellers:days_to_cover_capped:symbol=all:SM:2026-08-31"]
    assert (capped.value, capped.of) == (1, 7)
    aapl = facts["level:short_sellers:short_interest:symbol=AAPL:SM:2026-08-31"]
    assert aapl.components == {"previous": 116327753, "change": 23421344}
    since = facts["since:short_sellers:short_interest:symbol=AAPL:SM:2026-08-31"]
    assert (since.since_date.isoformat(), since.components["previous"], since.direction) == (
        "2026-07-31", 141606163, "high")
    # The market's short volume ratio for the week ending 2020-01-09, from the trimmed CNMS files
    # (18 symbols a day after 2020-01-02, so the week before holds the whole market of 2020-01-02).
    rows = [row for path in sorted(VOLUME.glob("CNMSshvol2020010[6-9]*.txt")) for row in finra_rows(path)[0]]
    expected = 100 * sum(float(r[2]) for r in rows) / sum(float(r[4]) for r in rows)
    level = facts["level:short_sellers:short_volume_ratio:market=all:W:2020-01-09"]
    assert level.value == pytest.approx(expected, rel=1e-12)
    before = day_2020_01_02.read("short_volume")
    before = before[(before.facility == "CNMS") & (before.date <= "2020-01-03")]
    assert level.components["previous"] == pytest.approx(
        100 * before.short_volume.sum() / before.total_volume.sum(), rel=1e-12)


def test_short_facts_as_of_a_past_date(tmp_path):
    store = interest_store(tmp_path)
    facts = {fact.id: fact for fact in short_facts(connect(store), as_of="2026-07-23", top=2)}
    # BRKB's short interest rose at 4 settlements in a row to 2026-06-30 (05-15 .. 06-30).
    streak = facts["streak:short_sellers:short_interest:symbol=BRKB:SM:2026-06-30:change"]
    assert (streak.n, streak.value, streak.direction) == (4, 497101, "up")
    assert max(fact.period_end for fact in facts.values()).isoformat() == "2026-06-30"
    assert short_facts(connect(new_store(tmp_path / "empty"))) == []


def test_a_capped_symbol_asked_for_is_stated_as_capped(tmp_path):
    store = interest_store(tmp_path)
    facts = {fact.id: fact for fact in short_facts(connect(store), top=1, symbols=["CAPD"])}
    capped = facts["level:short_sellers:days_to_cover:symbol=CAPD:SM:2026-08-31:capped"]
    assert (capped.value, capped.label) == (999.99, "capped")
    assert facts["level:short_sellers:short_interest:symbol=CAPD:SM:2026-08-31"].value == 5_500_000


def real_finra_store(folder: Path) -> Store:
    """The real short interest (AAPL, BRKB) and the real CNMS days of 2020-01-02 to 2020-01-09."""
    store = new_store(folder)
    store.ingest("finra_short_interest", [INTEREST_CSV])
    store.ingest("finra_short_volume", sorted(VOLUME.glob("CNMSshvol2020010*.txt")))
    return store


def test_short_sentences_state_the_real_numbers(tmp_path):
    facts = short_facts(connect(real_finra_store(tmp_path)))
    sentences = short_sentences(facts)
    by_id = {fact.id: fact for fact in facts}
    assert all(set(ids) <= set(by_id) for _, ids in sentences)
    # The market: short over total volume of the CNMS files of each week (18 symbols a day after
    # 2020-01-02, so the week before holds the whole market of 2020-01-02).
    weeks = {}
    for week, pattern in (("2020-01-03", "CNMSshvol2020010[23]*.txt"), ("2020-01-09", "CNMSshvol2020010[6-9]*.txt")):
        rows = [row for path in sorted(VOLUME.glob(pattern)) for row in finra_rows(path)[0]]
        weeks[week] = 100 * sum(float(r[2]) for r in rows) / sum(float(r[4]) for r in rows)
    now, before = weeks["2020-01-09"], weeks["2020-01-03"]
    assert f"{now:.1f}" == "47.2" and f"{before - now:.1f}" == "1.7"
    # The short interest file's rows of 2026-08-31: AAPL 139,749,097 shares short (116,327,753
    # before), days to cover 3.53; BRKB 12,347,326 (11,068,550 before), days to cover 3.
    assert [text for text, _ in sentences] == [
        ("Short sales were 47.2% of the NMS share volume FINRA reported in the week ending January 9, 2020, "
         "down 1.7 points from the week before."),
        "By days to cover, the most shorted at the August 31, 2026 settlement were AAPL (3.53 days) and BRKB (3 days).",
        ("Shares short rose the most at the August 31, 2026 settlement in AAPL (up 23.4m to 139.7m, +20.1%) "
         "and BRKB (up 1.3m to 12.3m, +11.6%)."),
    ]
    assert 139749097 - 116327753 == 23421344 and 100 * 23421344 / 116327753 == pytest.approx(20.134, abs=1e-3)
    assert 12347326 - 11068550 == 1278776 and 100 * 1278776 / 11068550 == pytest.approx(11.553, abs=1e-3)
    assert sentences[0][1] == ["level:short_sellers:short_volume_ratio:market=all:W:2020-01-09",
                               "change:short_sellers:short_volume_ratio:market=all:W:2020-01-09"]
    assert by_id[sentences[0][1][0]].value == pytest.approx(now, rel=1e-12)
    assert by_id[sentences[0][1][1]].value == pytest.approx(now - before, rel=1e-9)
    assert sentences[1][1] == [f"level:short_sellers:days_to_cover:symbol={s}:SM:2026-08-31:most_shorted:rank={n}"
                               for n, s in ((1, "AAPL"), (2, "BRKB"))]
    assert [by_id[i].value for i in sentences[2][1]] == [23421344, 1278776]


def test_capped_days_to_cover_are_said_to_be_at_the_cap_never_as_a_number(tmp_path):
    store = interest_store(tmp_path)
    facts = short_facts(connect(store), top=3)
    [text, ids] = short_sentences(facts)[0]
    assert text == ("By days to cover, the most shorted at the August 31, 2026 settlement were ZERO (70 days), "
                    "BIGDTC (9.99 days) and NODTC (9 days); CAPD was at FINRA's 999.99 cap.")
    assert "level:short_sellers:days_to_cover:symbol=CAPD:SM:2026-08-31:capped" in ids
    assert "level:short_sellers:days_to_cover_capped:symbol=all:SM:2026-08-31" in ids
    # A second capped symbol, and no symbol left to rank: the count, the names, never 999.99 days.
    extra = [record("CAPE", 9_000_000, 8_000_000, 0, 999.99, day="2026-08-31")]
    (tmp_path / "cape.json").write_text(json.dumps(extra))
    store.ingest("finra_short_interest", [tmp_path / "cape.json"])
    texts = [text for text, _ in short_sentences(short_facts(connect(store), top=1))]
    assert texts[0] == ("By days to cover, the most shorted at the August 31, 2026 settlement was ZERO (70 days); "
                        "2 symbols were at FINRA's 999.99 cap, among them CAPE.")      # top=1: the most shares short
    both = short_sentences(short_facts(connect(store), top=2))[0][0]
    assert both.endswith("; CAPE and CAPD were at FINRA's 999.99 cap.")
    assert all("999.99 day" not in text for text, _ in short_sentences(short_facts(connect(store))))


def test_the_market_sentence_says_streaks_and_records_and_a_gap_ends_the_history(tmp_path, history):
    market = S.market_short_volume(connect(history)).to_pandas()
    expected = ref_market(ref_daily(history.read("short_volume")), "W")
    ratios = expected.short_volume_ratio.tolist()
    # Weeks 6 to 9 of the history rose each week: 48.5, 49.1, 50.6, 51.5%, each the highest yet.
    assert all(ratios[week] > ratios[week - 1] for week in range(5, 9)) and ratios[8] == max(ratios[:9])
    [(text, ids)] = short_sentences(market_volume_facts(market.iloc[:9]))
    assert text == (f"Short sales were {ratios[8]:.1f}% of the NMS share volume FINRA reported in the week ending "
                    f"March 1, 2024, up {ratios[8] - ratios[7]:.1f} points from the week before, the 4th weekly "
                    f"rise in a row, the highest in the 9 weeks on file.")
    assert [i.split(":")[0] for i in ids] == ["level", "change", "streak", "record"]
    # A real gap: 2020-01-02 to 2020-01-09 and then 2026-07-30 alone. The last week has no change
    # and compares with nothing before the gap.
    store = real_finra_store(tmp_path)
    store.ingest("finra_short_volume", [VOLUME / "CNMSshvol20260730_equibles_sample_fractional.txt"])
    market = S.market_short_volume(connect(store)).to_pandas().set_index("period_end")
    assert np.isnan(market.loc["2026-07-30", "short_volume_ratio_change"])
    assert not np.isnan(market.loc["2020-01-09", "short_volume_ratio_change"])
    rows = finra_rows(VOLUME / "CNMSshvol20260730_equibles_sample_fractional.txt")[0]
    ratio = 100 * sum(float(r[2]) for r in rows) / sum(float(r[4]) for r in rows)
    [(text, ids)] = short_sentences(market_volume_facts(market.reset_index()))
    assert text == (f"Short sales were {ratio:.1f}% of the NMS share volume FINRA reported in the week ending "
                    f"July 30, 2026.") and f"{ratio:.1f}" == "43.4"
    assert ids == ["level:short_sellers:short_volume_ratio:market=all:W:2026-07-30"]


def test_a_year_of_weeks_gives_the_percentile_rank_and_the_highest_since():
    weeks = pd.date_range("2023-01-06", periods=60, freq="W-FRI")
    ratios = [40 + (i % 10) for i in range(60)]          # 40..49 every 10 weeks; the last is 49
    market = pd.DataFrame({"period_end": weeks, "short_volume_ratio": [float(r) for r in ratios]})
    [(text, ids)] = short_sentences(market_volume_facts(market))
    # 49 last on 2023-12-15 (10 weeks before), tied with 5 others in the last 52: (46 + 5/2) / 51.
    assert text == ("Short sales were 49.0% of the NMS share volume FINRA reported in the week ending "
                    "February 23, 2024, up 1.0 points from the week before, the 9th weekly rise in a row, "
                    "the highest since December 2023 (in the 95th percentile of the past year).")
    assert ids[-1] == "level:short_sellers:short_volume_ratio:market=all:W:2024-02-23:window=52"


def test_the_note_has_a_short_sellers_section_right_after_the_futures(tmp_path):
    import smartmoney as sm
    from smartmoney import narrative

    store = real_finra_store(tmp_path)
    cftc = ROOT / "tests" / "data" / "cftc" / "FinFutYY_2026-01-06_to_2026-03-17_trimmed.txt"
    store.ingest("cftc_tff", [cftc])
    facts = sm.open(store).facts(as_of="2026-09-10")
    _, sections = narrative.write(facts, dt.date(2026, 9, 10))
    keys = [section.key for section in sections]
    assert keys[keys.index("futures") + 1] == "shorts"
    shorts = sections[keys.index("shorts")]
    assert shorts.title == "Short sellers (FINRA)"
    assert [s.text for s in shorts.sentences] == [text for text, _ in short_sentences(facts)]
    assert [[f["id"] for f in s.facts] for s in shorts.sentences] == [ids for _, ids in short_sentences(facts)]
    assert shorts.sentences[1].text.startswith("By days to cover, the most shorted at the August 31, 2026")


# ------------------------------------------------------------------------- CLI and the docs


def test_the_cli_ingests_and_refuses_a_truncated_file(tmp_path):
    runner = CliRunner()
    sample = VOLUME / "CNMSshvol20210802_sample5rows.txt"
    store = str(tmp_path / "store")
    result = runner.invoke(app, ["ingest", "finra_short_volume", str(sample), "--store", store])
    assert result.exit_code == 0, result.output
    assert "short_volume" in result.output and "10" in result.output
    bad = tmp_path / "CNMSshvol20200102.txt"
    bad.write_bytes(volume_file(GOOD, trailer=None))
    result = runner.invoke(app, ["ingest", "finra_short_volume", str(bad), "--store", store])
    assert result.exit_code == 2 and "no record-count trailer" in result.output


def test_docs_examples_run_as_written(tmp_path, monkeypatch, capsys):
    page = run_page("finra.md", tmp_path, monkeypatch, capsys)
    assert len(page.commands) >= 3 and page.blocks
    printed = page.printed
    assert "23421344" in printed and "33.87" in printed and "2026-09-10" in printed
    # The tables and sentences the page shows are printed as written.
    shown = [line.strip() for line in page.text.splitlines() if line.startswith("    ") and line.strip().startswith(
        ("2026-08-31", "BRKB  BRK.B", "2020-01-02   AABB   None", "Short sales", "By days", "Shares short"))]
    assert len(shown) == 7 and all(line in printed for line in shown)


def test_the_book_and_cli_carry_the_short_data(tmp_path):
    from typer.testing import CliRunner

    import smartmoney as sm
    from smartmoney.cli import app

    store = Store.open(tmp_path / "store", create=True)
    store.ingest("finra_short_interest", [INTEREST_CSV])
    book = sm.open(store)
    facts = book.facts()
    assert facts and {f.who for f in facts} == {"short_sellers"}
    ranked = book.most_shorted(by="days_to_cover", top=3).to_pandas()
    assert len(ranked) <= 3 and ranked.days_to_cover.is_monotonic_decreasing
    result = CliRunner().invoke(app, ["metrics", "short_interest", "--store", str(store.path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == len(store.read("short_interest"))
