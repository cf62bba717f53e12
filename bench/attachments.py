"""Attachments on one machine: signed upload and download throughput, and what a download link costs.

    .venv/bin/python bench/attachments.py [--runs 9] [--interactions 400]

Starts `caseline dev --no-seed` on a fresh data directory and a free port, opens a case as an agent and
measures over real HTTP (httpx, one keep-alive connection):

- upload: POST .../attachments/uploads + PUT of the bytes to the signed URL, for 100 KB, 1 MB and 25 MB;
- download: GET .../attachments/{sha256} + GET of the signed URL, for the same files;
- link lookup: GET .../attachments/{sha256} for a file on the last reply of a case with --interactions
  notes before it (the service reads the conversation, 200 interactions a page, to find the file).

Medians of --runs, with min and max. The figures depend on the disk (each upload is fsynced twice).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from caseline.domain.auth import Role
from caseline.ports.clock import UlidIds
from caseline.runtime.tokens import LocalTokens
from caseline.settings import Settings

SIZES = {"100 KB": 100 * 1024, "1 MB": 1024 * 1024, "25 MB": 25 * 1024 * 1024}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _timed(runs: int, action: Callable[[int], None]) -> tuple[float, float, float]:
    seconds = []
    for run in range(runs):
        started = time.perf_counter()
        action(run)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), min(seconds), max(seconds)


def _line(label: str, figures: tuple[float, float, float], size: int | None = None) -> None:
    median, low, high = figures
    rate = f"  {size / median / 1e6:7.1f} MB/s" if size else ""
    print(f"  {label:<28} median {median * 1000:8.1f} ms  (min {low * 1000:.1f}, max {high * 1000:.1f}){rate}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--interactions", type=int, default=400)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="caseline-bench-attachments-"))
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "caseline.cli", "dev", "--no-seed", "--data-dir", str(data_dir),
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        token = LocalTokens(Settings(data_dir=data_dir)).issue(
            subject="bench", role=Role.AGENT, caseline_id=UlidIds().new(), name="Bench", email="bench@caseline.dev")
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
            run(client, args)
    finally:
        server.terminate()
        server.wait(timeout=15)


def run(client: httpx.Client, args: argparse.Namespace) -> None:
    case = client.post("/cases", json={"channel": "email", "subject": "Bench", "text": "bench",
                                       "requester": {"email": "bench.customer@example.com"}}).json()
    print(f"attachments over HTTP on caseline dev, {args.runs} runs each")
    for label, size in SIZES.items():
        payloads = [os.urandom(size) for _ in range(args.runs)]
        refs: list[dict] = []

        def upload(i: int, payloads=payloads, refs=refs, size=size) -> None:
            data = payloads[i]
            ticket = client.post(f"/cases/{case['id']}/attachments/uploads", json={
                "filename": f"file-{i}.bin", "content_type": "application/octet-stream", "size": size,
                "sha256": hashlib.sha256(data).hexdigest()}).json()
            put = client.put(ticket["upload_url"], content=data, headers=ticket["headers"])
            assert put.status_code == 200, put.text
            refs.append(ticket["attachment"])

        _line(f"upload {label}", _timed(args.runs, upload), size)
        reply = client.post(f"/cases/{case['id']}/replies", json={"text": "files", "attachments": refs})
        assert reply.status_code == 201, reply.text

        def download(i: int, refs=refs, size=size) -> None:
            link = client.get(f"/cases/{case['id']}/attachments/{refs[i]['sha256']}").json()
            got = client.get(link["url"])
            assert got.status_code == 200 and len(got.content) == size

        _line(f"download {label}", _timed(args.runs, download), size)

    busy = client.post("/cases", json={"channel": "email", "subject": "Long thread", "text": "start",
                                       "requester": {"email": "bench.customer@example.com"}}).json()
    for n in range(args.interactions):
        client.post(f"/cases/{busy['id']}/notes", json={"text": f"note {n}"})
    data = b"latest screenshot"
    ticket = client.post(f"/cases/{busy['id']}/attachments/uploads", json={
        "filename": "latest.png", "content_type": "image/png", "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest()}).json()
    client.put(ticket["upload_url"], content=data, headers=ticket["headers"])
    client.post(f"/cases/{busy['id']}/replies", json={"text": "screenshot", "attachments": [ticket["attachment"]]})
    sha = ticket["attachment"]["sha256"]
    total = args.interactions + 2
    _line(f"link, file on last of {total}", _timed(args.runs, lambda i: client.get(
        f"/cases/{busy['id']}/attachments/{sha}").raise_for_status()))
    detail = client.get(f"/cases/{case['id']}").json()
    first = next(ref["sha256"] for i in detail["interactions"] for ref in i["attachments"])
    _line(f"link, file 1 of {len(detail['interactions'])}", _timed(args.runs, lambda i: client.get(
        f"/cases/{case['id']}/attachments/{first}").raise_for_status()))


if __name__ == "__main__":
    main()
