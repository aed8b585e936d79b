"""Download the public sources' raw files from their official servers into a local cache.

    fetch("cftc", "tff", {"year": [2024]})    -> [Fetched(url, path, downloaded, size)]

What can be fetched is data: `REMOTES` maps each source (sec13f, cftc, finra) to its server and
its files, each a URL path template with `{fields}` (year, date, facility, cik, accession,
dataset) and the ingest kind that reads it. A file lands in `CACHE/<source>/<URL path>`, written
to a temporary file and renamed, so a crash never leaves half a file; a file already cached is
not downloaded again unless `refresh` (files the server replaces in place, like the CFTC's
weekly ones, always are). Errors are a `FetchError` whose message is one line naming the URL.

The SEC asks automated tools for a User-Agent with contact details and at most 10 requests a
second: sec13f refuses to download without one, and a `RateLimiter` spaces its requests.
"""

from __future__ import annotations

import datetime as dt
import http.client
import itertools
import os
import re
import socket
import string
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from smartmoney import __version__
from smartmoney.sources.finra import FACILITIES
from smartmoney.taxonomy.calendar import is_trading_day, trading_days

USER_AGENT_ENV = "SMARTMONEY_USER_AGENT"
CACHE_ENV = "SMARTMONEY_CACHE"
SEC_USER_AGENT_RULE = ('the SEC asks automated tools to send a User-Agent naming who they are and '
                       'how to reach them, "Name email@domain" (e.g. "Jane Doe jane.doe@example.com")')
RETRY_STATUSES = frozenset({429, 502, 503, 504})
CHUNK_BYTES = 1 << 16
_CONTACT = re.compile(r"\S+@\S+\.\w+")


class FetchError(Exception):
    """A download that cannot be done; the message is one line naming the URL and the reason."""


@dataclass(frozen=True)
class RemoteFile:
    """One kind of file on a source's server.

    `template` is the URL path under the server's base URL, with `{field}` placeholders; `kind`
    is the `smartmoney ingest` kind that reads the file; `current` marks a file the server
    replaces in place (always downloaded); `daily` a file per NYSE trading day (takes a date
    range); `defaults` values used for a field not given; `missing_hint` follows a 404.
    """

    template: str
    kind: str
    current: bool = False
    daily: bool = False
    defaults: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    missing_hint: str = ""

    @property
    def fields(self) -> list[str]:
        return [name for _, name, _, _ in string.Formatter().parse(self.template) if name]


@dataclass(frozen=True)
class Remote:
    """A source's server: its official base URL, its files, and the rules it asks clients to keep."""

    name: str
    base_url: str
    files: Mapping[str, RemoteFile]
    requests_per_second: float | None = None
    needs_user_agent: bool = False

    @property
    def base_url_env(self) -> str:
        return f"SMARTMONEY_{self.name.upper()}_BASE_URL"


_CFTC_YEARLY = "the CFTC publishes one zip per year under /files/dea/history/; check the year"
_CFTC_WEEKLY = "the CFTC replaces this file every Friday at /dea/newcot/"
_SEC_DATASETS = ("see the names the SEC lists at "
                 "https://www.sec.gov/data-research/sec-markets-data/form-13f-data-sets")
