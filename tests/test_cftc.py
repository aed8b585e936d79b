"""CFTC Commitments of Traders: the TFF and legacy sources, COT metrics on both engines, facts.

Expected numbers come from the CFTC files themselves (their totals, change and % columns), the
CFTC's published release schedule, and a slow pandas twin of the metrics written from the docs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from docs_examples import run_page
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmoney.cot import (
    CATEGORY_WHO,
    contracts,
    cot_facts,
    cot_highlights,
    cot_sentences,
    fact_categories,
)
from smartmoney.engine import connect
from smartmoney.metrics.cot import cot_positioning
from smartmoney.sources import FileError
from smartmoney.sources.cftc import CATCH_UP_RELEASES, release_date, scheduled_release
from smartmoney.store import Store

ROOT = Path(__file__).parents[1]
DATA = Path(__file__).parent / "data" / "cftc"
TFF_2019 = DATA / "FinFut2019_trimmed.txt"
TFF_2021 = DATA / "FinFut2021_trimmed.txt"
TFF_2026 = DATA / "FinFutYY_2026-01-06_to_2026-03-17_trimmed.txt"
TFF_WEEK = DATA / "FinFutWk_2026-03-17.txt"
LEGACY_2025 = DATA / "legacy_cot_futures_only_annual_2025_trimmed.txt"
TFF_CATEGORIES = {"dealer": "Dealer", "asset_manager": "Asset_Mgr", "leveraged_funds": "Lev_Money",
                  "other_reportables": "Other_Rept"}
ES, NQ, SPX = "13874A", "209742", "13874+"


def cftc_frame(path: Path) -> pd.DataFrame:
    """A CFTC file as the CFTC wrote it: every field as stripped text, numbers as floats."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.columns = [" ".join(c.split()) for c in frame.columns]
    frame = frame.apply(lambda column: column.str.strip())
    numeric = [c for c in frame.columns if frame[c].str.fullmatch(r"-?\d+(\.\d+)?|\.").all()]
    frame[numeric] = frame[numeric].apply(lambda c: pd.to_numeric(c, errors="coerce"))
    return frame.copy()


def stored(store: Store) -> pd.DataFrame:
    return store.read("futures_positions")


def wide(positions: pd.DataFrame) -> pd.DataFrame:
    """One row per report date and contract: long/short/spread per category, and open interest."""
    values = positions.pivot_table(index=["report_date", "contract_code"], columns="category",
                                   values=["long", "short", "spread"], aggfunc="first")
    values.columns = [f"{side}_{category}" for side, category in values.columns]
    oi = positions.groupby(["report_date", "contract_code"])["open_interest"].first()
    return values.join(oi).reset_index()


@pytest.fixture(scope="module")
def tff_store(tmp_path_factory) -> Store:
    """The three real TFF extracts (2019, 2021, 2026: E-mini S&P 500, Nasdaq mini, S&P consolidated)."""
    store = Store.open(tmp_path_factory.mktemp("tff") / "store", create=True)
    reports = store.ingest("cftc_tff", [TFF_2019, TFF_2021, TFF_2026])
    assert [(r.read, r.accepted, r.rejected) for r in reports] == [(780, 780, 0), (780, 780, 0), (165, 165, 0)]
    return store


# ---------------------------------------------------------------------------------- real files


def test_every_tff_input_row_becomes_five_category_rows_and_reingesting_changes_nothing(tff_store):
    positions = stored(tff_store)
    assert len(positions) == 5 * (156 + 156 + 33)
    assert positions.groupby(["report_date", "contract_code"]).size().eq(5).all()
    assert set(positions.category) == {"dealer", "asset_manager", "leveraged_funds", "other_reportables",
                                       "nonreportables"}
    assert set(positions.report) == {"tff_futures_only"}
    assert positions.loc[positions.category == "nonreportables", "spread"].isna().all()
    before = tff_store.manifest()
    [again] = tff_store.ingest("cftc_tff", [TFF_2021])
    assert (again.read, again.counts.unchanged, again.counts.inserted, again.counts.updated) == (780, 780, 0, 0)
    assert tff_store.manifest()["version"] == before["version"]


@pytest.mark.parametrize("path", [TFF_2019, TFF_2021, TFF_2026])
def test_tff_positions_add_up_to_open_interest_as_the_cftc_publishes_them(tff_store, path):
    """Open interest = every category's longs + the spreads = the shorts + the spreads, and the
    file's own totals (Tot_Rept_*, NonRept_*) agree, exactly except the consolidated markets."""
    source = cftc_frame(path)
    source["report_date"] = pd.to_datetime(source["Report_Date_as_YYYY-MM-DD"])
    table = wide(stored(tff_store)).merge(
        source, left_on=["report_date", "contract_code"], right_on=["report_date", "CFTC_Contract_Market_Code"])
    assert len(table) == len(source)
    spreads = sum(table[f"spread_{c}"] for c in TFF_CATEGORIES)
    longs = sum(table[f"long_{c}"] for c in TFF_CATEGORIES)
    shorts = sum(table[f"short_{c}"] for c in TFF_CATEGORIES)
    assert (table.open_interest == table.Open_Interest_All).all()
    assert (table.long_nonreportables == table.NonRept_Positions_Long_All).all()
    single = table.contract_code != SPX
    long_side = longs + spreads + table.long_nonreportables
    short_side = shorts + spreads + table.short_nonreportables
    assert (long_side[single] == table.open_interest[single]).all()
    assert (short_side[single] == table.open_interest[single]).all()
    assert ((longs + spreads)[single] == table.Tot_Rept_Positions_Long_All[single]).all()
    assert ((shorts + spreads)[single] == table.Tot_Rept_Positions_Short_All[single]).all()
    # Consolidated: contracts of several sizes, each rounded: off by a few contracts at most.
    assert (long_side[~single] - table.open_interest[~single]).abs().max() <= 4
    assert (short_side[~single] - table.open_interest[~single]).abs().max() <= 4
    es = table[table.contract_code == ES].iloc[0]
    assert (es.open_interest, es.long_leveraged_funds, es.short_leveraged_funds) == (
        es.Open_Interest_All, es.Lev_Money_Positions_Long_All, es.Lev_Money_Positions_Short_All)


