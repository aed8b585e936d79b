"""Shared fixtures. Tests run offline: any connection outside loopback fails loudly."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pandas as pd
import pytest

from smartmoney import Store
from smartmoney.taxonomy import sp500_universe

_real_connect = socket.socket.connect


def _loopback_only(self, address):
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise RuntimeError(f"tests must not use the network (tried {address})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture
def reference_files(tmp_path) -> dict[str, Path]:
    """securities (the S&P 500) and three accounts as CSV files."""
    securities = tmp_path / "securities.csv"
    sp500_universe().to_csv(securities, index=False)
    accounts = tmp_path / "accounts.csv"
    pd.DataFrame({
        "account_id": ["F1", "F2", "F3"],
        "name": ["Fund One", "Fund Two", "Fund Three"],
        "strategy": ["fundamental_ls", "systematic", "multi_strategy"],
        "region": ["North America", "Europe", "North America"],
    }).to_csv(accounts, index=False)
    return {"securities": securities, "accounts": accounts}


@pytest.fixture
def store(tmp_path, reference_files) -> Store:
    """A store holding the S&P 500 securities and accounts F1, F2, F3."""
    store = Store.open(tmp_path / "store", create=True)
    store.ingest("securities", [reference_files["securities"]])
    store.ingest("accounts", [reference_files["accounts"]])
    return store


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request) -> str:
    """Each engine the metrics run on; Spark tests share one local session per run."""
    if request.param == "spark":
        pytest.importorskip("pyspark", reason="the spark extra is not installed")
    return request.param


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Store:
    """The default simulated book (june-2024-rotation), built once per test run."""
    from smartmoney.simulate import load_scenario
    from smartmoney.simulate.build import build

    store = Store.open(tmp_path_factory.mktemp("demo") / "store", create=True)
    build(load_scenario("june-2024-rotation"), store, progress=False)
    return store


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the golden files under tests/golden from the current output")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")