REMOTES: dict[str, Remote] = {
    "sec13f": Remote("sec13f", "https://www.sec.gov", requests_per_second=10, needs_user_agent=True, files={
        # a filing's full submission text file, by the filer's CIK and the accession number
        "filing": RemoteFile("/Archives/edgar/data/{cik}/{accession}.txt", "sec13f",
                             missing_hint="check the CIK (the filer's) and the accession number"),
        # the Form 13F data sets: YYYYqN up to 2023q4, then DDmonYYYY-DDmonYYYY windows
        "dataset": RemoteFile("/files/structureddata/data/form-13f-data-sets/{dataset}_form13f.zip", "sec13f",
                              missing_hint=_SEC_DATASETS),
    }),
    "cftc": Remote("cftc", "https://www.cftc.gov", files={
        # Traders in Financial Futures and legacy COT, futures only or combined: yearly zips ...
        "tff": RemoteFile("/files/dea/history/fut_fin_txt_{year}.zip", "cftc_tff", missing_hint=_CFTC_YEARLY),
        "tff_combined": RemoteFile("/files/dea/history/com_fin_txt_{year}.zip", "cftc_tff",
                                   missing_hint=_CFTC_YEARLY),
        "legacy": RemoteFile("/files/dea/history/deacot{year}.zip", "cftc_legacy", missing_hint=_CFTC_YEARLY),
        "legacy_combined": RemoteFile("/files/dea/history/deahistfo{year}.zip", "cftc_legacy",
                                      missing_hint=_CFTC_YEARLY),
        # ... and this week's files, replaced in place every Friday
        "tff_weekly": RemoteFile("/dea/newcot/FinFutWk.txt", "cftc_tff", current=True, missing_hint=_CFTC_WEEKLY),
        "tff_combined_weekly": RemoteFile("/dea/newcot/FinComWk.txt", "cftc_tff", current=True,
                                          missing_hint=_CFTC_WEEKLY),
        "legacy_weekly": RemoteFile("/dea/newcot/deafut.txt", "cftc_legacy", current=True,
                                    missing_hint=_CFTC_WEEKLY),
        "legacy_combined_weekly": RemoteFile("/dea/newcot/deacom.txt", "cftc_legacy", current=True,
                                             missing_hint=_CFTC_WEEKLY),
    }),
    "finra": Remote("finra", "https://cdn.finra.org", files={
        "short_volume": RemoteFile("/equity/regsho/daily/{facility}shvol{date}.txt", "finra_short_volume",
                                   daily=True, defaults={"facility": ("CNMS",)},
                                   missing_hint="FINRA posts each trading day's file in the evening; "
                                                "check the date and the facility"),
        "short_interest": RemoteFile("/equity/otcmarket/biweekly/shrt{date}.csv", "finra_short_interest",
                                     missing_hint="FINRA names these files by settlement date (the 15th "
                                                  "and the month's end, or the trading day before) and "
                                                  "posts them about 7 trading days later"),
    }),
}


# ------------------------------------------------------------------------ what to fetch


def _year(value: object) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"(19[89]\d|2\d{3})", text):
        raise ValueError(f"year {value!r} is not a year like 2024")
    return text


def _day(value: object) -> str:
    text = str(value).strip()
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(
            f"{text[:4]}-{text[4:6]}-{text[6:]}" if re.fullmatch(r"\d{8}", text) else text)
    except ValueError:
        raise ValueError(f"date {value!r} is not a date like 2024-06-28") from None
    return day.strftime("%Y%m%d")


def _facility(value: object) -> str:
    text = str(value).strip().upper()
    if text not in FACILITIES:
        raise ValueError(f"unknown FINRA facility {value!r}; choose one of {', '.join(FACILITIES)}")
    return text


def _cik(value: object) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"\d{1,10}", text) or int(text) == 0:
        raise ValueError(f"CIK {value!r} is not an SEC central index key (up to 10 digits)")
    return str(int(text))  # EDGAR's archive paths write the CIK without leading zeros


def _accession(value: object) -> str:
    digits = str(value).strip().replace("-", "")
    if not re.fullmatch(r"\d{18}", digits):
        raise ValueError(f"accession number {value!r} is not 18 digits like 0001894188-23-000007")
    return f"{digits[:10]}-{digits[10:12]}-{digits[12:]}"


def _dataset(value: object) -> str:
    text = str(value).strip().lower().removesuffix("_form13f.zip")
    if not re.fullmatch(r"\d{4}q[1-4]|\d{2}[a-z]{3}\d{4}-\d{2}[a-z]{3}\d{4}", text):
        raise ValueError(f"Form 13F data set {value!r} is not named like 2023q4 or 01jun2024-31aug2024")
    return text


FIELDS: dict[str, Callable[[object], str]] = {
    "year": _year, "date": _day, "facility": _facility, "cik": _cik, "accession": _accession,
    "dataset": _dataset,
}


def remote_file(source: str, what: str) -> tuple[Remote, RemoteFile]:
    """The source's server and the file kind `what`; ValueError naming the choices otherwise."""
    if source not in REMOTES:
        raise ValueError(f"unknown source {source!r}; choose one of {', '.join(REMOTES)}")
    remote = REMOTES[source]
    if what not in remote.files:
        raise ValueError(f"{source} has no {what!r}; choose one of {', '.join(remote.files)}")
    return remote, remote.files[what]


