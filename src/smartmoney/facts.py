"""Facts: streaks, "k of n", "since", records, year-to-date extremes, ranks, breadth.

A fact is one checkable statement about a metric table ("hedge funds net sold Materials for the
3rd week in a row"), as a typed record with a stable id the narrative cites. Every function here
is pure and generic over any period series; none knows where the numbers came from.

Three input shapes:

- a series: a pandas Series indexed by period_end (ascending, one entry per period), NaN where
  the value is unknown or suppressed. `streak`, `k_of_n`, `since`, `ytd_extreme`, `pct_rank`,
  `level`, `change`. With ``change=False`` the series is read as a signed flow (its sign says
  bought or sold); with ``change=True`` the functions look at period-over-period changes of a
  level (leverage in percent, so changes are in percentage points).
- a row: one period and group of a flow table. `driven_by`, `outpaced`.
- a cross-section: one period, many groups. `breadth`, `leaders`.

`series_facts` runs the applicable ones over every group of a metric table. No fact is ever
made from a NaN (suppressed) value: a NaN breaks streaks, is never a comparison point for
"since", and a suppressed group is left out of breadth counts (and the count says so).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

WHO = ("hedge_funds", "retail", "leveraged_funds", "asset_managers", "dealers", "13f_filers",
       "short_sellers")
PERIODS = ("D", "W", "M", "Q", "SM")  # SM: FINRA's semi-monthly settlement dates
KINDS = ("level", "change", "flow", "streak", "k_of_n", "since", "record", "ytd_extreme",
         "breadth", "ratio", "driven_by", "divergence")

#: Metrics that are levels (exposure); every other metric is read as a signed flow.
LEVEL_METRICS = frozenset({"lmv", "smv", "gross", "net", "equity", "gross_leverage",
                           "net_leverage", "long_short_ratio", "net_to_gross"})
#: "Largest since" is news only when the earlier value is at least this many periods back.
MIN_GAP = {"W": 4}
#: Trailing windows for "k of the last n" in `series_facts`.
K_OF_N_WINDOWS = {"D": (5, 20), "W": (7, 13), "M": (6, 12), "Q": (4, 8)}
#: Percentile-rank windows (1 year, 5 years) in periods.
RANK_WINDOWS = {"D": (252, 1260), "W": (52, 260), "M": (12, 60), "Q": (4, 20)}

_BUYING_SIDE = ("long_buy", "short_cover")
_SELLING_SIDE = ("long_sell", "short_sale")


@dataclass(frozen=True)
class Context:
    """Who and what a series is about: the part of a fact's identity the numbers do not carry.

    For cross-section facts (`breadth`), `group` names the set the groups belong to: "all" for
    the whole book, or a sector's name when counting its industries.
    """

    who: str
    metric: str
    group_by: str
    group: str
    period: str

    def __post_init__(self):
        if self.who not in WHO:
            raise ValueError(f"who must be one of {WHO}, not {self.who!r}")
        if self.period not in PERIODS:
            raise ValueError(f"period must be one of {PERIODS}, not {self.period!r}")


@dataclass(frozen=True)
class Fact:
    """One checkable statement. `value` is the number the fact states (USD for flows, percent
    for leverage, percentage points for leverage changes, a count for breadth, n for ratios).

    Kind-specific fields are None (or empty) when they do not apply:
    `n` streak length, same-sign count of k_of_n, breadth count, leader rank, periods known
    (record, ytd_extreme, pct_rank); `of` the k_of_n window, groups counted in breadth, rank
    window; `direction` "bought"/"sold" (flows), "up"/"down" (changes of a level),
    "risk_on"/"risk_off" (ratio); `since_date`, `periods_since`, `months` where the comparison
    value is; `rank` percentile 0-100; `sd` the value in sd units; `components` the numbers
    behind the fact; `label` the component named ("long_sell", "long_buy/short_sale").
    """

    id: str
    kind: str
    who: str
    metric: str
    group_by: str
    group: str
    period: str
    period_end: dt.date
    value: float
    n: int | None = None
    of: int | None = None
    direction: str = ""
    since_date: dt.date | None = None
    periods_since: int | None = None
    months: int | None = None
    rank: float | None = None
    sd: float | None = None
    components: dict[str, float] = field(default_factory=dict, hash=False)
    label: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")

    def to_dict(self) -> dict:
        """The fact as plain JSON types: dates as ISO strings, numbers as float/int, each
        float as `stated` (to the cent, or 12 significant digits where that is finer)."""
        record = asdict(self)
        record["period_end"] = self.period_end.isoformat()
        record["since_date"] = self.since_date.isoformat() if self.since_date else None
        for name in ("value", "rank", "sd"):
            record[name] = stated(record[name])
        record["components"] = {key: stated(value) for key, value in self.components.items()}
        return record


SIGNIFICANT = 12


def stated(value: float | None) -> float | None:
    """`value` rounded to the cent, or to 12 significant digits where that is finer.

    Sums of floats carry noise in their last bits that depends on the order they were added in
    (threads, a kept table or one derived now), e.g. 78232668.79999995 or 78232668.80000007.
    Stated this way, the same data gives the same numbers (78232668.8): dollar amounts are
    exact to the cent up to ~$1e13, and ratios keep 12 digits.
    """
    if value is None or not math.isfinite(value):
        return value
    if value == 0:
        return 0.0
    decimals = max(2, SIGNIFICANT - math.ceil(math.log10(abs(value))))
    return round(value, decimals) + 0.0       # + 0.0: no negative zero


def fact_id(kind: str, ctx: Context, period_end: dt.date, *params: object) -> str:
    """The stable id: kind:who:metric:group_by=group:period:period_end[:param...]."""
    parts = [kind, ctx.who, ctx.metric, f"{ctx.group_by}={ctx.group}", ctx.period,
             period_end.isoformat(), *(str(p) for p in params)]
    return ":".join(parts)


def _fact(kind: str, ctx: Context, period_end: dt.date, value: float, params=(),
          **fields) -> Fact:
    return Fact(fact_id(kind, ctx, period_end, *params), kind, ctx.who, ctx.metric,
                ctx.group_by, ctx.group, ctx.period, period_end, float(value), **fields)


# ----------------------------------------------------------------------------------- series


def _prepare(series: pd.Series, change: bool = False) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Values (or their changes) as floats and the index as timestamps, checked for order."""
    index = pd.DatetimeIndex(series.index)
    if not index.is_monotonic_increasing or not index.is_unique:
        raise ValueError("the series must be indexed by unique period_end values, ascending")
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if change:
        values = np.concatenate([[np.nan], np.diff(values)]) if values.size else values
    return values, index


