"""The web dashboard: pages, the JSON API against the Book, the OpenAPI schema (schemathesis),
security probes, the token rule, and every page in a real headless Chromium."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import socket
import threading
import time
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from browser import CHROMIUM, chromium_available, launch
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

import smartmoney as sm
from smartmoney import Store
from smartmoney.report import build, render_json
from smartmoney.web import create_app
from smartmoney.web.server import check_bind, is_loopback

ARTIFACTS = Path(__file__).parent / "artifacts"
LAST = "2024-06-28"
EARLIER = "2024-05-31"
PAGES = ["/", "/leverage", "/flows", "/retail", "/hf-vs-retail", "/public", "/data"]
TOKEN = "s3cret-token-0123456789"


@pytest.fixture(scope="module")
def web_store(tmp_path_factory) -> Path:
    """A small simulated book (6 funds, January to June 2024, with retail) and one rejected
    positions row (account-level data the dashboard must not show)."""
    from smartmoney.simulate import parse_scenario
    from smartmoney.simulate.build import build as simulate

    path = tmp_path_factory.mktemp("web") / "store"
    scenario = parse_scenario(
        'name = "web"\nseed = 1\nstart = "2024-01-02"\nend = "2024-06-28"\nfunds = 6\nretail = true\n'
        "[scale]\nnames_min = 50\nnames_max = 60\n")
    store = Store.open(path, create=True)
    simulate(scenario, store, progress=False)
    bad = path.parent / "bad-positions.csv"
    bad.write_text("date,account_id,security_id,quantity\n2024-06-28,SECRET-FUND,AAPL,abc\n")
    store.ingest("positions", [bad])
    return path


@pytest.fixture(scope="module")
def client(web_store) -> TestClient:
    with TestClient(create_app(web_store)) as test_client:   # default disclosure: k=5, p=50
        yield test_client


@pytest.fixture(scope="module")
def book(web_store):
    return sm.open(web_store)


def _links(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', html)]


# ------------------------------------------------------------------------------------ pages

def test_health_answers_while_the_latest_week_is_computed(web_store):
    with TestClient(create_app(web_store)) as fresh:
        started = time.monotonic()
        reply = fresh.get("/health")
        assert reply.status_code == 200 and reply.json()["status"] == "ok"
        assert time.monotonic() - started < 2


@pytest.mark.parametrize("path", PAGES)
def test_each_page_has_the_navigation_and_the_as_of_picker(client, path):
    reply = client.get(path)
    assert reply.status_code == 200, reply.text[:500]
    assert reply.headers["content-type"].startswith("text/html")
    html = reply.text
    assert f'name="as_of" value="{LAST}" min="2024-01-02" max="{LAST}"' in html
    for page in PAGES:
        assert f'href="{page}?as_of={LAST}"' in html
    assert '<script src="/static/plotly.js">' in html
    assert not re.search(r"""src=["']https?://""", html)  # nothing from elsewhere


def test_every_page_links_by_url_with_its_as_of_date(client):
    html = client.get("/leverage", params={"as_of": EARLIER}).text
    assert f'value="{EARLIER}"' in html and f'href="/flows?as_of={EARLIER}"' in html
    assert "The last 13 weeks" in html and EARLIER in html


def test_overview_is_the_weekly_note_with_its_charts(client, book):
    html = client.get("/").text
    note = build(book, dt.date(2024, 6, 28))
    assert note.headline or note.sections
    for sentence in [*note.headline, *(s for section in note.sections for s in section.sentences)]:
        assert sentence.text.replace("&", "&amp;") in html.replace("&#x27;", "'")
    for chart in note.charts:
        assert f'data-chart="{chart.key}"' in html


def test_flows_drill_down_from_sector_to_security(client):
    path = "/flows"
    query = {"week": "2024-06-21"}
    for level in ("sector", "industry", "sub_industry"):
        html = client.get(path, params=query).text
        assert 'id="week"' in html and '<option value="2024-06-21" selected>' in html
        deeper = [link for link in _links(html) if f"{level}=" in link and link.startswith("/flows?")
                  and all(f"{k}=" in link for k in query if k != "week")]
        deeper = [link for link in deeper if len(parse_qs(urlparse(link).query)) == len(query) + 2]
        assert deeper, f"no link down from the {level} level"
        query = {k: v[0] for k, v in parse_qs(urlparse(deeper[0]).query).items() if k != "as_of"}
    html = client.get(path, params=query).text
    assert "By ticker, week ending 2024-06-21" in html
    assert 'data-chart="flows_by_ticker"' in html


