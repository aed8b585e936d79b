"""The documentation says what the code does."""

from __future__ import annotations

from pathlib import Path

from docs_examples import python_blocks

from smartmoney.schema import markdown

ROOT = Path(__file__).parents[1]


def test_tables_page_is_generated_from_the_schema():
    assert (ROOT / "docs" / "tables.md").read_text() == markdown(), (
        "docs/tables.md is stale: run `python -m smartmoney.schema > docs/tables.md`")


def test_readme_starts_with_the_two_setup_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    commands = [line.split("#")[0].strip() for line in lines[:6] if line.startswith("    make")]
    assert commands == ["make demo", "make test"]


def test_python_api_examples_run_as_written(tmp_path, monkeypatch, capsys):
    """docs/python.md runs against a small simulated `demo-store` in a scratch directory."""
    from smartmoney import Store
    from smartmoney.simulate import parse_scenario
    from smartmoney.simulate.build import build

    scenario = parse_scenario(
        'name = "docs"\nseed = 1\nstart = "2024-01-02"\nend = "2024-06-28"\nfunds = 6\nretail = true\n'
        "[scale]\nnames_min = 50\nnames_max = 60\n")
    build(scenario, Store.open(tmp_path / "demo-store", create=True), progress=False)
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks((ROOT / "docs" / "python.md").read_text())
    assert len(blocks) == 5
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/python.md", "exec"), namespace)
    [retail_block] = python_blocks((ROOT / "docs" / "retail.md").read_text())
    exec(compile(retail_block, "docs/retail.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "retail_net" in printed and "swap_usd" in printed and "mean_return" in printed
    assert "gross_leverage" in printed and ":W:2024-06-28" in printed and "first_date" in printed
    assert "Hedge fund positioning: week ending June 28, 2024" in printed
    assert "sensitive  exposed" in printed   # the disclosure audit, per grouping
    assert (tmp_path / "note.html").read_text().startswith("<!DOCTYPE html>")
