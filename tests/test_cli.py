"""The command line: thin, clear errors with exit code 2 and no traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from books import june_days, positions_frame
from typer.testing import CliRunner

from smartmoney.cli import app

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_ingest_prints_the_account_of_every_row(store, tmp_path):
    path = tmp_path / "positions.csv"
    frame = positions_frame(june_days(2))
    frame.loc[len(frame)] = ["2024-06-29", "F1", "AAPL", 1.0]
    frame.to_csv(path, index=False)
    result = _run("ingest", "positions", path, "--store", store.path)
    assert result.exit_code == 0, result.output
    assert "positions" in result.output and "25" in result.output and "24" in result.output
    assert "row 25: date: 2024-06-29 (Saturday) is not an NYSE trading day" in result.output
    listing = _run("rejects", "--store", store.path, "--format", "json")
    [reject] = json.loads(listing.output)
    assert reject["row"] == 25 and reject["table"] == "positions"
    assert reject["record"] == "date=2024-06-29|account_id=F1|security_id=AAPL|quantity=1.0"


def test_files_of_several_kinds_go_in_one_write(store, tmp_path):
    days = june_days(2)
    positions = positions_frame(days)
    equity = positions[["date", "account_id"]].drop_duplicates().assign(equity=1e6)
    prices = positions[["date", "security_id"]].drop_duplicates().assign(close=100.0)
    for name, frame in (("equity", equity), ("prices", prices), ("positions", positions)):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    versions = store.manifest()["version"]
    result = _run("ingest", f"equity={tmp_path / 'equity.csv'}", f"prices={tmp_path / 'prices.csv'}",
                  f"positions={tmp_path / 'positions.csv'}", "--store", store.path)
    assert result.exit_code == 0, result.output
    info = store.info()["tables"]
    assert [info[name]["rows"] for name in ("equity", "prices", "positions")] == [6, 8, 24]   # 3 funds x 4 names x 2 days
    assert store.manifest()["version"] == versions + 1          # one commit for the three files
    # All or nothing: a missing file in the list keeps nothing of the others.
    positions.assign(date="2024-06-05").to_csv(tmp_path / "later.csv", index=False)
    result = _run("ingest", f"positions={tmp_path / 'later.csv'}", f"equity={tmp_path / 'missing.csv'}",
                  "--store", store.path)
    assert result.exit_code == 2 and "missing.csv: no such file" in result.output
    assert store.info()["tables"]["positions"]["rows"] == 24 and store.manifest()["version"] == versions + 1


def test_info_and_export(store, tmp_path):
    path = tmp_path / "positions.csv"
    positions_frame(june_days(3)).to_csv(path, index=False)
    _run("ingest", "positions", path, "--store", store.path)
    facts = json.loads(_run("info", "--store", store.path, "--format", "json").output)
    assert facts["tables"]["positions"]["rows"] == 36 and facts["securities"] == 503 and facts["accounts"] == 3
    table = _run("info", "--store", store.path).output
    assert "2024-06-05" in table and "503 securities" in table
    result = _run("export", "positions", "--store", store.path, "--out", tmp_path / "out.csv")
    assert result.exit_code == 0 and "wrote 36 rows" in result.output
    assert (tmp_path / "out.csv").read_text().count("\n") == 37


@pytest.mark.parametrize(("args", "message"), [
    (("info", "--store", "{tmp}/missing"), "no such store"),
    (("ingest", "holdings", "{tmp}/x.csv", "--store", "{tmp}/s"), "unknown ingest kind 'holdings'"),
    (("ingest", "positions", "{tmp}/missing.csv", "--store", "{tmp}/s"), "missing.csv: no such file"),
    (("export", "nope", "--store", "{store}", "--out", "{tmp}/o.csv"), "unknown table 'nope'"),
    (("export", "positions", "--store", "{store}", "--out", "{tmp}/o.xlsx"), "must end in .parquet or .csv"),
    (("rejects", "--store", "{store}", "--format", "xml"), "unknown format 'xml'"),
    (("ingest", "positions", "--store", "{tmp}/s"), "no input files given for positions"),
    (("ingest", "equity={tmp}/e.csv", "{tmp}/p.csv", "--store", "{tmp}/s"), "expected KIND=FILE"),
    (("ingest", "equity={tmp}/e.csv", "holdings={tmp}/h.csv", "--store", "{tmp}/s"),
     "unknown ingest kind 'holdings'"),
])
def test_user_errors_exit_2_without_traceback(store, tmp_path, args, message):
    args = [a.format(tmp=tmp_path, store=store.path) for a in args]
    result = _run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_the_installed_command_fails_cleanly(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01garbage")
    result = subprocess.run([sys.executable, "-m", "smartmoney.cli", "ingest", "positions", str(bad),
                             "--store", str(tmp_path / "s")], capture_output=True, text=True)
    assert result.returncode == 2
    assert "bad.csv: not a CSV text file" in result.stderr and "Traceback" not in result.stderr


def test_ingest_kinds_read_hyphens_as_underscores():
    from smartmoney.sources import SOURCES, source

    for kind in ("cftc-tff", "cftc-legacy", "finra-short-volume", "finra-short-interest", "sec13f"):
        assert source(kind) is SOURCES[kind.replace("-", "_")]
