"""The weekly report: assembled from facts and metric tables, rendered as text, Markdown, JSON and
HTML (`smartmoney.report.html.render_html`, kept apart because it loads plotly)."""

from smartmoney.report.build import build
from smartmoney.report.model import Chart, Report, Section, Sentence
from smartmoney.report.text import render_json, render_markdown, render_text

__all__ = ["Chart", "Report", "Section", "Sentence", "build", "render_json", "render_markdown", "render_text"]
