"""The simulated book and its scenarios: realistic funds, prices, retail flows, planted episodes.

    from smartmoney.simulate import load_scenario, simulate
    for table, frame in simulate(load_scenario("june-2024-rotation")):
        ...  # ("securities", ...), ("accounts", ...), then monthly prices/equity/positions/...
"""

from smartmoney.simulate.book import simulate
from smartmoney.simulate.scenario import (
    Plant,
    Scenario,
    ScenarioError,
    load_scenario,
    packaged_scenarios,
    parse_scenario,
    scenario_path,
)

DEFAULT_SCENARIO = "june-2024-rotation"

__all__ = [
    "DEFAULT_SCENARIO",
    "Plant",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "packaged_scenarios",
    "parse_scenario",
    "scenario_path",
    "simulate",
]
