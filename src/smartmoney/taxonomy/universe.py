"""The S&P 500 universe with its GICS classification, as a `securities` table."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import pandas as pd

from smartmoney.taxonomy.gics import gics_hierarchy


@cache
def _constituents() -> pd.DataFrame:
    path = files("smartmoney.taxonomy") / "data" / "sp500_constituents.csv"
    with path.open("rb") as handle:
        return pd.read_csv(handle, dtype=str)


def sp500_universe() -> pd.DataFrame:
    """The S&P 500 constituents as canonical `securities` rows (security_id = ticker).

    Sector, industry group and industry are taken from the GICS hierarchy through the
    sub-industry, so every row has one consistent parent chain.
    """
    hierarchy = gics_hierarchy()[["sector", "industry_group", "industry", "sub_industry"]]
    universe = _constituents().merge(hierarchy, on="sub_industry", how="left", validate="m:1")
    universe = universe.assign(
        security_id=universe["ticker"],
        cusip=pd.Series(pd.NA, index=universe.index, dtype="string"),
        asset_type="stock",
        country="US",
        region="North America",
    )
    columns = ["security_id", "ticker", "cusip", "name", "sector", "industry_group",
               "industry", "sub_industry", "asset_type", "country", "region"]
    return universe[columns].sort_values("security_id", ignore_index=True)
