"""The dashboard application: HTML pages, the JSON API, plotly.js, and /health.

    from smartmoney.web import create_app
    app = create_app("demo-store")          # then: uvicorn, or `smartmoney serve --store demo-store`

Read-only: every route is a GET; no SQL is built from request text (the Book API takes checked
names and dates), and no request text reaches the file system (plotly.js is served from memory).
Pages are computed once per as-of date and parameters, then served from memory; the latest
week is computed at startup in a background thread (requests meanwhile wait for it).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import threading
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response

from smartmoney.book import BookError
from smartmoney.store import StoreError
from smartmoney.web import pages, views
from smartmoney.web.guard import Guard, check_token
from smartmoney.web.params import AsOf, Industry, Sector, SubIndustry, Week, Window
from smartmoney.web.service import Dashboard

HTML = "text/html; charset=utf-8"
_DETAIL = {"application/json": {"schema": {"type": "object", "properties": {"detail": {}}}}}
# Answers every route may give: the gate's (guard.py), and the pages' own error page.
GATE = {401: {"description": "Missing or wrong token (a server started with one)", "content": _DETAIL},
        413: {"description": "A request body (no route takes one)", "content": _DETAIL},
        414: {"description": "Request URL too long", "content": _DETAIL},
        431: {"description": "More than 100 headers, or more than 16 KiB of them", "content": _DETAIL}}
PAGE = {422: {"description": "A date, week or group the book cannot show: an HTML page saying why "
                             "(JSON for a parameter outside its schema)",
              "content": {"text/html": {"schema": {"type": "string"}}, **_DETAIL}}}
USER_ERRORS = (BookError, StoreError, ValueError, KeyError)


@functools.cache
def plotly_js() -> tuple[bytes, str]:
    """plotly.js from the plotly package, and its ETag."""
    import plotly.offline

    body = plotly.offline.get_plotlyjs().encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def create_app(store, *, token: str | None = None, engine: str = "duckdb", k: int = 5, p: float = 50.0,
               warm: bool = True) -> FastAPI:
    """The dashboard over `store`, with the CLI's disclosure rule (k accounts, p percent).

    With `token`, every request but /health and /static/plotly.js must carry it (see
    `smartmoney.web.guard`). With `warm`, the latest week's pages are computed at startup in a
    background thread.
    """
    if token is not None:
        check_token(token)
    dash = Dashboard(store, engine=engine, k=k, p=p)

    def produce(path: str, day, view: Callable[[], views.View], params: dict) -> bytes:
        """A page, rendered once per path, day and parameters."""
        key = ("page", path, day, tuple(sorted(params.items())))
        first, last = dash.date_range
        return dash.page(key, lambda: pages.render(view(), path=path, day=day, first=first, last=last).encode())

    def warm_up() -> None:
        day = dash.day(None)
        dash.warm([functools.partial(produce, path, day, functools.partial(make, dash, day), {})
                   for path, make in (("/", views.overview), ("/flows", views.flows), ("/leverage", views.leverage),
                                      ("/retail", views.retail), ("/hf-vs-retail", views.hf_vs_retail))])

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        if warm:
            threading.Thread(target=warm_up, name="smartmoney-warm", daemon=True).start()
        else:
            dash.ready.set()
        yield

    app = FastAPI(title="smartmoney", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  responses=GATE,
                  description="Hedge funds and retail in US stocks: the dashboard's pages and its JSON API "
                              "(read-only; disclosure control applied). See docs/web.md.")
    app.state.dashboard = dash

    async def page(request: Request, as_of: str | None, make: Callable, keep: dict | None = None,
                   **params) -> Response:
        path = request.url.path
        given = {k: v for k, v in params.items() if v is not None}
        try:
            if not dash.range_known:  # the first request may have to find it (a query)
                await run_in_threadpool(lambda: dash.date_range)
            day = dash.day(as_of)
            key = ("page", path, day, tuple(sorted(given.items())))
            body = dash.pages.get(key)
            if body is None:
                body = await run_in_threadpool(produce, path, day, lambda: make(dash, day, **given), given)
        except USER_ERRORS as error:
            first, last = dash.bounds()
            message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
            return HTMLResponse(pages.error(message, path=path, day=None, first=first, last=last,
                                            keep=keep), status_code=422)
        return Response(body, media_type=HTML)

    @app.get("/", response_class=HTMLResponse, tags=["pages"], responses=PAGE, summary="Overview: the weekly note with its charts")
    async def overview(request: Request, as_of: AsOf = None):
        return await page(request, as_of, views.overview)

    @app.get("/leverage", response_class=HTMLResponse, tags=["pages"], responses=PAGE, summary="Leverage")
    async def leverage(request: Request, as_of: AsOf = None):
        return await page(request, as_of, views.leverage)

    @app.get("/flows", response_class=HTMLResponse, tags=["pages"], responses=PAGE,
             summary="Flows of one week, from sector to industry to sub-industry to security")
    async def flows(request: Request, as_of: AsOf = None, week: Week = None, sector: Sector | None = None,
                    industry: Industry | None = None, sub_industry: SubIndustry | None = None):
        keep = {k: v for k, v in (("sector", sector), ("industry", industry), ("sub_industry", sub_industry)) if v}
        return await page(request, as_of, views.flows, keep, week=week, sector=sector, industry=industry,
                          sub_industry=sub_industry)

    @app.get("/retail", response_class=HTMLResponse, tags=["pages"], responses=PAGE, summary="Retail")
    async def retail(request: Request, as_of: AsOf = None):
        return await page(request, as_of, views.retail)

    @app.get("/hf-vs-retail", response_class=HTMLResponse, tags=["pages"], responses=PAGE,
             summary="Hedge funds vs retail: divergence, the watch list, the event study")
    async def hf_vs_retail(request: Request, as_of: AsOf = None, window: Window = 4):
        return await page(request, as_of, views.hf_vs_retail, {"window": str(window)}, window=window)

    @app.get("/public", response_class=HTMLResponse, tags=["pages"], responses=PAGE, summary="Public data: 13F, CFTC, FINRA")
    async def public(request: Request, as_of: AsOf = None):
        return await page(request, as_of, views.public)

    @app.get("/data", response_class=HTMLResponse, tags=["pages"], responses=PAGE, summary="Data: tables, row counts, rejects")
    async def data(request: Request, as_of: AsOf = None):
        return await page(request, as_of, lambda dash_, day: views.data(dash_))

    @app.get("/health", tags=["service"], summary="Liveness, and whether the latest week is computed")
    async def health() -> dict:
        return {"status": "ok", "warm": dash.ready.is_set()}

    @app.get("/static/plotly.js", tags=["service"], summary="plotly.js, served from the plotly package",
             response_class=Response)
    async def plotly(request: Request):
        body, etag = plotly_js()
        headers = {"Cache-Control": "public, max-age=604800, immutable", "ETag": etag}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)

    from smartmoney.web.api import router

    app.include_router(router)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request, error: RequestValidationError):
        # Where and why, never the input itself (it may be hostile text).
        return JSONResponse({"detail": [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "invalid")}
                                        for e in error.errors()]}, status_code=422)

    @app.exception_handler(BookError)
    async def book_error(_request, error: BookError):
        return JSONResponse({"detail": str(error)}, status_code=422)

    app.add_middleware(Guard, token=token)
    return app
