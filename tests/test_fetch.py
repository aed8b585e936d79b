"""`smartmoney fetch`: downloads from a local HTTP server serving the recorded files of tests/data.

No network: the server runs in a thread on 127.0.0.1 (port 0) and the fetches point at it with a
base URL override. The files served are the real ones under tests/data, at the official URL paths.
"""

from __future__ import annotations

import io
import socket
import threading
import urllib.error
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smartmoney import Store
from smartmoney.cli import app
from smartmoney.fetch import (
    REMOTES,
    FetchError,
    RateLimiter,
    cache_dir,
    fetch,
    network_message,
    plan,
    resolve_base_url,
    resolve_user_agent,
)

ROOT = Path(__file__).parents[1]
DATA = ROOT / "tests" / "data"
AGENT = "Jane Doe jane.doe@example.com"
LTS_ONE = "/Archives/edgar/data/1894188/0001894188-23-000007.txt"
ARTAL = "/Archives/edgar/data/1053906/0001053906-23-000008.txt"
ACORN = "/Archives/edgar/data/1951757/0001951757-25-000093.txt"
runner = CliRunner()


class RecordedServer(ThreadingHTTPServer):
    """Serves `routes` (URL path -> bytes); `statuses[path]` are answered first, one per request."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, bytes] = {}
        self.statuses: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.truncated: set[str] = set()
        self.requests: list[tuple[str, dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


class _Handler(BaseHTTPRequestHandler):
    server: RecordedServer

    def do_GET(self):
        self.server.requests.append((self.path, dict(self.headers)))
        queued = self.server.statuses.get(self.path)
        if queued:
            status, headers = queued.pop(0)
            self.send_response(status)
            for name, value in {**headers, "Content-Length": "0"}.items():
                self.send_header(name, value)
            self.end_headers()
            return
        body = self.server.routes.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if self.path in self.server.truncated else body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    for remote in REMOTES.values():
        monkeypatch.delenv(remote.base_url_env, raising=False)
    monkeypatch.delenv("SMARTMONEY_USER_AGENT", raising=False)
    monkeypatch.delenv("SMARTMONEY_CACHE", raising=False)
    recorded = RecordedServer()
    thread = threading.Thread(target=recorded.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield recorded
    recorded.shutdown()
    recorded.server_close()
    thread.join()


def _serve_finra(server: RecordedServer) -> dict[str, Path]:
    files = {f"/equity/regsho/daily/{name}shvol20200102.txt": DATA / "finra" / "short_volume" / f"{name}shvol20200102.txt"
             for name in ("CNMS", "FNSQ", "FNYX", "FNRA")}
    for day in ("20200103", "20200106", "20200107", "20200108", "20200109"):
        files[f"/equity/regsho/daily/CNMSshvol{day}.txt"] = DATA / "finra" / "short_volume" / f"CNMSshvol{day}_trimmed.txt"
    files["/equity/otcmarket/biweekly/shrt20260814.csv"] = DATA / "finra" / "short_interest" / "shrt20260814.csv"
    server.routes.update({path: file.read_bytes() for path, file in files.items()})
    return files


def _serve_sec(server: RecordedServer) -> dict[str, Path]:
    files = {LTS_ONE: DATA / "sec13f" / "edgartools_LTSOne_13F-HR_2023Q3_0001894188-23-000007.txt",
             ARTAL: DATA / "sec13f" / "artal_group_13F-HR_2023Q2_0001053906-23-000008_TRIMMED.txt",
             ACORN: DATA / "sec13f" / "edgartools_AcornCreek_13F-HR_2024Q4_0001951757-25-000093.nc.txt"}
    server.routes.update({path: file.read_bytes() for path, file in files.items()})
    return files


class FakeClock:
    """A clock that only moves when slept on; every sleep is recorded."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ------------------------------------------------------------------------ the URL table


