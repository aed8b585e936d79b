"""The documentation says what the code does."""

from __future__ import annotations

from pathlib import Path

from smartmoney.schema import markdown

ROOT = Path(__file__).parents[1]


def test_tables_page_is_generated_from_the_schema():
    assert (ROOT / "docs" / "tables.md").read_text() == markdown(), (
        "docs/tables.md is stale: run `python -m smartmoney.schema > docs/tables.md`")


def test_readme_starts_with_the_two_setup_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    commands = [line.split("#")[0].strip() for line in lines[:6] if line.startswith("    make")]
    assert commands == ["make demo", "make test"]
