"""Drive Debian's headless Chromium (/usr/bin/chromium) from tests, through playwright.

Only the `playwright` pip package is used, with `executable_path` pointing at the system
Chromium: no browser is ever downloaded (`playwright install` is never run). The page may load
`file://` URLs and nothing else: every other request is aborted and recorded, so a test can
assert that a page fetched nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")

LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@dataclass
class PageLog:
    """What the page reported while it was open."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return self.console_errors + self.page_errors


def chromium_available() -> bool:
    return CHROMIUM.exists()


@contextlib.contextmanager
def launch(profile_dir: Path, allowed: str = "file://", *, width: int = 1200, height: int = 900,
           timeout_ms: int = 60_000, offline: bool = True) -> Iterator[tuple[object, PageLog]]:
    """Headless Chromium with a fresh profile that may load URLs starting with `allowed` and
    nothing else (every other request is aborted and recorded); yield (playwright page, log)."""
    from playwright.sync_api import sync_playwright

    log = PageLog()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile_dir), executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS,
            viewport={"width": width, "height": height}, device_scale_factor=1,
            offline=offline, service_workers="block")
        try:
            context.set_default_timeout(timeout_ms)

            def route(route):
                if route.request.url.startswith(allowed):
                    route.continue_()
                else:
                    log.blocked_requests.append(route.request.url)
                    route.abort()

            context.route("**/*", route)
            page = context.pages[0] if context.pages else context.new_page()
            page.on("console", lambda message: message.type == "error"
                    and log.console_errors.append(message.text))
            page.on("pageerror", lambda error: log.page_errors.append(str(error)))
            yield page, log
        finally:
            context.close()


@contextlib.contextmanager
def open_page(url: str, profile_dir: Path, *, width: int = 1200, height: int = 900,
              timeout_ms: int = 60_000) -> Iterator[tuple[object, PageLog]]:
    """Open `url` (a file://) in headless Chromium, offline; yield (playwright page, log)."""
    with launch(profile_dir, width=width, height=height, timeout_ms=timeout_ms) as (page, log):
        page.goto(url, wait_until="load")
        yield page, log