@pytest.mark.parametrize(("source", "what", "values", "url"), [
    ("sec13f", "filing", {"cik": ["0001894188"], "accession": ["000189418823000007"]},
     "https://www.sec.gov/Archives/edgar/data/1894188/0001894188-23-000007.txt"),
    ("sec13f", "dataset", {"dataset": ["2023Q4"]},
     "https://www.sec.gov/files/structureddata/data/form-13f-data-sets/2023q4_form13f.zip"),
    ("sec13f", "dataset", {"dataset": ["01jun2024-31aug2024_form13f.zip"]},
     "https://www.sec.gov/files/structureddata/data/form-13f-data-sets/01jun2024-31aug2024_form13f.zip"),
    ("cftc", "tff", {"year": [2024]}, "https://www.cftc.gov/files/dea/history/fut_fin_txt_2024.zip"),
    ("cftc", "tff_combined", {"year": ["2024"]}, "https://www.cftc.gov/files/dea/history/com_fin_txt_2024.zip"),
    ("cftc", "legacy", {"year": [2025]}, "https://www.cftc.gov/files/dea/history/deacot2025.zip"),
    ("cftc", "legacy_combined", {"year": [2025]}, "https://www.cftc.gov/files/dea/history/deahistfo2025.zip"),
    ("cftc", "tff_weekly", {}, "https://www.cftc.gov/dea/newcot/FinFutWk.txt"),
    ("cftc", "tff_combined_weekly", {}, "https://www.cftc.gov/dea/newcot/FinComWk.txt"),
    ("cftc", "legacy_weekly", {}, "https://www.cftc.gov/dea/newcot/deafut.txt"),
    ("cftc", "legacy_combined_weekly", {}, "https://www.cftc.gov/dea/newcot/deacom.txt"),
    ("finra", "short_volume", {"date": ["2024-06-28"]},
     "https://cdn.finra.org/equity/regsho/daily/CNMSshvol20240628.txt"),
    ("finra", "short_volume", {"date": ["20240628"], "facility": ["fnyx"]},
     "https://cdn.finra.org/equity/regsho/daily/FNYXshvol20240628.txt"),
    ("finra", "short_interest", {"date": ["2026-08-14"]},
     "https://cdn.finra.org/equity/otcmarket/biweekly/shrt20260814.csv"),
])
def test_official_urls(source, what, values, url):
    [path] = plan(source, what, values)
    assert resolve_base_url(REMOTES[source]) + path == url


def test_every_official_url_pattern_is_in_the_docs():
    page = (ROOT / "docs" / "fetch.md").read_text()
    for source, remote in REMOTES.items():
        for what, spec in remote.files.items():
            assert f"{remote.base_url}{spec.template}" in page, (source, what)
            assert f"`{what}`" in page


def test_a_date_range_is_every_trading_day_for_each_facility():
    paths = plan("finra", "short_volume", {"facility": ["CNMS", "FNSQ"]}, start="2020-01-01", end="2020-01-07")
    days = ["20200102", "20200103", "20200106", "20200107"]  # 2020-01-01 holiday, 4-5 weekend
    assert paths == [f"/equity/regsho/daily/{f}shvol{d}.txt" for f in ("CNMS", "FNSQ") for d in days]


@pytest.mark.parametrize(("source", "what", "values", "message"), [
    ("cftc", "tff", {}, "cftc tff needs --year"),
    ("cftc", "tff", {"year": [2024], "date": ["2024-01-02"]}, "cftc tff takes no --date"),
    ("cftc", "tff", {"year": ["24"]}, "year '24' is not a year like 2024"),
    ("cftc", "disaggregated", {}, "cftc has no 'disaggregated'; choose one of tff,"),
    ("nasdaq", "tff", {}, "unknown source 'nasdaq'; choose one of sec13f, cftc, finra"),
    ("finra", "short_volume", {"date": ["2024-06-29"]}, "2024-06-29 is not an NYSE trading day"),
    ("finra", "short_volume", {"date": ["2024-06-28"], "facility": ["XXXX"]}, "unknown FINRA facility 'XXXX'"),
    ("finra", "short_volume", {"date": ["June 28"]}, "date 'June 28' is not a date like 2024-06-28"),
    ("sec13f", "filing", {"cik": ["1894188"], "accession": ["0001894188-23-7"]}, "is not 18 digits"),
    ("sec13f", "filing", {"cik": ["abc"], "accession": ["0001894188-23-000007"]}, "CIK 'abc' is not"),
    ("sec13f", "dataset", {"dataset": ["2023"]}, "is not named like 2023q4 or 01jun2024-31aug2024"),
])
def test_bad_requests_say_what_is_wrong(source, what, values, message):
    with pytest.raises(ValueError) as caught:
        plan(source, what, values)
    assert message in str(caught.value)


