"""Facts -> sentences: the weekly note written from templates, picked by salience.

Every sentence is built from facts only and carries them (ids and values), so that a reader or a
test can check it against the data. A sentence whose facts are missing is not written. Numbers
are written as a person writes them: $1.2bn, 53%, 2.3 to 1, "3rd week in a row",
"since September 2023".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from smartmoney.facts import Fact
from smartmoney.report.model import Section, Sentence
from smartmoney.taxonomy import gics_hierarchy

WHO = "hedge_funds"
COMPONENT_NAMES = {"long_buy": "long buys", "long_sell": "long sales", "short_sale": "short sales",
                   "short_cover": "short covers"}


# ------------------------------------------------------------------------------ formatting


def money(value: float, *, signed: bool = False) -> str:
    """$1.2bn, $350m, $12k; with signed=True a leading minus for negatives (-$1.2bn)."""
    sign = "-" if signed and value < 0 else ("+" if signed and value > 0 else "")
    amount = abs(value)
    for scale, suffix in ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if amount >= scale:
            digits = 1 if amount / scale < 100 else 0
            return f"{sign}${amount / scale:.{digits}f}{suffix}"
    return f"{sign}${amount:.0f}"


def percent(value: float) -> str:
    """165.8% (leverage levels, one decimal as desks quote them)."""
    return f"{value:.1f}%"


def rank_phrase(rank: float) -> str:
    """Where a level sits in its past year: 'the lowest in a year', 'the 23rd percentile'."""
    if rank <= 0:
        return "the lowest in a year"
    if rank >= 100:
        return "the highest in a year"
    return f"in the {ordinal(round(rank))} percentile of the past year"


def points(value: float) -> str:
    """Percentage points of a change: 8.2 pts."""
    return f"{abs(value):.1f} pts"


def sd_units(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f} sd"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 22nd."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def ratio(value: float) -> str:
    """2.3 to 1; whole numbers beyond 10 (12 to 1)."""
    return f"{value:.0f} to 1" if value >= 10 else f"{value:.1f} to 1"


def month_year(day: dt.date) -> str:
    return day.strftime("%B %Y")


def since_phrase(fact: Fact) -> str:
    """'in 5 months' for recent comparisons, 'since September 2023' for older ones."""
    if fact.kind == "record":
        return "on record"
    if fact.months is not None and 1 <= fact.months < 12:
        return f"in {fact.months} month{'s' if fact.months > 1 else ''}"
    return f"since {month_year(fact.since_date)}"


def join(parts: list[str]) -> str:
    """a, b and c."""
    parts = [p for p in parts if p]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


# ------------------------------------------------------------------------------ fact lookup


class Facts:
    """The facts of one report, found by what they are about."""

    def __init__(self, facts: Iterable[Fact], as_of: dt.date):
        self.by_id = {fact.id: fact for fact in facts}
        self.week = max((f.period_end for f in self.by_id.values() if f.period == "W"), default=as_of)

    def find(self, kind: str, metric: str, group_by: str, group: str, *, period: str = "W",
             change: bool | None = None, **fields) -> Fact | None:
        for fact in self.by_id.values():
            if (fact.kind, fact.metric, fact.group_by, fact.group, fact.period) != (
                    kind, metric, group_by, group, period):
                continue
            if period == "W" and fact.period_end != self.week and kind != "k_of_n":
                continue
            if change is not None and (":change" in fact.id) != change:
                continue
            if all(getattr(fact, name) == value for name, value in fields.items()):
                return fact
        return None

    def all(self, kind: str, metric: str, group_by: str, *, period: str = "W", **fields) -> list[Fact]:
        return sorted((f for f in self.by_id.values()
                       if (f.kind, f.metric, f.group_by, f.period) == (kind, metric, group_by, period)
                       and (period != "W" or f.period_end == self.week)
                       and all(getattr(f, k) == v for k, v in fields.items())), key=lambda f: f.id)


def _sentence(text: str, *facts: Fact | None) -> Sentence:
    return Sentence(text, tuple(f.to_dict() for f in facts if f is not None))


def _verb(value: float) -> str:
    return "net bought" if value > 0 else "net sold"


# ------------------------------------------------------------------------------ the sections


def book_flow_sentence(facts: Facts) -> Sentence | None:
    level = facts.find("level", "net_flow", "book", "all", rank=None)
    if level is None:
        return None
    streak = facts.find("streak", "net_flow", "book", "all")
    driven = facts.find("driven_by", "net_flow", "book", "all")
    text = f"Hedge funds {_verb(level.value)} US stocks"
    if streak is not None:
        text += f" for the {ordinal(streak.n)} week in a row"
    text += f" ({money(level.value, signed=True)}"
    text += f", {sd_units(level.sd)})" if level.sd is not None else ")"
    if driven is not None:
        text += f", driven by {COMPONENT_NAMES[driven.label]}"
    return _sentence(text + ".", level, streak, driven)


def leverage_headline(facts: Facts) -> Sentence | None:
    gross_streak = facts.find("streak", "gross_leverage", "book", "all", change=True)
    gross = facts.find("level", "gross_leverage", "book", "all", rank=None)
    net = facts.find("level", "net_leverage", "book", "all", rank=None)
    net_change = facts.find("change", "net_leverage", "book", "all")
    net_extreme = (facts.find("record", "net_leverage", "book", "all", change=True)
                   or facts.find("ytd_extreme", "net_leverage", "book", "all", change=True))
    if gross is None or net is None:
        return None
    parts = []
    if gross_streak is not None and gross_streak.n >= 2:
        move = "fell" if gross_streak.direction == "down" else "rose"
        parts.append(f"gross leverage {move} for the {ordinal(gross_streak.n)} straight week to {percent(gross.value)}")
    else:
        parts.append(f"gross leverage was {percent(gross.value)}")
    if net_change is not None:
        move = "fell" if net_change.value < 0 else "rose"
        text = f"net leverage {move} {points(net_change.value)} to {percent(net.value)}"
        if net_extreme is not None and (net_extreme.value < 0) == (net_change.value < 0):
            kind = "drop" if net_change.value < 0 else "rise"
            text += (f", the largest weekly {kind} on record" if net_extreme.kind == "record"
                     else f", the largest weekly {kind} this year")
        parts.append(text)
    text = "; ".join(parts)
    return _sentence(text[0].upper() + text[1:] + ".", gross_streak, gross, net, net_change, net_extreme)


def breadth_sentence(facts: Facts, *, with_turn: bool) -> Sentence | None:
    sold = facts.find("breadth", "net_flow", "sector", "all", direction="sold")
    bought = facts.find("breadth", "net_flow", "sector", "all", direction="bought")
    if sold is None or bought is None:
        return None
    major = sold if sold.n >= bought.n else bought
    text = f"{major.n} of the {major.of} sectors were {major.direction == 'sold' and 'net sold' or 'net bought'}"
    if major.components.get("suppressed"):
        text += f" ({int(major.components['suppressed'])} not published)"
    cited = [major]
    turn = turn_sector(facts) if with_turn else None
    if turn is not None:
        since, ratio_fact, level = turn["since"], turn["ratio"], turn["level"]
        speed = "buying" if level.value > 0 else "selling"
        clause = f"; {turn['group']} saw the fastest net {speed} {since_phrase(since)}" if since else \
            f"; {turn['group']} turned to net {speed} ({money(level.value, signed=True)})"
        if ratio_fact is not None:
            a, b = ratio_fact.label.split("/")
            clause += f", {COMPONENT_NAMES[a]} outpacing {COMPONENT_NAMES[b]} {ratio(ratio_fact.value)}"
        text += clause
        cited += [since, ratio_fact, level]
    return _sentence(text + ".", *cited)


def turn_sector(facts: Facts) -> dict | None:
    """The sector whose week reverses most of the weeks before it, the most salient first."""
    candidates = []
    for before in (f for f in facts.by_id.values()
                   if f.kind == "k_of_n" and f.group_by == "sector" and f.period == "W"
                   and f.period_end < facts.week and f.of == 7):
        level = facts.find("level", "net_flow", "sector", before.group, rank=None)
        if level is None or (level.value > 0) == (before.value > 0):
            continue
        since = (facts.find("since", "net_flow", "sector", before.group)
                 or facts.find("record", "net_flow", "sector", before.group))
        if since is not None and since.kind == "since" and (since.months or 0) < 2:
            since = None           # "the fastest in a month" is not news
        # A turn is the reversal of a trend: the more consistent the weeks before, the more
        # notable; between equally consistent ones, the stronger move this week (sd units).
        salience = (before.n / before.of, since is not None, abs(level.sd or 0))
        candidates.append((salience, before.group, {"group": before.group, "before": before,
                                                    "level": level, "since": since,
                                                    "ratio": facts.find("ratio", "net_flow", "sector", before.group)}))
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c[0], c[1]))[2]


def headline(facts: Facts) -> list[Sentence]:
    return [s for s in (book_flow_sentence(facts), leverage_headline(facts),
                        breadth_sentence(facts, with_turn=True)) if s is not None]


def leverage_section(facts: Facts) -> list[Sentence]:
    sentences = []
    for metric, name in (("gross_leverage", "Gross leverage"), ("net_leverage", "Net leverage")):
        level = facts.find("level", metric, "book", "all", rank=None)
        change = facts.find("change", metric, "book", "all")
        rank = facts.find("level", metric, "book", "all", of=52)
        streak = facts.find("streak", metric, "book", "all", change=True)
        if level is None:
            continue
        text = f"{name} {'fell' if change and change.value < 0 else 'rose'} {points(change.value)} to {percent(level.value)}" \
            if change is not None else f"{name} was {percent(level.value)}"
        if rank is not None and rank.rank is not None:
            text += f", {rank_phrase(rank.rank)}"
        if streak is not None and streak.n >= 2:
            text += f"; it has {'fallen' if streak.direction == 'down' else 'risen'} {streak.n} weeks in a row"
        sentences.append(_sentence(text + ".", level, change, rank, streak))
    extreme = (facts.find("record", "net_leverage", "book", "all", change=True)
               or facts.find("ytd_extreme", "net_leverage", "book", "all", change=True))
    if extreme is not None:
        kind = "drop" if extreme.value < 0 else "rise"
        where = "the largest weekly " + kind + (" on record in this book" if extreme.kind == "record" else " this year")
        sentences.append(_sentence(f"The {points(extreme.value)} move in net leverage was {where}.", extreme))
    return sentences


def flows_section(facts: Facts) -> list[Sentence]:
    sentences = []
    first = book_flow_sentence(facts)
    if first is not None:
        sentences.append(first)
    components = [facts.find("level", c, "book", "all") for c in COMPONENT_NAMES]
    if all(components):
        listed = sorted(components, key=lambda f: -f.value)
        text = "By component: " + join([f"{COMPONENT_NAMES[f.metric]} {money(f.value)}" for f in listed])
        sentences.append(_sentence(text + ".", *listed))
    pace = facts.find("ratio", "net_flow", "book", "all")
    if pace is not None:
        a, b = pace.label.split("/")
        character = "risk-on (gross rising)" if pace.direction == "risk_on" else "de-grossing (risk-off)"
        sentences.append(_sentence(f"The week was {character}: {COMPONENT_NAMES[a]} and, to a lesser extent, "
                                   f"{COMPONENT_NAMES[b]} ({ratio(pace.value)}).", pace))
    extreme = (facts.find("record", "net_flow", "book", "all") or facts.find("since", "net_flow", "book", "all"))
    level = facts.find("level", "net_flow", "book", "all", rank=None)
    if extreme is not None and level is not None:
        what = "net buying" if level.value > 0 else "net selling"
        sentences.append(_sentence(f"It was the largest weekly {what} {since_phrase(extreme)}.", extreme, level))
    k_of_n = facts.find("k_of_n", "net_flow", "book", "all", of=7)
    if k_of_n is not None:
        sentences.append(_sentence(f"Hedge funds have {_verb(k_of_n.value)} in {k_of_n.n} of the last "
                                   f"{k_of_n.of} weeks.", k_of_n))
    return sentences


def sectors_section(facts: Facts) -> list[Sentence]:
    sentences = []
    breadth = breadth_sentence(facts, with_turn=False)
    if breadth is not None:
        sentences.append(breadth)
    for side in ("sold", "bought"):
        leaders = [f for f in facts.all("flow", "net_flow", "sector", direction=side)]
        leaders.sort(key=lambda f: f.n)
        if not leaders:
            continue
        listed = join([f"{f.group} ({money(f.value, signed=True)}{', ' + sd_units(f.sd) if f.sd is not None else ''})"
                       for f in leaders])
        sentences.append(_sentence(f"Most net {side}: {listed}.", *leaders))
    notable = [f for f in facts.all("record", "net_flow", "sector")] + \
        [f for f in facts.all("since", "net_flow", "sector") if (f.months or 0) >= 12]
    notable.sort(key=lambda f: (-abs(f.value), f.group))
    for fact in notable[:2]:
        what = "net buying" if fact.value > 0 else "net selling"
        sentences.append(_sentence(f"{fact.group} saw its largest weekly {what} {since_phrase(fact)} "
                                   f"({money(fact.value, signed=True)}).", fact))
    tmt = facts.find("record", "net_flow", "tmt", "TMT", period="M") or \
        facts.find("since", "net_flow", "tmt", "TMT", period="M")
    if tmt is not None:
        what = "net buying" if tmt.value > 0 else "net selling"
        sentences.append(_sentence(f"TMT saw {'record' if tmt.kind == 'record' else 'the largest'} monthly {what}"
                                   f"{'' if tmt.kind == 'record' else ' ' + since_phrase(tmt)} in "
                                   f"{month_year(tmt.period_end)} ({money(tmt.value, signed=True)}).", tmt))
    return sentences


def turn_section(facts: Facts) -> tuple[str, list[Sentence]]:
    turn = turn_sector(facts)
    if turn is None:
        return "", []
    group, before, level = turn["group"], turn["before"], turn["level"]
    now = "bought" if level.value > 0 else "sold"
    text = (f"{group} was {_verb(before.value)} in {before.n} of the {before.of} weeks before, "
            f"then net {now} {money(abs(level.value))} this week")
    if turn["since"] is not None:
        text += f", the fastest net {'buying' if now == 'bought' else 'selling'} {since_phrase(turn['since'])}"
    sentences = [_sentence(text + ".", before, level, turn["since"])]
    if turn["ratio"] is not None:
        a, b = turn["ratio"].label.split("/")
        sentences.append(_sentence(f"{COMPONENT_NAMES[a].capitalize()} outpaced {COMPONENT_NAMES[b]} "
                                   f"{ratio(turn['ratio'].value)}.", turn["ratio"]))
    same = facts.find("breadth", "net_flow", "industry", group, direction=now)
    other = facts.find("breadth", "net_flow", "industry", group, direction="sold" if now == "bought" else "bought")
    if same is not None:
        leaders = sorted([f for f in facts.all("flow", "net_flow", "industry", direction=now)
                          if f.id in _members(facts, group, now)], key=lambda f: f.n)
        text = (f"All {same.of} of its industries were net {now}" if same.n == same.of
                else f"{same.n} of its {same.of} industries were net {now}")
        if leaders:
            text += ", led by " + join([f"{f.group} ({money(abs(f.value))})" for f in leaders[:2]])
        cited = [same, *leaders[:2]]
        against = sorted([f for f in facts.all("flow", "net_flow", "industry",
                                               direction="sold" if now == "bought" else "bought")
                          if f.id in _members(facts, group, "sold" if now == "bought" else "bought")],
                         key=lambda f: f.n)
        if other is not None and other.n and against:
            text += f"; only {join([f.group for f in against])} {'was' if len(against) == 1 else 'were'} net " \
                    f"{'sold' if now == 'bought' else 'bought'}"
            cited += [other, *against]
        sentences.append(_sentence(text + ".", *cited))
    return group, sentences


def _members(facts: Facts, parent: str, side: str) -> set[str]:
    """Ids of the industry leader facts whose industry belongs to sector `parent` (GICS)."""
    hierarchy = gics_hierarchy()
    industries = set(hierarchy.loc[hierarchy["sector"] == parent, "industry"])
    return {f.id for f in facts.all("flow", "net_flow", "industry", direction=side) if f.group in industries}


def macro_section(facts: Facts) -> list[Sentence]:
    levels = {f.group: f for f in facts.all("level", "net_flow", "asset_type") if f.rank is None}
    if not levels:
        return []
    if len(levels) == 1:
        [(group, fact)] = levels.items()
        return [_sentence(f"All of the week's flow was in {group} ({money(fact.value, signed=True)}); "
                          f"the book holds no macro products.", fact)]
    parts = [f"{group} were {_verb(f.value)} ({money(f.value, signed=True)})" for group, f in sorted(levels.items())]
    return [_sentence(join(parts).capitalize() + ".", *levels.values())]


BASKET_NAMES = {"magnificent_7": "the Magnificent 7", "semiconductors": "semiconductors", "tmt": "TMT"}


def _basket(name: str) -> str:
    return BASKET_NAMES.get(name, name.replace("_", " "))


def _retail_verb(value: float) -> str:
    return "net bought" if value > 0 else "net sold"


def retail_section(facts: Facts) -> list[Sentence]:
    sentences = []
    level = facts.find("level", "retail_net", "book", "all", rank=None)
    if level is not None:
        streak = facts.find("streak", "retail_net", "book", "all")
        since = facts.find("record", "retail_net", "book", "all") or facts.find("since", "retail_net", "book", "all")
        text = f"Retail {_retail_verb(level.value)} {money(abs(level.value))} of US stocks"
        if level.sd is not None:
            text += f" ({sd_units(level.sd)})"
        if streak is not None:
            text += f", the {ordinal(streak.n)} week in a row"
        if since is not None and (since.kind == "record" or (since.months or 0) >= 3):
            text += f", the most {'buying' if level.value > 0 else 'selling'} {since_phrase(since)}"
        sentences.append(_sentence(text + ".", level, streak, since))
    baskets = [f for f in facts.all("level", "retail_net", "basket") if f.rank is None and f.sd is not None]
    baskets.sort(key=lambda f: (-abs(f.sd), f.group))
    for fact in baskets[:2]:
        if abs(fact.sd) < 1:
            continue
        streak = facts.find("streak", "retail_net", "basket", fact.group)
        text = f"Retail {_retail_verb(fact.value)} {_basket(fact.group)}"
        text += f" for the {ordinal(streak.n)} week running" if streak is not None else " this week"
        text += f" ({money(fact.value, signed=True)}, {sd_units(fact.sd)})"
        side = "bought" if fact.value > 0 else "sold"
        top = next((f for f in facts.all("flow", "retail_net", "ticker", direction=side, n=1)
                    if f.label == fact.group), None)
        if top is not None:
            text += f", {top.group} the most ({money(abs(top.value))})"
        sentences.append(_sentence(text + ".", fact, streak, top))
    bought = facts.find("breadth", "retail_net", "sector", "all", direction="bought")
    sold = facts.find("breadth", "retail_net", "sector", "all", direction="sold")
    if bought is not None and sold is not None:
        major = bought if bought.n >= sold.n else sold
        leader = next(iter(f for f in facts.all("flow", "retail_net", "sector", direction=major.direction, n=1)), None)
        text = f"Retail net {major.direction} {major.n} of the {major.of} sectors"
        if leader is not None:
            text += f", {leader.group} the most ({money(leader.value, signed=True)})"
        sentences.append(_sentence(text + ".", major, leader))
    for side in ("bought", "sold"):
        top = sorted((f for f in facts.all("flow", "retail_net", "ticker", direction=side) if not f.label),
                     key=lambda f: f.n)
        if top:
            listed = join([f"{f.group} ({money(f.value, signed=True)})" for f in top])
            sentences.append(_sentence(f"Stocks retail {side} most: {listed}.", *top))
    return sentences


def hf_vs_retail_section(facts: Facts) -> list[Sentence]:
    sentences = []
    diverging = [f for f in facts.all("divergence", "hf_vs_retail", "sector") + facts.all(
        "divergence", "hf_vs_retail", "basket") if f.direction == "hf_sold_retail_bought"]
    best: dict[str, Fact] = {}
    for fact in sorted(diverging, key=lambda f: (f.n, f.id)):
        best.setdefault(f"{fact.group_by}={fact.group}", fact)
    chosen = sorted(best.values(), key=lambda f: (-f.value, f.id))[:2]
    for index, fact in enumerate(chosen):
        c = fact.components
        name = _basket(fact.group) if fact.group_by == "basket" else fact.group
        weeks = "this week" if fact.n == 1 else f"over the last {fact.n} weeks"
        lead = "Hedge funds may be selling to retail: in " if index == 0 else "In "
        sentences.append(_sentence(
            f"{lead}{name}, hedge funds net sold {money(abs(c['hf_net']))} ({sd_units(c['hf_net_sd'])}) "
            f"{weeks} while retail net bought {money(c['retail_net'])} ({sd_units(c['retail_net_sd'])}).", fact))
    share = facts.find("level", "swap_share", "book", "all", n=4)
    if share is not None and share.components["swap_usd"] > 0:
        sentences.append(_sentence(
            f"Over 4 weeks retail absorbed {money(share.components['swap_usd'])} of hedge-fund selling, "
            f"{share.value:.1f}% of the hedge funds' gross selling.", share))
    watch = sorted(facts.all("divergence", "watch_list", "ticker"), key=lambda f: f.n)
    if watch:
        first = watch[0]
        text = (f"Fragility watch: {join([f.group for f in watch[:3]])} lead the stocks hedge funds sold "
                f"while retail bought over {first.of} weeks ({first.group}: hedge funds "
                f"{money(first.components['hf_net'], signed=True)}, retail {money(first.components['retail_net'], signed=True)}")
        if "hf_crowding" in first.components:
            text += f"; {first.components['hf_crowding']:.0f}% of funds hold it long"
        sentences.append(_sentence(text + ").", *watch[:3]))
    top = facts.find("level", "forward_return_4w", "divergence_decile", "10")
    bottom = facts.find("level", "forward_return_4w", "divergence_decile", "1")
    if top is not None and bottom is not None and "t_stat" in top.components:
        sentences.append(_sentence(
            f"Does it matter? In this book's history, stocks hedge funds sold most to retail (top divergence "
            f"decile) returned {top.value:+.2f}% over the next 4 weeks on average (t = "
            f"{top.components['t_stat']:.1f}, up {top.components['hit_rate']:.0f}% of the time), against "
            f"{bottom.value:+.2f}% for the bottom decile.", top, bottom))
    return sentences


def filers_section(facts: Facts) -> list[Sentence]:
    """13F filers' last quarter: flows, sectors, holders, concentration, the VIP list."""
    from smartmoney.holdings import quarter_name

    level = facts.find("level", "net_flow", "book", "all", period="Q", rank=None)
    if level is None:
        return []
    c = level.components
    quarter = quarter_name(level.period_end)
    text = (f"13F filers {_verb(level.value)} {money(abs(level.value))} of US stocks in {quarter} "
            f"(bought {money(c['long_buy'])}, sold {money(c['long_sell'])})")
    streak = facts.find("streak", "net_flow", "book", "all", period="Q")
    since = (facts.find("record", "net_flow", "book", "all", period="Q")
             or facts.find("since", "net_flow", "book", "all", period="Q"))
    if streak is not None:
        text += f", the {ordinal(streak.n)} quarter in a row"
    if since is not None:
        text += f", the most {'buying' if level.value > 0 else 'selling'} {since_phrase(since)}"
    text += f"; {int(c['filers'])} filers filed for both {quarter} and the quarter before"
    if c["filed"] > c["filers"]:
        text += f", {int(c['filed'] - c['filers'])} more for {quarter} alone"
    text += "."
    sentences = [_sentence(text, level, streak, since)]
    bought = facts.find("breadth", "net_flow", "sector", "all", period="Q", direction="bought")
    sold = facts.find("breadth", "net_flow", "sector", "all", period="Q", direction="sold")
    if bought is not None and sold is not None:
        major = bought if bought.n >= sold.n else sold
        text = f"They net {major.direction} {major.n} of the {major.of} sectors"
        leads = [next(iter(facts.all("flow", "net_flow", "sector", period="Q", direction=side, n=1)), None)
                 for side in ("bought", "sold")]
        named = [f"{f.group} the most {f.direction} ({money(f.value, signed=True)})" for f in leads if f]
        sentences.append(_sentence(text + (f"; {join(named)}" if named else "") + ".", major, *leads))
    for side, verb in (("bought", "gained"), ("sold", "lost")):
        movers = facts.all("flow", "holders_change", "ticker", period="Q", direction=side)
        if movers:
            listed = join([f"{f.group} ({int(f.value):+d})" for f in sorted(movers, key=lambda f: f.n)])
            sentences.append(_sentence(f"Stocks that {verb} the most holders: {listed}.", *movers))
    share = facts.find("level", "top10_share", "book", "all", period="Q")
    if share is not None:
        move = facts.find("change", "top10_share", "book", "all", period="Q")
        text = (f"The median filer held {percent(share.value)} of its long book in its 10 largest "
                f"positions")
        if move is not None:
            text += (f", {'up' if move.value > 0 else 'down'} {points(move.value)} from the quarter before"
                     if move.value else ", as a quarter before")
        sentences.append(_sentence(text + ".", share, move))
    vip = sorted(facts.all("level", "vip", "ticker", period="Q"), key=lambda f: (f.n, f.group))
    if vip:
        listed = join([f"{f.group} ({int(f.value)} of {f.of}{', new' if f.label == 'new' else ''})" for f in vip])
        sentences.append(_sentence(f"Most often among the filers' 10 largest holdings: {listed}.", *vip))
    return sentences


