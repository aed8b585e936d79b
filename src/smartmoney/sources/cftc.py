"""CFTC Commitments of Traders files: Traders in Financial Futures and legacy (to be written)."""

from __future__ import annotations

CFTC_SOURCES: dict = {}
