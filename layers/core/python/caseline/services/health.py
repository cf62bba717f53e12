"""Health checks: can this deployment reach what it needs?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..adapters import keys

if TYPE_CHECKING:
    from ..bootstrap import Platform


@dataclass(frozen=True)
class HealthReport:
    ok: bool
    checks: dict[str, str]


def check_health(platform: Platform) -> HealthReport:
    checks: dict[str, str] = {}
    try:
        platform.table.get(keys.counter("health"), now=0)
        checks["table"] = "ok"
    except Exception as exc:
        checks["table"] = f"unreachable: {type(exc).__name__}"
    return HealthReport(ok=all(v == "ok" for v in checks.values()), checks=checks)
