"""The report as plain text, Markdown and JSON (assembly only)."""

from __future__ import annotations

import json
import textwrap

from smartmoney.report.model import Report

WIDTH = 96


def title(report: Report) -> str:
    return f"{report.subject}: {report.dating} {report.as_of:%B} {report.as_of.day}, {report.as_of.year}"


def render_text(report: Report) -> str:
    lines = [title(report), "=" * len(title(report)), ""]
    lines += [textwrap.fill(s.text, WIDTH) for s in report.headline]
    for section in report.sections:
        lines += ["", section.title, "-" * len(section.title)]
        lines += [textwrap.fill(s.text, WIDTH, initial_indent="- ", subsequent_indent="  ")
                  for s in section.sentences]
    return "\n".join(lines) + "\n"


def render_markdown(report: Report) -> str:
    lines = [f"# {title(report)}", ""]
    lines += [" ".join(f"**{s.text}**" if i == 0 else s.text for i, s in enumerate(report.headline)), ""]
    for section in report.sections:
        lines += [f"## {section.title}", ""]
        lines += [f"- {s.text}" for s in section.sentences]
        lines.append("")
    return "\n".join(lines)


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=1, allow_nan=False) + "\n"
