"""Metric families, each an Ibis expression over the canonical tables: exposure and flows.

Every function takes point-in-time `Inputs` and returns an Ibis table whose columns are named as
in DESIGN.md ("Output tables"); the same expressions run on DuckDB and Spark.
"""

from smartmoney.metrics.disclosure import Disclosure
from smartmoney.metrics.exposure import exposure
from smartmoney.metrics.flows import COMPONENTS, flows, position_flows, trade_flows, with_pct_gross
from smartmoney.metrics.groups import GROUPS
from smartmoney.metrics.inputs import FREQS, Inputs

__all__ = ["COMPONENTS", "FREQS", "GROUPS", "Disclosure", "Inputs", "exposure", "flows",
           "position_flows", "trade_flows", "with_pct_gross"]
