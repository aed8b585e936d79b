"""FINRA short sale volume and short interest files (to be written)."""

from __future__ import annotations

FINRA_SOURCES: dict = {}
