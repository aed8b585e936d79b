"""The canonical tables: the one place their columns, types, keys and meaning are defined.

Every source writes these tables and every metric reads only these tables. Money is in USD,
dates are NYSE trading days, quantities are shares, signed (short < 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

FILER_STRATEGY = "13f_filer"  # the strategy of an account read from SEC 13F filings
STRATEGIES = ("fundamental_ls", "systematic", "multi_strategy", "other", FILER_STRATEGY)
ASSET_TYPES = ("stock", "etf", "index_future", "option")
TRADE_SIDES = ("long_buy", "long_sell", "short_sale", "short_cover")
FUTURES_CATEGORIES = ("dealer", "asset_manager", "leveraged_funds", "other_reportables",
                      "noncommercial", "commercial", "nonreportables")
FUTURES_REPORTS = ("tff_futures_only", "tff_combined", "legacy_futures_only", "legacy_combined")


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    kind is one of: string, date, timestamp, float, integer, enum. `sign` constrains numbers: "positive" (> 0),
    "non_negative" (>= 0), "non_zero" (!= 0) or None. `values` lists an enum's allowed values.
    `default_from` names a column whose value fills this one when the input leaves it out.
    """

    name: str
    kind: str
    meaning: str
    required: bool = True
    sign: str | None = None
    values: tuple[str, ...] = ()
    default_from: str | None = None


@dataclass(frozen=True)
class Table:
    """A canonical table: its columns, the key that makes a row unique, and how it is stored.

    `partition` names the date column the table is hive-partitioned by (None for small
    tables kept in one file). `references` maps a column to the table whose key it must match.
    """

    name: str
    meaning: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    partition: str | None = None
    references: dict[str, str] = field(default_factory=dict)
    files: str = "one file per day"

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


def _gics(level: str) -> Column:
    return Column(level, "string", f"GICS {level.replace('_', '-')} name (2023 structure).",
                  required=False)


SECURITIES = Table(
    "securities",
    "One row per security: identifiers and GICS classification.",
    (
        Column("security_id", "string", "Stable identifier used by every other table."),
        Column("ticker", "string", "Exchange ticker, e.g. NVDA or BRK.B."),
        Column("cusip", "string", "9-character CUSIP.", required=False),
        Column("name", "string", "Issuer name."),
        _gics("sector"),
        _gics("industry_group"),
        _gics("industry"),
        _gics("sub_industry"),
        Column("asset_type", "enum", "Kind of instrument; ETFs and index products are "
               "'macro products'.", values=ASSET_TYPES),
        Column("country", "string", "Country of listing or risk, e.g. US.", required=False),
        Column("region", "string", "Region, e.g. North America.", required=False),
    ),
    key=("security_id",),
)

ACCOUNTS = Table(
    "accounts",
    "One row per account (a fund, or a 13F filer by CIK).",
    (
        Column("account_id", "string", "Stable identifier used by every other table."),
        Column("name", "string", "Account or fund name."),
        Column("strategy", "enum", "The fund's strategy; 13f_filer for an account read from SEC "
               "13F filings (the 13F analytics read those).", values=STRATEGIES),
        Column("region", "string", "Region of the fund's book, e.g. North America.",
               required=False),
    ),
    key=("account_id",),
)

POSITIONS = Table(
    "positions",
    "End-of-day holdings: one row per date, account and security.",
    (
        Column("date", "date", "Trading day of the holding."),
        Column("account_id", "string", "Account holding the position."),
        Column("security_id", "string", "Security held."),
        Column("quantity", "float", "Shares held, signed (short < 0); an input row with 0 "
               "closes the stored position (a missing row means a zero position)."),
        Column("available_from", "date", "First date the row was knowable (13F: filing date).",
               required=False, default_from="date"),
        Column("reported_value", "float", "Market value the source reports for the holding, in "
               "USD (13F: VALUE, in dollars whatever unit the filing used); empty for books "
               "valued at prices.", required=False, sign="non_negative"),
    ),
    key=("date", "account_id", "security_id"),
    partition="date",
    references={"account_id": "accounts", "security_id": "securities"},
)

