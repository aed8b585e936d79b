"""The JSON API: what the CLI prints, over HTTP (metrics, facts, report, info, rejects).

Answers are computed once per as-of date and parameters and kept; a question the book cannot
answer (a bad date, a grouping a family does not take) gets 422 with the Book's message.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from smartmoney import report as reports
from smartmoney.book import BookError
from smartmoney.web import views
from smartmoney.web.params import AsOf, Family, Freq, Group, TableName
from smartmoney.web.service import Dashboard, redact_rejects

DETAIL = {"type": "object", "properties": {"detail": {"anyOf": [
    {"type": "string", "description": "why the book cannot answer (a date outside it, a grouping "
                                      "this family does not take)"},
    {"type": "array", "description": "parameters outside their schema: where and why",
     "items": {"type": "object", "properties": {"loc": {"type": "array"}, "msg": {"type": "string"}}}}]}},
          "required": ["detail"]}
router = APIRouter(prefix="/api", tags=["api"], responses={
    422: {"description": "A question the book cannot answer, or a parameter outside its schema",
          "content": {"application/json": {"schema": DETAIL}}}})
JSON = "application/json"
USER_ERRORS = (BookError, ValueError, KeyError)

# The CLI's metric families (smartmoney metrics FAMILY): Book method and the arguments it takes.
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "exposure": ("exposure", ("by", "freq")), "flows": ("flows", ("by", "freq")),
    "retail": ("retail", ("by", "freq")), "divergence": ("divergence", ("by",)),
    "swap_share": ("swap_share", ()), "watch_list": ("watch_list", ()), "event_study": ("event_study", ()),
    "cot": ("cot", ()), "short_volume": ("short_volume", ("freq",)), "short_interest": ("short_interest", ()),
    "most_shorted": ("most_shorted", ()), "13f_flows": ("filer_flows", ("by",)), "13f_holders": ("holders", ()),
    "13f_concentration": ("concentration", ()), "13f_vip": ("vip", ()),
}


async def answer(request: Request, as_of: str | None, key: tuple, render, media_type: str = JSON) -> Response:
    """`render(dash, day) -> bytes`, kept per day and key; BookError and friends -> 422."""
    dash: Dashboard = request.app.state.dashboard
    try:
        if not dash.range_known:  # the first request may have to find it (a query)
            await run_in_threadpool(lambda: dash.date_range)
        day = dash.day(as_of)
        full = ("api", *key, day)
        body = dash.pages.get(full)
        if body is None:
            body = await run_in_threadpool(dash.page, full, lambda: render(dash, day))
    except USER_ERRORS as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
        return JSONResponse({"detail": message}, status_code=422)
    return Response(body, media_type=media_type)


@router.get("/metrics/{family}", summary="A metric table, as `smartmoney metrics FAMILY --format json`")
async def metrics(request: Request, family: Family, by: Group = "book", freq: Freq = "W", as_of: AsOf = None,
                  last: Annotated[int, Query(ge=0, le=1_000_000, description="Rows from the end (0 = all).")] = 1000):
    method, takes = FAMILIES[family]
    if family == "short_volume":
        freq = "D" if freq == "D" else "W"
    args = {name: value for name, value in (("by", by), ("freq", freq)) if name in takes}

    def render(dash, day) -> bytes:
        frame = views.frame(dash, day, method, **args)
        shown = frame if last == 0 else frame.tail(last)
        head = json.dumps({"family": family, **args, "as_of": day.isoformat(), "rows": len(frame),
                           "returned": len(shown)})
        return (head[:-1] + ', "data": ' + shown.to_json(orient="records", double_precision=15) + "}").encode()

    return await answer(request, as_of, ("metrics", family, by, freq, last), render)


@router.get("/facts", summary="Every fact about the last week up to as_of, as `smartmoney facts --format json`")
async def facts(request: Request, as_of: AsOf = None):
    def render(dash, day) -> bytes:
        found = dash.result(day, "facts", lambda: dash.book.facts(as_of=dash.as_of(day)))
        return json.dumps([_jsonable(fact.to_dict()) for fact in found], allow_nan=False).encode()

    return await answer(request, as_of, ("facts",), render)


@router.get("/report", summary="The weekly note, as `smartmoney report --format json|text|md`",
            responses={200: {"description": "The note: JSON, plain text or Markdown by `format`",
                             "content": {"application/json": {}, "text/plain": {"schema": {"type": "string"}},
                                         "text/markdown": {"schema": {"type": "string"}}}}})
async def report(request: Request, as_of: AsOf = None, format: Literal["json", "text", "md"] = "json"):
    renderers = {"json": reports.render_json, "text": reports.render_text, "md": reports.render_markdown}

    def render(dash, day) -> bytes:
        return renderers[format](views.report(dash, day)).encode()

    media = JSON if format == "json" else "text/plain; charset=utf-8" if format == "text" else "text/markdown; charset=utf-8"
    return await answer(request, as_of, ("report", format), render, media)


@router.get("/info", summary="Tables, row counts and dates, as `smartmoney info --format json`")
async def info(request: Request):
    dash: Dashboard = request.app.state.dashboard
    return JSONResponse(await run_in_threadpool(dash.store.info))


@router.get("/rejects", summary="Rejected input rows with their reasons (account-level records withheld)")
async def rejects(request: Request, table: TableName | None = None,
                  limit: Annotated[int, Query(ge=0, le=100_000, description="Rows (0 = all).")] = 50):
    dash: Dashboard = request.app.state.dashboard

    def render() -> dict:
        frame = dash.store.rejects(table)
        shown = frame if limit == 0 else frame.head(limit)
        shown = redact_rejects(shown)
        return {"rows": len(frame), "returned": len(shown), "data": json.loads(shown.to_json(orient="records"))}

    return JSONResponse(await run_in_threadpool(render))


@router.get("/dates", summary="The first and last day the as_of parameter accepts")
async def dates(request: Request):
    dash: Dashboard = request.app.state.dashboard
    try:
        first, last = await run_in_threadpool(lambda: dash.date_range)
    except BookError as error:
        return JSONResponse({"detail": str(error)}, status_code=422)
    return {"first": first.isoformat(), "last": last.isoformat()}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if value is pd.NA:
        return None
    return str(value)
