"""Ingest: validation with reasons, accounting, idempotency, incremental partitions, upserts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from books import june_days, positions_frame

from smartmoney import Store
from smartmoney.sources import FileError


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _tree_digest(root: Path) -> dict[str, str]:
    """Every file of a store with its content hash (the lock file aside)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "_lock"}


def _ingest_one(store: Store, kind: str, path: Path):
    [report] = store.ingest(kind, [path])
    assert report.read == report.accepted + report.rejected
    return report


def test_good_positions_are_stored_with_types(store, tmp_path):
    frame = positions_frame(june_days(2))
    path = tmp_path / "positions.csv"
    frame.to_csv(path, index=False)
    report = _ingest_one(store, "positions", path)
    assert (report.read, report.accepted, report.rejected) == (24, 24, 0)
    stored = store.read("positions")
    assert len(stored) == 24
    assert str(stored["date"].dtype) == "datetime64[ns]"
    assert (stored["available_from"] == stored["date"]).all()
    assert stored["quantity"].sum() == pytest.approx(frame["quantity"].sum())
    info = store.info()
    assert info["tables"]["positions"] == {"rows": 24, "files": 2, "first_date": "2024-06-03",
                                           "last_date": "2024-06-04"}


@pytest.mark.parametrize(("line", "reason"), [
    ("2024-06-28,F1,AAPL,abc", "quantity: 'abc' is not a finite number"),
    ("2024-06-28,F1,AAPL,inf", "quantity: 'inf' is not a finite number"),
    ("2024-06-28,F1,ZZZZ,10", "security_id: unknown 'ZZZZ' (not in the securities table)"),
    ("2024-06-28,F9,AAPL,10", "account_id: unknown 'F9' (not in the accounts table)"),
    ("2024-06-29,F1,AAPL,10", "date: 2024-06-29 (Saturday) is not an NYSE trading day"),
    ("2024-07-04,F1,AAPL,10", "date: 2024-07-04 (Thursday) is not an NYSE trading day"),
    ("06/28/2024,F1,AAPL,10", "date: '06/28/2024' is not a date (YYYY-MM-DD)"),
    ("2024-02-30,F1,AAPL,10", "date: '2024-02-30' is not a date (YYYY-MM-DD)"),
    ("2024-06-28,,AAPL,10", "account_id is empty"),
    ("2024-06-28,F1,AAPL,", "quantity is empty"),
    ("2024-06-28,F1,AAPL", "expected 4 fields, found 3"),
    ("2024-06-28,F1,AAPL,1,2", "expected 4 fields, found 5"),
])
def test_a_bad_row_is_rejected_with_its_reason(store, tmp_path, line, reason):
    path = _write(tmp_path / "bad.csv", "date,account_id,security_id,quantity\n"
                  f"2024-06-28,F1,MSFT,100\n{line}\n2024-06-28,F2,MSFT,-5\n")
    report = _ingest_one(store, "positions", path)
    assert (report.read, report.accepted, report.rejected) == (3, 2, 1)
    rejects = store.rejects()
    assert rejects[["file", "row", "table"]].iloc[0].tolist() == [str(path), 2, "positions"]
    assert reason in rejects["reason"].iloc[0]
    assert len(store.read("positions")) == 2


def test_every_reason_of_a_row_is_given(store, tmp_path):
    path = _write(tmp_path / "bad.csv", "date,account_id,security_id,quantity\n"
                  "2024-06-29,F9,ZZZZ,x\n")
    reason = _ingest_one(store, "positions", path).rejects["reason"].item()
    for part in ("not an NYSE trading day", "unknown 'F9'", "unknown 'ZZZZ'", "'x' is not a finite"):
        assert part in reason


def test_duplicated_key_rejects_every_copy(store, tmp_path):
    path = _write(tmp_path / "dup.csv", "date,account_id,security_id,quantity\n"
                  "2024-06-28,F1,AAPL,10\n2024-06-28,F1,MSFT,10\n2024-06-28,F1,AAPL,11\n")
    report = _ingest_one(store, "positions", path)
    assert (report.accepted, report.rejected) == (1, 2)
    reasons = dict(zip(report.rejects["row"], report.rejects["reason"]))
    assert reasons == {1: "duplicate key (date, account_id, security_id) also on row 3",
                       3: "duplicate key (date, account_id, security_id) also on row 1"}


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"   \n\n", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV text file"),
    (b"date,account_id,security_id\n2024-06-28,F1,AAPL\n", "row 1: missing required column quantity"),
    (b"<html><body>not a table</body></html>\n", "names none of its columns"),
    (b"date,account_id,security_id,quantity,quantity\n", "column quantity appears twice"),
    (b"date,account_id,security_id,quantity\n2024-06-28,F1,\xff\xfeAAPL,1\n", "not UTF-8"),
])
def test_an_unusable_file_changes_nothing(store, tmp_path, content, message):
    before = _tree_digest(store.path)
    path = tmp_path / "input.csv"
    path.write_bytes(content)
    with pytest.raises(FileError, match=message) as caught:
        store.ingest("positions", [path])
    assert str(path) in str(caught.value)
    assert _tree_digest(store.path) == before


