"""Running the dashboard: the bind rule (loopback, or a token) and uvicorn."""

from __future__ import annotations

import ipaddress

from smartmoney.web.guard import check_token


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
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=token is None)
