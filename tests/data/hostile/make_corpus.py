"""Write the hostile-input corpus: tests/data/hostile/<format>/* and cases.toml.

    .venv/bin/python tests/data/hostile/make_corpus.py

Every case is one input file and what ingesting it must do (tests/test_hostile.py runs them
all): either `error` (the whole file refused, the store unchanged; a substring of the one-line
error), or `rejected`/`accepted` (input rows; read = accepted + rejected) with `reason` (a
substring of a reject's reason). `row` is the row the message or the reject names. Good rows
are built from the fixtures under tests/data (the CFTC, FINRA, 13F and LEAN files); the output
is deterministic, so running this again rewrites the same bytes.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
DATA = HERE.parent
CASES: list[dict] = []
FORMATS = ("tables", "sec13f", "cftc", "finra", "ticks", "scenario")
_ZIP_TIME = (2024, 1, 2, 3, 4, 6)


def case(fmt: str, file: str, kind: str, data: bytes | str | None, note: str, **expect) -> None:
    """Register one case; `data` None means the file is written by the caller."""
    assert fmt in FORMATS and all(c["file"] != file or c["format"] != fmt for c in CASES), file
    if data is not None:
        path = HERE / fmt / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    CASES.append({"format": fmt, "kind": kind, "file": file, "note": note, **expect})


def zipped(members: list[tuple[str, bytes | str]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content.encode() if isinstance(content, str) else content)
    return buffer.getvalue()


def parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def lines(*rows: str, end: str = "\n") -> str:
    return end.join(rows) + end


# ------------------------------------------------------------------------------ tables

POS_HEADER = "date,account_id,security_id,quantity"
POS_GOOD = ["2024-06-03,F1,AAPL,1500", "2024-06-03,F1,MSFT,-200", "2024-06-03,F2,NVDA,300.5",
            "2024-06-04,F2,XOM,4000", "2024-06-04,F3,AAPL,-1200"]


def positions(*bad: tuple[int, str]) -> str:
    """The good positions with row `n` (1-based data row) replaced or inserted."""
    rows = list(POS_GOOD)
    for number, text in bad:
        rows.insert(number - 1, text)
    return lines(POS_HEADER, *rows)


def tables() -> None:
    t = "tables"
    case(t, "empty.csv", "positions", b"", "a zero-byte file", error="the file is empty")
    case(t, "blank_lines_only.csv", "positions", "\n\r\n   \n\t\n", "only whitespace", error="the file is empty")
    case(t, "nul_bytes.csv", "positions", POS_HEADER.encode() + b"\n2024-06-03,F1,AA\x00\x00PL,1\n",
         "NUL bytes in a row", error="contains NUL bytes")
    case(t, "utf16_bom.csv", "positions", positions().encode("utf-16"), "UTF-16 with its BOM",
         error="contains NUL bytes")
    case(t, "header_only.csv", "positions", POS_HEADER + "\n", "a header and no rows", accepted=0, rejected=0)
    case(t, "header_only_bom_crlf.csv", "positions", "\ufeff" + POS_HEADER + "\r\n",
         "a header with a BOM and CRLF, no rows", accepted=0, rejected=0)
    case(t, "utf8_bom.csv", "positions", "\ufeff" + positions(), "a UTF-8 BOM before the header",
         accepted=5, rejected=0)
    case(t, "crlf.csv", "positions", lines(POS_HEADER, *POS_GOOD, end="\r\n"), "CRLF line endings",
         accepted=5, rejected=0)
    case(t, "crlf_lf_mixed.csv", "positions",
         POS_HEADER + "\r\n" + "\n".join(POS_GOOD[:2]) + "\r\n" + "\r\n".join(POS_GOOD[2:]) + "\n",
         "CRLF and LF mixed", accepted=5, rejected=0)
    case(t, "cr_only.csv", "positions", lines(POS_HEADER, *POS_GOOD, end="\r"), "old Mac CR line endings",
         accepted=5, rejected=0)
    latin = positions((3, "2024-06-03,F1,NESTL\xc9,10")).encode("latin-1")
    case(t, "latin1_row3.csv", "positions", latin, "a Latin-1 byte in data row 3",
         error="not UTF-8", row=3)
    big_latin = (POS_HEADER + "\n" + "2024-06-03,F1,AAPL,1\n" * 1 + "".join(
        f"2024-06-03,F1,AAPL,{n}\n" for n in range(3500)) + "2024-06-04,F1,CAF\xc9,1\n").encode("latin-1")
    case(t, "latin1_beyond_64k.csv", "positions", big_latin,
         "a Latin-1 byte on data row 3502, past the first 64 KiB", error="not UTF-8", row=3502)
    case(t, "missing_column.csv", "positions", lines("date,account_id,security_id", "2024-06-03,F1,AAPL"),
         "no quantity column", error="missing required column quantity", row=1)
    case(t, "duplicated_header.csv", "positions",
         lines("date,account_id,security_id,quantity,quantity", "2024-06-03,F1,AAPL,1,2"),
         "quantity named twice", error="appears twice in the header", row=1)
    case(t, "renamed_headers.csv", "positions", lines("Date,Account,Ticker,Qty", "2024-06-03,F1,AAPL,1"),
         "a vendor's own header names", error="names none of its columns", row=1)
    case(t, "semicolon_delimited.csv", "positions", positions().replace(",", ";"),
         "semicolons instead of commas", error="names none of its columns", row=1)
    case(t, "tab_delimited.csv", "equity", lines("date\taccount_id\tequity", "2024-06-03\tF1\t1000000"),
         "tabs instead of commas", error="names none of its columns", row=1)
    case(t, "no_header.csv", "positions", lines(*POS_GOOD), "the header line is missing",
         error="names none of its columns", row=1)
    case(t, "spaced_header.csv", "positions", lines(" date , account_id ,security_id , quantity", *POS_GOOD),
         "spaces around the header names", accepted=5, rejected=0)
    case(t, "extra_field.csv", "positions", positions((2, "2024-06-03,F3,MSFT,10,oops")),
         "one row with a fifth field", accepted=5, rejected=1, reason="expected 4 fields, found 5", row=2)
    case(t, "missing_field.csv", "positions", positions((4, "2024-06-03,F3,MSFT")),
         "one row with three fields", accepted=5, rejected=1, reason="expected 4 fields, found 3", row=4)
    case(t, "truncated_last_row.csv", "positions", lines(POS_HEADER, *POS_GOOD) + "2024-06-04,F3,MS",
         "the file cut in the middle of its last row", accepted=5, rejected=1,
         reason="expected 4 fields, found 3", row=6)
    case(t, "unterminated_quote.csv", "positions", lines(POS_HEADER, *POS_GOOD) + '2024-06-04,F3,"MSFT,12\n',
         "a quote opened and never closed", accepted=5, rejected=1, row=6)
    case(t, "blank_line_then_bad_row.csv", "positions",
         lines(POS_HEADER, POS_GOOD[0], "", POS_GOOD[1], "2024-06-04,F1,AAPL,1,2", "2024-06-04,F1,ZZZZ,1"),
         "a blank line, then a row with too many fields and a row with an unknown id", accepted=2, rejected=2,
         reason="expected 4 fields, found 5")
    case(t, "quoted_newline.csv", "positions", positions((2, '2024-06-03,F1,"AA\nPL",5')),
         "a quoted field holding a newline", accepted=5, rejected=1, reason="unknown", row=2)
    case(t, "huge_numbers.csv", "positions",
         positions((1, "2024-06-03,F3,MSFT,1e400"), (2, "2024-06-03,F3,NVDA,-1e309"),
                   (3, "2024-06-03,F3,XOM,99999999999999999999999999999999999999")),
         "values beyond a float", accepted=6, rejected=2, reason="is not a finite number", row=1)
    case(t, "nan_inf.csv", "positions",
         positions((1, "2024-06-03,F3,MSFT,NaN"), (2, "2024-06-03,F3,NVDA,inf"), (3, "2024-06-03,F3,XOM,-Infinity")),
         "NaN and infinities", accepted=5, rejected=3, reason="is not a finite number", row=1)
    case(t, "not_numbers.csv", "positions",
         positions((1, "2024-06-03,F3,MSFT,1.234.5"), (2, "2024-06-03,F3,NVDA,12abc"), (3, "2024-06-03,F3,XOM,0x10")),
         "numbers that are not", accepted=5, rejected=3, reason="is not a finite number", row=2)
    case(t, "negative_price.csv", "prices",
         lines("date,security_id,close", "2024-06-03,AAPL,194.03", "2024-06-03,MSFT,-413.52", "2024-06-03,NVDA,0"),
         "a negative and a zero close", accepted=1, rejected=2, reason="must be > 0", row=2)
    case(t, "zero_equity.csv", "equity", lines("date,account_id,equity", "2024-06-03,F1,0", "2024-06-03,F2,-5e6",
                                                "2024-06-03,F3,2.5e8"),
         "NAV zero and negative", accepted=1, rejected=2, reason="must be > 0", row=1)
    case(t, "holiday_weekend.csv", "positions",
         positions((1, "2024-07-04,F1,AAPL,1"), (2, "2024-06-08,F1,AAPL,1")),
         "Independence Day and a Saturday", accepted=5, rejected=2, reason="is not an NYSE trading day", row=1)
    case(t, "dates_out_of_range.csv", "positions",
         positions((1, "1899-12-29,F1,AAPL,1"), (2, "9999-12-31,F1,AAPL,1"), (3, "2024-02-30,F1,AAPL,1"),
                   (4, "24-06-03,F1,AAPL,1"), (5, "2024/06/03,F1,AAPL,1"), (6, "0000-01-01,F1,AAPL,1")),
         "dates far out of range and malformed", accepted=5, rejected=6, reason="date:", row=1)
    case(t, "unknown_ids.csv", "positions",
         positions((1, "2024-06-03,F9,AAPL,1"), (2, "2024-06-03,F1,NOPE,1"), (3, "2024-06-03,f1,aapl,1")),
         "an unknown account, an unknown security, ids in the wrong case", accepted=5, rejected=3,
         reason="not in the", row=1)
    case(t, "duplicate_keys.csv", "positions", positions((6, "2024-06-03,F1,AAPL,1600")),
         "the same key twice with different quantities", accepted=4, rejected=2, reason="duplicate key", row=1)
    case(t, "empty_cells.csv", "positions", positions((1, ",F1,AAPL,1"), (2, "2024-06-03,,AAPL,1"),
                                                        (3, "2024-06-03,F1,AAPL,")),
         "required cells left empty (row 3 then shares its key with row 4)", accepted=4, rejected=4,
         reason="is empty", row=1)
    case(t, "available_before_date.csv", "positions",
         lines("date,account_id,security_id,quantity,available_from,reported_value",
               "2024-06-04,F1,AAPL,100,2024-06-03,19400", "2024-06-04,F1,MSFT,100,2024-06-05,-1",
               "2024-06-04,F2,AAPL,100,2024-06-05,19400"),
         "known before it existed; a negative reported value", accepted=1, rejected=2,
         reason="available_from is before date", row=1)
    case(t, "zero_width_header.csv", "positions", "\u200b" + positions(), "a zero-width space before 'date'",
         error="missing required column date", row=1)
    case(t, "fullwidth_digits.csv", "positions", positions((1, "2024-06-03,F3,MSFT,\uff11\uff12\uff13")),
         "full-width digits", accepted=5, rejected=1, reason="is not a finite number", row=1)
    trades = lines("date,account_id,security_id,quantity,price,side",
                   "2024-06-03,F1,AAPL,100,194.0,long_buy",
                   "2024-06-03,F1,AAPL,-100,194.0,long_buy",
                   "2024-06-03,F1,AAPL,0,194.0,long_sell",
                   "2024-06-03,F1,AAPL,100,194.0,buy",
                   "2024-06-03,F1,AAPL,-50,-1,short_sale")
    case(t, "trades_bad_sides.csv", "trades", trades, "sign against side, zero, unknown side, negative price",
         accepted=1, rejected=4, reason="quantity sign does not match side", row=2)
    case(t, "securities_bad_gics.csv", "securities",
         lines("security_id,ticker,name,sector,sub_industry,asset_type",
               "ZZA,ZZA,Zed A,Information Technology,Semiconductors,stock",
               "ZZB,ZZB,Zed B,Energy,Semiconductors,stock",
               "ZZC,ZZC,Zed C,Made Up Sector,,stock",
               "ZZD,ZZD,Zed D,,,bond"),
         "GICS names that clash or do not exist, an unknown asset type", accepted=1, rejected=3,
         reason="is not a GICS 2023 name", row=3)
    case(t, "accounts_bad_strategy.csv", "accounts",
         lines("account_id,name,strategy", "F7,Fund Seven,systematic", "F8,Fund Eight,HFT", "F9,,other"),
         "an unknown strategy and an empty name", accepted=1, rejected=2, reason="is not one of", row=2)
    case(t, "retail_vendor_unknown_symbol.csv", "retail_vendor",
         lines("date,symbol,retail_buy_turnover,retail_sell_turnover", "20240603,AAPL,1.5e7,1.2e7",
               "20240603,NOTATICKER,1e6,1e6", "20240632,MSFT,1e6,1e6", "20240604,MSFT,-1,1e6"),
         "a vendor file: an unknown symbol, a bad compact date, a negative turnover", accepted=1, rejected=3,
         reason="NOTATICKER", row=2)
    case(t, "zip_as_csv.csv", "positions", zipped([("positions.csv", positions())]),
         "a zip archive named .csv", error="contains NUL bytes")
    long_field = "2024-06-03,F1," + "A" * 70_000 + ",1"
    case(t, "very_long_field.csv", "positions", positions((1, long_field)),
         "one 70 KB field, past the first 64 KiB", accepted=5, rejected=1, reason="unknown", row=1)

    good = pa.table({"date": pa.array(["2024-06-03", "2024-06-03", "2024-06-04"]),
                     "account_id": ["F1", "F2", "F3"], "security_id": ["AAPL", "MSFT", "NVDA"],
                     "quantity": [100.0, -50.0, 25.0]})
    data = parquet(good)
    case(t, "truncated.parquet", "positions", data[: len(data) // 2], "a Parquet file cut in half",
         error="not a readable Parquet file")
    case(t, "magic_only.parquet", "positions", b"PAR1", "only the Parquet magic bytes",
         error="not a readable Parquet file")
    case(t, "footer_garbage.parquet", "positions", data[:-12] + b"\xff" * 8 + b"PAR1",
         "a Parquet file with a corrupt footer length", error="not a readable Parquet file")
    case(t, "missing_column.parquet", "positions", parquet(good.drop_columns(["quantity"])),
         "a Parquet file without quantity", error="missing required column quantity")
    case(t, "nan_inf.parquet", "positions",
         parquet(good.set_column(3, "quantity", pa.array([float("nan"), float("inf"), 1.0]))),
         "NaN and inf in a Parquet double column", accepted=1, rejected=2, reason="is not a finite number", row=1)
    case(t, "text_numbers.parquet", "positions",
         parquet(good.set_column(3, "quantity", pa.array(["12", "abc", None]))),
         "quantity as strings in Parquet, one not a number, one null", accepted=1, rejected=2,
         reason="is not a finite number", row=2)
    case(t, "int_dates.parquet", "positions",
         parquet(good.set_column(0, "date", pa.array([20240603, 20240603, 20240604]))),
         "dates as integers 20240603", accepted=0, rejected=3, reason="is not a date", row=1)
    case(t, "timestamp_dates.parquet", "positions",
         parquet(good.set_column(0, "date", pa.array([1717372800000000, 1717372800000000 + 3600 * 10**6,
                                                       1717804800000000], pa.timestamp("us")))),
         "Parquet timestamps: one with a time of day, one on a Saturday", accepted=1, rejected=2,
         reason="is not a date", row=2)
    case(t, "zero_rows.parquet", "positions", parquet(good.slice(0, 0)), "a Parquet file with no rows",
         accepted=0, rejected=0)
    case(t, "list_column.parquet", "positions",
         parquet(good.set_column(2, "security_id", pa.array([["AAPL"], ["MSFT", "X"], []]))),
         "security_id as a list column", error="column security_id")
    case(t, "binary_column.parquet", "positions",
         parquet(good.set_column(1, "account_id", pa.array([b"F1", b"\xff\xfe", b"F3"], pa.binary()))),
         "account_id as binary, one value not UTF-8", error="column account_id")
    dup = pa.Table.from_arrays([good.column(0), good.column(1), good.column(2), good.column(3), good.column(3)],
                               names=["date", "account_id", "security_id", "quantity", "quantity"])
    case(t, "duplicate_columns.parquet", "positions", parquet(dup), "quantity twice in a Parquet schema",
         error="appears twice")


# ------------------------------------------------------------------------------ ticks


def _lean(kind: str, count: int) -> list[str]:
    """The first `count` rows of the LEAN IBM fixture of `kind` (trade or quote)."""
    with zipfile.ZipFile(DATA / "ticks" / "ibm" / f"20131007_{kind}.zip") as archive:
        text = archive.read(archive.namelist()[0]).decode()
    return text.splitlines()[:count]


def ticks() -> None:
    t = "ticks"
    trades, quotes = _lean("trade", 6), _lean("quote", 8)
    name = "20131007_ibm_Trade_Tick"
    qname = "20131007_ibm_Quote_Tick"

    def trade_file(tag: str, *bad: tuple[int, str], rows: list[str] | None = None, end: str = "\n") -> str:
        body = list(trades if rows is None else rows)
        for number, text in bad:
            body.insert(number - 1, text)
        return lines(*body, end=end)

    case(t, f"{name}_empty.csv", "lean_trades", b"", "an empty LEAN file", error="the file is empty")
    case(t, f"{name}_nul.csv", "lean_trades", trade_file("").encode()[:40] + b"\x00" * 64,
         "NUL bytes", error="contains NUL bytes")
    case(t, f"{name}_header.csv", "lean_trades", lines("ms,price,size,exchange,conditions,suspicious", *trades),
         "a header row LEAN never writes", error="not milliseconds since midnight", row=1)
    case(t, "ibm_trades_no_day.csv", "lean_trades", trade_file(""), "a name without the day",
         error="cannot tell the symbol and day")
    case(t, f"{qname}_as_trades.csv", "lean_trades", lines(*quotes), "a quote file ingested as trades",
         error="cannot tell the symbol and day")
    case(t, f"{name}_fields.csv", "lean_trades", trade_file("", (2, "14450473,1818000,500,P"),
                                                              (4, "14450474,1818000,500,P,2000,0,9")),
         "rows with four and seven fields", accepted=6, rejected=2, reason="expected 6 fields", row=2)
    case(t, f"{name}_suspicious.csv", "lean_trades", trade_file("", (3, "14450480,1818000,500,P,2000,1")),
         "a print LEAN flags suspicious", accepted=6, rejected=1, reason="flagged suspicious", row=3)
    case(t, f"{name}_bad_ms.csv", "lean_trades",
         trade_file("", (1, "-5,1818000,500,P,2000,0"), (2, "86400000,1818000,500,P,2000,0"),
                    (3, "14450472.5,1818000,500,P,2000,0"), (4, "abc,1818000,500,P,2000,0")),
         "negative, past-midnight, fractional and text milliseconds", accepted=6, rejected=4,
         reason="is not a timestamp", row=1)
    case(t, f"{name}_bad_price.csv", "lean_trades",
         trade_file("", (1, "14450472,0,500,P,2000,0"), (2, "14450472,-1818000,500,P,2000,0"),
                    (3, "14450472,1e400,500,P,2000,0"), (4, "14450472,nan,500,P,2000,0"),
                    (5, "14450472,$181.80,500,P,2000,0")),
         "zero, negative, infinite, NaN and dollar-sign prices", accepted=6, rejected=5, reason="price:", row=1)
    case(t, f"{name}_bad_size.csv", "lean_trades",
         trade_file("", (1, "14450472,1818000,0,P,2000,0"), (2, "14450472,1818000,-100,P,2000,0"),
                    (3, "14450472,1818000,,P,2000,0"), (4, "14450472,1818000,1e999,P,2000,0")),
         "zero, negative, empty and infinite sizes", accepted=6, rejected=4, reason="size:", row=1)
    case(t, f"{name}_no_exchange.csv", "lean_trades", trade_file("", (2, "14450472,1818000,100,,2000,0")),
         "an empty exchange", accepted=6, rejected=1, reason="exchange is empty", row=2)
    case(t, f"{name}_crlf.csv", "lean_trades", trade_file("", end="\r\n"), "CRLF line endings",
         accepted=6, rejected=0)
    case(t, f"{name}_bom.csv", "lean_trades", "\ufeff" + trade_file(""), "a UTF-8 BOM LEAN never writes",
         accepted=6, rejected=0)
    case(t, f"{name}_latin1.csv", "lean_trades", trade_file("", (4, "14450472,1818000,100,\xc9,2000,0")).encode(
        "latin-1"), "a Latin-1 exchange code on row 4", error="not UTF-8", row=4)
    case(t, f"{name}_truncated.csv", "lean_trades", trade_file("") + "14500975,18180", "cut in the middle of a row",
         accepted=6, rejected=1, reason="expected 6 fields, found 2", row=7)
    case(t, f"{name}_blank_lines.csv", "lean_trades", trade_file("", (3, ""), (5, "   ")),
         "blank lines among the prints", accepted=6, rejected=1, reason="expected 6 fields")
    case(t, f"{name}_semicolons.csv", "lean_trades", trade_file("").replace(",", ";"),
         "semicolon-delimited", accepted=0, rejected=6, reason="expected 6 fields, found 1", row=1)
    case(t, "20131007_trade_wrong_member.zip", "lean_trades", zipped([("readme.txt", "see the csv")]),
         "a LEAN zip whose member has no LEAN name", error="cannot tell the symbol and day")
    case(t, "20131007_trade_empty.zip", "lean_trades", zipped([]), "an empty zip",
         error="the zip archive is empty")
    case(t, "20131007_trade_dir_only.zip", "lean_trades", zipped([("ibm/", "")]), "a zip holding only a folder",
         error="the zip archive is empty")
    case(t, "20131007_trade_zipslip.zip", "lean_trades", zipped([(f"../../../tmp/{name}.csv", trade_file(""))]),
         "a member named ../../../tmp/...: read in place, never extracted", accepted=6, rejected=0)
    case(t, "20131007_trade_two_members.zip", "lean_trades",
         zipped([(f"{name}.csv", trade_file("")), ("notes.txt", "hello")]),
         "one good member and one stray file", error="cannot tell the symbol and day")
    good_zip = zipped([(f"{name}.csv", trade_file(""))])
    case(t, "20131007_trade_truncated.zip", "lean_trades", good_zip[: len(good_zip) // 2],
         "a zip cut in half", error="a damaged zip archive")
    case(t, "20131007_trade_nested.zip", "lean_trades", zipped([(f"{name}.csv", good_zip)]),
         "a zip inside the zip under a tick-file name", error="contains NUL bytes")
    case(t, f"{qname}_no_nbbo.csv", "lean_quotes", lines(*quotes), "quotes before both sides exist",
         accepted=7, rejected=1, reason="no NBBO yet", row=1)
    case(t, f"{qname}_crossed.csv", "lean_quotes",
         lines(*quotes, "14400300,1900000,100,0,0,P,1,0"), "a bid above the standing ask",
         accepted=7, rejected=2, reason="a crossed quote", row=9)
    case(t, f"{qname}_trade_layout.csv", "lean_quotes", lines(*trades), "trade rows in a quote file",
         accepted=0, rejected=6, reason="expected 8 fields, found 6", row=1)

    tape = "ts,symbol,price,size,exchange,conditions"
    good = ["2024-06-03 09:30:00.000100,AAPL,194.0312,100,D,@", "2024-06-03 09:30:00.000100,AAPL,194.0312,100,D,@",
            "2024-06-03 09:30:01,MSFT,413.5,50,Q,"]
    case(t, "tape_bad_ts.csv", "ticks",
         lines(tape, *good, "2024-06-03T09:30:00Z,AAPL,194,1,D,", "2024-06-03 25:61:00,AAPL,194,1,D,",
               "06/03/2024 09:30,AAPL,194,1,D,", "9999-12-31 09:30:00,AAPL,194,1,D,"),
         "times with a zone, out of range, US layout, year 9999", accepted=3, rejected=4,
         reason="is not a timestamp", row=4)
    case(t, "tape_weekend.csv", "ticks", lines(tape, *good, "2024-06-08 10:00:00,AAPL,194,1,D,"),
         "a print on a Saturday", accepted=3, rejected=1, reason="is not an NYSE trading day", row=4)
    case(t, "tape_missing_symbol.csv", "ticks", lines("ts,price,size,exchange", "2024-06-03 09:30:00,194,1,D"),
         "no symbol column", error="missing required column symbol", row=1)
    case(t, "tape_bad_numbers.csv", "ticks",
         lines(tape, *good, "2024-06-03 10:00:00,AAPL,-194,1,D,", "2024-06-03 10:00:00,AAPL,194,0,D,",
               "2024-06-03 10:00:00,AAPL,inf,1,D,"),
         "negative price, zero size, infinite price", accepted=3, rejected=3, reason="must be > 0", row=4)
    case(t, "quotes_crossed.csv", "quotes",
         lines("ts,symbol,bid,ask", "2024-06-03 09:30:00,AAPL,194.00,194.02", "2024-06-03 09:30:01,AAPL,194.05,194.01",
               "2024-06-03 09:30:02,AAPL,,194.01"),
         "a crossed NBBO and a missing bid", accepted=1, rejected=2, reason="a crossed quote", row=2)
    case(t, "tape_nul.parquet", "ticks", b"PAR1" + b"\x00" * 100, "Parquet magic and zeros",
         error="not a readable Parquet file")


# ------------------------------------------------------------------------------ cftc


def _csv_rows(path: Path) -> list[list[str]]:
    import csv

    return list(csv.reader(path.read_text(encoding="utf-8").splitlines()))


def cftc_line(fields: list[str]) -> str:
    """A CFTC text line: the market name quoted, the rest as the CFTC writes them."""
    return ",".join([f'"{fields[0]}"', *(f'"{f}"' if "," in f else f for f in fields[1:])])


def cftc() -> None:
    t = "cftc"
    annual = _csv_rows(DATA / "cftc" / "FinFut2019_trimmed.txt")
    header = ",".join(f'"{name}"' for name in annual[0])
    rows = [r for r in annual[1:] if r[3] == "13874A"][:3]
    weekly = _csv_rows(DATA / "cftc" / "FinFutWk_2026-03-17.txt")
    legacy = _csv_rows(DATA / "cftc" / "legacy_cot_futures_only_annual_2025_trimmed.txt")
    legacy_header = ",".join(f'"{name}"' for name in legacy[0])
    legacy_rows = [r for r in legacy[1:] if r[3] == "001602"][:3]

    def edited(index: int, changes: dict[int, str]) -> list[list[str]]:
        out = [list(r) for r in rows]
        for column, value in changes.items():
            out[index][column] = value
        return out

    def tff(body: list[list[str]] | None = None, *, extra: list[str] = (), end: str = "\n") -> str:
        return lines(header, *(cftc_line(r) for r in (rows if body is None else body)), *extra, end=end)

    good = tff()
    case(t, "FinFut_empty.txt", "cftc_tff", b"", "an empty file", error="the file is empty")
    case(t, "FinFut_nul.txt", "cftc_tff", good.encode()[:300] + b"\x00\x00\x00", "NUL bytes",
         error="contains NUL bytes")
    case(t, "FinFut_utf16.txt", "cftc_tff", good.encode("utf-16"), "UTF-16 with a BOM", error="contains NUL bytes")
    case(t, "FinFut_header_only.txt", "cftc_tff", lines(header), "a header and no rows",
         error="a header but no data rows")
    case(t, "deacot_as_tff.txt", "cftc_tff", lines(legacy_header, *(cftc_line(r) for r in legacy_rows)),
         "a legacy file ingested as TFF", error="ingest it as cftc_legacy", row=1)
    case(t, "FinFut_as_legacy.txt", "cftc_legacy", good, "a TFF file ingested as legacy",
         error="ingest it as cftc_tff", row=1)
    case(t, "FinFut_renamed_column.txt", "cftc_tff", good.replace('"Open_Interest_All"', '"OpenInterest"', 1),
         "Open_Interest_All renamed", error="missing column Open_Interest_All", row=1)
    case(t, "FinFut_duplicated_column.txt", "cftc_tff",
         good.replace('"CFTC_Market_Code"', '"CFTC_Contract_Market_Code"', 1),
         "the contract code column named twice", error="appears twice in the header", row=1)
    short = [list(r) for r in rows]
    short[1] = short[1][:40]
    case(t, "FinFut_short_row.txt", "cftc_tff", tff(short), "row 2 cut to 40 fields", accepted=10, rejected=5,
         reason="expected 87 fields, found 40", row=2)
    case(t, "FinFut_truncated.txt", "cftc_tff", good + cftc_line(rows[0])[:200],
         "the file cut in the middle of row 4", accepted=15, rejected=5, reason="expected 87 fields", row=4)
    bumped = str(int(rows[0][8]) + 1000)
    case(t, "FinFut_sums_off.txt", "cftc_tff", tff(edited(0, {8: bumped})), "a dealer long that breaks the sums",
         accepted=10, rejected=5, reason="the longs do not add up", row=1)
    case(t, "FinFut_negative.txt", "cftc_tff", tff(edited(2, {9: "-5"})), "a negative position",
         accepted=10, rejected=5, reason="is negative", row=3)
    case(t, "FinFut_thousands_sep.txt", "cftc_tff", tff(edited(1, {7: "1,234,567"})), "open interest with commas",
         accepted=10, rejected=5, reason="is not a number", row=2)
    case(t, "FinFut_huge.txt", "cftc_tff", tff(edited(0, {7: "9007199254740993"})), "open interest above 2**53",
         accepted=10, rejected=5, reason="too large to hold exactly", row=1)
    case(t, "FinFut_nan.txt", "cftc_tff", tff(edited(0, {10: "NaN"}) ), "NaN in a spread",
         accepted=10, rejected=5, reason="is not a number", row=1)
    case(t, "FinFut_dot.txt", "cftc_tff", tff(edited(0, {10: "."})), "'.' for a spread",
         accepted=10, rejected=5, reason="is empty", row=1)
    case(t, "FinFut_fraction.txt", "cftc_tff", tff(edited(0, {10: "12.5"})), "half a contract",
         accepted=10, rejected=5, reason="not a whole number of contracts", row=1)
    case(t, "FinFut_weekend.txt", "cftc_tff", tff(edited(0, {1: "191228", 2: "2019-12-28"})), "a Saturday",
         accepted=10, rejected=5, reason="is a Saturday", row=1)
    case(t, "FinFut_bad_date.txt", "cftc_tff", tff(edited(0, {1: "190230", 2: "2019-02-30"})), "30 February",
         accepted=10, rejected=5, reason="is not a date", row=1)
    case(t, "FinFut_far_dates.txt", "cftc_tff",
         tff(edited(0, {1: "991229", 2: "2099-12-29"}) + [rows[0][:1] + ["000104", "0000-01-04"] + rows[0][3:]]),
         "report dates in 2099 (kept) and year 0", accepted=15, rejected=5, reason="'0000-01-04' is not a date", row=4)
    case(t, "FinFut_yymmdd.txt", "cftc_tff", tff(edited(1, {1: "191225"})), "the two dates disagree",
         accepted=10, rejected=5, reason="disagrees with", row=2)
    case(t, "FinFut_bad_code.txt", "cftc_tff", tff(edited(0, {3: "13874"})), "a five-character code",
         accepted=10, rejected=5, reason="is not a CFTC contract market code", row=1)
    case(t, "FinFut_empty_market.txt", "cftc_tff", tff(edited(0, {0: ""})), "no market name",
         accepted=10, rejected=5, reason="Market_and_Exchange_Names is empty", row=1)
    case(t, "FinFut_report_kind.txt", "cftc_tff", tff(edited(0, {86: "Both"})), "FutOnly_or_Combined = Both",
         accepted=10, rejected=5, reason="is neither FutOnly nor Combined", row=1)
    case(t, "FinFut_duplicate.txt", "cftc_tff", tff([*rows, rows[1]]), "row 2 again as row 4",
         accepted=10, rejected=10, reason="duplicate key", row=2)
    latin = tff(edited(1, {0: "CAF\xc9 - ICE FUTURES"})).encode("latin-1")
    case(t, "FinFut_latin1_row.txt", "cftc_tff", latin, "a Latin-1 market name on row 2",
         accepted=10, rejected=5, reason="not UTF-8 text", row=2)
    case(t, "FinFut_latin1_header.txt", "cftc_tff", good.replace("Market_and_Exchange_Names", "March\xe9", 1).encode(
        "latin-1"), "a Latin-1 byte in the header", error="not UTF-8 text", row=1)
    case(t, "FinFut_crlf.txt", "cftc_tff", tff(end="\r\n"), "CRLF line endings", accepted=15, rejected=0)
    case(t, "FinFut_bom.txt", "cftc_tff", "\ufeff" + good, "a UTF-8 BOM", accepted=15, rejected=0)
    case(t, "FinFut_blank_lines.txt", "cftc_tff", lines(header, cftc_line(rows[0]), "", "  ", cftc_line(rows[1]),
                                                         cftc_line(rows[2])[:-3] + ",x"),
         "blank lines (not rows), then a bad row on line 6", accepted=10, rejected=5,
         reason="expected 87 fields, found 88", row=5)
    case(t, "FinFut_semicolons.txt", "cftc_tff", good.replace(",", ";"), "semicolon-delimited",
         error="is neither its header", row=1)
    case(t, "FinFutWk_wrong_width.txt", "cftc_tff", lines(*(cftc_line(r[:80]) for r in weekly)),
         "a weekly file of 80 fields", error="is neither its header", row=1)
    week = lines(*(cftc_line(r) for r in weekly))
    case(t, "fut_fin_two_members.zip", "cftc_tff", zipped([("FinFutWk.txt", week), ("FinComWk.txt", week)]),
         "a zip with two text files", error="this one holds 2")
    case(t, "fut_fin_empty.zip", "cftc_tff", zipped([]), "an empty zip", error="this one holds 0")
    case(t, "fut_fin_zipslip.zip", "cftc_tff", zipped([("../../../../etc/FinFutWk.txt", week)]),
         "a member named ../../../../etc/...: read in place, never extracted", accepted=15, rejected=0)
    case(t, "fut_fin_readme.zip", "cftc_tff", zipped([("README.txt", "Commitments of Traders, see the website\n")]),
         "a zip holding a readme", error="not a CFTC Traders in Financial Futures file")
    whole = zipped([("FinFutWk.txt", week)])
    case(t, "fut_fin_truncated.zip", "cftc_tff", whole[: len(whole) // 2], "a zip cut in half",
         error="contains NUL bytes")
    legacy_text = lines(legacy_header, *(cftc_line(r) for r in legacy_rows))
    case(t, "cot_legacy_2025.txt", "cftc_legacy", legacy_text, "a legacy file whose name does not say the report",
         error="cannot tell whether this is the futures-only or the combined report")
    bad_legacy = [list(r) for r in legacy_rows]
    bad_legacy[2][8] = "-1"
    case(t, "cot_legacy_2025_combined_kind.txt", "cftc_legacy_combined",
         lines(legacy_header, *(cftc_line(r) for r in bad_legacy)),
         "a legacy file told by its kind, one negative row", accepted=6, rejected=3, reason="is negative", row=3)


# ------------------------------------------------------------------------------ finra


def finra() -> None:
    t = "finra"
    source = (DATA / "finra" / "short_volume" / "CNMSshvol20200102.txt").read_text().splitlines()
    header, rows = source[0], source[1:6]

    def volume(*bad: tuple[int, str], body: list[str] | None = None, trailer: str | None = None,
               end: str = "\n") -> str:
        out = list(rows if body is None else body)
        for number, text in bad:
            out.insert(number - 1, text)
        return lines(header, *out, str(len(out)) if trailer is None else trailer, end=end)

    name = "CNMSshvol20200102"
    case(t, f"{name}_empty.txt", "finra_short_volume", b"", "an empty file", error="the file is empty")
    case(t, f"{name}_nul.txt", "finra_short_volume", volume().encode()[:100] + b"\x00" * 20, "NUL bytes",
         error="contains NUL bytes")
    case(t, f"{name}_header_only.txt", "finra_short_volume", lines(header), "a header, no rows, no trailer",
         error="no record-count trailer")
    case(t, f"{name}_trailer_only.txt", "finra_short_volume", lines(header, "0"), "a header and a zero trailer",
         accepted=0, rejected=0)
    case(t, f"{name}_trailer_more.txt", "finra_short_volume", volume(trailer="6"), "the trailer says 6 of 5",
         error="the trailer (line 7) says 6 data rows but the file has 5", row=6)
    case(t, f"{name}_trailer_less.txt", "finra_short_volume", volume(trailer="4"), "the trailer says 4 of 5",
         error="says 4 data rows but the file has 5", row=6)
    case(t, f"{name}_no_trailer.txt", "finra_short_volume", lines(header, *rows), "the trailer is missing",
         error="no record-count trailer", row=5)
    case(t, f"{name}_cut_mid_row.txt", "finra_short_volume", lines(header, *rows) + rows[0][:12],
         "cut in the middle of a row", error="no record-count trailer", row=6)
    case(t, f"{name}_trailer_words.txt", "finra_short_volume", volume(trailer="Total records: 5"),
         "a trailer in words", error="no record-count trailer", row=6)
    case(t, f"{name}_trailer_negative.txt", "finra_short_volume", volume(trailer="-5"), "a negative trailer",
         error="no record-count trailer", row=6)
    case(t, f"{name}_header_renamed.txt", "finra_short_volume",
         volume().replace("ShortExemptVolume", "ExemptVolume", 1), "a renamed header column",
         error="not a FINRA short sale volume file", row=1)
    case(t, f"{name}_commas.txt", "finra_short_volume", volume().replace("|", ","), "comma-delimited",
         error="not a FINRA short sale volume file", row=1)
    case(t, f"{name}_bom.txt", "finra_short_volume", "\ufeff" + volume(), "a UTF-8 BOM", accepted=5, rejected=0)
    case(t, f"{name}_crlf.txt", "finra_short_volume", volume(end="\r\n"), "CRLF line endings", accepted=5, rejected=0)
    mixed = volume().replace("\n", "\r\n", 3)
    case(t, f"{name}_mixed_eol.txt", "finra_short_volume", mixed, "CRLF and LF mixed", accepted=5, rejected=0)
    case(t, f"{name}_latin1_header.txt", "finra_short_volume", volume().replace("Symbol", "Symb\xf6l", 1).encode(
        "latin-1"), "a Latin-1 byte in the header", error="not UTF-8 text", row=1)
    case(t, f"{name}_latin1_row.txt", "finra_short_volume",
         volume((3, "20200102|CAF\xc9|100|0|200|Q")).encode("latin-1"), "a Latin-1 symbol on row 3",
         accepted=5, rejected=1, reason="not UTF-8 text", row=3)
    case(t, f"{name}_fields.txt", "finra_short_volume",
         volume((2, "20200102|ZZZA|100|0|200"), (4, "20200102|ZZZB|100|0|200|Q|extra")),
         "rows with five and seven fields", accepted=5, rejected=2, reason="expected 6 fields", row=2)
    case(t, f"{name}_blank_row.txt", "finra_short_volume", volume((3, "")), "an empty line counted by the trailer",
         accepted=5, rejected=1, reason="empty line", row=3)
    case(t, f"{name}_other_date.txt", "finra_short_volume", volume((1, "20200103|ZZZA|100|0|200|Q")),
         "a row dated the next day", accepted=5, rejected=1, reason="is not the file's date", row=1)
    case(t, f"{name}_exempt_above.txt", "finra_short_volume", volume((1, "20200102|ZZZA|100|150|200|Q")),
         "exempt above short volume", accepted=5, rejected=1, reason="is above short_volume", row=1)
    case(t, f"{name}_short_above_total.txt", "finra_short_volume", volume((1, "20200102|ZZZA|300|0|200|Q")),
         "short above total volume", accepted=5, rejected=1, reason="is above total_volume", row=1)
    case(t, f"{name}_negative.txt", "finra_short_volume", volume((2, "20200102|ZZZA|-100|0|200|Q")),
         "a negative short volume", accepted=5, rejected=1, reason="must be >= 0", row=2)
    case(t, f"{name}_huge.txt", "finra_short_volume",
         volume((1, "20200102|ZZZA|100|0|99999999999999999999|Q"), (2, "20200102|ZZZB|1e400|0|1e400|Q")),
         "a volume beyond 2**53 and infinite volumes", accepted=5, rejected=2, reason="is beyond 2**53", row=1)
    case(t, f"{name}_nan.txt", "finra_short_volume", volume((1, "20200102|ZZZA|NaN|0|200|Q"),
                                                           (2, "20200102|ZZZB|100|0|abc|Q")),
         "NaN and text volumes", accepted=5, rejected=2, reason="is not a finite number", row=1)
    case(t, f"{name}_duplicate.txt", "finra_short_volume", volume((6, rows[0])), "a symbol twice",
         accepted=4, rejected=2, reason="duplicate key", row=1)
    case(t, f"{name}_empty_symbol.txt", "finra_short_volume", volume((1, "20200102||100|0|200|Q")),
         "an empty symbol", accepted=5, rejected=1, reason="symbol is empty", row=1)
    case(t, "shortvolume_20200102.txt", "finra_short_volume", volume(), "a name FINRA does not use",
         error="cannot tell the facility and day")
    case(t, "XXXXshvol20200102.txt", "finra_short_volume", volume(), "an unknown facility",
         error="cannot tell the facility and day")
    holiday = volume(body=[r.replace("20200102", "20200101") for r in rows])
    case(t, "CNMSshvol20200101_holiday.txt", "finra_short_volume", holiday, "New Year's Day",
         accepted=0, rejected=5, reason="is not an NYSE trading day", row=1)
    case(t, "CNMSshvol20201301_bad_month.txt", "finra_short_volume",
         volume(body=[r.replace("20200102", "20201301") for r in rows]), "month 13 in the name and rows",
         accepted=0, rejected=5, reason="is not a date", row=1)

    api = (DATA / "finra" / "short_interest" / "consolidatedShortInterest_AAPL_BRKB.json").read_text()
    import json

    records = json.loads(api)[:4]

    def api_json(items) -> str:
        return json.dumps(items, separators=(",", ":"))

    case(t, "si_truncated.json", "finra_short_interest", api_json(records)[:300], "a JSON answer cut short",
         error="not valid JSON")
    case(t, "si_object.json", "finra_short_interest", json.dumps({"data": records}), "an object, not an array",
         error="expected a JSON array of records")
    case(t, "si_mixed.json", "finra_short_interest", api_json([*records, 42, "AAPL", None]),
         "an array with a number, a string and null among the records", accepted=4, rejected=3,
         reason="not a JSON object", row=5)
    case(t, "si_no_symbol.json", "finra_short_interest",
         api_json([{k: v for k, v in r.items() if k != "symbolCode"} for r in records]),
         "records without symbolCode", error="no symbolCode", row=1)
    case(t, "si_deep.json", "finra_short_interest", "[" * 5_000 + "]" * 5_000,
         "an array nested 5,000 deep", error="nested too deeply")
    inf = [dict(records[0], currentShortPositionQuantity=1e999), dict(records[1], daysToCoverQuantity=float("nan"))]
    case(t, "si_inf_nan.json", "finra_short_interest", json.dumps(inf + records[2:]),
         "Infinity and NaN literals", accepted=2, rejected=2, reason="is not a finite number", row=1)
    case(t, "si_days_cap.json", "finra_short_interest",
         api_json([dict(records[0], daysToCoverQuantity=1000.5), *records[1:]]), "days to cover above the cap",
         accepted=3, rejected=1, reason="above FINRA's cap", row=1)
    case(t, "si_change_mismatch.json", "finra_short_interest",
         api_json([dict(records[0], changePreviousNumber=1), *records[1:]]), "a change that is not current - previous",
         accepted=3, rejected=1, reason="is not current - previous", row=1)
    case(t, "si_nested_values.json", "finra_short_interest",
         api_json([dict(records[0], currentShortPositionQuantity={"value": 5}),
                   dict(records[1], settlementDate=[2026, 8, 31]), *records[2:]]),
         "an object and a list where values belong", accepted=2, rejected=2, reason="short_interest:", row=1)
    case(t, "si_latin1.json", "finra_short_interest", api_json(records).replace("Apple", "Appl\xe9").encode("latin-1"),
         "Latin-1 inside the JSON", error="not UTF-8 text")
    csv_text = (DATA / "finra" / "short_interest" /
                "finra_consolidated_short_interest_AAPL_BRKB_2025-11-14_to_2026-08-31.csv").read_text().splitlines()
    case(t, "si_bad_dates.csv", "finra_short_interest",
         lines(csv_text[0], *csv_text[1:4], csv_text[4].replace(csv_text[4][:10], "2026-02-30"),
               csv_text[5].replace(csv_text[5][:10], "31/08/2026")),
         "30 February and a day-first date", accepted=3, rejected=2, reason="is not a date", row=4)
    case(t, "si_duplicated_header.csv", "finra_short_interest",
         lines(csv_text[0].replace("issueName", "symbolCode"), *csv_text[1:4]), "symbolCode named twice",
         error="appears twice", row=1)
    case(t, "si_fields.csv", "finra_short_interest", lines(*csv_text[:3], "2026-08-31,AAPL", *csv_text[3:5]),
         "a short row", accepted=4, rejected=1, reason="expected 12 fields, found 2", row=3)
    shrt = (DATA / "finra" / "short_interest" / "shrt20260831.csv").read_text().splitlines()
    case(t, "shrt20260831_negative.csv", "finra_short_interest",
         lines(shrt[0], shrt[1].replace("|139749097|", "|-139749097|"), shrt[2]),
         "a negative short interest in FINRA's pipe file", accepted=1, rejected=1, reason="must be >= 0", row=1)
    case(t, "shrt20260831_beyond_calendar.csv", "finra_short_interest",
         lines(shrt[0], shrt[1].replace("2026-08-31", "2199-08-30"), shrt[2]),
         "a settlement date past the NYSE calendar", accepted=1, rejected=1, reason="is beyond the NYSE calendar",
         row=1)


# ------------------------------------------------------------------------------ sec13f

TABLE_NS = "http://www.sec.gov/edgar/document/thirteenf/informationtable"
GOOD_HOLDINGS = [("AGILENT TECHNOLOGIES INC", "00846U101", 1_300_000, 10_000),
                 ("AIRBNB INC", "009066101", 1_400_000, 10_000),
                 ("ABBOTT LABS", "002824100", 950_000, 9_000),
                 ("AUTOMATIC DATA PROCESSING IN", "053015103", 480_000, 2_000)]


def info_row(issuer: str, cusip: str, value, shares, kind: str | None = "SH", put_call: str | None = None,
             extra: str = "") -> str:
    parts = [f"<ns1:nameOfIssuer>{issuer}</ns1:nameOfIssuer>", "<ns1:titleOfClass>COM</ns1:titleOfClass>",
             f"<ns1:cusip>{cusip}</ns1:cusip>", f"<ns1:value>{value}</ns1:value>",
             "<ns1:shrsOrPrnAmt>", f"<ns1:sshPrnamt>{shares}</ns1:sshPrnamt>",
             *([f"<ns1:sshPrnamtType>{kind}</ns1:sshPrnamtType>"] if kind else []), "</ns1:shrsOrPrnAmt>",
             *([f"<ns1:putCall>{put_call}</ns1:putCall>"] if put_call else []), extra,
             "<ns1:investmentDiscretion>SOLE</ns1:investmentDiscretion>",
             (f"<ns1:votingAuthority><ns1:Sole>{shares}</ns1:Sole><ns1:Shared>0</ns1:Shared>"
              "<ns1:None>0</ns1:None></ns1:votingAuthority>")]
    return "\t<ns1:infoTable>\n" + "".join(f"\t\t{p}\n" for p in parts if p) + "\t</ns1:infoTable>\n"


def info_table(rows: list[str] | None = None, *, namespace: str = TABLE_NS, root: str = "informationTable",
               prolog: str = "") -> str:
    body = "".join(rows if rows is not None else [info_row(*h) for h in GOOD_HOLDINGS])
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{prolog}'
            f'<ns1:{root} xmlns:ns1="{namespace}">\n{body}</ns1:{root}>\n')


def sec13f() -> None:
    t = "sec13f"
    source = (DATA / "sec13f" / "edgartools_LTSOne_13F-HR_2023Q3_0001894188-23-000007.txt").read_text()
    header = source[: source.index("<DOCUMENT>")]
    cover = re.search(r"<XML>\n(.*?)</XML>", source, re.DOTALL).group(1)
    cover = re.sub(r"<tableEntryTotal>\d+</tableEntryTotal>", "<tableEntryTotal>4</tableEntryTotal>", cover)
    cover = re.sub(r"<tableValueTotal>\d+</tableValueTotal>", "<tableValueTotal>4130000</tableValueTotal>", cover)

    def submission(table: str | None = None, *, head: str = header, cover_xml: str = cover,
                   cover_type: str = "13F-HR") -> str:
        documents = (f"<DOCUMENT>\n<TYPE>{cover_type}\n<SEQUENCE>1\n<FILENAME>primary_doc.xml\n<TEXT>\n"
                     f"<XML>\n{cover_xml}</XML>\n</TEXT>\n</DOCUMENT>\n")
        if table is not False:
            documents += ("<DOCUMENT>\n<TYPE>INFORMATION TABLE\n<SEQUENCE>2\n<FILENAME>infotable.xml\n<TEXT>\n"
                          f"<XML>\n{info_table() if table is None else table}</XML>\n</TEXT>\n</DOCUMENT>\n")
        return head + documents + "</SEC-DOCUMENT>\n"

    def with_rows(*extra: str, replace_first: bool = False) -> str:
        rows = [info_row(*h) for h in GOOD_HOLDINGS]
        if replace_first:
            rows = rows[1:]
        return submission(info_table([*extra, *rows]))

    good = submission()
    laughs = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
              + "".join(f'<!ENTITY lol{n} "' + f"&lol{n - 1};" * 10 + '">' for n in range(2, 10)) + "]>\n")
    case(t, "empty.txt", "sec13f", b"", "an empty file", error="the file is empty")
    case(t, "nul.txt", "sec13f", good.encode()[:500] + b"\x00" * 10, "NUL bytes", error="contains NUL bytes")
    case(t, "utf16.txt", "sec13f", good.encode("utf-16"), "UTF-16 with a BOM", error="contains NUL bytes")
    case(t, "plain_text.txt", "sec13f", "13F holdings for Q3: AAPL 100, MSFT 200\n", "prose, not a filing",
         error="not a 13F file")
    case(t, "truncated.txt", "sec13f", good[: good.index("ABBOTT")], "cut in the middle of the information table",
         error="is not well-formed XML")
    case(t, "laughs_cover.txt", "sec13f", submission(cover_xml=cover.replace("<edgarSubmission", laughs +
                                                                            "<edgarSubmission", 1)),
         "billion laughs in the cover page", error="declares a DOCTYPE or ENTITY")
    case(t, "laughs_table.txt", "sec13f",
         submission(info_table([info_row("&lol9;", "00846U101", 1, 1)], prolog=laughs)),
         "billion laughs in the information table", error="declares a DOCTYPE or ENTITY")
    xxe = '<!DOCTYPE t [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    case(t, "xxe_table.txt", "sec13f", submission(info_table([info_row("&xxe;", "00846U101", 1, 1)], prolog=xxe)),
         "an external entity reading /etc/passwd", error="declares a DOCTYPE or ENTITY")
    padding = "<!--" + "x" * 70_000 + "-->\n"
    case(t, "laughs_after_64k.txt", "sec13f",
         submission(info_table([info_row("&lol9;", "00846U101", 1, 1)], prolog=padding + laughs)),
         "billion laughs after a 70 KB comment", error="declares a DOCTYPE or ENTITY")
    case(t, "unknown_encoding.txt", "sec13f",
         submission(cover_xml=cover.replace('encoding="UTF-8"', 'encoding="NaNUTF-8"', 1)),
         "an XML declaration naming an unknown encoding (found by fuzzing)",
         error="declares an encoding Python does not know")
    case(t, "wrong_namespace.txt", "sec13f", submission(info_table(namespace="http://example.com/13f")),
         "the information table in another namespace", error="is in the namespace")
    case(t, "wrong_root.txt", "sec13f", submission(info_table(root="informationTables")), "a misspelled root",
         error="the root element is <informationTables>")
    foreign = info_table().replace("<ns1:infoTable>", '<x:infoTable xmlns:x="http://example.com/x">').replace(
        "</ns1:infoTable>", "</x:infoTable>")
    case(t, "rows_foreign_namespace.txt", "sec13f", submission(foreign), "rows in a foreign namespace",
         error="holds no <infoTable> rows")
    case(t, "no_cover.txt", "sec13f", submission(cover_type="EX-99"), "no 13F-HR document",
         error="no 13F cover page")
    no_xml = good.replace("<XML>\n" + cover + "</XML>\n", cover.replace("<", "[")[:200] + "\n", 1)
    case(t, "cover_not_xml.txt", "sec13f", no_xml, "the cover page document without <XML>",
         error="has no <XML> cover page")
    no_cik = submission(head=header.replace("0001894188\n", "\n", 1), cover_xml=cover.replace(
        "<cik>0001894188</cik>", "<cik></cik>"))
    case(t, "no_cik.txt", "sec13f", no_cik, "no CIK anywhere", error="no filer CIK")
    case(t, "bad_cik.txt", "sec13f", submission(cover_xml=cover.replace("<cik>0001894188</cik>", "<cik>-1</cik>")),
         "a negative CIK", error="is not a CIK")
    case(t, "bad_period.txt", "sec13f", submission(head=header.replace("20230930", "2023-09-30", 1)),
         "the period in the wrong layout", error="CONFORMED PERIOD OF REPORT '2023-09-30' is not a date")
    case(t, "filed_before_period.txt", "sec13f", submission(head=header.replace("FILED AS OF DATE:\t\t20231114",
                                                                                 "FILED AS OF DATE:\t\t20230901")),
         "filed before the quarter ended", error="is before the end of the period")
    amended = submission(head=header.replace("CONFORMED SUBMISSION TYPE:\t13F-HR", "CONFORMED SUBMISSION TYPE:\t13F-HR/A"))
    case(t, "amendment_untyped.txt", "sec13f", amended, "an amendment that says neither RESTATEMENT nor NEW HOLDINGS",
         error="does not say whether it is a RESTATEMENT or NEW HOLDINGS")
    ancient = submission(head=header.replace("20230930", "19850930").replace("20231114", "19851114"),
                         cover_xml=cover.replace("09-30-2023", "09-30-1985").replace("11-14-2023", "11-14-1985"))
    case(t, "period_1985.txt", "sec13f", ancient, "a period before the NYSE calendar",
         error="is outside the NYSE calendar")
    case(t, "negative_value.txt", "sec13f", with_rows(info_row("MICROSOFT CORP", "594918104", "-5000", 10)),
         "a negative value", accepted=5, rejected=1, reason="is negative", row=1)
    case(t, "value_commas.txt", "sec13f", with_rows(info_row("MICROSOFT CORP", "594918104", "1,300,000", 10)),
         "a value with thousands separators", accepted=5, rejected=1, reason="is not a number", row=1)
    case(t, "shares_17_digits.txt", "sec13f",
         with_rows(info_row("MICROSOFT CORP", "594918104", 5000, "12345678901234567")),
         "17 digits of shares", accepted=5, rejected=1, reason="has more than 16 digits", row=1)
    case(t, "shares_exponent.txt", "sec13f", with_rows(info_row("MICROSOFT CORP", "594918104", 5000, "1e400")),
         "shares as an exponent", accepted=5, rejected=1, reason="is not a number", row=1)
    case(t, "unknown_cusip.txt", "sec13f", with_rows(info_row("NOBODY INC", "000000AA0", 5000, 10)),
         "a CUSIP no security has", accepted=5, rejected=1, reason="000000AA0", row=1)
    case(t, "short_cusip.txt", "sec13f", with_rows(info_row("MICROSOFT CORP", "59491810", 5000, 10)),
         "an eight-character CUSIP", accepted=5, rejected=1, reason="is not 9 letters and digits", row=1)
    case(t, "option_row.txt", "sec13f", with_rows(info_row("AGILENT", "00846U101", 5000, 10, put_call="Put")),
         "a put on a held CUSIP", accepted=5, rejected=1, reason="option row", row=1)
    case(t, "principal_row.txt", "sec13f", with_rows(info_row("MICROSOFT CORP", "594918104", 5000, 10, kind="PRN")),
         "a principal amount row", accepted=5, rejected=1, reason="principal amount row", row=1)
    case(t, "duplicated_element.txt", "sec13f",
         with_rows(info_row("MICROSOFT CORP", "594918104", 5000, 10, extra="<ns1:cusip>594918104</ns1:cusip>")),
         "a row with two cusip elements", accepted=5, rejected=1, reason="appears 2 times", row=1)
    case(t, "missing_type.txt", "sec13f", with_rows(info_row("MICROSOFT CORP", "594918104", 5000, 10, kind=None)),
         "no sshPrnamtType", accepted=5, rejected=1, reason="sshPrnamtType is missing", row=1)
    case(t, "same_cusip_one_bad.txt", "sec13f",
         with_rows(info_row("AGILENT", "00846U101", "-1", 10)),
         "one of two rows of a CUSIP bad: the position goes whole or not at all", accepted=4, rejected=2,
         reason="stored whole or not at all", row=2)
    case(t, "nested_value.txt", "sec13f",
         with_rows(info_row("MICROSOFT CORP", "594918104", "<ns1:amount>5</ns1:amount>", 10)),
         "an element inside value", accepted=5, rejected=1, reason="holds elements", row=1)
    case(t, "summary_mismatch.txt", "sec13f",
         submission(cover_xml=cover.replace("<tableEntryTotal>4</tableEntryTotal>", "<tableEntryTotal>40</tableEntryTotal>")),
         "a summary page stating 40 entries for 4 rows (kept, with a note)", accepted=5, rejected=0)
    case(t, "bom_crlf.txt", "sec13f", "\ufeff" + good.replace("\n", "\r\n"), "a BOM and CRLF line endings",
         accepted=5, rejected=0)

    sets = DATA / "sec13f" / "two_quarters"
    tsv = {name: (sets / name).read_text() for name in ("SUBMISSION.tsv", "COVERPAGE.tsv", "SUMMARYPAGE.tsv",
                                                        "INFOTABLE.tsv")}

    def dataset(**changes: str) -> bytes:
        return zipped([(changes.pop("_prefix", "") + name, changes.get(name.split(".")[0], text))
                       for name, text in tsv.items()])

    infotable = tsv["INFOTABLE.tsv"].splitlines()
    case(t, "dataset_no_summary.zip", "sec13f", zipped([(n, x) for n, x in tsv.items() if n != "SUMMARYPAGE.tsv"]),
         "a data set zip without SUMMARYPAGE.tsv", error="the zip holds no SUMMARYPAGE.tsv")
    case(t, "dataset_zipslip.zip", "sec13f", dataset(_prefix="../../../"),
         "members named ../../../*.tsv: read in place, never extracted", accepted=11, rejected=0)
    whole = dataset()
    case(t, "dataset_truncated.zip", "sec13f", whole[: len(whole) // 2], "a data set zip cut in half",
         error="a damaged zip archive")
    case(t, "dataset_header_only.zip", "sec13f", dataset(INFOTABLE=infotable[0] + "\n"),
         "INFOTABLE.tsv with a header only", error="a header and no rows", row=1)
    orphan = lines(*infotable, "0000000999-23-000009\tA\tCOM\t00846U101\t100\t1\tSH\t")
    case(t, "dataset_orphan.zip", "sec13f", dataset(INFOTABLE=orphan), "a row whose accession has no submission",
         accepted=11, rejected=1, reason="has no SUBMISSION.tsv row", row=9)
    bad_date = tsv["SUBMISSION.tsv"].replace("15-MAY-2023", "2023-05-15", 1)
    case(t, "dataset_bad_filing_date.zip", "sec13f", dataset(SUBMISSION=bad_date), "a filing date in ISO layout",
         accepted=9, rejected=2, reason="is not a date (DD-MON-YYYY)", row=1)
    case(t, "dataset_short_row.zip", "sec13f", dataset(INFOTABLE=lines(*infotable[:3], "0000000111-23-000001\tA",
                                                                       *infotable[3:])),
         "a row of two fields", accepted=11, rejected=1, reason="expected 8 fields, found 2", row=3)
    case(t, "dataset_no_value.zip", "sec13f", dataset(INFOTABLE=tsv["INFOTABLE.tsv"].replace("\tVALUE\t", "\tVAL\t")),
         "INFOTABLE.tsv without VALUE", error="missing column VALUE", row=1)
    latin = tsv["INFOTABLE.tsv"].replace("\tABNB\t", "\tAIRBNB CAF\xc9\t", 1).encode("latin-1")
    case(t, "dataset_latin1.zip", "sec13f", zipped([(n, latin if n == "INFOTABLE.tsv" else x) for n, x in tsv.items()]),
         "a Latin-1 issuer name on INFOTABLE row 2", error="not UTF-8", row=2)

    primary = (DATA / "sec13f" / "bard_financial_2021Q3_primary_doc.xml").read_text()
    case(t, "lone_infotable.xml", "sec13f", info_table(), "an information table without its cover page",
         error="no cover page (primary_doc.xml) beside it")
    case(t, "foreign_infotable.xml", "sec13f", info_table(namespace="urn:example:13f"),
         "a lone information table in another namespace", error="no cover page (primary_doc.xml) beside it")
    notice = submission(False, cover_xml=cover.replace("13F HOLDINGS REPORT", "13F NOTICE").replace(
        "<submissionType>13F-HR</submissionType>", "<submissionType>13F-NT</submissionType>"),
        head=header.replace("SUBMISSION TYPE:\t13F-HR", "SUBMISSION TYPE:\t13F-NT"), cover_type="13F-NT")
    case(t, "notice_only.txt", "sec13f", notice, "a 13F notice: the filer becomes an account, no holdings",
         accepted=1, rejected=0)
    case(t, "cover_no_table_primary_doc.xml", "sec13f", primary,
         "a cover page with no information table beside it", error="no information table")
    embedded = base64.b64encode(info_table().encode()).decode()
    documents = ("<documents><document><conformedName>infotable.xml</conformedName>"
                 "<conformedDocumentType>INFORMATION TABLE</conformedDocumentType>"
                 f"<contents>{embedded}</contents></document></documents>\n")
    with_doc = primary.replace("</edgarSubmission>", documents + "</edgarSubmission>").replace(
        "<tableEntryTotal>278</tableEntryTotal>", "<tableEntryTotal>4</tableEntryTotal>").replace(
        "<tableValueTotal>1129298</tableValueTotal>", "<tableValueTotal>4130000</tableValueTotal>")
    case(t, "embedded_garbage_primary_doc.xml", "sec13f", with_doc.replace(embedded, "!!not base64!!" * 3),
         "an embedded information table that is not base64", error="INFORMATION TABLE")
    case(t, "cover_foreign_ns_primary_doc.xml", "sec13f",
         with_doc.replace('xmlns="http://www.sec.gov/edgar/thirteenffiler"', 'xmlns="http://example.com/x"'),
         "a cover page in another namespace", error="is in the namespace")


# ------------------------------------------------------------------------------ scenario

SCENARIO = """\
name = "hostile-small"
seed = 7
start = "2024-06-03"
end = "2024-06-14"
funds = 3
retail = true
[scale]
names_min = 5
names_max = 10
[[plant]]
who = "hedge_funds"
sector = "Information Technology"
from = "2024-06-05"
to = "2024-06-12"
long_buy = 0.0
long_sell = 1.2
short_sale = 0.3
short_cover = 0.0
[[plant]]
who = "retail"
ticker = "NVDA"
from = "2024-06-10"
to = "2024-06-14"
net_buy_usd = 3.0e8
"""


def scenario() -> None:
    t = "scenario"

    def edit(old: str, new: str, count: int = 1) -> str:
        assert old in SCENARIO, old
        return SCENARIO.replace(old, new, count)

    def add(name: str, text: str, note: str, error: str, row: int | None = None, **more) -> None:
        case(t, name, "scenario", text, note, error=error, **({"row": row} if row else {}), **more)

    add("empty.toml", "", "an empty file", "missing key 'name'")
    add("comments_only.toml", "# a scenario\n\n# nothing here\n", "only comments", "missing key 'name'")
    add("unclosed_string.toml", edit('name = "hostile-small"', 'name = "hostile-small'), "an unclosed string",
        "invalid TOML", row=1)
    add("bad_syntax_line4.toml", edit('end = "2024-06-14"', 'end == "2024-06-14"'), "== on line 4",
        "invalid TOML", row=4)
    add("nul_byte.toml", edit("seed = 7", "seed = 7\x00"), "a NUL byte", "invalid TOML", row=2)
    case(t, "latin1.toml", "scenario", edit('name = "hostile-small"', 'name = "caf\xe9"').encode("latin-1"),
         "a Latin-1 byte on line 1", error="not UTF-8 text", row=1)
    case(t, "utf16.toml", "scenario", SCENARIO.encode("utf-16"), "UTF-16 with a BOM", error="not UTF-8 text")
    add("bom_unknown_key.toml", "\ufeff" + edit("funds = 3", "fund = 3"),
        "a UTF-8 BOM (read), then a misspelled key", "unknown key 'fund'")
    add("crlf_missing_seed.toml", edit("seed = 7\n", "").replace("\n", "\r\n"), "CRLF, no seed",
        "missing key 'seed'")
    add("duplicate_key.toml", edit("funds = 3", "funds = 3\nfunds = 4"), "funds twice", "invalid TOML", row=6)
    add("seed_string.toml", edit("seed = 7", 'seed = "7"'), "seed as a string", "'seed' must be int")
    add("seed_negative.toml", edit("seed = 7", "seed = -7"), "a negative seed", "'seed' must be >= 0")
    add("funds_float.toml", edit("funds = 3", "funds = 2.5"), "half a fund", "'funds' must be int")
    add("funds_zero.toml", edit("funds = 3", "funds = 0"), "no funds", "'funds' must be between 1")
    add("funds_bool.toml", edit("funds = 3", "funds = true"), "funds = true", "'funds' must be int")
    add("funds_huge.toml", edit("funds = 3", "funds = 100000000000000000000000"), "1e23 funds",
        "'funds' must be between 1 and 100,000")
    add("retail_string.toml", edit("retail = true", 'retail = "yes"'), "retail = \"yes\"", "'retail' must be bool")
    add("name_table.toml", edit('name = "hostile-small"', "name = {first = 1}"), "name as a table",
        "'name' must be str")
    add("start_month_13.toml", edit('start = "2024-06-03"', 'start = "2024-13-03"'), "month 13",
        "'start' must be an ISO date")
    add("start_saturday.toml", edit('start = "2024-06-03"', 'start = "2024-06-01"'), "a Saturday",
        "is not an NYSE trading day")
    add("end_holiday.toml", edit('end = "2024-06-14"', 'end = "2024-06-19"'), "Juneteenth",
        "'end' 2024-06-19 is not an NYSE trading day")
    add("start_after_end.toml", edit('start = "2024-06-03"', 'start = "2024-06-17"'), "start after end",
        "must be before 'end'")
    add("start_is_end.toml", edit('start = "2024-06-03"', 'start = "2024-06-14"'), "a one-day book",
        "must be before 'end'")
    add("start_1850.toml", edit('start = "2024-06-03"', 'start = "1850-01-02"'), "before the calendar",
        "'start' 1850-01-02 is not an NYSE trading day")
    add("end_2999.toml", edit('end = "2024-06-14"', 'end = "2999-12-31"'), "past the calendar",
        "'end' 2999-12-31 is not an NYSE trading day")
    add("start_datetime.toml", edit('start = "2024-06-03"', "start = 2024-06-03T09:30:00Z"),
        "a TOML date-time with a zone", "'start' must be an ISO date")
    add("start_number.toml", edit('start = "2024-06-03"', "start = 20240603"), "a date as a number",
        "'start' must be an ISO date")
    add("scale_unknown_key.toml", edit("names_max = 10", "names_max = 10\nnames_avg = 7"), "scale.names_avg",
        "scale: unknown key 'names_avg'")
    add("scale_inverted.toml", edit("names_min = 5", "names_min = 50"), "names_min above names_max",
        "need 1 <= names_min <= names_max")
    add("scale_zero.toml", edit("names_min = 5", "names_min = 0"), "names_min 0", "need 1 <= names_min")
    add("scale_not_table.toml", edit("[scale]\nnames_min = 5\nnames_max = 10\n", "").replace(
        "retail = true", "retail = true\nscale = 5"), "scale = 5", "'scale' must be a table ([scale])")
    add("plant_unknown_who.toml", edit('who = "hedge_funds"', 'who = "pensions"'), "who = pensions",
        "plant 1: unknown who 'pensions'")
    add("plant_missing_from.toml", edit('from = "2024-06-05"\n', ""), "a plant without from",
        "plant 1: missing key 'from'")
    add("plant_two_selectors.toml", edit('sector = "Information Technology"',
                                         'sector = "Information Technology"\nticker = "AAPL"'),
        "a sector and a ticker", "give at most one group selector")
    add("plant_unknown_sector.toml", edit('sector = "Information Technology"', 'sector = "Crypto"'),
        "an unknown sector", "unknown sector 'Crypto'")
    add("plant_unknown_ticker.toml", edit('ticker = "NVDA"', 'ticker = "NVDAX"'), "an unknown ticker",
        "plant 2: unknown ticker 'NVDAX'")
    add("plant_unknown_industry.toml", edit('sector = "Information Technology"', 'industry = "Semiconductor"'),
        "a near-miss industry name", "unknown industry 'Semiconductor'")
    add("plant_outside.toml", edit('to = "2024-06-12"', 'to = "2024-07-12"'), "a window past the end",
        "is outside the scenario's")
    add("plant_reversed.toml", edit('from = "2024-06-05"', 'from = "2024-06-13"'), "from after to",
        "'from' (2024-06-13) is after 'to'")
    add("plant_negative_rate.toml", edit("long_sell = 1.2", "long_sell = -1.2"), "a negative rate",
        "'long_sell' must be >= 0")
    add("plant_rate_string.toml", edit("long_sell = 1.2", 'long_sell = "1.2%"'), "a rate as text",
        "'long_sell' must be int or float")
    add("plant_rate_inf.toml", edit("long_sell = 1.2", "long_sell = inf"), "an infinite rate",
        "'long_sell' must be a finite number")
    add("plant_rate_nan.toml", edit("short_sale = 0.3", "short_sale = nan"), "a NaN rate",
        "'short_sale' must be a finite number")
    add("retail_usd_nan.toml", edit("net_buy_usd = 3.0e8", "net_buy_usd = -nan"), "retail NaN dollars",
        "'net_buy_usd' must be a finite number")
    add("plant_not_array.toml", SCENARIO.split("[[plant]]")[0].replace("retail = true", 'retail = true\nplant = "all"'),
        "plant = a string", "'plant' must be an array of tables")
    add("plant_retail_rates.toml", edit("net_buy_usd = 3.0e8", "net_buy_usd = 3.0e8\nlong_buy = 1.0"),
        "a retail plant with a hedge-fund rate", "plant 2: unknown key 'long_buy'")
    add("deep_nesting.toml", edit("funds = 3", "funds = 3\nx = " + "[" * 5000 + "]" * 5000),
        "an array nested 5,000 deep", "nested too deeply")


# ------------------------------------------------------------------------------ entry point


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def write_cases() -> None:
    out = ["# The hostile-input corpus: one entry per file (written by make_corpus.py; edit that).",
           "# error = substring of the one-line error (file refused, store unchanged), or",
           "# accepted / rejected = input rows, reason = substring of a reject's reason;",
           "# row = the row the error or a reject names; xfail = a known problem awaiting a decision.", ""]
    keys = ("format", "kind", "file", "note", "error", "row", "accepted", "rejected", "reason", "xfail")
    for entry in CASES:
        out.append("[[case]]")
        out += [f"{key} = {toml_value(entry[key])}" for key in keys if entry.get(key) is not None]
        out.append("")
    (HERE / "cases.toml").write_text("\n".join(out))


def main() -> None:
    for fmt in FORMATS:
        if (HERE / fmt).exists():
            shutil.rmtree(HERE / fmt)
    for build in BUILDERS:
        build()
    write_cases()
    counts = {fmt: sum(c["format"] == fmt for c in CASES) for fmt in FORMATS}
    size = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    print(f"{len(CASES)} cases {counts}; {size / 1e6:.2f} MB")


BUILDERS = [tables, ticks, cftc, finra, sec13f, scenario]

if __name__ == "__main__":
    main()