@pytest.mark.parametrize("path", [TFF_2019, TFF_2021, TFF_2026])
def test_change_columns_equal_the_week_over_week_differences_of_the_stored_positions(tff_store, path):
    source = cftc_frame(path)
    source["report_date"] = pd.to_datetime(source["Report_Date_as_YYYY-MM-DD"])
    mine = wide(stored(tff_store)).sort_values("report_date")
    checked = 0
    for code in (ES, NQ):
        rows = mine[mine.contract_code == code].set_index("report_date")
        rows = rows[rows.index.isin(source.report_date)]
        file_rows = source[source.CFTC_Contract_Market_Code == code].set_index("report_date").loc[rows.index]
        consecutive = rows.index.to_series().diff().dt.days.eq(7).to_numpy()
        columns = {"open_interest": "Change_in_Open_Interest_All",
                   **{f"{side}_{category}": f"Change_in_{prefix}_{side.title()}_All"
                      for category, prefix in TFF_CATEGORIES.items() for side in ("long", "short", "spread")},
                   "long_nonreportables": "Change_in_NonRept_Long_All",
                   "short_nonreportables": "Change_in_NonRept_Short_All"}
        for mine_column, change_column in columns.items():
            differences = rows[mine_column].diff().to_numpy()[consecutive]
            assert (differences == file_rows[change_column].to_numpy()[consecutive]).all(), change_column
            checked += int(consecutive.sum())
    assert checked == 2 * 15 * (len(source) // 3 - 1)      # 15 change columns, ES and NQ


def test_net_change_is_the_files_change_in_long_minus_change_in_short(tff_store):
    metrics = cot_positioning(connect(tff_store), contracts=[ES]).to_pandas()
    metrics["report_date"] = pd.to_datetime(metrics["report_date"])
    source = cftc_frame(TFF_2021)
    source = source[source.CFTC_Contract_Market_Code == ES]
    source["report_date"] = pd.to_datetime(source["Report_Date_as_YYYY-MM-DD"])
    for category, prefix in [("leveraged_funds", "Lev_Money"), ("asset_manager", "Asset_Mgr"), ("dealer", "Dealer")]:
        joined = metrics[metrics.category == category].merge(source, on="report_date")
        joined = joined[joined.net_change.notna()]
        assert len(joined) == 51
        assert (joined.net_change == joined[f"Change_in_{prefix}_Long_All"] - joined[f"Change_in_{prefix}_Short_All"]).all()
        # The file's % of open interest is rounded to 0.1.
        expected = joined[f"Pct_of_OI_{prefix}_Long_All"] - joined[f"Pct_of_OI_{prefix}_Short_All"]
        assert (joined.net_pct_oi - expected).abs().max() <= 0.1 + 1e-9


def test_a_renamed_market_stays_one_contract(tff_store):
    positions = stored(tff_store)
    es = positions[(positions.contract_code == ES) & (positions.category == "leveraged_funds")]
    assert es.groupby("market").size().to_dict() == {
        "E-MINI S&P 500 STOCK INDEX - CHICAGO MERCANTILE EXCHANGE": 104,
        "E-MINI S&P 500 - CHICAGO MERCANTILE EXCHANGE": 11}
    nq = positions[(positions.contract_code == NQ) & (positions.category == "dealer")]
    assert set(nq.market) == {"NASDAQ-100 STOCK INDEX (MINI) - CHICAGO MERCANTILE EXCHANGE",
                              "NASDAQ MINI - CHICAGO MERCANTILE EXCHANGE"}
    metrics = cot_positioning(connect(tff_store), contracts=[ES], categories=["leveraged_funds"]).to_pandas()
    assert len(metrics) == 115
    # The first 2026 week has no week-over-week change: 2025 is not loaded.
    first_2026 = metrics[pd.to_datetime(metrics.report_date) == "2026-01-06"].iloc[0]
    assert first_2026.net == -415904 and math.isnan(first_2026.net_change)


def test_the_weekly_file_without_header_reads_like_the_annual_file(tmp_path, tff_store):
    [report] = tff_store.ingest("cftc_tff", [TFF_WEEK])
    assert (report.read, report.accepted, report.counts.unchanged, report.counts.inserted) == (15, 15, 15, 0)
    alone = Store.open(tmp_path / "weekly", create=True)
    [report] = alone.ingest("cftc_tff", [TFF_WEEK])
    assert (report.read, report.rejected) == (15, 0)
    weekly = stored(alone)
    annual = stored(tff_store)
    annual = annual[annual.report_date == "2026-03-17"].reset_index(drop=True)
    pd.testing.assert_frame_equal(weekly, annual)
    es = weekly[(weekly.contract_code == ES) & (weekly.category == "leveraged_funds")].iloc[0]
    assert (es.long, es.short, es.spread, es.open_interest) == (149731, 490238, 142483, 2330659)


def test_a_zip_from_the_cftc_is_read_directly(tmp_path):
    archive = tmp_path / "fut_fin_txt_2026.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(TFF_2026, "FinFutYY.txt")
    store = Store.open(tmp_path / "store", create=True)
    [report] = store.ingest("cftc_tff", [archive])
    assert (report.file, report.read, report.accepted) == (f"{archive}:FinFutYY.txt", 165, 165)


def test_futures_only_and_combined_come_from_the_tff_rows(tmp_path):
    text = TFF_WEEK.read_text().replace('"FutOnly"', '"Combined"')
    combined = tmp_path / "FinComWk.txt"
    combined.write_text(text)
    store = Store.open(tmp_path / "store", create=True)
    reports = store.ingest("cftc_tff", [TFF_WEEK, combined])
    assert [r.accepted for r in reports] == [15, 15]
    positions = stored(store)
    assert positions.groupby("report").size().to_dict() == {"tff_combined": 15, "tff_futures_only": 15}


# ---------------------------------------------------------------------------------- legacy


def test_legacy_positions_add_up_and_match_the_files_totals_and_changes(tmp_path):
    store = Store.open(tmp_path / "store", create=True)
    [report] = store.ingest("cftc_legacy", [LEGACY_2025])
    assert (report.read, report.accepted, report.rejected) == (105, 105, 0)
    positions = stored(store)
    assert set(positions.report) == {"legacy_futures_only"}
    assert positions.groupby("category").size().to_dict() == {
        "commercial": 35, "noncommercial": 35, "nonreportables": 35}
    assert positions.loc[positions.category != "noncommercial", "spread"].isna().all()
    table = wide(positions)
    source = cftc_frame(LEGACY_2025)
    source["report_date"] = pd.to_datetime(source["As of Date in Form YYYY-MM-DD"])
    table = table.merge(source, left_on=["report_date", "contract_code"],
                        right_on=["report_date", "CFTC Contract Market Code"])
    assert len(table) == 35
    single = table.contract_code != SPX
    reportable_long = table.long_noncommercial + table.spread_noncommercial + table.long_commercial
    reportable_short = table.short_noncommercial + table.spread_noncommercial + table.short_commercial
    assert (reportable_long[single] == table["Total Reportable Positions-Long (All)"][single]).all()
    assert (reportable_short[single] == table["Total Reportable Positions-Short (All)"][single]).all()
    assert ((reportable_long + table.long_nonreportables)[single] == table.open_interest[single]).all()
    assert ((reportable_short + table.short_nonreportables)[single] == table.open_interest[single]).all()
    assert (reportable_long + table.long_nonreportables - table.open_interest).abs().max() <= 1
    es = table[table.contract_code == ES].sort_values("report_date")
    assert len(es) == 10
    for mine, change in [("long_noncommercial", "Change in Noncommercial-Long (All)"),
                         ("short_commercial", "Change in Commercial-Short (All)"),
                         ("spread_noncommercial", "Change in Noncommercial-Spreading (All)"),
                         ("open_interest", "Change in Open Interest (All)")]:
        assert (es[mine].diff().iloc[1:].to_numpy() == es[change].iloc[1:].to_numpy()).all(), change
    stellar = positions[(positions.contract_code == "173LM1") & (positions.category == "commercial")]
    assert stellar.groupby("market").size().to_dict() == {"NANO STELLAR - LMX LABS LLC": 1,
                                                          "STELLAR - LMX LABS LLC": 4}
    days = positions.drop_duplicates("report_date").set_index("report_date").release_date
    assert days[pd.Timestamp("2025-01-07")] == pd.Timestamp("2025-01-10")
    assert days[pd.Timestamp("2025-01-21")] == pd.Timestamp("2025-01-24")   # MLK Day was the Monday


@pytest.mark.parametrize(("name", "kind", "report"), [
    ("annualof.txt", "cftc_legacy", "legacy_combined"),
    ("deacom.txt", "cftc_legacy", "legacy_combined"),
    ("deafut.txt", "cftc_legacy", "legacy_futures_only"),
    ("annual.txt", "cftc_legacy", "legacy_futures_only"),
    ("whatever.txt", "cftc_legacy_combined", "legacy_combined"),
    ("legacy_cot_futures_only_annual_2025.txt", "cftc_legacy_combined", "legacy_combined"),
])
def test_the_legacy_report_comes_from_the_cftc_file_name_or_the_kind(tmp_path, name, kind, report):
    path = tmp_path / name
    path.write_bytes(LEGACY_2025.read_bytes())
    store = Store.open(tmp_path / "store", create=True)
    [ingested] = store.ingest(kind, [path])
    assert ingested.accepted == 105
    assert set(stored(store).report) == {report}


def test_a_legacy_zip_is_told_by_its_member_name(tmp_path):
    archive = tmp_path / "deahistfo2025.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(LEGACY_2025, "annualof.txt")
    store = Store.open(tmp_path / "store", create=True)
    [report] = store.ingest("cftc_legacy", [archive])
    assert report.accepted == 105 and set(stored(store).report) == {"legacy_combined"}


# ---------------------------------------------------------------------------------- release dates

# The CFTC's published 2024 release schedule (cftc.gov, "Release Schedule"): the release of each
# Tuesday's report from November 28, 2023 to December 24, 2024 (June 24, July 8, December 2 and
# December 30 were delayed by a federal holiday).
CFTC_2024_RELEASES = (
    "2023-12-01 2023-12-08 2023-12-15 2023-12-22 2023-12-29 "
    "2024-01-05 2024-01-12 2024-01-19 2024-01-26 2024-02-02 2024-02-09 2024-02-16 2024-02-23 "
    "2024-03-01 2024-03-08 2024-03-15 2024-03-22 2024-03-29 2024-04-05 2024-04-12 2024-04-19 "
    "2024-04-26 2024-05-03 2024-05-10 2024-05-17 2024-05-24 2024-05-31 2024-06-07 2024-06-14 "
    "2024-06-24 2024-06-28 2024-07-08 2024-07-12 2024-07-19 2024-07-26 2024-08-02 2024-08-09 "
    "2024-08-16 2024-08-23 2024-08-30 2024-09-06 2024-09-13 2024-09-20 2024-09-27 2024-10-04 "
    "2024-10-11 2024-10-18 2024-10-25 2024-11-01 2024-11-08 2024-11-15 2024-11-22 2024-12-02 "
    "2024-12-06 2024-12-13 2024-12-20 2024-12-30").split()


def test_release_dates_follow_the_cftcs_published_2024_schedule():
    tuesdays = pd.date_range("2023-11-28", "2024-12-24", freq="W-TUE")
    assert len(tuesdays) == len(CFTC_2024_RELEASES) == 57
    computed = [scheduled_release(day.date()).isoformat() for day in tuesdays]
    assert computed == CFTC_2024_RELEASES
    delayed = [(t.date().isoformat(), r) for t, r in zip(tuesdays, computed)
               if dt.date.fromisoformat(r) - t.date() != dt.timedelta(days=3)]
    assert delayed == [("2024-06-18", "2024-06-24"), ("2024-07-02", "2024-07-08"),
                       ("2024-11-26", "2024-12-02"), ("2024-12-24", "2024-12-30")]


def test_release_dates_after_the_2025_shutdown_follow_the_cftcs_catch_up_schedule():
    # Original publish dates in the CFTC's schedule of 2025-11-18 are the holiday rule's.
    originals = {"2025-10-07": "2025-10-10", "2025-11-10": "2025-11-14", "2025-11-25": "2025-12-01",
                 "2025-12-23": "2025-12-29", "2025-12-30": "2026-01-05", "2026-01-20": "2026-01-23"}
    for report, original in originals.items():
        assert scheduled_release(dt.date.fromisoformat(report)).isoformat() == original
    assert release_date(dt.date(2025, 11, 25)) == dt.date(2025, 12, 19)
    assert release_date(dt.date(2026, 1, 6)) == dt.date(2026, 1, 16)
    assert release_date(dt.date(2026, 1, 20)) == dt.date(2026, 1, 23)
    assert release_date(dt.date(2019, 1, 8)) == dt.date(2019, 2, 8)
    assert len(CATCH_UP_RELEASES) == 26
    assert all(release > scheduled_release(report) for report, release in CATCH_UP_RELEASES.items())


def test_stored_rows_are_available_from_their_release(tff_store):
    positions = stored(tff_store)
    assert (positions.available_from == positions.release_date).all()
    days = positions.drop_duplicates("report_date").set_index("report_date").release_date
    assert {str(d.date()): str(days[d].date()) for d in pd.to_datetime(
        ["2019-01-08", "2019-11-26", "2019-12-31", "2021-06-15", "2021-12-28", "2026-01-13", "2026-03-17"])} == {
        "2019-01-08": "2019-02-08", "2019-11-26": "2019-12-02", "2019-12-31": "2020-01-06",
        "2021-06-15": "2021-06-21", "2021-12-28": "2022-01-03", "2026-01-13": "2026-01-20",
        "2026-03-17": "2026-03-20"}
    ordinary = days[~days.index.isin(pd.to_datetime([str(d) for d in CATCH_UP_RELEASES]))]
    assert ((ordinary.to_numpy() - ordinary.index.to_numpy()) / np.timedelta64(1, "D")).min() == 3


# ---------------------------------------------------------------------------------- hostile files


def _lines(path: Path, code: str, rows: int) -> tuple[bytes, list[bytes]]:
    lines = [line.rstrip(b"\r") for line in path.read_bytes().split(b"\n") if line.strip()]
    return lines[0], [line for line in lines[1:] if f",{code},".encode() in line][:rows]


def _edit(line: bytes, position: int, value: str) -> bytes:
    fields = next(csv.reader([line.decode()]))
    fields[position] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue().encode()


def _drop(line: bytes, position: int) -> bytes:
    fields = next(csv.reader([line.decode()]))
    del fields[position]
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue().encode()


TFF_HEADER, TFF_ROWS = _lines(TFF_2026, ES, 6)
LEGACY_HEADER, LEGACY_ROWS = _lines(LEGACY_2025, ES, 6)
# Field positions in the CFTC layouts.
TFF = {"date": 2, "yymmdd": 1, "code": 3, "market": 0, "oi": 7, "dealer_long": 8, "lev_long": 14,
       "lev_short": 15, "report": 86}
LEGACY = {"date": 2, "yymmdd": 1, "code": 3, "market": 0, "oi": 7, "nc_long": 8, "nc_short": 9,
          "comm_long": 11}


def _join(*lines: bytes) -> bytes:
    return b"\r\n".join(lines) + b"\r\n"


def _snapshot(store: Store) -> tuple[str, list[str]]:
    return (json.dumps(store.manifest(), sort_keys=True),
            sorted(str(p.relative_to(store.path)) for p in store.path.rglob("*") if p.is_file()))


@pytest.fixture
def seeded(tmp_path) -> Store:
    """A store already holding the real 2021 TFF extract, to show a failed ingest changes nothing."""
    store = Store.open(tmp_path / "store", create=True)
    store.ingest("cftc_tff", [TFF_2021])
    return store


TFF_FILE_ERRORS = {
    "empty": (b"", "the file is empty"),
    "blank lines only": (b"\r\n  \r\n", "the file is empty"),
    "header only": (_join(TFF_HEADER), "the file has a header but no data rows"),
    "binary": (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)), "contains NUL bytes"),
    "garbage bytes": (b"\xff\xfe\x9c garbage \x81\x82\r\n" + TFF_ROWS[0], "not UTF-8 text (invalid byte"),
    "missing column": (_join(_drop(TFF_HEADER, 14), *(_drop(r, 14) for r in TFF_ROWS)),
                       "missing column Lev_Money_Positions_Long_All of the CFTC Traders in Financial Futures"),
    "column twice": (_join(_edit(TFF_HEADER, 20, "Lev_Money_Positions_Long_All"), *TFF_ROWS),
                     "column Lev_Money_Positions_Long_All appears twice in the header"),
    "legacy file": (LEGACY_2025.read_bytes(), ("this is a legacy Commitments of Traders file, not Traders in "
                                               "Financial Futures: ingest it as cftc_legacy")),
    "some other csv": (b"date,account_id,security_id,quantity\n2024-06-03,F1,AAPL,10\n",
                       "not a CFTC Traders in Financial Futures file: the first line"),
    "headerless, wrong width": (_join(*(_drop(r, 86) for r in TFF_ROWS)),
                                "nor a data row of 87 fields"),
}


