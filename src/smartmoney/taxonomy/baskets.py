"""Baskets of securities, defined as data in `data/baskets.toml`."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files

import pandas as pd

from smartmoney.taxonomy.gics import GICS_LEVELS


@cache
def _baskets() -> dict[str, dict]:
    path = files("smartmoney.taxonomy") / "data" / "baskets.toml"
    with path.open("rb") as handle:
        return tomllib.load(handle)


def baskets() -> dict[str, dict]:
    """The basket definitions: name -> {description, tickers?, sector?, industry?, ...}."""
    return {name: dict(spec) for name, spec in _baskets().items()}


def basket_members(name: str, securities: pd.DataFrame) -> list[str]:
    """The security_ids of `securities` that belong to basket `name`.

    Raises
    ------
    KeyError
        If no basket has that name; the message lists the known ones.
    """
    definitions = _baskets()
    if name not in definitions:
        raise KeyError(f"unknown basket {name!r}; known baskets: {', '.join(sorted(definitions))}")
    spec = definitions[name]
    member = securities["ticker"].isin(spec.get("tickers", []))
    for level in GICS_LEVELS:
        member |= securities[level].isin(spec.get(level, []))
    return sorted(securities.loc[member, "security_id"])
