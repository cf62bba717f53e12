"""The browser-test harness: one seeded `caseline dev` serving the built SPA, and Debian's chromium.

The server runs as a developer runs it (a subprocess on a free port with its own data directory and the demo
seed), once per test run; every test signs in through the UI itself. Chromium is never downloaded: the tests
use /usr/bin/chromium (`bash .ci/web.sh` installs it) or the binary CASELINE_CHROMIUM names.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from ..support.dev_server import DevServer, free_port
from .desk import DESKTOP, REPO, Api

CHROMIUM = Path(os.environ.get("CASELINE_CHROMIUM", "/usr/bin/chromium"))
SPA_INDEX = REPO / "web" / "agent" / "dist" / "index.html"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"no chromium at {CHROMIUM}: run `bash .ci/web.sh` (installs Debian's chromium) "
                    "or set CASELINE_CHROMIUM to a chromium binary", pytrace=False)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": LAUNCH_ARGS}


@pytest.fixture(scope="session")
def e2e_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    if not SPA_INDEX.exists():
        pytest.fail(f"the agent SPA is not built ({SPA_INDEX} is missing): run `make web`", pytrace=False)
    server = DevServer(tmp_path_factory.mktemp("e2e") / "data", free_port())
    server.start(seed=True, timeout=120)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_url(e2e_server: DevServer) -> str:
    return e2e_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": DESKTOP, "locale": "en-US", "timezone_id": "Europe/Berlin"}


@pytest.fixture(scope="session")
def api_as(base_url: str) -> Callable[[str], Api]:
    """`api_as(email)`: the API as that dev user, signed in through POST /auth/dev-login (cached per user)."""
    signed_in: dict[str, Api] = {}

    def get(email: str) -> Api:
        if email not in signed_in:
            signed_in[email] = Api.sign_in(base_url, email)
        return signed_in[email]

    return get


@pytest.fixture
def second_page(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    """A page in a browser context of its own: another person at another desk."""
    context: BrowserContext = browser.new_context(**browser_context_args)
    yield context.new_page()
    context.close()


# Two cores run the server, the browser and the test at once; give assertions room before calling a failure.
expect.set_options(timeout=15_000)
