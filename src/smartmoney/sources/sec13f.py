"""SEC Form 13F holdings reports: each filer becomes an account, each holding a position.

Inputs (`smartmoney ingest sec13f FILE...`), told apart by content: a full EDGAR submission
(SGML ``.txt`` or the newer ``.nc`` layout: header plus the cover page and information table
XML documents); the two XML documents of a filing (pass either, the other is found beside it or
embedded in the cover page; with an ``ns1:`` prefix, a default namespace or none); the SEC's
quarterly Form 13F data set (its zip, or INFOTABLE.tsv with SUBMISSION, COVERPAGE and
SUMMARYPAGE beside it).

accounts: account_id = the filer's CIK as ten digits, name from the cover page, strategy
``13f_filer``. positions: date = the period of report, or the last NYSE trading day before it;
available_from = the filing date (the signature date for bare XML documents, which lack it);
quantity = the shares of ``SH`` rows, the rows of one CUSIP summed, stored whole or not at all;
reported_value = their VALUE in dollars;
security_id = the security whose `cusip` is the row's (resolved by the store). Option rows
(``putCall``), principal amount rows (``PRN``), unmapped CUSIPs, rows a later filing superseded
and unreadable rows are rejected with a reason that says which, so read = accepted + rejected
counts information table rows.

Amendments act on a filer's holdings for a period in filing order: a RESTATEMENT replaces them,
NEW HOLDINGS adds to them, whether read together (a data set) or in separate ingests: an original
or a restatement states the filer's holdings in full (`Batch.complete`), so the store closes the
stored positions it leaves out, and keeps what they were (`position_versions`) for computations
as of a day before the amendment was filed.

VALUE is in thousands before 2023-01-03 and in dollars after, but some filers kept thousands.
Each filing's unit is decided by the summary page (rows summing to a thousandth of the stated
total), else the price check (a plausible median price per share in one unit only), else the
filing date; it checks each filing against its summary page (entry count, value total). The
unit, the rule and every mismatch are in the ingest report's notes and in `filing_checks`.

A file that cannot be used raises FileError naming the file and the element or row, and nothing
is ingested; in a data set, an unusable filing has its rows rejected instead. See docs/sec13f.md.
Reading the formats is `smartmoney.sources.sec13f_formats`; this module makes the rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from smartmoney.schema import ACCOUNTS, FILER_STRATEGY, POSITIONS
from smartmoney.sources.base import FileError
from smartmoney.sources.sec13f_formats import (  # noqa: F401 - TABLE_NS: re-exported
    _NUMBER,
    NEW_HOLDINGS,
    RESTATEMENT,
    TABLE_NS,
    Filing,
    Parsed,
    _cover,
    parse,
)
from smartmoney.validate import REJECT_COLUMNS, Batch

DOLLARS_FROM = dt.date(2023, 1, 3)  # VALUE is in dollars in filings made from this day on
PLAUSIBLE_PRICE = (1.0, 2000.0)  # a median price per share outside this range is implausible
_ARROW_TEXT = pd.ArrowDtype(pa.string())
_MAX_EXACT = 2**53


# ---------------------------------------------------------------------------- the source


class Sec13F:
    """SEC Form 13F filings: full submissions (.txt, .nc), XML documents, the quarterly data sets."""

    name = "sec13f"
    description = ("SEC Form 13F holdings: full submission .txt/.nc, primary_doc.xml + information "
                   "table XML, or the SEC's Form 13F data set (zip or INFOTABLE.tsv)")

    def read(self, path: Path) -> Iterator[Batch]:
        parsed = parse(path)
        rows = _rows(parsed)
        checks = _checks(parsed, rows)
        thousands = [key for key, unit in zip(parsed.filings, checks.get("value_unit", [])) if unit == "thousands"]
        rows["value_usd"] = rows["value_float"] * np.where(rows["filing"].isin(thousands), 1000.0, 1.0)
        superseded, amendment_notes, complete = _amendments(parsed.filings)
        positions, rejects, first_rows, merged_rows = _positions(parsed, rows, superseded)
        accounts = _accounts(parsed.filings)
        if len(accounts):  # first: positions refer to them
            yield Batch(ACCOUNTS, parsed.file, accounts, np.arange(1, len(accounts) + 1))
        yield Batch(POSITIONS, parsed.file, positions, first_rows, rejects, by_cusip=True,
                    merged_rows=merged_rows, complete=frozenset(complete), notes=_notes(parsed, checks) + amendment_notes)


def cover_page(path: str | Path) -> Filing:
    """The filing a cover page XML (primary_doc.xml) describes, without its information table."""
    path = Path(path)
    if not path.is_file():
        raise FileError(path, "no such file")
    return _cover(str(path), "the cover page", path.read_bytes())[0]


def filing_checks(path: str | Path) -> pd.DataFrame:
    """One row per filing in `path`: what it states and what was read.

    Columns: accession, cik, name, form, amendment, period, date, filed, filed_from,
    entries_stated, entries_read, value_stated, value_read (both in the filing's unit),
    value_unit (dollars | thousands), unit_rule (summary total | price check | filing date),
    unit_evidence, value_usd, consistent (entry count and value total match the summary page),
    problem.
    """
    parsed = parse(path)
    return _checks(parsed, _rows(parsed))


SEC13F_SOURCES = {"sec13f": Sec13F()}


def _arrow(values: pd.Series) -> pd.Series:
    """Text as trimmed Arrow strings (vectorized string functions), empty as null."""
    text = pd.Series(pa.array(values.astype(object), type=pa.string(), from_pandas=True), index=values.index,
                     dtype=_ARROW_TEXT).str.strip()
    return text.where(text != "")


def _when(h: pd.DataFrame, cases: list[tuple[np.ndarray, str]]) -> pd.Series:
    """Per row, the first case that holds, its template formatted with the row (None when none)."""
    result = pd.Series(None, index=h.index, dtype=object)
    taken = np.zeros(len(h), dtype=bool)
    for condition, template in cases:
        chosen = np.asarray(condition, dtype=bool) & ~taken
        if chosen.any():
            result[chosen] = [template.format(**row) for row in h[chosen].to_dict("records")]
        taken |= chosen
    return result


def _joined(parts: list[pd.Series], index: pd.Index) -> pd.Series:
    """The texts of `parts` joined with '; ' per row (None where there are none)."""
    result = pd.Series(None, index=index, dtype=object)
    given = [part.notna().to_numpy() for part in parts]
    some = np.logical_or.reduce(given) if given else np.zeros(len(index), dtype=bool)
    if some.any():
        texts = [part.to_numpy(dtype=object)[some] for part in parts]
        result[some] = ["; ".join(t for t in row if isinstance(t, str)) for row in zip(*texts)]
    return result


# ------------------------------------------------------------------------------------ rows


def _rows(parsed: Parsed) -> pd.DataFrame:
    """The information table rows with their numbers read, their filing's facts, and `reason`:
    why the row cannot be a position (None when it can, amendments aside)."""
    h = parsed.holdings.copy()
    text = {column: _arrow(h[column]) for column in ("cusip", "value", "shares", "kind", "put_call")}
    text.update(cusip=text["cusip"].str.upper(), kind=text["kind"].str.upper(),
                put_call=text["put_call"].str.title())

    def matches(column: str, pattern: str) -> np.ndarray:
        return text[column].str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)

    for column, values in text.items():
        h[column] = values.astype(object).where(values.notna(), None)
    facts = pd.DataFrame([(key, f.cik, f.date, f.filed, f.problem, f.holds_holdings)
                          for key, f in parsed.filings.items()],
                         columns=["filing", "account_id", "date", "filed", "filing_problem", "holdings"])
    facts[["date", "filed"]] = facts[["date", "filed"]].apply(pd.to_datetime)
    h = h.merge(facts, on="filing", how="left")
    numbers = {}
    for column, name in (("value", "value"), ("shares", "sshPrnamt")):
        numbers[column] = [
            (h[column].isna(), f"{name} is missing"),
            (matches(column, r"-\s*" + _NUMBER), f"{name} {{{column}!r}} is negative"),
            (matches(column, r"\d{17,}(?:\.\d+)?"),
             f"{name} {{{column}!r:.40}} has more than 16 digits (the SEC's field limit)"),
            (~matches(column, _NUMBER),
             f"{name} {{{column}!r:.40}} is not a number (digits only: no sign, commas or exponent)")]
    plain_value, plain_shares = matches("value", _NUMBER), matches("shares", _NUMBER)
    h["shares_number"] = pd.to_numeric(text["shares"].where(plain_shares), errors="coerce").astype("float64")
    h["value_float"] = pd.to_numeric(text["value"].where(plain_value), errors="coerce").astype("float64")
    h["value_number"] = [Decimal(v) if ok else None for v, ok in zip(h["value"], plain_value)]
    option, principal = h["put_call"].isin(["Put", "Call"]).to_numpy(), h["kind"].eq("PRN").to_numpy()
    h["equity"] = ~option & ~principal
    notice = h["holdings"].eq(False).to_numpy() & h["filing_problem"].isna().to_numpy()
    reasons = [
        h["problem"],
        _when(h, [(h["cusip"].isna(), "cusip is missing"),
                  (~matches("cusip", r"[0-9A-Z*@#]{9}"), "cusip {cusip!r} is not 9 letters and digits")]),
        _when(h, numbers["value"]),
        _when(h, numbers["shares"]),
        _when(h, [(h["shares_number"] >= _MAX_EXACT,
                   "sshPrnamt {shares} is too large to hold exactly (2**53)")]),
        _when(h, [(h["kind"].isna(), "sshPrnamtType is missing"),
                  (~h["kind"].isin(["SH", "PRN"]), "sshPrnamtType {kind!r} is not SH or PRN")]),
        _when(h, [(h["put_call"].notna() & ~option, "putCall {put_call!r} is not Put or Call")]),
        h["filing_problem"],
        _when(h, [(notice, "the filing is a 13F notice: it reports no holdings of its own")]),
        _when(h, [(option, ("option row (putCall {put_call}): {shares} shares of {cusip} under {put_call} "
                            "options; options are kept out of equity positions"))]),
        _when(h, [(principal & ~option, ("principal amount row (PRN): {shares} of {cusip} principal is not a "
                                         "share count; kept out of equity positions"))]),
    ]
    h["reason"] = _joined(reasons, h.index).where(~h["broken"].astype(bool), h["problem"])
    return h


def _positions(parsed: Parsed, h: pd.DataFrame, superseded: dict[str, str]
               ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """Position rows (one per filer, date and CUSIP, shares summed), the rejects, and for each
    position its first input row and the other rows summed into it."""
    reason = _joined([h["reason"], h["filing"].map(superseded)], h.index)
    key = ["account_id", "date", "cusip"]
    together = (h["equity"] & h[key].notna().all(axis=1) & h["filing_problem"].isna()
                & ~h["filing"].isin(superseded))
    failed = together & reason.notna()
    if failed.any():  # a position is stored whole or not at all
        first_bad = h[failed].groupby(key)["row"].min().rename("culprit")
        culprit = h[key].join(first_bad, on=key)["culprit"]
        spoiled = together & reason.isna() & culprit.notna()
        reason[spoiled] = ("another row of CUSIP " + h.loc[spoiled, "cusip"] + " for this filer and period is "
                           "rejected (row " + culprit[spoiled].astype("int64").astype(str) + "): a position is "
                           "stored whole or not at all")
    good, rejected = h[reason.isna()], h[reason.notna()]
    rejects = pd.DataFrame({"file": parsed.file, "row": rejected["row"].astype("int64"), "table": "positions",
                            "reason": reason[reason.notna()], "record": _records(rejected)},
                           columns=REJECT_COLUMNS)
    columns = ["date", "account_id", "security_id", "quantity", "available_from", "reported_value", "cusip",
               "issuer"]
    if good.empty:
        return pd.DataFrame(columns=columns, dtype=object), rejects, np.array([], dtype=np.int64), _tuples([])
    groups = good.groupby(key, sort=False).ngroup().to_numpy()
    order = np.lexsort((good["row"].to_numpy(), groups))  # by position, then row
    ids, rows = groups[order], good["row"].to_numpy(dtype=np.int64)[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    first = good.iloc[order[starts]]

    def summed(column: str) -> list[str]:
        return [_number_text(total) for total in np.add.reduceat(good[column].to_numpy()[order], starts)]

    filed = good["filed"].to_numpy(dtype="datetime64[D]")[order].astype(np.int64)
    positions = pd.DataFrame({
        "date": first["date"].dt.strftime("%Y-%m-%d").to_numpy(),
        "account_id": first["account_id"].to_numpy(),
        "security_id": first["cusip"].to_numpy(),
        "quantity": summed("shares_number"),
        "available_from": np.maximum.reduceat(filed, starts).astype("datetime64[D]").astype(str),
        "reported_value": summed("value_usd"),
        "cusip": first["cusip"].to_numpy(),
        "issuer": first["issuer"].to_numpy(),
    }, columns=columns).astype(object)
    merged = _tuples([tuple(rows[start + 1:end]) for start, end in zip(starts, [*starts[1:], len(ids)])])
    return positions, rejects, rows[starts], merged


def _number_text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _records(rows: pd.DataFrame) -> list[str]:
    """Each information table row as it came in (kept with its reject)."""
    names = {"filing": "filing", "cusip": "cusip", "issuer": "nameOfIssuer", "title": "titleOfClass",
             "value": "value", "shares": "sshPrnamt", "kind": "sshPrnamtType", "put_call": "putCall"}
    shown = rows[list(names)].astype(object)
    return ["|".join(f"{label}={'' if pd.isna(value) else value}"
                     for label, value in zip(names.values(), values))
            for values in shown.itertuples(index=False, name=None)]


def _tuples(items: list[tuple[int, ...]]) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    for index, item in enumerate(items):
        array[index] = item
    return array


def _accounts(filings: dict[str, Filing]) -> pd.DataFrame:
    """One account per usable filer (its CIK), named as on its latest cover page."""
    latest: dict[str, Filing] = {}
    for filing in filings.values():
        held = latest.get(filing.cik)
        if filing.problem is None and (held is None or (filing.filed, filing.accession or "") >
                                       (held.filed, held.accession or "")):
            latest[filing.cik] = filing
    return pd.DataFrame({"account_id": list(latest), "name": [f.name for f in latest.values()],
                         "strategy": FILER_STRATEGY}, columns=["account_id", "name", "strategy"])


# ------------------------------------------------------------------------------ amendments


def _amendments(filings: dict[str, Filing]) -> tuple[dict[str, str], list[str], set[tuple[str, str]]]:
    """The filings a later one of the same filer and period replaced (with the reason), notes
    on amendments read without the filing they amend, and the (filer, date) whose holdings the
    filings read state in full (an original or a restatement among them)."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for key, filing in filings.items():
        if filing.problem is None and filing.holds_holdings:
            groups[(filing.cik, filing.period)].append(key)
    superseded, notes = {}, []
    for keys in groups.values():
        keys.sort(key=lambda k: (filings[k].filed, filings[k].amendment_no, filings[k].accession or ""))
        holding: list[str] = []
        for key in keys:
            filing = filings[key]
            who = f"{filing.accession or filing.cik} ({filing.name})"
            if not holding and filing.amendment == NEW_HOLDINGS:
                notes.append(f"{who}: a NEW HOLDINGS amendment read without the filing it amends: its rows are "
                             "stored as they are; a CUSIP already stored is replaced, not added to (ingest the "
                             "filings together to add them)")
            if filing.amendment == NEW_HOLDINGS:
                holding.append(key)
                continue
            verb = "restates" if filing.amendment else "replaces"
            for old in holding:
                superseded[old] = (f"superseded: {filing.form} {filing.accession} filed {filing.filed} {verb} "
                                   f"this filer's holdings for {filing.period}")
            holding = [key]
    complete = {(filings[keys[-1]].cik, filings[keys[-1]].date.isoformat()) for keys in groups.values()
                if any(filings[k].amendment != NEW_HOLDINGS for k in keys)}
    return superseded, notes, complete


# ------------------------------------------------------------------------- checks and notes


def _unit(filing: Filing, read: Decimal, count: int, median: float) -> tuple[str, str, str]:
    """(unit of VALUE, the rule that decided it, the evidence) for one filing."""
    by_date = "dollars" if filing.filed is not None and filing.filed >= DOLLARS_FROM else "thousands"
    other = "thousands" if by_date == "dollars" else "dollars"
    stated, slack = filing.value_stated, 500 * max(count, 1)
    if stated is not None and read > 0 and stated != read:
        if abs(read * 1000 - stated) <= slack:
            return "thousands", "summary total", (f"the rows sum to {read:,}, a thousandth of the stated "
                                                  f"{stated:,}: rows in thousands, the total in dollars")
        if abs(read - stated * 1000) <= slack:
            return "dollars", "summary total", (f"the rows sum to {read:,}, 1,000 times the stated {stated:,}: "
                                                "rows in dollars, the total in thousands")
    when = f"filed {filing.filed}, {'on or after' if by_date == 'dollars' else 'before'} {DOLLARS_FROM}"
    if np.isnan(median):  # no row priced
        return by_date, "filing date", when
    price = {"dollars": median, "thousands": median * 1000}
    said = (f"median value per share {median:.6g}: ${price[by_date]:,.2f} a share in {by_date}, "
            f"${price[other]:,.2f} in {other}")
    low, high = PLAUSIBLE_PRICE
    if not low <= price[by_date] <= high and low <= price[other] <= high:
        return other, "price check", f"{said} ({when}, when {by_date} were due)"
    return by_date, "filing date", f"{when}; {said}"


def _checks(parsed: Parsed, h: pd.DataFrame) -> pd.DataFrame:
    """One row per filing: what its summary page states, what was read, the VALUE unit and why."""
    groups = h.groupby("filing", sort=False)
    entries = groups.size()
    valued = h[h["value_number"].notna()]
    totals = valued.groupby("filing")["value_number"].agg(lambda values: sum(values, Decimal(0)))
    counts = valued.groupby("filing").size()
    priced = valued[valued["equity"] & valued["kind"].eq("SH") & (valued["shares_number"] > 0)]
    per_share = priced["value_number"].map(float) / priced["shares_number"]
    medians = per_share[per_share > 0].groupby(priced["filing"]).median()
    records = []
    for key, filing in parsed.filings.items():
        read, count = totals.get(key, Decimal(0)), int(counts.get(key, 0))
        unit, rule, evidence = _unit(filing, read, count, float(medians.get(key, np.nan)))
        stated = filing.value_stated
        if rule == "summary total":  # both in dollars, within the rounding of the rows
            rows_usd, stated_usd = (read * 1000, stated) if unit == "thousands" else (read, stated * 1000)
            same = abs(rows_usd - stated_usd) <= 500 * count
        else:
            same = stated == read
        records.append({
            "accession": filing.accession, "cik": filing.cik, "name": filing.name, "form": filing.form,
            "amendment": filing.amendment, "period": filing.period, "date": filing.date, "filed": filing.filed,
            "filed_from": filing.filed_from, "entries_stated": filing.entries_stated,
            "entries_read": int(entries.get(key, 0)), "value_stated": stated, "value_read": read,
            "value_unit": unit, "unit_rule": rule, "unit_evidence": evidence,
            "value_usd": read * 1000 if unit == "thousands" else read,
            "consistent": filing.entries_stated == int(entries.get(key, 0)) and same, "problem": filing.problem,
        })
    return pd.DataFrame(records, dtype=object)


def _notes(parsed: Parsed, checks: pd.DataFrame) -> list[str]:
    """Each filing's VALUE unit and why, every mismatch with its summary page, and the filing's
    own notes; a data set counts its ordinary filings instead of a line each."""
    notes, ordinary = [], 0
    for check, filing in zip(checks.itertuples(index=False), parsed.filings.values()):
        who = f"{check.accession or check.cik} ({check.name})"
        if not parsed.single and check.unit_rule == "filing date" and check.consistent and not filing.notes:
            ordinary += 1
            continue
        if check.problem:
            notes.append(f"{who}: not used: {check.problem}")
            continue
        if not filing.holds_holdings:
            notes.append(f"{who}: a 13F notice ({check.form}): its holdings are reported by another manager")
            continue
        notes.append(f"{who}, period {check.period}: VALUE read in {check.value_unit} (rule: "
                     f"{check.unit_rule}; {check.unit_evidence}); value ${check.value_usd:,.0f}")
        if filing.holds_holdings and not check.consistent:
            notes.append(f"{who}: does not match its summary page: it states {check.entries_stated} entries "
                         f"worth {check.value_stated} ({check.value_unit}); the information table holds "
                         f"{check.entries_read} rows worth {check.value_read} (difference "
                         f"{check.entries_read - (check.entries_stated or 0):+d} rows, "
                         f"{check.value_read - (check.value_stated or 0):+,})")
        notes += [f"{who}: {note}" for note in filing.notes]
    if ordinary:
        notes.insert(0, f"{ordinary} filing(s) match their summary page, VALUE in the unit their filing date "
                        "implies (thousands before 2023-01-03, dollars after); `filing_checks` lists each")
    return notes