def test_a_range_is_only_for_daily_files():
    with pytest.raises(ValueError, match="not a daily file"):
        plan("finra", "short_interest", start="2026-08-01", end="2026-08-31")
    with pytest.raises(ValueError, match="--start and --end go together"):
        plan("finra", "short_volume", start="2026-08-01")


def test_settings_resolve_flag_then_environment_then_default(monkeypatch, tmp_path):
    finra = REMOTES["finra"]
    monkeypatch.delenv(finra.base_url_env, raising=False)
    monkeypatch.delenv("SMARTMONEY_USER_AGENT", raising=False)
    monkeypatch.delenv("SMARTMONEY_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_base_url(finra) == "https://cdn.finra.org"
    assert resolve_user_agent() is None and resolve_user_agent("  ") is None
    assert cache_dir() == tmp_path / "xdg" / "smartmoney"
    monkeypatch.setenv(finra.base_url_env, "http://mirror.example/")
    monkeypatch.setenv("SMARTMONEY_USER_AGENT", "Env User env@example.com")
    monkeypatch.setenv("SMARTMONEY_CACHE", str(tmp_path / "env-cache"))
    assert resolve_base_url(finra) == "http://mirror.example"
    assert resolve_user_agent() == "Env User env@example.com"
    assert cache_dir() == tmp_path / "env-cache"
    assert resolve_base_url(finra, "http://127.0.0.1:8/") == "http://127.0.0.1:8"
    assert resolve_user_agent(AGENT) == AGENT
    assert cache_dir(tmp_path / "flag") == tmp_path / "flag"
    with pytest.raises(ValueError, match="does not start with http"):
        resolve_base_url(finra, "cdn.finra.org")


# ------------------------------------------------------------------------ downloading and the cache


def test_files_are_cached_byte_for_byte_and_not_fetched_twice(server, tmp_path):
    files = _serve_finra(server)
    values = {"date": ["2020-01-02"], "facility": ["CNMS", "FNSQ", "FNYX", "FNRA"]}
    first = fetch("finra", "short_volume", values, cache=tmp_path, base_url=server.url)
    assert [item.downloaded for item in first] == [True] * 4
    assert len(server.requests) == 4
    for item in first:
        path = item.url.removeprefix(server.url)
        assert item.path == tmp_path / "finra" / path.lstrip("/")
        assert item.path.read_bytes() == files[path].read_bytes()
        assert item.size == files[path].stat().st_size
    second = fetch("finra", "short_volume", values, cache=tmp_path, base_url=server.url)
    assert len(server.requests) == 4, "a cached file must not be fetched again"
    assert [item.downloaded for item in second] == [False] * 4
    assert [item.path for item in second] == [item.path for item in first]
    fetch("finra", "short_volume", values, cache=tmp_path, base_url=server.url, refresh=True)
    assert len(server.requests) == 8
    assert sorted(p.name for p in (tmp_path / "finra" / "equity" / "regsho" / "daily").iterdir()) == [
        "CNMSshvol20200102.txt", "FNRAshvol20200102.txt", "FNSQshvol20200102.txt", "FNYXshvol20200102.txt"]


def test_the_weekly_file_is_downloaded_every_time(server, tmp_path):
    served = (DATA / "cftc" / "FinFutWk_2026-03-17.txt").read_bytes()
    server.routes["/dea/newcot/FinFutWk.txt"] = served
    for _ in range(2):
        [item] = fetch("cftc", "tff_weekly", cache=tmp_path, base_url=server.url)
        assert item.downloaded and item.path.read_bytes() == served
    assert server.paths() == ["/dea/newcot/FinFutWk.txt"] * 2


def test_base_url_and_cache_from_the_environment(server, tmp_path, monkeypatch):
    files = _serve_finra(server)
    monkeypatch.setenv("SMARTMONEY_FINRA_BASE_URL", server.url)
    monkeypatch.setenv("SMARTMONEY_CACHE", str(tmp_path / "env-cache"))
    [item] = fetch("finra", "short_interest", {"date": ["2026-08-14"]})
    path = "/equity/otcmarket/biweekly/shrt20260814.csv"
    assert item.url == server.url + path
    assert item.path == tmp_path / "env-cache" / "finra" / "equity" / "otcmarket" / "biweekly" / "shrt20260814.csv"
    assert item.path.read_bytes() == files[path].read_bytes()


def test_a_cut_download_leaves_no_file(server, tmp_path):
    _serve_finra(server)
    path = "/equity/regsho/daily/CNMSshvol20200102.txt"
    server.truncated.add(path)
    with pytest.raises(FetchError) as caught:
        fetch("finra", "short_volume", {"date": ["2020-01-02"]}, cache=tmp_path, base_url=server.url)
    size = (DATA / "finra" / "short_volume" / "CNMSshvol20200102.txt").stat().st_size
    assert str(caught.value) == (f"cannot fetch {server.url}{path}: the connection closed after {size // 2:,} of "
                                 f"{size:,} bytes; nothing was kept, fetch again")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    server.truncated.clear()
    [item] = fetch("finra", "short_volume", {"date": ["2020-01-02"]}, cache=tmp_path, base_url=server.url)
    assert item.downloaded and item.size == size


# ------------------------------------------------------------------------ SEC: User-Agent and rate limit


def test_sec_sends_the_user_agent_flag_before_the_environment(server, tmp_path, monkeypatch):
    files = _serve_sec(server)
    monkeypatch.setenv("SMARTMONEY_USER_AGENT", "Env User env@example.com")
    [item] = fetch("sec13f", "filing", {"cik": ["0001894188"], "accession": ["0001894188-23-000007"]},
                   cache=tmp_path, base_url=server.url, user_agent=AGENT)
    assert item.path.read_bytes() == files[LTS_ONE].read_bytes()
    assert item.path == tmp_path / "sec13f" / "Archives" / "edgar" / "data" / "1894188" / "0001894188-23-000007.txt"
    [(path, headers)] = server.requests
    assert path == LTS_ONE and headers["User-Agent"] == AGENT
    fetch("sec13f", "filing", {"cik": ["1053906"], "accession": ["000105390623000008"]},
          cache=tmp_path, base_url=server.url)
    assert server.requests[1] == (ARTAL, server.requests[1][1])
    assert server.requests[1][1]["User-Agent"] == "Env User env@example.com"


@pytest.mark.parametrize(("agent", "message"), [
    (None, ('without a User-Agent: the SEC asks automated tools to send a User-Agent naming who they are and '
            'how to reach them, "Name email@domain"')),
    ("smartmoney", "User-Agent 'smartmoney' lacks a name or an email"),
    ("jane@example.com", "User-Agent 'jane@example.com' lacks a name or an email"),
])
def test_sec_is_not_contacted_without_a_contact_user_agent(server, tmp_path, agent, message):
    _serve_sec(server)
    with pytest.raises(FetchError) as caught:
        fetch("sec13f", "filing", {"cik": ["1894188"], "accession": ["0001894188-23-000007"]},
              cache=tmp_path, base_url=server.url, user_agent=agent)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert server.requests == []


def test_other_sources_send_their_own_user_agent(server, tmp_path):
    _serve_finra(server)
    fetch("finra", "short_interest", {"date": ["2026-08-14"]}, cache=tmp_path, base_url=server.url)
    assert server.requests[0][1]["User-Agent"].startswith("smartmoney/")


def test_rate_limiter_spaces_requests_a_tenth_of_a_second_apart():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(25):
        limiter.wait()
        starts.append(clock.now)
    assert starts == pytest.approx([i / 10 for i in range(25)])
    assert max(sum(1 for s in starts if t <= s < t + 1 - 1e-9) for t in starts) == 10
    clock.now += 5.0                    # idle for a while: the next request goes at once
    assert limiter.wait() == 0.0


def test_rate_limiter_gives_threads_distinct_slots():
    clock = FakeClock()                 # time stands still: every thread must get its own slot
    limiter = RateLimiter(10, clock=clock, sleep=lambda seconds: None)
    waits: list[float] = []
    lock = threading.Lock()

    def take_a_slot():
        waited = limiter.wait()
        with lock:
            waits.append(waited)

    threads = [threading.Thread(target=take_a_slot) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([i / 10 for i in range(40)])


def test_sec_downloads_go_through_the_rate_limiter(server, tmp_path):
    _serve_sec(server)
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    for cik, accession in (("1894188", "0001894188-23-000007"), ("1053906", "0001053906-23-000008"),
                           ("1951757", "0001951757-25-000093")):
        fetch("sec13f", "filing", {"cik": [cik], "accession": [accession]}, cache=tmp_path,
              base_url=server.url, user_agent=AGENT, limiter=limiter)
    assert server.paths() == [LTS_ONE, ARTAL, ACORN]
    assert clock.sleeps == pytest.approx([0.1, 0.1])


# ------------------------------------------------------------------------ failures


def test_offline_names_the_url_and_the_reason(server, tmp_path):
    base = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(FetchError) as caught:
        fetch("cftc", "tff", {"year": [2019]}, cache=tmp_path, base_url=base)
    assert str(caught.value) == (f"cannot fetch {base}/files/dea/history/fut_fin_txt_2019.zip: connection "
                                 f"refused by {base.removeprefix('http://')} (offline, or nothing listens there?)")
    assert not (tmp_path / "cftc").exists()


def test_a_silent_server_times_out(server, tmp_path):
    with socket.socket() as silent:     # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        base = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(FetchError) as caught:
            fetch("cftc", "tff_weekly", cache=tmp_path, base_url=base, timeout=0.2)
    assert str(caught.value) == (f"cannot fetch {base}/dea/newcot/FinFutWk.txt: no answer from "
                                 f"{base.removeprefix('http://')} within 0.2 s (timed out: offline or the server "
                                 f"is slow?)")


def test_dns_failure_message():
    refused_lookup = urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))
    message = network_message("https://www.sec.gov/x.txt", refused_lookup, 60)
    assert message == "cannot fetch https://www.sec.gov/x.txt: cannot resolve www.sec.gov (DNS lookup failed: offline?)"