@pytest.mark.parametrize(("query", "message"), [
    ({"industry": "Banks"}, "choose a sector before an industry"),
    ({"sector": "Energy", "industry": "Banks"}, "is not in"),
    ({"week": "2024-06-20"}, "no week ends on 2024-06-20"),
    ({"sector": "Nonsense"}, "Input should be"),
])
def test_a_bad_drill_down_is_a_422_with_its_reason(client, query, message):
    reply = client.get("/flows", params=query)
    assert reply.status_code == 422
    assert message in unescape(reply.text)


@pytest.mark.parametrize(("as_of", "message"), [
    ("2024-06-29", "is not an NYSE trading day"),
    ("2023-06-30", "outside the book's data"),
    ("2025-01-02", "outside the book's data"),
    ("2024-02-30", "is not a date"),
    ("2024-6-28", "at least 10 characters"),
    ("2024/06/28", "String should match pattern"),
])
def test_bad_dates_are_422_with_a_message(client, as_of, message):
    for path in ("/", "/api/facts", "/api/metrics/flows"):
        reply = client.get(path, params={"as_of": as_of})
        assert reply.status_code == 422
        assert message in unescape(reply.text)


def test_data_page_counts_rejects_and_withholds_account_level_records(client):
    html = client.get("/data").text
    assert "Rejected rows per table and file" in html and "bad-positions.csv" in html
    assert "withheld: account-level data" in html and "SECRET-FUND" not in html
    rejects = client.get("/api/rejects").json()
    assert rejects["rows"] == 1 and rejects["data"][0]["record"] is None
    assert "SECRET-FUND" not in client.get("/api/rejects", params={"table": "positions"}).text


# -------------------------------------------------------------------------------------- API

def test_api_metrics_are_the_books_tables_with_the_same_disclosure(client, book):
    reply = client.get("/api/metrics/flows", params={"by": "sector", "last": 0})
    assert reply.status_code == 200
    body = reply.json()
    served = pd.DataFrame(body["data"])
    expected = book.flows(by="sector", freq="W", as_of=LAST).to_pandas()
    assert body["rows"] == len(expected) == len(served)
    assert served["suppressed"].tolist() == expected["suppressed"].tolist()
    assert served["suppressed"].any()                       # k=5 over 6 funds: some cells hidden
    assert served.loc[served.suppressed, "net_flow"].isna().all()
    pd.testing.assert_series_equal(served["net_flow"], expected["net_flow"], check_names=False)


def test_api_facts_and_report_are_the_clis(client, book):
    facts = client.get("/api/facts").json()
    assert [fact["id"] for fact in facts] == [fact.id for fact in book.facts(as_of=LAST)]
    served, expected = client.get("/api/report").json(), json.loads(render_json(build(book, LAST)))
    # The same sentences citing the same facts (values may differ in the last bit: DuckDB sums
    # in parallel).
    for part in ("headline", "sections"):
        assert _sentences(served[part]) == _sentences(expected[part])
    assert served["charts"] == expected["charts"]
    text = client.get("/api/report", params={"format": "text"})
    assert text.headers["content-type"].startswith("text/plain") and "week ending June 28, 2024" in text.text


def test_the_curl_examples_of_docs_web_md_answer(client):
    doc = (Path(__file__).parent.parent / "docs" / "web.md").read_text()
    urls = re.findall(r"^    curl '(http://127\.0\.0\.1:8000/[^']*)'$", doc, re.MULTILINE)
    assert len(urls) >= 8
    for url in urls:
        reply = client.get(url.removeprefix("http://127.0.0.1:8000"))
        assert reply.status_code == 200, (url, reply.text[:300])


def _sentences(items: list[dict]) -> list[tuple]:
    found = []
    for item in items:
        for sentence in item.get("sentences", [item]):
            found.append((sentence["text"], tuple(sentence["fact_ids"])))
    return found


def test_api_answers_a_question_the_book_refuses_with_422(client):
    reply = client.get("/api/metrics/retail", params={"by": "strategy"})
    assert reply.status_code == 422 and "unknown retail group" in reply.json()["detail"]
    assert client.get("/api/metrics/flows", params={"by": "nonsense"}).status_code == 422
    assert client.get("/api/metrics/nonsense").status_code == 422


def test_openapi_schema_states_every_constraint(client):
    schema = client.get("/openapi.json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/metrics/{family}"]["get"]["parameters"]}
    as_of = parameters["as_of"]["schema"]["anyOf"][0]
    assert as_of["pattern"] and as_of["maxLength"] == 10
    assert "sector" in parameters["by"]["schema"]["enum"]
    flows = {p["name"]: p for p in schema["paths"]["/flows"]["get"]["parameters"]}
    assert "Energy" in flows["sector"]["schema"]["anyOf"][0]["enum"]
    assert all(set(methods) == {"get"} for methods in schema["paths"].values())   # read-only