@pytest.mark.parametrize("variant", list(TFF_FILE_ERRORS))
def test_a_tff_file_that_cannot_be_used_is_a_file_error_and_changes_nothing(seeded, tmp_path, variant):
    content, message = TFF_FILE_ERRORS[variant]
    path = tmp_path / "FinFutYY.txt"
    path.write_bytes(content)
    before = _snapshot(seeded)
    with pytest.raises(FileError) as caught:
        seeded.ingest("cftc_tff", [TFF_2019, path])     # all or nothing: 2019 is not kept either
    assert str(path) in str(caught.value) and message in str(caught.value)
    assert _snapshot(seeded) == before
    assert len(stored(seeded)) == 780


def test_missing_files_and_zips_of_several_files_are_file_errors(seeded, tmp_path):
    before = _snapshot(seeded)
    with pytest.raises(FileError, match="no such file"):
        seeded.ingest("cftc_tff", [tmp_path / "FinFutWk.txt"])
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(TFF_WEEK, "FinFutWk.txt")
        handle.write(TFF_2026, "FinFutYY.txt")
    with pytest.raises(FileError, match="a CFTC zip holds one text file; this one holds 2"):
        seeded.ingest("cftc_tff", [archive])
    assert _snapshot(seeded) == before


def _rows_variant(rows: list[bytes], row: int, edit) -> list[bytes]:
    changed = list(rows)
    changed[row - 1] = edit(changed[row - 1])
    return changed