def test_not_found_says_what_to_check(server, tmp_path):
    _serve_finra(server)
    with pytest.raises(FetchError) as caught:
        fetch("finra", "short_volume", {"date": ["2024-06-28"]}, cache=tmp_path, base_url=server.url)
    assert str(caught.value) == (f"{server.url}/equity/regsho/daily/CNMSshvol20240628.txt: not found (HTTP 404); "
                                 "FINRA posts each trading day's file in the evening; check the date and the facility")
    assert len(server.requests) == 1, "a 404 is not retried"


def test_busy_server_is_retried_with_backoff_then_succeeds(server, tmp_path):
    files = _serve_finra(server)
    path = "/equity/otcmarket/biweekly/shrt20260814.csv"
    server.statuses[path] = [(503, {}), (429, {"Retry-After": "7"}), (503, {})]
    waits: list[float] = []
    [item] = fetch("finra", "short_interest", {"date": ["2026-08-14"]}, cache=tmp_path, base_url=server.url,
                   sleep=waits.append)
    assert server.paths() == [path] * 4
    assert waits == [0.5, 7.0, 2.0]     # doubling backoff, or the server's Retry-After
    assert item.downloaded and item.path.read_bytes() == files[path].read_bytes()


def test_busy_server_gives_up_with_a_clear_message(server, tmp_path):
    _serve_finra(server)
    path = "/equity/otcmarket/biweekly/shrt20260814.csv"
    server.statuses[path] = [(503, {})] * 10
    waits: list[float] = []
    with pytest.raises(FetchError) as caught:
        fetch("finra", "short_interest", {"date": ["2026-08-14"]}, cache=tmp_path, base_url=server.url,
              sleep=waits.append, retries=3)
    assert str(caught.value) == f"{server.url}{path}: the server is busy (HTTP 503) after 4 tries; try again later"
    assert waits == [0.5, 1.0, 2.0] and len(server.requests) == 4
    assert not (tmp_path / "finra").exists()