def test_plotly_is_served_by_the_app_with_caching_headers(client):
    reply = client.get("/static/plotly.js")
    assert reply.status_code == 200 and len(reply.content) > 1_000_000
    assert "max-age" in reply.headers["cache-control"] and reply.headers["etag"]
    again = client.get("/static/plotly.js", headers={"If-None-Match": reply.headers["etag"]})
    assert again.status_code == 304 and not again.content


# ----------------------------------------------------------------------------- security probes

@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_read_only(client, method):
    assert getattr(client, method)("/api/facts").status_code == 405


@pytest.mark.parametrize("url", [
    "/static/../../../../etc/passwd", "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/static/..%2f..%2fpyproject.toml",
    "/api/metrics/..%2f..%2f..%2fetc%2fpasswd", "/..%2f..%2f..%2fetc/passwd", "/data?table=../../manifest.json",
    "/api/rejects?table=../../../etc/passwd", "/flows?sector=../../../../etc/passwd",
    "/api/metrics/flows?by=..%2f..%2fpositions",
])
def test_path_traversal_reaches_nothing(client, url):
    reply = client.get(url)
    assert reply.status_code in (200, 404, 422), reply.status_code
    assert "root:" not in reply.text and "[project]" not in reply.text and '"tables"' not in reply.text


INJECTIONS = ["2024-06-28' OR '1'='1", "2024-06-28; DROP TABLE positions", "<script>alert(1)</script>",
              "book\"; DROP TABLE positions; --", "${jndi:ldap://x}", "{{7*7}}", "sector' UNION SELECT * FROM accounts--",
              "\x00", "%00", "Energy\r\nSet-Cookie: x=1"]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_strings_are_refused_and_never_echoed_raw(client, web_store, text):
    before = Store.open(web_store).info()
    for url, name in (("/", "as_of"), ("/api/metrics/flows", "by"), ("/flows", "sector"), ("/flows", "week"),
                      ("/api/metrics/flows", "as_of"), ("/hf-vs-retail", "window")):
        reply = client.get(url, params={name: text})
        assert reply.status_code == 422, (url, name, reply.status_code)
        assert "<script>alert" not in reply.text
        assert "set-cookie" not in reply.headers
    assert Store.open(web_store).info() == before


def test_oversized_parameters(client):
    assert client.get("/", params={"as_of": "2" * 11}).status_code == 422
    assert client.get("/", params={"as_of": "2" * 10_000}).status_code == 414
    assert client.get("/api/metrics/flows", params={"last": 10**12}).status_code == 422
    assert client.get("/api/rejects", params={"limit": -1}).status_code == 422
    assert client.get("/" + "a" * 5000).status_code == 414


def test_security_headers(client):
    headers = client.get("/").headers
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


@pytest.fixture(scope="module")
def guarded(web_store) -> TestClient:
    with TestClient(create_app(web_store, token=TOKEN, warm=False)) as test_client:
        yield test_client


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-0123456789"},
                                     {"Authorization": f"Bearer {TOKEN[:-1]}"}, {"Authorization": TOKEN},
                                     {"Authorization": "Basic " + TOKEN}, {"Cookie": "smartmoney_token=nope"}])
def test_a_missing_or_wrong_token_is_401(guarded, headers):
    for url in ("/", "/api/facts", "/api/info", "/openapi.json", "/flows?sector=Energy"):
        reply = guarded.get(url, headers=headers)
        assert reply.status_code == 401 and reply.headers["www-authenticate"].startswith("Bearer")
        guarded.cookies.clear()


