"""Coverage-guided fuzzing of one parser with atheris (libFuzzer for Python).

    .venv/bin/python tests/atheris_fuzz.py KIND SEED [libFuzzer flags, e.g. -atheris_runs=100000]

KIND is a source of `tests/test_fuzz.py`'s SEEDS (or `scenario`), SEED the index of one of its
seed files. libFuzzer starts from the seed and mutates it towards inputs that reach new lines of
smartmoney's code (its modules are instrumented; pandas and pyarrow are not). Each input is read
and validated exactly as `tests/test_fuzz.py` does: only errors that name the file may escape.
On any other exception atheris prints the traceback, writes the input to ./crash-<sha1> and exits
non-zero. Run by `tests/test_fuzz.py::test_coverage_guided_fuzzing_finds_no_crash` (a short run)
and by hand for long runs (docs/RELIABILITY.md).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["smartmoney"]):
    import smartmoney.simulate.scenario
    import smartmoney.sources
    import smartmoney.validate  # noqa: F401

sys.path.insert(0, str(Path(__file__).parent))
import test_fuzz  # noqa: E402  (after the instrumented imports: it imports the same modules)


def main() -> None:
    kind, seed = sys.argv[1], int(sys.argv[2])
    folder = Path(tempfile.mkdtemp(prefix="smartmoney-atheris-"))
    if kind == "scenario":
        name, data, member = "fuzzed.toml", test_fuzz.SCENARIO, None
    else:
        name, data, member = test_fuzz.SEEDS[kind][seed]
    corpus = folder / "corpus"
    corpus.mkdir()
    (corpus / "seed").write_bytes(data)

    def one_input(raw: bytes) -> None:
        if kind == "scenario":
            try:
                smartmoney.simulate.scenario.parse_scenario(raw.decode("utf-8", errors="replace"), name)
            except smartmoney.simulate.scenario.ScenarioError as error:
                assert str(error).startswith(name)
            return
        test_fuzz._read_and_validate(kind, test_fuzz._packed(folder, name, raw, member))

    atheris.Setup([sys.argv[0], *sys.argv[3:], str(corpus)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
