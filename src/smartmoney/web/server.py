"""Running the dashboard: the bind rule (loopback, or a token) and uvicorn, with a deadline for
a request head and for a client that reads nothing (docs/web.md, "Slow and large requests")."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct

from smartmoney.web.guard import check_token

HEAD_TIMEOUT = 10.0         # seconds a client has to send a whole request head (uvicorn has no limit)
STALL_TIMEOUT = 10.0        # seconds a client may read nothing of an answer it is sent (uvicorn: no limit)
MAX_HEAD = 16 * 1024        # bytes of a request head still incomplete: beyond, 400 (h11's default, stated)
KEEP_ALIVE = 5              # seconds an idle keep-alive connection stays open (uvicorn's default)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve beyond loopback without a token (and refuse a weak token anywhere)."""
    if token is not None:
        check_token(token)
    elif not is_loopback(host):
        raise ValueError(f"--host {host} is not a loopback address: the dashboard then needs a token "
                         "(--token or SMARTMONEY_TOKEN, 16 or more characters)")


def run(store, *, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
        engine: str = "duckdb", k: int = 5, p: float = 50.0) -> None:
    """Serve the dashboard until interrupted (the latest week is computed in the background)."""
    import uvicorn

    from smartmoney.web.app import create_app

    check_bind(host, token)
    app = create_app(store, token=token, engine=engine, k=k, p=p)
    # With a token, the access log is off: a browser's first request may carry it in its URL.
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=token is None, http=deadlines(),
                h11_max_incomplete_event_size=MAX_HEAD, timeout_keep_alive=KEEP_ALIVE)


def deadlines(head: float = HEAD_TIMEOUT, stall: float = STALL_TIMEOUT):
    """uvicorn's h11 protocol with two deadlines uvicorn lacks.

    - `head`: a client has that long to send a whole request head, counted from the connection
      or from the previous answer (not while the app computes one). uvicorn times out only an idle
      keep-alive connection, and any byte received stops that clock: a client sending its headers
      a byte at a time, or never finishing them, held a connection for ever (slowloris).
    - `stall`: while the answer waits on the client (the socket's buffers full), the client must
      read some of it within that long, else the connection is reset, dropping what it had pending
      (in the process and in the kernel); a client that never read held the connection, and its
      answer in memory, for ever.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class Deadlines(H11Protocol):
        _head_timer = None
        _stall_timer = None

        def pause_writing(self) -> None:
            super().pause_writing()
            self._watch(None)

        def resume_writing(self) -> None:
            if self._stall_timer is not None:
                self._stall_timer.cancel()
                self._stall_timer = None
            super().resume_writing()

        def _watch(self, pending: int | None) -> None:
            """Drop the connection if nothing of `pending` bytes left in `stall` seconds."""
            self._stall_timer = None
            now = self.transport.get_write_buffer_size()
            if pending is not None and now >= pending:
                sock = self.transport.get_extra_info("socket")
                with contextlib.suppress(OSError, AttributeError):   # a reset: the kernel's buffer goes too
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.transport.abort()
            elif now:
                self._stall_timer = self.loop.call_later(stall, self._watch, now)

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm()

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and not self.cycle.response_complete:    # a request head came
                self._disarm()

        def on_response_complete(self) -> None:
            self._arm()              # before: a pipelined request handled there disarms it
            super().on_response_complete()

        def connection_lost(self, exc) -> None:
            self._disarm()
            if self._stall_timer is not None:
                self._stall_timer.cancel()
                self._stall_timer = None
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._head_timer = self.loop.call_later(head, self._late)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _late(self) -> None:
            self._head_timer = None
            if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
                self.transport.close()          # once what is pending is sent, if the client reads it
                if self._stall_timer is None:
                    self._watch(None)

    return Deadlines