def test_one_bad_file_in_a_batch_keeps_nothing(store, tmp_path):
    good = tmp_path / "good.csv"
    positions_frame(june_days(1)).to_csv(good, index=False)
    bad = _write(tmp_path / "bad.csv", "date,account_id\n")
    before = _tree_digest(store.path)
    with pytest.raises(FileError, match="bad.csv"):
        store.ingest("positions", [good, bad])
    assert _tree_digest(store.path) == before


def test_same_file_twice_changes_nothing(store, tmp_path):
    path = tmp_path / "positions.csv"
    frame = positions_frame(june_days(3))
    frame.loc[len(frame)] = ["2024-06-05", "F1", "NOPE", 1.0]      # one reject, kept once
    frame.to_csv(path, index=False)
    first = _ingest_one(store, "positions", path)
    assert (first.counts.inserted, first.rejected) == (36, 1)
    before = _tree_digest(store.path)
    again = _ingest_one(store, "positions", path)
    assert (again.counts.inserted, again.counts.updated, again.counts.unchanged) == (0, 0, 36)
    assert _tree_digest(store.path) == before
    assert len(store.rejects()) == 1


def test_a_new_day_adds_a_partition_and_rewrites_nothing(store, tmp_path):
    days = june_days(4)
    history = tmp_path / "history.csv"
    positions_frame(days[:3]).to_csv(history, index=False)
    _ingest_one(store, "positions", history)
    before = _tree_digest(store.path)
    new_day = tmp_path / "new_day.csv"
    positions_frame(days[3:]).to_csv(new_day, index=False)
    _ingest_one(store, "positions", new_day)
    after = _tree_digest(store.path)
    old_parts = {k: v for k, v in before.items() if k.startswith("positions/")}
    assert all(after.get(k) == v for k, v in old_parts.items())
    added = sorted(k for k in after if k not in before)
    assert len(added) == 1 and added[0].startswith("positions/date=2024-06-06/")


def test_restated_rows_replace_and_zero_closes(store, tmp_path):
    days = june_days(2)
    original = tmp_path / "v1.csv"
    positions_frame(days).to_csv(original, index=False)
    _ingest_one(store, "positions", original)
    restated = _write(tmp_path / "v2.csv", "date,account_id,security_id,quantity\n"
                      f"{days[1]},F1,AAPL,123\n{days[1]},F1,MSFT,0\n{days[1]},F1,TSLA,0\n"
                      f"{days[1]},F1,META,50\n")
    report = _ingest_one(store, "positions", restated)
    assert (report.counts.updated, report.counts.deleted, report.counts.inserted,
            report.counts.unchanged) == (1, 1, 1, 1)
    day = store.read("positions").query("date == @days[1] and account_id == 'F1'")
    assert dict(zip(day.security_id, day.quantity)) == {"AAPL": 123.0, "META": 50.0,
                                                        "NVDA": 7700.0, "XOM": -1100.0}


def test_parquet_input_is_validated_like_csv(store, tmp_path):
    frame = positions_frame(june_days(1))
    frame["date"] = pd.to_datetime(frame["date"])
    frame.loc[0, "security_id"] = "NOPE"
    path = tmp_path / "positions.parquet"
    frame.to_parquet(path, index=False)
    report = _ingest_one(store, "positions", path)
    assert (report.read, report.accepted, report.rejected) == (12, 11, 1)
    assert report.rejects["row"].item() == 1
    assert "unknown 'NOPE'" in report.rejects["reason"].item()


def test_available_from_before_date_is_rejected(store, tmp_path):
    path = _write(tmp_path / "p.csv", "date,account_id,security_id,quantity,available_from\n"
                  "2024-06-28,F1,AAPL,10,2024-06-27\n2024-06-28,F1,MSFT,10,2024-08-14\n")
    report = _ingest_one(store, "positions", path)
    assert report.rejected == 1 and "available_from is before date" in report.rejects["reason"].item()
    stored = store.read("positions")
    assert stored["available_from"].dt.strftime("%Y-%m-%d").tolist() == ["2024-08-14"]


def test_other_tables_check_their_own_rules(store, tmp_path):
    prices = _write(tmp_path / "prices.csv", "date,security_id,close\n"
                    "2024-06-28,AAPL,210.62\n2024-06-28,MSFT,-1\n2024-06-28,NVDA,0\n")
    assert _ingest_one(store, "prices", prices).rejected == 2
    equity = _write(tmp_path / "equity.csv", "date,account_id,equity\n2024-06-28,F1,1e9\n2024-06-28,F2,0\n")
    assert _ingest_one(store, "equity", equity).rejected == 1
    trades = _write(tmp_path / "trades.csv", "date,account_id,security_id,quantity,price,side\n"
                    "2024-06-28,F1,AAPL,100,210.5,long_buy\n2024-06-28,F1,AAPL,100,210.5,short_sale\n"
                    "2024-06-28,F1,AAPL,100,210.5,long_buy\n2024-06-28,F1,AAPL,-5,210.5,sell\n")
    report = _ingest_one(store, "trades", trades)
    assert report.accepted == 2                      # two identical fills are two trades
    assert sorted(report.rejects["reason"]) == [
        "quantity sign does not match side 'short_sale' (buys and covers are > 0, sells and short sales < 0)",
        "side: 'sell' is not one of long_buy, long_sell, short_sale, short_cover"]
    retail = _write(tmp_path / "retail.csv", "date,security_id,retail_buy_usd,retail_sell_usd\n"
                    "2024-06-28,NVDA,1.5e8,1.1e8\n2024-06-28,AAPL,-1,5\n")
    assert _ingest_one(store, "retail_flows", retail).rejected == 1