POSITION_VERSIONS = Table(
    "position_versions",
    "Earlier versions of positions that a later filing replaced or closed (13F amendments): "
    "what was knowable from available_from until superseded_from. Kept by the store, not ingested.",
    (
        *POSITIONS.columns[:3],
        Column("quantity", "float", "Shares held in this version."),
        Column("available_from", "date", "First date this version was knowable."),
        POSITIONS.column("reported_value"),
        Column("superseded_from", "date", "The filing date of the version that replaced it."),
    ),
    key=("date", "account_id", "security_id", "available_from"),
    partition="date",
)

POSITION_FLOWS = Table(
    "position_flows",
    "Daily flows per account and security derived from position changes (smartmoney.metrics."
    "flows.position_flows), kept by the store and refreshed for the days an ingest changes. Not "
    "ingested.",
    (
        *POSITIONS.columns[:3],
        *(Column(side, "float", f"USD {side.replace('_', ' ')} of the day, at the day's close.")
          for side in TRADE_SIDES),
    ),
    key=("date", "account_id", "security_id"),
    partition="date",
)

PERIOD_FLOWS = Table(
    "period_flows",
    "Weekly and monthly sums of position_flows per account and security, kept by the store and "
    "refreshed for the periods an ingest changes; metrics read them for every period that has "
    "ended by their as-of date. Not ingested.",
    (
        Column("freq", "enum", "The period: W (Monday to Friday) or M (calendar month).", values=("W", "M")),
        Column("period_end", "date", "The last trading day the data holds in the period."),
        *POSITIONS.columns[1:3],
        *(Column(side, "float", f"USD {side.replace('_', ' ')} over the period.") for side in TRADE_SIDES),
    ),
    key=("freq", "period_end", "account_id", "security_id"),
    partition="period_end",
    files="one file per frequency and period",
)

PERIOD_VALUES = Table(
    "period_values",
    "Positions valued at the close on the days that end a week or a month (quantity x close), kept "
    "by the store for exposure and refreshed for the days an ingest changes. Not ingested.",
    (
        *POSITIONS.columns[:3],
        Column("value", "float", "USD value of the holding at the day's close, signed (short < 0)."),
    ),
    key=("date", "account_id", "security_id"),
    partition="date",
)

# The tables the store derives and keeps itself (never ingested).
DERIVED = ("position_flows", "period_flows", "period_values")

TRADES = Table(
    "trades",
    "Executed trades; when present, flows come from them instead of position changes.",
    (
        Column("date", "date", "Trading day of the execution."),
        Column("account_id", "string", "Account that traded."),
        Column("security_id", "string", "Security traded."),
        Column("trade_id", "string", "Trade identifier, unique per date and account; when "
               "the input has none, one is derived from the row's content.", required=False),
        Column("quantity", "float", "Shares, signed: buys > 0, sells < 0.", sign="non_zero"),
        Column("price", "float", "Execution price, USD.", sign="positive"),
        Column("side", "enum", "Which flow component the trade is.", values=TRADE_SIDES),
    ),
    key=("date", "account_id", "trade_id"),
    partition="date",
    references={"account_id": "accounts", "security_id": "securities"},
)

PRICES = Table(
    "prices",
    "Daily closing prices.",
    (
        Column("date", "date", "Trading day."),
        Column("security_id", "string", "Security priced."),
        Column("close", "float", "Closing price, USD.", sign="positive"),
    ),
    key=("date", "security_id"),
    partition="date",
    references={"security_id": "securities"},
)

