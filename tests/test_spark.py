"""Spark (Ibis' pyspark backend, local mode) gives the numbers DuckDB gives, on the default book.

The whole weekly report on Spark local mode takes far longer than CI allows on 2 cores (see
docs/spark.md, "What was tested"), so the CI test is a cut that still touches every metric
family the report draws on, at the default as-of (the book's last week), on the default book
(june-2024-rotation, the session's `demo_store`):

- hedge-fund flows by sector, weekly (their computation includes the sector exposure, for
  net_flow_pct_gross); exposure and leverage of the book, weekly; retail flows by basket,
  weekly; hedge funds vs retail by sector (divergence over 1, 4 and 13 weeks);
- and the facts the report states from those tables (series facts: streaks, k of n, since,
  records, ranks, sd units, breadth and leaders; divergence facts), through the same functions.

Comparison: every row and key equal; flags and labels equal; numbers equal to 1e-9 relative
(sums over millions of rows are added in a different order by the two engines, which moves the
last bits and nothing else), and USD amounts also to the cent where that is looser (small cells). Fact ids must be equal
and fact values equal to the same tolerance. The whole report (text and JSON) is compared by
`test_the_whole_report_is_the_same_on_spark` when SMARTMONEY_SPARK_FULL_REPORT=1.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from json_close import assert_json_close

import smartmoney as sm
from smartmoney import facts as F
from smartmoney.positioning import WHO
from smartmoney.retail import divergence_facts

REL = 1e-9                  # relative tolerance: summation order
CENT = 0.01                 # absolute tolerance of USD amounts: to the cent
TINY = 1e-9                 # absolute floor for other numbers (sd units of a zero flow, ...)
USD = {"long_buy", "long_sell", "short_sale", "short_cover", "net_flow", "gross_traded", "risk_on",
       "risk_off", "lmv", "smv", "gross", "net", "equity", "retail_buy_usd", "retail_sell_usd",
       "retail_net", "retail_gross", "hf_net", "hf_gross_selling", "swap_usd", "mirror_usd"}
CUT = [("flows", {"by": "sector", "freq": "W"}), ("exposure", {"by": "book", "freq": "W"}),
       ("retail", {"by": "basket", "freq": "W"}), ("divergence", {"by": "sector"})]
KEYS = {"flows": ["period_end", "sector"], "exposure": ["period_end", "book"],
        "retail": ["period_end", "basket"], "divergence": ["period_end", "sector", "window"]}


def assert_same_table(duck: pd.DataFrame, spark: pd.DataFrame, keys: list[str]) -> None:
    """Same columns, rows and keys; equal flags and labels; numbers to the cent / 1e-9."""
    assert list(duck.columns) == list(spark.columns)
    duck = duck.sort_values(keys, ignore_index=True)
    spark = spark.sort_values(keys, ignore_index=True)
    assert len(duck) == len(spark)
    for column in duck.columns:
        left, right = duck[column], spark[column]
        if pd.api.types.is_float_dtype(left) or pd.api.types.is_float_dtype(right):
            a, b = left.to_numpy(float), right.to_numpy(float)
            assert (np.isnan(a) == np.isnan(b)).all(), f"{column}: nulls differ"
            close = np.isclose(a, b, rtol=REL, atol=CENT if column in USD else TINY, equal_nan=True)
            assert close.all(), (f"{column} differs on {int((~close).sum())} rows, e.g. "
                                 f"{a[~close][:3]} vs {b[~close][:3]}")
        else:
            assert left.astype(str).tolist() == right.astype(str).tolist(), f"{column} differs"


def assert_same_facts(duck: list, spark: list) -> None:
    """Same fact ids and kinds; values (and component values) to the cent / 1e-9."""
    assert duck, "no facts to compare"
    assert [f.id for f in duck] == [f.id for f in spark]
    for left, right in zip(duck, spark):
        a, b = left.to_dict(), right.to_dict()
        for name in a:
            if isinstance(a[name], float) and isinstance(b[name], float):
                assert np.isclose(a[name], b[name], rtol=REL, atol=CENT), (left.id, name, a[name], b[name])
            elif name == "components":
                assert a[name].keys() == b[name].keys(), left.id
                assert np.allclose(list(a[name].values()), list(b[name].values()), rtol=REL, atol=CENT), left.id
            else:
                assert a[name] == b[name], (left.id, name, a[name], b[name])


def test_the_comparison_fails_when_a_number_differs():
    """The tolerance is no loophole: a cent and a hair on a small USD cell, 2 dollars on 1.5
    billion (1.3e-9 relative), 1e-8 relative on sd units, or a flag, is a difference."""
    table = pd.DataFrame({"period_end": pd.to_datetime(["2024-06-21", "2024-06-28"]), "sector": ["A", "A"],
                          "net_flow": [1.5e9, 1000.0], "net_flow_sd": [1.25, -0.5], "suppressed": [False, False]})
    assert_same_table(table, table.copy(), ["period_end", "sector"])
    for column, row, bump in (("net_flow", 1, 0.011), ("net_flow", 0, 2.0), ("net_flow_sd", 0, 1.25e-8)):
        changed = table.copy()
        changed.loc[row, column] += bump
        with pytest.raises(AssertionError, match=column):
            assert_same_table(table, changed, ["period_end", "sector"])
    flipped = table.copy()
    flipped.loc[1, "suppressed"] = True
    with pytest.raises(AssertionError, match="suppressed"):
        assert_same_table(table, flipped, ["period_end", "sector"])


@pytest.fixture(scope="module")
def books(demo_store):
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    return sm.open(demo_store), sm.open(demo_store, engine="spark")


@pytest.fixture(scope="module")
def tables(books) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Each family's table on both engines, at the default as-of."""
    return {family: tuple(getattr(book, family)(**arguments).to_pandas() for book in books)
            for family, arguments in CUT}


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize("family", [family for family, _ in CUT])
def test_each_metric_family_is_the_same_on_spark(tables, family):
    duck, spark = tables[family]
    assert len(duck) > 100
    assert_same_table(duck, spark, KEYS[family])


