# smartmoney: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STORE ?= demo-store

.PHONY: demo test test-fast env clean bench

# The virtual environment with the package, its `spark` and `test` extras. Re-made when
# pyproject.toml changes. Java 17 (for Spark) and Chromium (for the browser tests, driven by
# playwright, which never downloads a browser of its own) come from Debian when missing.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	@command -v java >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless; }
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[spark,test]'
	touch $(STAMP)

env: $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_STORE)
	$(BIN)/smartmoney simulate --scenario june-2024-rotation --store $(DEMO_STORE)
	$(BIN)/smartmoney report --store $(DEMO_STORE) --html-out demo-report.html --json-out demo-report.json

# The benchmark suite (benchmarks/suite.py): every script, then the top of benchmarks/RESULTS.md.
# Hours at full scale; `make bench BENCH_SCALE=small BENCH_RUNS=1` checks the harness in minutes.
bench: $(STAMP)
	MAKE_BENCH=1 nice -n 10 $(BIN)/python benchmarks/suite.py --scale $(or $(BENCH_SCALE),full) --runs $(or $(BENCH_RUNS),3)

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not spark"

clean:
	rm -rf $(VENV) $(DEMO_STORE) .pytest_cache .hypothesis
