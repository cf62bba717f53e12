"""Property-based run of schemas/openapi.json against the running local gateway.

No request, however odd, may get a 5xx, and every response must match what the document promises
(status code, content type, headers, body schema).
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from caseline.domain.auth import Role
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ..support.dev_server import DevServer

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


OPENAPI = Path(__file__).resolve().parents[2] / "schemas" / "openapi.json"
# The committed document; test_dev_server proves the running gateway serves exactly this file.
schema = schemathesis.openapi.from_path(OPENAPI)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors_and_responses_match_the_document(case, running_server: DevServer) -> None:
    role = Role.CUSTOMER if case.path.startswith("/me") else Role.ADMIN
    headers = {"Authorization": f"Bearer {running_server.token(role)}"}
    response = case.call(base_url=running_server.url, headers=headers, timeout=10)
    case.validate_response(response, checks=CHECKS)