TFF_ROW_REJECTS = {
    "truncated file": (TFF_ROWS[:5] + [TFF_ROWS[5][:300]], {6: "expected 87 fields, found"}),
    "every row cut short": ([r[:200] for r in TFF_ROWS], dict.fromkeys(range(1, 7), "expected 87 fields, found")),
    "a row with an extra field": (_rows_variant(TFF_ROWS, 2, lambda r: r + b",7"), {2: "expected 87 fields, found 88"}),
    "a row with a missing field": (_rows_variant(TFF_ROWS, 3, lambda r: _drop(r, 40)), {3: "expected 87 fields, found 86"}),
    "garbage bytes in a row": (_rows_variant(TFF_ROWS, 4, lambda r: r[:50] + b"\xc3\x28" + r[52:]),
                               {4: "not UTF-8 text (invalid byte 0xc3 at offset 50 of the line)"}),
    "negative": (_rows_variant(TFF_ROWS, 1, lambda r: _edit(r, TFF["lev_short"], "-470524")),
                 {1: "Lev_Money_Positions_Short_All: '-470524' is negative"}),
    "huge": (_rows_variant(TFF_ROWS, 2, lambda r: _edit(r, TFF["oi"], "99999999999999999999")),
             {2: "Open_Interest_All: '99999999999999999999' is too large to hold exactly"}),
    "huge but exact": (_rows_variant(TFF_ROWS, 2, lambda r: _edit(r, TFF["lev_long"], "9999999999")),
                       {2: "the longs do not add up: longs + spreads of all categories = 10,001,840,422 "
                           "but Open_Interest_All = 1,996,720"}),
    "non-numeric": (_rows_variant(TFF_ROWS, 3, lambda r: _edit(r, TFF["dealer_long"], "n/a")),
                    {3: "Dealer_Positions_Long_All: 'n/a' is not a number"}),
    "empty number": (_rows_variant(TFF_ROWS, 3, lambda r: _edit(r, TFF["oi"], "  ")),
                     {3: "Open_Interest_All is empty"}),
    "fraction": (_rows_variant(TFF_ROWS, 5, lambda r: _edit(r, TFF["dealer_long"], "12.5")),
                 {5: "Dealer_Positions_Long_All: '12.5' is not a whole number of contracts"}),
    "off by one contract": (_rows_variant(TFF_ROWS, 4, lambda r: _edit(r, TFF["oi"], str(int(
        next(csv.reader([r.decode()]))[TFF["oi"]]) + 1))), {4: "the shorts do not add up"}),
    "bad date": (_rows_variant(TFF_ROWS, 1, lambda r: _edit(r, TFF["date"], "2026-02-30")),
                 {1: "Report_Date_as_YYYY-MM-DD: '2026-02-30' is not a date (YYYY-MM-DD)"}),
    "weekend date": (_rows_variant(TFF_ROWS, 1, lambda r: _edit(_edit(r, TFF["date"], "2026-03-14"),
                                                                TFF["yymmdd"], "260314")),
                     {1: "Report_Date_as_YYYY-MM-DD: 2026-03-14 is a Saturday"}),
    "dates disagree": (_rows_variant(TFF_ROWS, 2, lambda r: _edit(r, TFF["yymmdd"], "260311")),
                       {2: "As_of_Date_In_Form_YYMMDD: '260311' disagrees with Report_Date_as_YYYY-MM-DD '2026-03-10'"}),
    "bad code": (_rows_variant(TFF_ROWS, 6, lambda r: _edit(r, TFF["code"], "ES 1")),
                 {6: "CFTC_Contract_Market_Code: 'ES 1' is not a CFTC contract market code"}),
    "no market name": (_rows_variant(TFF_ROWS, 6, lambda r: _edit(r, TFF["market"], " ")),
                       {6: "Market_and_Exchange_Names is empty"}),
    "neither futures only nor combined": (_rows_variant(TFF_ROWS, 5, lambda r: _edit(r, TFF["report"], "Both")),
                                          {5: "FutOnly_or_Combined: 'Both' is neither FutOnly nor Combined"}),
    "duplicate row": (TFF_ROWS + [TFF_ROWS[1]],
                      {2: "duplicate key (report_date, report, contract_code, category) also on row 7",
                       7: "duplicate key (report_date, report, contract_code, category) also on row 2"}),
    "renamed market, same week": (TFF_ROWS + [_edit(TFF_ROWS[1], 0, "S&P 500 E-MINI - CME")],
                                  {2: "duplicate key", 7: "duplicate key"}),
}


@pytest.mark.parametrize("variant", list(TFF_ROW_REJECTS))
def test_a_bad_tff_row_is_rejected_whole_with_its_reason(tmp_path, variant):
    rows, expected = TFF_ROW_REJECTS[variant]
    path = tmp_path / "FinFutYY.txt"
    path.write_bytes(_join(TFF_HEADER, *rows))
    store = Store.open(tmp_path / "store", create=True)
    [report] = store.ingest("cftc_tff", [path])
    assert (report.read, report.rejected, report.accepted) == (
        5 * len(rows), 5 * len(expected), 5 * (len(rows) - len(expected)))
    rejects = store.rejects("futures_positions")
    assert (rejects.file == str(path)).all()
    assert rejects.groupby("row").size().to_dict() == {row: 5 for row in expected}
    for row, reason in expected.items():
        reasons = rejects.loc[rejects.row == row, "reason"]
        assert reasons.str.contains(reason, regex=False).all(), reasons.iloc[0]
    accepted = stored(store)
    assert len(accepted) == report.accepted
    assert accepted.groupby("report_date").size().eq(5).all()


def test_a_market_renamed_in_another_week_is_the_same_contract(tmp_path):
    rows = _rows_variant(TFF_ROWS, 2, lambda r: _edit(r, 0, "S&P 500 E-MINI - CHICAGO MERCANTILE EXCHANGE"))
    path = tmp_path / "FinFutYY.txt"
    path.write_bytes(_join(TFF_HEADER, *rows))
    store = Store.open(tmp_path / "store", create=True)
    [report] = store.ingest("cftc_tff", [path])
    assert (report.accepted, report.rejected) == (30, 0)
    metrics = cot_positioning(connect(store), categories=["leveraged_funds"]).to_pandas()
    assert set(metrics.contract_code) == {ES}
    assert metrics.set_index(pd.to_datetime(metrics.report_date)).market.to_dict()[pd.Timestamp("2026-03-10")] == (
        "S&P 500 E-MINI - CHICAGO MERCANTILE EXCHANGE")
    assert metrics.net_change.notna().sum() == 5


LEGACY_FILE_ERRORS = {
    "empty": (b"", "the file is empty"),
    "header only": (_join(LEGACY_HEADER), "the file has a header but no data rows"),
    "binary": (bytes(range(256)) * 4, "contains NUL bytes"),
    "garbage bytes": (b"\x80\x81\x82\x83,\xfe\r\n", "not UTF-8 text (invalid byte at offset 0 of the first line)"),
    "missing column": (_join(_drop(LEGACY_HEADER, 11), *(_drop(r, 11) for r in LEGACY_ROWS)),
                       "missing column Commercial Positions-Long (All)"),
    "column twice": (_join(_edit(LEGACY_HEADER, 13, "Open Interest (All)"), *LEGACY_ROWS),
                     "column Open Interest (All) appears twice in the header"),
    "tff file": (TFF_2026.read_bytes(), ("this is a Traders in Financial Futures file, not legacy Commitments "
                                         "of Traders: ingest it as cftc_tff")),
    "tff weekly file": (TFF_WEEK.read_bytes(), "ingest it as cftc_tff"),
    "some other csv": (b"Symbol,Name\nAAPL,Apple\n", "not a CFTC legacy Commitments of Traders file"),
}


@pytest.mark.parametrize("variant", list(LEGACY_FILE_ERRORS))
def test_a_legacy_file_that_cannot_be_used_is_a_file_error_and_changes_nothing(seeded, tmp_path, variant):
    content, message = LEGACY_FILE_ERRORS[variant]
    path = tmp_path / "annual.txt"
    path.write_bytes(content)
    before = _snapshot(seeded)
    with pytest.raises(FileError) as caught:
        seeded.ingest("cftc_legacy", [path])
    assert str(path) in str(caught.value) and message in str(caught.value)
    assert _snapshot(seeded) == before


@pytest.mark.parametrize(("name", "says"), [("cot_2025.txt", "does not say"),
                                            ("deafut_combined.txt", "says both")])
def test_a_legacy_file_whose_name_does_not_tell_the_report_is_a_file_error(seeded, tmp_path, name, says):
    path = tmp_path / name
    path.write_bytes(LEGACY_2025.read_bytes())
    before = _snapshot(seeded)
    with pytest.raises(FileError) as caught:
        seeded.ingest("cftc_legacy", [path])
    assert str(caught.value).startswith(f"{path}: cannot tell whether this is the futures-only or the combined")
    assert says in str(caught.value) and "cftc_legacy_futures_only or cftc_legacy_combined" in str(caught.value)
    assert _snapshot(seeded) == before


