"""The dashboard under hostile clients (issue 9, item 6), against the real server: `smartmoney
serve` in its own process on a free port, attacked with raw sockets. Slow clients (slowloris, and
clients that never read their answer), large and malformed requests, a burst of 500 concurrent
requests: the server answers the others quickly, refuses or drops the attackers, keeps its memory
(VmRSS) and stays up. Figures: docs/RELIABILITY.md, "Web"; the settings: docs/web.md."""

from __future__ import annotations

import asyncio
import contextlib
import random
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from test_web import web_store  # noqa: F401  (the small simulated book of the dashboard's tests)

from smartmoney.web.server import HEAD_TIMEOUT, STALL_TIMEOUT

pytestmark = pytest.mark.slow      # about 1-2 minutes, most of it building the book and warming the server

MiB = 1024 * 1024
MEMORY_LIMIT_MB = 100              # growth of the server's VmRSS any attack may cause
SLOW_CLIENTS = 200
HEALTH = "/api/dates"              # a cheap API answer: the "is it still serving" request
FLOWS = "/api/metrics/flows?by=sector&last=5"


@dataclass
class Served:
    port: int
    process: subprocess.Popen
    log: Path
    baseline_mb: float = 0.0

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def connections(self) -> int:
        """Connections the server holds open (ESTABLISHED on its port, from /proc/net/tcp)."""
        local = f"0100007F:{self.port:04X}"
        rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
        return sum(1 for row in rows if (fields := row.split())[1] == local and fields[3] == "01")

    def wait_for_connections(self, at_most: int, until: float) -> float:
        """Wait until the server holds at most `at_most` connections; the seconds waited."""
        began = time.monotonic()
        while self.connections() > at_most and time.monotonic() < until:
            time.sleep(0.25)
        return time.monotonic() - began

    def assert_up(self, max_growth_mb: float = MEMORY_LIMIT_MB) -> float:
        """The process lives, answers the health request, and has not grown by more than the limit."""
        assert self.process.poll() is None, f"the server died:\n{self.log.read_text()[-3000:]}"
        status, _, seconds = get(self.port, HEALTH)
        assert status == 200 and seconds < 5, (status, seconds)
        growth = self.rss_mb() - self.baseline_mb
        assert growth < max_growth_mb, f"the server grew by {growth:.0f} MB"
        return growth


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str, timeout: float = 30) -> tuple[int | None, bytes, float]:
    """A normal request on a new connection: (status, body, seconds)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        reply = _read_all(sock)
    head, _, body = reply.partition(b"\r\n\r\n")
    return _status(head), body, time.monotonic() - started


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _status(reply: bytes) -> int | None:
    parts = reply.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[0].startswith(b"HTTP/1.") and parts[1].isdigit() else None


@pytest.fixture(scope="module")
def server(web_store, tmp_path_factory):  # noqa: F811
    """`smartmoney serve` over the book, in its own process, once its latest week is warm."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from smartmoney.cli import main; main()", "serve", "--store", str(web_store),
             "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while True:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            with contextlib.suppress(OSError):
                status, body, _ = get(port, "/health", timeout=10)
                if status == 200 and b'"warm":true' in body:
                    break
            time.sleep(0.5)
        served = Served(port, process, log)
        for path in ("/", "/static/plotly.js", HEALTH, "/api/info", FLOWS):     # what the tests ask, once
            assert get(port, path)[0] == 200
        served.baseline_mb = served.rss_mb()
        yield served
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


# ------------------------------------------------------------------------------- slow clients

def _slow_writer(port: int) -> socket.socket:
    """A connection that sends part of a request head, and then (maybe) a byte now and then."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    return sock


def _non_reader(port: int) -> socket.socket:
    """A connection that asks for plotly.js (4.8 MB) with a 4 KiB receive buffer, and reads nothing."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /static/plotly.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return sock


