"""Live-update latency on one machine: how long after a case change every open workspace hears of it.

    .venv/bin/python bench/live_fanout.py [--clients 50] [--changes 30]

Starts `caseline dev` (no demo data) on a free loopback port, opens `--clients` staff WebSockets on
`/ws`, then changes one case `--changes` times over HTTP (PATCH with If-Match, one at a time). For each
change it records the time from sending the PATCH until the `case.changed` notice carrying the new version
reached each client. The figures include the HTTP request, the commit, the dispatcher's pass and the hub's
hand-over to the event loop. Everything stays on 127.0.0.1 and the loops are bounded by the arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from caseline.domain.auth import Role
from caseline.ports.clock import UlidIds
from caseline.runtime.tokens import LocalTokens
from caseline.settings import Settings
from websockets.asyncio.client import connect

WAIT = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(data_dir: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "caseline.cli", "dev", "--data-dir", str(data_dir),
                                "--port", str(port), "--no-seed"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    sys.exit("caseline dev did not start")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _run(base: str, tokens: LocalTokens, clients: int, changes: int) -> tuple[list[float], list[float]]:
    def token() -> str:
        return tokens.issue(subject="bench", role=Role.AGENT, caseline_id=UlidIds().new(), name="Bench",
                            email="bench@caseline.dev")

    headers = {"Authorization": f"Bearer {token()}"}
    sockets = [await connect(f"{base.replace('http', 'ws')}/ws?token={token()}") for _ in range(clients)]
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=WAIT) as http:
        opened = await http.post("/cases", json={"channel": "email", "subject": "Bench", "text": "hello",
                                                 "requester": {"email": "bench-customer@example.com"}})
        case = opened.json()
        version = case["version"]
        delivery: list[float] = []
        request_times: list[float] = []

        async def await_version(ws, wanted: int) -> float:
            while True:
                notice = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
                if notice.get("type") == "case.changed" and notice["case"]["version"] >= wanted:
                    return time.perf_counter()

        for n in range(changes):
            started = time.perf_counter()
            answer = await http.patch(f"/cases/{case['id']}", json={"priority": ("high", "low")[n % 2]},
                                      headers={"If-Match": f'"{version}"'})
            request_times.append(time.perf_counter() - started)
            version = answer.json()["version"]
            arrivals = await asyncio.gather(*(await_version(ws, version) for ws in sockets))
            delivery.append(max(arrivals) - started)
    for ws in sockets:
        await ws.close()
    return delivery, request_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--changes", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        port = _free_port()
        server = _start(data_dir, port)
        try:
            tokens = LocalTokens(Settings(data_dir=data_dir))
            delivery, requests = asyncio.run(_run(f"http://127.0.0.1:{port}", tokens, args.clients, args.changes))
        finally:
            server.terminate()
            server.wait(timeout=15)
    ms = [d * 1000 for d in delivery]
    print(f"live updates: {args.clients} staff sockets, {args.changes} case changes, one at a time")
    print(f"  PATCH answered        p50 {statistics.median(requests) * 1000:7.1f} ms")
    print(f"  notice at every client p50 {statistics.median(ms):7.1f} ms   p95 {_percentile(ms, 0.95):7.1f} ms"
          f"   max {max(ms):7.1f} ms  (from sending the PATCH)")


if __name__ == "__main__":
    main()