def plan(source: str, what: str, values: Mapping[str, Iterable[object]] | None = None, *,
         start: str | dt.date | None = None, end: str | dt.date | None = None) -> list[str]:
    """The URL paths to fetch: every combination of the given field values, in the order given.

    Parameters
    ----------
    source, what
        A key of `REMOTES` and of its files, e.g. "finra", "short_volume".
    values
        Field name -> values, e.g. {"date": ["2024-06-28"], "facility": ["CNMS", "FNSQ"]}.
        Empty or missing fields take the file's defaults; a field the file does not use is an error.
    start, end
        For daily files: every NYSE trading day in [start, end] is added to the dates.
    """
    _, spec = remote_file(source, what)
    given = {name: list(items) for name, items in (values or {}).items() if items}
    if start is not None or end is not None:
        if not spec.daily:
            raise ValueError(f"{source} {what} is not a daily file: give --date values, not --start/--end")
        if start is None or end is None:
            raise ValueError("--start and --end go together")
        given["date"] = [*given.get("date", []), *trading_days(start, end)]
    for name in given:
        if name not in spec.fields:
            raise ValueError(f"{source} {what} takes no --{name}; it takes "
                             f"{', '.join('--' + f for f in spec.fields) or 'no values'}")
    normalized = {}
    for name in spec.fields:
        items = given.get(name) or list(spec.defaults.get(name, ()))
        if not items:
            raise ValueError(f"{source} {what} needs --{name}")
        normalized[name] = list(dict.fromkeys(FIELDS[name](item) for item in items))
    if spec.daily:
        for day in normalized.get("date", []):
            if not is_trading_day(dt.datetime.strptime(day, "%Y%m%d").date()):
                raise ValueError(f"{day[:4]}-{day[4:6]}-{day[6:]} is not an NYSE trading day; "
                                 f"{source} publishes {what} files for trading days only")
    combos = itertools.product(*normalized.values())
    return [spec.template.format(**dict(zip(normalized, combo, strict=True))) for combo in combos]


# ------------------------------------------------------------------------ configuration


def cache_dir(cache: str | os.PathLike | None = None) -> Path:
    """The cache root: `cache`, else $SMARTMONEY_CACHE, else $XDG_CACHE_HOME/smartmoney or ~/.cache/smartmoney."""
    if cache is None:
        cache = os.environ.get(CACHE_ENV) or Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache") / "smartmoney"
    return Path(cache).expanduser()


def resolve_base_url(remote: Remote, override: str | None = None) -> str:
    """The server to use: `override`, else $SMARTMONEY_<SOURCE>_BASE_URL, else the official one."""
    chosen = override or os.environ.get(remote.base_url_env) or remote.base_url
    if not re.match(r"https?://[^/]+", chosen):
        raise ValueError(f"base URL {chosen!r} does not start with http:// or https:// and a host")
    return chosen.rstrip("/")


def resolve_user_agent(flag: str | None = None) -> str | None:
    """The User-Agent: the flag, else $SMARTMONEY_USER_AGENT, else None (blank counts as none)."""
    chosen = flag if flag is not None else os.environ.get(USER_AGENT_ENV, "")
    return chosen.strip() or None


def _require_contact(agent: str | None, url: str) -> str:
    if agent is None:
        raise FetchError(f"refusing to download {url} without a User-Agent: {SEC_USER_AGENT_RULE}; "
                         f"pass --user-agent or set {USER_AGENT_ENV}")
    if not _CONTACT.search(agent) or not _CONTACT.sub("", agent).strip():
        raise FetchError(f"User-Agent {agent!r} lacks a name or an email: {SEC_USER_AGENT_RULE}")
    return agent