def test_sec_refusal_recalls_its_rules(server, tmp_path):
    server.statuses[LTS_ONE] = [(403, {})]
    with pytest.raises(FetchError) as caught:
        fetch("sec13f", "filing", {"cik": ["1894188"], "accession": ["0001894188-23-000007"]},
              cache=tmp_path, base_url=server.url, user_agent=AGENT)
    assert str(caught.value).startswith(f"{server.url}{LTS_ONE}: refused (HTTP 403); the SEC asks automated tools")
    assert str(caught.value).endswith('"Name email@domain" (e.g. "Jane Doe jane.doe@example.com"), and at most 10 '
                                      "requests a second")


# ------------------------------------------------------------------------ the command


def _invoke(*args, env=None):
    return runner.invoke(app, ["fetch", *(str(a) for a in args)], env=env)


def test_cli_fetches_then_uses_the_cache(server, tmp_path):
    files = _serve_finra(server)
    args = ("finra", "short_volume", "--date", "2020-01-02", "--facility", "CNMS", "--facility", "FNSQ",
            "--cache", tmp_path, "--base-url", server.url, "--quiet")
    first = _invoke(*args)
    assert first.exit_code == 0, first.output
    cnms = tmp_path / "finra" / "equity" / "regsho" / "daily" / "CNMSshvol20200102.txt"
    assert f"downloaded {server.url}/equity/regsho/daily/CNMSshvol20200102.txt -> {cnms}" in first.output
    assert cnms.read_bytes() == files["/equity/regsho/daily/CNMSshvol20200102.txt"].read_bytes()
    second = _invoke(*args)
    assert second.exit_code == 0 and second.output.count("cached ") == 2
    assert len(server.requests) == 2


