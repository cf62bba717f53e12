"""Which function serves which paths, and which paths are public.

The local gateway routes by this table and the CDK app builds API Gateway resources from it, so the two
cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiFunction:
    name: str  # the folder under functions/
    roots: tuple[str, ...]  # first path segments it serves, e.g. "cases" for /cases and below
    public: bool = False


API_FUNCTIONS: tuple[ApiFunction, ...] = (
    ApiFunction("cases_api", ("cases", "queues", "views", "saved-views", "merges")),
    ApiFunction("customers_api", ("customers", "me")),
    ApiFunction("staff_api", ("agents", "teams", "users", "rules", "routing", "mail", "sla-policies")),
    ApiFunction("health", ("health",), public=True),
)


def function_for_path(path: str) -> ApiFunction | None:
    root = path.strip("/").split("/", 1)[0]
    return next((f for f in API_FUNCTIONS if root in f.roots), None)
