"""Fuzzing every parser: mutated real files and random bytes raise a clear error or read.

Each format starts from real (or realistic) files, mutates them (bytes flipped, cut, repeated
or spliced with hostile tokens: NUL, BOMs, NaN, huge numbers, quotes, XML entities) or takes
random bytes, and reads the result with its source and then validates the rows. The only
exceptions allowed are the ones that name the file (FileError, ScenarioError); anything else
(a KeyError, an IndexError, a pyarrow or XML error leaking out) fails the test, and hypothesis
shrinks it to a small input that becomes a regression test here.

Examples per format: `SMARTMONEY_FUZZ_EXAMPLES` (300 by default, a few seconds each; the
figures in docs/RELIABILITY.md come from `SMARTMONEY_FUZZ_EXAMPLES=100000 pytest tests/test_fuzz.py`).
The inputs are the same on every run; `SMARTMONEY_FUZZ_RANDOM=1` draws new ones.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from books import june_days, positions_frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartmoney.simulate.scenario import ScenarioError, parse_scenario
from smartmoney.sources import FileError, source
from smartmoney.validate import validate

DATA = Path(__file__).parent / "data"
EXAMPLES = int(os.environ.get("SMARTMONEY_FUZZ_EXAMPLES", "300"))
ATHERIS_RUNS = int(os.environ.get("SMARTMONEY_ATHERIS_RUNS", "300"))   # inputs per seed, coverage-guided
# The same inputs on every run unless SMARTMONEY_FUZZ_RANDOM=1: `make test` must not fail on a
# bug it did not bring (a random run is how new inputs are explored, and what it finds lands here).
RANDOM = os.environ.get("SMARTMONEY_FUZZ_RANDOM") == "1"
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not RANDOM,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TOKENS = [b"\x00", b"\xef\xbb\xbf", b"\xff\xfe", b"\xc3\x28", b"NaN", b"inf", b"-1e309", b"9" * 40, b"-0",
          b"1e2147483648",    # crashed pandas.to_numeric (a segmentation fault): see docs/RELIABILITY.md
          b",", b"|", b"\t", b"\r\n", b"\n\n", b'"', b"'", b"\\", b"2024-02-30", b"1900-01-01", b"99999999",
          b"<", b">", b"</", b"&amp;", b"&x;", b"<!DOCTYPE x [<!ENTITY x 'y'>]>", b"]]>", b"<![CDATA[",
          "é€😀".encode(), b" " * 100]


def _lines(path: Path, count: int) -> bytes:
    return b"".join(path.read_bytes().splitlines(keepends=True)[:count])


def _table_csv(name: str) -> bytes:
    if name == "positions":
        return positions_frame(june_days(2)).head(12).to_csv(index=False).encode()
    return pd.read_csv(DATA / "sec13f" / "securities_cusip.csv").head(12).to_csv(index=False).encode()


def _table_parquet() -> bytes:
    buffer = io.BytesIO()
    positions_frame(june_days(2)).head(12).to_parquet(buffer, index=False)
    return buffer.getvalue()


def _lean_csv() -> bytes:
    with zipfile.ZipFile(DATA / "ticks" / "ibm" / "20131007_trade.zip") as archive:
        return b"".join(archive.read("20131007_ibm_Trade_Tick.csv").splitlines(keepends=True)[:40])


# kind -> [(file name, seed bytes, how the bytes are packed into the file)]
SEEDS = {
    "positions": [("positions.csv", _table_csv("positions"), None), ("positions.parquet", _table_parquet(), None)],
    "securities": [("securities.csv", _table_csv("securities"), None)],
    "lean_trades": [("20131007_trade.zip", _lean_csv(), "20131007_ibm_Trade_Tick.csv"),
                    ("20131007_ibm_Trade_Tick.csv", _lean_csv(), None)],
    "cftc_tff": [("FinFutWk_2026-03-17.txt", (DATA / "cftc" / "FinFutWk_2026-03-17.txt").read_bytes(), None),
                 ("FinFutYY.txt", _lines(DATA / "cftc" / "FinFutYY_2026-01-06_to_2026-03-17_trimmed.txt", 12), None)],
    "finra_short_volume": [("CNMSshvol20200103.txt",
                            (DATA / "finra" / "short_volume" / "CNMSshvol20200103_trimmed.txt").read_bytes(), None)],
    "finra_short_interest": [
        ("shrt20260814.csv", (DATA / "finra" / "short_interest" / "shrt20260814.csv").read_bytes(), None),
        ("consolidatedShortInterest.json",
         (DATA / "finra" / "short_interest" / "consolidatedShortInterest_AAPL_BRKB.json").read_bytes(), None)],
    "sec13f": [("0001894188-23-000007.txt",
                (DATA / "sec13f" / "edgartools_LTSOne_13F-HR_2023Q3_0001894188-23-000007.txt").read_bytes(), None),
               ("0001053906-23-000008.txt",
                (DATA / "sec13f" / "artal_group_13F-HR_2023Q2_0001053906-23-000008_TRIMMED.txt").read_bytes(), None)],
}
SCENARIO = (Path(__file__).parents[1] / "src" / "smartmoney" / "simulate" / "scenarios"
            / "june-2024-rotation.toml").read_bytes()


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """`seed` with 1 to 8 edits, or (one time in ten) random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=2000))
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["flip", "cut", "insert", "truncate", "repeat", "token"]))
        if edit == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif edit == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif edit == "truncate":
            del data[at:]
        elif edit == "repeat":
            data[at:at] = data[at:at + draw(st.integers(1, 200))] * draw(st.integers(1, 3))
        else:
            data[at:at] = draw(st.sampled_from(TOKENS))
    return bytes(data)