def test_slow_clients_neither_stall_others_nor_hold_on(server, capsys):
    """200 slowloris connections (a partial request head; half of them then send a byte a second,
    half nothing) and 200 connections that never read their answer (plotly.js). Meanwhile 20
    requests on other connections are answered quickly and the slow ones cost little memory; then
    the server drops every slow connection at its deadline (head, or stall), and still answers."""
    writers: list[socket.socket] = []     # a byte a second
    silent: list[socket.socket] = []
    readers: list[socket.socket] = []
    stop = threading.Event()

    def drip(socks):
        while not stop.wait(1.0):
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.send(b"x")

    dripper = threading.Thread(target=drip, args=(writers,), daemon=True)
    try:
        opened = time.monotonic()
        for index in range(SLOW_CLIENTS):
            (writers if index % 2 else silent).append(_slow_writer(server.port))
            readers.append(_non_reader(server.port))
        dripper.start()
        latencies = []
        for _ in range(20):
            status, _, seconds = get(server.port, HEALTH)
            assert status == 200
            latencies.append(seconds)
            time.sleep(0.1)
        measured = time.monotonic() - opened
        held, held_mb = server.connections(), server.rss_mb() - server.baseline_mb
        if measured < min(HEAD_TIMEOUT, STALL_TIMEOUT) - 1:
            assert held >= 2 * SLOW_CLIENTS, f"slow clients dropped before their deadline ({held} held)"
        assert _p95(latencies) < 1.0, latencies
        assert held_mb < MEMORY_LIMIT_MB, f"slow clients cost {held_mb:.0f} MB"
        server.wait_for_connections(0, until=opened + max(HEAD_TIMEOUT, STALL_TIMEOUT) + 20)
        dropped_after = time.monotonic() - opened
        assert server.connections() == 0, f"{server.connections()} slow clients still held after their deadline"
        received = []
        for sock in readers:
            try:
                received.append(len(_read_all(sock)))
            except ConnectionResetError:
                received.append(-1)
        assert max(received) < 4_800_000, "a client that read nothing got the whole answer"
    finally:
        stop.set()
        if dripper.is_alive():
            dripper.join(5)
        for sock in writers + silent + readers:
            sock.close()
    growth = server.assert_up()
    with capsys.disabled():
        print(f"\n[web] slow clients: {held} held ({SLOW_CLIENTS} slowloris, {SLOW_CLIENTS} non-readers of "
              f"plotly.js) for {measured:.1f} s: RSS +{held_mb:.1f} MB, others p95 {_p95(latencies) * 1000:.0f} ms "
              f"max {max(latencies) * 1000:.0f} ms (request {latencies.index(max(latencies)) + 1} of 20); all dropped within {dropped_after:.1f} s; "
              f"after: RSS +{growth:.1f} MB; test {time.monotonic() - opened:.1f} s")


# ------------------------------------------------------------------------ large and malformed

def _exchange(port: int, chunks: Iterable[bytes], limit: float) -> tuple[int | None, float, int]:
    """Send `chunks` while watching for an answer: (its status, or None when the server closed
    without one; seconds to the answer or the close; bytes sent)."""
    started, sent = time.monotonic(), 0
    pieces: Iterator[bytes] | None = iter(chunks)
    pending = b""
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
        sock.setblocking(False)
        try:
            while (elapsed := time.monotonic() - started) < limit:
                readable, writable, _ = select.select([sock], [sock] if pieces else [], [], 0.2)
                if readable:
                    sock.settimeout(max(0.1, limit - elapsed))
                    reply = b""
                    with contextlib.suppress(OSError):
                        while b"\r\n" not in reply and (chunk := sock.recv(4096)):
                            reply += chunk
                    return _status(reply), time.monotonic() - started, sent
                if writable:
                    if not pending:
                        pending = next(pieces, b"")
                        if not pending:
                            pieces = None
                            continue
                    count = sock.send(pending[:MiB])
                    sent, pending = sent + count, pending[count:]
        except (BrokenPipeError, ConnectionResetError):
            return None, time.monotonic() - started, sent
    raise AssertionError(f"neither an answer nor a close within {limit} s ({sent} bytes sent)")


