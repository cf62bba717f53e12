"""How fast the agent workspace opens on a big table: navigation to an interactive queue, and the JS it costs.

    .venv/bin/python bench/spa_load.py [--runs 7] [--cases 10000]

The data: `bulk_load` writes 10,000 cases (about 2,500 still open, spread over nine agents) in the
production item layout into a SQLite data directory, cached under .cache/bench/ (keyed by the loader's
source, so a change to the layout loads afresh). The server: `caseline dev --no-seed` on that directory,
serving the built SPA (web/agent/dist; `make web` first). The browser: Debian's chromium through Playwright.

What is timed, for "My cases" (where `/` lands an agent) and "All open": from `page.goto` of the view's URL
to the queue being interactive — its table has case rows and the first row's number link passes Playwright's
actionability checks (visible, stable, enabled, not covered), i.e. a click would land. Cold: the browser's
HTTP cache is cleared before each navigation (CDP Network.clearBrowserCache). Warm: the same navigation
again with the cache filled. The median of --runs navigations of each is printed, with min and max.

Also printed: the initial JavaScript — the entry chunk of dist/.vite/manifest.json and every chunk it imports
statically — gzipped at level 9, which is what a CDN's compression serves at best. Goals: < 1 s, <= 250 KB.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "web" / "agent" / "dist"
CACHE = ROOT / ".cache" / "bench"
CHROMIUM = Path(os.environ.get("CASELINE_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run"]
AGENT = "bench04@caseline.dev"  # bulk_load's staff: 01 admin, 02-03 supervisors, 04-12 agents
VIEWS = {"mine": "My cases", "all_open": "All open"}
GOAL_SECONDS = 1.0
GOAL_JS_KB = 250


# --- data ------------------------------------------------------------------------------------------------------
def data_dir(cases: int) -> Path:
    """A loaded data directory for `cases` cases, from the cache when the loader has not changed."""
    from caseline.runtime import bulk_load as loader

    digest = hashlib.sha256(Path(loader.__file__).read_bytes()).hexdigest()[:10]
    folder = CACHE / f"spa-{cases}-{digest}"
    marker = folder / "summary.json"
    if marker.exists():
        print(f"data: {cases:,} cases cached in {folder.relative_to(ROOT)}")
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    from caseline import bootstrap
    from caseline.settings import Settings

    platform = bootstrap.build(Settings(data_dir=folder))
    summary = loader.bulk_load(platform, customers=max(2, cases // 5), cases=cases, entries=cases * 3)
    marker.write_text(json.dumps({"cases": summary.cases, "customers": summary.customers,
                                  "entries": summary.entries, "open_sample": len(summary.open_case_ids)}))
    print(f"data: loaded {summary.cases:,} cases, {summary.customers:,} customers, {summary.entries:,} timeline "
          f"entries in {summary.seconds:.1f} s into {folder.relative_to(ROOT)}")
    return folder


# --- server ----------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "caseline.cli", "dev", "--no-seed", "--data-dir", str(folder), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if process.poll() is not None:
            sys.exit(f"caseline dev exited early:\n{process.stderr.read()}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    sys.exit("caseline dev did not become healthy within 60 s")


# --- browser ---------------------------------------------------------------------------------------------------
def sign_in(page: Page, email: str) -> None:
    page.goto("/sign-in")
    page.get_by_role("button", name=f"Sign in as {email}", exact=True).click()
    page.get_by_role("navigation", name="Queues").wait_for()


def time_to_interactive(page: Page, view_id: str, label: str) -> float:
    table = page.get_by_role("table", name=label)
    first_link = table.get_by_role("row").get_by_role("link").first
    started = time.perf_counter()
    page.goto(f"/desk/views/{view_id}", wait_until="commit")
    first_link.click(trial=True, timeout=30_000)
    return time.perf_counter() - started


def measure(url: str, runs: int) -> dict[str, dict[str, list[float]]]:
    figures: dict[str, dict[str, list[float]]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        context = browser.new_context(base_url=url, viewport={"width": 1440, "height": 900})
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        sign_in(page, AGENT)  # the token stays in this tab's sessionStorage for every navigation below
        for view_id, label in VIEWS.items():
            time_to_interactive(page, view_id, label)  # one unmeasured pass: server-side caches, JIT
            cold, warm = [], []
            for _ in range(runs):
                cdp.send("Network.clearBrowserCache")
                cold.append(time_to_interactive(page, view_id, label))
                warm.append(time_to_interactive(page, view_id, label))
            figures[label] = {"cold": cold, "warm": warm}
        browser.close()
    return figures


# --- bundle ----------------------------------------------------------------------------------------------------
def initial_js() -> list[tuple[str, int, int]]:
    """(file, bytes, gzipped bytes) of the entry chunk and the chunks it imports statically."""
    manifest = json.loads((DIST / ".vite" / "manifest.json").read_text())
    entry = next(key for key, chunk in manifest.items() if chunk.get("isEntry"))
    seen: list[str] = []

    def visit(key: str) -> None:
        chunk = manifest.get(key)
        if chunk is None or chunk["file"] in seen:
            return
        seen.append(chunk["file"])
        for imported in chunk.get("imports", []):
            visit(imported)

    visit(entry)
    sizes = []
    for file in seen:
        raw = (DIST / file).read_bytes()
        sizes.append((file, len(raw), len(gzip.compress(raw, compresslevel=9))))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="navigations per view, cold and warm (default 7)")
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args()
    if not (DIST / ".vite" / "manifest.json").exists():
        sys.exit("web/agent/dist is not built with a manifest: run `make web` first")
    if not CHROMIUM.exists():
        sys.exit(f"no chromium at {CHROMIUM}: run `bash .ci/web.sh` or set CASELINE_CHROMIUM")

    sizes = initial_js()
    total_gz = sum(gz for _, _, gz in sizes)
    print("initial JavaScript (gzip -9):")
    for file, raw, gz in sizes:
        print(f"  {file:<48} {raw / 1024:8.1f} KB raw {gz / 1024:8.1f} KB gzip")
    verdict = "ok" if total_gz <= GOAL_JS_KB * 1024 else "OVER"
    print(f"  total {total_gz / 1024:.1f} KB gzip (goal <= {GOAL_JS_KB} KB: {verdict})")

    folder = data_dir(args.cases)
    process, url = start_server(folder)
    try:
        figures = measure(url, args.runs)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    print(f"navigation → queue interactive, {args.runs} runs each, as {AGENT}, {args.cases:,} cases:")
    for label, kinds in figures.items():
        for kind, seconds in kinds.items():
            median = statistics.median(seconds)
            verdict = "ok" if median < GOAL_SECONDS else "OVER"
            print(f"  {label:<10} {kind:<5} median {median * 1000:6.0f} ms  (min {min(seconds) * 1000:.0f}, "
                  f"max {max(seconds) * 1000:.0f}; goal < {GOAL_SECONDS * 1000:.0f} ms: {verdict})")


if __name__ == "__main__":
    main()