def _packed(folder: Path, name: str, data: bytes, member: str | None) -> Path:
    path = folder / name
    if member is None:
        path.write_bytes(data)
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(member, data)
    return path


def _read_and_validate(kind: str, path: Path) -> None:
    """Read `path` as `kind` and validate every batch: rows read = accepted + rejected."""
    try:
        for batch in source(kind).read(path):
            result = validate(batch, {name: set() for name in batch.table.references.values()})
            assert batch.input_rows == result.accepted_rows + len(result.rejects)
    except FileError as error:
        assert str(path) in str(error) and "Traceback" not in str(error)


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_a_mutated_file_reads_or_fails_with_a_file_error(kind, capsys):
    tried = []

    @FUZZ
    @given(case=st.sampled_from(SEEDS[kind]).flatmap(
        lambda seed: st.tuples(st.just(seed[0]), mutated(seed[1]), st.just(seed[2]))))
    def check(case):
        name, data, member = case
        tried.append(1)
        with tempfile.TemporaryDirectory() as folder:
            _read_and_validate(kind, _packed(Path(folder), name, data, member))

    check()
    assert len(tried) >= EXAMPLES
    with capsys.disabled():          # the count of a long run, for docs/RELIABILITY.md
        print(f"\n{kind}: {len(tried)} inputs read")


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "seed"), [*((kind, i) for kind in sorted(SEEDS) for i in range(len(SEEDS[kind]))),
                                            ("scenario", 0)])