class RateLimiter:
    """At most `per_second` requests a second: each call to `wait` takes the next free slot.

    Slots are `1 / per_second` apart and reserved under a lock, so threads sharing a limiter
    never start two requests in one interval; the caller sleeps outside the lock. `clock` and
    `sleep` are injectable so tests measure the spacing without waiting.
    """

    def __init__(self, per_second: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / per_second
        self._clock, self._sleep = clock, sleep
        self._next_slot = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until this request may start; return the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
        if slot > now:
            self._sleep(slot - now)
        return slot - now


_SHARED_LIMITERS: dict[str, RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def shared_limiter(remote: Remote) -> RateLimiter | None:
    """One limiter per source for the whole process (None when the source sets no rate)."""
    if remote.requests_per_second is None:
        return None
    with _SHARED_LOCK:
        return _SHARED_LIMITERS.setdefault(remote.name, RateLimiter(remote.requests_per_second))


# ------------------------------------------------------------------------ downloading


@dataclass(frozen=True)
class Fetched:
    """A file in the cache: where it came from, where it is, and whether this run downloaded it."""

    url: str
    path: Path
    downloaded: bool
    size: int


def network_message(url: str, error: BaseException, timeout: float) -> str:
    """One line saying why `url` could not be reached (offline, DNS, timeout, refused...)."""
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    host = urllib.parse.urlsplit(url).netloc
    if isinstance(reason, socket.gaierror):
        what = f"cannot resolve {host.split(':')[0]} (DNS lookup failed: offline?)"
    elif isinstance(reason, TimeoutError):
        what = f"no answer from {host} within {timeout:g} s (timed out: offline or the server is slow?)"
    elif isinstance(reason, ConnectionRefusedError):
        what = f"connection refused by {host} (offline, or nothing listens there?)"
    elif isinstance(reason, ConnectionError):
        what = f"connection to {host} lost ({type(reason).__name__}: offline?)"
    else:
        what = str(reason).strip() or type(reason).__name__
    return f"cannot fetch {url}: {what}"


class Downloader:
    """GETs URL paths of one remote into files, with its User-Agent, rate limit and retries."""

    def __init__(self, remote: Remote, spec: RemoteFile, *, base: str, agent: str | None,
                 limiter: RateLimiter | None, retries: int, timeout: float,
                 sleep: Callable[[float], None]):
        self.remote, self.spec, self.base, self.agent = remote, spec, base, agent
        self.limiter, self.retries, self.timeout, self.sleep = limiter, retries, timeout, sleep
        self._opener = urllib.request.build_opener()

    def url(self, path: str) -> str:
        return self.base + path

    def download(self, path: str, target: Path, on_bytes: Callable[[int, int | None], None]) -> int:
        """Write the file at `path` to `target` atomically; return its size in bytes."""
        url = self.url(path)
        agent = _require_contact(self.agent, url) if self.remote.needs_user_agent else self.agent
        headers = {"User-Agent": agent or f"smartmoney/{__version__}"}
        for attempt in range(1, self.retries + 2):
            if self.limiter is not None:
                self.limiter.wait()
            try:
                response = self._opener.open(urllib.request.Request(url, headers=headers), timeout=self.timeout)
            except urllib.error.HTTPError as error:
                retry_after = error.headers.get("Retry-After", "")
                error.close()
                if error.code in RETRY_STATUSES and attempt <= self.retries:
                    self.sleep(min(float(retry_after), 60.0) if retry_after.isdigit() else 0.5 * 2 ** (attempt - 1))
                    continue
                raise FetchError(self._status_message(url, error.code, error.reason, attempt)) from None
            except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
                raise FetchError(network_message(url, error, self.timeout)) from None
            with response:
                return self._save(url, response, target, on_bytes)
        raise AssertionError("unreachable")  # pragma: no cover

    def _status_message(self, url: str, code: int, reason: str, tries: int) -> str:
        if code == 404:
            return f"{url}: not found (HTTP 404); {self.spec.missing_hint or 'check the values given'}"
        if code in RETRY_STATUSES:
            return f"{url}: the server is busy (HTTP {code}) after {tries} tries; try again later"
        if code == 403 and self.remote.needs_user_agent:
            return f"{url}: refused (HTTP 403); {SEC_USER_AGENT_RULE}, and at most 10 requests a second"
        return f"{url}: HTTP {code} {reason}"

    def _save(self, url: str, response, target: Path, on_bytes: Callable[[int, int | None], None]) -> int:
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        received = 0
        try:
            with os.fdopen(descriptor, "wb") as handle:
                while True:
                    try:
                        chunk = response.read(CHUNK_BYTES)
                    except OSError as error:
                        raise FetchError(network_message(url, error, self.timeout)) from None
                    except http.client.HTTPException as error:
                        raise FetchError(f"cannot fetch {url}: {type(error).__name__} after "
                                         f"{received:,} bytes") from None
                    if not chunk:
                        break
                    handle.write(chunk)
                    received += len(chunk)
                    on_bytes(received, expected)
                handle.flush()
                os.fsync(handle.fileno())
            if expected is not None and received != expected:
                raise FetchError(f"cannot fetch {url}: the connection closed after {received:,} of "
                                 f"{expected:,} bytes; nothing was kept, fetch again")
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return received


class _Progress:
    """A rich progress bar on stderr over the files and the bytes of the current one (or nothing)."""

    def __init__(self, enabled: bool, title: str, files: int):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.files, self.done = files, 0
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}"),
                            TimeElapsedColumn(), console=Console(stderr=True), transient=True,
                            disable=not enabled)
        self.task = self.bar.add_task(title, total=files, detail=f"0/{files} files")

    def on_bytes(self, received: int, expected: int | None) -> None:
        from rich.filesize import decimal

        size = decimal(received) + (f"/{decimal(expected)}" if expected else "")
        self.bar.update(self.task, completed=self.done + (received / expected if expected else 0.0),
                        detail=f"{self.done}/{self.files} files, {size}")

    def file_done(self) -> None:
        self.done += 1
        self.bar.update(self.task, completed=self.done, detail=f"{self.done}/{self.files} files")