def test_cli_fetches_a_range_and_ingests_it(server, tmp_path):
    _serve_finra(server)
    result = _invoke("finra", "short_volume", "--start", "2020-01-03", "--end", "2020-01-09", "--cache",
                     tmp_path / "cache", "--base-url", server.url, "--ingest", "--store", tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert len(server.requests) == 5 and result.output.count("downloaded ") == 5
    assert Store.open(tmp_path / "store").info()["tables"]["short_volume"]["rows"] == 5 * 18


def test_cli_fetches_a_cftc_year_and_ingests_it(server, tmp_path):
    buffer = io.BytesIO()                # the CFTC's yearly zip holds one text file, FinFutYY.txt
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("FinFutYY.txt", (DATA / "cftc" / "FinFut2019_trimmed.txt").read_bytes())
    server.routes["/files/dea/history/fut_fin_txt_2019.zip"] = buffer.getvalue()
    result = _invoke("cftc", "tff", "--year", "2019", "--cache", tmp_path / "cache", "--base-url", server.url,
                     "--ingest", "--store", tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cache" / "cftc" / "files" / "dea" / "history" / "fut_fin_txt_2019.zip").read_bytes() \
        == buffer.getvalue()
    assert Store.open(tmp_path / "store").info()["tables"]["futures_positions"]["rows"] == 156 * 5


def test_cli_sec_user_agent_from_the_environment(server, tmp_path):
    _serve_sec(server)
    result = _invoke("sec13f", "filing", "--cik", "1894188", "--accession", "0001894188-23-000007",
                     "--cache", tmp_path, "--base-url", server.url, env={"SMARTMONEY_USER_AGENT": AGENT})
    assert result.exit_code == 0, result.output
    assert server.requests[0][1]["User-Agent"] == AGENT


@pytest.mark.parametrize(("args", "message"), [
    (("sec13f", "filing", "--cik", "1894188", "--accession", "0001894188-23-000007"),
     'refusing to download {base}/Archives/edgar/data/1894188/0001894188-23-000007.txt without a User-Agent'),
    (("finra", "short_volume", "--date", "2024-06-28"), "CNMSshvol20240628.txt: not found (HTTP 404)"),
    (("cftc", "tff"), "cftc tff needs --year"),
    (("finra", "short_volume", "--date", "2020-01-02", "--ingest"), "--ingest needs --store DIR"),
])
def test_cli_errors_are_one_line_with_exit_code_2(server, tmp_path, args, message):
    result = _invoke(*args, "--cache", tmp_path, "--base-url", server.url)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: ") and message.format(base=server.url) in line


def test_cli_offline_is_one_line_with_exit_code_2(tmp_path, monkeypatch):
    monkeypatch.delenv("SMARTMONEY_CFTC_BASE_URL", raising=False)
    base = f"http://127.0.0.1:{_closed_port()}"
    result = _invoke("cftc", "tff", "--year", "2019", "--cache", tmp_path, "--base-url", base)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip() == (f"error: cannot fetch {base}/files/dea/history/fut_fin_txt_2019.zip: "
                                     f"connection refused by {base.removeprefix('http://')} (offline, or nothing "
                                     "listens there?)")