def test_coverage_guided_fuzzing_finds_no_crash(tmp_path, kind, seed):
    """atheris mutates each seed towards inputs that reach new lines of smartmoney's parsers
    (tests/atheris_fuzz.py); a crash exits non-zero and leaves its input in crash-<sha1>."""
    done = subprocess.run([sys.executable, str(Path(__file__).parent / "atheris_fuzz.py"), kind, str(seed),
                           f"-atheris_runs={ATHERIS_RUNS}", "-seed=1"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{sorted(p.name for p in tmp_path.iterdir())}\n{done.stderr[-3000:]}"
    assert f"Done {ATHERIS_RUNS} " in done.stderr or f"Done {ATHERIS_RUNS + 1} " in done.stderr


def test_the_seeds_themselves_read():
    """The fuzzers start from files that read: mutations test the error paths, not the seeds."""
    with tempfile.TemporaryDirectory() as folder:
        for kind, seeds in SEEDS.items():
            for name, data, member in seeds:
                batches = list(source(kind).read(_packed(Path(folder), name, data, member)))
                assert sum(batch.input_rows for batch in batches) > 0, (kind, name)


@FUZZ
@given(text=mutated(SCENARIO))
def test_a_mutated_scenario_parses_or_fails_with_a_scenario_error(text):
    try:
        parse_scenario(text.decode("utf-8", errors="replace"), "fuzzed.toml")
    except ScenarioError as error:
        assert str(error).startswith("fuzzed.toml")


def test_found_by_fuzzing_a_carriage_return_inside_a_cftc_field_rejects_the_row(tmp_path):
    """Regression: a line ending '...\\r\\x01' made the csv module raise out of the CFTC reader."""
    name, data, _ = SEEDS["cftc_tff"][0]
    second_end = data.index(b"\r\n", data.index(b"\r\n") + 2)
    path = tmp_path / name
    path.write_bytes(data[:second_end] + b"\r\x01" + data[second_end:])
    [batch] = source("cftc_tff").read(path)
    assert set(batch.rejects["row"]) == {2}          # one reject per category the line holds
    assert batch.rejects["reason"].str.startswith("not a CSV line").all()
    path.write_bytes(b"\r\x01" + data)             # on the first line, which may be a header
    with pytest.raises(FileError, match="row 1: the first line is not a CSV line"):
        list(source("cftc_tff").read(path))


def test_found_by_fuzzing_parquet_text_that_is_not_utf8_is_a_file_error(tmp_path):
    """Regression: a Parquet string column holding bytes that are not UTF-8 raised an
    ArrowException ('Wrapping ... failed') out of the table reader."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "positions.parquet"
    security = pa.array([b"AAPL", b"\xffAPL"], pa.binary()).view(pa.string())
    pq.write_table(pa.table({"date": ["2024-06-03"] * 2, "account_id": ["F1"] * 2, "security_id": security,
                             "quantity": [1.0, 2.0]}), path)
    with pytest.raises(FileError, match="column security_id.*row 2 is not UTF-8 text"):
        list(source("positions").read(path))


def test_found_by_fuzzing_an_unknown_xml_encoding_in_a_13f_filing_is_a_file_error(tmp_path):
    """Regression: <?xml ... encoding="NaNUTF-8"?> raised LookupError out of the 13F reader."""
    name, data, _ = SEEDS["sec13f"][0]
    path = tmp_path / name
    path.write_bytes(data.replace(b'encoding="UTF-8"', b'encoding="NaNUTF-8"', 1))
    with pytest.raises(FileError, match=r"cover page \(primary_doc.xml\) declares an encoding Python does "
                       r"not know \(unknown encoding: NaNUTF-8\)"):
        list(source("sec13f").read(path))


def test_found_by_fuzzing_a_carriage_return_inside_a_finra_short_interest_field_rejects_the_row(tmp_path):
    """Regression: a bare carriage return inside an unquoted field of a comma-separated short
    interest file made the csv module raise out of the FINRA reader."""
    name, data, _ = SEEDS["finra_short_interest"][0]
    header, first, *_ = data.split(b"\n")
    path = tmp_path / name
    path.write_bytes(header.replace(b"|", b",") + b"\n" + first.replace(b"|", b",") + b"\n\r\x01\n")
    [batch] = source("finra_short_interest").read(path)
    assert list(batch.rejects["row"]) == [2]
    assert batch.rejects["reason"].str.startswith("not a CSV line").all()
