"""A simulated book goes into the store through the same validation as any input."""

from __future__ import annotations

from typer.testing import CliRunner

from smartmoney import Store
from smartmoney.cli import app

SCENARIO = """
name = "small"
seed = 7
start = "2024-03-01"
end = "2024-04-30"
funds = 8
retail = true
[scale]
names_min = 50
names_max = 80
[[plant]]
who = "hedge_funds"
sector = "Energy"
from = "2024-04-01"
to = "2024-04-30"
long_buy = 0.0
long_sell = 1.0
short_sale = 0.0
short_cover = 0.0
"""


def test_simulate_command_builds_a_valid_store_and_rebuilding_changes_nothing(tmp_path):
    scenario = tmp_path / "small.toml"
    scenario.write_text(SCENARIO)
    store_path = tmp_path / "store"
    result = CliRunner().invoke(app, ["simulate", "--scenario", str(scenario), "--store", str(store_path), "--quiet"])
    assert result.exit_code == 0, result.output
    info = Store.open(store_path).info()
    assert info["rejected_rows"] == 0 and info["accounts"] == 8 and info["securities"] == 503
    assert info["tables"]["positions"]["first_date"] == "2024-03-01"
    assert info["tables"]["positions"]["last_date"] == "2024-04-30"
    assert info["tables"]["prices"]["rows"] == 503 * 42
    version = info["version"]
    again = CliRunner().invoke(app, ["simulate", "--scenario", str(scenario), "--store", str(store_path), "--quiet"])
    assert again.exit_code == 0
    assert Store.open(store_path).info()["version"] == version


def test_bad_scenario_exits_2_naming_the_file(tmp_path):
    scenario = tmp_path / "bad.toml"
    scenario.write_text(SCENARIO.replace('sector = "Energy"', 'sector = "Tech"'))
    result = CliRunner().invoke(app, ["simulate", "--scenario", str(scenario), "--store", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "bad.toml" in result.output and "unknown sector 'Tech'" in result.output
