"""Scenario files: what the simulated book looks like and which episodes are planted in it.

A scenario is a TOML file (format in DESIGN.md, "Simulated book"). Every key is required unless
marked optional; unknown keys are errors, so a typo never silently plants nothing.

    name = "june-2024-rotation"
    seed = 20240628
    start = "2022-01-03"           # first trading day
    end = "2024-06-28"             # last trading day
    funds = 200
    retail = true                  # also simulate retail flows
    [scale]                        # optional: names per fund (defaults 50 and 500)
    names_min = 50
    names_max = 500
    [[plant]]                      # optional, repeatable: added on every trading day in [from, to]
    who = "hedge_funds"            # or "retail"
    sector = "Information Technology"  # optional selector: sector, industry_group, industry,
                                   #   sub_industry or ticker (at most one); none = all
    from = "2024-06-03"
    to = "2024-06-28"
    long_buy = 0.0                 # hedge funds: daily rates, % of the group's gross exposure
    long_sell = 1.2
    short_sale = 0.3
    short_cover = 0.0
    net_buy_usd = 3.0e8            # retail only (instead of the four rates): USD per day
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from smartmoney.taxonomy import gics_hierarchy, is_trading_day, sectors, sp500_universe

WHO = ("hedge_funds", "retail")
RATES = ("long_buy", "long_sell", "short_sale", "short_cover")
SELECTORS = ("sector", "industry_group", "industry", "sub_industry", "ticker")
MAX_FUNDS = 100_000                # a simulated book larger than this is a typo, not a test
TOP_KEYS = ("name", "seed", "start", "end", "funds", "retail")
OPTIONAL_TOP_KEYS = ("plant", "scale")
SCALE_KEYS = ("names_min", "names_max")
DEFAULT_NAMES_MIN = 50
DEFAULT_NAMES_MAX = 500


_PLURALS = {"sector": "sectors", "industry_group": "industry groups", "industry": "industries",
            "sub_industry": "sub-industries", "ticker": "tickers"}


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Plant:
    """One planted episode, added to the background on every trading day in [start, end].

    `level` is the GICS level or "ticker" that selects the group (None = every security) and
    `group` its value. Hedge-fund plants carry the four daily rates in percent of the group's
    gross exposure; retail plants carry `net_buy_usd` per day (the rates are then 0).
    """

    who: str
    level: str | None
    group: str | None
    start: dt.date
    end: dt.date
    long_buy: float = 0.0
    long_sell: float = 0.0
    short_sale: float = 0.0
    short_cover: float = 0.0
    net_buy_usd: float = 0.0

    def active(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Scenario:
    """A parsed, validated scenario."""

    name: str
    seed: int
    start: dt.date
    end: dt.date
    funds: int
    retail: bool
    plants: tuple[Plant, ...] = ()
    names_min: int = DEFAULT_NAMES_MIN
    names_max: int = DEFAULT_NAMES_MAX
    source: str = "<scenario>"


def scenario_path(name: str) -> Path:
    """The path of the packaged scenario `name` (e.g. "june-2024-rotation")."""
    path = Path(str(files("smartmoney.simulate") / "scenarios" / f"{name}.toml"))
    if not path.is_file():
        known = ", ".join(packaged_scenarios()) or "none"
        raise ScenarioError(f"unknown scenario {name!r}; packaged scenarios: {known}")
    return path


def packaged_scenarios() -> list[str]:
    """Names of the scenarios shipped with the package."""
    folder = Path(str(files("smartmoney.simulate") / "scenarios"))
    return sorted(path.stem for path in folder.glob("*.toml"))


def load_scenario(path_or_name: str | Path) -> Scenario:
    """Read a scenario from a .toml path, or by the name of a packaged scenario.

    Raises
    ------
    ScenarioError
        If the file is missing, is not valid TOML, or does not describe a valid scenario.
    """
    candidate = Path(path_or_name)
    if candidate.suffix != ".toml" and not candidate.is_file():
        candidate = scenario_path(str(path_or_name))
    if not candidate.is_file():
        raise ScenarioError(f"{candidate}: no such scenario file")
    data = candidate.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ScenarioError(f"{candidate.name}: not UTF-8 text (invalid byte 0x{data[error.start]:02x} "
                            f"at line {line})") from None
    return parse_scenario(text, source=candidate.name)


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Parse and validate scenario TOML text; `source` names it in error messages."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{source}: invalid TOML: {error}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: invalid TOML for a scenario: arrays or tables nested too deeply "
                            "to read") from None
    return _Parser(source).scenario(document)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> ScenarioError:
        return ScenarioError(f"{self.source}: {where}{problem}")

    def keys(self, table: dict, required: tuple, optional: tuple, where: str) -> None:
        unknown = [key for key in table if key not in required + optional]
        if unknown:
            allowed = ", ".join(required + optional)
            raise self.fail(where, f"unknown key {unknown[0]!r}; allowed keys: {allowed}")
        missing = [key for key in required if key not in table]
        if missing:
            raise self.fail(where, f"missing key {missing[0]!r}")

    def typed(self, table: dict, key: str, kind: type | tuple, where: str) -> Any:
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            ok = False
        else:
            ok = isinstance(value, kinds)
        if not ok:
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(where, f"{key!r} must be {names}, got {value!r}")
        return value

    def date(self, table: dict, key: str, where: str) -> dt.date:
        value = table[key]
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(where, f"{key!r} must be an ISO date like \"2024-06-28\", got {value!r}")

    def scenario(self, document: dict) -> Scenario:
        self.keys(document, TOP_KEYS, OPTIONAL_TOP_KEYS, "")
        name = self.typed(document, "name", str, "")
        seed = self.typed(document, "seed", int, "")
        funds = self.typed(document, "funds", int, "")
        retail = self.typed(document, "retail", bool, "")
        start = self.date(document, "start", "")
        end = self.date(document, "end", "")
        if seed < 0:
            raise self.fail("", f"'seed' must be >= 0, got {seed}")
        if not 1 <= funds <= MAX_FUNDS:
            raise self.fail("", f"'funds' must be between 1 and {MAX_FUNDS:,}, got {funds}")
        for key, day in (("start", start), ("end", end)):
            if not is_trading_day(day):
                raise self.fail("", f"{key!r} {day} is not an NYSE trading day")
        if start >= end:
            raise self.fail("", f"'start' ({start}) must be before 'end' ({end})")
        names_min, names_max = self.scale(document.get("scale", {}))
        plants = document.get("plant", [])
        if not isinstance(plants, list) or not all(isinstance(p, dict) for p in plants):
            raise self.fail("", "'plant' must be an array of tables ([[plant]])")
        parsed = tuple(self.plant(plant, number, start, end)
                       for number, plant in enumerate(plants, start=1))
        return Scenario(name=name, seed=seed, start=start, end=end, funds=funds, retail=retail,
                        plants=parsed, names_min=names_min, names_max=names_max,
                        source=self.source)

    def scale(self, table: Any) -> tuple[int, int]:
        if not isinstance(table, dict):
            raise self.fail("", "'scale' must be a table ([scale])")
        self.keys(table, (), SCALE_KEYS, "scale: ")
        names_min = DEFAULT_NAMES_MIN
        names_max = DEFAULT_NAMES_MAX
        if "names_min" in table:
            names_min = self.typed(table, "names_min", int, "scale: ")
        if "names_max" in table:
            names_max = self.typed(table, "names_max", int, "scale: ")
        if not 1 <= names_min <= names_max:
            raise self.fail("scale: ", f"need 1 <= names_min <= names_max, got "
                                       f"{names_min} and {names_max}")
        return names_min, names_max

    def plant(self, table: dict, number: int, start: dt.date, end: dt.date) -> Plant:
        where = f"plant {number}: "
        if "who" not in table:
            raise self.fail(where, "missing key 'who'")
        who = self.typed(table, "who", str, where)
        if who not in WHO:
            raise self.fail(where, f"unknown who {who!r}; known: {', '.join(WHO)}")
        amounts = RATES if who == "hedge_funds" else ("net_buy_usd",)
        self.keys(table, ("who", "from", "to") + amounts, SELECTORS, where)
        chosen = [key for key in SELECTORS if key in table]
        if len(chosen) > 1:
            raise self.fail(where, f"give at most one group selector, got {', '.join(chosen)}")
        level = chosen[0] if chosen else None
        group = self.typed(table, level, str, where) if level else None
        if level:
            self.check_group(level, group, where)
        first = self.date(table, "from", where)
        last = self.date(table, "to", where)
        if first > last:
            raise self.fail(where, f"'from' ({first}) is after 'to' ({last})")
        if first < start or last > end:
            raise self.fail(where, f"window {first}..{last} is outside the scenario's "
                                   f"{start}..{end}")
        values = {}
        for key in amounts:
            value = float(self.typed(table, key, (int, float), where))
            if not math.isfinite(value):
                raise self.fail(where, f"{key!r} must be a finite number, got {value}")
            if key in RATES and value < 0:
                raise self.fail(where, f"{key!r} must be >= 0, got {value}")
            values[key] = value
        return Plant(who=who, level=level, group=group, start=first, end=last, **values)

    def check_group(self, level: str, group: str, where: str) -> None:
        known = _known_groups(level)
        if group not in known:
            label = _PLURALS[level]
            shown = ", ".join(known[:60]) + (", ..." if len(known) > 60 else "")
            raise self.fail(where, f"unknown {level.replace('_', ' ')} {group!r}; "
                                   f"known {label}: {shown}")


@cache
def _known_groups(level: str) -> tuple[str, ...]:
    """The groups a plant may name at `level`, sorted (built once: a scenario names many)."""
    if level == "ticker":
        return tuple(sorted(sp500_universe()["ticker"]))
    if level == "sector":
        return tuple(sectors())
    return tuple(sorted(gics_hierarchy()[level].unique()))
