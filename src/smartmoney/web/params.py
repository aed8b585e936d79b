"""Every request parameter the dashboard accepts, typed so that the OpenAPI schema states it:
dates as YYYY-MM-DD, group names and families from fixed lists, bounded numbers and lengths."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from smartmoney.metrics import FREQS, GROUPS, holdings
from smartmoney.metrics.retail import RETAIL_GROUPS
from smartmoney.schema import TABLES
from smartmoney.web.views import INDUSTRIES, SECTORS, SUB_INDUSTRIES

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
ALL_GROUPS = tuple(dict.fromkeys([*GROUPS, *RETAIL_GROUPS, *holdings.GROUPS]))

Group = Literal[ALL_GROUPS]  # type: ignore[valid-type]
Freq = Literal[FREQS]  # type: ignore[valid-type]
Sector = Literal[SECTORS]  # type: ignore[valid-type]
Industry = Literal[INDUSTRIES]  # type: ignore[valid-type]
SubIndustry = Literal[SUB_INDUSTRIES]  # type: ignore[valid-type]
TableName = Literal[tuple(TABLES)]  # type: ignore[valid-type]
Family = Literal["exposure", "flows", "retail", "divergence", "swap_share", "watch_list", "event_study",
                 "cot", "short_volume", "short_interest", "most_shorted", "13f_flows", "13f_holders",
                 "13f_concentration", "13f_vip"]

AsOf = Annotated[str | None, Query(description="An NYSE trading day within the book (YYYY-MM-DD); "
                                   "default: the book's last day.", pattern=DATE_PATTERN,
                                   min_length=10, max_length=10, examples=["2024-06-28"])]
Week = Annotated[str | None, Query(description="The last trading day of a week (YYYY-MM-DD); default: "
                                   "the last week up to the as-of date.", pattern=DATE_PATTERN,
                                   min_length=10, max_length=10)]
Window = Annotated[Literal[1, 4, 13], Query(description="Weeks over which hedge funds and retail are compared.")]