def _split(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    return (data[start:start + size] for start in range(0, len(data), size))


def _body(head: bytes, total: int) -> Iterator[bytes]:
    yield head
    for _ in range(total // MiB):
        yield b"x" * MiB


def _endless_chunks(head: bytes) -> Iterator[bytes]:
    yield head
    while True:
        yield b"10000\r\n" + b"x" * 0x10000 + b"\r\n"


def _http09() -> Iterator[bytes]:
    yield b"GET /\r\n"     # then nothing: HTTP/0.9 has no headers, h11 waits for them


GARBAGE = random.Random(9).randbytes(256 * 1024)
ATTACKS = {
    "url-1MB": (lambda: _split(b"GET /api/dates?q=" + b"a" * MiB + b" HTTP/1.1\r\nHost: x\r\n\r\n"), 5),
    "headers-4MB": (lambda: _split(b"GET /api/dates HTTP/1.1\r\nHost: x\r\n"
                                   + b"".join(b"X-Big-%d: %s\r\n" % (i, b"a" * 65536) for i in range(64)) + b"\r\n"), 5),
    "headers-10000": (lambda: _split(b"GET /api/dates HTTP/1.1\r\nHost: x\r\n"
                                     + b"".join(b"X-%d: 1\r\n" % i for i in range(10_000)) + b"\r\n"), 5),
    "body-100MB-GET": (lambda: _body(b"GET /api/dates HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                                     % (100 * MiB), 100 * MiB), 10),
    "body-100MB-POST-unknown": (lambda: _body(b"POST /no/such/route HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                                              % (100 * MiB), 100 * MiB), 10),
    "chunked-endless": (lambda: _endless_chunks(b"GET /api/dates HTTP/1.1\r\nHost: x\r\n"
                                                b"Transfer-Encoding: chunked\r\n\r\n"), 10),
    "headers-200-in-one-read": (lambda: [b"GET /api/dates HTTP/1.1\r\nHost: x\r\n"
                                         + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n"], 5),
    "garbage": (lambda: _split(GARBAGE), 5),
    "garbage-after-method": (lambda: [b"GET /api/dates HTTP/1.1\r\nHost: x\r\nX: " + GARBAGE[:4096] + b"\r\n\r\n"], 5),
    "http-0.9": (_http09, HEAD_TIMEOUT + 5),
    "http-0.9-blank-line": (lambda: [b"GET /\r\n\r\n"], 5),
    "http-2-preface": (lambda: [b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"], 5),
    "no-host": (lambda: [b"GET /api/dates HTTP/1.1\r\n\r\n"], 5),
    "content-length-absurd": (lambda: [(b"POST /api/dates HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                       b"99999999999999999999999999999999\r\n\r\nabc")], 5),
    "content-length-1PB-GET": (lambda: [(b"GET /api/dates HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                        b"1000000000000000\r\n\r\nabc")], 5),
    "content-length-negative": (lambda: [b"GET /api/dates HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"], 5),
    "content-length-twice": (lambda: [(b"GET /api/dates HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                      b"Content-Length: 5\r\n\r\nabc")], 5),
    "null-in-header": (lambda: [b"GET /api/dates HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n"], 5),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_large_and_malformed_requests_get_4xx_or_a_close(server, attack, capsys):
    make, limit = ATTACKS[attack]
    status, seconds, sent = _exchange(server.port, make(), limit)
    assert status is None or 400 <= status < 500, status
    assert seconds < limit
    growth = server.assert_up()
    with capsys.disabled():
        print(f"\n[web] {attack}: {status or 'closed'} in {seconds:.2f} s after {sent / MiB:.2f} MiB sent, "
              f"RSS +{growth:.1f} MB")


# -------------------------------------------------------------------------------------- burst

def test_a_burst_of_500_concurrent_requests(server, capsys):
    paths = [HEALTH, "/health", "/api/info", "/", FLOWS]

    async def burst() -> list[tuple[int, float]]:
        limits = httpx2.Limits(max_connections=None, max_keepalive_connections=0)
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", limits=limits,
                                     timeout=120) as client:
            start = asyncio.Event()

            async def one(path: str) -> tuple[int, float]:
                await start.wait()
                began = time.monotonic()
                reply = await client.get(path)
                return reply.status_code, time.monotonic() - began

            tasks = [asyncio.create_task(one(paths[i % len(paths)])) for i in range(500)]
            await asyncio.sleep(0)
            start.set()
            return await asyncio.gather(*tasks)

    began = time.monotonic()
    results = asyncio.run(burst())
    took = time.monotonic() - began
    statuses = sorted({status for status, _ in results})
    assert statuses == [200], statuses
    latencies = [seconds for _, seconds in results]
    growth = server.assert_up()
    with capsys.disabled():
        print(f"\n[web] burst: 500 concurrent in {took:.1f} s, statuses {statuses}, p95 {_p95(latencies):.2f} s, "
              f"max {max(latencies):.2f} s, RSS +{growth:.1f} MB")
