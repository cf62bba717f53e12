"""What the browser tests share: the API client for setting up data, signing in through the UI, screenshots
with an accessibility check, and small readers for the workspace's screens.

Everything on a page is found the way a person (or a screen reader) finds it: by role and accessible name.
Those names are the SPA's contract with these tests; tests/e2e/README.md lists them.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / ".artifacts" / "screenshots"
AXE_SCRIPT = REPO / "web" / "agent" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
BLOCKING_IMPACTS = ("serious", "critical")

# Who the tests sign in as (the demo seed's staff).
ADMIN = "ada@caseline.dev"
SUPERVISOR = "bruno@caseline.dev"
OTHER_SUPERVISOR = "carmen@caseline.dev"
AGENT = "dev@caseline.dev"
OTHER_AGENT = "elif@caseline.dev"


class ApiError(AssertionError):
    pass


@dataclass
class Api:
    """The HTTP API as one signed-in user, for arranging data and checking what the UI did."""

    base_url: str
    email: str
    token: str
    client: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base_url, timeout=30,
                                   headers={"Authorization": f"Bearer {self.token}"})

    @classmethod
    def sign_in(cls, base_url: str, email: str) -> Api:
        response = httpx.post(f"{base_url}/auth/dev-login", json={"email": email}, timeout=30)
        if response.status_code != 200:
            raise ApiError(f"POST /auth/dev-login for {email}: {response.status_code} {response.text}")
        return cls(base_url, email, response.json()["token"])

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> httpx.Response:
        response = self.client.request(method, path, json=body, headers=headers)
        if response.status_code >= 400:
            raise ApiError(f"{method} {path} as {self.email}: {response.status_code} {response.text}")
        return response

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        if response.status_code >= 400:
            raise ApiError(f"GET {path} as {self.email}: {response.status_code} {response.text}")
        return response.json()

    def post(self, path: str, body: Any) -> Any:
        return self.call("POST", path, body).json()

    # --- the few things the flows arrange --------------------------------------------------------------------
    def case(self, case_id: str) -> dict[str, Any]:
        return self.get(f"/cases/{case_id}")["case"]

    def open_case(self, *, subject: str | None = None, email: str | None = None, name: str = "Pat Example",
                  priority: str = "normal", channel: str = "email", text: str = "It does not work.",
                  tags: list[str] | None = None) -> dict[str, Any]:
        body = {
            "channel": channel,
            "subject": subject or f"E2E {uuid.uuid4().hex[:8]}",
            "text": text,
            "priority": priority,
            "requester": {"email": email or f"e2e-{uuid.uuid4().hex[:10]}@example.com", "name": name},
            "tags": tags or [],
        }
        return self.post("/cases", body)

    def update_case(self, case_id: str, **changes: Any) -> dict[str, Any]:
        """PATCH against the current version. SLA clocks store their own change on a case right after it
        opens, so a version read a moment ago can be stale by the time it is sent: read again and retry."""
        for _ in range(5):
            version = self.case(case_id)["version"]
            response = self.client.request("PATCH", f"/cases/{case_id}", json=changes,
                                           headers={"If-Match": f'"{version}"'})
            if response.status_code != 412:
                break
        if response.status_code >= 400:
            raise ApiError(f"PATCH /cases/{case_id} as {self.email}: {response.status_code} {response.text}")
        return response.json()

    def view_count(self, view_id: str) -> int:
        counts = {v["id"]: v["count"] for v in self.get("/views")["items"]}
        return counts[view_id]


def new_tag(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


# --- the UI ------------------------------------------------------------------------------------------------------
def sign_in(page: Page, email: str) -> None:
    """Sign in the way a person does on the local runtime: the sign-in page's "Sign in as <email>" button."""
    page.goto("/sign-in")
    expect(page.get_by_role("heading", name="Sign in to Caseline")).to_be_visible()
    page.get_by_role("button", name=f"Sign in as {email}", exact=True).click()
    expect(page.get_by_role("navigation", name="Queues")).to_be_visible()


def open_view(page: Page, label: str) -> Locator:
    """Open a queue from the "Queues" navigation and return its table once it has rows."""
    page.get_by_role("navigation", name="Queues").get_by_role("link", name=re.compile("^" + re.escape(label))).click()
    expect(page.get_by_role("heading", level=1, name=label)).to_be_visible()
    table = page.get_by_role("table", name=label)
    expect(table).to_be_visible()
    return table


def case_rows(table: Locator) -> Locator:
    """The table's case rows: the rows with a "Select case #n" checkbox (the header row has "Select all ...")."""
    return table.get_by_role("row").filter(has=table.page.get_by_role("checkbox", name=re.compile(r"^Select case #")))


def row_for(table: Locator, number: int) -> Locator:
    return table.get_by_role("row").filter(has=table.page.get_by_role("link", name=f"#{number}", exact=True))


def case_id_from_url(url: str) -> str:
    found = re.search(r"/desk/cases/([0-9A-HJKMNP-TV-Z]{26})", url)
    assert found, f"not a case URL: {url}"
    return found.group(1)


def choose(select: Locator, wanted: str) -> None:
    """Pick a native <select>'s option by its value or its label, ignoring case ("pending" or "Pending")."""
    options = select.locator("option").evaluate_all("(os) => os.map(o => [o.value, o.textContent.trim()])")
    for value, label in options:
        if wanted.lower() in (value.lower(), label.lower()):
            select.select_option(value=value)
            return
    raise AssertionError(f"no option {wanted!r} in {options}")


def selected_label(select: Locator) -> str:
    return select.evaluate("(s) => s.options[s.selectedIndex] ? s.options[s.selectedIndex].textContent.trim() : ''")


# --- screenshots and the accessibility check ------------------------------------------------------------------
def capture(page: Page, name: str) -> list[Path]:
    """Screenshot the page at desktop and phone widths and run axe-core on each; fail on serious/critical issues.

    The page is back at the desktop size afterwards.
    """
    if not AXE_SCRIPT.exists():
        raise AssertionError(f"axe-core is missing at {AXE_SCRIPT}: run `make web` (npm ci in web/agent)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots, problems = [], []
    try:
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.wait_for_load_state("networkidle")
            path = SCREENSHOTS / f"{name}-{label}.png"
            page.screenshot(path=str(path))
            shots.append(path)
            problems += [f"[{label}] {line}" for line in accessibility_problems(page)]
    finally:
        page.set_viewport_size(DESKTOP)
    if problems:
        raise AssertionError(f"accessibility violations on {name}:\n" + "\n".join(problems))
    return shots


def accessibility_problems(page: Page) -> list[str]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate("async () => await window.axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for violation in results["violations"]:
        if violation.get("impact") not in BLOCKING_IMPACTS:
            continue
        lines.append(f"{violation['impact']}: {violation['id']} — {violation['help']} "
                     f"({len(violation['nodes'])} nodes)")
        lines += [f"    {json.dumps(node['target'])} {node['html'][:160]}" for node in violation["nodes"][:5]]
    return lines