def _last(values: np.ndarray, *, nonzero: bool = True) -> float | None:
    """The last value when it can make a fact: known (and, for signed facts, not zero)."""
    if values.size == 0 or not np.isfinite(values[-1]) or (nonzero and values[-1] == 0):
        return None
    return float(values[-1])


def _flow_direction(value: float, change: bool) -> str:
    if value == 0:
        return ""
    if change:
        return "up" if value > 0 else "down"
    return "bought" if value > 0 else "sold"


def _sd_at(sd: pd.Series | None, when: pd.Timestamp) -> float | None:
    if sd is None:
        return None
    value = sd.get(when, np.nan)
    return float(value) if value is not None and np.isfinite(value) else None


def _day(when) -> dt.date:
    return pd.Timestamp(when).date()


def _change_param(change: bool) -> tuple[str, ...]:
    return ("change",) if change else ()


def run_length(values: np.ndarray) -> int:
    """Periods up to the last one with the same sign as the last; 0 if it is zero or NaN."""
    last = _last(values)
    if last is None:
        return 0
    breaks = np.flatnonzero(np.sign(values) != np.sign(last))
    return int(values.size - 1 - breaks[-1]) if breaks.size else int(values.size)


def streak(series: pd.Series, ctx: Context, *, change: bool = False, min_length: int = 2,
           sd: pd.Series | None = None) -> Fact | None:
    """Consecutive periods, up to the last, with the same sign ("net sold for the 3rd week").

    With ``change=True``, the same direction of change of a level ("gross leverage fell for
    the 6th straight week"). A zero or NaN value (or change) breaks a streak. Value is the last
    value (or change), n the length; None when the length is below `min_length`.
    """
    values, index = _prepare(series, change)
    length = run_length(values)
    if length == 0 or length < min_length:
        return None
    last = float(values[-1])
    return _fact("streak", ctx, _day(index[-1]), last, _change_param(change), n=length,
                 direction=_flow_direction(last, change),
                 sd=None if change else _sd_at(sd, index[-1]))


