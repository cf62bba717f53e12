"""The generated contracts: `schemas/openapi.json` and `schemas/events/*.schema.json`.

Generated from the pydantic models and routers — never edited by hand. `caseline schemas` rewrites them
and `tests/api/test_schemas_fresh.py` fails when the committed files are stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

from ..domain.events import EVENT_TYPES, EventEnvelope
from .app import all_routers, build_api
from .catalog import function_for_path
from .problems import problem_responses
from .resolver import OPENAPI_TITLE, OPENAPI_VERSION
from .rule_schema import rule_components

DESCRIPTION = (
    "Cases, customers and the unified customer timeline. Errors are RFC 9457 problem details. "
    "Updates take the ETag you read in If-Match and answer 412 when it is stale. POSTs accept an "
    "Idempotency-Key header: a retry with the same key and body returns the first response."
)


def openapi_document() -> dict[str, Any]:
    app = build_api(all_routers())
    raw = app.get_openapi_json_schema(
        title=OPENAPI_TITLE,
        version=OPENAPI_VERSION,
        description=DESCRIPTION,
        servers=[Server(url="/")],
        security_schemes={"bearer": HTTPBearer(bearerFormat="JWT", description="Cognito or local dev JWT")},
    )
    document = json.loads(raw)
    document["components"]["schemas"].update(rule_components())
    unauthorized = _schema_refs(problem_responses(401)[401])
    internal = _schema_refs({"description": "Our fault; the problem leaks no detail",
                             "content": {"application/problem+json": {}}})
    for path, operations in document.get("paths", {}).items():
        function = function_for_path(path)
        for operation in operations.values():
            answers = operation.setdefault("responses", {})
            answers["500"] = internal
            if "HTTPValidationError" in json.dumps(answers.get("422", {})):
                answers["422"] = _schema_refs(problem_responses(422)[422])
            if function is not None and not function.public:
                operation["security"] = [{"bearer": []}]
                answers.setdefault("401", unauthorized)
            if any(operation is operations.get(m) for m in ("post", "put", "patch")):
                for status in (413, 415):
                    answers.setdefault(str(status), _schema_refs(problem_responses(status)[status]))
            if operation is operations.get("post"):
                operation["parameters"] = [*operation.get("parameters", []), _IDEMPOTENCY_HEADER]
                answers.setdefault("409", _schema_refs(problem_responses(409)[409]))
    return document


_IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "retry-safe key (1-255 visible ASCII); the same key and body give the first response",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}


def _schema_refs(response: dict[str, Any]) -> dict[str, Any]:
    """problem_responses() holds a model for Powertools; in the finished document point at the schema."""
    return {
        "description": response["description"],
        "content": {ct: {"schema": {"$ref": "#/components/schemas/Problem"}} for ct in response["content"]},
    }


def event_schemas() -> dict[str, dict[str, Any]]:
    """One JSON Schema per event type: the envelope with `type` fixed and `data` the payload's schema."""
    schemas: dict[str, dict[str, Any]] = {}
    envelope = EventEnvelope.model_json_schema()
    for event_type, data_model in sorted(EVENT_TYPES.items()):
        schema = json.loads(json.dumps(envelope))
        schema["title"] = event_type
        schema["$id"] = f"https://caseline.dev/schemas/events/{event_type}.schema.json"
        schema["properties"]["type"] = {"const": event_type, "type": "string"}
        schema["properties"]["version"] = {"const": data_model.schema_version, "type": "integer"}
        data_schema = data_model.model_json_schema()
        schema.setdefault("$defs", {}).update(data_schema.pop("$defs", {}))
        schema["properties"]["data"] = data_schema
        schemas[event_type] = schema
    return schemas


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    """Relative path under schemas/ → the content it must have."""
    files = {"openapi.json": render(openapi_document())}
    for event_type, schema in event_schemas().items():
        files[f"events/{event_type}.schema.json"] = render(schema)
    return files


def write_schemas(root: Path) -> list[Path]:
    written = []
    events_dir = root / "events"
    events_dir.mkdir(parents=True, exist_ok=True)
    for stale in events_dir.glob("*.schema.json"):
        stale.unlink()
    for relative, content in expected_files().items():
        path = root / relative
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
