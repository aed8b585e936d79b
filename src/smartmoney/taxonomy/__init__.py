"""Reference data: the GICS 2023 hierarchy, the S&P 500 universe, baskets and the NYSE calendar.

Everything here is data shipped with the package plus tiny loaders; nothing is downloaded.
"""

from smartmoney.taxonomy.baskets import basket_members, baskets
from smartmoney.taxonomy.calendar import is_trading_day, trading_days
from smartmoney.taxonomy.gics import GICS_LEVELS, gics_hierarchy, sectors
from smartmoney.taxonomy.universe import sp500_universe

__all__ = [
    "GICS_LEVELS",
    "basket_members",
    "baskets",
    "gics_hierarchy",
    "is_trading_day",
    "sectors",
    "sp500_universe",
    "trading_days",
]