def k_of_n(series: pd.Series, ctx: Context, n: int, *, change: bool = False) -> Fact | None:
    """How many of the last `n` periods (the current one included) share the last one's sign.

    "Net sold in 6 of the last 7 weeks": n=6, of=7. None when fewer than `n` periods exist or
    any of them is unknown (the count would only be a lower bound), or the last is zero.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    values, index = _prepare(series, change)
    window = values[-n:]
    last = _last(values)
    if last is None or window.size < n or not np.isfinite(window).all():
        return None
    count = int((np.sign(window) == np.sign(last)).sum())
    return _fact("k_of_n", ctx, _day(index[-1]), last, (*_change_param(change), f"of={n}"),
                 n=count, of=n, direction=_flow_direction(last, change))


def months_between(start: dt.date, end: dt.date) -> int:
    """Calendar months from start to end, rounded half up the way a person says it.

    Whole months are counted by calendar (Jan 26 -> Jun 26 is 5, Jan 31 -> Apr 30 is 3, the day
    clipped to the month's end); the days left over round up from 15.
    """
    months = (end.year - start.year) * 12 + end.month - start.month
    anchor = _add_months(start, months)
    if anchor > end:
        months -= 1
        anchor = _add_months(start, months)
    return months + (1 if (end - anchor).days >= 15 else 0)


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def since(series: pd.Series, ctx: Context, *, change: bool = False, min_periods: int = 2,
          min_gap: int | None = None, sd: pd.Series | None = None) -> Fact | None:
    """The most recent earlier period at least as extreme, with the same sign ("since").

    Flows compare the values themselves (USD); with ``change=True`` the period-over-period
    changes (leverage: percentage points). When no earlier period is as extreme, the fact is a
    "record" (since_date None, n = periods known).

    Parameters
    ----------
    min_periods
        None when fewer earlier periods than this are known.
    min_gap
        "Since" is stated only when the earlier value is at least this many periods back, and a
        record only when the series has at least this many earlier periods ("the largest in 2
        weeks" is not news). None takes `MIN_GAP` for the period (4 for W; otherwise 1).

    The comparison value is in ``components["previous"]``.
    """
    values, index = _prepare(series, change)
    last = _last(values)
    earlier = values[:-1]
    if last is None or np.isfinite(earlier).sum() < min_periods:
        return None
    gap = MIN_GAP.get(ctx.period, 1) if min_gap is None else min_gap
    as_extreme = (np.sign(earlier) == np.sign(last)) & (np.abs(earlier) >= abs(last))
    hits = np.flatnonzero(as_extreme)
    period_end = _day(index[-1])
    common = dict(direction=_flow_direction(last, change),
                  sd=None if change else _sd_at(sd, index[-1]))
    if hits.size == 0:
        if earlier.size < gap:
            return None
        known = int(np.isfinite(values).sum())
        return _fact("record", ctx, period_end, last, _change_param(change), n=known, **common)
    position = int(hits[-1])
    periods_since = values.size - 1 - position
    if periods_since < gap:
        return None
    since_date = _day(index[position])
    return _fact("since", ctx, period_end, last, _change_param(change), since_date=since_date,
                 periods_since=periods_since, months=months_between(since_date, period_end),
                 components={"previous": float(earlier[position])}, **common)


def ytd_extreme(series: pd.Series, ctx: Context, *, change: bool = False,
                largest: str = "max", min_periods: int = 2,
                sd: pd.Series | None = None) -> Fact | None:
    """The largest value (``largest="max"``) or the largest negative one (``"min"``: the
    largest net selling, or with ``change=True`` the largest drop) of the last period's
    calendar year, stated only when the last period is it.

    The last value must be strictly beyond every earlier value this year (a tie is a "since"),
    and on the named side of zero (max > 0, min < 0). None when fewer than `min_periods`
    earlier periods of the year are known. n = periods known this year, the current included.
    """
    if largest not in ("max", "min"):
        raise ValueError(f"largest must be 'max' or 'min', not {largest!r}")
    values, index = _prepare(series, change)
    last = _last(values)
    if last is None or (last < 0 if largest == "max" else last > 0):
        return None
    this_year = values[index.year == index[-1].year][:-1]
    known = this_year[np.isfinite(this_year)]
    if known.size < min_periods:
        return None
    if not (last > known.max() if largest == "max" else last < known.min()):
        return None
    return _fact("ytd_extreme", ctx, _day(index[-1]), last,
                 (*_change_param(change), largest), n=int(known.size) + 1,
                 direction=_flow_direction(last, change),
                 sd=None if change else _sd_at(sd, index[-1]))


def percentile_rank(values: np.ndarray) -> float:
    """Percent of the other values below the last one (ties count half): 0 lowest, 100 highest."""
    others, last = values[:-1], values[-1]
    below = (others < last).sum() + 0.5 * (others == last).sum()
    return float(100.0 * below / others.size)


def pct_rank(series: pd.Series, ctx: Context, window: int, *, min_periods: int | None = None,
             sd: pd.Series | None = None) -> Fact | None:
    """Percentile rank (0-100) of the last value among the trailing `window` periods, itself
    included (1y = 52 W / 12 M, 5y = 260 W / 60 M; see `RANK_WINDOWS`).

    Unknown periods in the window are skipped; None when fewer than `min_periods` (default: the
    whole window) are known. Kind "level"; n = values ranked, of = window.
    """
    values, index = _prepare(series)
    last = _last(values, nonzero=False)
    trailing = values[-window:]
    known = trailing[np.isfinite(trailing)]
    needed = window if min_periods is None else min_periods
    if last is None or known.size < max(needed, 2):
        return None
    return _fact("level", ctx, _day(index[-1]), last, (f"window={window}",),
                 rank=percentile_rank(known), n=int(known.size), of=window,
                 sd=_sd_at(sd, index[-1]))


def level(series: pd.Series, ctx: Context, *, sd: pd.Series | None = None) -> Fact | None:
    """The last value (components: previous value and change, when the previous is known)."""
    values, index = _prepare(series)
    last = _last(values, nonzero=False)
    if last is None:
        return None
    components = {}
    if values.size > 1 and np.isfinite(values[-2]):
        components = {"previous": float(values[-2]), "change": last - float(values[-2])}
    return _fact("level", ctx, _day(index[-1]), last, components=components,
                 sd=_sd_at(sd, index[-1]))


def change(series: pd.Series, ctx: Context) -> Fact | None:
    """The last period-over-period change of a level ("net leverage fell 2.1 points")."""
    values, index = _prepare(series)
    if values.size < 2 or not np.isfinite(values[-2:]).all():
        return None
    current, previous = float(values[-1]), float(values[-2])
    return _fact("change", ctx, _day(index[-1]), current - previous, periods_since=1,
                 direction=_flow_direction(current - previous, change=True),
                 components={"previous": previous, "current": current})


# -------------------------------------------------------------------------------------- rows


def _number(row: Mapping, name: str) -> float:
    value = row.get(name, np.nan)
    return float(value) if value is not None and not pd.isna(value) else math.nan


def _suppressed(row: Mapping) -> bool:
    value = row.get("suppressed", False)
    return bool(value) if value is not None and not pd.isna(value) else False


def driven_by(row: Mapping, ctx: Context) -> Fact | None:
    """The largest single component on the side of the net move: net buying -> long_buy or
    short_cover, net selling -> long_sell or short_sale ("net selling driven by long sales").

    Value is that component (USD), label its name, components both candidates. A tie goes to
    the long side (long_buy, long_sell). None when suppressed or net_flow is zero or unknown.
    """
    net = _number(row, "net_flow")
    if _suppressed(row) or not np.isfinite(net) or net == 0:
        return None
    side = _BUYING_SIDE if net > 0 else _SELLING_SIDE
    candidates = {name: _number(row, name) for name in side}
    if not all(np.isfinite(v) for v in candidates.values()):
        return None
    name = max(side, key=lambda n: (candidates[n], n == side[0]))
    return _fact("driven_by", ctx, _day(row["period_end"]), candidates[name], label=name,
                 components=candidates, direction="bought" if net > 0 else "sold")


def outpaced(row: Mapping, ctx: Context) -> Fact | None:
    """The dominant pair's ratio, "A outpaced B n to 1": risk-on (risk_on > risk_off) compares
    long_buy with short_sale, risk-off long_sell with short_cover; n = larger / smaller.

    Kind "ratio": value n, label "larger/smaller" by name, direction "risk_on"/"risk_off".
    A tie inside the pair puts the long side first. None when suppressed or the smaller is 0.
    """
    if _suppressed(row):
        return None
    sides = {name: _number(row, name) for name in (*_BUYING_SIDE, *_SELLING_SIDE)}
    risk_on = _number(row, "risk_on")
    risk_off = _number(row, "risk_off")
    risk_on = sides["long_buy"] + sides["short_sale"] if math.isnan(risk_on) else risk_on
    risk_off = sides["long_sell"] + sides["short_cover"] if math.isnan(risk_off) else risk_off
    if not (np.isfinite(risk_on) and np.isfinite(risk_off)):
        return None
    character = "risk_on" if risk_on > risk_off else "risk_off"
    pair = ("long_buy", "short_sale") if character == "risk_on" else ("long_sell", "short_cover")
    larger, smaller = sorted(pair, key=lambda n: (sides[n], n == pair[0]), reverse=True)
    if not (np.isfinite(sides[larger]) and np.isfinite(sides[smaller])) or sides[smaller] <= 0:
        return None
    return _fact("ratio", ctx, _day(row["period_end"]), sides[larger] / sides[smaller],
                 label=f"{larger}/{smaller}", direction=character,
                 components={name: sides[name] for name in pair})


# ----------------------------------------------------------------------------- cross-section


def _suppressed_mask(frame: pd.DataFrame) -> np.ndarray:
    """True where a row is suppressed; a missing column or value means not suppressed."""
    if "suppressed" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)


def _cross_section(frame: pd.DataFrame, column: str) -> tuple[pd.DataFrame, int]:
    """The last period's rows with a known value, and how many groups were suppressed."""
    period_ends = pd.to_datetime(frame["period_end"])
    last = frame[period_ends == period_ends.max()]
    known = last[~_suppressed_mask(last) & last[column].notna()]
    return known, int(len(last) - len(known))


def breadth(frame: pd.DataFrame, ctx: Context, column: str = "net_flow") -> list[Fact]:
    """How many groups were net bought and how many net sold in the frame's last period.

    Returns two facts (direction "bought", then "sold") with n the count and of the number of
    groups with a known value; suppressed groups are not counted, and
    ``components["suppressed"]`` says how many there were ("8 of the 10 sectors reported were
    net sold; 1 suppressed"). components also holds bought, sold, flat and groups (all rows).
    Empty when no group is known. `ctx.group` names the parent set ("all", or a sector).
    """
    if frame.empty:
        return []
    known, suppressed = _cross_section(frame, column)
    if known.empty:
        return []
    period_end = _day(known["period_end"].iloc[0])
    counts = {"bought": int((known[column] > 0).sum()), "sold": int((known[column] < 0).sum())}
    components = {**{k: float(v) for k, v in counts.items()},
                  "flat": float(len(known) - sum(counts.values())),
                  "suppressed": float(suppressed), "groups": float(len(known) + suppressed)}
    return [_fact("breadth", ctx, period_end, count, (side,), n=count, of=len(known),
                  direction=side, components=components)
            for side, count in counts.items()]


def leaders(frame: pd.DataFrame, ctx: Context, column: str = "net_flow", k: int = 3) -> list[Fact]:
    """The k most bought (largest positive) and k most sold (most negative) groups in the
    frame's last period: kind "flow", the group in `group`, rank 1..k in `n`, of = groups
    known. Ties order by group name. The sd-unit value is attached from ``{column}_sd``.
    """
    if frame.empty:
        return []
    known, _ = _cross_section(frame, column)
    known = known.assign(_name=known[ctx.group_by].astype(str)).sort_values("_name")
    sd_column = f"{column}_sd"
    facts = []
    for side, chosen in (("bought", known[known[column] > 0]), ("sold", known[known[column] < 0])):
        ordered = chosen.sort_values(column, ascending=side == "sold", kind="stable").head(k)
        for rank, row in enumerate(ordered.to_dict("records"), start=1):
            group_ctx = Context(ctx.who, ctx.metric, ctx.group_by, row["_name"], ctx.period)
            sd = _number(row, sd_column)
            facts.append(_fact("flow", group_ctx, _day(row["period_end"]), row[column],
                               (side, rank), n=rank, of=len(known), direction=side,
                               sd=sd if np.isfinite(sd) else None))
    return facts


# ----------------------------------------------------------------------------------- a table


def _wide(frame: pd.DataFrame, column: str, group_by: str) -> pd.DataFrame:
    """period_end x group, NaN where suppressed or missing (so every group sees every period)."""
    values = frame[column].astype(float)
    values = values.where(~_suppressed_mask(frame))
    long = pd.DataFrame({"period_end": frame["period_end"], "group": frame[group_by].astype(str),
                         "value": values})
    if long.duplicated(["period_end", "group"]).any():
        raise ValueError(f"more than one row per (period_end, {group_by})")
    return long.pivot(index="period_end", columns="group", values="value").sort_index()


def _flow_facts(series: pd.Series, ctx: Context, sd: pd.Series | None) -> list[Fact | None]:
    facts = [level(series, ctx, sd=sd), streak(series, ctx, sd=sd), since(series, ctx, sd=sd),
             ytd_extreme(series, ctx, largest="max", sd=sd),
             ytd_extreme(series, ctx, largest="min", sd=sd)]
    run = run_length(_prepare(series)[0])
    for window in K_OF_N_WINDOWS[ctx.period]:
        fact = k_of_n(series, ctx, window)
        # Kept when it says more than the streak (n > streak length), and is a majority.
        if fact is not None and fact.n > max(run, window / 2):
            facts.append(fact)
    facts += [pct_rank(series, ctx, window, sd=sd) for window in RANK_WINDOWS[ctx.period]]
    return facts


def _level_facts(series: pd.Series, ctx: Context) -> list[Fact | None]:
    facts = [level(series, ctx), change(series, ctx), streak(series, ctx, change=True),
             since(series, ctx, change=True),
             ytd_extreme(series, ctx, change=True, largest="max"),
             ytd_extreme(series, ctx, change=True, largest="min")]
    facts += [pct_rank(series, ctx, window) for window in RANK_WINDOWS[ctx.period]]
    return facts


def series_facts(table: pd.DataFrame, *, who: str, metric: str, group_by: str, period: str,
                 as_of=None) -> list[Fact]:
    """Every applicable fact for every group of a metric table at its last period, by id.

    Flows (any metric not in `LEVEL_METRICS`): level, streak, since/record, ytd largest
    buying and selling, k of the last n (`K_OF_N_WINDOWS`; kept when it is a majority that
    counts more than the streak does), 1y/5y percentile ranks; for net_flow also driven_by
    and outpaced per group, and across groups breadth and the top-3 leaders each side.
    Levels (leverage, exposure): level, change, streak of changes, since/record of the change,
    ytd largest rise and drop, 1y/5y percentile ranks of the level.

    Parameters
    ----------
    table
        One row per (period_end, group) with `metric`, the group column `group_by`, optionally
        `suppressed` and `{metric}_sd`, and (for net_flow) the four flow components.
    as_of
        Point in time: only rows with period_end <= as_of are used; the last of them is the
        period the facts are about. A group with no known value then has no facts.
    """
    frame = table.assign(period_end=pd.to_datetime(table["period_end"]))
    if as_of is not None:
        frame = frame[frame["period_end"] <= pd.Timestamp(as_of)]
    if frame.empty:
        return []
    is_level = metric in LEVEL_METRICS
    wide = _wide(frame, metric, group_by)
    sd_column = f"{metric}_sd"
    sd_wide = _wide(frame, sd_column, group_by) if sd_column in frame and not is_level else None
    facts: list[Fact | None] = []
    for group in wide.columns:
        ctx = Context(who, metric, group_by, group, period)
        if is_level:
            facts += _level_facts(wide[group], ctx)
        else:
            facts += _flow_facts(wide[group], ctx, None if sd_wide is None else sd_wide[group])
    latest = frame[frame["period_end"] == wide.index[-1]]
    if metric == "net_flow" and set(_BUYING_SIDE + _SELLING_SIDE) <= set(frame.columns):
        for row in latest.to_dict("records"):
            ctx = Context(who, metric, group_by, str(row[group_by]), period)
            facts += [driven_by(row, ctx), outpaced(row, ctx)]
    if not is_level and wide.shape[1] > 1:
        ctx = Context(who, metric, group_by, "all", period)
        facts += breadth(latest, ctx, metric) + leaders(latest, ctx, metric)
    return sorted((fact for fact in facts if fact is not None), key=lambda fact: fact.id)
