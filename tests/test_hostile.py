"""The hostile-input corpus (tests/data/hostile): every bad file gets a clear answer.

Each case of cases.toml is ingested through the CLI (or simulated, for scenario files) into a
fresh store holding the S&P 500 securities (with the CUSIPs of tests/data/sec13f) and accounts
F1-F3. A refused file exits 2 with one line naming the file (and the row, where the case names
one), no traceback, and leaves the store as it was; a partly bad file exits 0, and the store
keeps its good rows and its rejects with their reasons: read = accepted + rejected.
"""

from __future__ import annotations

import shutil
import tomllib
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from smartmoney import Store
from smartmoney.cli import app
from smartmoney.schema import DERIVED
from smartmoney.taxonomy import sp500_universe

HOSTILE = Path(__file__).parent / "data" / "hostile"
CASES = tomllib.loads((HOSTILE / "cases.toml").read_text(encoding="utf-8"))["case"]
FORMATS = ("tables", "sec13f", "cftc", "finra", "ticks", "scenario")
runner = CliRunner()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A small store, built once: securities (S&P 500, CUSIPs for the 13F fixtures), F1-F3."""
    folder = tmp_path_factory.mktemp("hostile")
    securities = folder / "securities.csv"
    sp500_universe().to_csv(securities, index=False)
    accounts = folder / "accounts.csv"
    pd.DataFrame({"account_id": ["F1", "F2", "F3"], "name": ["Fund One", "Fund Two", "Fund Three"],
                  "strategy": ["fundamental_ls", "systematic", "multi_strategy"]}).to_csv(accounts, index=False)
    store = Store.open(folder / "store", create=True)
    store.ingest("securities", [securities, Path(__file__).parent / "data" / "sec13f" / "securities_cusip.csv"])
    store.ingest("accounts", [accounts])
    return store.path


def run_case(entry: dict, store_path: Path):
    """Ingest (or simulate) the case's file into the store; the CLI's result."""
    path = HOSTILE / entry["format"] / entry["file"]
    if entry["kind"] == "scenario":
        args = ["simulate", "--scenario", str(path), "--store", str(store_path), "--quiet"]
    else:
        args = ["ingest", entry["kind"], str(path), "--store", str(store_path)]
    return runner.invoke(app, args)


def outcome(entry: dict, store_path: Path) -> tuple[object, dict]:
    """Run the case; what it did: exit code, output, and the store's ingests and rejects."""
    before = Store(store_path).manifest()
    result = run_case(entry, store_path)
    after = Store(store_path).manifest()
    added = after["ingests"][len(before["ingests"]):]
    rejects = Store(store_path).rejects()
    name = Path(entry["file"]).name
    mine = rejects[rejects["file"].str.contains(name, regex=False)]
    return result, {"before": before, "after": after, "added": added, "rejects": mine}


def check(entry: dict, result, seen: dict, info_before: dict, info_after: dict) -> None:
    output = result.output
    name = Path(entry["file"]).name
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if "error" in entry:
        assert result.exit_code == 2, output
        assert entry["error"] in output, output
        assert name in output, output
        assert output.strip().startswith("error:") and len(output.strip().splitlines()) == 1, output
        if "row" in entry:
            where = f"line {entry['row']}" if entry["kind"] == "scenario" else f", row {entry['row']}:"
            assert where in output, output
        assert seen["after"]["version"] == seen["before"]["version"]
        assert info_after == info_before
        return
    assert result.exit_code == 0, output
    read = sum(i["read"] for i in seen["added"])
    accepted = sum(i["accepted"] for i in seen["added"])
    rejected = sum(i["rejected"] for i in seen["added"])
    assert read == accepted + rejected
    assert (accepted, rejected) == (entry["accepted"], entry["rejected"]), (accepted, rejected, seen["rejects"])
    rejects = seen["rejects"]
    assert len(rejects) == entry["rejected"]
    if entry["rejected"]:
        assert rejects["reason"].str.len().gt(0).all()
        assert rejects["reason"].str.contains(entry.get("reason", ""), regex=False).any(), rejects["reason"].tolist()
        if "row" in entry:   # the reject of that row gives that reason
            named = rejects[rejects["row"] == entry["row"]]
            assert named["reason"].str.contains(entry.get("reason", ""), regex=False).any(), rejects[["row", "reason"]]
    if accepted == 0 and rejected == 0:
        assert seen["after"]["version"] == seen["before"]["version"]
    # The store holds what the accepted rows did, nothing more (the rows of the derived
    # tables aside).
    def rows(info: dict) -> int:
        return sum(entry["rows"] for name, entry in info["tables"].items() if name not in DERIVED)

    changed = sum(i["inserted"] - i["deleted"] for i in seen["added"])
    assert rows(info_after) - rows(info_before) == changed
    assert sum(i["inserted"] + i["updated"] + i["unchanged"] for i in seen["added"]) <= accepted


@pytest.mark.parametrize("entry", CASES, ids=[f"{c['format']}/{c['file']}" for c in CASES])
def test_hostile_case(entry, template, tmp_path):
    store_path = tmp_path / "store"
    shutil.copytree(template, store_path)
    info_before = Store(store_path).info()
    result, seen = outcome(entry, store_path)
    info_after = Store(store_path).info()
    if "xfail" not in entry:
        check(entry, result, seen, info_before, info_after)
        return
    try:
        check(entry, result, seen, info_before, info_after)
    except AssertionError:
        pytest.xfail(entry["xfail"])
    pytest.fail(f"XPASS(strict): {entry['xfail']}")


def test_every_format_has_30_cases():
    counts = Counter(entry["format"] for entry in CASES)
    assert set(counts) == set(FORMATS)
    assert all(counts[fmt] >= 30 for fmt in FORMATS), counts
    for entry in CASES:
        assert (HOSTILE / entry["format"] / entry["file"]).is_file(), entry["file"]
        assert ("error" in entry) != ("accepted" in entry), entry["file"]
    files = {(e["format"], e["file"]) for e in CASES}
    assert len(files) == len(CASES)