LEGACY_ROW_REJECTS = {
    "truncated file": (LEGACY_ROWS[:5] + [LEGACY_ROWS[5][:120]], {6: "expected 129 fields, found"}),
    "a row with an extra field": (_rows_variant(LEGACY_ROWS, 1, lambda r: r + b", 12"),
                                  {1: "expected 129 fields, found 130"}),
    "garbage bytes in a row": (_rows_variant(LEGACY_ROWS, 2, lambda r: b"\xe9" + r[1:]),
                               {2: "not UTF-8 text (invalid byte 0xe9 at offset 0 of the line)"}),
    "negative": (_rows_variant(LEGACY_ROWS, 3, lambda r: _edit(r, LEGACY["nc_short"], "-1")),
                 {3: "Noncommercial Positions-Short (All): '-1' is negative"}),
    "huge": (_rows_variant(LEGACY_ROWS, 3, lambda r: _edit(r, LEGACY["comm_long"], "1e400")),
             {3: "Commercial Positions-Long (All): '1e400' is not a number"}),
    "huge digits": (_rows_variant(LEGACY_ROWS, 3, lambda r: _edit(r, LEGACY["comm_long"], "9" * 40)),
                    {3: "is too large to hold exactly"}),
    "non-numeric": (_rows_variant(LEGACY_ROWS, 4, lambda r: _edit(r, LEGACY["nc_long"], "12O4")),
                    {4: "Noncommercial Positions-Long (All): '12O4' is not a number"}),
    "empty number": (_rows_variant(LEGACY_ROWS, 4, lambda r: _edit(r, LEGACY["oi"], "")),
                     {4: "Open Interest (All) is empty"}),
    "longs do not add up": (_rows_variant(LEGACY_ROWS, 5, lambda r: _edit(r, LEGACY["comm_long"], "1")),
                            {5: "the longs do not add up"}),
    "bad date": (_rows_variant(LEGACY_ROWS, 1, lambda r: _edit(r, LEGACY["date"], "11/03/2025")),
                 {1: "As of Date in Form YYYY-MM-DD: '11/03/2025' is not a date (YYYY-MM-DD)"}),
    "dates disagree": (_rows_variant(LEGACY_ROWS, 2, lambda r: _edit(r, LEGACY["yymmdd"], "240304")),
                       {2: "As of Date in Form YYMMDD: '240304' disagrees with As of Date in Form YYYY-MM-DD"}),
    "sunday": (_rows_variant(LEGACY_ROWS, 2, lambda r: _edit(_edit(r, LEGACY["date"], "2025-03-02"),
                                                             LEGACY["yymmdd"], "250302")),
               {2: "2025-03-02 is a Sunday"}),
    "bad code": (_rows_variant(LEGACY_ROWS, 6, lambda r: _edit(r, LEGACY["code"], "13874")),
                 {6: "CFTC Contract Market Code: '13874' is not a CFTC contract market code"}),
    "empty code": (_rows_variant(LEGACY_ROWS, 6, lambda r: _edit(r, LEGACY["code"], "")),
                   {6: "CFTC Contract Market Code is empty"}),
    "no market name": (_rows_variant(LEGACY_ROWS, 5, lambda r: _edit(r, LEGACY["market"], "")),
                       {5: "Market and Exchange Names is empty"}),
    "duplicate row": ([LEGACY_ROWS[0], *LEGACY_ROWS],
                      {1: "duplicate key (report_date, report, contract_code, category) also on row 2",
                       2: "also on row 1"}),
    "renamed market, same week": (LEGACY_ROWS + [_edit(LEGACY_ROWS[3], 0, "S&P 500 MINI - CME")],
                                  {4: "duplicate key", 7: "also on row 4"}),
}


@pytest.mark.parametrize("variant", list(LEGACY_ROW_REJECTS))
def test_a_bad_legacy_row_is_rejected_whole_with_its_reason(tmp_path, variant):
    rows, expected = LEGACY_ROW_REJECTS[variant]
    path = tmp_path / "annual.txt"
    path.write_bytes(_join(LEGACY_HEADER, *rows))
    store = Store.open(tmp_path / "store", create=True)
    [report] = store.ingest("cftc_legacy", [path])
    assert (report.read, report.rejected, report.accepted) == (
        3 * len(rows), 3 * len(expected), 3 * (len(rows) - len(expected)))
    rejects = store.rejects("futures_positions")
    assert rejects.groupby("row").size().to_dict() == {row: 3 for row in expected}
    for row, reason in expected.items():
        reasons = rejects.loc[rejects.row == row, "reason"]
        assert reasons.str.contains(reason, regex=False).all(), reasons.iloc[0]
        records = rejects.loc[rejects.row == row, "record"]
        categories = ({record.split("category=")[1].split("|")[0] for record in records}
                      if reasons.str.startswith("duplicate key").all() else {r.rsplit("[", 1)[1].split(":")[0] for r in reasons})
        assert categories == {"noncommercial", "commercial", "nonreportables"}
    assert len(stored(store)) == report.accepted


def test_a_rejected_row_says_every_problem_and_keeps_the_line(tmp_path):
    row = _edit(_edit(TFF_ROWS[0], TFF["lev_long"], "-3"), TFF["code"], "")
    path = tmp_path / "FinFutWk.txt"
    path.write_bytes(_join(row, *TFF_ROWS[1:]))      # headerless: data row 1 is line 1
    store = Store.open(tmp_path / "store", create=True)
    [report] = store.ingest("cftc_tff", [path])
    assert (report.read, report.accepted, report.rejected) == (30, 25, 5)
    rejects = store.rejects()
    assert rejects.row.tolist() == [1] * 5
    assert rejects.reason.iloc[0] == (
        "CFTC_Contract_Market_Code is empty; Lev_Money_Positions_Long_All: '-3' is negative "
        "[dealer: all 5 category rows of this input row are rejected]")
    assert rejects.record.iloc[0] == row.decode()


# ---------------------------------------------------------------------------------- metrics


MIN_REPORTS = {26: 21, 52: 42, 156: 125}     # docs/cftc.md: 80% of the window's weeks