def test_securities_gics_names_are_checked_and_parents_filled(tmp_path):
    store = Store.open(tmp_path / "s", create=True)
    path = _write(tmp_path / "sec.csv", "security_id,ticker,name,sector,sub_industry,asset_type\n"
                  "X1,X1,One,,Semiconductors,stock\n"
                  "X2,X2,Two,Energy,Semiconductors,stock\n"
                  "X3,X3,Three,,Semis,stock\n"
                  "SPY,SPY,SPDR S&P 500,,,etf\n"
                  "X4,X4,Four,,,bond\n")
    report = _ingest_one(store, "securities", path)
    assert report.accepted == 2
    reasons = dict(zip(report.rejects["row"], report.rejects["reason"]))
    assert "sector: 'Energy' does not contain sub_industry 'Semiconductors'" in reasons[2]
    assert reasons[3] == "sub_industry: 'Semis' is not a GICS 2023 name"
    assert "asset_type: 'bond' is not one of" in reasons[5]
    x1 = store.read("securities").set_index("security_id").loc["X1"]
    assert (x1.sector, x1.industry_group, x1.industry) == (
        "Information Technology", "Semiconductors & Semiconductor Equipment",
        "Semiconductors & Semiconductor Equipment")


def test_export_round_trips(store, tmp_path):
    path = tmp_path / "p.csv"
    positions_frame(june_days(2)).to_csv(path, index=False)
    _ingest_one(store, "positions", path)
    assert store.export("positions", tmp_path / "out.csv") == 24
    assert store.export("positions", tmp_path / "out.parquet") == 24
    again = pd.read_csv(tmp_path / "out.csv")
    assert again.columns.tolist() == ["date", "account_id", "security_id", "quantity", "available_from",
                                     "reported_value"]
    assert again["date"].iloc[0] == "2024-06-03"
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out.parquet"), store.read("positions"))


def test_columns_outside_the_table_are_ignored_and_reported(store, tmp_path):
    path = _write(tmp_path / "p.csv", "date,account_id,security_id,quantity,desk_note\n"
                  "2024-06-28,F1,AAPL,10,hello\n")
    report = _ingest_one(store, "positions", path)
    assert (report.accepted, report.ignored_columns) == (1, ["desk_note"])
    assert store.read("positions").columns.tolist() == ["date", "account_id", "security_id", "quantity",
                                                        "available_from", "reported_value"]


def test_kept_rejects_follow_the_latest_ingest_of_a_file(store, tmp_path):
    """A row rejected for an unknown account is accepted once the account exists; the kept
    rejects of that file then go, and the same input again keeps them as they are."""
    path = _write(tmp_path / "positions.csv", "date,account_id,security_id,quantity\n"
                  "2024-06-03,F1,AAPL,100\n2024-06-03,F9,AAPL,200\n2024-06-03,F9,MSFT,-5\n")
    first = _ingest_one(store, "positions", path)
    assert (first.accepted, first.rejected) == (1, 2) and len(store.rejects()) == 2
    before = _tree_digest(store.path)
    _ingest_one(store, "positions", path)
    assert _tree_digest(store.path) == before
    accounts = _write(tmp_path / "accounts.csv", "account_id,name,strategy\nF9,Fund Nine,other\n")
    _ingest_one(store, "accounts", accounts)
    again = _ingest_one(store, "positions", path)
    assert (again.accepted, again.rejected) == (3, 0)
    assert store.rejects().empty and store.info()["rejected_rows"] == 0


def test_every_member_of_a_zip_keeps_its_rejects(tmp_path):
    import zipfile

    rows = "34200000,1000000,100,D,0,0\n34200001,1000100,100,D,0,1\n"
    archive = tmp_path / "20240603_trade.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("20240603_aaa_Trade_Tick.csv", rows)
        bundle.writestr("20240603_bbb_Trade_Tick.csv", rows)
    store = Store.open(tmp_path / "store", create=True)
    reports = store.ingest("lean_trades", [archive])
    assert [(r.accepted, r.rejected) for r in reports] == [(1, 1), (1, 1)]
    kept = store.rejects()
    assert sorted(kept["file"]) == [f"{archive}:20240603_aaa_Trade_Tick.csv", f"{archive}:20240603_bbb_Trade_Tick.csv"]