def fetch(source: str, what: str, values: Mapping[str, Iterable[object]] | None = None, *,
          start: str | dt.date | None = None, end: str | dt.date | None = None,
          cache: str | os.PathLike | None = None, refresh: bool = False, user_agent: str | None = None,
          base_url: str | None = None, progress: bool = False, limiter: RateLimiter | None = None,
          retries: int = 4, timeout: float = 60.0, sleep: Callable[[float], None] = time.sleep) -> list[Fetched]:
    """Download the files `plan(source, what, values, start=, end=)` names, unless cached.

    Parameters
    ----------
    cache
        The cache root (see `cache_dir`); files land in `<cache>/<source>/<URL path>`.
    refresh
        Download again even when cached.
    user_agent
        The User-Agent (see `resolve_user_agent`); sec13f needs one with a name and an email.
    base_url
        The server (see `resolve_base_url`): a mirror, or a local server in tests.
    progress
        Show a progress bar on stderr.
    limiter
        Spaces requests; default: one per source and process (10 a second for the SEC).
    retries, timeout, sleep
        HTTP 429/502/503/504 are retried `retries` times, waiting Retry-After seconds (at most
        60) or 0.5, 1, 2, 4... s with `sleep`; `timeout` seconds for connecting and each read.

    Returns
    -------
    list[Fetched]
        One per file, in plan order. The first failure raises FetchError; files fetched before
        it stay cached.

    Examples
    --------
    >>> fetch("finra", "short_volume", {"date": ["2024-06-28"], "facility": ["CNMS"]})  # doctest: +SKIP
    """
    remote, spec = remote_file(source, what)
    paths = plan(source, what, values, start=start, end=end)
    downloader = Downloader(remote, spec, base=resolve_base_url(remote, base_url), agent=resolve_user_agent(user_agent),
                            limiter=limiter or shared_limiter(remote), retries=retries, timeout=timeout,
                            sleep=sleep)
    root = cache_dir(cache) / remote.name
    fetched = []
    bar = _Progress(progress, f"{source} {what}", len(paths))
    with bar.bar:
        for path in paths:
            target = root.joinpath(*path.strip("/").split("/"))
            if target.is_file() and not refresh and not spec.current:
                fetched.append(Fetched(downloader.url(path), target, False, target.stat().st_size))
            else:
                size = downloader.download(path, target, bar.on_bytes)
                fetched.append(Fetched(downloader.url(path), target, True, size))
            bar.file_done()
    return fetched


def ingest_kind(source: str, what: str) -> str:
    """The `smartmoney ingest` kind that reads the files of `source` `what`."""
    return remote_file(source, what)[1].kind


__all__ = ["REMOTES", "FetchError", "Fetched", "RateLimiter", "Remote", "RemoteFile", "cache_dir", "fetch",
           "ingest_kind", "plan", "resolve_base_url", "resolve_user_agent"]