def reference_cot(positions: pd.DataFrame, *, report: str = "tff_futures_only",
                  categories=("leveraged_funds", "asset_manager", "dealer"), as_of=None) -> pd.DataFrame:
    """The COT metrics the slow, obvious way, from docs/cftc.md."""
    rows = positions[(positions.report == report) & positions.category.isin(categories)]
    if as_of is not None:
        rows = rows[rows.available_from <= pd.Timestamp(as_of)]
    out = []
    for (code, category), group in rows.groupby(["contract_code", "category"]):
        group = group.sort_values("report_date")
        weeks = [(day.date() - dt.date(1900, 1, 1)).days // 7 for day in group.report_date]
        nets = (group["long"] - group["short"]).tolist()
        for i, row in enumerate(group.itertuples()):
            record = {"report_date": row.report_date, "contract_code": code, "category": category,
                      "market": row.market, "net": nets[i], "net_pct_oi": 100 * nets[i] / row.open_interest,
                      "net_change": nets[i] - nets[i - 1] if i and weeks[i - 1] == weeks[i] - 1 else np.nan}
            for span, minimum in MIN_REPORTS.items():
                window = [nets[j] for j in range(len(nets)) if weeks[i] - span < weeks[j] <= weeks[i]]
                low, high = min(window), max(window)
                record[f"cot_index_{span}w"] = (100 * (nets[i] - low) / (high - low)
                                                if len(window) >= minimum and high > low else np.nan)
            out.append(record)
    return pd.DataFrame(out)


def _compare(engine_frame: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = engine_frame.assign(report_date=pd.to_datetime(engine_frame.report_date))
    key = ["contract_code", "category", "report_date"]
    got = got.sort_values(key, ignore_index=True)
    expected = expected.sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=False, rtol=1e-12, atol=1e-9)


def test_cot_metrics_match_the_pandas_reference_on_the_real_files(tff_store, engine):
    metrics = cot_positioning(connect(tff_store, engine)).to_pandas()
    assert len(metrics) == 3 * (156 + 156 + 33)
    _compare(metrics, reference_cot(stored(tff_store)))
    es = metrics[(metrics.contract_code == ES) & (metrics.category == "leveraged_funds")]
    last_2021 = es[pd.to_datetime(es.report_date) == "2021-12-28"].iloc[0]
    # Lev_Money long 255,067 and short 352,334 in the file; open interest 2,287,852.
    assert (last_2021.long, last_2021.short, last_2021.net, last_2021.net_change) == (255067, 352334, -97267, -86802)
    assert last_2021.net_pct_oi == pytest.approx(-97267 / 2287852 * 100, rel=1e-12)
    # The 52 weeks to 2021-12-28 are the 52 reports of 2021: low -288,303 (Feb 16), high 58,122 (Nov 30).
    assert last_2021.cot_index_52w == pytest.approx(100 * (-97267 + 288303) / (58122 + 288303), rel=1e-12)
    assert math.isnan(last_2021.cot_index_156w)               # 104 of 156 weeks loaded: fewer than 125
    counts = es.assign(year=pd.to_datetime(es.report_date).dt.year).groupby("year")[
        ["cot_index_26w", "cot_index_52w", "cot_index_156w"]].count()
    # 26 weeks: from the 21st report of each year; 52 weeks: from the 42nd; 2026 has 11 reports.
    assert counts.to_dict("index") == {2019: {"cot_index_26w": 32, "cot_index_52w": 11, "cot_index_156w": 0},
                                       2021: {"cot_index_26w": 32, "cot_index_52w": 11, "cot_index_156w": 0},
                                       2026: {"cot_index_26w": 0, "cot_index_52w": 0, "cot_index_156w": 0}}


def test_cot_metrics_are_point_in_time(tff_store, engine):
    backend = connect(tff_store, engine)
    # The shutdown catch-up: on 2019-02-10 only the report of 2019-01-08 had been released.
    early = cot_positioning(backend, contracts=[ES], as_of="2019-02-10").to_pandas()
    assert sorted(set(pd.to_datetime(early.report_date).dt.date.astype(str))) == ["2019-01-08"]
    # Juneteenth 2021 moved the release of 2021-06-15 to Monday 2021-06-21.
    sunday = cot_positioning(backend, contracts=[ES], categories=["leveraged_funds"], as_of="2021-06-20").to_pandas()
    assert pd.to_datetime(sunday.report_date).max() == pd.Timestamp("2021-06-08")
    assert len(sunday) == 52 + 23
    _compare(sunday, reference_cot(stored(tff_store), categories=["leveraged_funds"], as_of="2021-06-20")
             .query("contract_code == @ES"))


def _synthetic_store(directory: Path, weeks: list[int], nets: list[float], code: str = "99999X") -> Store:
    """futures_positions rows for one contract: leveraged funds' net on the Tuesday of each week."""
    start = dt.date(2015, 1, 6)
    days = [start + dt.timedelta(weeks=w) for w in weeks]
    frame = pd.DataFrame({
        "report_date": days, "release_date": [d + dt.timedelta(days=3) for d in days],
        "report": "tff_futures_only", "contract_code": code, "market": "TEST - EXCHANGE",
        "category": "leveraged_funds", "long": [max(n, 0) + 100 for n in nets],
        "short": [max(-n, 0) + 100 for n in nets], "spread": 0.0,
        "open_interest": [abs(n) + 1000 for n in nets]})
    path = directory / "positions.csv"
    frame.to_csv(path, index=False)
    store = Store.open(directory / "store", create=True)
    [report] = store.ingest("futures_positions", [path])
    assert report.rejected == 0
    return store


def test_the_156_week_index_waits_for_125_reports_and_windows_are_calendar_weeks(tmp_path, engine):
    weeks = [w for w in range(200) if not 30 <= w < 60]          # 30 weeks not loaded
    nets = [float((w * 37) % 101 - 50) for w in weeks]
    store = _synthetic_store(tmp_path, weeks, nets)
    metrics = cot_positioning(connect(store, engine)).to_pandas()
    _compare(metrics, reference_cot(stored(store)))
    metrics["week"] = weeks
    first = metrics.dropna(subset=["cot_index_156w"]).week.min()
    # The 125th report is week 154 (weeks 0-29 and 60-154); the window then covers weeks 0-154.
    assert first == 154
    assert metrics.loc[metrics.week == 60, "net_change"].isna().all()        # after the gap
    assert metrics.loc[metrics.week == 61, "net_change"].iloc[0] == nets[31] - nets[30]
    # 26 weeks after the gap: the window of week 80 holds weeks 60-80 (21 reports), not older ones.
    row = metrics[metrics.week == 80].iloc[0]
    window = nets[30:51]
    assert row.cot_index_26w == pytest.approx(100 * (row.net - min(window)) / (max(window) - min(window)))
    assert metrics.loc[metrics.week == 79, "cot_index_26w"].isna().all()


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(-5000, 5000)), min_size=30, max_size=180))
def test_cot_metrics_agree_with_the_reference_on_any_series(weeks_and_nets):
    weeks = [w for w, (present, _) in enumerate(weeks_and_nets) if present or w == 0]
    nets = [float(weeks_and_nets[w][1]) for w in weeks]
    with tempfile.TemporaryDirectory() as directory:
        store = _synthetic_store(Path(directory), weeks, nets)
        _compare(cot_positioning(connect(store)).to_pandas(), reference_cot(stored(store)))


# ---------------------------------------------------------------------------------- facts


def test_leveraged_funds_facts_at_the_end_of_2021(tff_store):
    found = {f.id: f for f in cot_facts(connect(tff_store), as_of="2022-01-10")}
    week = "W:2021-12-28"
    level = found[f"level:leveraged_funds:net:contract={ES}:{week}"]
    assert (level.value, level.direction, level.label) == (-97267, "short", "E-mini S&P 500")
    assert level.components == {"previous": -10465, "change": -86802}
    streak = found[f"streak:leveraged_funds:net:contract={ES}:{week}"]
    assert (streak.n, streak.of, streak.direction) == (2, 52, "short")      # net long on 2021-12-14
    since = found[f"since:leveraged_funds:net:contract={ES}:{week}"]
    assert (since.since_date, since.components["previous"], since.periods_since, since.months) == (
        dt.date(2021, 9, 21), -125844, 14, 3)
    change = found[f"change:leveraged_funds:net:contract={ES}:{week}"]
    assert (change.value, change.direction) == (-86802, "down")
    falling = found[f"streak:leveraged_funds:net:contract={ES}:{week}:change"]
    assert (falling.n, falling.value) == (2, -86802)
    assert found[f"level:leveraged_funds:cot_index_52w:contract={ES}:{week}"].value == pytest.approx(
        100 * 191036 / 346425)
    assert f"level:leveraged_funds:cot_index_156w:contract={ES}:{week}" not in found
    assert found[f"level:leveraged_funds:net_pct_oi:contract={NQ}:{week}"].value == pytest.approx(
        -16103 / 211097 * 100)
    assert {f.who for f in found.values()} == {"leveraged_funds", "asset_managers", "dealers"}
    assert {f.group for f in found.values()} == {ES, NQ}       # 13874+ is not among the default contracts
    assert len([f for f in found.values() if f.who == "leveraged_funds"]) == 16


def _file_row(path: Path, code: str, day: str) -> pd.Series:
    source = cftc_frame(path)
    [row] = source[(source.CFTC_Contract_Market_Code == code) & (source["Report_Date_as_YYYY-MM-DD"] == day)
                   ].to_dict("records")
    return pd.Series(row)


