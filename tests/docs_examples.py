"""A docs page's examples, run as written: its `$ smartmoney ...` lines, then its Python blocks.

The page runs in a scratch folder that links `tests/`, so the paths it shows (tests/data/...)
resolve as they do in a clone. Each test keeps its own assertions on what the page printed.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from smartmoney.cli import app

ROOT = Path(__file__).parents[1]


@dataclass(frozen=True)
class PageRun:
    text: str               # the page
    commands: list[str]     # its shell commands, as shown
    blocks: list[str]       # its ```python blocks
    printed: str            # what the Python blocks printed


def python_blocks(text: str) -> list[str]:
    return [block.split("```", 1)[0] for block in text.split("```python\n")[1:]]


def shell_commands(text: str) -> list[str]:
    return [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("$ smartmoney ")]


def run_page(page: str, folder: Path, monkeypatch, capsys) -> PageRun:
    """Run docs/`page` in `folder`: every command must exit 0, every block must run."""
    text = (ROOT / "docs" / page).read_text()
    os.symlink(ROOT / "tests", folder / "tests")
    monkeypatch.chdir(folder)
    commands = shell_commands(text)
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(app, shlex.split(command)[1:])
        assert result.exit_code == 0, (command, result.output)
    blocks = python_blocks(text)
    namespace: dict = {}
    capsys.readouterr()
    for block in blocks:
        exec(compile(block, f"docs/{page}", "exec"), namespace)  # noqa: S102 - the docs' own examples
    return PageRun(text, commands, blocks, capsys.readouterr().out)