EQUITY = Table(
    "equity",
    "Account capital (NAV) per day; an account is present on a day when it has a row.",
    (
        Column("date", "date", "Trading day."),
        Column("account_id", "string", "Account."),
        Column("equity", "float", "Capital / NAV, USD.", sign="positive"),
    ),
    key=("date", "account_id"),
    partition="date",
    references={"account_id": "accounts"},
)

RETAIL_FLOWS = Table(
    "retail_flows",
    "Retail buying and selling per security and day (vendor file or derived from tapes).",
    (
        Column("date", "date", "Trading day."),
        Column("security_id", "string", "Security."),
        Column("retail_buy_usd", "float", "Retail buy turnover, USD.", sign="non_negative"),
        Column("retail_sell_usd", "float", "Retail sell turnover, USD.", sign="non_negative"),
        Column("retail_buy_shares", "float", "Retail shares bought (tape-derived rows).",
               required=False, sign="non_negative"),
        Column("retail_sell_shares", "float", "Retail shares sold (tape-derived rows).",
               required=False, sign="non_negative"),
        Column("retail_buy_trades", "integer", "Retail buy trades (tape-derived rows).",
               required=False, sign="non_negative"),
        Column("retail_sell_trades", "integer", "Retail sell trades (tape-derived rows).",
               required=False, sign="non_negative"),
    ),
    key=("date", "security_id"),
    partition="date",
    references={"security_id": "securities"},
)

TICKS = Table(
    "ticks",
    "Trade prints from a tape, for retail identification. Times are exchange local time (ET).",
    (
        Column("date", "date", "Trading day of the print (from ts)."),
        Column("symbol", "string", "Ticker as the tape writes it."),
        Column("ts", "timestamp", "Time of the print, exchange local time (ET), to the microsecond."),
        Column("seq", "integer", "Order among prints of the same symbol and ts in the input (from 0).",
               sign="non_negative"),
        Column("price", "float", "Trade price, USD (sub-penny digits kept).", sign="positive"),
        Column("size", "float", "Shares traded.", sign="positive"),
        Column("exchange", "string", "Venue code; D is off-exchange (FINRA ADF/TRF)."),
        Column("conditions", "string", "Sale condition codes as the tape gives them.", required=False),
    ),
    key=("date", "symbol", "ts", "seq"),
    partition="date",
)

QUOTES = Table(
    "quotes",
    "National best bid and offer (NBBO) updates, for the quote-midpoint retail rule.",
    (
        Column("date", "date", "Trading day of the quote (from ts)."),
        Column("symbol", "string", "Ticker as the tape writes it."),
        Column("ts", "timestamp", "Time the quote took effect, exchange local time (ET)."),
        Column("seq", "integer", "Order among quotes of the same symbol and ts in the input (from 0).",
               sign="non_negative"),
        Column("bid", "float", "Best bid, USD.", sign="positive"),
        Column("ask", "float", "Best offer, USD; not below the bid.", sign="positive"),
    ),
    key=("date", "symbol", "ts", "seq"),
    partition="date",
)

FUTURES_POSITIONS = Table(
    "futures_positions",
    "CFTC Commitments of Traders: positions per contract, trader category and report date.",
    (
        Column("report_date", "date", "The Tuesday the positions are as of."),
        Column("release_date", "date", "The day the CFTC published them (usually the Friday after)."),
        Column("available_from", "date", "First date the row was knowable (the release date).",
               required=False, default_from="release_date"),
        Column("report", "enum", "Which report: TFF or legacy, futures only or combined.",
               values=FUTURES_REPORTS),
        Column("contract_code", "string", "CFTC contract market code (stable across renames)."),
        Column("market", "string", "Market and exchange name as the report writes it that week."),
        Column("category", "enum", "Trader category (TFF: dealer ... nonreportables; legacy: "
               "noncommercial, commercial, nonreportables).", values=FUTURES_CATEGORIES),
        Column("long", "float", "Long contracts.", sign="non_negative"),
        Column("short", "float", "Short contracts.", sign="non_negative"),
        Column("spread", "float", "Spreading contracts (none for nonreportables and legacy "
               "commercials).", required=False,
               sign="non_negative"),
        Column("open_interest", "float", "Open interest of the contract, all categories.",
               sign="non_negative"),
    ),
    key=("report_date", "report", "contract_code", "category"),
)