def test_asset_manager_and_dealer_facts_at_the_end_of_2021(tff_store):
    found = {f.id: f for f in cot_facts(connect(tff_store), as_of="2022-01-10")}
    week = "W:2021-12-28"
    # FinFut2021_trimmed.txt, line 54 (E-mini S&P 500, 2021-12-28): open interest 2,287,852;
    # Asset_Mgr long 1,116,367, short 380,274, changes +27,938 and -39,837;
    # Dealer long 163,720, short 618,302, changes -2,331 and -34,036.
    row = _file_row(TFF_2021, ES, "2021-12-28")
    assert (row.Open_Interest_All, row.Asset_Mgr_Positions_Long_All, row.Asset_Mgr_Positions_Short_All,
            row.Dealer_Positions_Long_All, row.Dealer_Positions_Short_All) == (
        2287852, 1116367, 380274, 163720, 618302)
    assert (row.Change_in_Asset_Mgr_Long_All, row.Change_in_Asset_Mgr_Short_All,
            row.Change_in_Dealer_Long_All, row.Change_in_Dealer_Short_All) == (27938, -39837, -2331, -34036)
    managers = found[f"level:asset_managers:net:contract={ES}:{week}"]
    assert (managers.value, managers.direction, managers.label) == (1116367 - 380274, "long", "E-mini S&P 500")
    assert managers.value == 736093
    assert found[f"level:asset_managers:net_pct_oi:contract={ES}:{week}"].value == pytest.approx(
        100 * 736093 / 2287852, rel=1e-12)                                       # 32.2%; the file: 48.8 - 16.6
    change = found[f"change:asset_managers:net:contract={ES}:{week}"]
    assert (change.value, change.direction) == (27938 - -39837, "up") == (67775, "up")
    dealers = found[f"level:dealers:net:contract={ES}:{week}"]
    assert (dealers.value, dealers.direction) == (163720 - 618302, "short") == (-454582, "short")
    assert found[f"level:dealers:net_pct_oi:contract={ES}:{week}"].value == pytest.approx(
        100 * -454582 / 2287852, rel=1e-12)                                      # -19.9%; the file: 7.2 - 27.0
    change = found[f"change:dealers:net:contract={ES}:{week}"]
    assert (change.value, change.direction) == (-2331 - -34036, "up") == (31705, "up")
    # The 52 reports of 2021 (E-mini S&P 500 rows, Asset_Mgr and Dealer long - short):
    # asset managers low 584,746 (2021-12-14), high 968,216 (2021-06-22);
    # dealers low -637,558 (2021-06-15), high -327,649 (2021-03-02); over the last 26 weeks
    # (2021-07-06 on) dealers low -628,510 (2021-09-07), high -449,051 (2021-12-14).
    assert found[f"level:asset_managers:cot_index_52w:contract={ES}:{week}"].value == pytest.approx(
        100 * (736093 - 584746) / (968216 - 584746), rel=1e-12)                  # 39
    assert found[f"level:dealers:cot_index_52w:contract={ES}:{week}"].value == pytest.approx(
        100 * (-454582 + 637558) / (-327649 + 637558), rel=1e-12)                # 59
    assert found[f"level:dealers:cot_index_26w:contract={ES}:{week}"].value == pytest.approx(
        100 * (-454582 + 628510) / (-449051 + 628510), rel=1e-12)                # 97
    # Net long (asset managers) and net short (dealers) in every one of the 52 weeks loaded.
    for who, side in (("asset_managers", "long"), ("dealers", "short")):
        streak = found[f"streak:{who}:net:contract={ES}:{week}"]
        assert (streak.n, streak.of, streak.direction) == (52, 52, side)
    # Asset managers were last as long on 2021-11-23 (770,652), 5 weeks before.
    since = found[f"since:asset_managers:net:contract={ES}:{week}"]
    assert (since.since_date, since.components["previous"], since.periods_since, since.months) == (
        dt.date(2021, 11, 23), 770652, 5, 1)
    rising = found[f"streak:asset_managers:net:contract={ES}:{week}:change"]
    assert (rising.n, rising.value) == (2, 67775)                               # 584,746 -> 668,318 -> 736,093
    assert {f.who for f in found.values() if f.group == NQ} == {"leveraged_funds", "asset_managers", "dealers"}
    # Dealers: no "since" (less short than 4 weeks before: -486,287 on 12-21), no streak of changes
    # (their net fell the week before, from -449,051 on 12-14).
    assert sorted(key.split(":")[0] + ":" + key.split(":")[2] for key in found
                  if key.split(":")[1] == "dealers" and f"contract={ES}" in key) == [
        "change:net", "level:cot_index_26w", "level:cot_index_52w", "level:net", "level:net_pct_oi", "streak:net"]


def test_asset_managers_record_long_at_the_end_of_2019(tff_store):
    found = {f.id: f for f in cot_facts(connect(tff_store), as_of="2019-12-31", contracts={ES: "E-mini S&P 500"})}
    week = "W:2019-12-24"
    # FinFut2019_trimmed.txt, line 55 (2019-12-24): Asset_Mgr long 1,542,418, short 490,988;
    # open interest 2,716,155; the highest net of the 51 weeks of 2019 released by 2019-12-31.
    row = _file_row(TFF_2019, ES, "2019-12-24")
    net = row.Asset_Mgr_Positions_Long_All - row.Asset_Mgr_Positions_Short_All
    assert net == 1542418 - 490988 == 1051430
    record = found[f"record:asset_managers:net:contract={ES}:{week}"]
    assert (record.value, record.n, record.of, record.direction) == (1051430, 51, 51, "long")
    assert found[f"level:asset_managers:cot_index_52w:contract={ES}:{week}"].value == 100
    # Dealer long 248,767 - short 896,238; their net fell 9 weeks in a row.
    assert found[f"level:dealers:net:contract={ES}:{week}"].value == 248767 - 896238
    assert found[f"streak:dealers:net:contract={ES}:{week}:change"].n == 9
    texts = [text for text, _ in cot_sentences(found.values())]
    assert texts[3] == ("Asset managers were net long 1.05m E-mini S&P 500 contracts on December 24, 2019 "
                        "(38.7% of open interest), at least the 51st week in a row, the most net long in "
                        "the 51 weeks on file.")
    assert texts[5] == ("Asset managers' E-mini S&P 500 COT index is 100 (52-week): their net position is at "
                        "the top of its 52-week range (26-week 100).")
    assert texts[7] == ("Dealers added 75,123 contracts to their net short E-mini S&P 500 position; their net "
                        "position has fallen 9 weeks in a row.")


def test_a_streak_that_reaches_the_first_loaded_week_is_at_least_that_long(tff_store):
    found = {f.id: f for f in cot_facts(connect(tff_store))}
    week = "W:2026-03-17"
    streak = found[f"streak:leveraged_funds:net:contract={ES}:{week}"]
    assert (streak.n, streak.of, streak.value) == (11, 11, -340507)
    record = found[f"record:leveraged_funds:net:contract={NQ}:{week}"]
    assert (record.n, record.of, record.value, record.direction) == (11, 11, -31462, "short")
    assert found[f"ytd_extreme:leveraged_funds:net:contract={NQ}:{week}:min"].n == 11
    rising = found[f"streak:leveraged_funds:net:contract={ES}:{week}:change"]
    assert (rising.n, rising.value, rising.direction) == (3, 9482, "up")


def test_facts_are_point_in_time(tff_store):
    # Thursday 2026-03-19: the report of 2026-03-17 comes out on Friday.
    found = cot_facts(connect(tff_store), as_of="2026-03-19")
    assert {f.period_end for f in found} == {dt.date(2026, 3, 10)}
    level = next(f for f in found if f.id == f"level:leveraged_funds:net:contract={ES}:W:2026-03-10")
    assert level.value == -349989
    assert cot_facts(connect(tff_store), as_of="2019-02-07") == []


def test_a_contract_no_longer_reported_gets_no_facts(tmp_path):
    store = _synthetic_store(tmp_path, list(range(20)), [float(-w - 1) for w in range(20)], code="AAAAAA")
    frame = stored(store).query("report_date <= '2015-04-28'").assign(contract_code="BBBBBB", market="OLD - X")
    frame.to_csv(tmp_path / "old.csv", index=False, date_format="%Y-%m-%d")
    store.ingest("futures_positions", [tmp_path / "old.csv"])
    found = cot_facts(connect(store), contracts=["AAAAAA", "BBBBBB"])
    assert {f.group for f in found} == {"AAAAAA"} and {f.label for f in found} == {"TEST"}
    record = next(f for f in found if f.kind == "record")
    assert (record.value, record.n, record.of, record.period_end) == (-20, 20, 20, dt.date(2015, 5, 19))


def test_only_categories_with_a_who_get_facts():
    assert CATEGORY_WHO == {"leveraged_funds": "leveraged_funds", "asset_manager": "asset_managers",
                            "dealer": "dealers"}
    assert fact_categories() == CATEGORY_WHO


@pytest.mark.parametrize(("value", "written"), [(1, "1"), (9482, "9,482"), (340507, "340,507"),
                                                (999999.4, "999,999"), (999999.6, "1.00m"),
                                                (-1051430, "1.05m"), (12345678, "12.35m")])
def test_contracts_are_written_as_a_person_writes_them(value, written):
    assert contracts(value) == written


def test_the_facts_read_as_sentences_with_their_ids(tff_store):
    facts = cot_facts(connect(tff_store), as_of="2022-01-10", contracts={ES: "E-mini S&P 500"})
    sentences = cot_sentences(facts)
    ids = {f.id for f in facts}
    assert [text for text, _ in sentences][:3] == [
        ("Leveraged funds were net short 97,267 E-mini S&P 500 contracts on December 28, 2021 (4.3% of "
         "open interest), the 2nd week in a row, the most net short in 3 months."),
        ("Leveraged funds added 86,802 contracts to their net short E-mini S&P 500 position; their net "
         "position has fallen 2 weeks in a row."),
        ("Leveraged funds' E-mini S&P 500 COT index is 55 (52-week): their net position is within its "
         "52-week range (26-week 41)."),
    ]
    assert all(set(cited) <= ids for _, cited in sentences)
    assert sentences[0][1] == [f"level:leveraged_funds:net:contract={ES}:W:2021-12-28",
                               f"level:leveraged_funds:net_pct_oi:contract={ES}:W:2021-12-28",
                               f"streak:leveraged_funds:net:contract={ES}:W:2021-12-28",
                               f"since:leveraged_funds:net:contract={ES}:W:2021-12-28"]
    latest = cot_sentences(cot_facts(connect(tff_store)))
    assert latest[0][0] == ("Leveraged funds were net short 340,507 E-mini S&P 500 contracts on March 17, 2026 "
                            "(14.6% of open interest), at least the 11th week in a row.")
    assert latest[2][0] == ("Leveraged funds were net short 31,462 E-mini Nasdaq-100 contracts on March 17, "
                            "2026 (10.5% of open interest), at least the 11th week in a row, the most net "
                            "short in the 11 weeks on file.")