def test_the_right_token_opens_every_route(guarded):
    assert guarded.get("/api/info", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert guarded.get("/health").status_code == 200                  # open: says nothing of the data
    assert guarded.get("/static/plotly.js").status_code == 200        # open: the public library
    first = guarded.get("/data", params={"token": TOKEN})             # a browser's first visit
    assert first.status_code == 200 and "HttpOnly" in first.headers["set-cookie"]
    assert guarded.get("/data").status_code == 200                    # then the cookie carries it
    guarded.cookies.clear()
    assert guarded.get("/data").status_code == 401


def test_a_weak_token_is_refused(web_store):
    with pytest.raises(ValueError, match="16 to 256 characters"):
        create_app(web_store, token="short")


def test_serving_beyond_loopback_needs_a_token(web_store, monkeypatch):
    from typer.testing import CliRunner

    from smartmoney.cli import app

    monkeypatch.delenv("SMARTMONEY_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["serve", "--store", str(web_store), "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "not a loopback address" in result.output and "--token or SMARTMONEY_TOKEN" in result.output
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    check_bind("0.0.0.0", TOKEN)
    with pytest.raises(ValueError):
        check_bind("192.168.1.5", None)


# ------------------------------------------------------------------------- schemathesis

OPERATIONS = [*PAGES, "/health", "/api/metrics/{family}", "/api/facts", "/api/report", "/api/info",
              "/api/rejects", "/api/dates"]


@pytest.fixture(scope="module")
def web_schema(client):
    import schemathesis

    return schemathesis.openapi.from_asgi("/openapi.json", client.app)


def test_the_schema_lists_every_operation(web_schema):
    listed = {result.ok().path for result in web_schema.get_all_operations()}
    assert listed == {*OPERATIONS, "/static/plotly.js"}


@pytest.mark.parametrize(("path", "mode"), [
    (path, mode) for path in OPERATIONS for mode in ("positive", "negative")
    if mode == "positive" or path not in ("/health", "/api/info", "/api/dates")])  # no parameters
def test_the_api_keeps_to_its_openapi_schema(web_schema, path, mode):
    """schemathesis: schema-valid and schema-invalid requests for every operation (its
    pytest plugin's lazy fixture does not run under pytest 9, so its strategies are used)."""
    from hypothesis import given
    from schemathesis import GenerationMode
    from schemathesis.checks import positive_data_acceptance

    operation = web_schema[path]["GET"]

    @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        # Schema-valid dates that are not trading days in the book are refused (422), by design;
        # a query longer than 2 KiB is refused before validation (414, which schemathesis does
        # not count among rejections).
        response = case.call()
        if response.status_code == 414:
            assert "too long" in response.json()["detail"]
            return
        case.validate_response(response, excluded_checks=[positive_data_acceptance])

    check()


# ------------------------------------------------------------------------------ the browser

@contextlib.contextmanager
def _server(app):
    """The app under uvicorn on 127.0.0.1, a free port, in a background thread."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _browser(base: str, profile: Path):
    """Headless Debian Chromium (no browser download) that may load `base` and nothing else."""
    return launch(profile, base + "/", width=1280, height=900, timeout_ms=120_000, offline=False)


def _charts_drawn(page) -> int:
    page.wait_for_selector("body[data-plots-ready]")
    expected = int(page.get_attribute("body", "data-plots-ready"))
    assert page.locator("figure.chart .main-svg").count() >= expected
    return expected


@pytest.fixture(scope="module")
def served(client):
    if not chromium_available():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with _server(client.app) as base:
        yield base


@pytest.mark.browser
def test_every_page_draws_in_chromium(served, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    with _browser(served, tmp_path / "profile") as (page, log):
        for path in PAGES:
            page.goto(served + path, wait_until="load")
            charts = _charts_drawn(page)
            if path in ("/", "/leverage", "/flows", "/retail"):
                assert charts >= 1, path
            page.screenshot(path=str(ARTIFACTS / f"web{path.replace('/', '-').rstrip('-') or '-overview'}.png"),
                            full_page=True)
        assert log.errors == [] and log.blocked_requests == []


@pytest.mark.browser
def test_drill_down_and_as_of_in_chromium(served, tmp_path):
    with _browser(served, tmp_path / "profile") as (page, log):
        page.goto(served + "/flows", wait_until="load")
        _charts_drawn(page)
        for level in ("sector", "industry", "sub_industry"):
            page.locator(f'table a[href*="{level}="]').first.click()
            page.wait_for_load_state("load")
            assert f"{level}=" in page.url
            _charts_drawn(page)
        assert "By ticker" in page.content()
        page.screenshot(path=str(ARTIFACTS / "web-flows-drilled.png"), full_page=True)
        page.select_option("#week", "2024-06-14")
        page.wait_for_url(re.compile(r"week=2024-06-14"))
        _charts_drawn(page)
        page.goto(served + "/", wait_until="load")
        page.fill("#as-of", EARLIER)
        page.wait_for_url(re.compile(f"as_of={EARLIER}"))
        _charts_drawn(page)
        assert "June 28" not in page.locator("h1").inner_text()
        page.screenshot(path=str(ARTIFACTS / "web-overview-earlier.png"), full_page=True)
        assert log.errors == [] and log.blocked_requests == []