SHORT_VOLUME = Table(
    "short_volume",
    "FINRA daily short sale volume per symbol and reporting facility (or consolidated, CNMS).",
    (
        Column("date", "date", "Trading day."),
        Column("symbol", "string", "Symbol as FINRA writes it (class shares as BRK/B)."),
        Column("facility", "string", "CNMS (consolidated) or the facility code: FNRA, FNSQ, FNQC, "
               "FNYX, FORF."),
        Column("short_volume", "float", "Shares sold short (may be fractional).", sign="non_negative"),
        Column("short_exempt_volume", "float", "Short-exempt shares.", sign="non_negative"),
        Column("total_volume", "float", "All shares reported.", sign="non_negative"),
        Column("market", "string", "Markets the volume was reported for, e.g. B,Q,N.", required=False),
    ),
    key=("date", "symbol", "facility"),
    partition="date",
)

SHORT_INTEREST = Table(
    "short_interest",
    "FINRA short interest per symbol and settlement date (twice a month).",
    (
        Column("settlement_date", "date", "Settlement date the short positions are as of."),
        Column("symbol", "string", "Symbol as FINRA writes it."),
        Column("short_interest", "float", "Shares short.", sign="non_negative"),
        Column("prev_short_interest", "float", "Shares short at the previous settlement date.",
               required=False, sign="non_negative"),
        Column("avg_daily_volume", "float", "Average daily volume FINRA used.", required=False,
               sign="non_negative"),
        Column("days_to_cover", "float", "short_interest / avg_daily_volume as FINRA states it; "
               "FINRA caps it at 999.99.", required=False, sign="non_negative"),
        Column("available_from", "date", "First date the row was knowable (FINRA's publication date).",
               required=False, default_from="settlement_date"),
    ),
    key=("settlement_date", "symbol"),
)

TABLES: dict[str, Table] = {
    table.name: table
    for table in (SECURITIES, ACCOUNTS, POSITIONS, POSITION_VERSIONS, POSITION_FLOWS, PERIOD_FLOWS,
                  PERIOD_VALUES, TRADES, PRICES, EQUITY, RETAIL_FLOWS, TICKS,
                  QUOTES, FUTURES_POSITIONS, SHORT_VOLUME, SHORT_INTEREST)
}

# What `ingest` fills first: reference tables before the tables that point at them.
INGEST_ORDER = ("securities", "accounts", "prices", "equity", "positions", "trades",
                "retail_flows", "ticks", "quotes", "futures_positions", "short_volume", "short_interest")


_RULES = {"positive": "> 0", "non_negative": ">= 0", "non_zero": "!= 0"}


def markdown() -> str:
    """docs/tables.md: every canonical table with its columns and rules."""
    lines = [(Path(__file__).parent / "schema_intro.md").read_text().rstrip(), ""]
    for table in TABLES.values():
        stored = f"Partitioned by {table.partition} ({table.files})." if table.partition else "One file."
        lines += [f"## {table.name}", "", table.meaning, "",
                  f"Key: ({', '.join(table.key)}). {stored}", ""]
        if table.references:
            refs = ", ".join(f"`{column}` -> {target}" for column, target in table.references.items())
            lines += [f"References: {refs}.", ""]
        lines += ["| column | type | required | rule | meaning |", "|---|---|---|---|---|"]
        for c in table.columns:
            rule = (" \\| ".join(c.values) if c.values
                    else f"defaults to {c.default_from}" if c.default_from else _RULES.get(c.sign, ""))
            lines.append(f"| {c.name} | {c.kind} | {'yes' if c.required else 'no'} | {rule} | {c.meaning} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