def test_asset_managers_and_dealers_read_as_sentences_after_leveraged_funds(tff_store):
    facts = cot_facts(connect(tff_store), as_of="2022-01-10", contracts={ES: "E-mini S&P 500"})
    sentences = cot_sentences(facts)
    assert [text.split(" ")[0].rstrip("'") for text, _ in sentences] == (
        ["Leveraged"] * 3 + ["Asset"] * 3 + ["Dealers"] * 3)
    # The numbers of test_asset_manager_and_dealer_facts_at_the_end_of_2021 (FinFut2021, line 54).
    assert [text for text, _ in sentences[3:]] == [
        ("Asset managers were net long 736,093 E-mini S&P 500 contracts on December 28, 2021 (32.2% of open "
         "interest), at least the 52nd week in a row, the most net long in a month."),
        ("Asset managers added 67,775 contracts to their net long E-mini S&P 500 position; their net position "
         "has risen 2 weeks in a row."),
        ("Asset managers' E-mini S&P 500 COT index is 39 (52-week): their net position is within its 52-week "
         "range (26-week 39)."),
        ("Dealers were net short 454,582 E-mini S&P 500 contracts on December 28, 2021 (19.9% of open "
         "interest), at least the 52nd week in a row."),
        "Dealers cut 31,705 contracts from their net short E-mini S&P 500 position.",
        ("Dealers' E-mini S&P 500 COT index is 59 (52-week): their net position is within its 52-week range "
         "(26-week 97)."),
    ]
    week = "W:2021-12-28"
    assert sentences[3][1] == [f"level:asset_managers:net:contract={ES}:{week}",
                               f"level:asset_managers:net_pct_oi:contract={ES}:{week}",
                               f"streak:asset_managers:net:contract={ES}:{week}",
                               f"since:asset_managers:net:contract={ES}:{week}"]
    assert sentences[7][1] == [f"change:dealers:net:contract={ES}:{week}"]
    assert sentences[8][1] == [f"level:dealers:cot_index_26w:contract={ES}:{week}",
                               f"level:dealers:cot_index_52w:contract={ES}:{week}"]
    by_id = {f.id: f for f in facts}
    assert all(set(cited) <= set(by_id) for _, cited in sentences)


def test_the_note_picks_a_few_salient_sentences_per_category(tff_store):
    facts = cot_facts(connect(tff_store))
    note = cot_highlights(facts)
    everything = cot_sentences(facts)
    assert all(sentence in everything for sentence in note)
    assert [text for text, _ in note] == [
        # Leveraged funds: the E-mini S&P 500, then the record in the Nasdaq-100 (FinFutYY 2026, line 24:
        # Lev_Money long 51,381 - short 82,843, the most net short of the 11 weeks).
        ("Leveraged funds were net short 340,507 E-mini S&P 500 contracts on March 17, 2026 (14.6% of open "
         "interest), at least the 11th week in a row."),
        ("Leveraged funds cut 9,482 contracts from their net short E-mini S&P 500 position; their net position "
         "has risen 3 weeks in a row."),
        ("Leveraged funds were net short 31,462 E-mini Nasdaq-100 contracts on March 17, 2026 (10.5% of open "
         "interest), at least the 11th week in a row, the most net short in the 11 weeks on file."),
        # FinFutYY 2026, line 13 (2026-03-17): Asset_Mgr long 1,086,532 - short 199,704; line 14
        # (2026-03-10): 1,095,733 - 196,881 = 898,852.
        ("Asset managers were net long 886,828 E-mini S&P 500 contracts on March 17, 2026 (38.1% of open "
         "interest), at least the 11th week in a row."),
        ("Asset managers cut 12,024 contracts from their net long E-mini S&P 500 position; their net position "
         "has fallen 3 weeks in a row."),
        ("Asset managers cut 4,170 contracts from their net long E-mini Nasdaq-100 position; their net "
         "position has fallen 4 weeks in a row."),
        # Line 13: Dealer long 140,346 - short 813,118; changes +1,049 and +15,416.
        ("Dealers were net short 672,772 E-mini S&P 500 contracts on March 17, 2026 (28.9% of open interest), "
         "at least the 11th week in a row."),
        "Dealers added 14,367 contracts to their net short E-mini S&P 500 position.",
        ("Dealers cut 6,704 contracts from their net short E-mini Nasdaq-100 position; their net position has "
         "risen 7 weeks in a row."),
    ]
    assert 51381 - 82843 == -31462 and 1086532 - 199704 == 886828 and 886828 - (1095733 - 196881) == -12024
    assert 140346 - 813118 == -672772 and 1049 - 15416 == -14367
    assert len(everything) == 12 and len(cot_highlights(facts, per_category=2)) == 6
    # A flip is news: at 2021-12-21 leveraged funds turned net short both contracts.
    flips = [text for text, _ in cot_highlights(cot_facts(connect(tff_store), as_of="2021-12-27"))
             if text.startswith("Leveraged")]
    assert flips[1:] == ["Leveraged funds turned net short E-mini S&P 500, from net long 44,689 contracts the week before.",
                         "Leveraged funds turned net short E-mini Nasdaq-100, from net long 231 contracts the week before."]


def test_a_flip_from_net_long_to_net_short_is_said_so(tff_store):
    facts = cot_facts(connect(tff_store), as_of="2021-12-27", contracts={ES: "E-mini S&P 500"})
    texts = [text for text, _ in cot_sentences(facts)]
    assert texts[1] == ("Leveraged funds turned net short E-mini S&P 500, from net long 44,689 contracts "
                        "the week before.")
    assert texts[0].startswith("Leveraged funds were net short 10,465 E-mini S&P 500 contracts on "
                               "December 21, 2021")


# ---------------------------------------------------------------------------------- docs


def test_the_docs_examples_run_as_written(tmp_path, monkeypatch, capsys):
    page = run_page("cftc.md", tmp_path, monkeypatch, capsys)
    assert len(page.commands) == 4 and len(page.blocks) == 2
    assert Store.open("cot-store").info()["tables"]["futures_positions"]["rows"] == 780 + 780 + 165 + 105
    printed = page.printed
    # Every sentence the page shows in a comment is printed as written.
    shown = [line[2:] for line in page.text.splitlines() if line.startswith(("# Leveraged funds", "# Asset managers",
                                                                          "# Dealers"))]
    assert len(shown) == 18 and all(sentence in printed for sentence in shown)
    assert "-97267.0" in printed and "55.144981" in printed and "-4.251455" in printed
    assert "['change:dealers:net:contract=13874A:W:2026-03-17']" in printed


def test_book_facts_and_the_note_section_carry_the_cot_facts(tff_store):
    import smartmoney as sm
    from smartmoney import narrative

    book = sm.open(tff_store)
    facts = book.facts(as_of="2022-01-10")
    assert {f.id for f in facts} == {f.id for f in cot_facts(connect(tff_store), as_of="2022-01-10")}
    section = narrative.futures_section(narrative.Facts(facts, dt.date(2022, 1, 10)))
    assert [s.text for s in section] == [text for text, _ in cot_highlights(facts)]
    # Leveraged funds, then asset managers, then dealers: position and week's change in the
    # E-mini S&P 500 each (the Nasdaq-100's sentences say nothing unusual that week).
    assert [s.text.split(" ")[0] + ":" + ("E-mini S&P" in s.text and "ES" or "NQ") for s in section] == [
        "Leveraged:ES", "Leveraged:ES", "Asset:ES", "Asset:ES", "Dealers:ES", "Dealers:ES"]
    assert all(s.facts for s in section)
    assert section[2].facts[0]["id"] == f"level:asset_managers:net:contract={ES}:W:2021-12-28"
    _, sections = narrative.write(facts, dt.date(2022, 1, 10))
    assert [s.key for s in sections] == ["futures"]
    table = book.cot(as_of="2022-01-10").to_pandas()
    assert table.report_date.max() == pd.Timestamp("2021-12-28") and "cot_index_52w" in table
