"""The GICS 2023 hierarchy: sector > industry group > industry > sub-industry."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import pandas as pd

GICS_LEVELS = ("sector", "industry_group", "industry", "sub_industry")


@cache
def _hierarchy() -> pd.DataFrame:
    path = files("smartmoney.taxonomy") / "data" / "gics_2023_hierarchy.csv"
    with path.open("rb") as handle:
        return pd.read_csv(handle, dtype=str)


def gics_hierarchy() -> pd.DataFrame:
    """One row per sub-industry (163), with the codes and names of all four levels.

    Examples
    --------
    >>> h = gics_hierarchy()
    >>> h.loc[h.sub_industry == "Semiconductors", "sector"].item()
    'Information Technology'
    """
    return _hierarchy().copy()


def sectors() -> list[str]:
    """The 11 GICS sector names, in GICS code order."""
    return _hierarchy().drop_duplicates("sector_code")["sector"].tolist()
