"""The benchmarks still run: each script's --smoke path, end to end, as `make bench` would run it.

No figure is asserted (speed depends on the machine); what is checked is that every request of the load
mix succeeds over real HTTP and that the timeline reads stay at one DynamoDB request each.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _run(*args: str) -> str:
    result = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_timeline_scaling_smoke() -> None:
    out = _run("bench/timeline_scaling.py", "--smoke")
    assert "### embedded SQLite" in out and "### DynamoDB on moto" in out
    assert "DynamoDB requests per call: at most 1 (goal: 1, met)" in out
    assert "median ratio" in out


def test_api_load_smoke(tmp_path: Path) -> None:
    out = _run("bench/api_load.py", "--smoke", "--strict", "--cache-dir", str(tmp_path))
    for section in ("Cost per operation", "Closed loop", "Open loop"):
        assert section in out
    for operation in ("view all_open", "team queue", "case detail", "customer 360", "reply", "status change"):
        assert f"| {operation}" in out
    assert "0 failed request(s)" in out
    assert "seeded in" in out
    # A second run reuses the seeded dataset instead of seeding again.
    again = _run("bench/api_load.py", "--smoke", "--strict", "--cache-dir", str(tmp_path))
    assert "reused from the cache" in again
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("run-")]


def test_routing_wiring_smoke() -> None:
    out = _run("bench/routing_wiring.py", "--smoke")
    assert "| routing decisions (consumer, end to end)" in out
    assert "10 of 10 cases assigned" in out


def test_outbound_email_smoke() -> None:
    out = _run("bench/outbound_email.py", "--smoke")
    assert "| replies | dispatch pass | replies/s |" in out and "| 10 " in out


def test_rules_wiring_smoke() -> None:
    out = _run("bench/rules_wiring.py", "--smoke")
    assert "| evaluations (consumer, end to end)" in out
    assert "| redelivered events (already recorded)" in out