@pytest.mark.spark
@pytest.mark.slow
def test_the_facts_of_the_cut_are_the_same_on_spark(tables):
    """The report's facts about these tables, as positioning.py and retail.py state them."""
    def facts(engine: int) -> list:
        flows, exposure = tables["flows"][engine], tables["exposure"][engine]
        retail, divergence = tables["retail"][engine], tables["divergence"][engine]
        found = F.series_facts(flows, who=WHO, metric="net_flow", group_by="sector", period="W")
        for metric in ("gross_leverage", "net_leverage"):
            found += F.series_facts(exposure, who=WHO, metric=metric, group_by="book", period="W")
        found += F.series_facts(retail, who="retail", metric="retail_net", group_by="basket", period="W")
        found += divergence_facts(divergence, "sector")
        return sorted({fact.id: fact for fact in found}.values(), key=lambda fact: fact.id)

    duck, spark = facts(0), facts(1)
    assert len(duck) > 50
    assert_same_facts(duck, spark)


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("SMARTMONEY_SPARK_FULL_REPORT") != "1",
                    reason="the whole report on Spark local mode takes far beyond CI's budget "
                           "(docs/spark.md); set SMARTMONEY_SPARK_FULL_REPORT=1 to run it")
def test_the_whole_report_is_the_same_on_spark(books):
    from smartmoney.report import build, render_json, render_text

    duck, spark = (build(book) for book in books)
    assert render_text(duck) == render_text(spark)
    assert_json_close(json.loads(render_json(duck)), json.loads(render_json(spark)), rel=REL, abs=CENT)


def test_the_spark_master_setting_reaches_the_session_builder(monkeypatch):
    """Flag > $SMARTMONEY_SPARK_MASTER > spark-submit / $SPARK_REMOTE > local[*]; no cluster needed:
    the builder's options are read, no session is started."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    from smartmoney.engine import SPARK_MASTER_ENV, spark_builder

    for name in (SPARK_MASTER_ENV, "SPARK_REMOTE", "PYSPARK_GATEWAY_PORT"):
        monkeypatch.delenv(name, raising=False)

    def options(master=None) -> dict:
        return spark_builder(master)._options

    assert options()["spark.master"] == "local[*]"
    assert "spark.driver.memory" in options()               # local: the heap is sized here
    monkeypatch.setenv(SPARK_MASTER_ENV, "spark://head:7077")
    assert options()["spark.master"] == "spark://head:7077"
    assert "spark.driver.memory" not in options()           # a cluster sizes it (spark-submit)
    assert "spark.sql.shuffle.partitions" not in options()  # and sets its own parallelism
    assert options("local[2]")["spark.master"] == "local[2]"  # the flag wins over the environment
    monkeypatch.setenv(SPARK_MASTER_ENV, "sc://head:15002")
    connect = options()
    assert connect["spark.remote"] == "sc://head:15002" and "spark.master" not in connect
    assert "spark.ui.enabled" not in connect                # the server's settings are its own
    monkeypatch.delenv(SPARK_MASTER_ENV)
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "40000")    # under spark-submit: its --master holds
    assert "spark.master" not in options()
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT")
    for builder_options in (options(), options("yarn")):
        assert builder_options["spark.sql.session.timeZone"] == "UTC"
    monkeypatch.setenv("SPARK_REMOTE", "sc://head:15002")  # pyspark's own Spark Connect variable
    assert "spark.master" not in options()