def futures_section(facts: Facts) -> list[Sentence]:
    """CFTC positioning in US equity index futures: leveraged funds first, then asset managers
    and dealers, a few sentences each (smartmoney.cot writes them and picks the salient ones)."""
    from smartmoney.cot import cot_highlights

    return [_sentence(text, *(facts.by_id[i] for i in ids))
            for text, ids in cot_highlights(f for f in facts.by_id.values() if f.group_by == "contract")]


def shorts_section(facts: Facts) -> list[Sentence]:
    """FINRA short sale volume and short interest (smartmoney.shorts writes the sentences)."""
    from smartmoney.shorts import WHO, short_sentences

    return [_sentence(text, *(facts.by_id[i] for i in ids))
            for text, ids in short_sentences(f for f in facts.by_id.values() if f.who == WHO)]


def write(facts_list: list[Fact], as_of: dt.date) -> tuple[tuple[Sentence, ...], tuple[Section, ...]]:
    """The headline and the sections of the weekly note, in the order of a prime-brokerage weekly."""
    facts = Facts(facts_list, as_of)
    turn_group, turn_sentences = turn_section(facts)
    sections = [
        Section("leverage", "Leverage", tuple(leverage_section(facts))),
        Section("flows", "Global flows", tuple(flows_section(facts))),
        Section("sectors", "Sectors", tuple(sectors_section(facts))),
        Section("turn", f"The turn: {turn_group}" if turn_group else "The turn", tuple(turn_sentences)),
        Section("macro", "Single stocks vs macro products", tuple(macro_section(facts))),
        Section("retail", "Retail", tuple(retail_section(facts))),
        Section("hf_vs_retail", "Hedge funds vs retail", tuple(hf_vs_retail_section(facts))),
        Section("filers", "13F filers", tuple(filers_section(facts))),
        Section("futures", "Equity index futures (CFTC)", tuple(futures_section(facts))),
        Section("shorts", "Short sellers (FINRA)", tuple(shorts_section(facts))),
    ]
    shown = tuple(s for s in sections if s.sentences)
    # A book without hedge-fund positions (public data only) leads with its sections' first sentences.
    lead = headline(facts) or [section.sentences[0] for section in shown[:2]]
    return tuple(lead), shown
