"""Numbers read from input text: pd.to_numeric crashed the interpreter on some of them.

In pandas 2.3.3, pd.to_numeric on text with an exponent from 2**31 to 2**32 - 1
('1e2147483648', also with text after it) dies with a segmentation fault, and larger exponents
are misread ('1e4294967295' as 0.1). A fuzzed LEAN tick file found it; the table files, the
generic tapes and both FINRA formats read their numbers the same way. Every source now reads
numbers with `validate.numbers_from_text`. Should the crash come back, pytest itself dies: that
is the failure.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pyarrow as pa
import pytest

from smartmoney import Store
from smartmoney.validate import numbers_from_text

# Each crashed pd.to_numeric (the first three) or was misread by it (the last).
HOSTILE = ["1e2147483648", "1e2147483648x", "1.5E+3000000000", "1e4294967295"]


@pytest.mark.parametrize(("text", "number"), [
    ("12", 12.0), (" -1.5 ", -1.5), (".5", 0.5), ("1.", 1.0), ("+3", 3.0), ("2E+06", 2e6),
    ("9007199254740993", 2.0**53), ("1e-400", 0.0), ("1e400", None), ("9" * 5000, None),
    *[(text, None) for text in HOSTILE],
    ("", None), ("nan", None), ("inf", None), ("1,000", None), ("1_000", None), ("0x10", None),
    ("１２３", None), ("\x00", None), ("1e", None), (".", None),
])
def test_numbers_from_text_reads_plain_decimals_only(text, number):
    for values in (pd.Series([text, None], dtype=object), pd.Series([text, None], dtype=pd.ArrowDtype(pa.string()))):
        read = numbers_from_text(values)
        assert str(read.dtype) == "float64" and math.isnan(read.iloc[1])
        assert read.iloc[0] == number if number is not None else math.isnan(read.iloc[0])


def test_numbers_from_text_takes_any_object_column():
    read = numbers_from_text(pd.Series([1.5, None, float("nan"), "7"], dtype=object, index=[3, 4, 5, 6]))
    assert read.index.tolist() == [3, 4, 5, 6]
    assert read.fillna(-1).tolist() == [1.5, -1, -1, 7.0]


def reasons(report) -> list[str]:
    return report.rejects["reason"].tolist()


@pytest.mark.parametrize("value", HOSTILE)
def test_a_crashing_exponent_in_a_table_file_is_rejected(store, tmp_path, value):
    positions = tmp_path / "positions.csv"
    positions.write_text(f"date,account_id,security_id,quantity\n2024-06-28,F1,AAPL,{value}\n2024-06-28,F1,MSFT,5\n")
    [report] = store.ingest("positions", [positions])
    assert (report.accepted, reasons(report)) == (1, [f"quantity: '{value}' is not a finite number"])
    retail = tmp_path / "retail_flows.csv"
    retail.write_text("date,security_id,retail_buy_usd,retail_sell_usd,retail_buy_trades\n"
                      f"2024-06-28,AAPL,1,2,{value}\n2024-06-28,MSFT,1,2,3\n")
    [report] = store.ingest("retail_flows", [retail])
    assert (report.accepted, reasons(report)) == (1, [f"retail_buy_trades: '{value}' is not a whole number"])


@pytest.mark.parametrize("value", HOSTILE)
def test_a_crashing_exponent_in_a_finra_file_is_rejected(tmp_path, value):
    store = Store.open(tmp_path / "store", create=True)
    volume = tmp_path / "CNMSshvol20200102.txt"
    volume.write_text("Date|Symbol|ShortVolume|ShortExemptVolume|TotalVolume|Market\n"
                      f"20200102|AAA|{value}|0|10|Q\n20200102|BBB|5|0|10|Q\n2\n")
    [report] = store.ingest("finra_short_volume", [volume])
    assert (report.accepted, reasons(report)) == (1, [f"short_volume: '{value}' is not a finite number"])
    interest = tmp_path / "interest.csv"
    interest.write_text("settlementDate,symbolCode,currentShortPositionQuantity,previousShortPositionQuantity,"
                        f"daysToCoverQuantity,changePreviousNumber\n2024-06-14,AAA,10,5,{value},5\n"
                        f"2024-06-14,BBB,{value},5,1,{value}\n2024-06-14,CCC,10,5,1,5\n")
    [report] = store.ingest("finra_short_interest", [interest])
    assert (report.accepted, reasons(report)) == (1, [
        f"days_to_cover: '{value}' is not a finite number",
        f"short_interest: '{value}' is not a finite number"])
    answer = tmp_path / "interest.json"
    answer.write_text(json.dumps([{"settlementDate": "2024-06-28", "symbolCode": "AAA",
                                   "currentShortPositionQuantity": value, "changePreviousNumber": "5"}]))
    [report] = store.ingest("finra_short_interest", [answer])
    assert (report.accepted, reasons(report)) == (0, [f"short_interest: '{value}' is not a finite number"])


@pytest.mark.parametrize("value", HOSTILE)
def test_a_crashing_exponent_in_a_lean_tick_file_is_rejected(tmp_path, value):
    store = Store.open(tmp_path / "store", create=True)
    trades = tmp_path / "20131007_ibm_Trade_Tick.csv"
    trades.write_text(f"14430270,{value},283,P,0,0\n14450472,1818000,500,P,0,0\n")
    [report] = store.ingest("lean_trades", [trades])
    assert (report.accepted, reasons(report)) == (1, [f"price: '{value}' is not a finite number"])
    quotes = tmp_path / "20131007_ibm_Quote_Tick.csv"
    quotes.write_text(f"14400054,1800000,10,1800100,10,Q,1,0\n14400241,{value},300,1800200,300,P,1,0\n")
    [report] = store.ingest("lean_quotes", [quotes])
    assert (report.accepted, reasons(report)) == (1, [f"bid: '{value}' is not a finite number"])
