"""The rule document in the OpenAPI contract, and reading a rule from a request body.

The rule models (`automation/rules.py`) have short names — `AddNote`, `All`, `Not`, `In` — some of which other
API models already use. Their schemas go into the document under a `Rule` prefix (`RuleAddNote`, `RuleAll`),
and the routes point at them, so the existing component names stay as they are.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import TypeAdapter, ValidationError, WithJsonSchema

from ..automation.rules import Action, Rule

COMPONENTS = "#/components/schemas/"


def _component(name: str) -> str:
    return name if name.startswith("Rule") else f"Rule{name}"


def _rooted(schema: dict[str, Any], name: str, into: dict[str, dict[str, Any]]) -> None:
    defs = schema.pop("$defs", {})
    text = json.dumps(schema)
    for definition, body in defs.items():
        into[_component(definition)] = json.loads(_relink(json.dumps(body), defs))
    into[name] = json.loads(_relink(text, defs))


def _relink(text: str, defs: dict[str, Any]) -> str:
    for definition in defs:
        text = text.replace(f'"#/$defs/{definition}"', f'"{COMPONENTS}{_component(definition)}"')
    return text


@lru_cache(maxsize=1)
def rule_components() -> dict[str, dict[str, Any]]:
    """Component schemas for a rule and an action (as a request body: decimals may be numbers or strings)."""
    components: dict[str, dict[str, Any]] = {}
    _rooted(TypeAdapter(Rule).json_schema(), "Rule", components)
    _rooted(TypeAdapter(Action).json_schema(), "RuleAction", components)
    return components


RuleBody = Annotated[dict[str, Any], Body(description="a rule (the Rule schema)"),
                     WithJsonSchema({"allOf": [{"$ref": COMPONENTS + "Rule"}]})]


def parse_rule(body: dict[str, Any]) -> Rule:
    """Validate a rule body with the rule models; their errors become the usual 422 naming each field."""
    try:
        return Rule.model_validate(body)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])}
                  for error in exc.errors(include_url=False, include_context=False, include_input=False)]
        raise RequestValidationError(errors, body=body) from None
