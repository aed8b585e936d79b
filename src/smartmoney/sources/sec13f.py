"""SEC Form 13F filings (to be written)."""

from __future__ import annotations

SEC13F_SOURCES: dict = {}
