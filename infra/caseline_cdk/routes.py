"""Which API Gateway resources the REST API has, derived from the code's own route table.

Two sources, both owned by the code, never by the infrastructure:

* `caseline.api.catalog.API_FUNCTIONS` says which function serves which path roots (`/cases`, `/views`, ...);
  the local gateway routes by the same table.
* `schemas/openapi.json` (generated, and checked fresh by the API tests) says which paths exist in the
  deployed API. Routes the local runtime alone serves (the dev sign-in under `/auth`) are not in it, so
  they are never deployed.

A root becomes `/{root}` (when the document has that exact path) and `/{root}/{proxy+}` (when it has
deeper ones), each with `ANY`: the function's Powertools resolver routes inside and answers 404/405 itself.
A public function gets exactly its documented paths and methods, nothing under them, so a new public path
is a visible change. A root the document uses but no catalog entry serves fails synth.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

from caseline.api.catalog import API_FUNCTIONS, ApiFunction

from .config import REPO_ROOT, ConfigError

OPENAPI = REPO_ROOT / "schemas" / "openapi.json"
PROXY = "{proxy+}"
_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class ApiRoutes:
    function: ApiFunction
    paths: tuple[str, ...]
    methods: tuple[str, ...]  # ("ANY",) unless the function is public

    @property
    def public(self) -> bool:
        return self.function.public


def documented_operations(document: dict | None = None) -> dict[str, set[str]]:
    """Path -> upper-case methods, from the OpenAPI document."""
    document = document if document is not None else json.loads(OPENAPI.read_text())
    return {
        path: {method.upper() for method in operations if method in _HTTP_METHODS}
        for path, operations in document["paths"].items()
    }


def root_of(path: str) -> str:
    return path.strip("/").split("/", 1)[0]


def api_routes(document: dict | None = None, functions: tuple[ApiFunction, ...] = API_FUNCTIONS) -> list[ApiRoutes]:
    operations = documented_operations(document)
    by_root: dict[str, list[str]] = defaultdict(list)
    for path in operations:
        by_root[root_of(path)].append(path)
    owners = {root: function for function in functions for root in function.roots}
    unserved = sorted(set(by_root) - set(owners))
    if unserved:
        raise ConfigError(f"the OpenAPI document has paths under {unserved} that no API function in the catalog serves")
    routes = []
    for function in functions:
        roots = [root for root in function.roots if root in by_root]
        if not roots:
            continue  # a function only the local runtime mounts
        if function.public:
            paths = sorted(p for root in roots for p in by_root[root])
            methods = sorted({m for p in paths for m in operations[p]})
            routes.append(ApiRoutes(function, tuple(paths), tuple(methods)))
            continue
        paths = []
        for root in roots:
            if f"/{root}" in by_root[root]:
                paths.append(f"/{root}")
            if any(p != f"/{root}" for p in by_root[root]):
                paths.append(f"/{root}/{PROXY}")
        routes.append(ApiRoutes(function, tuple(paths), ("ANY",)))
    return routes

